/*
 * What the parts of the store (server/store/) share, behind the public
 * contract of server/store.h.  Not for use outside server/store/.
 *
 * Seats and leases: a pool counts seats; a lease holds (a share of) one
 * seat.  Checkouts of one dup group share a seat (policy.h), so releasing
 * one of them frees nothing while another remains; a seat whose last
 * lease is released may linger, still counted, for the pool's linger time.
 * A lease whose holder's connection was closed by the client is an orphan
 * (orphan_until, store_orphan) until its principal re-attaches it or the
 * sweep frees it as a release would.
 *
 * Every event row is hash-chained to the one before it (common/audit.h):
 * the row's hash is computed in the transaction that inserts it, from the
 * last row's hash, and the id is chosen explicitly so that the hash
 * covers it (audit_trail.c).
 *
 * The parts: the statement interface (db.h, its backend-neutral helpers
 * in db.c), the SQLite backend behind it (sqlite_sql.c: every
 * statement's text; sqlite_db.c: the driver calls, transactions, open
 * and migrations; sqlite_durable.c: group commit, syncer and
 * checkpointer threads, heartbeats held in memory), and the operations
 * written once against statement ids and db.h, for any backend:
 * checkout.c, leases.c, pools.c, audit_trail.c, report.c.  One connection, opened in WAL mode
 * with synchronous=FULL so a committed grant survives kill -9 and power
 * loss; every statement is prepared once at open; every decision is one
 * BEGIN IMMEDIATE transaction that is rolled back on any error.
 *
 * Cost of one checkout (the common case, nothing to expire): BEGIN
 * IMMEDIATE, the expiry, orphan and linger sweeps (empty range scans; the
 * orphans' of a partial index holding only orphans), the pool
 * SELECT (one row per pool of the product, its in_use counter), the
 * seat lookup of the dup group, the seats-held SELECT (only with a policy),
 * INSERT seat (its trigger updates the pool's counter), INSERT lease, the
 * last event's hash, INSERT event, RELEASE of its savepoint; its share of
 * the round's COMMIT and fdatasync(), plus the occasional checkpoint.  A
 * heartbeat: one SELECT by primary key.  The reads of expires_at (status,
 * holders, next expiry) first write the heartbeats held in memory.
 * Seats in use per pool are a counter kept by triggers (schema 0003).
 */
#ifndef XLICEN_STORE_INT_H
#define XLICEN_STORE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db.h"
#include "store.h"

/* How long a statement waits for another connection's lock (an admin
 * tool reading the file) before failing with XLICEN_E_DB. */
#define STORE_BUSY_MS		5000
#define STORE_LEASE_ID_LEN	32	/* hex digits: 16 random bytes */
#define STORE_GROUP_KEY_MAX	1024

/* The statements, prepared once by store_open from the backend's dialect
 * (store_sqlite_sql of sqlite_sql.c). */
