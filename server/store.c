/*
 * The SQLite store: license pools, leases and the audit trail behind
 * store.h.  One connection, opened in WAL mode with synchronous=FULL so a
 * committed grant survives kill -9 and power loss; every statement is
 * prepared once at open; every decision is one BEGIN IMMEDIATE transaction
 * that is rolled back on any error.
 *
 * Cost of one checkout (the common case, nothing to expire):
 *   statements  BEGIN IMMEDIATE, expiry SELECT (an empty range scan of
 *               leases_expires), pool SELECT (one row per licensed pool of
 *               the product, seats in use summed from the leases_pool
 *               index), INSERT lease, INSERT event, COMMIT: 6 steps.
 *               A denial skips the lease INSERT: 5.  Each expired lease
 *               found on the way adds one event INSERT, and one DELETE
 *               removes them all.
 *   fsyncs      one fdatasync() of the -wal file at COMMIT (WAL +
 *               synchronous=FULL).  Occasionally more: the first commit
 *               after the WAL restarts also syncs the new WAL header, and
 *               the automatic checkpoint (every ~1000 WAL pages, roughly
 *               every 160 grants) runs inside that COMMIT and syncs the
 *               WAL and the database file.  Measured with strace: 2000
 *               grants, 2057 fdatasync() calls.
 *   pages       a grant appends 6 pages to the WAL (lease row, its two
 *               indexes, event row, events_ts, sqlite_sequence); a denial
 *               3, a heartbeat 2, a release 6.  Denials, releases,
 *               heartbeats and expiries each commit, so each costs one
 *               fdatasync too; reads (status, counts, next expiry) none.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "license.h"
#include "log.h"
#include "schema.h"
#include "store.h"
#include "xlicen_errors.h"

/* How long a statement waits for another connection's lock (an admin
 * tool reading the file) before failing with XLICEN_E_DB. */
#define STORE_BUSY_MS		5000
#define STORE_LEASE_ID_LEN	32	/* hex digits: 16 random bytes */

enum store_st {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_EXPIRE_SEL,
	ST_EXPIRE_DEL,
	ST_POOLS_PRODUCT,
	ST_LEASE_INS,
	ST_EVENT_INS,
	ST_HB_UPDATE,
	ST_LEASE_GET,
	ST_LEASE_DEL,
	ST_POOL_ACTIVE_IDS,
	ST_POOL_UPSERT,
	ST_POOL_WITHDRAW,
	ST_STATUS_ALL,
	ST_STATUS_PRODUCT,
	ST_NEXT_EXPIRY,
	ST_COUNT_LEASES,
	ST__N
};

static const char *const store_sql[ST__N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_EXPIRE_SEL] =
	    "SELECT l.id, l.principal, l.host, l.display, p.product,"
	    " l.pool_id, l.count"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.expires_at <= ?1 ORDER BY l.expires_at, l.id",
	[ST_EXPIRE_DEL] = "DELETE FROM leases WHERE expires_at <= ?1",
	/* Only called after the expiry sweep of the same transaction, so
	 * every lease counted is live. */
	[ST_POOLS_PRODUCT] =
	    "SELECT p.id, p.ver_min, p.ver_max, p.seats, p.start, p.expires,"
	    " (SELECT COALESCE(SUM(l.count), 0) FROM leases AS l"
	    "  WHERE l.pool_id = p.id)"
	    " FROM pools AS p WHERE p.product = ?1 AND p.withdrawn = 0"
	    " ORDER BY p.id",
	[ST_LEASE_INS] =
	    "INSERT INTO leases (id, pool_id, principal, host, display, pid,"
	    " count, ttl_s, granted_at, heartbeat_at, expires_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
	[ST_EVENT_INS] =
	    "INSERT INTO events (ts, kind, principal, host, display, product,"
	    " version, lease_id, pool_id, count, code, detail)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_HB_UPDATE] =
	    "UPDATE leases SET heartbeat_at = ?2, expires_at = ?2 + ttl_s"
	    " WHERE id = ?1 AND principal = ?3 AND expires_at > ?2"
	    " RETURNING expires_at",
	[ST_LEASE_GET] =
	    "SELECT l.principal, l.expires_at, l.host, l.display, l.pool_id,"
	    " l.count, p.product"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.id = ?1",
	[ST_LEASE_DEL] = "DELETE FROM leases WHERE id = ?1",
	[ST_POOL_ACTIVE_IDS] = "SELECT id FROM pools WHERE withdrawn = 0",
	[ST_POOL_UPSERT] =
	    "INSERT INTO pools (vendor, product, ver_min, ver_max, serial,"
	    " seats, start, expires, customer, withdrawn, loaded_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10)"
	    " ON CONFLICT (vendor, product, serial, ver_min, ver_max)"
	    " DO UPDATE SET seats = excluded.seats, start = excluded.start,"
	    " expires = excluded.expires, customer = excluded.customer,"
	    " withdrawn = 0, loaded_at = excluded.loaded_at"
	    " RETURNING id",
	[ST_POOL_WITHDRAW] =
	    "UPDATE pools SET withdrawn = 1 WHERE id = ?1"
	    " RETURNING vendor, product, serial, ver_min, ver_max",
	/* Status does not sweep (it is read-only), so it skips leases that
	 * are due but not yet expired by the timer. */
	[ST_STATUS_ALL] =
	    "SELECT p.product, p.ver_min, p.ver_max, p.vendor, p.serial,"
	    " p.seats, p.start, p.expires,"
	    " (SELECT COALESCE(SUM(l.count), 0) FROM leases AS l"
	    "  WHERE l.pool_id = p.id AND l.expires_at > ?1)"
	    " FROM pools AS p WHERE p.withdrawn = 0"
	    " ORDER BY p.product, p.id",
	[ST_STATUS_PRODUCT] =
	    "SELECT p.product, p.ver_min, p.ver_max, p.vendor, p.serial,"
	    " p.seats, p.start, p.expires,"
	    " (SELECT COALESCE(SUM(l.count), 0) FROM leases AS l"
	    "  WHERE l.pool_id = p.id AND l.expires_at > ?1)"
	    " FROM pools AS p WHERE p.product = ?2 AND p.withdrawn = 0"
	    " ORDER BY p.id",
	[ST_NEXT_EXPIRY] = "SELECT MIN(expires_at) FROM leases",
	[ST_COUNT_LEASES] =
	    "SELECT COUNT(*), COALESCE(SUM(count), 0) FROM leases",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST__N];
};

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
};

