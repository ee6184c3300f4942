/*
 * store_checkout: one seat decision in one transaction, in steps: the
 * sweep, the usable pools (checkout_pools), the seat of the dup group
 * (checkout_find_seat), the policy, the choice of pool and the lease's
 * terms (seats.c, no database), then the seat, the lease and the audit
 * event (checkout_write_seat, checkout_write_lease) or the denial
 * (checkout_deny).  The SQL is the backend's (sqlite_sql.c); the
 * decisions are seats.c's.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "license.h"
#include "log.h"
#include "policy.h"
#include "seats.h"
#include "store.h"
#include "store_int.h"
#include "xlicen_errors.h"

/* A checkout under way: what its steps share. */
struct checkout {
	const struct store_checkout_req *req;
	struct policy_settings ps;	/* the product's policy settings */
	struct store_cand *cands;	/* usable pools, store_cand_cmp order */
	size_t ncand, capc;
	int64_t total, in_use;		/* counted seats of the usable pools */
	int deny;			/* why no pool is usable, or 0 */
	struct store_cand *use;		/* the pool of the seat */
	int64_t join_seat, join_count;	/* the dup group's seat, or 0 */
	int64_t want;			/* seats the checkout adds */
	char lease_id[STORE_LEASE_ID_LEN + 1];
	struct store_event ev;		/* its grant or denial */
	uint32_t borrow_days_max;	/* borrow: the most any pool's license
					 * allows (0: none allows it) */
};

/* Every seat of the product with its owner, for the policy. */
static int
checkout_load_held(struct store *s, const char *product,
    struct policy_holding **out, char **strs, size_t *n)
{
	struct store_stmt *st = s->st[ST_HELD_PRODUCT];
	struct policy_holding *v = NULL, *tv;
	char *pool = NULL, *tp;
	size_t len = 0, cap = 0, plen = 0, pcap = 0, i, a, b;
	int rc = XLICEN_OK, src;
	size_t *offs = NULL, *to;

