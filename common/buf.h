/*
 * Bounds-checked byte reader and growable writer.  Every untrusted byte
 * passes through a struct buf_reader; every wire field is written through a
 * struct buf.  Integers are big-endian.  Reads never move past the end: a
 * short read returns XLICEN_E_TRUNCATED and leaves the reader unchanged.
 */
#ifndef XLICEN_BUF_H
#define XLICEN_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A read-only view of bytes owned by someone else. */
struct buf_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* A growable byte string; owns its storage.  Zero-initialised is valid. */
struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;	/* 0 = unlimited; else appends beyond fail NOMEM */
};

void buf_reader_init(struct buf_reader *r, const void *p, size_t len);
/* Bytes not yet read. */
size_t buf_reader_avail(const struct buf_reader *r);
/* 0 if everything was read, XLICEN_E_TRAILING otherwise. */
int buf_reader_done(const struct buf_reader *r);

int buf_get_u8(struct buf_reader *r, uint8_t *v);
int buf_get_u16(struct buf_reader *r, uint16_t *v);
int buf_get_u32(struct buf_reader *r, uint32_t *v);
int buf_get_u64(struct buf_reader *r, uint64_t *v);
/* Point *p at the next n bytes (no copy) and skip them. */
int buf_get_bytes(struct buf_reader *r, size_t n, const uint8_t **p);
/* A sub-reader over the next n bytes, which are skipped in r. */
int buf_get_sub(struct buf_reader *r, size_t n, struct buf_reader *sub);

void buf_init(struct buf *b);
/* Free storage (wiping it) and reset to empty.  Accepts NULL. */
void buf_free(struct buf *b);
/* Empty without freeing. */
void buf_reset(struct buf *b);
/* Make room for n more bytes. */
int buf_reserve(struct buf *b, size_t n);
int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u16(struct buf *b, uint16_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_u64(struct buf *b, uint64_t v);
int buf_put_bytes(struct buf *b, const void *p, size_t n);
/* Overwrite a u16/u32 already written at off (for length back-patching). */
int buf_poke_u16(struct buf *b, size_t off, uint16_t v);
int buf_poke_u32(struct buf *b, size_t off, uint32_t v);

/* Validate UTF-8 (shortest form, no surrogates, no NUL). 1 if valid. */
int buf_utf8_valid(const uint8_t *p, size_t n);

#endif
