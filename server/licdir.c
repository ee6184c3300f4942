/*
 * The server's license set: every *.lic file of the license directory,
 * read in name order, parsed and verified by common/license.h.  A file
 * that fails (syntax, signature, unknown vendor, or a copy of a license
 * already loaded) is logged with file, line and reason and contributes no
 * pool; the others are handed back to the caller.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "licdir.h"
#include "log.h"
#include "privs.h"
#include "xlicen_errors.h"

static int
licdir_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether a directory entry is a candidate: "X.lic", not hidden. */
static int
licdir_is_lic_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".lic") == 0;
}

static void
licdir_free_names(char **names, size_t n)
{
	size_t i;

	if (names == NULL)
		return;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The sorted *.lic names of licdir.  0, XLICEN_E_IO or XLICEN_E_NOMEM. */
static int
licdir_list(const char *licdir, char ***out, size_t *nout)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL, **tmp;
	size_t n = 0, cap = 0;
	int ret = XLICEN_E_IO;

	*out = NULL;
	*nout = 0;
	if ((d = opendir(licdir)) == NULL) {
		log_msg(LOG_ERR, "license directory %s: %s", licdir,
		    strerror(errno));
		goto out;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				log_msg(LOG_ERR, "license directory %s: %s",
				    licdir, strerror(errno));
				goto out;
			}
			break;
		}
		if (!licdir_is_lic_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((tmp = realloc(names, cap * sizeof(*names))) ==
			    NULL) {
				ret = XLICEN_E_NOMEM;
				goto out;
			}
			names = tmp;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			ret = XLICEN_E_NOMEM;
			goto out;
		}
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), licdir_name_cmp);
	*out = names;
	*nout = n;
	names = NULL;
	ret = 0;
 out:
	licdir_free_names(names, n);
	if (d != NULL)
		closedir(d);
	return ret;
}

/*
 * A second file with the same vendor and serial is a copy of a license
 * already counted (cp a.lic b.lic would otherwise double the seats).
 * Returns the index of the earlier one, or -1.
 */
static long
licdir_find_dup(const struct license *have, size_t n, const struct license *lic)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(have[i].vendor, lic->vendor) == 0 &&
		    strcmp(have[i].serial, lic->serial) == 0)
			return (long)i;
	return -1;
}

int
licdir_check_keydir(const char *keydir, char *err, size_t errlen)
{
	size_t nkeys = 0;
	int rc;

	if ((rc = privs_check_vendor_keys(keydir, &nkeys, err, errlen)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		return rc;
	}
	if (nkeys > 0)
		log_msg(LOG_WARNING, "%zu vendor private key(s) (*.key) in %s: "
		    "the server needs only the public keys; keep private keys "
		    "on the vendor's machine", nkeys, keydir);
	return 0;
}

/* A license loaded but past its end grants nothing: say so, with its
 * last valid day (the day before its exclusive end). */
static void
licdir_warn_expired(const char *path, const struct license *lic, int64_t now)
{
	time_t last;
	struct tm tm;
	char day[32];

	if (lic->expires == 0 || lic->expires > now)
		return;
	last = (time_t)(lic->expires - 1);
	if (gmtime_r(&last, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%d", &tm) == 0)
		snprintf(day, sizeof(day), "@%lld", (long long)last);
	log_msg(LOG_WARNING, "license %s: expired: its last valid day was %s; "
	    "no seats of it are granted", path, day);
}

void
licdir_count_expired(const struct license *lics, size_t n, int64_t now,
    size_t *expired)
{
	size_t i;

	*expired = 0;
	for (i = 0; i < n; i++)
		if (lics[i].expires != 0 && lics[i].expires <= now)
			(*expired)++;
}

int
licdir_load_dir(const char *licdir, const char *keydir,
    struct license **out, size_t *n, size_t *nbad)
{
	struct license *good = NULL, *tmp;
	struct license_error err;
	struct license lic;
	struct stat st;
	char **names = NULL, **from = NULL;
	char *path = NULL;
	size_t nnames = 0, ngood = 0, bad = 0, i, plen;
	long dup;
	int r, ret;

	*out = NULL;
	*n = 0;
	if (nbad != NULL)
		*nbad = 0;
	if ((ret = licdir_list(licdir, &names, &nnames)) != 0)
		goto out;
	if (nnames > 0) {
		ret = XLICEN_E_NOMEM;
		if ((good = calloc(nnames, sizeof(*good))) == NULL ||
		    (from = calloc(nnames, sizeof(*from))) == NULL)
			goto out;
	}
	for (i = 0; i < nnames; i++) {
		free(path);
		plen = strlen(licdir) + 1 + strlen(names[i]) + 1;
		if ((path = malloc(plen)) == NULL) {
			ret = XLICEN_E_NOMEM;
			goto out;
		}
		snprintf(path, plen, "%s/%s", licdir, names[i]);
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
			log_msg(LOG_WARNING, "license %s: not a regular file, "
			    "ignored", path);
			continue;
		}
		r = license_load_file(path, keydir, &lic, &err);
		if (r == XLICEN_E_NOMEM) {
			ret = r;
			goto out;
		}
		if (r != 0) {
			bad++;
			if (err.line != 0)
				log_msg(LOG_ERR, "license %s:%u: %s", path,
				    err.line, err.reason);
			else
				log_msg(LOG_ERR, "license %s: %s", path,
				    err.reason);
			continue;
		}
		if ((dup = licdir_find_dup(good, ngood, &lic)) >= 0) {
			bad++;
			log_msg(LOG_ERR, "license %s: same vendor and serial "
			    "(%s %s) as %s, refused as a copy", path,
			    lic.vendor, lic.serial, from[dup]);
			continue;
		}
		good[ngood] = lic;
		from[ngood] = names[i];
		ngood++;
		log_msg(LOG_INFO, "license %s: vendor %s product %s versions "
		    "%s-%s, %u seat%s, serial %s", path, lic.vendor,
		    lic.product, lic.ver_min, lic.ver_max, (unsigned)lic.seats,
		    lic.seats == 1 ? "" : "s", lic.serial);
		licdir_warn_expired(path, &lic, (int64_t)time(NULL));
	}
	if (ngood == 0) {
		free(good);
		good = NULL;
	} else if ((tmp = realloc(good, ngood * sizeof(*good))) != NULL) {
		good = tmp;
	}
	*out = good;
	*n = ngood;
	if (nbad != NULL)
		*nbad = bad;
	good = NULL;
	ret = 0;
 out:
	free(good);
	free(from);
	free(path);
	licdir_free_names(names, nnames);
	return ret;
}
