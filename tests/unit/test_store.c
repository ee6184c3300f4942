/*
 * Unit tests of server/store/ (store.h) against real SQLite files in a
 * temporary directory ($XLICEN_TEST_TMP, else a fresh mkdtemp under
 * /tmp).  The tables are inspected through a second, independent
 * connection so the tests see what a restarted server would see.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "license.h"
#include "limits.h"
#include "log.h"
#include "policy.h"
#include "store.h"
#include "store/store_int.h"
#include "xlicen_errors.h"

#define NOW	INT64_C(1700000000)
#define DAY	INT64_C(86400)
#define TTL	60

static char tmpdir[512];
static int tmpdir_made;		/* we mkdtemp'd it, so remove it at the end */
static int dbseq;
/* Each checkout of req() reports the next display (ws1.example.org:0,
 * :1, ...), so that checkouts are separate seats under the default dup
 * grouping (same principal, host and display share); reset per test. */
static int dispseq;
static char dispbuf[64][40];

struct fx {
	char path[600];
	struct store *s;
};

static int
mkdir_p(const char *path)
{
	char buf[512], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -1;
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
group_setup(void **state)
{
	const char *env = getenv("XLICEN_TEST_TMP");

	/* Refusals are logged at NOTICE by design; keep only real errors. */
	log_set_level(LOG_ERR);
	if (env != NULL && env[0] != '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "%s", env);
		if (mkdir_p(tmpdir) == -1)
			return -1;
	} else {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/xlicen-store-XXXXXX");
		if (mkdtemp(tmpdir) == NULL)
			return -1;
		tmpdir_made = 1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	if (tmpdir_made)
		(void)rmdir(tmpdir);
	return 0;
}

static void
unlink_db(const char *path)
{
	char p[720];

	unlink(path);
	snprintf(p, sizeof(p), "%s-lock", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/store-%ld-%d.db", tmpdir,
	    (long)getpid(), ++dbseq);
	unlink_db(f->path);
	dispseq = 0;
	if (store_open(f->path, &f->s, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	unlink_db(f->path);
	free(f);
	return 0;
}

static void
reopen(struct fx *f)
{
	char err[256];

	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof(err)), 0);
}

static struct license
lic(const char *product, const char *vmin, const char *vmax, uint32_t seats,
    int64_t start, int64_t expires, const char *serial)
{
	struct license l;

	memset(&l, 0, sizeof(l));
	snprintf(l.vendor, sizeof(l.vendor), "acme");
	snprintf(l.product, sizeof(l.product), "%s", product);
	snprintf(l.ver_min, sizeof(l.ver_min), "%s", vmin);
	snprintf(l.ver_max, sizeof(l.ver_max), "%s", vmax);
	l.seats = seats;
	l.start = start;
	l.expires = expires;
	snprintf(l.serial, sizeof(l.serial), "%s", serial);
	snprintf(l.customer, sizeof(l.customer), "Example Corp");
	return l;
}

static struct store_checkout_req
req(const char *principal, const char *product, const char *version,
    uint32_t count, int64_t now)
{
	struct store_checkout_req r;

	memset(&r, 0, sizeof(r));
	r.principal = principal;
	r.product = product;
	r.version = version;
	r.host = "ws1.example.org";
	snprintf(dispbuf[dispseq % 64], sizeof(dispbuf[0]),
	    "ws1.example.org:%d", dispseq);
	r.display = dispbuf[dispseq % 64];
	dispseq++;
	r.count = count;
	r.pid = 4242;
	r.ttl_s = TTL;
	r.heartbeat_s = TTL / 3;
	r.now = now;
	return r;
}

static int
checkout(struct fx *f, const char *principal, const char *product,
    const char *version, uint32_t count, int64_t now, struct store_grant *g)
{
	struct store_checkout_req r = req(principal, product, version, count,
	    now);

	return store_checkout(f->s, &r, g);
}

/* A second connection, as another process (or a restarted server) would
 * have. */
static sqlite3 *
raw_open(const struct fx *f)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	return db;
}

/* The single integer a query returns; binds text params ?1.. from the
 * NULL-terminated varargs. */
static int64_t
raw_int(const struct fx *f, const char *sql, ...)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st = NULL;
	const char *arg;
	int64_t v;
	int i = 1;
	va_list ap;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	va_start(ap, sql);
	while ((arg = va_arg(ap, const char *)) != NULL)
		assert_int_equal(sqlite3_bind_text(st, i++, arg, -1,
		    SQLITE_TRANSIENT), SQLITE_OK);
	va_end(ap);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int
is_lease_id(const char *id)
{
	size_t i;

	if (strlen(id) != 32)
		return 0;
	for (i = 0; i < 32; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

static void
sync1(struct fx *f, struct license l)
{
	assert_int_equal(store_sync_pools(f->s, &l, 1, NOW), 0);
}

/* ---- opening and migrations ---- */

static void
test_open_creates_schema(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;
	sqlite3_stmt *st;
	struct stat sb;

	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_version",
	    NULL), 6);
	assert_int_equal(raw_int(f, "SELECT MAX(version) FROM schema_version",
	    NULL), 6);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_version"
	    " WHERE name = '0001_init.sql' AND applied_at > 0", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_version"
	    " WHERE name = '0002_lifecycle.sql' AND applied_at > 0", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sqlite_schema"
	    " WHERE type = 'table' AND name IN ('pools', 'leases', 'events',"
	    " 'schema_version', 'seats', 'revoked')", NULL), 6);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sqlite_schema"
	    " WHERE type = 'index' AND name IN ('leases_expires',"
	    " 'leases_pool', 'leases_orphan')", NULL), 3);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM event_kinds"
	    " WHERE kind = 'orphan'", NULL), 1);

	db = raw_open(f);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* Neither the database nor its WAL may be readable by others. */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);
}

static void
test_reopen_idempotent(void **state)
{
	struct fx *f = *state;
	struct store_pool_status *ps = NULL;
	size_t n = 0;

	sync1(f, lic("draw", "1.0", "2.0", 3, 0, 0, "S1"));
	reopen(f);
	reopen(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_version",
	    NULL), 6);
	assert_int_equal(store_status(f->s, NULL, NOW, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ps[0].product, "draw");
	free(ps);
}

static void
test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct store *s2 = (struct store *)&s2;	/* must come back NULL */
	sqlite3 *db;
	char err[256];

	store_close(f->s);
	f->s = NULL;
	db = raw_open(f);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version"
	    " (version, name, applied_at) VALUES (99, '0099_future.sql', 1)",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	assert_non_null(strstr(err, "99"));
	assert_non_null(strstr(err, "newer"));
}

static void
test_not_a_database(void **state)
{
	struct fx *f = *state;
	char path[700], err[256];
	struct store *s2 = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "%s.junk", f->path);
	assert_non_null(fp = fopen(path, "w"));
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database\n", fp);
	fclose(fp);
	assert_int_equal(store_open(path, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	assert_true(err[0] != '\0');
	unlink_db(path);
}

/* ---- pools and status ---- */

static void
test_status_states(void **state)
{
	struct fx *f = *state;
	struct license l[3] = {
		lic("alpha", "1.0", "2.0", 5, NOW - DAY, NOW + DAY, "A1"),
		lic("beta", "3", "3.9", 2, 0, NOW, "B1"),
		lic("gamma", "1", "1", 1, NOW + DAY, 0, "G1"),
	};
	struct store_pool_status *ps = NULL;
	size_t n = 0;

	assert_int_equal(store_sync_pools(f->s, l, 3, NOW), 0);
	assert_int_equal(store_status(f->s, NULL, NOW, &ps, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ps[0].product, "alpha");
	assert_string_equal(ps[0].versions, "1.0-2.0");
	assert_string_equal(ps[0].vendor, "acme");
	assert_string_equal(ps[0].serial, "A1");
	assert_int_equal(ps[0].total, 5);
	assert_int_equal(ps[0].in_use, 0);
	assert_int_equal(ps[0].start, NOW - DAY);
	assert_int_equal(ps[0].expires, NOW + DAY);
	assert_int_equal(ps[0].state, STORE_POOL_ACTIVE);
	assert_string_equal(ps[1].product, "beta");
	assert_string_equal(ps[1].versions, "3-3.9");
	assert_int_equal(ps[1].state, STORE_POOL_EXPIRED);	/* expires == now */
	assert_string_equal(ps[2].product, "gamma");
	assert_int_equal(ps[2].state, STORE_POOL_NOT_YET);
	assert_int_equal(ps[2].expires, 0);
	free(ps);

	/* One product only; and a product without pools is an empty list. */
	assert_int_equal(store_status(f->s, "gamma", NOW + DAY, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ps[0].state, STORE_POOL_ACTIVE);	/* start == now */
	free(ps);
	ps = (struct store_pool_status *)&ps;
	assert_int_equal(store_status(f->s, "delta", NOW, &ps, &n), 0);
	assert_int_equal(n, 0);
	assert_null(ps);

	/* A reload is audited. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'reload' AND detail LIKE 'licenses=3 new=3 withdrawn=0%'",
	    NULL), 1);
}

/* ---- checkout ---- */

static void
test_checkout_until_no_seats(void **state)
{
	struct fx *f = *state;
	struct store_grant g, g2;
	int64_t leases, seats;

	sync1(f, lic("draw", "1.0", "2.0", 3, 0, 0, "S1"));

	assert_int_equal(checkout(f, "alice@EX", "draw", "1.5", 2, NOW, &g), 0);
	assert_true(is_lease_id(g.lease_id));
	assert_int_equal(g.expires, NOW + TTL);
	assert_int_equal(g.in_use, 2);
	assert_int_equal(g.total, 3);

	memset(&g2, 0xa5, sizeof(g2));
	assert_int_equal(checkout(f, "bob@EX", "draw", "1.5", 2, NOW, &g2),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(g2.in_use, 2);
	assert_int_equal(g2.total, 3);
	assert_string_equal(g2.lease_id, "");
	assert_int_equal(g2.expires, 0);

	assert_int_equal(checkout(f, "bob@EX", "draw", "1.5", 1, NOW, &g2), 0);
	assert_true(is_lease_id(g2.lease_id));
	assert_string_not_equal(g.lease_id, g2.lease_id);
	assert_int_equal(g2.in_use, 3);
	assert_int_equal(g2.total, 3);

	assert_int_equal(checkout(f, "carol@EX", "draw", "1.5", 1, NOW, &g2),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(g2.in_use, 3);
	assert_int_equal(g2.total, 3);

	assert_int_equal(store_count_leases(f->s, &leases, &seats), 0);
	assert_int_equal(leases, 2);
	assert_int_equal(seats, 3);
	/* The lease row holds what was asked and who asked. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases WHERE id = ?1"
	    " AND principal = 'alice@EX' AND host = 'ws1.example.org' AND"
	    " display = 'ws1.example.org:0' AND pid = 4242 AND count = 2 AND"
	    " ttl_s = 60", g.lease_id, NULL), 1);
}

static void
test_deny_codes(void **state)
{
	struct fx *f = *state;
	struct license l[4] = {
		lic("draw", "1.0", "2.0", 3, 0, 0, "S1"),
		lic("old", "1.0", "2.0", 3, 0, NOW, "O1"),
		lic("new", "1.0", "2.0", 3, NOW + 1, 0, "N1"),
		/* both an expired and a not-yet pool cover "mixed" 1.x */
		lic("mixed", "1.0", "1.9", 3, NOW + DAY, 0, "M1"),
	};
	struct license m2 = lic("mixed", "1.0", "1.9", 3, 0, NOW - 1, "M2");
	struct license all[5];
	struct store_grant g;
	int64_t leases;

	memcpy(all, l, sizeof(l));
	all[4] = m2;
	assert_int_equal(store_sync_pools(f->s, all, 5, NOW), 0);

	assert_int_equal(checkout(f, "a@EX", "paint", "1.0", 1, NOW, &g),
	    XLICEN_E_NO_PRODUCT);
	assert_int_equal(g.in_use, 0);
	assert_int_equal(g.total, 0);
	/* Product names are exact, not case-folded. */
	assert_int_equal(checkout(f, "a@EX", "Draw", "1.0", 1, NOW, &g),
	    XLICEN_E_NO_PRODUCT);
	assert_int_equal(checkout(f, "a@EX", "draw", "2.1", 1, NOW, &g),
	    XLICEN_E_NO_VERSION);
	assert_int_equal(checkout(f, "a@EX", "draw", "0.9", 1, NOW, &g),
	    XLICEN_E_NO_VERSION);
	/* "10.0" > "2.0" numerically, though not as text. */
	assert_int_equal(checkout(f, "a@EX", "draw", "10.0", 1, NOW, &g),
	    XLICEN_E_NO_VERSION);
	assert_int_equal(checkout(f, "a@EX", "old", "1.0", 1, NOW, &g),
	    XLICEN_E_EXPIRED);
	assert_int_equal(checkout(f, "a@EX", "old", "9", 1, NOW, &g),
	    XLICEN_E_NO_VERSION);	/* version is checked before dates */
	assert_int_equal(checkout(f, "a@EX", "new", "1.0", 1, NOW, &g),
	    XLICEN_E_NOT_YET);
	assert_int_equal(checkout(f, "a@EX", "mixed", "1.5", 1, NOW, &g),
	    XLICEN_E_EXPIRED);
	assert_int_equal(store_count_leases(f->s, &leases, NULL), 0);
	assert_int_equal(leases, 0);

	/* Range ends are inclusive, "2" == "2.0", start is inclusive. */
	assert_int_equal(checkout(f, "a@EX", "draw", "1.0", 1, NOW, &g), 0);
	assert_int_equal(checkout(f, "a@EX", "draw", "2", 1, NOW, &g), 0);
	assert_int_equal(checkout(f, "a@EX", "new", "2.0", 1, NOW + 1, &g), 0);
}

static void
test_bad_arguments(void **state)
{
	struct fx *f = *state;
	struct store_checkout_req r;
	struct store_grant g;

	sync1(f, lic("draw", "1.0", "2.0", 3, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1.0", 0, NOW, &g),
	    XLICEN_E_COUNT);
	assert_int_equal(checkout(f, "a@EX", "draw", "1.0", LIMIT_SEATS + 1,
	    NOW, &g), XLICEN_E_COUNT);
	assert_int_equal(checkout(f, "a@EX", "draw", "1.x", 1, NOW, &g),
	    XLICEN_E_BAD_VALUE);
	assert_int_equal(checkout(f, NULL, "draw", "1.0", 1, NOW, &g),
	    XLICEN_E_INVALID);
	r = req("a@EX", "draw", "1.0", 1, NOW);
	r.ttl_s = 0;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_INVALID);
	/* None of these is a seat decision, so none is audited. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind <> 'reload'", NULL), 0);
}

static void
test_two_licenses_add_up(void **state)
{
	struct fx *f = *state;
	struct license l[3] = {
		lic("draw", "1.0", "2.0", 2, 0, 0, "S1"),
		lic("draw", "1.0", "2.0", 3, 0, 0, "S2"),
		/* covers, but expired: adds nothing */
		lic("draw", "1.0", "2.0", 7, 0, NOW - DAY, "S3"),
	};
	struct store_pool_status *ps = NULL;
	struct store_grant g;
	size_t n = 0;
	uint32_t i;

	assert_int_equal(store_sync_pools(f->s, l, 3, NOW), 0);
	for (i = 1; i <= 5; i++) {
		assert_int_equal(checkout(f, "a@EX", "draw", "1.2", 1, NOW, &g),
		    0);
		assert_int_equal(g.in_use, i);
		assert_int_equal(g.total, 5);
		if (i == 2) {
			/* First fit: the older pool fills first. */
			assert_int_equal(store_status(f->s, "draw", NOW, &ps,
			    &n), 0);
			assert_int_equal(n, 3);
			assert_int_equal(ps[0].in_use, 2);
			assert_int_equal(ps[1].in_use, 0);
			free(ps);
		}
	}
	assert_int_equal(checkout(f, "a@EX", "draw", "1.2", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(g.in_use, 5);
	assert_int_equal(g.total, 5);
}

static void
test_multi_seat_fits_one_pool(void **state)
{
	struct fx *f = *state;
	struct license l[2] = {
		lic("draw", "1", "1", 2, 0, 0, "S1"),
		lic("draw", "1", "1", 2, 0, 0, "S2"),
	};
	struct store_grant g;

	assert_int_equal(store_sync_pools(f->s, l, 2, NOW), 0);
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	/* S1 has one seat left, so two come from S2... */
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 2, NOW, &g), 0);
	assert_int_equal(g.in_use, 3);
	/* ...and the last free seat cannot serve a two-seat request: a
	 * lease never spans pools. */
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 2, NOW, &g),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(g.in_use, 3);
	assert_int_equal(g.total, 4);
}

static void
test_reissued_license_fewer_seats(void **state)
{
	struct fx *f = *state;
	struct store_pool_status *ps = NULL;
	struct store_grant g;
	size_t n = 0;

	sync1(f, lic("draw", "1", "2", 3, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 3, NOW, &g), 0);
	sync1(f, lic("draw", "1", "2", 1, 0, 0, "S1"));
	assert_int_equal(store_status(f->s, NULL, NOW, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ps[0].total, 1);
	assert_int_equal(ps[0].in_use, 3);
	free(ps);
	assert_int_equal(checkout(f, "b@EX", "draw", "1", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(g.in_use, 3);
	assert_int_equal(g.total, 1);
}

/* ---- heartbeat, release, expiry ---- */

static void
test_heartbeat_extends(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	int64_t exp = -1;

	sync1(f, lic("draw", "1", "2", 3, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	assert_int_equal(g.expires, NOW + TTL);
	assert_int_equal(store_next_expiry(f->s), NOW + TTL);

	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 30,
	    &exp), 0);
	assert_int_equal(exp, NOW + 30 + TTL);
	assert_int_equal(store_next_expiry(f->s), NOW + 30 + TTL);
	assert_int_equal(raw_int(f, "SELECT heartbeat_at FROM leases"
	    " WHERE id = ?1", g.lease_id, NULL), NOW + 30);

	/* Once the expiry is reached the lease is gone, swept or not. */
	exp = -1;
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id,
	    NOW + 30 + TTL, &exp), XLICEN_E_NO_LEASE);
	assert_int_equal(exp, 0);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id,
	    NOW + 30 + TTL, NULL), XLICEN_E_NO_LEASE);
}

/* Group commit, heartbeats written behind, and the in_use counter. */
static void
test_batch_write_behind(void **state)
{
	struct fx *f = *state;
	struct store_grant g, g2;
	struct pollfd pfd;
	uint64_t ticket, done;
	int64_t exp = -1;

	sync1(f, lic("draw", "1", "2", 3, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);

	/* A heartbeat is answered from memory and written later. */
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 30,
	    &exp), 0);
	assert_int_equal(exp, NOW + 30 + TTL);
	assert_int_equal(raw_int(f, "SELECT expires_at FROM leases"
	    " WHERE id = ?1", g.lease_id, NULL), NOW + TTL);
	assert_int_equal(store_flush(f->s, NOW + 30, 1), 0);	/* too young */
	assert_int_equal(raw_int(f, "SELECT expires_at FROM leases"
	    " WHERE id = ?1", g.lease_id, NULL), NOW + TTL);
	assert_int_equal(store_flush(f->s, NOW + 31, 1), 0);
	assert_int_equal(raw_int(f, "SELECT expires_at FROM leases"
	    " WHERE id = ?1", g.lease_id, NULL), NOW + 30 + TTL);
	/* ...and it counts as soon as it is answered. */
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 60,
	    &exp), 0);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id,
	    NOW + 30 + TTL, &exp), 0);
	assert_int_equal(exp, NOW + 30 + 2 * TTL);

	/* In a batch nothing is visible (or durable) before its end; a
	 * denial undoes only itself. */
	store_batch_begin(f->s);
	assert_int_equal(checkout(f, "b@EX", "draw", "1", 1, NOW + 40, &g2), 0);
	assert_int_equal(checkout(f, "b@EX", "paint", "1", 1, NOW + 40, &g2),
	    XLICEN_E_NO_PRODUCT);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 1);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 2);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'deny' AND product = 'paint'", NULL), 1);

	/* A batch that granted waits for the syncer (a file database has
	 * one), which wakes the loop through its eventfd. */
	assert_true(ticket > 0);
	pfd.fd = store_sync_fd(f->s);
	pfd.events = POLLIN;
	assert_true(pfd.fd >= 0);
	assert_int_equal(store_sync_wait(f->s, ticket), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(store_synced(f->s, &done), 0);
	assert_true(done >= ticket);
	assert_int_equal(poll(&pfd, 1, 0), 0);	/* drained */

	/* The counter agrees with the seats. */
	assert_int_equal(raw_int(f, "SELECT in_use FROM pools", NULL), 2);
	/* A batch that only frees seats needs no sync (and is carried:
	 * test_batch_carry); an operation outside a round commits it. */
	store_batch_begin(f->s);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 41,
	    NULL), 0);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_int_equal(ticket, 0);
	assert_int_equal(raw_int(f, "SELECT in_use FROM pools", NULL), 2);
	usleep((LIMIT_STORE_CARRY_MS + 1) * 1000);
	store_batch_begin(f->s);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_int_equal(raw_int(f, "SELECT in_use FROM pools", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT in_use FROM pools", NULL),
	    raw_int(f, "SELECT COALESCE(SUM(count), 0) FROM seats", NULL));

	/* At start every lease gets up to one TTL more (not past the
	 * start + TTL). */
	exp = raw_int(f, "SELECT expires_at FROM leases", NULL);
	assert_int_equal(store_extend_leases(f->s, exp), 0);
	assert_int_equal(raw_int(f, "SELECT expires_at FROM leases", NULL),
	    exp + TTL);
}

/*
 * A round that needs no sync (a release) is carried: its transaction stays
 * open, unseen by other connections, until a round that may grant commits
 * it with its own, a round finds it LIMIT_STORE_CARRY_MS old, an operation
 * runs outside a round, or the store closes.
 */
