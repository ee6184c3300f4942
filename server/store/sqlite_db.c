/*
 * The SQLite connection of the store: the statement helpers every part
 * uses (bind, step, reset, column copy), the per-operation transactions
 * (inside a group-commit batch or not), and opening: the lock file, the
 * PRAGMAs, the numbered migrations of schema/, the audit hash backfill,
 * preparing every statement of sqlite_sql.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "audit.h"
#include "log.h"
#include "schema.h"
#include "store.h"
#include "sqlite_int.h"
#include "xlicen_errors.h"

/*
 * The statements: db.h's operations on SQLite's API.  The handle is
 * struct store_sqlite_stmt, allocated once per statement at open.
 */
struct store_sqlite_stmt {
	struct store_stmt base;
	sqlite3_stmt *st;
};

static inline sqlite3_stmt *
sqlite_st(struct store_stmt *st)
{
	return ((struct store_sqlite_stmt *)(void *)st)->st;
}

static int
sqlite_bind_int64(struct store_stmt *st, int idx, int64_t v)
{
	return sqlite3_bind_int64(sqlite_st(st), idx, v) == SQLITE_OK ? 0 :
	    XLICEN_E_DB;
}

/* A C string as TEXT with its explicit length; NULL binds NULL.  Not
 * copied (SQLITE_STATIC): store_st_done drops it. */
static int
sqlite_bind_text(struct store_stmt *st, int idx, const char *v)
{
	size_t len;

	if (v == NULL)
		return sqlite3_bind_null(sqlite_st(st), idx) == SQLITE_OK ? 0 :
		    XLICEN_E_DB;
	len = strlen(v);
	if (len > INT32_MAX)
		return XLICEN_E_DB;
	return sqlite3_bind_text(sqlite_st(st), idx, v, (int)len,
	    SQLITE_STATIC) == SQLITE_OK ? 0 : XLICEN_E_DB;
}

static int
sqlite_bind_null(struct store_stmt *st, int idx)
{
	return sqlite3_bind_null(sqlite_st(st), idx) == SQLITE_OK ? 0 :
	    XLICEN_E_DB;
}

static int
sqlite_bind_blob(struct store_stmt *st, int idx, const void *v, size_t len)
{
	if (len > INT32_MAX)
		return XLICEN_E_DB;
	return sqlite3_bind_blob(sqlite_st(st), idx, v, (int)len,
	    SQLITE_STATIC) == SQLITE_OK ? 0 : XLICEN_E_DB;
}

static int
sqlite_step(struct store_stmt *st)
{
	switch (sqlite3_step(sqlite_st(st))) {
	case SQLITE_ROW:
		return STORE_ROW;
	case SQLITE_DONE:
		return STORE_DONE;
	default:
		return XLICEN_E_DB;
	}
}

static int64_t
sqlite_col_int64(struct store_stmt *st, int col)
{
	return sqlite3_column_int64(sqlite_st(st), col);
}

static const char *
sqlite_col_text(struct store_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(sqlite_st(st), col);
}

static const void *
sqlite_col_blob(struct store_stmt *st, int col)
{
	return sqlite3_column_blob(sqlite_st(st), col);
}

static size_t
sqlite_col_bytes(struct store_stmt *st, int col)
{
	return (size_t)sqlite3_column_bytes(sqlite_st(st), col);
}

static enum store_type
sqlite_col_type(struct store_stmt *st, int col)
{
	_Static_assert(STORE_T_INTEGER == SQLITE_INTEGER &&
	    STORE_T_REAL == SQLITE_FLOAT && STORE_T_TEXT == SQLITE_TEXT &&
	    STORE_T_BLOB == SQLITE_BLOB && STORE_T_NULL == SQLITE_NULL,
	    "store_type is SQLite's datatype codes");
	return (enum store_type)sqlite3_column_type(sqlite_st(st), col);
}

/* The connection's count, which is the last statement's that changed
 * rows: read right after that statement's last step. */
static int64_t
sqlite_changes(struct store_stmt *st)
{
	return sqlite3_changes(sqlite3_db_handle(sqlite_st(st)));
}

/*
 * A reset releases the read snapshot (an unreset SELECT would pin the WAL
 * and stop checkpoints), and the bindings point into the caller's strings
 * (SQLITE_STATIC), which must not outlive the call.
 */
static void
sqlite_done(struct store_stmt *st)
{
	sqlite3_reset(sqlite_st(st));
	sqlite3_clear_bindings(sqlite_st(st));
}

