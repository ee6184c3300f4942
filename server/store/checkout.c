/*
 * store_checkout: one seat decision in one transaction (sweep, usable
 * pools, the dup group's seat, the policy, first fit, the lease and its
 * audit event).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "display.h"
#include "license.h"
#include "log.h"
#include "policy.h"
#include "store.h"
#include "store_int.h"
#include "xlicen_errors.h"

/* Whether a pool's dates allow a grant at now: -1 not yet, 1 expired,
 * 0 usable.  Expired wins for a pool that is both (start after expiry
 * cannot come from a checked license, but the answer must be stable). */
int
store_pool_dates(int64_t start, int64_t expires, int64_t now)
{
	if (expires != 0 && now >= expires)
		return 1;
	if (start != 0 && now < start)
		return -1;
	return 0;
}

/* A usable pool of a checkout. */
struct cand {
	int64_t id;
	int64_t seats;
	int64_t used;
	int uncounted;
	enum policy_dup dup;
	uint32_t linger_s;
	uint32_t ttl_s;
	uint32_t heartbeat_s;
};

/* Whether a node lock lets this client use the pool. */
static int
hostid_matches(const char *hostid, const char *principal, const char *host)
{
	if (hostid == NULL || hostid[0] == '\0')
		return 1;
	if (strncmp(hostid, "principal:", 10) == 0)
		return strcmp(hostid + 10, principal) == 0;
	/* The one host comparison of common/display.h: a lock naming
	 * ws1.example.org is met by a claim of ws1, WS1. or " ws1 ". */
	if (strncmp(hostid, "host:", 5) == 0)
		return display_host_same(hostid + 5, host);
	return 0;
}

/* Uncounted pools first (they cost nothing), then by id (first fit). */
static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->uncounted != y->uncounted)
		return y->uncounted - x->uncounted;
	return (x->id > y->id) - (x->id < y->id);
}

/* Every seat of the product with its owner, for the policy. */
static int
load_held(struct store *s, const char *product, struct policy_holding **out,
    char **strs, size_t *n)
{
	sqlite3_stmt *st = s->st[ST_HELD_PRODUCT];
	struct policy_holding *v = NULL, *tv;
	char *pool = NULL, *tp;
	size_t len = 0, cap = 0, plen = 0, pcap = 0, i, a, b;
	int rc = XLICEN_OK, src;
	size_t *offs = NULL, *to;

	*out = NULL;
	*strs = NULL;
	*n = 0;
	if (store_st_text(st, 1, product) != SQLITE_OK) {
		rc = store_dberr(s, "held: bind");
		goto out;
	}
	/* Strings go into one buffer; pointers are fixed up at the end,
	 * when the buffer no longer moves. */
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *pr = (const char *)sqlite3_column_text(st, 0);
		const char *ho = (const char *)sqlite3_column_text(st, 1);

		a = pr != NULL ? strlen(pr) : 0;
		b = ho != NULL ? strlen(ho) : 0;
		if (len == cap) {
			cap = cap ? 2 * cap : 16;
			if ((tv = reallocarray(v, cap, sizeof(*v))) == NULL ||
			    (to = reallocarray(offs, cap, 2 * sizeof(*offs))) ==
			    NULL) {
				if (tv != NULL)
					v = tv;
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			v = tv;
			offs = to;
		}
		while (pcap - plen < a + b + 2) {
			pcap = pcap ? 2 * pcap : 1024;
			if ((tp = realloc(pool, pcap)) == NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			pool = tp;
		}
		offs[2 * len] = plen;
		memcpy(pool + plen, a ? pr : "", a);
		pool[plen + a] = '\0';
		plen += a + 1;
		offs[2 * len + 1] = plen;
		memcpy(pool + plen, b ? ho : "", b);
		pool[plen + b] = '\0';
		plen += b + 1;
		v[len].count = store_clamp_u32(sqlite3_column_int64(st, 2));
		len++;
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "held: select");
		goto out;
	}
	for (i = 0; i < len; i++) {
		v[i].principal = pool + offs[2 * i];
		v[i].host = pool + offs[2 * i + 1];
	}
	*out = v;
	*strs = pool;
	*n = len;
	v = NULL;
	pool = NULL;
out:
	store_st_done(st);
	free(v);
	free(pool);
	free(offs);
	return rc;
}