static void
test_batch_carry(void **state)
{
	struct fx *f = *state;
	struct store_grant g1, g2, g3;
	uint64_t ticket;
	int64_t t0, until;

	sync1(f, lic("draw", "1", "2", 5, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g1), 0);
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g2), 0);
	assert_int_equal(store_carry_until(f->s), 0);

	/* Carried: nothing to sync, nothing seen elsewhere yet. */
	t0 = store_now_ms();
	store_batch_begin(f->s);
	assert_int_equal(store_release(f->s, "a@EX", g1.lease_id, NOW + 1,
	    NULL), 0);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_int_equal(ticket, 0);
	until = store_carry_until(f->s);
	assert_true(until >= t0 + LIMIT_STORE_CARRY_MS &&
	    until <= store_now_ms() + LIMIT_STORE_CARRY_MS);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 2);
	/* The next round goes on in it; our own reads see it. */
	store_batch_begin(f->s);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_int_equal(ticket, 0);
	assert_int_equal(store_carry_until(f->s), until);

	/* A round that grants commits both, and is synced. */
	store_batch_begin(f->s);
	assert_int_equal(checkout(f, "b@EX", "draw", "1", 1, NOW + 2, &g3), 0);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_true(ticket > 0);
	assert_int_equal(store_sync_wait(f->s, ticket), 0);
	assert_int_equal(store_carry_until(f->s), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 2);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases WHERE id = ?1",
	    g1.lease_id, NULL), 0);
	assert_int_equal(raw_int(f, "SELECT in_use FROM pools", NULL), 2);

	/* An operation outside a round commits what is carried first. */
	store_batch_begin(f->s);
	assert_int_equal(store_release(f->s, "b@EX", g3.lease_id, NOW + 3,
	    NULL), 0);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_true(store_carry_until(f->s) != 0);
	assert_int_equal(store_release(f->s, "a@EX", g2.lease_id, NOW + 3,
	    NULL), 0);
	assert_int_equal(store_carry_until(f->s), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 0);

	/* Closing commits it too. */
	assert_int_equal(checkout(f, "c@EX", "draw", "1", 1, NOW + 4, &g1), 0);
	store_batch_begin(f->s);
	assert_int_equal(store_release(f->s, "c@EX", g1.lease_id, NOW + 5,
	    NULL), 0);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_true(store_carry_until(f->s) != 0);
	reopen(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'release'", NULL), 4);
}

/*
 * Under steady writes the WAL stays bounded: the checkpointer copies it
 * into the database, the loop finishes what it could not, and SQLite
 * starts the WAL over.  (A checkpointer whose connection never read the
 * database did nothing, and the WAL grew by every commit.)
 */
static void
test_wal_bounded(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	char wal[640];
	struct stat db0, sb;
	uint64_t ticket;
	int i;

	sync1(f, lic("draw", "1", "2", 100, 0, 0, "S1"));
	assert_int_equal(stat(f->path, &db0), 0);
	for (i = 0; i < 2000; i++) {
		store_batch_begin(f->s);
		assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW + i,
		    &g), 0);
		assert_int_equal(store_batch_end(f->s, &ticket), 0);
		assert_int_equal(store_sync_wait(f->s, ticket), 0);
		store_batch_begin(f->s);
		assert_int_equal(store_release(f->s, "a@EX", g.lease_id,
		    NOW + i, NULL), 0);
		assert_int_equal(store_batch_end(f->s, &ticket), 0);
	}
	/* (The last release was carried: a round after its time commits
	 * it, as the loop's does.) */
	usleep((LIMIT_STORE_CARRY_MS + 1) * 1000);
	store_batch_begin(f->s);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_int_equal(store_carry_until(f->s), 0);
	/* The database file got the pages while the store was open... */
	assert_int_equal(stat(f->path, &sb), 0);
	assert_true(sb.st_size > db0.st_size);
	/* ...and the WAL was started over: it is far smaller than what the
	 * rounds wrote (16 frames each, 4 KiB a page). */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size < 32 * 1024 * 1024);
	assert_int_equal(raw_int(f, "SELECT in_use FROM pools", NULL), 0);
}

static void
test_not_owner(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	int64_t exp = -1, leases;

	sync1(f, lic("draw", "1", "2", 3, 0, 0, "S1"));
	assert_int_equal(checkout(f, "alice@EX", "draw", "1", 1, NOW, &g), 0);
	assert_int_equal(store_heartbeat(f->s, "mallory@EX", g.lease_id,
	    NOW + 1, &exp), XLICEN_E_NOT_OWNER);
	assert_int_equal(exp, 0);
	assert_int_equal(store_release(f->s, "mallory@EX", g.lease_id,
	    NOW + 1, NULL), XLICEN_E_NOT_OWNER);
	/* Principals are compared exactly. */
	assert_int_equal(store_release(f->s, "ALICE@EX", g.lease_id, NOW + 1, NULL),
	    XLICEN_E_NOT_OWNER);
	assert_int_equal(store_count_leases(f->s, &leases, NULL), 0);
	assert_int_equal(leases, 1);
	/* The attempts are audited under the one who made them. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'deny' AND principal = 'mallory@EX' AND code = ?1 AND"
	    " lease_id = ?2", "66", g.lease_id, NULL), 2);

	assert_int_equal(store_heartbeat(f->s, "alice@EX", g.lease_id, NOW + 2,
	    &exp), 0);
	assert_int_equal(store_release(f->s, "alice@EX", g.lease_id, NOW + 3, NULL),
	    0);
	assert_int_equal(store_count_leases(f->s, &leases, NULL), 0);
	assert_int_equal(leases, 0);
	assert_int_equal(store_release(f->s, "alice@EX", g.lease_id, NOW + 3, NULL),
	    XLICEN_E_NO_LEASE);
}

static void
test_unknown_lease(void **state)
{
	struct fx *f = *state;
	int64_t exp = -1;

	assert_int_equal(store_heartbeat(f->s, "a@EX",
	    "0123456789abcdef0123456789abcdef", NOW, &exp), XLICEN_E_NO_LEASE);
	assert_int_equal(exp, 0);
	assert_int_equal(store_release(f->s, "a@EX",
	    "0123456789abcdef0123456789abcdef", NOW, NULL), XLICEN_E_NO_LEASE);
	assert_int_equal(store_release(f->s, "a@EX", "", NOW, NULL),
	    XLICEN_E_NO_LEASE);
	assert_int_equal(store_heartbeat(f->s, "a@EX", "x' OR '1'='1", NOW,
	    NULL), XLICEN_E_NO_LEASE);
}

static void
test_expire(void **state)
{
	struct fx *f = *state;
	struct store_checkout_req r;
	struct store_grant g1, g2, g3;
	int64_t leases, seats;
	int n = -1;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	assert_int_equal(store_next_expiry(f->s), 0);
	r = req("alice@EX", "draw", "1", 1, NOW);
	r.ttl_s = 10;
	assert_int_equal(store_checkout(f->s, &r, &g1), 0);
	r = req("bob@EX", "draw", "1", 1, NOW);
	r.ttl_s = 20;
	assert_int_equal(store_checkout(f->s, &r, &g2), 0);
	assert_int_equal(store_next_expiry(f->s), NOW + 10);

	assert_int_equal(store_expire(f->s, NOW + 9, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_expire(f->s, NOW + 10, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_count_leases(f->s, &leases, &seats), 0);
	assert_int_equal(leases, 1);
	assert_int_equal(seats, 1);
	assert_int_equal(store_next_expiry(f->s), NOW + 20);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'expire' AND principal = 'alice@EX' AND lease_id = ?1"
	    " AND product = 'draw' AND ts = ?2", g1.lease_id, "1700000010",
	    NULL), 1);

	/* The freed seat is grantable again. */
	assert_int_equal(checkout(f, "carol@EX", "draw", "1", 1, NOW + 10,
	    &g3), 0);
	assert_int_equal(g3.in_use, 2);

	/* Both seats are held (bob, carol), but bob's lease is due at
	 * NOW + 20 and a checkout sweeps by itself, without store_expire. */
	assert_int_equal(checkout(f, "dave@EX", "draw", "1", 1, NOW + 19, &g3),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(checkout(f, "dave@EX", "draw", "1", 1, NOW + 20, &g3),
	    0);
	assert_int_equal(g3.in_use, 2);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'expire' AND principal = 'bob@EX' AND lease_id = ?1",
	    g2.lease_id, NULL), 1);
	assert_int_equal(store_expire(f->s, NOW + 1000, NULL), 0);
	assert_int_equal(store_next_expiry(f->s), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'expire'", NULL), 4);
}

/* ---- reloads and restarts ---- */

