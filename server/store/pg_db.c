/*
 * The PostgreSQL connection of the store (libpq): db.h's statement
 * operations over prepared statements, the transactions (one per event
 * loop round, each operation after the first in a savepoint, every one
 * serialised across servers by an advisory lock), the pipeline that sends
 * what nobody waits for with the next command whose answer is needed
 * (pg_send, pg_collect) and the reads the seat logic sends ahead
 * (pg_send_ahead), reconnecting after the connection broke, and
 * opening: preparing every statement of pg_sql.c (the connection's
 * settings and the migrations of schema/postgresql/ are pg_open.c's).
 *
 * Several servers share one database.  Every writing transaction first
 * takes one site-wide advisory lock (pg_advisory_xact_lock(STORE_PG_LOCK),
 * released by its COMMIT or ROLLBACK), the analogue of SQLite's BEGIN
 * IMMEDIATE: the audit trail is one hash chain, so writers need a total
 * order anyway, and under the lock every seat decision (a pool's count, an
 * expiry sweep) sees everything the other servers committed before it.
 * Reads (status, holders, report) take no lock.
 *
 * Durability: no reply of a round goes out before its transaction's COMMIT
 * answered, with whatever the cluster's synchronous_commit and
 * synchronous_standby_names say.  A round that may grant sends its COMMIT
 * and does not wait for it (pg_commit_send): its replies are held on a
 * ticket, like SQLite's syncer's, the loop watches the connection's socket
 * (store_sync_fd) and reads the answer when it comes (pg_synced), or the
 * next use of the connection does (pg_finish: PostgreSQL would run the
 * next command only after the COMMIT anyway).  A COMMIT that failed, or a
 * connection lost before its answer, withdraws the ticket's replies
 * (store_sync_failed): each client gets ALERT DB, as for a failed round.
 * The other rounds (releases, heartbeats: synchronous_commit off) wait for
 * their COMMIT in the loop, which costs a round trip and no WAL flush.
 *
 * A broken connection (the server or its host died, a standby was
 * promoted) fails the current operation and its round with XLICEN_E_DB,
 * is logged once, and the next operation outside a transaction connects
 * again (at most once every LIMIT_STORE_RECONNECT_MS; libpq's multi-host
 * connection strings with target_session_attrs=read-write find the new
 * primary) and prepares the statements again.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "limits.h"
#include "log.h"
#include "schema.h"
#include "store.h"
#include "pg_int.h"
#include "xlicen_errors.h"

/* The site-wide write lock: "xlicen" in ASCII, as a bigint key. */
/* Most parameters of one statement (ST_POOL_UPSERT has 16). */
#define STORE_PG_MAX_PARAMS	20
/* Most results owed by a pipeline before it is synced and read. */
#define STORE_PG_MAX_OWED	32
/* Most statements sent ahead in one operation (store_send_ahead). */
#define STORE_PG_MAX_AHEAD	4
/* Type OIDs (pg_type.h, not installed by libpq-dev). */
#define PG_OID_BYTEA	17
#define PG_OID_INT8	20
#define PG_OID_INT2	21
#define PG_OID_INT4	23
#define PG_OID_TEXT	25
#define PG_OID_FLOAT8	701
#define PG_OID_VARCHAR	1043

struct store_pg_stmt;

/* What a result owed by the pipeline is for. */
enum pg_owed_kind {
	PG_OWED_CTL,		/* transaction control (BEGIN, SAVEPOINT...) */
	PG_OWED_COMMIT,		/* COMMIT: answers ROLLBACK if it failed */
	PG_OWED_STMT		/* a prepared statement (changes wanted) */
};

/* One command sent in pipeline mode whose result is not read yet. */
struct pg_owed {
	enum pg_owed_kind kind;
	struct store_pg_stmt *st;	/* PG_OWED_STMT's */
};

/* The connection behind struct store's opaque conn. */
struct store_pg {
	PGconn *c;
	/* Deferred results (see pg_send): the connection is in pipeline
	 * mode while nowed > 0; a deferred command that failed sets
	 * owed_failed, which fails the transaction it belongs to. */
	int nowed;
	struct pg_owed owed[STORE_PG_MAX_OWED];
	int owed_failed;
	/* Statements sent ahead in the operation in progress, their
	 * answers not stepped yet (pg_send_ahead). */
	int nahead;
	struct store_pg_stmt *ahead[STORE_PG_MAX_AHEAD];
	char *conninfo;
	int in_tx;		/* a BEGIN without its COMMIT/ROLLBACK yet */
	int tx_durable;		/* it may grant: commit as the cluster says */
	int op_bare;		/* the round's operation in progress began its
				 * transaction: no savepoint, its rollback is
				 * the transaction's */
	int broken;		/* the connection is gone: reconnect */
	/* The COMMIT of a round that may grant, sent and not waited for
	 * (pg_batch_end): its ticket, 0 if none; what it and the earlier
	 * ones came to (pg_finish). */
	uint64_t pending;
	uint64_t tickets;	/* the last ticket given */
	uint64_t covered;	/* the highest ticket whose COMMIT answered */
	uint64_t failed;	/* the latest failed one, not yet reported */
	uint64_t failed_first;	/* the earliest of those */
	int64_t last_try_ms;	/* the last reconnect attempt */
	char err[512];		/* the last error, for store_dberr */
};

