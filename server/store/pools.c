/*
 * Pools and read queries of the store: making the pools match the
 * verified licenses (store_sync_pools, with the take-over of withdrawn
 * pools), and status, holders and lease counts.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "license.h"
#include "log.h"
#include "seats.h"
#include "store.h"
#include "store_int.h"
#include "xlicen_errors.h"

/*
 * Pools.
 */

static int
store_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static bool
store_ids_has(const int64_t *ids, size_t n, int64_t id)
{
	return n > 0 &&
	    bsearch(&id, ids, n, sizeof(*ids), store_cmp_i64) != NULL;
}

/* The ids of the pools not withdrawn, sorted. */
static int
store_active_ids(struct store *s, int64_t **out, size_t *n)
{
	struct store_stmt *st = s->st[ST_POOL_ACTIVE_IDS];
	int64_t *ids = NULL, *tmp;
	size_t len = 0, cap = 0;
	int rc = XLICEN_OK, src;

	*out = NULL;
	*n = 0;
	while ((src = store_step(st)) == STORE_ROW) {
		if (len == cap) {
			cap = cap ? 2 * cap : 16;
			if ((tmp = reallocarray(ids, cap, sizeof(*ids))) ==
			    NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			ids = tmp;
		}
		ids[len++] = store_col_int64(st, 0);
	}
	if (src != STORE_DONE) {
		rc = store_dberr(s, "sync: list pools");
		goto out;
	}
	if (len > 0)
		qsort(ids, len, sizeof(*ids), store_cmp_i64);
	*out = ids;
	*n = len;
	ids = NULL;
out:
	store_st_done(st);
	free(ids);
	return rc;
}

static int
store_upsert_pool(struct store *s, const struct license *l, int64_t now,
    int64_t *id)
{
	struct store_stmt *st = s->st[ST_POOL_UPSERT];
	int rc = XLICEN_OK, b = 0;

	*id = 0;
	b |= store_bind_text(st, 1, l->vendor);
	b |= store_bind_text(st, 2, l->product);
	b |= store_bind_text(st, 3, l->ver_min);
	b |= store_bind_text(st, 4, l->ver_max);
	b |= store_bind_text(st, 5, l->serial);
	/* seats >= 1 is a CHECK of 0001: an uncounted pool stores 1. */
	b |= store_bind_int64(st, 6, l->uncounted ? 1 : l->seats);
	b |= store_bind_int64(st, 7, l->start);
	b |= store_bind_int64(st, 8, l->expires);
	b |= store_bind_text(st, 9, l->customer);
	b |= store_bind_int64(st, 10, now);
	b |= store_bind_int64(st, 11, l->uncounted ? 1 : 0);
	b |= store_bind_text(st, 12, l->hostid);
	b |= store_bind_text(st, 13, l->dup_group);
	b |= store_bind_int64(st, 14, l->linger_s);
	b |= store_bind_int64(st, 15, l->ttl_s);
	b |= store_bind_int64(st, 16, l->heartbeat_s);
	if (b != 0 || store_step(st) != STORE_ROW) {
		rc = store_dberr(s, "sync: store pool");
		goto out;
	}
	*id = store_col_int64(st, 0);
	if (store_step(st) != STORE_DONE)
		rc = store_dberr(s, "sync: store pool");
out:
	store_st_done(st);
	return rc;
}

static int
store_withdraw_pool(struct store *s, int64_t id)
{
	struct store_stmt *st = s->st[ST_POOL_WITHDRAW];
	int rc = XLICEN_OK;

	if (store_bind_int64(st, 1, id) != 0 ||
	    store_step(st) != STORE_ROW) {
		rc = store_dberr(s, "sync: withdraw pool");
		goto out;
	}
	log_msg(LOG_NOTICE, "pool %" PRId64 " withdrawn (vendor %s product %s "
	    "serial %s versions %s-%s); its leases stay until released", id,
	    store_col_text(st, 0), store_col_text(st, 1),
	    store_col_text(st, 2), store_col_text(st, 3),
	    store_col_text(st, 4));
	if (store_step(st) != STORE_DONE)
		rc = store_dberr(s, "sync: withdraw pool");
out:
	store_st_done(st);
	return rc;
}

/* Move the seats and leases of pool from to pool to. */
static int
store_move_pool(struct store *s, int64_t from, int64_t to)
{
	static const enum store_st which[] = { ST_SEATS_MOVE, ST_LEASES_MOVE };
	struct store_stmt *st;
	size_t i;
	int rc = XLICEN_OK;

	for (i = 0; i < sizeof(which) / sizeof(which[0]) && rc == 0; i++) {
		st = s->st[which[i]];
		if (store_bind_int64(st, 1, from) != 0 ||
		    store_bind_int64(st, 2, to) != 0 ||
		    store_step(st) != STORE_DONE)
			rc = store_dberr(s, "sync: move leases");
		store_st_done(st);
	}
	return rc;
}

/*
 * A license that replaces another (a renewal: same vendor, product,
 * versions, kind and node lock, another serial) takes over the seats,
 * lingering ones too, and leases of the withdrawn one, so that they count
 * against its total instead of being counted by nobody; with fewer seats
 * than in use it grants nothing until use falls below them.  Withdrawn
 * pools from earlier reloads that still hold leases are replaced the same
 * way.  *moved gets how many pools were taken over.
 */
static int
store_take_over(struct store *s, size_t *moved)
{
	struct store_stmt *st = s->st[ST_POOL_ORPHANS];
	int64_t (*pairs)[2] = NULL, (*tmp)[2];
	size_t len = 0, cap = 0, i;
	int rc = XLICEN_OK, src;

	*moved = 0;
	/* Read them all first: the moves change what the query reads. */
	while ((src = store_step(st)) == STORE_ROW) {
		if (store_col_is_null(st, 1))
			continue;	/* removed without replacement */
		if (len == cap) {
			cap = cap ? 2 * cap : 8;
			if ((tmp = reallocarray(pairs, cap, sizeof(*pairs))) ==
			    NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			pairs = tmp;
		}
		pairs[len][0] = store_col_int64(st, 0);
		pairs[len++][1] = store_col_int64(st, 1);
	}
	if (src != STORE_DONE) {
		rc = store_dberr(s, "sync: withdrawn pools");
		goto out;
	}
	store_st_done(st);
	st = NULL;
	for (i = 0; i < len; i++) {
		if ((rc = store_move_pool(s, pairs[i][0], pairs[i][1])) != 0)
			goto out;
		log_msg(LOG_NOTICE, "pool %" PRId64 " replaced by pool %" PRId64
		    ": its leases and seats count against the new license",
		    pairs[i][0], pairs[i][1]);
	}
	*moved = len;
out:
	store_st_done(st);
	free(pairs);
	return rc;
}

int
store_sync_pools(struct store *s, const struct license *lics, size_t n,
    int64_t now)
{
	struct store_event ev;
	int64_t *before = NULL, *seen = NULL;
	size_t nbefore = 0, nnew = 0, nwithdrawn = 0, nmoved = 0, i;
	char detail[128];
	int rc, in_tx = 0;

	if (s == NULL || (lics == NULL && n > 0))
		return XLICEN_E_INVALID;
	if (n > 0 && (seen = calloc(n, sizeof(*seen))) == NULL)
		return XLICEN_E_NOMEM;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_active_ids(s, &before, &nbefore)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = store_upsert_pool(s, &lics[i], now, &seen[i])) != 0)
			goto out;
		if (!store_ids_has(before, nbefore, seen[i]))
			nnew++;
	}
	if (n > 0)
		qsort(seen, n, sizeof(*seen), store_cmp_i64);
	for (i = 0; i < nbefore; i++) {
		if (store_ids_has(seen, n, before[i]))
			continue;
		if ((rc = store_withdraw_pool(s, before[i])) != 0)
			goto out;
		nwithdrawn++;
	}
	if ((rc = store_take_over(s, &nmoved)) != 0)
		goto out;
	/* nnew counts a license listed twice in lics twice; harmless in a
	 * log line. */
	snprintf(detail, sizeof(detail), "licenses=%zu new=%zu withdrawn=%zu "
	    "replaced=%zu", n, nnew, nwithdrawn, nmoved);
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "reload";
	ev.detail = detail;
	if ((rc = store_event(s, &ev)) != 0)
		goto out;
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	log_msg(LOG_INFO, "store: pools synced: %s", detail);
out:
	if (in_tx)
		store_rollback(s);
	free(before);
	free(seen);
	return rc;
}