static int
store_dberr(struct store *s, const char *what)
{
	log_msg(LOG_ERR, "store: %s: %s", what, sqlite3_errmsg(s->db));
	return XLICEN_E_DB;
}

static void
store_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
store_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Reset a statement and drop its bindings: a reset releases the read
 * snapshot (an unreset SELECT would pin the WAL and stop checkpoints), and
 * the bindings point into the caller's strings (SQLITE_STATIC), which must
 * not outlive the call.
 */
static void
st_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Bind a C string as TEXT with its explicit length; NULL binds NULL. */
static int
st_text(sqlite3_stmt *st, int idx, const char *v)
{
	size_t len;

	if (v == NULL)
		return sqlite3_bind_null(st, idx);
	len = strlen(v);
	if (len > INT32_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_text(st, idx, v, (int)len, SQLITE_STATIC);
}

/* Copy a TEXT column into a fixed buffer, truncating; NULL gives "". */
static void
col_copy(sqlite3_stmt *st, int col, char *dst, size_t dstlen)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

	if (dstlen == 0)
		return;
	if (v == NULL)
		len = 0;
	if (len > dstlen - 1)
		len = dstlen - 1;
	if (len > 0)
		memcpy(dst, v, len);
	dst[len] = '\0';
}

/* Run a statement that returns no rows. */
static int
st_exec(struct store *s, enum store_st which, const char *what)
{
	sqlite3_stmt *st = s->st[which];
	int rc = XLICEN_OK;

	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, what);
	st_done(st);
	return rc;
}

static int
store_begin(struct store *s)
{
	return st_exec(s, ST_BEGIN, "begin");
}

static int
store_commit(struct store *s)
{
	return st_exec(s, ST_COMMIT, "commit");
}

/* Some errors (I/O, full disk) already rolled back; then there is nothing
 * left to undo. */
static void
store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return;
	(void)st_exec(s, ST_ROLLBACK, "rollback");
}

/* Whether a pool's dates allow a grant at now: -1 not yet, 1 expired,
 * 0 usable.  Expired wins for a pool that is both (start after expiry
 * cannot come from a checked license, but the answer must be stable). */
static int
pool_dates(int64_t start, int64_t expires, int64_t now)
{
	if (expires != 0 && now >= expires)
		return 1;
	if (start != 0 && now < start)
		return -1;
	return 0;
}

static int
store_event(struct store *s, const struct store_event *ev)
{
	sqlite3_stmt *st = s->st[ST_EVENT_INS];
	int rc = XLICEN_OK, b = SQLITE_OK;

	b |= sqlite3_bind_int64(st, 1, ev->ts);
	b |= st_text(st, 2, ev->kind);
	b |= st_text(st, 3, ev->principal);
	b |= st_text(st, 4, ev->host);
	b |= st_text(st, 5, ev->display);
	b |= st_text(st, 6, ev->product);
	b |= st_text(st, 7, ev->version);
	b |= st_text(st, 8, ev->lease_id);
	b |= ev->pool_id != 0 ? sqlite3_bind_int64(st, 9, ev->pool_id) :
	    sqlite3_bind_null(st, 9);
	b |= ev->count != 0 ? sqlite3_bind_int64(st, 10, ev->count) :
	    sqlite3_bind_null(st, 10);
	/* Stored as the positive wire value, like DENY and ERROR carry it. */
	b |= sqlite3_bind_int(st, 11, -ev->code);
	b |= st_text(st, 12, ev->detail);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, "insert event");
	st_done(st);
	return rc;
}

