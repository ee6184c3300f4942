/*
 * common/hex: the one lowercase hex encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"

static void
test_hex_encode(void **state)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(in) + 2];

	(void)state;
	memset(out, 'Z', sizeof(out));
	hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "00017f80abff");
	/* Exactly 2n digits and a NUL: nothing past it is written. */
	assert_int_equal(out[2 * sizeof(in) + 1], 'Z');
	/* Nothing to encode: an empty string. */
	memset(out, 'Z', sizeof(out));
	hex_encode(in, 0, out);
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
