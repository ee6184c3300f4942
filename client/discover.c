/*
 * Server discovery for the client library (see discover.h): the server
 * list grammar, DNS SRV records (RFC 2782) and name resolution.  Kept
 * apart from the session state machine, which only sees a list.
 *
 * DNS answers are untrusted input: they are parsed with the resolver's
 * own ns_initparse/ns_parserr/dn_expand (bounds-checked against the
 * message), and every target must pass the same host-name check as a
 * name the user typed, since it becomes part of the GSS name
 * "gss-xlicen@TARGET".  The resolver state is per call (res_ninit), not
 * the global _res, so that separate sessions stay independent.
 */
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <sys/random.h>

#include "discover.h"
#include "err.h"
#include "limits.h"
#include "xlicen_errors.h"

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
			err_setf(err, errlen, "server \"%s\": no closing ]",
			    shown);
			return XLICEN_E_INVALID;
		}
		host = s + 1;
		hlen = (size_t)(close_br - host);
		i = (size_t)(close_br - s) + 1;
		if (i < n) {
			if (s[i] != ':') {
				err_setf(err, errlen, "server \"%s\": "
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
		err_setf(err, errlen, "server \"%s\": bad host name", shown);
		return XLICEN_E_INVALID;
	}
	memcpy(srv->host, host, hlen);
	srv->host[hlen] = '\0';
	if (port != NULL) {
		if (!discover_port_ok(port, plen)) {
			err_setf(err, errlen, "server \"%s\": port must be "
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
		err_setf(err, errlen, "%s", "no server list");
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
			err_setf(err, errlen, "server list \"%s\": "
			    "empty entry", spec);
			rc = XLICEN_E_INVALID;
			goto out;
		}
		if (l.n == DISCOVER_MAX_SERVERS) {
			err_setf(err, errlen, "server list: more than "
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
discover_srv_parse(const unsigned char *ans, size_t len,
    struct discover_srv *v, size_t max, size_t *n, char *err, size_t errlen)
{
	ns_msg msg;
	ns_rr rr;
	const unsigned char *rd;
	char target[NS_MAXDNAME];
	size_t count, i, rdlen, tlen;
	int used;

	*n = 0;
	if (errlen > 0)
		err[0] = '\0';
	if (len > NS_MAXMSG || ns_initparse(ans, (int)len, &msg) < 0) {
		err_setf(err, errlen, "%s", "malformed DNS answer");
		return XLICEN_E_BAD_VALUE;
	}
	count = (size_t)ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&msg, ns_s_an, (int)i, &rr) < 0) {
			err_setf(err, errlen, "%s", "malformed DNS answer record");
			goto bad;
		}
		if (ns_rr_type(rr) != ns_t_srv || ns_rr_class(rr) != ns_c_in)
			continue;
		rd = ns_rr_rdata(rr);
		rdlen = ns_rr_rdlen(rr);
		/* priority, weight, port, then a name of at least one byte */
		if (rdlen < 7) {
			err_setf(err, errlen, "%s", "SRV record too short");
			goto bad;
		}
		used = dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6, target,
		    sizeof(target));
		if (used < 0 || (size_t)used != rdlen - 6) {
			err_setf(err, errlen, "%s", "SRV target name malformed");
			goto bad;
		}
		tlen = strlen(target);
		if (tlen > 1 && target[tlen - 1] == '.')
			target[--tlen] = '\0';
		if (tlen == 0)
			snprintf(target, sizeof(target), ".");
		else if (strcmp(target, ".") != 0 && !discover_host_ok(target, tlen)) {
			err_setf(err, errlen, "%s", "SRV target is not a host name");
			goto bad;
		}
		if (ns_get16(rd + 4) == 0 || *n == max)
			continue;
		v[*n].priority = ns_get16(rd);
		v[*n].weight = ns_get16(rd + 2);
		v[*n].port = ns_get16(rd + 4);
		memcpy(v[*n].target, target, strlen(target) + 1);
		(*n)++;
	}
	return 0;
bad:
	*n = 0;
	return XLICEN_E_BAD_VALUE;
}

/* Move v[from] to v[to] (to <= from), shifting the ones between up. */
static void
discover_srv_move(struct discover_srv *v, size_t to, size_t from)
{
	struct discover_srv t;

	if (from == to)
		return;
	t = v[from];
	memmove(&v[to + 1], &v[to], (from - to) * sizeof(*v));
	v[to] = t;
}

void
discover_srv_order(struct discover_srv *v, size_t n,
    uint32_t (*rnd)(void *arg), void *arg)
{
	size_t i, j, a, b, pos, zeros;
	unsigned long total, run, r;

	/* By priority, keeping the answer's order among equals. */
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && v[j - 1].priority > v[i].priority; j--)
			;
		discover_srv_move(v, j, i);
	}
	for (a = 0; a < n; a = b) {
		for (b = a + 1; b < n && v[b].priority == v[a].priority; b++)
			;
		/* RFC 2782: weight-0 records first, then pick by a running
		 * sum of weights against a random number in [0, total]. */
		for (pos = a; pos + 1 < b; pos++) {
			zeros = pos;
			for (j = pos; j < b; j++)
				if (v[j].weight == 0)
					discover_srv_move(v, zeros++, j);
			total = 0;
			for (j = pos; j < b; j++)
				total += v[j].weight;
			r = total > 0 ? rnd(arg) % (total + 1) : 0;
			run = 0;
			for (j = pos; j < b; j++) {
				run += v[j].weight;
				if (run >= r)
					break;
			}
			discover_srv_move(v, pos, j < b ? j : b - 1);
		}
	}
}