/*
 * The expiry sweep, inside the caller's transaction: audit and delete
 * every lease whose expiry is <= now.  *n gets how many.
 */
static int
store_sweep(struct store *s, int64_t now, int *n)
{
	sqlite3_stmt *sel = s->st[ST_EXPIRE_SEL], *del = NULL;
	struct store_event ev;
	char id[STORE_LEASE_ID_LEN + 1];
	int rc = XLICEN_OK, src, found = 0;

	*n = 0;
	if (sqlite3_bind_int64(sel, 1, now) != SQLITE_OK) {
		rc = store_dberr(s, "expire: bind");
		goto out;
	}
	while ((src = sqlite3_step(sel)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof(ev));
		col_copy(sel, 0, id, sizeof(id));
		ev.ts = now;
		ev.kind = "expire";
		ev.lease_id = id;
		ev.principal = (const char *)sqlite3_column_text(sel, 1);
		ev.host = (const char *)sqlite3_column_text(sel, 2);
		ev.display = (const char *)sqlite3_column_text(sel, 3);
		ev.product = (const char *)sqlite3_column_text(sel, 4);
		ev.pool_id = sqlite3_column_int64(sel, 5);
		ev.count = sqlite3_column_int64(sel, 6);
		log_msg(LOG_INFO, "lease %s of %s for %s (%" PRId64
		    " seat(s)) expired", id, ev.principal ? ev.principal : "?",
		    ev.product ? ev.product : "?", ev.count);
		if ((rc = store_event(s, &ev)) != 0)
			goto out;
		found++;
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "expire: select");
		goto out;
	}
	st_done(sel);
	sel = NULL;
	if (found == 0)
		goto out;
	del = s->st[ST_EXPIRE_DEL];
	if (sqlite3_bind_int64(del, 1, now) != SQLITE_OK ||
	    sqlite3_step(del) != SQLITE_DONE) {
		rc = store_dberr(s, "expire: delete");
		goto out;
	}
	/* The SELECT and the DELETE ran in one transaction, so they saw the
	 * same rows. */
	*n = found;
out:
	st_done(sel);
	st_done(del);
	return rc;
}

