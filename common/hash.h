/*
 * hash_str: FNV-1a of a NUL-terminated string, for the small hash tables
 * of the server (connections per peer address, heartbeats held in memory,
 * a report's open leases, the leases used per connection).  Not for
 * anything an attacker could aim collisions at beyond a slower lookup:
 * the tables it serves are bounded by the server's own caps.
 */
#ifndef XLICEN_HASH_H
#define XLICEN_HASH_H

#include <stdint.h>

static inline uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

#endif
