/*
 * Unit tests for common/msg: a round trip of every message type, the
 * byte-exact worked examples of docs/PROTOCOL.md (CHECKOUT and GRANT), and
 * every decoder error with its exact code.  Malformed input is built byte
 * by byte with struct buf (the raw_* helpers), never with the encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "limits.h"
#include "msg.h"
#include "xlicen_errors.h"

/* PROTOCOL.md, example 4: CHECKOUT, request id 1, of 1 seat of xdemo 1.0
 * from host ws1, display ws1:0, pid 4242 (no flags). */
static const uint8_t ex_checkout[] = {
	0x00, 0x01,				/* type CHECKOUT */
	0x00, 0x00, 0x00, 0x01,			/* request id 1 */
	0x00, 0x01, 0x00, 0x05,			/* PRODUCT, 5 bytes */
	0x78, 0x64, 0x65, 0x6d, 0x6f,		/* "xdemo" */
	0x00, 0x02, 0x00, 0x03,			/* VERSION, 3 bytes */
	0x31, 0x2e, 0x30,			/* "1.0" */
	0x00, 0x03, 0x00, 0x04,			/* COUNT, 4 bytes */
	0x00, 0x00, 0x00, 0x01,			/* 1 */
	0x00, 0x04, 0x00, 0x03,			/* HOST, 3 bytes */
	0x77, 0x73, 0x31,			/* "ws1" */
	0x00, 0x05, 0x00, 0x05,			/* DISPLAY, 5 bytes */
	0x77, 0x73, 0x31, 0x3a, 0x30,		/* "ws1:0" */
	0x00, 0x06, 0x00, 0x04,			/* PID, 4 bytes */
	0x00, 0x00, 0x10, 0x92,			/* 4242 */
};

/* PROTOCOL.md, example 5: the GRANT answering it: lease 4f1c9a0e7b2d5e83,
 * expiring at 1700000120, heartbeat every 30 s, 1 of 2 seats in use. */
static const uint8_t ex_grant[] = {
	0x80, 0x01,				/* type GRANT */
	0x00, 0x00, 0x00, 0x01,			/* request id 1 */
	0x00, 0x08, 0x00, 0x10,			/* LEASE, 16 bytes */
	0x34, 0x66, 0x31, 0x63, 0x39, 0x61, 0x30, 0x65,	/* "4f1c9a0e" */
	0x37, 0x62, 0x32, 0x64, 0x35, 0x65, 0x38, 0x33,	/* "7b2d5e83" */
	0x00, 0x09, 0x00, 0x08,			/* EXPIRES, 8 bytes */
	0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf1, 0x78,	/* 1700000120 */
	0x00, 0x0a, 0x00, 0x04,			/* HEARTBEAT, 4 bytes */
	0x00, 0x00, 0x00, 0x1e,			/* 30 */
	0x00, 0x0b, 0x00, 0x04,			/* IN_USE, 4 bytes */
	0x00, 0x00, 0x00, 0x01,			/* 1 */
	0x00, 0x0c, 0x00, 0x04,			/* TOTAL, 4 bytes */
	0x00, 0x00, 0x00, 0x02,			/* 2 */
};

#define POOL_REQ (MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSIONS) | \
	MSG_F(TAG_TOTAL) | MSG_F(TAG_IN_USE) | MSG_F(TAG_EXPIRES) | \
	MSG_F(TAG_STATE))

/* ---- raw byte builders for malformed input ---- */

static void
raw_hdr(struct buf *b, uint16_t type, uint32_t id)
{
	buf_reset(b);
	assert_int_equal(buf_put_u16(b, type), 0);
	assert_int_equal(buf_put_u32(b, id), 0);
}

/* A TLV whose length field says lenfield but carries n bytes of v. */
static void
raw_tlv_len(struct buf *b, uint16_t tag, uint16_t lenfield, const void *v,
    size_t n)
{
	assert_int_equal(buf_put_u16(b, tag), 0);
	assert_int_equal(buf_put_u16(b, lenfield), 0);
	assert_int_equal(buf_put_bytes(b, v, n), 0);
}

static void
raw_tlv(struct buf *b, uint16_t tag, const void *v, size_t n)
{
	raw_tlv_len(b, tag, (uint16_t)n, v, n);
}

static void
raw_str(struct buf *b, uint16_t tag, const char *s)
{
	raw_tlv(b, tag, s, strlen(s));
}

static void
raw_u8(struct buf *b, uint16_t tag, uint8_t v)
{
	raw_tlv(b, tag, &v, 1);
}

static void
raw_u16(struct buf *b, uint16_t tag, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	raw_tlv(b, tag, p, 2);
}

static void
raw_u32(struct buf *b, uint16_t tag, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	raw_tlv(b, tag, p, 4);
}

static void
raw_u64(struct buf *b, uint16_t tag, uint64_t v)
{
	uint8_t p[8];
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
	raw_tlv(b, tag, p, 8);
}

/* The three required TLVs of a CHECKOUT. */
static void
raw_checkout_required(struct buf *b)
{
	raw_str(b, TAG_PRODUCT, "xdemo");
	raw_str(b, TAG_VERSION, "1.0");
	raw_u32(b, TAG_COUNT, 1);
}

/* A pool's inner TLVs: every required field, and optional extras. */
static void
raw_pool_inner(struct buf *in, unsigned i, int with_optional)
{
	char name[32];

	buf_reset(in);
	snprintf(name, sizeof(name), "prod%u", i);
	raw_str(in, TAG_PRODUCT, name);
	raw_str(in, TAG_VERSIONS, "1.0-2.0");
	if (with_optional) {
		raw_str(in, TAG_VENDOR, "demovendor");
		raw_str(in, TAG_SERIAL, "SN-1");
	}
	raw_u32(in, TAG_TOTAL, 10 + i);
	raw_u32(in, TAG_IN_USE, i);
	if (with_optional)
		raw_u64(in, TAG_START, 1600000000);
	raw_u64(in, TAG_EXPIRES, 0);
	raw_u8(in, TAG_STATE, 0);
}

static void
raw_pool(struct buf *b, const struct buf *in)
{
	raw_tlv(b, TAG_POOL, in->data, in->len);
}

static int
decode(const struct buf *b, struct msg *m)
{
	return msg_decode(b->data, b->len, m);
}

/* ---- round trips ---- */

static void
pool_fill(struct msg_pool *p, unsigned i)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->product, sizeof(p->product), "product-%u", i);
	snprintf(p->versions, sizeof(p->versions), "%u.0-%u.9", i, i);
	snprintf(p->vendor, sizeof(p->vendor), "vendor-%u", i);
	snprintf(p->serial, sizeof(p->serial), "SN%06u", i);
	p->total = 1000 + i;
	p->in_use = i;
	p->start = 1600000000ULL + i;
	p->expires = i % 2 ? 0 : 1900000000ULL + i;
	p->state = (uint8_t)(i % 3);
	p->have = POOL_REQ | MSG_F(TAG_VENDOR) | MSG_F(TAG_SERIAL) |
	    MSG_F(TAG_START);
}

static void
assert_pool_equal(const struct msg_pool *a, const struct msg_pool *b)
{
	assert_int_equal(a->have, b->have);
	assert_string_equal(a->product, b->product);
	assert_string_equal(a->versions, b->versions);
	assert_string_equal(a->vendor, b->vendor);
	assert_string_equal(a->serial, b->serial);
	assert_int_equal(a->total, b->total);
	assert_int_equal(a->in_use, b->in_use);
	assert_true(a->start == b->start);
	assert_true(a->expires == b->expires);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->queued, b->queued);
	assert_int_equal(a->pool_flags, b->pool_flags);
	assert_string_equal(a->hostid, b->hostid);
	assert_string_equal(a->dup_group, b->dup_group);
	assert_int_equal(a->linger, b->linger);
	assert_int_equal(a->ttl, b->ttl);
	assert_int_equal(a->heartbeat, b->heartbeat);
}

static void
assert_holder_equal(const struct msg_holder *a, const struct msg_holder *b)
{
	assert_true(a->have == b->have);
	assert_string_equal(a->product, b->product);
	assert_string_equal(a->version, b->version);
	assert_string_equal(a->principal, b->principal);
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->display, b->display);
	assert_string_equal(a->lease, b->lease);
	assert_string_equal(a->queue_id, b->queue_id);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->count, b->count);
	assert_true(a->since == b->since);
	assert_true(a->last_hb == b->last_hb);
	assert_true(a->expires == b->expires);
	assert_int_equal(a->heartbeat, b->heartbeat);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->position, b->position);
	assert_int_equal(a->connected, b->connected);
	assert_int_equal(a->pool_flags, b->pool_flags);
}

static void
assert_row_equal(const struct msg_row *a, const struct msg_row *b)
{
	assert_true(a->have == b->have);
	assert_string_equal(a->product, b->product);
	assert_string_equal(a->principal, b->principal);
	assert_int_equal(a->grants, b->grants);
	assert_int_equal(a->denials, b->denials);
	assert_int_equal(a->peak, b->peak);
	assert_int_equal(a->avg_milli, b->avg_milli);
	assert_true(a->seconds == b->seconds);
}

static void
assert_msg_equal(const struct msg *a, const struct msg *b)
{
	size_t i;

	assert_int_equal(a->type, b->type);
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->have, b->have);
	assert_string_equal(a->product, b->product);
	assert_string_equal(a->version, b->version);
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->display, b->display);
	assert_string_equal(a->lease, b->lease);
	assert_string_equal(a->reason, b->reason);
	assert_int_equal(a->count, b->count);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->heartbeat, b->heartbeat);
	assert_int_equal(a->in_use, b->in_use);
	assert_int_equal(a->total, b->total);
	assert_int_equal(a->code, b->code);
	assert_true(a->expires == b->expires);
	assert_true(a->time == b->time);
	assert_int_equal(a->npools, b->npools);
	for (i = 0; i < a->npools; i++)
		assert_pool_equal(&a->pools[i], &b->pools[i]);
	if (a->npools == 0) {
		assert_null(a->pools);
		assert_null(b->pools);
	}
	assert_string_equal(a->queue_id, b->queue_id);
	assert_string_equal(a->hash, b->hash);
	assert_int_equal(a->request, b->request);
	assert_int_equal(a->position, b->position);
	assert_int_equal(a->wait, b->wait);
	assert_int_equal(a->more, b->more);
	assert_true(a->from == b->from);
	assert_true(a->to == b->to);
	assert_true(a->events == b->events);
	assert_true(a->bad_event == b->bad_event);
	assert_int_equal(a->nholders, b->nholders);
	for (i = 0; i < a->nholders; i++)
		assert_holder_equal(&a->holders[i], &b->holders[i]);
	assert_int_equal(a->nrows, b->nrows);
	for (i = 0; i < a->nrows; i++)
		assert_row_equal(&a->rows[i], &b->rows[i]);
	assert_true(a->after == b->after);
	assert_int_equal(a->nevs, b->nevs);
	for (i = 0; i < a->nevs; i++) {
		assert_true(a->evs[i].have == b->evs[i].have);
		assert_true(a->evs[i].event_id == b->evs[i].event_id);
		assert_true(a->evs[i].time == b->evs[i].time);
		assert_string_equal(a->evs[i].kind, b->evs[i].kind);
		assert_string_equal(a->evs[i].principal, b->evs[i].principal);
		assert_string_equal(a->evs[i].display, b->evs[i].display);
		assert_string_equal(a->evs[i].product, b->evs[i].product);
		assert_string_equal(a->evs[i].note, b->evs[i].note);
		assert_int_equal(a->evs[i].count, b->evs[i].count);
		assert_int_equal(a->evs[i].code, b->evs[i].code);
	}
}

