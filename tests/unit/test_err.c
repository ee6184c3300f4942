/*
 * Unit tests for common/err: every code of xlicen_errors.h has its own
 * name (the enum's, without XLICEN_E_) and its own specific text, positive
 * wire values are understood, and unknown codes get the generic answers.
 * Besides a list compiled in, the test reads xlicen_errors.h itself, so a
 * code appended to the enum without a table entry fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "xlicen_errors.h"

struct code_name {
	int code;
	const char *name;
};

#define E(x) { XLICEN_E_##x, #x }

static const struct code_name all_codes[] = {
	{ XLICEN_OK, "OK" },
	E(NOMEM), E(INVALID), E(INTERNAL), E(IO), E(CONNECT), E(CLOSED),
	E(TIMEOUT), E(NOT_CONNECTED),
	E(TRUNCATED), E(TRAILING), E(FRAME_TOO_LONG), E(FRAME_TYPE),
	E(FRAME_EMPTY), E(MSG_TYPE), E(TLV_CRITICAL), E(TLV_DUP),
	E(TLV_MISSING), E(TLV_LENGTH), E(STRING), E(TLV_COUNT), E(VERSION),
	E(STATE), E(BAD_VALUE),
	E(GSS), E(AUTH), E(NO_CREDS), E(GSS_FLAGS), E(UNWRAP),
	E(CONTEXT_EXPIRED),
	E(NO_PRODUCT), E(NO_VERSION), E(NO_SEATS), E(EXPIRED), E(NOT_YET),
	E(NO_LEASE), E(NOT_OWNER), E(COUNT), E(NOT_AUTHORIZED), E(DB),
	E(BUSY), E(SHUTDOWN),
	E(LIC_SYNTAX), E(LIC_SIGNATURE), E(LIC_KEY), E(LIC_NO_VENDOR),
	E(CONFIG),
	E(REVOKED), E(EXCLUDED), E(MAX_REACHED), E(WRONG_HOST), E(AUDIT_CHAIN),
	E(HOST_UNVERIFIED), E(QUEUE_LIMIT),
	E(BORROW), E(BORROW_PERIOD), E(BORROW_LIMIT), E(TOKEN),
	E(TOKEN_SIGNATURE), E(TOKEN_EXPIRED), E(TOKEN_PRINCIPAL), E(TOKEN_HOST),
	E(TOKEN_CLOCK), E(NO_TOKEN),
};
#define NCODES (sizeof(all_codes) / sizeof(all_codes[0]))

static void
test_every_code_named(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < NCODES; i++) {
		const struct code_name *c = &all_codes[i];
		const char *name = err_name(c->code);
		const char *text = err_str(c->code);

		assert_non_null(name);
		assert_non_null(text);
		if (strcmp(name, c->name) != 0)
			fail_msg("code %d: name \"%s\", want \"%s\"", c->code,
			    name, c->name);
		if (strcmp(name, "UNKNOWN") == 0 ||
		    strcmp(text, "unknown error") == 0 || text[0] == '\0')
			fail_msg("code %d (%s) has no entry", c->code, c->name);
		for (j = 0; j < i; j++) {
			assert_int_not_equal(all_codes[j].code, c->code);
			if (strcmp(err_name(all_codes[j].code), name) == 0)
				fail_msg("codes %d and %d share name %s",
				    all_codes[j].code, c->code, name);
			if (strcmp(err_str(all_codes[j].code), text) == 0)
				fail_msg("codes %d and %d share text \"%s\"",
				    all_codes[j].code, c->code, text);
		}
	}
	assert_string_equal(err_name(XLICEN_E_NO_SEATS), "NO_SEATS");
	assert_string_equal(err_str(XLICEN_E_NO_SEATS), "all seats are in use");
	assert_string_equal(err_str(XLICEN_OK), "success");
}

/* The path of common/xlicen_errors.h: from ctest's XLICEN_SOURCE_DIR, or
 * else relative to this file's own path. */