struct store_pg_stmt {
	struct store_stmt base;
	struct store *s;
	char name[16];		/* "s<index>" */
	int nparams;		/* as PostgreSQL prepared it */
	int nfields;		/* result columns: 0 for a plain write */
	int sent;		/* executed (deferred): no rows to step */
	int ahead;		/* sent ahead: its next step reads the answer
				 * owed or kept in res (pg_send_ahead) */
	int owed;		/* results of it still in the pipeline */
	const char *vals[STORE_PG_MAX_PARAMS];
	int lens[STORE_PG_MAX_PARAMS];
	int fmts[STORE_PG_MAX_PARAMS];
	char num[STORE_PG_MAX_PARAMS][24];	/* integers as text */
	PGresult *res;		/* binary results */
	int row, nrows;
	int64_t changes;
};

static inline struct store_pg *
pg_conn(const struct store *s)
{
	return (struct store_pg *)(void *)s->conn;
}

static inline struct store_pg_stmt *
pg_st(struct store_stmt *st)
{
	return (struct store_pg_stmt *)(void *)st;
}

/* Keep msg (libpq's, ending in a newline) as the last error. */
static void
pg_set_err(struct store_pg *pc, const char *msg)
{
	size_t n;

	snprintf(pc->err, sizeof(pc->err), "%s", msg != NULL && msg[0] != '\0'
	    ? msg : "PostgreSQL error");
	n = strlen(pc->err);
	while (n > 0 && (pc->err[n - 1] == '\n' || pc->err[n - 1] == ' '))
		pc->err[--n] = '\0';
}

/* Ticket t failed: noted for pg_sync_failed. */
static void
pg_fail_ticket(struct store_pg *pc, uint64_t t)
{
	if (pc->failed_first == 0)
		pc->failed_first = t;
	pc->failed = t;
}

/*
 * Forget the answers of the statements sent ahead and not stepped (at the
 * end of their operation): one still owed is then read and dropped by the
 * next pg_collect.
 */
static void
pg_drop_ahead(struct store_pg *pc)
{
	struct store_pg_stmt *p;

	while (pc->nahead > 0) {
		p = pc->ahead[--pc->nahead];
		if (!p->ahead)
			continue;	/* stepped already */
		p->ahead = 0;
		PQclear(p->res);
		p->res = NULL;
	}
}

/*
 * After a failed call: if the connection is gone, note it (logged once per
 * outage: s->db_down quiets store_dberr until a reconnect) and drop what
 * was in progress.  A transaction in progress is lost with it.
 */
static void
pg_check_broken(struct store *s)
{
	struct store_pg *pc = pg_conn(s);

	if (pc->c != NULL && PQstatus(pc->c) != CONNECTION_BAD)
		return;
	if (!pc->broken && !s->db_down)
		log_msg(LOG_ERR, "store: lost the connection to PostgreSQL "
		    "(%s); requests fail with DB until it is back", pc->err);
	pc->broken = 1;
	s->db_down = 1;
	pc->in_tx = 0;
	pg_drop_ahead(pc);
	if (pc->pending != 0) {
		/* Its COMMIT may or may not have happened: withdraw its
		 * replies (a grant the client never heard of ends by TTL). */
		pg_fail_ticket(pc, pc->pending);
		pc->covered = pc->pending;
		pc->pending = 0;
	}
	while (pc->nowed > 0) {
		pc->nowed--;
		if (pc->owed[pc->nowed].st != NULL)
			pc->owed[pc->nowed].st->owed = 0;
	}
	if (s->in_batch) {
		s->in_batch = 0;
		s->batch_failed = 1;
	}
}

/*
 * Deferred results: libpq's pipeline mode.  A command whose result nobody
 * reads (BEGIN, the lock, SAVEPOINT, RELEASE, a write without RETURNING
 * whose changes are not asked for) is sent with pg_send and its result
 * left owed; the next command whose answer is needed is sent behind it
 * and pg_collect syncs the pipeline and reads every result in order, so
 * a round's statements cost one round trip per answer the seat logic
 * waits for, not one per statement.  PostgreSQL runs them in the order
 * sent: the lock is held before the first read.  A read the seat logic
 * knows it will need (store_send_ahead: the audit chain's head, a
 * checkout's pools) is sent the same way, its result kept in its res for
 * its first step, so it costs no round trip of its own either.
 *
 * An owed command that failed aborts the rest of the pipeline up to the
 * sync, and its transaction: pg_collect sets owed_failed (the COMMIT of
 * that transaction fails) and, in a round, batch_failed (the whole round
 * is rolled back and its replies fail with DB), since the operation that
 * sent it may already have returned and its savepoint been released.
 */
static int pg_collect(struct store *s, struct store_pg_stmt *keep);
/* Wait for the COMMIT pg_batch_end sent, if any (see its definition). */
static void pg_finish(struct store *s);

/* Send a prepared statement with its bindings (p) or a command without
 * parameters (sql) in pipeline mode, its result owed.  0 or XLICEN_E_DB. */
