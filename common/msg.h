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
	MSG_RECLAIM = 0x0005,		/* re-attach a lease after a reconnect */
	MSG_LIST_MINE = 0x0006,		/* the caller's own leases and queue entries */
	MSG_HOLDERS = 0x0007,		/* admin: every holder and queued request */
	MSG_REMOVE = 0x0008,		/* admin: revoke a lease */
	MSG_REREAD = 0x0009,		/* admin: reread licenses and policy */
	MSG_SHUTDOWN = 0x000a,		/* admin: stop the server */
	MSG_REPORT = 0x000b,		/* admin: usage report, audit chain check */
	MSG_INFO = 0x000c,		/* the server: version, uptime, licenses */
	MSG_BORROW = 0x000d,		/* borrow a seat for offline use */
	/* server -> client */
	MSG_GRANT = 0x8001,
	MSG_DENY = 0x8002,
	MSG_OK = 0x8003,
	MSG_STATUS_REPLY = 0x8004,
	MSG_ERROR = 0x8005,
	MSG_QUEUED = 0x8006,		/* a checkout waits in line */
	MSG_HOLDERS_REPLY = 0x8007,	/* answers LIST_MINE and HOLDERS */
	MSG_REPORT_REPLY = 0x8008,
	MSG_REVOKE = 0x8009,		/* unsolicited (id 0): a lease was removed */
	MSG_INFO_REPLY = 0x800a,	/* answers INFO */
	MSG_BORROWED = 0x800b,		/* answers BORROW: the lease and token */
};

/* CHECKOUT FLAGS bits; other bits are ignored by this server. */
#define MSG_FLAG_QUEUE	0x1u	/* no seat: queue, answer QUEUED, GRANT later (id 0) */
#define MSG_FLAG_WAIT	0x2u	/* no seat: queue and hold the reply up to WAIT s */
/* OK FLAGS bits (an OK answering REMOVE). */
#define MSG_OK_BORROW_CANCELLED 0x1u	/* a borrowed lease, only cancelled:
					 * counted until its end, EXPIRES */
/* REPORT FLAGS bits. */
#define MSG_REPORT_VERIFY 0x1u	/* check the audit trail's hash chain too */
#define MSG_REPORT_EVENTS 0x2u	/* the raw events instead of usage rows */

/* DENY DETAIL bits: facts about a denial beyond its CODE, for programs
 * (the REASON is for humans). */
#define MSG_DENY_RESERVED 0x1u	/* NO_SEATS while seats are free: the free
				 * ones are reserved (policy) for others */

/* STATE of a HOLDER entry. */
enum msg_holder_state {
	MSG_HOLDER_LEASE = 0,		/* a lease holds seats */
	MSG_HOLDER_QUEUED = 1,		/* a checkout waiting in line */
	MSG_HOLDER_LINGER = 2,		/* a released seat kept for its linger time */
	MSG_HOLDER_BORROWED = 3,	/* a lease borrowed for offline use */
	MSG_HOLDER_CANCELLED = 4,	/* a borrowed lease an admin cancelled:
					 * counted until its end */
};

/* POOL_FLAGS bits of a pool. */
#define MSG_POOL_UNCOUNTED	0x1u	/* no seat limit */
#define MSG_POOL_NODE_LOCKED	0x2u	/* hostid restricts who may use it */
/* In a HOLDER only: the license the lease or lingering seat came from is
 * withdrawn (removed without replacement). */
