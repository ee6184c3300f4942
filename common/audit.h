/*
 * The audit trail's hash chain.  Each event row stores
 *     hash = SHA-256(previous row's hash || canonical encoding of the row)
 * (32 zero bytes before the first row), so changing, inserting or deleting
 * any row breaks every hash after it.  The canonical encoding is defined
 * here once and used by the server (writing, REPORT verify) and by the
 * CLI (verifying a database file directly), and so is the verifier
 * (audit_chain_*), which each side feeds with the rows it reads itself.
 * Pure computation: no database.
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

/* The columns of an events row the chain covers, id to seats, in table
 * order (the hash column follows them). */
#define AUDIT_NCOLS	14

/* How the database stores one column's value.  The numbers are SQLite's
 * fundamental datatype codes (SQLITE_INTEGER .. SQLITE_NULL, fixed by its
 * API), so a SQLite reader passes sqlite3_column_type() as it is; the
 * server's store_type (server/store/db.h) has the same values. */
enum audit_type {
	AUDIT_T_INTEGER = 1,
	AUDIT_T_REAL = 2,
	AUDIT_T_TEXT = 3,
	AUDIT_T_BLOB = 4,
	AUDIT_T_NULL = 5
};

/* One stored column: its type, and for a TEXT its length in bytes as
 * stored (which a NUL inside makes longer than the string's strlen). */
struct audit_cell {
	int type;
	size_t bytes;
};

/*
 * Whether a row as the database stores it is exactly ev, the event read
 * from it (cells[i] describes column i; ev's strings are the columns' texts
 * as read, up to their first NUL).  The encoding sees only ev, so a row is
 * refused unless reading it lost nothing: id, ts and code INTEGER; kind
 * TEXT; principal, host, display, product, version, lease_id and detail
 * TEXT or NULL; pool_id, count and seats INTEGER or NULL; no text with a
 * NUL inside; and a cell is NULL exactly where ev has no value.  A REAL, a TEXT in an integer column, a BLOB or a NUL inside
 * a text would otherwise hash as the value it reads as, and a row altered
 * that way would pass.  Returns 0, or XLICEN_E_AUDIT_CHAIN with *col (if
 * not NULL) the index of the first column refused.
 */
int audit_row_check(const struct audit_event *ev,
    const struct audit_cell cells[AUDIT_NCOLS], int *col);

/* The name of events column i (0 .. AUDIT_NCOLS-1), "?" for another i. */
const char *audit_col_name(int i);

/*
 * The one verifier of the chain, fed one row at a time in id order (the
 * server's store_verify_chain, `xlicen report verify --database`).  A row
 * continues the chain when it is stored as the chain encodes it
 * (audit_row_check) and its stored hash is SHA-256 of the previous row's
 * hash (zeros before the first row) and the row.  The first row that does
 * not is the break; what the caller reports comes from the fields.
 */
enum audit_break {
	AUDIT_BREAK_NONE = 0,
	AUDIT_BREAK_COLUMN,	/* a column not stored as encoded: col */
	AUDIT_BREAK_HASH	/* the stored hash is missing, not
				 * AUDIT_HASH_LEN bytes, or not the one
				 * recomputed */
};

struct audit_chain {
	uint8_t prev[AUDIT_HASH_LEN];	/* the last good row's hash */
	int have;		/* a row was good (prev is set) */
	uint64_t rows;		/* rows fed, the breaking one included */
	enum audit_break reason;	/* why it broke, or NONE */
	int64_t bad_id;		/* the breaking row's id (reason != NONE) */
	int col;		/* AUDIT_BREAK_COLUMN: the column, else -1 */
};

/* Start a verification: no rows, not broken. */
void audit_chain_init(struct audit_chain *c);

/*
 * Feed the next row: ev as read from it, cells how its chained columns
 * are stored (see audit_row_check), hash its stored hash column's bytes
 * (NULL when that column is not a blob) and hashlen their length.
 * Returns 0 when the row continues the chain; XLICEN_E_AUDIT_CHAIN when
 * it breaks it (c->reason, c->bad_id, c->col say how) or the chain was
 * already broken (then the row is not looked at or counted); or
 * XLICEN_E_NOMEM / XLICEN_E_INTERNAL when hashing failed (the row is
 * counted, nothing else changes).
 */
int audit_chain_feed(struct audit_chain *c, const struct audit_event *ev,
    const struct audit_cell cells[AUDIT_NCOLS], const uint8_t *hash,
    size_t hashlen);

/* The hex of the last good row's hash into out; returns 1, or 0 with out
 * "" when no row was good. */
int audit_chain_head(const struct audit_chain *c,
    char out[2 * AUDIT_HASH_LEN + 1]);

/* Lowercase hex of a hash, NUL-terminated. */
void audit_hex(const uint8_t h[AUDIT_HASH_LEN], char out[2 * AUDIT_HASH_LEN + 1]);

#endif