static int
pg_send(struct store *s, enum pg_owed_kind kind, struct store_pg_stmt *p,
    const char *sql)
{
	struct store_pg *pc = pg_conn(s);
	int ok;

	pg_finish(s);
	if (pc->broken || pc->c == NULL) {
		pg_set_err(pc, "no connection to PostgreSQL");
		return XLICEN_E_DB;
	}
	if (pc->nowed == STORE_PG_MAX_OWED && pg_collect(s, NULL) != 0)
		return XLICEN_E_DB;
	if (PQpipelineStatus(pc->c) == PQ_PIPELINE_OFF &&
	    !PQenterPipelineMode(pc->c)) {
		pg_set_err(pc, PQerrorMessage(pc->c));
		return XLICEN_E_DB;
	}
	if (p != NULL)
		ok = PQsendQueryPrepared(pc->c, p->name, p->nparams, p->vals,
		    p->lens, p->fmts, 1);
	else
		ok = PQsendQueryParams(pc->c, sql, 0, NULL, NULL, NULL, NULL,
		    0);
	if (!ok) {
		pg_set_err(pc, PQerrorMessage(pc->c));
		pg_check_broken(s);
		return XLICEN_E_DB;
	}
	pc->owed[pc->nowed].kind = kind;
	pc->owed[pc->nowed].st = p;
	pc->nowed++;
	if (p != NULL) {
		p->owed++;
		p->changes = 0;
	}
	return XLICEN_OK;
}

/* Read one owed result (o); keep it in keep->res if it is keep's.  1 if
 * it succeeded, 0 if not (pc->err says why, unless the pipeline was only
 * aborted by an earlier failure), -1 if the connection gave nothing. */
static int
pg_collect_one(struct store_pg *pc, struct pg_owed *o,
    struct store_pg_stmt *keep)
{
	PGresult *r = PQgetResult(pc->c);
	ExecStatusType es;
	int ok;

	if (r == NULL) {
		pg_set_err(pc, PQerrorMessage(pc->c));
		return -1;
	}
	es = PQresultStatus(r);
	ok = es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK;
	if (!ok && es != PGRES_PIPELINE_ABORTED)
		pg_set_err(pc, PQresultErrorMessage(r)[0] != '\0' ?
		    PQresultErrorMessage(r) : PQerrorMessage(pc->c));
	if (ok && o->kind == PG_OWED_COMMIT &&
	    strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		/* A COMMIT of a failed transaction answers ROLLBACK. */
		pg_set_err(pc, "the transaction was rolled back");
		ok = 0;
	}
	if (o->st != NULL) {
		o->st->owed--;
		if (ok)
			o->st->changes = strtoll(PQcmdTuples(r), NULL, 10);
	}
	if (ok && o->st != NULL && (o->st == keep || o->st->ahead)) {
		o->st->res = r;
		r = NULL;
	}
	PQclear(r);
	/* Each command's results end with a NULL. */
	if ((r = PQgetResult(pc->c)) != NULL) {
		PQclear(r);
		pg_set_err(pc, "PostgreSQL pipeline out of step");
		return -1;
	}
	return ok;
}

/*
 * End a pipeline once the results owed in it have been read (lost: the
 * connection is already out of step, nothing more is read): its sync,
 * then out of pipeline mode; nothing is owed any more either way.
 * Returns lost, or 1 if the sync or leaving the mode failed.
 */
static int
pg_pipeline_end(struct store_pg *pc, int lost)
{
	PGresult *r;
	int i;

	if (!lost) {
		r = PQgetResult(pc->c);
		if (PQresultStatus(r) != PGRES_PIPELINE_SYNC)
			lost = 1;
		PQclear(r);
	}
	if (!lost && !PQexitPipelineMode(pc->c))
		lost = 1;
	for (i = 0; i < pc->nowed; i++)
		if (pc->owed[i].st != NULL)
			pc->owed[i].st->owed = 0;
	pc->nowed = 0;
	return lost;
}

/*
 * Sync the pipeline and read every owed result in order, then leave
 * pipeline mode.  keep: the statement sent last whose rows the caller
 * reads (its result goes to keep->res), or NULL.  0, or XLICEN_E_DB if
 * any command failed (an owed one sets owed_failed and batch_failed).
 */
static int
pg_collect(struct store *s, struct store_pg_stmt *keep)
{
	struct store_pg *pc = pg_conn(s);
	int i, ok, rc = XLICEN_OK, owed_failed = 0, lost = 0;

	if (pc->pending != 0)
		pg_finish(s);	/* what is owed is its round's: synced */
	if (pc->nowed == 0)
		return XLICEN_OK;
	if (!PQpipelineSync(pc->c)) {
		pg_set_err(pc, PQerrorMessage(pc->c));
		lost = 1;
	}
	for (i = 0; !lost && i < pc->nowed; i++) {
		ok = pg_collect_one(pc, &pc->owed[i], keep);
		if (ok < 0)
			lost = 1;
		if (ok <= 0) {
			rc = XLICEN_E_DB;
			if (pc->owed[i].st == NULL || pc->owed[i].st != keep)
				owed_failed = 1;
		}
	}
	if ((lost = pg_pipeline_end(pc, lost)) != 0) {
		/* Out of step with the server: nothing more can be trusted
		 * on this connection. */
		rc = XLICEN_E_DB;
		owed_failed = 1;
		PQfinish(pc->c);
		pc->c = NULL;
		pg_check_broken(s);
	}
	if (owed_failed) {
		pc->owed_failed = 1;
		if (s->in_batch)
			s->batch_failed = 1;
		/* With keep, its caller logs the failure (keep's result is
		 * aborted with the rest); a lost connection is logged once. */
		if (keep == NULL && !lost)
			log_msg(LOG_ERR, "store: PostgreSQL: %s", pc->err);
	}
	return rc;
}

