/*
 * Writes the seed corpora of the libFuzzer targets: valid inputs made by
 * the project's own encoders (every frame type, every message type, a
 * license signed with a fixed throwaway Ed25519 key) and a few malformed
 * ones next to them.  The output is deterministic (Ed25519 signatures are),
 * so regenerating gives the files that are checked in:
 *
 *     fuzz-make-seeds tests/fuzz/corpus
 *
 * writes corpus/<target>/<name> for fuzz_frame, fuzz_msg, fuzz_license,
 * fuzz_license_check, fuzz_utf8 and fuzz_display.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "borrow.h"
#include "buf.h"
#include "frame.h"
#include "license.h"
#include "limits.h"
#include "msg.h"
#include "xlicen_errors.h"

static const char *outdir;
static int failures;

static void
fail(const char *what)
{
	fprintf(stderr, "make_seeds: %s\n", what);
	failures++;
}

static void
mkdir_p(const char *path)
{
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
}

static void
write_seed(const char *target, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	mkdir_p(path);
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	if ((fp = fopen(path, "wb")) == NULL ||
	    (n > 0 && fwrite(p, 1, n, fp) != n) || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

/* ---------------------------------------------------------------- frames */

/* A fuzz_frame input: flags | nsizes | sizes | stream. */
static void
frame_seed(const char *name, uint8_t flags, const uint8_t *sizes,
    uint8_t nsizes, const struct buf *stream)
{
	struct buf b;

	buf_init(&b);
	buf_put_u8(&b, flags);
	buf_put_u8(&b, nsizes);
	buf_put_bytes(&b, sizes, nsizes);
	buf_put_bytes(&b, stream->data, stream->len);
	write_seed("fuzz_frame", name, b.data, b.len);
	buf_free(&b);
}

static void
raw_header(struct buf *b, uint8_t type, uint32_t len)
{
	buf_put_u8(b, type);
	buf_put_u32(b, len);
}

/* A pattern standing in for a GSS token of n bytes (ASN.1-ish start). */
static void
fake_token(struct buf *b, uint8_t type, size_t n)
{
	size_t i;

	raw_header(b, type, (uint32_t)n);
	buf_put_u8(b, 0x60);
	for (i = 1; i < n; i++)
		buf_put_u8(b, (uint8_t)(i * 7 + 3));
}

/* A plaintext message appended as a DATA frame (really a wrap token). */
static void
data_frame(struct buf *b, const struct msg *m)
{
	struct buf body;

	buf_init(&body);
	if (msg_encode(m, &body) != 0 ||
	    frame_encode(b, FRAME_DATA, body.data, body.len) != 0)
		fail("data_frame");
	buf_free(&body);
}

static void
seeds_frame(void)
{
	static const uint8_t one[] = { 1 }, two[] = { 3, 7 };
	static const uint8_t mixed[] = { 5, 13, 1 }, big[] = { 255, 0, 17 };
	struct frame_hello_client hc = { 1, 1 };
	struct frame_hello_server hs = { 1, 1700000000 };
	struct msg m;
	struct buf s;

	buf_init(&s);
	frame_hello_client_encode(&s, &hc);
	frame_seed("hello-client", 0, NULL, 0, &s);
	frame_seed("hello-client-bytewise", 0, one, 1, &s);
	buf_reset(&s);

	frame_hello_server_encode(&s, &hs);
	frame_seed("hello-server", 0, two, 2, &s);
	buf_reset(&s);

	frame_alert_encode(&s, XLICEN_E_VERSION,
	    "server speaks version 1 only; client offered 2-2");
	frame_seed("alert-version", 0, two, 2, &s);
	buf_reset(&s);

	/* A whole connection from the server's side: HELLO, two context
	 * tokens, a request, a goodbye; the limit rises after the first. */
	frame_hello_client_encode(&s, &hc);
	fake_token(&s, FRAME_CONTEXT, 750);
	fake_token(&s, FRAME_CONTEXT, 40);
	msg_init(&m, MSG_CHECKOUT, 1);
	msg_set_str(&m, TAG_PRODUCT, "xdemo");
	msg_set_str(&m, TAG_VERSION, "1.0");
	m.count = 1;
	m.have |= MSG_F(TAG_COUNT);
	data_frame(&s, &m);
	frame_alert_encode(&s, XLICEN_E_SHUTDOWN, "bye");
	frame_seed("connection", 0x02, mixed, 3, &s);
	buf_reset(&s);

	fake_token(&s, FRAME_CONTEXT, 3000);
	frame_seed("context-3000", 0, big, 3, &s);
	buf_reset(&s);

	/* Malformed: each header the decoder must refuse, and bodies the
	 * body decoders must refuse. */
	raw_header(&s, 0, 4);
	buf_put_u32(&s, 0x00010001);
	frame_seed("bad-type-0", 0, NULL, 0, &s);
	buf_reset(&s);
	raw_header(&s, 5, 4);
	buf_put_u32(&s, 0x00010001);
	frame_seed("bad-type-5", 0, NULL, 0, &s);
	buf_reset(&s);
	raw_header(&s, FRAME_DATA, 0);
	frame_seed("bad-empty", 0, NULL, 0, &s);
	buf_reset(&s);
	raw_header(&s, FRAME_CONTEXT, LIMIT_FRAME_PREAUTH + 1);
	frame_seed("bad-too-long-preauth", 0, NULL, 0, &s);
	frame_seed("ok-long-postauth-truncated", 0x01, NULL, 0, &s);
	buf_reset(&s);
	raw_header(&s, FRAME_DATA, LIMIT_FRAME_POSTAUTH + 1);
	frame_seed("bad-too-long-postauth", 0x01, NULL, 0, &s);
	buf_reset(&s);
	raw_header(&s, FRAME_CONTEXT, 100);
	buf_put_bytes(&s, "0123456789", 10);
	frame_seed("truncated-body", 0, two, 2, &s);
	buf_reset(&s);
	raw_header(&s, FRAME_HELLO, 4);
	buf_put_u16(&s, 2);
	buf_put_u16(&s, 1);
	frame_seed("bad-hello-min-over-max", 0, NULL, 0, &s);
	buf_reset(&s);
	raw_header(&s, FRAME_HELLO, 5);
	buf_put_u16(&s, 1);
	buf_put_u16(&s, 1);
	buf_put_u8(&s, 0);
	frame_seed("bad-hello-trailing", 0, NULL, 0, &s);
	buf_reset(&s);
	raw_header(&s, FRAME_ALERT, 8);
	buf_put_u16(&s, 62);
	buf_put_u16(&s, 4);
	buf_put_bytes(&s, "ab\xc0\x80", 4);	/* overlong NUL */
	frame_seed("bad-alert-utf8", 0, NULL, 0, &s);
	buf_free(&s);
}

