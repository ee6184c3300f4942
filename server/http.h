/*
 * The HTTP endpoint ([http] in gss-xlicend.conf): GET /metrics for
 * Prometheus (metrics.c renders it) and the status page (/, /admin, POST
 * /remove: http_page.c, its sign-on http_auth.c), served by
 * libmicrohttpd on threads of its own, one per listening socket, so that
 * the license protocol's event loop never waits on HTTP.  The request
 * parser and its limits (LIMIT_HTTP_* in common/limits.h) are the
 * library's, and so is the form parser of POST /remove; this module
 * routes (404 for another path, 405 for another method), applies the
 * [http] allow list (403) and asks for the sign-on a path needs (401,
 * 400, 503).  Off unless [http] listen is given.
 *
 * Start-up is in two steps like the license port's: the sockets are bound
 * and the HTTP keytab read before the privilege drop (http_listen), the
 * acceptor credentials acquired and the threads started after it
 * (http_start).  A new page is a row of http.c's http_paths.
 */
#ifndef XLICEN_HTTP_H
#define XLICEN_HTTP_H

#include "config.h"

struct http_server;

/*
 * Bind every cfg->http_listen address (non-blocking, SO_REUSEADDR, IPv6
 * sockets IPv6-only), parse cfg->http_allow and read the sign-on's keytab
 * (http_auth_load); logs "http: listening on ADDR:PORT" for each socket.
 * *out is NULL when [http] listen is not given (the endpoint is off; not
 * an error).  Returns 0, XLICEN_E_CONFIG (an address that does not
 * resolve or cannot be bound, a keytab that cannot be read; logged) or
 * XLICEN_E_NOMEM.
 */
int http_listen(const struct server_config *cfg, struct http_server **out);

/*
 * Start serving on the sockets of h (one libmicrohttpd daemon and thread
 * per socket), make metrics.c's and http_jobs.c's eventfds for the loop
 * and acquire the sign-on's credentials (http_auth_start).  h NULL:
 * nothing.  Returns 0, XLICEN_E_IO (logged).
 */
int http_start(struct http_server *h);

/* Fail the requests still waiting for the loop (http_jobs_stop), stop
 * the threads, close the sockets and free h.  Accepts NULL. */
void http_free(struct http_server *h);

#endif