/*
 * The COMMIT of a round that may grant, sent by pg_batch_end without
 * waiting (pg_commit_send): read its answer, and the results of the
 * round's writes owed before it (the same sync covers them).  Its ticket
 * is then covered; failed if any of them failed, or the connection broke
 * (it may or may not have committed: its replies are withdrawn either
 * way, so a grant nobody heard of ends by its TTL).  Blocks until the
 * answer is there: the next command on the connection would wait for the
 * COMMIT in PostgreSQL anyway.  A no-op without one.
 */
static void
pg_finish(struct store *s)
{
	struct store_pg *pc = pg_conn(s);
	uint64_t t = pc->pending;
	PGresult *r;
	int i, one, ok = 1, lost = 0;

	if (t == 0)
		return;
	pc->pending = 0;
	for (i = 0; !lost && i < pc->nowed; i++) {
		one = pg_collect_one(pc, &pc->owed[i], NULL);
		if (one < 0)
			lost = 1;
		else if (one == 0)
			ok = 0;
	}
	lost = pg_pipeline_end(pc, lost);
	pc->covered = t;
	if (!ok || lost) {
		pg_fail_ticket(pc, t);
		if (!lost)
			log_msg(LOG_ERR, "store: PostgreSQL: a round's COMMIT "
			    "failed (%s); its replies are withdrawn", pc->err);
	}
	if (!ok && !lost) {
		/* A failed command aborted the rest of the pipeline, the
		 * COMMIT with it: the transaction is still open, aborted. */
		r = PQexec(pc->c, "ROLLBACK");
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			lost = 1;
		PQclear(r);
	}
	if (lost) {
		PQfinish(pc->c);
		pc->c = NULL;
		pg_check_broken(s);
	}
}

/* Run one command of transaction control (or several, separated by ;),
 * after the results owed by the pipeline. */
static int
pg_exec(struct store *s, const char *sql)
{
	struct store_pg *pc = pg_conn(s);
	PGresult *r;
	int rc = XLICEN_OK;

	pg_finish(s);
	if (pc->nowed > 0)
		(void)pg_collect(s, NULL);
	if (pc->broken || pc->c == NULL) {
		pg_set_err(pc, "no connection to PostgreSQL");
		return XLICEN_E_DB;
	}
	r = PQexec(pc->c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_set_err(pc, PQerrorMessage(pc->c));
		rc = XLICEN_E_DB;
	} else if (strstr(sql, "COMMIT") != NULL &&
	    strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		/* A COMMIT of a failed transaction answers ROLLBACK. */
		pg_set_err(pc, "the transaction was rolled back");
		rc = XLICEN_E_DB;
	}
	PQclear(r);
	if (rc != 0)
		pg_check_broken(s);
	return rc;
}

/*
 * The statements.
 */

static int
pg_bind_int64(struct store_stmt *st, int idx, int64_t v)
{
	struct store_pg_stmt *p = pg_st(st);

	if (idx < 1 || idx > STORE_PG_MAX_PARAMS)
		return XLICEN_E_DB;
	snprintf(p->num[idx - 1], sizeof(p->num[0]), "%" PRId64, v);
	p->vals[idx - 1] = p->num[idx - 1];
	p->lens[idx - 1] = 0;
	p->fmts[idx - 1] = 0;
	return XLICEN_OK;
}

static int
pg_bind_text(struct store_stmt *st, int idx, const char *v)
{
	struct store_pg_stmt *p = pg_st(st);

	if (idx < 1 || idx > STORE_PG_MAX_PARAMS ||
	    (v != NULL && strlen(v) > INT32_MAX))
		return XLICEN_E_DB;
	p->vals[idx - 1] = v;
	p->lens[idx - 1] = 0;
	p->fmts[idx - 1] = 0;
	return XLICEN_OK;
}

static int
pg_bind_null(struct store_stmt *st, int idx)
{
	return pg_bind_text(st, idx, NULL);
}

/* Blobs go in binary, the rest as text. */
static int
pg_bind_blob(struct store_stmt *st, int idx, const void *v, size_t len)
{
	struct store_pg_stmt *p = pg_st(st);
	static const char empty[1];

	if (idx < 1 || idx > STORE_PG_MAX_PARAMS || len > INT32_MAX)
		return XLICEN_E_DB;
	p->vals[idx - 1] = v != NULL ? v : empty;
	p->lens[idx - 1] = (int)len;
	p->fmts[idx - 1] = 1;
	return XLICEN_OK;
}

/* Connect again if the connection broke and it is time to try; 1 if there
 * is a connection to use. */
static int pg_usable(struct store *s);
/* COMMIT, waiting for the cluster or not (see its definition). */
static int pg_commit_tx(struct store *s, int durable);

/* The answer of a statement sent ahead: read with the pipeline's other
 * results if still owed.  0 or XLICEN_E_DB. */
static int
pg_take_ahead(struct store_pg_stmt *p)
{
	struct store_pg *pc = pg_conn(p->s);

	if (p->owed > 0 && pg_collect(p->s, NULL) != 0) {
		p->ahead = 0;
		PQclear(p->res);
		p->res = NULL;
		return XLICEN_E_DB;
	}
	p->ahead = 0;
	if (p->res == NULL) {
		pg_set_err(pc, "no answer to a statement sent ahead");
		return XLICEN_E_DB;
	}
	return XLICEN_OK;
}

