/*
 * Unit tests for common/buf: the bounds-checked reader (every short read
 * fails with XLICEN_E_TRUNCATED and leaves the reader where it was), the
 * big-endian writer, the size cap, back-patching and the UTF-8 validator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "xlicen_errors.h"

static const uint8_t seq[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

/* Each getter, on every input shorter than it needs, fails without moving. */
static void
test_get_short_is_truncated_and_unmoved(void **state)
{
	struct buf_reader r, sub;
	const uint8_t *p;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	size_t n;

	(void)state;
	buf_reader_init(&r, seq, 0);
	v8 = 0xaa;
	assert_int_equal(buf_get_u8(&r, &v8), XLICEN_E_TRUNCATED);
	assert_int_equal(v8, 0);
	assert_int_equal(r.off, 0);

	for (n = 0; n < 2; n++) {
		buf_reader_init(&r, seq, n);
		v16 = 0xaaaa;
		assert_int_equal(buf_get_u16(&r, &v16), XLICEN_E_TRUNCATED);
		assert_int_equal(v16, 0);
		assert_int_equal(r.off, 0);
		assert_int_equal(buf_reader_avail(&r), n);
	}
	for (n = 0; n < 4; n++) {
		buf_reader_init(&r, seq, n);
		v32 = 0xaaaaaaaa;
		assert_int_equal(buf_get_u32(&r, &v32), XLICEN_E_TRUNCATED);
		assert_int_equal(v32, 0);
		assert_int_equal(r.off, 0);
	}
	for (n = 0; n < 8; n++) {
		buf_reader_init(&r, seq, n);
		v64 = 0xaaaaaaaaaaaaaaaaULL;
		assert_int_equal(buf_get_u64(&r, &v64), XLICEN_E_TRUNCATED);
		assert_true(v64 == 0);
		assert_int_equal(r.off, 0);
	}
	for (n = 0; n < 8; n++) {
		buf_reader_init(&r, seq, n);
		p = seq;
		assert_int_equal(buf_get_bytes(&r, n + 1, &p), XLICEN_E_TRUNCATED);
		assert_null(p);
		assert_int_equal(r.off, 0);
		assert_int_equal(buf_get_sub(&r, n + 1, &sub), XLICEN_E_TRUNCATED);
		assert_int_equal(buf_reader_avail(&sub), 0);
		assert_int_equal(r.off, 0);
	}

	/* Part-way through, a short read still leaves the offset alone. */
	buf_reader_init(&r, seq, 7);
	assert_int_equal(buf_get_u32(&r, &v32), 0);
	assert_int_equal(buf_get_u32(&r, &v32), XLICEN_E_TRUNCATED);
	assert_int_equal(r.off, 4);
	assert_int_equal(buf_get_u16(&r, &v16), 0);
	assert_int_equal(v16, 0x0506);
	assert_int_equal(buf_get_u16(&r, &v16), XLICEN_E_TRUNCATED);
	assert_int_equal(r.off, 6);
	/* A huge n cannot wrap the bounds check. */
	assert_int_equal(buf_get_bytes(&r, SIZE_MAX, &p), XLICEN_E_TRUNCATED);
	assert_int_equal(r.off, 6);
}

static void
test_get_big_endian(void **state)
{
	struct buf_reader r;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	(void)state;
	buf_reader_init(&r, seq, 8);
	assert_int_equal(buf_get_u64(&r, &v64), 0);
	assert_true(v64 == 0x0102030405060708ULL);
	assert_int_equal(buf_reader_done(&r), 0);

	buf_reader_init(&r, seq, 7);
	assert_int_equal(buf_get_u8(&r, &v8), 0);
	assert_int_equal(v8, 0x01);
	assert_int_equal(buf_get_u16(&r, &v16), 0);
	assert_int_equal(v16, 0x0203);
	assert_int_equal(buf_get_u32(&r, &v32), 0);
	assert_int_equal(v32, 0x04050607);
	assert_int_equal(buf_reader_avail(&r), 0);
}