static int
store_new_lease_id(char id[STORE_LEASE_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[STORE_LEASE_ID_LEN / 2];
	size_t got = 0, i;
	ssize_t r;

	while (got < sizeof(raw)) {
		r = getrandom(raw + got, sizeof(raw) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, "store: getrandom: %s",
			    strerror(errno));
			return XLICEN_E_INTERNAL;
		}
		got += (size_t)r;
	}
	for (i = 0; i < sizeof(raw); i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	id[STORE_LEASE_ID_LEN] = '\0';
	return XLICEN_OK;
}

static uint32_t
clamp_u32(int64_t v)
{
	if (v < 0)
		return 0;
	if (v > (int64_t)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)v;
}

/*
 * Opening.
 */

static int
open_exec(sqlite3 *db, const char *sql, const char *what, char *err,
    size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_seterr(err, errlen, "%s: %s", what,
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return XLICEN_E_DB;
	}
	return XLICEN_OK;
}

/* A one-off single-value query used only while opening. */
static int
open_query_int(sqlite3 *db, const char *sql, int64_t *v, char *text,
    size_t textlen, const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = XLICEN_E_DB;

	*v = 0;
	if (text != NULL && textlen > 0)
		text[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		store_seterr(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
		goto out;
	}
	*v = sqlite3_column_int64(st, 0);
	if (text != NULL)
		col_copy(st, 0, text, textlen);
	rc = XLICEN_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

static void
open_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static int
open_record_version(sqlite3 *db, const struct schema_migration *m,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = XLICEN_E_DB;

	if (sqlite3_prepare_v2(db, "INSERT INTO schema_version (version,"
	    " name, applied_at) VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
	    SQLITE_OK ||
	    sqlite3_bind_int(st, 1, m->version) != SQLITE_OK ||
	    st_text(st, 2, m->name) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)time(NULL)) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		store_seterr(err, errlen, "recording migration %s: %s",
		    m->name, sqlite3_errmsg(db));
		goto out;
	}
	rc = XLICEN_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * Apply every migration newer than the database, one transaction each.
 * BEGIN IMMEDIATE and re-reading the version inside it make two servers
 * started on one file at once apply each migration exactly once.
 */
static int
store_migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	const struct schema_migration *m;
	int64_t cur = 0;
	int known = 0, rc = XLICEN_E_DB;

	for (m = schema_migrations; m->version != 0; m++) {
		if (m->version <= known) {
			store_seterr(err, errlen, "embedded migration %s is "
			    "out of order (internal error)", m->name);
			return XLICEN_E_DB;
		}
		known = m->version;
	}

	if ((rc = open_exec(db, "BEGIN IMMEDIATE", "begin", err,
	    errlen)) != 0)
		goto out;
	if ((rc = open_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	    " applied_at INTEGER NOT NULL)", "creating schema_version", err,
	    errlen)) != 0)
		goto out;
	if ((rc = open_query_int(db, "SELECT COALESCE(MAX(version), 0)"
	    " FROM schema_version", &cur, NULL, 0, "reading schema_version",
	    err, errlen)) != 0)
		goto out;
	if (cur > known) {
		store_seterr(err, errlen, "%s has schema version %" PRId64
		    ", newer than the %d this gss-xlicend knows: refusing to "
		    "use it (run a newer server or restore a backup)", path,
		    cur, known);
		rc = XLICEN_E_DB;
		goto out;
	}
	if ((rc = open_exec(db, "COMMIT", "commit", err, errlen)) != 0)
		goto out;

	for (m = schema_migrations; m->version != 0; m++) {
		if (m->version <= cur)
			continue;
		if ((rc = open_exec(db, "BEGIN IMMEDIATE", "begin", err,
		    errlen)) != 0)
			goto out;
		if ((rc = open_query_int(db, "SELECT COALESCE(MAX(version), 0)"
		    " FROM schema_version", &cur, NULL, 0,
		    "reading schema_version", err, errlen)) != 0)
			goto out;
		if (m->version > cur) {
			char what[128];

			snprintf(what, sizeof(what), "migration %s", m->name);
			if ((rc = open_exec(db, m->sql, what, err,
			    errlen)) != 0 ||
			    (rc = open_record_version(db, m, err,
			    errlen)) != 0)
				goto out;
			log_msg(LOG_NOTICE, "store: %s: applied migration %s",
			    path, m->name);
		}
		if ((rc = open_exec(db, "COMMIT", "commit", err,
		    errlen)) != 0)
			goto out;
	}
	rc = XLICEN_OK;
out:
	if (rc != 0)
		open_rollback(db);
	return rc;
}

/* Connection settings; the pragmas that matter are read back because an
 * unsupported one is silently ignored. */
static int
store_configure(sqlite3 *db, char *err, size_t errlen)
{
	char mode[16];
	int64_t v;
	int rc;

	sqlite3_extended_result_codes(db, 1);
	/* No writable_schema or similar footguns; and never run SQL functions
	 * named by a (possibly tampered) schema. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_busy_timeout(db, STORE_BUSY_MS);

	if ((rc = open_query_int(db, "PRAGMA journal_mode = WAL", &v, mode,
	    sizeof(mode), "setting WAL mode", err, errlen)) != 0)
		return rc;
	/* "memory" is what an in-memory database answers; nothing to make
	 * durable there. */
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
		store_seterr(err, errlen, "cannot use WAL mode (journal mode "
		    "stays \"%s\")", mode);
		return XLICEN_E_DB;
	}
	/* FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on
	 * power loss, and a lost grant means an oversubscribed pool. */
	if ((rc = open_exec(db, "PRAGMA synchronous = FULL",
	    "setting synchronous", err, errlen)) != 0)
		return rc;
	if ((rc = open_exec(db, "PRAGMA foreign_keys = ON",
	    "enabling foreign keys", err, errlen)) != 0)
		return rc;
	if ((rc = open_query_int(db, "PRAGMA foreign_keys", &v, NULL, 0,
	    "reading foreign_keys", err, errlen)) != 0)
		return rc;
	if (v != 1) {
		store_seterr(err, errlen, "this SQLite does not enforce foreign "
		    "keys");
		return XLICEN_E_DB;
	}
	return XLICEN_OK;
}

/* SQLite creates files with mode 0644 less umask, and gives the -wal and
 * -shm files the database's mode; create it 0600 first so none of them is
 * ever readable by others. */
static int
store_precreate(const char *path, char *err, size_t errlen)
{
	int fd;

	if (path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0)
		return XLICEN_OK;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		store_seterr(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return XLICEN_E_DB;
	}
	close(fd);
	return XLICEN_OK;
}