/* Execute p (its first step): behind the owed commands if there are any,
 * one round trip for all.  p->res gets the result, or NULL. */
static int
pg_run(struct store_pg_stmt *p)
{
	struct store_pg *pc = pg_conn(p->s);

	pg_finish(p->s);
	if (pc->nowed > 0) {
		if (pg_send(p->s, PG_OWED_STMT, p, NULL) != 0 ||
		    pg_collect(p->s, p) != 0) {
			PQclear(p->res);
			p->res = NULL;
			return XLICEN_E_DB;
		}
	} else {
		p->res = PQexecPrepared(pc->c, p->name, p->nparams, p->vals,
		    p->lens, p->fmts, 1);
	}
	return XLICEN_OK;
}

static int
pg_step(struct store_stmt *st)
{
	struct store_pg_stmt *p = pg_st(st);
	struct store_pg *pc = pg_conn(p->s);
	ExecStatusType es;

	if (p->sent)
		return STORE_DONE;	/* a deferred write: no rows */
	if (p->res == NULL || p->ahead) {
		if (p->ahead) {
			if (pg_take_ahead(p) != 0)
				return XLICEN_E_DB;
		} else if (!pg_usable(p->s)) {
			pg_set_err(pc, "no connection to PostgreSQL");
			return XLICEN_E_DB;
		} else if (p->nfields == 0 && pc->in_tx) {
			/* No rows to wait for: its result is owed, and its
			 * changes read only if asked (pg_changes). */
			if (pg_send(p->s, PG_OWED_STMT, p, NULL) != 0)
				return XLICEN_E_DB;
			p->sent = 1;
			return STORE_DONE;
		} else if (pg_run(p) != 0) {
			return XLICEN_E_DB;
		}
		es = PQresultStatus(p->res);
		if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
			pg_set_err(pc, PQresultErrorMessage(p->res) != NULL &&
			    PQresultErrorMessage(p->res)[0] != '\0' ?
			    PQresultErrorMessage(p->res) :
			    PQerrorMessage(pc->c));
			PQclear(p->res);
			p->res = NULL;
			pg_check_broken(p->s);
			return XLICEN_E_DB;
		}
		p->nrows = PQntuples(p->res);
		p->row = -1;
		p->changes = strtoll(PQcmdTuples(p->res), NULL, 10);
	}
	if (p->row < p->nrows)
		p->row++;
	return p->row < p->nrows ? STORE_ROW : STORE_DONE;
}

/*
 * store_send_ahead: a read sent now in the pipeline, inside the
 * operation's transaction, its answer read by the next pg_collect (the
 * next statement whose rows are needed, or the COMMIT) and kept for its
 * step.  Nothing is sent outside a transaction, for a write, or when it
 * is already under way; pg_drop_ahead forgets what the operation did not
 * step.  A failure here is the step's to report.
 */
static void
pg_send_ahead(struct store_stmt *st)
{
	struct store_pg_stmt *p = pg_st(st);
	struct store_pg *pc = pg_conn(p->s);

	if (!pc->in_tx || pc->broken || p->nfields == 0 || p->ahead ||
	    p->res != NULL || p->owed > 0 || p->sent ||
	    pc->nahead == STORE_PG_MAX_AHEAD)
		return;
	if (pg_send(p->s, PG_OWED_STMT, p, NULL) != 0)
		return;
	p->ahead = 1;
	pc->ahead[pc->nahead++] = p;
}

/* The current row's column, or NULL (SQL NULL, no row, no column). */
static const char *
pg_val(struct store_pg_stmt *p, int col)
{
	if (p->res == NULL || p->row < 0 || p->row >= p->nrows || col < 0 ||
	    col >= PQnfields(p->res) || PQgetisnull(p->res, p->row, col))
		return NULL;
	return PQgetvalue(p->res, p->row, col);
}

static uint64_t
pg_be(const unsigned char *b, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | b[i];
	return v;
}

/* Binary results: integers big-endian, of their type's width. */
static int64_t
pg_col_int64(struct store_stmt *st, int col)
{
	struct store_pg_stmt *p = pg_st(st);
	const unsigned char *v = (const unsigned char *)pg_val(p, col);

	if (v == NULL)
		return 0;
	switch (PQftype(p->res, col)) {
	case PG_OID_INT8:
		return PQgetlength(p->res, p->row, col) == 8 ?
		    (int64_t)pg_be(v, 8) : 0;
	case PG_OID_INT4:
		return PQgetlength(p->res, p->row, col) == 4 ?
		    (int32_t)(uint32_t)pg_be(v, 4) : 0;
	case PG_OID_INT2:
		return PQgetlength(p->res, p->row, col) == 2 ?
		    (int16_t)(uint16_t)pg_be(v, 2) : 0;
	default:
		return 0;
	}
}

/* Text arrives as its bytes; libpq ends every value with a NUL. */
static const char *
pg_col_text(struct store_stmt *st, int col)
{
	return pg_val(pg_st(st), col);
}

static const void *
pg_col_blob(struct store_stmt *st, int col)
{
	struct store_pg_stmt *p = pg_st(st);
	const char *v = pg_val(p, col);

	return v != NULL && PQgetlength(p->res, p->row, col) > 0 ? v : NULL;
}