/* -------------------------------------------------------------- messages */

static void
msg_seed(const char *name, const struct msg *m)
{
	struct buf b;

	buf_init(&b);
	if (msg_encode(m, &b) != 0)
		fail(name);
	else
		write_seed("fuzz_msg", name, b.data, b.len);
	buf_free(&b);
}

static void
set_u32(struct msg *m, int tag, uint32_t v)
{
	switch (tag) {
	case TAG_COUNT: m->count = v; break;
	case TAG_PID: m->pid = v; break;
	case TAG_FLAGS: m->flags = v; break;
	case TAG_HEARTBEAT: m->heartbeat = v; break;
	case TAG_IN_USE: m->in_use = v; break;
	case TAG_TOTAL: m->total = v; break;
	default: fail("set_u32"); return;
	}
	m->have |= MSG_F(tag);
}

static void
pool(struct msg *m, const char *product, const char *versions,
    uint32_t total, uint32_t in_use, uint64_t expires, int full)
{
	struct msg_pool p;

	memset(&p, 0, sizeof(p));
	snprintf(p.product, sizeof(p.product), "%s", product);
	snprintf(p.versions, sizeof(p.versions), "%s", versions);
	p.total = total;
	p.in_use = in_use;
	p.expires = expires;
	p.state = 1;
	p.have = MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSIONS) | MSG_F(TAG_TOTAL) |
	    MSG_F(TAG_IN_USE) | MSG_F(TAG_EXPIRES) | MSG_F(TAG_STATE);
	if (full) {
		snprintf(p.vendor, sizeof(p.vendor), "demovendor");
		snprintf(p.serial, sizeof(p.serial), "SN-0001");
		p.start = 1700000000 / 86400 * 86400;
		p.queued = 1;
		p.pool_flags = MSG_POOL_NODE_LOCKED;
		snprintf(p.hostid, sizeof(p.hostid), "host:ws1.example.org");
		snprintf(p.dup_group, sizeof(p.dup_group), "uhd");
		p.linger = 60;
		p.ttl = 120;
		p.heartbeat = 30;
		p.have |= MSG_F(TAG_VENDOR) | MSG_F(TAG_SERIAL) |
		    MSG_F(TAG_START) | MSG_F(TAG_QUEUED) | MSG_F(TAG_POOL_FLAGS) |
		    MSG_F(TAG_HOSTID) | MSG_F(TAG_DUP_GROUP) | MSG_F(TAG_LINGER) |
		    MSG_F(TAG_TTL) | MSG_F(TAG_HEARTBEAT);
	}
	if (msg_add_pool(m, &p) != 0)
		fail("pool");
}

/* Raw bytes for the malformed seeds. */
static void
raw_msg(const char *name, const uint8_t *p, size_t n)
{
	write_seed("fuzz_msg", name, p, n);
}

