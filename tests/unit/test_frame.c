/*
 * Unit tests for common/frame: the incremental decoder (judging type and
 * length from the header alone, before any allocation), the encoders, and
 * the HELLO and ALERT bodies.  The byte arrays are the worked examples of
 * docs/PROTOCOL.md; keep the two in step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "xlicen_errors.h"

/* PROTOCOL.md, example 1: client HELLO offering versions 1..1. */
static const uint8_t ex_hello_client[] = {
	0x01, 0x00, 0x00, 0x00, 0x04,	/* HELLO, length 4 */
	0x00, 0x01,			/* min_version 1 */
	0x00, 0x01,			/* max_version 1 */
};

/* PROTOCOL.md, example 2: server HELLO, version 1, time 1700000000
 * (2023-11-14T22:13:20Z). */
static const uint8_t ex_hello_server[] = {
	0x01, 0x00, 0x00, 0x00, 0x0a,	/* HELLO, length 10 */
	0x00, 0x01,			/* version 1 */
	0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x00,	/* time */
};

/* PROTOCOL.md, example 3: ALERT VERSION (32) with the server's reason for a
 * client that offered 2..2. */
static const char ex_alert_reason[] =
    "server speaks version 1 only; client offered 2-2";
static const uint8_t ex_alert[] = {
	0x04, 0x00, 0x00, 0x00, 0x34,	/* ALERT, length 52 */
	0x00, 0x20,			/* code 32 = VERSION */
	0x00, 0x30,			/* reason length 48 */
	0x73, 0x65, 0x72, 0x76, 0x65, 0x72, 0x20, 0x73,	/* "server s" */
	0x70, 0x65, 0x61, 0x6b, 0x73, 0x20, 0x76, 0x65,	/* "peaks ve" */
	0x72, 0x73, 0x69, 0x6f, 0x6e, 0x20, 0x31, 0x20,	/* "rsion 1 " */
	0x6f, 0x6e, 0x6c, 0x79, 0x3b, 0x20, 0x63, 0x6c,	/* "only; cl" */
	0x69, 0x65, 0x6e, 0x74, 0x20, 0x6f, 0x66, 0x66,	/* "ient off" */
	0x65, 0x72, 0x65, 0x64, 0x20, 0x32, 0x2d, 0x32,	/* "ered 2-2" */
};

/* A CONTEXT frame with a 3-byte body, then a DATA frame with a 2-byte one. */
static const uint8_t two_frames[] = {
	0x02, 0x00, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc,
	0x03, 0x00, 0x00, 0x00, 0x02, 0xdd, 0xee,
};

/* Feed everything, one call; expect one frame consuming all of p. */
static void
feed_all(const uint8_t *p, size_t n, uint32_t max, struct frame *f)
{
	struct frame_dec d;
	size_t used;

	frame_dec_init(&d, max);
	assert_int_equal(frame_dec_feed(&d, p, n, &used, f), 1);
	assert_int_equal(used, n);
	assert_false(frame_dec_pending(&d));
	frame_dec_free(&d);
}

/* Feed one byte at a time; expect one frame at the last byte. */
static void
feed_bytewise(const uint8_t *p, size_t n, uint32_t max, struct frame *f)
{
	struct frame_dec d;
	size_t i, used;

	frame_dec_init(&d, max);
	for (i = 0; i + 1 < n; i++) {
		assert_int_equal(frame_dec_feed(&d, p + i, 1, &used, f), 0);
		assert_int_equal(used, 1);
		assert_null(f->body);
		assert_true(frame_dec_pending(&d));
	}
	assert_int_equal(frame_dec_feed(&d, p + n - 1, 1, &used, f), 1);
	assert_int_equal(used, 1);
	assert_false(frame_dec_pending(&d));
	frame_dec_free(&d);
}

static void
test_dec_bytewise_equals_whole(void **state)
{
	struct frame a, b;

	(void)state;
	feed_all(ex_alert, sizeof(ex_alert), LIMIT_FRAME_PREAUTH, &a);
	feed_bytewise(ex_alert, sizeof(ex_alert), LIMIT_FRAME_PREAUTH, &b);
	assert_int_equal(a.type, FRAME_ALERT);
	assert_int_equal(a.type, b.type);
	assert_int_equal(a.len, sizeof(ex_alert) - LIMIT_FRAME_HDR);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.body, ex_alert + LIMIT_FRAME_HDR, a.len);
	assert_memory_equal(a.body, b.body, a.len);
	frame_free(&a);
	frame_free(&b);
	assert_null(a.body);
	assert_int_equal(a.len, 0);
	frame_free(NULL);

	/* A one-byte body, the smallest legal frame. */
	feed_bytewise((const uint8_t *)"\x03\x00\x00\x00\x01\x5a", 6, 16, &a);
	assert_int_equal(a.type, FRAME_DATA);
	assert_int_equal(a.len, 1);
	assert_int_equal(a.body[0], 0x5a);
	frame_free(&a);
}

