/*
 * The text form of a license file, read: lines scanned by index with
 * "avail < need" checks (length, NUL bytes, UTF-8, control characters),
 * comments and blanks skipped, each "field: value" line checked for its
 * place (format first, signature last, no field twice) and its value
 * validated before it is copied into the fixed-size fields of struct
 * license.  Every refusal names its line.  docs/PROTOCOL.md ("License
 * files") is the specification.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "license.h"
#include "license_int.h"
#include "limits.h"
#include "xlicen_errors.h"

#define SIG_B64_MAX	256	/* longest signature value we try to decode */

/* The fields of a license file, in canonical order after "format". */
enum field {
	F_FORMAT, F_VENDOR, F_PRODUCT, F_VERSIONS, F_SEATS, F_START,
	F_EXPIRES, F_SERIAL, F_CUSTOMER, F_HOSTID, F_DUP_GROUP, F_LINGER,
	F_TTL, F_HEARTBEAT, F_BORROW, F_SIGNATURE, F_COUNT
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
	[F_BORROW] = { "borrow", 0 },
	[F_SIGNATURE] = { "signature", 1 },
};

/* Quote an offending field name in a message only if it is harmless. */
static const char *
license_printable_key(const char *k, size_t n, char *out, size_t outsz)
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
license_field_lookup(const char *k, size_t n)
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
license_field_lookup_nocase(const char *k, size_t n)
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
license_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Decode the strict base64 signature value v[0..n). */
static int
license_sig_decode(const char *v, size_t n, uint8_t sig[64], unsigned line,
    struct license_error *err)
{
	unsigned char raw[SIG_B64_MAX];
	char again[SIG_B64_LEN + 1];
	size_t i, pad = 0, rawlen;
	int r;
	char c;