static void
test_sync_withdraws(void **state)
{
	struct fx *f = *state;
	struct license l[2] = {
		lic("draw", "1", "2", 1, 0, 0, "D1"),
		lic("paint", "1", "2", 1, 0, 0, "P1"),
	};
	struct store_pool_status *ps = NULL;
	struct store_grant g, g2;
	int64_t exp, leases;
	size_t n = 0;

	assert_int_equal(store_sync_pools(f->s, l, 2, NOW), 0);
	assert_int_equal(checkout(f, "a@EX", "paint", "1", 1, NOW, &g), 0);

	/* paint's license goes away. */
	assert_int_equal(store_sync_pools(f->s, l, 1, NOW + 1), 0);
	assert_int_equal(store_status(f->s, NULL, NOW + 1, &ps, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ps[0].product, "draw");
	assert_int_equal(ps[0].state, STORE_POOL_ACTIVE);
	assert_string_equal(ps[1].product, "paint");
	free(ps);
	/* Its lease keeps it listed, withdrawn, with no seats to give. */
	assert_int_equal(store_status(f->s, "paint", NOW + 1, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ps[0].state, STORE_POOL_WITHDRAWN);
	assert_int_equal(ps[0].in_use, 1);
	assert_int_equal(ps[0].total, 0);
	free(ps);
	assert_int_equal(checkout(f, "b@EX", "paint", "1", 1, NOW + 1, &g2),
	    XLICEN_E_NO_PRODUCT);
	/* ...but its lease lives on and can be kept alive. */
	assert_int_equal(store_count_leases(f->s, &leases, NULL), 0);
	assert_int_equal(leases, 1);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 2,
	    &exp), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'reload' AND detail LIKE '%withdrawn=1%'", NULL), 1);

	/* It comes back as the same pool, its lease still counted. */
	assert_int_equal(store_sync_pools(f->s, l, 2, NOW + 3), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM pools", NULL), 2);
	assert_int_equal(store_status(f->s, "paint", NOW + 3, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ps[0].in_use, 1);
	free(ps);
	assert_int_equal(checkout(f, "b@EX", "paint", "1", 1, NOW + 3, &g2),
	    XLICEN_E_NO_SEATS);

	/* An empty license set withdraws everything. */
	assert_int_equal(store_sync_pools(f->s, NULL, 0, NOW + 4), 0);
	assert_int_equal(store_status(f->s, NULL, NOW + 4, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ps[0].state, STORE_POOL_WITHDRAWN);
	free(ps);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 5, NULL), 0);
	assert_int_equal(store_status(f->s, NULL, NOW + 5, &ps, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_restart_keeps_leases(void **state)
{
	struct fx *f = *state;
	struct store_pool_status *ps = NULL;
	struct store_grant g, g2;
	int64_t exp, leases;
	size_t n = 0;

	sync1(f, lic("draw", "1", "2", 1, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	reopen(f);
	assert_int_equal(store_count_leases(f->s, &leases, NULL), 0);
	assert_int_equal(leases, 1);
	assert_int_equal(store_status(f->s, NULL, NOW, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ps[0].in_use, 1);
	free(ps);
	/* No oversubscription after the restart. */
	assert_int_equal(checkout(f, "b@EX", "draw", "1", 1, NOW, &g2),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 5,
	    &exp), 0);
	assert_int_equal(exp, NOW + 5 + TTL);
	assert_int_equal(store_next_expiry(f->s), NOW + 5 + TTL);
}

/* A grant the server acknowledged is on disk even if the server dies
 * without closing the database (kill -9 right after the reply). */
static void
test_kill9_keeps_grant(void **state)
{
	struct fx *f = *state;
	char id[33], wal[640], err[256];
	struct store_grant g;
	struct stat sb;
	int fds[2], status;
	int64_t leases, exp;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	store_close(f->s);
	f->s = NULL;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		struct license l = lic("draw", "1", "2", 1, 0, 0, "S1");
		struct store_checkout_req rq = req("a@EX", "draw", "1", 1, NOW);
		struct store *s = NULL;

		close(fds[0]);
		if (store_open(f->path, &s, err, sizeof(err)) != 0 ||
		    store_sync_pools(s, &l, 1, NOW) != 0 ||
		    store_checkout(s, &rq, &g) != 0 ||
		    write(fds[1], g.lease_id, 32) != 32)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	close(fds[1]);
	while (got < 32 && (r = read(fds[0], id + got, 32 - got)) > 0)
		got += (size_t)r;
	close(fds[0]);
	id[got] = '\0';
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	assert_int_equal(got, 32);
	/* The child never checkpointed: the grant lives only in the WAL. */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size > 0);

	assert_int_equal(store_open(f->path, &f->s, err, sizeof(err)), 0);
	assert_int_equal(store_count_leases(f->s, &leases, NULL), 0);
	assert_int_equal(leases, 1);
	assert_int_equal(checkout(f, "b@EX", "draw", "1", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(store_heartbeat(f->s, "a@EX", id, NOW + 1, &exp), 0);
	assert_int_equal(exp, NOW + 1 + TTL);
}


/* ---- renewals, withdrawn licenses, restart allowance, one server ---- */

/* The one status row of product (asserted), copied out. */
static struct store_pool_status
status1(struct fx *f, const char *product, int64_t now)
{
	struct store_pool_status *ps = NULL, r;
	size_t n = 0;

	assert_int_equal(store_status(f->s, product, now, &ps, &n), 0);
	assert_int_equal(n, 1);
	r = ps[0];
	free(ps);
	return r;
}

/*
 * The vendor's renewal (same vendor, product, versions, kind and node
 * lock; new serial) replaces a license on reread: it takes over the live
 * leases and their seats, lingering ones too, so the seats are counted
 * once, not once per license.
 */
static void
test_renewal_takes_over(void **state)
{
	struct fx *f = *state;
	struct license old = lic("cad", "1", "2", 3, 0, 0, "R1");
	struct license renewed = lic("cad", "1", "2", 3, 0, NOW + DAY, "R2");
	struct store_pool_status st;
	struct store_grant g[3], x;
	int i;

	old.linger_s = 30;
	renewed.linger_s = 30;
	sync1(f, old);
	for (i = 0; i < 3; i++)
		assert_int_equal(checkout(f, "a@EX", "cad", "1", 1, NOW, &g[i]),
		    0);
	/* One of them released: its seat lingers, still counted. */
	assert_int_equal(store_release(f->s, "a@EX", g[2].lease_id, NOW + 1,
	    NULL), 0);
	assert_int_equal(checkout(f, "b@EX", "cad", "1", 1, NOW + 1, &x),
	    XLICEN_E_NO_SEATS);

	assert_int_equal(store_sync_pools(f->s, &renewed, 1, NOW + 2), 0);
	assert_int_equal(checkout(f, "b@EX", "cad", "1", 1, NOW + 2, &x),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(x.in_use, 3);
	assert_int_equal(x.total, 3);
	st = status1(f, "cad", NOW + 2);
	assert_string_equal(st.serial, "R2");
	assert_int_equal(st.state, STORE_POOL_ACTIVE);
	assert_int_equal(st.in_use, 3);
	assert_int_equal(st.total, 3);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases WHERE"
	    " pool_id = (SELECT id FROM pools WHERE serial = 'R2')", NULL), 2);
	assert_int_equal(raw_int(f, "SELECT in_use FROM pools WHERE"
	    " serial = 'R1'", NULL), 0);

	/* The leases live on under the new license... */
	assert_int_equal(store_heartbeat(f->s, "a@EX", g[0].lease_id, NOW + 3,
	    NULL), 0);
	assert_int_equal(store_release(f->s, "a@EX", g[0].lease_id, NOW + 4,
	    NULL), 0);
	/* ...a released seat lingers there, and once the lingering seat of
	 * the old license ends one seat is free, one only. */
	assert_int_equal(checkout(f, "b@EX", "cad", "1", 1, NOW + 5, &x),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(checkout(f, "b@EX", "cad", "1", 1, NOW + 31, &x), 0);
	assert_int_equal(checkout(f, "c@EX", "cad", "1", 1, NOW + 31, &x),
	    XLICEN_E_NO_SEATS);
	st = status1(f, "cad", NOW + 31);
	assert_int_equal(st.in_use, 3);

	/* The same takeover at a restart (the store reopened, then the
	 * licenses read). */
	reopen(f);
	renewed.serial[1] = '3';
	assert_int_equal(store_sync_pools(f->s, &renewed, 1, NOW + 32), 0);
	st = status1(f, "cad", NOW + 32);
	assert_string_equal(st.serial, "R3");
	assert_int_equal(st.in_use, 3);
	assert_int_equal(checkout(f, "c@EX", "cad", "1", 1, NOW + 32, &x),
	    XLICEN_E_NO_SEATS);
}

/* A renewal with fewer seats than in use keeps every lease, grants
 * nothing until use falls below its total, and status shows 5/3. */
static void
test_renewal_fewer_seats(void **state)
{
	struct fx *f = *state;
	struct store_pool_status st;
	struct store_grant g[5], x;
	int i;

	sync1(f, lic("cad", "1", "2", 5, 0, 0, "F1"));
	for (i = 0; i < 5; i++)
		assert_int_equal(checkout(f, "a@EX", "cad", "1", 1, NOW, &g[i]),
		    0);
	assert_int_equal(store_sync_pools(f->s, (struct license[]){
	    lic("cad", "1", "2", 3, 0, 0, "F2") }, 1, NOW + 1), 0);
	st = status1(f, "cad", NOW + 1);
	assert_int_equal(st.in_use, 5);
	assert_int_equal(st.total, 3);
	assert_int_equal(st.state, STORE_POOL_ACTIVE);
	for (i = 0; i < 5; i++)
		assert_int_equal(store_heartbeat(f->s, "a@EX", g[i].lease_id,
		    NOW + 2, NULL), 0);
	assert_int_equal(checkout(f, "b@EX", "cad", "1", 1, NOW + 2, &x),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(x.in_use, 5);
	assert_int_equal(x.total, 3);
	/* 3 of 3: still nothing. */
	for (i = 0; i < 2; i++)
		assert_int_equal(store_release(f->s, "a@EX", g[i].lease_id,
		    NOW + 3, NULL), 0);
	assert_int_equal(checkout(f, "b@EX", "cad", "1", 1, NOW + 3, &x),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(store_release(f->s, "a@EX", g[2].lease_id, NOW + 4,
	    NULL), 0);
	assert_int_equal(checkout(f, "b@EX", "cad", "1", 1, NOW + 4, &x), 0);
	assert_int_equal(x.in_use, 3);
}

/*
 * A license removed without a replacement (nothing of the same vendor,
 * product, versions, kind and node lock is licensed): its leases stay,
 * shown as a withdrawn status row and in holders, and nothing is granted
 * from it.  A license of another version range is no replacement.
 */
static void
test_removal_without_replacement(void **state)
{
	struct fx *f = *state;
	struct license paint = lic("paint", "1", "2", 2, 0, 0, "P1");
	struct license other = lic("paint", "3", "4", 1, 0, 0, "P2");
	struct license locked = lic("paint", "1", "2", 2, 0, 0, "P3");
	struct store_pool_status *ps = NULL;
	struct store_holder *h = NULL;
	struct store_grant g[2], x;
	size_t n = 0;

	sync1(f, paint);
	assert_int_equal(checkout(f, "a@EX", "paint", "1", 1, NOW, &g[0]), 0);
	assert_int_equal(checkout(f, "a@EX", "paint", "1", 1, NOW, &g[1]), 0);

	snprintf(locked.hostid, sizeof(locked.hostid), "host:ws9");
	assert_int_equal(store_sync_pools(f->s, (struct license[]){ other,
	    locked }, 2, NOW + 1), 0);
	assert_int_equal(store_status(f->s, "paint", NOW + 1, &ps, &n), 0);
	assert_int_equal(n, 3);
	/* The withdrawn row: its leases, no seats to give. */
	assert_string_equal(ps[0].serial, "P1");
	assert_int_equal(ps[0].state, STORE_POOL_WITHDRAWN);
	assert_int_equal(ps[0].in_use, 2);
	assert_int_equal(ps[0].total, 0);
	assert_string_equal(ps[1].serial, "P2");
	assert_int_equal(ps[1].state, STORE_POOL_ACTIVE);
	assert_int_equal(ps[1].in_use, 0);
	assert_string_equal(ps[2].serial, "P3");
	assert_int_equal(ps[2].in_use, 0);
	free(ps);
	ps = NULL;
	/* Version 1 is only in the withdrawn license (and one locked to
	 * another host). */
	assert_int_equal(checkout(f, "b@EX", "paint", "1", 1, NOW + 1, &x),
	    XLICEN_E_WRONG_HOST);
	assert_int_equal(checkout(f, "b@EX", "paint", "3", 1, NOW + 1, &x), 0);
	assert_int_equal(store_holders(f->s, "paint", NULL, NOW + 1, &h, &n),
	    0);
	assert_int_equal(n, 3);
	assert_int_equal(h[0].withdrawn, 1);
	assert_int_equal(h[1].withdrawn, 1);
	assert_int_equal(h[2].withdrawn, 0);
	assert_string_equal(h[2].lease_id, x.lease_id);
	free(h);

	/* A replacement that comes at a later reread takes the leases then:
	 * 2 of 1, over. */
	paint.seats = 1;
	snprintf(paint.serial, sizeof(paint.serial), "P4");
	assert_int_equal(store_sync_pools(f->s, (struct license[]){ other,
	    locked, paint }, 3, NOW + 2), 0);
	assert_int_equal(store_status(f->s, "paint", NOW + 2, &ps, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ps[2].serial, "P4");
	assert_int_equal(ps[2].state, STORE_POOL_ACTIVE);
	assert_int_equal(ps[2].in_use, 2);
	assert_int_equal(ps[2].total, 1);
	free(ps);
	assert_int_equal(store_release(f->s, "a@EX", g[0].lease_id, NOW + 3,
	    NULL), 0);
	assert_int_equal(checkout(f, "b@EX", "paint", "1", 1, NOW + 3, &x),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(store_release(f->s, "a@EX", g[1].lease_id, NOW + 3,
	    NULL), 0);

	/* Once its leases are gone a withdrawn row goes too. */
	assert_int_equal(store_sync_pools(f->s, (struct license[]){ other },
	    1, NOW + 4), 0);
	assert_int_equal(store_status(f->s, "paint", NOW + 4, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ps[0].serial, "P2");
	assert_int_equal(ps[0].in_use, 1);
	free(ps);
}

/*
 * The start-up allowance (heartbeats answered from memory in the last
 * second before a crash) is one TTL at most and does not add up over
 * restarts: after ten starts a lease ends at most TTL after the last.
 */
static void
test_restart_allowance(void **state)
{
	struct fx *f = *state;
	struct store_grant g, g2;
	int i;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g2), 0);
	/* g2 was last heard of long ago: due 2 TTL before the restarts. */
	assert_int_equal(raw_int(f, "UPDATE leases SET heartbeat_at = ?1 - 60,"
	    " expires_at = ?1 WHERE id = ?2 RETURNING expires_at",
	    "1699999880", g2.lease_id, NULL), NOW - 2 * TTL);
	for (i = 0; i < 10; i++) {
		reopen(f);
		assert_int_equal(store_extend_leases(f->s, NOW + 1 + i), 0);
	}
	/* Never past the last start + TTL... */
	assert_int_equal(raw_int(f, "SELECT expires_at FROM leases"
	    " WHERE id = ?1", g.lease_id, NULL), NOW + 10 + TTL);
	/* ...and a lease due a TTL before the restart is not brought back. */
	assert_int_equal(raw_int(f, "SELECT expires_at FROM leases"
	    " WHERE id = ?1", g2.lease_id, NULL), NOW - 2 * TTL);
	/* However many starts, at most one TTL past the expiry its last
	 * written heartbeat gave. */
	for (i = 0; i < 10; i++)
		assert_int_equal(store_extend_leases(f->s, NOW + TTL + 30 + i),
		    0);
	assert_int_equal(raw_int(f, "SELECT expires_at FROM leases"
	    " WHERE id = ?1", g.lease_id, NULL), NOW + 2 * TTL);
}

/* A second server on the same database is refused, naming the database
 * and the holder's pid; the lock goes with the store. */
static void
test_second_server_refused(void **state)
{
	struct fx *f = *state;
	struct store *s2 = (struct store *)&s2;	/* must come back NULL */
	char err[256], want[900];

	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	snprintf(want, sizeof(want), "in use by another server, pid %ld "
	    "(lock file %s-lock)", (long)getpid(), f->path);
	assert_string_equal(err, want);
	/* Closing the first (as at exit) lets the next one in. */
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &f->s, err, sizeof(err)), 0);
}

/* ---- seats, dup groups, linger, reclaim, removal ---- */

/* A checkout as user from a given display (dup grouping's key). */
static int
co_disp(struct fx *f, const char *principal, const char *product,
    const char *display, uint32_t count, int64_t now, struct store_grant *g)
{
	struct store_checkout_req r = req(principal, product, "1", count, now);

	r.display = display;
	return store_checkout(f->s, &r, g);
}

static uint32_t
in_use_of(struct fx *f, const char *product, int64_t now)
{
	struct store_pool_status *ps = NULL;
	size_t n = 0, i;
	uint32_t u = 0;

	assert_int_equal(store_status(f->s, product, now, &ps, &n), 0);
	for (i = 0; i < n; i++)
		u += ps[i].in_use;
	free(ps);
	return u;
}

static void
test_dup_group_shares(void **state)
{
	struct fx *f = *state;
	struct store_grant g1, g2, g3;
	int64_t leases, seats;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1:0", 1, NOW, &g1), 0);
	assert_int_equal(g1.shared, 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1:0", 1, NOW, &g2), 0);
	assert_int_equal(g2.shared, 1);
	assert_string_not_equal(g1.lease_id, g2.lease_id);
	assert_int_equal(g2.in_use, 1);
	assert_int_equal(in_use_of(f, "draw", NOW), 1);
	/* A bigger checkout of the group grows its seat. */
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1:0", 2, NOW, &g3), 0);
	assert_int_equal(g3.shared, 1);
	assert_int_equal(in_use_of(f, "draw", NOW), 2);
	assert_int_equal(store_count_leases(f->s, &leases, &seats), 0);
	assert_int_equal(leases, 3);
	assert_int_equal(seats, 2);
	/* Another principal on the same display: no room. */
	assert_int_equal(co_disp(f, "b@EX", "draw", "ws1:0", 1, NOW, &g1),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(g1.queueable, 1);
	/* Releasing the 2-seat lease shrinks the seat to the largest left. */
	assert_int_equal(store_release(f->s, "a@EX", g3.lease_id, NOW, NULL),
	    0);
	assert_int_equal(in_use_of(f, "draw", NOW), 1);
	assert_int_equal(store_release(f->s, "a@EX", g2.lease_id, NOW, NULL),
	    0);
	assert_int_equal(in_use_of(f, "draw", NOW), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'grant' AND seats = 0", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT group_concat(seats, ',') FROM"
	    " (SELECT seats FROM events WHERE kind IN ('grant', 'release')"
	    " ORDER BY id)", NULL), 1);	/* "1,0,1,-1,0": starts with 1 */
	assert_int_equal(raw_int(f, "SELECT group_concat(seats, ',') ="
	    " '1,0,1,-1,0' FROM (SELECT seats FROM events WHERE kind IN"
	    " ('grant', 'release') ORDER BY id)", NULL), 1);
}

static void
test_dup_group_modes(void **state)
{
	struct fx *f = *state;
	struct license l[3] = {
		lic("site", "1", "2", 1, 0, 0, "S1"),
		lic("none", "1", "2", 2, 0, 0, "S2"),
		lic("user", "1", "2", 1, 0, 0, "S3"),
	};
	struct store_grant g;

	strcpy(l[0].dup_group, "site");
	strcpy(l[1].dup_group, "none");
	strcpy(l[2].dup_group, "user");
	assert_int_equal(store_sync_pools(f->s, l, 3, NOW), 0);
	assert_int_equal(co_disp(f, "a@EX", "site", "h:0", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "b@EX", "site", "x:3", 1, NOW, &g), 0);
	assert_int_equal(g.shared, 1);
	assert_int_equal(co_disp(f, "a@EX", "none", "h:0", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "a@EX", "none", "h:0", 1, NOW, &g), 0);
	assert_int_equal(g.shared, 0);
	assert_int_equal(co_disp(f, "a@EX", "none", "h:0", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(co_disp(f, "a@EX", "user", "h:0", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "a@EX", "user", "h:9", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "b@EX", "user", "h:0", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
	/* No display: the pid stands in, so two processes are two seats. */
	{
		struct store_checkout_req r = req("c@EX", "site", "1", 1, NOW);

		r.display = "";
		assert_int_equal(store_checkout(f->s, &r, &g), 0);
		assert_int_equal(g.shared, 1);	/* site: still one */
	}
}

static void
test_linger(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 1, 0, 0, "S1");
	struct store_grant g;
	int n = 0, freed = 1;

	l.linger_s = 10;
	sync1(f, l);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 1,
	    &freed), 0);
	assert_int_equal(freed, 0);
	assert_int_equal(in_use_of(f, "draw", NOW + 2), 1);
	assert_true(store_next_expiry(f->s) == NOW + 11);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW + 2, &g),
	    XLICEN_E_NO_SEATS);
	/* The same group takes its seat back during the linger. */
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW + 3, &g), 0);
	assert_int_equal(g.shared, 1);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 4,
	    NULL), 0);
	/* Expiry of a lease does not linger; the linger's end frees. */
	assert_int_equal(store_expire(f->s, NOW + 14, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(in_use_of(f, "draw", NOW + 14), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'linger' AND seats = -1 AND principal = 'a@EX'", NULL), 1);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW + 14, &g),
	    0);
	assert_int_equal(store_expire(f->s, NOW + 14 + TTL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(in_use_of(f, "draw", NOW + 14 + TTL), 0);
}

/* Orphans: the grace, the sweep (audited 'orphan', the seat lingering as
 * after a release), re-attaching by RECLAIM or HEARTBEAT, a grace that
 * would outlast the lease, the grace again at start. */
static void
test_orphan(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 2, 0, 0, "S1");
	struct store_grant g, g2, r;
	struct store_report_row *rows = NULL;
	const char *ids[2];
	size_t k = 99, nrows = 0, i;
	int64_t exp;
	int n = 0;

	assert_int_equal(store_orphan(NULL, ids, 1, NOW, 10, &k),
	    XLICEN_E_INVALID);
	assert_int_equal(k, 0);
	assert_int_equal(store_orphan(f->s, NULL, 1, NOW, 10, &k),
	    XLICEN_E_INVALID);
	l.linger_s = 5;
	sync1(f, l);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:1", 1, NOW, &g2), 0);
	/* A heartbeat held in memory does not undo the grace. */
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 1,
	    &exp), 0);
	ids[0] = g.lease_id;
	ids[1] = g2.lease_id;
	assert_int_equal(store_orphan(f->s, ids, 2, NOW + 2, 0, &k), 0);
	assert_int_equal(k, 0);
	assert_int_equal(store_orphan(f->s, ids, 2, NOW + 2, 10, &k), 0);
	assert_int_equal(k, 2);
	assert_true(store_next_expiry(f->s) == NOW + 12);
	/* Orphans already: their grace does not move. */
	assert_int_equal(store_orphan(f->s, ids, 2, NOW + 5, 10, &k), 0);
	assert_int_equal(k, 0);
	/* A RECLAIM within the grace keeps the lease, with a new TTL. */
	assert_int_equal(store_reclaim(f->s, "a@EX", g2.lease_id, NULL, NULL,
	    7, NOW + 6, &r), 0);
	assert_string_equal(r.lease_id, g2.lease_id);
	assert_true(r.expires == NOW + 6 + TTL);
	assert_int_equal(raw_int(f, "SELECT orphan_until FROM leases"
	    " WHERE id = ?1", g2.lease_id, NULL), 0);
	assert_int_equal(store_expire(f->s, NOW + 11, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(in_use_of(f, "draw", NOW + 11), 2);
	/* Once its grace is over it is gone, swept or not. */
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 12,
	    &exp), XLICEN_E_NO_LEASE);
	assert_int_equal(store_reclaim(f->s, "a@EX", g.lease_id, NULL, NULL,
	    7, NOW + 12, &r), XLICEN_E_NO_LEASE);
	/* The sweep: the orphan goes, its seat lingers. */
	assert_int_equal(store_expire(f->s, NOW + 12, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases WHERE id = ?1",
	    g.lease_id, NULL), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'orphan' AND lease_id = ?1 AND principal = 'a@EX' AND seats = 0"
	    " AND count = 1", g.lease_id, NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'expire'", NULL), 0);
	assert_int_equal(in_use_of(f, "draw", NOW + 12), 2);
	assert_true(store_next_expiry(f->s) == NOW + 17);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 13,
	    &exp), XLICEN_E_NO_LEASE);
	assert_int_equal(store_expire(f->s, NOW + 17, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(in_use_of(f, "draw", NOW + 17), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'linger' AND seats = -1", NULL), 1);
	/* The report ends the orphan's lease hours when it was freed: 12 s
	 * of g and 17 s of g2. */
	assert_int_equal(store_report(f->s, NOW, NOW + 17, NOW + 17, "draw",
	    &rows, &nrows), 0);
	for (i = 0; i < nrows; i++)
		if (strcmp(rows[i].principal, "a@EX") == 0)
			assert_int_equal(rows[i].seconds, 12 + 17);
	assert_int_equal(nrows, 2);
	free(rows);

	/* A heartbeat re-attaches an orphan, even one whose last heartbeat
	 * is still held in memory; another principal's does not. */
	assert_int_equal(store_heartbeat(f->s, "a@EX", g2.lease_id, NOW + 18,
	    &exp), 0);
	ids[0] = g2.lease_id;
	assert_int_equal(store_orphan(f->s, ids, 1, NOW + 20, 10, &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(store_heartbeat(f->s, "b@EX", g2.lease_id, NOW + 21,
	    &exp), XLICEN_E_NOT_OWNER);
	assert_int_equal(raw_int(f, "SELECT orphan_until FROM leases"
	    " WHERE id = ?1", g2.lease_id, NULL), NOW + 30);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g2.lease_id, NOW + 25,
	    &exp), 0);
	assert_true(exp == NOW + 25 + TTL);
	assert_int_equal(raw_int(f, "SELECT orphan_until FROM leases"
	    " WHERE id = ?1", g2.lease_id, NULL), 0);
	assert_int_equal(store_expire(f->s, NOW + 31, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(in_use_of(f, "draw", NOW + 31), 1);

	/* A grace that would end after the lease expires changes nothing. */
	assert_int_equal(store_orphan(f->s, ids, 1, NOW + 20 + TTL, 10, &k),
	    0);
	assert_int_equal(k, 0);

	/* At start an orphan's grace begins again; with none, it is an
	 * orphan no more and keeps its TTL. */
	assert_int_equal(store_orphan(f->s, ids, 1, NOW + 30, 10, &k), 0);
	assert_int_equal(k, 1);
	reopen(f);
	assert_int_equal(store_orphans_rearm(f->s, NOW + 60, 10), 0);
	assert_int_equal(raw_int(f, "SELECT orphan_until FROM leases"
	    " WHERE id = ?1", g2.lease_id, NULL), NOW + 70);
	assert_int_equal(store_orphans_rearm(f->s, NOW + 61, 0), 0);
	assert_int_equal(raw_int(f, "SELECT orphan_until FROM leases"
	    " WHERE id = ?1", g2.lease_id, NULL), 0);
	assert_int_equal(store_expire(f->s, NOW + 80, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(in_use_of(f, "draw", NOW + 80), 1);
}

static void
test_reclaim_and_remove(void **state)
{
	struct fx *f = *state;
	struct store_grant g, r;
	char owner[64];
	int64_t exp;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	assert_int_equal(store_reclaim(f->s, "a@EX", g.lease_id, "ws9",
	    "ws9:1", 99, NOW + 5, &r), 0);
	assert_string_equal(r.lease_id, g.lease_id);
	assert_true(r.expires == NOW + 5 + TTL);
	assert_int_equal(r.heartbeat_s, TTL / 3);
	assert_int_equal(r.in_use, 1);
	assert_int_equal(r.total, 2);
	assert_int_equal(raw_int(f, "SELECT pid = 99 AND host = 'ws9' FROM"
	    " leases WHERE id = ?1", g.lease_id, NULL), 1);
	assert_int_equal(store_reclaim(f->s, "b@EX", g.lease_id, NULL, NULL, 1,
	    NOW + 5, &r), XLICEN_E_NOT_OWNER);
	assert_string_equal(r.lease_id, "");
	assert_int_equal(store_reclaim(f->s, "a@EX", g.lease_id, NULL, NULL, 1,
	    NOW + 6 + TTL, &r), XLICEN_E_NO_LEASE);
	assert_int_equal(store_reclaim(f->s, "a@EX", "nope", NULL, NULL, 1,
	    NOW, &r), XLICEN_E_NO_LEASE);

	/* Removal: revoked to its owner, unknown to everyone else. */
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	assert_int_equal(in_use_of(f, "draw", NOW), 2);
	assert_int_equal(store_remove(f->s, "root@EX", g.lease_id, NOW + 1,
	    owner, sizeof(owner), NULL), 0);
	assert_string_equal(owner, "a@EX");
	assert_int_equal(in_use_of(f, "draw", NOW + 1), 1);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 2,
	    &exp), XLICEN_E_REVOKED);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 2, NULL),
	    XLICEN_E_REVOKED);
	assert_int_equal(store_reclaim(f->s, "a@EX", g.lease_id, NULL, NULL, 1,
	    NOW + 2, &r), XLICEN_E_REVOKED);
	assert_int_equal(store_heartbeat(f->s, "b@EX", g.lease_id, NOW + 2,
	    &exp), XLICEN_E_NO_LEASE);
	assert_int_equal(store_remove(f->s, "root@EX", g.lease_id, NOW + 2,
	    owner, sizeof(owner), NULL), XLICEN_E_NO_LEASE);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'remove' AND principal = 'a@EX' AND detail = 'by root@EX' AND"
	    " seats = -1", NULL), 1);
	/* A day later the revocation is forgotten: NO_LEASE. */
	assert_int_equal(store_expire(f->s, NOW + 2 + LIMIT_REVOKED_KEEP_S,
	    NULL), 0);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id,
	    NOW + 3 + LIMIT_REVOKED_KEEP_S, &exp), XLICEN_E_NO_LEASE);
}

static void
test_kinds(void **state)
{
	struct fx *f = *state;
	struct license l[3] = {
		lic("free", "1", "2", 0, 0, 0, "S1"),
		lic("locked", "1", "2", 1, 0, 0, "S2"),
		lic("plocked", "1", "2", 1, 0, 0, "S3"),
	};
	struct store_pool_status *ps = NULL;
	struct store_grant g;
	struct store_checkout_req r;
	size_t n = 0;
	int i;

	l[0].uncounted = 1;
	strcpy(l[1].hostid, "host:WS1.example.org");
	strcpy(l[2].hostid, "principal:b@EX");
	assert_int_equal(store_sync_pools(f->s, l, 3, NOW), 0);
	for (i = 0; i < 20; i++)
		assert_int_equal(checkout(f, "a@EX", "free", "1", 1, NOW, &g),
		    0);
	assert_int_equal(g.uncounted, 1);
	assert_int_equal(store_status(f->s, "free", NOW, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ps[0].uncounted, 1);
	assert_int_equal(ps[0].total, 0);
	assert_int_equal(ps[0].in_use, 20);
	free(ps);
	/* req() reports host ws1.example.org (canonical). */
	assert_int_equal(checkout(f, "a@EX", "locked", "1", 1, NOW, &g), 0);
	r = req("a@EX", "locked", "1", 1, NOW);
	r.host = "ws2.example.org";
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_WRONG_HOST);
	assert_int_equal(checkout(f, "a@EX", "plocked", "1", 1, NOW, &g),
	    XLICEN_E_WRONG_HOST);
	assert_int_equal(checkout(f, "b@EX", "plocked", "1", 1, NOW, &g), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'deny' AND code = 75", NULL), 2);
}

/*
 * A host: node lock and dup_group host compare host claims in the one
 * canonical form (common/display.h): the lock's host under any spelling
 * (blanks, case, final dot, short name or FQDN) is the lock's host, and
 * checkouts claiming one host under two spellings share its seat.
 */
static void
test_host_spellings(void **state)
{
	static const struct {
		const char *host;
		int code;
	} lock_rows[] = {
		{ "ws1", 0 },
		{ "ws1 ", 0 },
		{ " WS1.Example.Org. ", 0 },
		{ "ws1.example.org.", 0 },
		{ "ws10.example.org", XLICEN_E_WRONG_HOST },
		{ "ws2", XLICEN_E_WRONG_HOST },
		{ "", XLICEN_E_WRONG_HOST },
	};
	struct fx *f = *state;
	struct license l[2] = {
		lic("locked", "1", "2", 100, 0, 0, "S1"),
		lic("byhost", "1", "2", 1, 0, 0, "S2"),
	};
	struct store_checkout_req r;
	struct store_grant g;
	size_t i;
	int rc;

	strcpy(l[0].hostid, "host:WS1.example.org");
	strcpy(l[1].dup_group, "host");
	assert_int_equal(store_sync_pools(f->s, l, 2, NOW), 0);
	for (i = 0; i < sizeof(lock_rows) / sizeof(lock_rows[0]); i++) {
		r = req("a@EX", "locked", "1", 1, NOW);
		r.host = lock_rows[i].host;
		rc = store_checkout(f->s, &r, &g);
		if (rc != lock_rows[i].code)
			fail_msg("lock row %zu: claim \"%s\": %d, want %d", i,
			    lock_rows[i].host, rc, lock_rows[i].code);
	}
	/* dup_group host: bob claiming alice's host under another spelling
	 * is in her group (one seat), not a second seat of the pool. */
	r = req("a@EX", "byhost", "1", 1, NOW);
	r.host = "ws1.example.org";
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	r = req("b@EX", "byhost", "1", 1, NOW);
	r.host = "WS1 ";
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(g.shared, 1);
	r = req("b@EX", "byhost", "1", 1, NOW);
	r.host = "ws2";
	assert_int_equal(store_checkout(f->s, &r, &g),
	    XLICEN_E_NO_SEATS);
}

static void
test_license_ttl(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 3, 0, 0, "S1");
	struct store_grant g;

	l.ttl_s = 9;
	l.heartbeat_s = 2;
	sync1(f, l);
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	assert_true(g.expires == NOW + 9);
	assert_int_equal(g.ttl_s, 9);
	assert_int_equal(g.heartbeat_s, 2);
	l.heartbeat_s = 0;
	l.ttl_s = 0;
	sync1(f, l);
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	assert_true(g.expires == NOW + TTL);
	assert_int_equal(g.heartbeat_s, TTL / 3);
}

/* A policy file written into the test's directory. */
static struct policy *
policy_of(struct fx *f, const char *text)
{
	char path[700], err[512];
	struct policy *p = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "%s.policy", f->path);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	if (policy_load(path, &p, err, sizeof(err)) != 0)
		fail_msg("policy: %s", err);
	unlink(path);
	return p;
}

/*
 * A borrowed lease (issue 17): the license's borrow field and the
 * policy's borrow_days, borrow_seats decide; it ends at its end whatever
 * heartbeats, reclaims, restarts and closed connections do; an admin's
 * remove only cancels it (still counted; REVOKED to its owner's
 * heartbeat); its owner's release frees it.
 */
static void
test_borrowed_lease(void **state)
{
	struct fx *f = *state;
	struct license l[2] = { lic("draw", "1", "1", 3, 0, 0, "S1"),
	    lic("nob", "1", "1", 3, 0, 0, "S2") };
	struct policy *p = policy_of(f, "[default]\n"
	    "\tborrow_days = 2\n\tborrow_seats = 1\n");
	struct store_checkout_req r;
	struct store_grant g;
	const char *ids[1];
	char owner[64], endtxt[32], id[LIMIT_LEASE_ID + 1];
	int64_t exp = 0, end = NOW + DAY, cend = 0;
	size_t n = 9;

	l[0].borrow_days = 3;
	assert_int_equal(store_sync_pools(f->s, l, 2, NOW), 0);
	r = req("a@EX", "draw", "1", 1, NOW);
	r.lics = l;
	r.nlics = 2;
	r.borrow_end = end;
	/* No policy: nothing may be borrowed. */
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_BORROW);
	r.policy = p;
	r.product = "nob";
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_BORROW);
	assert_string_equal(g.reason, "no license of nob allows borrowing");
	r.product = "draw";
	r.borrow_end = NOW + 4 * DAY;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_BORROW_PERIOD);
	assert_string_equal(g.reason, "the licenses of draw allow borrowing "
	    "for at most 3 days");
	r.borrow_end = NOW + 5 * DAY / 2;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_BORROW_PERIOD);
	r.borrow_end = NOW;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_BAD_VALUE);
	r.borrow_end = end;
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_true(g.expires == end);
	assert_int_equal(g.heartbeat_s, 0);
	snprintf(endtxt, sizeof(endtxt), "%lld", (long long)end);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'borrow' AND detail = 'until ' || ?1", endtxt, NULL), 1);
	snprintf(id, sizeof(id), "%s", g.lease_id);
	ids[0] = id;
	r.principal = "b@EX";
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_BORROW_LIMIT);
	/* Nothing stretches it. */
	assert_int_equal(store_heartbeat(f->s, "a@EX", ids[0], NOW + 10, &exp),
	    0);
	assert_true(exp == end);
	assert_int_equal(store_orphan(f->s, ids, 1, NOW + 10, 5, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_reclaim(f->s, "a@EX", ids[0], NULL, NULL, 1,
	    NOW + 20, &g), 0);
	assert_true(g.expires == end);
	reopen(f);
	assert_int_equal(store_extend_leases(f->s, NOW + 30), 0);
	assert_int_equal(store_expire(f->s, NOW + 30, NULL), 0);
	assert_true(raw_int(f, "SELECT expires_at FROM leases WHERE id = ?1",
	    ids[0], NULL) == end);
	/* Cancelled: still counted, REVOKED to its owner. */
	assert_int_equal(store_remove(f->s, "admin@EX", ids[0], NOW + 40,
	    owner, sizeof(owner), &cend), 0);
	assert_string_equal(owner, "a@EX");
	assert_true(cend == end);	/* only cancelled: counted until then */
	assert_int_equal(raw_int(f, "SELECT borrow FROM leases WHERE id = ?1",
	    ids[0], NULL), 2);
	assert_int_equal(raw_int(f, "SELECT in_use FROM pools WHERE serial ="
	    " 'S1'", NULL), 1);
	assert_int_equal(store_heartbeat(f->s, "a@EX", ids[0], NOW + 50, &exp),
	    XLICEN_E_REVOKED);
	/* Its owner returns it. */
	assert_int_equal(store_release(f->s, "a@EX", ids[0], NOW + 60, NULL),
	    0);
	assert_int_equal(raw_int(f, "SELECT in_use FROM pools WHERE serial ="
	    " 'S1'", NULL), 0);
	policy_free(p);
}

