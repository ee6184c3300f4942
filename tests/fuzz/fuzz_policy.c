/*
 * libFuzzer target: policy_load (server/policy.c), the administrator's
 * policy file in krb5 profile syntax, read through the profile library.
 * The file is trusted more than a network peer, but a typo must give a
 * clear refusal, never a crash or a policy half applied.
 *
 * Input: the file's bytes, written to a file of its own name for each run
 * (the profile library keeps parsed files by name and only rereads one
 * whose stat() changed, which a rewrite within the same second may not
 * show).  Properties checked, from the contract in policy.h:
 *   - the result is 0, XLICEN_E_CONFIG or XLICEN_E_NOMEM;
 *   - on a refusal there is no policy and the error is one line that
 *     starts with the file's name and a ':';
 *   - a file with a NUL byte is refused as such;
 *   - on success policy_path gives the file back, and asking the policy
 *     about any product and identity gives an answer within its contract
 *     (a code of 0, EXCLUDED or MAX_REACHED, a dup grouping that has a
 *     name, the settings' bounds);
 *   - loading the same bytes again (under another name) gives the same
 *     result and the same error past the name.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"
#include "xlicen_errors.h"

#include "fuzz_check.h"

static char dir[512];
static unsigned long seq;

static void
rm_dir(void)
{
	(void)rmdir(dir);
}

/* Write data to a new file; its name into path. */
static int
put_file(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
	FILE *f;

	snprintf(path, pathlen, "%s/policy-%lu.conf", dir, ++seq);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	if ((size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

/* Load data as a policy file; the error past "NAME" into err. */
static int
load(const uint8_t *data, size_t size, struct policy **p, char *err,
    size_t errlen)
{
	char path[600], e[1024];
	size_t n;
	int rc;

	if (put_file(data, size, path, sizeof(path)) != 0)
		abort();	/* the machine, not the input */
	e[0] = '\0';
	*p = NULL;
	rc = policy_load(path, p, e, sizeof(e));
	unlink(path);
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_CONFIG || rc == XLICEN_E_NOMEM);
	FUZZ_CHECK((rc == 0) == (*p != NULL));
	n = strlen(path);
	if (rc == 0) {
		FUZZ_CHECK(strcmp(policy_path(*p), path) == 0);
		err[0] = '\0';
		return 0;
	}
	if (rc == XLICEN_E_CONFIG) {
		FUZZ_CHECK(strncmp(e, path, n) == 0 && e[n] == ':');
		FUZZ_CHECK(strchr(e, '\n') == NULL);
		FUZZ_CHECK(e[n + 1] != '\0');
	}
	snprintf(err, errlen, "%s", rc == XLICEN_E_CONFIG ? e + n : "");
	return rc;
}

/* Questions to a loaded policy, with names the input may also use. */
static void
ask(const struct policy *p)
{
	static const char *const products[] = { "xdemo", "xmax", "", "x" };
	static const char *const principals[] = { "alice@R", "root@R",
	    "bob@OTHER", "" };
	struct policy_settings ps;
	struct policy_holding held[2] = {
		{ "alice@R", "ws1", 1 }, { "bob@OTHER", "badhost", 2 },
	};
	struct policy_ident id;
	struct policy_decision d;
	size_t i, j;
	int rc;

	for (i = 0; i < sizeof(products) / sizeof(products[0]); i++) {
		policy_settings(p, products[i], &ps);
		FUZZ_CHECK(policy_dup_name((enum policy_dup)ps.dup) != NULL);
		FUZZ_CHECK(ps.ttl_s == 0 || (ps.ttl_s >= 2 &&
		    ps.ttl_s <= 2592000));
		for (j = 0; j < sizeof(principals) / sizeof(principals[0]); j++) {
			memset(&id, 0, sizeof(id));
			id.principal = principals[j];
			id.host = j % 2 ? "badhost" : "ws1";
			memset(&d, 0, sizeof(d));
			rc = policy_check(p, products[i], &id, 1, 10, 3, held,
			    2, &d);
			FUZZ_CHECK(rc == 0 || rc == XLICEN_E_EXCLUDED ||
			    rc == XLICEN_E_MAX_REACHED);
			FUZZ_CHECK(d.code == rc);
			FUZZ_CHECK(rc == 0 || d.reason[0] != '\0');
			/* 10 seats, 3 in use: at most 7 to take. */
			FUZZ_CHECK(d.avail <= 7 && d.reserved_others <= 7);
			(void)policy_is_admin(p, principals[j]);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL, *p2 = NULL;
	char err[1024], err2[1024];
	int rc, rc2;

	if (size > 65536)
		return 0;
	if (dir[0] == '\0') {
		const char *t = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/xlicen-fuzz-policy-XXXXXX",
		    t != NULL && t[0] != '\0' ? t : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(rm_dir);
	}
	rc = load(data, size, &p, err, sizeof(err));
	if (memchr(data, '\0', size) != NULL)
		FUZZ_CHECK(rc == XLICEN_E_CONFIG &&
		    strcmp(err, ": contains a NUL byte") == 0);
	if (rc == 0)
		ask(p);
	rc2 = load(data, size, &p2, err2, sizeof(err2));
	FUZZ_CHECK(rc2 == rc && strcmp(err2, err) == 0);
	policy_free(p);
	policy_free(p2);
	return 0;
}
