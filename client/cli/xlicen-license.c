/*
 * xlicen-license: the vendor's tool.  Makes Ed25519 key pairs, signs
 * license files and verifies them the way the server does.  All the
 * format and crypto work is in common/license.c; this file is options,
 * files and messages.
 *
 * Exit status: 0 success, 1 failure (a license that does not verify, a
 * file that cannot be written), 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "hex.h"
#include "license.h"
#include "xlicen_errors.h"

#define PROG	"xlicen-license"

#define EXIT_USAGE	2

/* The range a license covers when --versions is not given: every version
 * whose first component is at most 999999, i.e. all of them. */
#define DEFAULT_VERSIONS	"0-999999"

static const char usage_text[] =
"usage: " PROG " keygen NAME\n"
"       " PROG " sign --key NAME.key --product P --seats N [--versions A[-B]]\n"
"                      [--start YYYY-MM-DD] [--expires YYYY-MM-DD|permanent]\n"
"                      [--serial S] [--customer TEXT] [--vendor V]\n"
"                      [--hostid host:NAME|principal:NAME@REALM]\n"
"                      [--dup-group MODE] [--linger S] [--ttl S] [--heartbeat S]\n"
"                      [--borrow DAYS]\n"
"       " PROG " verify (--pub NAME.pub | --keydir DIR) FILE...\n"
"       " PROG " --help | --version\n"
"\n"
"keygen   Make an Ed25519 key pair: NAME.key (private, mode 0600) and\n"
"         NAME.pub (public, for the server's key directory).  The vendor\n"
"         name is the last component of NAME.  Existing files are never\n"
"         overwritten.\n"
"sign     Print a signed license file on standard output.\n"
"           --key FILE       the vendor's private key (mode 0600)\n"
"           --product P      product name (A-Z a-z 0-9 . _ + -, 1-64 bytes)\n"
"           --seats N        concurrent seats, 1 to 1000000, or \"uncounted\"\n"
"                            (no limit; every use still leased and audited)\n"
"           --versions A-B   versions covered, inclusive; A alone means A-A\n"
"                            (default " DEFAULT_VERSIONS ", every version)\n"
"           --start DATE     first valid day (UTC; default: none)\n"
"           --expires DATE   last valid day, inclusive, through 23:59:59 UTC,\n"
"                            or \"permanent\" (the default)\n"
"           --serial S       license serial (default: 16 random hex digits)\n"
"           --customer TEXT  who the license is for (optional, 128 bytes)\n"
"           --vendor V       vendor name (default: key file name without .key)\n"
"           --hostid ID      node lock: host:NAME (the host the client reports)\n"
"                            or principal:NAME@REALM (authenticated)\n"
"           --dup-group MODE seats shared by checkouts of the same uhd (user,\n"
"                            host and display), user, host, display, site,\n"
"                            or none (every checkout a seat)\n"
"           --linger S       a released seat stays taken S seconds\n"
"           --ttl S          lease lifetime without heartbeat, seconds\n"
"           --heartbeat S    heartbeat interval, at most a third of --ttl\n"
"           --borrow DAYS    seats may be borrowed for offline use, at most\n"
"                            DAYS days (1 to 365; default: not at all)\n"
"verify   Check license files the way gss-xlicend does, against one public\n"
"         key (--pub) or DIR/<vendor>.pub (--keydir).  Prints FILE: OK (...)\n"
"         or FILE:LINE: reason; exits 1 if any file fails.\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error.\n";

static void
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
}

/* next_opt's answers besides an index into names. */
#define OPT_ARGUMENT	(-1)	/* a non-option argument */
#define OPT_HELP	(-2)	/* --help */
#define OPT_ERROR	(-3)	/* a bad option, already reported */

/*
 * Option scanner for "--name VALUE" and "--name=VALUE".  Returns the
 * index of the option in names, OPT_ARGUMENT, OPT_HELP or OPT_ERROR.
 * *val gets the value; *i is advanced past what was consumed.
 */