/* Encode m, decode it again, and compare. */
static void
roundtrip(const struct msg *m)
{
	struct msg d;
	struct buf b;

	buf_init(&b);
	assert_int_equal(msg_encode(m, &b), 0);
	assert_true(b.len >= 6);
	assert_int_equal(msg_decode(b.data, b.len, &d), 0);
	assert_msg_equal(m, &d);
	msg_clear(&d);
	buf_free(&b);
}

static void
test_roundtrip_checkout(void **state)
{
	struct msg m;

	(void)state;
	msg_init(&m, MSG_CHECKOUT, 0xfffffffe);
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, "xdemo"), 0);
	assert_int_equal(msg_set_str(&m, TAG_VERSION, "1.0"), 0);
	m.count = 1;
	m.have |= MSG_F(TAG_COUNT);
	roundtrip(&m);		/* required fields only */
	assert_int_equal(msg_set_str(&m, TAG_HOST, "ws1.example.org"), 0);
	assert_int_equal(msg_set_str(&m, TAG_DISPLAY, "ws1.example.org:0"), 0);
	m.pid = UINT32_MAX;
	m.flags = 0x80000001u;
	m.count = LIMIT_SEATS;
	m.have |= MSG_F(TAG_PID) | MSG_F(TAG_FLAGS);
	roundtrip(&m);		/* every field */
	msg_clear(&m);
}

static void
test_roundtrip_heartbeat_release(void **state)
{
	struct msg m;

	(void)state;
	msg_init(&m, MSG_HEARTBEAT, 7);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "4f1c9a0e7b2d5e83"), 0);
	roundtrip(&m);
	msg_init(&m, MSG_RELEASE, 8);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "4f1c9a0e7b2d5e83"), 0);
	roundtrip(&m);
	/* An empty string is a present field. */
	msg_init(&m, MSG_RELEASE, 9);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, ""), 0);
	roundtrip(&m);
}

static void
test_roundtrip_status(void **state)
{
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	msg_init(&m, MSG_STATUS, 3);
	roundtrip(&m);		/* no product: all pools */
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "\x00\x04\x00\x00\x00\x03", 6);
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, "xdemo"), 0);
	roundtrip(&m);
	buf_free(&b);
}

static void
test_roundtrip_grant(void **state)
{
	struct msg m;

	(void)state;
	msg_init(&m, MSG_GRANT, 1);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "L1"), 0);
	m.expires = UINT64_MAX;
	m.heartbeat = 30;
	m.have |= MSG_F(TAG_EXPIRES) | MSG_F(TAG_HEARTBEAT);
	roundtrip(&m);
	m.in_use = 5;
	m.total = 5;
	m.have |= MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL);
	roundtrip(&m);
}

static void
test_roundtrip_deny(void **state)
{
	struct msg m;

	(void)state;
	msg_init(&m, MSG_DENY, 2);
	m.code = (uint16_t)-XLICEN_E_NO_SEATS;
	m.have |= MSG_F(TAG_CODE);
	roundtrip(&m);
	assert_int_equal(msg_set_str(&m, TAG_REASON,
	    "all 2 seats of xdemo are in use (1 wanted)"), 0);
	m.in_use = 2;
	m.total = 2;
	m.have |= MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL);
	roundtrip(&m);
	/* DETAIL (tag 49): the reserved-seats fact as a field, written
	 * last, 00 31 00 04 00 00 00 01. */
	{
		static const uint8_t tail[] = { 0x00, 0x31, 0x00, 0x04,
		    0x00, 0x00, 0x00, 0x01 };
		struct buf b;

		m.detail = MSG_DENY_RESERVED;
		m.have |= MSG_F(TAG_DETAIL);
		roundtrip(&m);
		buf_init(&b);
		assert_int_equal(msg_encode(&m, &b), 0);
		assert_true(b.len > sizeof(tail));
		assert_memory_equal(b.data + b.len - sizeof(tail), tail,
		    sizeof(tail));
		buf_free(&b);
	}
}

static void
test_roundtrip_ok(void **state)
{
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	msg_init(&m, MSG_OK, 4);
	roundtrip(&m);		/* RELEASE's answer: no field */
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_memory_equal(b.data, "\x80\x03\x00\x00\x00\x04", 6);
	assert_int_equal(b.len, 6);
	m.expires = 1700000150;	/* HEARTBEAT's answer */
	m.have |= MSG_F(TAG_EXPIRES);
	roundtrip(&m);
	buf_free(&b);
}

static void
test_roundtrip_status_reply(void **state)
{
	struct msg_pool p;
	struct msg m;
	unsigned i;

	(void)state;
	msg_init(&m, MSG_STATUS_REPLY, 5);
	m.time = 1700000000;
	m.have |= MSG_F(TAG_TIME);
	roundtrip(&m);		/* 0 pools */
	pool_fill(&p, 0);
	assert_int_equal(msg_add_pool(&m, &p), 0);
	roundtrip(&m);		/* 1 pool */
	for (i = 1; i < 7; i++) {
		pool_fill(&p, i);
		if (i == 3) {
			/* Optional pool fields may be absent. */
			p.have &= ~(MSG_F(TAG_VENDOR) | MSG_F(TAG_SERIAL) |
			    MSG_F(TAG_START));
			p.vendor[0] = p.serial[0] = '\0';
			p.start = 0;
		}
		assert_int_equal(msg_add_pool(&m, &p), 0);
	}
	assert_int_equal(m.npools, 7);
	roundtrip(&m);		/* several, in order */
	msg_clear(&m);
	assert_null(m.pools);
	msg_clear(NULL);
}

static void
test_roundtrip_error(void **state)
{
	struct msg m;

	(void)state;
	msg_init(&m, MSG_ERROR, 6);
	m.code = (uint16_t)-XLICEN_E_NO_LEASE;
	m.have |= MSG_F(TAG_CODE);
	roundtrip(&m);
	assert_int_equal(msg_set_str(&m, TAG_REASON, "no such lease"), 0);
	roundtrip(&m);
	m.code = UINT16_MAX;
	roundtrip(&m);
}

/* ---- byte-exact encodings (PROTOCOL.md examples 4 and 5) ---- */

static void
test_checkout_bytes(void **state)
{
	struct msg m, d;
	struct buf b;

	(void)state;
	buf_init(&b);
	msg_init(&m, MSG_CHECKOUT, 1);
	/* Set in a different order from the wire: the table decides. */
	m.pid = 4242;
	m.count = 1;
	m.have |= MSG_F(TAG_PID) | MSG_F(TAG_COUNT);
	assert_int_equal(msg_set_str(&m, TAG_DISPLAY, "ws1:0"), 0);
	assert_int_equal(msg_set_str(&m, TAG_HOST, "ws1"), 0);
	assert_int_equal(msg_set_str(&m, TAG_VERSION, "1.0"), 0);
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, "xdemo"), 0);
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(b.len, sizeof(ex_checkout));
	assert_memory_equal(b.data, ex_checkout, sizeof(ex_checkout));

	assert_int_equal(msg_decode(ex_checkout, sizeof(ex_checkout), &d), 0);
	assert_msg_equal(&m, &d);
	assert_string_equal(d.product, "xdemo");
	assert_int_equal(d.pid, 4242);
	msg_clear(&d);

	/* msg_encode appends. */
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(b.len, 2 * sizeof(ex_checkout));
	assert_memory_equal(b.data + sizeof(ex_checkout), ex_checkout,
	    sizeof(ex_checkout));
	buf_free(&b);
}

static void
test_grant_bytes(void **state)
{
	struct msg m, d;
	struct buf b;

	(void)state;
	buf_init(&b);
	msg_init(&m, MSG_GRANT, 1);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "4f1c9a0e7b2d5e83"), 0);
	m.expires = 1700000120;
	m.heartbeat = 30;
	m.in_use = 1;
	m.total = 2;
	m.have |= MSG_F(TAG_EXPIRES) | MSG_F(TAG_HEARTBEAT) |
	    MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL);
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(b.len, sizeof(ex_grant));
	assert_memory_equal(b.data, ex_grant, sizeof(ex_grant));
	assert_int_equal(msg_decode(ex_grant, sizeof(ex_grant), &d), 0);
	assert_msg_equal(&m, &d);
	msg_clear(&d);
	buf_free(&b);
}

/* Fields the type does not carry are not written, even when marked. */
static void
test_encode_skips_fields_not_carried(void **state)
{
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	msg_init(&m, MSG_CHECKOUT, 1);
	m.pid = 4242;
	m.count = 1;
	m.have |= MSG_F(TAG_PID) | MSG_F(TAG_COUNT);
	assert_int_equal(msg_set_str(&m, TAG_DISPLAY, "ws1:0"), 0);
	assert_int_equal(msg_set_str(&m, TAG_HOST, "ws1"), 0);
	assert_int_equal(msg_set_str(&m, TAG_VERSION, "1.0"), 0);
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, "xdemo"), 0);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "nope"), 0);
	assert_int_equal(msg_set_str(&m, TAG_REASON, "nope"), 0);
	m.time = 5;
	m.expires = 5;
	m.have |= MSG_F(TAG_TIME) | MSG_F(TAG_EXPIRES);
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(b.len, sizeof(ex_checkout));
	assert_memory_equal(b.data, ex_checkout, sizeof(ex_checkout));
	buf_free(&b);
}

/* ---- decoder errors ---- */

static void
test_unknown_msg_type(void **state)
{
	static const uint16_t bad[] = { 0x0000, 0x000e, 0x000f, 0x7fff,
	    0x8000, 0x800c, 0xffff };
	struct msg m;
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_hdr(&b, bad[i], 1);
		assert_int_equal(decode(&b, &m), XLICEN_E_MSG_TYPE);
		assert_int_equal(m.type, 0);
		raw_checkout_required(&b);
		assert_int_equal(decode(&b, &m), XLICEN_E_MSG_TYPE);

		msg_init(&m, bad[i], 1);
		buf_reset(&b);
		assert_int_equal(msg_encode(&m, &b), XLICEN_E_MSG_TYPE);
		assert_int_equal(b.len, 0);
	}
	buf_free(&b);
}

