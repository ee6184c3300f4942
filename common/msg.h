/*
 * Messages carried (wrapped) in DATA frames:
 *     u16 type | u32 request_id | TLV*      TLV = u16 tag | u16 length | value
 * A tag's high bit marks it critical: a receiver that does not know a
 * critical tag refuses the message; unknown non-critical tags are skipped.
 * One table per message type says which fields it carries; msg_encode and
 * msg_decode walk that table, so each message has exactly one codec.
 */
#ifndef XLICEN_MSG_H
#define XLICEN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "limits.h"

enum msg_type {
	/* client -> server */
	MSG_CHECKOUT = 0x0001,
	MSG_HEARTBEAT = 0x0002,
	MSG_RELEASE = 0x0003,
	MSG_STATUS = 0x0004,
	/* server -> client */
	MSG_GRANT = 0x8001,
	MSG_DENY = 0x8002,
	MSG_OK = 0x8003,
	MSG_STATUS_REPLY = 0x8004,
	MSG_ERROR = 0x8005,
};

#define MSG_TAG_CRITICAL 0x8000

enum msg_tag {
	TAG_PRODUCT = 1,	/* string */
	TAG_VERSION = 2,	/* string, dotted version */
	TAG_COUNT = 3,		/* u32 seats */
	TAG_HOST = 4,		/* string */
	TAG_DISPLAY = 5,	/* string, X display */
	TAG_PID = 6,		/* u32 */
	TAG_FLAGS = 7,		/* u32 */
	TAG_LEASE = 8,		/* string, opaque lease id */
	TAG_EXPIRES = 9,	/* u64, UTC seconds (0 = never) */
	TAG_HEARTBEAT = 10,	/* u32, seconds between heartbeats */
	TAG_IN_USE = 11,	/* u32 */
	TAG_TOTAL = 12,		/* u32 */
	TAG_CODE = 13,		/* u16, error code (wire value) */
	TAG_REASON = 14,	/* string */
	TAG_POOL = 15,		/* nested TLVs, repeatable (STATUS_REPLY) */
	TAG_VERSIONS = 16,	/* string "min-max" */
	TAG_START = 17,		/* u64, UTC seconds (0 = none) */
	TAG_STATE = 18,		/* u8, pool state */
	TAG_TIME = 19,		/* u64, server clock, UTC seconds */
	TAG_VENDOR = 20,	/* string */
	TAG_SERIAL = 21,	/* string */
};

/* Bits of msg.have / msg_pool.have: which fields are present. */
#define MSG_F(tag)	(1u << (tag))

/* One pool in a STATUS_REPLY. */
struct msg_pool {
	uint32_t have;
	char product[LIMIT_STRING + 1];
	char versions[LIMIT_STRING + 1];
	char vendor[LIMIT_STRING + 1];
	char serial[LIMIT_STRING + 1];
	uint32_t total;
	uint32_t in_use;
	uint64_t start;
	uint64_t expires;
	uint8_t state;
};

/*
 * A decoded message.  Every field exists; `have` says which were on the
 * wire.  Strings are NUL-terminated, valid UTF-8 without NUL, at most
 * LIMIT_STRING bytes.  pools is malloc'd; release with msg_clear().
 */
struct msg {
	uint16_t type;
	uint32_t id;
	uint32_t have;
	char product[LIMIT_STRING + 1];
	char version[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1];
	char display[LIMIT_STRING + 1];
	char lease[LIMIT_STRING + 1];
	char reason[LIMIT_STRING + 1];
	uint32_t count;
	uint32_t pid;
	uint32_t flags;
	uint32_t heartbeat;
	uint32_t in_use;
	uint32_t total;
	uint16_t code;
	uint64_t expires;
	uint64_t time;
	struct msg_pool *pools;
	size_t npools;
};

/* Zero a message (for building one). */
void msg_init(struct msg *m, uint16_t type, uint32_t id);
/* Free pools and zero.  Accepts NULL. */
void msg_clear(struct msg *m);

/* Set a string field (copying; XLICEN_E_STRING if too long or invalid
 * UTF-8) and mark it present.  dst must be one of m's string fields. */
int msg_set_str(struct msg *m, int tag, const char *s);
/* Append a pool to a STATUS_REPLY (copy). */
int msg_add_pool(struct msg *m, const struct msg_pool *p);

/*
 * Append the encoding of m to out.  Fields are written in table order;
 * required fields of m->type must be present (else XLICEN_E_INVALID);
 * fields the type does not carry are ignored.  Returns 0,
 * XLICEN_E_MSG_TYPE, XLICEN_E_INVALID, XLICEN_E_STRING (a string field
 * longer than LIMIT_STRING) or XLICEN_E_NOMEM.
 */
int msg_encode(const struct msg *m, struct buf *out);

/*
 * Decode exactly n bytes into *m (cleared first).  Errors (m is cleared on
 * error): XLICEN_E_TRUNCATED (a field or TLV runs past the end),
 * XLICEN_E_MSG_TYPE, XLICEN_E_TLV_CRITICAL, XLICEN_E_TLV_DUP,
 * XLICEN_E_TLV_MISSING, XLICEN_E_TLV_LENGTH, XLICEN_E_STRING,
 * XLICEN_E_TLV_COUNT, XLICEN_E_NOMEM.
 */
int msg_decode(const uint8_t *p, size_t n, struct msg *m);

/* The message type's name ("CHECKOUT"), or "UNKNOWN". */
const char *msg_type_name(uint16_t type);

#endif