static size_t
pg_col_bytes(struct store_stmt *st, int col)
{
	struct store_pg_stmt *p = pg_st(st);

	if (pg_val(p, col) == NULL)
		return 0;
	return (size_t)PQgetlength(p->res, p->row, col);
}

/* The types a SQLite row of the same schema has: every integer column is
 * INTEGER, so the audit chain hashes the same values on both. */
static enum store_type
pg_col_type(struct store_stmt *st, int col)
{
	struct store_pg_stmt *p = pg_st(st);

	if (pg_val(p, col) == NULL)
		return STORE_T_NULL;
	switch (PQftype(p->res, col)) {
	case PG_OID_INT8:
	case PG_OID_INT4:
	case PG_OID_INT2:
		return STORE_T_INTEGER;
	case PG_OID_BYTEA:
		return STORE_T_BLOB;
	case PG_OID_FLOAT8:
		return STORE_T_REAL;
	case PG_OID_TEXT:
	case PG_OID_VARCHAR:
	default:
		return STORE_T_TEXT;
	}
}

/* A deferred write's count needs its result: sync the pipeline. */
static int64_t
pg_changes(struct store_stmt *st)
{
	struct store_pg_stmt *p = pg_st(st);

	if (p->owed > 0)
		(void)pg_collect(p->s, NULL);
	return p->changes;
}

static void
pg_done(struct store_stmt *st)
{
	struct store_pg_stmt *p = pg_st(st);

	PQclear(p->res);
	p->res = NULL;
	p->row = p->nrows = 0;
	p->changes = 0;
	p->sent = 0;
	p->ahead = 0;
	memset(p->vals, 0, sizeof(p->vals));
	memset(p->lens, 0, sizeof(p->lens));
	memset(p->fmts, 0, sizeof(p->fmts));
}

static const char *
pg_errmsg(struct store *s)
{
	return pg_conn(s)->err;
}

/*
 * Transactions.  BEGIN and the site-wide lock are sent in the pipeline
 * (their results owed): they travel with the transaction's first read.
 * The transaction holds the lock until its COMMIT or ROLLBACK.
 */
static int
pg_tx_start(struct store *s)
{
	struct store_pg *pc = pg_conn(s);

	if (!pg_usable(s)) {
		pg_set_err(pc, "no connection to PostgreSQL");
		return XLICEN_E_DB;
	}
	pc->owed_failed = 0;
	if (pg_send(s, PG_OWED_CTL, NULL, "BEGIN") != 0 ||
	    pg_send(s, PG_OWED_CTL, NULL, "SELECT pg_advisory_xact_lock("
	    STORE_PG_LOCK ")") != 0) {
		if (!pc->broken)
			(void)pg_exec(s, "ROLLBACK");
		return XLICEN_E_DB;
	}
	pc->in_tx = 1;
	return XLICEN_OK;
}

/*
 * One operation's transaction.  Outside a batch: its own BEGIN ...
 * COMMIT.  Inside one: the round's transaction, which store_batch_end
 * commits before any reply of the round goes out; the operation that
 * begins it runs bare (its rollback is the transaction's, op_bare), each
 * later one in a savepoint.  durable only chooses how the commit waits
 * (pg_commit_tx).  Heartbeats are never held in memory on PostgreSQL
 * (store_heartbeat writes them), so there is nothing to write first.
 */
static int
pg_begin(struct store *s, int durable)
{
	int rc;

	pg_drop_ahead(pg_conn(s));
	if (!s->batching) {
		pg_conn(s)->tx_durable = durable;
		return pg_tx_start(s);
	}
	if (s->batch_failed)
		return XLICEN_E_DB;
	if (durable)
		s->batch_full = 1;
	if (!s->in_batch) {
		/* The first operation needs no savepoint: nothing before it
		 * in the transaction to keep if it rolls back. */
		if ((rc = pg_tx_start(s)) != 0)
			return rc;
		s->in_batch = 1;
		s->batch_full = durable;
		pg_conn(s)->op_bare = 1;
		return XLICEN_OK;
	}
	pg_conn(s)->op_bare = 0;
	if ((rc = pg_send(s, PG_OWED_CTL, NULL, "SAVEPOINT op")) != 0) {
		s->batch_failed = 1;
		return rc;
	}
	return XLICEN_OK;
}

static int
pg_commit(struct store *s)
{
	int rc;

	pg_drop_ahead(pg_conn(s));
	if (s->batching) {
		if (pg_conn(s)->op_bare) {
			pg_conn(s)->op_bare = 0;
			return XLICEN_OK;
		}
		if ((rc = pg_send(s, PG_OWED_CTL, NULL, "RELEASE op")) != 0)
			s->batch_failed = 1;
		return rc;
	}
	return pg_commit_tx(s, pg_conn(s)->tx_durable);
}

static void
pg_rollback(struct store *s)
{
	pg_drop_ahead(pg_conn(s));
	if (pg_conn(s)->broken)
		return;		/* lost with the connection (pg_check_broken) */
	if (s->batching && s->in_batch && pg_conn(s)->op_bare) {
		/* The round's transaction holds this operation only: end
		 * it; the round's next operation begins another. */
		pg_conn(s)->op_bare = 0;
		s->batch_failed = pg_exec(s, "ROLLBACK") != 0;
		pg_conn(s)->in_tx = 0;
		s->in_batch = 0;
		s->batch_full = 0;
		return;
	}
	if (s->batching) {
		if (s->in_batch && pg_exec(s, "ROLLBACK TO op; RELEASE op") != 0)
			s->batch_failed = 1;
		return;
	}
	(void)pg_exec(s, "ROLLBACK");
	pg_conn(s)->in_tx = 0;
}

