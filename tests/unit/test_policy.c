/*
 * Unit tests for server/policy.c: the precedence of the rules (EXCLUDE >
 * RESERVE > MAX > INCLUDE) as a table of identity x rules -> decision with
 * exact codes, reservation accounting, the admin ACL, per-product
 * settings, dup-group keys, and every load error with file, line and key.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "policy.h"
#include "xlicen_errors.h"

static char dir[512];
static char path[700];

static const char policy_text[] =
	"# the policy of the table test\n"
	"[groups]\n"
	"\tcad = alice@R bob@R\n"
	"\tops = admin@R\n"
	"[admin]\n"
	"\tprincipals = root@R\n"
	"\tgroups = ops\n"
	"[default]\n"
	"\texclude = host:BadHost.\n"
	"\tqueue_timeout = 7\n"
	"\tttl = 60\n"
	"[products]\n"
	"\txdemo = {\n"
	"\t\tinclude = group:cad\n"
	"\t\tinclude = @OTHER\n"
	"\t\texclude = principal:bob@R\n"
	"\t\treserve = 2 principal:carol@R\n"
	"\t\tmax = 1 group:cad\n"
	"\t\tdup_group = user\n"
	"\t\tlinger = 5\n"
	"\t}\n"
	"\txmax = {\n"
	"\t\tmax = 1 principal:dave@R\n"
	"\t\treserve = 1 dave@R\n"
	"\t\tmax = 0 host:kiosk\n"
	"\t\tqueue_timeout = 3\n"
	"\t}\n";

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
group_setup(void **state)
{
	const char *env = getenv("XLICEN_TEST_TMP");

	(void)state;
	log_set_level(LOG_ERR);
	snprintf(dir, sizeof(dir), "%s/test_policy.XXXXXX",
	    env != NULL && env[0] != '\0' ? env : "/tmp");
	if (env != NULL && env[0] != '\0')
		(void)mkdir(env, 0700);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/policy.conf", dir);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct policy *
load_ok(const char *text)
{
	struct policy *p = NULL;
	char err[512];

	write_file(text);
	if (policy_load(path, &p, err, sizeof(err)) != 0)
		fail_msg("policy_load: %s", err);
	return p;
}

struct hold {
	const char *principal, *host;
	uint32_t count;
};

static const struct {
	const char *what, *product, *principal, *host;
	uint32_t want, total, in_use;
	struct hold held[3];
	int code;
	int from_reserve;
	uint32_t avail, reserved_others;
} cases[] = {
	{ "excluded although in an included group (EXCLUDE > INCLUDE)",
	    "xdemo", "bob@R", "ws1", 1, 10, 0, { { 0 } },
	    XLICEN_E_EXCLUDED, 0, 0, 0 },
	{ "included by group", "xdemo", "alice@R", "ws1", 1, 10, 0, { { 0 } },
	    0, 0, 8, 2 },
	{ "MAX for the group reached", "xdemo", "alice@R", "ws1", 1, 10, 1,
	    { { "alice@R", "ws1", 1 } }, XLICEN_E_MAX_REACHED, 0, 7, 2 },
	{ "a share (want 0) at the MAX is fine", "xdemo", "alice@R", "ws1", 0,
	    10, 1, { { "alice@R", "ws1", 1 } }, 0, 0, 7, 2 },
	{ "not on the include list", "xdemo", "dave@R", "ws1", 1, 10, 0,
	    { { 0 } }, XLICEN_E_EXCLUDED, 0, 8, 2 },
	{ "reserved although not included (RESERVE > INCLUDE)", "xdemo",
	    "carol@R", "ws1", 2, 10, 0, { { 0 } }, 0, 1, 10, 0 },
	{ "reservation used up, not included", "xdemo", "carol@R", "ws1", 1,
	    10, 2, { { "carol@R", "ws1", 2 } }, XLICEN_E_EXCLUDED, 0, 8, 0 },
	{ "included by realm", "xdemo", "x@OTHER", "ws1", 1, 10, 0, { { 0 } },
	    0, 0, 8, 2 },
	{ "a product's rules replace [default]'s", "xdemo", "alice@R",
	    "badhost", 1, 10, 0, { { 0 } }, 0, 0, 8, 2 },
	{ "[default] exclude by host (canonical)", "xother", "alice@R",
	    "badhost", 1, 10, 0, { { 0 } }, XLICEN_E_EXCLUDED, 0, 0, 0 },
	{ "[default] lets others in", "xother", "alice@R", "goodhost", 1, 10,
	    3, { { "bob@R", "h", 3 } }, 0, 0, 7, 0 },
	{ "reserved past a MAX (RESERVE > MAX)", "xmax", "dave@R", "ws1", 1,
	    3, 0, { { 0 } }, 0, 1, 3, 0 },
	{ "reservation used, MAX reached", "xmax", "dave@R", "ws1", 1, 3, 1,
	    { { "dave@R", "ws1", 1 } }, XLICEN_E_MAX_REACHED, 0, 2, 0 },
	{ "more than reserved: MAX applies", "xmax", "dave@R", "ws1", 2, 3, 0,
	    { { 0 } }, XLICEN_E_MAX_REACHED, 0, 3, 0 },
	{ "MAX 0 for a host", "xmax", "eve@R", "kiosk", 1, 3, 0, { { 0 } },
	    XLICEN_E_MAX_REACHED, 0, 2, 1 },
	{ "others see fewer seats (a reservation)", "xmax", "eve@R", "ws1", 1,
	    3, 1, { { "eve@R", "ws1", 1 } }, 0, 0, 1, 1 },
	{ "the last free seat is reserved for dave", "xmax", "eve@R", "ws1", 1,
	    3, 2, { { "eve@R", "ws1", 2 } }, 0, 0, 0, 1 },
	{ "a reissued license with fewer seats than in use", "xother",
	    "alice@R", "ws1", 1, 2, 3, { { "bob@R", "h", 3 } }, 0, 0, 0, 0 },
};

static void
test_decisions(void **state)
{
	struct policy *p = load_ok(policy_text);
	struct policy_holding held[3];
	struct policy_decision d;
	struct policy_ident id;
	size_t i, n;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (n = 0; n < 3 && cases[i].held[n].principal != NULL; n++) {
			held[n].principal = cases[i].held[n].principal;
			held[n].host = cases[i].held[n].host;
			held[n].count = cases[i].held[n].count;
		}
		id.principal = cases[i].principal;
		id.host = cases[i].host;
		rc = policy_check(p, cases[i].product, &id, cases[i].want,
		    cases[i].total, cases[i].in_use, held, n, &d);
		if (rc != cases[i].code || d.code != rc ||
		    d.from_reserve != cases[i].from_reserve ||
		    (rc == 0 && d.avail != cases[i].avail) ||
		    (rc == 0 && d.reserved_others != cases[i].reserved_others))
			fail_msg("case %zu \"%s\": code %d (want %d), "
			    "from_reserve %d (want %d), avail %u (want %u), "
			    "reserved_others %u (want %u); reason \"%s\"", i,
			    cases[i].what, rc, cases[i].code, d.from_reserve,
			    cases[i].from_reserve, d.avail, cases[i].avail,
			    d.reserved_others, cases[i].reserved_others,
			    d.reason);
		if (rc != 0 && d.reason[0] == '\0')
			fail_msg("case %zu: no reason", i);
	}
	policy_free(p);
}

static void
test_reasons(void **state)
{
	struct policy *p = load_ok(policy_text);
	struct policy_holding h = { "alice@R", "ws1", 1 };
	struct policy_ident id = { "bob@R", "ws1" };
	struct policy_decision d;

	(void)state;
	assert_int_equal(policy_check(p, "xdemo", &id, 1, 5, 0, NULL, 0, &d),
	    XLICEN_E_EXCLUDED);
	assert_string_equal(d.reason, "bob@R is excluded from xdemo by "
	    "policy: exclude = principal:bob@R (line 16)");
	id.principal = "alice@R";
	assert_int_equal(policy_check(p, "xdemo", &id, 1, 5, 1, &h, 1, &d),
	    XLICEN_E_MAX_REACHED);
	assert_string_equal(d.reason, "policy limit for xdemo reached: max = 1 "
	    "group:cad (line 18); 1 seat(s) held, 1 wanted");
	id.principal = "dave@R";
	assert_int_equal(policy_check(p, "xdemo", &id, 1, 5, 0, NULL, 0, &d),
	    XLICEN_E_EXCLUDED);
	assert_string_equal(d.reason, "dave@R is not on the include list of "
	    "xdemo in the policy");
	policy_free(p);
}

static void
test_no_policy(void **state)
{
	struct policy_ident id = { "x@R", "h" };
	struct policy_decision d;
	struct policy_settings ps;

	(void)state;
	assert_int_equal(policy_check(NULL, "p", &id, 1, 5, 2, NULL, 0, &d), 0);
	assert_int_equal(d.avail, 3);
	assert_int_equal(policy_is_admin(NULL, "root@R"), 0);
	policy_settings(NULL, "p", &ps);
	assert_int_equal(ps.dup_set, 0);
	assert_int_equal(ps.queue_timeout_s, 0);
	assert_string_equal(policy_path(NULL), "");
	policy_free(NULL);
}

static void
test_admin_and_settings(void **state)
{
	struct policy *p = load_ok(policy_text);
	struct policy_settings ps;

	(void)state;
	assert_int_equal(policy_is_admin(p, "root@R"), 1);
	assert_int_equal(policy_is_admin(p, "admin@R"), 1);	/* group ops */
	assert_int_equal(policy_is_admin(p, "alice@R"), 0);
	assert_int_equal(policy_is_admin(p, "ROOT@R"), 0);
	assert_int_equal(policy_is_admin(p, ""), 0);
	assert_int_equal(policy_is_admin(p, NULL), 0);
	policy_settings(p, "xdemo", &ps);
	assert_int_equal(ps.dup_set, 1);
	assert_int_equal(ps.dup, POLICY_DUP_USER);
	assert_int_equal(ps.linger_s, 5);
	assert_int_equal(ps.queue_timeout_s, 7);	/* from [default] */
	assert_int_equal(ps.ttl_s, 60);
	policy_settings(p, "xmax", &ps);
	assert_int_equal(ps.dup_set, 0);
	assert_int_equal(ps.queue_timeout_s, 3);
	policy_settings(p, "nothing", &ps);
	assert_int_equal(ps.queue_timeout_s, 7);
	assert_string_equal(policy_path(p), path);
	policy_free(p);
}

