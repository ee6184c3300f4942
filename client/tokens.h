/*
 * The borrow tokens of the client library (docs/CLIENT.md, "Borrowed
 * seats"): where they live (the user's state directory), the
 * administrator's public keys they are checked against (a root-owned
 * directory), the latest time the library has seen, and the offline
 * grant from a token.  No session state: requests.c and lease.c call in.
 */
#ifndef XLICEN_TOKENS_H
#define XLICEN_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "borrow.h"

/* The default directory of the servers' borrow public keys; a build may
 * set another (-DXLICEN_BORROW_KEYDIR=...). */
#ifndef XLICEN_BORROW_KEYDIR
#define XLICEN_BORROW_KEYDIR	"/etc/xlicen/borrow-keys"
#endif

/* Store the token of product (n bytes) as STATE/borrow/PRODUCT.token,
 * mode 0600 (directories 0700), replacing any.  0, XLICEN_E_INVALID (a
 * product name that cannot be a file name), XLICEN_E_IO. */
int tokens_save(const char *product, const uint8_t *tok, size_t n);

/* Read the token of product into buf (cap bytes): 0, XLICEN_E_NO_TOKEN
 * (none stored), XLICEN_E_TOKEN (too large), XLICEN_E_INVALID,
 * XLICEN_E_IO, XLICEN_E_NOMEM. */
int tokens_load(const char *product, uint8_t *buf, size_t cap, size_t *n);

/* Delete the token of product (none stored is no error).  0,
 * XLICEN_E_INVALID or XLICEN_E_IO. */
int tokens_delete(const char *product);

/* Record now as seen (STATE/clock keeps the latest time seen) and give
 * the latest before it in *latest (0 if none was recorded). */
void tokens_clock(int64_t now, int64_t *latest);

/*
 * The offline grant: the stored token of product, verified against the
 * public keys of the key directory, checked (borrow_token_check) for the
 * principal of the default credential cache (read from the cache, no
 * KDC), version, host (NULL: this host's name) and the clock.  *t gets
 * the token.  0, or XLICEN_E_NO_TOKEN, XLICEN_E_TOKEN,
 * XLICEN_E_TOKEN_SIGNATURE (also when no key is installed),
 * XLICEN_E_TOKEN_CLOCK, XLICEN_E_TOKEN_EXPIRED, XLICEN_E_TOKEN_PRINCIPAL
 * (also without a credential cache), XLICEN_E_TOKEN_HOST, with why
 * (whylen bytes) saying more.
 */
int tokens_offline(const char *product, const char *version,
    const char *host, struct borrow_token *t, char *why, size_t whylen);

#endif