static void
pg_batch_begin(struct store *s)
{
	s->batching = 1;
	s->in_batch = 0;
	s->batch_failed = 0;
}

/*
 * Send the round's COMMIT, with its owed writes, and the pipeline's sync,
 * without waiting for the answer: *ticket gets the ticket its replies
 * wait for (store_synced covers it when the answer is read, pg_finish).
 * 0, or XLICEN_E_DB if it could not be sent (nothing was committed).
 */
static int
pg_commit_send(struct store *s, uint64_t *ticket)
{
	struct store_pg *pc = pg_conn(s);

	if (pc->owed_failed || pg_send(s, PG_OWED_COMMIT, NULL, "COMMIT") != 0)
		return XLICEN_E_DB;
	if (!PQpipelineSync(pc->c) || PQflush(pc->c) != 0) {
		pg_set_err(pc, PQerrorMessage(pc->c));
		PQfinish(pc->c);
		pc->c = NULL;
		pg_check_broken(s);
		return XLICEN_E_DB;
	}
	pc->in_tx = 0;
	pc->pending = *ticket = ++pc->tickets;
	return XLICEN_OK;
}

/*
 * The watch of the loop (store.h): the socket, readable when the COMMIT
 * sent answers; then its answer is read (without waiting: only once the
 * first result is complete).  Readable without one: the server sent a
 * notice, or closed the connection (it is dropped: the next operation
 * connects again, and its socket is watched instead).
 */
static int
pg_sync_fd(const struct store *s)
{
	const struct store_pg *pc = pg_conn(s);

	return pc->c != NULL && !pc->broken ? PQsocket(pc->c) : -1;
}

static int
pg_synced(struct store *s, uint64_t *done)
{
	struct store_pg *pc = pg_conn(s);

	if (pc->c != NULL && !pc->broken && (pc->pending != 0 ||
	    (pc->nowed == 0 && !pc->in_tx))) {
		if (!PQconsumeInput(pc->c)) {
			pg_set_err(pc, PQerrorMessage(pc->c));
			PQfinish(pc->c);
			pc->c = NULL;
			pg_check_broken(s);
		} else if (pc->pending != 0 && !PQisBusy(pc->c)) {
			pg_finish(s);
		}
	}
	*done = pc->covered;
	return XLICEN_OK;
}

static int
pg_sync_wait(struct store *s, uint64_t ticket)
{
	struct store_pg *pc = pg_conn(s);

	if (ticket > pc->covered)
		pg_finish(s);
	return ticket > pc->covered || (pc->failed != 0 &&
	    pc->failed >= ticket) ? XLICEN_E_DB : XLICEN_OK;
}

static int
pg_sync_pending(const struct store *s)
{
	return pg_conn(s)->pending != 0;
}

static uint64_t
pg_sync_failed(struct store *s, uint64_t *first)
{
	struct store_pg *pc = pg_conn(s);
	uint64_t t = pc->failed;

	*first = pc->failed_first;
	pc->failed = pc->failed_first = 0;
	return t;
}

/* Commit the round.  One that may grant: sent, its ticket covered when it
 * answers (pg_commit_send); the others: no ticket, the COMMIT (without
 * waiting for the WAL) has returned. */
static int
pg_batch_end(struct store *s, uint64_t *ticket)
{
	struct store_pg *pc = pg_conn(s);
	int rc = XLICEN_OK;

	*ticket = 0;
	pg_drop_ahead(pc);
	if (s->in_batch) {
		if (s->batch_failed)
			rc = pg_exec(s, "ROLLBACK");
		else if (s->batch_full)
			rc = pg_commit_send(s, ticket);
		else
			rc = pg_commit_tx(s, 0);
		if (rc != 0 && !pc->broken)
			(void)pg_exec(s, "ROLLBACK");
		pc->in_tx = 0;
	}
	if (s->batch_failed)
		rc = XLICEN_E_DB;
	pc->op_bare = 0;
	s->batching = 0;
	s->in_batch = 0;
	s->batch_failed = 0;
	return rc;
}

/*
 * Commit the transaction in progress.  One that may grant (durable) waits
 * for the cluster's synchronous_commit (the WAL flushed, and with a
 * synchronous standby, there too) before its replies go out.  The others
 * only free seats, extend leases or record refusals: like SQLite's light
 * commits they go with synchronous_commit off (the WAL writer flushes
 * them within a fraction of a second).  Were one lost to a crash or a
 * promotion, a seat stays taken until its lease expires, or a lease ends
 * up to one heartbeat earlier than answered (a TTL is at least three
 * heartbeats); a seat is never given twice.
 */
static int
pg_commit_tx(struct store *s, int durable)
{
	struct store_pg *pc = pg_conn(s);
	int rc = XLICEN_OK;

	/* With the transaction's owed commands: one round trip. */
	if (!durable)
		rc = pg_send(s, PG_OWED_CTL, NULL,
		    "SET LOCAL synchronous_commit = off");
	if (rc == 0)
		rc = pg_send(s, PG_OWED_COMMIT, NULL, "COMMIT");
	if (rc == 0)
		rc = pg_collect(s, NULL);
	if (rc == 0 && pc->owed_failed)
		rc = XLICEN_E_DB;
	pc->in_tx = 0;
	return rc;
}