static void
test_truncated(void **state)
{
	struct msg m;
	struct buf b;
	size_t n;

	(void)state;
	buf_init(&b);
	/* Header: every prefix of the 6 bytes. */
	for (n = 0; n < 6; n++)
		assert_int_equal(msg_decode(ex_checkout, n, &m),
		    XLICEN_E_TRUNCATED);
	assert_int_equal(msg_decode(NULL, 0, &m), XLICEN_E_TRUNCATED);
	/* Every cut of the example after the header. */
	for (n = 6; n < sizeof(ex_checkout); n++) {
		int rc = msg_decode(ex_checkout, n, &m);

		/* Cuts on a TLV boundary leave a complete message without
		 * all its required fields, or a complete optional tail. */
		if (n == 6 || n == 15 || n == 22)
			assert_int_equal(rc, XLICEN_E_TLV_MISSING);
		else if (n == 30 || n == 37 || n == 46)
			assert_int_equal(rc, 0);
		else
			assert_int_equal(rc, XLICEN_E_TRUNCATED);
		msg_clear(&m);
	}
	/* TLV header of 1, 2, 3 bytes. */
	raw_hdr(&b, MSG_STATUS, 1);
	assert_int_equal(buf_put_u8(&b, 0x00), 0);
	assert_int_equal(decode(&b, &m), XLICEN_E_TRUNCATED);
	assert_int_equal(buf_put_u8(&b, TAG_PRODUCT), 0);
	assert_int_equal(decode(&b, &m), XLICEN_E_TRUNCATED);
	assert_int_equal(buf_put_u8(&b, 0x00), 0);
	assert_int_equal(decode(&b, &m), XLICEN_E_TRUNCATED);
	/* TLV value shorter than its length. */
	raw_hdr(&b, MSG_STATUS, 1);
	raw_tlv_len(&b, TAG_PRODUCT, 6, "xdemo", 5);
	assert_int_equal(decode(&b, &m), XLICEN_E_TRUNCATED);
	/* ...also for a skipped unknown TLV and a maximal length. */
	raw_hdr(&b, MSG_STATUS, 1);
	raw_tlv_len(&b, 99, UINT16_MAX, "abc", 3);
	assert_int_equal(decode(&b, &m), XLICEN_E_TRUNCATED);
	buf_free(&b);
}

static void
test_tlv_dup(void **state)
{
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_str(&b, TAG_PRODUCT, "other");
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_DUP);
	/* Same value, and the critical form of the same tag, are dups too. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_u32(&b, TAG_COUNT, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_DUP);
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_u32(&b, MSG_TAG_CRITICAL | TAG_COUNT, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_DUP);
	/* Repeated unknown non-critical tags are simply skipped. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_str(&b, 99, "a");
	raw_str(&b, 99, "b");
	assert_int_equal(decode(&b, &m), 0);
	buf_free(&b);
}

static void
test_unknown_noncritical_skipped(void **state)
{
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_str(&b, 99, "\xff\xfe not UTF-8, not looked at");
	raw_str(&b, TAG_PRODUCT, "xdemo");
	raw_tlv(&b, 0, NULL, 0);		/* tag 0 */
	raw_str(&b, TAG_VERSION, "1.0");
	raw_tlv(&b, 0x7fff, "\x00\x00\x00", 3);	/* largest non-critical */
	raw_u32(&b, TAG_COUNT, 2);
	raw_u64(&b, 32, 1);			/* first tag past the bitmap */
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.type, MSG_CHECKOUT);
	assert_string_equal(m.product, "xdemo");
	assert_string_equal(m.version, "1.0");
	assert_int_equal(m.count, 2);
	assert_int_equal(m.have, MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSION) |
	    MSG_F(TAG_COUNT));
	msg_clear(&m);
	buf_free(&b);
}

static void
test_unknown_critical_refused(void **state)
{
	static const uint16_t tags[] = { MSG_TAG_CRITICAL | 99,
	    MSG_TAG_CRITICAL | 0, MSG_TAG_CRITICAL | 32, 0xffff };
	struct msg m;
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		raw_hdr(&b, MSG_CHECKOUT, 1);
		raw_checkout_required(&b);
		raw_u32(&b, tags[i], 0);
		assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
		/* Before the required fields too. */
		raw_hdr(&b, MSG_STATUS, 1);
		raw_tlv(&b, tags[i], NULL, 0);
		assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
	}
	buf_free(&b);
}

static void
test_known_tag_not_allowed(void **state)
{
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	/* LEASE is known but not part of a CHECKOUT: skipped... */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_str(&b, TAG_LEASE, "L1");
	raw_u64(&b, TAG_TIME, 9);
	assert_int_equal(decode(&b, &m), 0);
	assert_string_equal(m.lease, "");
	assert_true(m.time == 0);
	assert_int_equal(m.have & (MSG_F(TAG_LEASE) | MSG_F(TAG_TIME)), 0);
	msg_clear(&m);
	/* ...even when its value would be malformed for that tag... */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_tlv(&b, TAG_EXPIRES, "\x01", 1);
	assert_int_equal(decode(&b, &m), 0);
	/* ...and refused when marked critical. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_str(&b, MSG_TAG_CRITICAL | TAG_LEASE, "L1");
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
	/* A pool in a GRANT: skipped, or refused when critical. */
	raw_hdr(&b, MSG_GRANT, 1);
	raw_str(&b, TAG_LEASE, "L1");
	raw_u64(&b, TAG_EXPIRES, 1);
	raw_u32(&b, TAG_HEARTBEAT, 30);
	raw_tlv(&b, TAG_POOL, "\x00", 1);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.npools, 0);
	assert_null(m.pools);
	msg_clear(&m);
	raw_tlv(&b, MSG_TAG_CRITICAL | TAG_POOL, "\x00", 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
	/* Pool-only tags (VERSIONS, STATE) at the top level of a reply. */
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_str(&b, TAG_VERSIONS, "1-2");
	raw_u8(&b, TAG_STATE, 0);
	assert_int_equal(decode(&b, &m), 0);
	msg_clear(&m);
	raw_u8(&b, MSG_TAG_CRITICAL | TAG_STATE, 0);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
	buf_free(&b);
}

static void
test_critical_bit_on_known_tag(void **state)
{
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_str(&b, MSG_TAG_CRITICAL | TAG_PRODUCT, "xdemo");
	raw_str(&b, MSG_TAG_CRITICAL | TAG_VERSION, "1.0");
	raw_u32(&b, MSG_TAG_CRITICAL | TAG_COUNT, 3);
	assert_int_equal(decode(&b, &m), 0);
	assert_string_equal(m.product, "xdemo");
	assert_int_equal(m.count, 3);
	msg_clear(&m);
	buf_free(&b);
}