/*
 * Host targets compare in the one canonical form (common/display.h):
 * blanks, case, final dots and the domain of a claimed name do not take a
 * claim past a host rule (issue 11).  Rules may name the short name or
 * the FQDN.
 */
static const char host_policy[] =
	"[products]\n"
	"\txk = {\n"
	"\t\texclude = host:kiosk1\n"
	"\t}\n"
	"\txf = {\n"
	"\t\texclude = host:Kiosk2.Example.ORG.\n"
	"\t}\n"
	"\txm = {\n"
	"\t\tmax = 1 host:ws1\n"
	"\t}\n"
	"\txi = {\n"
	"\t\tinclude = host:ws1.example.org\n"
	"\t}\n";

static void
test_host_claims(void **state)
{
	static const struct {
		const char *product, *host, *held_host;
		int code;
	} rows[] = {
		{ "xk", "kiosk1", NULL, XLICEN_E_EXCLUDED },
		{ "xk", "kiosk1 ", NULL, XLICEN_E_EXCLUDED },
		{ "xk", " kiosk1", NULL, XLICEN_E_EXCLUDED },
		{ "xk", "KIOSK1.", NULL, XLICEN_E_EXCLUDED },
		{ "xk", "kiosk1.example.org", NULL, XLICEN_E_EXCLUDED },
		{ "xk", "Kiosk1.Other.Net.", NULL, XLICEN_E_EXCLUDED },
		{ "xk", "kiosk10", NULL, 0 },
		{ "xk", "kiosk", NULL, 0 },
		{ "xf", "kiosk2", NULL, XLICEN_E_EXCLUDED },
		{ "xf", "kiosk2.example.org ", NULL, XLICEN_E_EXCLUDED },
		{ "xf", "ws1", NULL, 0 },
		/* ws1 holds the one seat its MAX allows, under any spelling. */
		{ "xm", "ws1", "ws1", XLICEN_E_MAX_REACHED },
		{ "xm", "WS1.example.org", "ws1", XLICEN_E_MAX_REACHED },
		{ "xm", "ws1 ", "ws1.example.org", XLICEN_E_MAX_REACHED },
		{ "xm", "ws1", " WS1. ", XLICEN_E_MAX_REACHED },
		{ "xm", "ws2", "ws1", 0 },
		{ "xi", "ws1", NULL, 0 },
		{ "xi", "WS1.EXAMPLE.ORG.", NULL, 0 },
		{ "xi", "ws2.example.org", NULL, XLICEN_E_EXCLUDED },
	};
	struct policy *p = load_ok(host_policy);
	struct policy_holding h;
	struct policy_decision d;
	struct policy_ident id;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		h.principal = "alice@R";
		h.host = rows[i].held_host;
		h.count = 1;
		id.principal = "bob@R";
		id.host = rows[i].host;
		rc = policy_check(p, rows[i].product, &id, 1, 10,
		    rows[i].held_host != NULL ? 1 : 0, &h,
		    rows[i].held_host != NULL ? 1 : 0, &d);
		if (rc != rows[i].code)
			fail_msg("row %zu: %s claiming \"%s\": code %d, want "
			    "%d (%s)", i, rows[i].product, rows[i].host, rc,
			    rows[i].code, d.reason);
	}
	policy_free(p);
}