static void
test_dec_two_frames_back_to_back(void **state)
{
	struct frame_dec d;
	struct frame f;
	size_t used;

	(void)state;
	frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
	assert_int_equal(frame_dec_feed(&d, two_frames, sizeof(two_frames),
	    &used, &f), 1);
	assert_int_equal(used, 8);	/* stops after the first frame */
	assert_int_equal(f.type, FRAME_CONTEXT);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.body, "\xaa\xbb\xcc", 3);
	assert_false(frame_dec_pending(&d));
	frame_free(&f);

	assert_int_equal(frame_dec_feed(&d, two_frames + 8,
	    sizeof(two_frames) - 8, &used, &f), 1);
	assert_int_equal(used, 7);
	assert_int_equal(f.type, FRAME_DATA);
	assert_int_equal(f.len, 2);
	assert_memory_equal(f.body, "\xdd\xee", 2);
	frame_free(&f);

	/* Split inside the second header: the first frame, then a part. */
	assert_int_equal(frame_dec_feed(&d, two_frames, 10, &used, &f), 1);
	assert_int_equal(used, 8);
	frame_free(&f);
	assert_int_equal(frame_dec_feed(&d, two_frames + 8, 2, &used, &f), 0);
	assert_int_equal(used, 2);
	assert_true(frame_dec_pending(&d));
	assert_int_equal(frame_dec_feed(&d, two_frames + 10, 5, &used, &f), 1);
	assert_int_equal(used, 5);
	assert_int_equal(f.type, FRAME_DATA);
	assert_memory_equal(f.body, "\xdd\xee", 2);
	frame_free(&f);
	frame_dec_free(&d);
}

/* Header of type t and length len, followed by body bytes. */
static void
make_hdr(uint8_t *out, uint8_t t, uint32_t len)
{
	out[0] = t;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
}

static void
test_dec_bad_type_at_header(void **state)
{
	struct frame_dec d;
	struct frame f;
	uint8_t in[5 + 4] = { 0 };
	size_t used, i;
	unsigned t;

	(void)state;
	for (t = 0; t <= 255; t++) {
		if (t >= FRAME_HELLO && t <= FRAME_ALERT)
			continue;
		make_hdr(in, (uint8_t)t, 4);
		/* All at once: refused, and not one body byte taken. */
		frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
		assert_int_equal(frame_dec_feed(&d, in, sizeof(in), &used, &f),
		    XLICEN_E_FRAME_TYPE);
		assert_int_equal(used, LIMIT_FRAME_HDR);
		assert_null(f.body);
		assert_null(d.body);
		frame_dec_free(&d);
		/* Byte by byte: refused at the fifth header byte. */
		frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
		for (i = 0; i < LIMIT_FRAME_HDR - 1; i++)
			assert_int_equal(frame_dec_feed(&d, in + i, 1, &used,
			    &f), 0);
		assert_int_equal(frame_dec_feed(&d, in + i, 1, &used, &f),
		    XLICEN_E_FRAME_TYPE);
		assert_null(d.body);
		frame_dec_free(&d);
	}
}

static void
test_dec_empty_frame(void **state)
{
	struct frame_dec d;
	struct frame f;
	uint8_t in[6];
	size_t used;
	uint8_t t;

	(void)state;
	for (t = FRAME_HELLO; t <= FRAME_ALERT; t++) {
		make_hdr(in, t, 0);
		in[5] = 0x01;
		frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
		assert_int_equal(frame_dec_feed(&d, in, sizeof(in), &used, &f),
		    XLICEN_E_FRAME_EMPTY);
		assert_int_equal(used, LIMIT_FRAME_HDR);
		assert_null(d.body);
		frame_dec_free(&d);
	}
}

/* PROTOCOL.md section 2: when two header rules apply, the type is judged
 * first, then a zero length, then the limit. */
static void
test_dec_header_rule_order(void **state)
{
	static const struct { uint8_t type; uint32_t len; int want; } c[] = {
		{ 0, 0, XLICEN_E_FRAME_TYPE },
		{ 5, 0xffffffffu, XLICEN_E_FRAME_TYPE },
		{ 255, 0, XLICEN_E_FRAME_TYPE },
		{ FRAME_DATA, 0, XLICEN_E_FRAME_EMPTY },
		{ FRAME_HELLO, 0, XLICEN_E_FRAME_EMPTY },
		{ FRAME_DATA, LIMIT_FRAME_PREAUTH + 1, XLICEN_E_FRAME_TOO_LONG },
	};
	struct frame_dec d;
	struct frame f;
	uint8_t in[5];
	size_t used, i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		make_hdr(in, c[i].type, c[i].len);
		/* A limit below 1 byte would refuse every length: the empty
		 * frame still wins over it. */
		frame_dec_init(&d, c[i].want == XLICEN_E_FRAME_TOO_LONG ?
		    LIMIT_FRAME_PREAUTH : 0);
		assert_int_equal(frame_dec_feed(&d, in, sizeof(in), &used, &f),
		    c[i].want);
		frame_dec_free(&d);
	}
}