static void
seeds_msg(void)
{
	struct msg m;

	msg_init(&m, MSG_CHECKOUT, 1);
	msg_set_str(&m, TAG_PRODUCT, "xdemo");
	msg_set_str(&m, TAG_VERSION, "1.2.3");
	set_u32(&m, TAG_COUNT, 1);
	msg_set_str(&m, TAG_HOST, "ws1.example.org");
	msg_set_str(&m, TAG_DISPLAY, "ws1.example.org:0");
	set_u32(&m, TAG_PID, 4242);
	set_u32(&m, TAG_FLAGS, 1);
	msg_seed("checkout-full", &m);
	msg_init(&m, MSG_CHECKOUT, 2);
	msg_set_str(&m, TAG_PRODUCT, "xdemo");
	msg_set_str(&m, TAG_VERSION, "1");
	set_u32(&m, TAG_COUNT, 3);
	msg_seed("checkout-min", &m);

	msg_init(&m, MSG_HEARTBEAT, 3);
	msg_set_str(&m, TAG_LEASE, "L-0123456789abcdef");
	msg_seed("heartbeat", &m);
	m.type = MSG_RELEASE;
	m.id = 4;
	msg_seed("release", &m);

	msg_init(&m, MSG_STATUS, 5);
	msg_seed("status-all", &m);
	msg_set_str(&m, TAG_PRODUCT, "xdemo");
	msg_seed("status-product", &m);

	msg_init(&m, MSG_GRANT, 6);
	msg_set_str(&m, TAG_LEASE, "L-0123456789abcdef");
	m.expires = 1700000120;
	m.have |= MSG_F(TAG_EXPIRES);
	set_u32(&m, TAG_HEARTBEAT, 30);
	set_u32(&m, TAG_IN_USE, 1);
	set_u32(&m, TAG_TOTAL, 2);
	msg_seed("grant", &m);

	msg_init(&m, MSG_DENY, 7);
	m.code = (uint16_t)-XLICEN_E_NO_SEATS;
	m.have |= MSG_F(TAG_CODE);
	msg_set_str(&m, TAG_REASON, "all 2 seats of xdemo are in use");
	set_u32(&m, TAG_IN_USE, 2);
	set_u32(&m, TAG_TOTAL, 2);
	msg_seed("deny", &m);

	msg_init(&m, MSG_OK, 8);
	msg_seed("ok", &m);
	m.expires = 1700000240;
	m.have |= MSG_F(TAG_EXPIRES);
	msg_seed("ok-expires", &m);

	msg_init(&m, MSG_STATUS_REPLY, 9);
	m.time = 1700000000;
	m.have |= MSG_F(TAG_TIME);
	msg_seed("status-reply-empty", &m);
	pool(&m, "xdemo", "1.0-2.9", 2, 1, 0, 1);
	pool(&m, "xcad", "3", 10, 0, 1800000000, 0);
	msg_seed("status-reply-pools", &m);
	msg_clear(&m);

	msg_init(&m, MSG_RECLAIM, 10);
	msg_set_str(&m, TAG_LEASE, "L-0123456789abcdef");
	msg_set_str(&m, TAG_HOST, "ws1.example.org");
	msg_set_str(&m, TAG_DISPLAY, ":0.0");
	set_u32(&m, TAG_PID, 4242);
	msg_seed("reclaim", &m);

	msg_init(&m, MSG_CHECKOUT, 11);
	msg_set_str(&m, TAG_PRODUCT, "xdemo");
	msg_set_str(&m, TAG_VERSION, "2.0");
	set_u32(&m, TAG_COUNT, 1);
	set_u32(&m, TAG_FLAGS, MSG_FLAG_WAIT);
	m.wait = 60;
	m.have |= MSG_F(TAG_WAIT);
	msg_set_str(&m, TAG_QUEUE_ID, "Q-42");
	msg_seed("checkout-wait", &m);

	msg_init(&m, MSG_LIST_MINE, 12);
	msg_seed("list-mine", &m);
	msg_init(&m, MSG_HOLDERS, 13);
	msg_set_str(&m, TAG_PRODUCT, "xdemo");
	msg_seed("holders", &m);
	msg_init(&m, MSG_REMOVE, 14);
	msg_set_str(&m, TAG_LEASE, "L-0123456789abcdef");
	msg_seed("remove", &m);
	msg_init(&m, MSG_REREAD, 15);
	msg_seed("reread", &m);
	msg_init(&m, MSG_SHUTDOWN, 16);
	msg_seed("shutdown", &m);
	msg_init(&m, MSG_REPORT, 17);
	msg_set_str(&m, TAG_PRODUCT, "xdemo");
	m.from = 1700000000;
	m.to = 1700086400;
	m.have |= MSG_F(TAG_FROM) | MSG_F(TAG_TO);
	set_u32(&m, TAG_FLAGS, MSG_REPORT_VERIFY);
	msg_seed("report", &m);

	msg_init(&m, MSG_QUEUED, 18);
	m.position = 3;
	m.have |= MSG_F(TAG_POSITION);
	msg_set_str(&m, TAG_QUEUE_ID, "Q-42");
	m.expires = 1700000300;
	m.have |= MSG_F(TAG_EXPIRES);
	set_u32(&m, TAG_IN_USE, 2);
	set_u32(&m, TAG_TOTAL, 2);
	msg_seed("queued", &m);

	msg_init(&m, MSG_GRANT, 0);	/* a late GRANT for a queued checkout */
	msg_set_str(&m, TAG_LEASE, "L-fedcba9876543210");
	m.expires = 1700000120;
	m.have |= MSG_F(TAG_EXPIRES);
	set_u32(&m, TAG_HEARTBEAT, 30);
	m.request = 11;
	m.have |= MSG_F(TAG_REQUEST);
	msg_set_str(&m, TAG_QUEUE_ID, "Q-42");
	msg_seed("grant-late", &m);

	msg_init(&m, MSG_HOLDERS_REPLY, 13);
	m.time = 1700000000;
	m.have |= MSG_F(TAG_TIME);
	{
		struct msg_holder h;

		memset(&h, 0, sizeof(h));
		msg_holder_set_str(&h, TAG_PRODUCT, "xdemo");
		msg_holder_set_str(&h, TAG_VERSION, "1.0");
		msg_holder_set_str(&h, TAG_PRINCIPAL, "alice@XLICEN.TEST");
		msg_holder_set_str(&h, TAG_HOST, "ws1.example.org");
		msg_holder_set_str(&h, TAG_DISPLAY, "ws1.example.org:0");
		msg_holder_set_str(&h, TAG_LEASE, "L-0123456789abcdef");
		h.pid = 4242;
		h.count = 1;
		h.since = 1699999000;
		h.last_hb = 1699999990;
		h.expires = 1700000110;
		h.heartbeat = 30;
		h.state = MSG_HOLDER_LEASE;
		h.connected = 1;
		h.have |= MSG_F(TAG_PID) | MSG_F(TAG_COUNT) | MSG_F(TAG_SINCE) |
		    MSG_F(TAG_LAST_HB) | MSG_F(TAG_EXPIRES) |
		    MSG_F(TAG_HEARTBEAT) | MSG_F(TAG_STATE) |
		    MSG_F(TAG_CONNECTED);
		if (msg_add_holder(&m, &h) != 0)
			fail("holder");
		memset(&h, 0, sizeof(h));
		msg_holder_set_str(&h, TAG_PRODUCT, "xdemo");
		msg_holder_set_str(&h, TAG_PRINCIPAL, "carol@XLICEN.TEST");
		msg_holder_set_str(&h, TAG_QUEUE_ID, "Q-42");
		h.state = MSG_HOLDER_QUEUED;
		h.position = 1;
		h.have |= MSG_F(TAG_STATE) | MSG_F(TAG_POSITION);
		if (msg_add_holder(&m, &h) != 0)
			fail("holder");
	}
	m.more = 1;
	m.have |= MSG_F(TAG_MORE);
	msg_seed("holders-reply", &m);
	msg_clear(&m);

	msg_init(&m, MSG_REPORT_REPLY, 17);
	m.time = 1700090000;
	m.from = 1700000000;
	m.to = 1700086400;
	m.events = 1234;
	m.have |= MSG_F(TAG_TIME) | MSG_F(TAG_FROM) | MSG_F(TAG_TO) |
	    MSG_F(TAG_EVENTS);
	msg_set_str(&m, TAG_HASH,
	    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	{
		struct msg_row r;

		memset(&r, 0, sizeof(r));
		msg_row_set_str(&r, TAG_PRODUCT, "xdemo");
		r.grants = 10;
		r.denials = 2;
		r.peak = 2;
		r.avg_milli = 1500;
		r.seconds = 86400;
		r.have |= MSG_F(TAG_GRANTS) | MSG_F(TAG_DENIALS) |
		    MSG_F(TAG_PEAK) | MSG_F(TAG_AVG_MILLI) | MSG_F(TAG_SECONDS);
		if (msg_add_row(&m, &r) != 0)
			fail("row");
		msg_row_set_str(&r, TAG_PRINCIPAL, "alice@XLICEN.TEST");
		if (msg_add_row(&m, &r) != 0)
			fail("row");
	}
	msg_seed("report-reply", &m);
	m.bad_event = 77;
	m.have |= MSG_F(TAG_BAD_EVENT);
	msg_set_str(&m, TAG_REASON, "event 77 does not match the chain");
	msg_seed("report-reply-broken-chain", &m);
	msg_clear(&m);

	msg_init(&m, MSG_REVOKE, 0);
	msg_set_str(&m, TAG_LEASE, "L-0123456789abcdef");
	m.code = (uint16_t)-XLICEN_E_NO_LEASE;
	m.have |= MSG_F(TAG_CODE);
	msg_set_str(&m, TAG_REASON, "removed by admin@XLICEN.TEST");
	msg_seed("revoke", &m);

	msg_init(&m, MSG_ERROR, 0);
	m.code = (uint16_t)-XLICEN_E_NOT_AUTHORIZED;
	m.have |= MSG_F(TAG_CODE);
	msg_set_str(&m, TAG_REASON, "gr\xc3\xbc\xc3\x9f dich: not on the admin ACL");
	msg_seed("error-utf8", &m);

	{
		/* HEARTBEAT with an unknown non-critical tag (valid). */
		static const uint8_t skip[] = { 0x00, 0x02, 0, 0, 0, 1,
		    0x00, 0x63, 0x00, 0x02, 'h', 'i',
		    0x00, 0x08, 0x00, 0x01, 'L' };
		/* ... with that tag critical (refused). */
		static const uint8_t crit[] = { 0x00, 0x02, 0, 0, 0, 1,
		    0x80, 0x63, 0x00, 0x02, 'h', 'i',
		    0x00, 0x08, 0x00, 0x01, 'L' };
		static const uint8_t dup[] = { 0x00, 0x02, 0, 0, 0, 1,
		    0x00, 0x08, 0x00, 0x01, 'L',
		    0x00, 0x08, 0x00, 0x01, 'M' };
		static const uint8_t trunc[] = { 0x00, 0x02, 0, 0, 0, 1,
		    0x00, 0x08, 0x00, 0x09, 'L' };
		/* CHECKOUT whose count is 2 bytes, not 4. */
		static const uint8_t badlen[] = { 0x00, 0x01, 0, 0, 0, 1,
		    0x00, 0x01, 0x00, 0x01, 'x',
		    0x00, 0x02, 0x00, 0x01, '1',
		    0x00, 0x03, 0x00, 0x02, 0, 1 };
		static const uint8_t badutf8[] = { 0x00, 0x02, 0, 0, 0, 1,
		    0x00, 0x08, 0x00, 0x03, 0xed, 0xa0, 0x80 };
		static const uint8_t badtype[] = { 0x12, 0x34, 0, 0, 0, 1 };
		static const uint8_t missing[] = { 0x80, 0x01, 0, 0, 0, 1 };
		uint8_t many[6 + 65 * 4];
		size_t i;

		raw_msg("unknown-tag-skipped", skip, sizeof(skip));
		raw_msg("bad-critical-tag", crit, sizeof(crit));
		raw_msg("bad-dup-tag", dup, sizeof(dup));
		raw_msg("bad-truncated-tlv", trunc, sizeof(trunc));
		raw_msg("bad-tlv-length", badlen, sizeof(badlen));
		raw_msg("bad-surrogate", badutf8, sizeof(badutf8));
		raw_msg("bad-type", badtype, sizeof(badtype));
		raw_msg("bad-missing-required", missing, sizeof(missing));
		/* STATUS with 65 empty unknown TLVs: over LIMIT_TLV_COUNT. */
		memset(many, 0, sizeof(many));
		many[1] = 0x04;
		many[5] = 1;
		for (i = 0; i < 65; i++)
			many[6 + i * 4 + 1] = 0x70;
		raw_msg("bad-too-many-tlvs", many, sizeof(many));
		/* STATUS_REPLY whose one pool holds 65 unknown TLVs. */
		{
			struct buf b;

			buf_init(&b);
			buf_put_u16(&b, MSG_STATUS_REPLY);
			buf_put_u32(&b, 1);
			buf_put_u16(&b, TAG_TIME);
			buf_put_u16(&b, 8);
			buf_put_u64(&b, 1700000000);
			buf_put_u16(&b, TAG_POOL);
			buf_put_u16(&b, 65 * 4);
			for (i = 0; i < 65; i++) {
				buf_put_u16(&b, 0x0070);
				buf_put_u16(&b, 0);
			}
			raw_msg("bad-pool-too-many-tlvs", b.data, b.len);
			buf_free(&b);
		}
	}
}

/* -------------------------------------------------------------- licenses */

static void
lic_seed(const char *name, const char *text)
{
	write_seed("fuzz_license", name, text, strlen(text));
}

/* text with every "\n" turned into "\r\n" and a BOM in front. */
static char *
crlf_bom(const char *text)
{
	size_t n = strlen(text), i, o = 3;
	char *out = malloc(3 + 2 * n + 1);

	if (out == NULL)
		exit(1);
	memcpy(out, "\xef\xbb\xbf", 3);
	for (i = 0; i < n; i++) {
		if (text[i] == '\n')
			out[o++] = '\r';
		out[o++] = text[i];
	}
	out[o] = '\0';
	return out;
}

/* text with the first line starting with prefix replaced by repl. */
static char *
edit_line(const char *text, const char *prefix, const char *repl)
{
	const char *p = strstr(text, prefix), *eol;
	size_t n;
	char *out;

	if (p == NULL)
		exit(1);
	eol = strchr(p, '\n');
	eol = eol != NULL ? eol + 1 : p + strlen(p);
	n = strlen(text) - (size_t)(eol - p) + strlen(repl);
	if ((out = malloc(n + 1)) == NULL)
		exit(1);
	snprintf(out, n + 1, "%.*s%s%s", (int)(p - text), text, repl, eol);
	return out;
}

static void
lic_edit(const char *name, const char *text, const char *prefix,
    const char *repl)
{
	char *t = edit_line(text, prefix, repl);

	lic_seed(name, t);
	free(t);
}

static void
seeds_license(void *pkey)
{
	struct license lic;
	uint8_t sig[LICENSE_SIG_LEN];
	char *text = NULL, *t, longline[LICENSE_LINE_MAX + 3];

	memset(&lic, 0, sizeof(lic));
	strcpy(lic.vendor, "demovendor");
	strcpy(lic.product, "xdemo");
	strcpy(lic.ver_min, "1.0");
	strcpy(lic.ver_max, "2.9");
	lic.seats = 2;
	license_parse_date("2024-01-01", &lic.start);
	license_parse_date("2030-12-31", &lic.expires);
	lic.expires += 86400;
	strcpy(lic.serial, "SN-2024-0001");
	strcpy(lic.customer, "M\xc3\xbcller & S\xc3\xb6hne GmbH \xe2\x80\x94 R&D");
	if (license_sign(&lic, pkey, sig) != 0 ||
	    license_format(&lic, sig, &text) != 0) {
		fail("license_sign/format");
		return;
	}
	lic_seed("signed-full.lic", text);
	t = crlf_bom(text);
	lic_seed("signed-full-crlf-bom.lic", t);
	free(t);

	/* Malformed edits of the valid file. */
	lic_edit("bad-no-signature.lic", text, "signature:", "");
	lic_edit("bad-dup-field.lic", text, "seats:", "seats: 2\nseats: 3\n");
	lic_edit("bad-field-case.lic", text, "vendor:", "Vendor: demovendor\n");
	lic_edit("bad-format-version.lic", text, "format:",
	    "format: gss-xlicen-license 2\n");
	lic_edit("bad-expires-before-start.lic", text, "expires:",
	    "expires: 2023-12-31\n");
	lic_edit("bad-feb-30.lic", text, "start:", "start: 2024-02-30\n");
	lic_edit("bad-versions-range.lic", text, "versions:",
	    "versions: 3.0-2.9\n");
	lic_edit("bad-customer-bidi.lic", text, "customer:",
	    "customer: evil \xe2\x80\xae" "cod.exe\n");
	lic_edit("bad-sig-noncanonical.lic", text, "signature:",
	    "signature: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB==\n");
	/* A comment line one byte over LICENSE_LINE_MAX. */
	memset(longline, 'x', sizeof(longline));
	longline[0] = '#';
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	lic_edit("bad-long-line.lic", text, "#\n", longline);
	free(text);

	/* Every optional field, and an uncounted one. */
	memset(&lic, 0, sizeof(lic));
	strcpy(lic.vendor, "demovendor");
	strcpy(lic.product, "xcad");
	strcpy(lic.ver_min, "3");
	strcpy(lic.ver_max, "3.99");
	lic.seats = 5;
	license_parse_date("2030-12-31", &lic.expires);
	lic.expires += 86400;
	strcpy(lic.serial, "SN-2024-0002");
	strcpy(lic.hostid, "principal:svc/build@XLICEN.TEST");
	strcpy(lic.dup_group, "user");
	lic.linger_s = 300;
	lic.ttl_s = 90;
	lic.heartbeat_s = 30;
	if (license_sign(&lic, pkey, sig) != 0 ||
	    license_format(&lic, sig, &text) != 0) {
		fail("license_sign/format (options)");
		return;
	}
	lic_seed("signed-options.lic", text);
	lic_edit("bad-heartbeat-over-third.lic", text, "heartbeat:",
	    "heartbeat: 31\n");
	lic_edit("bad-dup-group.lic", text, "dup_group:", "dup_group: users\n");
	lic_edit("bad-hostid.lic", text, "hostid:", "hostid: principal:nobody\n");
	free(text);
	memset(&lic, 0, sizeof(lic));
	strcpy(lic.vendor, "demovendor");
	strcpy(lic.product, "xview");
	strcpy(lic.ver_min, "1");
	strcpy(lic.ver_max, "1");
	lic.uncounted = 1;
	strcpy(lic.serial, "SN-2024-0003");
	strcpy(lic.hostid, "host:ws1.example.org");
	if (license_sign(&lic, pkey, sig) != 0 ||
	    license_format(&lic, sig, &text) != 0) {
		fail("license_sign/format (uncounted)");
		return;
	}
	lic_seed("signed-uncounted.lic", text);
	free(text);

	/* A minimal permanent license: no start, no customer, tabs. */
	memset(&lic, 0, sizeof(lic));
	strcpy(lic.vendor, "v");
	strcpy(lic.product, "p");
	strcpy(lic.ver_min, "0");
	strcpy(lic.ver_max, "999999.999999.999999.999999.9999");
	lic.seats = LIMIT_LICENSE_SEATS;
	strcpy(lic.serial, "1");
	if (license_sign(&lic, pkey, sig) != 0 ||
	    license_format(&lic, sig, &text) != 0) {
		fail("license_sign/format (minimal)");
		return;
	}
	lic_seed("signed-permanent.lic", text);
	lic_edit("signed-permanent-tabs.lic", text, "seats:",
	    "\tseats\t:\t1000000\t\n");
	free(text);
}

/* A fuzz_license_check input for lic (see that file's layout). */
static void
check_seed(const char *name, const struct license *lic, int64_t start_days,
    int64_t expires_days)
{
	const char *strs[8] = { lic->vendor, lic->product, lic->ver_min,
	    lic->ver_max, lic->serial, lic->customer, lic->hostid,
	    lic->dup_group };
	struct buf b;
	size_t i;

	buf_init(&b);
	buf_put_u8(&b, (uint8_t)(0x03 | (lic->uncounted ? 0x08 : 0)));
	buf_put_u32(&b, lic->seats);
	buf_put_u64(&b, (uint64_t)start_days);
	buf_put_u64(&b, (uint64_t)expires_days);
	buf_put_u32(&b, lic->linger_s);
	buf_put_u32(&b, lic->ttl_s);
	buf_put_u32(&b, lic->heartbeat_s);
	for (i = 0; i < LICENSE_SIG_LEN; i++)
		buf_put_u8(&b, (uint8_t)(i * 37));
	for (i = 0; i < 8; i++) {
		buf_put_u8(&b, (uint8_t)strlen(strs[i]));
		buf_put_bytes(&b, strs[i], strlen(strs[i]));
	}
	write_seed("fuzz_license_check", name, b.data, b.len);
	buf_free(&b);
}

static void
seeds_license_check(void)
{
	struct license lic;

	memset(&lic, 0, sizeof(lic));
	strcpy(lic.vendor, "demovendor");
	strcpy(lic.product, "xdemo");
	strcpy(lic.ver_min, "1.0");
	strcpy(lic.ver_max, "2.9");
	lic.seats = 2;
	strcpy(lic.serial, "SN-2024-0001");
	strcpy(lic.customer, "M\xc3\xbcller & S\xc3\xb6hne GmbH \xe2\x80\x94 R&D");
	check_seed("full", &lic, 19723, 22280);
	check_seed("permanent", &lic, 0, 0);
	check_seed("last-day", &lic, 2932896, 2932897);
	strcpy(lic.customer, "");
	strcpy(lic.ver_min, "1.2.3.4.5.6.7.8");
	strcpy(lic.ver_max, "1.2.3.4.5.6.7.8");
	check_seed("no-customer-8-parts", &lic, 1, 2);
	strcpy(lic.customer, "trailing ");
	check_seed("bad-customer-trailing-space", &lic, 0, 0);
	strcpy(lic.customer, "tab\there");
	check_seed("bad-customer-tab", &lic, 0, 0);
	strcpy(lic.customer, "");
	strcpy(lic.ver_min, "3");
	strcpy(lic.ver_max, "2.9");
	check_seed("bad-range", &lic, 0, 0);
	strcpy(lic.ver_min, "1");
	strcpy(lic.ver_max, "1.0");
	check_seed("equal-range", &lic, 0, 0);
	check_seed("bad-expires-before-start", &lic, 100, 100);
	strcpy(lic.vendor, "demo vendor");
	check_seed("bad-vendor-space", &lic, 0, 0);
	strcpy(lic.vendor, "demovendor");
	strcpy(lic.hostid, "host:ws1.example.org");
	strcpy(lic.dup_group, "site");
	lic.linger_s = 60;
	lic.ttl_s = 120;
	lic.heartbeat_s = 40;
	check_seed("options", &lic, 0, 0);
	lic.heartbeat_s = 41;
	check_seed("bad-heartbeat-over-third", &lic, 0, 0);
	lic.heartbeat_s = 0;
	lic.seats = 0;
	lic.uncounted = 1;
	strcpy(lic.hostid, "principal:alice@XLICEN.TEST");
	check_seed("uncounted-principal", &lic, 0, 0);
	lic.seats = 1;
	check_seed("bad-uncounted-with-seats", &lic, 0, 0);
}

/* --------------------------------------------------------------- display */

static void
display_seed(const char *name, const char *display, const char *host)
{
	struct buf b;

	buf_init(&b);
	buf_put_bytes(&b, display, strlen(display));
	if (host != NULL) {
		buf_put_u8(&b, 0);
		buf_put_bytes(&b, host, strlen(host));
	}
	write_seed("fuzz_display", name, b.data, b.len);
	buf_free(&b);
}

static void
seeds_display(void)
{
	display_seed("local", ":0", "WS1.Example.ORG.");
	display_seed("local-screen", ":0.1", "ws1");
	display_seed("unix", "unix:10.0", "ws1");
	display_seed("localhost-forwarded", "localhost:10.0", "ws1");
	display_seed("loopback4", "127.0.0.1:0", "ws1");
	display_seed("loopback6", "[::1]:3", "ws1");
	display_seed("remote", "Other.Example.org:007.2", "ws1");
	display_seed("tcp-prefix", "tcp/other.example.org:1", "ws1");
	display_seed("v6", "[fe80::1]:0", "ws1");
	display_seed("decnet", "VAXHOST::0", "ws1");
	display_seed("no-host", ":0", NULL);
	display_seed("bad-no-number", "other:", "ws1");
	display_seed("bad-ten-digits", ":1234567890", "ws1");
	display_seed("bad-screen", ":0.", "ws1");
	display_seed("bad-no-colon", "other", "ws1");
}

/* -------------------------------------------------------------- discover */

/* A DNS name in wire form (no compression) onto b. */
static void
dns_name(struct buf *b, const char *name)
{
	const char *p = name, *dot;
	uint8_t len;

	while (*p != '\0') {
		dot = strchr(p, '.');
		len = (uint8_t)(dot != NULL ? (size_t)(dot - p) : strlen(p));
		buf_put_u8(b, len);
		buf_put_bytes(b, p, len);
		p += len;
		if (*p == '.')
			p++;
	}
	buf_put_u8(b, 0);
}

/* One answer record of a seed: a CNAME (type 5, only target) or an SRV
 * (type 33).  target NULL: "lic" then a pointer to "example.org" in the
 * question (offset 29: 12 header bytes, then 12 of "_gss-xlicen" and 5
 * of "_tcp"). */
struct dns_rec {
	uint16_t type, prio, weight, port;
	const char *target;
};

/* rec onto b, its owner a pointer to the question's name. */
static void
dns_rr(struct buf *b, const struct dns_rec *rec)
{
	static const uint8_t compressed[] = { 3, 'l', 'i', 'c', 0xc0, 29 };
	struct buf rd;

	buf_init(&rd);
	if (rec->type == 33) {
		buf_put_u16(&rd, rec->prio);
		buf_put_u16(&rd, rec->weight);
		buf_put_u16(&rd, rec->port);
	}
	if (rec->target == NULL)
		buf_put_bytes(&rd, compressed, sizeof(compressed));
	else
		dns_name(&rd, rec->target);
	buf_put_u8(b, 0xc0);		/* pointer to offset 12 */
	buf_put_u8(b, 0x0c);
	buf_put_u16(b, rec->type);
	buf_put_u16(b, 1);		/* IN */
	buf_put_u32(b, 300);		/* TTL */
	buf_put_u16(b, (uint16_t)rd.len);
	buf_put_bytes(b, rd.data, rd.len);
	buf_free(&rd);
}

/* A response to the SRV query of example.org with ancount answers to
 * follow. */
static void
dns_head(struct buf *b, uint16_t ancount)
{
	buf_init(b);
	buf_put_u16(b, 0x1234);		/* id */
	buf_put_u16(b, 0x8180);		/* response, RD, RA */
	buf_put_u16(b, 1);		/* qdcount */
	buf_put_u16(b, ancount);
	buf_put_u16(b, 0);
	buf_put_u16(b, 0);
	dns_name(b, "_gss-xlicen._tcp.example.org");
	buf_put_u16(b, 33);		/* SRV */
	buf_put_u16(b, 1);
}

static void
seeds_discover(void)
{
	static const struct {
		const char *name;
		struct dns_rec rr[2];	/* type 0: none */
	} v[] = {
		{ "two", { { 33, 10, 60, 128, "lic1.example.org" },
		    { 33, 10, 40, 128, "lic2.example.org" } } },
		{ "prio", { { 33, 20, 0, 1128, "backup.example.org" },
		    { 33, 5, 0, 128, "main.example.org" } } },
		{ "none", { { 33, 0, 0, 128, "" } } },	/* ".": no service */
		{ "cname", { { 5, 0, 0, 0, "alias.example.org" },
		    { 33, 1, 1, 128, "lic.example.org" } } },
		{ "compressed", { { 33, 1, 1, 128, NULL } } },
		{ "port0", { { 33, 1, 1, 0, "lic.example.org" } } },
	};
	static const char list[] =
	    "lic1.example.org:128, [2001:db8::1]:1128,::1,localhost";
	struct buf b;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		dns_head(&b, v[i].rr[1].type != 0 ? 2 : 1);
		dns_rr(&b, &v[i].rr[0]);
		if (v[i].rr[1].type != 0)
			dns_rr(&b, &v[i].rr[1]);
		write_seed("fuzz_discover", v[i].name, b.data, b.len);
		buf_free(&b);
	}
	write_seed("fuzz_discover", "list", list, sizeof(list) - 1);
}

