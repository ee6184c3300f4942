/*
 * Finding license servers (client side, internal): parse a server list
 * "host[:port][,host[:port]...]" and turn one entry into the socket
 * addresses to try, in order.  DNS SRV (_gss-xlicen._tcp) is meant to slot
 * into discover_resolve() for entries written without a port.
 */
#ifndef XLICEN_DISCOVER_H
#define XLICEN_DISCOVER_H

#include <stddef.h>

#include <sys/socket.h>

/* At most this many entries in a list; more is XLICEN_E_INVALID. */
#define DISCOVER_MAX_SERVERS	32
/* At most this many addresses tried for one entry. */
#define DISCOVER_MAX_ADDRS	16

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

/*
 * The list to use when the caller gave none: $XLICEN_SERVER if set and
 * not empty, else "localhost".  Same errors as discover_parse.
 */
int discover_default(struct discover_list *out, char *err, size_t errlen);

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
