/*
 * The HTTP endpoint (http.h): libmicrohttpd parses and limits the
 * requests on its own threads; we route them.  Nothing here touches the
 * event loop's state: /metrics is rendered by metrics.c from atomics and
 * the snapshot the loop publishes, and the status page's data and
 * removals are jobs the loop carries out (http_jobs.h).
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "err.h"
#include "http.h"
#include "http_auth.h"
#include "http_jobs.h"
#include "http_page.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"

#define HTTP_METRICS_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct http_server {
	int fds[LIMIT_HTTP_LISTEN];
	int families[LIMIT_HTTP_LISTEN];
	int nfds;
	struct MHD_Daemon *d[LIMIT_HTTP_LISTEN];
	struct config_net allow[LIMIT_HTTP_ALLOW];
	int nallow;
	struct http_auth *auth;		/* the page's sign-on */
	int public_status;		/* [http] public_status */
	int metrics_auth;		/* [http] metrics_auth */
};

/* "addr:port" or "[v6addr]:port" -> host and port (checked by config.c's
 * config_check_listen already). */
static int
http_split(const char *spec, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char *colon, *close;

	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL || close[1] != ':' ||
		    (size_t)(close - spec - 1) >= hostlen)
			return XLICEN_E_CONFIG;
		snprintf(host, hostlen, "%.*s", (int)(close - spec - 1), spec + 1);
		snprintf(port, portlen, "%s", close + 2);
		return 0;
	}
	if ((colon = strrchr(spec, ':')) == NULL ||
	    (size_t)(colon - spec) >= hostlen)
		return XLICEN_E_CONFIG;
	snprintf(host, hostlen, "%.*s", (int)(colon - spec), spec);
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

/* "addr:port" of a bound socket, for the log. */
static void
http_show(int fd, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char h[INET6_ADDRSTRLEN] = "?";

	snprintf(out, outlen, "?");
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *s4 = (void *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		snprintf(out, outlen, "%s:%u", h, ntohs(s4->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		snprintf(out, outlen, "[%s]:%u", h, ntohs(s6->sin6_port));
	}
}

/* Bind the sockets of one [http] listen address. */
static int
http_bind(struct http_server *h, const char *spec)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[32], shown[80];
	int fd, one = 1, rc;

	if (http_split(spec, host, sizeof(host), port, sizeof(port)) != 0) {
		log_msg(LOG_ERR, "[http] listen \"%s\": expected ADDR:PORT or "
		    "[ADDR]:PORT", spec);
		return XLICEN_E_CONFIG;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_msg(LOG_ERR, "[http] listen \"%s\": %s", spec,
		    gai_strerror(rc));
		return XLICEN_E_CONFIG;
	}
	rc = 0;
	for (ai = res; ai != NULL && rc == 0; ai = ai->ai_next) {
		if (h->nfds >= LIMIT_HTTP_LISTEN) {
			log_msg(LOG_ERR, "[http] listen: more than %d sockets",
			    LIMIT_HTTP_LISTEN);
			rc = XLICEN_E_CONFIG;
			break;
		}
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
		    listen(fd, LIMIT_HTTP_CONNS) != 0) {
			log_msg(LOG_ERR, "[http] cannot listen on %s: %s", spec,
			    strerror(errno));
			close(fd);
			rc = XLICEN_E_CONFIG;
			break;
		}
		http_show(fd, shown, sizeof(shown));
		log_msg(LOG_INFO, "http: listening on %s", shown);
		h->families[h->nfds] = ai->ai_family;
		h->fds[h->nfds++] = fd;
	}
	freeaddrinfo(res);
	return rc;
}

