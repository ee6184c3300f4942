/*
 * Borrow tokens: the proof a laptop carries of a seat borrowed for
 * offline use.  The server signs one with its own Ed25519 key (not a
 * vendor's) when it grants a BORROW; the client library stores it and,
 * with no server reachable, grants a checkout from it after checking it
 * against an administrator-installed public key, the principal of the
 * user's credential cache, the host and the clock.  docs/PROTOCOL.md
 * section 8.5 is the specification (with a test vector).
 *
 * Encoding, version 1 (integers big-endian):
 *   "XLBT" | u8 version=1 | u64 start | u64 end |
 *   7 x (u16 length | bytes): product, version, principal, host,
 *                             host_principal, lease, server |
 *   64-byte Ed25519 signature over every byte before it
 */
#ifndef XLICEN_BORROW_H
#define XLICEN_BORROW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "limits.h"

#define BORROW_MAGIC		"XLBT"
#define BORROW_VERSION		1
#define BORROW_SIG_LEN		64

struct borrow_token {
	uint64_t start;		/* UTC s the server granted it */
	uint64_t end;		/* first UTC s it is no longer valid */
	char product[LIMIT_STRING + 1];
	char version[LIMIT_STRING + 1];
	char principal[LIMIT_STRING + 1];	/* authenticated borrower */
	char host[LIMIT_STRING + 1];		/* host the client reported */
	char host_principal[LIMIT_STRING + 1];	/* "" when unknown */
	char lease[LIMIT_STRING + 1];		/* the server's lease id */
	char server[LIMIT_STRING + 1];		/* the server's name */
	uint8_t sig[BORROW_SIG_LEN];
};

/*
 * Encode t (its sig ignored) and sign it with evp_pkey (an Ed25519
 * private key, EVP_PKEY *), appending the token to out.  Returns 0,
 * XLICEN_E_INVALID (a string field not valid, product, principal or
 * lease empty, end not after start), XLICEN_E_LIC_KEY (not an Ed25519
 * private key) or XLICEN_E_NOMEM.
 */
int borrow_token_encode(const struct borrow_token *t, void *evp_pkey,
    struct buf *out);

/*
 * Decode the n bytes at p (untrusted) into *t, without verifying the
 * signature.  Every field must be present, each string valid UTF-8 of
 * at most LIMIT_STRING bytes without NUL, product, principal and lease
 * not empty, end after start, exactly the signature after the last
 * string, n at most LIMIT_BORROW_TOKEN.  Returns 0 or XLICEN_E_TOKEN
 * (*t is cleared on entry).
 */
int borrow_token_parse(const uint8_t *p, size_t n, struct borrow_token *t);

/*
 * Parse p and verify its signature with the public key evp_pkey
 * (EVP_PKEY *).  Returns 0, XLICEN_E_TOKEN (malformed),
 * XLICEN_E_TOKEN_SIGNATURE or XLICEN_E_NOMEM.
 */
int borrow_token_verify(const uint8_t *p, size_t n, void *evp_pkey,
    struct borrow_token *t);

/* What an offline checkout asks of a verified token. */
struct borrow_use {
	const char *principal;	/* from the credential cache */
	const char *product;
	const char *version;
	const char *host;	/* this host's name */
	int64_t now;		/* the system clock, UTC s */
	int64_t latest;		/* latest time the library has seen, or 0 */
};

/*
 * Whether the (verified) token t grants use u, in this order:
 * XLICEN_E_TOKEN_CLOCK (now more than LIMIT_BORROW_CLOCK_BACK_S behind
 * u->latest, or behind the token's start), XLICEN_E_TOKEN_EXPIRED (the
 * later of now and latest is at or past the end), XLICEN_E_TOKEN_PRINCIPAL,
 * XLICEN_E_TOKEN_HOST (not the same host key, display.h), XLICEN_E_NO_TOKEN
 * (another product or version); 0 if it does.
 */
int borrow_token_check(const struct borrow_token *t,
    const struct borrow_use *u);

#endif
