/*
 * Signed license files.  A vendor signs the canonical form of a license
 * (license_canon.c) with Ed25519; the server parses each file strictly
 * (license_parse.c, by the rules of license_rules.c), rebuilds the
 * canonical form and verifies it against the vendor's public key.  This
 * file is the OpenSSL side and the disk: signing and verifying (EVP),
 * loading PEM key files, and reading a license file to parse and verify
 * it.  docs/PROTOCOL.md ("License files") is the specification.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "license_int.h"
#include "xlicen_errors.h"

static int
license_is_ed25519(EVP_PKEY *pkey)
{
	return pkey != NULL && EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519;
}

int
license_ed25519_sign(void *evp_pkey, const void *data, size_t len,
    uint8_t sig[64])
{
	EVP_PKEY *pkey = evp_pkey;
	EVP_MD_CTX *ctx = NULL;
	size_t siglen = LICENSE_SIG_LEN;
	int ret = XLICEN_E_LIC_KEY;

	memset(sig, 0, LICENSE_SIG_LEN);
	if (!license_is_ed25519(pkey))
		goto out;
	ret = XLICEN_E_NOMEM;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	ret = XLICEN_E_LIC_KEY;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, data, len) != 1 ||
	    siglen != LICENSE_SIG_LEN) {
		memset(sig, 0, LICENSE_SIG_LEN);
		goto out;
	}
	ret = 0;
 out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

int
license_ed25519_verify(void *evp_pkey, const void *data, size_t len,
    const uint8_t sig[64])
{
	EVP_PKEY *pkey = evp_pkey;
	EVP_MD_CTX *ctx = NULL;
	int ret = XLICEN_E_LIC_SIGNATURE;

	if (!license_is_ed25519(pkey))
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		ret = XLICEN_E_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1 ||
	    EVP_DigestVerify(ctx, sig, LICENSE_SIG_LEN, data, len) != 1)
		goto out;
	ret = 0;
 out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

int
license_sign(const struct license *lic, void *evp_pkey, uint8_t sig[64])
{
	char *canon = NULL;
	size_t canonlen = 0;
	int r, ret = XLICEN_E_INVALID;

	memset(sig, 0, LICENSE_SIG_LEN);
	if (license_check(lic, NULL) != 0)
		goto out;
	ret = XLICEN_E_LIC_KEY;
	if (!license_is_ed25519(evp_pkey))
		goto out;
	if ((r = license_canonical(lic, &canon, &canonlen)) != 0) {
		ret = r;
		goto out;
	}
	ret = license_ed25519_sign(evp_pkey, canon, canonlen, sig);
 out:
	free(canon);
	return ret;
}

int
license_verify(const struct license *lic, const uint8_t sig[64],
    void *evp_pkey)
{
	char *canon = NULL;
	size_t canonlen = 0;
	int r, ret = XLICEN_E_LIC_SIGNATURE;

	/* A struct that is not a valid license could have a canonical form
	 * that collides with another's; never vouch for one. */
	if (license_check(lic, NULL) != 0 || !license_is_ed25519(evp_pkey))
		goto out;
	if ((r = license_canonical(lic, &canon, &canonlen)) != 0) {
		ret = r == XLICEN_E_NOMEM ? r : XLICEN_E_LIC_SIGNATURE;
		goto out;
	}
	ret = license_ed25519_verify(evp_pkey, canon, canonlen, sig);
 out:
	free(canon);
	return ret;
}

