/*
 * Unit tests for common/borrow: the committed test vector of
 * docs/PROTOCOL.md section 8.5 (tests/vectors/borrow: a token made with
 * openssl and python, independently of this encoder, and its key pair)
 * verifies and re-encodes to the same bytes; every truncation, every
 * flipped bit, a wrong magic or version and another key are refused;
 * borrow_token_check's refusals, each with its code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "borrow.h"
#include "buf.h"
#include "license.h"
#include "xlicen_errors.h"

#define VEC_START	1796256000u	/* 2026-12-01T00:00:00Z */
#define VEC_END		1796860800u	/* 2026-12-08T00:00:00Z */

static uint8_t vec[LIMIT_BORROW_TOKEN];
static size_t veclen;
static void *vec_pub;

static void
vec_path(const char *name, char *out, size_t outlen)
{
	const char *dir = getenv("XLICEN_SOURCE_DIR");

	snprintf(out, outlen, "%s/tests/vectors/borrow/%s",
	    dir != NULL ? dir : ".", name);
}

static int
setup(void **state)
{
	char path[1024];
	struct license_error err;
	FILE *f;

	(void)state;
	vec_path("vector.token", path, sizeof(path));
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	veclen = fread(vec, 1, sizeof(vec), f);
	fclose(f);
	vec_path("vector.pub", path, sizeof(path));
	return license_key_load_public(path, &vec_pub, &err);
}

static int
teardown(void **state)
{
	(void)state;
	license_key_free(vec_pub);
	return 0;
}

static void
vec_fields(struct borrow_token *t)
{
	memset(t, 0, sizeof(*t));
	t->start = VEC_START;
	t->end = VEC_END;
	strcpy(t->product, "xdemo");
	strcpy(t->version, "1.0");
	strcpy(t->principal, "alice@XLICEN.TEST");
	strcpy(t->host, "laptop1.example.org");
	strcpy(t->host_principal, "host/laptop1.example.org@XLICEN.TEST");
	strcpy(t->lease, "0123456789abcdef0123456789abcdef");
	strcpy(t->server, "license.example.org");
}

/* The vector verifies against its public key and says what it says. */
static void
test_vector_verifies(void **state)
{
	struct borrow_token t, want;

	(void)state;
	assert_int_equal(veclen, 230);
	assert_int_equal(borrow_token_verify(vec, veclen, vec_pub, &t), 0);
	vec_fields(&want);
	assert_int_equal(t.start, want.start);
	assert_int_equal(t.end, want.end);
	assert_string_equal(t.product, want.product);
	assert_string_equal(t.version, want.version);
	assert_string_equal(t.principal, want.principal);
	assert_string_equal(t.host, want.host);
	assert_string_equal(t.host_principal, want.host_principal);
	assert_string_equal(t.lease, want.lease);
	assert_string_equal(t.server, want.server);
	assert_memory_equal(t.sig, vec + veclen - 64, 64);
}

/* The encoder with the vector's private key makes the same bytes
 * (Ed25519 signatures are deterministic). */