int
http_listen(const struct server_config *cfg, struct http_server **out)
{
	struct http_server *h;
	char why[96];
	int i, rc = 0;

	*out = NULL;
	if (cfg->nhttp_listen == 0)
		return 0;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return XLICEN_E_NOMEM;
	for (i = 0; i < cfg->nhttp_allow && rc == 0; i++)
		if ((rc = config_parse_net(cfg->http_allow[i],
		    &h->allow[h->nallow++], why, sizeof(why))) != 0)
			log_msg(LOG_ERR, "[http] allow \"%s\": %s",
			    cfg->http_allow[i], why);
	for (i = 0; i < cfg->nhttp_listen && rc == 0; i++)
		rc = http_bind(h, cfg->http_listen[i]);
	h->public_status = cfg->http_public_status;
	h->metrics_auth = cfg->http_metrics_auth;
	/* The keys, like the license port's, before the privilege drop. */
	if (rc == 0)
		rc = http_auth_load(cfg, &h->auth);
	if (rc != 0) {
		http_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

/* Whether the client's address is in the allow list (all are if it is
 * empty). */
static int
http_allowed(const struct http_server *h, const struct sockaddr *sa)
{
	const unsigned char *a;
	unsigned full, rest;
	int i, family;

	if (h->nallow == 0)
		return 1;
	if (sa == NULL)
		return 0;
	family = sa->sa_family;
	if (family == AF_INET)
		a = (const unsigned char *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	else if (family == AF_INET6)
		a = ((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr.s6_addr;
	else
		return 0;
	for (i = 0; i < h->nallow; i++) {
		if (h->allow[i].family != family)
			continue;
		full = h->allow[i].bits / 8;
		rest = h->allow[i].bits % 8;
		if (memcmp(a, h->allow[i].addr, full) != 0)
			continue;
		if (rest != 0 && ((a[full] ^ h->allow[i].addr[full]) &
		    (0xffu << (8 - rest)) & 0xffu) != 0)
			continue;
		return 1;
	}
	return 0;
}

/* A small text/plain answer (errors). */
static enum MHD_Result
http_reply_text(struct MHD_Connection *conn, unsigned status,
    const char *text, const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* What the routing learnt of one request; a POST's lives across the
 * library's calls for its body (freed by http_completed). */
struct http_req {
	char principal[LIMIT_STRING + 1];	/* "": not signed in */
	char token[LIMIT_HTTP_NEGOTIATE_B64 + 4];	/* mutual auth */
	struct MHD_PostProcessor *pp;
	char lease[LIMIT_LEASE_ID + 1];
	char csrf[HTTP_AUTH_CSRF_LEN + 1];
	size_t body;			/* bytes of the body seen */
	int bad;			/* a field too long, the body too big */
};

/* The headers every answer of ours carries (r: after a sign-on, the
 * acceptor's token for mutual authentication). */
static void
http_common_headers(struct MHD_Response *resp, const struct http_req *r)
{
	char www[sizeof(r->token) + 16];

	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r != NULL && r->token[0] != '\0') {
		snprintf(www, sizeof(www), "Negotiate %s", r->token);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    www);
	}
}

/* Queue an HTML answer; takes html (malloc'd) over. */
static enum MHD_Result
http_reply_html(struct MHD_Connection *conn, unsigned status, char *html,
    size_t len, const struct http_req *r, const char *location)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, html,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(html);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/html; charset=utf-8");
	/* Inline style and the refresh script only; forms post here only;
	 * no framing (a Remove button under someone else's page). */
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'none'; style-src 'unsafe-inline'; "
	    "script-src 'unsafe-inline'; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	http_common_headers(resp, r);
	if (location != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
		    location);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A short HTML page titled title with text (ours, not escaped). */
static enum MHD_Result
http_reply_message(struct MHD_Connection *conn, unsigned status,
    const char *title, const char *text, const struct http_req *r,
    const char *location)
{
	char *html;
	size_t len;

	if (http_page_message(title, text, &html, &len) != 0)
		return http_reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n", NULL);
	return http_reply_html(conn, status, html, len, r, location);
}

/* 401 with the Negotiate challenge (and the acceptor's token, if it had
 * one: a KRB-ERROR) and the page saying how to sign on. */
static enum MHD_Result
http_reply_signin(struct MHD_Connection *conn, const char *token)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char www[LIMIT_HTTP_NEGOTIATE_B64 + 16], *html;
	size_t len;

	if (http_page_message("401 Unauthorized: Kerberos sign-on needed",
	    http_page_signin_text, &html, &len) != 0)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(len, html,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(html);
		return MHD_NO;
	}
	snprintf(www, sizeof(www), "Negotiate%s%s",
	    token[0] != '\0' ? " " : "", token);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, www);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/html; charset=utf-8");
	http_common_headers(resp, NULL);
	ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* GET or HEAD /metrics. */
static enum MHD_Result
http_metrics(struct http_server *h, struct MHD_Connection *conn,
    struct http_req *req)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	/* [http] metrics_auth: the admin ACL's only. */
	if (h->metrics_auth && (rc = http_page_is_admin(req->principal)) != 1)
		return rc == 0 ? http_reply_text(conn, MHD_HTTP_FORBIDDEN,
		    "403 forbidden: not on the admin ACL ([http] "
		    "metrics_auth)\n", NULL) : http_reply_text(conn,
		    MHD_HTTP_SERVICE_UNAVAILABLE, "503 the server is busy\n",
		    NULL);
	if ((f = open_memstream(&text, &len)) == NULL)
		return http_reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n", NULL);
	rc = metrics_render(f);
	if (fclose(f) != 0 || rc != 0) {
		free(text);
		return http_reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n", NULL);
	}
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    HTTP_METRICS_TYPE);
	http_common_headers(r, req);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* GET or HEAD / and /admin: the status page. */
static enum MHD_Result
http_status(struct http_server *h, struct MHD_Connection *conn,
    struct http_req *req)
{
	char *html;
	size_t len;
	int rc;

	rc = http_page_status(h->auth, req->principal, &html, &len);
	if (rc == XLICEN_E_TIMEOUT)
		return http_reply_message(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "503 Service Unavailable", "<p>The server is busy; try "
		    "again.</p>\n", req, NULL);
	if (rc != 0)
		return http_reply_message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "500 Internal Server Error", "<p>The server could not "
		    "read its database (see its log).</p>\n", req, NULL);
	return http_reply_html(conn, MHD_HTTP_OK, html, len, req, NULL);
}

/* One field of the Remove form (application/x-www-form-urlencoded, the
 * library's post processor decodes it), possibly in pieces. */
static enum MHD_Result
http_form_field(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *filename, const char *content_type,
    const char *transfer_encoding, const char *data, uint64_t off,
    size_t size)
{
	struct http_req *r = cls;
	char *dst;
	size_t cap;

	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	if (strcmp(key, "lease") == 0) {
		dst = r->lease;
		cap = sizeof(r->lease);
	} else if (strcmp(key, "csrf") == 0) {
		dst = r->csrf;
		cap = sizeof(r->csrf);
	} else {
		return MHD_YES;		/* other fields are ignored */
	}
	if (off + size >= cap || off != strlen(dst)) {
		r->bad = 1;
		return MHD_YES;
	}
	memcpy(dst + off, data, size);
	dst[off + size] = '\0';
	return MHD_YES;
}

/* The cross-site rule of POST /remove: an Origin header, if sent, names
 * this server (the Host the request was sent to); Sec-Fetch-Site, if
 * sent, is same-origin; and the form's token is the principal's. */
static int
http_same_site(struct http_server *h, struct MHD_Connection *conn,
    const struct http_req *r)
{
	const char *origin, *site, *host;
	char want[LIMIT_STRING + 16];

	origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Sec-Fetch-Site");
	host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	if (origin != NULL) {
		if (host == NULL || strlen(host) > LIMIT_STRING)
			return 0;
		snprintf(want, sizeof(want), "http://%s", host);
		if (strcmp(origin, want) != 0) {
			snprintf(want, sizeof(want), "https://%s", host);
			if (strcmp(origin, want) != 0)
				return 0;
		}
	}
	if (site != NULL && strcmp(site, "same-origin") != 0)
		return 0;
	return http_auth_csrf_ok(h->auth, r->principal, r->csrf);
}

/* POST /remove, once its body is read. */
static enum MHD_Result
http_remove_finish(struct http_server *h, struct MHD_Connection *conn,
    struct http_req *r)
{
	int rc;

	if (r->bad)
		return http_reply_message(conn, MHD_HTTP_BAD_REQUEST,
		    "400 Bad Request", "<p>The form is not one this page "
		    "sends.</p>\n", r, NULL);
	if (!http_same_site(h, conn, r)) {
		log_msg(LOG_NOTICE, "http: POST /remove by %s refused: a "
		    "cross-site request or a wrong token", r->principal);
		return http_reply_message(conn, MHD_HTTP_FORBIDDEN,
		    "403 Forbidden", "<p>This request did not come from the "
		    "status page (its token or its origin is wrong). Reload "
		    "<a href=\"/admin\">the page</a> and try again.</p>\n", r,
		    NULL);
	}
	rc = http_page_remove(r->principal, r->lease);
	switch (rc) {
	case 0:
		return http_reply_message(conn, MHD_HTTP_SEE_OTHER,
		    "303 See Other", "<p>Removed. <a href=\"/admin\">Back to "
		    "the status page</a>.</p>\n", r, "/admin");
	case XLICEN_E_NOT_AUTHORIZED:
		return http_reply_message(conn, MHD_HTTP_FORBIDDEN,
		    "403 Forbidden", "<p>You are not on the admin ACL of the "
		    "server's policy.</p>\n", r, NULL);
	case XLICEN_E_NO_LEASE:
		return http_reply_message(conn, MHD_HTTP_NOT_FOUND,
		    "404 Not Found", "<p>No such lease (it was released or "
		    "expired). <a href=\"/admin\">Back</a>.</p>\n", r, NULL);
	case XLICEN_E_BAD_VALUE:
		return http_reply_message(conn, MHD_HTTP_BAD_REQUEST,
		    "400 Bad Request", "<p>No lease named.</p>\n", r, NULL);
	case XLICEN_E_TIMEOUT:
		return http_reply_message(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "503 Service Unavailable", "<p>The server is busy; try "
		    "again.</p>\n", r, NULL);
	default:
		return http_reply_message(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "500 Internal Server Error", "<p>The removal failed (see "
		    "the server's log).</p>\n", r, NULL);
	}
}

/* Who signs on where. */
enum http_signon {
	HTTP_SIGNON_NEVER,	/* /metrics unless [http] metrics_auth */
	HTTP_SIGNON_OPTIONAL,	/* / with [http] public_status: used if sent */
	HTTP_SIGNON_ALWAYS,
};

/* The paths served: a new page is one row (and its handler). */
static const struct http_path {
	const char *path;
	const char *methods;	/* for Allow */
	int post;		/* POST (else GET and HEAD) */
	enum MHD_Result (*serve)(struct http_server *h,
	    struct MHD_Connection *conn, struct http_req *r);
} http_paths[] = {
	{ "/metrics", "GET, HEAD", 0, http_metrics },
	{ "/", "GET, HEAD", 0, http_status },
	{ "/admin", "GET, HEAD", 0, http_status },
	{ "/remove", "POST", 1, NULL },
};
#define HTTP_NPATHS	(sizeof(http_paths) / sizeof(http_paths[0]))

static enum http_signon
http_signon_of(const struct http_server *h, const char *path)
{
	if (strcmp(path, "/metrics") == 0)
		return h->metrics_auth ? HTTP_SIGNON_ALWAYS : HTTP_SIGNON_NEVER;
	if (strcmp(path, "/") == 0 && h->public_status)
		return HTTP_SIGNON_OPTIONAL;
	return HTTP_SIGNON_ALWAYS;
}

/* The sign-on a path wants: 0 (r->principal set, or "" where none is
 * needed), or an answer was queued (*ret). */
static int
http_signon(struct http_server *h, struct MHD_Connection *conn,
    const struct http_path *p, struct http_req *r, enum MHD_Result *ret)
{
	enum http_signon want = http_signon_of(h, p->path);
	enum http_auth_result res;
	const char *authz;
	char why[512];

	if (want == HTTP_SIGNON_NEVER)
		return 0;
	authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (authz == NULL && want == HTTP_SIGNON_OPTIONAL)
		return 0;
	res = http_auth_negotiate(h->auth, authz, r->principal,
	    sizeof(r->principal), r->token, sizeof(r->token), why,
	    sizeof(why));
	switch (res) {
	case HTTP_AUTH_OK:
		log_debug("http: %s signed on for %s", r->principal, p->path);
		return 0;
	case HTTP_AUTH_NONE:
		*ret = http_reply_signin(conn, "");
		return 1;
	case HTTP_AUTH_UNAVAILABLE:
		log_msg(LOG_NOTICE, "http: no sign-on for %s: %s", p->path,
		    why);
		*ret = http_reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "503 service unavailable: this server has no HTTP/host "
		    "key for the sign-on (see its log)\n", NULL);
		return 1;
	case HTTP_AUTH_MALFORMED:
		log_msg(LOG_NOTICE, "http: a malformed Negotiate token for "
		    "%s: %s", p->path, why);
		*ret = http_reply_text(conn, MHD_HTTP_BAD_REQUEST,
		    "400 bad request: the Negotiate token is malformed\n",
		    NULL);
		return 1;
	default:
		log_msg(LOG_NOTICE, "http: sign-on refused for %s: %s",
		    p->path, why);
		*ret = http_reply_signin(conn, r->token);
		return 1;
	}
}

