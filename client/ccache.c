/*
 * The caller's Kerberos credentials cache, as the client library uses it:
 * acquiring initiator credentials from $KRB5CCNAME, the process's
 * in-memory copy of a FILE cache (shared by every session, freed by
 * reference count), the check that keeps MIT krb5 < 1.21.3 from crashing
 * on a broken FILE cache, the tickets' remaining life, renewing a
 * renewable TGT, and the krb5 context kept open so that krb5.conf stays
 * parsed (ccache_keep_config).  No session state: connect.c and lease.c
 * call in with what they hold.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include <pthread.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

#include "xlicen.h"

#include "ccache.h"
#include "gssx.h"

/*
 * Acquire the caller's initiator credentials.  With $KRB5CCNAME set they
 * come from that cache by name (gss_acquire_cred_from): that path is safe
 * from the krb5 < 1.21.3 crash described at ccache_check, and it
 * reads only that cache.  Returns the GSS major status.
 */
static OM_uint32
ccache_acquire(OM_uint32 *min, gss_cred_id_t *cred, OM_uint32 *lifetime)
{
	const char *name = getenv("KRB5CCNAME");
	gss_key_value_element_desc el;
	gss_key_value_set_desc store;
	OM_uint32 maj, tmp;

	*cred = GSS_C_NO_CREDENTIAL;
	if (lifetime != NULL)
		*lifetime = 0;
	if (name != NULL && name[0] != '\0') {
		el.key = "ccache";
		el.value = name;
		store.count = 1;
		store.elements = &el;
		maj = gss_acquire_cred_from(min, GSS_C_NO_NAME, GSS_C_INDEFINITE,
		    GSS_C_NO_OID_SET, GSS_C_INITIATE, &store, cred, NULL, NULL);
	} else {
		maj = gss_acquire_cred(min, GSS_C_NO_NAME, GSS_C_INDEFINITE,
		    GSS_C_NO_OID_SET, GSS_C_INITIATE, cred, NULL, NULL);
	}
	if (GSS_ERROR(maj) || lifetime == NULL)
		return maj;
	maj = gss_inquire_cred(min, *cred, NULL, lifetime, NULL, NULL);
	if (GSS_ERROR(maj))
		gss_release_cred(&tmp, cred);
	return maj;
}

/*
 * The caller's tickets, copied into memory once per process.  Each new
 * context otherwise reads the FILE cache several times over (a new krb5
 * context, the principal, the TGT, the service ticket: some 70 fcntl()
 * locks and 50 stat()s), about half the client's CPU per connection, while
 * the answer only changes with the file.  The entry below follows the FILE
 * cache named by $KRB5CCNAME through stat(): device and inode (a kinit that
 * renames a new file over it, a symlink pointed elsewhere, another working
 * directory for a relative path), size, and modification and change times
 * (rewritten in place; touch can set the modification time back, nothing
 * but the clock the change time).
 *
 * The first context made while the file is in a given state uses the file
 * itself, after ccache_check, so that a service ticket the KDC issues
 * is stored there for the next process, as without us.  The next one
 * copies the file into a MEMORY cache and imports that as its GSS
 * credential (gss_krb5_import_cred); later ones use the copy until the
 * file changes.  A ticket fetched through the copy (another server of the
 * list) stays in the copy.  Only success is kept: a failed check forgets
 * the entry, so that every broken cache is looked at each time and
 * reported as a fresh process reports it.  Sessions of several threads
 * share the copy (MIT's credential handles lock themselves); a copy
 * replaced while a session still makes a context with it is freed when
 * that session is done with it (refs).  ccache_lock is held only to
 * compare or swap the entry, never across a Kerberos call.
 */
#define CCACHE_NAME_MAX	1024

struct ccache_entry {
	int valid;		/* the file in state st passed the check */
	char name[CCACHE_NAME_MAX];
	struct stat st;
	struct ccache_copy *cc;	/* its copy, NULL before the second use */
};