static void pg_close(struct store *s);

const struct store_db_ops store_pg_ops = {
	.name = "postgresql",
	.shared = 1,
	.bind_int64 = pg_bind_int64,
	.bind_text = pg_bind_text,
	.bind_null = pg_bind_null,
	.bind_blob = pg_bind_blob,
	.step = pg_step,
	.col_int64 = pg_col_int64,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.col_bytes = pg_col_bytes,
	.col_type = pg_col_type,
	.changes = pg_changes,
	.done = pg_done,
	.errmsg = pg_errmsg,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.send_ahead = pg_send_ahead,
	.sync_fd = pg_sync_fd,
	.synced = pg_synced,
	.sync_wait = pg_sync_wait,
	.sync_failed = pg_sync_failed,
	.sync_pending = pg_sync_pending,
	.batch_begin = pg_batch_begin,
	.batch_end = pg_batch_end,
	.close = pg_close,
};

/*
 * Preparing, reconnecting, opening (connecting and the migrations are
 * pg_open.c's).
 */

/* Prepare every statement of the dialect on the current connection, and
 * learn how many parameters each takes. */
static int
pg_prepare_all(struct store *s, char *err, size_t errlen)
{
	struct store_pg *pc = pg_conn(s);
	struct store_pg_stmt *p;
	PGresult *r;
	int i, ok;

	for (i = 0; i < ST__N; i++) {
		if (store_pg_sql[i] == NULL)
			continue;
		p = pg_st(s->st[i]);
		r = PQprepare(pc->c, p->name, store_pg_sql[i], 0, NULL);
		ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (ok) {
			r = PQdescribePrepared(pc->c, p->name);
			ok = PQresultStatus(r) == PGRES_COMMAND_OK;
			p->nparams = ok ? PQnparams(r) : 0;
			p->nfields = ok ? PQnfields(r) : 0;
			PQclear(r);
		}
		if (!ok || p->nparams > STORE_PG_MAX_PARAMS) {
			store_seterr(err, errlen, "preparing statement %d: %s",
			    i, PQerrorMessage(pc->c));
			return XLICEN_E_DB;
		}
	}
	return XLICEN_OK;
}

static int
pg_usable(struct store *s)
{
	struct store_pg *pc = pg_conn(s);
	char err[512];
	PGconn *c;
	int64_t now;

	if (!pc->broken)
		return 1;
	/* A transaction in progress died with the old connection. */
	if (pc->in_tx || s->in_batch)
		return 0;
	now = store_now_ms();
	if (pc->last_try_ms != 0 && now - pc->last_try_ms <
	    LIMIT_STORE_RECONNECT_MS)
		return 0;
	pc->last_try_ms = now;
	if ((c = store_pg_connect(pc->conninfo, err, sizeof(err))) == NULL) {
		pg_set_err(pc, err);
		return 0;
	}
	PQfinish(pc->c);
	pc->c = c;
	if (pg_prepare_all(s, err, sizeof(err)) != 0) {
		pg_set_err(pc, err);
		PQfinish(pc->c);
		pc->c = NULL;
		return 0;
	}
	pc->broken = 0;
	s->db_down = 0;
	log_msg(LOG_NOTICE, "store: connected to PostgreSQL again (host %s)",
	    PQhost(c) != NULL ? PQhost(c) : "?");
	return 1;
}


int
store_pg_open(const char *conninfo, struct store **out, char *err,
    size_t errlen)
{
	struct store *s = NULL;
	struct store_pg *pc;
	struct store_pg_stmt *v;
	int i, rc = XLICEN_E_NOMEM;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (pc = calloc(1, sizeof(*pc))) == NULL) {
		free(s);
		store_seterr(err, errlen, "out of memory");
		return XLICEN_E_NOMEM;
	}
	s->ops = &store_pg_ops;
	s->lockfd = -1;
	s->conn = (struct store_conn *)(void *)pc;
	if ((pc->conninfo = strdup(conninfo)) == NULL ||
	    (v = calloc(ST__N, sizeof(*v))) == NULL) {
		store_seterr(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < ST__N; i++) {
		v[i].base.ops = &store_pg_ops;
		v[i].s = s;
		snprintf(v[i].name, sizeof(v[i].name), "s%d", i);
		s->st[i] = &v[i].base;
	}
	rc = XLICEN_E_DB;
	if ((pc->c = store_pg_connect(conninfo, err, errlen)) == NULL)
		goto out;
	if ((rc = store_pg_migrate(pc->c, err, errlen)) != 0 ||
	    (rc = pg_prepare_all(s, err, errlen)) != 0)
		goto out;
	*out = s;
	s = NULL;
	rc = XLICEN_OK;
out:
	if (s != NULL)
		pg_close(s);
	return rc;
}

static void
pg_close(struct store *s)
{
	struct store_pg *pc = pg_conn(s);
	int i;

	for (i = 0; i < ST__N && s->st[i] != NULL; i++)
		pg_done(s->st[i]);
	free(s->st[0]);
	if (pc != NULL) {
		PQfinish(pc->c);
		free(pc->conninfo);
		free(pc);
	}
	free(s);
}