	*out = NULL;
	*strs = NULL;
	*n = 0;
	if (store_bind_text(st, 1, product) != 0) {
		rc = store_dberr(s, "held: bind");
		goto out;
	}
	/* Strings go into one buffer; pointers are fixed up at the end,
	 * when the buffer no longer moves. */
	while ((src = store_step(st)) == STORE_ROW) {
		const char *pr = store_col_text(st, 0);
		const char *ho = store_col_text(st, 1);

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
		v[len].count = store_clamp_u32(store_col_int64(st, 2));
		len++;
	}
	if (src != STORE_DONE) {
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

/* The row st of ST_POOLS_PRODUCT as a usable pool of the checkout. */
static int
checkout_add_cand(struct checkout *co, struct store_stmt *st)
{
	const struct policy_settings *ps = &co->ps;
	struct store_cand *tc, *c;
	const char *dupg;
	int d;

	if (co->ncand == co->capc) {
		co->capc = co->capc ? 2 * co->capc : 8;
		if ((tc = reallocarray(co->cands, co->capc,
		    sizeof(*co->cands))) == NULL)
			return XLICEN_E_NOMEM;
		co->cands = tc;
	}
	c = &co->cands[co->ncand++];
	memset(c, 0, sizeof(*c));
	c->id = store_col_int64(st, 0);
	c->seats = store_col_int64(st, 3);
	c->used = store_col_int64(st, 12);
	c->uncounted = store_col_int64(st, 6) != 0;
	/* The vendor's signed dup_group wins over the policy's. */
	dupg = store_col_text(st, 8);
	d = policy_dup_parse(dupg);
	c->dup = d >= 0 ? (enum policy_dup)d : ps->dup_set ? ps->dup :
	    POLICY_DUP_UHD;
	/* Linger: the vendor's is a minimum the policy may raise. */
	c->linger_s = (uint32_t)store_col_int64(st, 9);
	if (ps->linger_s > c->linger_s)
		c->linger_s = ps->linger_s;
	c->ttl_s = (uint32_t)store_col_int64(st, 10);
	c->heartbeat_s = (uint32_t)store_col_int64(st, 11);
	if (!c->uncounted) {
		co->total += c->seats;
		co->in_use += c->used;
	}
	return XLICEN_OK;
}

/* Borrow: the borrow field of the license of the pool at row st (by
 * vendor and serial, unique in a license set), or 0. */
static uint32_t
checkout_lic_borrow(const struct checkout *co, struct store_stmt *st)
{
	const struct store_checkout_req *req = co->req;
	const char *vendor = store_col_text(st, 13);
	const char *serial = store_col_text(st, 14);
	size_t i;

	for (i = 0; vendor != NULL && serial != NULL && i < req->nlics; i++)
		if (strcmp(req->lics[i].vendor, vendor) == 0 &&
		    strcmp(req->lics[i].serial, serial) == 0)
			return req->lics[i].borrow_days;
	return 0;
}

/*
 * The usable pools of the product: covering the version, within their
 * dates, node lock matching.  co->deny gets why none is, if none is:
 * XLICEN_E_NO_PRODUCT, NO_VERSION, EXPIRED, NOT_YET or WRONG_HOST.
 * Returns 0, XLICEN_E_NOMEM or XLICEN_E_DB.
 */
static int
checkout_pools(struct store *s, struct checkout *co)
{
	const struct store_checkout_req *req = co->req;
	struct store_stmt *st = s->st[ST_POOLS_PRODUCT];
	const char *vmin, *vmax, *hostid;
	int any_product = 0, any_cover = 0, any_dated = 0, any_expired = 0;
	int any_host = 0, rc = XLICEN_OK, src;
	uint32_t days;

	if (store_bind_text(st, 1, req->product) != 0) {
		rc = store_dberr(s, "checkout: bind");
		goto out;
	}
	while ((src = store_step(st)) == STORE_ROW) {
		any_product = 1;
		vmin = store_col_text(st, 1);
		vmax = store_col_text(st, 2);
		if (vmin == NULL || vmax == NULL ||
		    license_version_cmp(req->version, vmin) < 0 ||
		    license_version_cmp(req->version, vmax) > 0)
			continue;
		any_cover = 1;
		switch (store_pool_dates(store_col_int64(st, 4),
		    store_col_int64(st, 5), req->now)) {
		case STORE_DATES_EXPIRED:
			any_expired = 1;
			continue;
		case STORE_DATES_NOT_YET:
			continue;
		case STORE_DATES_USABLE:
			break;
		}
		any_dated = 1;
		hostid = store_col_text(st, 7);
		if (!store_hostid_matches(hostid, req->principal, req->host))
			continue;
		any_host = 1;
		if (req->borrow_end > 0) {
			days = checkout_lic_borrow(co, st);
			if (days > co->borrow_days_max)
				co->borrow_days_max = days;
			if (req->borrow_end - req->now > (int64_t)days * 86400)
				continue;
		}
		if ((rc = checkout_add_cand(co, st)) != 0)
			goto out;
	}
	if (src != STORE_DONE) {
		rc = store_dberr(s, "checkout: select pools");
		goto out;
	}
	if (!any_product)
		co->deny = XLICEN_E_NO_PRODUCT;
	else if (!any_cover)
		co->deny = XLICEN_E_NO_VERSION;
	else if (!any_dated)
		co->deny = any_expired ? XLICEN_E_EXPIRED : XLICEN_E_NOT_YET;
	else if (!any_host)
		co->deny = XLICEN_E_WRONG_HOST;
	else if (co->ncand == 0)
		co->deny = co->borrow_days_max == 0 ? XLICEN_E_BORROW :
		    XLICEN_E_BORROW_PERIOD;
out:
	store_st_done(st);
	return rc;
}

/*
 * A seat of this checkout's dup group, in any usable pool: co->join_seat,
 * co->join_count and co->use (its pool), or join_seat 0.  co->want gets
 * how many seats the checkout adds.  Returns 0 or a negative code.
 */
static int
checkout_find_seat(struct store *s, struct checkout *co)
{
	const struct store_checkout_req *req = co->req;
	struct store_cand *cands = co->cands;
	struct store_stmt *st;
	char key[STORE_GROUP_KEY_MAX];
	size_t i;
	int rc, src;

	/* A borrowed seat is its own: it never shares a seat that a
	 * checkout on the network holds, nor lends its own. */
	for (i = 0; req->borrow_end == 0 && i < co->ncand &&
	    co->join_seat == 0; i++) {
		if ((rc = policy_group_key(cands[i].dup, req->principal,
		    req->host, req->display, req->pid, co->lease_id, key,
		    sizeof(key))) != 0)
			return rc;
		st = s->st[ST_SEAT_FIND];
		if (store_bind_int64(st, 1, cands[i].id) != 0 ||
		    store_bind_text(st, 2, key) != 0) {
			store_st_done(st);
			return store_dberr(s, "checkout: bind seat");
		}
		src = store_step(st);
		if (src == STORE_ROW) {
			co->join_seat = store_col_int64(st, 0);
			co->join_count = store_col_int64(st, 1);
			co->use = &cands[i];
		} else if (src != STORE_DONE) {
			store_st_done(st);
			return store_dberr(s, "checkout: find seat");
		}
		store_st_done(st);
	}
	co->want = co->join_seat != 0 ? (req->count > co->join_count ?
	    req->count - co->join_count : 0) : req->count;
	return XLICEN_OK;
}

/* The seat: the dup group's joined (grown if this checkout wants more)
 * or a new one in co->use.  *seat_id gets the joined one's id, or 0 for
 * a new one (its id is not read back: the lease inserted next takes it,
 * ST_LEASE_INS).  0 or a negative code. */
static int
checkout_write_seat(struct store *s, struct checkout *co, int64_t *seat_id)
{
	const struct store_checkout_req *req = co->req;
	struct store_cand *use = co->use;
	struct store_stmt *st;
	char key[STORE_GROUP_KEY_MAX];
	uint32_t linger = req->borrow_end > 0 ? 0 : use->linger_s;
	int rc = XLICEN_OK, b = 0;

	if (co->join_seat != 0) {
		st = s->st[ST_SEAT_JOIN];
		b |= store_bind_int64(st, 1, co->join_seat);
		b |= store_bind_int64(st, 2, req->count);
		b |= store_bind_int64(st, 3, linger);
		if (b != 0 || store_step(st) != STORE_DONE)
			rc = store_dberr(s, "checkout: join seat");
		*seat_id = co->join_seat;
		store_st_done(st);
		return rc;
	}
	if ((rc = policy_group_key(req->borrow_end > 0 ? POLICY_DUP_NONE :
	    use->dup, req->principal, req->host, req->display, req->pid,
	    co->lease_id, key, sizeof(key))) != 0)
		return rc;
	st = s->st[ST_SEAT_INS];
	b |= store_bind_int64(st, 1, use->id);
	b |= store_bind_text(st, 2, key);
	b |= store_bind_text(st, 3, req->principal);
	b |= store_bind_text(st, 4, req->host != NULL ? req->host : "");
	b |= store_bind_int64(st, 5, req->count);
	b |= store_bind_int64(st, 6, linger);
	b |= store_bind_int64(st, 7, req->now);
	if (b != 0 || store_step(st) != STORE_DONE)
		rc = store_dberr(s, "checkout: insert seat");
	*seat_id = 0;
	store_st_done(st);
	return rc;
}

/* The lease on seat_id (0: the seat checkout_write_seat inserted just
 * before), with its terms, and its "grant" event.  0 or a negative code. */
static int
checkout_write_lease(struct store *s, struct checkout *co, int64_t seat_id,
    uint32_t ttl, uint32_t hb, int64_t expiry)
{
	const struct store_checkout_req *req = co->req;
	struct store_stmt *st = s->st[ST_LEASE_INS];
	char detail[300];
	int rc, b = 0;

	b |= store_bind_text(st, 1, co->lease_id);
	b |= store_bind_int64(st, 2, co->use->id);
	b |= store_bind_text(st, 3, req->principal);
	b |= store_bind_text(st, 4, req->host ? req->host : "");
	b |= store_bind_text(st, 5, req->display ? req->display : "");
	b |= store_bind_int64(st, 6, req->pid);
	b |= store_bind_int64(st, 7, req->count);
	b |= store_bind_int64(st, 8, ttl);
	b |= store_bind_int64(st, 9, req->now);
	b |= store_bind_int64(st, 10, expiry);
	b |= seat_id != 0 ? store_bind_int64(st, 11, seat_id) :
	    store_bind_null(st, 11);
	b |= store_bind_int64(st, 12, hb);
	b |= store_bind_text(st, 13, req->version);
	b |= store_bind_int64(st, 14, req->borrow_end > 0 ? 1 : 0);
	if (b != 0 || store_step(st) != STORE_DONE) {
		store_st_done(st);
		return store_dberr(s, "checkout: insert lease");
	}
	store_st_done(st);
	co->ev.kind = req->borrow_end > 0 ? "borrow" : "grant";
	co->ev.lease_id = co->lease_id;
	co->ev.pool_id = co->use->id;
	co->ev.has_seats = 1;
	co->ev.seats = co->want;
	if (co->join_seat != 0) {
		snprintf(detail, sizeof(detail), "shares a seat (dup group %s)",
		    policy_dup_name(co->use->dup));
		co->ev.detail = detail;
	} else if (req->borrow_end > 0) {
		snprintf(detail, sizeof(detail), "until %" PRId64,
		    req->borrow_end);
		co->ev.detail = detail;
	}
	rc = store_event(s, &co->ev);
	co->ev.detail = NULL;	/* detail is gone with this frame */
	return rc;
}

/* Deny with code deny: fill *out for the client, audit a "deny" (unless
 * quiet) and commit (the sweep may have expired something).  Returns 0
 * (committed) or the code of what failed. */
static int
checkout_deny(struct store *s, struct checkout *co, int deny,
    struct store_grant *out)
{
	const struct store_checkout_req *req = co->req;
	int rc;

	if (deny == XLICEN_E_NO_SEATS) {
		out->in_use = store_clamp_u32(co->in_use);
		out->total = store_clamp_u32(co->total);
		out->queueable = req->count <= co->total;
		if (out->reason[0] == '\0')
			snprintf(out->reason, sizeof(out->reason),
			    "in use %" PRId64 " of %" PRId64, co->in_use,
			    co->total);
	} else if (deny == XLICEN_E_MAX_REACHED) {
		out->queueable = 1;
	}
	co->ev.kind = "deny";
	co->ev.code = deny;
	co->ev.detail = out->reason[0] != '\0' ? out->reason : NULL;
	if (!req->quiet && (rc = store_event(s, &co->ev)) != 0)
		return rc;
	/* Also when quiet: the sweep may have expired something. */
	return store_commit(s);
}

/* The policy's decision on co (after checkout_find_seat): *dec, with
 * out->reason set if it denies.  0 or a negative code of the store. */
static int
checkout_policy(struct store *s, struct checkout *co,
    struct policy_decision *dec, struct store_grant *out)
{
	const struct store_checkout_req *req = co->req;
	struct policy_holding *held = NULL;
	struct policy_ident ident;
	char *held_strs = NULL;
	size_t nheld = 0;
	int rc;

	if (req->policy != NULL &&
	    (rc = checkout_load_held(s, req->product, &held, &held_strs,
	    &nheld)) != 0)
		return rc;
	ident.principal = req->principal;
	ident.host = req->host;
	policy_check(req->policy, req->product, &ident, (uint32_t)co->want,
	    store_clamp_u32(co->total), store_clamp_u32(co->in_use), held,
	    nheld, dec);
	if (dec->code != 0)
		snprintf(out->reason, sizeof(out->reason), "%s", dec->reason);
	free(held);
	free(held_strs);
	return XLICEN_OK;
}

/*
 * A borrow's own rules of the policy, after its checkout rules allowed
 * it: the product's borrow_days, the borrow list, borrow_seats.  *deny
 * gets the denial (out->reason why) or 0.  0 or a negative code of the
 * store.
 */
static int
checkout_borrow_policy(struct store *s, struct checkout *co, int *deny,
    struct store_grant *out)
{
	const struct store_checkout_req *req = co->req;
	struct store_stmt *st = s->st[ST_BORROWED_PRODUCT];
	struct policy_ident ident;
	int64_t out_now;

	*deny = 0;
	ident.principal = req->principal;
	ident.host = req->host;
	if (co->ps.borrow_days == 0) {
		*deny = XLICEN_E_BORROW;
		snprintf(out->reason, sizeof(out->reason), "the policy allows "
		    "no borrowing of %s", req->product);
		return XLICEN_OK;
	}
	if (req->borrow_end - req->now > (int64_t)co->ps.borrow_days * 86400) {
		*deny = XLICEN_E_BORROW_PERIOD;
		snprintf(out->reason, sizeof(out->reason), "the policy allows "
		    "borrowing %s for at most %u days", req->product,
		    co->ps.borrow_days);
		return XLICEN_OK;
	}
	if (!policy_may_borrow(req->policy, req->product, &ident)) {
		*deny = XLICEN_E_BORROW;
		snprintf(out->reason, sizeof(out->reason), "%s is not on the "
		    "policy's borrow list of %s", req->principal, req->product);
		return XLICEN_OK;
	}
	if (!co->ps.borrow_seats_set)
		return XLICEN_OK;
	if (store_bind_text(st, 1, req->product) != 0 ||
	    store_bind_int64(st, 2, req->now) != 0 ||
	    store_step(st) != STORE_ROW) {
		store_st_done(st);
		return store_dberr(s, "borrow: seats out");
	}
	out_now = store_col_int64(st, 0);
	store_st_done(st);
	if (out_now + (int64_t)req->count > (int64_t)co->ps.borrow_seats) {
		*deny = XLICEN_E_BORROW_LIMIT;
		snprintf(out->reason, sizeof(out->reason), "%" PRId64 " seat(s) "
		    "of %s borrowed, the policy allows %u", out_now,
		    req->product, co->ps.borrow_seats);
	}
	return XLICEN_OK;
}

/* The grant's reply, after its commit. */
static void
checkout_granted(const struct checkout *co, int64_t expiry, uint32_t ttl,
    uint32_t hb, struct store_grant *out)
{
	const struct store_cand *use = co->use;

	memcpy(out->lease_id, co->lease_id, sizeof(co->lease_id));
	out->expires = expiry;
	out->in_use = store_clamp_u32(co->in_use +
	    (use->uncounted ? 0 : co->want));
	out->total = store_clamp_u32(co->total);
	out->ttl_s = ttl;
	out->heartbeat_s = hb;
	out->pool_id = use->id;
	out->uncounted = use->uncounted;
	out->shared = co->join_seat != 0;
}

int
store_checkout(struct store *s, const struct store_checkout_req *req,
    struct store_grant *out)
{
	struct checkout co;
	struct policy_decision dec;
	int64_t seat_id = 0, expiry;
	uint32_t ttl, hb;
	int rc, deny = 0, in_tx = 0, nexp;

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
	if (req->borrow_end != 0 && req->borrow_end <= req->now)
		return XLICEN_E_BAD_VALUE;
	memset(&co, 0, sizeof(co));
	co.req = req;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	/* Sent ahead, the audit chain's head and the product's pools travel
	 * with the sweep's read (store_send_ahead).  Only store_event writes
	 * events, and it steps the head first; a sweep that freed something
	 * changed the pools' counts, so they are read again. */
	store_send_ahead(s->st[ST_EVENT_LAST]);
	if (store_bind_text(s->st[ST_POOLS_PRODUCT], 1, req->product) == 0)
		store_send_ahead(s->st[ST_POOLS_PRODUCT]);
	if ((rc = store_sweep(s, req->now, &nexp)) != 0)
		goto out;
	if (nexp > 0)
		store_st_done(s->st[ST_POOLS_PRODUCT]);
	policy_settings(req->policy, req->product, &co.ps);
	if ((rc = checkout_pools(s, &co)) != 0)
		goto out;

	co.ev.ts = req->now;
	co.ev.principal = req->principal;
	co.ev.host = req->host;
	co.ev.display = req->display;
	co.ev.product = req->product;
	co.ev.version = req->version;
	co.ev.count = req->count;
	if ((deny = co.deny) != 0) {
		if (deny == XLICEN_E_BORROW)
			snprintf(out->reason, sizeof(out->reason), "no license "
			    "of %s allows borrowing", req->product);
		else if (deny == XLICEN_E_BORROW_PERIOD)
			snprintf(out->reason, sizeof(out->reason), "the "
			    "licenses of %s allow borrowing for at most %u "
			    "days", req->product, co.borrow_days_max);
		goto deny;
	}

	if (co.ncand > 1)
		qsort(co.cands, co.ncand, sizeof(*co.cands), store_cand_cmp);
	if ((rc = store_new_lease_id(co.lease_id)) != 0 ||
	    (rc = checkout_find_seat(s, &co)) != 0 ||
	    (rc = checkout_policy(s, &co, &dec, out)) != 0)
		goto out;
	if (dec.code != 0) {
		deny = dec.code;
		goto deny;
	}
	if (req->borrow_end > 0) {
		if ((rc = checkout_borrow_policy(s, &co, &deny, out)) != 0)
			goto out;
		if (deny != 0)
			goto deny;
	}
	co.use = store_choose_pool(co.cands, co.ncand,
	    co.join_seat != 0 ? co.use : NULL, co.want, dec.avail);
	if (co.use == NULL) {
		deny = XLICEN_E_NO_SEATS;
		out->reserved_others = dec.reserved_others;
		if (dec.reserved_others > 0)
			snprintf(out->reason, sizeof(out->reason), "%" PRId64
			    " of %" PRId64 " seats of %s in use and %u of the "
			    "free ones reserved for others (%u wanted)",
			    co.in_use, co.total, req->product,
			    dec.reserved_others, req->count);
		goto deny;
	}

	store_lease_terms(co.use, &co.ps, req->ttl_s, req->heartbeat_s, &ttl,
	    &hb);
	expiry = req->now + (int64_t)ttl;
	if (req->borrow_end > 0) {
		/* No heartbeats: the lease simply ends at the borrow's end. */
		expiry = req->borrow_end;
		ttl = (uint32_t)(req->borrow_end - req->now);
		hb = 0;
	}
	if ((rc = checkout_write_seat(s, &co, &seat_id)) != 0 ||
	    (rc = checkout_write_lease(s, &co, seat_id, ttl, hb,
	    expiry)) != 0 ||
	    (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	checkout_granted(&co, expiry, ttl, hb, out);
	rc = XLICEN_OK;
	goto out;

deny:
	if ((rc = checkout_deny(s, &co, deny, out)) == 0) {
		in_tx = 0;
		rc = deny;
	}
out:
	store_st_done(s->st[ST_POOLS_PRODUCT]);
	if (in_tx)
		store_rollback(s);
	free(co.cands);
	return rc;
}