static void
test_missing_required(void **state)
{
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_str(&b, TAG_PRODUCT, "xdemo");
	raw_str(&b, TAG_VERSION, "1.0");
	raw_str(&b, TAG_HOST, "ws1");
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	assert_string_equal(m.product, "");	/* cleared */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	raw_hdr(&b, MSG_HEARTBEAT, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	raw_hdr(&b, MSG_RELEASE, 1);
	raw_u64(&b, 99, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	raw_hdr(&b, MSG_GRANT, 1);
	raw_str(&b, TAG_LEASE, "L1");
	raw_u64(&b, TAG_EXPIRES, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	raw_hdr(&b, MSG_DENY, 1);
	raw_str(&b, TAG_REASON, "why");
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	raw_hdr(&b, MSG_ERROR, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	/* The two types without required fields. */
	raw_hdr(&b, MSG_STATUS, 1);
	assert_int_equal(decode(&b, &m), 0);
	raw_hdr(&b, MSG_OK, 1);
	assert_int_equal(decode(&b, &m), 0);
	buf_free(&b);
}

static void
test_tlv_length(void **state)
{
	struct msg m;
	struct buf b, in;

	(void)state;
	buf_init(&b);
	buf_init(&in);
	/* u32 with 3 (and 5, and 0) bytes. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_str(&b, TAG_PRODUCT, "xdemo");
	raw_str(&b, TAG_VERSION, "1.0");
	raw_tlv(&b, TAG_COUNT, "\x00\x00\x01", 3);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_tlv(&b, TAG_PID, "\x00\x00\x00\x00\x01", 5);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_tlv(&b, TAG_FLAGS, NULL, 0);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	/* u64 with 4. */
	raw_hdr(&b, MSG_OK, 1);
	raw_tlv(&b, TAG_EXPIRES, "\x00\x00\x00\x01", 4);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	/* u16 code with 2 (right), 1 and 4. */
	raw_hdr(&b, MSG_ERROR, 1);
	raw_u16(&b, TAG_CODE, 62);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.code, 62);
	msg_clear(&m);
	raw_hdr(&b, MSG_ERROR, 1);
	raw_tlv(&b, TAG_CODE, "\x41", 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	raw_hdr(&b, MSG_ERROR, 1);
	raw_tlv(&b, TAG_CODE, "\x00\x00\x00\x41", 4);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	/* u8 pool state with 2, inside a pool. */
	buf_reset(&in);
	raw_str(&in, TAG_PRODUCT, "p");
	raw_str(&in, TAG_VERSIONS, "1-2");
	raw_u32(&in, TAG_TOTAL, 1);
	raw_u32(&in, TAG_IN_USE, 0);
	raw_u64(&in, TAG_EXPIRES, 0);
	raw_tlv(&in, TAG_STATE, "\x00\x00", 2);
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_pool(&b, &in);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	buf_free(&in);
	buf_free(&b);
}

static void
test_string_limits(void **state)
{
	char s[LIMIT_STRING + 2];
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	memset(s, 'x', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	/* 256 bytes: refused. */
	raw_hdr(&b, MSG_STATUS, 1);
	raw_str(&b, TAG_PRODUCT, s);
	assert_int_equal(decode(&b, &m), XLICEN_E_STRING);
	/* 255 bytes: accepted, NUL-terminated. */
	s[LIMIT_STRING] = '\0';
	raw_hdr(&b, MSG_STATUS, 1);
	raw_str(&b, TAG_PRODUCT, s);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(strlen(m.product), LIMIT_STRING);
	msg_clear(&m);
	/* 0 bytes: an empty string, present. */
	raw_hdr(&b, MSG_STATUS, 1);
	raw_str(&b, TAG_PRODUCT, "");
	assert_int_equal(decode(&b, &m), 0);
	assert_true((m.have & MSG_F(TAG_PRODUCT)) != 0);
	assert_string_equal(m.product, "");
	msg_clear(&m);
	/* Strings in pools have the same limit. */
	{
		struct buf in;

		buf_init(&in);
		raw_str(&in, TAG_PRODUCT, "p");
		raw_str(&in, TAG_VERSIONS, "1-2");
		memset(s, 'v', sizeof(s) - 1);
		s[sizeof(s) - 1] = '\0';
		raw_str(&in, TAG_VENDOR, s);
		raw_u32(&in, TAG_TOTAL, 1);
		raw_u32(&in, TAG_IN_USE, 0);
		raw_u64(&in, TAG_EXPIRES, 0);
		raw_u8(&in, TAG_STATE, 0);
		raw_hdr(&b, MSG_STATUS_REPLY, 1);
		raw_u64(&b, TAG_TIME, 1);
		raw_pool(&b, &in);
		assert_int_equal(decode(&b, &m), XLICEN_E_STRING);
		buf_free(&in);
	}
	buf_free(&b);
}

static void
test_string_invalid_utf8(void **state)
{
	static const char *bad[] = { "ws1:\xc0\x80", "\xed\xa0\x80", "\x80",
	    "ws1\xe2\x82" };
	struct msg m;
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_hdr(&b, MSG_CHECKOUT, 1);
		raw_checkout_required(&b);
		raw_str(&b, TAG_DISPLAY, bad[i]);
		assert_int_equal(decode(&b, &m), XLICEN_E_STRING);
	}
	/* An embedded NUL. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_tlv(&b, TAG_DISPLAY, "ws1\0:0", 6);
	assert_int_equal(decode(&b, &m), XLICEN_E_STRING);
	/* Valid multi-byte UTF-8 is fine. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_str(&b, TAG_DISPLAY, "caf\xc3\xa9:0");
	assert_int_equal(decode(&b, &m), 0);
	assert_string_equal(m.display, "caf\xc3\xa9:0");
	msg_clear(&m);
	buf_free(&b);
}

static void
test_tlv_count(void **state)
{
	struct msg m;
	struct buf b;
	int i;

	(void)state;
	buf_init(&b);
	/* 3 required + 61 unknown = 64: accepted. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	for (i = 0; i < LIMIT_TLV_COUNT - 3; i++)
		raw_tlv(&b, 99, NULL, 0);
	assert_int_equal(decode(&b, &m), 0);
	msg_clear(&m);
	/* One more: 65. */
	raw_tlv(&b, 99, NULL, 0);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_COUNT);
	/* Counted before the required fields are seen. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	for (i = 0; i < LIMIT_TLV_COUNT + 1; i++)
		raw_tlv(&b, 100, NULL, 0);
	raw_checkout_required(&b);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_COUNT);
	/* Inside one pool, the same limit applies to the pool's TLVs. */
	{
		struct buf in;

		buf_init(&in);
		raw_pool_inner(&in, 0, 0);
		for (i = 0; i < LIMIT_TLV_COUNT - 6; i++)
			raw_tlv(&in, 99, NULL, 0);
		raw_hdr(&b, MSG_STATUS_REPLY, 1);
		raw_u64(&b, TAG_TIME, 1);
		raw_pool(&b, &in);
		assert_int_equal(decode(&b, &m), 0);
		msg_clear(&m);
		raw_tlv(&in, 99, NULL, 0);
		raw_hdr(&b, MSG_STATUS_REPLY, 1);
		raw_u64(&b, TAG_TIME, 1);
		raw_pool(&b, &in);
		assert_int_equal(decode(&b, &m), XLICEN_E_TLV_COUNT);
		buf_free(&in);
	}
	buf_free(&b);
}

/*
 * PROTOCOL.md section 7, step 2: the count is judged as soon as a TLV's
 * header is in, before its value is looked at, so a 65th TLV whose value
 * runs past the end is TLV_COUNT, not TRUNCATED; an incomplete header is
 * TRUNCATED (its tag, needed to count it, is unknown).  A POOL, HOLDER or
 * ROW in a message that does not carry it is an unknown field and counts.
 */
static void
test_tlv_count_before_truncation(void **state)
{
	struct msg m;
	struct buf b, in;
	int i;

	(void)state;
	buf_init(&b);
	buf_init(&in);
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	for (i = 0; i < LIMIT_TLV_COUNT - 3; i++)
		raw_tlv(&b, 99, NULL, 0);
	/* 65th: complete header, 10 bytes of value announced, 2 there. */
	raw_tlv_len(&b, 99, 10, "ab", 2);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_COUNT);
	/* 65th with only 3 of its 4 header bytes. */
	b.len -= 4 + 2 - 3;
	assert_int_equal(decode(&b, &m), XLICEN_E_TRUNCATED);
	/* The same order inside a pool. */
	raw_pool_inner(&in, 0, 0);
	for (i = 0; i < LIMIT_TLV_COUNT - 6; i++)
		raw_tlv(&in, 99, NULL, 0);
	raw_tlv_len(&in, 99, 10, "ab", 2);
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_pool(&b, &in);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_COUNT);
	/* A POOL in a CHECKOUT (not carried) counts like any unknown tag. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	for (i = 0; i < LIMIT_TLV_COUNT - 3; i++)
		raw_tlv(&b, TAG_POOL, NULL, 0);
	assert_int_equal(decode(&b, &m), 0);
	msg_clear(&m);
	raw_tlv(&b, TAG_HOLDER, NULL, 0);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_COUNT);
	buf_free(&in);
	buf_free(&b);
}

static void
test_status_reply_pool_limits(void **state)
{
	struct msg m;
	struct buf b, in;
	unsigned i;

	(void)state;
	buf_init(&b);
	buf_init(&in);
	/* 100 pools and 63 other TLVs (64 with TIME): pools don't count. */
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1700000000);
	for (i = 0; i < 100; i++) {
		raw_pool_inner(&in, i, i % 2);
		raw_pool(&b, &in);
	}
	for (i = 0; i < LIMIT_TLV_COUNT - 1; i++)
		raw_tlv(&b, 99, NULL, 0);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.npools, 100);
	assert_string_equal(m.pools[0].product, "prod0");
	assert_string_equal(m.pools[99].product, "prod99");
	assert_string_equal(m.pools[99].vendor, "demovendor");
	assert_string_equal(m.pools[98].vendor, "");
	assert_int_equal(m.pools[99].total, 109);
	assert_int_equal(m.pools[42].in_use, 42);
	assert_true(m.pools[99].start == 1600000000);
	msg_clear(&m);

	/* Exactly LIMIT_STATUS_POOLS: accepted; one more: refused. */
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1700000000);
	for (i = 0; i < LIMIT_STATUS_POOLS; i++) {
		raw_pool_inner(&in, i, 0);
		raw_pool(&b, &in);
	}
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.npools, LIMIT_STATUS_POOLS);
	msg_clear(&m);
	raw_pool_inner(&in, i, 0);
	raw_pool(&b, &in);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_COUNT);
	assert_null(m.pools);
	assert_int_equal(m.npools, 0);
	buf_free(&in);
	buf_free(&b);
}

/*
 * Pools must not count against the top-level limit wherever they appear
 * (a regression test: a pool after 63 other TLVs used to be refused).
 */
static void
test_pool_after_64_tlvs(void **state)
{
	struct msg m;
	struct buf b, in;
	unsigned i;

	(void)state;
	buf_init(&b);
	buf_init(&in);
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1700000000);
	for (i = 0; i < LIMIT_TLV_COUNT - 1; i++)
		raw_tlv(&b, 99, NULL, 0);
	raw_pool_inner(&in, 0, 0);
	raw_pool(&b, &in);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.npools, 1);
	msg_clear(&m);
	buf_free(&in);
	buf_free(&b);
}

static void
test_pool_errors(void **state)
{
	static const uint16_t req[] = { TAG_PRODUCT, TAG_VERSIONS, TAG_TOTAL,
	    TAG_IN_USE, TAG_EXPIRES, TAG_STATE };
	struct msg m;
	struct buf b, in;
	size_t i, j;

	(void)state;
	buf_init(&b);
	buf_init(&in);
	/* Each required pool field missing in turn. */
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		buf_reset(&in);
		for (j = 0; j < sizeof(req) / sizeof(req[0]); j++) {
			if (j == i)
				continue;
			switch (req[j]) {
			case TAG_PRODUCT:
			case TAG_VERSIONS:
				raw_str(&in, req[j], "x");
				break;
			case TAG_STATE:
				raw_u8(&in, req[j], 0);
				break;
			case TAG_EXPIRES:
				raw_u64(&in, req[j], 0);
				break;
			default:
				raw_u32(&in, req[j], 0);
				break;
			}
		}
		raw_hdr(&b, MSG_STATUS_REPLY, 1);
		raw_u64(&b, TAG_TIME, 1);
		raw_pool(&b, &in);
		assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	}
	/* An empty pool. */
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_tlv(&b, TAG_POOL, NULL, 0);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	/* Duplicate inside a pool. */
	raw_pool_inner(&in, 1, 0);
	raw_u32(&in, TAG_TOTAL, 3);
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_pool(&b, &in);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_DUP);
	/* Unknown critical inside a pool; a message-only tag (LEASE) too. */
	raw_pool_inner(&in, 1, 0);
	raw_tlv(&in, MSG_TAG_CRITICAL | 99, NULL, 0);
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_pool(&b, &in);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
	raw_pool_inner(&in, 1, 0);
	raw_str(&in, MSG_TAG_CRITICAL | TAG_LEASE, "L");
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_pool(&b, &in);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
	/* Unknown non-critical inside a pool: skipped. */
	raw_pool_inner(&in, 1, 0);
	raw_str(&in, 99, "x");
	raw_str(&in, TAG_LEASE, "L");
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_pool(&b, &in);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.npools, 1);
	assert_int_equal(m.pools[0].have, POOL_REQ);
	msg_clear(&m);
	/* A TLV running past the end of its pool (not of the message). */
	raw_pool_inner(&in, 1, 0);
	raw_tlv_len(&in, TAG_SERIAL, 10, "SN", 2);
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_pool(&b, &in);
	raw_str(&b, 99, "padding so the message is long enough");
	assert_int_equal(decode(&b, &m), XLICEN_E_TRUNCATED);
	/* A critical-marked pool tag is a pool. */
	raw_pool_inner(&in, 1, 0);
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_tlv(&b, MSG_TAG_CRITICAL | TAG_POOL, in.data, in.len);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.npools, 1);
	msg_clear(&m);
	buf_free(&in);
	buf_free(&b);
}

static void
test_encode_required_absent(void **state)
{
	struct msg_pool p;
	struct msg m;
	struct buf b;

	(void)state;
	buf_init(&b);
	assert_int_equal(buf_put_bytes(&b, "pre", 3), 0);
	msg_init(&m, MSG_CHECKOUT, 1);
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, "xdemo"), 0);
	assert_int_equal(msg_set_str(&m, TAG_VERSION, "1.0"), 0);
	m.count = 1;		/* set but not marked present */
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	assert_int_equal(b.len, 3);
	msg_init(&m, MSG_HEARTBEAT, 1);
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	msg_init(&m, MSG_GRANT, 1);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "L"), 0);
	m.have |= MSG_F(TAG_EXPIRES);
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	msg_init(&m, MSG_DENY, 1);
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	msg_init(&m, MSG_ERROR, 1);
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	msg_init(&m, MSG_STATUS_REPLY, 1);
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	assert_int_equal(b.len, 3);

	/* A pool without a required field: INVALID, and nothing of the
	 * message is left in the buffer. */
	m.have |= MSG_F(TAG_TIME);
	pool_fill(&p, 1);
	assert_int_equal(msg_add_pool(&m, &p), 0);
	pool_fill(&p, 2);
	p.have &= ~MSG_F(TAG_STATE);
	assert_int_equal(msg_add_pool(&m, &p), 0);
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "pre", 3);
	msg_clear(&m);
	buf_free(&b);
}

