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
#include <stdarg.h>
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
#include "store_int.h"
#include "xlicen_errors.h"

int
store_dberr(struct store *s, const char *what)
{
	log_msg(LOG_ERR, "store: %s: %s", what, sqlite3_errmsg(s->db));
	return XLICEN_E_DB;
}

void
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
void
store_st_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Bind a C string as TEXT with its explicit length; NULL binds NULL. */
int
store_st_text(sqlite3_stmt *st, int idx, const char *v)
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
void
store_col_copy(sqlite3_stmt *st, int col, char *dst, size_t dstlen)
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
int
store_st_exec(struct store *s, enum store_st which, const char *what)
{
	sqlite3_stmt *st = s->st[which];
	int rc = XLICEN_OK;

	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, what);
	store_st_done(st);
	return rc;
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
int
store_begin_as(struct store *s, int durable)
{
	int rc;

	if (!s->batching) {
		if ((rc = store_sync_mode(s, durable)) != 0 ||
		    (rc = store_st_exec(s, ST_BEGIN, "begin")) != 0)
			return rc;
		if ((rc = store_hb_flush(s)) != 0 &&
		    !sqlite3_get_autocommit(s->db))
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

int
store_begin(struct store *s)
{
	return store_begin_as(s, 1);
}

/* For what only frees seats or extends leases (see store_begin_as). */
int
store_begin_light(struct store *s)
{
	return store_begin_as(s, 0);
}

int
store_commit(struct store *s)
{
	if (s->batching)
		return store_st_exec(s, ST_RELEASE_SP, "release savepoint");
	return store_st_exec(s, ST_COMMIT, "commit");
}

/* Some errors (I/O, full disk) already rolled back; then there is nothing
 * left to undo -- in a batch, nothing of the whole batch. */
void
store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db)) {
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
	if (text != NULL)
		store_col_copy(st, 0, text, textlen);
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
	    store_st_text(st, 2, m->name) != SQLITE_OK ||
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
		store_row_to_audit(sel, &ae);
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

/* The lock file's path for the database at path; 0 if there is none. */
static int
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
	s->lockfd = -1;
	if ((rc = store_lock(path, &s->lockfd, err, errlen)) != 0)
		goto out;
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
	if ((rc = store_backfill_hashes(s->db, err, errlen)) != 0)
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
	store_bg_start(s, path);
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
	(void)store_flush(s, 0, 0);
	store_bg_stop(s);
	free(s->hb);
	for (i = 0; i < ST__N; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK) {
		log_msg(LOG_ERR, "store: close: %s", sqlite3_errmsg(s->db));
		sqlite3_close_v2(s->db);
	}
	/* Last: the database is closed (and checkpointed) before the next
	 * server may open it. */
	if (s->lockfd != -1)
		close(s->lockfd);
	free(s);
}
