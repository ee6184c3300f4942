/*
 * Unit tests for server/store/seats.c, the store's seat logic that needs
 * no database: the lease's terms (license, policy, server default, and
 * their bounds), the choice of pool (uncounted first, first fit, a joined
 * seat that cannot grow, the policy's allowance), the candidates' order,
 * pool dates at their boundaries and node locks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "limits.h"
#include "policy.h"
#include "store/seats.h"

/* The license's terms, else the policy's, else the server's; the TTL at
 * least LIMIT_LEASE_TTL_MIN_S, the heartbeat within [1, TTL / 3]. */
static void
test_lease_terms(void **state)
{
	static const struct {
		uint32_t lic_ttl, lic_hb, pol_ttl, pol_hb, def_ttl, def_hb;
		uint32_t ttl, hb;
	} t[] = {
		{ 0, 0, 0, 0, 60, 20, 60, 20 },		/* the server's */
		{ 0, 0, 0, 0, 60, 0, 60, 20 },		/* none: a third */
		{ 0, 0, 0, 0, 60, 21, 60, 20 },		/* over a third */
		{ 0, 0, 90, 0, 60, 20, 90, 20 },	/* the policy's TTL */
		{ 0, 0, 90, 7, 60, 20, 90, 7 },		/* and heartbeat */
		{ 120, 0, 90, 10, 60, 20, 120, 10 },	/* license TTL wins */
		{ 300, 50, 90, 10, 60, 20, 300, 50 },	/* license hb wins */
		{ 30, 10, 0, 0, 60, 20, 30, 10 },	/* exactly a third */
		{ 30, 11, 0, 0, 60, 20, 30, 10 },
		{ 1, 0, 0, 0, 60, 20, LIMIT_LEASE_TTL_MIN_S, 1 },
		{ 0, 0, 0, 0, 5, 0, 5, 1 },
	};
	struct store_cand c;
	struct policy_settings ps;
	uint32_t ttl, hb;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&c, 0, sizeof(c));
		memset(&ps, 0, sizeof(ps));
		c.ttl_s = t[i].lic_ttl;
		c.heartbeat_s = t[i].lic_hb;
		ps.ttl_s = t[i].pol_ttl;
		ps.heartbeat_s = t[i].pol_hb;
		ttl = hb = 12345;
		store_lease_terms(&c, &ps, t[i].def_ttl, t[i].def_hb, &ttl,
		    &hb);
		assert_int_equal(ttl, t[i].ttl);
		assert_int_equal(hb, t[i].hb);
	}
}

static void
cand(struct store_cand *c, int64_t id, int64_t seats, int64_t used,
    int uncounted)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->seats = seats;
	c->used = used;
	c->uncounted = uncounted;
}

/* Without a joined seat: the first candidate that is uncounted or has
 * want free seats the policy allows. */
static void
test_choose_first_fit(void **state)
{
	struct store_cand c[4];

	(void)state;
	cand(&c[0], 9, 0, 0, 1);	/* uncounted, sorted first */
	cand(&c[1], 1, 2, 2, 0);	/* full */
	cand(&c[2], 2, 1, 3, 0);	/* reissued smaller: -2 free */
	cand(&c[3], 3, 3, 1, 0);	/* 2 free */
	assert_ptr_equal(store_choose_pool(c, 4, NULL, 5, 0), &c[0]);
	assert_ptr_equal(store_choose_pool(c + 1, 3, NULL, 1, 10), &c[3]);
	assert_ptr_equal(store_choose_pool(c + 1, 3, NULL, 2, 10), &c[3]);
	assert_null(store_choose_pool(c + 1, 3, NULL, 3, 10));
	/* The policy allows fewer than the pool has free. */
	assert_null(store_choose_pool(c + 1, 3, NULL, 2, 1));
	assert_null(store_choose_pool(c + 1, 2, NULL, 1, 10));
	assert_null(store_choose_pool(c, 0, NULL, 1, 10));
	/* First fit, not best or last fit. */
	cand(&c[1], 1, 5, 0, 0);
	assert_ptr_equal(store_choose_pool(c + 1, 3, NULL, 1, 10), &c[1]);
}

