/*
 * The caller's credentials cache (client/ccache.c): the in-memory copy
 * that new GSS contexts are made with, the tickets' remaining life, TGT
 * renewal.  Used by the session module (connect.c, lease.c); calls
 * nothing of it.  Not part of the public API.
 */
#ifndef XLICEN_CCACHE_H
#define XLICEN_CCACHE_H

#include <stddef.h>
#include <stdint.h>

#include <gssapi/gssapi.h>

#include "limits.h"

/* A credential or context without an end (GSS_C_INDEFINITE) counts as
 * lasting this long: a context is renewed after it, as the server
 * assumes the same. */
#define CCACHE_INDEFINITE_MS	(24LL * 3600 * 1000)

/* A copy of the caller's FILE cache in a MEMORY cache, as a GSS
 * credential; shared by the sessions of the process. */
struct ccache_copy {
	unsigned refs;		/* the entry's, and each session's */
	gss_cred_id_t cred;
	char mem[128];		/* "MEMORY:...", destroyed with the last ref */
	/* The cache's principal, as gss_display_name shows a context's
	 * initiator made with cred ("" if too long): a session takes it
	 * from here instead of asking GSS, which makes and frees three krb5
	 * contexts for it (each stat()s and access()es krb5.conf). */
	char principal[LIMIT_STRING + 1];
};

/*
 * The credential for a new context, into *out (the reference *out held
 * before is dropped first): the process's copy of the FILE cache named by
 * $KRB5CCNAME, or NULL for the default credentials (no such name or
 * file, the first use of the file in this state, or a cache that cannot
 * be copied).  Returns 0, or XLICEN_E_NO_CREDS with the GSS text in text
 * when the FILE cache cannot be read (see ccache.c: the krb5 crash).
 */
int ccache_get(struct ccache_copy **out, char *text, size_t textlen);

/*
 * Keep one krb5 context open for the rest of the process (made at the
 * first call, never freed), so that MIT's profile library keeps krb5.conf
 * parsed between the short-lived contexts that every GSS call makes
 * inside: without it each new session re-opened, re-read and re-parsed
 * the file twice.  A changed krb5.conf is still seen: each new krb5
 * context stat()s it and re-reads it when it changed.  Idempotent,
 * thread-safe; a failure leaves things as they were without it.
 */
void ccache_keep_config(void);

/* Drop a reference (NULL: nothing); the last one frees the credential
 * and its MEMORY cache. */
void ccache_put(struct ccache_copy *cc);

/*
 * How long the caller's tickets stay valid, ms, into *ms (0 when there are
 * none or they expired).  Reads the credentials cache only, no network.
 * Returns 0 or XLICEN_E_NO_CREDS with the GSS text in text.
 */
int ccache_cred_ms(int64_t *ms, char *text, size_t textlen);

/*
 * Renew the caller's TGT in its cache, as `kinit -R` does, if it is
 * renewable, not yet expired, and may be renewed past its present end.
 * One blocking KDC exchange.  Returns 0 when a renewed TGT was stored,
 * else XLICEN_E_NO_CREDS (nothing changed).
 */
int ccache_renew_tgt(void);

#endif
