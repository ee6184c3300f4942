/*
 * Frames (see frame.h): the incremental decoder judges a frame's type and
 * length from its 5-byte header before a single body byte is allocated, so
 * a peer cannot make us allocate more than the current limit.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "limits.h"
#include "xlicen_errors.h"

void
frame_dec_init(struct frame_dec *d, uint32_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = max;
}

void
frame_dec_set_max(struct frame_dec *d, uint32_t max)
{
	d->max = max;
}

void
frame_dec_set_budget(struct frame_dec *d, struct frame_budget *b)
{
	d->budget = b;
}

int
frame_dec_pending(const struct frame_dec *d)
{
	return d->hdr_have > 0;
}

void
frame_dec_free(struct frame_dec *d)
{
	if (d == NULL)
		return;
	if (d->budget != NULL)
		d->budget->held -= d->cap;
	free(d->body);
	d->body = NULL;
	d->cap = 0;
	d->hdr_have = 0;
	d->have = 0;
}

void
frame_free(struct frame *f)
{
	if (f == NULL)
		return;
	free(f->body);
	f->body = NULL;
	f->len = 0;
}

static int
frame_type_known(uint8_t type)
{
	return type >= FRAME_HELLO && type <= FRAME_ALERT;
}

/* Make room for need body bytes (need <= d->len): LIMIT_FRAME_CHUNK
 * first, then doubling, capped at the declared length. */
static int
frame_dec_grow(struct frame_dec *d, uint32_t need)
{
	uint8_t *p;
	uint32_t cap = d->cap;

	if (need <= cap)
		return 0;
	if (cap == 0)
		cap = LIMIT_FRAME_CHUNK;
	while (cap < need && cap < d->len)
		cap = cap > d->len / 2 ? d->len : 2 * cap;
	if (cap > d->len)
		cap = d->len;
	/* (held may exceed max: small bodies are never refused, and a
	 * reload may lower max.) */
	if (d->budget != NULL && cap > LIMIT_FRAME_CHUNK &&
	    (d->budget->held >= d->budget->max ||
	    d->budget->max - d->budget->held < (size_t)(cap - d->cap)))
		return XLICEN_E_BUSY;
	if ((p = realloc(d->body, cap)) == NULL)
		return XLICEN_E_NOMEM;
	if (d->budget != NULL)
		d->budget->held += cap - d->cap;
	d->body = p;
	d->cap = cap;
	return 0;
}

int
frame_dec_feed(struct frame_dec *d, const uint8_t *p, size_t n, size_t *used,
    struct frame *out)
{
	size_t take;
	int rc;

	*used = 0;
	memset(out, 0, sizeof(*out));

	if (d->hdr_have < LIMIT_FRAME_HDR) {
		take = LIMIT_FRAME_HDR - d->hdr_have;
		if (n < take)
			take = n;
		memcpy(d->hdr + d->hdr_have, p, take);
		d->hdr_have += (uint8_t)take;
		*used += take;
		p += take;
		n -= take;
		if (d->hdr_have < LIMIT_FRAME_HDR)
			return 0;
		d->type = d->hdr[0];
		d->len = ((uint32_t)d->hdr[1] << 24) | ((uint32_t)d->hdr[2] << 16) |
		    ((uint32_t)d->hdr[3] << 8) | d->hdr[4];
		if (!frame_type_known(d->type))
			return XLICEN_E_FRAME_TYPE;
		if (d->len == 0)
			return XLICEN_E_FRAME_EMPTY;
		if (d->len > d->max)
			return XLICEN_E_FRAME_TOO_LONG;
		d->have = 0;
	}

	take = d->len - d->have;
	if (n < take)
		take = n;
	if (take == 0)
		return 0;
	if ((rc = frame_dec_grow(d, d->have + (uint32_t)take)) != 0)
		return rc;
	memcpy(d->body + d->have, p, take);
	d->have += (uint32_t)take;
	*used += take;
	if (d->have < d->len)
		return 0;

	out->type = d->type;
	out->len = d->len;
	out->body = d->body;
	if (d->budget != NULL)
		d->budget->held -= d->cap;
	d->body = NULL;
	d->cap = 0;
	d->hdr_have = 0;
	d->have = 0;
	return 1;
}

int
frame_header(uint8_t hdr[5], uint8_t type, size_t len)
{
	if (len == 0 || len > UINT32_MAX || !frame_type_known(type))
		return XLICEN_E_INVALID;
	hdr[0] = type;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
	return 0;
}