/* ------------------------------------------------------------------ utf8 */

static void
seeds_utf8(void)
{
	static const struct {
		const char *name, *s;
	} v[] = {
		{ "ascii", "all 2 seats of xdemo are in use" },
		{ "two-three-four", "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x94\x91" },
		{ "max-scalar", "\xf4\x8f\xbf\xbf" },
		{ "bad-overlong-nul", "a\xc0\x80" },
		{ "bad-overlong-3", "\xe0\x80\xaf" },
		{ "bad-surrogate", "\xed\xa0\x80" },
		{ "bad-above-max", "\xf4\x90\x80\x80" },
		{ "bad-f5", "\xf5\x80\x80\x80" },
		{ "bad-truncated", "ok\xe2\x82" },
		{ "bad-lone-continuation", "\x80" },
	};
	char cut[600];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		write_seed("fuzz_utf8", v[i].name, v[i].s, strlen(v[i].s));
	/* 511 ASCII bytes then a 3-byte character across the 512 cut. */
	memset(cut, 'r', sizeof(cut));
	memcpy(cut + 511, "\xe2\x82\xac", 3);
	write_seed("fuzz_utf8", "alert-cut-boundary", cut, sizeof(cut));
	write_seed("fuzz_utf8", "nul-inside", "before\0after", 12);
}

