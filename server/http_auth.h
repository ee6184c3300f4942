/*
 * The status page's sign-on (http.c): HTTP Negotiate (SPNEGO, RFC 4559)
 * with the server's own GSS acceptor, and the per-principal token that
 * guards its one state-changing request (POST /remove) against
 * cross-site requests.
 *
 * The keys are an HTTP/host service principal's, read from [http] keytab
 * (default: the server's keytab) into a MEMORY: keytab before the
 * privilege drop, like the license port's.  Each request carries its own
 * AP-REQ (Kerberos through SPNEGO completes in one round trip), so no
 * context or cookie outlives a request; the acceptor's replay cache
 * refuses an Authorization header sent twice.
 */
#ifndef XLICEN_HTTP_AUTH_H
#define XLICEN_HTTP_AUTH_H

#include <stddef.h>

#include "config.h"

struct http_auth;

/* What a request's Authorization header gave. */
enum http_auth_result {
	HTTP_AUTH_OK = 0,	/* a principal, authenticated */
	HTTP_AUTH_NONE,		/* no header, or another scheme: 401 */
	HTTP_AUTH_MALFORMED,	/* not base64, too long, not a GSS token
				 * the acceptor can read: 400 */
	HTTP_AUTH_REFUSED,	/* a token the acceptor refused (replayed,
				 * expired, another service's key, more
				 * than one round): 401 */
	HTTP_AUTH_UNAVAILABLE,	/* the endpoint has no acceptor
				 * credentials (no HTTP/host key): 503 */
};

/* The CSRF token: lowercase hex of an HMAC-SHA256. */
#define HTTP_AUTH_CSRF_LEN	64

/*
 * Before the privilege drop: copy the keys of cfg->http_keytab (NULL:
 * cfg->keytab, NULL: the default keytab) into a MEMORY: keytab of the
 * endpoint's own, and remember cfg->http_service.  Logs "http: keytab
 * NAME: N key(s) copied into memory".  Returns 0, XLICEN_E_CONFIG (the
 * keytab cannot be read, has no keys, or is an [http] keytab file group
 * or others may read; logged) or XLICEN_E_NOMEM.
 */
int http_auth_load(const struct server_config *cfg, struct http_auth **out);

/*
 * After the privilege drop (so the replay cache is the service user's):
 * acquire the acceptor credentials for [http] service ("HTTP": any
 * HTTP/host key of the keytab) and make the random CSRF secret.  Without
 * such a key, a warning is logged and every sign-on is
 * HTTP_AUTH_UNAVAILABLE (the endpoint still serves /metrics).  Returns 0
 * or XLICEN_E_IO (no random bytes; logged).
 */
int http_auth_start(struct http_auth *a);

/* Release everything.  Accepts NULL. */
void http_auth_free(struct http_auth *a);

/*
 * Authenticate one request from its Authorization header (authz; NULL:
 * none).  HTTP_AUTH_OK: principal (plen bytes) is the client's name as
 * the license port shows it ("alice@XLICEN.TEST").  Whatever the result,
 * reply (replylen bytes) gets the base64 of the acceptor's output token
 * ("" when it had none): the caller sends it back in WWW-Authenticate
 * (mutual authentication, or a KRB-ERROR).  why (whylen bytes) says
 * what went wrong, for the log.  Thread-safe.
 */
enum http_auth_result http_auth_negotiate(struct http_auth *a,
    const char *authz, char *principal, size_t plen, char *reply,
    size_t replylen, char *why, size_t whylen);

/* The CSRF token of principal into out (HTTP_AUTH_CSRF_LEN + 1 bytes):
 * HMAC-SHA256 under the secret made at start, so a token is good until
 * the server restarts.  0 or XLICEN_E_INTERNAL. */
int http_auth_csrf(const struct http_auth *a, const char *principal,
    char *out);

/* Whether token is principal's CSRF token (compared in constant time). */
int http_auth_csrf_ok(const struct http_auth *a, const char *principal,
    const char *token);

#endif
