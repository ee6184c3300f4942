/*
 * Server discovery for the client library (see discover.h): the server
 * list grammar and name resolution.  Kept apart from the session state
 * machine so that DNS SRV lookups (a later step) change only this file.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "discover.h"
#include "limits.h"
#include "xlicen_errors.h"

static void
discover_seterr(char *err, size_t errlen, const char *fmt, const char *arg)
{
	if (errlen > 0)
		snprintf(err, errlen, fmt, arg);
}

/* Host names and address literals: letters, digits and "-._:%".  Nothing
 * that could change the meaning of the GSS name "service@host" (no '@',
 * '/', blanks or control bytes). */
static int
discover_host_ok(const char *h, size_t n)
{
	size_t i;
	unsigned char c;

	if (n == 0 || n >= sizeof(((struct discover_server *)0)->host))
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == ':' || c == '%'))
			return 0;
	}
	return 1;
}

/* A decimal port 1..65535 of n bytes, no sign, no blanks. */
static int
discover_port_ok(const char *p, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* Parse one entry s[0..n) (already trimmed) into *srv. */
static int
discover_parse_one(const char *s, size_t n, struct discover_server *srv,
    char *err, size_t errlen)
{
	const char *host = s, *port = NULL, *close_br, *colon;
	size_t hlen = n, plen = 0, ncolon = 0, i;
	char shown[300];

	snprintf(shown, sizeof(shown), "%.*s", (int)(n < 280 ? n : 280), s);
	memset(srv, 0, sizeof(*srv));
	if (s[0] == '[') {
		close_br = memchr(s, ']', n);
		if (close_br == NULL) {
			discover_seterr(err, errlen, "server \"%s\": no closing ]",
			    shown);
			return XLICEN_E_INVALID;
		}
		host = s + 1;
		hlen = (size_t)(close_br - host);
		i = (size_t)(close_br - s) + 1;
		if (i < n) {
			if (s[i] != ':') {
				discover_seterr(err, errlen, "server \"%s\": "
				    "expected :PORT after ]", shown);
				return XLICEN_E_INVALID;
			}
			port = s + i + 1;
			plen = n - i - 1;
		}
	} else {
		for (i = 0; i < n; i++)
			if (s[i] == ':')
				ncolon++;
		/* Two or more colons without brackets: an IPv6 literal, which
		 * leaves no room for a port. */
		if (ncolon == 1) {
			colon = memchr(s, ':', n);
			hlen = (size_t)(colon - s);
			port = colon + 1;
			plen = n - hlen - 1;
		}
	}
	if (!discover_host_ok(host, hlen)) {
		discover_seterr(err, errlen, "server \"%s\": bad host name", shown);
		return XLICEN_E_INVALID;
	}
	memcpy(srv->host, host, hlen);
	srv->host[hlen] = '\0';
	if (port != NULL) {
		if (!discover_port_ok(port, plen)) {
			discover_seterr(err, errlen, "server \"%s\": port must be "
			    "a number from 1 to 65535", shown);
			return XLICEN_E_INVALID;
		}
		memcpy(srv->port, port, plen);
		srv->port[plen] = '\0';
		srv->port_given = 1;
	} else {
		snprintf(srv->port, sizeof(srv->port), "%d", XLICEN_DEFAULT_PORT);
	}
	return 0;
}

int
discover_parse(const char *spec, struct discover_list *out, char *err,
    size_t errlen)
{
	struct discover_list l = { NULL, 0 };
	const char *p, *end, *e;
	size_t n;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if (spec == NULL) {
		discover_seterr(err, errlen, "%s", "no server list");
		return XLICEN_E_INVALID;
	}
	l.v = calloc(DISCOVER_MAX_SERVERS, sizeof(*l.v));
	if (l.v == NULL)
		return XLICEN_E_NOMEM;
	p = spec;
	for (;;) {
		end = strchr(p, ',');
		e = end != NULL ? end : p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		n = (size_t)(e - p);
		if (n == 0) {
			discover_seterr(err, errlen, "server list \"%s\": "
			    "empty entry", spec);
			rc = XLICEN_E_INVALID;
			goto out;
		}
		if (l.n == DISCOVER_MAX_SERVERS) {
			discover_seterr(err, errlen, "server list: more than "
			    "%s servers", "32");
			rc = XLICEN_E_INVALID;
			goto out;
		}
		if ((rc = discover_parse_one(p, n, &l.v[l.n], err, errlen)) != 0)
			goto out;
		l.n++;
		if (end == NULL)
			break;
		p = end + 1;
	}
	*out = l;
	l.v = NULL;
out:
	free(l.v);
	return rc;
}

int
discover_default(struct discover_list *out, char *err, size_t errlen)
{
	const char *env = getenv("XLICEN_SERVER");

	if (env != NULL && env[0] != '\0')
		return discover_parse(env, out, err, errlen);
	return discover_parse("localhost", out, err, errlen);
}

void
discover_list_free(struct discover_list *l)
{
	if (l == NULL)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
discover_resolve(const struct discover_server *srv,
    struct discover_addr *addrs, size_t *n, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct discover_addr *a;
	int rc;

	*n = 0;
	if (errlen > 0)
		err[0] = '\0';
	/*
	 * Where DNS SRV will go: for an entry without an explicit port,
	 * look up _gss-xlicen._tcp.<host> first and resolve each target in
	 * priority/weight order into this same array; fall back to the
	 * plain name below when there is no SRV record.
	 */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	/* No AI_ADDRCONFIG: it drops ::1 and 127.0.0.1 on a host whose only
	 * interface is loopback, which is exactly a test machine. */
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(srv->host, srv->port, &hints, &res);
	if (rc == EAI_MEMORY)
		return XLICEN_E_NOMEM;
	if (rc != 0) {
		discover_seterr(err, errlen, "%s", rc == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(rc));
		return XLICEN_E_CONNECT;
	}
	for (ai = res; ai != NULL && *n < DISCOVER_MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(a->ss))
			continue;
		a = &addrs[*n];
		memset(a, 0, sizeof(*a));
		memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
		a->len = ai->ai_addrlen;
		a->family = ai->ai_family;
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr,
			    a->shown, sizeof(a->shown));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
			    a->shown, sizeof(a->shown));
		(*n)++;
	}
	freeaddrinfo(res);
	if (*n == 0) {
		discover_seterr(err, errlen, "%s", "no IPv4 or IPv6 address");
		return XLICEN_E_CONNECT;
	}
	return 0;
}

void
discover_server_format(const struct discover_server *srv, char *out,
    size_t outlen)
{
	if (strchr(srv->host, ':') != NULL)
		snprintf(out, outlen, "[%s]:%s", srv->host, srv->port);
	else
		snprintf(out, outlen, "%s:%s", srv->host, srv->port);
}