static void
test_set_str(void **state)
{
	char s[LIMIT_STRING + 2];
	struct msg m;

	(void)state;
	msg_init(&m, MSG_CHECKOUT, 1);
	memset(s, 'x', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, s), XLICEN_E_STRING);
	assert_int_equal(m.have, 0);
	assert_string_equal(m.product, "");
	s[LIMIT_STRING] = '\0';
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, s), 0);
	assert_string_equal(m.product, s);
	assert_int_equal(m.have, MSG_F(TAG_PRODUCT));
	assert_int_equal(msg_set_str(&m, TAG_HOST, "\xc0\x80"), XLICEN_E_STRING);
	assert_int_equal(msg_set_str(&m, TAG_HOST, "\xff"), XLICEN_E_STRING);
	assert_int_equal(m.have, MSG_F(TAG_PRODUCT));
	/* Not a string field, not a field at all, no string. */
	assert_int_equal(msg_set_str(&m, TAG_COUNT, "1"), XLICEN_E_INVALID);
	assert_int_equal(msg_set_str(&m, TAG_POOL, "1"), XLICEN_E_INVALID);
	assert_int_equal(msg_set_str(&m, TAG_VERSIONS, "1-2"), XLICEN_E_INVALID);
	assert_int_equal(msg_set_str(&m, 99, "x"), XLICEN_E_INVALID);
	assert_int_equal(msg_set_str(&m, TAG_HOST, NULL), XLICEN_E_INVALID);
	assert_int_equal(m.have, MSG_F(TAG_PRODUCT));
}

static void
test_add_pool_limit(void **state)
{
	struct msg_pool p;
	struct msg m;
	unsigned i;

	(void)state;
	msg_init(&m, MSG_STATUS_REPLY, 1);
	pool_fill(&p, 1);
	for (i = 0; i < LIMIT_STATUS_POOLS; i++)
		assert_int_equal(msg_add_pool(&m, &p), 0);
	assert_int_equal(msg_add_pool(&m, &p), XLICEN_E_TLV_COUNT);
	assert_int_equal(m.npools, LIMIT_STATUS_POOLS);
	msg_clear(&m);
}

static void
test_decode_error_clears(void **state)
{
	struct msg m;
	struct buf b, in;

	(void)state;
	buf_init(&b);
	buf_init(&in);
	/* Two good pools decoded (so pools was allocated), then an error. */
	raw_hdr(&b, MSG_STATUS_REPLY, 77);
	raw_u64(&b, TAG_TIME, 1);
	raw_pool_inner(&in, 1, 1);
	raw_pool(&b, &in);
	raw_pool_inner(&in, 2, 1);
	raw_pool(&b, &in);
	raw_tlv(&b, MSG_TAG_CRITICAL | 99, NULL, 0);
	memset(&m, 0x55, sizeof(m));
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
	assert_null(m.pools);
	assert_int_equal(m.npools, 0);
	assert_int_equal(m.have, 0);
	assert_int_equal(m.type, 0);
	assert_int_equal(m.id, 0);
	assert_true(m.time == 0);
	msg_clear(&m);		/* harmless */
	/* Partly filled scalar and string fields are wiped too. */
	raw_hdr(&b, MSG_CHECKOUT, 5);
	raw_checkout_required(&b);
	raw_str(&b, TAG_HOST, "ws1");
	raw_tlv(&b, TAG_PID, "\x01", 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	assert_string_equal(m.product, "");
	assert_string_equal(m.host, "");
	assert_int_equal(m.count, 0);
	assert_int_equal(m.id, 0);
	buf_free(&in);
	buf_free(&b);
}


/* ---- the seat-lifecycle messages ---- */

/* PROTOCOL.md, example 6: QUEUED answering request 2: first in line as
 * q0123456789abcdef until 1700000300, 2 of 2 seats in use. */
static const uint8_t ex_queued[] = {
	0x80, 0x06,				/* type QUEUED */
	0x00, 0x00, 0x00, 0x02,			/* request id 2 */
	0x00, 0x09, 0x00, 0x08,			/* EXPIRES, 8 bytes */
	0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf2, 0x2c,	/* 1700000300 */
	0x00, 0x0b, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,	/* IN_USE 2 */
	0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,	/* TOTAL 2 */
	0x00, 0x17, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01,	/* POSITION 1 */
	0x00, 0x18, 0x00, 0x11,			/* QUEUE_ID, 17 bytes */
	0x71, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,	/* "q01234567" */
	0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,	/* "89abcdef" */
};

/* PROTOCOL.md, example 7: the GRANT that follows, unsolicited (id 0),
 * naming request 2 and the queue id. */
static const uint8_t ex_late_grant[] = {
	0x80, 0x01,				/* type GRANT */
	0x00, 0x00, 0x00, 0x00,			/* id 0: unsolicited */
	0x00, 0x08, 0x00, 0x10,			/* LEASE, 16 bytes */
	0x34, 0x66, 0x31, 0x63, 0x39, 0x61, 0x30, 0x65,	/* "4f1c9a0e" */
	0x37, 0x62, 0x32, 0x64, 0x35, 0x65, 0x38, 0x33,	/* "7b2d5e83" */
	0x00, 0x09, 0x00, 0x08,			/* EXPIRES */
	0x00, 0x00, 0x00, 0x00, 0x65, 0x53, 0xf2, 0xa4,	/* 1700000420 */
	0x00, 0x0a, 0x00, 0x04, 0x00, 0x00, 0x00, 0x1e,	/* HEARTBEAT 30 */
	0x00, 0x0b, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,	/* IN_USE 2 */
	0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,	/* TOTAL 2 */
	0x00, 0x16, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,	/* REQUEST 2 */
	0x00, 0x18, 0x00, 0x11,			/* QUEUE_ID, 17 bytes */
	0x71, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
	0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
};

static void
test_queue_bytes(void **state)
{
	struct msg m, d;
	struct buf b;

	(void)state;
	buf_init(&b);
	msg_init(&m, MSG_QUEUED, 2);
	m.expires = 1700000300;
	m.in_use = 2;
	m.total = 2;
	m.position = 1;
	m.have |= MSG_F(TAG_EXPIRES) | MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL) |
	    MSG_F(TAG_POSITION);
	assert_int_equal(msg_set_str(&m, TAG_QUEUE_ID, "q0123456789abcdef"), 0);
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(b.len, sizeof(ex_queued));
	assert_memory_equal(b.data, ex_queued, sizeof(ex_queued));
	assert_int_equal(msg_decode(ex_queued, sizeof(ex_queued), &d), 0);
	assert_msg_equal(&m, &d);
	msg_clear(&d);

	buf_reset(&b);
	msg_init(&m, MSG_GRANT, 0);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "4f1c9a0e7b2d5e83"), 0);
	assert_int_equal(msg_set_str(&m, TAG_QUEUE_ID, "q0123456789abcdef"), 0);
	m.expires = 1700000420;
	m.heartbeat = 30;
	m.in_use = 2;
	m.total = 2;
	m.request = 2;
	m.have |= MSG_F(TAG_EXPIRES) | MSG_F(TAG_HEARTBEAT) |
	    MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL) | MSG_F(TAG_REQUEST);
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(b.len, sizeof(ex_late_grant));
	assert_memory_equal(b.data, ex_late_grant, sizeof(ex_late_grant));
	assert_int_equal(msg_decode(ex_late_grant, sizeof(ex_late_grant), &d),
	    0);
	assert_msg_equal(&m, &d);
	msg_clear(&d);
	/* QUEUED without its required fields. */
	msg_init(&m, MSG_QUEUED, 3);
	m.position = 1;
	m.have |= MSG_F(TAG_POSITION);
	buf_reset(&b);
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	raw_hdr(&b, MSG_QUEUED, 3);
	raw_u32(&b, TAG_POSITION, 1);
	assert_int_equal(decode(&b, &d), XLICEN_E_TLV_MISSING);
	buf_free(&b);
}

static void
test_roundtrip_lifecycle_requests(void **state)
{
	struct msg m;

	(void)state;
	/* CHECKOUT with the queue fields. */
	msg_init(&m, MSG_CHECKOUT, 9);
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, "xdemo"), 0);
	assert_int_equal(msg_set_str(&m, TAG_VERSION, "1.0"), 0);
	m.count = 1;
	m.flags = MSG_FLAG_WAIT;
	m.wait = 20;
	m.have |= MSG_F(TAG_COUNT) | MSG_F(TAG_FLAGS) | MSG_F(TAG_WAIT);
	assert_int_equal(msg_set_str(&m, TAG_QUEUE_ID, "q1"), 0);
	roundtrip(&m);
	/* RECLAIM */
	msg_init(&m, MSG_RECLAIM, 10);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "L1"), 0);
	roundtrip(&m);
	assert_int_equal(msg_set_str(&m, TAG_HOST, "ws1"), 0);
	assert_int_equal(msg_set_str(&m, TAG_DISPLAY, "ws1:0"), 0);
	m.pid = 77;
	m.have |= MSG_F(TAG_PID);
	roundtrip(&m);
	/* LIST_MINE, HOLDERS: an optional product. */
	msg_init(&m, MSG_LIST_MINE, 11);
	roundtrip(&m);
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, "xdemo"), 0);
	roundtrip(&m);
	m.type = MSG_HOLDERS;
	roundtrip(&m);
	/* REMOVE */
	msg_init(&m, MSG_REMOVE, 12);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "L9"), 0);
	roundtrip(&m);
	/* REREAD and SHUTDOWN: no fields. */
	msg_init(&m, MSG_REREAD, 13);
	roundtrip(&m);
	msg_init(&m, MSG_SHUTDOWN, 14);
	roundtrip(&m);
	/* REPORT */
	msg_init(&m, MSG_REPORT, 15);
	roundtrip(&m);
	m.from = 1700000000;
	m.to = 1700086400;
	m.flags = MSG_REPORT_VERIFY;
	m.have |= MSG_F(TAG_FROM) | MSG_F(TAG_TO) | MSG_F(TAG_FLAGS);
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, "xdemo"), 0);
	roundtrip(&m);
}

static void
test_required_lifecycle_fields(void **state)
{
	static const struct {
		uint16_t type;
	} need_lease[] = { { MSG_RECLAIM }, { MSG_REMOVE } };
	struct msg m;
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < sizeof(need_lease) / sizeof(need_lease[0]); i++) {
		raw_hdr(&b, need_lease[i].type, 1);
		assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
		msg_init(&m, need_lease[i].type, 1);
		buf_reset(&b);
		assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	}
	/* REVOKE needs LEASE and CODE; HOLDERS_REPLY and REPORT_REPLY TIME
	 * (and FROM, TO). */
	raw_hdr(&b, MSG_REVOKE, 0);
	raw_str(&b, TAG_LEASE, "L");
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	raw_u16(&b, TAG_CODE, 72);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.code, 72);
	msg_clear(&m);
	raw_hdr(&b, MSG_HOLDERS_REPLY, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	raw_hdr(&b, MSG_REPORT_REPLY, 1);
	raw_u64(&b, TAG_TIME, 5);
	raw_u64(&b, TAG_FROM, 1);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	/* A HOLDER in a STATUS_REPLY is not a field of it: skipped. */
	raw_hdr(&b, MSG_STATUS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 5);
	raw_tlv(&b, TAG_HOLDER, "\x00", 1);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.nholders, 0);
	msg_clear(&m);
	/* WAIT is a u32. */
	raw_hdr(&b, MSG_CHECKOUT, 1);
	raw_checkout_required(&b);
	raw_u16(&b, TAG_WAIT, 5);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	buf_free(&b);
}

