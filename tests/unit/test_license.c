/*
 * Unit tests for common/license.c: signing and verification round trips,
 * tampering, every class of syntax error with its line number, key file
 * permissions, vendor key lookup, version ordering and dates.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <openssl/pem.h>

#include "license.h"
#include "xlicen_errors.h"

/* Not PATH_MAX: common/limits.h shadows <limits.h> on the include path. */
#define TEST_PATH_MAX 4096

static char tmpdir[1024];

/* A fresh directory under $XLICEN_TEST_TMP (or /tmp). */
static int
setup_tmp(void **state)
{
	const char *base = getenv("XLICEN_TEST_TMP");

	(void)state;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (mkdir(base, 0700) == -1 && errno != EEXIST)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_license.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown_tmp(void **state)
{
	char cmd[TEST_PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static EVP_PKEY *
gen_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	assert_non_null(k);
	return k;
}

static void
sample(struct license *lic)
{
	memset(lic, 0, sizeof(*lic));
	strcpy(lic->vendor, "acme");
	strcpy(lic->product, "widget");
	strcpy(lic->ver_min, "1.0");
	strcpy(lic->ver_max, "2.9");
	lic->seats = 5;
	assert_int_equal(license_parse_date("2024-01-01", &lic->start), 0);
	assert_int_equal(license_parse_date("2027-01-01", &lic->expires), 0);
	strcpy(lic->serial, "ABC-123");
	strcpy(lic->customer, "Example Corp");
}

static char *
path_in_tmp(const char *name)
{
	static char p[TEST_PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static void
write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
write_pub(const char *path, EVP_PKEY *k)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
}

static void
write_priv(const char *path, EVP_PKEY *k, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
same_license(const struct license *a, const struct license *b)
{
	assert_string_equal(a->vendor, b->vendor);
	assert_string_equal(a->product, b->product);
	assert_string_equal(a->ver_min, b->ver_min);
	assert_string_equal(a->ver_max, b->ver_max);
	assert_int_equal(a->seats, b->seats);
	assert_int_equal(a->start, b->start);
	assert_int_equal(a->expires, b->expires);
	assert_string_equal(a->serial, b->serial);
	assert_string_equal(a->customer, b->customer);
	assert_int_equal(a->uncounted, b->uncounted);
	assert_string_equal(a->hostid, b->hostid);
	assert_string_equal(a->dup_group, b->dup_group);
	assert_int_equal(a->linger_s, b->linger_s);
	assert_int_equal(a->ttl_s, b->ttl_s);
	assert_int_equal(a->heartbeat_s, b->heartbeat_s);
}

/* Replace the first occurrence of from with to in s (malloc'd result). */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t n;
	char *r;

	assert_non_null(p);
	n = strlen(s) - strlen(from) + strlen(to) + 1;
	r = malloc(n);
	assert_non_null(r);
	snprintf(r, n, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return r;
}

static void
test_sign_verify(void **state)
{
	struct license lic, back;
	struct license_error err;
	uint8_t sig[64], sig2[64];
	EVP_PKEY *k = gen_key();
	char *text = NULL;

	(void)state;
	sample(&lic);
	assert_int_equal(license_sign(&lic, k, sig), 0);
	assert_int_equal(license_verify(&lic, sig, k), 0);

	assert_int_equal(license_format(&lic, sig, &text), 0);
	assert_non_null(strstr(text, "# gss-xlicen license file\n"));
	assert_non_null(strstr(text, "\nformat: gss-xlicen-license 1\n"));
	assert_non_null(strstr(text, "\nexpires: 2026-12-31\n"));
	assert_int_equal(license_parse(text, strlen(text), &back, sig2, &err),
	    0);
	same_license(&lic, &back);
	assert_memory_equal(sig, sig2, 64);
	assert_int_equal(license_verify(&back, sig2, k), 0);
	free(text);

	/* Optional fields absent. */
	lic.start = 0;
	lic.expires = 0;
	lic.customer[0] = '\0';
	assert_int_equal(license_sign(&lic, k, sig), 0);
	assert_int_equal(license_format(&lic, sig, &text), 0);
	assert_null(strstr(text, "start:"));
	assert_null(strstr(text, "customer:"));
	assert_non_null(strstr(text, "\nexpires: permanent\n"));
	assert_int_equal(license_parse(text, strlen(text), &back, sig2, &err),
	    0);
	same_license(&lic, &back);
	assert_int_equal(license_verify(&back, sig2, k), 0);
	free(text);
	EVP_PKEY_free(k);
}

static void
test_canonical(void **state)
{
	struct license lic;
	char *c = NULL;
	size_t n = 0;

	(void)state;
	sample(&lic);
	assert_int_equal(license_canonical(&lic, &c, &n), 0);
	assert_string_equal(c,
	    "gss-xlicen-license-v1\n"
	    "vendor=acme\n"
	    "product=widget\n"
	    "versions=1.0-2.9\n"
	    "seats=5\n"
	    "start=2024-01-01\n"
	    "expires=2026-12-31\n"
	    "serial=ABC-123\n"
	    "customer=Example Corp\n");
	assert_int_equal(n, strlen(c));
	free(c);
	lic.start = 0;
	lic.expires = 0;
	lic.customer[0] = '\0';
	assert_int_equal(license_canonical(&lic, &c, &n), 0);
	assert_non_null(strstr(c, "start=none\nexpires=permanent\n"));
	assert_non_null(strstr(c, "customer=\n"));
	free(c);
}

static void
test_tampered(void **state)
{
	struct license lic, back;
	struct license_error err;
	uint8_t sig[64], sig2[64];
	EVP_PKEY *k = gen_key();
	char *text = NULL, *bad;

	(void)state;
	sample(&lic);
	assert_int_equal(license_sign(&lic, k, sig), 0);
	assert_int_equal(license_format(&lic, sig, &text), 0);

	bad = replace(text, "\nseats: 5\n", "\nseats: 6\n");
	assert_int_equal(license_parse(bad, strlen(bad), &back, sig2, &err),
	    0);
	assert_int_equal(back.seats, 6);
	assert_int_equal(license_verify(&back, sig2, k),
	    XLICEN_E_LIC_SIGNATURE);
	free(bad);

	/* A comment or spacing change does not matter. */
	bad = replace(text, "\nseats: 5\n", "\n# hello\n  seats:\t5  \n");
	assert_int_equal(license_parse(bad, strlen(bad), &back, sig2, &err),
	    0);
	assert_int_equal(license_verify(&back, sig2, k), 0);
	free(bad);

	/* Every field counts, also in memory. */
	back = lic;
	strcpy(back.customer, "Example Corp.");
	assert_int_equal(license_verify(&back, sig, k),
	    XLICEN_E_LIC_SIGNATURE);
	back = lic;
	back.expires += 86400;
	assert_int_equal(license_verify(&back, sig, k),
	    XLICEN_E_LIC_SIGNATURE);
	back = lic;
	strcpy(back.ver_max, "3.0");
	assert_int_equal(license_verify(&back, sig, k),
	    XLICEN_E_LIC_SIGNATURE);
	memcpy(sig2, sig, 64);
	sig2[63] ^= 1;
	assert_int_equal(license_verify(&lic, sig2, k),
	    XLICEN_E_LIC_SIGNATURE);
	free(text);
	EVP_PKEY_free(k);
}

static void
test_wrong_key(void **state)
{
	struct license lic;
	uint8_t sig[64];
	EVP_PKEY *k = gen_key(), *other = gen_key();
	EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");

	(void)state;
	sample(&lic);
	assert_int_equal(license_sign(&lic, k, sig), 0);
	assert_int_equal(license_verify(&lic, sig, other),
	    XLICEN_E_LIC_SIGNATURE);
	assert_non_null(x);
	assert_int_equal(license_verify(&lic, sig, x), XLICEN_E_LIC_SIGNATURE);
	assert_int_equal(license_verify(&lic, sig, NULL),
	    XLICEN_E_LIC_SIGNATURE);
	assert_int_equal(license_sign(&lic, x, sig), XLICEN_E_LIC_KEY);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	EVP_PKEY_free(x);
}

/* The lines of a well-formed license (any 64-byte signature parses). */
#define SIG_ZERO "signature: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
static const char *const base_lines[] = {
	"# a test license",		/* 1 */
	"format: gss-xlicen-license 1",	/* 2 */
	"vendor: acme",			/* 3 */
	"product: widget",		/* 4 */
	"versions: 1.0-2.0",		/* 5 */
	"seats: 5",			/* 6 */
	"start: 2024-01-01",		/* 7 */
	"expires: 2026-12-31",		/* 8 */
	"serial: ABC-1",		/* 9 */
	"customer: Example",		/* 10 */
	SIG_ZERO,			/* 11 */
};
#define NBASE (sizeof(base_lines) / sizeof(base_lines[0]))

/*
 * Join the base lines, with line `at` (1-based) replaced by repl (NULL:
 * deleted) or, if insert is set, repl inserted before line `at`.
 */
static char *
build(unsigned at, const char *repl, int insert)
{
	size_t cap = 8192, len = 0, i;
	char *t = malloc(cap);
	const char *l;

	assert_non_null(t);
	t[0] = '\0';
	for (i = 1; i <= NBASE + 1; i++) {
		if (i == at && repl != NULL) {
			len += (size_t)snprintf(t + len, cap - len, "%s\n",
			    repl);
			if (!insert)
				continue;
		} else if (i == at && !insert) {
			continue;
		}
		if (i > NBASE)
			break;
		l = base_lines[i - 1];
		len += (size_t)snprintf(t + len, cap - len, "%s\n", l);
	}
	assert_true(len < cap);
	return t;
}

static int
parse_str(const char *t, struct license_error *err)
{
	struct license lic;
	uint8_t sig[64];

	return license_parse(t, strlen(t), &lic, sig, err);
}

static void
expect_syntax(unsigned at, const char *repl, int insert, unsigned line,
    const char *reason_part)
{
	struct license_error err;
	char *t = build(at, repl, insert);
	int r = parse_str(t, &err);

	if (r != XLICEN_E_LIC_SYNTAX || err.line != line ||
	    (reason_part != NULL && strstr(err.reason, reason_part) == NULL))
		print_error("case at=%u repl=\"%s\": got %d line %u \"%s\"\n",
		    at, repl != NULL ? repl : "(deleted)", r, err.line,
		    err.reason);
	assert_int_equal(r, XLICEN_E_LIC_SYNTAX);
	assert_int_equal(err.line, line);
	if (reason_part != NULL)
		assert_non_null(strstr(err.reason, reason_part));
	free(t);
}

static void
test_parse_ok_variants(void **state)
{
	struct license lic;
	struct license_error err;
	uint8_t sig[64];
	char *t, *u;
	size_t i, n;

	(void)state;
	t = build(0, NULL, 0);
	assert_int_equal(license_parse(t, strlen(t), &lic, sig, &err), 0);
	assert_string_equal(lic.vendor, "acme");
	assert_string_equal(lic.ver_min, "1.0");
	assert_string_equal(lic.ver_max, "2.0");
	assert_int_equal(lic.seats, 5);
	assert_string_equal(lic.customer, "Example");

	/* No final newline. */
	assert_int_equal(license_parse(t, strlen(t) - 1, &lic, sig, &err), 0);

	/* CRLF line endings and a byte order mark. */
	n = strlen(t);
	u = malloc(2 * n + 4);
	assert_non_null(u);
	memcpy(u, "\xef\xbb\xbf", 3);
	for (i = 0, n = 3; t[i] != '\0'; i++) {
		if (t[i] == '\n')
			u[n++] = '\r';
		u[n++] = t[i];
	}
	assert_int_equal(license_parse(u, n, &lic, sig, &err), 0);
	assert_string_equal(lic.customer, "Example");
	free(u);
	free(t);

	/* Optional fields may be left out; blank lines and comments
	 * anywhere before the end; UTF-8 customer. */
	t = build(7, NULL, 0);
	assert_int_equal(parse_str(t, &err), 0);
	free(t);
	t = build(10, "customer: Ölwerk Zürich — R&D", 0);
	assert_int_equal(license_parse(t, strlen(t), &lic, sig, &err), 0);
	assert_string_equal(lic.customer, "Ölwerk Zürich — R&D");
	free(t);
	t = build(5, "", 1);
	u = replace(t, SIG_ZERO "\n", SIG_ZERO "\n\n# trailing comment\n");
	assert_int_equal(parse_str(u, &err), 0);
	free(u);
	free(t);
	t = build(8, "expires: permanent", 0);
	assert_int_equal(license_parse(t, strlen(t), &lic, sig, &err), 0);
	assert_int_equal(lic.expires, 0);
	free(t);
	/* Fields in another order are fine; the canonical order is fixed. */
	t = build(3, NULL, 0);
	u = replace(t, "serial: ABC-1\n", "serial: ABC-1\nvendor: acme\n");
	assert_int_equal(parse_str(u, &err), 0);
	free(u);
	free(t);
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	/* Unknown, duplicate, missing, misplaced fields. */
	expect_syntax(6, "color: red", 1, 6, "unknown field \"color\"");
	expect_syntax(6, "Seats: 5", 0, 6, "lowercase");
	expect_syntax(9, "seats: 5", 1, 9, "duplicate field \"seats\"");
	expect_syntax(9, "seats: 5", 1, 9, "first on line 6");
	expect_syntax(6, NULL, 0, 0, "missing field \"seats\"");
	expect_syntax(3, NULL, 0, 0, "missing field \"vendor\"");
	expect_syntax(11, NULL, 0, 0, "missing field \"signature\"");
	expect_syntax(2, NULL, 0, 2, "first field must be");
	expect_syntax(2, "format: gss-xlicen-license 2", 0, 2,
	    "unsupported license format");
	expect_syntax(2, "format: flexlm", 0, 2, "not a gss-xlicen license");
	expect_syntax(12, "seats: 5", 0, 12, "after the signature");
	expect_syntax(4, "product:", 0, 4, "empty value");
	expect_syntax(4, ": widget", 0, 4, "missing field name");

	/* Lines. */
	expect_syntax(4, "product widget", 0, 4, "expected \"field: value\"");
	expect_syntax(4, "product: wid\x01get", 0, 4, "control character");
	expect_syntax(4, "product: wid\rget", 0, 4, "control character");
	expect_syntax(4, "product: wid\xffget", 0, 4, "UTF-8");
	expect_syntax(4, "# \xc0\xaf overlong slash", 0, 4, "UTF-8");
	expect_syntax(4, "# \xed\xa0\x80 surrogate", 0, 4, "UTF-8");

	/* Dates. */
	expect_syntax(8, "expires: 2026-02-29", 0, 8, "expires must be");
	expect_syntax(8, "expires: 2026-13-01", 0, 8, NULL);
	expect_syntax(8, "expires: 2026-1-01", 0, 8, NULL);
	expect_syntax(8, "expires: never", 0, 8, NULL);
	expect_syntax(7, "start: 2024-00-10", 0, 7, "start must be");
	expect_syntax(7, "start: 1969-12-31", 0, 7, "start must be");
	expect_syntax(8, "expires: 2023-12-31", 0, 8,
	    "expires before it starts");
}

static void
test_syntax_errors_values(void **state)
{
	char big[200];

	(void)state;
	/* Seats. */
	expect_syntax(6, "seats: 0", 0, 6, "seats must be");
	expect_syntax(6, "seats: 1000001", 0, 6, "seats must be");
	expect_syntax(6, "seats: ten", 0, 6, "seats must be");
	expect_syntax(6, "seats: -1", 0, 6, "seats must be");
	expect_syntax(6, "seats: 05", 0, 6, "seats must be");
	expect_syntax(6, "seats: 5 5", 0, 6, "seats must be");
	expect_syntax(6, "seats: 99999999999", 0, 6, "seats must be");

	/* Versions. */
	expect_syntax(5, "versions: 3.0-2.0", 0, 5, "range is empty");
	expect_syntax(5, "versions: 1.10-1.9", 0, 5, "range is empty");
	expect_syntax(5, "versions: 1.0", 0, 5, "MIN-MAX");
	expect_syntax(5, "versions: 1.0-2.0-3.0", 0, 5, "MIN-MAX");
	expect_syntax(5, "versions: 1..0-2.0", 0, 5, "MIN-MAX");
	expect_syntax(5, "versions: 1.0-2.0.", 0, 5, "MIN-MAX");
	expect_syntax(5, "versions: v1-v2", 0, 5, "MIN-MAX");
	expect_syntax(5, "versions: 1.2.3.4.5.6.7.8.9-10", 0, 5, "MIN-MAX");
	expect_syntax(5, "versions: 1234567-2000000", 0, 5, "MIN-MAX");
	expect_syntax(5, "versions: 1 - 2", 0, 5, "MIN-MAX");

	/* Names and text. */
	memset(big, 'v', sizeof(big));
	memcpy(big, "vendor: ", 8);
	big[8 + 65] = '\0';
	expect_syntax(3, big, 0, 3, "too long");
	big[8 + 64] = '\0';
	{
		struct license_error err;
		char *t = build(3, big, 0);

		assert_int_equal(parse_str(t, &err), 0);
		free(t);
	}
	expect_syntax(3, "vendor: ac/me", 0, 3, "may contain only");
	expect_syntax(4, "product: my widget", 0, 4, "may contain only");
	expect_syntax(9, "serial: ABC\xc3\xa9", 0, 9, "may contain only");
	memset(big, 'c', sizeof(big));
	memcpy(big, "customer: ", 10);
	big[10 + 129] = '\0';
	expect_syntax(10, big, 0, 10, "too long");
	expect_syntax(10, "customer: evil\xe2\x80\xaegnp.exe", 0, 10,
	    "control or formatting");
	expect_syntax(10, "customer: a\xc2\x85" "b", 0, 10,
	    "control or formatting");
	expect_syntax(10, "customer: tab\there", 0, 10,
	    "control or formatting");

	/* Signature. */
	expect_syntax(11, "signature: !!!!", 0, 11, "not valid base64");
	expect_syntax(11, "signature: AAA", 0, 11, "not base64");
	expect_syntax(11, "signature: AA=A", 0, 11, "not valid base64");
	/* 32 bytes: a right-looking but short signature. */
	expect_syntax(11, "signature: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    0, 11, "is 32 bytes, expected 64");
	/* Spare bits set in the last character before "==". */
	expect_syntax(11, "signature: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB==", 0, 11,
	    "canonical");
}

static void
test_syntax_raw(void **state)
{
	struct license lic;
	struct license_error err;
	uint8_t sig[64];
	char *t, *big;
	size_t n;

	(void)state;
	/* A NUL byte in line 4. */
	t = build(0, NULL, 0);
	n = strlen(t);
	big = strstr(t, "widget");
	assert_non_null(big);
	big[3] = '\0';
	assert_int_equal(license_parse(t, n, &lic, sig, &err),
	    XLICEN_E_LIC_SYNTAX);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.reason, "NUL"));
	free(t);

	/* Too large. */
	big = malloc(LICENSE_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, '\n', LICENSE_FILE_MAX + 1);
	assert_int_equal(license_parse(big, LICENSE_FILE_MAX + 1, &lic, sig,
	    &err), XLICEN_E_LIC_SYNTAX);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.reason, "too large"));
	/* A line over LICENSE_LINE_MAX, even a comment. */
	big[0] = '#';
	memset(big + 1, 'x', LICENSE_LINE_MAX);
	assert_int_equal(license_parse(big, LICENSE_LINE_MAX + 2, &lic, sig,
	    &err), XLICEN_E_LIC_SYNTAX);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.reason, "line too long"));
	free(big);

	/* Empty input. */
	assert_int_equal(license_parse("", 0, &lic, sig, &err),
	    XLICEN_E_LIC_SYNTAX);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.reason, "not a gss-xlicen license file"));
	/* Output cleared on failure. */
	assert_string_equal(lic.vendor, "");
}