int
store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *s = NULL;
	int rc = XLICEN_E_DB, i;

	if (out != NULL)
		*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || out == NULL) {
		store_seterr(err, errlen, "no database path");
		return XLICEN_E_INVALID;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		store_seterr(err, errlen, "out of memory");
		return XLICEN_E_NOMEM;
	}
	if ((rc = store_precreate(path, err, errlen)) != 0)
		goto out;
	rc = XLICEN_E_DB;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		store_seterr(err, errlen, "cannot open %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	/* SQLite quietly falls back to read-only; a license server that
	 * cannot record a grant must not start. */
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		store_seterr(err, errlen, "%s is read-only", path);
		goto out;
	}
	if ((rc = store_configure(s->db, err, errlen)) != 0)
		goto out;
	if ((rc = store_migrate(s->db, path, err, errlen)) != 0)
		goto out;
	for (i = 0; i < ST__N; i++) {
		if (sqlite3_prepare_v3(s->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			store_seterr(err, errlen, "preparing statement %d: %s",
			    i, sqlite3_errmsg(s->db));
			rc = XLICEN_E_DB;
			goto out;
		}
	}
	*out = s;
	s = NULL;
	rc = XLICEN_OK;
out:
	store_close(s);
	return rc;
}

void
store_close(struct store *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < ST__N; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK) {
		log_msg(LOG_ERR, "store: close: %s", sqlite3_errmsg(s->db));
		sqlite3_close_v2(s->db);
	}
	free(s);
}

/*
 * Pools.
 */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
ids_has(const int64_t *ids, size_t n, int64_t id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof(*ids), cmp_i64) != NULL;
}

/* The ids of the pools not withdrawn, sorted. */
static int
store_active_ids(struct store *s, int64_t **out, size_t *n)
{
	sqlite3_stmt *st = s->st[ST_POOL_ACTIVE_IDS];
	int64_t *ids = NULL, *tmp;
	size_t len = 0, cap = 0;
	int rc = XLICEN_OK, src;

	*out = NULL;
	*n = 0;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? 2 * cap : 16;
			if ((tmp = reallocarray(ids, cap, sizeof(*ids))) ==
			    NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			ids = tmp;
		}
		ids[len++] = sqlite3_column_int64(st, 0);
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "sync: list pools");
		goto out;
	}
	if (len > 0)
		qsort(ids, len, sizeof(*ids), cmp_i64);
	*out = ids;
	*n = len;
	ids = NULL;
out:
	st_done(st);
	free(ids);
	return rc;
}

static int
store_upsert_pool(struct store *s, const struct license *l, int64_t now,
    int64_t *id)
{
	sqlite3_stmt *st = s->st[ST_POOL_UPSERT];
	int rc = XLICEN_OK, b = SQLITE_OK;

	*id = 0;
	b |= st_text(st, 1, l->vendor);
	b |= st_text(st, 2, l->product);
	b |= st_text(st, 3, l->ver_min);
	b |= st_text(st, 4, l->ver_max);
	b |= st_text(st, 5, l->serial);
	b |= sqlite3_bind_int64(st, 6, l->seats);
	b |= sqlite3_bind_int64(st, 7, l->start);
	b |= sqlite3_bind_int64(st, 8, l->expires);
	b |= st_text(st, 9, l->customer);
	b |= sqlite3_bind_int64(st, 10, now);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		rc = store_dberr(s, "sync: store pool");
		goto out;
	}
	*id = sqlite3_column_int64(st, 0);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, "sync: store pool");
out:
	st_done(st);
	return rc;
}

static int
store_withdraw_pool(struct store *s, int64_t id)
{
	sqlite3_stmt *st = s->st[ST_POOL_WITHDRAW];
	int rc = XLICEN_OK;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = store_dberr(s, "sync: withdraw pool");
		goto out;
	}
	log_msg(LOG_NOTICE, "pool %" PRId64 " withdrawn (vendor %s product %s "
	    "serial %s versions %s-%s); its leases stay until released", id,
	    (const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1),
	    (const char *)sqlite3_column_text(st, 2),
	    (const char *)sqlite3_column_text(st, 3),
	    (const char *)sqlite3_column_text(st, 4));
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, "sync: withdraw pool");
out:
	st_done(st);
	return rc;
}

int
store_sync_pools(struct store *s, const struct license *lics, size_t n,
    int64_t now)
{
	struct store_event ev;
	int64_t *before = NULL, *seen = NULL;
	size_t nbefore = 0, nnew = 0, nwithdrawn = 0, i;
	char detail[128];
	int rc, in_tx = 0;

	if (s == NULL || (lics == NULL && n > 0))
		return XLICEN_E_INVALID;
	if (n > 0 && (seen = calloc(n, sizeof(*seen))) == NULL)
		return XLICEN_E_NOMEM;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_active_ids(s, &before, &nbefore)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = store_upsert_pool(s, &lics[i], now, &seen[i])) != 0)
			goto out;
		if (!ids_has(before, nbefore, seen[i]))
			nnew++;
	}
	if (n > 0)
		qsort(seen, n, sizeof(*seen), cmp_i64);
	for (i = 0; i < nbefore; i++) {
		if (ids_has(seen, n, before[i]))
			continue;
		if ((rc = store_withdraw_pool(s, before[i])) != 0)
			goto out;
		nwithdrawn++;
	}
	/* nnew counts a license listed twice in lics twice; harmless in a
	 * log line. */
	snprintf(detail, sizeof(detail), "licenses=%zu new=%zu withdrawn=%zu",
	    n, nnew, nwithdrawn);
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "reload";
	ev.detail = detail;
	if ((rc = store_event(s, &ev)) != 0)
		goto out;
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	log_msg(LOG_INFO, "store: pools synced: %s", detail);
out:
	if (in_tx)
		store_rollback(s);
	free(before);
	free(seen);
	return rc;
}