/* The first call of a POST /remove (signed on): keep its state for the
 * calls with its body. */
static enum MHD_Result
http_remove_begin(struct MHD_Connection *conn, const struct http_req *tmp,
    void **req_cls)
{
	struct http_req *r;

	if ((r = malloc(sizeof(*r))) == NULL)
		return MHD_NO;
	*r = *tmp;
	r->pp = MHD_create_post_processor(conn, LIMIT_HTTP_POST_BYTES,
	    http_form_field, r);
	if (r->pp == NULL) {
		free(r);
		return http_reply_text(conn, MHD_HTTP_BAD_REQUEST,
		    "400 bad request: expected a form "
		    "(application/x-www-form-urlencoded)\n", NULL);
	}
	*req_cls = r;
	return MHD_YES;
}

/* Every request: the allow list, then the path, then the method, then
 * the sign-on.  A POST comes back with its body (r set), and once more
 * with none left. */
static enum MHD_Result
http_route(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http_server *h = cls;
	const union MHD_ConnectionInfo *ci;
	const struct http_path *p = NULL;
	struct http_req *r = *req_cls, tmp;
	enum MHD_Result ret;
	size_t i;

	(void)version;
	if (r != NULL) {
		if (*upload_data_size == 0)
			return http_remove_finish(h, conn, r);
		r->body += *upload_data_size;
		if (r->body > LIMIT_HTTP_POST_BYTES ||
		    MHD_post_process(r->pp, upload_data, *upload_data_size) !=
		    MHD_YES)
			r->bad = 1;
		*upload_data_size = 0;
		return MHD_YES;
	}
	ci = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!http_allowed(h, ci != NULL ? ci->client_addr : NULL))
		return http_reply_text(conn, MHD_HTTP_FORBIDDEN,
		    "403 forbidden: this address is not in [http] allow\n",
		    NULL);
	for (i = 0; i < HTTP_NPATHS && p == NULL; i++)
		if (strcmp(url, http_paths[i].path) == 0)
			p = &http_paths[i];
	if (p == NULL)
		return http_reply_text(conn, MHD_HTTP_NOT_FOUND,
		    "404 not found (this server has /, /admin and /metrics)\n",
		    NULL);
	if (p->post ? strcmp(method, MHD_HTTP_METHOD_POST) != 0 :
	    strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    p->post ? "405 method not allowed (POST)\n" :
		    "405 method not allowed (GET or HEAD)\n", p->methods);
	memset(&tmp, 0, sizeof(tmp));
	if (http_signon(h, conn, p, &tmp, &ret) != 0)
		return ret;
	if (p->post)
		return http_remove_begin(conn, &tmp, req_cls);
	return p->serve(h, conn, &tmp);
}