static void
test_check(void **state)
{
	struct license lic;
	struct license_error err;

	(void)state;
	sample(&lic);
	assert_int_equal(license_check(&lic, &err), 0);
	strcpy(lic.customer, " padded");
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	assert_non_null(strstr(err.reason, "customer"));
	sample(&lic);
	strcpy(lic.customer, "line\nbreak");
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	sample(&lic);
	lic.seats = 0;
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	sample(&lic);
	lic.expires += 1;	/* not a whole day */
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	sample(&lic);
	strcpy(lic.vendor, "a=b");
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	sample(&lic);
	strcpy(lic.ver_min, "3");
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	assert_non_null(strstr(err.reason, "range is empty"));
	assert_int_equal(license_name_valid("a.b_c+d-E9"), 1);
	assert_int_equal(license_name_valid(""), 0);
	assert_int_equal(license_name_valid("a b"), 0);
}

static void
test_private_key_mode(void **state)
{
	struct license_error err;
	EVP_PKEY *k = gen_key();
	void *loaded = NULL;
	char *p;

	(void)state;
	p = path_in_tmp("acme.key");
	write_priv(p, k, 0644);
	assert_int_equal(license_key_load_private(p, &loaded, &err),
	    XLICEN_E_LIC_KEY);
	assert_null(loaded);
	assert_non_null(strstr(err.reason, "chmod 600"));
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(license_key_load_private(p, &loaded, &err),
	    XLICEN_E_LIC_KEY);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(license_key_load_private(p, &loaded, &err), 0);
	assert_int_equal(EVP_PKEY_eq(loaded, k), 1);
	license_key_free(loaded);
	license_key_free(NULL);

	/* A public key where a private one is wanted, and vice versa. */
	p = path_in_tmp("acme.pub");
	write_pub(p, k);
	assert_int_equal(license_key_load_public(p, &loaded, &err), 0);
	license_key_free(loaded);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(license_key_load_private(p, &loaded, &err),
	    XLICEN_E_LIC_KEY);
	assert_int_equal(license_key_load_public(path_in_tmp("nope.pub"),
	    &loaded, &err), XLICEN_E_LIC_KEY);
	assert_non_null(strstr(err.reason, "No such file"));
	EVP_PKEY_free(k);

	/* Not Ed25519. */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	assert_non_null(k);
	p = path_in_tmp("x.pub");
	write_pub(p, k);
	assert_int_equal(license_key_load_public(p, &loaded, &err),
	    XLICEN_E_LIC_KEY);
	assert_non_null(strstr(err.reason, "not an Ed25519 key"));
	EVP_PKEY_free(k);
}

