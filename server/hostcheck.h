/*
 * [server] verify_host: whether the host name a client claims in its
 * CHECKOUT (HOST) names the machine its connection comes from.  A claim
 * decides policy host: rules, host: node locks and dup grouping by host,
 * so a server may ask for it to be the peer's own name.  This proves less
 * than it seems (docs/ADMIN.md): not that the principal sits at that host,
 * only that the claimed name resolves, here and now, to the address the
 * connection comes from.
 */
#ifndef XLICEN_HOSTCHECK_H
#define XLICEN_HOSTCHECK_H

#include <stddef.h>

/*
 * Check the claim host (any spelling; NULL or "" is no claim) against the
 * peer of the connected socket fd.  The claim's key (display_host_key in
 * common/display.h: its short name, the form every comparison uses) is
 * looked up with getaddrinfo(3), the server's resolver: /etc/hosts, DNS
 * with its search list.  The lookup blocks the caller until the resolver
 * answers.  The claim passes if one of the addresses is the peer's (an
 * IPv4-mapped IPv6 peer compares as IPv4), or if the peer is a loopback
 * address and the claim names the server's own machine (gethostname).
 *
 * Returns 0, or XLICEN_E_HOST_UNVERIFIED with one line saying why in why
 * (whylen bytes): no claim, an address literal rather than a name, a name
 * the resolver does not know, or one whose addresses are not the peer's.
 * XLICEN_E_IO if the peer's address cannot be read.
 */
int hostcheck_verify(int fd, const char *host, char *why, size_t whylen);

#endif
