/*
 * common/fileio: the one whole-file reader.  Real files in a temporary
 * directory: sizes at and past the bound, NUL bytes, a missing file, a
 * directory, a FIFO (must not block) and a device.
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

#include "fileio.h"
#include "xlicen_errors.h"

static char tmpdir[1024];

static int
setup_tmp(void **state)
{
	const char *base = getenv("XLICEN_TEST_TMP");

	(void)state;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (mkdir(base, 0700) == -1 && errno != EEXIST)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_fileio.XXXXXX", base);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmp(void **state)
{
	char cmd[2048];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write n bytes of data to NAME in the test directory, with mode. */
static const char *
put(const char *name, const void *data, size_t n, mode_t mode)
{
	static char p[2048];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static void
test_reads_whole_file(void **state)
{
	char *buf = (char *)"x";
	size_t len = 99;
	mode_t mode = 0;
	int errnum = -1;
	const char *p;

	(void)state;
	p = put("a.txt", "hello\n", 6, 0640);
	assert_int_equal(fileio_read(p, 100, &buf, &len, &mode, &errnum), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "hello\n", 7);	/* with its NUL */
	assert_int_equal(mode, 0640);
	assert_int_equal(errnum, 0);
	free(buf);
	/* NUL bytes are data: the caller decides about them. */
	p = put("nul.bin", "a\0b", 3, 0600);
	assert_int_equal(fileio_read(p, 3, &buf, &len, &mode, &errnum), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(buf, "a\0b", 4);
	free(buf);
	/* An empty file. */
	p = put("empty", "", 0, 0600);
	assert_int_equal(fileio_read(p, 3, &buf, &len, &mode, &errnum), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
}

static void
test_bound(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int errnum = 0;
	const char *p;

	(void)state;
	p = put("ten", "0123456789", 10, 0600);
	assert_int_equal(fileio_read(p, 10, &buf, &len, &mode, &errnum), 0);
	assert_int_equal(len, 10);
	free(buf);
	buf = (char *)"x";
	assert_int_equal(fileio_read(p, 9, &buf, &len, &mode, &errnum),
	    FILEIO_TOO_LARGE);
	assert_null(buf);
	assert_int_equal(len, 0);
}

static void
test_not_readable(void **state)
{
	char path[2048];
	char *buf = (char *)"x";
	size_t len = 0;
	mode_t mode = 0;
	int errnum = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	assert_int_equal(fileio_read(path, 10, &buf, &len, &mode, &errnum),
	    XLICEN_E_IO);
	assert_int_equal(errnum, ENOENT);
	assert_null(buf);
	/* A directory: not a file, and errnum says so. */
	assert_int_equal(fileio_read(tmpdir, 10, &buf, &len, &mode, &errnum),
	    FILEIO_NOT_REGULAR);
	assert_int_equal(errnum, EISDIR);
	assert_null(buf);
	/* A FIFO with no writer: refused at once, not waited on. */
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	assert_int_equal(fileio_read(path, 10, &buf, &len, &mode, &errnum),
	    FILEIO_NOT_REGULAR);
	alarm(0);
	assert_int_equal(errnum, 0);
	/* A device. */
	assert_int_equal(fileio_read("/dev/null", 10, &buf, &len, &mode,
	    &errnum), FILEIO_NOT_REGULAR);
	assert_int_equal(errnum, 0);
	assert_null(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_whole_file),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_not_readable),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