int
discover_srv_list(const struct discover_srv *v, size_t n,
    struct discover_list *out, char *err, size_t errlen)
{
	struct discover_list l = { NULL, 0 };
	size_t i;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	l.v = calloc(DISCOVER_MAX_SERVERS, sizeof(*l.v));
	if (l.v == NULL)
		return XLICEN_E_NOMEM;
	for (i = 0; i < n && l.n < DISCOVER_MAX_SERVERS; i++) {
		if (strcmp(v[i].target, ".") == 0)
			continue;
		snprintf(l.v[l.n].host, sizeof(l.v[l.n].host), "%s", v[i].target);
		snprintf(l.v[l.n].port, sizeof(l.v[l.n].port), "%u", v[i].port);
		l.v[l.n].port_given = 1;
		l.n++;
	}
	if (l.n == 0) {
		free(l.v);
		err_setf(err, errlen, "%s", "DNS SRV records say there is "
		    "no license server in this domain");
		return XLICEN_E_CONNECT;
	}
	*out = l;
	return 0;
}

int
discover_domain(char *out, size_t outlen)
{
	const char *env = getenv("XLICEN_DOMAIN"), *dot;
	struct __res_state rs;
	char host[256];

	out[0] = '\0';
	if (env != NULL && env[0] != '\0') {
		if (!discover_host_ok(env, strlen(env)))
			return XLICEN_E_CONNECT;
		snprintf(out, outlen, "%s", env);
		return 0;
	}
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		dot = strchr(host, '.');
		if (dot != NULL && dot[1] != '\0' &&
		    discover_host_ok(dot + 1, strlen(dot + 1))) {
			snprintf(out, outlen, "%s", dot + 1);
			return 0;
		}
	}
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) == 0) {
		if (rs.defdname[0] != '\0' &&
		    discover_host_ok(rs.defdname, strlen(rs.defdname)))
			snprintf(out, outlen, "%s", rs.defdname);
		res_nclose(&rs);
	}
	return out[0] != '\0' ? 0 : XLICEN_E_CONNECT;
}

/* A random 32-bit number for the weighted order; no state kept. */
static uint32_t
discover_rnd(void *arg)
{
	uint32_t r;
	struct timespec ts;

	(void)arg;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
		return r;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_nsec ^ (uint32_t)getpid();
}

/* Bounded resolver: at most two tries of two seconds per name server. */
#define DISCOVER_RES_RETRANS_S	2
#define DISCOVER_RES_RETRY	2
/* The largest DNS message (over TCP). */
#define DISCOVER_ANSWER_MAX	65536

int
discover_auto(struct discover_list *out, char *err, size_t errlen)
{
	struct discover_srv v[DISCOVER_MAX_SERVERS];
	struct __res_state rs;
	char domain[256], qname[300], perr[128];
	unsigned char *ans = NULL;
	size_t n = 0;
	int len = -1, rc;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if (discover_domain(domain, sizeof(domain)) != 0)
		goto plain;
	snprintf(qname, sizeof(qname), "%s%s", DISCOVER_SRV_PREFIX, domain);
	if ((ans = malloc(DISCOVER_ANSWER_MAX)) == NULL)
		return XLICEN_E_NOMEM;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) == 0) {
		rs.retrans = DISCOVER_RES_RETRANS_S;
		rs.retry = DISCOVER_RES_RETRY;
		len = res_nquery(&rs, qname, ns_c_in, ns_t_srv, ans,
		    DISCOVER_ANSWER_MAX);
		res_nclose(&rs);
	}
	/* No answer, or one we cannot use: as if there were no records. */
	if (len <= 0 || len > DISCOVER_ANSWER_MAX ||
	    discover_srv_parse(ans, (size_t)len, v, DISCOVER_MAX_SERVERS, &n,
	    perr, sizeof(perr)) != 0 || n == 0)
		goto plain;
	free(ans);
	discover_srv_order(v, n, discover_rnd, NULL);
	rc = discover_srv_list(v, n, out, err, errlen);
	if (rc == XLICEN_E_CONNECT)
		snprintf(err, errlen, "DNS SRV records of %s say there is no "
		    "license server in %s", qname, domain);
	return rc;
plain:
	free(ans);
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
		err_setf(err, errlen, "%s", rc == EAI_SYSTEM ?
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
		err_setf(err, errlen, "%s", "no IPv4 or IPv6 address");
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