static void
test_checkout_policy(void **state)
{
	struct fx *f = *state;
	struct policy *p = policy_of(f,
	    "[products]\n"
	    "\tdraw = {\n"
	    "\t\texclude = mallory@EX\n"
	    "\t\tmax = 1 a@EX\n"
	    "\t\treserve = 2 c@EX\n"
	    "\t\tdup_group = none\n"
	    "\t\tttl = 30\n"
	    "\t}\n");
	struct store_checkout_req r;
	struct store_grant g;

	sync1(f, lic("draw", "1", "2", 4, 0, 0, "S1"));
	r = req("mallory@EX", "draw", "1", 1, NOW);
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_EXCLUDED);
	assert_int_equal(g.queueable, 0);
	assert_non_null(strstr(g.reason, "excluded"));
	r.principal = "a@EX";
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_true(g.expires == NOW + 30);	/* the policy's ttl */
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_MAX_REACHED);
	assert_int_equal(g.queueable, 1);
	/* 4 seats, 1 used, 2 reserved for c: b gets 1, then no more. */
	r.principal = "b@EX";
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_NO_SEATS);
	assert_int_equal(g.queueable, 1);
	assert_string_equal(g.reason, "2 of 4 seats of draw in use and 2 of "
	    "the free ones reserved for others (1 wanted)");
	assert_int_equal(g.reserved_others, 2);
	r.principal = "c@EX";
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_NO_SEATS);
	assert_int_equal(g.reserved_others, 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'deny' AND code = 73 AND principal = 'mallory@EX'", NULL), 1);
	/* quiet: a denial is not audited. */
	r.quiet = 1;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_NO_SEATS);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'deny' AND principal = 'c@EX'", NULL), 1);
	policy_free(p);
}

static void
test_holders(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 3, 0, 0, "S1");
	struct store_holder *h = NULL;
	struct store_grant g1, g2;
	size_t n = 0;

	l.linger_s = 60;
	sync1(f, l);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g1), 0);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:1", 2, NOW + 1, &g2), 0);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g1.lease_id, NOW + 2,
	    NULL), 0);
	assert_int_equal(store_holders(f->s, NULL, NULL, NOW + 3, &h, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(h[0].principal, "a@EX");
	assert_string_equal(h[0].lease_id, g1.lease_id);
	assert_string_equal(h[0].display, "h:0");
	assert_string_equal(h[0].version, "1");
	assert_true(h[0].since == NOW);
	assert_true(h[0].last_hb == NOW + 2);
	assert_true(h[0].expires == NOW + 2 + TTL);
	assert_int_equal(h[0].count, 1);
	assert_int_equal(h[1].count, 2);
	free(h);
	/* Only one principal's; a released seat lingering in the full list. */
	assert_int_equal(store_release(f->s, "b@EX", g2.lease_id, NOW + 4,
	    NULL), 0);
	assert_int_equal(store_holders(f->s, "draw", "b@EX", NOW + 5, &h, &n),
	    0);
	assert_int_equal(n, 0);
	free(h);
	assert_int_equal(store_holders(f->s, "draw", NULL, NOW + 5, &h, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(h[1].lingering, 1);
	assert_string_equal(h[1].principal, "b@EX");
	assert_string_equal(h[1].lease_id, "");
	assert_true(h[1].expires == NOW + 64);
	free(h);
	assert_int_equal(store_holders(f->s, "other", NULL, NOW + 5, &h, &n), 0);
	assert_int_equal(n, 0);
	assert_null(h);
}

/* ---- the audit chain and reports ---- */

static void
test_chain_intact_and_tampered(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	uint64_t nev = 0, bad = 9;
	char head[65], head2[65];
	sqlite3 *db;

	sync1(f, lic("draw", "1", "2", 1, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	assert_int_equal(checkout(f, "b@EX", "draw", "1", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(nev, 3);
	assert_int_equal(bad, 0);
	assert_int_equal(strlen(head), 64);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " length(hash) = 32", NULL), 3);
	/* The trigger still refuses edits... */
	db = raw_open(f);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET principal ="
	    " 'x' WHERE id = 2", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET hash = NULL"
	    " WHERE id = 2", NULL, NULL, NULL), SQLITE_OK);
	/* ...but someone who drops it can edit: the chain tells. */
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER events_no_update;"
	    " UPDATE events SET principal = 'mallory@EX' WHERE id = 2", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head2), 0);
	assert_int_equal(bad, 2);
	assert_int_equal(nev, 2);
	/* Deleting a row breaks it at the next one. */
	db = raw_open(f);
	assert_int_equal(sqlite3_exec(db, "UPDATE events SET principal ="
	    " 'a@EX' WHERE id = 2; DROP TRIGGER events_no_delete;"
	    " DELETE FROM events WHERE id = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head2), 0);
	assert_int_equal(bad, 3);
}

/*
 * A row put in by hand before the first event, with an id below 1 that
 * AUTOINCREMENT never gives: the chain breaks there, and 0 (which means
 * "intact" to REPORT verify) must not hide it, nor the edit after it.
 */
static void
test_chain_hand_row_below_one(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	uint64_t nev = 0, bad = 0;
	char head[65];
	sqlite3 *db;
	const char *ids[] = { "0", "-5" };
	size_t i;

	sync1(f, lic("draw", "1", "2", 1, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	db = raw_open(f);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER events_no_update;"
	    " DROP TRIGGER events_no_delete;"
	    " UPDATE events SET principal = 'mallory@EX' WHERE id = 2", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char sql[256];

		db = raw_open(f);
		snprintf(sql, sizeof(sql), "DELETE FROM events WHERE id < 1;"
		    " CREATE TEMP TABLE t AS SELECT * FROM events WHERE id = 1;"
		    " UPDATE t SET id = %s, hash = zeroblob(32);"
		    " INSERT INTO events SELECT * FROM t; DROP TABLE t", ids[i]);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
		assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
		assert_int_equal(nev, 1);
		assert_true(bad == UINT64_MAX);
	}
}

/*
 * Every column the chain covers, tampered with one at a time in the
 * database file (the triggers dropped, as an attacker with the file
 * would): the verifier must name the tampered event.  Row 3 is a shared
 * grant, so every column of it holds a value (detail too); a value set
 * to NULL, or NULL set to a value, must tell as well as a changed one.
 * After each case the original rows are put back and the chain must be
 * intact again, so each case is judged on its own.
 */
static void
test_chain_every_column(void **state)
{
	static const struct {
		const char *set;	/* SET clause for the row */
		int64_t id;		/* row tampered with */
		uint64_t bad;		/* event the verifier must name */
	} cases[] = {
		{ "ts = ts + 1", 3, 3 },
		{ "kind = 'release'", 3, 3 },
		{ "principal = 'mallory@EX'", 3, 3 },
		{ "principal = NULL", 3, 3 },
		{ "host = 'ws9.example.org'", 3, 3 },
		{ "display = ''", 3, 3 },
		{ "display = NULL", 3, 3 },
		{ "product = 'paint'", 3, 3 },
		{ "version = '1.1'", 3, 3 },
		{ "lease_id = lease_id || 'x'", 3, 3 },
		{ "pool_id = pool_id + 1", 3, 3 },
		{ "pool_id = NULL", 3, 3 },
		{ "count = count + 1", 3, 3 },
		{ "count = NULL", 3, 3 },
		{ "code = 71", 3, 3 },
		{ "code = 0", 4, 4 },		/* the denial's NO_SEATS */
		{ "detail = detail || '.'", 3, 3 },
		{ "detail = ''", 3, 3 },
		{ "detail = NULL", 3, 3 },
		{ "detail = 'x'", 2, 2 },	/* a grant's NULL detail */
		{ "seats = 1", 3, 3 },		/* shared: 0 */
		{ "seats = NULL", 3, 3 },
		{ "hash = zeroblob(32)", 3, 3 },
		{ "hash = NULL", 3, 3 },
		{ "id = 50", 5, 50 },		/* the last row moved */
	};
	struct fx *f = *state;
	struct store_grant g1, g2, g3;
	uint64_t nev = 0, bad = 9;
	char head[65], head2[65], sql[256];
	sqlite3 *db;
	size_t i;

	sync1(f, lic("draw", "1", "2", 1, 0, 0, "S1"));
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1.example.org:0", 1,
	    NOW + 1, &g1), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1.example.org:0", 1,
	    NOW + 2, &g2), 0);
	assert_int_equal(g2.shared, 1);
	assert_int_equal(co_disp(f, "b@EX", "draw", "ws2.example.org:0", 1,
	    NOW + 3, &g3), XLICEN_E_NO_SEATS);
	assert_int_equal(store_release(f->s, "a@EX", g1.lease_id, NOW + 4,
	    NULL), 0);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(nev, 5);
	assert_int_equal(bad, 0);
	/* Row 3 has every column filled in: a case changes a value. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE id = 3"
	    " AND kind = 'grant' AND principal = 'a@EX' AND host IS NOT NULL"
	    " AND display <> '' AND product = 'draw' AND version IS NOT NULL"
	    " AND lease_id IS NOT NULL AND pool_id IS NOT NULL AND count = 1"
	    " AND code = 0 AND detail <> '' AND seats = 0", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE id = 4"
	    " AND code <> 0", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE id = 2"
	    " AND detail IS NULL", NULL), 1);

	db = raw_open(f);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER events_no_update;"
	    " DROP TRIGGER events_no_delete;"
	    " CREATE TABLE orig AS SELECT * FROM events", NULL, NULL, NULL),
	    SQLITE_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(sql, sizeof(sql), "UPDATE events SET %s WHERE id = %"
		    PRId64, cases[i].set, cases[i].id);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_changes(db), 1);
		assert_int_equal(store_verify_chain(f->s, &nev, &bad, head2),
		    0);
		if (bad != cases[i].bad)
			fail_msg("%s: verify named event %" PRIu64 ", not %"
			    PRIu64, sql, bad, cases[i].bad);
		/* Checked up to and including the bad one; the head is
		 * the last good event's. */
		assert_int_equal(nev, cases[i].id);
		assert_string_not_equal(head2, head);
		assert_int_equal(sqlite3_exec(db, "DELETE FROM events;"
		    " INSERT INTO events SELECT * FROM orig", NULL, NULL, NULL),
		    SQLITE_OK);
		assert_int_equal(store_verify_chain(f->s, &nev, &bad, head2),
		    0);
		assert_int_equal(bad, 0);
		assert_int_equal(nev, 5);
		assert_string_equal(head2, head);
	}
	sqlite3_close(db);
}

/*
 * Tampering the hash encoding cannot see: a value changed only in how
 * SQLite stores it, so that reading it back as the chain reads it (text up
 * to its first NUL, an integer column as sqlite3_column_int64) gives the
 * hashed value again.  A text with a NUL inside, a BLOB where text was
 * written, a REAL or a TEXT in an integer column: each is a row that is not
 * the event its hash covers, and the verifier must name it like any other
 * tampered row.  Row 3 is the shared grant of test_chain_every_column
 * (every column filled in; code 0, seats 0); after each case the original
 * rows are put back and the chain must be intact again.
 */
static void
test_chain_stored_types(void **state)
{
	static const char *const cases[] = {
		"principal = principal || char(0) || 'mallory'",
		"detail = detail || char(0) || 'forged'",
		"kind = kind || char(0)",
		"lease_id = CAST(lease_id AS BLOB)",
		"host = CAST(host AS BLOB)",
		"pool_id = pool_id + 0.5",
		"count = count + 0.25",
		"seats = 0.5",
		"code = 0.5",
		"ts = ts + 0.5",
		"pool_id = pool_id || ' (pool)'",
		"count = count || 'x'",
		"seats = '0 seats'",
		"code = '0k'",
		"ts = ts || 'Z'",
	};
	struct fx *f = *state;
	struct store_grant g1, g2, g3;
	uint64_t nev = 0, bad = 9;
	char head[65], head2[65], sql[256];
	sqlite3 *db;
	size_t i;

	sync1(f, lic("draw", "1", "2", 1, 0, 0, "S1"));
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1.example.org:0", 1,
	    NOW + 1, &g1), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1.example.org:0", 1,
	    NOW + 2, &g2), 0);
	assert_int_equal(g2.shared, 1);
	assert_int_equal(co_disp(f, "b@EX", "draw", "ws2.example.org:0", 1,
	    NOW + 3, &g3), XLICEN_E_NO_SEATS);
	assert_int_equal(store_release(f->s, "a@EX", g1.lease_id, NOW + 4,
	    NULL), 0);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(nev, 5);
	assert_int_equal(bad, 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE id = 3"
	    " AND typeof(detail) = 'text' AND code = 0 AND seats = 0", NULL),
	    1);

	db = raw_open(f);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER events_no_update;"
	    " DROP TRIGGER events_no_delete;"
	    " CREATE TABLE orig AS SELECT * FROM events", NULL, NULL, NULL),
	    SQLITE_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(sql, sizeof(sql), "UPDATE events SET %s WHERE id = 3",
		    cases[i]);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_changes(db), 1);
		/* The change is one SQLite keeps (no affinity undid it). */
		assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events AS e"
		    " JOIN orig AS o USING (id) WHERE id = 3 AND"
		    " (e.principal IS NOT o.principal OR e.detail IS NOT o.detail"
		    " OR e.kind IS NOT o.kind OR e.lease_id IS NOT o.lease_id"
		    " OR e.host IS NOT o.host OR e.pool_id IS NOT o.pool_id"
		    " OR e.count IS NOT o.count OR e.seats IS NOT o.seats"
		    " OR e.code IS NOT o.code OR e.ts IS NOT o.ts)", NULL), 1);
		assert_int_equal(store_verify_chain(f->s, &nev, &bad, head2),
		    0);
		if (bad != 3)
			fail_msg("%s: verify named event %" PRIu64 ", not 3",
			    sql, bad);
		assert_int_equal(nev, 3);
		assert_string_not_equal(head2, head);
		assert_int_equal(sqlite3_exec(db, "DELETE FROM events;"
		    " INSERT INTO events SELECT * FROM orig", NULL, NULL, NULL),
		    SQLITE_OK);
		assert_int_equal(store_verify_chain(f->s, &nev, &bad, head2),
		    0);
		assert_int_equal(bad, 0);
		assert_int_equal(nev, 5);
		assert_string_equal(head2, head);
	}
	sqlite3_close(db);
}