static void
test_vector_encodes(void **state)
{
	char path[1024], tmp[1024];
	const char *td = getenv("XLICEN_TEST_TMP");
	struct license_error err;
	struct borrow_token t;
	struct buf b;
	void *key = NULL;
	uint8_t data[512];
	size_t n;
	FILE *f;
	int fd;

	(void)state;
	/* git keeps no mode: a 0600 copy for the key loader. */
	vec_path("vector.key", path, sizeof(path));
	assert_non_null(f = fopen(path, "rb"));
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	snprintf(tmp, sizeof(tmp), "%s/test_borrow.XXXXXX",
	    td != NULL ? td : "/tmp");
	mkdir(td != NULL ? td : "/tmp", 0700);
	assert_true((fd = mkstemp(tmp)) >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	assert_int_equal(license_key_load_private(tmp, &key, &err), 0);
	unlink(tmp);
	vec_fields(&t);
	buf_init(&b);
	assert_int_equal(borrow_token_encode(&t, key, &b), 0);
	assert_int_equal(b.len, veclen);
	assert_memory_equal(b.data, vec, veclen);
	/* Not encodable: no product, an end not after the start. */
	t.product[0] = '\0';
	assert_int_equal(borrow_token_encode(&t, key, &b), XLICEN_E_INVALID);
	vec_fields(&t);
	t.end = t.start;
	assert_int_equal(borrow_token_encode(&t, key, &b), XLICEN_E_INVALID);
	/* A public key cannot sign. */
	vec_fields(&t);
	assert_int_equal(borrow_token_encode(&t, vec_pub, &b),
	    XLICEN_E_LIC_KEY);
	assert_int_equal(b.len, veclen);
	buf_free(&b);
	license_key_free(key);
}

/* Every proper prefix, a trailing byte, a wrong magic or version:
 * XLICEN_E_TOKEN. */
static void
test_malformed(void **state)
{
	struct borrow_token t;
	uint8_t m[LIMIT_BORROW_TOKEN + 1];
	size_t n;

	(void)state;
	for (n = 0; n < veclen; n++)
		assert_int_equal(borrow_token_parse(vec, n, &t),
		    XLICEN_E_TOKEN);
	memcpy(m, vec, veclen);
	m[veclen] = 0;
	assert_int_equal(borrow_token_parse(m, veclen + 1, &t), XLICEN_E_TOKEN);
	m[0] = 'Y';
	assert_int_equal(borrow_token_parse(m, veclen, &t), XLICEN_E_TOKEN);
	memcpy(m, vec, veclen);
	m[4] = 2;
	assert_int_equal(borrow_token_parse(m, veclen, &t), XLICEN_E_TOKEN);
	assert_int_equal(borrow_token_parse(NULL, 0, &t), XLICEN_E_TOKEN);
	assert_int_equal(borrow_token_parse(vec, LIMIT_BORROW_TOKEN + 1, &t),
	    XLICEN_E_TOKEN);
}

/* Every single flipped bit: refused, as malformed or by the signature;
 * never accepted. */
static void
test_every_bit_flip(void **state)
{
	struct borrow_token t;
	uint8_t m[LIMIT_BORROW_TOKEN];
	size_t i, sigs = 0;
	int b, rc;

	(void)state;
	for (i = 0; i < veclen; i++)
		for (b = 0; b < 8; b++) {
			memcpy(m, vec, veclen);
			m[i] ^= (uint8_t)(1u << b);
			rc = borrow_token_verify(m, veclen, vec_pub, &t);
			if (rc != XLICEN_E_TOKEN)
				assert_int_equal(rc, XLICEN_E_TOKEN_SIGNATURE);
			sigs += rc == XLICEN_E_TOKEN_SIGNATURE;
		}
	/* The end's lowest byte moved later: a well-formed forgery. */
	memcpy(m, vec, veclen);
	m[20] = 0xff;
	assert_int_equal(borrow_token_verify(m, veclen, vec_pub, &t),
	    XLICEN_E_TOKEN_SIGNATURE);
	assert_true(sigs > 1000);
}

/* Another server's key does not verify the vector. */
static void
test_other_key(void **state)
{
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct borrow_token t;

	(void)state;
	assert_non_null(other);
	assert_int_equal(borrow_token_verify(vec, veclen, other, &t),
	    XLICEN_E_TOKEN_SIGNATURE);
	EVP_PKEY_free(other);
}

/* borrow_token_check: each refusal with its code. */
static void
test_check(void **state)
{
	struct borrow_token t;
	struct borrow_use u = {
		.principal = "alice@XLICEN.TEST", .product = "xdemo",
		.version = "1", .host = "LAPTOP1.", .now = VEC_START + 10,
		.latest = VEC_START,
	};

	(void)state;
	vec_fields(&t);
	assert_int_equal(borrow_token_check(&t, &u), 0);
	u.principal = "bob@XLICEN.TEST";
	assert_int_equal(borrow_token_check(&t, &u), XLICEN_E_TOKEN_PRINCIPAL);
	u.principal = "alice@XLICEN.TEST";
	u.host = "laptop2.example.org";
	assert_int_equal(borrow_token_check(&t, &u), XLICEN_E_TOKEN_HOST);
	u.host = "";
	assert_int_equal(borrow_token_check(&t, &u), XLICEN_E_TOKEN_HOST);
	u.host = "laptop1";
	u.version = "2.0";
	assert_int_equal(borrow_token_check(&t, &u), XLICEN_E_NO_TOKEN);
	u.version = "1.0";
	u.product = "other";
	assert_int_equal(borrow_token_check(&t, &u), XLICEN_E_NO_TOKEN);
	u.product = "xdemo";
	/* The end is exclusive. */
	u.now = VEC_END;
	u.latest = VEC_END - 1;
	assert_int_equal(borrow_token_check(&t, &u), XLICEN_E_TOKEN_EXPIRED);
	/* The clock set back within the tolerance: the latest time seen
	 * still counts, so the end cannot be stretched by it. */
	u.now = VEC_END - 10;
	u.latest = VEC_END + 10;
	assert_int_equal(borrow_token_check(&t, &u), XLICEN_E_TOKEN_EXPIRED);
	/* Beyond it: refused as such. */
	u.now = VEC_START + 100;
	u.latest = VEC_START + 100 + LIMIT_BORROW_CLOCK_BACK_S + 1;
	assert_int_equal(borrow_token_check(&t, &u), XLICEN_E_TOKEN_CLOCK);
	u.latest = VEC_START + 100 + LIMIT_BORROW_CLOCK_BACK_S;
	assert_int_equal(borrow_token_check(&t, &u), 0);
	/* A clock far before the token's start. */
	u.latest = 0;
	u.now = VEC_START - LIMIT_BORROW_CLOCK_BACK_S - 1;
	assert_int_equal(borrow_token_check(&t, &u), XLICEN_E_TOKEN_CLOCK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_verifies),
		cmocka_unit_test(test_vector_encodes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_every_bit_flip),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