static void
holder_fill(struct msg_holder *h, unsigned i)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->product, sizeof(h->product), "product-%u", i);
	snprintf(h->principal, sizeof(h->principal), "user%u@EXAMPLE.ORG", i);
	snprintf(h->host, sizeof(h->host), "ws%u.example.org", i);
	h->count = 1 + i;
	h->since = 1700000000ULL + i;
	h->expires = 1700000120ULL + i;
	h->state = (uint8_t)(i % 3);
	h->have = MSG_F(TAG_PRODUCT) | MSG_F(TAG_PRINCIPAL) | MSG_F(TAG_HOST) |
	    MSG_F(TAG_COUNT) | MSG_F(TAG_SINCE) | MSG_F(TAG_EXPIRES) |
	    MSG_F(TAG_STATE);
	if (h->state == MSG_HOLDER_LEASE) {
		snprintf(h->lease, sizeof(h->lease), "%032x", i);
		snprintf(h->version, sizeof(h->version), "1.%u", i);
		snprintf(h->display, sizeof(h->display), "ws%u:0", i);
		h->pid = 4000 + i;
		h->last_hb = 1700000060ULL + i;
		h->heartbeat = 30;
		h->connected = (uint8_t)(i % 2);
		h->have |= MSG_F(TAG_LEASE) | MSG_F(TAG_VERSION) |
		    MSG_F(TAG_DISPLAY) | MSG_F(TAG_PID) | MSG_F(TAG_LAST_HB) |
		    MSG_F(TAG_HEARTBEAT) | MSG_F(TAG_CONNECTED);
	} else if (h->state == MSG_HOLDER_QUEUED) {
		snprintf(h->queue_id, sizeof(h->queue_id), "q%016x", i);
		h->position = i;
		h->have |= MSG_F(TAG_QUEUE_ID) | MSG_F(TAG_POSITION);
	}
	if (h->state != MSG_HOLDER_QUEUED && i % 2 == 0) {
		/* Of a withdrawn license. */
		h->pool_flags = MSG_POOL_WITHDRAWN;
		h->have |= MSG_F(TAG_POOL_FLAGS);
	}
}

static void
test_roundtrip_lifecycle_replies(void **state)
{
	struct msg_holder h;
	struct msg_row r;
	struct msg_pool p;
	struct msg m;
	unsigned i;

	(void)state;
	/* HOLDERS_REPLY with leases, queued entries and lingering seats. */
	msg_init(&m, MSG_HOLDERS_REPLY, 20);
	m.time = 1700000100;
	m.have |= MSG_F(TAG_TIME);
	roundtrip(&m);
	for (i = 0; i < 9; i++) {
		holder_fill(&h, i);
		assert_int_equal(msg_add_holder(&m, &h), 0);
	}
	m.more = 1;
	m.have |= MSG_F(TAG_MORE);
	roundtrip(&m);
	msg_clear(&m);
	/* REPORT_REPLY with rows and the chain check. */
	msg_init(&m, MSG_REPORT_REPLY, 21);
	m.time = 1700000100;
	m.from = 1699000000;
	m.to = 1700000000;
	m.have |= MSG_F(TAG_TIME) | MSG_F(TAG_FROM) | MSG_F(TAG_TO);
	roundtrip(&m);
	for (i = 0; i < 4; i++) {
		memset(&r, 0, sizeof(r));
		assert_int_equal(msg_row_set_str(&r, TAG_PRODUCT, "xdemo"), 0);
		if (i > 0)
			assert_int_equal(msg_row_set_str(&r, TAG_PRINCIPAL,
			    i == 1 ? "alice@R" : "bob@R"), 0);
		r.grants = 10 * i;
		r.denials = i;
		r.peak = 2;
		r.avg_milli = 1500;
		r.seconds = 7200ULL * i;
		r.have |= MSG_F(TAG_GRANTS) | MSG_F(TAG_DENIALS) |
		    MSG_F(TAG_PEAK) | MSG_F(TAG_AVG_MILLI) | MSG_F(TAG_SECONDS);
		assert_int_equal(msg_add_row(&m, &r), 0);
	}
	m.events = 123;
	m.bad_event = 45;
	m.have |= MSG_F(TAG_EVENTS) | MSG_F(TAG_BAD_EVENT);
	assert_int_equal(msg_set_str(&m, TAG_HASH, "00ff"), 0);
	assert_int_equal(msg_set_str(&m, TAG_REASON, "broken at 45"), 0);
	roundtrip(&m);
	msg_clear(&m);
	/* REPORT with FLAGS EVENTS and AFTER; its reply's raw events, one
	 * with every field, one with the required ones only; an event
	 * without its KIND is TLV_MISSING. */
	msg_init(&m, MSG_REPORT, 22);
	m.flags = MSG_REPORT_EVENTS;
	m.after = 4000000000ULL;
	m.have |= MSG_F(TAG_FLAGS) | MSG_F(TAG_AFTER);
	roundtrip(&m);
	msg_init(&m, MSG_REPORT_REPLY, 22);
	m.time = m.from = m.to = 1700000100;
	m.have |= MSG_F(TAG_TIME) | MSG_F(TAG_FROM) | MSG_F(TAG_TO);
	{
		struct msg_event e;
		struct buf b;

		memset(&e, 0, sizeof(e));
		e.event_id = 7;
		e.time = 1700000000;
		e.count = 2;
		e.code = 62;
		e.have |= MSG_F(TAG_EVENT_ID) | MSG_F(TAG_TIME) |
		    MSG_F(TAG_COUNT) | MSG_F(TAG_CODE);
		assert_int_equal(msg_event_set_str(&e, TAG_KIND, "deny"), 0);
		assert_int_equal(msg_event_set_str(&e, TAG_PRINCIPAL, "bob@R"), 0);
		assert_int_equal(msg_event_set_str(&e, TAG_DISPLAY, "ws1:0"), 0);
		assert_int_equal(msg_event_set_str(&e, TAG_PRODUCT, "xdemo"), 0);
		assert_int_equal(msg_event_set_str(&e, TAG_NOTE, "all seats"), 0);
		assert_int_equal(msg_event_set_str(&e, TAG_REASON, "x"),
		    XLICEN_E_INVALID);
		assert_int_equal(msg_add_event(&m, &e), 0);
		memset(&e, 0, sizeof(e));
		e.event_id = 8;
		e.time = 1700000001;
		e.have |= MSG_F(TAG_EVENT_ID) | MSG_F(TAG_TIME);
		assert_int_equal(msg_event_set_str(&e, TAG_KIND, "reread"), 0);
		assert_int_equal(msg_add_event(&m, &e), 0);
		roundtrip(&m);
		/* The same without KIND: the encoder refuses it. */
		m.evs[1].have &= ~MSG_F(TAG_KIND);
		buf_init(&b);
		assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
		buf_free(&b);
	}
	msg_clear(&m);
	/* REVOKE, unsolicited. */
	msg_init(&m, MSG_REVOKE, 0);
	assert_int_equal(msg_set_str(&m, TAG_LEASE, "L7"), 0);
	m.code = 72;
	m.have |= MSG_F(TAG_CODE);
	roundtrip(&m);
	assert_int_equal(msg_set_str(&m, TAG_REASON, "removed by admin@R"), 0);
	roundtrip(&m);
	/* DENY late: REQUEST and QUEUE_ID. */
	msg_init(&m, MSG_DENY, 0);
	m.code = 7;
	m.request = 99;
	m.have |= MSG_F(TAG_CODE) | MSG_F(TAG_REQUEST);
	assert_int_equal(msg_set_str(&m, TAG_QUEUE_ID, "qabc"), 0);
	roundtrip(&m);
	/* OK with a REASON (REREAD's summary). */
	msg_init(&m, MSG_OK, 22);
	assert_int_equal(msg_set_str(&m, TAG_REASON, "loaded 3 license(s)"), 0);
	roundtrip(&m);
	/* A pool with every later field. */
	msg_init(&m, MSG_STATUS_REPLY, 23);
	m.time = 1;
	m.have |= MSG_F(TAG_TIME);
	pool_fill(&p, 1);
	p.queued = 4;
	p.pool_flags = MSG_POOL_UNCOUNTED | MSG_POOL_NODE_LOCKED;
	snprintf(p.hostid, sizeof(p.hostid), "host:ws1");
	snprintf(p.dup_group, sizeof(p.dup_group), "uhd");
	p.linger = 5;
	p.ttl = 120;
	p.heartbeat = 30;
	p.have |= MSG_F(TAG_QUEUED) | MSG_F(TAG_POOL_FLAGS) |
	    MSG_F(TAG_HOSTID) | MSG_F(TAG_DUP_GROUP) | MSG_F(TAG_LINGER) |
	    MSG_F(TAG_TTL) | MSG_F(TAG_HEARTBEAT);
	assert_int_equal(msg_add_pool(&m, &p), 0);
	m.more = 1;
	m.have |= MSG_F(TAG_MORE);
	roundtrip(&m);
	msg_clear(&m);
}

