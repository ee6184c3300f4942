/*
 * server/profscan: the one line scanner of the profile-syntax files (the
 * configuration and the policy).  What each line is, where a section, key
 * or group is, and which problem a file has first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profscan.h"
#include "xlicen_errors.h"

static const char sample[] =
    "# a comment\n"			/* 1 */
    "[groups]\n"			/* 2 */
    "\tcad = a@R b@R\n"			/* 3 */
    "[products]\n"			/* 4 */
    "\txdemo = {\n"			/* 5 */
    "\t\tmax = 1 group:cad\n"		/* 6 */
    "\t\tmax = 2 a@R  \r\n"		/* 7 */
    "\t}\n"				/* 8 */
    "\tmax = 3 a@R\n"			/* 9 */
    "\tother = {\n"			/* 10 */
    "\t\tmax = 1 group:cad\n"		/* 11 */
    "\t}\n"				/* 12 */
    "[ spaced ]\n"			/* 13 */
    "include /etc/x\n"			/* 14 */
    "\tempty =\n";			/* 15 */

struct seen {
	enum profscan_kind kind[32];
	int level[32];
	char key[32][32];
	char value[32][32];
	char section[32][32];
	int n;
};

static int
record(const struct profscan_line *l, void *arg)
{
	struct seen *s = arg;

	assert_int_equal(l->lineno, s->n + 1);
	s->kind[s->n] = l->kind;
	s->level[s->n] = l->level;
	snprintf(s->key[s->n], sizeof(s->key[0]), "%s", l->key);
	snprintf(s->value[s->n], sizeof(s->value[0]), "%s", l->value);
	snprintf(s->section[s->n], sizeof(s->section[0]), "%s", l->section);
	s->n++;
	return 0;
}

static void
test_classify(void **state)
{
	struct seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(profscan_text(sample, 0, record, &s), 0);
	assert_int_equal(s.n, 15);
	assert_int_equal(s.kind[0], PROFSCAN_BLANK);
	assert_int_equal(s.kind[1], PROFSCAN_SECTION);
	assert_string_equal(s.section[1], "groups");
	assert_int_equal(s.kind[2], PROFSCAN_RELATION);
	assert_string_equal(s.key[2], "cad");
	assert_string_equal(s.value[2], "a@R b@R");
	assert_int_equal(s.kind[4], PROFSCAN_GROUP);
	assert_int_equal(s.level[4], 0);
	assert_string_equal(s.key[4], "xdemo");
	assert_int_equal(s.level[5], 1);
	/* Trailing blanks and a CR are not part of the value. */
	assert_string_equal(s.value[6], "2 a@R");
	assert_int_equal(s.kind[7], PROFSCAN_CLOSE);
	assert_int_equal(s.level[7], 1);
	assert_int_equal(s.level[8], 0);
	/* The library keeps the blanks inside the brackets. */
	assert_string_equal(s.section[12], " spaced ");
	assert_int_equal(s.kind[13], PROFSCAN_DIRECTIVE);
	assert_int_equal(s.kind[14], PROFSCAN_RELATION);
	assert_string_equal(s.value[14], "");
}

static int
q_find(const char *section, const char *sub, const char *key,
    const char *value, int groups, int nth)
{
	struct profscan_query q;

	memset(&q, 0, sizeof(q));
	q.section = section;
	q.sub = sub;
	q.key = key;
	q.value = value;
	q.groups = groups;
	q.nth = nth;
	return profscan_find(sample, 0, &q);
}

