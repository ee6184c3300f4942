/*
 * Unit tests of server/store/sqlite_vfs.c, the VFS shim that writes a
 * commit's WAL frames in one write, on real SQLite files in a temporary
 * directory ($XLICEN_TEST_TMP, else a fresh mkdtemp under /tmp).  Write
 * system calls are counted by the kernel (/proc/thread-self/io, syscw),
 * not by the code under test.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store/sqlite_int.h"
#include "unit_tmp.h"

static char tmpdir[512];
static int tmpdir_made;
static int dbseq;

static int
group_setup(void **state)
{
	(void)state;
	log_set_level(LOG_ERR);
	return unit_tmp_init("vfs", tmpdir, sizeof(tmpdir), &tmpdir_made);
}

static int
group_teardown(void **state)
{
	(void)state;
	unit_tmp_done(tmpdir, tmpdir_made);
	return 0;
}

static void
unlink_db(const char *path)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-lock" };
	char p[720];
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
}

static void
db_path(char *out, size_t n, const char *what)
{
	snprintf(out, n, "%s/vfs-%ld-%d-%s.db", tmpdir, (long)getpid(),
	    ++dbseq, what);
	unlink_db(out);
}

static void
exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg != NULL ? msg : "?");
}

static int64_t
query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
check_integrity(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check",
	    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
}

/* Write system calls and bytes of this thread so far (the kernel's
 * counts; reading them makes none). */
static void
thread_io(uint64_t *syscw, uint64_t *wchar)
{
	char line[128];
	FILE *fp = fopen("/proc/thread-self/io", "r");

	assert_non_null(fp);
	*syscw = *wchar = UINT64_MAX;
	while (fgets(line, sizeof(line), fp) != NULL) {
		(void)sscanf(line, "syscw: %lu", (unsigned long *)syscw);
		(void)sscanf(line, "wchar: %lu", (unsigned long *)wchar);
	}
	fclose(fp);
	assert_true(*syscw != UINT64_MAX && *wchar != UINT64_MAX);
}

/* The WAL header's salts, which a restart of the WAL changes. */
static void
wal_salt(const char *path, unsigned char salt[8])
{
	char wal[720];
	int fd;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	assert_true((fd = open(wal, O_RDONLY | O_CLOEXEC)) != -1);
	assert_int_equal(pread(fd, salt, 8, 16), 8);
	close(fd);
}

#define ROWS(n) \
	"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c " \
	"WHERE i < " #n ") INSERT INTO big(b) SELECT randomblob(3000) FROM c"
#define BIG_ROWS	ROWS(8)

/*
 * One transaction of 8 rows of 3,000 bytes (one leaf page each, the root
 * and the first page: 10 or more frames); returns the write calls and
 * the frames it wrote.  A restart of the WAL (after a checkpoint copied
 * everything) adds SQLite's own write of the WAL header, synced alone.
 */
static void
big_commit(sqlite3 *db, const char *path, const char *sql, uint64_t *calls,
    uint64_t *frames)
{
	unsigned char s0[8], s1[8];
	uint64_t c0, b0, c1, b1, pg, hdr;

	pg = (uint64_t)query_int(db, "PRAGMA page_size");
	wal_salt(path, s0);
	thread_io(&c0, &b0);
	exec_ok(db, sql);
	thread_io(&c1, &b1);
	wal_salt(path, s1);
	hdr = memcmp(s0, s1, 8) != 0 ? 32 : 0;
	*calls = c1 - c0 - (hdr != 0 ? 1 : 0);
	assert_int_equal((b1 - b0 - hdr) % (pg + 24), 0);
	*frames = (b1 - b0 - hdr) / (pg + 24);
}

/* (1) The store's connection writes a commit of 10+ pages in one write;
 * SQLite's own VFS makes two per page. */