static void
test_holder_errors(void **state)
{
	struct msg_holder h;
	struct msg m;
	struct buf b, in;
	size_t i;

	(void)state;
	buf_init(&b);
	buf_init(&in);
	/* A holder without STATE. */
	raw_str(&in, TAG_PRODUCT, "x");
	raw_str(&in, TAG_PRINCIPAL, "a@R");
	raw_hdr(&b, MSG_HOLDERS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_tlv(&b, TAG_HOLDER, in.data, in.len);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_MISSING);
	/* With it; an unknown non-critical tag inside is skipped, a
	 * critical one refused, a repeated one refused. */
	raw_u8(&in, TAG_STATE, 1);
	raw_str(&in, 60, "skip me");
	raw_hdr(&b, MSG_HOLDERS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_tlv(&b, TAG_HOLDER, in.data, in.len);
	assert_int_equal(decode(&b, &m), 0);
	assert_int_equal(m.nholders, 1);
	assert_int_equal(m.holders[0].state, 1);
	msg_clear(&m);
	raw_tlv(&in, MSG_TAG_CRITICAL | 61, NULL, 0);
	raw_hdr(&b, MSG_HOLDERS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_tlv(&b, TAG_HOLDER, in.data, in.len);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
	buf_reset(&in);
	raw_str(&in, TAG_PRODUCT, "x");
	raw_str(&in, TAG_PRINCIPAL, "a@R");
	raw_u8(&in, TAG_STATE, 1);
	raw_u8(&in, TAG_STATE, 2);
	raw_hdr(&b, MSG_HOLDERS_REPLY, 1);
	raw_u64(&b, TAG_TIME, 1);
	raw_tlv(&b, TAG_HOLDER, in.data, in.len);
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_DUP);
	/* The list limit. */
	msg_init(&m, MSG_HOLDERS_REPLY, 1);
	holder_fill(&h, 1);
	for (i = 0; i < LIMIT_LIST_ITEMS; i++)
		assert_int_equal(msg_add_holder(&m, &h), 0);
	assert_int_equal(msg_add_holder(&m, &h), XLICEN_E_TLV_COUNT);
	msg_clear(&m);
	/* Strings of holders and rows: only their own string fields. */
	assert_int_equal(msg_holder_set_str(&h, TAG_COUNT, "1"),
	    XLICEN_E_INVALID);
	assert_int_equal(msg_holder_set_str(&h, 99, "1"), XLICEN_E_INVALID);
	assert_int_equal(msg_holder_set_str(&h, TAG_HOST, "\xff"),
	    XLICEN_E_STRING);
	{
		struct msg_row r;

		memset(&r, 0, sizeof(r));
		assert_int_equal(msg_row_set_str(&r, TAG_LEASE, "x"),
		    XLICEN_E_INVALID);
		assert_int_equal(msg_row_set_str(&r, TAG_PRINCIPAL, "a@R"), 0);
		assert_true((r.have & MSG_F(TAG_PRINCIPAL)) != 0);
	}
	/* A tag number of 64 or more is never a field. */
	raw_hdr(&b, MSG_STATUS, 1);
	raw_str(&b, 64, "x");
	raw_str(&b, 63, "y");
	assert_int_equal(decode(&b, &m), 0);
	msg_clear(&m);
	raw_str(&b, MSG_TAG_CRITICAL | 64, "x");
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_CRITICAL);
	buf_free(&in);
	buf_free(&b);
}

static void
test_type_name(void **state)
{
	(void)state;
	assert_string_equal(msg_type_name(MSG_CHECKOUT), "CHECKOUT");
	assert_string_equal(msg_type_name(MSG_HEARTBEAT), "HEARTBEAT");
	assert_string_equal(msg_type_name(MSG_RELEASE), "RELEASE");
	assert_string_equal(msg_type_name(MSG_STATUS), "STATUS");
	assert_string_equal(msg_type_name(MSG_GRANT), "GRANT");
	assert_string_equal(msg_type_name(MSG_DENY), "DENY");
	assert_string_equal(msg_type_name(MSG_OK), "OK");
	assert_string_equal(msg_type_name(MSG_STATUS_REPLY), "STATUS_REPLY");
	assert_string_equal(msg_type_name(MSG_ERROR), "ERROR");
	assert_string_equal(msg_type_name(0), "UNKNOWN");
	assert_string_equal(msg_type_name(MSG_RECLAIM), "RECLAIM");
	assert_string_equal(msg_type_name(MSG_LIST_MINE), "LIST_MINE");
	assert_string_equal(msg_type_name(MSG_HOLDERS), "HOLDERS");
	assert_string_equal(msg_type_name(MSG_REMOVE), "REMOVE");
	assert_string_equal(msg_type_name(MSG_REREAD), "REREAD");
	assert_string_equal(msg_type_name(MSG_SHUTDOWN), "SHUTDOWN");
	assert_string_equal(msg_type_name(MSG_REPORT), "REPORT");
	assert_string_equal(msg_type_name(MSG_QUEUED), "QUEUED");
	assert_string_equal(msg_type_name(MSG_HOLDERS_REPLY), "HOLDERS_REPLY");
	assert_string_equal(msg_type_name(MSG_REPORT_REPLY), "REPORT_REPLY");
	assert_string_equal(msg_type_name(MSG_REVOKE), "REVOKE");
	assert_string_equal(msg_type_name(MSG_INFO), "INFO");
	assert_string_equal(msg_type_name(MSG_INFO_REPLY), "INFO_REPLY");
	assert_string_equal(msg_type_name(MSG_BORROW), "BORROW");
	assert_string_equal(msg_type_name(MSG_BORROWED), "BORROWED");
	assert_string_equal(msg_type_name(0x000e), "UNKNOWN");
	assert_string_equal(msg_type_name(0x800c), "UNKNOWN");
}

/* INFO and its reply (issue 15): every field, the nested LISTEN list and
 * its bound, a required field missing. */
/* BORROW and BORROWED; TOKEN is bytes (any value, NUL included), up to
 * LIMIT_BORROW_TOKEN, one more is TLV_LENGTH both ways. */
static void
test_roundtrip_borrow(void **state)
{
	static uint8_t big[LIMIT_BORROW_TOKEN + 1];
	struct msg m, d;
	struct buf b;
	size_t i;

	(void)state;
	msg_init(&m, MSG_BORROW, 3);
	assert_int_equal(msg_set_str(&m, TAG_PRODUCT, "xdemo"), 0);
	assert_int_equal(msg_set_str(&m, TAG_VERSION, "1.0"), 0);
	assert_int_equal(msg_set_str(&m, TAG_HOST, "laptop1"), 0);
	m.to = 1800000000;
	m.have |= MSG_F(TAG_TO);
	buf_init(&b);
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(msg_decode(b.data, b.len, &d), 0);
	assert_int_equal(d.type, MSG_BORROW);
	assert_int_equal(d.to, 1800000000);
	assert_string_equal(d.host, "laptop1");
	msg_clear(&d);
	/* TO is required. */
	m.have &= ~MSG_F(TAG_TO);
	buf_reset(&b);
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);

	msg_init(&m, MSG_BORROWED, 3);
	assert_int_equal(msg_set_str(&m, TAG_LEASE,
	    "0123456789abcdef0123456789abcdef"), 0);
	m.expires = 1800000000;
	for (i = 0; i < LIMIT_BORROW_TOKEN; i++)
		m.token.data[i] = (uint8_t)i;
	m.token.len = LIMIT_BORROW_TOKEN;
	m.have |= MSG_F(TAG_EXPIRES) | MSG_F(TAG_TOKEN);
	buf_reset(&b);
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(msg_decode(b.data, b.len, &d), 0);
	assert_int_equal(d.token.len, LIMIT_BORROW_TOKEN);
	assert_memory_equal(d.token.data, m.token.data, LIMIT_BORROW_TOKEN);
	msg_clear(&d);
	/* One byte over: refused on the wire. */
	buf_reset(&b);
	raw_hdr(&b, MSG_BORROWED, 3);
	raw_str(&b, TAG_LEASE, "0123456789abcdef0123456789abcdef");
	raw_u64(&b, TAG_EXPIRES, 1800000000);
	raw_tlv(&b, TAG_TOKEN, big, sizeof(big));
	assert_int_equal(decode(&b, &m), XLICEN_E_TLV_LENGTH);
	/* TOKEN is not a string: a NUL and invalid UTF-8 are fine. */
	buf_reset(&b);
	raw_hdr(&b, MSG_BORROWED, 3);
	raw_str(&b, TAG_LEASE, "0123456789abcdef0123456789abcdef");
	raw_u64(&b, TAG_EXPIRES, 1800000000);
	raw_tlv(&b, TAG_TOKEN, "\0\xff\xfe", 3);
	assert_int_equal(decode(&b, &d), 0);
	assert_int_equal(d.token.len, 3);
	msg_clear(&d);
	buf_free(&b);
}

static void
test_roundtrip_info(void **state)
{
	struct msg m, d;
	struct buf b;
	char a[32];
	int i;

	(void)state;
	msg_init(&m, MSG_INFO, 7);
	roundtrip(&m);
	msg_init(&m, MSG_INFO_REPLY, 7);
	assert_int_equal(msg_set_str(&m, TAG_VERSION, "0.1.0"), 0);
	m.time = 1800000100;
	m.since = 1800000000;
	m.loaded = 3;
	m.refused = 1;
	m.have |= MSG_F(TAG_TIME) | MSG_F(TAG_SINCE) | MSG_F(TAG_LOADED) |
	    MSG_F(TAG_REFUSED);
	buf_init(&b);
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(msg_decode(b.data, b.len, &d), 0);
	assert_int_equal(d.nlistens, 0);
	assert_false(d.have & MSG_F(TAG_LICDIR));
	msg_clear(&d);
	assert_int_equal(msg_set_str(&m, TAG_LICDIR, "/etc/gss-xlicen/licenses"),
	    0);
	assert_int_equal(msg_add_listen(&m, "127.0.0.1:128"), 0);
	assert_int_equal(msg_add_listen(&m, "[::1]:128"), 0);
	buf_reset(&b);
	assert_int_equal(msg_encode(&m, &b), 0);
	assert_int_equal(msg_decode(b.data, b.len, &d), 0);
	assert_int_equal(d.type, MSG_INFO_REPLY);
	assert_string_equal(d.version, "0.1.0");
	assert_int_equal(d.time, 1800000100);
	assert_int_equal(d.since, 1800000000);
	assert_string_equal(d.licdir, "/etc/gss-xlicen/licenses");
	assert_int_equal(d.loaded, 3);
	assert_int_equal(d.refused, 1);
	assert_int_equal(d.nlistens, 2);
	assert_string_equal(d.listens[0].address, "127.0.0.1:128");
	assert_string_equal(d.listens[1].address, "[::1]:128");
	msg_clear(&d);
	for (i = 2; i < LIMIT_INFO_LISTEN; i++) {
		snprintf(a, sizeof(a), "10.0.0.%d:128", i);
		assert_int_equal(msg_add_listen(&m, a), 0);
	}
	assert_int_equal(msg_add_listen(&m, "10.0.0.99:128"),
	    XLICEN_E_TLV_COUNT);
	assert_int_equal(msg_add_listen(&m, "bad\xff"), XLICEN_E_STRING);
	m.have &= ~MSG_F(TAG_SINCE);
	buf_reset(&b);
	assert_int_equal(msg_encode(&m, &b), XLICEN_E_INVALID);
	buf_free(&b);
	msg_clear(&m);
}

/* ---- PROTOCOL.md section 7's tables against msg_specs ---- */

#define DOC_TAGS	64
#define DOC_LINE	1024

/* The message types of this version (msg.h). */
static const uint16_t all_types[] = {
	MSG_CHECKOUT, MSG_HEARTBEAT, MSG_RELEASE, MSG_STATUS, MSG_RECLAIM,
	MSG_LIST_MINE, MSG_HOLDERS, MSG_REMOVE, MSG_REREAD, MSG_SHUTDOWN,
	MSG_REPORT, MSG_GRANT, MSG_DENY, MSG_OK, MSG_STATUS_REPLY, MSG_ERROR,
	MSG_QUEUED, MSG_HOLDERS_REPLY, MSG_REPORT_REPLY, MSG_REVOKE, MSG_INFO,
	MSG_INFO_REPLY, MSG_BORROW, MSG_BORROWED,
};
static const uint16_t list_tags[] = { TAG_POOL, TAG_HOLDER, TAG_ROW, TAG_LISTEN,
    TAG_EVENT };
