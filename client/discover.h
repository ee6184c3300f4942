/*
 * Finding license servers (client side, internal): parse a server list
 * "host[:port][,host[:port]...]", find one in DNS (SRV records
 * _gss-xlicen._tcp.<domain>, RFC 2782) when the user gave none, and turn
 * one entry into the socket addresses to try, in order.
 */
#ifndef XLICEN_DISCOVER_H
#define XLICEN_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

/* At most this many entries in a list; more is XLICEN_E_INVALID. */
#define DISCOVER_MAX_SERVERS	32
/* At most this many addresses tried for one entry. */
#define DISCOVER_MAX_ADDRS	16
/* An SRV answer is used this long (ms) before DNS is asked again. */
#define DISCOVER_SRV_CACHE_MS	300000
/* The SRV service and protocol labels queried under the domain. */
#define DISCOVER_SRV_PREFIX	"_gss-xlicen._tcp."

/* One entry of a server list, as the user wrote it. */
struct discover_server {
	char host[256];		/* name or address literal, without [] */
	char port[6];		/* decimal, 1..65535 */
	int port_given;		/* written explicitly (SRV only applies without) */
};

struct discover_list {
	struct discover_server *v;	/* malloc'd */
	size_t n;
};

/* One address to connect to. */
struct discover_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
	char shown[64];		/* numeric address without port, for messages */
};

/*
 * Parse a server list.  Entries are separated by commas; blanks around an
 * entry are ignored.  Forms: "host", "host:port", "[v6addr]",
 * "[v6addr]:port", and a bare IPv6 literal with two or more colons (no
 * port then).  A missing port is XLICEN_DEFAULT_PORT.  *out is cleared on
 * entry and owned by the caller on success (discover_list_free).  Errors:
 * XLICEN_E_INVALID (err says why: empty entry, bad port, bad character,
 * unclosed bracket, too many entries), XLICEN_E_NOMEM.
 */
int discover_parse(const char *spec, struct discover_list *out, char *err,
    size_t errlen);

/* One SRV record. */
struct discover_srv {
	unsigned priority;
	unsigned weight;
	unsigned port;		/* 1..65535 */
	char target[256];	/* host name, no trailing dot; "." = none */
};

/*
 * The SRV records (class IN) in the answer section of a DNS response of
 * len bytes, at most max of them (more are ignored), into v[0..*n).
 * Records of other types (a CNAME on the way) are skipped; a record with
 * port 0 too.  Every target must be a usable host name ("." allowed: "no
 * service here").  Errors (*n is 0): XLICEN_E_BAD_VALUE (the message does
 * not parse, an SRV record is shorter than its fields, its target name
 * runs past its data, or a target has characters a host name cannot have;
 * err says which).
 */
int discover_srv_parse(const unsigned char *ans, size_t len,
    struct discover_srv *v, size_t max, size_t *n, char *err, size_t errlen);

/*
 * Put v[0..n) in the order RFC 2782 says to try them: lowest priority
 * first; within one priority a weighted random order, where rnd(arg)
 * returns a uniformly random 32-bit number (tests pass a fixed sequence).
 */
void discover_srv_order(struct discover_srv *v, size_t n,
    uint32_t (*rnd)(void *arg), void *arg);

/*
 * The server list of ordered SRV records (targets "." dropped).  Errors:
 * XLICEN_E_CONNECT (no record left: the domain says it has no server),
 * XLICEN_E_NOMEM.
 */
int discover_srv_list(const struct discover_srv *v, size_t n,
    struct discover_list *out, char *err, size_t errlen);

/*
 * The domain to look for SRV records in: $XLICEN_DOMAIN, else the part
 * of this host's name after its first dot, else the resolver's default
 * domain.  Returns 0, or XLICEN_E_CONNECT if there is none (out "").
 */
int discover_domain(char *out, size_t outlen);

/*
 * The list to use when the caller gave none (and $XLICEN_SERVER is not
 * set): the SRV records of discover_domain() in RFC 2782 order; if there
 * is no domain, or DNS has no usable answer, "localhost".  Blocks in the
 * resolver (a few seconds at most).  Errors: XLICEN_E_CONNECT (the domain
 * publishes only the target ".": no service there), XLICEN_E_NOMEM.
 */
int discover_auto(struct discover_list *out, char *err, size_t errlen);

/* Free the entries and clear the list.  Accepts NULL. */
void discover_list_free(struct discover_list *l);

/*
 * Every address entry srv resolves to (getaddrinfo, AF_UNSPEC, TCP), in
 * the resolver's order, at most DISCOVER_MAX_ADDRS.  addrs must hold
 * DISCOVER_MAX_ADDRS entries; *n gets the count (0 on error).  This call
 * blocks in the resolver.  Errors: XLICEN_E_CONNECT (name does not
 * resolve; err has the resolver's text), XLICEN_E_NOMEM.
 */
int discover_resolve(const struct discover_server *srv,
    struct discover_addr *addrs, size_t *n, char *err, size_t errlen);

/* "host:port", with [] around an IPv6 literal, for messages. */
void discover_server_format(const struct discover_server *srv, char *out,
    size_t outlen);

#endif
