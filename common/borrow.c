/*
 * Borrow tokens (borrow.h): their one encoder and one decoder, the
 * signature (the Ed25519 signer of license.c), and the checks an offline
 * checkout applies.  Every byte of a token on disk is untrusted: a user
 * can write the file.
 */
#include <stdint.h>
#include <string.h>

#include "borrow.h"
#include "buf.h"
#include "display.h"
#include "license.h"
#include "xlicen_errors.h"

/* The string fields in their order on the wire. */
#define BORROW_NSTR	7
static char *
borrow_str(struct borrow_token *t, int i)
{
	char *const f[BORROW_NSTR] = { t->product, t->version, t->principal,
	    t->host, t->host_principal, t->lease, t->server };

	return f[i];
}

static int
borrow_str_ok(const char *s)
{
	size_t n = strnlen(s, LIMIT_STRING + 1);

	return n <= LIMIT_STRING && buf_utf8_valid((const uint8_t *)s, n);
}

int
borrow_token_encode(const struct borrow_token *t, void *evp_pkey,
    struct buf *out)
{
	struct borrow_token c;
	uint8_t sig[BORROW_SIG_LEN];
	size_t base = out->len, n;
	int i, rc;

	memcpy(&c, t, sizeof(c));
	for (i = 0; i < BORROW_NSTR; i++)
		if (!borrow_str_ok(borrow_str(&c, i)))
			return XLICEN_E_INVALID;
	if (c.product[0] == '\0' || c.principal[0] == '\0' ||
	    c.lease[0] == '\0' || c.end <= c.start)
		return XLICEN_E_INVALID;
	if ((rc = buf_put_bytes(out, BORROW_MAGIC, 4)) != 0 ||
	    (rc = buf_put_u8(out, BORROW_VERSION)) != 0 ||
	    (rc = buf_put_u64(out, c.start)) != 0 ||
	    (rc = buf_put_u64(out, c.end)) != 0)
		goto fail;
	for (i = 0; i < BORROW_NSTR; i++) {
		n = strlen(borrow_str(&c, i));
		if ((rc = buf_put_u16(out, (uint16_t)n)) != 0 ||
		    (rc = buf_put_bytes(out, borrow_str(&c, i), n)) != 0)
			goto fail;
	}
	if ((rc = license_ed25519_sign(evp_pkey, out->data + base,
	    out->len - base, sig)) != 0 ||
	    (rc = buf_put_bytes(out, sig, sizeof(sig))) != 0)
		goto fail;
	return 0;
fail:
	out->len = base;
	return rc;
}

int
borrow_token_parse(const uint8_t *p, size_t n, struct borrow_token *t)
{
	struct buf_reader r;
	const uint8_t *b;
	uint16_t len;
	uint8_t ver;
	int i;

	memset(t, 0, sizeof(*t));
	if (p == NULL || n > LIMIT_BORROW_TOKEN)
		return XLICEN_E_TOKEN;
	buf_reader_init(&r, p, n);
	if (buf_get_bytes(&r, 4, &b) != 0 || memcmp(b, BORROW_MAGIC, 4) != 0 ||
	    buf_get_u8(&r, &ver) != 0 || ver != BORROW_VERSION ||
	    buf_get_u64(&r, &t->start) != 0 || buf_get_u64(&r, &t->end) != 0)
		goto bad;
	for (i = 0; i < BORROW_NSTR; i++) {
		if (buf_get_u16(&r, &len) != 0 || len > LIMIT_STRING ||
		    buf_get_bytes(&r, len, &b) != 0 ||
		    !buf_utf8_valid(b, len))
			goto bad;
		memcpy(borrow_str(t, i), b, len);
		borrow_str(t, i)[len] = '\0';
	}
	if (buf_reader_avail(&r) != BORROW_SIG_LEN ||
	    buf_get_bytes(&r, BORROW_SIG_LEN, &b) != 0)
		goto bad;
	memcpy(t->sig, b, BORROW_SIG_LEN);
	if (t->product[0] == '\0' || t->principal[0] == '\0' ||
	    t->lease[0] == '\0' || t->end <= t->start)
		goto bad;
	return 0;
bad:
	memset(t, 0, sizeof(*t));
	return XLICEN_E_TOKEN;
}

int
borrow_token_verify(const uint8_t *p, size_t n, void *evp_pkey,
    struct borrow_token *t)
{
	int rc;

	if ((rc = borrow_token_parse(p, n, t)) != 0)
		return rc;
	rc = license_ed25519_verify(evp_pkey, p, n - BORROW_SIG_LEN, t->sig);
	if (rc == XLICEN_E_NOMEM)
		return rc;
	return rc != 0 ? XLICEN_E_TOKEN_SIGNATURE : 0;
}

int
borrow_token_check(const struct borrow_token *t, const struct borrow_use *u)
{
	int64_t seen = u->now > u->latest ? u->now : u->latest;

	/* The clock: a user who sets it back beyond the tolerance is
	 * refused, and within it the latest time seen still counts, so
	 * no clock trick extends a token by more than the tolerance. */
	if (u->now < u->latest - LIMIT_BORROW_CLOCK_BACK_S ||
	    u->now < (int64_t)t->start - LIMIT_BORROW_CLOCK_BACK_S)
		return XLICEN_E_TOKEN_CLOCK;
	if (seen < 0 || (uint64_t)seen >= t->end)
		return XLICEN_E_TOKEN_EXPIRED;
	if (u->principal == NULL || strcmp(u->principal, t->principal) != 0)
		return XLICEN_E_TOKEN_PRINCIPAL;
	if (!display_host_same(u->host, t->host))
		return XLICEN_E_TOKEN_HOST;
	if (u->product == NULL || strcmp(u->product, t->product) != 0 ||
	    u->version == NULL || license_version_cmp(u->version,
	    t->version) != 0)
		return XLICEN_E_NO_TOKEN;
	return 0;
}