/* PROTOCOL.md section 5: the words of ALERT GSS_FLAGS's reason, one per
 * missing flag, in the order mutual replay sequence confidentiality
 * integrity, one space apart. */
static void
test_gss_flag_words(void **state)
{
	char out[128];

	(void)state;
	gssx_flags_missing(0, out, sizeof(out));
	assert_string_equal(out,
	    "mutual replay sequence confidentiality integrity");
	gssx_flags_missing(GSSX_REQUIRED_FLAGS, out, sizeof(out));
	assert_string_equal(out, "");
	gssx_flags_missing(GSSX_REQUIRED_FLAGS & ~(OM_uint32)
	    (GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG), out, sizeof(out));
	assert_string_equal(out, "mutual replay");
	gssx_flags_missing(GSSX_REQUIRED_FLAGS & ~(OM_uint32)GSS_C_CONF_FLAG,
	    out, sizeof(out));
	assert_string_equal(out, "confidentiality");
	gssx_flags_missing(GSSX_REQUIRED_FLAGS & ~(OM_uint32)
	    (GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG), out, sizeof(out));
	assert_string_equal(out, "sequence integrity");
}

static void
test_dec_length_limit(void **state)
{
	struct frame_dec d;
	struct frame f;
	uint8_t hdr[5];
	uint8_t *in;
	size_t used;

	(void)state;
	/* max + 1: refused from the header. */
	make_hdr(hdr, FRAME_CONTEXT, LIMIT_FRAME_PREAUTH + 1);
	frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
	assert_int_equal(frame_dec_feed(&d, hdr, sizeof(hdr), &used, &f),
	    XLICEN_E_FRAME_TOO_LONG);
	assert_int_equal(used, 5);
	assert_null(d.body);
	frame_dec_free(&d);

	/* Exactly max: accepted. */
	in = calloc(1, LIMIT_FRAME_HDR + LIMIT_FRAME_PREAUTH);
	assert_non_null(in);
	make_hdr(in, FRAME_CONTEXT, LIMIT_FRAME_PREAUTH);
	in[LIMIT_FRAME_HDR + LIMIT_FRAME_PREAUTH - 1] = 0x77;
	frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
	assert_int_equal(frame_dec_feed(&d, in,
	    LIMIT_FRAME_HDR + LIMIT_FRAME_PREAUTH, &used, &f), 1);
	assert_int_equal(used, LIMIT_FRAME_HDR + LIMIT_FRAME_PREAUTH);
	assert_int_equal(f.len, LIMIT_FRAME_PREAUTH);
	assert_int_equal(f.body[LIMIT_FRAME_PREAUTH - 1], 0x77);
	frame_free(&f);
	frame_dec_free(&d);
	free(in);

	/* A raised limit (after authentication) lets a longer frame in. */
	make_hdr(hdr, FRAME_DATA, LIMIT_FRAME_PREAUTH + 1);
	frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
	frame_dec_set_max(&d, LIMIT_FRAME_POSTAUTH);
	assert_int_equal(frame_dec_feed(&d, hdr, sizeof(hdr), &used, &f), 0);
	assert_true(frame_dec_pending(&d));
	frame_dec_free(&d);	/* frees the partial body */
	make_hdr(hdr, FRAME_DATA, LIMIT_FRAME_POSTAUTH + 1);
	frame_dec_init(&d, LIMIT_FRAME_POSTAUTH);
	assert_int_equal(frame_dec_feed(&d, hdr, sizeof(hdr), &used, &f),
	    XLICEN_E_FRAME_TOO_LONG);
	frame_dec_free(&d);

	/* Tiny limits: 3 OK, 4 refused. */
	make_hdr(hdr, FRAME_DATA, 4);
	frame_dec_init(&d, 3);
	assert_int_equal(frame_dec_feed(&d, hdr, sizeof(hdr), &used, &f),
	    XLICEN_E_FRAME_TOO_LONG);
	frame_dec_free(&d);
}

/* A body grows as its bytes arrive: nothing for a header alone, then
 * LIMIT_FRAME_CHUNK, doubling, at most the declared length. */
