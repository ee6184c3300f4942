/*
 * libFuzzer target: the license file parser (license_parse), and the
 * version, date and name helpers on words cut from the same input.
 *
 * Properties checked, beyond "no crash, no leak, no undefined behaviour":
 *   - a refused file gets XLICEN_E_LIC_SYNTAX, a zeroed license and
 *     signature, and a reason that is non-empty printable ASCII (it goes to
 *     logs and terminals) on a line that exists;
 *   - an accepted file passes license_check, license_format()s with its
 *     signature, and that text parses back to the same fields, signature
 *     and canonical form, and formats to the same text again;
 *   - license_version_valid/_cmp, license_parse_date/license_date_str,
 *     license_name_valid, license_hostid_valid and license_dup_group_valid
 *     agree with independent reference implementations written from the
 *     contracts in license.h (dates via timegm()).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "license.h"
#include "xlicen_errors.h"

#include "fuzz_check.h"

#define MAX_WORDS	24

/* ---- reference implementations, from the contracts in license.h ---- */

/* "1 to 8 components of 1 to 6 decimal digits separated by single dots,
 * at most LICENSE_VERSION_MAX bytes."  Returns the component count or 0. */
static int
ref_version(const char *s, unsigned long comp[8])
{
	size_t len = strlen(s), i = 0, digits;
	int n = 0;

	if (len < 1 || len > LICENSE_VERSION_MAX)
		return 0;
	for (;;) {
		digits = strspn(s + i, "0123456789");
		if (digits < 1 || digits > 6 || n == 8)
			return 0;
		comp[n++] = strtoul(s + i, NULL, 10);
		i += digits;
		if (s[i] == '\0')
			return n;
		if (s[i] != '.')
			return 0;
		i++;
	}
}

static int
sign(int v)
{
	return (v > 0) - (v < 0);
}

/* "An invalid string (or NULL) compares below every valid one ...; two
 * invalid strings compare as strcmp() would."  Numeric otherwise, missing
 * components count as 0. */
static int
ref_version_cmp(const char *a, const char *b)
{
	unsigned long ca[8], cb[8], x, y;
	int na = ref_version(a, ca), nb = ref_version(b, cb), i;

	if (na == 0 && nb == 0)
		return sign(strcmp(a, b));
	if (na == 0 || nb == 0)
		return na == 0 ? -1 : 1;
	for (i = 0; i < 8; i++) {
		x = i < na ? ca[i] : 0;
		y = i < nb ? cb[i] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* Exactly "YYYY-MM-DD", years 1970 to 9999, a day that exists. */
static int
ref_date(const char *s, int64_t *out)
{
	struct tm tm;
	time_t t;
	int y, m, d, i;

	*out = 0;
	if (strlen(s) != 10)
		return -1;
	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return -1;
		} else if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
	}
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1970)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	/* timegm normalises 02-30 to 03-02: a day that does not exist comes
	 * back as another date. */
	if (tm.tm_year != y - 1900 || tm.tm_mon != m - 1 || tm.tm_mday != d)
		return -1;
	*out = (int64_t)t;
	return 0;
}

static int
ref_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= LICENSE_NAME_MAX &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._+-") == n;
}

/* "host:NAME (NAME 1-128 bytes of A-Z a-z 0-9 . _ -) or principal:NAME
 * (NAME 1-150 printable ASCII bytes without blanks, containing '@')". */
static int
ref_hostid(const char *s)
{
	const char *name;
	size_t n;

	if (strncmp(s, "host:", 5) == 0) {
		name = s + 5;
		n = strlen(name);
		return n >= 1 && n <= 128 &&
		    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
	}
	if (strncmp(s, "principal:", 10) == 0) {
		name = s + 10;
		n = strlen(name);
		if (n < 1 || n > 150 || strchr(name, '@') == NULL)
			return 0;
		for (; *name != '\0'; name++)
			if ((unsigned char)*name <= 0x20 ||
			    (unsigned char)*name >= 0x7f)
				return 0;
		return 1;
	}
	return 0;
}

/* "uhd, user, host, display, site or none". */
static int
ref_dup_group(const char *s)
{
	return strcmp(s, "uhd") == 0 || strcmp(s, "user") == 0 ||
	    strcmp(s, "host") == 0 || strcmp(s, "display") == 0 ||
	    strcmp(s, "site") == 0 || strcmp(s, "none") == 0;
}

/* ---- the word helpers ---- */

static void
one_word(const char *w)
{
	unsigned long comp[8];
	char back[11];
	int64_t t, rt;
	int v, r, rr;

	v = license_version_valid(w);
	FUZZ_CHECK(v == (ref_version(w, comp) != 0));
	FUZZ_CHECK(license_version_cmp(w, w) == 0);
	if (v) {
		FUZZ_CHECK(license_version_cmp(NULL, w) < 0);
		FUZZ_CHECK(license_version_cmp(w, NULL) > 0);
	}

	r = license_parse_date(w, &t);
	rr = ref_date(w, &rt);
	FUZZ_CHECK(r == rr);
	FUZZ_CHECK(t == rt);
	if (r == 0) {
		FUZZ_CHECK(t % 86400 == 0);
		license_date_str(t, back);
		FUZZ_CHECK(strcmp(back, w) == 0);
	}

	FUZZ_CHECK(license_name_valid(w) == ref_name(w));
	FUZZ_CHECK(license_hostid_valid(w) == ref_hostid(w));
	FUZZ_CHECK(license_dup_group_valid(w) == ref_dup_group(w));
}