int
store_checkout(struct store *s, const struct store_checkout_req *req,
    struct store_grant *out)
{
	sqlite3_stmt *st = NULL;
	struct store_event ev;
	struct policy_settings ps;
	struct policy_decision dec;
	struct policy_ident ident;
	struct policy_holding *held = NULL;
	struct cand *cands = NULL, *tc, *c, *use = NULL;
	char *held_strs = NULL;
	char lease_id[STORE_LEASE_ID_LEN + 1], detail[300];
	char key[STORE_GROUP_KEY_MAX];
	const char *vmin, *vmax, *hostid, *dupg;
	int64_t id, seats, start, expires, used, total = 0, in_use = 0;
	int64_t join_seat = 0, join_count = 0, want, seat_id = 0, expiry;
	size_t ncand = 0, capc = 0, nheld = 0, i;
	uint32_t ttl, hb, linger;
	int any_product = 0, any_cover = 0, any_dated = 0, any_expired = 0;
	int rc, deny = 0, in_tx = 0, nexp, src, b = SQLITE_OK, d;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || req == NULL || out == NULL ||
	    req->principal == NULL || req->principal[0] == '\0' ||
	    req->product == NULL || req->version == NULL ||
	    req->ttl_s == 0)
		return XLICEN_E_INVALID;
	if (req->count == 0 || req->count > LIMIT_SEATS)
		return XLICEN_E_COUNT;
	if (!license_version_valid(req->version))
		return XLICEN_E_BAD_VALUE;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_sweep(s, req->now, &nexp)) != 0)
		goto out;

	policy_settings(req->policy, req->product, &ps);
	st = s->st[ST_POOLS_PRODUCT];
	if (store_st_text(st, 1, req->product) != SQLITE_OK) {
		rc = store_dberr(s, "checkout: bind");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		any_product = 1;
		id = sqlite3_column_int64(st, 0);
		vmin = (const char *)sqlite3_column_text(st, 1);
		vmax = (const char *)sqlite3_column_text(st, 2);
		seats = sqlite3_column_int64(st, 3);
		start = sqlite3_column_int64(st, 4);
		expires = sqlite3_column_int64(st, 5);
		used = sqlite3_column_int64(st, 12);
		if (vmin == NULL || vmax == NULL ||
		    license_version_cmp(req->version, vmin) < 0 ||
		    license_version_cmp(req->version, vmax) > 0)
			continue;
		any_cover = 1;
		switch (store_pool_dates(start, expires, req->now)) {
		case 1:
			any_expired = 1;
			continue;
		case -1:
			continue;
		}
		any_dated = 1;
		hostid = (const char *)sqlite3_column_text(st, 7);
		if (!hostid_matches(hostid, req->principal, req->host))
			continue;
		if (ncand == capc) {
			capc = capc ? 2 * capc : 8;
			if ((tc = reallocarray(cands, capc, sizeof(*cands))) ==
			    NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			cands = tc;
		}
		c = &cands[ncand++];
		memset(c, 0, sizeof(*c));
		c->id = id;
		c->seats = seats;
		c->used = used;
		c->uncounted = sqlite3_column_int(st, 6) != 0;
		/* The vendor's signed dup_group wins over the policy's. */
		dupg = (const char *)sqlite3_column_text(st, 8);
		d = policy_dup_parse(dupg);
		c->dup = d >= 0 ? (enum policy_dup)d : ps.dup_set ? ps.dup :
		    POLICY_DUP_UHD;
		/* Linger: the vendor's is a minimum the policy may raise. */
		c->linger_s = (uint32_t)sqlite3_column_int64(st, 9);
		if (ps.linger_s > c->linger_s)
			c->linger_s = ps.linger_s;
		c->ttl_s = (uint32_t)sqlite3_column_int64(st, 10);
		c->heartbeat_s = (uint32_t)sqlite3_column_int64(st, 11);
		if (!c->uncounted) {
			total += seats;
			in_use += used;
		}
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "checkout: select pools");
		goto out;
	}
	store_st_done(st);
	st = NULL;

	memset(&ev, 0, sizeof(ev));
	ev.ts = req->now;
	ev.principal = req->principal;
	ev.host = req->host;
	ev.display = req->display;
	ev.product = req->product;
	ev.version = req->version;
	ev.count = req->count;
	if (!any_product)
		deny = XLICEN_E_NO_PRODUCT;
	else if (!any_cover)
		deny = XLICEN_E_NO_VERSION;
	else if (!any_dated)
		deny = any_expired ? XLICEN_E_EXPIRED : XLICEN_E_NOT_YET;
	else if (ncand == 0)
		deny = XLICEN_E_WRONG_HOST;
	if (deny != 0)
		goto deny;

	if (ncand > 1)
		qsort(cands, ncand, sizeof(*cands), cand_cmp);
	if ((rc = store_new_lease_id(lease_id)) != 0)
		goto out;

	/* A seat of this checkout's dup group, in any usable pool. */
	for (i = 0; i < ncand && join_seat == 0; i++) {
		if ((rc = policy_group_key(cands[i].dup, req->principal,
		    req->host, req->display, req->pid, lease_id, key,
		    sizeof(key))) != 0)
			goto out;
		st = s->st[ST_SEAT_FIND];
		if (sqlite3_bind_int64(st, 1, cands[i].id) != SQLITE_OK ||
		    store_st_text(st, 2, key) != SQLITE_OK) {
			rc = store_dberr(s, "checkout: bind seat");
			goto out;
		}
		src = sqlite3_step(st);
		if (src == SQLITE_ROW) {
			join_seat = sqlite3_column_int64(st, 0);
			join_count = sqlite3_column_int64(st, 1);
			use = &cands[i];
		} else if (src != SQLITE_DONE) {
			rc = store_dberr(s, "checkout: find seat");
			goto out;
		}
		store_st_done(st);
		st = NULL;
	}
	want = join_seat != 0 ? (req->count > join_count ?
	    req->count - join_count : 0) : req->count;

	if (req->policy != NULL &&
	    (rc = load_held(s, req->product, &held, &held_strs, &nheld)) != 0)
		goto out;
	ident.principal = req->principal;
	ident.host = req->host;
	policy_check(req->policy, req->product, &ident, (uint32_t)want,
	    store_clamp_u32(total), store_clamp_u32(in_use), held, nheld, &dec);
	if (dec.code != 0) {
		deny = dec.code;
		snprintf(out->reason, sizeof(out->reason), "%s", dec.reason);
		goto deny;
	}

	if (join_seat != 0 && want > 0 && !use->uncounted &&
	    (use->seats - use->used < want || dec.avail < want))
		use = NULL, deny = XLICEN_E_NO_SEATS;
	if (join_seat == 0) {
		use = NULL;
		for (i = 0; i < ncand && use == NULL; i++) {
			/* A reissued license may have fewer seats than are
			 * in use: seats - used can be negative. */
			if (cands[i].uncounted ||
			    (cands[i].seats - cands[i].used >= want &&
			    dec.avail >= want))
				use = &cands[i];
		}
		if (use == NULL)
			deny = XLICEN_E_NO_SEATS;
	}
	if (deny != 0) {
		if (dec.reserved_others > 0)
			snprintf(out->reason, sizeof(out->reason), "%" PRId64
			    " of %" PRId64 " seats of %s in use and %u of the "
			    "free ones reserved for others (%u wanted)", in_use,
			    total, req->product, dec.reserved_others,
			    req->count);
		goto deny;
	}

	/* The seat: joined (grown if this checkout wants more) or new. */
	linger = use->linger_s;
	if (join_seat != 0) {
		st = s->st[ST_SEAT_JOIN];
		b |= sqlite3_bind_int64(st, 1, join_seat);
		b |= sqlite3_bind_int64(st, 2, req->count);
		b |= sqlite3_bind_int64(st, 3, linger);
		if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
			rc = store_dberr(s, "checkout: join seat");
			goto out;
		}
		seat_id = join_seat;
	} else {
		if ((rc = policy_group_key(use->dup, req->principal, req->host,
		    req->display, req->pid, lease_id, key, sizeof(key))) != 0)
			goto out;
		st = s->st[ST_SEAT_INS];
		b |= sqlite3_bind_int64(st, 1, use->id);
		b |= store_st_text(st, 2, key);
		b |= store_st_text(st, 3, req->principal);
		b |= store_st_text(st, 4, req->host != NULL ? req->host : "");
		b |= sqlite3_bind_int64(st, 5, req->count);
		b |= sqlite3_bind_int64(st, 6, linger);
		b |= sqlite3_bind_int64(st, 7, req->now);
		if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
			rc = store_dberr(s, "checkout: insert seat");
			goto out;
		}
		seat_id = sqlite3_column_int64(st, 0);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = store_dberr(s, "checkout: insert seat");
			goto out;
		}
	}
	store_st_done(st);
	st = NULL;

	/* The license's TTL and heartbeat, else the policy's, else ours. */
	ttl = use->ttl_s != 0 ? use->ttl_s : ps.ttl_s != 0 ? ps.ttl_s :
	    req->ttl_s;
	if (ttl < LIMIT_LEASE_TTL_MIN_S)
		ttl = LIMIT_LEASE_TTL_MIN_S;
	hb = use->heartbeat_s != 0 ? use->heartbeat_s :
	    ps.heartbeat_s != 0 ? ps.heartbeat_s : req->heartbeat_s;
	if (hb == 0 || hb > ttl / 3)
		hb = ttl / 3 > 0 ? ttl / 3 : 1;
	expiry = req->now + (int64_t)ttl;
	st = s->st[ST_LEASE_INS];
	b = SQLITE_OK;
	b |= store_st_text(st, 1, lease_id);
	b |= sqlite3_bind_int64(st, 2, use->id);
	b |= store_st_text(st, 3, req->principal);
	b |= store_st_text(st, 4, req->host ? req->host : "");
	b |= store_st_text(st, 5, req->display ? req->display : "");
	b |= sqlite3_bind_int64(st, 6, req->pid);
	b |= sqlite3_bind_int64(st, 7, req->count);
	b |= sqlite3_bind_int64(st, 8, ttl);
	b |= sqlite3_bind_int64(st, 9, req->now);
	b |= sqlite3_bind_int64(st, 10, expiry);
	b |= sqlite3_bind_int64(st, 11, seat_id);
	b |= sqlite3_bind_int64(st, 12, hb);
	b |= store_st_text(st, 13, req->version);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		rc = store_dberr(s, "checkout: insert lease");
		goto out;
	}
	store_st_done(st);
	st = NULL;
	ev.kind = "grant";
	ev.lease_id = lease_id;
	ev.pool_id = use->id;
	ev.has_seats = 1;
	ev.seats = want;
	if (join_seat != 0) {
		snprintf(detail, sizeof(detail), "shares a seat (dup group %s)",
		    policy_dup_name(use->dup));
		ev.detail = detail;
	}
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;

	memcpy(out->lease_id, lease_id, sizeof(lease_id));
	out->expires = expiry;
	out->in_use = store_clamp_u32(in_use + (use->uncounted ? 0 : want));
	out->total = store_clamp_u32(total);
	out->ttl_s = ttl;
	out->heartbeat_s = hb;
	out->pool_id = use->id;
	out->uncounted = use->uncounted;
	out->shared = join_seat != 0;
	rc = XLICEN_OK;
	goto out;

deny:
	if (deny == XLICEN_E_NO_SEATS) {
		out->in_use = store_clamp_u32(in_use);
		out->total = store_clamp_u32(total);
		out->queueable = req->count <= total;
		if (out->reason[0] == '\0')
			snprintf(out->reason, sizeof(out->reason),
			    "in use %" PRId64 " of %" PRId64, in_use, total);
	} else if (deny == XLICEN_E_MAX_REACHED) {
		out->queueable = 1;
	}
	ev.kind = "deny";
	ev.code = deny;
	ev.detail = out->reason[0] != '\0' ? out->reason : NULL;
	if (!req->quiet && (rc = store_event(s, &ev)) != 0)
		goto out;
	/* Also when quiet: the sweep may have expired something. */
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	rc = deny;
out:
	store_st_done(st);
	if (in_tx)
		store_rollback(s);
	free(cands);
	free(held);
	free(held_strs);
	return rc;
}