static const char *
sqlite_errmsg(struct store *s)
{
	return sqlite3_errmsg(store_sqlite_db(s));
}

/* PRAGMA synchronous, which SQLite lets change only between
 * transactions. */
static int
store_sync_mode(struct store *s, int full)
{
	int rc;

	if (s->sync_normal == !full)
		return XLICEN_OK;
	if ((rc = store_st_exec(s, full ? ST_SYNC_FULL : ST_SYNC_NORMAL,
	    "synchronous")) == 0)
		s->sync_normal = !full;
	return rc;
}

/*
 * One operation's transaction.  Outside a batch: BEGIN IMMEDIATE ...
 * COMMIT.  Inside one: a savepoint of the batch's transaction, so that a
 * failing operation undoes only itself while the loop commits them all at
 * once (one fsync) before any of their replies goes out.  Either way the
 * heartbeats answered from memory are written first, so that whatever
 * reads expires_at sees them.
 *
 * durable: the operation may grant a seat (or record what must survive a
 * power loss), so its batch must be synced before its replies: by the
 * syncer (the batch gets a ticket), or without one by committing with
 * synchronous = FULL.  The others (releases, expiries, heartbeats) only
 * free seats or extend leases; were their commit lost with the power, a
 * seat would stay taken until its lease expires, never be given twice.
 * They commit with synchronous = NORMAL, without an fsync of their own.
 */
static int
sqlite_begin(struct store *s, int durable)
{
	int rc;

	if (!s->batching) {
		if ((rc = store_carry_end(s)) != 0 ||
		    (rc = store_sync_mode(s, durable)) != 0 ||
		    (rc = store_st_exec(s, ST_BEGIN, "begin")) != 0)
			return rc;
		if ((rc = store_hb_flush(s)) != 0 &&
		    !sqlite3_get_autocommit(store_sqlite_db(s)))
			(void)store_st_exec(s, ST_ROLLBACK, "rollback");
		return rc;
	}
	if (s->batch_failed)
		return XLICEN_E_DB;
	if (s->in_batch && durable && !s->batch_full) {
		if (s->bg != NULL) {
			/* The syncer makes it durable, whatever the mode. */
			s->batch_full = 1;
		} else {
			/* What the batch did so far needs no fsync: commit it
			 * as it is and go on in a transaction that gets one. */
			if ((rc = store_st_exec(s, ST_COMMIT, "commit")) != 0) {
				s->batch_failed = 1;
				return rc;
			}
			s->in_batch = 0;
		}
	}
	if (!s->in_batch) {
		if ((rc = store_sync_mode(s, durable && s->bg == NULL)) != 0 ||
		    (rc = store_st_exec(s, ST_BEGIN, "begin")) != 0)
			return rc;
		s->in_batch = 1;
		s->batch_full = durable;
	}
	if ((rc = store_hb_flush(s)) != 0) {
		s->batch_failed = 1;
		return rc;
	}
	return store_st_exec(s, ST_SAVEPOINT, "savepoint");
}

static int
sqlite_commit(struct store *s)
{
	if (s->batching)
		return store_st_exec(s, ST_RELEASE_SP, "release savepoint");
	return store_st_exec(s, ST_COMMIT, "commit");
}

/* Some errors (I/O, full disk) already rolled back; then there is nothing
 * left to undo -- in a batch, nothing of the whole batch. */
static void
sqlite_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(store_sqlite_db(s))) {
		if (s->in_batch) {
			s->in_batch = 0;
			s->batch_failed = 1;
		}
		return;
	}
	if (s->batching) {
		(void)store_st_exec(s, ST_ROLLBACK_SP, "rollback to savepoint");
		(void)store_st_exec(s, ST_RELEASE_SP, "release savepoint");
		return;
	}
	(void)store_st_exec(s, ST_ROLLBACK, "rollback");
}

const struct store_db_ops store_sqlite_ops = {
	.name = "sqlite",
	.bind_int64 = sqlite_bind_int64,
	.bind_text = sqlite_bind_text,
	.bind_null = sqlite_bind_null,
	.bind_blob = sqlite_bind_blob,
	.step = sqlite_step,
	.col_int64 = sqlite_col_int64,
	.col_text = sqlite_col_text,
	.col_blob = sqlite_col_blob,
	.col_bytes = sqlite_col_bytes,
	.col_type = sqlite_col_type,
	.changes = sqlite_changes,
	.done = sqlite_done,
	.errmsg = sqlite_errmsg,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.batch_begin = store_sqlite_batch_begin,
	.batch_end = store_sqlite_batch_end,
	.close = store_sqlite_close,
};