#define MSG_POOL_WITHDRAWN	0x4u

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
	TAG_REQUEST = 22,	/* u32, request id a late GRANT/DENY answers */
	TAG_POSITION = 23,	/* u32, place in the queue, 1 = next */
	TAG_QUEUE_ID = 24,	/* string, server-chosen id of a queued checkout */
	TAG_WAIT = 25,		/* u32, seconds a WAIT checkout may be held */
	TAG_QUEUED = 26,	/* u32, checkouts queued for the product */
	TAG_POOL_FLAGS = 27,	/* u32, MSG_POOL_* */
	TAG_HOSTID = 28,	/* string, node lock "host:N" / "principal:P" */
	TAG_DUP_GROUP = 29,	/* string, dup grouping in force */
	TAG_LINGER = 30,	/* u32, seconds a released seat stays held */
	TAG_HOLDER = 31,	/* nested TLVs, repeatable (HOLDERS_REPLY) */
	TAG_PRINCIPAL = 32,	/* string, authenticated principal */
	TAG_SINCE = 33,		/* u64, UTC s granted / queued */
	TAG_LAST_HB = 34,	/* u64, UTC s of the last heartbeat */
	TAG_CONNECTED = 35,	/* u8, 1 = a connection of the holder is open */
	TAG_FROM = 36,		/* u64, UTC s, start of a report */
	TAG_TO = 37,		/* u64, UTC s, end of a report */
	TAG_ROW = 38,		/* nested TLVs, repeatable (REPORT_REPLY) */
	TAG_GRANTS = 39,	/* u32 */
	TAG_DENIALS = 40,	/* u32 */
	TAG_PEAK = 41,		/* u32, most seats in use at once */
	TAG_AVG_MILLI = 42,	/* u32, average seats in use x 1000 */
	TAG_SECONDS = 43,	/* u64, seat-seconds used */
	TAG_MORE = 44,		/* u8, 1 = the list was cut to fit one frame */
	TAG_EVENTS = 45,	/* u64, audit events checked */
	TAG_BAD_EVENT = 46,	/* u64, first event breaking the chain, 0 none */
	TAG_HASH = 47,		/* string, hex SHA-256 of the chain head */
	TAG_TTL = 48,		/* u32, lease lifetime without heartbeat */
	TAG_DETAIL = 49,	/* u32, MSG_DENY_* bits of a DENY */
	TAG_LICDIR = 50,	/* string, the server's license directory */
	TAG_LOADED = 51,	/* u32, license files loaded */
	TAG_REFUSED = 52,	/* u32, license files refused */
	TAG_LISTEN = 53,	/* nested TLVs, repeatable (INFO_REPLY) */
	TAG_ADDRESS = 54,	/* string, "ADDR:PORT" or "[V6ADDR]:PORT" */
	TAG_TOKEN = 55,		/* bytes, a borrow token (common/borrow.h) */
	TAG_EVENT = 56,		/* nested TLVs, repeatable (REPORT_REPLY) */
	TAG_EVENT_ID = 57,	/* u64, an audit event's id */
	TAG_KIND = 58,		/* string, an audit event's kind ("grant") */
	TAG_NOTE = 59,		/* string, an audit event's detail text */
	TAG_AFTER = 60,		/* u64, REPORT: events after this id only */
	TAG__MAX = 63,		/* tag numbers must stay below 64 (have bits) */
};

/* A bytes field (TOKEN): up to LIMIT_BORROW_TOKEN bytes, any values. */
struct msg_blob {
	uint16_t len;
	uint8_t data[LIMIT_BORROW_TOKEN];
};

/* Bits of msg.have / msg_pool.have / ...: which fields are present. */
#define MSG_F(tag)	(UINT64_C(1) << (tag))

/* One pool in a STATUS_REPLY. */
struct msg_pool {
	uint64_t have;
	char product[LIMIT_STRING + 1];
	char versions[LIMIT_STRING + 1];
	char vendor[LIMIT_STRING + 1];
	char serial[LIMIT_STRING + 1];
	uint32_t total;
	uint32_t in_use;
	uint64_t start;
	uint64_t expires;
	uint8_t state;
	uint32_t queued;
	uint32_t pool_flags;
	char hostid[LIMIT_STRING + 1];
	char dup_group[LIMIT_STRING + 1];
	uint32_t linger;
	uint32_t ttl;
	uint32_t heartbeat;
};

/* One entry of a HOLDERS_REPLY: a lease, a queued checkout or a lingering
 * seat (state). */
struct msg_holder {
	uint64_t have;
	char product[LIMIT_STRING + 1];
	char version[LIMIT_STRING + 1];
	char principal[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1];
	char display[LIMIT_STRING + 1];
	char lease[LIMIT_STRING + 1];
	char queue_id[LIMIT_STRING + 1];
	uint32_t pid;
	uint32_t count;
	uint64_t since;
	uint64_t last_hb;
	uint64_t expires;
	uint32_t heartbeat;
	uint8_t state;		/* enum msg_holder_state */
	uint32_t position;
	uint8_t connected;
	uint32_t pool_flags;	/* MSG_POOL_WITHDRAWN */
};

/* One row of a REPORT_REPLY: a product (no PRINCIPAL) or one principal's
 * use of a product. */
struct msg_row {
	uint64_t have;
	char product[LIMIT_STRING + 1];
	char principal[LIMIT_STRING + 1];
	uint32_t grants;
	uint32_t denials;
	uint32_t peak;
	uint32_t avg_milli;
	uint64_t seconds;
};

/* One audit event of a REPORT_REPLY with FLAGS EVENTS (the raw export). */
struct msg_event {
	uint64_t have;
	uint64_t event_id;
	uint64_t time;
	char kind[LIMIT_STRING + 1];
	char principal[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1];
	char display[LIMIT_STRING + 1];
	char product[LIMIT_STRING + 1];
	char version[LIMIT_STRING + 1];
	char lease[LIMIT_STRING + 1];
	uint32_t count;
	uint16_t code;
	char note[LIMIT_STRING + 1];
};

/* One listening address of an INFO_REPLY. */
struct msg_listen {
	uint64_t have;
	char address[LIMIT_STRING + 1];
};