/*
 * Leases.
 */

int
store_checkout(struct store *s, const struct store_checkout_req *req,
    struct store_grant *out)
{
	sqlite3_stmt *pools = NULL, *ins = NULL;
	struct store_event ev;
	char lease_id[STORE_LEASE_ID_LEN + 1], detail[128];
	const char *vmin, *vmax;
	int64_t id, seats, start, expires, used, best = 0;
	int64_t total = 0, in_use = 0, expiry;
	int any_product = 0, any_cover = 0, any_usable = 0, any_expired = 0;
	int rc, deny = 0, in_tx = 0, nexp, src, b = SQLITE_OK;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || req == NULL || out == NULL ||
	    req->principal == NULL || req->principal[0] == '\0' ||
	    req->product == NULL || req->version == NULL ||
	    req->ttl_s == 0)
		return XLICEN_E_INVALID;
	if (req->count == 0 || req->count > LIMIT_SEATS)
		return XLICEN_E_COUNT;
	if (!license_version_valid(req->version))
		return XLICEN_E_BAD_VALUE;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_sweep(s, req->now, &nexp)) != 0)
		goto out;

	/*
	 * Pool choice: the first usable covering pool (lowest id, i.e. the
	 * longest licensed) with enough free seats.  First fit rather than
	 * most-free keeps later pools whole for multi-seat checkouts, which
	 * must fit in one pool, and makes grants predictable.
	 */
	pools = s->st[ST_POOLS_PRODUCT];
	if (st_text(pools, 1, req->product) != SQLITE_OK) {
		rc = store_dberr(s, "checkout: bind");
		goto out;
	}
	while ((src = sqlite3_step(pools)) == SQLITE_ROW) {
		any_product = 1;
		id = sqlite3_column_int64(pools, 0);
		vmin = (const char *)sqlite3_column_text(pools, 1);
		vmax = (const char *)sqlite3_column_text(pools, 2);
		seats = sqlite3_column_int64(pools, 3);
		start = sqlite3_column_int64(pools, 4);
		expires = sqlite3_column_int64(pools, 5);
		used = sqlite3_column_int64(pools, 6);
		if (vmin == NULL || vmax == NULL ||
		    license_version_cmp(req->version, vmin) < 0 ||
		    license_version_cmp(req->version, vmax) > 0)
			continue;
		any_cover = 1;
		switch (pool_dates(start, expires, req->now)) {
		case 1:
			any_expired = 1;
			continue;
		case -1:
			continue;
		}
		any_usable = 1;
		total += seats;
		in_use += used;
		/* A reissued license may have fewer seats than are leased:
		 * seats - used can be negative. */
		if (best == 0 && seats - used >= (int64_t)req->count)
			best = id;
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "checkout: select pools");
		goto out;
	}
	st_done(pools);
	pools = NULL;

	memset(&ev, 0, sizeof(ev));
	ev.ts = req->now;
	ev.principal = req->principal;
	ev.host = req->host;
	ev.display = req->display;
	ev.product = req->product;
	ev.version = req->version;
	ev.count = req->count;
	if (!any_product)
		deny = XLICEN_E_NO_PRODUCT;
	else if (!any_cover)
		deny = XLICEN_E_NO_VERSION;
	else if (!any_usable)
		deny = any_expired ? XLICEN_E_EXPIRED : XLICEN_E_NOT_YET;
	else if (best == 0)
		deny = XLICEN_E_NO_SEATS;

	if (deny != 0) {
		if (deny == XLICEN_E_NO_SEATS) {
			snprintf(detail, sizeof(detail), "in use %" PRId64
			    " of %" PRId64, in_use, total);
			ev.detail = detail;
		}
		ev.kind = "deny";
		ev.code = deny;
		if ((rc = store_event(s, &ev)) != 0 ||
		    (rc = store_commit(s)) != 0)
			goto out;
		in_tx = 0;
		if (deny == XLICEN_E_NO_SEATS) {
			out->in_use = clamp_u32(in_use);
			out->total = clamp_u32(total);
		}
		rc = deny;
		goto out;
	}

	if ((rc = store_new_lease_id(lease_id)) != 0)
		goto out;
	expiry = req->now + (int64_t)req->ttl_s;
	ins = s->st[ST_LEASE_INS];
	b |= st_text(ins, 1, lease_id);
	b |= sqlite3_bind_int64(ins, 2, best);
	b |= st_text(ins, 3, req->principal);
	b |= st_text(ins, 4, req->host ? req->host : "");
	b |= st_text(ins, 5, req->display ? req->display : "");
	b |= sqlite3_bind_int64(ins, 6, req->pid);
	b |= sqlite3_bind_int64(ins, 7, req->count);
	b |= sqlite3_bind_int64(ins, 8, req->ttl_s);
	b |= sqlite3_bind_int64(ins, 9, req->now);
	b |= sqlite3_bind_int64(ins, 10, expiry);
	if (b != SQLITE_OK || sqlite3_step(ins) != SQLITE_DONE) {
		rc = store_dberr(s, "checkout: insert lease");
		goto out;
	}
	st_done(ins);
	ins = NULL;
	ev.kind = "grant";
	ev.lease_id = lease_id;
	ev.pool_id = best;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;

	memcpy(out->lease_id, lease_id, sizeof(lease_id));
	out->expires = expiry;
	out->in_use = clamp_u32(in_use + (int64_t)req->count);
	out->total = clamp_u32(total);
	rc = XLICEN_OK;