static void
test_load_file(void **state)
{
	struct license lic, got;
	struct license_error err;
	uint8_t sig[64];
	EVP_PKEY *k = gen_key(), *other = gen_key();
	char *text = NULL, *bad, keydir[TEST_PATH_MAX], lpath[TEST_PATH_MAX];

	(void)state;
	snprintf(keydir, sizeof(keydir), "%s/keys", tmpdir);
	assert_int_equal(mkdir(keydir, 0755), 0);
	snprintf(lpath, sizeof(lpath), "%s/w.lic", tmpdir);

	sample(&lic);
	assert_int_equal(license_sign(&lic, k, sig), 0);
	assert_int_equal(license_format(&lic, sig, &text), 0);
	write_file(lpath, text, strlen(text), 0644);

	/* No acme.pub yet. */
	assert_int_equal(license_load_file(lpath, keydir, &got, &err),
	    XLICEN_E_LIC_NO_VENDOR);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.reason, "acme"));
	assert_string_equal(got.vendor, "");

	/* Another vendor's key under acme's name. */
	write_pub(path_in_tmp("keys/acme.pub"), other);
	assert_int_equal(license_load_file(lpath, keydir, &got, &err),
	    XLICEN_E_LIC_SIGNATURE);
	/* Reported on the signature line, the last of the file. */
	assert_true(err.line > 10);
	assert_non_null(strstr(err.reason, "does not verify"));

	write_pub(path_in_tmp("keys/acme.pub"), k);
	assert_int_equal(license_load_file(lpath, keydir, &got, &err), 0);
	same_license(&lic, &got);
	assert_int_equal(license_load_file_key(lpath, k, &got, &err), 0);
	assert_int_equal(license_load_file_key(lpath, other, &got, &err),
	    XLICEN_E_LIC_SIGNATURE);

	/* Tampered on disk. */
	bad = replace(text, "\nseats: 5\n", "\nseats: 50\n");
	write_file(lpath, bad, strlen(bad), 0644);
	assert_int_equal(license_load_file(lpath, keydir, &got, &err),
	    XLICEN_E_LIC_SIGNATURE);
	free(bad);

	/* Syntax errors keep their line. */
	bad = replace(text, "\nseats: 5\n", "\nseats: many\n");
	write_file(lpath, bad, strlen(bad), 0644);
	assert_int_equal(license_load_file(lpath, keydir, &got, &err),
	    XLICEN_E_LIC_SYNTAX);
	assert_true(err.line > 1);
	free(bad);

	/* Too large on disk. */
	bad = calloc(1, LICENSE_FILE_MAX + 10);
	assert_non_null(bad);
	memset(bad, '#', LICENSE_FILE_MAX + 10);
	write_file(lpath, bad, LICENSE_FILE_MAX + 10, 0644);
	assert_int_equal(license_load_file(lpath, keydir, &got, &err),
	    XLICEN_E_LIC_SYNTAX);
	assert_non_null(strstr(err.reason, "too large"));
	free(bad);

	/* Missing file, directory. */
	assert_int_equal(license_load_file(path_in_tmp("none.lic"), keydir,
	    &got, &err), XLICEN_E_IO);
	assert_int_equal(license_load_file(keydir, keydir, &got, &err),
	    XLICEN_E_IO);

	free(text);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void
