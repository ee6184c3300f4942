/*
 * HTTP Negotiate and the CSRF token (http_auth.h).  The header's scheme
 * word and its base64 are all this file reads of a request: the request
 * itself was parsed by libmicrohttpd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "err.h"
#include "gssx.h"
#include "hex.h"
#include "http_auth.h"
#include "limits.h"
#include "log.h"
#include "privs.h"

#define HTTP_AUTH_SECRET_LEN	32
#define HTTP_AUTH_DEFAULT_SERVICE	"HTTP"

struct http_auth {
	krb5_context kctx;
	krb5_keytab kt;		/* open as long as the keys are needed:
				 * a MEMORY: keytab lives while a handle
				 * to it does */
	char ktname[64];
	char service[LIMIT_STRING + 1];
	gss_cred_id_t cred;
	unsigned char secret[HTTP_AUTH_SECRET_LEN];
};

/* Every key of the keytab at path (NULL: the default) into a->kt. */
static int
http_auth_copy_keys(struct http_auth *a, const char *path, size_t *n)
{
	krb5_keytab src = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	krb5_error_code kc;
	const char *msg;
	int started = 0, rc = XLICEN_E_CONFIG;

	*n = 0;
	kc = path != NULL ? krb5_kt_resolve(a->kctx, path, &src) :
	    krb5_kt_default(a->kctx, &src);
	if (kc == 0 && (kc = krb5_kt_start_seq_get(a->kctx, src, &cur)) == 0)
		started = 1;
	while (kc == 0 &&
	    (kc = krb5_kt_next_entry(a->kctx, src, &ent, &cur)) == 0) {
		kc = krb5_kt_add_entry(a->kctx, a->kt, &ent);
		krb5_free_keytab_entry_contents(a->kctx, &ent);
		if (kc == 0)
			(*n)++;
	}
	if (kc != KRB5_KT_END) {
		msg = krb5_get_error_message(a->kctx, kc);
		log_msg(LOG_ERR, "http: keytab %s: %s", path != NULL ? path :
		    "(default)", msg);
		krb5_free_error_message(a->kctx, msg);
	} else if (*n == 0) {
		log_msg(LOG_ERR, "http: keytab %s has no keys", path != NULL ?
		    path : "(default)");
	} else {
		rc = 0;
	}
	if (started)
		krb5_kt_end_seq_get(a->kctx, src, &cur);
	if (src != NULL)
		krb5_kt_close(a->kctx, src);
	return rc;
}

int
http_auth_load(const struct server_config *cfg, struct http_auth **out)
{
	struct http_auth *a;
	const char *path = cfg->http_keytab != NULL ? cfg->http_keytab :
	    cfg->keytab, *file;
	char ktbuf[1024], err[1024];
	size_t n;
	int rc;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return XLICEN_E_NOMEM;
	a->cred = GSS_C_NO_CREDENTIAL;
	snprintf(a->service, sizeof(a->service), "%s",
	    cfg->http_service != NULL ? cfg->http_service :
	    HTTP_AUTH_DEFAULT_SERVICE);
	snprintf(a->ktname, sizeof(a->ktname), "MEMORY:gss-xlicend-http");
	/* Private, as the service keytab is (startup.c checks that one). */
	if (cfg->http_keytab != NULL && (file = privs_keytab_file(
	    cfg->http_keytab, ktbuf, sizeof(ktbuf))) != NULL &&
	    privs_check_private("[http] keytab", file, 0, err,
	    sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		rc = XLICEN_E_CONFIG;
		goto out;
	}
	if (krb5_init_context(&a->kctx) != 0) {
		a->kctx = NULL;
		log_msg(LOG_ERR, "http: cannot initialise Kerberos");
		rc = XLICEN_E_CONFIG;
		goto out;
	}
	if (krb5_kt_resolve(a->kctx, a->ktname, &a->kt) != 0) {
		a->kt = NULL;
		rc = XLICEN_E_NOMEM;
		goto out;
	}
	if ((rc = http_auth_copy_keys(a, path, &n)) != 0)
		goto out;
	log_msg(LOG_INFO, "http: keytab %s: %zu key(s) copied into memory",
	    path != NULL ? path : "(default)", n);
	*out = a;
	a = NULL;
out:
	http_auth_free(a);
	return rc;
}

int
http_auth_start(struct http_auth *a)
{
	gss_key_value_element_desc kv = { "keytab", a->ktname };
	gss_key_value_set_desc store = { 1, &kv };
	gss_name_t name = GSS_C_NO_NAME;
	OM_uint32 maj, min;
	char err[512];

	if (getrandom(a->secret, sizeof(a->secret), 0) !=
	    (ssize_t)sizeof(a->secret)) {
		log_msg(LOG_ERR, "http: no random bytes for the CSRF secret");
		return XLICEN_E_IO;
	}
	if (gssx_import_service(a->service, &name, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "http: service name %s: %s", a->service, err);
		return XLICEN_E_GSS;
	}
	maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE,
	    GSS_C_NO_OID_SET, GSS_C_ACCEPT, &store, &a->cred, NULL, NULL);
	if (GSS_ERROR(maj)) {
		/* /metrics needs no key: the endpoint serves on, and what
		 * wants a sign-on answers 503. */
		a->cred = GSS_C_NO_CREDENTIAL;
		gssx_status_text(maj, min, err, sizeof(err));
		log_msg(LOG_WARNING, "http: no acceptor credentials for %s "
		    "(%s): sign-on is off, the pages that need it answer 503",
		    a->service, err);
	}
	gss_release_name(&min, &name);
	return 0;
}

