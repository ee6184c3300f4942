/*
 * Frames: u8 type | u32 length (big-endian) | body.  An incremental
 * decoder that checks the type and length against the current limit before
 * allocating anything, and encoders for the four frame types' bodies.
 */
#ifndef XLICEN_FRAME_H
#define XLICEN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "limits.h"

enum frame_type {
	FRAME_HELLO = 1,	/* plaintext version negotiation */
	FRAME_CONTEXT = 2,	/* a GSS context token */
	FRAME_DATA = 3,		/* a gss_wrap'ped message */
	FRAME_ALERT = 4,	/* plaintext error, then close */
};

/* A complete frame; body is malloc'd and owned by whoever holds it. */
struct frame {
	uint8_t type;
	uint32_t len;
	uint8_t *body;
};

/*
 * Bytes held in partly received bodies, shared by the decoders that point
 * to it (one per server).  held counts the allocated size of every partial
 * body; a body may not grow past LIMIT_FRAME_CHUNK bytes if that would take
 * held past max.
 */
struct frame_budget {
	size_t held;
	size_t max;
};

/* Incremental decoder state: one per connection. */
struct frame_dec {
	uint8_t hdr[5];
	uint8_t hdr_have;
	uint8_t type;
	uint32_t len;
	uint32_t max;		/* largest body accepted */
	uint32_t have;
	uint32_t cap;		/* allocated size of body (<= len) */
	uint8_t *body;
	struct frame_budget *budget;	/* NULL: none */
};

void frame_dec_init(struct frame_dec *d, uint32_t max);
/* Change the body limit (e.g. after authentication). */
void frame_dec_set_max(struct frame_dec *d, uint32_t max);
/* Charge d's partial bodies to b (not owned; outlives d, or d is freed
 * first).  Call before the first byte is fed. */
void frame_dec_set_budget(struct frame_dec *d, struct frame_budget *b);
/* Whether a frame is partly received (a close now truncates it). */
int frame_dec_pending(const struct frame_dec *d);
/* Free a partial body; the decoder is reusable after frame_dec_init. */
void frame_dec_free(struct frame_dec *d);

/*
 * Feed up to n bytes.  *used gets how many were consumed (it stops after
 * one complete frame).  Returns 1 when *out holds a complete frame (the
 * caller owns out->body and frees it with frame_free), 0 when more bytes
 * are needed, or XLICEN_E_FRAME_TYPE / XLICEN_E_FRAME_EMPTY /
 * XLICEN_E_FRAME_TOO_LONG / XLICEN_E_NOMEM / XLICEN_E_BUSY (the budget,
 * if one is set, has no room for the body to grow), after which the
 * decoder must not be fed again.  The type and length are judged as soon
 * as the 5 header bytes are in, before anything is allocated; the body is
 * then grown as its bytes arrive (LIMIT_FRAME_CHUNK, then doubling, at
 * most the declared length), so a declared length alone costs nothing.
 */
int frame_dec_feed(struct frame_dec *d, const uint8_t *p, size_t n,
    size_t *used, struct frame *out);

void frame_free(struct frame *f);

/* Append a whole frame (header and body) to out. */
int frame_encode(struct buf *out, uint8_t type, const void *body, size_t len);
/* Write the 5-byte header into hdr (for writev with a separate body). */
int frame_header(uint8_t hdr[5], uint8_t type, size_t len);

/* HELLO from the client: the range of versions it speaks. */
struct frame_hello_client {
	uint16_t min_version;
	uint16_t max_version;
};
/* HELLO from the server: the chosen version and its clock (UTC s). */
struct frame_hello_server {
	uint16_t version;
	int64_t time;
};
/* ALERT: an error code (positive wire value) and a UTF-8 reason. */
struct frame_alert {
	uint16_t code;
	char reason[LIMIT_ALERT_REASON + 1];
};

/* The *_encode functions append a complete frame (header and body) to
 * out; the *_decode functions take a frame body and reject trailing bytes. */
int frame_hello_client_encode(struct buf *out, const struct frame_hello_client *h);
int frame_hello_client_decode(const uint8_t *p, size_t n, struct frame_hello_client *h);
int frame_hello_server_encode(struct buf *out, const struct frame_hello_server *h);
int frame_hello_server_decode(const uint8_t *p, size_t n, struct frame_hello_server *h);
/* code is an XLICEN_E_* value (negative) or its wire value; reason may be
 * NULL and is cut at LIMIT_ALERT_REASON bytes on a UTF-8 boundary. */
int frame_alert_encode(struct buf *out, int code, const char *reason);
int frame_alert_decode(const uint8_t *p, size_t n, struct frame_alert *a);

#endif