static const char *const list_words[] = { "pool", "holder", "row", "listen",
    "event" };
#define NLISTS	(sizeof(list_tags) / sizeof(list_tags[0]))

struct doc {
	char tag_name[DOC_TAGS][32];	/* section 7.2: number -> name */
	char tag_in[DOC_TAGS][DOC_LINE];/* its "In" cell */
	int seen_type[sizeof(all_types) / sizeof(all_types[0])];
	uint64_t list_allowed[NLISTS], list_required[NLISTS];
};

/* Trim blanks and backticks at both ends, in place. */
static char *
doc_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '`')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '`' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Split a table line into at most max cells (trimmed); the count. */
static int
doc_cells(char *line, char **cell, int max)
{
	int n = 0;
	char *p, *bar;

	if (line[0] != '|')
		return 0;
	p = line + 1;
	while (n < max && (bar = strchr(p, '|')) != NULL) {
		*bar = '\0';
		cell[n++] = doc_trim(p);
		p = bar + 1;
	}
	return n;
}

static int
doc_tag_of(const struct doc *d, const char *name)
{
	int t;

	for (t = 1; t < DOC_TAGS; t++)
		if (strcmp(d->tag_name[t], name) == 0)
			return t;
	fail_msg("PROTOCOL.md names a field %s not in section 7.2", name);
	return -1;
}

/* The MSG_F bits of a comma-separated list of field names ("—": none). */
static uint64_t
doc_fields(const struct doc *d, char *list)
{
	uint64_t bits = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		tok = doc_trim(tok);
		if (strcmp(tok, "—") == 0 || tok[0] == '\0')
			continue;
		bits |= MSG_F(doc_tag_of(d, tok));
	}
	return bits;
}

static FILE *
doc_open(void)
{
	const char *dir = getenv("XLICEN_SOURCE_DIR");
	char path[4096];
	FILE *f;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/docs/PROTOCOL.md", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	return f;
}

/* Pass 1: section 7.2, tag numbers, names and "In" cells. */
static void
doc_read_tags(struct doc *d)
{
	char line[DOC_LINE], *cell[6];
	int in = 0, n, t;
	FILE *f = doc_open();

	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "### ", 4) == 0 || strncmp(line, "## ", 3) == 0)
			in = strncmp(line, "### 7.2 ", 8) == 0;
		if (!in || (n = doc_cells(line, cell, 6)) != 5)
			continue;
		t = atoi(cell[0]);
		if (t <= 0)
			continue;
		assert_true(t < DOC_TAGS);
		assert_string_equal(d->tag_name[t], "");
		snprintf(d->tag_name[t], sizeof(d->tag_name[t]), "%s", cell[1]);
		snprintf(d->tag_in[t], sizeof(d->tag_in[t]), "%s", cell[4]);
	}
	fclose(f);
}

/* One row of section 7.1: | `0xNNNN` | `NAME` | required | optional | */
static void
doc_check_type(struct doc *d, char **cell)
{
	uint16_t type = (uint16_t)strtoul(cell[0], NULL, 16);
	uint64_t allowed, required, req, opt;
	size_t i;

	if (msg_spec_fields(type, &allowed, &required) != 0)
		fail_msg("PROTOCOL.md 7.1 lists type %s unknown to msg.c",
		    cell[0]);
	assert_string_equal(cell[1], msg_type_name(type));
	req = doc_fields(d, cell[2]);
	opt = doc_fields(d, cell[3]);
	if (req != required || (req | opt) != allowed)
		fail_msg("PROTOCOL.md 7.1 %s: required %#llx optional %#llx; "
		    "msg.c required %#llx carried %#llx", cell[1],
		    (unsigned long long)req, (unsigned long long)opt,
		    (unsigned long long)required, (unsigned long long)allowed);
	for (i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++)
		if (all_types[i] == type)
			d->seen_type[i]++;
}

/* Pass 2: the tables of sections 7.1 (message types) and 7.3 (list
 * elements: | `NAME`, `NAME` | R or O | ...). */
static void
doc_read_fields(struct doc *d)
{
	char line[DOC_LINE], *cell[6];
	int sec = 0, li = -1, n;
	FILE *f = doc_open();

	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "### ", 4) == 0 || strncmp(line, "## ", 3) == 0)
			sec = strncmp(line, "### 7.1 ", 8) == 0 ? 1 :
			    strncmp(line, "### 7.3 ", 8) == 0 ? 3 : 0;
		if (sec == 0 || (n = doc_cells(line, cell, 6)) < 2)
			continue;
		if (sec == 1) {
			if (n >= 4 && strncmp(cell[0], "0x", 2) == 0)
				doc_check_type(d, cell);
			continue;
		}
		if (strcmp(cell[0], "Field") == 0)
			li = 0;
		else if (strcmp(cell[0], "HOLDER field") == 0)
			li = 1;
		else if (strcmp(cell[0], "ROW field") == 0)
			li = 2;
		else if (strcmp(cell[0], "LISTEN field") == 0)
			li = 3;
		else if (strcmp(cell[0], "EVENT field") == 0)
			li = 4;
		else if (li >= 0 && (strcmp(cell[1], "R") == 0 ||
		    strcmp(cell[1], "O") == 0)) {
			uint64_t bits = doc_fields(d, cell[0]);

			d->list_allowed[li] |= bits;
			if (cell[1][0] == 'R')
				d->list_required[li] |= bits;
		}
	}
	fclose(f);
}

/* The "In" cell of tag t must name exactly the message types and list
 * elements that carry it. */
static void
doc_check_in(const struct doc *d, int t)
{
	char cell[DOC_LINE], *tok, *save = NULL;
	uint64_t allowed, required;
	unsigned want = 0, got = 0;
	size_t i;

	snprintf(cell, sizeof(cell), "%s", d->tag_in[t]);
	for (i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
		assert_int_equal(msg_spec_fields(all_types[i], &allowed,
		    &required), 0);
		want += (allowed & MSG_F(t)) != 0;
	}
	for (i = 0; i < NLISTS; i++) {
		assert_int_equal(msg_list_fields(list_tags[i], &allowed,
		    &required), 0);
		want += (allowed & MSG_F(t)) != 0;
	}
	for (tok = strtok_r(cell, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		int found = 0;

		tok = doc_trim(tok);
		for (i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++)
			if (strcmp(tok, msg_type_name(all_types[i])) == 0) {
				msg_spec_fields(all_types[i], &allowed,
				    &required);
				found = 1;
			}
		for (i = 0; i < NLISTS; i++)
			if (strcmp(tok, list_words[i]) == 0) {
				msg_list_fields(list_tags[i], &allowed,
				    &required);
				found = 1;
			}
		if (!found || !(allowed & MSG_F(t)))
			fail_msg("PROTOCOL.md 7.2: %s is not carried in %s",
			    d->tag_name[t], tok);
		got++;
	}
	if (got != want)
		fail_msg("PROTOCOL.md 7.2: %s's In names %u places, msg.c "
		    "carries it in %u", d->tag_name[t], got, want);
}

static void
test_protocol_tables(void **state)
{
	struct doc *d = calloc(1, sizeof(*d));
	uint64_t allowed, required, every = 0, named = 0;
	size_t i;
	int t;

	(void)state;
	assert_non_null(d);
	doc_read_tags(d);
	doc_read_fields(d);
	/* Every type of msg.c has exactly one row in section 7.1. */
	for (i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
		if (d->seen_type[i] != 1)
			fail_msg("PROTOCOL.md 7.1: type %s has %d rows",
			    msg_type_name(all_types[i]), d->seen_type[i]);
		assert_int_equal(msg_spec_fields(all_types[i], &allowed,
		    &required), 0);
		every |= allowed;
	}
	/* Pools, holders and rows as in section 7.3. */
	for (i = 0; i < NLISTS; i++) {
		assert_int_equal(msg_list_fields(list_tags[i], &allowed,
		    &required), 0);
		if (d->list_allowed[i] != allowed ||
		    d->list_required[i] != required)
			fail_msg("PROTOCOL.md 7.3: %s fields %#llx required "
			    "%#llx; msg.c %#llx, %#llx", list_words[i],
			    (unsigned long long)d->list_allowed[i],
			    (unsigned long long)d->list_required[i],
			    (unsigned long long)allowed,
			    (unsigned long long)required);
		every |= allowed;
	}
	/* Section 7.2 names every tag some message carries, no other, and
	 * says where each one goes. */
	for (t = 1; t < DOC_TAGS; t++) {
		if (d->tag_name[t][0] == '\0')
			continue;
		named |= MSG_F(t);
		doc_check_in(d, t);
	}
	assert_int_equal(named, every);
	assert_int_equal(msg_spec_fields(0x000e, &allowed, &required),
	    XLICEN_E_MSG_TYPE);
	assert_int_equal(msg_list_fields(TAG_PRODUCT, &allowed, &required),
	    XLICEN_E_INVALID);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_checkout),
		cmocka_unit_test(test_roundtrip_info),
		cmocka_unit_test(test_roundtrip_borrow),
		cmocka_unit_test(test_roundtrip_heartbeat_release),
		cmocka_unit_test(test_roundtrip_status),
		cmocka_unit_test(test_roundtrip_grant),
		cmocka_unit_test(test_roundtrip_deny),
		cmocka_unit_test(test_roundtrip_ok),
		cmocka_unit_test(test_roundtrip_status_reply),
		cmocka_unit_test(test_roundtrip_error),
		cmocka_unit_test(test_checkout_bytes),
		cmocka_unit_test(test_grant_bytes),
		cmocka_unit_test(test_encode_skips_fields_not_carried),
		cmocka_unit_test(test_unknown_msg_type),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_tlv_dup),
		cmocka_unit_test(test_unknown_noncritical_skipped),
		cmocka_unit_test(test_unknown_critical_refused),
		cmocka_unit_test(test_known_tag_not_allowed),
		cmocka_unit_test(test_critical_bit_on_known_tag),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_tlv_length),
		cmocka_unit_test(test_string_limits),
		cmocka_unit_test(test_string_invalid_utf8),
		cmocka_unit_test(test_tlv_count),
		cmocka_unit_test(test_tlv_count_before_truncation),
		cmocka_unit_test(test_status_reply_pool_limits),
		cmocka_unit_test(test_pool_after_64_tlvs),
		cmocka_unit_test(test_pool_errors),
		cmocka_unit_test(test_encode_required_absent),
		cmocka_unit_test(test_set_str),
		cmocka_unit_test(test_add_pool_limit),
		cmocka_unit_test(test_decode_error_clears),
		cmocka_unit_test(test_type_name),
		cmocka_unit_test(test_queue_bytes),
		cmocka_unit_test(test_roundtrip_lifecycle_requests),
		cmocka_unit_test(test_required_lifecycle_fields),
		cmocka_unit_test(test_roundtrip_lifecycle_replies),
		cmocka_unit_test(test_holder_errors),
		cmocka_unit_test(test_protocol_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
