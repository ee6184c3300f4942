/*
 * Unit tests for common/display: the canonical display and host names
 * dup grouping relies on, table-driven, with the exact error codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "display.h"
#include "limits.h"
#include "xlicen_errors.h"

static void
test_canon_table(void **state)
{
	static const struct {
		const char *display, *host, *want;
		int rc;
	} t[] = {
		{ ":0", "ws1", "ws1:0", 0 },
		{ ":0.1", "ws1", "ws1:0", 0 },
		{ ":12.3", "WS1.Example.ORG.", "ws1.example.org:12", 0 },
		{ "unix:0", "ws1", "ws1:0", 0 },
		{ "unix:0.2", "ws1", "ws1:0", 0 },
		{ "localhost:10.0", "ws1", "ws1:10", 0 },
		{ "LocalHost:10", "ws1", "ws1:10", 0 },
		{ "127.0.0.1:3", "ws1", "ws1:3", 0 },
		{ "[::1]:3", "ws1", "ws1:3", 0 },
		{ "::1:3", "ws1", "ws1:3", 0 },
		{ "ws2:0", "ws1", "ws2:0", 0 },
		{ "WS2.example.org.:0.1", "ws1", "ws2.example.org:0", 0 },
		{ "tcp/ws2:1", "ws1", "ws2:1", 0 },
		{ "unix/ws1:4", "ws1", "ws1:4", 0 },
		{ "[2001:db8::1]:0", "ws1", "2001:db8::1:0", 0 },
		{ "decnet::0", "ws1", "decnet:0", 0 },
		{ ":007", "ws1", "ws1:7", 0 },
		{ ":0", "", ":0", 0 },
		{ ":0", NULL, ":0", 0 },
		{ "LOCALHOST.:5", "ws1", "ws1:5", 0 },
		{ "ws2..:0", "ws1", "ws2:0", 0 },
		/* names that would read differently in HOST:D get brackets */
		{ "x:::5", "ws1", "[x:]:5", 0 },
		{ "[x:]:5", "ws1", "[x:]:5", 0 },
		{ "tcp/a/b:0", "ws1", "[a/b]:0", 0 },
		{ "[a/b]:0", "ws1", "[a/b]:0", 0 },
		{ "[[a]]:0", "ws1", "[[a]]:0", 0 },
		{ ":0", "h:", "[h:]:0", 0 },
		{ "[]:0", "ws1", "ws1:0", 0 },
		/* not displays */
		{ "", "ws1", "", XLICEN_E_BAD_VALUE },
		{ NULL, "ws1", "", XLICEN_E_BAD_VALUE },
		{ "ws1", "ws1", "", XLICEN_E_BAD_VALUE },
		{ "ws1:", "ws1", "", XLICEN_E_BAD_VALUE },
		{ ":x", "ws1", "", XLICEN_E_BAD_VALUE },
		{ ":0.", "ws1", "", XLICEN_E_BAD_VALUE },
		{ ":0.1.2", "ws1", "", XLICEN_E_BAD_VALUE },
		{ ":0x", "ws1", "", XLICEN_E_BAD_VALUE },
		{ ":1234567890", "ws1", "", XLICEN_E_BAD_VALUE },
	};
	char out[300];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(out, 'x', sizeof(out));
		rc = display_canon(t[i].display, t[i].host, out, sizeof(out));
		if (rc != t[i].rc || strcmp(out, t[i].want) != 0)
			fail_msg("display_canon(\"%s\", \"%s\") = %d \"%s\", "
			    "want %d \"%s\"", t[i].display ? t[i].display :
			    "(null)", t[i].host ? t[i].host : "(null)", rc, out,
			    t[i].rc, t[i].want);
		/* A canonical display is its own canonical form. */
		if (rc == 0 && (display_canon(t[i].want, t[i].host, out,
		    sizeof(out)) != 0 || strcmp(out, t[i].want) != 0))
			fail_msg("display_canon(\"%s\") = \"%s\", not itself",
			    t[i].want, out);
	}
}

static void
test_canon_small_out(void **state)
{
	char out[6];

	(void)state;
	assert_int_equal(display_canon(":0", "ws1", out, sizeof(out)), 0);
	assert_string_equal(out, "ws1:0");
	assert_int_equal(display_canon(":10", "ws1", out, sizeof(out)),
	    XLICEN_E_INVALID);
	assert_string_equal(out, "");
	assert_int_equal(display_canon(":0", "ws1", NULL, 0),
	    XLICEN_E_INVALID);
	/* A host part longer than any host name. */
	{
		char big[300], o2[600];

		memset(big, 'a', 260);
		memcpy(big + 260, ":0", 3);
		assert_int_equal(display_canon(big, "ws1", o2, sizeof(o2)),
		    XLICEN_E_BAD_VALUE);
	}
}