static FILE *
open_errors_header(void)
{
	const char *dir = getenv("XLICEN_SOURCE_DIR");
	char path[4096];
	const char *cut;

	if (dir != NULL && dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/common/xlicen_errors.h", dir);
		return fopen(path, "r");
	}
	if ((cut = strstr(__FILE__, "tests/unit/test_err.c")) == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%.*scommon/xlicen_errors.h",
	    (int)(cut - __FILE__), __FILE__);
	return fopen(path, "r");
}

/* Every "XLICEN_E_NAME = -N," line of the header is in the table under
 * NAME, and all_codes above lists exactly those codes. */
static void
test_header_codes_in_table(void **state)
{
	char line[512], name[128];
	FILE *f;
	int code, n = 0;
	size_t i;

	(void)state;
	/* Not a skip: cmocka's skip() exits 0, which CTest counts as a pass. */
	if ((f = open_errors_header()) == NULL)
		fail_msg("xlicen_errors.h not found; set XLICEN_SOURCE_DIR");
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " XLICEN_E_%127[A-Z0-9_] = %d", name, &code) != 2)
			continue;
		n++;
		if (strcmp(err_name(code), name) != 0)
			fail_msg("XLICEN_E_%s (%d): err_name says \"%s\"", name,
			    code, err_name(code));
		for (i = 0; i < NCODES; i++)
			if (all_codes[i].code == code)
				break;
		if (i == NCODES)
			fail_msg("XLICEN_E_%s (%d) missing from test_err.c's list",
			    name, code);
	}
	fclose(f);
	/* all_codes has XLICEN_OK besides the XLICEN_E_* codes. */
	assert_int_equal((size_t)n + 1, NCODES);
}

static void
test_wire_values(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NCODES; i++) {
		int code = all_codes[i].code;

		assert_string_equal(err_str(-code), err_str(code));
		assert_string_equal(err_name(-code), err_name(code));
		if (code != 0)
			assert_true(err_known(-code));
	}
	assert_string_equal(err_name(62), "NO_SEATS");
	assert_string_equal(err_str(32), "no common protocol version");
}

static void
test_err_known(void **state)
{
	static const int unknown[] = { 0, 9, 10, 19, 35, 39, 46, 59, 79,
	    85, 100, 1000, 65535, INT_MAX, -1, -62, INT_MIN };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		if (err_known(unknown[i]))
			fail_msg("err_known(%d) is 1", unknown[i]);
	assert_true(err_known(1));
	assert_true(err_known(20));
	assert_true(err_known(34));
	assert_true(err_known(45));
	assert_true(err_known(71));
	assert_true(err_known(84));
}

static void
test_unknown_codes(void **state)
{
	static const int unknown[] = { -9, -19, -35, -46, -79, -85, -1000,
	    1000, INT_MAX, INT_MIN, INT_MIN + 1 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_string_equal(err_name(unknown[i]), "UNKNOWN");
		assert_string_equal(err_str(unknown[i]), "unknown error");
	}
}

/* err_setf: printf into the caller's buffer, cut to fit, never past it;
 * nothing at all without a buffer. */
static void
test_err_setf(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'Z', sizeof(buf));
	err_setf(buf, sizeof(buf), "%s %d", "ab", 42);
	assert_string_equal(buf, "ab 42");
	err_setf(buf, sizeof(buf), "%s", "0123456789");
	assert_string_equal(buf, "0123456");
	memset(buf, 'Z', sizeof(buf));
	err_setf(buf, 0, "%s", "x");
	assert_int_equal(buf[0], 'Z');
	err_setf(NULL, 0, "%s", "x");
	err_setf(NULL, sizeof(buf), "%s", "x");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_code_named),
		cmocka_unit_test(test_header_codes_in_table),
		cmocka_unit_test(test_wire_values),
		cmocka_unit_test(test_err_known),
		cmocka_unit_test(test_unknown_codes),
		cmocka_unit_test(test_err_setf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
