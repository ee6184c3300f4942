/*
 * Signed license files.  A vendor signs the canonical form of a license
 * (a fixed-order byte string derived from the parsed fields, so comments
 * and spacing in the file do not matter but every field does) with
 * Ed25519; the server parses each file strictly, rebuilds the canonical
 * form and verifies it against the vendor's public key.  The file's bytes
 * are untrusted: every line is scanned by index with "avail < need" checks
 * and every value is validated before it is copied into the fixed-size
 * fields of struct license.  docs/PROTOCOL.md ("License files") is the
 * specification.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fileio.h"
#include "license.h"
#include "limits.h"
#include "xlicen_errors.h"

#define SECS_PER_DAY	86400
#define VERSION_COMPONENTS_MAX	8
#define VERSION_DIGITS_MAX	6
#define SIG_B64_LEN	88	/* base64 of 64 bytes, with "==" */
#define SIG_B64_MAX	256	/* longest signature value we try to decode */

/* The fields of a license file, in canonical order after "format". */
enum field {
	F_FORMAT, F_VENDOR, F_PRODUCT, F_VERSIONS, F_SEATS, F_START,
	F_EXPIRES, F_SERIAL, F_CUSTOMER, F_HOSTID, F_DUP_GROUP, F_LINGER,
	F_TTL, F_HEARTBEAT, F_SIGNATURE, F_COUNT
};

static const struct {
	const char *name;
	int required;
} fields[F_COUNT] = {
	[F_FORMAT] = { "format", 1 },
	[F_VENDOR] = { "vendor", 1 },
	[F_PRODUCT] = { "product", 1 },
	[F_VERSIONS] = { "versions", 1 },
	[F_SEATS] = { "seats", 1 },
	[F_START] = { "start", 0 },
	[F_EXPIRES] = { "expires", 1 },
	[F_SERIAL] = { "serial", 1 },
	[F_CUSTOMER] = { "customer", 0 },
	[F_HOSTID] = { "hostid", 0 },
	[F_DUP_GROUP] = { "dup_group", 0 },
	[F_LINGER] = { "linger", 0 },
	[F_TTL] = { "ttl", 0 },
	[F_HEARTBEAT] = { "heartbeat", 0 },
	[F_SIGNATURE] = { "signature", 1 },
};