static pthread_mutex_t ccache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ccache_entry ccache_ent;

/* Whether a and b are the same file with the same contents, as far as
 * stat() can tell. */
static int
ccache_stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Drop a reference; the last one frees the credential and its cache. */
void
ccache_put(struct ccache_copy *cc)
{
	krb5_context kc;
	krb5_ccache mcc;
	OM_uint32 min;
	unsigned left;

	if (cc == NULL)
		return;
	pthread_mutex_lock(&ccache_lock);
	left = --cc->refs;
	pthread_mutex_unlock(&ccache_lock);
	if (left > 0)
		return;
	if (cc->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &cc->cred);
	if (cc->mem[0] != '\0' && krb5_init_context(&kc) == 0) {
		if (krb5_cc_resolve(kc, cc->mem, &mcc) == 0)
			(void)krb5_cc_destroy(kc, mcc);
		krb5_free_context(kc);
	}
	free(cc);
}

/* princ as text into out (outlen bytes), or "" if it does not fit. */
static void
ccache_principal(krb5_context kc, krb5_const_principal princ, char *out,
    size_t outlen)
{
	char *text = NULL;

	out[0] = '\0';
	if (krb5_unparse_name(kc, princ, &text) != 0)
		return;
	if (strlen(text) < outlen)
		memcpy(out, text, strlen(text) + 1);
	krb5_free_unparsed_name(kc, text);
}

/* A copy of the cache name in memory, as a GSS credential, or NULL when
 * any step fails (the caller then checks the file the old way). */
static struct ccache_copy *
ccache_copy_new(const char *name)
{
	krb5_context kc;
	krb5_ccache fcc = NULL, mcc = NULL;
	krb5_principal princ = NULL;
	struct ccache_copy *cc;
	OM_uint32 maj, min;
	int ok = 0;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return NULL;
	cc->refs = 1;
	cc->cred = GSS_C_NO_CREDENTIAL;
	if (krb5_init_context(&kc) != 0) {
		free(cc);
		return NULL;
	}
	if (krb5_cc_resolve(kc, name, &fcc) == 0 &&
	    krb5_cc_get_principal(kc, fcc, &princ) == 0 &&
	    krb5_cc_new_unique(kc, "MEMORY", NULL, &mcc) == 0) {
		snprintf(cc->mem, sizeof(cc->mem), "MEMORY:%s",
		    krb5_cc_get_name(kc, mcc));
		if (krb5_cc_initialize(kc, mcc, princ) == 0 &&
		    krb5_cc_copy_creds(kc, fcc, mcc) == 0) {
			maj = gss_krb5_import_cred(&min, mcc, NULL, NULL,
			    &cc->cred);
			ok = !GSS_ERROR(maj);
		}
		ccache_principal(kc, princ, cc->principal,
		    sizeof(cc->principal));
	}
	if (princ != NULL)
		krb5_free_principal(kc, princ);
	if (fcc != NULL)
		krb5_cc_close(kc, fcc);
	if (mcc != NULL)
		krb5_cc_close(kc, mcc);
	krb5_free_context(kc);
	if (!ok) {
		ccache_put(cc);
		return NULL;
	}
	return cc;
}

/* Make the entry say name in state st passed the check, with copy cc
 * (NULL: none yet), or forget it (valid 0).  A name too long for the
 * entry is not kept (checked every time). */
static void
ccache_set(int valid, const char *name, const struct stat *st,
    struct ccache_copy *cc)
{
	struct ccache_copy *old;
	size_t n = strlen(name);

	if (valid && n >= sizeof(ccache_ent.name))
		return;
	pthread_mutex_lock(&ccache_lock);
	old = ccache_ent.cc;
	ccache_ent.valid = valid;
	ccache_ent.cc = valid ? cc : NULL;
	if (ccache_ent.cc != NULL)
		ccache_ent.cc->refs++;
	if (valid) {
		memcpy(ccache_ent.name, name, n + 1);
		ccache_ent.st = *st;
	}
	pthread_mutex_unlock(&ccache_lock);
	ccache_put(old);
}

