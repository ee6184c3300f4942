/*
 * common/trace: the protocol trace's lines (frames, HELLO and ALERT fields,
 * messages by tag name, escapes, unknown and malformed TLVs), that a GSS
 * token shows no byte past its head, and msg.c's tag names behind it.
 */
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

#include "msg.h"
#include "trace.h"
#include "xlicen_errors.h"

static char trace_path[512];

/* Start a fresh trace file. */
static int
setup(void **state)
{
	const char *dir = getenv("XLICEN_TEST_TMP");

	(void)state;
	if (dir == NULL)
		dir = "/tmp";
	mkdir(dir, 0700);
	snprintf(trace_path, sizeof(trace_path), "%s/test_trace.%ld", dir,
	    (long)getpid());
	unlink(trace_path);
	return trace_open(trace_path, NULL, 0);
}

static int
teardown(void **state)
{
	(void)state;
	trace_close();
	unlink(trace_path);
	return 0;
}

/* What the trace file holds now. */
static char *
trace_text(void)
{
	static char text[8192];
	FILE *fp = fopen(trace_path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(text, 1, sizeof(text) - 1, fp);
	text[n] = '\0';
	fclose(fp);
	return text;
}

/* Example 4 of docs/PROTOCOL.md: every field by name, in wire order. */
static void
test_trace_checkout(void **state)
{
	static const uint8_t ex4[] = {
		0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x05,
		'x', 'd', 'e', 'm', 'o', 0x00, 0x02, 0x00, 0x03, '1', '.', '0',
		0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04,
		0x00, 0x03, 'w', 's', '1', 0x00, 0x05, 0x00, 0x05, 'w', 's',
		'1', ':', '0', 0x00, 0x06, 0x00, 0x04, 0x00, 0x00, 0x10, 0x92,
	};

	(void)state;
	trace_msg("p", "recv", ex4, sizeof(ex4));
	assert_string_equal(trace_text(), "xlicen-trace p recv msg "
	    "CHECKOUT(0x0001) id=1 PRODUCT=\"xdemo\" VERSION=\"1.0\" COUNT=1 "
	    "HOST=\"ws1\" DISPLAY=\"ws1:0\" PID=4242\n");
}

/* Examples 1 and 3 in one buffer: two lines, HELLO and ALERT decoded. */
static void
test_trace_hello_alert(void **state)
{
	static const uint8_t b[] = {
		0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x00, 0x01,
		0x04, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x20, 0x00, 0x07,
		'a', '"', 'b', '\\', 'c', 0x01, 'd',
	};

	(void)state;
	trace_frames("p", "send", b, sizeof(b));
	assert_string_equal(trace_text(),
	    "xlicen-trace p send frame HELLO len=4 min_version=1 max_version=1\n"
	    "xlicen-trace p send frame ALERT len=11 code=32 VERSION "
	    "reason=\"a\\\"b\\\\c\\x01d\"\n");
}

/* A token shows its length and 16-byte head, never a byte after it. */
static void
test_trace_token_head(void **state)
{
	uint8_t b[5 + 64];

	(void)state;
	memset(b, 0xaa, sizeof(b));
	b[0] = 2;
	b[1] = b[2] = b[3] = 0;
	b[4] = 64;
	memset(b + 5, 0x11, 16);
	trace_frames("p", "recv", b, sizeof(b));
	assert_string_equal(trace_text(), "xlicen-trace p recv frame CONTEXT "
	    "len=64 token_head=11111111111111111111111111111111\n");
	assert_null(strstr(trace_text(), "aa"));
}

/* An unknown critical tag in hex, a wrong-length integer in hex, a
 * nested POOL, a TLV running past the end. */
static void
test_trace_odd(void **state)
{
	static const uint8_t m[] = {
		0x80, 0x04, 0x00, 0x00, 0x00, 0x07,
		0x80, 0x63, 0x00, 0x02, 0xbe, 0xef,		/* tag 99, critical */
		0x00, 0x0f, 0x00, 0x05, 0x00, 0x01, 0x00, 0x01, 'x', /* POOL */
		0x00, 0x13, 0x00, 0x03, 0x00, 0x00, 0x01,	/* TIME, 3 bytes */
		0x00, 0x0e, 0x00, 0x09, 'a',			/* runs past */
	};

	(void)state;
	trace_msg("p", "send", m, sizeof(m));
	assert_string_equal(trace_text(), "xlicen-trace p send msg "
	    "STATUS_REPLY(0x8004) id=7 TAG99!=0xbeef POOL={ PRODUCT=\"x\" } "
	    "TIME=0x000001 truncated(5 bytes)\n");
}

/* Off: nothing is written; a file that cannot be opened is refused. */
static void
test_trace_off(void **state)
{
	static const uint8_t hello[] = { 0x01, 0x00, 0x00, 0x00, 0x04, 0, 1, 0, 1 };

	(void)state;
	assert_int_equal(trace_open("0", NULL, 0), 0);
	assert_false(trace_on());
	trace_frames("p", "send", hello, sizeof(hello));
	assert_string_equal(trace_text(), "");
	assert_int_equal(trace_open("/nonexistent/dir/trace", NULL, 0),
	    XLICEN_E_IO);
	assert_false(trace_on());
}

/* Every tag of msg.h has its PROTOCOL.md name and a kind (DETAIL to
 * ADDRESS, 49 to 54, had none: traces showed them by number); 0 and 60
 * none. */
static void
test_msg_tag_info(void **state)
{
	int kind, n;
	uint16_t t, type;
	const char *name;
	size_t i;

	(void)state;
	for (t = 1, n = 0; t <= TAG_AFTER; t++, n++) {
		assert_non_null(msg_tag_info(t, &kind));
		assert_int_not_equal(kind, MSG_KIND_NONE);
	}
	assert_int_equal(n, 60);
	assert_string_equal(msg_tag_info(TAG_EVENT, &kind), "EVENT");
	assert_int_equal(kind, MSG_KIND_LIST);
	assert_string_equal(msg_tag_info(TAG_LEASE, &kind), "LEASE");
	assert_int_equal(kind, MSG_KIND_STR);
	assert_string_equal(msg_tag_info(TAG_CODE, &kind), "CODE");
	assert_int_equal(kind, MSG_KIND_U16);
	assert_string_equal(msg_tag_info(TAG_HOLDER, &kind), "HOLDER");
	assert_int_equal(kind, MSG_KIND_LIST);
	assert_string_equal(msg_tag_info(TAG_AVG_MILLI, &kind), "AVG_MILLI");
	assert_int_equal(kind, MSG_KIND_U32);
	assert_null(msg_tag_info(0, &kind));
	assert_int_equal(kind, MSG_KIND_NONE);
	assert_string_equal(msg_tag_info(TAG_TOKEN, &kind), "TOKEN");
	assert_int_equal(kind, MSG_KIND_BYTES);
	assert_null(msg_tag_info(61, &kind));
	assert_null(msg_tag_info(0x7fff, &kind));
	for (i = 0; msg_type_info(i, &type, &name); i++)
		assert_string_equal(msg_type_name(type), name);
	assert_int_equal(i, 24);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_trace_checkout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_hello_alert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_token_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_odd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_off, setup, teardown),
		cmocka_unit_test(test_msg_tag_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