int
frame_encode(struct buf *out, uint8_t type, const void *body, size_t len)
{
	uint8_t hdr[LIMIT_FRAME_HDR];
	int rc;

	if ((rc = frame_header(hdr, type, len)) != 0)
		return rc;
	if ((rc = buf_reserve(out, sizeof(hdr) + len)) != 0)
		return rc;
	buf_put_bytes(out, hdr, sizeof(hdr));
	buf_put_bytes(out, body, len);
	return 0;
}

/* Append a header for a body of len bytes that the caller writes next. */
static int
frame_begin(struct buf *out, uint8_t type, size_t len)
{
	uint8_t hdr[LIMIT_FRAME_HDR];
	int rc;

	if ((rc = frame_header(hdr, type, len)) != 0)
		return rc;
	if ((rc = buf_reserve(out, sizeof(hdr) + len)) != 0)
		return rc;
	return buf_put_bytes(out, hdr, sizeof(hdr));
}

int
frame_hello_client_encode(struct buf *out, const struct frame_hello_client *h)
{
	int rc;

	if ((rc = frame_begin(out, FRAME_HELLO, 4)) != 0)
		return rc;
	buf_put_u16(out, h->min_version);
	return buf_put_u16(out, h->max_version);
}

int
frame_hello_client_decode(const uint8_t *p, size_t n, struct frame_hello_client *h)
{
	struct buf_reader r;
	int rc;

	memset(h, 0, sizeof(*h));
	buf_reader_init(&r, p, n);
	if ((rc = buf_get_u16(&r, &h->min_version)) != 0 ||
	    (rc = buf_get_u16(&r, &h->max_version)) != 0 ||
	    (rc = buf_reader_done(&r)) != 0)
		return rc;
	if (h->min_version > h->max_version)
		return XLICEN_E_BAD_VALUE;
	return 0;
}

int
frame_hello_server_encode(struct buf *out, const struct frame_hello_server *h)
{
	int rc;

	if ((rc = frame_begin(out, FRAME_HELLO, 10)) != 0)
		return rc;
	buf_put_u16(out, h->version);
	return buf_put_u64(out, (uint64_t)h->time);
}

int
frame_hello_server_decode(const uint8_t *p, size_t n, struct frame_hello_server *h)
{
	struct buf_reader r;
	uint64_t t;
	int rc;

	memset(h, 0, sizeof(*h));
	buf_reader_init(&r, p, n);
	if ((rc = buf_get_u16(&r, &h->version)) != 0 ||
	    (rc = buf_get_u64(&r, &t)) != 0 ||
	    (rc = buf_reader_done(&r)) != 0)
		return rc;
	h->time = (int64_t)t;
	return 0;
}

/* Length of the longest prefix of s, at most max bytes, that does not end
 * inside a UTF-8 sequence. */
static size_t
utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

int
frame_alert_encode(struct buf *out, int code, const char *reason)
{
	char text[LIMIT_ALERT_REASON + 1];
	size_t rlen = reason != NULL ? utf8_cut(reason, LIMIT_ALERT_REASON) : 0;
	size_t i;
	int wire = code < 0 ? -code : code;
	int rc;

	if (wire == 0 || wire > UINT16_MAX)
		return XLICEN_E_INVALID;
	memcpy(text, reason != NULL ? reason : "", rlen);
	text[rlen] = '\0';
	/* Reasons may quote foreign text (GSS messages); the peer rejects
	 * an ALERT that is not UTF-8, so never send one. */
	if (!buf_utf8_valid((const uint8_t *)text, rlen))
		for (i = 0; i < rlen; i++)
			if ((unsigned char)text[i] >= 0x80)
				text[i] = '?';
	if ((rc = frame_begin(out, FRAME_ALERT, 4 + rlen)) != 0)
		return rc;
	buf_put_u16(out, (uint16_t)wire);
	buf_put_u16(out, (uint16_t)rlen);
	return buf_put_bytes(out, text, rlen);
}

int
frame_alert_decode(const uint8_t *p, size_t n, struct frame_alert *a)
{
	struct buf_reader r;
	const uint8_t *s;
	uint16_t slen;
	int rc;

	memset(a, 0, sizeof(*a));
	buf_reader_init(&r, p, n);
	if ((rc = buf_get_u16(&r, &a->code)) != 0 ||
	    (rc = buf_get_u16(&r, &slen)) != 0)
		return rc;
	if (slen > LIMIT_ALERT_REASON)
		return XLICEN_E_STRING;
	if ((rc = buf_get_bytes(&r, slen, &s)) != 0 ||
	    (rc = buf_reader_done(&r)) != 0)
		return rc;
	if (!buf_utf8_valid(s, slen))
		return XLICEN_E_STRING;
	if (a->code == 0)
		return XLICEN_E_BAD_VALUE;
	memcpy(a->reason, s, slen);
	a->reason[slen] = '\0';
	return 0;
}