/*
 * Status, holders, reports.
 */

int
store_status(struct store *s, const char *product, int64_t now,
    struct store_pool_status **out, size_t *n)
{
	struct store_stmt *st = NULL;
	struct store_pool_status *v = NULL, *tmp, *p;
	char vmin[LICENSE_VERSION_MAX + 1], vmax[LICENSE_VERSION_MAX + 1];
	size_t len = 0, cap = 0;
	int rc = XLICEN_OK, src, b = 0;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL)
		return XLICEN_E_INVALID;
	/* in use and expiry come from expires_at: the heartbeats in
	 * memory first. */
	if ((rc = store_hb_write(s)) != 0)
		return rc;

	st = s->st[product != NULL ? ST_STATUS_PRODUCT : ST_STATUS_ALL];
	b |= store_bind_int64(st, 1, now);
	if (product != NULL)
		b |= store_bind_text(st, 2, product);
	if (b != 0) {
		rc = store_dberr(s, "status: bind");
		goto out;
	}
	while ((src = store_step(st)) == STORE_ROW) {
		if (len == cap) {
			cap = cap ? 2 * cap : 8;
			if ((tmp = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			v = tmp;
		}
		p = &v[len++];
		memset(p, 0, sizeof(*p));
		store_col_copy(st, 0, p->product, sizeof(p->product));
		store_col_copy(st, 1, vmin, sizeof(vmin));
		store_col_copy(st, 2, vmax, sizeof(vmax));
		snprintf(p->versions, sizeof(p->versions), "%s-%s", vmin,
		    vmax);
		store_col_copy(st, 3, p->vendor, sizeof(p->vendor));
		store_col_copy(st, 4, p->serial, sizeof(p->serial));
		p->total = store_clamp_u32(store_col_int64(st, 5));
		p->start = store_col_int64(st, 6);
		p->expires = store_col_int64(st, 7);
		p->uncounted = store_col_int64(st, 8) != 0;
		if (p->uncounted)
			p->total = 0;
		store_col_copy(st, 9, p->hostid, sizeof(p->hostid));
		store_col_copy(st, 10, p->dup_group, sizeof(p->dup_group));
		p->linger_s = store_clamp_u32(store_col_int64(st, 11));
		p->ttl_s = store_clamp_u32(store_col_int64(st, 12));
		p->heartbeat_s = store_clamp_u32(store_col_int64(st, 13));
		p->in_use = store_clamp_u32(store_col_int64(st, 14));
		if (store_col_int64(st, 15) != 0) {
			/* Withdrawn: shown while it has live seats, with
			 * none to give. */
			if (p->in_use == 0) {
				len--;
				continue;
			}
			p->state = STORE_POOL_WITHDRAWN;
			p->total = 0;
			continue;
		}
		switch (store_pool_dates(p->start, p->expires, now)) {
		case STORE_DATES_EXPIRED:
			p->state = STORE_POOL_EXPIRED;
			break;
		case STORE_DATES_NOT_YET:
			p->state = STORE_POOL_NOT_YET;
			break;
		case STORE_DATES_USABLE:
			p->state = STORE_POOL_ACTIVE;
			break;
		}
	}
	if (src != STORE_DONE) {
		rc = store_dberr(s, "status: select");
		goto out;
	}
	*out = v;
	*n = len;
	v = NULL;
out:
	store_st_done(st);
	free(v);
	return rc;
}

int
store_holders(struct store *s, const char *product, const char *principal,
    int64_t now, struct store_holder **out, size_t *n)
{
	struct store_stmt *st = NULL;
	struct store_holder *v = NULL, *tmp, *h;
	size_t len = 0, cap = 0;
	int rc = XLICEN_OK, src, pass, b;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL)
		return XLICEN_E_INVALID;
	/* in use and expiry come from expires_at: the heartbeats in
	 * memory first. */
	if ((rc = store_hb_write(s)) != 0)
		return rc;
	/* Pass 0: leases; pass 1: lingering seats (whose owner took them,
	 * not necessarily principal: only in the full listing). */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && principal != NULL)
			break;
		st = s->st[pass == 0 ? ST_HOLDERS : ST_HOLDERS_LINGER];
		b = store_bind_int64(st, 1, now);
		b |= store_bind_text(st, 2, product);
		if (pass == 0)
			b |= store_bind_text(st, 3, principal);
		if (b != 0) {
			rc = store_dberr(s, "holders: bind");
			goto out;
		}
		while ((src = store_step(st)) == STORE_ROW) {
			if (len == cap) {
				cap = cap ? 2 * cap : 16;
				if ((tmp = reallocarray(v, cap, sizeof(*v))) ==
				    NULL) {
					rc = XLICEN_E_NOMEM;
					goto out;
				}
				v = tmp;
			}
			h = &v[len++];
			memset(h, 0, sizeof(*h));
			store_col_copy(st, 0, h->product, sizeof(h->product));
			if (pass == 0) {
				store_col_copy(st, 1, h->version,
				    sizeof(h->version));
				store_col_copy(st, 2, h->principal,
				    sizeof(h->principal));
				store_col_copy(st, 3, h->host, sizeof(h->host));
				store_col_copy(st, 4, h->display,
				    sizeof(h->display));
				store_col_copy(st, 5, h->lease_id,
				    sizeof(h->lease_id));
				h->pid = store_clamp_u32(
				    store_col_int64(st, 6));
				h->count = store_clamp_u32(
				    store_col_int64(st, 7));
				h->heartbeat_s = store_clamp_u32(
				    store_col_int64(st, 8));
				h->since = store_col_int64(st, 9);
				h->last_hb = store_col_int64(st, 10);
				h->expires = store_col_int64(st, 11);
				h->withdrawn = store_col_int64(st, 12) != 0;
				h->borrow = (int)store_col_int64(st, 13);
			} else {
				store_col_copy(st, 1, h->principal,
				    sizeof(h->principal));
				store_col_copy(st, 2, h->host, sizeof(h->host));
				h->count = store_clamp_u32(
				    store_col_int64(st, 3));
				h->since = store_col_int64(st, 4);
				h->expires = store_col_int64(st, 5);
				h->withdrawn = store_col_int64(st, 6) != 0;
				h->lingering = 1;
			}
		}
		if (src != STORE_DONE) {
			rc = store_dberr(s, "holders: select");
			goto out;
		}
		store_st_done(st);
		st = NULL;
	}
	*out = v;
	*n = len;
	v = NULL;
out:
	store_st_done(st);
	free(v);
	return rc;
}

int
store_count_leases(struct store *s, int64_t *leases, int64_t *seats)
{
	struct store_stmt *st;
	int rc = XLICEN_OK;

	if (leases != NULL)
		*leases = 0;
	if (seats != NULL)
		*seats = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	st = s->st[ST_COUNT_LEASES];
	if (store_step(st) != STORE_ROW) {
		rc = store_dberr(s, "count leases");
		goto out;
	}
	if (leases != NULL)
		*leases = store_col_int64(st, 0);
	if (seats != NULL)
		*seats = store_col_int64(st, 1);
out:
	store_st_done(st);
	return rc;
}