/* A database of 0001 with history gets seats and hashes when opened. */
static void
test_migration_0002(void **state)
{
	struct fx *f = *state;
	const char *src = getenv("XLICEN_SOURCE_DIR");
	char path[1024], *sql;
	struct store_grant g;
	uint64_t nev = 0, bad = 9;
	char head[65];
	sqlite3 *db;
	FILE *fp;
	long len;

	/* Not a skip: cmocka's skip() exits 0, which CTest counts as a pass. */
	if (src == NULL || src[0] == '\0')
		fail_msg("XLICEN_SOURCE_DIR is not set (tests/unit/CMakeLists.txt sets it)");
	snprintf(path, sizeof(path), "%s/schema/0001_init.sql", src);
	fp = fopen(path, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	sql = calloc(1, (size_t)len + 1);
	assert_non_null(sql);
	assert_int_equal(fread(sql, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	store_close(f->s);
	f->s = NULL;
	unlink_db(f->path);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	assert_int_equal(sqlite3_exec(db,
	    "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
	    " name TEXT NOT NULL, applied_at INTEGER NOT NULL);"
	    "INSERT INTO schema_version VALUES (1, '0001_init.sql', 1);"
	    "INSERT INTO pools (id, vendor, product, ver_min, ver_max, serial,"
	    " seats, loaded_at) VALUES (1, 'acme', 'draw', '1', '2', 'S1', 1, 1);"
	    "INSERT INTO leases (id, pool_id, principal, count, ttl_s,"
	    " granted_at, heartbeat_at, expires_at) VALUES"
	    " ('0123456789abcdef0123456789abcdef', 1, 'old@EX', 1, 60, 1, 1,"
	    " 9999999999);"
	    "INSERT INTO events (ts, kind, principal, product, lease_id,"
	    " pool_id, count) VALUES (1, 'grant', 'old@EX', 'draw',"
	    " '0123456789abcdef0123456789abcdef', 1, 1);"
	    "INSERT INTO events (ts, kind, detail) VALUES (2, 'reload', 'x');",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(nev, 2);
	assert_int_equal(bad, 0);
	/* The old lease has a seat: the pool is full, and it still works. */
	sync1(f, lic("draw", "1", "2", 1, 0, 0, "S1"));
	assert_int_equal(checkout(f, "new@EX", "draw", "1", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(store_release(f->s, "old@EX",
	    "0123456789abcdef0123456789abcdef", NOW, NULL), 0);
	assert_int_equal(checkout(f, "new@EX", "draw", "1", 1, NOW, &g), 0);
	reopen(f);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(nev, 6);
}

static const struct store_report_row *
row_of(const struct store_report_row *r, size_t n, const char *product,
    const char *principal)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(r[i].product, product) == 0 &&
		    strcmp(r[i].principal, principal) == 0)
			return &r[i];
	fail_msg("no report row %s/%s", product, principal);
	return NULL;
}

static void
test_report(void **state)
{
	struct fx *f = *state;
	struct store_report_row *r = NULL;
	const struct store_report_row *x;
	struct store_grant a, b, c;
	size_t n = 0;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	/* a: [0, 40), b: [20, 55), 1 seat each; c denied at 30. */
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &a), 0);
	assert_int_equal(checkout(f, "b@EX", "draw", "1", 1, NOW + 20, &b), 0);
	assert_int_equal(checkout(f, "c@EX", "draw", "1", 1, NOW + 30, &c),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(store_release(f->s, "a@EX", a.lease_id, NOW + 40,
	    NULL), 0);
	assert_int_equal(store_release(f->s, "b@EX", b.lease_id, NOW + 55,
	    NULL), 0);
	assert_int_equal(store_report(f->s, NOW, NOW + 100, NOW + 1000, NULL,
	    &r, &n), 0);
	x = row_of(r, n, "draw", "");
	assert_int_equal(x->grants, 2);
	assert_int_equal(x->denials, 1);
	assert_int_equal(x->peak, 2);
	/* seats: 1 for 20 s, 2 for 20 s, 1 for 15 s: 75 over 100 s. */
	assert_true(x->avg > 0.749 && x->avg < 0.751);
	assert_int_equal(x->seconds, 40 + 35);
	x = row_of(r, n, "draw", "a@EX");
	assert_int_equal(x->grants, 1);
	assert_int_equal(x->seconds, 40);
	assert_int_equal(x->peak, 1);
	x = row_of(r, n, "draw", "c@EX");
	assert_int_equal(x->denials, 1);
	assert_int_equal(x->seconds, 0);
	/* Products first, then their principals by name. */
	assert_string_equal(r[0].principal, "");
	assert_string_equal(r[1].principal, "a@EX");
	free(r);
	/* A window inside: [30, 50]. */
	assert_int_equal(store_report(f->s, NOW + 30, NOW + 50, NOW + 1000,
	    "draw", &r, &n), 0);
	x = row_of(r, n, "draw", "");
	assert_int_equal(x->grants, 0);
	assert_int_equal(x->denials, 1);
	assert_int_equal(x->peak, 2);
	assert_true(x->avg > 1.49 && x->avg < 1.51);
	assert_int_equal(x->seconds, 10 + 20);
	free(r);
	assert_int_equal(store_report(f->s, NOW + 10, NOW, NOW + 1000, NULL,
	    &r, &n), XLICEN_E_INVALID);
}

/* |got - num/den| is below rounding. */
static void
assert_ratio(double got, double num, double den)
{
	double want = num / den, d = got - want;

	if (d < -1e-9 || d > 1e-9)
		fail_msg("average %.9f, want %.0f/%.0f = %.9f", got, num, den,
		    want);
}

/*
 * A scripted history against numbers worked out by hand.  Pool of 3
 * seats, default dup grouping (principal, host, display); T = NOW:
 *
 *   T+0   a h:0 x1  lease A1, a new seat        seats in use 1
 *   T+10  a h:0 x1  lease A2, shares A1's seat  1 (shared: counted once)
 *   T+20  b h:1 x2  lease B, a new 2-seat seat  3
 *   T+30  c h:2 x1  denied (NO_SEATS)           3
 *   T+40  release A1 (A2 keeps the seat)        3
 *   T+45  release B                             1
 *   T+55  release A2                            0
 *   T+60  d h:3 x1  lease D, still held         1
 *
 * Report [T, T+100] (now far later, so to = T+100, span 100 s):
 *   product: seats 1 on [0,20) 20, 3 on [20,45) 75, 1 on [45,55) 10,
 *     0 on [55,60), 1 on [60,100] 40: 145 seat-s, average 1.45, peak 3
 *     (4 if the shared seat were counted twice); grants 4, denials 1;
 *     seconds = its leases' = 85 + 50 + 40 = 175.
 *   a: lease seats 1 on [0,10) 10, 2 on [10,40) 60, 1 on [40,55) 15 =
 *     85, average 0.85, peak 2 (its two leases), grants 2.
 *   b: 2 seats on [20,45) = 50, average 0.5, peak 2, grants 1.
 *   c: 1 denial, nothing else.  d: [60,100] = 40, average 0.4, peak 1.
 * Report [T+15, T+50] (span 35 s; a's seat and A2 come from before it):
 *   product: 1 on [15,20) 5, 3 on [20,45) 75, 1 on [45,50) 5 = 85,
 *     average 85/35, peak 3, grants 1 (B), denials 1, seconds 60 + 50.
 *   a: 2 on [15,40) 50, 1 on [40,50) 10 = 60, average 60/35, peak 2,
 *     grants 0.  b: 50, average 50/35.  d: not yet granted, no row.
 */
static void
test_report_hand_computed(void **state)
{
	struct fx *f = *state;
	struct store_report_row *r = NULL;
	const struct store_report_row *x;
	struct store_grant a1, a2, b, c, d;
	size_t n = 0, i;

	sync1(f, lic("draw", "1", "2", 3, 0, 0, "S1"));
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &a1), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW + 10, &a2),
	    0);
	assert_int_equal(a2.shared, 1);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:1", 2, NOW + 20, &b),
	    0);
	assert_int_equal(b.in_use, 3);
	assert_int_equal(co_disp(f, "c@EX", "draw", "h:2", 1, NOW + 30, &c),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(store_release(f->s, "a@EX", a1.lease_id, NOW + 40,
	    NULL), 0);
	assert_int_equal(store_release(f->s, "b@EX", b.lease_id, NOW + 45,
	    NULL), 0);
	assert_int_equal(store_release(f->s, "a@EX", a2.lease_id, NOW + 55,
	    NULL), 0);
	assert_int_equal(co_disp(f, "d@EX", "draw", "h:3", 1, NOW + 60, &d),
	    0);
	/* Nothing expired on the way (TTL 60 from each grant). */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind"
	    " = 'expire'", NULL), 0);

	assert_int_equal(store_report(f->s, NOW, NOW + 100, NOW + 1000, NULL,
	    &r, &n), 0);
	assert_int_equal(n, 5);
	x = row_of(r, n, "draw", "");
	assert_int_equal(x->grants, 4);
	assert_int_equal(x->denials, 1);
	assert_int_equal(x->peak, 3);
	assert_ratio(x->avg, 145, 100);
	assert_int_equal(x->seconds, 175);
	x = row_of(r, n, "draw", "a@EX");
	assert_int_equal(x->grants, 2);
	assert_int_equal(x->denials, 0);
	assert_int_equal(x->peak, 2);
	assert_ratio(x->avg, 85, 100);
	assert_int_equal(x->seconds, 85);
	x = row_of(r, n, "draw", "b@EX");
	assert_int_equal(x->grants, 1);
	assert_int_equal(x->peak, 2);
	assert_ratio(x->avg, 50, 100);
	assert_int_equal(x->seconds, 50);
	x = row_of(r, n, "draw", "c@EX");
	assert_int_equal(x->grants, 0);
	assert_int_equal(x->denials, 1);
	assert_int_equal(x->peak, 0);
	assert_ratio(x->avg, 0, 100);
	assert_int_equal(x->seconds, 0);
	x = row_of(r, n, "draw", "d@EX");
	assert_int_equal(x->grants, 1);
	assert_int_equal(x->peak, 1);
	assert_ratio(x->avg, 40, 100);
	assert_int_equal(x->seconds, 40);
	free(r);

	assert_int_equal(store_report(f->s, NOW + 15, NOW + 50, NOW + 1000,
	    "draw", &r, &n), 0);
	for (i = 0; i < n; i++)
		assert_string_not_equal(r[i].principal, "d@EX");
	assert_int_equal(n, 4);
	x = row_of(r, n, "draw", "");
	assert_int_equal(x->grants, 1);
	assert_int_equal(x->denials, 1);
	assert_int_equal(x->peak, 3);
	assert_ratio(x->avg, 85, 35);
	assert_int_equal(x->seconds, 110);
	x = row_of(r, n, "draw", "a@EX");
	assert_int_equal(x->grants, 0);
	assert_int_equal(x->peak, 2);
	assert_ratio(x->avg, 60, 35);
	assert_int_equal(x->seconds, 60);
	x = row_of(r, n, "draw", "b@EX");
	assert_int_equal(x->peak, 2);
	assert_ratio(x->avg, 50, 35);
	assert_int_equal(x->seconds, 50);
	free(r);
}

/* ---- untrusted text and the audit trail ---- */

static void
test_sql_metacharacters(void **state)
{
	static const char evil[] = "x'; DROP TABLE leases;--";
	static const char evil_principal[] = "o'brien\"; --@EX";
	struct fx *f = *state;
	struct store_pool_status *ps = NULL;
	struct store_grant g;
	int64_t leases;
	size_t n = 0;

	sync1(f, lic(evil, "1", "2", 2, 0, 0, "S'1"));
	assert_int_equal(checkout(f, evil_principal, evil, "1", 1, NOW, &g), 0);
	assert_int_equal(store_status(f->s, evil, NOW, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ps[0].product, evil);
	assert_string_equal(ps[0].serial, "S'1");
	assert_int_equal(ps[0].in_use, 1);
	free(ps);
	assert_int_equal(store_count_leases(f->s, &leases, NULL), 0);
	assert_int_equal(leases, 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'grant' AND product = ?1 AND principal = ?2", evil,
	    evil_principal, NULL), 1);
	assert_int_equal(store_release(f->s, evil_principal, g.lease_id, NOW, NULL),
	    0);
}

static void
test_events_recorded(void **state)
{
	struct fx *f = *state;
	struct store_grant g1, g2;
	sqlite3 *db;

	sync1(f, lic("draw", "1", "2", 1, 0, 0, "S1"));
	assert_int_equal(checkout(f, "alice@EX", "draw", "1.1", 1, NOW, &g1),
	    0);
	assert_int_equal(checkout(f, "bob@EX", "draw", "1.1", 1, NOW, &g2),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(checkout(f, "bob@EX", "nope", "1", 1, NOW, &g2),
	    XLICEN_E_NO_PRODUCT);
	assert_int_equal(store_release(f->s, "alice@EX", g1.lease_id, NOW + 1, NULL),
	    0);
	assert_int_equal(checkout(f, "carol@EX", "draw", "1", 1, NOW + 2, &g2),
	    0);
	assert_int_equal(store_expire(f->s, NOW + 2 + TTL, NULL), 0);

	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events", NULL), 7);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'grant' AND principal = 'alice@EX' AND lease_id = ?1 AND"
	    " product = 'draw' AND version = '1.1' AND count = 1 AND code = 0"
	    " AND host = 'ws1.example.org' AND display = 'ws1.example.org:0'",
	    g1.lease_id, NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'deny' AND principal = 'bob@EX' AND code = 62 AND"
	    " product = 'draw' AND lease_id IS NULL", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'deny' AND principal = 'bob@EX' AND code = 60 AND"
	    " product = 'nope'", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'release' AND principal = 'alice@EX' AND lease_id = ?1"
	    " AND ts = ?2", g1.lease_id, "1700000001", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'expire' AND principal = 'carol@EX' AND lease_id = ?1",
	    g2.lease_id, NULL), 1);
	/* In order of occurrence. */
	assert_int_equal(raw_int(f, "SELECT group_concat(kind, ',') = "
	    "'reload,grant,deny,deny,release,grant,expire' FROM"
	    " (SELECT kind FROM events ORDER BY id)", NULL), 1);

	/* The trail is append-only. */
	db = raw_open(f);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET principal ="
	    " 'x'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events", NULL), 7);
}

static void
test_lease_ids_distinct(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	int i;

	sync1(f, lic("draw", "1", "2", 100, 0, 0, "S1"));
	for (i = 0; i < 100; i++) {
		assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g),
		    0);
		assert_true(is_lease_id(g.lease_id));
	}
	assert_int_equal(raw_int(f, "SELECT COUNT(DISTINCT id) FROM leases",
	    NULL), 100);
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
}

/* ---- what the docs promise about seats (issue 19) ---- */

/* The id of the pool of a license serial, as the store numbered it. */
static int64_t
pool_id_of(struct fx *f, const char *serial)
{
	return raw_int(f, "SELECT id FROM pools WHERE serial = ?1", serial,
	    NULL);
}

/* The seats in use of one pool (by serial) as store_status shows them. */
static uint32_t
pool_in_use(struct fx *f, const char *product, const char *serial,
    int64_t now)
{
	struct store_pool_status *ps = NULL;
	size_t n = 0, i;
	uint32_t u = UINT32_MAX;

	assert_int_equal(store_status(f->s, product, now, &ps, &n), 0);
	for (i = 0; i < n; i++)
		if (strcmp(ps[i].serial, serial) == 0)
			u = ps[i].in_use;
	free(ps);
	assert_true(u != UINT32_MAX);
	return u;
}

/*
 * Several licenses of one product (ADMIN.md "License kinds and pool
 * settings", store.h store_checkout): a checkout takes its seats from the
 * first counted pool by id (the order pools were first loaded, not the
 * order of the files) that has all of them free; a lease never spans
 * pools; no pool gives more seats than it has, even while others have
 * room.
 */
static void
test_pools_first_fit(void **state)
{
	struct fx *f = *state;
	/* P1 is loaded first, so it has the lower id though listed last. */
	struct license l[2] = {
		lic("draw", "1", "2", 2, 0, 0, "P2"),
		lic("draw", "1", "2", 2, 0, 0, "P1"),
	};
	struct store_grant g, gb;
	int64_t p1, p2;

	sync1(f, l[1]);
	assert_int_equal(store_sync_pools(f->s, l, 2, NOW), 0);
	p1 = pool_id_of(f, "P1");
	p2 = pool_id_of(f, "P2");
	assert_true(p1 < p2);

	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	assert_true(g.pool_id == p1);
	assert_int_equal(pool_in_use(f, "draw", "P1", NOW), 1);
	assert_int_equal(pool_in_use(f, "draw", "P2", NOW), 0);
	/* P1 has 1 free, P2 2: two seats come from P2, whole. */
	assert_int_equal(checkout(f, "b@EX", "draw", "1", 2, NOW, &gb), 0);
	assert_true(gb.pool_id == p2);
	assert_int_equal(gb.in_use, 3);
	assert_int_equal(gb.total, 4);
	assert_int_equal(pool_in_use(f, "draw", "P1", NOW), 1);
	assert_int_equal(pool_in_use(f, "draw", "P2", NOW), 2);
	/* One seat free in all: not two, though the product has one. */
	assert_int_equal(checkout(f, "c@EX", "draw", "1", 2, NOW, &g),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(g.in_use, 3);
	assert_int_equal(g.total, 4);
	assert_int_equal(checkout(f, "c@EX", "draw", "1", 1, NOW, &g), 0);
	assert_true(g.pool_id == p1);
	assert_int_equal(pool_in_use(f, "draw", "P1", NOW), 2);
	assert_int_equal(pool_in_use(f, "draw", "P2", NOW), 2);
	assert_int_equal(checkout(f, "d@EX", "draw", "1", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
	/* P2 frees two; P1 is full, so the next seats are P2's. */
	assert_int_equal(store_release(f->s, "b@EX", gb.lease_id, NOW + 1,
	    NULL), 0);
	assert_int_equal(pool_in_use(f, "draw", "P2", NOW + 1), 0);
	assert_int_equal(checkout(f, "d@EX", "draw", "1", 1, NOW + 1, &g), 0);
	assert_true(g.pool_id == p2);
	assert_int_equal(checkout(f, "e@EX", "draw", "1", 1, NOW + 1, &g), 0);
	assert_true(g.pool_id == p2);
	assert_int_equal(pool_in_use(f, "draw", "P1", NOW + 1), 2);
	assert_int_equal(pool_in_use(f, "draw", "P2", NOW + 1), 2);
	assert_int_equal(checkout(f, "f@EX", "draw", "1", 1, NOW + 1, &g),
	    XLICEN_E_NO_SEATS);
}

/*
 * A checkout that joins its dup group's seat and wants more seats than the
 * seat has grows that seat, in its own pool only (a lease never spans
 * pools): with the seat's pool full it is denied NO_SEATS, even though
 * another pool has the seats free, and nothing changes.  Once the pool has
 * room, it grows there.
 */
static void
test_join_grows_in_its_pool(void **state)
{
	struct fx *f = *state;
	struct license l[2] = {
		lic("draw", "1", "2", 2, 0, 0, "P1"),
		lic("draw", "1", "2", 5, 0, 0, "P2"),
	};
	struct store_grant g1, g2, gb;

	sync1(f, l[0]);
	assert_int_equal(store_sync_pools(f->s, l, 2, NOW), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1.example.org:0", 1,
	    NOW, &g1), 0);
	assert_true(g1.pool_id == pool_id_of(f, "P1"));
	assert_int_equal(co_disp(f, "b@EX", "draw", "ws2.example.org:0", 1,
	    NOW, &gb), 0);
	assert_true(gb.pool_id == pool_id_of(f, "P1"));
	/* P1 is full; alice's group wants 3 seats, 2 more: P2 has 5. */
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1.example.org:0", 3,
	    NOW, &g2), XLICEN_E_NO_SEATS);
	assert_int_equal(pool_in_use(f, "draw", "P1", NOW), 2);
	assert_int_equal(pool_in_use(f, "draw", "P2", NOW), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 2);
	assert_int_equal(raw_int(f, "SELECT MAX(count) FROM seats", NULL), 1);
	/* A join that needs no more seats is served from the full pool. */
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1.example.org:0", 1,
	    NOW, &g2), 0);
	assert_int_equal(g2.shared, 1);
	assert_true(g2.pool_id == pool_id_of(f, "P1"));
	assert_int_equal(pool_in_use(f, "draw", "P1", NOW), 2);
	/* Bob leaves: the group's seat grows to 2 in P1. */
	assert_int_equal(store_release(f->s, "b@EX", gb.lease_id, NOW + 1,
	    NULL), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1.example.org:0", 2,
	    NOW + 1, &g2), 0);
	assert_true(g2.pool_id == pool_id_of(f, "P1"));
	assert_int_equal(pool_in_use(f, "draw", "P1", NOW + 1), 2);
	assert_int_equal(pool_in_use(f, "draw", "P2", NOW + 1), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "ws1.example.org:0", 3,
	    NOW + 1, &g2), XLICEN_E_NO_SEATS);
}

/*
 * A seat taken back during its linger is held again, not lingering: the
 * end of the first linger, while the new lease runs, frees nothing (no
 * 'linger' event, the seat still counted, another group still denied).
 */
static void
test_linger_taken_back_held(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 1, 0, 0, "S1");
	struct store_grant g;
	int n = 9, freed = 1;

	l.linger_s = 10;
	sync1(f, l);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 1,
	    &freed), 0);
	assert_int_equal(freed, 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW + 3, &g), 0);
	assert_int_equal(g.shared, 1);
	/* NOW + 11 was the linger's end; the lease runs to NOW + 3 + TTL. */
	assert_int_equal(store_expire(f->s, NOW + 20, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(in_use_of(f, "draw", NOW + 20), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'linger'", NULL), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM seats WHERE"
	    " linger_until = 0", NULL), 1);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:1", 1, NOW + 20, &g),
	    XLICEN_E_NO_SEATS);
}

/*
 * ADMIN.md: "Uncounted pools are used first, then counted pools in the
 * order they were first loaded", whatever the order of their ids: a
 * counted pool loaded before an uncounted one keeps its seats free.
 */
static void
test_uncounted_first(void **state)
{
	struct fx *f = *state;
	struct license l[2] = {
		lic("draw", "1", "2", 2, 0, 0, "C1"),
		lic("draw", "1", "2", 0, 0, 0, "U1"),
	};
	struct store_grant g;
	int i;

	l[1].uncounted = 1;
	sync1(f, l[0]);
	assert_int_equal(store_sync_pools(f->s, l, 2, NOW), 0);
	assert_true(pool_id_of(f, "C1") < pool_id_of(f, "U1"));
	for (i = 0; i < 3; i++) {
		assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g),
		    0);
		assert_true(g.pool_id == pool_id_of(f, "U1"));
		assert_int_equal(g.uncounted, 1);
	}
	assert_int_equal(pool_in_use(f, "draw", "C1", NOW), 0);
}

/* A checkout as principal from host and display (display "" with pid:
 * a client without a display). */
static int
co_from(struct fx *f, const char *principal, const char *product,
    const char *host, const char *display, uint32_t pid,
    struct store_grant *g)
{
	struct store_checkout_req r = req(principal, product, "1", 1, NOW);

	r.host = host;
	r.display = display;
	r.pid = pid;
	return store_checkout(f->s, &r, g);
}

/*
 * Every dup-group mode of ADMIN.md "Dup grouping", both ways: two
 * checkouts that the mode puts in one group take one seat (the second
 * shares it), two that it does not take two.  A license without a
 * dup_group (and no policy) groups as uhd.
 */