enum store_st {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_EXPIRE_SEL,
	ST_LINGER_SEL,
	ST_SEAT_DEL,
	ST_SEAT_GET,
	ST_SEAT_SET_COUNT,
	ST_SEAT_LINGER,
	ST_SEAT_FIND,
	ST_SEAT_INS,
	ST_SEAT_JOIN,
	ST_POOLS_PRODUCT,
	ST_HELD_PRODUCT,
	ST_PRODUCT_TOTALS,
	ST_LEASE_INS,
	ST_EVENT_LAST,
	ST_EVENT_INS,
	ST_HB_UPDATE,
	ST_RECLAIM_UPDATE,
	ST_LEASE_GET,
	ST_LEASE_DEL,
	ST_REVOKED_GET,
	ST_REVOKED_INS,
	ST_REVOKED_PRUNE,
	ST_POOL_ACTIVE_IDS,
	ST_POOL_UPSERT,
	ST_POOL_WITHDRAW,
	ST_POOL_ORPHANS,
	ST_SEATS_MOVE,
	ST_LEASES_MOVE,
	ST_STATUS_ALL,
	ST_STATUS_PRODUCT,
	ST_NEXT_EXPIRY,
	ST_COUNT_LEASES,
	ST_HOLDERS,
	ST_HOLDERS_LINGER,
	ST_EVENTS_ALL,
	ST_EVENTS_REPORT,
	ST_SAVEPOINT,
	ST_RELEASE_SP,
	ST_ROLLBACK_SP,
	ST_HB_GET,
	ST_HB_SET,
	ST_EXTEND,
	ST_SYNC_FULL,
	ST_SYNC_NORMAL,
	ST_ORPHAN_SEL,
	ST_ORPHAN_SET,
	ST_ORPHAN_REARM,
	ST_BORROWED_PRODUCT,	/* seats of a product out on borrow */
	ST_BORROW_CANCEL,	/* an admin's cancel of a borrowed lease */
	ST_SWEEP_DUE,		/* whether any sweep has work at a time */
	ST__N
};

/* A heartbeat answered but not yet written (see store_heartbeat). */
struct store_hb {
	char id[STORE_LEASE_ID_LEN + 1];	/* "" = free slot */
	int64_t at;
	int64_t expires;
};

/* The backend's connection: its own type (sqlite_db.c: the sqlite3
 * handle), seen only by the backend's files. */
struct store_conn;

/* Monotonic ms (CLOCK_MONOTONIC), as the loop counts them (server_now_ms):
 * the backends' deadlines (store_carry_until, PostgreSQL's reconnects). */
static inline int64_t
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct store {
	const struct store_db_ops *ops;	/* the backend (db.h) */
	struct store_conn *conn;
	int lockfd;		/* the -lock file (store_lock), or -1 */
	struct store_stmt *st[ST__N];	/* prepared at open */
	/* Group commit (store_batch_begin/end): the operations of one round
	 * of the event loop run in savepoints of one transaction. */
	int batching;
	int in_batch;		/* its BEGIN IMMEDIATE was done */
	int batch_failed;	/* SQLite rolled it back: nothing is durable */
	int batch_full;		/* it must be durable before its replies */
	int sync_normal;	/* PRAGMA synchronous is NORMAL now */
	int64_t carried_ms;	/* monotonic ms since which the transaction
				 * of an earlier round is left open for a
				 * later one to commit (store_batch_end), or
				 * 0 */
	struct store_bg *bg;	/* the syncer and checkpointer, or NULL */
	/* Heartbeats answered from memory and not yet written: an
	 * open-addressing table keyed by lease id. */
	struct store_hb *hb;
	size_t hb_cap, hb_n;
	int64_t hb_since;	/* UTC s of the oldest */
	int db_down;		/* the connection is lost and that was logged:
				 * store_dberr stays quiet until it is back */
};

/* The syncer and checkpointer (sqlite_durable.c). */
struct store_bg;

/* One audit record; NULL strings are stored as NULL. */
struct store_event {
	int64_t ts;
	const char *kind;
	const char *principal;
	const char *host;
	const char *display;
	const char *product;
	const char *version;
	const char *lease_id;
	int64_t pool_id;	/* 0 = none */
	int64_t count;		/* 0 = none */
	int code;		/* xlicen code, 0 or negative */
	const char *detail;
	int has_seats;
	int64_t seats;		/* change in seats in use */
};

/* Open the SQLite store at path (sqlite_db.c) or the PostgreSQL one of
 * conninfo (pg_db.c); store_open_backend chooses.  Same contract. */
int store_sqlite_open(const char *path, struct store **out, char *err,
    size_t errlen);
int store_pg_open(const char *conninfo, struct store **out, char *err,
    size_t errlen);

/*
 * Statement helpers over db.h (db.c), for every backend.
 */