static void
test_commit_one_write(void **state)
{
	char path[600], path2[600], err[256];
	struct store *s = NULL;
	sqlite3 *db = NULL;
	uint64_t calls, frames;

	(void)state;
	db_path(path, sizeof(path), "store");
	assert_int_equal(store_open(path, &s, err, sizeof(err)), 0);
	db = store_sqlite_db(s);
	exec_ok(db, "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB); "
	    "INSERT INTO big(b) VALUES (zeroblob(10))");
	big_commit(db, path, "BEGIN; " BIG_ROWS "; COMMIT", &calls, &frames);
	assert_true(frames >= 10);
	assert_int_equal(calls, 1);
	/* Past LIMIT_STORE_WAL_BUF (the unix VFS writes less than 128 KiB
	 * per call): a few writes, each within it. */
	big_commit(db, path, "BEGIN; " ROWS(120) "; COMMIT", &calls, &frames);
	assert_true(frames >= 120);
	assert_true(calls >= 2 && calls <= 6);
	store_close(s);
	unlink_db(path);

	/* The same transaction through SQLite's default VFS. */
	db_path(path2, sizeof(path2), "plain");
	assert_int_equal(sqlite3_open_v2(path2, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
	exec_ok(db, "PRAGMA journal_mode = WAL; "
	    "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB); "
	    "INSERT INTO big(b) VALUES (zeroblob(10))");
	big_commit(db, path2, "BEGIN; " BIG_ROWS "; COMMIT", &calls, &frames);
	assert_true(frames >= 10);
	assert_int_equal(calls, 2 * frames);
	sqlite3_close(db);
	unlink_db(path2);
}

static sqlite3 *
open_shim(const char *path)
{
	sqlite3 *db = NULL;

	assert_non_null(store_sqlite_vfs());
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, store_sqlite_vfs()), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}


/*
 * (2) Random transactions through the shim against a model, while a
 * second connection (through the shim too, as the server's checkpointer)
 * reads and runs PASSIVE checkpoints.  Every transaction keeps
 * meta.total equal to the sum of the values' lengths, so a reader that
 * saw a commit whose frames were not all in the file would see them
 * differ (or a corrupt page).
 */
#define KEYS	400
#define TXNS	300

struct model {
	int len[KEYS];
	int gen[KEYS];
};

struct reader {
	char path[600];
	int stop;		/* atomic */
	int reads, bad, errors;
};

static void
fill(unsigned char *b, int len, int k, int gen)
{
	int i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(k * 31 + gen * 17 + i * 7);
}

static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_open_v2(r->path, &db, SQLITE_OPEN_READWRITE,
	    store_sqlite_vfs()) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT (SELECT total FROM meta) = "
	    "(SELECT coalesce(sum(length(v)), 0) FROM kv)", -1, &st,
	    NULL) != SQLITE_OK) {
		r->errors++;
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			r->reads++;
			if (sqlite3_column_int(st, 0) != 1)
				r->bad++;
		} else {
			r->errors++;
		}
		sqlite3_reset(st);
		rc = sqlite3_wal_checkpoint_v2(db, "main",
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			r->errors++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return NULL;
}