static void
test_find(void **state)
{
	(void)state;
	/* Section headers. */
	assert_int_equal(q_find("products", NULL, NULL, NULL, 0, 0), 4);
	assert_int_equal(q_find(" spaced ", NULL, NULL, NULL, 0, 0), 13);
	assert_int_equal(q_find("spaced", NULL, NULL, NULL, 0, 0), 0);
	/* Top-level keys: a group line counts only when asked. */
	assert_int_equal(q_find("products", NULL, "max", NULL, 0, 0), 9);
	assert_int_equal(q_find("products", NULL, "xdemo", NULL, 0, 0), 0);
	assert_int_equal(q_find("products", NULL, "xdemo", NULL, 1, 0), 5);
	assert_int_equal(q_find("products", NULL, "other", NULL, 1, 0), 10);
	assert_int_equal(q_find("groups", NULL, "cad", "a@R b@R", 0, 0), 3);
	assert_int_equal(q_find("groups", NULL, "cad", "a@R", 0, 0), 0);
	/* Inside a group: by value, by occurrence, and the group's line. */
	assert_int_equal(q_find("products", "xdemo", "max", NULL, 0, 0), 6);
	assert_int_equal(q_find("products", "xdemo", "max", NULL, 0, 1), 7);
	assert_int_equal(q_find("products", "xdemo", "max", "2 a@R", 0, 0), 7);
	assert_int_equal(q_find("products", "other", "max", NULL, 0, 0), 11);
	assert_int_equal(q_find("products", "xdemo", NULL, NULL, 0, 0), 5);
	assert_int_equal(q_find("products", "nope", "max", NULL, 0, 0), 0);
	assert_int_equal(q_find("groups", "xdemo", "max", NULL, 0, 0), 0);
}

/* Lines longer than the caller's bound are BAD; without a bound they are
 * read, and a long key is found whole. */
static void
test_long_lines(void **state)
{
	char text[600], key[300];
	struct profscan_problem pr;
	struct profscan_query q;

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(text, sizeof(text), "[s]\n%s = 1\n", key);
	memset(&q, 0, sizeof(q));
	q.section = "s";
	q.key = key;
	assert_int_equal(profscan_find(text, 0, &q), 2);
	assert_int_equal(profscan_find(text, 100, &q), 0);
	assert_int_equal(profscan_problem(text, 100, 1, &pr), 1);
	assert_int_equal(pr.line, 2);
	assert_string_equal(pr.why, "line too long");
	assert_int_equal(profscan_problem(text, 0, 1, &pr), 0);
	assert_int_equal(pr.line, 0);
}

static void
test_problems(void **state)
{
	static const struct {
		const char *text;
		int hard_only;
		int line;
		const char *why;
	} cases[] = {
		{ "[a]\nx = {\n  y = 1\n", 1, 2, "a { that is never closed" },
		{ "[a]\n}\n", 1, 2, "a } without a {" },
		{ "[a]\nthis is wrong\n", 1, 2, "expected KEY = VALUE" },
		{ "[a] junk\n", 1, 1, "text after the section header" },
		{ "[a]\nx y = 1\n", 1, 2, "a blank inside the key" },
		{ "[a]\nmodule x\n", 1, 2,
		  "include, includedir and module are not supported here" },
		{ "x = 1\n[a]\n", 1, 0, "" },
		{ "x = 1\n[a]\n", 0, 1,
		  "\"x\" comes before any [section] header" },
		{ "[a]\n\tk =\n", 1, 2, "[a] k: no value after \"=\" (the "
		  "value must be on the same line)" },
		{ "[a]\nk = 1\n", 0, 0, "" },
	};
	struct profscan_problem pr;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(profscan_problem(cases[i].text, 4096,
		    cases[i].hard_only, &pr), cases[i].line > 0);
		assert_int_equal(pr.line, cases[i].line);
		assert_string_equal(pr.why, cases[i].why);
	}
	/* After the library refused a file: a hard problem first, else any. */
	assert_int_equal(profscan_syntax_error("k = 1\n[a]\nx\n", 0, &pr), 1);
	assert_int_equal(pr.line, 3);
	assert_string_equal(pr.text, "x");
	assert_int_equal(profscan_syntax_error("k = 1\n[a]\n", 0, &pr), 1);
	assert_int_equal(pr.line, 1);
}

static void
test_show(void **state)
{
	char v[300], out[PROFSCAN_SHOW_MAX + 4];

	(void)state;
	profscan_show("a\tb\x7f", out, sizeof(out));
	assert_string_equal(out, "a?b?");
	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	profscan_show(v, out, sizeof(out));
	assert_int_equal(strlen(out), PROFSCAN_SHOW_MAX);
	assert_string_equal(out + PROFSCAN_SHOW_MAX - 3, "...");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
