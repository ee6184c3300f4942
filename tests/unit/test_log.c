/*
 * Unit tests for server/log.c (issue 15): a debug line's arguments are not
 * evaluated below level debug; levels filter; a repeated line is written
 * LIMIT_LOG_FOLD_BURST times, then counted and summed up; the folding
 * table is bounded (a line past LIMIT_LOG_FOLD_LINES distinct ones makes
 * the oldest one's summary come at once); a reopened file gets the lines
 * after a rename.  Lines are read back from a real file target.
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

#include "limits.h"
#include "log.h"
#include "xlicen_errors.h"

static char tmpdir[1024], logpath[1200];

static int
setup(void **state)
{
	const char *base = getenv("XLICEN_TEST_TMP");
	char err[256];

	(void)state;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (mkdir(base, 0700) == -1 && errno != EEXIST)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_log.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/x.log", tmpdir);
	return log_open_file(logpath, err, sizeof(err)) == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[2048];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* How many lines of path, without their time stamp, are exactly text. */
static int
count(const char *path, const char *text)
{
	char line[LIMIT_LOG_LINE + 64];
	const char *p;
	FILE *f = fopen(path, "r");
	int n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((p = strstr(line, "Z gss-xlicend: ")) != NULL &&
		    strcmp(p + 15, text) == 0)
			n++;
	}
	fclose(f);
	return n;
}

static int evaluated;

static const char *
costly(void)
{
	evaluated++;
	return "x";
}

static void
test_levels(void **state)
{
	(void)state;
	log_set_fold(0);
	log_set_level(LOG_INFO);
	evaluated = 0;
	log_debug("debug %s", costly());
	assert_int_equal(evaluated, 0);
	assert_false(log_on(LOG_DEBUG));
	assert_true(log_on(LOG_INFO));
	log_msg(LOG_INFO, "info line");
	log_msg(LOG_WARNING, "warning line");
	log_set_level(LOG_WARNING);
	log_msg(LOG_INFO, "info line hidden");
	log_msg(LOG_ERR, "error line");
	log_set_level(LOG_DEBUG);
	log_debug("debug %s", costly());
	assert_int_equal(evaluated, 1);
	assert_int_equal(count(logpath, "info line"), 1);
	assert_int_equal(count(logpath, "warning line"), 1);
	assert_int_equal(count(logpath, "info line hidden"), 0);
	assert_int_equal(count(logpath, "error line"), 1);
	assert_int_equal(count(logpath, "debug x"), 1);
	assert_int_equal(log_level_parse("warning"), LOG_WARNING);
	assert_int_equal(log_level_parse("notice"), -1);
	assert_string_equal(log_level_name(LOG_DEBUG), "debug");
	log_set_level(LOG_INFO);
}

static void
test_fold(void **state)
{
	char text[64], want[128];
	int i;

	(void)state;
	log_set_fold(3600);
	for (i = 0; i < LIMIT_LOG_FOLD_BURST + 7; i++)
		log_msg(LOG_INFO, "the same line");
	assert_int_equal(count(logpath, "the same line"), LIMIT_LOG_FOLD_BURST);
	log_tick();	/* the interval is not over */
	assert_int_equal(count(logpath,
	    "line repeated 7 more times: the same line"), 0);
	/* LIMIT_LOG_FOLD_LINES - 1 other lines fill the table; one more
	 * makes the oldest give way, with its summary at once. */
	for (i = 0; i < LIMIT_LOG_FOLD_LINES - 1; i++) {
		snprintf(text, sizeof(text), "line %d", i);
		log_msg(LOG_INFO, "%s", text);
	}
	assert_int_equal(count(logpath,
	    "line repeated 7 more times: the same line"), 0);
	log_msg(LOG_INFO, "one line too many");
	assert_int_equal(count(logpath,
	    "line repeated 7 more times: the same line"), 1);
	/* A line repeated once, then the interval changed: its summary. */
	log_msg(LOG_WARNING, "line 0");
	for (i = 0; i < LIMIT_LOG_FOLD_BURST; i++)
		log_msg(LOG_INFO, "line 1");
	log_set_fold(0);
	snprintf(want, sizeof(want), "line repeated 1 more time: line 1");
	assert_int_equal(count(logpath, want), 1);
	assert_int_equal(count(logpath, "line 0"), 2);	/* other priority */
	for (i = 0; i < 3; i++)
		log_msg(LOG_INFO, "unfolded");
	assert_int_equal(count(logpath, "unfolded"), 3);
}

static void
test_reopen(void **state)
{
	char old[1300];

	(void)state;
	snprintf(old, sizeof(old), "%s.1", logpath);
	log_msg(LOG_INFO, "before the rename");
	assert_int_equal(rename(logpath, old), 0);
	log_msg(LOG_INFO, "after the rename");
	log_reopen("SIGUSR1");
	log_msg(LOG_INFO, "in the new file");
	assert_int_equal(count(old, "before the rename"), 1);
	assert_int_equal(count(old, "after the rename"), 1);
	assert_int_equal(count(logpath, "in the new file"), 1);
	assert_int_equal(count(old, "in the new file"), 0);
	snprintf(old, sizeof(old), "SIGUSR1: reopened log file %s", logpath);
	assert_int_equal(count(logpath, old), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_reopen),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