static pthread_once_t ccache_config_once = PTHREAD_ONCE_INIT;
static krb5_context ccache_config_ctx;	/* never used, never freed */

static void
ccache_config_open(void)
{
	if (krb5_init_context(&ccache_config_ctx) != 0)
		ccache_config_ctx = NULL;
}

/* See ccache.h. */
void
ccache_keep_config(void)
{
	(void)pthread_once(&ccache_config_once, ccache_config_open);
}

static int ccache_check(char *text, size_t textlen);

/* See ccache.h. */
int
ccache_get(struct ccache_copy **out, char *text, size_t textlen)
{
	const char *name = getenv("KRB5CCNAME"), *path;
	struct ccache_copy *cc = NULL;
	struct stat st, st2;
	int seen = 0, rc;

	ccache_put(*out);
	*out = NULL;
	if (name == NULL)
		return 0;
	if (strncmp(name, "FILE:", 5) == 0)
		path = name + 5;
	else if (name[0] == '/')
		path = name;
	else
		return 0;
	if (stat(path, &st) != 0)
		return 0;
	pthread_mutex_lock(&ccache_lock);
	if (ccache_ent.valid && ccache_stat_same(&ccache_ent.st, &st) &&
	    strcmp(ccache_ent.name, name) == 0) {
		seen = 1;
		if ((cc = ccache_ent.cc) != NULL)
			cc->refs++;
	}
	pthread_mutex_unlock(&ccache_lock);
	if (cc != NULL) {
		*out = cc;
		return 0;
	}
	/* The second use: copy, if the file stays what stat() saw (no
	 * kinit in between). */
	if (seen && (cc = ccache_copy_new(name)) != NULL) {
		*out = cc;
		if (stat(path, &st2) == 0 && ccache_stat_same(&st, &st2))
			ccache_set(1, name, &st, cc);
		return 0;
	}
	rc = ccache_check(text, textlen);
	/* A success counts for the file stat() saw only if the check read
	 * that one. */
	if (rc != 0)
		ccache_set(0, name, NULL, NULL);
	else if (stat(path, &st2) == 0 && ccache_stat_same(&st, &st2))
		ccache_set(1, name, &st, NULL);
	return rc;
}

/*
 * Work around a crash in MIT krb5 before 1.21.3: when the default ccache is
 * a FILE that exists but cannot be read (empty, truncated, garbage),
 * gss_init_sec_context with default credentials ends in
 * krb5_cccol_have_content(), which frees an uninitialised pointer and kills
 * the application at random (fixed upstream as "potential bad pointer free
 * in krb5_cccol_have_content()").  Acquiring credentials from that one named
 * cache does not take that path, so try that first and report NO_CREDS
 * without calling init.  ccache_get calls this for a FILE cache named by
 * $KRB5CCNAME that exists, unless its copy is used: a missing file is safe,
 * and collections (DIR, KEYRING, KCM) keep their usual cache selection.
 * Returns 0 or XLICEN_E_NO_CREDS with the GSS text in text.
 */
static int
ccache_check(char *text, size_t textlen)
{
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 maj, min;

	maj = ccache_acquire(&min, &cred, NULL);
	if (cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &cred);
	if (!GSS_ERROR(maj))
		return 0;
	gssx_status_text(maj, min, text, textlen);
	return XLICEN_E_NO_CREDS;
}

/*
 * How long the caller's tickets stay valid, ms, into *ms (0 when there are
 * none or they expired).  Reads the credentials cache only, no network:
 * the lease machine asks this before dialing and while waiting for the
 * user to kinit.  Returns 0 or XLICEN_E_NO_CREDS with the GSS text.
 */