/* OpenSSL passphrase callback: never prompt (library code has no tty). */
static int
license_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static int
license_key_load(const char *path, int private, void **out,
    struct license_error *err)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *text = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int r, errnum = 0, ret = XLICEN_E_LIC_KEY;

	*out = NULL;
	license_clear_err(err);
	r = fileio_read(path, LICENSE_KEY_FILE_MAX, &text, &len, &mode,
	    &errnum);
	if (r == XLICEN_E_NOMEM) {
		ret = r;
		license_set_err(err, 0, "out of memory");
		goto out;
	}
	if (r == 1) {
		license_set_err(err, 0, "%s: too large for a key file", path);
		goto out;
	}
	if (r == 2) {
		license_set_err(err, 0, "%s: not a regular file", path);
		goto out;
	}
	if (r != 0) {
		license_set_err(err, 0, "cannot read key %s: %s", path,
		    strerror(errnum));
		goto out;
	}
	if (private && (mode & 077) != 0) {
		license_set_err(err, 0, "private key permissions %04o are too "
		    "open: run chmod 600 %s", (unsigned)mode, path);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
		ret = XLICEN_E_NOMEM;
		license_set_err(err, 0, "out of memory");
		goto out;
	}
	if (private)
		pkey = PEM_read_bio_PrivateKey(bio, NULL,
		    license_no_passphrase, NULL);
	else
		pkey = PEM_read_bio_PUBKEY(bio, NULL, license_no_passphrase,
		    NULL);
	if (pkey == NULL) {
		license_set_err(err, 0, "%s: not a PEM %s key (or encrypted)",
		    path, private ? "private" : "public");
		goto out;
	}
	if (!license_is_ed25519(pkey)) {
		license_set_err(err, 0, "%s: not an Ed25519 key", path);
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
	return license_key_load(path, 1, pkey, err);
}

int
license_key_load_public(const char *path, void **pkey,
    struct license_error *err)
{
	return license_key_load(path, 0, pkey, err);
}

void
license_key_free(void *pkey)
{
	EVP_PKEY_free(pkey);
}
/* Read and parse a license file; *sigline as for license_parse_text(). */
static int
license_load_parse(const char *path, struct license *lic, uint8_t sig[64],
    unsigned *sigline, struct license_error *err)
{
	char *text = NULL;
	size_t len = 0;
	mode_t mode = 0;
	int r, errnum = 0, ret;

	memset(lic, 0, sizeof(*lic));
	memset(sig, 0, LICENSE_SIG_LEN);
	*sigline = 0;
	license_clear_err(err);
	r = fileio_read(path, LICENSE_FILE_MAX, &text, &len, &mode, &errnum);
	if (r == 1) {
		license_set_err(err, 0, "file too large (at most %d bytes)",
		    LICENSE_FILE_MAX);
		ret = XLICEN_E_LIC_SYNTAX;
		goto out;
	}
	if (r == 2) {
		license_set_err(err, 0, "not a regular file");
		ret = XLICEN_E_IO;
		goto out;
	}
	if (r != 0) {
		if (r == XLICEN_E_NOMEM)
			license_set_err(err, 0, "out of memory");
		else
			license_set_err(err, 0, "cannot read: %s",
			    strerror(errnum));
		ret = r;
		goto out;
	}
	ret = license_parse_text(text, len, lic, sig, sigline, err);
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
	if ((ret = license_load_parse(path, lic, sig, &sigline, err)) != 0)
		goto out;
	if ((ret = license_verify(lic, sig, evp_pkey)) != 0) {
		if (ret == XLICEN_E_NOMEM)
			license_set_err(err, 0, "out of memory");
		else
			license_set_err(err, sigline, "signature does not "
			    "verify: the file was altered or signed with "
			    "another key");
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
	if ((ret = license_load_parse(path, lic, sig, &sigline, err)) != 0)
		goto out;
	/* The vendor is a validated name: no '/' can reach the path. */
	kplen = strlen(keydir) + 1 + strlen(lic->vendor) + sizeof(".pub");
	if ((kpath = malloc(kplen)) == NULL) {
		ret = XLICEN_E_NOMEM;
		license_set_err(err, 0, "out of memory");
		goto out;
	}
	snprintf(kpath, kplen, "%s/%s.pub", keydir, lic->vendor);
	if (stat(kpath, &st) == -1 && errno == ENOENT) {
		ret = XLICEN_E_LIC_NO_VENDOR;
		license_set_err(err, 0, "no key for vendor \"%s\" (expected "
		    "%s)", lic->vendor, kpath);
		goto out;
	}
	if ((ret = license_key_load_public(kpath, &pkey, &kerr)) != 0) {
		license_set_err(err, 0, "%s", kerr.reason);
		goto out;
	}
	if ((ret = license_verify(lic, sig, pkey)) != 0) {
		if (ret == XLICEN_E_NOMEM)
			license_set_err(err, 0, "out of memory");
		else
			license_set_err(err, sigline, "signature does not "
			    "verify against %s: the file was altered or signed "
			    "with another key", kpath);
		goto out;
	}
 out:
	if (ret != 0)
		memset(lic, 0, sizeof(*lic));
	license_key_free(pkey);
	free(kpath);
	return ret;
}