static void
test_roundtrip_max_values(void **state)
{
	static const uint8_t want[] = {
		0xff,
		0xff, 0xff,
		0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00,
		0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x80,
		0x80, 0x01,
		0x80, 0x00, 0x00, 0x01,
		0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	};
	struct buf b;
	struct buf_reader r;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	(void)state;
	buf_init(&b);
	assert_int_equal(buf_put_u8(&b, UINT8_MAX), 0);
	assert_int_equal(buf_put_u16(&b, UINT16_MAX), 0);
	assert_int_equal(buf_put_u32(&b, UINT32_MAX), 0);
	assert_int_equal(buf_put_u64(&b, UINT64_MAX), 0);
	assert_int_equal(buf_put_u8(&b, 0), 0);
	assert_int_equal(buf_put_u16(&b, 0), 0);
	assert_int_equal(buf_put_u32(&b, 0), 0);
	assert_int_equal(buf_put_u64(&b, 0), 0);
	assert_int_equal(buf_put_u8(&b, 0x80), 0);
	assert_int_equal(buf_put_u16(&b, 0x8001), 0);
	assert_int_equal(buf_put_u32(&b, 0x80000001u), 0);
	assert_int_equal(buf_put_u64(&b, 0x8000000000000001ULL), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));

	buf_reader_init(&r, b.data, b.len);
	assert_int_equal(buf_get_u8(&r, &v8), 0);
	assert_int_equal(v8, UINT8_MAX);
	assert_int_equal(buf_get_u16(&r, &v16), 0);
	assert_int_equal(v16, UINT16_MAX);
	assert_int_equal(buf_get_u32(&r, &v32), 0);
	assert_true(v32 == UINT32_MAX);
	assert_int_equal(buf_get_u64(&r, &v64), 0);
	assert_true(v64 == UINT64_MAX);
	assert_int_equal(buf_get_u8(&r, &v8), 0);
	assert_int_equal(v8, 0);
	assert_int_equal(buf_get_u16(&r, &v16), 0);
	assert_int_equal(v16, 0);
	assert_int_equal(buf_get_u32(&r, &v32), 0);
	assert_int_equal(v32, 0);
	assert_int_equal(buf_get_u64(&r, &v64), 0);
	assert_true(v64 == 0);
	assert_int_equal(buf_get_u8(&r, &v8), 0);
	assert_int_equal(v8, 0x80);
	assert_int_equal(buf_get_u16(&r, &v16), 0);
	assert_int_equal(v16, 0x8001);
	assert_int_equal(buf_get_u32(&r, &v32), 0);
	assert_true(v32 == 0x80000001u);
	assert_int_equal(buf_get_u64(&r, &v64), 0);
	assert_true(v64 == 0x8000000000000001ULL);
	assert_int_equal(buf_reader_done(&r), 0);
	buf_free(&b);
}

static void
test_reader_done_trailing(void **state)
{
	struct buf_reader r;
	uint8_t v8;

	(void)state;
	buf_reader_init(&r, seq, 0);
	assert_int_equal(buf_reader_done(&r), 0);
	buf_reader_init(&r, NULL, 5);	/* NULL means empty, whatever len says */
	assert_int_equal(buf_reader_avail(&r), 0);
	assert_int_equal(buf_reader_done(&r), 0);
	assert_int_equal(buf_get_u8(&r, &v8), XLICEN_E_TRUNCATED);

	buf_reader_init(&r, seq, 2);
	assert_int_equal(buf_reader_done(&r), XLICEN_E_TRAILING);
	assert_int_equal(buf_get_u8(&r, &v8), 0);
	assert_int_equal(buf_reader_done(&r), XLICEN_E_TRAILING);
	assert_int_equal(buf_get_u8(&r, &v8), 0);
	assert_int_equal(buf_reader_done(&r), 0);
}

static void
test_get_bytes_and_sub(void **state)
{
	struct buf_reader r, sub;
	const uint8_t *p;
	uint16_t v16;

	(void)state;
	buf_reader_init(&r, seq, 8);
	assert_int_equal(buf_get_bytes(&r, 0, &p), 0);
	assert_ptr_equal(p, seq);
	assert_int_equal(buf_get_bytes(&r, 3, &p), 0);
	assert_ptr_equal(p, seq);
	assert_int_equal(buf_get_sub(&r, 4, &sub), 0);
	assert_int_equal(r.off, 7);
	assert_int_equal(buf_reader_avail(&sub), 4);
	assert_int_equal(buf_get_u16(&sub, &v16), 0);
	assert_int_equal(v16, 0x0405);
	assert_int_equal(buf_get_u16(&sub, &v16), 0);
	assert_int_equal(v16, 0x0607);
	/* The sub-reader ends where it was cut, not where r ends. */
	assert_int_equal(buf_get_u16(&sub, &v16), XLICEN_E_TRUNCATED);
	assert_int_equal(buf_reader_done(&sub), 0);
	assert_int_equal(buf_reader_done(&r), XLICEN_E_TRAILING);
}

