/*
 * The store's seat logic that needs no database (seats.h): pool dates,
 * node locks, the candidates' order, the choice of pool and the lease's
 * terms.  Shared by every backend; no SQL here.
 */
#include <stdint.h>
#include <string.h>

#include "display.h"
#include "limits.h"
#include "policy.h"
#include "seats.h"

enum store_dates
store_pool_dates(int64_t start, int64_t expires, int64_t now)
{
	if (expires != 0 && now >= expires)
		return STORE_DATES_EXPIRED;
	if (start != 0 && now < start)
		return STORE_DATES_NOT_YET;
	return STORE_DATES_USABLE;
}

bool
store_hostid_matches(const char *hostid, const char *principal,
    const char *host)
{
	if (hostid == NULL || hostid[0] == '\0')
		return true;
	if (strncmp(hostid, "principal:", 10) == 0)
		return strcmp(hostid + 10, principal) == 0;
	/* The one host comparison of common/display.h: a lock naming
	 * ws1.example.org is met by a claim of ws1, WS1. or " ws1 ". */
	if (strncmp(hostid, "host:", 5) == 0)
		return display_host_same(hostid + 5, host);
	return false;
}

int
store_cand_cmp(const void *a, const void *b)
{
	const struct store_cand *x = a, *y = b;

	if (x->uncounted != y->uncounted)
		return y->uncounted - x->uncounted;
	return (x->id > y->id) - (x->id < y->id);
}

struct store_cand *
store_choose_pool(struct store_cand *cands, size_t ncand,
    struct store_cand *join, int64_t want, uint32_t avail)
{
	struct store_cand *use = NULL;
	size_t i;

	if (join != NULL) {
		if (want > 0 && !join->uncounted &&
		    (join->seats - join->used < want || avail < want))
			return NULL;
		return join;
	}
	for (i = 0; i < ncand && use == NULL; i++) {
		/* A reissued license may have fewer seats than are
		 * in use: seats - used can be negative. */
		if (cands[i].uncounted ||
		    (cands[i].seats - cands[i].used >= want &&
		    avail >= want))
			use = &cands[i];
	}
	return use;
}

void
store_lease_terms(const struct store_cand *c,
    const struct policy_settings *ps, uint32_t def_ttl, uint32_t def_hb,
    uint32_t *ttl, uint32_t *hb)
{
	uint32_t t, h;

	/* The license's TTL and heartbeat, else the policy's, else ours. */
	t = c->ttl_s != 0 ? c->ttl_s : ps->ttl_s != 0 ? ps->ttl_s : def_ttl;
	if (t < LIMIT_LEASE_TTL_MIN_S)
		t = LIMIT_LEASE_TTL_MIN_S;
	h = c->heartbeat_s != 0 ? c->heartbeat_s :
	    ps->heartbeat_s != 0 ? ps->heartbeat_s : def_hb;
	if (h == 0 || h > t / 3)
		h = t / 3 > 0 ? t / 3 : 1;
	*ttl = t;
	*hb = h;
}
