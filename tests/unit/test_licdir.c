/*
 * Unit tests for server/licdir.c: a license directory with good,
 * tampered, unknown-vendor and copied files, plus files that are not
 * licenses at all.
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
#include "licdir.h"
#include "log.h"
#include "xlicen_errors.h"

/* Not PATH_MAX: common/limits.h shadows <limits.h> on the include path. */
#define TEST_PATH_MAX 4096

static char tmpdir[1024];

static int
setup_tmp(void **state)
{
	const char *base = getenv("XLICEN_TEST_TMP");

	(void)state;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (mkdir(base, 0700) == -1 && errno != EEXIST)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_licdir.XXXXXX", base);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* Refusals are expected here; keep the test output readable. */
	log_set_level(LOG_CRIT);
	return 0;
}

static int
teardown_tmp(void **state)
{
	char cmd[TEST_PATH_MAX];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A path in the test directory; two calls may be used together. */
static const char *
tpath(const char *name)
{
	static char p[2][TEST_PATH_MAX];
	static unsigned which;

	which ^= 1;
	snprintf(p[which], sizeof(p[which]), "%s/%s", tmpdir, name);
	return p[which];
}

static void
put(const char *name, const char *text)
{
	FILE *f = fopen(tpath(name), "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* A signed license file's text (malloc'd). */
static char *
signed_text(EVP_PKEY *k, const char *vendor, const char *product,
    uint32_t seats, const char *serial)
{
	struct license lic;
	uint8_t sig[64];
	char *text = NULL;

	memset(&lic, 0, sizeof(lic));
	strcpy(lic.vendor, vendor);
	strcpy(lic.product, product);
	strcpy(lic.ver_min, "1");
	strcpy(lic.ver_max, "1.999");
	lic.seats = seats;
	strcpy(lic.serial, serial);
	assert_int_equal(license_sign(&lic, k, sig), 0);
	assert_int_equal(license_format(&lic, sig, &text), 0);
	return text;
}

static void
test_load_dir(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *stranger = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct license *out = NULL;
	size_t n = 99, nbad = 99;
	char *t, *p;
	FILE *f;

	(void)state;
	assert_non_null(k);
	assert_non_null(stranger);
	assert_int_equal(mkdir(tpath("keys"), 0755), 0);
	assert_int_equal(mkdir(tpath("lic"), 0755), 0);
	f = fopen(tpath("keys/acme.pub"), "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);

	/* Good, loaded in name order (b before c although written after). */
	t = signed_text(k, "acme", "widget", 10, "S1");
	put("lic/c.lic", t);
	put("lic/a.txt", t);		/* not *.lic: ignored */
	put("lic/.hidden.lic", t);	/* hidden: ignored */
	put("lic/d.lic", t);		/* same serial as c.lic: a copy */
	free(t);
	t = signed_text(k, "acme", "gadget", 3, "S2");
	put("lic/b.lic", t);
	/* Tampered: refused. */
	p = strstr(t, "seats: 3");
	assert_non_null(p);
	p[7] = '4';
	put("lic/e.lic", t);
	free(t);
	/* Vendor without a key: refused. */
	t = signed_text(stranger, "other", "widget", 1, "S3");
	put("lic/f.lic", t);
	free(t);
	/* Not a license: refused. */
	put("lic/g.lic", "hello\n");
	/* A directory named like a license: skipped, not counted. */
	assert_int_equal(mkdir(tpath("lic/h.lic"), 0755), 0);

	assert_int_equal(licdir_load_dir(tpath("lic"), tpath("keys"), &out,
	    &n, &nbad), 0);
	assert_int_equal(n, 2);
	assert_int_equal(nbad, 4);
	assert_non_null(out);
	assert_string_equal(out[0].product, "gadget");
	assert_int_equal(out[0].seats, 3);
	assert_string_equal(out[0].serial, "S2");
	assert_string_equal(out[1].product, "widget");
	assert_int_equal(out[1].seats, 10);
	assert_string_equal(out[1].vendor, "acme");
	free(out);

	/* nbad may be NULL. */
	assert_int_equal(licdir_load_dir(tpath("lic"), tpath("keys"), &out,
	    &n, NULL), 0);
	assert_int_equal(n, 2);
	free(out);

	EVP_PKEY_free(k);
	EVP_PKEY_free(stranger);
}

static void
test_empty_and_missing(void **state)
{
	struct license *out = (struct license *)1;
	size_t n = 99, nbad = 99;

	(void)state;
	assert_int_equal(mkdir(tpath("empty"), 0755), 0);
	assert_int_equal(licdir_load_dir(tpath("empty"), tpath("keys"),
	    &out, &n, &nbad), 0);
	assert_null(out);
	assert_int_equal(n, 0);
	assert_int_equal(nbad, 0);

	out = (struct license *)1;
	assert_int_equal(licdir_load_dir(tpath("no-such-dir"),
	    tpath("keys"), &out, &n, &nbad), XLICEN_E_IO);
	assert_null(out);
	assert_int_equal(n, 0);
	assert_int_equal(nbad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_dir),
		cmocka_unit_test(test_empty_and_missing),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
