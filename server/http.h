/*
 * The HTTP endpoint ([http] in gss-xlicend.conf): GET /metrics for
 * Prometheus (metrics.c renders it), served by libmicrohttpd on threads
 * of its own, one per listening socket, so that the license protocol's
 * event loop never waits on HTTP.  The request parser and its limits
 * (LIMIT_HTTP_* in common/limits.h) are the library's; this module routes
 * (404 for another path, 405 for another method) and applies the
 * [http] allow list (403).  Off unless [http] listen is given.
 *
 * Start-up is in two steps like the license port's: the sockets are bound
 * before the privilege drop (http_listen), the threads started after it
 * (http_start).  A status page (the next step of issue 15) adds its paths
 * as rows of http.c's http_paths.
 */
#ifndef XLICEN_HTTP_H
#define XLICEN_HTTP_H

#include "config.h"

struct http_server;

/*
 * Bind every cfg->http_listen address (non-blocking, SO_REUSEADDR, IPv6
 * sockets IPv6-only) and parse cfg->http_allow; logs "http: listening on
 * ADDR:PORT" for each socket.  *out is NULL when [http] listen is not
 * given (the endpoint is off; not an error).  Returns 0, XLICEN_E_CONFIG
 * (an address that does not resolve or cannot be bound, logged) or
 * XLICEN_E_NOMEM.
 */
int http_listen(const struct server_config *cfg, struct http_server **out);

/*
 * Start serving on the sockets of h (one libmicrohttpd daemon and thread
 * per socket) and make metrics.c's eventfd for the loop (metrics_init).
 * h NULL: nothing.  Returns 0, XLICEN_E_IO (logged).
 */
int http_start(struct http_server *h);

/* Stop the threads, close the sockets and free h.  Accepts NULL. */
void http_free(struct http_server *h);

#endif