static void
word_pair(const char *a, const char *b)
{
	int ab = license_version_cmp(a, b), ba = license_version_cmp(b, a);

	FUZZ_CHECK(sign(ab) == -sign(ba));
	FUZZ_CHECK(sign(ab) == ref_version_cmp(a, b));
}

/* Cut a NUL-terminated copy of the input into words at any of seps, and
 * run the helpers on each word and on neighbouring pairs. */
static void
words(char *text, const char *seps)
{
	char *w[MAX_WORDS], *p, *save = NULL;
	size_t n = 0, i;

	for (p = strtok_r(text, seps, &save); p != NULL && n < MAX_WORDS;
	    p = strtok_r(NULL, seps, &save))
		w[n++] = p;
	for (i = 0; i < n; i++) {
		one_word(w[i]);
		if (i + 1 < n)
			word_pair(w[i], w[i + 1]);
		if (i + 2 < n)
			word_pair(w[i], w[i + 2]);
	}
}

/* ---- the parser ---- */

/* Both come from license_parse, which zeroes the struct before filling
 * it: equal licenses are equal byte for byte, whatever fields are added
 * to struct license later. */
static void
license_equal(const struct license *a, const struct license *b)
{
	const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
	size_t i;

	for (i = 0; i < sizeof(*a); i++) {
		if (x[i] != y[i]) {
			fprintf(stderr, "struct license differs at byte %zu\n", i);
			abort();
		}
	}
}

static void
refused(const uint8_t *data, size_t size, int rc, const struct license *lic,
    const uint8_t sig[64], const struct license_error *err)
{
	static const struct license zlic;
	static const uint8_t zsig[LICENSE_SIG_LEN];
	size_t i, lines = 1;

	FUZZ_CHECK(rc == XLICEN_E_LIC_SYNTAX);
	FUZZ_CHECK(memcmp(lic, &zlic, sizeof(*lic)) == 0);
	FUZZ_CHECK(memcmp(sig, zsig, sizeof(zsig)) == 0);
	FUZZ_CHECK(memchr(err->reason, '\0', sizeof(err->reason)) != NULL);
	FUZZ_CHECK(err->reason[0] != '\0');
	for (i = 0; err->reason[i] != '\0'; i++)
		FUZZ_CHECK(err->reason[i] >= 0x20 && err->reason[i] < 0x7f);
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	FUZZ_CHECK(err->line <= lines);
}

/* A parsed license must survive format -> parse -> format unchanged. */
static void
accepted(const struct license *lic, const uint8_t sig[64])
{
	struct license lic2;
	struct license_error err;
	uint8_t sig2[LICENSE_SIG_LEN];
	char *text = NULL, *text2 = NULL, *c1 = NULL, *c2 = NULL;
	size_t n1 = 0, n2 = 0;
	int rc;

	FUZZ_CHECK(license_check(lic, NULL) == 0);
	rc = license_format(lic, sig, &text);
	FUZZ_CHECK(rc == 0 && text != NULL);
	rc = license_parse(text, strlen(text), &lic2, sig2, &err);
	if (rc != 0)
		fprintf(stderr, "re-parse failed at line %u: %s\n%s", err.line,
		    err.reason, text);
	FUZZ_CHECK(rc == 0);
	license_equal(lic, &lic2);
	FUZZ_CHECK(memcmp(sig, sig2, LICENSE_SIG_LEN) == 0);
	FUZZ_CHECK(license_canonical(lic, &c1, &n1) == 0);
	FUZZ_CHECK(license_canonical(&lic2, &c2, &n2) == 0);
	FUZZ_CHECK(n1 == n2 && memcmp(c1, c2, n1) == 0);
	FUZZ_CHECK(license_format(&lic2, sig2, &text2) == 0);
	FUZZ_CHECK(strcmp(text, text2) == 0);
	free(text);
	free(text2);
	free(c1);
	free(c2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct license lic;
	struct license_error err;
	uint8_t sig[LICENSE_SIG_LEN];
	char *copy;
	int rc;

	rc = license_parse((const char *)data, size, &lic, sig, &err);
	if (rc != 0)
		refused(data, size, rc, &lic, sig, &err);
	else
		accepted(&lic, sig);
	/* err may be NULL. */
	(void)license_parse((const char *)data, size, &lic, sig, NULL);

	/* Words for the helpers: split at blanks only (hostids keep their
	 * ':'), then also at ':' (dates and "1.0-2.0" stay whole), then also
	 * at '-' (the versions of a range). */
	if (size > 4096)
		return 0;
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	words(copy, " \t\r\n");
	memcpy(copy, data, size);
	copy[size] = '\0';
	words(copy, " \t\r\n:,=");
	memcpy(copy, data, size);
	copy[size] = '\0';
	words(copy, " \t\r\n:,=-");
	free(copy);
	return 0;
}