static void
test_dec_grows_with_bytes(void **state)
{
	struct frame_dec d;
	struct frame f;
	uint8_t hdr[5], *in;
	size_t used, off, step;

	(void)state;
	in = calloc(1, LIMIT_FRAME_POSTAUTH);
	assert_non_null(in);
	in[LIMIT_FRAME_POSTAUTH - 1] = 0x5a;
	make_hdr(hdr, FRAME_DATA, LIMIT_FRAME_POSTAUTH);
	frame_dec_init(&d, LIMIT_FRAME_POSTAUTH);
	assert_int_equal(frame_dec_feed(&d, hdr, sizeof(hdr), &used, &f), 0);
	assert_true(frame_dec_pending(&d));
	assert_null(d.body);
	assert_int_equal(d.cap, 0);
	assert_int_equal(frame_dec_feed(&d, in, 1, &used, &f), 0);
	assert_int_equal(d.cap, LIMIT_FRAME_CHUNK);
	assert_int_equal(frame_dec_feed(&d, in + 1, LIMIT_FRAME_CHUNK, &used,
	    &f), 0);
	assert_int_equal(d.cap, 2 * LIMIT_FRAME_CHUNK);
	/* In reads of 1,000 bytes: never more than twice what came in. */
	for (off = 1 + LIMIT_FRAME_CHUNK; off < LIMIT_FRAME_POSTAUTH;
	    off += step) {
		step = LIMIT_FRAME_POSTAUTH - off < 1000 ?
		    LIMIT_FRAME_POSTAUTH - off : 1000;
		assert_int_equal(frame_dec_feed(&d, in + off, step, &used, &f),
		    off + step == LIMIT_FRAME_POSTAUTH ? 1 : 0);
		assert_int_equal(used, step);
		if (off + step < LIMIT_FRAME_POSTAUTH) {
			assert_true(d.cap <= 2 * (off + step));
			assert_true(d.cap >= off + step);
		}
	}
	assert_int_equal(f.len, LIMIT_FRAME_POSTAUTH);
	assert_int_equal(f.body[LIMIT_FRAME_POSTAUTH - 1], 0x5a);
	assert_null(d.body);
	assert_int_equal(d.cap, 0);
	frame_free(&f);

	/* A declared length below the chunk: exactly that much. */
	make_hdr(hdr, FRAME_HELLO, 4);
	assert_int_equal(frame_dec_feed(&d, hdr, sizeof(hdr), &used, &f), 0);
	assert_int_equal(frame_dec_feed(&d, in, 2, &used, &f), 0);
	assert_int_equal(d.cap, 4);
	frame_dec_free(&d);
	assert_int_equal(d.cap, 0);
	free(in);
}

/* The shared budget: partial bodies past LIMIT_FRAME_CHUNK may not grow
 * beyond it (XLICEN_E_BUSY); small ones always may; what a decoder held
 * is given back when its frame completes or it is freed. */
static void
test_dec_budget(void **state)
{
	struct frame_budget b = { 0, 64 * 1024 };
	struct frame_dec d1, d2, d3;
	struct frame f;
	uint8_t hdr[5], *in;
	size_t used;

	(void)state;
	in = calloc(1, 64 * 1024);
	assert_non_null(in);
	make_hdr(hdr, FRAME_CONTEXT, 64 * 1024);
	frame_dec_init(&d1, LIMIT_FRAME_PREAUTH);
	frame_dec_set_budget(&d1, &b);
	frame_dec_init(&d2, LIMIT_FRAME_PREAUTH);
	frame_dec_set_budget(&d2, &b);
	frame_dec_init(&d3, LIMIT_FRAME_PREAUTH);
	frame_dec_set_budget(&d3, &b);

	/* Headers alone hold nothing. */
	assert_int_equal(frame_dec_feed(&d1, hdr, 5, &used, &f), 0);
	assert_int_equal(frame_dec_feed(&d2, hdr, 5, &used, &f), 0);
	assert_int_equal(b.held, 0);
	/* d1 takes the whole budget (40,000 bytes: 64 KiB allocated). */
	assert_int_equal(frame_dec_feed(&d1, in, 40000, &used, &f), 0);
	assert_int_equal(b.held, 64 * 1024);
	/* d2 gets its first chunk anyway, and no more. */
	assert_int_equal(frame_dec_feed(&d2, in, LIMIT_FRAME_CHUNK, &used,
	    &f), 0);
	assert_int_equal(b.held, 64 * 1024 + LIMIT_FRAME_CHUNK);
	assert_int_equal(frame_dec_feed(&d2, in, 1, &used, &f),
	    XLICEN_E_BUSY);
	assert_int_equal(b.held, 64 * 1024 + LIMIT_FRAME_CHUNK);
	/* A small frame still goes through, and gives its bytes back. */
	make_hdr(hdr, FRAME_HELLO, 4);
	assert_int_equal(frame_dec_feed(&d3, hdr, 5, &used, &f), 0);
	assert_int_equal(frame_dec_feed(&d3, in, 4, &used, &f), 1);
	frame_free(&f);
	assert_int_equal(b.held, 64 * 1024 + LIMIT_FRAME_CHUNK);
	/* d1 completes: its bytes go back. */
	assert_int_equal(frame_dec_feed(&d1, in, 64 * 1024 - 40000, &used,
	    &f), 1);
	assert_int_equal(f.len, 64 * 1024);
	frame_free(&f);
	assert_int_equal(b.held, LIMIT_FRAME_CHUNK);
	frame_dec_free(&d2);
	assert_int_equal(b.held, 0);
	frame_dec_free(&d1);
	frame_dec_free(&d3);
	assert_int_equal(b.held, 0);
	free(in);
}

