/*
 * libFuzzer target: the incremental frame decoder (frame_dec_feed) and the
 * HELLO (client and server) and ALERT body decoders.
 *
 * Input layout, so that the fuzzer also controls how the byte stream is cut
 * into reads, as a TCP peer does:
 *
 *     u8 flags | u8 nsizes | u8 sizes[nsizes & 7] | stream
 *
 * flags bit 0: start with LIMIT_FRAME_POSTAUTH instead of the pre-auth limit;
 * bit 1: switch to LIMIT_FRAME_POSTAUTH after the first complete frame (as a
 * connection does once its context is established).  The stream is fed in
 * chunks of sizes[0], sizes[1], ... cyclically (0 = an empty read); with no
 * sizes, in one call.  After an error nothing more is fed.
 *
 * The decoder is checked against a model that parses the same stream in one
 * piece: every frame it returns must be exactly the stream's next
 * header + body whatever the chunking, every error must be the one the
 * model predicts from the header alone, with exactly the header consumed,
 * a partial frame must be reported pending, and frame_encode of a frame
 * must give back its bytes.  Complete HELLO and ALERT
 * bodies are decoded, and whatever decodes must re-encode to the very same
 * frame (the codecs have one encoding per value).  The three body decoders also run on the raw input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "limits.h"
#include "msg.h"
#include "xlicen_errors.h"

#include "fuzz_check.h"

#define FL_POSTAUTH	0x01
#define FL_RAISE	0x02

/* Whether b holds exactly a frame of type with body[0..n). */
static int
is_frame(const struct buf *b, uint8_t type, const uint8_t *body, size_t n)
{
	return b->len == LIMIT_FRAME_HDR + n && b->data[0] == type &&
	    b->data[1] == (uint8_t)(n >> 24) && b->data[2] == (uint8_t)(n >> 16) &&
	    b->data[3] == (uint8_t)(n >> 8) && b->data[4] == (uint8_t)n &&
	    memcmp(b->data + LIMIT_FRAME_HDR, body, n) == 0;
}

/* Decode a HELLO body both ways and an ALERT body; whatever decodes must
 * encode back to the very same frame. */
static void
bodies(const uint8_t *body, size_t n)
{
	struct frame_hello_client hc;
	struct frame_hello_server hs;
	struct frame_alert a;
	struct buf b;
	int rc;

	buf_init(&b);
	rc = frame_hello_client_decode(body, n, &hc);
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_TRUNCATED ||
	    rc == XLICEN_E_TRAILING || rc == XLICEN_E_BAD_VALUE);
	if (rc == 0) {
		FUZZ_CHECK(n == 4 && hc.min_version <= hc.max_version);
		FUZZ_CHECK(frame_hello_client_encode(&b, &hc) == 0);
		FUZZ_CHECK(is_frame(&b, FRAME_HELLO, body, n));
	}
	buf_reset(&b);

	rc = frame_hello_server_decode(body, n, &hs);
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_TRUNCATED ||
	    rc == XLICEN_E_TRAILING);
	if (rc == 0) {
		FUZZ_CHECK(n == 10);
		FUZZ_CHECK(frame_hello_server_encode(&b, &hs) == 0);
		FUZZ_CHECK(is_frame(&b, FRAME_HELLO, body, n));
	}
	buf_reset(&b);

	rc = frame_alert_decode(body, n, &a);
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_TRUNCATED ||
	    rc == XLICEN_E_TRAILING || rc == XLICEN_E_STRING ||
	    rc == XLICEN_E_BAD_VALUE);
	if (rc == 0) {
		FUZZ_CHECK(a.code != 0);
		FUZZ_CHECK(memchr(a.reason, '\0', sizeof(a.reason)) != NULL);
		FUZZ_CHECK(strlen(a.reason) <= LIMIT_ALERT_REASON);
		FUZZ_CHECK(buf_utf8_valid((const uint8_t *)a.reason,
		    strlen(a.reason)));
		FUZZ_CHECK(frame_alert_encode(&b, a.code, a.reason) == 0);
		FUZZ_CHECK(is_frame(&b, FRAME_ALERT, body, n));
	}
	buf_free(&b);
}

/* frame_encode of a decoded frame gives back the bytes it came from. */
static void
reencode(const struct frame *f, const uint8_t *orig)
{
	struct buf b;

	buf_init(&b);
	FUZZ_CHECK(frame_encode(&b, f->type, f->body, f->len) == 0);
	FUZZ_CHECK(b.len == LIMIT_FRAME_HDR + f->len);
	FUZZ_CHECK(memcmp(b.data, orig, b.len) == 0);
	buf_free(&b);
}