static void
test_buf_grow_reset_free(void **state)
{
	struct buf b;
	uint8_t chunk[100];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	buf_init(&b);
	assert_null(b.data);
	assert_int_equal(buf_put_bytes(&b, NULL, 0), 0);
	assert_int_equal(b.len, 0);
	for (i = 0; i < 50; i++)
		assert_int_equal(buf_put_bytes(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 5000);
	assert_true(b.cap >= b.len);
	for (i = 0; i < 50; i++)
		assert_memory_equal(b.data + i * sizeof(chunk), chunk, sizeof(chunk));
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_non_null(b.data);
	assert_int_equal(buf_put_u8(&b, 7), 0);
	assert_int_equal(b.data[0], 7);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
	buf_free(&b);		/* twice is fine */
	buf_free(NULL);
}

static void
test_buf_max_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b);
	b.max = 6;
	assert_int_equal(buf_put_u32(&b, 0x01020304), 0);
	assert_int_equal(buf_put_u16(&b, 0x0506), 0);
	assert_int_equal(b.len, 6);
	/* Exactly full: every further append fails and changes nothing. */
	assert_int_equal(buf_put_u8(&b, 1), XLICEN_E_NOMEM);
	assert_int_equal(buf_put_u16(&b, 1), XLICEN_E_NOMEM);
	assert_int_equal(buf_put_u32(&b, 1), XLICEN_E_NOMEM);
	assert_int_equal(buf_put_u64(&b, 1), XLICEN_E_NOMEM);
	assert_int_equal(buf_put_bytes(&b, seq, 1), XLICEN_E_NOMEM);
	assert_int_equal(buf_reserve(&b, 1), XLICEN_E_NOMEM);
	assert_int_equal(buf_put_bytes(&b, seq, 0), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, seq, 6);

	/* An append that would cross the cap is refused whole. */
	buf_reset(&b);
	assert_int_equal(buf_put_u32(&b, 0), 0);
	assert_int_equal(buf_put_u32(&b, 0), XLICEN_E_NOMEM);
	assert_int_equal(b.len, 4);
	assert_int_equal(buf_put_u16(&b, 0), 0);
	assert_int_equal(b.len, 6);

	/* No size overflow on an absurd reservation, with or without a cap. */
	assert_int_equal(buf_reserve(&b, SIZE_MAX), XLICEN_E_NOMEM);
	b.max = 0;
	assert_int_equal(buf_reserve(&b, SIZE_MAX), XLICEN_E_NOMEM);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 3), XLICEN_E_NOMEM);
	assert_int_equal(b.len, 6);
	buf_free(&b);
}

static void
test_poke_bounds(void **state)
{
	static const uint8_t want[] = { 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef };
	struct buf b;

	(void)state;
	buf_init(&b);
	assert_int_equal(buf_poke_u16(&b, 0, 1), XLICEN_E_INVALID);
	assert_int_equal(buf_poke_u32(&b, 0, 1), XLICEN_E_INVALID);

	assert_int_equal(buf_put_u8(&b, 0), 0);
	assert_int_equal(buf_poke_u16(&b, 0, 1), XLICEN_E_INVALID);
	assert_int_equal(buf_put_u16(&b, 0), 0);
	assert_int_equal(buf_poke_u32(&b, 0, 1), XLICEN_E_INVALID);
	assert_int_equal(buf_put_bytes(&b, "\0\0\0", 3), 0);
	assert_int_equal(b.len, 6);

	assert_int_equal(buf_poke_u16(&b, 4, 0xbeef), 0);
	assert_int_equal(buf_poke_u16(&b, 5, 0), XLICEN_E_INVALID);
	assert_int_equal(buf_poke_u16(&b, 6, 0), XLICEN_E_INVALID);
	assert_int_equal(buf_poke_u16(&b, SIZE_MAX, 0), XLICEN_E_INVALID);
	assert_int_equal(buf_poke_u32(&b, 2, 0xdeadbeef), 0);
	assert_int_equal(buf_poke_u32(&b, 3, 0), XLICEN_E_INVALID);
	assert_int_equal(buf_poke_u32(&b, SIZE_MAX - 1, 0), XLICEN_E_INVALID);
	assert_int_equal(buf_poke_u16(&b, 0, 0xbeef), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, want, sizeof(want));
	buf_free(&b);
}

