/*
 * Signed license files: parse the text form, build the canonical form that
 * the vendor's Ed25519 signature covers, sign and verify (OpenSSL EVP).
 * docs/PROTOCOL.md ("License files") specifies the format.
 */
#ifndef XLICEN_LICENSE_H
#define XLICEN_LICENSE_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"

#define LICENSE_NAME_MAX	64	/* vendor, product, serial */
#define LICENSE_VERSION_MAX	32	/* a dotted version like 1.2.3 */
#define LICENSE_TEXT_MAX	128	/* customer */
#define LICENSE_FILE_MAX	(64 * 1024)	/* a license file's size */
#define LICENSE_LINE_MAX	1024	/* one line of a license file, bytes */
#define LICENSE_SIG_LEN		64	/* an Ed25519 signature */
#define LICENSE_KEY_FILE_MAX	(16 * 1024)	/* a PEM key file's size */
#define LICENSE_FORMAT_ID	"gss-xlicen-license 1"	/* "format:" value */
#define LICENSE_CANON_ID	"gss-xlicen-license-v1"	/* canonical form's first line */
#define LICENSE_HOSTID_MAX	160	/* "host:NAME" or "principal:NAME" */
#define LICENSE_DUP_MAX		8	/* a dup_group value */

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
	/*
	 * Optional fields (format 1 still: each appears in the file and in
	 * the canonical form only when set, so a file without them signs
	 * and verifies as before).  0 / "" = absent.
	 */
	int uncounted;			/* "seats: uncounted": no limit; seats is 0 */
	char hostid[LICENSE_HOSTID_MAX + 1];	/* node lock: "host:NAME" or
						 * "principal:NAME@REALM" */
	char dup_group[LICENSE_DUP_MAX + 1];	/* uhd user host display site none */
	uint32_t linger_s;		/* seconds a released seat stays held */
	uint32_t ttl_s;			/* lease lifetime without heartbeat */
	uint32_t heartbeat_s;		/* heartbeat interval asked of clients */
	uint32_t borrow_days;		/* "borrow": longest borrow for offline
					 * use, whole days; 0 = not allowed */
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
 * with err filled (err may be NULL): err->line is the offending line, or 0
 * for a whole-file problem (too large, a required field missing).  On
 * failure *lic and sig are zeroed.
 */
int license_parse(const char *text, size_t len, struct license *lic,
    uint8_t sig[64], struct license_error *err);

/*
 * Check every field of a license built in memory (by the vendor tool
 * before signing) against the rules license_parse() enforces on a file:
 * names, versions and range, seat count, whole-day dates with expiry after
 * start, customer text.  Returns 0 or XLICEN_E_LIC_SYNTAX with err->reason
 * naming the field (err->line is 0).  err may be NULL.
 */
int license_check(const struct license *lic, struct license_error *err);

/*
 * The canonical byte string the signature covers.  *out is malloc'd and
 * owned by the caller.  Returns 0 or XLICEN_E_NOMEM.
 */
int license_canonical(const struct license *lic, char **out, size_t *outlen);

/*
 * The human-readable text form of a signed license (a comment header, then
 * the fields in canonical order, signature last); *out is malloc'd,
 * NUL-terminated and owned by the caller.  Returns 0, XLICEN_E_INVALID if
 * license_check() refuses lic, or XLICEN_E_NOMEM.
 */
int license_format(const struct license *lic, const uint8_t sig[64],
    char **out);

/*
 * Sign with an Ed25519 private key (an OpenSSL EVP_PKEY *).  sig is
 * cleared on entry.  Returns 0, XLICEN_E_INVALID if license_check() refuses
 * lic, XLICEN_E_LIC_KEY if the key is not an Ed25519 private key, or
 * XLICEN_E_NOMEM.
 */
int license_sign(const struct license *lic, void *evp_pkey, uint8_t sig[64]);

/* Verify with an Ed25519 public key (EVP_PKEY *).  0 or
 * XLICEN_E_LIC_SIGNATURE (also for a key that is not Ed25519, or a lic
 * that license_check() refuses); XLICEN_E_NOMEM if OpenSSL cannot
 * allocate. */
int license_verify(const struct license *lic, const uint8_t sig[64],
    void *evp_pkey);