test_version_cmp(void **state)
{
	static const struct {
		const char *a, *b;
		int sign;
	} t[] = {
		{ "1.10", "1.9", 1 },
		{ "1.9", "1.10", -1 },
		{ "1", "1.0", 0 },
		{ "1.0.0.0", "1", 0 },
		{ "2.0.1", "2.0", 1 },
		{ "2.0", "2.0.1", -1 },
		{ "0", "0.0.1", -1 },
		{ "10", "9.999999", 1 },
		{ "2024.01", "2024.1", 0 },
		{ "999999", "999998.999999", 1 },
		{ "1.2.3.4.5.6.7.8", "1.2.3.4.5.6.7.9", -1 },
		/* Invalid strings sort below all valid ones. */
		{ "", "0", -1 },
		{ "1.x", "0", -1 },
		{ "0", "1..2", 1 },
		{ NULL, "0", -1 },
		{ "a", "a", 0 },
	};
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = license_version_cmp(t[i].a, t[i].b);
		r = r < 0 ? -1 : r > 0 ? 1 : 0;
		if (r != t[i].sign)
			print_error("cmp(%s, %s) = %d\n", t[i].a, t[i].b, r);
		assert_int_equal(r, t[i].sign);
	}
	assert_true(license_version_valid("0"));
	assert_true(license_version_valid("1.2.3.4.5.6.7.8"));
	assert_true(license_version_valid("999999.0"));
	assert_false(license_version_valid("1.2.3.4.5.6.7.8.9"));
	assert_false(license_version_valid("1000000"));
	assert_false(license_version_valid(""));
	assert_false(license_version_valid("1."));
	assert_false(license_version_valid(".1"));
	assert_false(license_version_valid("1..2"));
	assert_false(license_version_valid("-1"));
	assert_false(license_version_valid("1.2b"));
	assert_false(license_version_valid(" 1"));
	assert_false(license_version_valid(NULL));
	assert_false(license_version_valid(
	    "1.2.3.4.5.6.7.000000000000000000000000000008"));
}

