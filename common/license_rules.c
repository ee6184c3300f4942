/*
 * The rules every license value obeys, whether it comes from a file
 * (license_parse.c) or from the vendor tool's options (license_check):
 * names, dotted versions, customer text (shortest-form UTF-8 without
 * controls or bidirectional overrides), node locks, dup groups, seconds,
 * and whole-day UTC dates from 1970 to 9999.  Also the error filler
 * every part of the module uses.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "license.h"
#include "license_int.h"
#include "limits.h"
#include "xlicen_errors.h"

#define VERSION_DIGITS_MAX	6

void
license_set_err(struct license_error *err, unsigned line, const char *fmt,
    ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
}

void
license_clear_err(struct license_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

/*
 * Decode one UTF-8 sequence at p (avail bytes).  Returns its length and
 * the code point, or 0 if it is not shortest-form UTF-8 of a scalar value.
 */
size_t
license_utf8_next(const uint8_t *p, size_t avail, uint32_t *cp)
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
license_cp_forbidden(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	    c == 0x2028 || c == 0x2029 ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0xfeff;
}

/* 1 if s[0..n) is a valid name: [A-Za-z0-9._+-], 1..LICENSE_NAME_MAX. */
int
license_name_valid_n(const char *s, size_t n)
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
int
license_text_valid_n(const char *s, size_t n)
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
		k = license_utf8_next(p + off, n - off, &c);
		if (k == 0 || license_cp_forbidden(c))
			return 0;
		off += k;
	}
	return 1;
}

/*
 * Split a version into numeric components.  Returns the number of
 * components (1..8), or 0 if s[0..n) is not a valid version.
 */
unsigned
license_version_parse(const char *s, size_t n,
    uint32_t comp[VERSION_COMPONENTS_MAX])
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
	return license_name_valid_n(s, strnlen(s, LICENSE_NAME_MAX + 1));
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
int
license_hostid_valid_n(const char *s, size_t n)
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
	return license_hostid_valid_n(s, strnlen(s, LICENSE_HOSTID_MAX + 1));
}

/* Parse a decimal number of seconds in min..max from v[0..n). */
int
license_seconds_parse(const char *v, size_t n, uint32_t min, uint32_t max,
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
	return license_version_parse(s, strnlen(s, LICENSE_VERSION_MAX + 1),
	    comp) != 0;
}

int
license_version_cmp(const char *a, const char *b)
{
	uint32_t ca[VERSION_COMPONENTS_MAX], cb[VERSION_COMPONENTS_MAX];
	unsigned na = 0, nb = 0, i, n;
	uint32_t x, y;

	if (a != NULL)
		na = license_version_parse(a, strnlen(a,
		    LICENSE_VERSION_MAX + 1), ca);
	if (b != NULL)
		nb = license_version_parse(b, strnlen(b,
		    LICENSE_VERSION_MAX + 1), cb);
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
license_days_from_civil(int64_t y, unsigned m, unsigned d)
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
license_is_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Parse exactly "YYYY-MM-DD" from s[0..n). */
int
license_date_parse_n(const char *s, size_t n, int64_t *out)
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
	dim = mdays[m - 1] + (m == 2 && license_is_leap(y));
	if (d > dim)
		return -1;
	*out = license_days_from_civil(y, m, d) * SECS_PER_DAY;
	return 0;
}

int
license_parse_date(const char *s, int64_t *out)
{
	*out = 0;
	if (s == NULL)
		return -1;
	return license_date_parse_n(s, strnlen(s, 11), out);
}

