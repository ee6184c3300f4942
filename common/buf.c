/*
 * Bounds-checked byte reader and growable writer (see buf.h).  All wire
 * parsing goes through here so that the bounds checks live in one place,
 * written as "avail < need", never by advancing a pointer first.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xlicen_errors.h"

void
buf_reader_init(struct buf_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p != NULL ? len : 0;
	r->off = 0;
}

size_t
buf_reader_avail(const struct buf_reader *r)
{
	return r->len - r->off;
}

int
buf_reader_done(const struct buf_reader *r)
{
	return buf_reader_avail(r) == 0 ? 0 : XLICEN_E_TRAILING;
}

int
buf_get_bytes(struct buf_reader *r, size_t n, const uint8_t **p)
{
	*p = NULL;
	if (buf_reader_avail(r) < n)
		return XLICEN_E_TRUNCATED;
	*p = r->p + r->off;
	r->off += n;
	return 0;
}

int
buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *sub)
{
	const uint8_t *p;
	int rc;

	buf_reader_init(sub, NULL, 0);
	if ((rc = buf_get_bytes(r, n, &p)) != 0)
		return rc;
	buf_reader_init(sub, p, n);
	return 0;
}

int
buf_get_u8(struct buf_reader *r, uint8_t *v)
{
	const uint8_t *p;
	int rc;

	*v = 0;
	if ((rc = buf_get_bytes(r, 1, &p)) != 0)
		return rc;
	*v = p[0];
	return 0;
}

int
buf_get_u16(struct buf_reader *r, uint16_t *v)
{
	const uint8_t *p;
	int rc;

	*v = 0;
	if ((rc = buf_get_bytes(r, 2, &p)) != 0)
		return rc;
	*v = (uint16_t)((p[0] << 8) | p[1]);
	return 0;
}

int
buf_get_u32(struct buf_reader *r, uint32_t *v)
{
	const uint8_t *p;
	int rc;

	*v = 0;
	if ((rc = buf_get_bytes(r, 4, &p)) != 0)
		return rc;
	*v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
	return 0;
}

int
buf_get_u64(struct buf_reader *r, uint64_t *v)
{
	const uint8_t *p;
	int rc, i;

	*v = 0;
	if ((rc = buf_get_bytes(r, 8, &p)) != 0)
		return rc;
	for (i = 0; i < 8; i++)
		*v = (*v << 8) | p[i];
	return 0;
}

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL) {
		explicit_bzero(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *p;

	if (SIZE_MAX - b->len < n)
		return XLICEN_E_NOMEM;
	need = b->len + n;
	if (b->max != 0 && need > b->max)
		return XLICEN_E_NOMEM;
	if (need <= b->cap)
		return 0;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return XLICEN_E_NOMEM;
		ncap *= 2;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		return XLICEN_E_NOMEM;
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_put_bytes(struct buf *b, const void *p, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	if ((rc = buf_reserve(b, n)) != 0)
		return rc;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put_bytes(b, &v, 1);
}

int
buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t p[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return buf_put_bytes(b, p, sizeof(p));
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v };

	return buf_put_bytes(b, p, sizeof(p));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t p[8];
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
	return buf_put_bytes(b, p, sizeof(p));
}

int
buf_poke_u16(struct buf *b, size_t off, uint16_t v)
{
	if (b->len < 2 || b->len - 2 < off)
		return XLICEN_E_INVALID;
	b->data[off] = (uint8_t)(v >> 8);
	b->data[off + 1] = (uint8_t)v;
	return 0;
}

int
buf_poke_u32(struct buf *b, size_t off, uint32_t v)
{
	if (b->len < 4 || b->len - 4 < off)
		return XLICEN_E_INVALID;
	b->data[off] = (uint8_t)(v >> 24);
	b->data[off + 1] = (uint8_t)(v >> 16);
	b->data[off + 2] = (uint8_t)(v >> 8);
	b->data[off + 3] = (uint8_t)v;
	return 0;
}

int
buf_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		uint8_t c = p[i];

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			need = 1; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}