void
http_auth_free(struct http_auth *a)
{
	OM_uint32 min;

	if (a == NULL)
		return;
	if (a->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &a->cred);
	if (a->kt != NULL)
		krb5_kt_close(a->kctx, a->kt);
	if (a->kctx != NULL)
		krb5_free_context(a->kctx);
	OPENSSL_cleanse(a->secret, sizeof(a->secret));
	free(a);
}

/* The token of "Negotiate TOKEN" decoded into *tok (malloc'd), or
 * HTTP_AUTH_NONE (another scheme) / HTTP_AUTH_MALFORMED. */
static enum http_auth_result
http_auth_token(const char *authz, unsigned char **tok, size_t *toklen,
    char *why, size_t whylen)
{
	const char *b64;
	size_t n;
	int len;

	*tok = NULL;
	if (authz == NULL)
		return HTTP_AUTH_NONE;
	if (strncasecmp(authz, "Negotiate", 9) != 0 ||
	    (authz[9] != ' ' && authz[9] != '\0')) {
		err_setf(why, whylen, "not the Negotiate scheme");
		return HTTP_AUTH_NONE;
	}
	for (b64 = authz + 9; *b64 == ' '; b64++)
		;
	n = strlen(b64);
	while (n > 0 && b64[n - 1] == ' ')
		n--;
	if (n == 0 || n % 4 != 0 || n > LIMIT_HTTP_NEGOTIATE_B64) {
		err_setf(why, whylen, "a Negotiate token of %zu base64 "
		    "characters (a multiple of 4, 1 to %d)", n,
		    LIMIT_HTTP_NEGOTIATE_B64);
		return HTTP_AUTH_MALFORMED;
	}
	if ((*tok = malloc(n / 4 * 3 + 1)) == NULL) {
		err_setf(why, whylen, "out of memory");
		return HTTP_AUTH_REFUSED;
	}
	/* EVP_DecodeBlock refuses characters outside the alphabet but
	 * counts the padding as zero bytes. */
	len = EVP_DecodeBlock(*tok, (const unsigned char *)b64, (int)n);
	if (len < 0 || strcspn(b64, "=") < n - 2 ||
	    (b64[n - 2] == '=' && b64[n - 1] != '=')) {
		free(*tok);
		*tok = NULL;
		err_setf(why, whylen, "the Negotiate token is not base64");
		return HTTP_AUTH_MALFORMED;
	}
	*toklen = (size_t)len - (b64[n - 1] == '=') - (b64[n - 2] == '=');
	return HTTP_AUTH_OK;
}