/* One random change of key k in the open transaction, applied to m. */
static void
random_op(sqlite3 *db, struct model *m, int *gen)
{
	static unsigned char b[5000];
	sqlite3_stmt *st = NULL;
	int k = rand() % KEYS, len = 1 + rand() % 4000, op = rand() % 4;
	int64_t delta;

	if (op == 0 && m->len[k] != 0) {
		assert_int_equal(sqlite3_prepare_v2(db, "DELETE FROM kv WHERE "
		    "k = ?1", -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_int(st, 1, k);
		delta = -m->len[k];
		m->len[k] = 0;
	} else {
		fill(b, len, k, ++*gen);
		assert_int_equal(sqlite3_prepare_v2(db, "INSERT OR REPLACE "
		    "INTO kv(k, v) VALUES (?1, ?2)", -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_int(st, 1, k);
		sqlite3_bind_blob(st, 2, b, len, SQLITE_STATIC);
		delta = len - m->len[k];
		m->len[k] = len;
		m->gen[k] = *gen;
	}
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE meta SET total = "
	    "total + ?1", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, delta);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static int64_t
model_total(const struct model *m)
{
	int64_t t = 0;
	int k;

	for (k = 0; k < KEYS; k++)
		t += m->len[k];
	return t;
}

/* The table kv is exactly m. */
static void
check_model(sqlite3 *db, const struct model *m)
{
	static unsigned char b[5000];
	sqlite3_stmt *st = NULL;
	int k, n = 0, want = 0;

	for (k = 0; k < KEYS; k++)
		want += m->len[k] != 0;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT k, v FROM kv",
	    -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		k = sqlite3_column_int(st, 0);
		assert_true(k >= 0 && k < KEYS);
		assert_int_equal(sqlite3_column_bytes(st, 1), m->len[k]);
		fill(b, m->len[k], k, m->gen[k]);
		assert_memory_equal(sqlite3_column_blob(st, 1), b, m->len[k]);
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(n, want);
}

/* A transaction that spills the page cache, then changes pages it has
 * already written to the WAL (SQLite rewrites frames and checksums). */
static void
spill_txn(sqlite3 *db, struct model *m, int *gen)
{
	int i;

	for (i = 0; i < 250; i++)
		random_op(db, m, gen);
}

static void
test_random_txns(void **state)
{
	char path[600];
	struct model m, sp;
	struct reader r;
	pthread_t th;
	sqlite3 *db, *vdb;
	int t, i, gen = 0, n;

	(void)state;
	srand(12345);
	memset(&m, 0, sizeof(m));
	memset(&r, 0, sizeof(r));
	db_path(path, sizeof(path), "random");
	db = open_shim(path);
	exec_ok(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
	    "PRAGMA cache_size = 10; "
	    "CREATE TABLE kv(k INTEGER PRIMARY KEY, v BLOB NOT NULL); "
	    "CREATE TABLE meta(total INTEGER NOT NULL); "
	    "INSERT INTO meta VALUES (0)");
	vdb = open_shim(path);
	snprintf(r.path, sizeof(r.path), "%s", path);
	assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
	for (t = 0; t < TXNS; t++) {
		struct model was = m;

		exec_ok(db, "BEGIN");
		if (t % 60 == 30) {
			spill_txn(db, &m, &gen);
		} else {
			n = 1 + rand() % 12;
			for (i = 0; i < n; i++)
				random_op(db, &m, &gen);
		}
		if (t % 5 == 0) {	/* a savepoint rolled back */
			sp = m;
			exec_ok(db, "SAVEPOINT sp");
			n = 1 + rand() % (t % 45 == 0 ? 200 : 10);
			for (i = 0; i < n; i++)
				random_op(db, &m, &gen);
			exec_ok(db, "ROLLBACK TO sp; RELEASE sp");
			m = sp;
		}
		if (t % 23 == 7) {	/* the whole transaction */
			exec_ok(db, "ROLLBACK");
			m = was;
		} else {
			exec_ok(db, "COMMIT");
		}
		/* Another connection sees the commit at once. */
		if (t % 10 == 0)
			check_model(vdb, &m);
		else
			assert_int_equal(query_int(vdb, "SELECT total FROM "
			    "meta"), model_total(&m));
	}
	sqlite3_close(vdb);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.bad, 0);
	assert_true(r.reads > 0);
	check_model(db, &m);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);

	/* What a restarted server sees, through SQLite's own VFS. */
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	check_integrity(db);
	check_model(db, &m);
	assert_int_equal(query_int(db, "SELECT total FROM meta"),
	    query_int(db, "SELECT coalesce(sum(length(v)), 0) FROM kv"));
	sqlite3_close(db);
	unlink_db(path);
}

/*
 * (3) A process that dies right after a COMMIT (how 0), or in the middle
 * of a later transaction whose frames are partly written (a spilled
 * cache) and partly buffered: before COMMIT (1), inside it (2: the commit
 * hook, before the commit frame).  What it committed is there, nothing
 * of the rest.
 */
static int
die_hook(void *arg)
{
	(void)arg;
	_exit(0);
}

static void
crash_child(const char *path, int how)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, store_sqlite_vfs()) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = NORMAL; "
	    "PRAGMA cache_size = 10; "
	    "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB); "
	    "BEGIN; " BIG_ROWS "; " BIG_ROWS "; COMMIT", NULL, NULL,
	    NULL) != SQLITE_OK)
		_exit(2);
	if (how == 0)
		_exit(0);
	if (sqlite3_exec(db, "BEGIN; UPDATE big SET b = zeroblob(100) "
	    "WHERE id = 1", NULL, NULL, NULL) != SQLITE_OK)
		_exit(3);
	if (how == 2)
		sqlite3_commit_hook(db, die_hook, NULL);
	(void)sqlite3_exec(db, BIG_ROWS "; " BIG_ROWS "; " BIG_ROWS "; "
	    BIG_ROWS "; " BIG_ROWS "; " BIG_ROWS, NULL, NULL, NULL);
	if (how == 2)
		(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	_exit(how == 2 ? 4 : 0);
}