out:
	st_done(pools);
	st_done(ins);
	if (in_tx)
		store_rollback(s);
	return rc;
}

/*
 * Why a lease could not be touched: NO_LEASE if it is gone or past its
 * expiry, else NOT_OWNER (which is audited: someone tried another
 * principal's lease).  Called inside the caller's transaction.
 */
static int
store_lease_refused(struct store *s, const char *principal,
    const char *lease_id, int64_t now, const char *op)
{
	sqlite3_stmt *st = s->st[ST_LEASE_GET];
	struct store_event ev;
	char owner[LIMIT_STRING + 1], product[LICENSE_NAME_MAX + 1];
	int rc, src;

	if (st_text(st, 1, lease_id) != SQLITE_OK) {
		rc = store_dberr(s, "lease: bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE ||
	    (src == SQLITE_ROW && sqlite3_column_int64(st, 1) <= now)) {
		rc = XLICEN_E_NO_LEASE;
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = store_dberr(s, "lease: select");
		goto out;
	}
	col_copy(st, 0, owner, sizeof(owner));
	col_copy(st, 6, product, sizeof(product));
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "deny";
	ev.principal = principal;
	ev.product = product;
	ev.lease_id = lease_id;
	ev.pool_id = sqlite3_column_int64(st, 4);
	ev.code = XLICEN_E_NOT_OWNER;
	ev.detail = op;
	st_done(st);
	st = NULL;
	log_msg(LOG_NOTICE, "%s refused: %s tried lease %s of %s", op,
	    principal, lease_id, owner);
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	rc = XLICEN_E_NOT_OWNER;
out:
	st_done(st);
	return rc;
}

int
store_heartbeat(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int64_t *expires)
{
	sqlite3_stmt *st = NULL;
	int64_t exp = 0;
	int rc, in_tx = 0, src, b = SQLITE_OK;

	if (expires != NULL)
		*expires = 0;
	if (s == NULL || principal == NULL || lease_id == NULL)
		return XLICEN_E_INVALID;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	/* The common case in one statement; only a refusal looks closer. */
	st = s->st[ST_HB_UPDATE];
	b |= st_text(st, 1, lease_id);
	b |= sqlite3_bind_int64(st, 2, now);
	b |= st_text(st, 3, principal);
	if (b != SQLITE_OK) {
		rc = store_dberr(s, "heartbeat: bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		exp = sqlite3_column_int64(st, 0);
		src = sqlite3_step(st);
	} else if (src == SQLITE_DONE) {
		st_done(st);
		st = NULL;
		rc = store_lease_refused(s, principal, lease_id, now,
		    "heartbeat");
		if (rc == XLICEN_E_NOT_OWNER)
			in_tx = 0;	/* committed its audit record */
		goto out;
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "heartbeat: update");
		goto out;
	}
	st_done(st);
	st = NULL;
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (expires != NULL)
		*expires = exp;
out:
	st_done(st);
	if (in_tx)
		store_rollback(s);
	return rc;
}

int
store_release(struct store *s, const char *principal,
    const char *lease_id, int64_t now)
{
	sqlite3_stmt *get = NULL, *del = NULL;
	struct store_event ev;
	char owner[LIMIT_STRING + 1], product[LICENSE_NAME_MAX + 1];
	char host[LIMIT_STRING + 1], display[LIMIT_STRING + 1];
	int rc, in_tx = 0, src;

	if (s == NULL || principal == NULL || lease_id == NULL)
		return XLICEN_E_INVALID;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	get = s->st[ST_LEASE_GET];
	if (st_text(get, 1, lease_id) != SQLITE_OK) {
		rc = store_dberr(s, "release: bind");
		goto out;
	}
	src = sqlite3_step(get);
	if (src == SQLITE_DONE || (src == SQLITE_ROW &&
	    (sqlite3_column_int64(get, 1) <= now ||
	    strcmp((const char *)sqlite3_column_text(get, 0), principal) !=
	    0))) {
		st_done(get);
		get = NULL;
		rc = store_lease_refused(s, principal, lease_id, now,
		    "release");
		if (rc == XLICEN_E_NOT_OWNER)
			in_tx = 0;
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = store_dberr(s, "release: select");
		goto out;
	}
	col_copy(get, 0, owner, sizeof(owner));
	col_copy(get, 2, host, sizeof(host));
	col_copy(get, 3, display, sizeof(display));
	col_copy(get, 6, product, sizeof(product));
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "release";
	ev.principal = principal;
	ev.host = host;
	ev.display = display;
	ev.product = product;
	ev.lease_id = lease_id;
	ev.pool_id = sqlite3_column_int64(get, 4);
	ev.count = sqlite3_column_int64(get, 5);
	st_done(get);
	get = NULL;

	del = s->st[ST_LEASE_DEL];
	if (st_text(del, 1, lease_id) != SQLITE_OK ||
	    sqlite3_step(del) != SQLITE_DONE) {
		rc = store_dberr(s, "release: delete");
		goto out;
	}
	st_done(del);
	del = NULL;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
out:
	st_done(get);
	st_done(del);
	if (in_tx)
		store_rollback(s);
	return rc;
}

int
store_expire(struct store *s, int64_t now, int *n)
{
	int rc, in_tx = 0, found = 0;

	if (n != NULL)
		*n = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_sweep(s, now, &found)) != 0 ||
	    (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (n != NULL)
		*n = found;
out:
	if (in_tx)
		store_rollback(s);
	return rc;
}

int64_t
store_next_expiry(struct store *s)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (s == NULL)
		return 0;
	st = s->st[ST_NEXT_EXPIRY];
	if (sqlite3_step(st) != SQLITE_ROW)
		(void)store_dberr(s, "next expiry");
	else if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	st_done(st);
	return v;
}