static void
test_dup_modes_table(void **state)
{
	static const struct {
		const char *mode;	/* product, and its license's mode */
		const char *p1, *h1, *d1;
		uint32_t pid1;
		const char *p2, *h2, *d2;
		uint32_t pid2;
		uint32_t in_use;	/* 1: shared, 2: two seats */
	} rows[] = {
		{ "uhd", "a@EX", "ws1", "ws1:0", 1, "a@EX", "ws1", "ws1:0", 2,
		    1 },
		{ "uhd", "a@EX", "ws1", "ws1:0", 1, "a@EX", "ws1", "ws1:1", 1,
		    2 },
		{ "uhd", "a@EX", "ws1", "ws1:0", 1, "b@EX", "ws1", "ws1:0", 1,
		    2 },
		{ "uhd", "a@EX", "ws1", "ws1:0", 1, "a@EX", "ws2", "ws1:0", 1,
		    2 },
		{ "uhd", "a@EX", "ws1", "", 1, "a@EX", "ws1", "", 2, 2 },
		{ "uhd", "a@EX", "ws1", "", 7, "a@EX", "ws1", "", 7, 1 },
		{ "dflt", "a@EX", "ws1", "ws1:0", 1, "a@EX", "ws1", "ws1:0", 2,
		    1 },
		{ "dflt", "a@EX", "ws1", "ws1:0", 1, "a@EX", "ws1", "ws1:1", 1,
		    2 },
		{ "dflt", "a@EX", "ws1", "ws1:0", 1, "b@EX", "ws1", "ws1:0", 1,
		    2 },
		{ "user", "a@EX", "ws1", "ws1:0", 1, "a@EX", "ws2", "ws2:5", 2,
		    1 },
		{ "user", "a@EX", "ws1", "", 1, "a@EX", "ws1", "", 2, 1 },
		{ "user", "a@EX", "ws1", "ws1:0", 1, "b@EX", "ws1", "ws1:0", 1,
		    2 },
		{ "host", "a@EX", "ws1", "ws1:0", 1, "b@EX", "ws1", "ws1:1", 2,
		    1 },
		{ "host", "a@EX", "ws1", "", 1, "b@EX", "ws1", "", 2, 1 },
		{ "host", "a@EX", "ws1", "ws1:0", 1, "a@EX", "ws2", "ws1:0", 1,
		    2 },
		{ "display", "a@EX", "ws1", "ws1:0", 1, "b@EX", "ws2",
		    "ws1:0", 2, 1 },
		{ "display", "a@EX", "ws1", "ws1:0", 1, "a@EX", "ws1",
		    "ws1:1", 1, 2 },
		{ "display", "a@EX", "ws1", "", 1, "a@EX", "ws1", "", 2, 2 },
		{ "site", "a@EX", "ws1", "ws1:0", 1, "b@EX", "ws2", "ws2:0", 2,
		    1 },
		{ "site", "a@EX", "ws1", "", 1, "b@EX", "ws2", "", 2, 1 },
		{ "none", "a@EX", "ws1", "ws1:0", 1, "a@EX", "ws1", "ws1:0", 1,
		    2 },
	};
	static const char *const modes[] = { "uhd", "dflt", "user", "host",
	    "display", "site", "none" };
	struct fx *f = *state;
	struct license l[7];
	struct store_grant g1, g2;
	size_t i;
	int rc1, rc2;

	for (i = 0; i < 7; i++) {
		l[i] = lic(modes[i], "1", "2", 4, 0, 0, modes[i]);
		if (strcmp(modes[i], "dflt") != 0)
			snprintf(l[i].dup_group, sizeof(l[i].dup_group), "%s",
			    modes[i]);
	}
	assert_int_equal(store_sync_pools(f->s, l, 7, NOW), 0);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rc1 = co_from(f, rows[i].p1, rows[i].mode, rows[i].h1,
		    rows[i].d1, rows[i].pid1, &g1);
		rc2 = co_from(f, rows[i].p2, rows[i].mode, rows[i].h2,
		    rows[i].d2, rows[i].pid2, &g2);
		if (rc1 != 0 || rc2 != 0 ||
		    in_use_of(f, rows[i].mode, NOW) != rows[i].in_use ||
		    g2.in_use != rows[i].in_use || g1.shared != 0 ||
		    g2.shared != (rows[i].in_use == 1))
			fail_msg("row %zu (%s): %s %s \"%s\" pid %u then %s %s "
			    "\"%s\" pid %u: rc %d %d, in use %u (want %u), "
			    "shared %d", i, rows[i].mode, rows[i].p1,
			    rows[i].h1, rows[i].d1, rows[i].pid1, rows[i].p2,
			    rows[i].h2, rows[i].d2, rows[i].pid2, rc1, rc2,
			    in_use_of(f, rows[i].mode, NOW), rows[i].in_use,
			    g2.shared);
		assert_int_equal(store_release(f->s, rows[i].p1, g1.lease_id,
		    NOW, NULL), 0);
		assert_int_equal(store_release(f->s, rows[i].p2, g2.lease_id,
		    NOW, NULL), 0);
		assert_int_equal(in_use_of(f, rows[i].mode, NOW), 0);
	}
}

/*
 * The mode is the license's dup_group, else the policy's, else uhd
 * (ADMIN.md "Dup grouping").
 */
static void
test_dup_mode_source(void **state)
{
	struct fx *f = *state;
	struct policy *p = policy_of(f,
	    "[default]\n"
	    "\tdup_group = user\n");
	struct license l[2] = {
		lic("plain", "1", "2", 4, 0, 0, "S1"),
		lic("vnone", "1", "2", 4, 0, 0, "S2"),
	};
	struct store_checkout_req r;
	struct store_grant g;

	strcpy(l[1].dup_group, "none");
	assert_int_equal(store_sync_pools(f->s, l, 2, NOW), 0);
	/* No license mode: the policy's user groups two hosts' displays. */
	r = req("a@EX", "plain", "1", 1, NOW);
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	r = req("a@EX", "plain", "1", 1, NOW);
	r.host = "ws2";
	r.display = "ws2:3";
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(g.shared, 1);
	assert_int_equal(in_use_of(f, "plain", NOW), 1);
	/* The vendor's none wins over the policy's user. */
	r = req("a@EX", "vnone", "1", 1, NOW);
	r.display = "ws1:0";
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(g.shared, 0);
	assert_int_equal(in_use_of(f, "vnone", NOW), 2);
	/* Without the policy: uhd, so another display is another seat. */
	assert_int_equal(checkout(f, "a@EX", "plain", "1", 1, NOW, &g), 0);
	assert_int_equal(g.shared, 0);
	assert_int_equal(in_use_of(f, "plain", NOW), 2);
	policy_free(p);
}

/*
 * Linger (ADMIN.md "Linger"): the license's, the policy's, the larger of
 * both; a seat released at t stays counted until t + linger and is free
 * then; during the linger the same dup group takes it back and another
 * group cannot have it.
 */
static void
test_linger_sources(void **state)
{
	static const struct {
		const char *product;
		uint32_t lic_linger;
		uint32_t linger;	/* what applies */
	} rows[] = {
		{ "lic", 10, 10 },	/* the license's alone */
		{ "pol", 0, 20 },	/* the policy's alone */
		{ "both", 10, 20 },	/* the policy's is larger */
		{ "vend", 30, 30 },	/* the license's is larger */
		{ "zero", 0, 0 },	/* neither: freed at once */
	};
	struct fx *f = *state;
	struct policy *p = policy_of(f,
	    "[products]\n"
	    "\tpol = {\n\t\tlinger = 20\n\t}\n"
	    "\tboth = {\n\t\tlinger = 20\n\t}\n"
	    "\tvend = {\n\t\tlinger = 20\n\t}\n");
	struct license l[5];
	struct store_checkout_req r;
	struct store_grant g;
	size_t i;
	int64_t t = NOW + 1, end;
	int freed;

	for (i = 0; i < 5; i++) {
		l[i] = lic(rows[i].product, "1", "2", 1, 0, 0, rows[i].product);
		l[i].linger_s = rows[i].lic_linger;
	}
	assert_int_equal(store_sync_pools(f->s, l, 5, NOW), 0);
	for (i = 0; i < 5; i++) {
		r = req("a@EX", rows[i].product, "1", 1, NOW);
		r.display = "ws1:0";
		r.policy = p;
		assert_int_equal(store_checkout(f->s, &r, &g), 0);
		freed = -1;
		assert_int_equal(store_release(f->s, "a@EX", g.lease_id, t,
		    &freed), 0);
		end = t + rows[i].linger;
		if (freed != (rows[i].linger == 0) ||
		    (rows[i].linger > 0 &&
		    in_use_of(f, rows[i].product, end - 1) != 1) ||
		    in_use_of(f, rows[i].product, end) != 0)
			fail_msg("%s: license linger %u, want %u: freed %d, "
			    "in use %u at +%u, %u at +%u", rows[i].product,
			    rows[i].lic_linger, rows[i].linger, freed,
			    in_use_of(f, rows[i].product, end - 1),
			    rows[i].linger - 1,
			    in_use_of(f, rows[i].product, end),
			    rows[i].linger);
	}

	/* "both" lingers until t + 20: another group is refused, the same
	 * group gets the seat back (and its linger again after release). */
	r = req("b@EX", "both", "1", 1, t + 19);
	r.display = "ws1:0";
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_NO_SEATS);
	assert_int_equal(g.in_use, 1);
	r = req("a@EX", "both", "1", 1, t + 19);
	r.display = "ws1:1";
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_NO_SEATS);
	r.display = "ws1:0";
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(g.shared, 1);
	assert_int_equal(g.in_use, 1);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, t + 19,
	    NULL), 0);
	assert_int_equal(in_use_of(f, "both", t + 38), 1);
	assert_int_equal(in_use_of(f, "both", t + 39), 0);
	r = req("b@EX", "both", "1", 1, t + 39);
	r.display = "ws1:0";
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(g.shared, 0);
	policy_free(p);
}

/*
 * Precedence through the store (ADMIN.md "Policy"), with the seats held
 * read from the database: EXCLUDE beats RESERVE, RESERVE beats MAX and
 * INCLUDE, MAX beats INCLUDE.  test_policy.c has each pair in both file
 * orders; here the counts come from real seats.
 */
static void
test_precedence_store(void **state)
{
	struct fx *f = *state;
	struct policy *p = policy_of(f,
	    "[products]\n"
	    "\tdraw = {\n"
	    "\t\treserve = 2 mallory@EX\n"
	    "\t\texclude = mallory@EX\n"
	    "\t\tmax = 1 dave@EX\n"
	    "\t\treserve = 2 dave@EX\n"
	    "\t\tinclude = alice@EX\n"
	    "\t\tmax = 1 alice@EX\n"
	    "\t\tmax = 1 eve@EX\n"
	    "\t}\n");
	struct store_checkout_req r;
	struct store_grant g;

	sync1(f, lic("draw", "1", "2", 8, 0, 0, "S1"));
	r = req("mallory@EX", "draw", "1", 1, NOW);
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_EXCLUDED);
	/* dave: two reserved seats past his MAX 1 and the INCLUDE list... */
	r = req("dave@EX", "draw", "1", 1, NOW);
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	r = req("dave@EX", "draw", "1", 1, NOW);
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	/* ...then his MAX (held 2 > 1) before the INCLUDE list. */
	r = req("dave@EX", "draw", "1", 1, NOW);
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_MAX_REACHED);
	/* alice is included, and capped. */
	r = req("alice@EX", "draw", "1", 1, NOW);
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	r = req("alice@EX", "draw", "1", 1, NOW);
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_MAX_REACHED);
	/* eve is not included: under her MAX that is EXCLUDED. */
	r = req("eve@EX", "draw", "1", 1, NOW);
	r.policy = p;
	assert_int_equal(store_checkout(f->s, &r, &g), XLICEN_E_EXCLUDED);
	assert_int_equal(in_use_of(f, "draw", NOW), 3);
	policy_free(p);
}

/* ---- error paths and the less-used API (issue 19, coverage) ---- */

/* Run SQL on a second connection, as an administrator's sqlite3 shell
 * would while the server runs. */
static void
raw_exec(const struct fx *f, const char *sql)
{
	sqlite3 *db = raw_open(f);
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("raw_exec %s: %s", sql, msg != NULL ? msg : "?");
	sqlite3_close(db);
}

/* A trigger that makes every statement of the given kind on a table
 * fail, as a constraint the server does not know about would: the
 * store's statement fails inside its transaction. */
static void
fault_on(const struct fx *f, const char *when)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "CREATE TRIGGER fault %s BEGIN"
	    " SELECT RAISE(ABORT, 'injected fault'); END", when);
	raw_exec(f, sql);
}

static void
fault_off(const struct fx *f)
{
	raw_exec(f, "DROP TRIGGER fault");
}

static void
test_null_arguments(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	struct store_pool_status *ps = (struct store_pool_status *)&ps;
	struct store_holder *hs = (struct store_holder *)&hs;
	struct store_report_row *rows = (struct store_report_row *)&rows;
	struct store *s2 = (struct store *)&s2;
	struct store_audit a;
	int64_t exp = 7, nl = 7, ns = 7;
	uint64_t ev = 7, bad = 7;
	size_t n = 7;
	int freed = 7, nexp = 7;
	char owner[16] = "x", head[65] = "x", err[64] = "x";
	const char *ids[1] = { "0123456789abcdef0123456789abcdef" };

	memset(&a, 0, sizeof(a));
	assert_int_equal(store_open(NULL, &s2, err, sizeof(err)),
	    XLICEN_E_INVALID);
	assert_null(s2);
	assert_int_equal(store_open(f->path, NULL, err, sizeof(err)),
	    XLICEN_E_INVALID);
	assert_int_equal(store_extend_leases(NULL, NOW), XLICEN_E_INVALID);
	assert_int_equal(store_heartbeat(NULL, "a@EX", ids[0], NOW, &exp),
	    XLICEN_E_INVALID);
	assert_int_equal(exp, 0);
	assert_int_equal(store_heartbeat(f->s, NULL, ids[0], NOW, NULL),
	    XLICEN_E_INVALID);
	assert_int_equal(store_release(NULL, "a@EX", ids[0], NOW, &freed),
	    XLICEN_E_INVALID);
	assert_int_equal(freed, 0);
	assert_int_equal(store_remove(f->s, NULL, ids[0], NOW, owner,
	    sizeof(owner), NULL), XLICEN_E_INVALID);
	assert_string_equal(owner, "");
	assert_int_equal(store_reclaim(f->s, "a@EX", ids[0], "h", "h:0", 1,
	    NOW, NULL), XLICEN_E_INVALID);
	assert_int_equal(store_reclaim(NULL, "a@EX", ids[0], "h", "h:0", 1,
	    NOW, &g), XLICEN_E_INVALID);
	assert_int_equal(store_expire(NULL, NOW, &nexp), XLICEN_E_INVALID);
	assert_int_equal(nexp, 0);
	assert_int_equal(store_orphans_rearm(NULL, NOW, 5), XLICEN_E_INVALID);
	assert_int_equal(store_sync_pools(NULL, NULL, 0, NOW),
	    XLICEN_E_INVALID);
	assert_int_equal(store_sync_pools(f->s, NULL, 1, NOW),
	    XLICEN_E_INVALID);
	assert_int_equal(store_status(f->s, NULL, NOW, &ps, NULL),
	    XLICEN_E_INVALID);
	assert_null(ps);
	assert_int_equal(store_holders(f->s, NULL, NULL, NOW, NULL, &n),
	    XLICEN_E_INVALID);
	assert_int_equal(n, 0);
	assert_int_equal(store_holders(NULL, NULL, NULL, NOW, &hs, NULL),
	    XLICEN_E_INVALID);
	assert_null(hs);
	assert_int_equal(store_report(f->s, 0, NOW, NOW, NULL, &rows, NULL),
	    XLICEN_E_INVALID);
	assert_null(rows);
	assert_int_equal(store_verify_chain(NULL, &ev, &bad, head),
	    XLICEN_E_INVALID);
	assert_int_equal(ev, 0);
	assert_int_equal(bad, 0);
	assert_string_equal(head, "");
	assert_int_equal(store_count_leases(NULL, &nl, &ns), XLICEN_E_INVALID);
	assert_int_equal(nl, 0);
	assert_int_equal(ns, 0);
	assert_int_equal(store_audit(f->s, NOW, NULL), XLICEN_E_INVALID);
	assert_int_equal(store_audit(f->s, NOW, &a), XLICEN_E_INVALID);
	assert_int_equal(store_audit(NULL, NOW, &a), XLICEN_E_INVALID);
	/* Nothing above reached the database. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events", NULL), 0);
}

/* store_audit: an administrative event lands in the chain, with every
 * field; a kind the schema does not know is refused (foreign key) and
 * leaves nothing behind. */
static void
test_audit_api(void **state)
{
	struct fx *f = *state;
	struct store_audit a;
	uint64_t nev = 0, bad = 9;
	char head[65];

	memset(&a, 0, sizeof(a));
	a.kind = "admin";
	a.principal = "root@EX";
	a.host = "adm.example.org";
	a.display = "adm.example.org:0";
	a.product = "draw";
	a.version = "1.0";
	a.lease_id = "0123456789abcdef0123456789abcdef";
	a.count = 3;
	a.code = XLICEN_E_NO_PRODUCT;
	a.detail = "status";
	assert_int_equal(store_audit(f->s, NOW + 5, &a), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'admin' AND principal = 'root@EX' AND host ="
	    " 'adm.example.org' AND display = 'adm.example.org:0' AND"
	    " product = 'draw' AND version = '1.0' AND lease_id ="
	    " '0123456789abcdef0123456789abcdef' AND count = 3 AND detail ="
	    " 'status' AND hash IS NOT NULL", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT ts FROM events WHERE kind ="
	    " 'admin'", NULL), NOW + 5);
	assert_int_equal(raw_int(f, "SELECT code FROM events WHERE kind ="
	    " 'admin'", NULL), -XLICEN_E_NO_PRODUCT);

	a.kind = "no-such-kind";
	assert_int_equal(store_audit(f->s, NOW + 6, &a), XLICEN_E_DB);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events", NULL), 1);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(nev, 1);
	assert_int_equal(bad, 0);
	assert_int_equal(strlen(head), 64);
}

/* store_check_free: busy while a store holds the database, free once it
 * is closed; paths without a lock file are free. */
static void
test_check_free(void **state)
{
	struct fx *f = *state;
	char err[512] = "x", expect[64];

	assert_int_equal(store_check_free(f->path, err, sizeof(err)),
	    XLICEN_E_DB);
	/* The refusal names the holder: this process. */
	snprintf(expect, sizeof(expect), "pid %ld ", (long)getpid());
	assert_non_null(strstr(err, expect));
	assert_int_equal(store_check_free(NULL, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(store_check_free(":memory:", err, sizeof(err)), 0);
	assert_int_equal(store_check_free("file:x.db?mode=rwc", NULL, 0), 0);
	assert_int_equal(store_check_free("/nonexistent-dir/x.db", err,
	    sizeof(err)), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_check_free(f->path, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	reopen(f);
}

/* Paths store_open refuses before SQLite is involved, and a store
 * without a file (no lock, no background sync). */
static void
test_open_refusals(void **state)
{
	struct store *s2 = (struct store *)&s2;
	struct store_grant g;
	struct store_checkout_req r;
	struct license l = lic("draw", "1.0", "2.0", 1, 0, 0, "M1");
	char err[256], *longp, dir[640], lpath[700];
	uint64_t done = 0;
	size_t len;

	(void)state;
	/* A name too long for its lock file. */
	len = 5000;
	longp = malloc(len + 1);
	assert_non_null(longp);
	memset(longp, 'a', len);
	longp[0] = '/';
	longp[len] = '\0';
	assert_int_equal(store_open(longp, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	free(longp);

	/* A directory that does not exist: no lock file can be made. */
	snprintf(dir, sizeof(dir), "%s/no-such-dir/x.db", tmpdir);
	s2 = (struct store *)&s2;
	assert_int_equal(store_open(dir, &s2, err, sizeof(err)), XLICEN_E_DB);
	assert_null(s2);

	/* A directory in the database's place. */
	snprintf(dir, sizeof(dir), "%s/dir-%ld", tmpdir, (long)getpid());
	assert_int_equal(mkdir(dir, 0700), 0);
	s2 = (struct store *)&s2;
	assert_int_equal(store_open(dir, &s2, err, sizeof(err)), XLICEN_E_DB);
	assert_null(s2);
	assert_int_equal(rmdir(dir), 0);
	snprintf(lpath, sizeof(lpath), "%s-lock", dir);
	assert_int_equal(unlink(lpath), 0);

	/* In memory: no lock file and no syncer; every grant is durable
	 * when its call returns. */
	assert_int_equal(store_open(":memory:", &s2, err, sizeof(err)), 0);
	assert_int_equal(store_sync_fd(s2), -1);
	assert_int_equal(store_synced(s2, &done), 0);
	assert_true(done == UINT64_MAX);
	assert_int_equal(store_sync_wait(s2, 12), 0);
	assert_int_equal(store_sync_pools(s2, &l, 1, NOW), 0);
	r = req("a@EX", "draw", "1.0", 1, NOW);
	assert_int_equal(store_checkout(s2, &r, &g), 0);
	r = req("b@EX", "draw", "1.0", 1, NOW);
	assert_int_equal(store_checkout(s2, &r, &g), XLICEN_E_NO_SEATS);
	store_close(s2);
}

/* Another connection holds the write lock longer than the store's busy
 * timeout: opening fails (it cannot apply or check migrations) and
 * leaves nothing half done; once the lock is gone, it opens. */
static void
test_open_while_locked(void **state)
{
	struct fx *f = *state;
	struct store *s2 = (struct store *)&s2;
	sqlite3 *db;
	char err[256];

	store_close(f->s);
	f->s = NULL;
	db = raw_open(f);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	reopen(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_version",
	    NULL), 6);
}

/* A database whose record of its last migration (0006) was lost
 * although its changes are there: re-applying fails (its events_ts is
 * gone), the open is refused, and the failed migration leaves the file
 * as it was: the events not copied a second time. */
static void
test_migration_replay_refused(void **state)
{
	struct fx *f = *state;
	struct store *s2 = (struct store *)&s2;
	struct store_grant g;
	uint64_t nev = 0, bad = 9;
	char err[256], head[65];

	sync1(f, lic("draw", "1", "2", 1, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	store_close(f->s);
	f->s = NULL;
	raw_exec(f, "DELETE FROM schema_version WHERE version = 6");
	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM schema_version",
	    NULL), 5);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sqlite_schema WHERE"
	    " name IN ('events_ts', 'events_new')", NULL), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events", NULL), 2);
	/* Put the record back: it opens again, the chain intact. */
	raw_exec(f, "INSERT INTO schema_version VALUES (6,"
	    " '0006_events_lean.sql', 1)");
	reopen(f);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(nev, 2);
	assert_int_equal(bad, 0);
}

/*
 * Migration 0006: an audited commit writes neither an events_ts index page
 * nor a sqlite_sequence row (AUTOINCREMENT), each one more WAL page per
 * checkout and per release (docs/PERFORMANCE.md); the ids still follow
 * each other and the chain verifies.
 */
static void
test_events_lean(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	uint64_t nev = 0, bad = 9;
	char head[65];

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1", 1, NOW, &g), 0);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW, NULL),
	    0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sqlite_schema WHERE"
	    " tbl_name = 'events' AND type = 'index'", NULL), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sqlite_schema WHERE"
	    " name = 'events' AND sql LIKE '%AUTOINCREMENT%'", NULL), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sqlite_sequence",
	    NULL), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sqlite_schema WHERE"
	    " tbl_name = 'events' AND type = 'trigger'", NULL), 2);
	assert_int_equal(raw_int(f, "SELECT MAX(id) - MIN(id) + 1 - COUNT(*)"
	    " FROM events", NULL), 0);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(nev, 3);
	assert_int_equal(bad, 0);
}

/* An event appended without a hash after hashed ones (an older server
 * run on the file): the next open hashes it onto the existing chain. */