/* ---------------------------------------------------------------- policy */

static void
seeds_policy(void)
{
	static const struct {
		const char *name, *text;
	} v[] = {
		{ "full",
		    "# every section and key\n"
		    "[groups]\n"
		    "\tcad = alice@R bob@R\n"
		    "\tops = admin@R\n"
		    "[admin]\n"
		    "\tprincipals = root@R\n"
		    "\tgroups = ops\n"
		    "[default]\n"
		    "\texclude = host:BadHost.\n"
		    "\tqueue_timeout = 7\n"
		    "\tttl = 60\n"
		    "\theartbeat = 20\n"
		    "[products]\n"
		    "\txdemo = {\n"
		    "\t\tinclude = group:cad\n"
		    "\t\tinclude = @OTHER\n"
		    "\t\texclude = principal:bob@R\n"
		    "\t\treserve = 2 principal:carol@R\n"
		    "\t\tmax = 1 group:cad\n"
		    "\t\tdup_group = user\n"
		    "\t\tlinger = 5\n"
		    "\t}\n"
		    "\txmax = {\n"
		    "\t\tmax = 1 principal:dave@R\n"
		    "\t\treserve = 1 realm:R\n"
		    "\t\tmax = 0 host:kiosk\n"
		    "\t}\n" },
		{ "empty", "" },
		{ "final-section",
		    "[default]\n\tdup_group = site\n\tlinger = 0\n" },
		{ "bad-count", "[products]\n\txdemo = {\n"
		    "\t\tmax = x principal:a@R\n\t}\n" },
		{ "bad-key", "[default]\n\tfrobnicate = 1\n" },
		{ "bad-group", "[default]\n\tinclude = group:nope\n" },
		{ "bad-section", "[bogus]\n\tx = 1\n" },
		{ "bad-syntax", "[default]\n\tthis line is wrong\n" },
		{ "bad-unclosed", "[products]\n\txdemo = {\n\t\tmax = 1 a@R\n" },
	};
	static const char nul[] = "[default]\n\0ttl = 5\n";
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		write_seed("fuzz_policy", v[i].name, v[i].text,
		    strlen(v[i].text));
	write_seed("fuzz_policy", "bad-nul", nul, sizeof(nul) - 1);
}