/* What the decoder must say about a complete header at h under limit max. */
static int
model_header(const uint8_t h[5], uint32_t max)
{
	uint32_t len = ((uint32_t)h[1] << 24) | ((uint32_t)h[2] << 16) |
	    ((uint32_t)h[3] << 8) | h[4];

	if (h[0] < FRAME_HELLO || h[0] > FRAME_ALERT)
		return XLICEN_E_FRAME_TYPE;
	if (len == 0)
		return XLICEN_E_FRAME_EMPTY;
	if (len > max)
		return XLICEN_E_FRAME_TOO_LONG;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_dec d;
	struct frame f;
	struct msg m;
	const uint8_t *sizes = NULL, *s;
	size_t nsizes = 0, slen, pos = 0, fstart = 0, chunk, off, used, i;
	size_t ci = 0;
	uint8_t flags = 0;
	uint32_t max;
	int rc = 0, allzero = 1, raised = 0, failed = 0;

	/* The body decoders on the whole input, as a frame body. */
	bodies(data, size);

	if (size >= 1)
		flags = data[0];
	if (size >= 2) {
		nsizes = data[1] & 7;
		if (size - 2 < nsizes)
			nsizes = size - 2;
		sizes = data + 2;
	}
	off = size < 2 ? size : 2 + nsizes;
	s = data + off;
	slen = size - off;
	for (i = 0; i < nsizes; i++)
		if (sizes[i] != 0)
			allzero = 0;
	if (allzero)
		nsizes = 0;	/* only empty reads would never finish */

	max = (flags & FL_POSTAUTH) ? LIMIT_FRAME_POSTAUTH : LIMIT_FRAME_PREAUTH;
	frame_dec_init(&d, max);
	FUZZ_CHECK(!frame_dec_pending(&d));

	while (pos < slen && !failed) {
		chunk = nsizes > 0 ? sizes[ci++ % nsizes] : slen - pos;
		if (chunk > slen - pos)
			chunk = slen - pos;
		off = 0;
		do {
			rc = frame_dec_feed(&d, s + pos + off, chunk - off, &used,
			    &f);
			FUZZ_CHECK(used <= chunk - off);
			off += used;
			if (rc < 0) {
				/* The model: the header at fstart is complete
				 * and condemns the frame; exactly it was used. */
				FUZZ_CHECK(pos + off == fstart + LIMIT_FRAME_HDR);
				FUZZ_CHECK(rc == model_header(s + fstart, max));
				FUZZ_CHECK(f.body == NULL && f.len == 0);
				failed = 1;
				break;
			}
			if (rc == 0) {
				/* Needs more: everything offered was taken. */
				FUZZ_CHECK(off == chunk);
				FUZZ_CHECK(f.body == NULL && f.len == 0);
				FUZZ_CHECK(frame_dec_pending(&d) ==
				    (pos + off > fstart));
				break;
			}
			FUZZ_CHECK(rc == 1);
			FUZZ_CHECK(slen - fstart >= LIMIT_FRAME_HDR);
			FUZZ_CHECK(model_header(s + fstart, max) == 0);
			FUZZ_CHECK(f.type == s[fstart]);
			FUZZ_CHECK(f.len == (((uint32_t)s[fstart + 1] << 24) |
			    ((uint32_t)s[fstart + 2] << 16) |
			    ((uint32_t)s[fstart + 3] << 8) | s[fstart + 4]));
			FUZZ_CHECK(pos + off == fstart + LIMIT_FRAME_HDR + f.len);
			FUZZ_CHECK(f.body != NULL);
			FUZZ_CHECK(memcmp(f.body, s + fstart + LIMIT_FRAME_HDR,
			    f.len) == 0);
			FUZZ_CHECK(!frame_dec_pending(&d));
			reencode(&f, s + fstart);

			switch (f.type) {
			case FRAME_HELLO:
			case FRAME_ALERT:
				bodies(f.body, f.len);
				break;
			case FRAME_DATA:
				/* Really a gss_wrap token; the plaintext
				 * decoder is cheap to run on it anyway. */
				if (msg_decode(f.body, f.len, &m) == 0)
					msg_clear(&m);
				break;
			default:
				break;
			}
			frame_free(&f);
			FUZZ_CHECK(f.body == NULL && f.len == 0);
			frame_free(NULL);
			fstart = pos + off;
			if ((flags & FL_RAISE) && !raised) {
				max = LIMIT_FRAME_POSTAUTH;
				frame_dec_set_max(&d, max);
				raised = 1;
			}
		} while (off < chunk);
		pos += off;
	}
	if (!failed)
		FUZZ_CHECK(frame_dec_pending(&d) == (slen > fstart));
	frame_dec_free(&d);
	frame_dec_free(NULL);
	return 0;
}
