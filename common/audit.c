/*
 * The audit trail's hash chain (see audit.h): the one canonical encoding
 * of an events row, the chained SHA-256 over it (OpenSSL EVP), and the
 * one verifier of a chain fed row by row.
 */
#include <string.h>

#include <openssl/evp.h>

#include "audit.h"
#include "hex.h"
#include "xlicen_errors.h"

static int
put_int(struct buf *b, int has, int64_t v)
{
	int rc;

	if (!has)
		return buf_put_u8(b, 0);
	if ((rc = buf_put_u8(b, 1)) != 0)
		return rc;
	return buf_put_u64(b, (uint64_t)v);
}

static int
put_str(struct buf *b, const char *s)
{
	size_t n;
	int rc;

	if (s == NULL)
		return buf_put_u8(b, 0);
	n = strlen(s);
	if (n > UINT32_MAX)
		return XLICEN_E_INVALID;
	if ((rc = buf_put_u8(b, 2)) != 0 ||
	    (rc = buf_put_u32(b, (uint32_t)n)) != 0)
		return rc;
	return buf_put_bytes(b, s, n);
}

int
audit_event_encode(const struct audit_event *ev, struct buf *out)
{
	size_t start = out->len;
	int rc;

	/* Column order of the events table; the leading id makes a row's
	 * place part of what is hashed. */
	if ((rc = buf_put_bytes(out, AUDIT_CANON_ID, strlen(AUDIT_CANON_ID))) ||
	    (rc = put_int(out, 1, ev->id)) ||
	    (rc = put_int(out, 1, ev->ts)) ||
	    (rc = put_str(out, ev->kind)) ||
	    (rc = put_str(out, ev->principal)) ||
	    (rc = put_str(out, ev->host)) ||
	    (rc = put_str(out, ev->display)) ||
	    (rc = put_str(out, ev->product)) ||
	    (rc = put_str(out, ev->version)) ||
	    (rc = put_str(out, ev->lease_id)) ||
	    (rc = put_int(out, ev->has_pool_id, ev->pool_id)) ||
	    (rc = put_int(out, ev->has_count, ev->count)) ||
	    (rc = put_int(out, 1, ev->code)) ||
	    (rc = put_str(out, ev->detail)) ||
	    (rc = put_int(out, ev->has_seats, ev->seats)))
		out->len = start;
	return rc;
}

int
audit_event_hash(const uint8_t *prev, const struct audit_event *ev,
    uint8_t out[AUDIT_HASH_LEN])
{
	static const uint8_t zero[AUDIT_HASH_LEN];
	EVP_MD_CTX *ctx = NULL;
	struct buf b;
	unsigned int len = 0;
	int rc;

	memset(out, 0, AUDIT_HASH_LEN);
	buf_init(&b);
	if ((rc = audit_event_encode(ev, &b)) != 0)
		goto out;
	rc = XLICEN_E_NOMEM;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	rc = XLICEN_E_INTERNAL;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prev != NULL ? prev : zero,
	    AUDIT_HASH_LEN) != 1 ||
	    EVP_DigestUpdate(ctx, b.data, b.len) != 1 ||
	    EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != AUDIT_HASH_LEN) {
		memset(out, 0, AUDIT_HASH_LEN);
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	buf_free(&b);
	return rc;
}

/* What each column of the chain may hold: an integer, a text, and whether
 * NULL is allowed. */
enum { C_INT, C_TEXT };
static const struct {
	const char *name;
	int kind;
	int nullable;
} cols[AUDIT_NCOLS] = {
	{ "id", C_INT, 0 }, { "ts", C_INT, 0 }, { "kind", C_TEXT, 0 },
	{ "principal", C_TEXT, 1 }, { "host", C_TEXT, 1 },
	{ "display", C_TEXT, 1 }, { "product", C_TEXT, 1 },
	{ "version", C_TEXT, 1 }, { "lease_id", C_TEXT, 1 },
	{ "pool_id", C_INT, 1 }, { "count", C_INT, 1 }, { "code", C_INT, 0 },
	{ "detail", C_TEXT, 1 }, { "seats", C_INT, 1 },
};

const char *
audit_col_name(int i)
{
	return i >= 0 && i < AUDIT_NCOLS ? cols[i].name : "?";
}

/* Whether column i, stored as c, is the value the encoding hashes: ev
 * has a value there (present) exactly when c is not NULL, and for a text
 * column text is that value. */
static int
cell_ok(int i, const struct audit_cell *c, int present, const char *text)
{
	if (c->type == AUDIT_T_NULL)
		return cols[i].nullable && !present;
	if (!present)
		return 0;
	if (cols[i].kind == C_INT)
		return c->type == AUDIT_T_INTEGER;
	return c->type == AUDIT_T_TEXT && c->bytes == strlen(text);
}

int
audit_row_check(const struct audit_event *ev,
    const struct audit_cell cells[AUDIT_NCOLS], int *col)
{
	const char *text[AUDIT_NCOLS] = { NULL };
	int present[AUDIT_NCOLS], i;

	text[2] = ev->kind;
	text[3] = ev->principal;
	text[4] = ev->host;
	text[5] = ev->display;
	text[6] = ev->product;
	text[7] = ev->version;
	text[8] = ev->lease_id;
	text[12] = ev->detail;
	for (i = 0; i < AUDIT_NCOLS; i++)
		present[i] = cols[i].kind == C_INT || text[i] != NULL;
	present[9] = ev->has_pool_id;
	present[10] = ev->has_count;
	present[13] = ev->has_seats;
	for (i = 0; i < AUDIT_NCOLS; i++) {
		if (!cell_ok(i, &cells[i], present[i], text[i]))
			break;
	}
	if (col != NULL)
		*col = i < AUDIT_NCOLS ? i : -1;
	return i < AUDIT_NCOLS ? XLICEN_E_AUDIT_CHAIN : 0;
}

void
audit_chain_init(struct audit_chain *c)
{
	memset(c, 0, sizeof(*c));
	c->reason = AUDIT_BREAK_NONE;
	c->col = -1;
}

int
audit_chain_feed(struct audit_chain *c, const struct audit_event *ev,
    const struct audit_cell cells[AUDIT_NCOLS], const uint8_t *hash,
    size_t hashlen)
{
	uint8_t h[AUDIT_HASH_LEN];
	int rc, col = -1;

	if (c->reason != AUDIT_BREAK_NONE)
		return XLICEN_E_AUDIT_CHAIN;
	c->rows++;
	if ((rc = audit_event_hash(c->have ? c->prev : NULL, ev, h)) != 0)
		return rc;
	if (audit_row_check(ev, cells, &col) != 0) {
		c->reason = AUDIT_BREAK_COLUMN;
		c->col = col;
	} else if (hash == NULL || hashlen != AUDIT_HASH_LEN ||
	    memcmp(hash, h, AUDIT_HASH_LEN) != 0) {
		c->reason = AUDIT_BREAK_HASH;
	} else {
		memcpy(c->prev, h, sizeof(c->prev));
		c->have = 1;
		return 0;
	}
	c->bad_id = ev->id;
	return XLICEN_E_AUDIT_CHAIN;
}

int
audit_chain_head(const struct audit_chain *c,
    char out[2 * AUDIT_HASH_LEN + 1])
{
	out[0] = '\0';
	if (!c->have)
		return 0;
	audit_hex(c->prev, out);
	return 1;
}

void
audit_hex(const uint8_t h[AUDIT_HASH_LEN], char out[2 * AUDIT_HASH_LEN + 1])
{
	hex_encode(h, AUDIT_HASH_LEN, out);
}
