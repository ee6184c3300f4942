/*
 * [server] verify_host (see hostcheck.h): a claimed host name against the
 * connection's source address, by a forward lookup of the name.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "display.h"
#include "hostcheck.h"
#include "xlicen_errors.h"

/* An IPv4-mapped IPv6 address as the IPv4 address it is (a dual-stack
 * listener sees IPv4 clients so). */
static void
unmap(struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;
	struct sockaddr_in a4;

	if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
		return;
	memset(&a4, 0, sizeof(a4));
	a4.sin_family = AF_INET;
	memcpy(&a4.sin_addr, &a6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &a4, sizeof(a4));
}

static int
same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->sa_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	return 0;
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *a4 = (const void *)ss;
	const struct sockaddr_in6 *a6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
}

/* Whether the claim names this machine (for a client on loopback). */
static int
is_own_name(const char *host)
{
	char me[256];

	if (gethostname(me, sizeof(me)) != 0)
		return 0;
	me[sizeof(me) - 1] = '\0';
	return display_host_same(host, me);
}

int
hostcheck_verify(int fd, const char *host, char *why, size_t whylen)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	struct addrinfo hints, *res = NULL, *ai;
	char canon[256], key[256], paddr[INET6_ADDRSTRLEN];
	int rc = XLICEN_E_HOST_UNVERIFIED;

	if (whylen > 0)
		why[0] = '\0';
	display_canon_host(host, canon, sizeof(canon));
	display_host_key(host, key, sizeof(key));
	if (key[0] == '\0') {
		snprintf(why, whylen, "no HOST: verify_host needs the client's "
		    "host name");
		return rc;
	}
	memset(&peer, 0, sizeof(peer));
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) != 0) {
		snprintf(why, whylen, "the connection's address is unknown");
		return XLICEN_E_IO;
	}
	unmap(&peer);
	if (inet_ntop(peer.ss_family, peer.ss_family == AF_INET ?
	    (const void *)&((struct sockaddr_in *)(void *)&peer)->sin_addr :
	    (const void *)&((struct sockaddr_in6 *)(void *)&peer)->sin6_addr,
	    paddr, sizeof(paddr)) == NULL)
		snprintf(paddr, sizeof(paddr), "?");
	/* An address proves nothing: it resolves to itself. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(key, NULL, &hints, &res) == 0) {
		freeaddrinfo(res);
		snprintf(why, whylen, "HOST %s: an address, not a host name",
		    canon);
		return rc;
	}
	if (is_loopback(&peer) && is_own_name(key))
		return 0;
	hints.ai_flags = 0;
	res = NULL;
	if (getaddrinfo(key, NULL, &hints, &res) != 0) {
		snprintf(why, whylen, "HOST %s: the server cannot resolve %s",
		    canon, key);
		return rc;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		if (same_addr(&peer, ai->ai_addr)) {
			rc = 0;
			break;
		}
	freeaddrinfo(res);
	if (rc != 0)
		snprintf(why, whylen, "HOST %s: no address of %s is %s, the "
		    "connection's", canon, key, paddr);
	return rc;
}
