/*
 * The seat logic of the store that needs no database: whether a pool's
 * dates and node lock let a checkout use it, the order in which usable
 * pools are tried, which pool serves a checkout, and a lease's terms.
 * Pure functions, written once for every backend: the backend reads the
 * rows (checkout.c) and writes the decision back.
 */
#ifndef XLICEN_STORE_SEATS_H
#define XLICEN_STORE_SEATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* A usable pool of a checkout (store_cand_cmp orders them). */
struct store_cand {
	int64_t id;
	int64_t seats;
	int64_t used;
	int uncounted;
	enum policy_dup dup;
	uint32_t linger_s;
	uint32_t ttl_s;		/* the license's; 0 none */
	uint32_t heartbeat_s;	/* the license's; 0 none */
};

/* What a pool's dates say of a grant at now (a named answer, not an
 * error code). */
enum store_dates {
	STORE_DATES_NOT_YET = -1,	/* before its start */
	STORE_DATES_USABLE = 0,
	STORE_DATES_EXPIRED = 1
};

/* Whether a pool's dates allow a grant at now (start, expires 0: none).
 * Expired wins for a pool that is both (start after expiry cannot come
 * from a checked license, but the answer must be stable). */
enum store_dates store_pool_dates(int64_t start, int64_t expires,
    int64_t now);

/* Whether a node lock (hostid: "", NULL, "principal:P" or "host:H")
 * lets a client authenticated as principal, claiming host, use the
 * pool (false also for a lock of an unknown kind). */
bool store_hostid_matches(const char *hostid, const char *principal,
    const char *host);

/* qsort order of candidates: uncounted pools first (they cost nothing),
 * then by id (first fit). */
int store_cand_cmp(const void *a, const void *b);

/*
 * The pool a checkout's new seats come from.  join: the candidate whose
 * seat the checkout's dup group already holds (NULL: none); it serves if
 * it needs no more seats (want 0), is uncounted, or has want free seats
 * and the policy allows avail >= want.  Without join: the first of the
 * ncand candidates (in store_cand_cmp order) that is uncounted or has
 * want free seats, the policy allowing them.  Returns the pool, or NULL
 * if none can serve (XLICEN_E_NO_SEATS).
 */
struct store_cand *store_choose_pool(struct store_cand *cands, size_t ncand,
    struct store_cand *join, int64_t want, uint32_t avail);

/*
 * A lease's terms from the pool c it is granted from: its TTL is the
 * license's, else the policy's (ps), else the server's default (def_ttl),
 * at least LIMIT_LEASE_TTL_MIN_S; its heartbeat interval likewise (def_hb),
 * at most a third of the TTL and at least 1 s.  Writes *ttl and *hb.
 */
void store_lease_terms(const struct store_cand *c,
    const struct policy_settings *ps, uint32_t def_ttl, uint32_t def_hb,
    uint32_t *ttl, uint32_t *hb);

#endif