int
ccache_cred_ms(int64_t *ms, char *text, size_t textlen)
{
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 maj, min, life = 0;

	*ms = 0;
	text[0] = '\0';
	maj = ccache_acquire(&min, &cred, &life);
	if (cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &cred);
	if (GSS_ROUTINE_ERROR(maj) == GSS_S_CREDENTIALS_EXPIRED ||
	    (!GSS_ERROR(maj) && life == 0)) {
		snprintf(text, textlen, "the Kerberos tickets have expired "
		    "(run kinit)");
		return XLICEN_E_NO_CREDS;
	}
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, text, textlen);
		return XLICEN_E_NO_CREDS;
	}
	*ms = life == GSS_C_INDEFINITE ? CCACHE_INDEFINITE_MS :
	    (int64_t)life * 1000;
	return 0;
}

/*
 * Renew the caller's ticket-granting ticket in its cache, as `kinit -R`
 * and krenew do: if the TGT is renewable, not yet expired, and may be
 * renewed past its present end, ask the KDC for a renewed one and store
 * it back (the cache is reinitialised with it, so service tickets of the
 * old TGT go).  The cache is $KRB5CCNAME, else the default, the one
 * ccache_acquire reads; a FILE cache rewritten this way changes under
 * stat(), so ccache_get makes no use of its old in-memory copy.  One
 * KDC exchange, blocking like gss_init_sec_context.  Returns 0 when a
 * renewed TGT was stored, else XLICEN_E_NO_CREDS (not renewable, renewal
 * limit reached, the KDC refused or is unreachable; nothing changed).
 */
int
ccache_renew_tgt(void)
{
	const char *name = getenv("KRB5CCNAME");
	krb5_context kc;
	krb5_ccache cc = NULL;
	krb5_principal princ = NULL;
	krb5_creds mcreds, tgt, fresh;
	krb5_data *realm;
	int have_tgt = 0, have_fresh = 0, rc = XLICEN_E_NO_CREDS;
	time_t now = time(NULL);

	memset(&mcreds, 0, sizeof(mcreds));
	memset(&tgt, 0, sizeof(tgt));
	memset(&fresh, 0, sizeof(fresh));
	if (krb5_init_context(&kc) != 0)
		return XLICEN_E_NO_CREDS;
	if ((name != NULL && name[0] != '\0' ? krb5_cc_resolve(kc, name, &cc) :
	    krb5_cc_default(kc, &cc)) != 0 ||
	    krb5_cc_get_principal(kc, cc, &princ) != 0)
		goto out;
	realm = krb5_princ_realm(kc, princ);
	if (krb5_build_principal_ext(kc, &mcreds.server, realm->length,
	    realm->data, KRB5_TGS_NAME_SIZE, KRB5_TGS_NAME, realm->length,
	    realm->data, 0) != 0)
		goto out;
	mcreds.client = princ;
	if (krb5_cc_retrieve_cred(kc, cc, 0, &mcreds, &tgt) != 0)
		goto out;
	have_tgt = 1;
	if (!(tgt.ticket_flags & TKT_FLG_RENEWABLE) ||
	    tgt.times.endtime <= now || tgt.times.renew_till <= tgt.times.endtime)
		goto out;
	if (krb5_get_renewed_creds(kc, &fresh, princ, cc, NULL) != 0)
		goto out;
	have_fresh = 1;
	if (krb5_cc_initialize(kc, cc, princ) != 0 ||
	    krb5_cc_store_cred(kc, cc, &fresh) != 0)
		goto out;
	rc = 0;
out:
	if (have_fresh)
		krb5_free_cred_contents(kc, &fresh);
	if (have_tgt)
		krb5_free_cred_contents(kc, &tgt);
	if (mcreds.server != NULL)
		krb5_free_principal(kc, mcreds.server);
	if (princ != NULL)
		krb5_free_principal(kc, princ);
	if (cc != NULL)
		krb5_cc_close(kc, cc);
	krb5_free_context(kc);
	return rc;
}