/* A request ended: a POST's state goes. */
static void
http_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *req_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r == NULL)
		return;
	if (r->pp != NULL)
		MHD_destroy_post_processor(r->pp);
	free(r);
	*req_cls = NULL;
}

/* The library's own messages (bad requests it refused, ...). */
static void
http_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_msg(LOG_NOTICE, "http: %s", line);
}

int
http_start(struct http_server *h)
{
	unsigned flags;
	int i;

	if (h == NULL)
		return 0;
	if (metrics_init() != 0 || http_jobs_init() != 0)
		return XLICEN_E_IO;
	if (http_auth_start(h->auth) != 0)
		return XLICEN_E_IO;
	for (i = 0; i < h->nfds; i++) {
		flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		    MHD_USE_ERROR_LOG |
		    (h->families[i] == AF_INET6 ? MHD_USE_IPv6 : 0);
		/* The logger first: the library's messages about the options
		 * that follow go to it. */
		h->d[i] = MHD_start_daemon(flags, 0, NULL, NULL, http_route, h,
		    MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL,
		    MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
		    MHD_OPTION_LISTEN_SOCKET, h->fds[i],
		    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		    (size_t)LIMIT_HTTP_CONN_MEMORY,
		    MHD_OPTION_CONNECTION_LIMIT, (unsigned)LIMIT_HTTP_CONNS,
		    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		    (unsigned)LIMIT_HTTP_CONNS_PER_IP,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)LIMIT_HTTP_TIMEOUT_S,
		    MHD_OPTION_END);
		if (h->d[i] == NULL) {
			log_msg(LOG_ERR, "http: cannot start serving");
			return XLICEN_E_IO;
		}
		/* The daemon owns the socket now (closed by its stop). */
		h->fds[i] = -1;
	}
	return 0;
}

void
http_free(struct http_server *h)
{
	int i;

	if (h == NULL)
		return;
	/* A thread waiting for the loop (which has stopped) gives up. */
	http_jobs_stop();
	for (i = 0; i < h->nfds; i++) {
		if (h->d[i] != NULL)
			MHD_stop_daemon(h->d[i]);
		if (h->fds[i] >= 0)
			close(h->fds[i]);
	}
	http_auth_free(h->auth);
	free(h);
}