struct utf8_case {
	const char *what;
	const char *s;
	size_t n;
	int valid;
};

#define U8(what, lit, valid) { what, lit, sizeof(lit) - 1, valid }

static const struct utf8_case utf8_cases[] = {
	U8("empty", "", 1),
	U8("ASCII", "xdemo 1.0", 1),
	U8("ASCII max", "\x7f", 1),
	U8("2-byte min U+0080", "\xc2\x80", 1),
	U8("2-byte e-acute", "caf\xc3\xa9", 1),
	U8("2-byte max U+07FF", "\xdf\xbf", 1),
	U8("3-byte min U+0800", "\xe0\xa0\x80", 1),
	U8("3-byte euro", "\xe2\x82\xac", 1),
	U8("3-byte before surrogates U+D7FF", "\xed\x9f\xbf", 1),
	U8("3-byte after surrogates U+E000", "\xee\x80\x80", 1),
	U8("3-byte max U+FFFF", "\xef\xbf\xbf", 1),
	U8("4-byte min U+10000", "\xf0\x90\x80\x80", 1),
	U8("4-byte emoji", "\xf0\x9f\x98\x80", 1),
	U8("4-byte max U+10FFFF", "\xf4\x8f\xbf\xbf", 1),
	U8("mixed", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 1),

	U8("overlong 2-byte C0 80", "\xc0\x80", 0),
	U8("overlong 2-byte C1 BF", "\xc1\xbf", 0),
	U8("overlong 3-byte E0 80 80", "\xe0\x80\x80", 0),
	U8("overlong 3-byte E0 9F BF", "\xe0\x9f\xbf", 0),
	U8("overlong 4-byte F0 8F BF BF", "\xf0\x8f\xbf\xbf", 0),
	U8("surrogate ED A0 80", "\xed\xa0\x80", 0),
	U8("surrogate ED BF BF", "\xed\xbf\xbf", 0),
	U8("above U+10FFFF F4 90 80 80", "\xf4\x90\x80\x80", 0),
	U8("F5 lead", "\xf5\x80\x80\x80", 0),
	U8("truncated 2-byte", "\xc3", 0),
	U8("truncated 2-byte mid-string", "ab\xc3", 0),
	U8("truncated 3-byte", "\xe2\x82", 0),
	U8("truncated 4-byte", "\xf0\x9f\x98", 0),
	U8("2-byte with ASCII second byte", "\xc3\x41", 0),
	U8("3-byte interrupted", "\xe2\x41\xac", 0),
	U8("lone continuation", "\x80", 0),
	U8("lone continuation after ASCII", "a\xbf", 0),
	U8("embedded NUL", "a\0b", 0),
	U8("only NUL", "\0", 0),
	U8("5-byte F8", "\xf8\x88\x80\x80\x80", 0),
	U8("6-byte FC", "\xfc\x84\x80\x80\x80\x80", 0),
	U8("FE", "\xfe", 0),
	U8("FF", "\xff", 0),
};

static void
test_utf8_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		const struct utf8_case *c = &utf8_cases[i];
		int got = buf_utf8_valid((const uint8_t *)c->s, c->n);

		if (got != c->valid)
			fail_msg("utf8 case \"%s\": want %d, got %d", c->what,
			    c->valid, got);
	}
	/* The length is what counts, not a NUL terminator. */
	assert_int_equal(buf_utf8_valid((const uint8_t *)"\xc3\xa9", 1), 0);
	assert_int_equal(buf_utf8_valid((const uint8_t *)"ab\0", 2), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_short_is_truncated_and_unmoved),
		cmocka_unit_test(test_get_big_endian),
		cmocka_unit_test(test_roundtrip_max_values),
		cmocka_unit_test(test_reader_done_trailing),
		cmocka_unit_test(test_get_bytes_and_sub),
		cmocka_unit_test(test_buf_grow_reset_free),
		cmocka_unit_test(test_buf_max_limit),
		cmocka_unit_test(test_poke_bounds),
		cmocka_unit_test(test_utf8_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
