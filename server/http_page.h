/*
 * The status page of the HTTP endpoint (http.c routes to it): what
 * `xlicen status` shows, and for a principal on the policy's admin ACL
 * what `xlicen holders` shows, with a Remove button per lease (a POST to
 * /remove, carrying the principal's CSRF token).  Plain HTML that works
 * without JavaScript; a small script, when it runs, reloads it every
 * HTTP_PAGE_REFRESH_S seconds while the tab is visible.  Every value
 * that came from a user or a license is HTML-escaped.
 *
 * The data comes from the event loop (http_jobs.h), at the time of the
 * request; the rendering is the HTTP thread's.
 */
#ifndef XLICEN_HTTP_PAGE_H
#define XLICEN_HTTP_PAGE_H

#include <stddef.h>

#include "http_auth.h"

#define HTTP_PAGE_REFRESH_S	10

/*
 * The status page for principal ("": nobody signed in) into *html
 * (malloc'd, *len bytes): the holders and the Remove forms (their CSRF
 * tokens from a) if principal is on the admin ACL now.  Returns 0,
 * XLICEN_E_TIMEOUT (the loop did not take the request in time),
 * XLICEN_E_DB or XLICEN_E_NOMEM.
 */
int http_page_status(const struct http_auth *a, const char *principal,
    char **html, size_t *len);

/*
 * principal removes lease, through the same path as `xlicen remove`: the
 * admin ACL (a refusal audited as "deny"), the audit record ("admin"),
 * then req_admin_remove_lease.  Returns 0, XLICEN_E_NOT_AUTHORIZED,
 * XLICEN_E_BAD_VALUE (lease empty or too long), XLICEN_E_NO_LEASE,
 * XLICEN_E_DB or XLICEN_E_TIMEOUT.
 */
int http_page_remove(const char *principal, const char *lease);

/* Whether principal is on the admin ACL now: 1, 0, or XLICEN_E_TIMEOUT. */
int http_page_is_admin(const char *principal);

/*
 * A small HTML page with title (a status line, "401 Unauthorized") and
 * text (our own, not escaped: never pass request data) into *html
 * (malloc'd).  0 or XLICEN_E_NOMEM.
 */
int http_page_message(const char *title, const char *text, char **html,
    size_t *len);

/* The text of the 401 page: how to get a Kerberos ticket and let the
 * browser use it. */
extern const char http_page_signin_text[];

#endif