static void
test_backfill_after_chain(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	uint64_t nev = 0, bad = 9;
	char head[65], head2[65];

	sync1(f, lic("draw", "1.0", "2.0", 3, 0, 0, "S1"));
	assert_int_equal(checkout(f, "a@EX", "draw", "1.0", 1, NOW, &g), 0);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(nev, 2);
	raw_exec(f, "INSERT INTO events (ts, kind, detail) VALUES"
	    " (1700000100, 'reload', 'late')");
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE hash"
	    " IS NULL", NULL), 1);
	reopen(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE hash"
	    " IS NULL", NULL), 0);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head2), 0);
	assert_int_equal(nev, 3);
	assert_int_equal(bad, 0);
	assert_string_not_equal(head, head2);
}

/* The seats and leases of draw as the tables hold them. */
static void
assert_draw(struct fx *f, int64_t leases, uint32_t in_use, int64_t now)
{
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL),
	    leases);
	assert_int_equal(in_use_of(f, "draw", now), in_use);
}

/* A write the database refuses inside an operation: the operation fails
 * with XLICEN_E_DB and undoes itself (nothing granted, nothing freed,
 * nothing audited), and works again once the cause is gone. */
static void
test_faults_in_writes(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 5, 0, 0, "S1");
	struct license two[2] = { l, lic("paint", "1", "2", 1, 0, 0, "P1") };
	struct store_audit a;
	struct store_grant g, g2, r;
	const char *ids[1];
	char owner[64];
	int64_t nev, exp;
	size_t k = 9;
	int n = 9, freed = 9;

	sync1(f, l);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:1", 1, NOW, &g2), 0);
	nev = raw_int(f, "SELECT COUNT(*) FROM events", NULL);
	memset(&a, 0, sizeof(a));
	a.kind = "admin";

	/* The audit log refuses: no grant without its event. */
	fault_on(f, "BEFORE INSERT ON events");
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &r),
	    XLICEN_E_DB);
	assert_int_equal(store_audit(f->s, NOW, &a), XLICEN_E_DB);
	fault_off(f);
	assert_draw(f, 2, 2, NOW);

	fault_on(f, "BEFORE INSERT ON leases");
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &r),
	    XLICEN_E_DB);
	fault_off(f);
	assert_draw(f, 2, 2, NOW);

	fault_on(f, "BEFORE INSERT ON seats");
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &r),
	    XLICEN_E_DB);
	fault_off(f);
	assert_draw(f, 2, 2, NOW);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events", NULL), nev);

	/* Updates of leases: the heartbeats answered from memory cannot be
	 * written, so the next operation fails before doing anything. */
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 1,
	    &exp), 0);
	assert_true(exp == NOW + 1 + TTL);
	fault_on(f, "BEFORE UPDATE ON leases");
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW + 1, &r),
	    XLICEN_E_DB);
	assert_int_equal(store_flush(f->s, NOW + 1, 0), XLICEN_E_DB);
	assert_int_equal(store_extend_leases(f->s, NOW + 1), XLICEN_E_DB);
	ids[0] = g2.lease_id;
	assert_int_equal(store_orphan(f->s, ids, 1, NOW + 1, 10, &k),
	    XLICEN_E_DB);
	fault_off(f);
	assert_int_equal(store_flush(f->s, NOW + 1, 0), 0);
	assert_int_equal(raw_int(f, "SELECT expires_at FROM leases WHERE"
	    " id = ?1", g.lease_id, NULL), NOW + 1 + TTL);
	/* An orphan's heartbeat and reclaim write at once. */
	assert_int_equal(store_orphan(f->s, ids, 1, NOW + 2, 10, &k), 0);
	assert_int_equal(k, 1);
	fault_on(f, "BEFORE UPDATE ON leases");
	assert_int_equal(store_heartbeat(f->s, "a@EX", g2.lease_id, NOW + 3,
	    &exp), XLICEN_E_DB);
	assert_int_equal(store_reclaim(f->s, "a@EX", g2.lease_id, NULL, NULL,
	    7, NOW + 3, &r), XLICEN_E_DB);
	assert_int_equal(store_orphans_rearm(f->s, NOW + 3, 10), XLICEN_E_DB);
	fault_off(f);
	assert_int_equal(raw_int(f, "SELECT orphan_until FROM leases WHERE"
	    " id = ?1", g2.lease_id, NULL), NOW + 12);
	assert_int_equal(store_reclaim(f->s, "a@EX", g2.lease_id, NULL, NULL,
	    7, NOW + 3, &r), 0);
	assert_int_equal(raw_int(f, "SELECT orphan_until FROM leases WHERE"
	    " id = ?1", g2.lease_id, NULL), 0);

	/* Deleting a lease is refused: no release, no expiry. */
	fault_on(f, "BEFORE DELETE ON leases");
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 4,
	    &freed), XLICEN_E_DB);
	assert_int_equal(freed, 0);
	assert_int_equal(store_expire(f->s, NOW + 10 * TTL, &n), XLICEN_E_DB);
	assert_int_equal(store_remove(f->s, "root@EX", g.lease_id, NOW + 4,
	    owner, sizeof(owner), NULL), XLICEN_E_DB);
	fault_off(f);
	assert_draw(f, 2, 2, NOW + 4);

	/* Freeing the seat is refused. */
	fault_on(f, "BEFORE DELETE ON seats");
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 4,
	    &freed), XLICEN_E_DB);
	fault_off(f);
	assert_draw(f, 2, 2, NOW + 4);

	/* Removal needs its record of the revoked lease. */
	fault_on(f, "BEFORE INSERT ON revoked");
	assert_int_equal(store_remove(f->s, "root@EX", g.lease_id, NOW + 4,
	    owner, sizeof(owner), NULL), XLICEN_E_DB);
	fault_off(f);
	assert_draw(f, 2, 2, NOW + 4);

	/* Pools cannot be added or withdrawn. */
	fault_on(f, "BEFORE INSERT ON pools");
	assert_int_equal(store_sync_pools(f->s, two, 2, NOW + 5), XLICEN_E_DB);
	fault_off(f);
	fault_on(f, "BEFORE UPDATE ON pools");
	assert_int_equal(store_sync_pools(f->s, NULL, 0, NOW + 5),
	    XLICEN_E_DB);
	fault_off(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM pools WHERE"
	    " withdrawn = 0", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events", NULL),
	    nev + 1);	/* the one accepted: the reclaim */
	/* All works again. */
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 6,
	    &freed), 0);
	assert_int_equal(freed, 1);
	assert_int_equal(store_remove(f->s, "root@EX", g2.lease_id, NOW + 6,
	    owner, sizeof(owner), NULL), 0);
	assert_string_equal(owner, "a@EX");
	assert_draw(f, 0, 0, NOW + 6);
}

/* The sweep's own writes: freeing a lingering seat, pruning old
 * revocations. */
static void
test_faults_in_sweep(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 2, 0, 0, "S1");
	struct store_grant g, g2;
	char owner[64];
	int n = 9, freed = 9;

	l.linger_s = 10;
	sync1(f, l);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &g2), 0);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 1,
	    &freed), 0);
	assert_int_equal(freed, 0);
	assert_int_equal(store_remove(f->s, "root@EX", g2.lease_id, NOW + 1,
	    owner, sizeof(owner), NULL), 0);
	fault_on(f, "BEFORE DELETE ON seats");
	assert_int_equal(store_expire(f->s, NOW + 20, &n), XLICEN_E_DB);
	fault_off(f);
	/* The lingering seat is still there; nothing was audited. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM seats", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " kind = 'linger'", NULL), 0);
	fault_on(f, "BEFORE DELETE ON revoked");
	assert_int_equal(store_expire(f->s, NOW + LIMIT_REVOKED_KEEP_S + 20,
	    &n), XLICEN_E_DB);
	fault_off(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM revoked", NULL), 1);
	assert_int_equal(store_expire(f->s, NOW + LIMIT_REVOKED_KEEP_S + 20,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM revoked", NULL), 0);
	assert_int_equal(in_use_of(f, "draw", NOW + LIMIT_REVOKED_KEEP_S + 20),
	    0);
}

/* A table renamed under the running server (an administrator's mistake
 * or a foreign tool): every read of it fails with XLICEN_E_DB, and once
 * it is back the store works as before. */
static void
test_tables_moved(void **state)
{
	struct fx *f = *state;
	struct store_pool_status *ps = NULL;
	struct store_holder *hs = NULL;
	struct store_report_row *rows = NULL;
	struct store_audit a;
	struct store_grant g, r;
	uint64_t nev, bad;
	char head[65];
	int64_t nl, ns, exp;
	size_t n;
	int freed;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	memset(&a, 0, sizeof(a));
	a.kind = "admin";

	raw_exec(f, "ALTER TABLE events RENAME TO events_moved");
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head),
	    XLICEN_E_DB);
	assert_int_equal(store_report(f->s, 0, NOW, NOW, NULL, &rows, &n),
	    XLICEN_E_DB);
	assert_null(rows);
	assert_int_equal(store_audit(f->s, NOW, &a), XLICEN_E_DB);
	raw_exec(f, "ALTER TABLE events_moved RENAME TO events");

	raw_exec(f, "ALTER TABLE leases RENAME TO leases_moved");
	assert_int_equal(store_count_leases(f->s, &nl, &ns), XLICEN_E_DB);
	assert_true(store_next_expiry(f->s) == 0);
	assert_int_equal(store_holders(f->s, NULL, NULL, NOW, &hs, &n),
	    XLICEN_E_DB);
	assert_null(hs);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 1,
	    &exp), XLICEN_E_DB);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 1,
	    &freed), XLICEN_E_DB);
	raw_exec(f, "ALTER TABLE leases_moved RENAME TO leases");

	raw_exec(f, "ALTER TABLE pools RENAME TO pools_moved");
	assert_int_equal(store_status(f->s, NULL, NOW, &ps, &n), XLICEN_E_DB);
	assert_null(ps);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &r),
	    XLICEN_E_DB);
	assert_int_equal(store_sync_pools(f->s, NULL, 0, NOW), XLICEN_E_DB);
	raw_exec(f, "ALTER TABLE pools_moved RENAME TO pools");

	raw_exec(f, "ALTER TABLE seats RENAME TO seats_moved");
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &r),
	    XLICEN_E_DB);
	raw_exec(f, "ALTER TABLE seats_moved RENAME TO seats");

	raw_exec(f, "ALTER TABLE revoked RENAME TO revoked_moved");
	assert_int_equal(store_release(f->s, "a@EX",
	    "0123456789abcdef0123456789abcdef", NOW + 1, &freed), XLICEN_E_DB);
	raw_exec(f, "ALTER TABLE revoked_moved RENAME TO revoked");

	/* Back in place: nothing was lost. */
	assert_int_equal(store_count_leases(f->s, &nl, &ns), 0);
	assert_int_equal(nl, 1);
	assert_int_equal(ns, 1);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &r), 0);
	assert_int_equal(in_use_of(f, "draw", NOW), 2);
}

#define MANY	200	/* more than the first size of the in-memory tables */

/* Many leases at once: the heartbeats held in memory and the report's
 * lease table grow past their first size and lose nothing. */
static void
test_many_leases(void **state)
{
	struct fx *f = *state;
	static char ids[MANY][LIMIT_LEASE_ID + 1];
	struct store_report_row *rows = NULL, *rows2 = NULL;
	struct store_grant g;
	char disp[32];
	size_t n = 0, n2 = 0, i;
	uint64_t ticket = 0;
	int64_t exp;

	sync1(f, lic("draw", "1", "2", MANY, 0, 0, "S1"));
	store_batch_begin(f->s);
	for (i = 0; i < MANY; i++) {
		snprintf(disp, sizeof(disp), "h:%zu", i);
		assert_int_equal(co_disp(f, "a@EX", "draw", disp, 1, NOW, &g),
		    0);
		memcpy(ids[i], g.lease_id, sizeof(ids[i]));
	}
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_int_equal(store_sync_wait(f->s, ticket), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:x", 1, NOW, &g),
	    XLICEN_E_NO_SEATS);
	for (i = 0; i < MANY; i++) {
		assert_int_equal(store_heartbeat(f->s, "a@EX", ids[i], NOW + 10,
		    &exp), 0);
		assert_true(exp == NOW + 10 + TTL);
	}
	/* Answered from memory: not written yet. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases WHERE"
	    " expires_at = ?1", "1700000070", NULL), 0);
	assert_int_equal(store_flush(f->s, NOW + 10, 0), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases WHERE"
	    " expires_at = ?1", "1700000070", NULL), MANY);
	for (i = 0; i < MANY; i += 2)
		assert_int_equal(store_release(f->s, "a@EX", ids[i], NOW + 20,
		    NULL), 0);

	/* A range ending after now ends at now. */
	assert_int_equal(store_report(f->s, NOW, NOW + 1000, NOW + 40, "draw",
	    &rows, &n), 0);
	assert_int_equal(store_report(f->s, NOW, NOW + 40, NOW + 40, "draw",
	    &rows2, &n2), 0);
	assert_int_equal(n, 2);
	assert_int_equal(n2, 2);
	for (i = 0; i < n; i++) {
		assert_int_equal(rows[i].grants, MANY);
		assert_int_equal(rows[i].peak, MANY);
		/* 200 seats for 20 s, 100 for 20 more, over 40 s. */
		assert_true(rows[i].seconds == MANY * 20 + MANY / 2 * 20);
		assert_true(rows[i].avg > 149.99 && rows[i].avg < 150.01);
		assert_true(rows[i].seconds == rows2[i].seconds);
	}
	free(rows);
	free(rows2);
}

/* Joining the seat of one's dup group with more seats than the pool has
 * left is refused; a TTL below the floor is raised to it. */
static void
test_join_too_many_and_ttl_floor(void **state)
{
	struct fx *f = *state;
	struct store_checkout_req r;
	struct store_grant g;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 3, NOW, &g),
	    XLICEN_E_NO_SEATS);
	assert_int_equal(g.in_use, 1);
	assert_int_equal(g.total, 2);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 2, NOW, &g), 0);
	assert_int_equal(g.shared, 1);
	assert_int_equal(g.in_use, 2);
	r = req("b@EX", "draw", "1", 1, NOW);
	r.ttl_s = 1;
	r.heartbeat_s = 0;
	sync1(f, lic("draw", "1", "2", 3, 0, 0, "S1"));
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(g.ttl_s, LIMIT_LEASE_TTL_MIN_S);
	assert_int_equal(g.heartbeat_s, 1);
	assert_true(g.expires == NOW + LIMIT_LEASE_TTL_MIN_S);
}


/* Heartbeats answered from memory are written first by every operation
 * that writes: when that write fails, each operation fails before doing
 * anything of its own. */
static void
test_pending_heartbeats_unwritable(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 3, 0, 0, "S1");
	struct store_pool_status *ps = NULL;
	struct store_holder *hs = NULL;
	struct store_audit a;
	struct store_grant g, g2, r;
	const char *ids[1];
	char owner[64];
	int64_t exp;
	size_t n = 9, k = 9;
	int freed = 9, nexp = 9;

	sync1(f, l);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:1", 1, NOW, &g2), 0);
	ids[0] = g2.lease_id;
	assert_int_equal(store_orphan(f->s, ids, 1, NOW, 30, &k), 0);
	assert_int_equal(store_heartbeat(f->s, "a@EX", g.lease_id, NOW + 1,
	    &exp), 0);
	memset(&a, 0, sizeof(a));
	a.kind = "admin";
	fault_on(f, "BEFORE UPDATE ON leases");
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 2,
	    &freed), XLICEN_E_DB);
	assert_int_equal(store_remove(f->s, "root@EX", g.lease_id, NOW + 2,
	    owner, sizeof(owner), NULL), XLICEN_E_DB);
	assert_int_equal(store_reclaim(f->s, "a@EX", g2.lease_id, NULL, NULL,
	    7, NOW + 2, &r), XLICEN_E_DB);
	assert_int_equal(store_expire(f->s, NOW + 2, &nexp), XLICEN_E_DB);
	assert_int_equal(store_orphan(f->s, ids, 1, NOW + 2, 30, &k),
	    XLICEN_E_DB);
	assert_int_equal(store_orphans_rearm(f->s, NOW + 2, 30), XLICEN_E_DB);
	assert_int_equal(store_sync_pools(f->s, &l, 1, NOW + 2), XLICEN_E_DB);
	assert_int_equal(store_audit(f->s, NOW + 2, &a), XLICEN_E_DB);
	/* The listings write them first, to show the expiries they gave:
	 * they fail as well. */
	assert_int_equal(store_status(f->s, NULL, NOW + 2, &ps, &n),
	    XLICEN_E_DB);
	assert_null(ps);
	assert_int_equal(store_holders(f->s, NULL, NULL, NOW + 2, &hs, &n),
	    XLICEN_E_DB);
	assert_null(hs);
	fault_off(f);
	/* Nothing was lost: the heartbeat is written by the next one. */
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 3,
	    &freed), 0);
	assert_int_equal(freed, 1);
	assert_int_equal(raw_int(f, "SELECT orphan_until FROM leases WHERE"
	    " id = ?1", g2.lease_id, NULL), NOW + 30);

	/* Without heartbeats pending, the orphan mark itself is refused. */
	assert_int_equal(store_reclaim(f->s, "a@EX", g2.lease_id, NULL, NULL,
	    7, NOW + 4, &r), 0);
	fault_on(f, "BEFORE UPDATE ON leases");
	assert_int_equal(store_orphan(f->s, ids, 1, NOW + 5, 30, &k),
	    XLICEN_E_DB);
	assert_int_equal(k, 0);
	fault_off(f);
	assert_int_equal(raw_int(f, "SELECT orphan_until FROM leases WHERE"
	    " id = ?1", g2.lease_id, NULL), 0);
}

/* Batches: a failing operation undoes only itself; a light operation
 * then a durable one in one batch (with and without the syncer); a
 * batch whose heartbeats cannot be written fails as a whole. */
static void
test_batch_paths(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 5, 0, 0, "S1");
	struct store_grant g, g2, r;
	struct store *m = NULL;
	struct store_checkout_req q;
	char err[256];
	uint64_t ticket = 9;
	int64_t exp;
	int freed = 9;

	sync1(f, l);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	fault_on(f, "BEFORE INSERT ON leases WHEN NEW.principal = 'bad@EX'");
	store_batch_begin(f->s);
	/* Light first (no sync needed), then durable: the batch is synced. */
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 1,
	    &freed), 0);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW + 1, &g2),
	    0);
	assert_int_equal(co_disp(f, "bad@EX", "draw", "h:0", 1, NOW + 1, &r),
	    XLICEN_E_DB);
	assert_int_equal(co_disp(f, "c@EX", "draw", "h:0", 1, NOW + 1, &r), 0);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_true(ticket != 0);
	assert_int_equal(store_sync_wait(f->s, ticket), 0);
	fault_off(f);
	assert_draw(f, 2, 2, NOW + 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE"
	    " principal = 'bad@EX'", NULL), 0);

	/* A batch whose pending heartbeats cannot be written. */
	assert_int_equal(store_heartbeat(f->s, "b@EX", g2.lease_id, NOW + 2,
	    &exp), 0);
	fault_on(f, "BEFORE UPDATE ON leases");
	store_batch_begin(f->s);
	assert_int_equal(co_disp(f, "d@EX", "draw", "h:0", 1, NOW + 2, &r),
	    XLICEN_E_DB);
	assert_int_equal(co_disp(f, "e@EX", "draw", "h:0", 1, NOW + 2, &r),
	    XLICEN_E_DB);
	assert_int_equal(store_batch_end(f->s, &ticket), XLICEN_E_DB);
	assert_true(ticket == 0);
	fault_off(f);
	assert_draw(f, 2, 2, NOW + 2);

	/* Without a syncer: the light part is committed as it is, the
	 * durable one gets a transaction of its own. */
	assert_int_equal(store_open(":memory:", &m, err, sizeof(err)), 0);
	assert_int_equal(store_sync_pools(m, &l, 1, NOW), 0);
	q = req("a@EX", "draw", "1", 1, NOW);
	assert_int_equal(store_checkout(m, &q, &g), 0);
	store_batch_begin(m);
	assert_int_equal(store_release(m, "a@EX", g.lease_id, NOW + 1,
	    &freed), 0);
	assert_int_equal(freed, 1);
	q = req("b@EX", "draw", "1", 1, NOW + 1);
	assert_int_equal(store_checkout(m, &q, &g2), 0);
	assert_int_equal(g2.in_use, 1);
	assert_int_equal(store_batch_end(m, &ticket), 0);
	assert_true(ticket == 0);
	assert_int_equal(store_release(m, "b@EX", g2.lease_id, NOW + 2,
	    &freed), 0);
	assert_int_equal(freed, 1);
	store_close(m);
}

/* Another connection holds the write lock past the busy timeout: a
 * checkout, alone or in a batch, fails with XLICEN_E_DB and grants
 * nothing. */
static void
test_busy_database(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	uint64_t ticket = 9;
	sqlite3 *db;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	db = raw_open(f);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g),
	    XLICEN_E_DB);
	store_batch_begin(f->s);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g),
	    XLICEN_E_DB);
	assert_int_equal(store_batch_end(f->s, &ticket), 0);
	assert_true(ticket == 0);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_draw(f, 0, 0, NOW);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
}

