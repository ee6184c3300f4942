/*
 * The audit trail's hash chain.  Each event row stores
 *     hash = SHA-256(previous row's hash || canonical encoding of the row)
 * (32 zero bytes before the first row), so changing, inserting or deleting
 * any row breaks every hash after it.  The canonical encoding is defined
 * here once and used by the server (writing, REPORT verify) and by the
 * CLI (verifying a database file directly).  Pure computation: no SQLite.
 */
#ifndef XLICEN_AUDIT_H
#define XLICEN_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define AUDIT_HASH_LEN	32
#define AUDIT_CANON_ID	"gss-xlicen-event-v1"

/* One events row.  A NULL string is SQL NULL; an optional integer is NULL
 * unless its has_ flag is set. */
struct audit_event {
	int64_t id;
	int64_t ts;
	const char *kind;
	const char *principal;
	const char *host;
	const char *display;
	const char *product;
	const char *version;
	const char *lease_id;
	int has_pool_id;
	int64_t pool_id;
	int has_count;
	int64_t count;
	int64_t code;
	const char *detail;
	int has_seats;
	int64_t seats;
};

/*
 * Append the canonical encoding of ev to out: AUDIT_CANON_ID, then every
 * column in table order, each as 0x00 (NULL), 0x01 + 8-byte big-endian
 * two's-complement integer, or 0x02 + u32 length + bytes (text).  Returns
 * 0 or XLICEN_E_NOMEM (out unchanged on error).
 */
int audit_event_encode(const struct audit_event *ev, struct buf *out);

/* out = SHA-256(prev || encode(ev)).  prev NULL means 32 zero bytes.
 * Returns 0, XLICEN_E_NOMEM or XLICEN_E_INTERNAL (OpenSSL failed). */
int audit_event_hash(const uint8_t *prev, const struct audit_event *ev,
    uint8_t out[AUDIT_HASH_LEN]);

/* Lowercase hex of a hash, NUL-terminated. */
void audit_hex(const uint8_t h[AUDIT_HASH_LEN], char out[2 * AUDIT_HASH_LEN + 1]);

#endif