static int
next_opt(int argc, char **argv, int *i, const char *const *names,
    const char **val)
{
	const char *a = argv[*i], *eq;
	size_t n;
	int k;

	*val = NULL;
	if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
		if (a[0] == '-' && a[1] != '\0') {
			usage_error("unknown option '%s'", a);
			return OPT_ERROR;
		}
		return OPT_ARGUMENT;
	}
	if (strcmp(a, "--help") == 0)
		return OPT_HELP;
	eq = strchr(a, '=');
	n = eq != NULL ? (size_t)(eq - a) : strlen(a);
	for (k = 0; names[k] != NULL; k++) {
		if (strlen(names[k]) == n && strncmp(names[k], a, n) == 0)
			break;
	}
	if (names[k] == NULL) {
		usage_error("unknown option '%s'", a);
		return OPT_ERROR;
	}
	if (eq != NULL) {
		*val = eq + 1;
	} else if (*i + 1 < argc) {
		*val = argv[++*i];
	} else {
		usage_error("option '%s' needs a value", a);
		return OPT_ERROR;
	}
	(*i)++;
	return k;
}

/* The last path component of p. */
static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t r;
	size_t off = 0;

	while (off < n) {
		r = write(fd, p + off, n - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* Create path exclusively with mode and write the contents of bio. */
static int
write_new_file(const char *path, mode_t mode, BIO *bio)
{
	char *data = NULL;
	long len;
	int fd, saved;

	if ((len = BIO_get_mem_data(bio, &data)) <= 0) {
		fprintf(stderr, PROG ": %s: OpenSSL could not encode the key\n",
		    path);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if (write_all(fd, data, (size_t)len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(path);
		fprintf(stderr, PROG ": cannot write %s: %s\n", path,
		    strerror(saved));
		return -1;
	}
	if (close(fd) == -1) {
		saved = errno;
		unlink(path);
		fprintf(stderr, PROG ": cannot write %s: %s\n", path,
		    strerror(saved));
		return -1;
	}
	return 0;
}

static int
cmd_keygen(int argc, char **argv)
{
	static const char *const names[] = { NULL };
	EVP_PKEY *pkey = NULL;
	BIO *priv = NULL, *pub = NULL;
	char *keypath = NULL, *pubpath = NULL;
	const char *name = NULL, *val;
	struct stat st;
	size_t n;
	int i = 2, k, key_written = 0, ret = 1;

	while (i < argc) {
		k = next_opt(argc, argv, &i, names, &val);
		if (k == OPT_HELP) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (k == OPT_ERROR)
			return EXIT_USAGE;
		if (name != NULL) {
			usage_error("keygen takes one NAME, not also '%s'",
			    argv[i]);
			return EXIT_USAGE;
		}
		name = argv[i++];
	}
	if (name == NULL) {
		usage_error("%s", "keygen needs a NAME (e.g. keygen acme)");
		return EXIT_USAGE;
	}
	if (!license_name_valid(base_name(name))) {
		usage_error("'%s' is not a vendor name: use 1 to 64 of "
		    "A-Z a-z 0-9 . _ + -", base_name(name));
		return EXIT_USAGE;
	}
	n = strlen(name) + sizeof(".key");
	if ((keypath = malloc(n)) == NULL || (pubpath = malloc(n)) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	snprintf(keypath, n, "%s.key", name);
	snprintf(pubpath, n, "%s.pub", name);
	/* Refuse before making anything, so a half pair is never left. */
	if (lstat(keypath, &st) == 0 || lstat(pubpath, &st) == 0) {
		fprintf(stderr, PROG ": %s already exists; not overwriting a "
		    "key\n", lstat(keypath, &st) == 0 ? keypath : pubpath);
		goto out;
	}

	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		fprintf(stderr, PROG ": OpenSSL could not make an Ed25519 "
		    "key\n");
		goto out;
	}
	/* A secure-memory BIO wipes the PEM text when it is freed. */
	if ((priv = BIO_new(BIO_s_secmem())) == NULL ||
	    (pub = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(priv, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 || PEM_write_bio_PUBKEY(pub, pkey) != 1) {
		fprintf(stderr, PROG ": OpenSSL could not encode the key\n");
		goto out;
	}
	if (write_new_file(keypath, 0600, priv) != 0)
		goto out;
	key_written = 1;
	if (write_new_file(pubpath, 0644, pub) != 0)
		goto out;
	printf("wrote %s (private: keep it secret, mode 0600)\n", keypath);
	printf("wrote %s (public: install it on the server as "
	    "KEYDIR/%s.pub)\n", pubpath, base_name(name));
	key_written = 0;
	ret = 0;
 out:
	if (key_written)
		unlink(keypath);
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(pkey);
	free(keypath);
	free(pubpath);
	return ret;
}

/* Strict decimal seat count 1..LIMIT_LICENSE_SEATS; false if s is none. */
static bool
parse_seats(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	size_t i, n = strlen(s);

	*out = 0;
	if (n < 1 || n > 7 || s[0] == '0')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v < 1 || v > LIMIT_LICENSE_SEATS)
		return false;
	*out = v;
	return true;
}

/* A number of seconds for --linger, --ttl, --heartbeat (the ranges are
 * license_check()'s); false if s is none. */
static bool
parse_secs(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	size_t i, n = strlen(s);

	*out = 0;
	if (n < 1 || n > 9 || s[0] == '0')
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* "A-B" or "A" (meaning A-A) into lic->ver_min / ver_max; false if s
 * is neither. */
static bool
parse_versions(const char *s, struct license *lic)
{
	const char *dash = strchr(s, '-');
	size_t a = dash != NULL ? (size_t)(dash - s) : strlen(s);
	const char *max = dash != NULL ? dash + 1 : s;

	if (a > LICENSE_VERSION_MAX || strlen(max) > LICENSE_VERSION_MAX)
		return false;
	memcpy(lic->ver_min, s, a);
	lic->ver_min[a] = '\0';
	memcpy(lic->ver_max, max, strlen(max) + 1);
	if (!license_version_valid(lic->ver_min) ||
	    !license_version_valid(lic->ver_max))
		return false;
	return true;
}

/* Copy a name option, refusing what license_check would refuse later
 * with a less specific message (false, after saying so). */
static bool
copy_name(char *dst, const char *src, const char *what)
{
	if (!license_name_valid(src)) {
		fprintf(stderr, PROG ": %s '%s' is not valid: use 1 to 64 of "
		    "A-Z a-z 0-9 . _ + -\n", what, src);
		return false;
	}
	memcpy(dst, src, strlen(src) + 1);
	return true;
}

/* sign's options, in the order of cmd_sign's names[]. */
enum { SIGN_KEY, SIGN_PRODUCT, SIGN_SEATS, SIGN_VERSIONS, SIGN_START,
    SIGN_EXPIRES, SIGN_SERIAL, SIGN_CUSTOMER, SIGN_VENDOR, SIGN_HOSTID,
    SIGN_DUP_GROUP, SIGN_LINGER, SIGN_TTL, SIGN_HEARTBEAT, SIGN_BORROW,
    SIGN_NOPTS };

/*
 * The license sign's options opt[] (indexed by O_*; --key, --product and
 * --seats given) describe, into *lic (zeroed by the caller), checked as
 * the server checks it; 0, or the exit status after the message.
 */
static int
sign_fill(const char *const *opt, struct license *lic)
{
	struct license_error err;
	uint8_t rnd[8];
	char vbuf[LICENSE_NAME_MAX + 1];
	const char *vendor = opt[SIGN_VENDOR], *b;
	size_t n;

	if (vendor == NULL) {
		b = base_name(opt[SIGN_KEY]);
		n = strlen(b);
		if (n <= 4 || strcmp(b + n - 4, ".key") != 0 ||
		    n - 4 > LICENSE_NAME_MAX) {
			usage_error("cannot tell the vendor from '%s' (not "
			    "NAME.key): give --vendor", opt[SIGN_KEY]);
			return EXIT_USAGE;
		}
		memcpy(vbuf, b, n - 4);
		vbuf[n - 4] = '\0';
		vendor = vbuf;
	}
	if (!copy_name(lic->vendor, vendor, "vendor") ||
	    !copy_name(lic->product, opt[SIGN_PRODUCT], "product"))
		return EXIT_USAGE;
	if (strcmp(opt[SIGN_SEATS], "uncounted") == 0)
		lic->uncounted = 1;
	else if (!parse_seats(opt[SIGN_SEATS], &lic->seats)) {
		usage_error("--seats '%s' must be a whole number from 1 to "
		    "1000000 or \"uncounted\"", opt[SIGN_SEATS]);
		return EXIT_USAGE;
	}
	if (!parse_versions(opt[SIGN_VERSIONS] != NULL ? opt[SIGN_VERSIONS] :
	    DEFAULT_VERSIONS, lic)) {
		usage_error("--versions '%s' must be A-B or A, dotted numbers "
		    "such as 1.0-2.9", opt[SIGN_VERSIONS]);
		return EXIT_USAGE;
	}
	if (license_version_cmp(lic->ver_min, lic->ver_max) > 0) {
		usage_error("--versions '%s' is an empty range (the first "
		    "version is above the second)", opt[SIGN_VERSIONS]);
		return EXIT_USAGE;
	}
	if (opt[SIGN_START] != NULL &&
	    license_parse_date(opt[SIGN_START], &lic->start) != 0) {
		usage_error("--start '%s' must be a date YYYY-MM-DD",
		    opt[SIGN_START]);
		return EXIT_USAGE;
	}
	if (opt[SIGN_EXPIRES] != NULL &&
	    strcmp(opt[SIGN_EXPIRES], "permanent") != 0) {
		if (license_parse_date(opt[SIGN_EXPIRES], &lic->expires) != 0) {
			usage_error("--expires '%s' must be a date YYYY-MM-DD "
			    "or 'permanent'", opt[SIGN_EXPIRES]);
			return EXIT_USAGE;
		}
		lic->expires += 86400;	/* through the end of that day */
	}
	if (opt[SIGN_SERIAL] != NULL) {
		if (!copy_name(lic->serial, opt[SIGN_SERIAL], "serial"))
			return EXIT_USAGE;
	} else {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			fprintf(stderr, PROG ": no random bytes for a "
			    "serial\n");
			return 1;
		}
		hex_encode(rnd, sizeof(rnd), lic->serial);
	}
	if (opt[SIGN_CUSTOMER] != NULL) {
		if (strlen(opt[SIGN_CUSTOMER]) > LICENSE_TEXT_MAX) {
			usage_error("--customer is longer than 128 bytes%s",
			    "");
			return EXIT_USAGE;
		}
		memcpy(lic->customer, opt[SIGN_CUSTOMER],
		    strlen(opt[SIGN_CUSTOMER]) + 1);
	}
	/* The optional fields: license_check() below says what is wrong. */
	if (opt[SIGN_HOSTID] != NULL)
		snprintf(lic->hostid, sizeof(lic->hostid), "%s", opt[SIGN_HOSTID]);
	if (opt[SIGN_DUP_GROUP] != NULL)
		snprintf(lic->dup_group, sizeof(lic->dup_group), "%s",
		    opt[SIGN_DUP_GROUP]);
	if ((opt[SIGN_HOSTID] != NULL &&
	    strlen(opt[SIGN_HOSTID]) > LICENSE_HOSTID_MAX) ||
	    (opt[SIGN_DUP_GROUP] != NULL &&
	    strlen(opt[SIGN_DUP_GROUP]) > LICENSE_DUP_MAX)) {
		usage_error("%s", "--hostid or --dup-group is too long");
		return EXIT_USAGE;
	}
	if ((opt[SIGN_LINGER] != NULL && !parse_secs(opt[SIGN_LINGER],
	    &lic->linger_s)) || (opt[SIGN_TTL] != NULL &&
	    !parse_secs(opt[SIGN_TTL], &lic->ttl_s)) ||
	    (opt[SIGN_HEARTBEAT] != NULL && !parse_secs(opt[SIGN_HEARTBEAT],
	    &lic->heartbeat_s))) {
		usage_error("%s", "--linger, --ttl and --heartbeat take a "
		    "number of seconds");
		return EXIT_USAGE;
	}
	/* The range (1 to LIMIT_BORROW_DAYS_MAX) is license_check()'s. */
	if (opt[SIGN_BORROW] != NULL && !parse_secs(opt[SIGN_BORROW],
	    &lic->borrow_days)) {
		usage_error("%s", "--borrow takes a number of days");
		return EXIT_USAGE;
	}
	if (license_check(lic, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.reason);
		return EXIT_USAGE;
	}
	return 0;
}

static int
cmd_sign(int argc, char **argv)
{
	static const char *const names[] = { "--key", "--product", "--seats",
	    "--versions", "--start", "--expires", "--serial", "--customer",
	    "--vendor", "--hostid", "--dup-group", "--linger", "--ttl",
	    "--heartbeat", "--borrow", NULL };
	const char *opt[SIGN_NOPTS] = { NULL };
	struct license lic;
	struct license_error err;
	uint8_t sig[LICENSE_SIG_LEN];
	void *pkey = NULL;
	char *text = NULL;
	const char *val;
	int i = 2, k, r, ret = 1;

	memset(&lic, 0, sizeof(lic));
	while (i < argc) {
		k = next_opt(argc, argv, &i, names, &val);
		if (k == OPT_HELP) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (k == OPT_ERROR)
			return EXIT_USAGE;
		if (k == OPT_ARGUMENT) {
			usage_error("sign takes no argument '%s'", argv[i]);
			return EXIT_USAGE;
		}
		if (opt[k] != NULL) {
			usage_error("option '%s' given twice", names[k]);
			return EXIT_USAGE;
		}
		opt[k] = val;
	}
	if (opt[SIGN_KEY] == NULL || opt[SIGN_PRODUCT] == NULL ||
	    opt[SIGN_SEATS] == NULL) {
		usage_error("%s", "sign needs --key, --product and --seats");
		return EXIT_USAGE;
	}
	if ((r = sign_fill(opt, &lic)) != 0)
		return r;

	if (license_key_load_private(opt[SIGN_KEY], &pkey, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.reason);
		goto out;
	}
	if ((r = license_sign(&lic, pkey, sig)) != 0) {
		fprintf(stderr, PROG ": signing failed (error %d)\n", r);
		goto out;
	}
	/* Check our own work before handing it out. */
	if (license_verify(&lic, sig, pkey) != 0 ||
	    license_format(&lic, sig, &text) != 0) {
		fprintf(stderr, PROG ": internal error: the signed license "
		    "does not verify\n");
		goto out;
	}
	if (fputs(text, stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, PROG ": cannot write to standard output: %s\n",
		    strerror(errno));
		goto out;
	}
	ret = 0;
 out:
	license_key_free(pkey);
	free(text);
	return ret;
}

static void
print_ok(const char *file, const struct license *lic)
{
	char start[11], expires[11];
	int64_t now = (int64_t)time(NULL);

	if (lic->uncounted)
		printf("%s: OK (vendor %s, product %s, uncounted seats, versions "
		    "%s-%s, ", file, lic->vendor, lic->product, lic->ver_min,
		    lic->ver_max);
	else
		printf("%s: OK (vendor %s, product %s, %u seat%s, versions "
		    "%s-%s, ", file, lic->vendor, lic->product,
		    (unsigned)lic->seats, lic->seats == 1 ? "" : "s",
		    lic->ver_min, lic->ver_max);
	if (lic->hostid[0] != '\0')
		printf("locked to %s, ", lic->hostid);
	if (lic->start != 0) {
		license_date_str(lic->start, start);
		printf("starts %s%s, ", start,
		    now < lic->start ? " [NOT YET VALID]" : "");
	}
	if (lic->expires == 0) {
		printf("permanent)\n");
	} else {
		license_date_str(lic->expires - 86400, expires);
		printf("expires %s%s)\n", expires,
		    now >= lic->expires ? " [EXPIRED]" : "");
	}
}

static int
cmd_verify(int argc, char **argv)
{
	enum { O_PUB, O_KEYDIR, O_COUNT };
	static const char *const names[] = { "--pub", "--keydir", NULL };
	const char *opt[O_COUNT] = { NULL };
	struct license lic;
	struct license_error err;
	void *pkey = NULL;
	const char *val;
	char **files = NULL;
	int i = 2, k, r, nfiles = 0, nbad = 0, ret = 1;

	if ((files = calloc((size_t)argc, sizeof(*files))) == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	while (i < argc) {
		k = next_opt(argc, argv, &i, names, &val);
		if (k == OPT_HELP) {
			fputs(usage_text, stdout);
			ret = 0;
			goto out;
		}
		if (k == OPT_ERROR) {
			ret = EXIT_USAGE;
			goto out;
		}
		if (k == OPT_ARGUMENT) {
			/* "--" ends the options. */
			if (strcmp(argv[i], "--") == 0) {
				for (i++; i < argc; i++)
					files[nfiles++] = argv[i];
				break;
			}
			files[nfiles++] = argv[i++];
			continue;
		}
		if (opt[k] != NULL) {
			usage_error("option '%s' given twice", names[k]);
			ret = EXIT_USAGE;
			goto out;
		}
		opt[k] = val;
	}
	if ((opt[O_PUB] == NULL) == (opt[O_KEYDIR] == NULL)) {
		usage_error("%s", "verify needs exactly one of --pub FILE and "
		    "--keydir DIR");
		ret = EXIT_USAGE;
		goto out;
	}
	if (nfiles == 0) {
		usage_error("%s", "verify needs at least one license FILE");
		ret = EXIT_USAGE;
		goto out;
	}
	if (opt[O_PUB] != NULL &&
	    license_key_load_public(opt[O_PUB], &pkey, &err) != 0) {
		fprintf(stderr, PROG ": %s\n", err.reason);
		goto out;
	}
	for (k = 0; k < nfiles; k++) {
		if (pkey != NULL)
			r = license_load_file_key(files[k], pkey, &lic, &err);
		else
			r = license_load_file(files[k], opt[O_KEYDIR], &lic,
			    &err);
		if (r == 0) {
			print_ok(files[k], &lic);
			continue;
		}
		nbad++;
		if (err.line != 0)
			fprintf(stderr, "%s:%u: %s\n", files[k], err.line,
			    err.reason);
		else
			fprintf(stderr, "%s: %s\n", files[k], err.reason);
	}
	fflush(stdout);
	ret = nbad == 0 ? 0 : 1;
 out:
	license_key_free(pkey);
	free(files);
	return ret;
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
		printf(PROG " " XLICEN_VERSION "\n");
		return 0;
	}
	if (strcmp(cmd, "keygen") == 0)
		return cmd_keygen(argc, argv);
	if (strcmp(cmd, "sign") == 0)
		return cmd_sign(argc, argv);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc, argv);
	if (cmd[0] == '-')
		usage_error("unknown option '%s'", cmd);
	else
		usage_error("unknown command '%s'", cmd);
	return EXIT_USAGE;
}
