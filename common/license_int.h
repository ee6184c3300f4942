/*
 * What the parts of the license module share, behind the public contract
 * of common/license.h.  Not for use outside common/license*.c.
 *
 * The parts: license_rules.c (the rules of each value: names, versions,
 * customer text, node locks, seconds, dates; license_check),
 * license_parse.c (the text form read line by line into a struct
 * license), license_canon.c (the canonical form the signature covers and
 * the text form written out), license.c (Ed25519 signing and verifying,
 * PEM key files, license files read from disk and verified).  Calls go
 * one way: license.c -> license_parse.c, license_canon.c ->
 * license_rules.c.
 */
#ifndef XLICEN_LICENSE_INT_H
#define XLICEN_LICENSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "license.h"

#define SECS_PER_DAY	86400
#define VERSION_COMPONENTS_MAX	8
#define SIG_B64_LEN	88	/* base64 of 64 bytes, with "==" */

/* Fill err (may be NULL): the line (0 = none) and a printf-style reason,
 * truncated to fit. */
void license_set_err(struct license_error *err, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Zero err (may be NULL). */
void license_clear_err(struct license_error *err);

/*
 * Decode one UTF-8 sequence at p (avail bytes).  Returns its length and
 * the code point in *cp, or 0 if it is not shortest-form UTF-8 of a
 * scalar value.
 */
size_t license_utf8_next(const uint8_t *p, size_t avail, uint32_t *cp);

/*
 * The rules on counted strings s[0..n) (not NUL-terminated), 1 or 0:
 * a name, customer text, a hostid, as license.h describes them.
 */
int license_name_valid_n(const char *s, size_t n);
int license_text_valid_n(const char *s, size_t n);
int license_hostid_valid_n(const char *s, size_t n);

/*
 * Split the version s[0..n) into its numeric components.  Returns their
 * number (1..VERSION_COMPONENTS_MAX), or 0 if it is not a valid version.
 */
unsigned license_version_parse(const char *s, size_t n,
    uint32_t comp[VERSION_COMPONENTS_MAX]);

/*
 * A decimal number of seconds in min..max from v[0..n), no leading zero,
 * into *out (0 on failure).  0 or -1.
 */
int license_seconds_parse(const char *v, size_t n, uint32_t min,
    uint32_t max, uint32_t *out);

/* Exactly "YYYY-MM-DD" from s[0..n), as license_parse_date().  0 or -1
 * (and *out = 0). */
int license_date_parse_n(const char *s, size_t n, int64_t *out);

/*
 * license_parse(), and *sigline (may be NULL) gets the line of the
 * "signature" field (0 on failure), so that a signature that does not
 * verify can be reported there.
 */
int license_parse_text(const char *text, size_t len, struct license *lic,
    uint8_t sig[64], unsigned *sigline, struct license_error *err);

#endif