/*
 * A decoded message.  Every field exists; `have` says which were on the
 * wire.  Strings are NUL-terminated, valid UTF-8 without NUL, at most
 * LIMIT_STRING bytes.  pools, holders and rows are malloc'd; release with
 * msg_clear().
 */
struct msg {
	uint16_t type;
	uint32_t id;
	uint64_t have;
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
	/* Fields of the later message types. */
	char queue_id[LIMIT_STRING + 1];
	char hash[LIMIT_STRING + 1];
	uint32_t request;
	uint32_t position;
	uint32_t wait;
	uint8_t more;
	uint64_t from;
	uint64_t to;
	uint64_t events;
	uint64_t bad_event;
	struct msg_holder *holders;
	size_t nholders;
	struct msg_row *rows;
	size_t nrows;
	uint32_t detail;	/* DENY: MSG_DENY_* */
	/* INFO_REPLY (version in .version, server clock in .time). */
	uint64_t since;			/* UTC s the server started */
	char licdir[LIMIT_STRING + 1];
	uint32_t loaded;
	uint32_t refused;
	struct msg_listen *listens;
	size_t nlistens;
	/* BORROW (end in .to) and BORROWED. */
	struct msg_blob token;
	/* REPORT with FLAGS EVENTS, and its REPORT_REPLY. */
	uint64_t after;
	struct msg_event *evs;
	size_t nevs;
};

/* Zero a message (for building one). */
void msg_init(struct msg *m, uint16_t type, uint32_t id);
/* Free pools and zero.  Accepts NULL. */
void msg_clear(struct msg *m);

/* Set a string field (copying; XLICEN_E_STRING if too long or invalid
 * UTF-8) and mark it present.  dst must be one of m's string fields. */
int msg_set_str(struct msg *m, int tag, const char *s);
/* Append a pool to a STATUS_REPLY (copy).  XLICEN_E_TLV_COUNT past
 * LIMIT_STATUS_POOLS, XLICEN_E_NOMEM. */
int msg_add_pool(struct msg *m, const struct msg_pool *p);
/* The same for a HOLDERS_REPLY entry and a REPORT_REPLY row (limit
 * LIMIT_LIST_ITEMS each). */
int msg_add_holder(struct msg *m, const struct msg_holder *h);
int msg_add_row(struct msg *m, const struct msg_row *r);
/* The same for an EVENT of a REPORT_REPLY (limit LIMIT_LIST_ITEMS). */
int msg_add_event(struct msg *m, const struct msg_event *e);
/* Append a listening address to an INFO_REPLY (limit LIMIT_INFO_LISTEN;
 * XLICEN_E_STRING as msg_set_str). */
int msg_add_listen(struct msg *m, const char *address);

/* Set a string field of a holder or row like msg_set_str (tag must be one
 * of its string fields). */
int msg_holder_set_str(struct msg_holder *h, int tag, const char *s);
int msg_row_set_str(struct msg_row *r, int tag, const char *s);
int msg_event_set_str(struct msg_event *e, int tag, const char *s);

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

/* The fields (MSG_F bits) message type `type` carries and those it
 * requires: 0, or XLICEN_E_MSG_TYPE for a type this version does not
 * know.  The table in PROTOCOL.md section 7.1 is checked against it
 * (tests/unit/test_msg.c). */
int msg_spec_fields(uint16_t type, uint64_t *allowed, uint64_t *required);
/* The same for an element of a list: tag TAG_POOL, TAG_HOLDER, TAG_ROW,
 * TAG_LISTEN or TAG_EVENT (else XLICEN_E_INVALID); PROTOCOL.md section 7.3. */
int msg_list_fields(uint16_t tag, uint64_t *allowed, uint64_t *required);

/* The message type's name ("CHECKOUT"), or "UNKNOWN". */
const char *msg_type_name(uint16_t type);

/* Value kinds of a tag, for code that walks TLVs without decoding them
 * (the trace, the Wireshark dissector). */
enum msg_kind {
	MSG_KIND_NONE,		/* not a tag of this version */
	MSG_KIND_STR,
	MSG_KIND_U8,
	MSG_KIND_U16,
	MSG_KIND_U32,
	MSG_KIND_U64,
	MSG_KIND_LIST,		/* nested TLVs: POOL, HOLDER, ROW, LISTEN, EVENT */
	MSG_KIND_BYTES,		/* opaque bytes: TOKEN */
};

/* The name of tag number num ("PRODUCT", bit 15 cleared by the caller) and
 * its value kind in *kind; NULL and MSG_KIND_NONE for an unassigned tag. */
const char *msg_tag_info(uint16_t num, int *kind);

/* The i-th message type of the codec's table (0, 1, ...): 1 with *type and
 * *name set, 0 past the end.  Lets a tool list every type by name. */
int msg_type_info(size_t i, uint16_t *type, const char **name);

#endif