static void
crash_case(int how)
{
	char path[600];
	sqlite3 *db;
	pid_t pid;
	int st;

	db_path(path, sizeof(path), "crash");
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0)
		crash_child(path, how);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	check_integrity(db);
	assert_int_equal(query_int(db, "SELECT count(*) FROM big"), 16);
	assert_int_equal(query_int(db, "SELECT count(*) FROM big WHERE "
	    "length(b) = 3000"), 16);
	sqlite3_close(db);
	unlink_db(path);
}

static void
test_crash_mid_txn(void **state)
{
	(void)state;
	crash_case(0);
	crash_case(1);
	crash_case(2);
}

/*
 * (4) A write that fails when the buffer is written (a file size limit:
 * EFBIG) fails the COMMIT with the code SQLite's own VFS gives
 * (SQLITE_IOERR_WRITE) and leaves the database as before; the same
 * transaction goes through once the limit is lifted.  In a child, for
 * the limit.  Exit status: 0 good, else the failed step.
 */
/* The first column of the first row of sql is want: 0, else -1 (no
 * cmocka in a child). */
static int
child_query(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_text(st, 0) != NULL &&
	    strcmp((const char *)sqlite3_column_text(st, 0), want) == 0)
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

static int
efbig_case(const char *path, const char *vfs)
{
	struct rlimit rl, low;
	struct stat sb;
	char wal[720];
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, vfs) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = NORMAL; "
	    "PRAGMA wal_autocheckpoint = 0; "
	    "CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB); "
	    BIG_ROWS, NULL, NULL, NULL) != SQLITE_OK)
		return 10;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &sb) == -1 || getrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 11;
	low = rl;
	low.rlim_cur = (rlim_t)sb.st_size + 8192;
	if (setrlimit(RLIMIT_FSIZE, &low) == -1)
		return 12;
	if (sqlite3_exec(db, "BEGIN; " BIG_ROWS "; COMMIT", NULL, NULL,
	    NULL) != SQLITE_IOERR)
		return 13;
	if (sqlite3_extended_errcode(db) != SQLITE_IOERR_WRITE)
		return 14;
	if (!sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1)
		return 15;
	if (child_query(db, "PRAGMA integrity_check", "ok") != 0 ||
	    child_query(db, "SELECT count(*) FROM big", "8") != 0)
		return 16;
	if (sqlite3_exec(db, "BEGIN; " BIG_ROWS "; COMMIT", NULL, NULL,
	    NULL) != SQLITE_OK)
		return 17;
	sqlite3_close(db);
	return 0;
}

static void
test_write_error(void **state)
{
	char path[600], plain[600];
	sqlite3 *db;
	pid_t pid;
	int st;

	(void)state;
	db_path(path, sizeof(path), "efbig");
	db_path(plain, sizeof(plain), "efbig-plain");
	assert_non_null(store_sqlite_vfs());
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		int rc;

		signal(SIGXFSZ, SIG_IGN);
		/* SQLite's own VFS first: the code the shim must give. */
		if ((rc = efbig_case(plain, NULL)) != 0)
			_exit(rc);
		_exit(efbig_case(path, store_sqlite_vfs()));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	check_integrity(db);
	assert_int_equal(query_int(db, "SELECT count(*) FROM big"), 16);
	sqlite3_close(db);
	unlink_db(path);
	unlink_db(plain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_one_write),
		cmocka_unit_test(test_random_txns),
		cmocka_unit_test(test_crash_mid_txn),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