/*
 * Status.
 */

int
store_status(struct store *s, const char *product, int64_t now,
    struct store_pool_status **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct store_pool_status *v = NULL, *tmp, *p;
	char vmin[LICENSE_VERSION_MAX + 1], vmax[LICENSE_VERSION_MAX + 1];
	size_t len = 0, cap = 0;
	int rc = XLICEN_OK, src, b = SQLITE_OK;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL)
		return XLICEN_E_INVALID;

	st = s->st[product != NULL ? ST_STATUS_PRODUCT : ST_STATUS_ALL];
	b |= sqlite3_bind_int64(st, 1, now);
	if (product != NULL)
		b |= st_text(st, 2, product);
	if (b != SQLITE_OK) {
		rc = store_dberr(s, "status: bind");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? 2 * cap : 8;
			if ((tmp = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			v = tmp;
		}
		p = &v[len++];
		memset(p, 0, sizeof(*p));
		col_copy(st, 0, p->product, sizeof(p->product));
		col_copy(st, 1, vmin, sizeof(vmin));
		col_copy(st, 2, vmax, sizeof(vmax));
		snprintf(p->versions, sizeof(p->versions), "%s-%s", vmin,
		    vmax);
		col_copy(st, 3, p->vendor, sizeof(p->vendor));
		col_copy(st, 4, p->serial, sizeof(p->serial));
		p->total = clamp_u32(sqlite3_column_int64(st, 5));
		p->start = sqlite3_column_int64(st, 6);
		p->expires = sqlite3_column_int64(st, 7);
		p->in_use = clamp_u32(sqlite3_column_int64(st, 8));
		switch (pool_dates(p->start, p->expires, now)) {
		case 1:
			p->state = STORE_POOL_EXPIRED;
			break;
		case -1:
			p->state = STORE_POOL_NOT_YET;
			break;
		default:
			p->state = STORE_POOL_ACTIVE;
			break;
		}
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "status: select");
		goto out;
	}
	*out = v;
	*n = len;
	v = NULL;
out:
	st_done(st);
	free(v);
	return rc;
}

int
store_count_leases(struct store *s, int64_t *leases, int64_t *seats)
{
	sqlite3_stmt *st;
	int rc = XLICEN_OK;

	if (leases != NULL)
		*leases = 0;
	if (seats != NULL)
		*seats = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	st = s->st[ST_COUNT_LEASES];
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_dberr(s, "count leases");
		goto out;
	}
	if (leases != NULL)
		*leases = sqlite3_column_int64(st, 0);
	if (seats != NULL)
		*seats = sqlite3_column_int64(st, 1);
out:
	st_done(st);
	return rc;
}