/* What a failed accept means for the client: a token nobody could read
 * is malformed (400), any other refusal asks for a new one (401). */
static enum http_auth_result
http_auth_refusal(OM_uint32 maj)
{
	OM_uint32 routine = GSS_ROUTINE_ERROR(maj);

	if (routine == GSS_S_DEFECTIVE_TOKEN || routine == GSS_S_BAD_MECH)
		return HTTP_AUTH_MALFORMED;
	return HTTP_AUTH_REFUSED;
}

enum http_auth_result
http_auth_negotiate(struct http_auth *a, const char *authz, char *principal,
    size_t plen, char *reply, size_t replylen, char *why, size_t whylen)
{
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	OM_uint32 maj, min, flags = 0;
	enum http_auth_result res;
	unsigned char *tok;
	size_t toklen = 0;

	principal[0] = reply[0] = '\0';
	/* (GSS_C_NO_CREDENTIAL would accept with any key of the default
	 * keytab.) */
	if (a->cred == GSS_C_NO_CREDENTIAL) {
		err_setf(why, whylen, "no acceptor credentials (no %s key)",
		    a->service);
		return HTTP_AUTH_UNAVAILABLE;
	}
	err_setf(why, whylen, "no Authorization header");
	if ((res = http_auth_token(authz, &tok, &toklen, why, whylen)) !=
	    HTTP_AUTH_OK)
		return res;
	in.value = tok;
	in.length = toklen;
	maj = gss_accept_sec_context(&min, &ctx, a->cred, &in,
	    GSS_C_NO_CHANNEL_BINDINGS, &src, NULL, &out, &flags, NULL, NULL);
	/* The output token goes back even on an error (a KRB-ERROR). */
	if (out.length > 0 && (out.length + 2) / 3 * 4 < replylen)
		EVP_EncodeBlock((unsigned char *)reply, out.value,
		    (int)out.length);
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, why, whylen);
		res = http_auth_refusal(maj);
	} else if (maj & GSS_S_CONTINUE_NEEDED) {
		err_setf(why, whylen, "the mechanism wants more than one round "
		    "trip (only Kerberos is offered)");
		res = HTTP_AUTH_REFUSED;
	} else if (flags & GSS_C_ANON_FLAG) {
		err_setf(why, whylen, "an anonymous initiator");
		res = HTTP_AUTH_REFUSED;
	} else if (gssx_display_name(src, principal, plen) != 0) {
		principal[0] = '\0';
		err_setf(why, whylen, "the client's name does not fit");
		res = HTTP_AUTH_REFUSED;
	} else {
		why[0] = '\0';
		res = HTTP_AUTH_OK;
	}
	gss_release_buffer(&min, &out);
	if (src != GSS_C_NO_NAME)
		gss_release_name(&min, &src);
	if (ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
	free(tok);
	return res;
}

int
http_auth_csrf(const struct http_auth *a, const char *principal, char *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	static const char label[] = "gss-xlicend remove\n";
	unsigned char msg[sizeof(label) + LIMIT_STRING];
	size_t n = strlen(principal);

	out[0] = '\0';
	if (n > LIMIT_STRING)
		return XLICEN_E_INTERNAL;
	/* A label first: the secret signs nothing else today, but a later
	 * use of it cannot collide with this one. */
	memcpy(msg, label, sizeof(label) - 1);
	memcpy(msg + sizeof(label) - 1, principal, n);
	if (HMAC(EVP_sha256(), a->secret, sizeof(a->secret), msg,
	    sizeof(label) - 1 + n, mac, &maclen) == NULL || maclen != 32)
		return XLICEN_E_INTERNAL;
	hex_encode(mac, maclen, out);
	return 0;
}

int
http_auth_csrf_ok(const struct http_auth *a, const char *principal,
    const char *token)
{
	char want[HTTP_AUTH_CSRF_LEN + 1];

	if (token == NULL || strlen(token) != HTTP_AUTH_CSRF_LEN ||
	    http_auth_csrf(a, principal, want) != 0)
		return 0;
	return CRYPTO_memcmp(want, token, HTTP_AUTH_CSRF_LEN) == 0;
}