static void
test_dates(void **state)
{
	struct license lic;
	struct license_error err;
	uint8_t sig[64];
	int64_t t, t2;
	char s[11];
	char *txt;

	(void)state;
	assert_int_equal(license_parse_date("1970-01-01", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(license_parse_date("2024-02-29", &t), 0);
	assert_int_equal(t, 1709164800);
	assert_int_equal(license_parse_date("2026-02-29", &t), -1);
	assert_int_equal(t, 0);
	assert_int_equal(license_parse_date("2000-02-29", &t), 0);
	assert_int_equal(license_parse_date("2100-02-29", &t), -1);
	assert_int_equal(license_parse_date("2026-04-31", &t), -1);
	assert_int_equal(license_parse_date("2026-12-31", &t), 0);
	assert_int_equal(license_parse_date("9999-12-31", &t), 0);
	assert_int_equal(license_parse_date("1969-12-31", &t), -1);
	assert_int_equal(license_parse_date("2026-1-1", &t), -1);
	assert_int_equal(license_parse_date("2026-01-01x", &t), -1);
	assert_int_equal(license_parse_date("2026/01/01", &t), -1);
	assert_int_equal(license_parse_date("", &t), -1);
	assert_int_equal(license_parse_date(NULL, &t), -1);

	license_date_str(1709164800, s);
	assert_string_equal(s, "2024-02-29");
	license_date_str(1709164800 + 86399, s);
	assert_string_equal(s, "2024-02-29");
	license_date_str(0, s);
	assert_string_equal(s, "1970-01-01");
	assert_int_equal(license_parse_date("9999-12-31", &t), 0);
	license_date_str(t, s);
	assert_string_equal(s, "9999-12-31");

	/* "expires: D" is valid through 23:59:59 UTC of D. */
	txt = build(8, "expires: 2024-02-29", 0);
	assert_int_equal(license_parse(txt, strlen(txt), &lic, sig, &err), 0);
	assert_int_equal(license_parse_date("2024-03-01", &t2), 0);
	assert_int_equal(lic.expires, t2);
	assert_int_equal(lic.expires, 1709164800 + 86400);
	free(txt);
	/* Start and expiry on the same day is a one-day license. */
	txt = build(8, "expires: 2024-01-01", 0);
	assert_int_equal(license_parse(txt, strlen(txt), &lic, sig, &err), 0);
	assert_int_equal(lic.expires - lic.start, 86400);
	free(txt);
}


/* ---- the optional fields of the lifecycle: kinds and pool policy ---- */

/* A file signed before the optional fields existed: its canonical form,
 * and so its signature, must never change. */
static void
test_canonical_unchanged_without_new_fields(void **state)
{
	struct license lic;
	char *c = NULL;
	size_t n = 0;

	(void)state;
	sample(&lic);
	assert_int_equal(license_canonical(&lic, &c, &n), 0);
	assert_null(strstr(c, "hostid"));
	assert_null(strstr(c, "dup_group"));
	assert_null(strstr(c, "linger"));
	assert_null(strstr(c, "ttl"));
	assert_null(strstr(c, "heartbeat"));
	assert_string_equal(c + n - strlen("customer=Example Corp\n"),
	    "customer=Example Corp\n");
	free(c);
}

static void
test_canonical_new_fields(void **state)
{
	struct license lic;
	char *c = NULL;
	size_t n = 0;

	(void)state;
	sample(&lic);
	lic.seats = 0;
	lic.uncounted = 1;
	strcpy(lic.hostid, "principal:host/ws1.example.org@EXAMPLE.ORG");
	strcpy(lic.dup_group, "site");
	lic.linger_s = 30;
	lic.ttl_s = 90;
	lic.heartbeat_s = 30;
	assert_int_equal(license_canonical(&lic, &c, &n), 0);
	assert_string_equal(c,
	    "gss-xlicen-license-v1\n"
	    "vendor=acme\n"
	    "product=widget\n"
	    "versions=1.0-2.9\n"
	    "seats=uncounted\n"
	    "start=2024-01-01\n"
	    "expires=2026-12-31\n"
	    "serial=ABC-123\n"
	    "customer=Example Corp\n"
	    "hostid=principal:host/ws1.example.org@EXAMPLE.ORG\n"
	    "dup_group=site\n"
	    "linger=30\n"
	    "ttl=90\n"
	    "heartbeat=30\n");
	free(c);
	/* Only the ones present, in their fixed order. */
	lic.uncounted = 0;
	lic.seats = 2;
	lic.hostid[0] = '\0';
	lic.dup_group[0] = '\0';
	lic.ttl_s = 0;
	lic.heartbeat_s = 0;
	assert_int_equal(license_canonical(&lic, &c, &n), 0);
	assert_non_null(strstr(c, "seats=2\n"));
	assert_string_equal(c + n - strlen("customer=Example Corp\nlinger=30\n"),
	    "customer=Example Corp\nlinger=30\n");
	free(c);
}

static void
test_sign_verify_new_fields(void **state)
{
	struct license lic, back;
	struct license_error err;
	uint8_t sig[64], sig2[64];
	EVP_PKEY *k = gen_key();
	char *text = NULL, *t2;

	(void)state;
	sample(&lic);
	lic.seats = 0;
	lic.uncounted = 1;
	strcpy(lic.hostid, "host:ws1.example.org");
	strcpy(lic.dup_group, "none");
	lic.linger_s = 10;
	lic.ttl_s = 60;
	lic.heartbeat_s = 20;
	assert_int_equal(license_sign(&lic, k, sig), 0);
	assert_int_equal(license_format(&lic, sig, &text), 0);
	assert_non_null(strstr(text, "# uncounted seats of widget"));
	assert_non_null(strstr(text, "\nseats: uncounted\n"));
	assert_non_null(strstr(text, "\nhostid: host:ws1.example.org\n"));
	assert_non_null(strstr(text, "\ndup_group: none\n"));
	assert_non_null(strstr(text, "\nlinger: 10\nttl: 60\nheartbeat: 20\n"));
	assert_int_equal(license_parse(text, strlen(text), &back, sig2, &err),
	    0);
	same_license(&lic, &back);
	assert_int_equal(license_verify(&back, sig2, k), 0);
	/* Every new field is signed. */
	t2 = replace(text, "hostid: host:ws1.", "hostid: host:ws2.");
	assert_int_equal(license_parse(t2, strlen(t2), &back, sig2, &err), 0);
	assert_int_equal(license_verify(&back, sig2, k),
	    XLICEN_E_LIC_SIGNATURE);
	free(t2);
	t2 = replace(text, "dup_group: none", "dup_group: site");
	assert_int_equal(license_parse(t2, strlen(t2), &back, sig2, &err), 0);
	assert_int_equal(license_verify(&back, sig2, k),
	    XLICEN_E_LIC_SIGNATURE);
	free(t2);
	t2 = replace(text, "seats: uncounted", "seats: 5");
	assert_int_equal(license_parse(t2, strlen(t2), &back, sig2, &err), 0);
	assert_int_equal(license_verify(&back, sig2, k),
	    XLICEN_E_LIC_SIGNATURE);
	free(t2);
	/* Dropping an optional field is a change too. */
	t2 = replace(text, "linger: 10\n", "");
	assert_int_equal(license_parse(t2, strlen(t2), &back, sig2, &err), 0);
	assert_int_equal(license_verify(&back, sig2, k),
	    XLICEN_E_LIC_SIGNATURE);
	free(t2);
	free(text);
	EVP_PKEY_free(k);
}

static void
test_new_field_errors(void **state)
{
	(void)state;
	/* Inserted before line 11 (the signature): the bad line is 11. */
	expect_syntax(11, "hostid: ws1", 1, 11,
	    "hostid must be host:NAME");
	expect_syntax(11, "hostid: host:", 1, 11, "hostid must be host:NAME");
	expect_syntax(11, "hostid: host:ws 1", 1, 11,
	    "hostid must be host:NAME");
	expect_syntax(11, "hostid: principal:alice", 1, 11,
	    "hostid must be host:NAME");
	expect_syntax(11, "dup_group: everyone", 1, 11,
	    "dup_group must be one of uhd, user, host, display, site, none");
	expect_syntax(11, "dup_group: UHD", 1, 11, "dup_group must be");
	expect_syntax(11, "linger: 0", 1, 11, "linger must be a number of "
	    "seconds from 1 to 2592000");
	expect_syntax(11, "linger: 2592001", 1, 11, "linger must be");
	expect_syntax(11, "ttl: 1", 1, 11, "ttl must be a number of seconds "
	    "from 2 to 2592000");
	expect_syntax(11, "heartbeat: 86401", 1, 11, "heartbeat must be");
	expect_syntax(11, "heartbeat: x", 1, 11, "heartbeat must be");
	expect_syntax(6, "seats: Uncounted", 0, 6, "seats must be a whole "
	    "number from 1 to 1000000 or \"uncounted\"");
	/* heartbeat above a third of ttl: reported on the later line. */
	{
		struct license_error err;
		char *t = build(11, "ttl: 30\nheartbeat: 11", 1);

		assert_int_equal(parse_str(t, &err), XLICEN_E_LIC_SYNTAX);
		assert_int_equal(err.line, 12);
		assert_non_null(strstr(err.reason, "heartbeat must be at most a "
		    "third of ttl"));
		free(t);
		t = build(11, "heartbeat: 10\nttl: 30", 1);
		assert_int_equal(parse_str(t, &err), 0);
		free(t);
		/* Repeated new fields are refused like any other. */
		t = build(11, "linger: 5\nlinger: 6", 1);
		assert_int_equal(parse_str(t, &err), XLICEN_E_LIC_SYNTAX);
		assert_int_equal(err.line, 12);
		assert_non_null(strstr(err.reason, "duplicate field \"linger\""));
		free(t);
	}
}

static void
test_check_new_fields(void **state)
{
	struct license lic;
	struct license_error err;

	(void)state;
	sample(&lic);
	lic.uncounted = 1;	/* with seats != 0 */
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	lic.seats = 0;
	assert_int_equal(license_check(&lic, &err), 0);
	lic.uncounted = 0;
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	lic.seats = 1;
	strcpy(lic.dup_group, "bogus");
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	assert_non_null(strstr(err.reason, "dup_group"));
	lic.dup_group[0] = '\0';
	lic.ttl_s = 9;
	lic.heartbeat_s = 4;
	assert_int_equal(license_check(&lic, &err), XLICEN_E_LIC_SYNTAX);
	lic.heartbeat_s = 3;
	assert_int_equal(license_check(&lic, &err), 0);
	assert_int_equal(license_hostid_valid("host:a.b-c_d"), 1);
	assert_int_equal(license_hostid_valid("principal:host/a@B"), 1);
	assert_int_equal(license_hostid_valid("principal:nobody"), 0);
	assert_int_equal(license_hostid_valid("mac:00:11"), 0);
	assert_int_equal(license_hostid_valid(NULL), 0);
	assert_int_equal(license_dup_group_valid("display"), 1);
	assert_int_equal(license_dup_group_valid(""), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_unchanged_without_new_fields),
		cmocka_unit_test(test_canonical_new_fields),
		cmocka_unit_test(test_sign_verify_new_fields),
		cmocka_unit_test(test_new_field_errors),
		cmocka_unit_test(test_check_new_fields),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_parse_ok_variants),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_syntax_errors_values),
		cmocka_unit_test(test_syntax_raw),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_private_key_mode),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