/* Log what failed with the backend's message; returns XLICEN_E_DB. */
int store_dberr(struct store *s, const char *what);
/* printf into err (errlen bytes; nothing if err is NULL or errlen 0). */
void store_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Copy a TEXT column into a fixed buffer, truncating; NULL gives "". */
void store_col_copy(struct store_stmt *st, int col, char *dst,
    size_t dstlen);
/* Run a statement that returns no rows, then reset it.  0 or
 * XLICEN_E_DB (logged with what). */
int store_st_exec(struct store *s, enum store_st which, const char *what);

/*
 * Transactions (db.c, through the backend's ops; SQLite's are in
 * sqlite_db.c).  Every operation runs between store_begin
 * (or store_begin_light) and store_commit, or store_rollback on any
 * error: outside a batch BEGIN IMMEDIATE ... COMMIT, inside one a
 * savepoint of the batch's transaction.  Either way the heartbeats held
 * in memory are written first.  durable (store_begin_as): the operation
 * may grant a seat, so its batch is synced before its replies; light
 * ones (releases, expiries, heartbeats) only free seats or extend
 * leases.  Each returns 0 or XLICEN_E_DB.
 */
int store_begin_as(struct store *s, int durable);
int store_begin(struct store *s);
int store_begin_light(struct store *s);
int store_commit(struct store *s);
/* Undo the operation (nothing if the backend already rolled back, which
 * in a batch fails the whole batch). */
void store_rollback(struct store *s);

/*
 * Durability (sqlite_durable.c).
 */

/* The slot of lease id in the heartbeats held in memory, or the free
 * slot where it would go (the table has one: store_hb_put grows it). */
struct store_hb *store_hb_slot(struct store *s, const char *id);
/* Hold a heartbeat of lease id (32 hex digits, checked by the caller)
 * answered at `at` with its new expiry.  0 or XLICEN_E_NOMEM. */
int store_hb_put(struct store *s, const char *id, int64_t at,
    int64_t expires);
/* Write the heartbeats held in memory inside the caller's transaction.
 * 0 or XLICEN_E_DB. */
int store_hb_flush(struct store *s);
/* Before a read of expires_at: write them in a transaction of their own,
 * no fsync needed.  0 or XLICEN_E_DB. */
int store_hb_write(struct store *s);
/* Start the syncer and checkpointer for the database at path (nothing
 * for an in-memory or URI database, or when they cannot start: then
 * every durable commit syncs in the loop thread); stop them (and free
 * s->bg; nothing if NULL). */
void store_bg_start(struct store *s, const char *path);
void store_bg_stop(struct store *s);

/*
 * Audit trail (audit_trail.c).
 */

/* Append ev, chained to the last event, inside the caller's
 * transaction.  0, XLICEN_E_DB or an error of audit_event_hash. */
int store_event(struct store *s, const struct store_event *ev);
/* A column's text, or NULL for SQL NULL (valid until the next step). */
const char *store_col_text_or_null(struct store_stmt *st, int col);
struct audit_event;
/* An events row (columns in ST_EVENTS_ALL order) as the chain sees it.
 * The strings point into st: valid until its next step. */
void store_row_to_audit(struct store_stmt *st, struct audit_event *ae);

/*
 * Seats and leases (leases.c, checkout.c).
 */

/* The sweeps inside the caller's transaction: expired leases, orphans
 * past their grace, lingering seats past their time, each audited; *n
 * gets how many.  0 or XLICEN_E_DB. */
int store_sweep(struct store *s, int64_t now, int *n);
/* A new random lease id (STORE_LEASE_ID_LEN hex digits).  0 or
 * XLICEN_E_INTERNAL if getrandom() fails. */
int store_new_lease_id(char id[STORE_LEASE_ID_LEN + 1]);
/* v clamped into [0, UINT32_MAX]. */
uint32_t store_clamp_u32(int64_t v);
/* store_pool_dates and the other seat decisions: seats.h. */

#endif
