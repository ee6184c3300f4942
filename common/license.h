/*
 * Signed license files: parse the text form, build the canonical form that
 * the vendor's Ed25519 signature covers, sign and verify (OpenSSL EVP).
 * docs/PROTOCOL.md ("License files") specifies the format.
 */
#ifndef XLICEN_LICENSE_H
#define XLICEN_LICENSE_H

#include <stddef.h>
#include <stdint.h>

#define LICENSE_NAME_MAX	64	/* vendor, product, serial */
#define LICENSE_VERSION_MAX	32	/* a dotted version like 1.2.3 */
#define LICENSE_TEXT_MAX	128	/* customer */
#define LICENSE_FILE_MAX	(64 * 1024)	/* a license file's size */

struct license {
	char vendor[LICENSE_NAME_MAX + 1];
	char product[LICENSE_NAME_MAX + 1];
	char ver_min[LICENSE_VERSION_MAX + 1];	/* inclusive */
	char ver_max[LICENSE_VERSION_MAX + 1];	/* inclusive */
	uint32_t seats;			/* >= 1 */
	int64_t start;			/* UTC seconds of 00:00 of the start day; 0 = none */
	int64_t expires;		/* first UTC second no longer valid; 0 = permanent */
	char serial[LICENSE_NAME_MAX + 1];
	char customer[LICENSE_TEXT_MAX + 1];
};

/* Where a parse or verify failed, for "file:line: reason" messages. */
struct license_error {
	unsigned line;			/* 1-based; 0 = not tied to a line */
	char reason[200];
};

/*
 * Parse the text of a license file (not NUL-terminated; at most
 * LICENSE_FILE_MAX bytes).  Fills *lic and copies the raw signature
 * (64 bytes) into sig.  Does not verify.  Returns 0 or XLICEN_E_LIC_SYNTAX
 * with err filled.
 */
int license_parse(const char *text, size_t len, struct license *lic,
    uint8_t sig[64], struct license_error *err);

/*
 * The canonical byte string the signature covers.  *out is malloc'd and
 * owned by the caller.  Returns 0 or XLICEN_E_NOMEM.
 */
int license_canonical(const struct license *lic, char **out, size_t *outlen);

/* The human-readable text form of a signed license; *out malloc'd. */
int license_format(const struct license *lic, const uint8_t sig[64],
    char **out);

/* Sign with an Ed25519 private key (an OpenSSL EVP_PKEY *). */
int license_sign(const struct license *lic, void *evp_pkey, uint8_t sig[64]);

/* Verify with an Ed25519 public key (EVP_PKEY *).  0 or
 * XLICEN_E_LIC_SIGNATURE. */
int license_verify(const struct license *lic, const uint8_t sig[64],
    void *evp_pkey);

/*
 * Load PEM keys.  The private key file must not be readable by group or
 * others (XLICEN_E_LIC_KEY with a reason saying to chmod 600).  *pkey is an
 * EVP_PKEY * to free with license_key_free().
 */
int license_key_load_private(const char *path, void **pkey,
    struct license_error *err);
int license_key_load_public(const char *path, void **pkey,
    struct license_error *err);
void license_key_free(void *pkey);

/*
 * Read, parse and verify one license file.  The key is the vendor's public
 * key found as <keydir>/<vendor>.pub.  Returns 0,
 * XLICEN_E_LIC_SYNTAX, XLICEN_E_LIC_SIGNATURE, XLICEN_E_LIC_NO_VENDOR,
 * XLICEN_E_LIC_KEY or XLICEN_E_IO; err says which line and why.
 */
int license_load_file(const char *path, const char *keydir,
    struct license *lic, struct license_error *err);

/*
 * Compare dotted numeric versions ("1.10" > "1.9"; "1" == "1.0").
 * Returns <0, 0, >0.  license_version_valid() says whether s is one.
 */
int license_version_cmp(const char *a, const char *b);
int license_version_valid(const char *s);

/* Parse "YYYY-MM-DD" into the UTC seconds of its 00:00.  0 or -1. */
int license_parse_date(const char *s, int64_t *out);

#endif