static void
test_dec_huge_length_no_alloc(void **state)
{
	struct frame_dec d;
	struct frame f;
	uint8_t hdr[5];
	size_t used, i;

	(void)state;
	/* 0xFFFFFFFF under either limit: refused from the header alone; the
	 * decoder holds no body (had it called malloc(4 GiB), valgrind and
	 * the NULL check below would show it). */
	make_hdr(hdr, FRAME_DATA, UINT32_MAX);
	frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
	assert_int_equal(frame_dec_feed(&d, hdr, sizeof(hdr), &used, &f),
	    XLICEN_E_FRAME_TOO_LONG);
	assert_int_equal(used, 5);
	assert_null(d.body);
	assert_null(f.body);
	frame_dec_free(&d);

	frame_dec_init(&d, LIMIT_FRAME_POSTAUTH);
	for (i = 0; i < 4; i++)
		assert_int_equal(frame_dec_feed(&d, hdr + i, 1, &used, &f), 0);
	assert_null(d.body);
	assert_int_equal(frame_dec_feed(&d, hdr + 4, 1, &used, &f),
	    XLICEN_E_FRAME_TOO_LONG);
	assert_null(d.body);
	frame_dec_free(&d);
}

static void
test_dec_pending(void **state)
{
	struct frame_dec d;
	struct frame f;
	size_t used;

	(void)state;
	frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
	assert_false(frame_dec_pending(&d));
	/* Nothing fed: nothing pending. */
	assert_int_equal(frame_dec_feed(&d, ex_hello_client, 0, &used, &f), 0);
	assert_int_equal(used, 0);
	assert_false(frame_dec_pending(&d));
	/* Inside the header. */
	assert_int_equal(frame_dec_feed(&d, ex_hello_client, 1, &used, &f), 0);
	assert_true(frame_dec_pending(&d));
	/* Header complete, no body yet. */
	assert_int_equal(frame_dec_feed(&d, ex_hello_client + 1, 4, &used, &f), 0);
	assert_int_equal(used, 4);
	assert_true(frame_dec_pending(&d));
	/* Inside the body. */
	assert_int_equal(frame_dec_feed(&d, ex_hello_client + 5, 2, &used, &f), 0);
	assert_true(frame_dec_pending(&d));
	/* Complete. */
	assert_int_equal(frame_dec_feed(&d, ex_hello_client + 7, 2, &used, &f), 1);
	assert_false(frame_dec_pending(&d));
	frame_free(&f);
	frame_dec_free(&d);
	frame_dec_free(NULL);
}

static void
test_encode_and_header(void **state)
{
	struct buf b;
	uint8_t hdr[5];

	(void)state;
	buf_init(&b);
	assert_int_equal(frame_encode(&b, FRAME_CONTEXT, "\xaa\xbb\xcc", 3), 0);
	assert_int_equal(frame_encode(&b, FRAME_DATA, "\xdd\xee", 2), 0);
	assert_int_equal(b.len, sizeof(two_frames));
	assert_memory_equal(b.data, two_frames, sizeof(two_frames));

	assert_int_equal(frame_encode(&b, FRAME_DATA, "", 0), XLICEN_E_INVALID);
	assert_int_equal(frame_encode(&b, 0, "x", 1), XLICEN_E_INVALID);
	assert_int_equal(frame_encode(&b, 5, "x", 1), XLICEN_E_INVALID);
	assert_int_equal(b.len, sizeof(two_frames));

	assert_int_equal(frame_header(hdr, FRAME_ALERT, 0x01020304), 0);
	assert_memory_equal(hdr, "\x04\x01\x02\x03\x04", 5);
	assert_int_equal(frame_header(hdr, FRAME_ALERT, 0), XLICEN_E_INVALID);
	assert_int_equal(frame_header(hdr, 0xff, 1), XLICEN_E_INVALID);
#if SIZE_MAX > UINT32_MAX
	assert_int_equal(frame_header(hdr, FRAME_DATA, (size_t)UINT32_MAX + 1),
	    XLICEN_E_INVALID);
#endif
	buf_free(&b);
}

