/*
 * Known-answer tests of the audit trail's hash chain (common/audit.c),
 * and of its one verifier (audit_chain_*) on the same rows.
 * The expected bytes and hashes below were not produced by audit.c: they
 * were computed once, by hand, from the encoding audit.h documents (and
 * docs/ADMIN.md, "The chain's encoding"), with this Python 3 and
 * cross-checked for event 1 with `openssl dgst -sha256`:
 *
 *   import hashlib, struct
 *   def I(v): return b'\0' if v is None else b'\1' + struct.pack('>q', v)
 *   def S(s):
 *       if s is None: return b'\0'
 *       b = s.encode(); return b'\2' + struct.pack('>I', len(b)) + b
 *   def enc(id, ts, kind, pr, host, disp, prod, ver, lease, pool, cnt,
 *           code, detail, seats):
 *       return (b'gss-xlicen-event-v1' + I(id) + I(ts) + S(kind) + S(pr)
 *           + S(host) + S(disp) + S(prod) + S(ver) + S(lease) + I(pool)
 *           + I(cnt) + I(code) + S(detail) + I(seats))
 *   prev = bytes(32)
 *   for e in events:   # the four of ev[] below, in order
 *       prev = hashlib.sha256(prev + enc(*e)).digest(); print(prev.hex())
 *
 * So a change to the encoding (a column left out, reordered, a NULL
 * written like an empty string, another integer width) fails here, even
 * though the server and `xlicen report verify --database` would still
 * agree with each other.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "audit.h"
#include "buf.h"
#include "xlicen_errors.h"

#define LEASE	"0123456789abcdef0123456789abcdef"

/* Every column used, NULL text and NULL integers, an empty string, a
 * negative integer and a non-ASCII (UTF-8) detail. */
static const struct audit_event ev[4] = {
	{ .id = 1, .ts = 1700000000, .kind = "grant",
	  .principal = "alice@EXAMPLE.ORG", .host = "ws1.example.org",
	  .display = "ws1.example.org:0", .product = "xdemo", .version = "1.2",
	  .lease_id = LEASE, .has_pool_id = 1, .pool_id = 7, .has_count = 1,
	  .count = 2, .code = 0, .detail = NULL, .has_seats = 1, .seats = 2 },
	{ .id = 2, .ts = 1700000030, .kind = "deny",
	  .principal = "bob@EXAMPLE.ORG", .host = "ws2.example.org",
	  .display = "", .product = "xdemo", .version = "1.2",
	  .lease_id = NULL, .has_pool_id = 0, .has_count = 1, .count = 1,
	  .code = 71, .detail = "no free seat", .has_seats = 0 },
	{ .id = 3, .ts = 1700000100, .kind = "reload", .code = 0,
	  .detail = "licenses: 3 pools, caf\xc3\xa9" },
	{ .id = 4, .ts = 1700000200, .kind = "release",
	  .principal = "alice@EXAMPLE.ORG", .host = "ws1.example.org",
	  .display = "ws1.example.org:0", .product = "xdemo", .version = "1.2",
	  .lease_id = LEASE, .has_pool_id = 1, .pool_id = 7, .has_count = 1,
	  .count = 2, .code = 0, .detail = NULL, .has_seats = 1, .seats = -2 },
};

/* SHA-256(previous || encoding), chained from 32 zero bytes. */
static const char *const want_hash[4] = {
	"11e69fcd7e6095a58a93dc20af02c31dcc610e777a02603a103d1b737b53a159",
	"d36c3828b4ec90ccd87a22f3f55ec8396ea8d17f9f5f305fe3bea2e43fd1f4bb",
	"a6895eaa2b496f8414c947b69d2a415eb05902c0ad48766cfc995b34a2b58997",
	"57321651953076155ebdeaa58547b88e18915f4b336e58638196c280cdb77228",
};

