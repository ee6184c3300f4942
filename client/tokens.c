/*
 * Borrow tokens on the client (tokens.h).  The token file is the user's
 * and therefore untrusted: what makes it worth anything is the server's
 * signature, checked against a public key only root can install, and the
 * checks of borrow_token_check.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <krb5.h>

#include "borrow.h"
#include "fileio.h"
#include "license.h"
#include "tokens.h"
#include "xlicen_errors.h"

#define TOKENS_PATH_MAX	4096

/* STATE (and with sub, STATE/sub) into out: $XDG_STATE_HOME/xlicen, else
 * $HOME/.local/state/xlicen.  create: make the directories (0700). */
static int
tokens_dir(const char *sub, int create, char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char base[TOKENS_PATH_MAX];
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(base, sizeof(base), "%s", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(base, sizeof(base), "%s/.local/state", home);
	else
		return XLICEN_E_IO;
	if (n < 0 || (size_t)n >= sizeof(base))
		return XLICEN_E_IO;
	if (create && home != NULL && (xdg == NULL || xdg[0] != '/')) {
		char p[TOKENS_PATH_MAX];

		snprintf(p, sizeof(p), "%s/.local", home);
		(void)mkdir(p, 0700);
	}
	if (create)
		(void)mkdir(base, 0700);
	n = snprintf(out, outlen, "%s/xlicen", base);
	if (n < 0 || (size_t)n >= outlen)
		return XLICEN_E_IO;
	if (create && mkdir(out, 0700) != 0 && errno != EEXIST)
		return XLICEN_E_IO;
	if (sub == NULL)
		return 0;
	n = snprintf(out, outlen, "%s/xlicen/%s", base, sub);
	if (n < 0 || (size_t)n >= outlen)
		return XLICEN_E_IO;
	if (create && mkdir(out, 0700) != 0 && errno != EEXIST)
		return XLICEN_E_IO;
	return 0;
}

/* The token file of product: product must be a license name (no '/')
 * that does not start with a dot. */
static int
tokens_path(const char *product, int create, char *out, size_t outlen)
{
	char dir[TOKENS_PATH_MAX];
	int rc, n;

	if (product == NULL || !license_name_valid(product) ||
	    product[0] == '.')
		return XLICEN_E_INVALID;
	if ((rc = tokens_dir("borrow", create, dir, sizeof(dir))) != 0)
		return rc;
	n = snprintf(out, outlen, "%s/%s.token", dir, product);
	return n < 0 || (size_t)n >= outlen ? XLICEN_E_IO : 0;
}

/* Write n bytes to path through a temporary file and rename (0600). */
static int
tokens_write(const char *path, const void *p, size_t n)
{
	char tmp[TOKENS_PATH_MAX + 8];
	ssize_t w;
	int fd, rc = XLICEN_E_IO;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return XLICEN_E_IO;
	/* Purpose: a state file of the user's own (token or clock). */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0)
		return XLICEN_E_IO;
	w = write(fd, p, n);
	if (w == (ssize_t)n && fsync(fd) == 0)
		rc = 0;
	if (close(fd) != 0)
		rc = XLICEN_E_IO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = XLICEN_E_IO;
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}

int
tokens_save(const char *product, const uint8_t *tok, size_t n)
{
	char path[TOKENS_PATH_MAX];
	int rc;

	if ((rc = tokens_path(product, 1, path, sizeof(path))) != 0)
		return rc;
	return tokens_write(path, tok, n);
}

int
tokens_load(const char *product, uint8_t *buf, size_t cap, size_t *n)
{
	char path[TOKENS_PATH_MAX], *data = NULL;
	size_t len = 0;
	mode_t mode;
	int rc, errnum = 0;

	*n = 0;
	if ((rc = tokens_path(product, 0, path, sizeof(path))) != 0)
		return rc;
	/* Purpose: the user's stored borrow token (untrusted bytes). */
	rc = fileio_read(path, cap, &data, &len, &mode, &errnum);
	if (rc == XLICEN_E_IO && errnum == ENOENT)
		return XLICEN_E_NO_TOKEN;
	if (rc == FILEIO_TOO_LARGE || rc == FILEIO_NOT_REGULAR)
		return XLICEN_E_TOKEN;
	if (rc != 0)
		return rc;
	memcpy(buf, data, len);
	*n = len;
	free(data);
	return 0;
}

int
tokens_delete(const char *product)
{
	char path[TOKENS_PATH_MAX];
	int rc;

	if ((rc = tokens_path(product, 0, path, sizeof(path))) != 0)
		return rc;
	if (unlink(path) != 0 && errno != ENOENT)
		return XLICEN_E_IO;
	return 0;
}

void
tokens_clock(int64_t now, int64_t *latest)
{
	char path[TOKENS_PATH_MAX], *data = NULL, text[32];
	size_t len = 0;
	mode_t mode;
	int errnum, n;
	long long v;

	*latest = 0;
	if (tokens_dir(NULL, 1, path, sizeof(path)) != 0 ||
	    strlen(path) + 7 >= sizeof(path))
		return;
	strcat(path, "/clock");
	/* Purpose: the latest time the library has seen (decimal). */
	if (fileio_read(path, 32, &data, &len, &mode, &errnum) == 0) {
		if (sscanf(data, "%lld", &v) == 1 && v > 0)
			*latest = (int64_t)v;
		free(data);
	}
	if (now > *latest) {
		n = snprintf(text, sizeof(text), "%" PRId64 "\n", now);
		if (n > 0)
			(void)tokens_write(path, text, (size_t)n);
	}
}