/*
 * The one Ed25519 signer and verifier under license_sign/license_verify,
 * for any byte string (the server's borrow tokens, common/borrow.h, use
 * them too).  sign: 0, XLICEN_E_LIC_KEY (not an Ed25519 private key) or
 * XLICEN_E_NOMEM; sig is cleared on entry.  verify: 0,
 * XLICEN_E_LIC_SIGNATURE (also for a key that is not Ed25519) or
 * XLICEN_E_NOMEM.
 */
int license_ed25519_sign(void *evp_pkey, const void *data, size_t len,
    uint8_t sig[64]);
int license_ed25519_verify(void *evp_pkey, const void *data, size_t len,
    const uint8_t sig[64]);

/*
 * Load PEM keys (PKCS#8 "PRIVATE KEY" / SubjectPublicKeyInfo "PUBLIC
 * KEY", unencrypted, Ed25519 only).  The private key file must have no
 * group or other permission bits at all (XLICEN_E_LIC_KEY with a reason
 * saying to chmod 600).  Every failure (missing, unreadable, not PEM, not
 * Ed25519) is XLICEN_E_LIC_KEY with err->reason naming the file, except
 * XLICEN_E_NOMEM.  *pkey is cleared on entry and is an EVP_PKEY * to free
 * with license_key_free(), which accepts NULL.  Key file bytes are wiped
 * after parsing.
 */
int license_key_load_private(const char *path, void **pkey,
    struct license_error *err);
int license_key_load_public(const char *path, void **pkey,
    struct license_error *err);
void license_key_free(void *pkey);

/*
 * Read, parse and verify one license file.  The key is the vendor's public
 * key found as <keydir>/<vendor>.pub.  Returns 0,
 * XLICEN_E_LIC_SYNTAX, XLICEN_E_LIC_SIGNATURE, XLICEN_E_LIC_NO_VENDOR
 * (that .pub does not exist), XLICEN_E_LIC_KEY, XLICEN_E_IO (the license
 * file cannot be read or is not a regular file) or XLICEN_E_NOMEM; err
 * says which line and why (a bad signature is reported on the line of the
 * "signature" field).  *lic is zeroed unless 0 is returned.
 */
int license_load_file(const char *path, const char *keydir,
    struct license *lic, struct license_error *err);

/*
 * The same with a public key the caller already holds (the vendor tool's
 * "verify --pub").  The vendor named in the file is not checked against
 * the key's file name.  Returns 0, XLICEN_E_LIC_SYNTAX,
 * XLICEN_E_LIC_SIGNATURE, XLICEN_E_IO or XLICEN_E_NOMEM.  A signature
 * failure is reported on the line of the "signature" field.
 */
int license_load_file_key(const char *path, void *evp_pkey,
    struct license *lic, struct license_error *err);

/*
 * Compare dotted numeric versions ("1.10" > "1.9"; "1" == "1.0").
 * Returns <0, 0, >0.  license_version_valid() says whether s is one
 * (1 or 0): 1 to 8 components of 1 to 6 decimal digits separated by
 * single dots, at most LICENSE_VERSION_MAX bytes.  An invalid string
 * (or NULL) compares below every valid one, so it never falls inside a
 * license's range; two invalid strings compare as strcmp() would.
 */
int license_version_cmp(const char *a, const char *b);
int license_version_valid(const char *s);

/* Whether s is a valid vendor, product or serial name: 1 to
 * LICENSE_NAME_MAX bytes of A-Z a-z 0-9 . _ + -.  1 or 0. */
int license_name_valid(const char *s);

/* Whether s is a valid hostid: "host:NAME" (NAME 1-128 bytes of A-Z a-z
 * 0-9 . _ -) or "principal:NAME" (NAME 1-150 printable ASCII bytes
 * without blanks, containing '@').  1 or 0. */
int license_hostid_valid(const char *s);

/* Whether s is a dup_group value: uhd, user, host, display, site or
 * none.  1 or 0. */
int license_dup_group_valid(const char *s);

/* Parse "YYYY-MM-DD" (exactly; years 1970 to 9999, real calendar days)
 * into the UTC seconds of its 00:00.  0 or -1 (and *out = 0). */
int license_parse_date(const char *s, int64_t *out);

/* Write the UTC date of t as "YYYY-MM-DD" into out (NUL-terminated). */
void license_date_str(int64_t t, char out[11]);

#endif
