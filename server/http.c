/*
 * The HTTP endpoint (http.h): libmicrohttpd parses and limits the
 * requests on its own threads; we route them.  Nothing here touches the
 * event loop's state: /metrics is rendered by metrics.c from atomics and
 * the snapshot the loop publishes.
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

/* GET or HEAD /metrics. */
static enum MHD_Result
http_metrics(struct MHD_Connection *conn)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

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
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* The paths served, each with GET and HEAD: a new page is one row (and
 * its handler). */
static const struct http_path {
	const char *path;
	enum MHD_Result (*serve)(struct MHD_Connection *conn);
} http_paths[] = {
	{ "/metrics", http_metrics },
};
#define HTTP_NPATHS	(sizeof(http_paths) / sizeof(http_paths[0]))

/* Every request: the allow list, then the path, then the method. */
static enum MHD_Result
http_route(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	const struct http_server *h = cls;
	const union MHD_ConnectionInfo *ci;
	const struct http_path *p = NULL;
	size_t i;

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
		    "404 not found (this server has /metrics)\n", NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "405 method not allowed (GET or HEAD)\n", "GET, HEAD");
	return p->serve(conn);
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
	if (metrics_init() != 0)
		return XLICEN_E_IO;
	for (i = 0; i < h->nfds; i++) {
		flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		    MHD_USE_ERROR_LOG |
		    (h->families[i] == AF_INET6 ? MHD_USE_IPv6 : 0);
		/* The logger first: the library's messages about the options
		 * that follow go to it. */
		h->d[i] = MHD_start_daemon(flags, 0, NULL, NULL, http_route, h,
		    MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL,
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
	for (i = 0; i < h->nfds; i++) {
		if (h->d[i] != NULL)
			MHD_stop_daemon(h->d[i]);
		if (h->fds[i] >= 0)
			close(h->fds[i]);
	}
	free(h);
}