static void
set_err(struct license_error *err, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(struct license_error *err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
}

static void
clear_err(struct license_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

/*
 * Decode one UTF-8 sequence at p (avail bytes).  Returns its length and
 * the code point, or 0 if it is not shortest-form UTF-8 of a scalar value.
 */
static size_t
utf8_next(const uint8_t *p, size_t avail, uint32_t *cp)
{
	uint32_t c, min;
	size_t n, i;

	if (avail < 1)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2; c &= 0x1f; min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; c &= 0x0f; min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; c &= 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Code points that must not appear in customer text: controls, line and
 * paragraph separators, and bidirectional overrides that could make a log
 * line or a terminal show something other than what is signed.
 */
static int
cp_forbidden_in_text(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	    c == 0x2028 || c == 0x2029 ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0xfeff;
}

/* 1 if s[0..n) is a valid name: [A-Za-z0-9._+-], 1..LICENSE_NAME_MAX. */
static int
name_valid(const char *s, size_t n)
{
	size_t i;
	unsigned char c;

	if (n < 1 || n > LICENSE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

/* 1 if s[0..n) is acceptable customer text. */
static int
text_valid(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t off = 0, k;
	uint32_t c;

	if (n < 1 || n > LICENSE_TEXT_MAX)
		return 0;
	/* Leading or trailing blanks would not survive a round trip through
	 * the file, whose values are trimmed. */
	if (p[0] == ' ' || p[n - 1] == ' ')
		return 0;
	while (off < n) {
		k = utf8_next(p + off, n - off, &c);
		if (k == 0 || cp_forbidden_in_text(c))
			return 0;
		off += k;
	}
	return 1;
}

/*
 * Split a version into numeric components.  Returns the number of
 * components (1..8), or 0 if s[0..n) is not a valid version.
 */
static unsigned
version_parse(const char *s, size_t n, uint32_t comp[VERSION_COMPONENTS_MAX])
{
	unsigned ncomp = 0, digits = 0;
	uint32_t v = 0;
	size_t i;
	char c;

	if (n < 1 || n > LICENSE_VERSION_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= '0' && c <= '9') {
			if (digits == VERSION_DIGITS_MAX)
				return 0;
			v = v * 10 + (uint32_t)(c - '0');
			digits++;
		} else if (c == '.') {
			if (digits == 0 || ncomp + 1 == VERSION_COMPONENTS_MAX)
				return 0;
			comp[ncomp++] = v;
			v = 0;
			digits = 0;
		} else {
			return 0;
		}
	}
	if (digits == 0)
		return 0;
	comp[ncomp++] = v;
	return ncomp;
}

int
license_name_valid(const char *s)
{
	if (s == NULL)
		return 0;
	return name_valid(s, strnlen(s, LICENSE_NAME_MAX + 1));
}

static const char *const dup_groups[] = {
	"uhd", "user", "host", "display", "site", "none"
};

int
license_dup_group_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < sizeof(dup_groups) / sizeof(dup_groups[0]); i++)
		if (strcmp(s, dup_groups[i]) == 0)
			return 1;
	return 0;
}

/* 1 if s[0..n) is a valid hostid (see license.h). */
static int
hostid_valid(const char *s, size_t n)
{
	size_t i, k;
	int at = 0;
	unsigned char c;

	if (n > 5 && memcmp(s, "host:", 5) == 0) {
		if (n - 5 > 128)
			return 0;
		for (i = 5; i < n; i++) {
			c = (unsigned char)s[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
			    c == '-'))
				return 0;
		}
		return 1;
	}
	k = strlen("principal:");
	if (n > k && memcmp(s, "principal:", k) == 0) {
		if (n - k > 150)
			return 0;
		for (i = k; i < n; i++) {
			c = (unsigned char)s[i];
			if (c < 0x21 || c > 0x7e)
				return 0;
			at |= c == '@';
		}
		return at;
	}
	return 0;
}

int
license_hostid_valid(const char *s)
{
	if (s == NULL)
		return 0;
	return hostid_valid(s, strnlen(s, LICENSE_HOSTID_MAX + 1));
}

/* Parse a decimal number of seconds in min..max from v[0..n). */
static int
seconds_parse(const char *v, size_t n, uint32_t min, uint32_t max,
    uint32_t *out)
{
	uint64_t x = 0;
	size_t i;

	*out = 0;
	if (n < 1 || n > 10 || v[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x < min || x > max)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

int
license_version_valid(const char *s)
{
	uint32_t comp[VERSION_COMPONENTS_MAX];

	if (s == NULL)
		return 0;
	return version_parse(s, strnlen(s, LICENSE_VERSION_MAX + 1), comp) != 0;
}

int
license_version_cmp(const char *a, const char *b)
{
	uint32_t ca[VERSION_COMPONENTS_MAX], cb[VERSION_COMPONENTS_MAX];
	unsigned na = 0, nb = 0, i, n;
	uint32_t x, y;

	if (a != NULL)
		na = version_parse(a, strnlen(a, LICENSE_VERSION_MAX + 1), ca);
	if (b != NULL)
		nb = version_parse(b, strnlen(b, LICENSE_VERSION_MAX + 1), cb);
	if (na == 0 || nb == 0) {
		if (na != 0)
			return 1;
		if (nb != 0)
			return -1;
		if (a == NULL || b == NULL)
			return (a != NULL) - (b != NULL);
		return strcmp(a, b);
	}
	n = na > nb ? na : nb;
	for (i = 0; i < n; i++) {
		x = i < na ? ca[i] : 0;
		y = i < nb ? cb[i] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 1). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Parse exactly "YYYY-MM-DD" from s[0..n). */
static int
date_parse(const char *s, size_t n, int64_t *out)
{
	static const unsigned mdays[12] =
	    { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y = 0, m = 0, d = 0, dim;
	size_t i;

	*out = 0;
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return -1;
	}
	for (i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(s[i] - '0');
	m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
	d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return -1;
	dim = mdays[m - 1] + (m == 2 && is_leap(y));
	if (d > dim)
		return -1;
	*out = days_from_civil(y, m, d) * SECS_PER_DAY;
	return 0;
}

int
license_parse_date(const char *s, int64_t *out)
{
	*out = 0;
	if (s == NULL)
		return -1;
	return date_parse(s, strnlen(s, 11), out);
}

void
license_date_str(int64_t t, char out[11])
{
	int64_t z, era, doe, yoe, doy, mp;
	unsigned y, m, d;

	if (t < 0)
		t = 0;
	/* The inverse of days_from_civil(). */
	z = t / SECS_PER_DAY + 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	y = (unsigned)(yoe + era * 400 + (m <= 2));
	if (y > 9999) {
		y = 9999; m = 12; d = 31;
	}
	snprintf(out, 11, "%04u-%02u-%02u", y % 10000u, m % 100u, d % 100u);
}

/* The last second of 9999-12-31, plus one: the latest expiry we accept. */
static int64_t
date_limit(void)
{
	return (days_from_civil(9999, 12, 31) + 1) * SECS_PER_DAY;
}

int
license_check(const struct license *lic, struct license_error *err)
{
	int64_t limit = date_limit();
	size_t n;

	clear_err(err);
	if (lic == NULL) {
		set_err(err, 0, "no license");
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->vendor, sizeof(lic->vendor));
	if (n == sizeof(lic->vendor) || !name_valid(lic->vendor, n))
		goto badname_vendor;
	n = strnlen(lic->product, sizeof(lic->product));
	if (n == sizeof(lic->product) || !name_valid(lic->product, n)) {
		set_err(err, 0, "product must be 1 to %d of A-Z a-z 0-9 . _ + -",
		    LICENSE_NAME_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->serial, sizeof(lic->serial));
	if (n == sizeof(lic->serial) || !name_valid(lic->serial, n)) {
		set_err(err, 0, "serial must be 1 to %d of A-Z a-z 0-9 . _ + -",
		    LICENSE_NAME_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (strnlen(lic->ver_min, sizeof(lic->ver_min)) ==
	    sizeof(lic->ver_min) || !license_version_valid(lic->ver_min) ||
	    strnlen(lic->ver_max, sizeof(lic->ver_max)) ==
	    sizeof(lic->ver_max) || !license_version_valid(lic->ver_max)) {
		set_err(err, 0, "versions must be dotted numbers such as 1.2");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (license_version_cmp(lic->ver_min, lic->ver_max) > 0) {
		set_err(err, 0, "version range is empty: %s is above %s",
		    lic->ver_min, lic->ver_max);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->uncounted ? lic->seats != 0 :
	    (lic->seats < 1 || lic->seats > LICENSE_SEATS_MAX)) {
		set_err(err, 0, "seats must be a number from 1 to %d, or "
		    "\"uncounted\"", LICENSE_SEATS_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->hostid, sizeof(lic->hostid));
	if (n == sizeof(lic->hostid) || (n > 0 && !hostid_valid(lic->hostid,
	    n))) {
		set_err(err, 0, "hostid must be host:NAME or "
		    "principal:NAME@REALM");
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->dup_group, sizeof(lic->dup_group));
	if (n == sizeof(lic->dup_group) || (n > 0 &&
	    !license_dup_group_valid(lic->dup_group))) {
		set_err(err, 0, "dup_group must be one of uhd, user, host, "
		    "display, site, none");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->linger_s > LICENSE_SECONDS_MAX ||
	    (lic->ttl_s != 0 && (lic->ttl_s < LIMIT_LEASE_TTL_MIN_S ||
	    lic->ttl_s > LICENSE_SECONDS_MAX)) ||
	    lic->heartbeat_s > LICENSE_HEARTBEAT_MAX) {
		set_err(err, 0, "linger, ttl or heartbeat out of range");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->ttl_s != 0 && lic->heartbeat_s != 0 &&
	    (uint64_t)lic->heartbeat_s * 3 > lic->ttl_s) {
		set_err(err, 0, "heartbeat must be at most a third of ttl");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->start < 0 || lic->start % SECS_PER_DAY != 0 ||
	    lic->start >= limit) {
		set_err(err, 0, "start must be a whole UTC day");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->expires < 0 || lic->expires % SECS_PER_DAY != 0 ||
	    lic->expires > limit) {
		set_err(err, 0, "expires must be a whole UTC day");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->expires != 0 && lic->expires <= lic->start) {
		set_err(err, 0, "license expires before it starts");
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->customer, sizeof(lic->customer));
	if (n == sizeof(lic->customer) || (n > 0 && !text_valid(lic->customer,
	    n))) {
		set_err(err, 0, "customer must be printable UTF-8 text of at "
		    "most %d bytes without control characters or leading or "
		    "trailing spaces", LICENSE_TEXT_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	return 0;

 badname_vendor:
	set_err(err, 0, "vendor must be 1 to %d of A-Z a-z 0-9 . _ + -",
	    LICENSE_NAME_MAX);
	return XLICEN_E_LIC_SYNTAX;
}

/* Render a date field: start ("none") or the last valid day of expires. */
static void
start_str(int64_t start, char out[11])
{
	if (start == 0)
		snprintf(out, 11, "none");
	else
		license_date_str(start, out);
}

static void
expires_str(int64_t expires, char out[11])
{
	if (expires == 0)
		snprintf(out, 11, "permanent");
	else
		license_date_str(expires - SECS_PER_DAY, out);
}

int
license_canonical(const struct license *lic, char **out, size_t *outlen)
{
	char buf[1024], start[11], expires[11], seats[16];
	size_t len;
	int n, ret = XLICEN_E_NOMEM;

	*out = NULL;
	*outlen = 0;
	start_str(lic->start, start);
	expires_str(lic->expires, expires);
	if (lic->uncounted)
		snprintf(seats, sizeof(seats), "uncounted");
	else
		snprintf(seats, sizeof(seats), "%u", (unsigned)lic->seats);
	n = snprintf(buf, sizeof(buf),
	    LICENSE_CANON_ID "\n"
	    "vendor=%.64s\n"
	    "product=%.64s\n"
	    "versions=%.32s-%.32s\n"
	    "seats=%s\n"
	    "start=%s\n"
	    "expires=%s\n"
	    "serial=%.64s\n"
	    "customer=%.128s\n",
	    lic->vendor, lic->product, lic->ver_min, lic->ver_max,
	    seats, start, expires, lic->serial, lic->customer);
	/* The fields are bounded, so this cannot truncate; refuse rather
	 * than sign a prefix if it ever does. */
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		ret = XLICEN_E_INTERNAL;
		goto out;
	}
	len = (size_t)n;
	/*
	 * The optional fields, each only when set and always in this order:
	 * a license without them has exactly the canonical form it had
	 * before they existed, so its signature still verifies.
	 */
#define CANON_ADD(...) do {						\
		n = snprintf(buf + len, sizeof(buf) - len, __VA_ARGS__);	\
		if (n < 0 || (size_t)n >= sizeof(buf) - len) {		\
			ret = XLICEN_E_INTERNAL;			\
			goto out;					\
		}							\
		len += (size_t)n;					\
	} while (0)
	if (lic->hostid[0] != '\0')
		CANON_ADD("hostid=%.160s\n", lic->hostid);
	if (lic->dup_group[0] != '\0')
		CANON_ADD("dup_group=%.8s\n", lic->dup_group);
	if (lic->linger_s != 0)
		CANON_ADD("linger=%u\n", (unsigned)lic->linger_s);
	if (lic->ttl_s != 0)
		CANON_ADD("ttl=%u\n", (unsigned)lic->ttl_s);
	if (lic->heartbeat_s != 0)
		CANON_ADD("heartbeat=%u\n", (unsigned)lic->heartbeat_s);
#undef CANON_ADD
	n = (int)len;
	if ((*out = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(*out, buf, (size_t)n + 1);
	*outlen = (size_t)n;
	ret = 0;
 out:
	return ret;
}

int
license_format(const struct license *lic, const uint8_t sig[64], char **out)
{
	char buf[4096], line[300], start[11], expires[11];
	char b64[SIG_B64_LEN + 1], seats[16];
	size_t len = 0;
	int n, ret = XLICEN_E_INVALID;

	*out = NULL;
	if (license_check(lic, NULL) != 0)
		goto out;
	start_str(lic->start, start);
	expires_str(lic->expires, expires);
	if (lic->uncounted)
		snprintf(seats, sizeof(seats), "uncounted");
	else
		snprintf(seats, sizeof(seats), "%u", (unsigned)lic->seats);
	if (EVP_EncodeBlock((unsigned char *)b64, sig, LICENSE_SIG_LEN) !=
	    SIG_B64_LEN)
		goto out;

	n = snprintf(buf, sizeof(buf),
	    "# gss-xlicen license file\n"
	    "#\n"
	    "# %s seat%s of %s %s-%s from vendor %s, %s%s.\n"
	    "# Signed with the vendor's Ed25519 key: changing any field below,\n"
	    "# even by one character, makes the server refuse this file.\n"
	    "# Comments and blank lines may be edited freely.  Install it in\n"
	    "# the server's license directory as NAME.lic.\n"
	    "\n"
	    "format: " LICENSE_FORMAT_ID "\n"
	    "vendor: %s\n"
	    "product: %s\n"
	    "versions: %s-%s\n"
	    "seats: %s\n",
	    seats, lic->seats == 1 ? "" : "s", lic->product,
	    lic->ver_min, lic->ver_max, lic->vendor,
	    lic->expires == 0 ? "permanent" : "valid through ",
	    lic->expires == 0 ? "" : expires,
	    lic->vendor, lic->product, lic->ver_min, lic->ver_max,
	    seats);
	if (n < 0 || (size_t)n >= sizeof(buf))
		goto out;
	len = (size_t)n;
#define APPEND(...) do {						\
		n = snprintf(line, sizeof(line), __VA_ARGS__);		\
		if (n < 0 || (size_t)n >= sizeof(line) ||		\
		    sizeof(buf) - len <= (size_t)n)			\
			goto out;					\
		memcpy(buf + len, line, (size_t)n + 1);			\
		len += (size_t)n;					\
	} while (0)
	if (lic->start != 0)
		APPEND("start: %s\n", start);
	APPEND("expires: %s\n", expires);
	APPEND("serial: %s\n", lic->serial);
	if (lic->customer[0] != '\0')
		APPEND("customer: %s\n", lic->customer);
	if (lic->hostid[0] != '\0')
		APPEND("hostid: %s\n", lic->hostid);
	if (lic->dup_group[0] != '\0')
		APPEND("dup_group: %s\n", lic->dup_group);
	if (lic->linger_s != 0)
		APPEND("linger: %u\n", (unsigned)lic->linger_s);
	if (lic->ttl_s != 0)
		APPEND("ttl: %u\n", (unsigned)lic->ttl_s);
	if (lic->heartbeat_s != 0)
		APPEND("heartbeat: %u\n", (unsigned)lic->heartbeat_s);
	APPEND("signature: %s\n", b64);
#undef APPEND
	ret = XLICEN_E_NOMEM;
	if ((*out = malloc(len + 1)) == NULL)
		goto out;
	memcpy(*out, buf, len + 1);
	ret = 0;
 out:
	return ret;
}

static int
is_ed25519(EVP_PKEY *pkey)
{
	return pkey != NULL && EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519;
}

int
license_sign(const struct license *lic, void *evp_pkey, uint8_t sig[64])
{
	EVP_PKEY *pkey = evp_pkey;
	EVP_MD_CTX *ctx = NULL;
	char *canon = NULL;
	size_t canonlen = 0, siglen = LICENSE_SIG_LEN;
	int r, ret = XLICEN_E_INVALID;

	memset(sig, 0, LICENSE_SIG_LEN);
	if (license_check(lic, NULL) != 0)
		goto out;
	ret = XLICEN_E_LIC_KEY;
	if (!is_ed25519(pkey))
		goto out;
	if ((r = license_canonical(lic, &canon, &canonlen)) != 0) {
		ret = r;
		goto out;
	}
	ret = XLICEN_E_NOMEM;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	ret = XLICEN_E_LIC_KEY;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)canon,
	    canonlen) != 1 || siglen != LICENSE_SIG_LEN) {
		memset(sig, 0, LICENSE_SIG_LEN);
		goto out;
	}
	ret = 0;
 out:
	EVP_MD_CTX_free(ctx);
	free(canon);
	return ret;
}

int
license_verify(const struct license *lic, const uint8_t sig[64],
    void *evp_pkey)
{
	EVP_PKEY *pkey = evp_pkey;
	EVP_MD_CTX *ctx = NULL;
	char *canon = NULL;
	size_t canonlen = 0;
	int r, ret = XLICEN_E_LIC_SIGNATURE;

	/* A struct that is not a valid license could have a canonical form
	 * that collides with another's; never vouch for one. */
	if (license_check(lic, NULL) != 0 || !is_ed25519(pkey))
		goto out;
	if ((r = license_canonical(lic, &canon, &canonlen)) != 0) {
		ret = r == XLICEN_E_NOMEM ? r : XLICEN_E_LIC_SIGNATURE;
		goto out;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		ret = XLICEN_E_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1)
		goto out;
	if (EVP_DigestVerify(ctx, sig, LICENSE_SIG_LEN,
	    (const unsigned char *)canon, canonlen) != 1)
		goto out;
	ret = 0;
 out:
	EVP_MD_CTX_free(ctx);
	free(canon);
	return ret;
}

/* OpenSSL passphrase callback: never prompt (library code has no tty). */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static int
key_load(const char *path, int private, void **out,
    struct license_error *err)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *text = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int r, errnum = 0, ret = XLICEN_E_LIC_KEY;

	*out = NULL;
	clear_err(err);
	r = fileio_read(path, LICENSE_KEY_FILE_MAX, &text, &len, &mode,
	    &errnum);
	if (r == XLICEN_E_NOMEM) {
		ret = r;
		set_err(err, 0, "out of memory");
		goto out;
	}
	if (r == 1) {
		set_err(err, 0, "%s: too large for a key file", path);
		goto out;
	}
	if (r == 2) {
		set_err(err, 0, "%s: not a regular file", path);
		goto out;
	}
	if (r != 0) {
		set_err(err, 0, "cannot read key %s: %s", path,
		    strerror(errnum));
		goto out;
	}
	if (private && (mode & 077) != 0) {
		set_err(err, 0, "private key permissions %04o are too open: "
		    "run chmod 600 %s", (unsigned)mode, path);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
		ret = XLICEN_E_NOMEM;
		set_err(err, 0, "out of memory");
		goto out;
	}
	if (private)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	else
		pkey = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	if (pkey == NULL) {
		set_err(err, 0, "%s: not a PEM %s key (or encrypted)", path,
		    private ? "private" : "public");
		goto out;
	}
	if (!is_ed25519(pkey)) {
		set_err(err, 0, "%s: not an Ed25519 key", path);
		goto out;
	}
	*out = pkey;
	pkey = NULL;
	ret = 0;
 out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	return ret;
}

int
license_key_load_private(const char *path, void **pkey,
    struct license_error *err)
{
	return key_load(path, 1, pkey, err);
}

int
license_key_load_public(const char *path, void **pkey,
    struct license_error *err)
{
	return key_load(path, 0, pkey, err);
}

void
license_key_free(void *pkey)
{
	EVP_PKEY_free(pkey);
}

/* Quote an offending field name in a message only if it is harmless. */
static const char *
printable_key(const char *k, size_t n, char *out, size_t outsz)
{
	size_t i;

	if (n == 0 || n >= outsz || n > 32)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x21 || (unsigned char)k[i] > 0x7e)
			return NULL;
	memcpy(out, k, n);
	out[n] = '\0';
	return out;
}

static int
field_lookup(const char *k, size_t n)
{
	int f;

	for (f = 0; f < F_COUNT; f++)
		if (strlen(fields[f].name) == n &&
		    memcmp(fields[f].name, k, n) == 0)
			return f;
	return -1;
}

/* Same lookup ignoring ASCII case, to hint at "Vendor:". */
static int
field_lookup_nocase(const char *k, size_t n)
{
	size_t i;
	int f;
	char c;

	for (f = 0; f < F_COUNT; f++) {
		if (strlen(fields[f].name) != n)
			continue;
		for (i = 0; i < n; i++) {
			c = k[i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != fields[f].name[i])
				break;
		}
		if (i == n)
			return f;
	}
	return -1;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Decode the strict base64 signature value v[0..n). */
static int
sig_decode(const char *v, size_t n, uint8_t sig[64], unsigned line,
    struct license_error *err)
{
	unsigned char raw[SIG_B64_MAX];
	char again[SIG_B64_LEN + 1];
	size_t i, pad = 0, rawlen;
	int r;
	char c;

	if (n % 4 != 0 || n > SIG_B64_MAX) {
		set_err(err, line, "signature is not base64 of %d bytes",
		    LICENSE_SIG_LEN);
		return XLICEN_E_LIC_SYNTAX;
	}
	for (i = 0; i < n; i++) {
		c = v[i];
		if (c == '=') {
			/* Padding only at the end, at most two. */
			if (n - i > 2) {
				set_err(err, line, "signature is not valid "
				    "base64");
				return XLICEN_E_LIC_SYNTAX;
			}
			pad++;
			continue;
		}
		if (pad > 0 || !((c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/')) {
			set_err(err, line, "signature is not valid base64");
			return XLICEN_E_LIC_SYNTAX;
		}
	}
	r = EVP_DecodeBlock(raw, (const unsigned char *)v, (int)n);
	if (r < 0 || (size_t)r < pad) {
		set_err(err, line, "signature is not valid base64");
		return XLICEN_E_LIC_SYNTAX;
	}
	rawlen = (size_t)r - pad;
	if (rawlen != LICENSE_SIG_LEN) {
		set_err(err, line, "signature is %zu bytes, expected %d",
		    rawlen, LICENSE_SIG_LEN);
		return XLICEN_E_LIC_SYNTAX;
	}
	/* Only the one canonical spelling (zero spare bits). */
	EVP_EncodeBlock((unsigned char *)again, raw, LICENSE_SIG_LEN);
	if (n != SIG_B64_LEN || memcmp(again, v, n) != 0) {
		set_err(err, line, "signature is not canonical base64");
		return XLICEN_E_LIC_SYNTAX;
	}
	memcpy(sig, raw, LICENSE_SIG_LEN);
	return 0;
}

/* Store one field's value v[0..n) found on line. */
static int
field_value(struct license *lic, uint8_t sig[64], int f, const char *v,
    size_t n, unsigned line, struct license_error *err)
{
	const char *dash = NULL;
	uint32_t seats = 0;
	size_t i, a = 0, b = 0;

	switch (f) {
	case F_FORMAT:
		if (n == strlen(LICENSE_FORMAT_ID) &&
		    memcmp(v, LICENSE_FORMAT_ID, n) == 0)
			return 0;
		if (n > 19 && memcmp(v, "gss-xlicen-license ", 19) == 0) {
			set_err(err, line, "unsupported license format "
			    "version (this program reads \"%s\")",
			    LICENSE_FORMAT_ID);
			return XLICEN_E_LIC_SYNTAX;
		}
		set_err(err, line, "not a gss-xlicen license file (format "
		    "must be \"%s\")", LICENSE_FORMAT_ID);
		return XLICEN_E_LIC_SYNTAX;
	case F_VENDOR:
	case F_PRODUCT:
	case F_SERIAL:
		if (n > LICENSE_NAME_MAX) {
			set_err(err, line, "%s is too long (%zu bytes, at most "
			    "%d)", fields[f].name, n, LICENSE_NAME_MAX);
			return XLICEN_E_LIC_SYNTAX;
		}
		if (!name_valid(v, n)) {
			set_err(err, line, "%s may contain only A-Z a-z 0-9 "
			    ". _ + -", fields[f].name);
			return XLICEN_E_LIC_SYNTAX;
		}
		if (f == F_VENDOR)
			memcpy(lic->vendor, v, n);
		else if (f == F_PRODUCT)
			memcpy(lic->product, v, n);
		else
			memcpy(lic->serial, v, n);
		return 0;
	case F_VERSIONS:
		for (i = 0; i < n; i++) {
			if (v[i] != '-')
				continue;
			if (dash != NULL)
				goto badrange;
			dash = v + i;
			a = i;
		}
		if (dash == NULL)
			goto badrange;
		b = n - a - 1;
		if (a > LICENSE_VERSION_MAX || b > LICENSE_VERSION_MAX) {
			set_err(err, line, "versions: a version is too long "
			    "(at most %d bytes)", LICENSE_VERSION_MAX);
			return XLICEN_E_LIC_SYNTAX;
		}
		{
			uint32_t comp[VERSION_COMPONENTS_MAX];

			if (version_parse(v, a, comp) == 0 ||
			    version_parse(dash + 1, b, comp) == 0)
				goto badrange;
		}
		memcpy(lic->ver_min, v, a);
		lic->ver_min[a] = '\0';
		memcpy(lic->ver_max, dash + 1, b);
		lic->ver_max[b] = '\0';
		if (license_version_cmp(lic->ver_min, lic->ver_max) > 0) {
			set_err(err, line, "version range is empty: %s is "
			    "above %s", lic->ver_min, lic->ver_max);
			return XLICEN_E_LIC_SYNTAX;
		}
		return 0;
	badrange:
		set_err(err, line, "versions must be MIN-MAX, dotted numbers "
		    "such as 1.0-2.9 (each part 0 to 999999, at most 8 parts)");
		return XLICEN_E_LIC_SYNTAX;
	case F_SEATS:
		if (n == 9 && memcmp(v, "uncounted", 9) == 0) {
			lic->uncounted = 1;
			lic->seats = 0;
			return 0;
		}
		if (n < 1 || n > 7 || v[0] == '0')
			goto badseats;
		for (i = 0; i < n; i++) {
			if (v[i] < '0' || v[i] > '9')
				goto badseats;
			seats = seats * 10 + (uint32_t)(v[i] - '0');
		}
		if (seats < 1 || seats > LICENSE_SEATS_MAX)
			goto badseats;
		lic->seats = seats;
		return 0;
	badseats:
		set_err(err, line, "seats must be a whole number from 1 to %d "
		    "or \"uncounted\"", LICENSE_SEATS_MAX);
		return XLICEN_E_LIC_SYNTAX;
	case F_HOSTID:
		if (n > LICENSE_HOSTID_MAX || !hostid_valid(v, n)) {
			set_err(err, line, "hostid must be host:NAME (A-Z a-z "
			    "0-9 . _ -) or principal:NAME@REALM");
			return XLICEN_E_LIC_SYNTAX;
		}
		memcpy(lic->hostid, v, n);
		return 0;
	case F_DUP_GROUP:
		if (n > LICENSE_DUP_MAX) {
			set_err(err, line, "dup_group must be one of uhd, user, "
			    "host, display, site, none");
			return XLICEN_E_LIC_SYNTAX;
		}
		memcpy(lic->dup_group, v, n);
		if (!license_dup_group_valid(lic->dup_group)) {
			lic->dup_group[0] = '\0';
			set_err(err, line, "dup_group must be one of uhd, user, "
			    "host, display, site, none");
			return XLICEN_E_LIC_SYNTAX;
		}
		return 0;
	case F_LINGER:
		if (seconds_parse(v, n, 1, LICENSE_SECONDS_MAX,
		    &lic->linger_s) != 0) {
			set_err(err, line, "linger must be a number of seconds "
			    "from 1 to %d", LICENSE_SECONDS_MAX);
			return XLICEN_E_LIC_SYNTAX;
		}
		return 0;
	case F_TTL:
		if (seconds_parse(v, n, LIMIT_LEASE_TTL_MIN_S,
		    LICENSE_SECONDS_MAX, &lic->ttl_s) != 0) {
			set_err(err, line, "ttl must be a number of seconds "
			    "from %d to %d", LIMIT_LEASE_TTL_MIN_S,
			    LICENSE_SECONDS_MAX);
			return XLICEN_E_LIC_SYNTAX;
		}
		return 0;
	case F_HEARTBEAT:
		if (seconds_parse(v, n, 1, LICENSE_HEARTBEAT_MAX,
		    &lic->heartbeat_s) != 0) {
			set_err(err, line, "heartbeat must be a number of "
			    "seconds from 1 to %d", LICENSE_HEARTBEAT_MAX);
			return XLICEN_E_LIC_SYNTAX;
		}
		return 0;
	case F_START:
		if (date_parse(v, n, &lic->start) != 0) {
			set_err(err, line, "start must be a date YYYY-MM-DD "
			    "(1970 to 9999)");
			return XLICEN_E_LIC_SYNTAX;
		}
		return 0;
	case F_EXPIRES:
		if (n == 9 && memcmp(v, "permanent", 9) == 0) {
			lic->expires = 0;
			return 0;
		}
		if (date_parse(v, n, &lic->expires) != 0) {
			set_err(err, line, "expires must be a date YYYY-MM-DD "
			    "or \"permanent\"");
			return XLICEN_E_LIC_SYNTAX;
		}
		/* Valid through the end of that UTC day. */
		lic->expires += SECS_PER_DAY;
		return 0;
	case F_CUSTOMER:
		if (n > LICENSE_TEXT_MAX) {
			set_err(err, line, "customer is too long (%zu bytes, at "
			    "most %d)", n, LICENSE_TEXT_MAX);
			return XLICEN_E_LIC_SYNTAX;
		}
		if (!text_valid(v, n)) {
			set_err(err, line, "customer contains a control or "
			    "formatting character");
			return XLICEN_E_LIC_SYNTAX;
		}
		memcpy(lic->customer, v, n);
		return 0;
	case F_SIGNATURE:
		return sig_decode(v, n, sig, line, err);
	}
	set_err(err, line, "internal error: unhandled field");
	return XLICEN_E_LIC_SYNTAX;
}

/*
 * The parser.  *sigline (may be NULL) gets the line of the signature, so
 * that a verification failure can be reported there.
 */
static int
parse(const char *text, size_t len, struct license *lic, uint8_t sig[64],
    unsigned *sigline, struct license_error *err)
{
	const uint8_t *u = (const uint8_t *)text;
	unsigned seen[F_COUNT];
	unsigned lineno = 0;
	size_t off = 0, linelen, next, n, i, k, klen, vstart;
	const char *line, *nl;
	char kbuf[40];
	const char *kq;
	uint32_t cp;
	int f, r, ret = XLICEN_E_LIC_SYNTAX;

	memset(lic, 0, sizeof(*lic));
	memset(sig, 0, LICENSE_SIG_LEN);
	memset(seen, 0, sizeof(seen));
	if (sigline != NULL)
		*sigline = 0;
	clear_err(err);

	if (len > LICENSE_FILE_MAX) {
		set_err(err, 0, "file too large (%zu bytes, at most %d)", len,
		    LICENSE_FILE_MAX);
		goto out;
	}
	/* A UTF-8 byte order mark, as some editors write. */
	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
		off = 3;

	while (off < len) {
		lineno++;
		line = text + off;
		nl = memchr(line, '\n', len - off);
		linelen = nl != NULL ? (size_t)(nl - line) : len - off;
		next = off + linelen + (nl != NULL ? 1 : 0);
		if (linelen > LICENSE_LINE_MAX) {
			set_err(err, lineno, "line too long (at most %d bytes)",
			    LICENSE_LINE_MAX);
			goto out;
		}
		n = linelen;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		for (i = 0; i < n; i += k) {
			if (line[i] == '\0') {
				set_err(err, lineno, "NUL byte in line");
				goto out;
			}
			k = utf8_next(u + off + i, n - i, &cp);
			if (k == 0) {
				set_err(err, lineno, "not valid UTF-8");
				goto out;
			}
			if ((cp < 0x20 && cp != '\t') || cp == 0x7f) {
				set_err(err, lineno, "control character in "
				    "line");
				goto out;
			}
		}
		off = next;

		/* Trim blanks at both ends. */
		i = 0;
		while (i < n && is_blank(line[i]))
			i++;
		while (n > i && is_blank(line[n - 1]))
			n--;
		if (i == n || line[i] == '#')
			continue;

		nl = memchr(line + i, ':', n - i);
		if (nl == NULL) {
			set_err(err, lineno, "expected \"field: value\"");
			goto out;
		}
		klen = (size_t)(nl - (line + i));
		vstart = i + klen + 1;
		while (klen > 0 && is_blank(line[i + klen - 1]))
			klen--;
		while (vstart < n && is_blank(line[vstart]))
			vstart++;

		f = field_lookup(line + i, klen);
		if (f < 0) {
			kq = printable_key(line + i, klen, kbuf, sizeof(kbuf));
			if (klen == 0)
				set_err(err, lineno, "missing field name "
				    "before ':'");
			else if (kq != NULL &&
			    field_lookup_nocase(line + i, klen) >= 0)
				set_err(err, lineno, "unknown field \"%s\" "
				    "(field names are lowercase)", kq);
			else if (kq != NULL)
				set_err(err, lineno, "unknown field \"%s\"",
				    kq);
			else
				set_err(err, lineno, "unknown field");
			goto out;
		}
		if (seen[F_FORMAT] == 0 && f != F_FORMAT) {
			set_err(err, lineno, "the first field must be "
			    "\"format: %s\"", LICENSE_FORMAT_ID);
			goto out;
		}
		if (seen[F_SIGNATURE] != 0) {
			set_err(err, lineno, "field \"%s\" after the signature "
			    "(the signature must be the last field)",
			    fields[f].name);
			goto out;
		}
		if (seen[f] != 0) {
			set_err(err, lineno, "duplicate field \"%s\" (first on "
			    "line %u)", fields[f].name, seen[f]);
			goto out;
		}
		seen[f] = lineno;
		if (vstart >= n) {
			set_err(err, lineno, "empty value for \"%s\"",
			    fields[f].name);
			goto out;
		}
		if ((r = field_value(lic, sig, f, line + vstart, n - vstart,
		    lineno, err)) != 0) {
			ret = r;
			goto out;
		}
	}

	for (f = 0; f < F_COUNT; f++) {
		if (fields[f].required && seen[f] == 0) {
			if (f == F_FORMAT)
				set_err(err, 0, "not a gss-xlicen license file "
				    "(no \"format: %s\" line)",
				    LICENSE_FORMAT_ID);
			else
				set_err(err, 0, "missing field \"%s\"",
				    fields[f].name);
			goto out;
		}
	}
	if (lic->expires != 0 && lic->expires <= lic->start) {
		set_err(err, seen[F_EXPIRES] > seen[F_START] ?
		    seen[F_EXPIRES] : seen[F_START],
		    "license expires before it starts");
		goto out;
	}
	if (lic->ttl_s != 0 && lic->heartbeat_s != 0 &&
	    (uint64_t)lic->heartbeat_s * 3 > lic->ttl_s) {
		set_err(err, seen[F_HEARTBEAT] > seen[F_TTL] ?
		    seen[F_HEARTBEAT] : seen[F_TTL],
		    "heartbeat must be at most a third of ttl (a lease must "
		    "survive two lost heartbeats)");
		goto out;
	}
	/* Belt and braces: the struct must pass the same check the signer
	 * applies, or the canonical forms could disagree. */
	if (license_check(lic, err) != 0)
		goto out;
	if (sigline != NULL)
		*sigline = seen[F_SIGNATURE];
	ret = 0;
 out:
	if (ret != 0) {
		memset(lic, 0, sizeof(*lic));
		memset(sig, 0, LICENSE_SIG_LEN);
	}
	return ret;
}

int
license_parse(const char *text, size_t len, struct license *lic,
    uint8_t sig[64], struct license_error *err)
{
	return parse(text, len, lic, sig, NULL, err);
}

/* Read and parse a license file; *sigline as for parse(). */
static int
load_parse(const char *path, struct license *lic, uint8_t sig[64],
    unsigned *sigline, struct license_error *err)
{
	char *text = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int r, errnum = 0, ret;

	memset(lic, 0, sizeof(*lic));
	memset(sig, 0, LICENSE_SIG_LEN);
	*sigline = 0;
	clear_err(err);
	r = fileio_read(path, LICENSE_FILE_MAX, &text, &len, &mode, &errnum);
	if (r == 1) {
		set_err(err, 0, "file too large (at most %d bytes)",
		    LICENSE_FILE_MAX);
		ret = XLICEN_E_LIC_SYNTAX;
		goto out;
	}
	if (r == 2) {
		set_err(err, 0, "not a regular file");
		ret = XLICEN_E_IO;
		goto out;
	}
	if (r != 0) {
		if (r == XLICEN_E_NOMEM)
			set_err(err, 0, "out of memory");
		else
			set_err(err, 0, "cannot read: %s", strerror(errnum));
		ret = r;
		goto out;
	}
	ret = parse(text, len, lic, sig, sigline, err);
 out:
	free(text);
	return ret;
}

int
license_load_file_key(const char *path, void *evp_pkey, struct license *lic,
    struct license_error *err)
{
	struct license_error dummy;
	uint8_t sig[LICENSE_SIG_LEN];
	unsigned sigline = 0;
	int ret;

	if (err == NULL)
		err = &dummy;
	if ((ret = load_parse(path, lic, sig, &sigline, err)) != 0)
		goto out;
	if ((ret = license_verify(lic, sig, evp_pkey)) != 0) {
		if (ret == XLICEN_E_NOMEM)
			set_err(err, 0, "out of memory");
		else
			set_err(err, sigline, "signature does not verify: "
			    "the file was altered or signed with another key");
		memset(lic, 0, sizeof(*lic));
		goto out;
	}
 out:
	return ret;
}

int
license_load_file(const char *path, const char *keydir, struct license *lic,
    struct license_error *err)
{
	struct license_error dummy, kerr;
	uint8_t sig[LICENSE_SIG_LEN];
	unsigned sigline = 0;
	void *pkey = NULL;
	char *kpath = NULL;
	size_t kplen;
	struct stat st;
	int ret;

	if (err == NULL)
		err = &dummy;
	if ((ret = load_parse(path, lic, sig, &sigline, err)) != 0)
		goto out;
	/* The vendor is a validated name: no '/' can reach the path. */
	kplen = strlen(keydir) + 1 + strlen(lic->vendor) + sizeof(".pub");
	if ((kpath = malloc(kplen)) == NULL) {
		ret = XLICEN_E_NOMEM;
		set_err(err, 0, "out of memory");
		goto out;
	}
	snprintf(kpath, kplen, "%s/%s.pub", keydir, lic->vendor);
	if (stat(kpath, &st) == -1 && errno == ENOENT) {
		ret = XLICEN_E_LIC_NO_VENDOR;
		set_err(err, 0, "no key for vendor \"%s\" (expected %s)",
		    lic->vendor, kpath);
		goto out;
	}
	if ((ret = license_key_load_public(kpath, &pkey, &kerr)) != 0) {
		set_err(err, 0, "%s", kerr.reason);
		goto out;
	}
	if ((ret = license_verify(lic, sig, pkey)) != 0) {
		if (ret == XLICEN_E_NOMEM)
			set_err(err, 0, "out of memory");
		else
			set_err(err, sigline, "signature does not verify "
			    "against %s: the file was altered or signed with "
			    "another key", kpath);
		goto out;
	}
 out:
	if (ret != 0)
		memset(lic, 0, sizeof(*lic));
	license_key_free(pkey);
	free(kpath);
	return ret;
}