/*
 * Opening.
 */

static int
store_open_exec(sqlite3 *db, const char *sql, const char *what, char *err,
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
store_open_query_int(sqlite3 *db, const char *sql, int64_t *v, char *text,
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
	if (text != NULL && textlen > 0) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(text, textlen, "%s", t != NULL ? (const char *)t : "");
	}
	rc = XLICEN_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

static void
store_open_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static int
store_open_record_version(sqlite3 *db, const struct schema_migration *m,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = XLICEN_E_DB;

	if (sqlite3_prepare_v2(db, "INSERT INTO schema_version (version,"
	    " name, applied_at) VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
	    SQLITE_OK ||
	    sqlite3_bind_int(st, 1, m->version) != SQLITE_OK ||
	    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC) != SQLITE_OK ||
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

	if ((rc = store_open_exec(db, "BEGIN IMMEDIATE", "begin", err,
	    errlen)) != 0)
		goto out;
	if ((rc = store_open_exec(db,
	    "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	    " applied_at INTEGER NOT NULL)", "creating schema_version", err,
	    errlen)) != 0)
		goto out;
	if ((rc = store_open_query_int(db, "SELECT COALESCE(MAX(version), 0)"
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
	if ((rc = store_open_exec(db, "COMMIT", "commit", err, errlen)) != 0)
		goto out;

	for (m = schema_migrations; m->version != 0; m++) {
		if (m->version <= cur)
			continue;
		if ((rc = store_open_exec(db, "BEGIN IMMEDIATE", "begin", err,
		    errlen)) != 0)
			goto out;
		if ((rc = store_open_query_int(db,
		    "SELECT COALESCE(MAX(version), 0) FROM schema_version", &cur, NULL, 0,
		    "reading schema_version", err, errlen)) != 0)
			goto out;
		if (m->version > cur) {
			char what[128];

			snprintf(what, sizeof(what), "migration %s", m->name);
			if ((rc = store_open_exec(db, m->sql, what, err,
			    errlen)) != 0 ||
			    (rc = store_open_record_version(db, m, err,
			    errlen)) != 0)
				goto out;
			log_msg(LOG_NOTICE, "store: %s: applied migration %s",
			    path, m->name);
		}
		if ((rc = store_open_exec(db, "COMMIT", "commit", err,
		    errlen)) != 0)
			goto out;
	}
	rc = XLICEN_OK;
out:
	if (rc != 0)
		store_open_rollback(db);
	return rc;
}

/*
 * Events written before the hash chain existed (migration 0002) get their
 * hashes, in id order, once; the trigger of 0002 allows exactly this
 * update.  From then on every row is written with its hash.
 */
static int
store_backfill_hashes(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	struct store_sqlite_stmt row = { { &store_sqlite_ops }, NULL };
	struct audit_event ae;
	uint8_t prev[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	int have = 0, rc = XLICEN_E_DB, src, n = 0;
	int64_t missing = 0;

	if ((rc = store_open_query_int(db,
	    "SELECT COUNT(*) FROM events WHERE hash IS NULL", &missing, NULL, 0, "counting unhashed events", err,
	    errlen)) != 0 || missing == 0)
		return rc;
	rc = XLICEN_E_DB;
	if (store_open_exec(db, "BEGIN IMMEDIATE", "begin", err, errlen) != 0)
		return XLICEN_E_DB;
	if (sqlite3_prepare_v2(db, "SELECT id, ts, kind, principal, host,"
	    " display, product, version, lease_id, pool_id, count, code,"
	    " detail, seats, hash FROM events ORDER BY id", -1, &sel, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE events SET hash = ?2 WHERE id = ?1",
	    -1, &upd, NULL) != SQLITE_OK) {
		store_seterr(err, errlen, "hash chain: %s", sqlite3_errmsg(db));
		goto out;
	}
	/* Updating only the hash column of the row just read, which no
	 * index covers, does not disturb the scan. */
	while ((src = sqlite3_step(sel)) == SQLITE_ROW) {
		if (sqlite3_column_type(sel, 14) == SQLITE_BLOB &&
		    sqlite3_column_bytes(sel, 14) == AUDIT_HASH_LEN) {
			memcpy(prev, sqlite3_column_blob(sel, 14),
			    AUDIT_HASH_LEN);
			have = 1;
			continue;
		}
		row.st = sel;
		store_row_to_audit(&row.base, &ae);
		if (audit_event_hash(have ? prev : NULL, &ae, h) != 0) {
			store_seterr(err, errlen, "hash chain: hashing failed");
			goto out;
		}
		if (sqlite3_bind_int64(upd, 1, ae.id) != SQLITE_OK ||
		    sqlite3_bind_blob(upd, 2, h, AUDIT_HASH_LEN,
		    SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_step(upd) != SQLITE_DONE) {
			store_seterr(err, errlen, "hash chain: %s",
			    sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(upd);
		memcpy(prev, h, sizeof(prev));
		have = 1;
		n++;
	}
	if (src != SQLITE_DONE) {
		store_seterr(err, errlen, "hash chain: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sel = upd = NULL;
	if (store_open_exec(db, "COMMIT", "commit", err, errlen) != 0)
		goto out;
	log_msg(LOG_NOTICE, "store: audit hash chain: %d earlier event(s) "
	    "hashed", n);
	rc = XLICEN_OK;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	if (rc != 0)
		store_open_rollback(db);
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

	if ((rc = store_open_query_int(db, "PRAGMA journal_mode = WAL", &v,
	    mode, sizeof(mode), "setting WAL mode", err, errlen)) != 0)
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
	if ((rc = store_open_exec(db, "PRAGMA synchronous = FULL",
	    "setting synchronous", err, errlen)) != 0)
		return rc;
	if ((rc = store_open_exec(db, "PRAGMA foreign_keys = ON",
	    "enabling foreign keys", err, errlen)) != 0)
		return rc;
	if ((rc = store_open_query_int(db, "PRAGMA foreign_keys", &v, NULL, 0,
	    "reading foreign_keys", err, errlen)) != 0)
		return rc;
	if (v != 1) {
		store_seterr(err, errlen, "this SQLite does not enforce foreign "
		    "keys");
		return XLICEN_E_DB;
	}
	return XLICEN_OK;
}

/*
 * One server per SQLite database: two would each count the seats in use
 * and hand out the same free seat.  SQLite's own locks are POSIX locks on
 * the database file, which a process loses when it closes any descriptor
 * of that file, so the lock is taken on a file of its own beside it,
 * PATH-lock, with flock(2), which belongs to the open file description:
 * held until store_close (or the process's end, kill -9 included), never
 * dropped by another descriptor.  The holder's pid is written in the file
 * so that the refusal can name it.  The file is not removed at close (a
 * next server may already have it open).  Not done for :memory: and URI
 * names; a PostgreSQL store shares its database on purpose.
 */

/* The lock file's path for the database at path into lpath; false if
 * there is none (or it does not fit). */
static bool
store_lock_path(const char *path, char *lpath, size_t lpathlen)
{
	if (path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0)
		return 0;
	return snprintf(lpath, lpathlen, "%s-lock", path) < (int)lpathlen;
}

/* The refusal: another server holds lpath (fd, open on it). */
static void
store_lock_busy(int fd, const char *lpath, char *err, size_t errlen)
{
	char pidtxt[32];
	ssize_t r;
	long pid = 0;

	/* The holder may not have written its pid yet. */
	r = pread(fd, pidtxt, sizeof(pidtxt) - 1, 0);
	pidtxt[r > 0 ? r : 0] = '\0';
	if (sscanf(pidtxt, "%ld", &pid) == 1 && pid > 0)
		store_seterr(err, errlen, "in use by another server, pid %ld "
		    "(lock file %s)", pid, lpath);
	else
		store_seterr(err, errlen, "in use by another server (lock "
		    "file %s)", lpath);
}

int
store_check_free(const char *path, char *err, size_t errlen)
{
	char lpath[4096];
	int fd, rc = XLICEN_OK;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || !store_lock_path(path, lpath, sizeof(lpath)))
		return XLICEN_OK;
	/* The lock file, only looked at: absent or unreadable, store_open
	 * will tell. */
	if ((fd = open(lpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return XLICEN_OK;
	if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK) {
		store_lock_busy(fd, lpath, err, errlen);
		rc = XLICEN_E_DB;
	}
	close(fd);
	return rc;
}

static int
store_lock(const char *path, int *lockfd, char *err, size_t errlen)
{
	char lpath[4096], pidtxt[32];
	int fd, len;

	*lockfd = -1;
	if (path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0)
		return XLICEN_OK;
	if (!store_lock_path(path, lpath, sizeof(lpath))) {
		store_seterr(err, errlen, "database path too long");
		return XLICEN_E_DB;
	}
	/* The lock file: created 0600 beside the database, never followed
	 * through a symbolic link. */
	fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		store_seterr(err, errlen, "cannot open lock file %s: %s", lpath,
		    strerror(errno));
		return XLICEN_E_DB;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			store_lock_busy(fd, lpath, err, errlen);
		else
			store_seterr(err, errlen, "cannot lock %s: %s", lpath,
			    strerror(errno));
		close(fd);
		return XLICEN_E_DB;
	}
	len = snprintf(pidtxt, sizeof(pidtxt), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pidtxt, (size_t)len, 0) !=
	    len)
		log_msg(LOG_WARNING, "store: writing the pid to %s: %s", lpath,
		    strerror(errno));
	*lockfd = fd;
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

/* Prepare every statement of the dialect, each in a handle of db.h, all
 * handles in one allocation (s->st[0] is its start). */
static int
store_sqlite_prepare(struct store *s, char *err, size_t errlen)
{
	struct store_sqlite_stmt *v;
	int i;

	if ((v = calloc(ST__N, sizeof(*v))) == NULL) {
		store_seterr(err, errlen, "out of memory");
		return XLICEN_E_NOMEM;
	}
	for (i = 0; i < ST__N; i++) {
		v[i].base.ops = &store_sqlite_ops;
		s->st[i] = &v[i].base;
	}
	for (i = 0; i < ST__N; i++) {
		if (sqlite3_prepare_v3(store_sqlite_db(s), store_sqlite_sql[i],
		    -1, SQLITE_PREPARE_PERSISTENT, &v[i].st, NULL) !=
		    SQLITE_OK) {
			store_seterr(err, errlen, "preparing statement %d: %s",
			    i, sqlite3_errmsg(store_sqlite_db(s)));
			return XLICEN_E_DB;
		}
	}
	return XLICEN_OK;
}

int
store_sqlite_open(const char *path, struct store **out, char *err,
    size_t errlen)
{
	struct store *s = NULL;
	sqlite3 *db = NULL;
	int rc = XLICEN_E_DB;

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
	s->ops = &store_sqlite_ops;
	s->lockfd = -1;
	if ((rc = store_lock(path, &s->lockfd, err, errlen)) != 0)
		goto out;
	if ((rc = store_precreate(path, err, errlen)) != 0)
		goto out;
	rc = XLICEN_E_DB;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, store_sqlite_vfs()) != SQLITE_OK) {
		store_seterr(err, errlen, "cannot open %s: %s", path,
		    db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		goto out;
	}
	s->conn = (struct store_conn *)(void *)db;
	/* SQLite quietly falls back to read-only; a license server that
	 * cannot record a grant must not start. */
	if (sqlite3_db_readonly(db, "main") == 1) {
		store_seterr(err, errlen, "%s is read-only", path);
		goto out;
	}
	if ((rc = store_configure(db, err, errlen)) != 0)
		goto out;
	if ((rc = store_migrate(db, path, err, errlen)) != 0)
		goto out;
	if ((rc = store_backfill_hashes(db, err, errlen)) != 0)
		goto out;
	if ((rc = store_sqlite_prepare(s, err, errlen)) != 0)
		goto out;
	store_bg_start(s, path);
	*out = s;
	s = NULL;
	rc = XLICEN_OK;
out:
	if (s != NULL)
		store_sqlite_close(s);
	return rc;
}

void
store_sqlite_close(struct store *s)
{
	sqlite3 *db;
	int i;

	(void)store_carry_end(s);
	(void)store_flush(s, 0, 0);
	store_bg_stop(s);
	free(s->hb);
	for (i = 0; i < ST__N && s->st[i] != NULL; i++)
		sqlite3_finalize(sqlite_st(s->st[i]));
	free(s->st[0]);
	db = store_sqlite_db(s);
	if (db != NULL && sqlite3_close(db) != SQLITE_OK) {
		log_msg(LOG_ERR, "store: close: %s", sqlite3_errmsg(db));
		sqlite3_close_v2(db);
	}
	/* Last: the database is closed (and checkpointed) before the next
	 * server may open it. */
	if (s->lockfd != -1)
		close(s->lockfd);
	free(s);
}