void
license_date_str(int64_t t, char out[11])
{
	int64_t z, era, doe, yoe, doy, mp;
	unsigned y, m, d;

	if (t < 0)
		t = 0;
	/* The inverse of license_days_from_civil(). */
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
license_date_limit(void)
{
	return (license_days_from_civil(9999, 12, 31) + 1) * SECS_PER_DAY;
}

int
license_check(const struct license *lic, struct license_error *err)
{
	int64_t limit = license_date_limit();
	size_t n;

	license_clear_err(err);
	if (lic == NULL) {
		license_set_err(err, 0, "no license");
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->vendor, sizeof(lic->vendor));
	if (n == sizeof(lic->vendor) || !license_name_valid_n(lic->vendor, n))
		goto badname_vendor;
	n = strnlen(lic->product, sizeof(lic->product));
	if (n == sizeof(lic->product) ||
	    !license_name_valid_n(lic->product, n)) {
		license_set_err(err, 0, "product must be 1 to %d of A-Z a-z "
		    "0-9 . _ + -", LICENSE_NAME_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->serial, sizeof(lic->serial));
	if (n == sizeof(lic->serial) || !license_name_valid_n(lic->serial, n)) {
		license_set_err(err, 0, "serial must be 1 to %d of A-Z a-z "
		    "0-9 . _ + -", LICENSE_NAME_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (strnlen(lic->ver_min, sizeof(lic->ver_min)) ==
	    sizeof(lic->ver_min) || !license_version_valid(lic->ver_min) ||
	    strnlen(lic->ver_max, sizeof(lic->ver_max)) ==
	    sizeof(lic->ver_max) || !license_version_valid(lic->ver_max)) {
		license_set_err(err, 0, "versions must be dotted numbers such "
		    "as 1.2");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (license_version_cmp(lic->ver_min, lic->ver_max) > 0) {
		license_set_err(err, 0, "version range is empty: %s is above "
		    "%s", lic->ver_min, lic->ver_max);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->uncounted ? lic->seats != 0 :
	    (lic->seats < 1 || lic->seats > LIMIT_LICENSE_SEATS)) {
		license_set_err(err, 0,
		    "seats must be a number from 1 to %d, or "
		    "\"uncounted\"", LIMIT_LICENSE_SEATS);
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->hostid, sizeof(lic->hostid));
	if (n == sizeof(lic->hostid) || (n > 0 &&
	    !license_hostid_valid_n(lic->hostid, n))) {
		license_set_err(err, 0, "hostid must be host:NAME or "
		    "principal:NAME@REALM");
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->dup_group, sizeof(lic->dup_group));
	if (n == sizeof(lic->dup_group) || (n > 0 &&
	    !license_dup_group_valid(lic->dup_group))) {
		license_set_err(err, 0, "dup_group must be one of uhd, user, "
		    "host, display, site, none");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->linger_s > LIMIT_LEASE_TTL_MAX_S ||
	    (lic->ttl_s != 0 && (lic->ttl_s < LIMIT_LEASE_TTL_MIN_S ||
	    lic->ttl_s > LIMIT_LEASE_TTL_MAX_S)) ||
	    lic->heartbeat_s > LIMIT_HEARTBEAT_MAX_S) {
		license_set_err(err, 0, "linger, ttl or heartbeat out of "
		    "range");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->borrow_days > LIMIT_BORROW_DAYS_MAX) {
		license_set_err(err, 0, "borrow must be a number of days from "
		    "1 to %d", LIMIT_BORROW_DAYS_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->ttl_s != 0 && lic->heartbeat_s != 0 &&
	    (uint64_t)lic->heartbeat_s * 3 > lic->ttl_s) {
		license_set_err(err, 0, "heartbeat must be at most a third of "
		    "ttl");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->start < 0 || lic->start % SECS_PER_DAY != 0 ||
	    lic->start >= limit) {
		license_set_err(err, 0, "start must be a whole UTC day");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->expires < 0 || lic->expires % SECS_PER_DAY != 0 ||
	    lic->expires > limit) {
		license_set_err(err, 0, "expires must be a whole UTC day");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->expires != 0 && lic->expires <= lic->start) {
		license_set_err(err, 0, "license expires before it starts");
		return XLICEN_E_LIC_SYNTAX;
	}
	n = strnlen(lic->customer, sizeof(lic->customer));
	if (n == sizeof(lic->customer) || (n > 0 &&
	    !license_text_valid_n(lic->customer, n))) {
		license_set_err(err, 0, "customer must be printable UTF-8 "
		    "text of at most %d bytes without control characters or "
		    "leading or trailing spaces", LICENSE_TEXT_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	return 0;

 badname_vendor:
	license_set_err(err, 0, "vendor must be 1 to %d of A-Z a-z 0-9 "
	    ". _ + -", LICENSE_NAME_MAX);
	return XLICEN_E_LIC_SYNTAX;
}