/* A lock file held by a process that has not written its pid yet. */
static void
test_lock_held_without_pid(void **state)
{
	struct fx *f = *state;
	struct store *s2 = (struct store *)&s2;
	char path[700], lpath[720], err[512];
	int fd;

	snprintf(path, sizeof(path), "%s.other", f->path);
	snprintf(lpath, sizeof(lpath), "%s-lock", path);
	fd = open(lpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(store_open(path, &s2, err, sizeof(err)), XLICEN_E_DB);
	assert_null(s2);
	assert_null(strstr(err, "pid"));
	assert_int_equal(store_check_free(path, err, sizeof(err)),
	    XLICEN_E_DB);
	close(fd);
	assert_int_equal(store_check_free(path, err, sizeof(err)), 0);
	unlink_db(path);
}

/* Reissue under a new serial: the leases move to the new pool; when the
 * move is refused, the reload fails and nothing moved. */
static void
test_renewal_move_refused(void **state)
{
	struct fx *f = *state;
	struct license l2 = lic("draw", "1", "2", 2, 0, 0, "S2");
	struct store_grant g;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	fault_on(f, "BEFORE UPDATE OF pool_id ON seats");
	assert_int_equal(store_sync_pools(f->s, &l2, 1, NOW + 1), XLICEN_E_DB);
	fault_off(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM pools", NULL), 1);
	sync1(f, l2);
	assert_int_equal(raw_int(f, "SELECT p.serial = 'S2' FROM leases l"
	    " JOIN pools p ON p.id = l.pool_id", NULL), 1);
	assert_int_equal(in_use_of(f, "draw", NOW + 1), 1);
}

/* Less-used shapes of pools: an uncounted pool is used before a counted
 * one whatever their order; a node lock of an unknown kind matches no
 * host; a withdrawn pool is listed while it has seats in use, then not;
 * a report over two products lists them in order. */
static void
test_pool_shapes(void **state)
{
	struct fx *f = *state;
	struct license l[3] = {
		lic("draw", "1", "2", 1, 0, 0, "C1"),
		lic("draw", "1", "2", 1, 0, 0, "U1"),
		lic("paint", "1", "2", 1, 0, 0, "N1"),
	};
	struct store_pool_status *ps = NULL;
	struct store_report_row *rows = NULL;
	struct store_grant g, g2, g3;
	size_t n = 0;

	l[1].uncounted = 1;
	snprintf(l[2].hostid, sizeof(l[2].hostid), "mac:00:11:22:33:44:55");
	assert_int_equal(store_sync_pools(f->s, l, 3, NOW), 0);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	assert_int_equal(g.uncounted, 1);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &g2), 0);
	assert_int_equal(g2.uncounted, 1);
	assert_int_equal(co_disp(f, "c@EX", "paint", "h:0", 1, NOW, &g3),
	    XLICEN_E_WRONG_HOST);

	/* draw's pools withdrawn while a@EX holds a lease. */
	assert_int_equal(store_sync_pools(f->s, &l[2], 1, NOW + 1), 0);
	assert_int_equal(store_status(f->s, "draw", NOW + 1, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ps[0].state, STORE_POOL_WITHDRAWN);
	assert_string_equal(ps[0].serial, "U1");
	free(ps);
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 2,
	    NULL), 0);
	assert_int_equal(store_status(f->s, "draw", NOW + 2, &ps, &n), 0);
	assert_int_equal(n, 1);
	free(ps);
	assert_int_equal(store_release(f->s, "b@EX", g2.lease_id, NOW + 2,
	    NULL), 0);
	assert_int_equal(store_status(f->s, "draw", NOW + 2, &ps, &n), 0);
	assert_int_equal(n, 0);
	free(ps);

	assert_int_equal(store_report(f->s, NOW, NOW + 2, NOW + 2, NULL,
	    &rows, &n), 0);
	assert_true(n >= 4);
	assert_string_equal(rows[0].product, "draw");
	assert_string_equal(rows[0].principal, "");
	assert_string_equal(rows[n - 2].product, "paint");
	assert_string_equal(rows[n - 2].principal, "");
	assert_int_equal(rows[n - 2].denials, 1);
	assert_string_equal(rows[n - 1].principal, "c@EX");
	free(rows);
}


/* An event appended without a hash while the store runs (another
 * program writing the file): the chain cannot be continued, so nothing
 * that must be audited is done, until a restart hashes it. */
static void
test_unhashed_event_while_running(void **state)
{
	struct fx *f = *state;
	struct store_grant g;
	struct store_audit a;
	uint64_t nev = 0, bad = 9;
	char head[65];

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	raw_exec(f, "INSERT INTO events (ts, kind, detail) VALUES"
	    " (1700000001, 'reload', 'foreign')");
	memset(&a, 0, sizeof(a));
	a.kind = "admin";
	assert_int_equal(store_audit(f->s, NOW + 1, &a), XLICEN_E_DB);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW + 1, &g),
	    XLICEN_E_DB);
	assert_draw(f, 0, 0, NOW + 1);
	reopen(f);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW + 1, &g), 0);
	assert_int_equal(store_verify_chain(f->s, &nev, &bad, head), 0);
	assert_int_equal(nev, 3);
	assert_int_equal(bad, 0);
}

/* Opening refuses a file whose tables do not have the columns its
 * recorded schema version promises, and one whose unhashed events cannot
 * be hashed; a migration whose record cannot be written is undone. */
static void
test_open_damaged_schema(void **state)
{
	struct fx *f = *state;
	struct store *s2 = (struct store *)&s2;
	char err[256];
	sqlite3 *db;

	/* A column dropped behind the server's back. */
	store_close(f->s);
	f->s = NULL;
	raw_exec(f, "DROP INDEX leases_orphan;"
	    " ALTER TABLE leases DROP COLUMN orphan_until");
	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	raw_exec(f, "ALTER TABLE leases ADD COLUMN orphan_until INTEGER NOT"
	    " NULL DEFAULT 0; CREATE INDEX leases_orphan ON leases"
	    " (orphan_until) WHERE orphan_until > 0");
	reopen(f);

	/* An unhashed event, and a rule that forbids filling its hash. */
	store_close(f->s);
	f->s = NULL;
	raw_exec(f, "INSERT INTO events (ts, kind, detail) VALUES"
	    " (1700000001, 'reload', 'old');"
	    " CREATE TRIGGER fault BEFORE UPDATE ON events BEGIN"
	    " SELECT RAISE(ABORT, 'injected fault'); END");
	s2 = (struct store *)&s2;
	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE hash"
	    " IS NULL", NULL), 1);
	fault_off(f);
	reopen(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events WHERE hash"
	    " IS NULL", NULL), 0);

	/* A new file whose schema_version refuses the record of 0001. */
	store_close(f->s);
	f->s = NULL;
	unlink_db(f->path);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE schema_version ("
	    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at"
	    " INTEGER NOT NULL); CREATE TRIGGER fault BEFORE INSERT ON"
	    " schema_version BEGIN SELECT RAISE(ABORT, 'injected fault');"
	    " END", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	s2 = (struct store *)&s2;
	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	/* 0001 was undone with its record. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sqlite_schema WHERE"
	    " name IN ('pools', 'leases', 'events')", NULL), 0);
	fault_off(f);
	reopen(f);
	assert_int_equal(raw_int(f, "SELECT MAX(version) FROM schema_version",
	    NULL), 6);

	/* No error buffer: the refusal is only the code. */
	assert_int_equal(store_open(NULL, &s2, NULL, 0), XLICEN_E_INVALID);
}

/* A reclaim answers the lease's own TTL and heartbeat (the floor TTL
 * gives a heartbeat of 1 s), and counts only the product's usable
 * pools. */
static void
test_reclaim_short_ttl(void **state)
{
	struct fx *f = *state;
	struct license l[2] = {
		lic("draw", "1", "2", 2, 0, 0, "S1"),
		lic("draw", "1", "2", 7, 0, NOW - DAY, "OLD"),
	};
	struct store_checkout_req r;
	struct store_grant g, rg;
	const char *ids[1];
	size_t k = 0;

	assert_int_equal(store_sync_pools(f->s, l, 2, NOW), 0);
	r = req("a@EX", "draw", "1", 1, NOW);
	r.ttl_s = 1;
	assert_int_equal(store_checkout(f->s, &r, &g), 0);
	assert_int_equal(g.ttl_s, LIMIT_LEASE_TTL_MIN_S);
	ids[0] = g.lease_id;
	/* A grace no longer than the lease's 2 s. */
	assert_int_equal(store_orphan(f->s, ids, 1, NOW, 1, &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(store_reclaim(f->s, "a@EX", g.lease_id, "ws1", NULL,
	    1, NOW, &rg), 0);
	assert_int_equal(rg.ttl_s, LIMIT_LEASE_TTL_MIN_S);
	assert_int_equal(rg.heartbeat_s, 1);
	assert_int_equal(rg.in_use, 1);
	assert_int_equal(rg.total, 2);
}


/* Opened while descriptors are short (RLIMIT_NOFILE): at some limit the
 * store opens but its background syncer or checkpointer cannot, and then
 * it works without them (each grant synced in its own commit, no sync
 * descriptor); with enough descriptors it has them.  In a child process,
 * so the limit never touches the test runner. */
static void
test_open_short_of_descriptors(void **state)
{
	struct fx *f = *state;
	int status = -1;
	pid_t pid;

	store_close(f->s);
	f->s = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct license l = lic("draw", "1", "2", 1, 0, 0, "S1");
		struct store_checkout_req r;
		struct store_grant g;
		struct rlimit old, rl;
		struct store *s = NULL;
		char err[256];
		int lim, nosync = 0, synced = 0, bad = 0;
		uint64_t done = 0;

		if (getrlimit(RLIMIT_NOFILE, &old) != 0)
			exit(10);
		for (lim = 4; lim <= 64; lim++) {
			rl.rlim_cur = (rlim_t)lim;
			rl.rlim_max = old.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
				exit(11);
			s = NULL;
			(void)store_open(f->path, &s, err, sizeof(err));
			if (setrlimit(RLIMIT_NOFILE, &old) != 0)
				exit(12);
			if (s == NULL)
				continue;
			if (store_sync_fd(s) >= 0) {
				synced++;
			} else {
				nosync++;
				r = req("a@EX", "draw", "1", 1, NOW + lim);
				if (store_synced(s, &done) != 0 ||
				    done != UINT64_MAX ||
				    store_sync_pools(s, &l, 1, NOW) != 0 ||
				    store_checkout(s, &r, &g) != 0 ||
				    store_release(s, "a@EX", g.lease_id,
				    NOW + lim, NULL) != 0)
					bad++;
			}
			store_close(s);
		}
		exit(bad == 0 && nosync > 0 && synced > 0 ? 0 : 20 + bad);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	reopen(f);
	/* The grants made without a syncer were recorded. */
	assert_true(raw_int(f, "SELECT COUNT(*) FROM events WHERE kind ="
	    " 'grant'", NULL) > 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 0);
}


/* A lease without a seat row and without a recorded heartbeat interval,
 * as a server from before migration 0002 wrote them: a reclaim asks for
 * a third of its TTL, and its release frees its count. */
static void
test_lease_without_seat(void **state)
{
	struct fx *f = *state;
	struct store_grant rg;
	const char *id = "00112233445566778899aabbccddeeff";
	int freed = 0;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	raw_exec(f, "INSERT INTO leases (id, pool_id, principal, count, ttl_s,"
	    " granted_at, heartbeat_at, expires_at) VALUES"
	    " ('00112233445566778899aabbccddeeff', (SELECT id FROM pools), "
	    " 'old@EX', 1, 30, 1700000000, 1700000000, 1700000030)");
	assert_int_equal(store_reclaim(f->s, "old@EX", id, "ws9", "ws9:0", 5,
	    NOW + 1, &rg), 0);
	assert_int_equal(rg.ttl_s, 30);
	assert_int_equal(rg.heartbeat_s, 10);
	assert_true(rg.expires == NOW + 31);
	assert_int_equal(store_release(f->s, "old@EX", id, NOW + 2, &freed),
	    0);
	assert_int_equal(freed, 1);
	assert_int_equal(raw_int(f, "SELECT seats FROM events WHERE kind ="
	    " 'release' AND lease_id = ?1", id, NULL), -1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 0);
}


/* The audit log refuses every operation's event: release, removal,
 * reclaim, reload, a denial, and the sweep's expiry, orphan and linger
 * events; each operation fails with XLICEN_E_DB and changes nothing. */
static void
test_events_refused(void **state)
{
	struct fx *f = *state;
	struct license l = lic("draw", "1", "2", 3, 0, 0, "S1");
	struct store_grant g, g2, g3, r;
	const char *ids[1];
	char owner[64];
	int64_t nev;
	size_t k = 0;
	int n = 9, freed = 9;

	l.linger_s = 100;
	sync1(f, l);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &g2), 0);
	assert_int_equal(co_disp(f, "c@EX", "draw", "h:0", 1, NOW, &g3), 0);
	ids[0] = g3.lease_id;
	assert_int_equal(store_orphan(f->s, ids, 1, NOW, 10, &k), 0);
	assert_int_equal(k, 1);
	nev = raw_int(f, "SELECT COUNT(*) FROM events", NULL);

	fault_on(f, "BEFORE INSERT ON events");
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 1,
	    &freed), XLICEN_E_DB);
	assert_int_equal(freed, 0);
	assert_int_equal(store_remove(f->s, "root@EX", g2.lease_id, NOW + 1,
	    owner, sizeof(owner), NULL), XLICEN_E_DB);
	assert_int_equal(store_reclaim(f->s, "c@EX", g3.lease_id, NULL, NULL,
	    7, NOW + 1, &r), XLICEN_E_DB);
	assert_int_equal(store_sync_pools(f->s, &l, 1, NOW + 1), XLICEN_E_DB);
	assert_int_equal(co_disp(f, "d@EX", "draw", "h:0", 1, NOW + 1, &r),
	    XLICEN_E_DB);
	/* Refusals to another principal are audited: refused as well. */
	assert_int_equal(store_release(f->s, "x@EX", g.lease_id, NOW + 1,
	    &freed), XLICEN_E_DB);
	assert_int_equal(store_heartbeat(f->s, "x@EX", g.lease_id, NOW + 1,
	    NULL), XLICEN_E_DB);
	/* The orphan's grace ends: its event is refused. */
	assert_int_equal(store_expire(f->s, NOW + 10, &n), XLICEN_E_DB);
	/* Past every lease's expiry. */
	assert_int_equal(store_expire(f->s, NOW + 2 * TTL, &n), XLICEN_E_DB);
	fault_off(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM events", NULL), nev);
	assert_draw(f, 3, 3, NOW + 1);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM revoked", NULL), 0);

	/* Released, the seats linger; the linger's end is refused. */
	assert_int_equal(store_release(f->s, "a@EX", g.lease_id, NOW + 2,
	    &freed), 0);
	assert_int_equal(store_release(f->s, "b@EX", g2.lease_id, NOW + 2,
	    &freed), 0);
	assert_int_equal(store_release(f->s, "c@EX", g3.lease_id, NOW + 2,
	    &freed), 0);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM seats WHERE"
	    " linger_until > 0", NULL), 3);
	fault_on(f, "BEFORE INSERT ON events");
	assert_int_equal(store_expire(f->s, NOW + 1000, &n), XLICEN_E_DB);
	fault_off(f);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM seats", NULL), 3);
	assert_int_equal(store_expire(f->s, NOW + 1000, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM seats", NULL), 0);
}

/* A column the checkout reads renamed under the running store, and a
 * seat that cannot grow: the checkout fails with XLICEN_E_DB. */
static void
test_checkout_reads_refused(void **state)
{
	struct fx *f = *state;
	struct store_grant g, r;

	sync1(f, lic("draw", "1", "2", 3, 0, 0, "S1"));
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	raw_exec(f, "ALTER TABLE seats RENAME COLUMN grp TO grp_moved");
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &r),
	    XLICEN_E_DB);
	raw_exec(f, "ALTER TABLE seats RENAME COLUMN grp_moved TO grp");
	raw_exec(f, "ALTER TABLE pools RENAME COLUMN hostid TO hostid_moved");
	assert_int_equal(co_disp(f, "b@EX", "draw", "h:0", 1, NOW, &r),
	    XLICEN_E_DB);
	raw_exec(f, "ALTER TABLE pools RENAME COLUMN hostid_moved TO hostid");
	fault_on(f, "BEFORE UPDATE OF count ON seats");
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 2, NOW, &r),
	    XLICEN_E_DB);
	fault_off(f);
	assert_draw(f, 1, 1, NOW);
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 2, NOW, &r), 0);
	assert_int_equal(r.shared, 1);
	assert_draw(f, 2, 2, NOW);
}

/* A file of another program that happens to have a table named
 * schema_version of its own shape: refused, and left as it was. */
static void
test_foreign_schema_version(void **state)
{
	struct fx *f = *state;
	struct store *s2 = (struct store *)&s2;
	char err[256];
	sqlite3 *db;

	store_close(f->s);
	f->s = NULL;
	unlink_db(f->path);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE schema_version (id"
	    " INTEGER PRIMARY KEY, label TEXT); INSERT INTO schema_version"
	    " VALUES (7, 'theirs')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->path, &s2, err, sizeof(err)),
	    XLICEN_E_DB);
	assert_null(s2);
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM sqlite_schema WHERE"
	    " type = 'table'", NULL), 1);
	assert_int_equal(raw_int(f, "SELECT id FROM schema_version WHERE"
	    " label = 'theirs'", NULL), 7);
	unlink_db(f->path);
	reopen(f);
}


/* Events without a principal (store_audit allows them; a file written
 * by another program may hold them) count once, in the product's row:
 * there is no user to give a row of its own. */
static void
test_report_no_principal(void **state)
{
	struct fx *f = *state;
	struct store_report_row *rows = NULL;
	struct store_audit a;
	size_t n = 0;

	memset(&a, 0, sizeof(a));
	a.kind = "deny";
	a.product = "draw";
	a.code = XLICEN_E_NO_SEATS;
	assert_int_equal(store_audit(f->s, NOW + 1, &a), 0);
	/* And a grant of one seat, from NOW + 2 on. */
	a.kind = "grant";
	a.code = 0;
	a.count = 1;
	a.principal = "";
	a.lease_id = "0123456789abcdef0123456789abcdef";
	assert_int_equal(store_audit(f->s, NOW + 2, &a), 0);
	assert_int_equal(store_report(f->s, NOW, NOW + 10, NOW + 10, NULL,
	    &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].product, "draw");
	assert_string_equal(rows[0].principal, "");
	assert_int_equal(rows[0].denials, 1);
	assert_int_equal(rows[0].grants, 1);
	assert_int_equal(rows[0].peak, 1);
	/* One seat for 8 of the 10 s (counted twice, it was 1.6). */
	assert_true(rows[0].avg > 0.79 && rows[0].avg < 0.81);
	free(rows);
}


/* Text longer than the listing's fields (a principal over LIMIT_STRING,
 * which the protocol never lets in, but another program may write) is
 * cut to fit, never overflows. */
static void
test_holders_long_text(void **state)
{
	struct fx *f = *state;
	struct store_holder *hs = NULL;
	char sql[2 * LIMIT_STRING + 1000], longp[LIMIT_STRING + 100];
	size_t n = 0;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	memset(longp, 'p', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	snprintf(sql, sizeof(sql), "INSERT INTO seats (pool_id, grp,"
	    " principal, host, count, created_at) VALUES ((SELECT id FROM"
	    " pools), 'g', '%s', 'h', 1, 1700000000); INSERT INTO leases (id,"
	    " pool_id, principal, count, ttl_s, granted_at, heartbeat_at,"
	    " expires_at, seat_id) VALUES ('00112233445566778899aabbccddeeff',"
	    " (SELECT id FROM pools), '%s', 1, 60, 1700000000, 1700000000,"
	    " 1700000060, (SELECT id FROM seats))", longp, longp);
	raw_exec(f, sql);
	assert_int_equal(store_holders(f->s, "draw", NULL, NOW, &hs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(hs[0].principal), LIMIT_STRING);
	assert_memory_equal(hs[0].principal, longp, LIMIT_STRING);
	assert_string_equal(hs[0].lease_id, "00112233445566778899aabbccddeeff");
	free(hs);
}


/* A withdrawn pool is listed while a live lease holds one of its seats;
 * once that lease has expired it is not, even before the sweep. */
static void
test_withdrawn_expired_unlisted(void **state)
{
	struct fx *f = *state;
	struct license other = lic("paint", "1", "2", 1, 0, 0, "P1");
	struct store_pool_status *ps = NULL;
	struct store_grant g;
	size_t n = 9;

	sync1(f, lic("draw", "1", "2", 2, 0, 0, "S1"));
	assert_int_equal(co_disp(f, "a@EX", "draw", "h:0", 1, NOW, &g), 0);
	sync1(f, other);
	assert_int_equal(store_status(f->s, "draw", NOW + 1, &ps, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ps[0].state, STORE_POOL_WITHDRAWN);
	assert_int_equal(ps[0].in_use, 1);
	free(ps);
	assert_int_equal(store_status(f->s, "draw", NOW + TTL, &ps, &n), 0);
	assert_int_equal(n, 0);
	free(ps);
	/* Not swept yet: the lease row is still there. */
	assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM leases", NULL), 1);
}

static void
test_free_null(void **state)
{
	store_close(NULL);
	assert_int_equal(store_next_expiry(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_idempotent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_states,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkout_until_no_seats,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_deny_codes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_licenses_add_up,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_seat_fits_one_pool,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_reissued_license_fewer_seats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_borrowed_lease, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_extends,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_owner,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_lease,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_withdraws,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_leases,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_renewal_takes_over,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_renewal_fewer_seats,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_removal_without_replacement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_allowance,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_server_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill9_keeps_grant,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_sql_metacharacters,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_recorded,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_ids_distinct,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_group_shares,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_group_modes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_linger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_and_remove,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_spellings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_license_ttl,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkout_policy,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_holders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_intact_and_tampered,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_hand_row_below_one,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_every_column,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_stored_types,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_grows_in_its_pool,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_uncounted_first,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_linger_taken_back_held,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_0002,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_hand_computed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_carry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_bounded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_batch_write_behind,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_pools_first_fit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_modes_table,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_mode_source,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_linger_sources,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence_store,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_arguments,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_api,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_free,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refusals,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_while_locked,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_replay_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_lean,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_backfill_after_chain,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_in_writes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults_in_sweep,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tables_moved,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_leases,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_too_many_and_ttl_floor,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_heartbeats_unwritable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_paths,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_database,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_held_without_pid,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_renewal_move_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_shapes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unhashed_event_while_running,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_damaged_schema,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_short_ttl,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_short_of_descriptors,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_without_seat,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkout_reads_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_schema_version,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_no_principal,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_holders_long_text,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_withdrawn_expired_unlisted,
		    setup, teardown),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