/* Whether st is root's and not writable by group or others. */
static int
tokens_root_owned(const struct stat *st)
{
	return st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/*
 * Verify tok against each *.pub of the key directory: $XLICEN_BORROW_KEYDIR
 * if set, else XLICEN_BORROW_KEYDIR.  The directory and every key must be
 * root's and writable by nobody else, so that only root decides which
 * server's tokens count (a user pointing the variable at a directory of
 * their own gets TOKEN_SIGNATURE).
 */
static int
tokens_verify(const uint8_t *tok, size_t n, struct borrow_token *t,
    char *why, size_t whylen)
{
	const char *dir = getenv("XLICEN_BORROW_KEYDIR");
	char path[TOKENS_PATH_MAX];
	struct license_error lerr;
	struct dirent *de;
	struct stat st;
	void *key;
	DIR *d;
	size_t len;
	int rc = XLICEN_E_TOKEN_SIGNATURE, r, keys = 0;

	if (dir == NULL || dir[0] == '\0')
		dir = XLICEN_BORROW_KEYDIR;
	if ((r = borrow_token_parse(tok, n, t)) != 0)
		return r;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    !tokens_root_owned(&st)) {
		snprintf(why, whylen, "no usable key directory %s (it must "
		    "be root's and writable by root only)", dir);
		return rc;
	}
	/* Purpose: the administrator's borrow public keys. */
	if ((d = opendir(dir)) == NULL)
		return rc;
	while (rc != 0 && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".pub") != 0 ||
		    de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path) || lstat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode) || !tokens_root_owned(&st))
			continue;
		if (license_key_load_public(path, &key, &lerr) != 0)
			continue;
		keys++;
		if (borrow_token_verify(tok, n, key, t) == 0)
			rc = 0;
		license_key_free(key);
	}
	closedir(d);
	if (rc != 0)
		snprintf(why, whylen, "the token's signature matches none of "
		    "the %d key(s) in %s", keys, dir);
	return rc;
}

/* The principal of the default credential cache, read from the cache
 * alone (there may be no KDC). */
static int
tokens_principal(char *out, size_t outlen)
{
	krb5_context ctx = NULL;
	krb5_ccache cc = NULL;
	krb5_principal pr = NULL;
	char *name = NULL;
	int rc = XLICEN_E_TOKEN_PRINCIPAL;

	out[0] = '\0';
	if (krb5_init_context(&ctx) != 0)
		return rc;
	if (krb5_cc_default(ctx, &cc) == 0 &&
	    krb5_cc_get_principal(ctx, cc, &pr) == 0 &&
	    krb5_unparse_name(ctx, pr, &name) == 0 &&
	    strlen(name) < outlen) {
		memcpy(out, name, strlen(name) + 1);
		rc = 0;
	}
	krb5_free_unparsed_name(ctx, name);
	krb5_free_principal(ctx, pr);
	if (cc != NULL)
		krb5_cc_close(ctx, cc);
	krb5_free_context(ctx);
	return rc;
}

int
tokens_offline(const char *product, const char *version, const char *host,
    struct borrow_token *t, char *why, size_t whylen)
{
	uint8_t tok[LIMIT_BORROW_TOKEN];
	char me[LIMIT_STRING + 1], hbuf[LIMIT_STRING + 1];
	struct borrow_use u;
	int64_t now = (int64_t)time(NULL), latest;
	size_t n;
	int rc;

	memset(t, 0, sizeof(*t));
	why[0] = '\0';
	if ((rc = tokens_load(product, tok, sizeof(tok), &n)) != 0)
		return rc == XLICEN_E_INVALID ? XLICEN_E_NO_TOKEN : rc;
	if ((rc = tokens_verify(tok, n, t, why, whylen)) != 0)
		return rc;
	tokens_clock(now, &latest);
	if (host == NULL) {
		if (gethostname(hbuf, sizeof(hbuf)) != 0)
			hbuf[0] = '\0';
		hbuf[sizeof(hbuf) - 1] = '\0';
		host = hbuf;
	}
	if (tokens_principal(me, sizeof(me)) != 0) {
		snprintf(why, whylen, "no principal in the credential cache");
		return XLICEN_E_TOKEN_PRINCIPAL;
	}
	u.principal = me;
	u.product = product;
	u.version = version;
	u.host = host;
	u.now = now;
	u.latest = latest;
	rc = borrow_token_check(t, &u);
	switch (rc) {
	case XLICEN_E_TOKEN_CLOCK:
		snprintf(why, whylen, "the clock is %" PRId64 " s behind the "
		    "latest time seen (tolerance %d s)", latest - now,
		    LIMIT_BORROW_CLOCK_BACK_S);
		break;
	case XLICEN_E_TOKEN_EXPIRED:
		snprintf(why, whylen, "it ended at %" PRIu64, t->end);
		break;
	case XLICEN_E_TOKEN_PRINCIPAL:
		snprintf(why, whylen, "it is %s's, the credential cache is "
		    "%s's", t->principal, me);
		break;
	case XLICEN_E_TOKEN_HOST:
		snprintf(why, whylen, "it is for host %s, this is %s",
		    t->host, host);
		break;
	case XLICEN_E_NO_TOKEN:
		snprintf(why, whylen, "the token is for %s %s", t->product,
		    t->version);
		break;
	}
	return rc;
}