static void
test_hello_client(void **state)
{
	struct frame_hello_client h = { 1, 1 }, g;
	struct frame f;
	struct buf b;

	(void)state;
	buf_init(&b);
	assert_int_equal(frame_hello_client_encode(&b, &h), 0);
	assert_int_equal(b.len, sizeof(ex_hello_client));
	assert_memory_equal(b.data, ex_hello_client, sizeof(ex_hello_client));

	feed_all(b.data, b.len, LIMIT_FRAME_PREAUTH, &f);
	assert_int_equal(f.type, FRAME_HELLO);
	assert_int_equal(frame_hello_client_decode(f.body, f.len, &g), 0);
	assert_int_equal(g.min_version, 1);
	assert_int_equal(g.max_version, 1);
	frame_free(&f);

	/* Extremes round-trip; min == max is fine. */
	buf_reset(&b);
	h.min_version = 0;
	h.max_version = UINT16_MAX;
	assert_int_equal(frame_hello_client_encode(&b, &h), 0);
	assert_memory_equal(b.data, "\x01\x00\x00\x00\x04\x00\x00\xff\xff", 9);
	assert_int_equal(frame_hello_client_decode(b.data + 5, 4, &g), 0);
	assert_int_equal(g.min_version, 0);
	assert_int_equal(g.max_version, UINT16_MAX);
	assert_int_equal(frame_hello_client_decode(
	    (const uint8_t *)"\xff\xff\xff\xff", 4, &g), 0);
	buf_free(&b);
}

static void
test_hello_client_errors(void **state)
{
	struct frame_hello_client g;
	size_t n;

	(void)state;
	/* Trailing byte. */
	g.min_version = 9;
	assert_int_equal(frame_hello_client_decode(
	    (const uint8_t *)"\x00\x01\x00\x01\x00", 5, &g), XLICEN_E_TRAILING);
	/* Short: every prefix. */
	for (n = 0; n < 4; n++) {
		g.min_version = g.max_version = 9;
		assert_int_equal(frame_hello_client_decode(ex_hello_client + 5,
		    n, &g), XLICEN_E_TRUNCATED);
		assert_int_equal(g.min_version, n >= 2 ? 1 : 0);
		assert_int_equal(g.max_version, 0);
	}
	/* min > max. */
	assert_int_equal(frame_hello_client_decode(
	    (const uint8_t *)"\x00\x02\x00\x01", 4, &g), XLICEN_E_BAD_VALUE);
	assert_int_equal(frame_hello_client_decode(
	    (const uint8_t *)"\xff\xff\x00\x00", 4, &g), XLICEN_E_BAD_VALUE);
}

static void
test_hello_server(void **state)
{
	struct frame_hello_server h = { 1, 1700000000 }, g;
	struct buf b;
	size_t n;

	(void)state;
	buf_init(&b);
	assert_int_equal(frame_hello_server_encode(&b, &h), 0);
	assert_int_equal(b.len, sizeof(ex_hello_server));
	assert_memory_equal(b.data, ex_hello_server, sizeof(ex_hello_server));
	assert_int_equal(frame_hello_server_decode(b.data + 5, b.len - 5, &g), 0);
	assert_int_equal(g.version, 1);
	assert_true(g.time == 1700000000);

	/* The clock is a signed 64-bit value on the wire (two's complement). */
	buf_reset(&b);
	h.version = UINT16_MAX;
	h.time = -1;
	assert_int_equal(frame_hello_server_encode(&b, &h), 0);
	assert_memory_equal(b.data + 5, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
	    10);
	assert_int_equal(frame_hello_server_decode(b.data + 5, 10, &g), 0);
	assert_int_equal(g.version, UINT16_MAX);
	assert_true(g.time == -1);
	buf_reset(&b);
	h.time = INT64_MAX;
	assert_int_equal(frame_hello_server_encode(&b, &h), 0);
	assert_int_equal(frame_hello_server_decode(b.data + 5, 10, &g), 0);
	assert_true(g.time == INT64_MAX);

	/* Errors: trailing byte, every short prefix. */
	assert_int_equal(frame_hello_server_decode(
	    (const uint8_t *)"\x00\x01\x00\x00\x00\x00\x65\x53\xf1\x00\x00", 11,
	    &g), XLICEN_E_TRAILING);
	for (n = 0; n < 10; n++) {
		assert_int_equal(frame_hello_server_decode(ex_hello_server + 5,
		    n, &g), XLICEN_E_TRUNCATED);
		assert_true(g.time == 0);
	}
	/* A client HELLO body is not a server HELLO body, and vice versa. */
	assert_int_equal(frame_hello_server_decode(ex_hello_client + 5, 4, &g),
	    XLICEN_E_TRUNCATED);
	{
		struct frame_hello_client c;

		assert_int_equal(frame_hello_client_decode(ex_hello_server + 5,
		    10, &c), XLICEN_E_TRAILING);
	}
	buf_free(&b);
}