static void
test_canon_host(void **state)
{
	char out[16];

	(void)state;
	display_canon_host("WS1.Example.ORG.", out, sizeof(out));
	assert_string_equal(out, "ws1.example.org");
	display_canon_host(NULL, out, sizeof(out));
	assert_string_equal(out, "");
	display_canon_host("a-very-long-host-name", out, sizeof(out));
	assert_string_equal(out, "a-very-long-hos");
	display_canon_host("x.", out, sizeof(out));
	assert_string_equal(out, "x");
	display_canon_host("x..", out, sizeof(out));
	assert_string_equal(out, "x");
	display_canon_host("...", out, sizeof(out));
	assert_string_equal(out, "");
	/* Blanks around a claim are not part of the name (issue 11: a
	 * claim "kiosk1 " slipped past "exclude = host:kiosk1"). */
	assert_int_equal(display_canon_host(" kiosk1 ", out, sizeof(out)), 0);
	assert_string_equal(out, "kiosk1");
	assert_int_equal(display_canon_host("\tKIOSK1. \t", out, sizeof(out)),
	    0);
	assert_string_equal(out, "kiosk1");
	assert_int_equal(display_canon_host("kiosk1 . ", out, sizeof(out)),
	    0);
	assert_string_equal(out, "kiosk1");
	/* Control characters and blanks inside are refused; out still has
	 * the canonical form for a caller that only compares. */
	assert_int_equal(display_canon_host("kio\nsk1", out, sizeof(out)),
	    XLICEN_E_BAD_VALUE);
	assert_string_equal(out, "kio\nsk1");
	assert_int_equal(display_canon_host("kiosk1\x7f", out, sizeof(out)),
	    XLICEN_E_BAD_VALUE);
	assert_int_equal(display_canon_host("kio sk1", out, sizeof(out)),
	    XLICEN_E_BAD_VALUE);
	assert_int_equal(display_canon_host("\x1b[2J", out, sizeof(out)),
	    XLICEN_E_BAD_VALUE);
	assert_int_equal(display_canon_host("", out, sizeof(out)), 0);
	assert_int_equal(display_canon_host(NULL, out, sizeof(out)), 0);
}

/* The comparison key: the short name, or an address literal whole. */
static void
test_host_key(void **state)
{
	static const struct {
		const char *in, *key;
	} rows[] = {
		{ "kiosk1", "kiosk1" },
		{ "kiosk1 ", "kiosk1" },
		{ "KIOSK1.", "kiosk1" },
		{ "kiosk1.example.org", "kiosk1" },
		{ " Kiosk1.Example.ORG. ", "kiosk1" },
		{ "kiosk1.other.net", "kiosk1" },
		{ "localhost.localdomain", "localhost" },
		{ "10.0.0.5", "10.0.0.5" },
		{ "10.0.0.5.", "10.0.0.5" },
		{ "::1", "::1" },
		{ "::ffff:10.0.0.5", "::ffff:10.0.0.5" },
		{ "FE80::1", "fe80::1" },
		{ "a.123", "a.123" },
		{ ".kiosk1", ".kiosk1" },
		{ "", "" },
	};
	char out[64], longname[LIMIT_STRING + 10];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		display_host_key(rows[i].in, out, sizeof(out));
		if (strcmp(out, rows[i].key) != 0)
			fail_msg("row %zu: key of \"%s\" is \"%s\", want "
			    "\"%s\"", i, rows[i].in, out, rows[i].key);
	}
	assert_int_equal(display_host_key("kio\rsk1.x", out, sizeof(out)),
	    XLICEN_E_BAD_VALUE);
	assert_true(display_host_same("kiosk1", "KIOSK1."));
	assert_true(display_host_same("kiosk1 ", "kiosk1"));
	assert_true(display_host_same("kiosk1.example.org", "kiosk1"));
	assert_true(display_host_same("kiosk1", "kiosk1.example.org"));
	assert_false(display_host_same("kiosk1", "kiosk10"));
	assert_false(display_host_same("kiosk1", "kiosk"));
	assert_false(display_host_same("10.0.0.5", "10.0.0.6"));
	assert_false(display_host_same("10.0.0.5", "10"));
	assert_false(display_host_same("", "kiosk1"));
	assert_false(display_host_same(NULL, "kiosk1"));
	/* Longer than any protocol string: not a host name, matches nothing
	 * (cut to fit, "k.111...1z" would read as an address). */
	memset(longname, '1', sizeof(longname) - 1);
	memcpy(longname, "k.", 2);
	longname[sizeof(longname) - 2] = 'z';
	longname[sizeof(longname) - 1] = '\0';
	assert_false(display_host_same(longname, longname));
	assert_false(display_host_same(longname, "k"));
	/* A short out is cut, as display_canon_host's. */
	display_host_key("abcdefgh.example", out, 4);
	assert_string_equal(out, "abc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon_table),
		cmocka_unit_test(test_canon_small_out),
		cmocka_unit_test(test_canon_host),
		cmocka_unit_test(test_host_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