	if (n % 4 != 0 || n > SIG_B64_MAX) {
		license_set_err(err, line, "signature is not base64 of %d "
		    "bytes", LICENSE_SIG_LEN);
		return XLICEN_E_LIC_SYNTAX;
	}
	for (i = 0; i < n; i++) {
		c = v[i];
		if (c == '=') {
			/* Padding only at the end, at most two. */
			if (n - i > 2) {
				license_set_err(err, line, "signature is not "
				    "valid base64");
				return XLICEN_E_LIC_SYNTAX;
			}
			pad++;
			continue;
		}
		if (pad > 0 || !((c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/')) {
			license_set_err(err, line, "signature is not valid "
			    "base64");
			return XLICEN_E_LIC_SYNTAX;
		}
	}
	r = EVP_DecodeBlock(raw, (const unsigned char *)v, (int)n);
	if (r < 0 || (size_t)r < pad) {
		license_set_err(err, line, "signature is not valid "
		    "base64");
		return XLICEN_E_LIC_SYNTAX;
	}
	rawlen = (size_t)r - pad;
	if (rawlen != LICENSE_SIG_LEN) {
		license_set_err(err, line, "signature is %zu bytes, expected "
		    "%d", rawlen, LICENSE_SIG_LEN);
		return XLICEN_E_LIC_SYNTAX;
	}
	/* Only the one canonical spelling (zero spare bits). */
	EVP_EncodeBlock((unsigned char *)again, raw, LICENSE_SIG_LEN);
	if (n != SIG_B64_LEN || memcmp(again, v, n) != 0) {
		license_set_err(err, line, "signature is not canonical "
		    "base64");
		return XLICEN_E_LIC_SYNTAX;
	}
	memcpy(sig, raw, LICENSE_SIG_LEN);
	return 0;
}

/* "format": the one format this program reads. */
static int
license_value_format(const char *v, size_t n, unsigned line,
    struct license_error *err)
{
	if (n == strlen(LICENSE_FORMAT_ID) &&
	    memcmp(v, LICENSE_FORMAT_ID, n) == 0)
		return 0;
	if (n > 19 && memcmp(v, "gss-xlicen-license ", 19) == 0) {
		license_set_err(err, line, "unsupported license format "
		    "version (this program reads \"%s\")",
		    LICENSE_FORMAT_ID);
		return XLICEN_E_LIC_SYNTAX;
	}
	license_set_err(err, line, "not a gss-xlicen license file (format "
	    "must be \"%s\")", LICENSE_FORMAT_ID);
	return XLICEN_E_LIC_SYNTAX;
}

/* "vendor", "product" or "serial" (field f): a name. */
static int
license_value_name(struct license *lic, int f, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	if (n > LICENSE_NAME_MAX) {
		license_set_err(err, line, "%s is too long (%zu bytes, at most "
		    "%d)", fields[f].name, n, LICENSE_NAME_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (!license_name_valid_n(v, n)) {
		license_set_err(err, line, "%s may contain only A-Z a-z 0-9 "
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
}

/* "versions": MIN-MAX, two versions forming a non-empty range. */
static int
license_value_versions(struct license *lic, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	uint32_t comp[VERSION_COMPONENTS_MAX];
	const char *dash = NULL;
	size_t i, a = 0, b = 0;

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
		license_set_err(err, line, "versions: a version is too long "
		    "(at most %d bytes)", LICENSE_VERSION_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (license_version_parse(v, a, comp) == 0 ||
	    license_version_parse(dash + 1, b, comp) == 0)
		goto badrange;
	memcpy(lic->ver_min, v, a);
	lic->ver_min[a] = '\0';
	memcpy(lic->ver_max, dash + 1, b);
	lic->ver_max[b] = '\0';
	if (license_version_cmp(lic->ver_min, lic->ver_max) > 0) {
		license_set_err(err, line, "version range is empty: %s is "
		    "above %s", lic->ver_min, lic->ver_max);
		return XLICEN_E_LIC_SYNTAX;
	}
	return 0;
 badrange:
	license_set_err(err, line, "versions must be MIN-MAX, dotted numbers "
	    "such as 1.0-2.9 (each part 0 to 999999, at most 8 parts)");
	return XLICEN_E_LIC_SYNTAX;
}

/* "seats": a count or "uncounted". */
static int
license_value_seats(struct license *lic, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	uint32_t seats = 0;
	size_t i;

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
	if (seats < 1 || seats > LIMIT_LICENSE_SEATS)
		goto badseats;
	lic->seats = seats;
	return 0;
 badseats:
	license_set_err(err, line, "seats must be a whole number from 1 to %d "
	    "or \"uncounted\"", LIMIT_LICENSE_SEATS);
	return XLICEN_E_LIC_SYNTAX;
}

/* "hostid" (a node lock) or "dup_group" (field f). */
static int
license_value_node(struct license *lic, int f, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	if (f == F_HOSTID) {
		if (n > LICENSE_HOSTID_MAX || !license_hostid_valid_n(v, n)) {
			license_set_err(err, line, "hostid must be host:NAME "
			    "(A-Z a-z 0-9 . _ -) or principal:NAME@REALM");
			return XLICEN_E_LIC_SYNTAX;
		}
		memcpy(lic->hostid, v, n);
		return 0;
	}
	if (n > LICENSE_DUP_MAX) {
		license_set_err(err, line, "dup_group must be one of uhd, "
		    "user, host, display, site, none");
		return XLICEN_E_LIC_SYNTAX;
	}
	memcpy(lic->dup_group, v, n);
	if (!license_dup_group_valid(lic->dup_group)) {
		lic->dup_group[0] = '\0';
		license_set_err(err, line, "dup_group must be one of uhd, "
		    "user, host, display, site, none");
		return XLICEN_E_LIC_SYNTAX;
	}
	return 0;
}

/* "linger": seconds a released seat stays held. */
static int
license_value_linger(struct license *lic, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	if (license_seconds_parse(v, n, 1, LIMIT_LEASE_TTL_MAX_S,
	    &lic->linger_s) != 0) {
		license_set_err(err, line, "linger must be a number of seconds "
		    "from 1 to %d", LIMIT_LEASE_TTL_MAX_S);
		return XLICEN_E_LIC_SYNTAX;
	}
	return 0;
}

/* "ttl": a lease's lifetime without a heartbeat. */
static int
license_value_ttl(struct license *lic, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	if (license_seconds_parse(v, n, LIMIT_LEASE_TTL_MIN_S,
	    LIMIT_LEASE_TTL_MAX_S, &lic->ttl_s) != 0) {
		license_set_err(err, line, "ttl must be a number of seconds "
		    "from %d to %d", LIMIT_LEASE_TTL_MIN_S,
		    LIMIT_LEASE_TTL_MAX_S);
		return XLICEN_E_LIC_SYNTAX;
	}
	return 0;
}

/* "heartbeat": the interval asked of clients. */
static int
license_value_heartbeat(struct license *lic, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	if (license_seconds_parse(v, n, 1, LIMIT_HEARTBEAT_MAX_S,
	    &lic->heartbeat_s) != 0) {
		license_set_err(err, line, "heartbeat must be a number of "
		    "seconds from 1 to %d", LIMIT_HEARTBEAT_MAX_S);
		return XLICEN_E_LIC_SYNTAX;
	}
	return 0;
}

/* "borrow": the longest borrow for offline use, in whole days. */
static int
license_value_borrow(struct license *lic, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	if (license_seconds_parse(v, n, 1, LIMIT_BORROW_DAYS_MAX,
	    &lic->borrow_days) != 0) {
		license_set_err(err, line, "borrow must be a number of days "
		    "from 1 to %d", LIMIT_BORROW_DAYS_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	return 0;
}

/* "start" or "expires" (field f): a date; expires may be "permanent". */
static int
license_value_date(struct license *lic, int f, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	if (f == F_START) {
		if (license_date_parse_n(v, n, &lic->start) != 0) {
			license_set_err(err, line, "start must be a date "
			    "YYYY-MM-DD (1970 to 9999)");
			return XLICEN_E_LIC_SYNTAX;
		}
		return 0;
	}
	if (n == 9 && memcmp(v, "permanent", 9) == 0) {
		lic->expires = 0;
		return 0;
	}
	if (license_date_parse_n(v, n, &lic->expires) != 0) {
		license_set_err(err, line, "expires must be a date YYYY-MM-DD "
		    "or \"permanent\"");
		return XLICEN_E_LIC_SYNTAX;
	}
	/* Valid through the end of that UTC day. */
	lic->expires += SECS_PER_DAY;
	return 0;
}

/* "customer": printable UTF-8 text. */
static int
license_value_customer(struct license *lic, const char *v, size_t n,
    unsigned line, struct license_error *err)
{
	if (n > LICENSE_TEXT_MAX) {
		license_set_err(err, line, "customer is too long (%zu bytes, "
		    "at most %d)", n, LICENSE_TEXT_MAX);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (!license_text_valid_n(v, n)) {
		license_set_err(err, line, "customer contains a control or "
		    "formatting character");
		return XLICEN_E_LIC_SYNTAX;
	}
	memcpy(lic->customer, v, n);
	return 0;
}

/* Store one field's value v[0..n) found on line. */
static int
license_field_value(struct license *lic, uint8_t sig[64], int f,
    const char *v, size_t n, unsigned line, struct license_error *err)
{
	switch (f) {
	case F_FORMAT:
		return license_value_format(v, n, line, err);
	case F_VENDOR:
	case F_PRODUCT:
	case F_SERIAL:
		return license_value_name(lic, f, v, n, line, err);
	case F_VERSIONS:
		return license_value_versions(lic, v, n, line, err);
	case F_SEATS:
		return license_value_seats(lic, v, n, line, err);
	case F_HOSTID:
	case F_DUP_GROUP:
		return license_value_node(lic, f, v, n, line, err);
	case F_LINGER:
		return license_value_linger(lic, v, n, line, err);
	case F_TTL:
		return license_value_ttl(lic, v, n, line, err);
	case F_HEARTBEAT:
		return license_value_heartbeat(lic, v, n, line, err);
	case F_BORROW:
		return license_value_borrow(lic, v, n, line, err);
	case F_START:
	case F_EXPIRES:
		return license_value_date(lic, f, v, n, line, err);
	case F_CUSTOMER:
		return license_value_customer(lic, v, n, line, err);
	case F_SIGNATURE:
		return license_sig_decode(v, n, sig, line, err);
	}
	license_set_err(err, line, "internal error: unhandled field");
	return XLICEN_E_LIC_SYNTAX;
}

/* The bytes of one line (CR removed): no NUL, valid UTF-8, no control
 * character but tab. */
static int
license_line_chars(const char *line, size_t n, unsigned lineno,
    struct license_error *err)
{
	const uint8_t *u = (const uint8_t *)line;
	size_t i, k;
	uint32_t cp;

	for (i = 0; i < n; i += k) {
		if (line[i] == '\0') {
			license_set_err(err, lineno, "NUL byte in line");
			return XLICEN_E_LIC_SYNTAX;
		}
		k = license_utf8_next(u + i, n - i, &cp);
		if (k == 0) {
			license_set_err(err, lineno, "not valid UTF-8");
			return XLICEN_E_LIC_SYNTAX;
		}
		if ((cp < 0x20 && cp != '\t') || cp == 0x7f) {
			license_set_err(err, lineno, "control character in "
			    "line");
			return XLICEN_E_LIC_SYNTAX;
		}
	}
	return 0;
}

/*
 * Split the trimmed line[i..n) at its ':' into a known field name and the
 * start of its value (*vstart, blanks skipped).  Returns the field or
 * XLICEN_E_LIC_SYNTAX.
 */
static int
license_line_key(const char *line, size_t i, size_t n, size_t *vstart,
    unsigned lineno, struct license_error *err)
{
	const char *colon, *kq;
	char kbuf[40];
	size_t klen;
	int f;

	colon = memchr(line + i, ':', n - i);
	if (colon == NULL) {
		license_set_err(err, lineno, "expected \"field: value\"");
		return XLICEN_E_LIC_SYNTAX;
	}
	klen = (size_t)(colon - (line + i));
	*vstart = i + klen + 1;
	while (klen > 0 && license_is_blank(line[i + klen - 1]))
		klen--;
	while (*vstart < n && license_is_blank(line[*vstart]))
		(*vstart)++;

	f = license_field_lookup(line + i, klen);
	if (f >= 0)
		return f;
	kq = license_printable_key(line + i, klen, kbuf, sizeof(kbuf));
	if (klen == 0)
		license_set_err(err, lineno, "missing field name before ':'");
	else if (kq != NULL && license_field_lookup_nocase(line + i, klen) >= 0)
		license_set_err(err, lineno, "unknown field \"%s\" (field "
		    "names are lowercase)", kq);
	else if (kq != NULL)
		license_set_err(err, lineno, "unknown field \"%s\"", kq);
	else
		license_set_err(err, lineno, "unknown field");
	return XLICEN_E_LIC_SYNTAX;
}

/*
 * Whether field f may stand on lineno: format first, nothing after the
 * signature, no field twice.  Records it in seen[] (the line of each
 * field, 0 = not yet).
 */
static int
license_field_order(unsigned seen[F_COUNT], int f, unsigned lineno,
    struct license_error *err)
{
	if (seen[F_FORMAT] == 0 && f != F_FORMAT) {
		license_set_err(err, lineno, "the first field must be "
		    "\"format: %s\"", LICENSE_FORMAT_ID);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (seen[F_SIGNATURE] != 0) {
		license_set_err(err, lineno, "field \"%s\" after the signature "
		    "(the signature must be the last field)", fields[f].name);
		return XLICEN_E_LIC_SYNTAX;
	}
	if (seen[f] != 0) {
		license_set_err(err, lineno, "duplicate field \"%s\" (first on "
		    "line %u)", fields[f].name, seen[f]);
		return XLICEN_E_LIC_SYNTAX;
	}
	seen[f] = lineno;
	return 0;
}

/*
 * One line (CR removed, at most LICENSE_LINE_MAX bytes): a blank line, a
 * comment or "field: value", stored into *lic and sig.
 */
static int
license_parse_line(const char *line, size_t n, unsigned lineno,
    unsigned seen[F_COUNT], struct license *lic, uint8_t sig[64],
    struct license_error *err)
{
	size_t i = 0, vstart = 0;
	int f, r;

	if ((r = license_line_chars(line, n, lineno, err)) != 0)
		return r;
	/* Trim blanks at both ends. */
	while (i < n && license_is_blank(line[i]))
		i++;
	while (n > i && license_is_blank(line[n - 1]))
		n--;
	if (i == n || line[i] == '#')
		return 0;
	if ((f = license_line_key(line, i, n, &vstart, lineno, err)) < 0)
		return f;
	if ((r = license_field_order(seen, f, lineno, err)) != 0)
		return r;
	if (vstart >= n) {
		license_set_err(err, lineno, "empty value for \"%s\"",
		    fields[f].name);
		return XLICEN_E_LIC_SYNTAX;
	}
	return license_field_value(lic, sig, f, line + vstart, n - vstart,
	    lineno, err);
}

/*
 * After the last line: every required field present, and the rules that
 * join two fields, reported on the later of their lines; then the same
 * check the signer applies.
 */
static int
license_parse_finish(const struct license *lic, const unsigned seen[F_COUNT],
    struct license_error *err)
{
	int f;

	for (f = 0; f < F_COUNT; f++) {
		if (fields[f].required && seen[f] == 0) {
			if (f == F_FORMAT)
				license_set_err(err, 0, "not a gss-xlicen "
				    "license file (no \"format: %s\" line)",
				    LICENSE_FORMAT_ID);
			else
				license_set_err(err, 0, "missing field \"%s\"",
				    fields[f].name);
			return XLICEN_E_LIC_SYNTAX;
		}
	}
	if (lic->expires != 0 && lic->expires <= lic->start) {
		license_set_err(err, seen[F_EXPIRES] > seen[F_START] ?
		    seen[F_EXPIRES] : seen[F_START],
		    "license expires before it starts");
		return XLICEN_E_LIC_SYNTAX;
	}
	if (lic->ttl_s != 0 && lic->heartbeat_s != 0 &&
	    (uint64_t)lic->heartbeat_s * 3 > lic->ttl_s) {
		license_set_err(err, seen[F_HEARTBEAT] > seen[F_TTL] ?
		    seen[F_HEARTBEAT] : seen[F_TTL],
		    "heartbeat must be at most a third of ttl (a lease must "
		    "survive two lost heartbeats)");
		return XLICEN_E_LIC_SYNTAX;
	}
	/* Belt and braces: the struct must pass the same check the signer
	 * applies, or the canonical forms could disagree. */
	if (license_check(lic, err) != 0)
		return XLICEN_E_LIC_SYNTAX;
	return 0;
}

int
license_parse_text(const char *text, size_t len, struct license *lic,
    uint8_t sig[64], unsigned *sigline, struct license_error *err)
{
	const uint8_t *u = (const uint8_t *)text;
	unsigned seen[F_COUNT];
	unsigned lineno = 0;
	size_t off = 0, linelen, n;
	const char *line, *nl;
	int r, ret = XLICEN_E_LIC_SYNTAX;

	memset(lic, 0, sizeof(*lic));
	memset(sig, 0, LICENSE_SIG_LEN);
	memset(seen, 0, sizeof(seen));
	if (sigline != NULL)
		*sigline = 0;
	license_clear_err(err);

	if (len > LICENSE_FILE_MAX) {
		license_set_err(err, 0, "file too large (%zu bytes, at most "
		    "%d)", len, LICENSE_FILE_MAX);
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
		off += linelen + (nl != NULL ? 1 : 0);
		if (linelen > LICENSE_LINE_MAX) {
			license_set_err(err, lineno, "line too long (at most "
			    "%d bytes)", LICENSE_LINE_MAX);
			goto out;
		}
		n = linelen;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if ((r = license_parse_line(line, n, lineno, seen, lic, sig,
		    err)) != 0) {
			ret = r;
			goto out;
		}
	}
	if (license_parse_finish(lic, seen, err) != 0)
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
	return license_parse_text(text, len, lic, sig, NULL, err);
}