static void
test_alert_roundtrip(void **state)
{
	struct frame_alert a;
	struct frame f;
	struct buf b;

	(void)state;
	buf_init(&b);
	assert_int_equal(frame_alert_encode(&b, XLICEN_E_VERSION,
	    ex_alert_reason), 0);
	assert_int_equal(b.len, sizeof(ex_alert));
	assert_memory_equal(b.data, ex_alert, sizeof(ex_alert));
	/* The positive wire value encodes the same. */
	buf_reset(&b);
	assert_int_equal(frame_alert_encode(&b, -XLICEN_E_VERSION,
	    ex_alert_reason), 0);
	assert_memory_equal(b.data, ex_alert, sizeof(ex_alert));

	feed_all(b.data, b.len, LIMIT_FRAME_PREAUTH, &f);
	assert_int_equal(f.type, FRAME_ALERT);
	assert_int_equal(frame_alert_decode(f.body, f.len, &a), 0);
	assert_int_equal(a.code, 32);
	assert_string_equal(a.reason, ex_alert_reason);
	frame_free(&f);

	/* NULL and "" reasons: a 4-byte body. */
	buf_reset(&b);
	assert_int_equal(frame_alert_encode(&b, XLICEN_E_SHUTDOWN, NULL), 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "\x04\x00\x00\x00\x04\x00\x47\x00\x00", 9);
	assert_int_equal(frame_alert_decode(b.data + 5, 4, &a), 0);
	assert_int_equal(a.code, 71);
	assert_string_equal(a.reason, "");
	buf_reset(&b);
	assert_int_equal(frame_alert_encode(&b, XLICEN_E_SHUTDOWN, ""), 0);
	assert_int_equal(b.len, 9);

	/* UTF-8 reason survives. */
	buf_reset(&b);
	assert_int_equal(frame_alert_encode(&b, XLICEN_E_AUTH,
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), 0);
	assert_int_equal(frame_alert_decode(b.data + 5, b.len - 5, &a), 0);
	assert_string_equal(a.reason, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");

	/* Code 0 is not an error. */
	buf_reset(&b);
	assert_int_equal(frame_alert_encode(&b, 0, "x"), XLICEN_E_INVALID);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* Encode reason, check the body's reason length, and decode it back. */
static size_t
alert_cut_len(const char *reason)
{
	struct frame_alert a;
	struct buf b;
	uint16_t rlen;
	size_t n;

	buf_init(&b);
	assert_int_equal(frame_alert_encode(&b, XLICEN_E_INTERNAL, reason), 0);
	rlen = (uint16_t)((b.data[7] << 8) | b.data[8]);
	assert_int_equal(b.len, LIMIT_FRAME_HDR + 4 + rlen);
	assert_int_equal(frame_alert_decode(b.data + 5, b.len - 5, &a), 0);
	n = strlen(a.reason);
	assert_int_equal(n, rlen);
	assert_memory_equal(a.reason, reason, n);
	buf_free(&b);
	return n;
}

static void
test_alert_reason_cut(void **state)
{
	char s[LIMIT_ALERT_REASON + 64];

	(void)state;
	/* Exactly the limit: kept whole. */
	memset(s, 'a', LIMIT_ALERT_REASON);
	s[LIMIT_ALERT_REASON] = '\0';
	assert_int_equal(alert_cut_len(s), LIMIT_ALERT_REASON);
	/* Longer ASCII: cut at the limit. */
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	assert_int_equal(alert_cut_len(s), LIMIT_ALERT_REASON);
	/* A 2-byte character across the limit goes whole. */
	memset(s, 'a', sizeof(s) - 1);
	memcpy(s + LIMIT_ALERT_REASON - 1, "\xc3\xa9", 2);
	assert_int_equal(alert_cut_len(s), LIMIT_ALERT_REASON - 1);
	/* A 2-byte character ending exactly at the limit stays. */
	memset(s, 'a', sizeof(s) - 1);
	memcpy(s + LIMIT_ALERT_REASON - 2, "\xc3\xa9", 2);
	assert_int_equal(alert_cut_len(s), LIMIT_ALERT_REASON);
	/* 3-byte character starting one or two bytes before the limit. */
	memset(s, 'a', sizeof(s) - 1);
	memcpy(s + LIMIT_ALERT_REASON - 1, "\xe2\x82\xac", 3);
	assert_int_equal(alert_cut_len(s), LIMIT_ALERT_REASON - 1);
	memset(s, 'a', sizeof(s) - 1);
	memcpy(s + LIMIT_ALERT_REASON - 2, "\xe2\x82\xac", 3);
	assert_int_equal(alert_cut_len(s), LIMIT_ALERT_REASON - 2);
	/* 4-byte character straddling. */
	memset(s, 'a', sizeof(s) - 1);
	memcpy(s + LIMIT_ALERT_REASON - 3, "\xf0\x9f\x98\x80", 4);
	assert_int_equal(alert_cut_len(s), LIMIT_ALERT_REASON - 3);
	/* All multi-byte: a run of 3-byte characters. */
	{
		size_t i;

		for (i = 0; i + 3 < sizeof(s); i += 3)
			memcpy(s + i, "\xe2\x82\xac", 3);
		s[i] = '\0';
		assert_int_equal(alert_cut_len(s), (LIMIT_ALERT_REASON / 3) * 3);
	}
}

/* An ALERT body with the given code, reason length field and bytes. */
static void
alert_body(struct buf *b, uint16_t code, uint16_t rlen, const void *r, size_t n)
{
	buf_reset(b);
	assert_int_equal(buf_put_u16(b, code), 0);
	assert_int_equal(buf_put_u16(b, rlen), 0);
	assert_int_equal(buf_put_bytes(b, r, n), 0);
}

static void
test_alert_decode_errors(void **state)
{
	char big[LIMIT_ALERT_REASON + 1];
	struct frame_alert a;
	struct buf b;
	size_t n;

	(void)state;
	buf_init(&b);
	memset(big, 'r', sizeof(big));

	/* Invalid UTF-8 (overlong, lone continuation, NUL) in the reason. */
	alert_body(&b, 3, 2, "\xc0\x80", 2);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_STRING);
	alert_body(&b, 3, 1, "\x80", 1);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_STRING);
	alert_body(&b, 3, 3, "a\0b", 3);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_STRING);

	/* Code 0. */
	alert_body(&b, 0, 2, "ok", 2);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_BAD_VALUE);
	alert_body(&b, 0, 0, NULL, 0);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_BAD_VALUE);

	/* Reason length field over the limit: refused before reading it,
	 * whether or not the bytes are there. */
	alert_body(&b, 3, LIMIT_ALERT_REASON + 1, big, sizeof(big));
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_STRING);
	alert_body(&b, 3, LIMIT_ALERT_REASON + 1, NULL, 0);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_STRING);
	alert_body(&b, 3, UINT16_MAX, NULL, 0);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_STRING);
	/* ...and exactly the limit is fine. */
	alert_body(&b, 3, LIMIT_ALERT_REASON, big, LIMIT_ALERT_REASON);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), 0);
	assert_int_equal(strlen(a.reason), LIMIT_ALERT_REASON);

	/* Reason shorter than its length field; trailing byte after it. */
	alert_body(&b, 3, 5, "abcd", 4);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_TRUNCATED);
	alert_body(&b, 3, 3, "abcd", 4);
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_TRAILING);
	/* Header prefixes. */
	alert_body(&b, 3, 0, NULL, 0);
	for (n = 0; n < 4; n++)
		assert_int_equal(frame_alert_decode(b.data, n, &a),
		    XLICEN_E_TRUNCATED);
	assert_int_equal(frame_alert_decode(b.data, 4, &a), 0);
	assert_int_equal(a.code, 3);

	/* An error leaves nothing behind in a. */
	alert_body(&b, 3, 2, "\xc0\x80", 2);
	memset(&a, 0x55, sizeof(a));
	assert_int_equal(frame_alert_decode(b.data, b.len, &a), XLICEN_E_STRING);
	assert_string_equal(a.reason, "");
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dec_bytewise_equals_whole),
		cmocka_unit_test(test_dec_two_frames_back_to_back),
		cmocka_unit_test(test_dec_bad_type_at_header),
		cmocka_unit_test(test_dec_empty_frame),
		cmocka_unit_test(test_dec_header_rule_order),
		cmocka_unit_test(test_gss_flag_words),
		cmocka_unit_test(test_dec_length_limit),
		cmocka_unit_test(test_dec_huge_length_no_alloc),
		cmocka_unit_test(test_dec_grows_with_bytes),
		cmocka_unit_test(test_dec_budget),
		cmocka_unit_test(test_dec_pending),
		cmocka_unit_test(test_encode_and_header),
		cmocka_unit_test(test_hello_client),
		cmocka_unit_test(test_hello_client_errors),
		cmocka_unit_test(test_hello_server),
		cmocka_unit_test(test_alert_roundtrip),
		cmocka_unit_test(test_alert_reason_cut),
		cmocka_unit_test(test_alert_decode_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
