/*
 * libFuzzer target: buf_utf8_valid, the one check every wire string (TLV
 * strings, ALERT reasons) passes, against an independent reference written
 * from Unicode's table of well-formed byte sequences (The Unicode Standard,
 * Table 3-7), minus NUL which the protocol forbids; and the string paths
 * built on it:
 *   - any ALERT reason goes through frame_alert_encode, the frame decoder
 *     and frame_alert_decode and comes back as its longest prefix of at
 *     most LIMIT_ALERT_REASON bytes that ends on a character boundary,
 *     with bytes >= 0x80 replaced by '?' if that prefix is not UTF-8 (the
 *     encoder never sends an ALERT the peer would refuse);
 *   - msg_set_str accepts exactly the valid strings of at most
 *     LIMIT_STRING bytes, and those survive an ERROR message's encode and
 *     decode unchanged.
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

/* Table 3-7: the byte ranges of each well-formed sequence. */
static int
ref_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, k, len;
	uint8_t lo, hi;

	while (i < n) {
		uint8_t c = p[i];

		if (c == 0x00)
			return 0;	/* not allowed on our wire */
		if (c <= 0x7f) {
			i++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c == 0xe0) {
			len = 3; lo = 0xa0;
		} else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
			len = 3;
		else if (c == 0xed) {
			len = 3; hi = 0x9f;
		} else if (c == 0xf0) {
			len = 4; lo = 0x90;
		} else if (c >= 0xf1 && c <= 0xf3)
			len = 4;
		else if (c == 0xf4) {
			len = 4; hi = 0x8f;
		} else
			return 0;
		if (n - i < len)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (k = 2; k < len; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xbf)
				return 0;
		i += len;
	}
	return 1;
}

/*
 * The ALERT reason path for any string s of n bytes (no NUL): the reason
 * sent is the longest prefix of at most LIMIT_ALERT_REASON bytes that does
 * not end inside a UTF-8 sequence; if that prefix is not valid UTF-8, its
 * bytes >= 0x80 become '?', so what arrives always decodes.
 */
static void
alert_roundtrip(const char *s, size_t n, uint16_t code)
{
	struct frame_dec d;
	struct frame f;
	struct frame_alert a;
	struct buf b;
	char want[LIMIT_ALERT_REASON + 1];
	size_t wlen = n, used, i;
	int rc;

	if (wlen > LIMIT_ALERT_REASON) {
		wlen = LIMIT_ALERT_REASON;
		while (wlen > 0 && ((uint8_t)s[wlen] & 0xc0) == 0x80)
			wlen--;
	}
	memcpy(want, s, wlen);
	want[wlen] = '\0';
	if (!ref_utf8_valid((const uint8_t *)want, wlen))
		for (i = 0; i < wlen; i++)
			if ((uint8_t)want[i] >= 0x80)
				want[i] = '?';

	buf_init(&b);
	FUZZ_CHECK(frame_alert_encode(&b, code, s) == 0);
	FUZZ_CHECK(frame_alert_encode(&b, (int)code + 65536, s) ==
	    XLICEN_E_INVALID);
	frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
	rc = frame_dec_feed(&d, b.data, b.len, &used, &f);
	FUZZ_CHECK(rc == 1 && used == b.len && f.type == FRAME_ALERT);
	rc = frame_alert_decode(f.body, f.len, &a);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(a.code == code);
	FUZZ_CHECK(strlen(a.reason) == wlen);
	FUZZ_CHECK(memcmp(a.reason, want, wlen) == 0);
	frame_free(&f);
	frame_dec_free(&d);
	buf_free(&b);
}

/* msg_set_str and an ERROR message carrying s as its reason. */
static void
msg_string(const char *s, size_t n, int valid, uint16_t code)
{
	struct msg m, m2;
	struct buf b;
	int rc;

	msg_init(&m, MSG_ERROR, 7);
	m.code = code;
	m.have |= MSG_F(TAG_CODE);
	rc = msg_set_str(&m, TAG_REASON, s);
	if (!valid || n > LIMIT_STRING) {
		FUZZ_CHECK(rc == XLICEN_E_STRING);
		return;
	}
	FUZZ_CHECK(rc == 0);
	buf_init(&b);
	FUZZ_CHECK(msg_encode(&m, &b) == 0);
	rc = msg_decode(b.data, b.len, &m2);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(m2.type == MSG_ERROR && m2.id == 7 && m2.code == code);
	FUZZ_CHECK(strcmp(m2.reason, s) == 0);
	msg_clear(&m2);
	msg_clear(&m);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t n;
	uint16_t code;
	int valid;

	FUZZ_CHECK(buf_utf8_valid(data, size) == ref_utf8_valid(data, size));

	/* The strings: the input up to its first NUL. */
	n = strnlen((const char *)data, size);
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, data, n);
	s[n] = '\0';
	valid = ref_utf8_valid((const uint8_t *)s, n);
	code = (uint16_t)(1 + size % 90);
	alert_roundtrip(s, n, code);
	msg_string(s, n, valid, code);
	free(s);
	return 0;
}
