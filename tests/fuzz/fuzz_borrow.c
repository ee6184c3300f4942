/*
 * libFuzzer target: the borrow token decoder (borrow_token_parse and
 * borrow_token_verify, common/borrow.c), the bytes a user can write into
 * the token file, and the offline checks (borrow_token_check) on what it
 * accepts.
 *
 * Properties checked, beyond "no crash, no leak, no undefined behaviour":
 *   - a refused token gets XLICEN_E_TOKEN and a zeroed struct;
 *   - an accepted one has product, principal and lease non-empty, end
 *     after start, and re-encodes (signed with a fixed key) to the same
 *     bytes up to the signature, which then verifies, while the input's
 *     own signature does not (no input can carry this key's signature
 *     for these fields unless it is that re-encoding);
 *   - borrow_token_check answers 0 or one of its documented codes.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "borrow.h"
#include "buf.h"
#include "xlicen_errors.h"

#include "fuzz_check.h"

static EVP_PKEY *
fuzz_key(void)
{
	static const uint8_t seed[32] = { 'x', 'l', 'i', 'c', 'e', 'n', ' ',
	    'b', 'o', 'r', 'r', 'o', 'w', ' ', 'f', 'u', 'z', 'z' };
	static EVP_PKEY *key;

	if (key == NULL)
		key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
		    sizeof(seed));
	FUZZ_CHECK(key != NULL);
	return key;
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct borrow_token t, t2;
	struct borrow_use u;
	struct buf b;
	int rc;

	rc = borrow_token_parse(data, size, &t);
	if (rc != 0) {
		FUZZ_CHECK(rc == XLICEN_E_TOKEN);
		FUZZ_CHECK(all_zero(&t, sizeof(t)));
		FUZZ_CHECK(borrow_token_verify(data, size, fuzz_key(), &t2) ==
		    XLICEN_E_TOKEN);
		return 0;
	}
	FUZZ_CHECK(t.product[0] != '\0' && t.principal[0] != '\0' &&
	    t.lease[0] != '\0' && t.end > t.start);
	buf_init(&b);
	FUZZ_CHECK(borrow_token_encode(&t, fuzz_key(), &b) == 0);
	FUZZ_CHECK(b.len == size);
	FUZZ_CHECK(memcmp(b.data, data, size - BORROW_SIG_LEN) == 0);
	FUZZ_CHECK(borrow_token_verify(b.data, b.len, fuzz_key(), &t2) == 0);
	FUZZ_CHECK(memcmp(&t2, &t, offsetof(struct borrow_token, sig)) == 0);
	if (memcmp(b.data + size - BORROW_SIG_LEN, data + size - BORROW_SIG_LEN,
	    BORROW_SIG_LEN) != 0)
		FUZZ_CHECK(borrow_token_verify(data, size, fuzz_key(), &t2) ==
		    XLICEN_E_TOKEN_SIGNATURE);
	buf_free(&b);
	/* The checks, with the token's own fields and a clock from it. */
	u.principal = t.principal;
	u.product = t.product;
	u.version = t.version;
	u.host = t.host;
	u.now = (int64_t)(t.start & 0x3fffffffffffffffULL);
	u.latest = (int64_t)(t.end & 0x3fffffffffffffffULL);
	rc = borrow_token_check(&t, &u);
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_TOKEN_CLOCK ||
	    rc == XLICEN_E_TOKEN_EXPIRED || rc == XLICEN_E_TOKEN_HOST ||
	    rc == XLICEN_E_NO_TOKEN);
	return 0;
}