/* The whole encoding of ev[1] (147 bytes), column by column. */
static const char want_enc2[] =
	"6773732d786c6963656e2d6576656e742d7631"	/* gss-xlicen-event-v1 */
	"010000000000000002"				/* id 2 */
	"01000000006553f11e"				/* ts 1700000030 */
	"020000000464656e79"				/* "deny" */
	"020000000f626f62404558414d504c452e4f5247"	/* principal */
	"020000000f7773322e6578616d706c652e6f7267"	/* host */
	"0200000000"					/* display "" */
	"02000000057864656d6f"				/* "xdemo" */
	"0200000003312e32"				/* "1.2" */
	"00"						/* lease_id NULL */
	"00"						/* pool_id NULL */
	"010000000000000001"				/* count 1 */
	"010000000000000047"				/* code 71 */
	"020000000c6e6f2066726565207365617400"		/* detail, seats NULL */
	;

static void
hex_of(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

static void
test_encoding_bytes(void **state)
{
	struct buf b;
	char hex[2 * 147 + 1];

	(void)state;
	buf_init(&b);
	assert_int_equal(audit_event_encode(&ev[1], &b), 0);
	assert_int_equal(b.len, 147);
	hex_of(b.data, b.len, hex);
	assert_string_equal(hex, want_enc2);
	/* Appends: what was in the buffer stays in front. */
	assert_int_equal(audit_event_encode(&ev[1], &b), 0);
	assert_int_equal(b.len, 2 * 147);
	assert_memory_equal(b.data, b.data + 147, 147);
	buf_free(&b);
}

static void
test_chain_vectors(void **state)
{
	uint8_t prev[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	char hex[2 * AUDIT_HASH_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(audit_event_hash(i == 0 ? NULL : prev, &ev[i],
		    h), 0);
		audit_hex(h, hex);
		assert_string_equal(hex, want_hash[i]);
		memcpy(prev, h, sizeof(prev));
	}
}

/* No previous hash means 32 zero bytes, nothing else. */
static void
test_first_prev_is_zero(void **state)
{
	static const uint8_t zero[AUDIT_HASH_LEN];
	uint8_t a[AUDIT_HASH_LEN], b[AUDIT_HASH_LEN];

	(void)state;
	assert_int_equal(audit_event_hash(NULL, &ev[0], a), 0);
	assert_int_equal(audit_event_hash(zero, &ev[0], b), 0);
	assert_memory_equal(a, b, sizeof(a));
}

/* Each column on its own changes the hash: NULL against "" and against
 * 0, and a changed value.  (Complements the vectors: a column dropped
 * from the encoding would leave one of these equal.) */
static void
test_every_column_counts(void **state)
{
	uint8_t base[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	struct audit_event e;
	int k;

	(void)state;
	assert_int_equal(audit_event_hash(NULL, &ev[1], base), 0);
	for (k = 0; k < 17; k++) {
		e = ev[1];
		switch (k) {
		case 0: e.id++; break;
		case 1: e.ts++; break;
		case 2: e.kind = "grant"; break;
		case 3: e.principal = "bob@EXAMPLE.ORH"; break;
		case 4: e.host = NULL; break;
		case 5: e.display = NULL; break;	/* NULL is not "" */
		case 6: e.product = "xdemp"; break;
		case 7: e.version = "1.3"; break;
		case 8: e.lease_id = ""; break;
		case 9: e.has_pool_id = 1; e.pool_id = 0; break; /* 0 not NULL */
		case 10: e.count = 2; break;
		case 11: e.code = 0; break;
		case 12: e.detail = "no free seat."; break;
		case 13: e.detail = NULL; break;
		case 14: e.has_seats = 1; e.seats = 0; break;
		case 15: e.has_count = 0; break;
		/* Bytes moved from one column to the next must not hash the
		 * same (the length prefixes). */
		case 16: e.product = "xdemo1"; e.version = ".2"; break;
		}
		assert_int_equal(audit_event_hash(NULL, &e, h), 0);
		if (memcmp(h, base, sizeof(h)) == 0)
			fail_msg("column change %d left the hash as it was", k);
	}
}

/* The cells of a row that holds ev[1] exactly as it was written. */
static void
cells_of_ev1(struct audit_cell c[AUDIT_NCOLS])
{
	static const int type[AUDIT_NCOLS] = {
		AUDIT_T_INTEGER, AUDIT_T_INTEGER, AUDIT_T_TEXT, AUDIT_T_TEXT,
		AUDIT_T_TEXT, AUDIT_T_TEXT, AUDIT_T_TEXT, AUDIT_T_TEXT,
		AUDIT_T_NULL, AUDIT_T_NULL, AUDIT_T_INTEGER, AUDIT_T_INTEGER,
		AUDIT_T_TEXT, AUDIT_T_NULL,
	};
	const char *text[AUDIT_NCOLS] = { NULL, NULL, ev[1].kind,
		ev[1].principal, ev[1].host, ev[1].display, ev[1].product,
		ev[1].version, NULL, NULL, NULL, NULL, ev[1].detail, NULL };
	int i;

	for (i = 0; i < AUDIT_NCOLS; i++) {
		c[i].type = type[i];
		c[i].bytes = text[i] != NULL ? strlen(text[i]) : 0;
	}
}

/*
 * audit_row_check: a row stored as written passes; each way a stored value
 * can read back as the hashed one while being another value is refused,
 * naming its column.  (ev[1] has NULL lease_id, pool_id and seats, an
 * empty display.)
 */
static void
test_row_check(void **state)
{
	static const struct {
		int col;	/* the cell changed */
		int type;	/* its stored type */
		size_t extra;	/* bytes past the string's strlen */
		int refused;
	} cases[] = {
		{ 0, AUDIT_T_REAL, 0, 1 },	/* id */
		{ 0, AUDIT_T_NULL, 0, 1 },
		{ 1, AUDIT_T_TEXT, 0, 1 },	/* ts */
		{ 1, AUDIT_T_NULL, 0, 1 },
		{ 2, AUDIT_T_NULL, 0, 1 },	/* kind */
		{ 2, AUDIT_T_BLOB, 0, 1 },
		{ 2, AUDIT_T_TEXT, 1, 1 },	/* "deny\0..." */
		{ 3, AUDIT_T_TEXT, 8, 1 },	/* principal with a NUL inside */
		{ 3, AUDIT_T_BLOB, 0, 1 },
		{ 3, AUDIT_T_NULL, 0, 1 },	/* read as a string: not NULL */
		{ 5, AUDIT_T_TEXT, 1, 1 },	/* display "" then a NUL */
		{ 5, AUDIT_T_INTEGER, 0, 1 },
		{ 6, AUDIT_T_REAL, 0, 1 },	/* product */
		{ 7, AUDIT_T_TEXT, 3, 1 },	/* version */
		{ 8, AUDIT_T_TEXT, 0, 1 },	/* lease_id read as NULL */
		{ 9, AUDIT_T_REAL, 0, 1 },	/* pool_id */
		{ 9, AUDIT_T_TEXT, 0, 1 },
		{ 10, AUDIT_T_REAL, 0, 1 },	/* count */
		{ 10, AUDIT_T_TEXT, 0, 1 },
		{ 10, AUDIT_T_BLOB, 0, 1 },
		{ 10, AUDIT_T_NULL, 0, 1 },	/* count 1 read as NULL */
		{ 9, AUDIT_T_INTEGER, 0, 1 },	/* pool_id NULL read as 0 */
		{ 11, AUDIT_T_REAL, 0, 1 },	/* code */
		{ 11, AUDIT_T_TEXT, 0, 1 },
		{ 11, AUDIT_T_NULL, 0, 1 },
		{ 12, AUDIT_T_TEXT, 5, 1 },	/* detail */
		{ 12, AUDIT_T_NULL, 0, 1 },
		{ 13, AUDIT_T_REAL, 0, 1 },	/* seats */
		{ 13, AUDIT_T_TEXT, 0, 1 },
		{ 13, AUDIT_T_INTEGER, 0, 1 },	/* seats NULL read as a value */
		{ 4, AUDIT_T_TEXT, 0, 0 },	/* host as it was */
		{ 9, AUDIT_T_NULL, 0, 0 },	/* pool_id as it was (NULL) */
	};
	struct audit_cell c[AUDIT_NCOLS];
	size_t i;
	int col = 99;

	(void)state;
	cells_of_ev1(c);
	assert_int_equal(audit_row_check(&ev[1], c, &col), 0);
	assert_int_equal(col, -1);
	assert_int_equal(audit_row_check(&ev[1], c, NULL), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cells_of_ev1(c);
		c[cases[i].col].type = cases[i].type;
		c[cases[i].col].bytes += cases[i].extra;
		col = 99;
		if (!cases[i].refused) {
			assert_int_equal(audit_row_check(&ev[1], c, &col), 0);
			assert_int_equal(col, -1);
			continue;
		}
		if (audit_row_check(&ev[1], c, &col) != XLICEN_E_AUDIT_CHAIN)
			fail_msg("case %zu: column %d as type %d passed", i,
			    cases[i].col, cases[i].type);
		assert_int_equal(col, cases[i].col);
	}
	/* The first column refused is named; names follow table order. */
	cells_of_ev1(c);
	c[13].type = AUDIT_T_REAL;
	c[9].type = AUDIT_T_TEXT;
	assert_int_equal(audit_row_check(&ev[1], c, &col),
	    XLICEN_E_AUDIT_CHAIN);
	assert_int_equal(col, 9);
	assert_string_equal(audit_col_name(col), "pool_id");
	assert_string_equal(audit_col_name(0), "id");
	assert_string_equal(audit_col_name(12), "detail");
	assert_string_equal(audit_col_name(13), "seats");
	assert_string_equal(audit_col_name(14), "?");
	assert_string_equal(audit_col_name(-1), "?");
}

static void
test_hex(void **state)
{
	uint8_t h[AUDIT_HASH_LEN];
	char hex[2 * AUDIT_HASH_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(h); i++)
		h[i] = (uint8_t)(i * 8 + 7);
	audit_hex(h, hex);
	assert_string_equal(hex, "070f171f272f373f474f575f676f777f"
	    "878f979fa7afb7bfc7cfd7dfe7eff7ff");
}

/*
 * The verifier (audit_chain_*), fed the rows of ev[] with their stored
 * hashes as the server and `xlicen report verify --database` feed it.
 */

/* The cells of a row that stores e exactly as written. */
static void
cells_of(const struct audit_event *e, struct audit_cell c[AUDIT_NCOLS])
{
	const char *text[AUDIT_NCOLS] = { NULL, NULL, e->kind, e->principal,
		e->host, e->display, e->product, e->version, e->lease_id, NULL,
		NULL, NULL, e->detail, NULL };
	int i;

	for (i = 0; i < AUDIT_NCOLS; i++) {
		c[i].type = text[i] != NULL ? AUDIT_T_TEXT : AUDIT_T_NULL;
		c[i].bytes = text[i] != NULL ? strlen(text[i]) : 0;
	}
	c[0].type = c[1].type = c[11].type = AUDIT_T_INTEGER;
	c[9].type = e->has_pool_id ? AUDIT_T_INTEGER : AUDIT_T_NULL;
	c[10].type = e->has_count ? AUDIT_T_INTEGER : AUDIT_T_NULL;
	c[13].type = e->has_seats ? AUDIT_T_INTEGER : AUDIT_T_NULL;
}

/* want_hash[i] as bytes: the hash stored with ev[i]. */
static void
stored_hash(size_t i, uint8_t h[AUDIT_HASH_LEN])
{
	size_t k;
	unsigned int v;

	for (k = 0; k < AUDIT_HASH_LEN; k++) {
		assert_int_equal(sscanf(want_hash[i] + 2 * k, "%2x", &v), 1);
		h[k] = (uint8_t)v;
	}
}

/* Feed the rows ev[order[0..n-1]], each with its stored hash; returns
 * the first feed's result that is not 0 (0 if none), *at its index. */
static int
feed_rows(struct audit_chain *c, const size_t *order, size_t n, size_t *at)
{
	struct audit_cell cells[AUDIT_NCOLS];
	uint8_t h[AUDIT_HASH_LEN];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		cells_of(&ev[order[i]], cells);
		stored_hash(order[i], h);
		if ((rc = audit_chain_feed(c, &ev[order[i]], cells, h,
		    sizeof(h))) != 0) {
			*at = i;
			return rc;
		}
	}
	*at = n;
	return 0;
}

/* Assert the chain broke at event bad for reason after rows rows, with
 * the head of event head_of (-1: no row good). */
static void
assert_broken(const struct audit_chain *c, enum audit_break reason,
    int64_t bad, uint64_t rows, int head_of)
{
	char head[2 * AUDIT_HASH_LEN + 1];

	assert_int_equal(c->reason, reason);
	assert_int_equal(c->bad_id, bad);
	assert_int_equal(c->rows, rows);
	if (head_of < 0) {
		assert_int_equal(audit_chain_head(c, head), 0);
		assert_string_equal(head, "");
	} else {
		assert_int_equal(audit_chain_head(c, head), 1);
		assert_string_equal(head, want_hash[head_of]);
	}
}

static void
test_chain_good(void **state)
{
	static const size_t order[] = { 0, 1, 2, 3 };
	struct audit_chain c;
	char head[2 * AUDIT_HASH_LEN + 1];
	size_t at = 99;

	(void)state;
	audit_chain_init(&c);
	assert_int_equal(audit_chain_head(&c, head), 0);
	assert_string_equal(head, "");
	assert_int_equal(feed_rows(&c, order, 4, &at), 0);
	assert_int_equal(at, 4);
	assert_int_equal(c.reason, AUDIT_BREAK_NONE);
	assert_int_equal(c.rows, 4);
	assert_int_equal(c.col, -1);
	assert_int_equal(audit_chain_head(&c, head), 1);
	assert_string_equal(head, want_hash[3]);
}

/* A changed field: the row's own hash no longer matches; the rows after
 * it are not looked at. */
static void
test_chain_changed_field(void **state)
{
	static const size_t order[] = { 0, 1 };
	struct audit_chain c;
	struct audit_event e = ev[2];
	struct audit_cell cells[AUDIT_NCOLS];
	uint8_t h[AUDIT_HASH_LEN];
	size_t at;

	(void)state;
	audit_chain_init(&c);
	assert_int_equal(feed_rows(&c, order, 2, &at), 0);
	e.detail = "licenses: 4 pools, caf\xc3\xa9";
	cells_of(&e, cells);
	stored_hash(2, h);
	assert_int_equal(audit_chain_feed(&c, &e, cells, h, sizeof(h)),
	    XLICEN_E_AUDIT_CHAIN);
	assert_broken(&c, AUDIT_BREAK_HASH, 3, 3, 1);
	/* Broken stays broken: a good row after it changes nothing. */
	cells_of(&ev[3], cells);
	stored_hash(3, h);
	assert_int_equal(audit_chain_feed(&c, &ev[3], cells, h, sizeof(h)),
	    XLICEN_E_AUDIT_CHAIN);
	assert_broken(&c, AUDIT_BREAK_HASH, 3, 3, 1);
}

/* A row removed from the middle: the next one was chained to it. */
static void
test_chain_removed_row(void **state)
{
	static const size_t order[] = { 0, 2, 3 };
	struct audit_chain c;
	size_t at;

	(void)state;
	audit_chain_init(&c);
	assert_int_equal(feed_rows(&c, order, 3, &at), XLICEN_E_AUDIT_CHAIN);
	assert_int_equal(at, 1);
	assert_broken(&c, AUDIT_BREAK_HASH, 3, 2, 0);
}

/* Two rows swapped, in the middle and at the start. */
static void
test_chain_reordered(void **state)
{
	static const size_t mid[] = { 0, 2, 1, 3 }, first[] = { 1, 0, 2, 3 };
	struct audit_chain c;
	size_t at;

	(void)state;
	audit_chain_init(&c);
	assert_int_equal(feed_rows(&c, mid, 4, &at), XLICEN_E_AUDIT_CHAIN);
	assert_int_equal(at, 1);
	assert_broken(&c, AUDIT_BREAK_HASH, 3, 2, 0);
	audit_chain_init(&c);
	assert_int_equal(feed_rows(&c, first, 4, &at), XLICEN_E_AUDIT_CHAIN);
	assert_int_equal(at, 0);
	assert_broken(&c, AUDIT_BREAK_HASH, 2, 1, -1);
}

/* The first row must be chained to 32 zero bytes: a trail whose first
 * rows were cut off, or a first hash made from another start, breaks at
 * once. */
static void
test_chain_wrong_first_prev(void **state)
{
	static const size_t cut[] = { 1, 2, 3 };
	static const uint8_t other[AUDIT_HASH_LEN] = { 1 };
	struct audit_chain c;
	struct audit_cell cells[AUDIT_NCOLS];
	uint8_t h[AUDIT_HASH_LEN];
	size_t at;

	(void)state;
	audit_chain_init(&c);
	assert_int_equal(feed_rows(&c, cut, 3, &at), XLICEN_E_AUDIT_CHAIN);
	assert_int_equal(at, 0);
	assert_broken(&c, AUDIT_BREAK_HASH, 2, 1, -1);

	audit_chain_init(&c);
	assert_int_equal(audit_event_hash(other, &ev[0], h), 0);
	cells_of(&ev[0], cells);
	assert_int_equal(audit_chain_feed(&c, &ev[0], cells, h, sizeof(h)),
	    XLICEN_E_AUDIT_CHAIN);
	assert_broken(&c, AUDIT_BREAK_HASH, 1, 1, -1);
}

/* A row whose hash is right but whose column is not stored as the chain
 * encodes it (count as a REAL) is a break with its column; so are a
 * missing and a short stored hash. */
static void
test_chain_refused_row(void **state)
{
	static const size_t order[] = { 0 };
	struct audit_chain c;
	struct audit_cell cells[AUDIT_NCOLS];
	uint8_t h[AUDIT_HASH_LEN];
	size_t at;

	(void)state;
	audit_chain_init(&c);
	assert_int_equal(feed_rows(&c, order, 1, &at), 0);
	cells_of(&ev[1], cells);
	cells[10].type = AUDIT_T_REAL;
	stored_hash(1, h);
	assert_int_equal(audit_chain_feed(&c, &ev[1], cells, h, sizeof(h)),
	    XLICEN_E_AUDIT_CHAIN);
	assert_broken(&c, AUDIT_BREAK_COLUMN, 2, 2, 0);
	assert_int_equal(c.col, 10);

	audit_chain_init(&c);
	cells_of(&ev[0], cells);
	assert_int_equal(audit_chain_feed(&c, &ev[0], cells, NULL, 0),
	    XLICEN_E_AUDIT_CHAIN);
	assert_broken(&c, AUDIT_BREAK_HASH, 1, 1, -1);
	assert_int_equal(c.col, -1);
	audit_chain_init(&c);
	stored_hash(0, h);
	assert_int_equal(audit_chain_feed(&c, &ev[0], cells, h,
	    sizeof(h) - 1), XLICEN_E_AUDIT_CHAIN);
	assert_broken(&c, AUDIT_BREAK_HASH, 1, 1, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoding_bytes),
		cmocka_unit_test(test_chain_vectors),
		cmocka_unit_test(test_first_prev_is_zero),
		cmocka_unit_test(test_every_column_counts),
		cmocka_unit_test(test_row_check),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_chain_good),
		cmocka_unit_test(test_chain_changed_field),
		cmocka_unit_test(test_chain_removed_row),
		cmocka_unit_test(test_chain_reordered),
		cmocka_unit_test(test_chain_wrong_first_prev),
		cmocka_unit_test(test_chain_refused_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