/* ---------------------------------------------------------------- borrow */

/* Borrow tokens: one signed with the seed key, its prefixes at each field
 * boundary, one of every string at its longest. */
static void
seeds_borrow(EVP_PKEY *pkey)
{
	struct borrow_token t;
	struct buf b;

	memset(&t, 0, sizeof(t));
	t.start = 1796256000;
	t.end = 1796860800;
	strcpy(t.product, "xdemo");
	strcpy(t.version, "1.0");
	strcpy(t.principal, "alice@XLICEN.TEST");
	strcpy(t.host, "laptop1.example.org");
	strcpy(t.lease, "0123456789abcdef0123456789abcdef");
	strcpy(t.server, "license.example.org");
	buf_init(&b);
	if (borrow_token_encode(&t, pkey, &b) != 0) {
		fprintf(stderr, "make_seeds: borrow token\n");
		failures++;
		return;
	}
	write_seed("fuzz_borrow", "token", b.data, b.len);
	write_seed("fuzz_borrow", "header-only", b.data, 21);
	write_seed("fuzz_borrow", "no-signature", b.data, b.len - 64);
	buf_reset(&b);
	memset(t.host, 'h', LIMIT_STRING);
	memset(t.server, 's', LIMIT_STRING);
	if (borrow_token_encode(&t, pkey, &b) == 0)
		write_seed("fuzz_borrow", "long-strings", b.data, b.len);
	buf_free(&b);
}

int
main(int argc, char **argv)
{
	/* A fixed throwaway key: signatures, hence the seeds, are stable. */
	static const uint8_t seed[32] = {
		0x67, 0x73, 0x73, 0x2d, 0x78, 0x6c, 0x69, 0x63,
		0x65, 0x6e, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x20,
		0x73, 0x65, 0x65, 0x64, 0x20, 0x6b, 0x65, 0x79,
		0x20, 0x6e, 0x6f, 0x74, 0x20, 0x72, 0x65, 0x61,
	};
	EVP_PKEY *pkey;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	mkdir_p(outdir);
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    sizeof(seed));
	if (pkey == NULL) {
		fprintf(stderr, "make_seeds: cannot make an Ed25519 key\n");
		return 1;
	}
	seeds_frame();
	seeds_msg();
	seeds_license(pkey);
	seeds_license_check();
	seeds_utf8();
	seeds_display();
	seeds_discover();
	seeds_policy();
	seeds_borrow(pkey);
	EVP_PKEY_free(pkey);
	return failures == 0 ? 0 : 1;
}