static void
test_dup_host_keys(void **state)
{
	char a[256], b[256];

	(void)state;
	/* dup_group host: the holder's host under another spelling is the
	 * holder's group (one seat), not a second seat. */
	assert_int_equal(policy_group_key(POLICY_DUP_HOST, "a@R",
	    "ws1.example.org", "", 1, "L1", a, sizeof(a)), 0);
	assert_int_equal(policy_group_key(POLICY_DUP_HOST, "b@R", "WS1. ",
	    "", 2, "L2", b, sizeof(b)), 0);
	assert_string_equal(a, b);
	assert_int_equal(policy_group_key(POLICY_DUP_HOST, "b@R", "ws2", "",
	    2, "L2", b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
}

static void
test_group_keys(void **state)
{
	char a[256], b[256];

	(void)state;
	assert_int_equal(policy_group_key(POLICY_DUP_UHD, "a@R", "h", "h:0", 1,
	    "L1", a, sizeof(a)), 0);
	assert_int_equal(policy_group_key(POLICY_DUP_UHD, "a@R", "h", "h:0", 2,
	    "L2", b, sizeof(b)), 0);
	assert_string_equal(a, b);	/* same display: pid does not matter */
	/* No display: the process stands in for it. */
	assert_int_equal(policy_group_key(POLICY_DUP_UHD, "a@R", "h", "", 1,
	    "L1", a, sizeof(a)), 0);
	assert_int_equal(policy_group_key(POLICY_DUP_UHD, "a@R", "h", "", 2,
	    "L2", b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	/* Length prefixes: no two different triples make one key. */
	assert_int_equal(policy_group_key(POLICY_DUP_UHD, "a:b", "c", "d:0", 1,
	    "", a, sizeof(a)), 0);
	assert_int_equal(policy_group_key(POLICY_DUP_UHD, "a", "b:c", "d:0", 1,
	    "", b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(policy_group_key(POLICY_DUP_USER, "a@R", "h1", "h1:0",
	    1, "L1", a, sizeof(a)), 0);
	assert_int_equal(policy_group_key(POLICY_DUP_USER, "a@R", "h2", "h2:5",
	    2, "L2", b, sizeof(b)), 0);
	assert_string_equal(a, b);
	assert_int_equal(policy_group_key(POLICY_DUP_SITE, "a@R", "h1", "", 1,
	    "L1", a, sizeof(a)), 0);
	assert_int_equal(policy_group_key(POLICY_DUP_SITE, "b@S", "h2", "", 2,
	    "L2", b, sizeof(b)), 0);
	assert_string_equal(a, b);
	assert_int_equal(policy_group_key(POLICY_DUP_NONE, "a@R", "h", "h:0", 1,
	    "L1", a, sizeof(a)), 0);
	assert_int_equal(policy_group_key(POLICY_DUP_NONE, "a@R", "h", "h:0", 1,
	    "L2", b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(policy_group_key(POLICY_DUP_HOST, "a@R", "h", "", 1,
	    "", a, 4), XLICEN_E_INVALID);
	assert_int_equal(policy_dup_parse("display"), POLICY_DUP_DISPLAY);
	assert_int_equal(policy_dup_parse("DISPLAY"), -1);
	assert_string_equal(policy_dup_name(POLICY_DUP_SITE), "site");
}

/*
 * ADMIN.md "Precedence, as in FLEXlm: EXCLUDE > RESERVE > MAX > INCLUDE",
 * one pair of rules at a time.  Each row is a case where both rules apply
 * and would decide differently: the higher one's answer (code) is the
 * result whichever rule the file lists first, and the lower rule alone
 * gives its own answer (alone), so the row shows the order.  The product
 * has 10 seats; the identity holds `held` of them, all that are in use.
 */
static void
test_precedence_pairs(void **state)
{
	static const struct {
		const char *what;
		const char *high, *low;	/* rules, higher precedence first */
		const char *principal;
		uint32_t held, want;
		int code, from_reserve;	/* with both rules */
		int alone;		/* with the lower rule only */
	} pairs[] = {
		{ "EXCLUDE beats RESERVE", "exclude = dave@R",
		    "reserve = 2 dave@R", "dave@R", 0, 1,
		    XLICEN_E_EXCLUDED, 0, 0 },
		{ "EXCLUDE beats MAX", "exclude = dave@R", "max = 1 dave@R",
		    "dave@R", 1, 1, XLICEN_E_EXCLUDED, 0,
		    XLICEN_E_MAX_REACHED },
		{ "EXCLUDE beats INCLUDE", "exclude = dave@R",
		    "include = dave@R", "dave@R", 0, 1, XLICEN_E_EXCLUDED, 0,
		    0 },
		{ "RESERVE beats MAX", "reserve = 2 dave@R", "max = 1 dave@R",
		    "dave@R", 1, 1, 0, 1, XLICEN_E_MAX_REACHED },
		{ "RESERVE beats INCLUDE", "reserve = 1 dave@R",
		    "include = alice@R", "dave@R", 0, 1, 0, 1,
		    XLICEN_E_EXCLUDED },
		{ "MAX beats INCLUDE (not included)", "max = 1 dave@R",
		    "include = alice@R", "dave@R", 1, 1, XLICEN_E_MAX_REACHED,
		    0, XLICEN_E_EXCLUDED },
		{ "MAX caps the included", "max = 1 dave@R",
		    "include = dave@R", "dave@R", 1, 1, XLICEN_E_MAX_REACHED,
		    0, 0 },
	};
	char text[512];
	struct policy_holding h;
	struct policy_decision d;
	struct policy_ident id;
	struct policy *p;
	size_t i;
	int order, rc;

	(void)state;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		h.principal = pairs[i].principal;
		h.host = "ws1";
		h.count = pairs[i].held;
		id.principal = pairs[i].principal;
		id.host = "ws1";
		/* order 0: high first; 1: low first; 2: low alone. */
		for (order = 0; order < 3; order++) {
			if (order == 2)
				snprintf(text, sizeof(text), "[products]\n"
				    "\tp = {\n\t\t%s\n\t}\n", pairs[i].low);
			else
				snprintf(text, sizeof(text), "[products]\n"
				    "\tp = {\n\t\t%s\n\t\t%s\n\t}\n",
				    order == 0 ? pairs[i].high : pairs[i].low,
				    order == 0 ? pairs[i].low : pairs[i].high);
			p = load_ok(text);
			rc = policy_check(p, "p", &id, pairs[i].want, 10,
			    pairs[i].held, &h, pairs[i].held > 0 ? 1 : 0, &d);
			if (order < 2 && (rc != pairs[i].code ||
			    d.from_reserve != pairs[i].from_reserve))
				fail_msg("%s (%s first): code %d (want %d), "
				    "from_reserve %d; reason \"%s\"",
				    pairs[i].what, order == 0 ? "high" : "low",
				    rc, pairs[i].code, d.from_reserve,
				    d.reason);
			if (order == 2 && rc != pairs[i].alone)
				fail_msg("%s (low rule alone): code %d (want "
				    "%d)", pairs[i].what, rc, pairs[i].alone);
			policy_free(p);
		}
	}
}

/*
 * ADMIN.md: "A product's own rules replace those of [default]; its
 * settings fall back to [default] one by one."  A product entry with
 * settings only has no rules of its own: [default]'s apply to it.  One
 * with a rule replaces them all.
 */
static void
test_settings_only_product(void **state)
{
	struct policy *p = load_ok("[default]\n"
	    "\texclude = bob@R\n"
	    "\tmax = 1 alice@R\n"
	    "\tttl = 90\n"
	    "[products]\n"
	    "\tp = {\n\t\tlinger = 5\n\t}\n"
	    "\tq = {\n\t\tinclude = bob@R\n\t}\n");
	struct policy_holding h = { "alice@R", "ws1", 1 };
	struct policy_ident id = { "bob@R", "ws1" };
	struct policy_decision d;
	struct policy_settings ps;

	(void)state;
	assert_int_equal(policy_check(p, "p", &id, 1, 10, 0, NULL, 0, &d),
	    XLICEN_E_EXCLUDED);
	id.principal = "alice@R";
	assert_int_equal(policy_check(p, "p", &id, 1, 10, 1, &h, 1, &d),
	    XLICEN_E_MAX_REACHED);
	id.principal = "carol@R";
	assert_int_equal(policy_check(p, "p", &id, 1, 10, 1, &h, 1, &d), 0);
	assert_int_equal(d.avail, 9);
	policy_settings(p, "p", &ps);
	assert_int_equal(ps.linger_s, 5);
	assert_int_equal(ps.ttl_s, 90);
	/* q's include replaces [default]'s exclude and max. */
	id.principal = "bob@R";
	assert_int_equal(policy_check(p, "q", &id, 1, 10, 0, NULL, 0, &d), 0);
	id.principal = "alice@R";
	assert_int_equal(policy_check(p, "q", &id, 1, 10, 1, &h, 1, &d),
	    XLICEN_E_EXCLUDED);
	policy_free(p);
}

/*
 * Borrowing (ADMIN.md, "Borrowing"): borrow_days and borrow_seats fall
 * back to [default] one by one; a product's own borrow list replaces
 * [default]'s and does not replace its checkout rules; no list: anyone;
 * no policy: nobody.
 */
static void
test_borrow_settings(void **state)
{
	struct policy *p = load_ok("[groups]\n"
	    "\tcad = alice@R bob@R\n"
	    "[default]\n"
	    "\texclude = eve@R\n"
	    "\tborrow_days = 5\n"
	    "\tborrow = group:cad\n"
	    "[products]\n"
	    "\tp = {\n\t\tborrow_seats = 0\n\t}\n"
	    "\tq = {\n\t\tborrow_days = 2\n\t\tborrow = carol@R\n\t}\n");
	struct policy_ident id = { "alice@R", "ws1" };
	struct policy_decision d;
	struct policy_settings ps;

	(void)state;
	policy_settings(p, "p", &ps);
	assert_int_equal(ps.borrow_days, 5);
	assert_int_equal(ps.borrow_seats_set, 1);
	assert_int_equal(ps.borrow_seats, 0);
	policy_settings(p, "q", &ps);
	assert_int_equal(ps.borrow_days, 2);
	assert_int_equal(ps.borrow_seats_set, 0);
	assert_true(policy_may_borrow(p, "p", &id));
	assert_false(policy_may_borrow(p, "q", &id));
	id.principal = "carol@R";
	assert_false(policy_may_borrow(p, "p", &id));
	assert_true(policy_may_borrow(p, "q", &id));
	/* q's borrow list leaves [default]'s exclude in force. */
	id.principal = "eve@R";
	assert_int_equal(policy_check(p, "q", &id, 1, 10, 0, NULL, 0, &d),
	    XLICEN_E_EXCLUDED);
	assert_false(policy_may_borrow(NULL, "p", &id));
	policy_free(p);
	p = load_ok("[default]\n\tborrow_days = 1\n");
	assert_true(policy_may_borrow(p, "x", &id));
	policy_free(p);
}

/* Every refusal, with the file, the line and the key. */
static void
test_load_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} t[] = {
		{ "[products]\n\txdemo = {\n\t\tmax = x principal:a@R\n\t}\n",
		    ":3: [products] xdemo max = \"x principal:a@R\": expected "
		    "COUNT TARGET, COUNT a number 0..1000000" },
		{ "[products]\n\txdemo = {\n\t\tfrobnicate = 1\n\t}\n",
		    ":3: [products] xdemo frobnicate: unknown key (expected "
		    "include, exclude, reserve, max, dup_group, linger, ttl, "
		    "heartbeat, queue_timeout, borrow, borrow_days or "
		    "borrow_seats)" },
		{ "[default]\n\tinclude = group:nope\n",
		    ":2: [default] include = \"group:nope\": that group is not "
		    "defined in [groups]" },
		{ "[default]\n\texclude = nobody\n",
		    ":2: [default] exclude = \"nobody\": expected "
		    "principal:NAME@REALM, NAME@REALM, @REALM, realm:REALM, "
		    "group:NAME or host:NAME" },
		{ "[default]\n\treserve = 0 a@R\n",
		    ":2: [default] reserve = \"0 a@R\": expected COUNT TARGET, "
		    "COUNT a number 1..1000000" },
		{ "[default]\n\tdup_group = everyone\n",
		    ":2: [default] dup_group = \"everyone\": expected uhd, user, "
		    "host, display, site or none" },
		{ "[default]\n\tborrow_days = 366\n",
		    ":2: [default] borrow_days = \"366\": expected a number "
		    "1..365" },
		{ "[default]\n\tborrow = nobody\n",
		    ":2: [default] borrow = \"nobody\": expected "
		    "principal:NAME@REALM, NAME@REALM, @REALM, realm:REALM, "
		    "group:NAME or host:NAME" },
		{ "[default]\n\tttl = 1\n",
		    ":2: [default] ttl = \"1\": expected a number of seconds "
		    "2..2592000" },
		{ "[bogus]\n\tx = 1\n",
		    ":1: unknown section [bogus] (expected [groups], [admin], "
		    "[default] or [products])" },
		{ "[admin]\n\tprincipals = root\n",
		    ":2: [admin] principals = \"root\": expected principals "
		    "NAME@REALM separated by blanks" },
		{ "[groups]\n\tg = a@R\n[admin]\n\tgroups = g h\n",
		    ":4: [admin] groups = \"g h\": group \"h\" is not defined in "
		    "[groups]" },
		{ "[admin]\n\tpeople = a@R\n",
		    ":2: [admin] people: unknown key (expected principals, "
		    "groups or public_holders)" },
		{ "[admin]\n\tprincipals = a@R\n\tpublic_holders = yes\n",
		    ":3: [admin] public_holders = \"yes\": expected true or "
		    "false" },
		{ "[products]\n\txdemo = 3\n",
		    ":2: [products] xdemo = \"3\": expected a subsection "
		    "\"xdemo = { ... }\" (rules for all products go in "
		    "[default])" },
		{ "[groups]\n\tcad = alice\n",
		    ":2: [groups] cad = \"alice\": members are principals "
		    "NAME@REALM separated by blanks" },
		{ "[default]\n\tthis line is wrong\n", ":2: " },
	};
	struct policy *p = NULL;
	char err[512], want[700];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		write_file(t[i].text);
		p = (struct policy *)1;
		assert_int_equal(policy_load(path, &p, err, sizeof(err)),
		    XLICEN_E_CONFIG);
		assert_null(p);
		snprintf(want, sizeof(want), "%s%s", path, t[i].err);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, err, want);
	}
	snprintf(want, sizeof(want), "%s/none.conf", dir);
	assert_int_equal(policy_load(want, &p, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	assert_true(strstr(err, "No such file or directory") != NULL);
	assert_int_equal(policy_load(NULL, &p, err, sizeof(err)),
	    XLICEN_E_INVALID);
	/* An empty file is an empty policy. */
	p = load_ok("");
	assert_int_equal(policy_is_admin(p, "root@R"), 0);
	policy_free(p);
}

/* A syntax error the profile library refuses is reported at its line,
 * found by the scanner the configuration uses too (server/profscan.c),
 * also where a line has an "=" or a "]" and still does not parse. */
static void
test_syntax_error_lines(void **state)
{
	static const struct {
		const char *text, *err;
	} t[] = {
		{ "[default]\n\tmax x = 1 a@R\n", ":2: " },
		{ "[default]\n\tinclude = a@R\n[groups] junk\n", ":3: " },
		{ "[default]\n\tinclude = a@R\n}\n", ":3: " },
	};
	struct policy *p = NULL;
	char err[512], want[700];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		write_file(t[i].text);
		assert_int_equal(policy_load(path, &p, err, sizeof(err)),
		    XLICEN_E_CONFIG);
		assert_null(p);
		snprintf(want, sizeof(want), "%s%s", path, t[i].err);
		if (strncmp(err, want, strlen(want)) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, err, want);
	}
}

/* What the file reader refuses, with the policy's own messages. */
static void
test_read_errors(void **state)
{
	struct policy *p = NULL;
	char err[1024], want[sizeof(path) + 64];
	FILE *f;
	size_t i;

	(void)state;
	assert_int_equal(policy_load(dir, &p, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	assert_string_equal(err, want);
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 1024 * 1024 / 64 + 1; i++)
		fprintf(f, "# %061zu\n", i);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(policy_load(path, &p, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
	assert_string_equal(err, want);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite("[admin]\n\0\n", 1, 10, f), 10);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(policy_load(path, &p, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	snprintf(want, sizeof(want), "%s: contains a NUL byte", path);
	assert_string_equal(err, want);
	assert_null(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decisions),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_no_policy),
		cmocka_unit_test(test_admin_and_settings),
		cmocka_unit_test(test_group_keys),
		cmocka_unit_test(test_host_claims),
		cmocka_unit_test(test_dup_host_keys),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_syntax_error_lines),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_precedence_pairs),
		cmocka_unit_test(test_settings_only_product),
		cmocka_unit_test(test_borrow_settings),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