/* A seat the dup group holds serves if it need not grow, is uncounted,
 * or can grow by want within the policy's allowance; never another. */
static void
test_choose_join(void **state)
{
	struct store_cand c[2];

	(void)state;
	cand(&c[0], 1, 4, 1, 0);	/* 3 free */
	cand(&c[1], 2, 2, 2, 0);	/* full, the group's seat */
	assert_ptr_equal(store_choose_pool(c, 2, &c[1], 0, 0), &c[1]);
	assert_null(store_choose_pool(c, 2, &c[1], 1, 10));
	assert_ptr_equal(store_choose_pool(c, 2, &c[0], 3, 3), &c[0]);
	assert_null(store_choose_pool(c, 2, &c[0], 4, 10));
	assert_null(store_choose_pool(c, 2, &c[0], 2, 1));
	cand(&c[1], 2, 0, 0, 1);
	assert_ptr_equal(store_choose_pool(c, 2, &c[1], 7, 0), &c[1]);
}

/* Uncounted pools first, then by id. */
static void
test_cand_order(void **state)
{
	struct store_cand c[4];

	(void)state;
	cand(&c[0], 7, 1, 0, 0);
	cand(&c[1], 3, 1, 0, 0);
	cand(&c[2], 8, 0, 0, 1);
	cand(&c[3], 5, 0, 0, 1);
	qsort(c, 4, sizeof(c[0]), store_cand_cmp);
	assert_int_equal(c[0].id, 5);
	assert_int_equal(c[1].id, 8);
	assert_int_equal(c[2].id, 3);
	assert_int_equal(c[3].id, 7);
	assert_int_equal(store_cand_cmp(&c[2], &c[2]), 0);
}

/* -1 not yet, 1 expired (at the expiry second itself), 0 usable; 0
 * dates mean none; expired wins. */
static void
test_pool_dates(void **state)
{
	(void)state;
	assert_int_equal(store_pool_dates(0, 0, 1000), 0);
	assert_int_equal(store_pool_dates(1000, 0, 1000), 0);
	assert_int_equal(store_pool_dates(1001, 0, 1000), -1);
	assert_int_equal(store_pool_dates(0, 1001, 1000), 0);
	assert_int_equal(store_pool_dates(0, 1000, 1000), 1);
	assert_int_equal(store_pool_dates(2000, 1000, 1500), 1);
}

/* The same answers by name: a named code of its own, which no caller can
 * take for an error of err.h (-1 is also XLICEN_E_NOMEM). */
static void
test_pool_dates_named(void **state)
{
	enum store_dates d;

	(void)state;
	d = store_pool_dates(1001, 0, 1000);
	assert_int_equal(d, STORE_DATES_NOT_YET);
	d = store_pool_dates(0, 1000, 1000);
	assert_int_equal(d, STORE_DATES_EXPIRED);
	d = store_pool_dates(0, 0, 1000);
	assert_int_equal(d, STORE_DATES_USABLE);
}

static void
test_hostid(void **state)
{
	(void)state;
	assert_int_equal(store_hostid_matches(NULL, "a@R", "h"), 1);
	assert_int_equal(store_hostid_matches("", "a@R", "h"), 1);
	assert_int_equal(store_hostid_matches("principal:a@R", "a@R", "h"),
	    1);
	assert_int_equal(store_hostid_matches("principal:a@R", "b@R", "h"),
	    0);
	assert_int_equal(store_hostid_matches("host:ws1.example.org", "a@R",
	    "ws1"), 1);
	assert_int_equal(store_hostid_matches("host:ws1", "a@R", "ws2"), 0);
	assert_int_equal(store_hostid_matches("mac:00:11", "a@R", "h"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_terms),
		cmocka_unit_test(test_choose_first_fit),
		cmocka_unit_test(test_choose_join),
		cmocka_unit_test(test_cand_order),
		cmocka_unit_test(test_pool_dates),
		cmocka_unit_test(test_pool_dates_named),
		cmocka_unit_test(test_hostid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
