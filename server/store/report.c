/*
 * The usage report of the store: a replay of the audit trail between two
 * times (store_report).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xlicen_errors.h"

/* ---- reports: a replay of the audit trail ---- */

struct rep_lease {
	char id[STORE_LEASE_ID_LEN + 1];
	size_t row;		/* the principal's row */
	int64_t count;
	int64_t since;
	int used;		/* 0: a free slot of the table */
};

struct rep {
	struct store_report_row *rows;
	size_t nrows, cap;
	int64_t *cur;		/* per row: seats (product) or lease seats */
	int64_t *last;		/* per row: time of the last change */
	double *area;		/* per row: seat-seconds within the range */
	struct rep_lease *tab;	/* open leases, open addressing */
	size_t tabsz, tabn;
	int64_t from, to;
};

static int
store_rep_row(struct rep *r, const char *product, const char *principal,
    size_t *idx)
{
	size_t i;
	void *t;

	for (i = 0; i < r->nrows; i++)
		if (strcmp(r->rows[i].product, product) == 0 &&
		    strcmp(r->rows[i].principal, principal) == 0) {
			*idx = i;
			return 0;
		}
	if (r->nrows == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		if ((t = reallocarray(r->rows, r->cap, sizeof(*r->rows))) ==
		    NULL)
			return XLICEN_E_NOMEM;
		r->rows = t;
		if ((t = reallocarray(r->cur, r->cap, sizeof(*r->cur))) == NULL)
			return XLICEN_E_NOMEM;
		r->cur = t;
		if ((t = reallocarray(r->last, r->cap, sizeof(*r->last))) ==
		    NULL)
			return XLICEN_E_NOMEM;
		r->last = t;
		if ((t = reallocarray(r->area, r->cap, sizeof(*r->area))) ==
		    NULL)
			return XLICEN_E_NOMEM;
		r->area = t;
	}
	i = r->nrows++;
	memset(&r->rows[i], 0, sizeof(r->rows[i]));
	snprintf(r->rows[i].product, sizeof(r->rows[i].product), "%s",
	    product);
	snprintf(r->rows[i].principal, sizeof(r->rows[i].principal), "%s",
	    principal);
	r->cur[i] = 0;
	r->last[i] = r->from;
	r->area[i] = 0;
	*idx = i;
	return 0;
}

/* Row i's level changes by delta at time t: integrate the old level over
 * the part of [last, t] inside the range, track the peak. */
static void
store_rep_level(struct rep *r, size_t i, int64_t t, int64_t delta)
{
	int64_t a = r->last[i] > r->from ? r->last[i] : r->from;
	int64_t b = t < r->to ? t : r->to;

	if (b > a)
		r->area[i] += (double)r->cur[i] * (double)(b - a);
	if (t >= r->from && r->cur[i] > 0 &&
	    (uint64_t)r->cur[i] > r->rows[i].peak)
		r->rows[i].peak = store_clamp_u32(r->cur[i]);
	r->cur[i] += delta;
	if (r->cur[i] < 0)
		r->cur[i] = 0;
	if (t >= r->from && t <= r->to && (uint64_t)r->cur[i] > r->rows[i].peak)
		r->rows[i].peak = store_clamp_u32(r->cur[i]);
	if (t > r->last[i])
		r->last[i] = t;
}

static struct rep_lease *
store_rep_find(struct rep *r, const char *id, int insert)
{
	size_t i, mask;
	struct rep_lease *nt, *old;
	size_t oldsz, k;

	if (insert && (r->tabn + 1) * 2 > r->tabsz) {
		oldsz = r->tabsz;
		old = r->tab;
		r->tabsz = oldsz ? 2 * oldsz : 256;
		if ((nt = calloc(r->tabsz, sizeof(*nt))) == NULL) {
			r->tabsz = oldsz;
			return NULL;
		}
		r->tab = nt;
		r->tabn = 0;
		for (k = 0; k < oldsz; k++)
			if (old[k].used && old[k].id[0] != '\x01') {
				struct rep_lease *e =
				    store_rep_find(r, old[k].id, 1);

				*e = old[k];
			}
		free(old);
	}
	if (r->tabsz == 0)
		return NULL;
	mask = r->tabsz - 1;
	for (i = hash_str(id) & mask; r->tab[i].used; i = (i + 1) & mask)
		if (strcmp(r->tab[i].id, id) == 0)
			return &r->tab[i];
	if (!insert)
		return NULL;
	snprintf(r->tab[i].id, sizeof(r->tab[i].id), "%s", id);
	r->tab[i].used = 1;
	r->tabn++;
	return &r->tab[i];
}

static int
store_report_row_cmp(const void *a, const void *b)
{
	const struct store_report_row *x = a, *y = b;
	int c = strcmp(x->product, y->product);

	if (c != 0)
		return c;
	/* The product's own row ("") first. */
	return strcmp(x->principal, y->principal);
}

/* Replay one row of ST_EVENTS_REPORT into r: an event of product (all
 * products if NULL) counts in its product's row and its principal's.
 * Returns 0 or XLICEN_E_NOMEM. */
static int
store_rep_event(struct rep *r, struct store_stmt *st, const char *product)
{
	struct rep_lease *l;
	const char *kind, *principal, *prod, *lease;
	int64_t ts, count, seats;
	size_t prow, urow;
	int rc;

	ts = store_col_int64(st, 0);
	kind = store_col_text(st, 1);
	principal = store_col_text_or_null(st, 2);
	prod = store_col_text_or_null(st, 3);
	lease = store_col_text_or_null(st, 4);
	count = store_col_int64(st, 5);
	seats = store_col_int64(st, 6);
	/* Events from before migration 0002 have no seats: then every
	 * lease was a seat of its own. */
	if (store_col_is_null(st, 6) && kind != NULL)
		seats = strcmp(kind, "grant") == 0 ? count : -count;
	if (kind == NULL || prod == NULL ||
	    (product != NULL && strcmp(prod, product) != 0))
		return XLICEN_OK;
	if ((rc = store_rep_row(r, prod, "", &prow)) != 0)
		return rc;
	/* An event without a principal (store_audit allows one, and
	 * another program may write one) counts in the product's row
	 * alone: its user row would be that same row, counted twice. */
	urow = prow;
	if (principal != NULL && principal[0] != '\0' &&
	    (rc = store_rep_row(r, prod, principal, &urow)) != 0)
		return rc;
	if (strcmp(kind, "deny") == 0) {
		if (ts >= r->from) {
			r->rows[prow].denials++;
			if (urow != prow)
				r->rows[urow].denials++;
		}
		return XLICEN_OK;
	}
	if (strcmp(kind, "grant") == 0 || strcmp(kind, "borrow") == 0) {
		if (ts >= r->from) {
			r->rows[prow].grants++;
			if (urow != prow)
				r->rows[urow].grants++;
		}
		store_rep_level(r, prow, ts, seats);
		if (lease == NULL || urow == prow)
			return XLICEN_OK;
		if ((l = store_rep_find(r, lease, 1)) == NULL)
			return XLICEN_E_NOMEM;
		l->row = urow;
		l->count = count > 0 ? count : 1;
		l->since = ts;
		store_rep_level(r, urow, ts, l->count);
		return XLICEN_OK;
	}
	if (strcmp(kind, "release") == 0 || strcmp(kind, "expire") ==
	    0 || strcmp(kind, "remove") == 0 ||
	    strcmp(kind, "orphan") == 0 ||
	    strcmp(kind, "linger") == 0) {
		store_rep_level(r, prow, ts, seats);
		if (lease == NULL || (l = store_rep_find(r, lease, 0)) ==
		    NULL)
			return XLICEN_OK;
		store_rep_level(r, l->row, ts, -l->count);
		/* Tombstone: keep the probe chain intact. */
		l->count = 0;
		l->id[0] = '\x01';
	}
	return XLICEN_OK;
}

int
store_events(struct store *s, int64_t after, store_event_fn fn, void *arg)
{
	struct store_stmt *st = s->st[ST_EVENTS_ALL];
	struct store_event_row e;
	int rc = XLICEN_OK, src;

	/* Columns in ST_EVENTS_ALL order: id, ts, kind, principal, host,
	 * display, product, version, lease_id, pool_id, count, code,
	 * detail, seats, hash. */
	while ((src = store_step(st)) == STORE_ROW) {
		if ((e.id = store_col_int64(st, 0)) <= after)
			continue;
		e.ts = store_col_int64(st, 1);
		e.kind = store_col_text_or_null(st, 2);
		e.principal = store_col_text_or_null(st, 3);
		e.host = store_col_text_or_null(st, 4);
		e.display = store_col_text_or_null(st, 5);
		e.product = store_col_text_or_null(st, 6);
		e.version = store_col_text_or_null(st, 7);
		e.lease_id = store_col_text_or_null(st, 8);
		e.count = store_col_is_null(st, 10) ? -1 :
		    store_col_int64(st, 10);
		e.code = store_col_int64(st, 11);
		e.detail = store_col_text_or_null(st, 12);
		if (e.kind != NULL && (rc = fn(arg, &e)) != 0)
			goto out;
	}
	if (src != STORE_DONE)
		rc = store_dberr(s, "report: events");
out:
	store_st_done(st);
	return rc;
}

int
store_first_event(struct store *s, int64_t *ts)
{
	struct store_stmt *st;
	int rc = XLICEN_OK, src;

	*ts = 0;
	/* The report's own statement, unbounded: its first row is the
	 * first event (by id, the order events were recorded in). */
	st = s->st[ST_EVENTS_REPORT];
	if (store_bind_int64(st, 1, INT64_MAX) != 0) {
		rc = store_dberr(s, "report: bind");
		goto out;
	}
	src = store_step(st);
	if (src == STORE_ROW)
		*ts = store_col_int64(st, 0);
	else if (src != STORE_DONE)
		rc = store_dberr(s, "report: first event");
out:
	store_st_done(st);
	return rc;
}

int
store_report(struct store *s, int64_t from, int64_t to, int64_t now,
    const char *product, struct store_report_row **rows, size_t *n)
{
	struct store_stmt *st = NULL;
	struct rep r;
	size_t prow, i;
	double span;
	int rc = XLICEN_OK, src;

	if (rows != NULL)
		*rows = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || rows == NULL || n == NULL)
		return XLICEN_E_INVALID;
	if (to > now)
		to = now;
	if (from > to)
		return XLICEN_E_INVALID;
	memset(&r, 0, sizeof(r));
	r.from = from;
	r.to = to;
	st = s->st[ST_EVENTS_REPORT];
	if (store_bind_int64(st, 1, to) != 0) {
		rc = store_dberr(s, "report: bind");
		goto out;
	}
	/* Replay from the first event: a lease granted before from and
	 * held into the range counts from from on. */
	while ((src = store_step(st)) == STORE_ROW) {
		if ((rc = store_rep_event(&r, st, product)) != 0)
			goto out;
	}
	if (src != STORE_DONE) {
		rc = store_dberr(s, "report: select");
		goto out;
	}
	span = to > from ? (double)(to - from) : 1.0;
	for (i = 0; i < r.nrows; i++) {
		store_rep_level(&r, i, to, 0);
		r.rows[i].avg = r.area[i] / span;
	}
	/* Seat-seconds of leases: the principals' areas; the product's row
	 * sums them (its own area is seats, shared ones counted once). */
	for (i = 0; i < r.nrows; i++) {
		if (r.rows[i].principal[0] == '\0')
			continue;
		r.rows[i].seconds = (uint64_t)(r.area[i] + 0.5);
		if (store_rep_row(&r, r.rows[i].product, "", &prow) == 0)
			r.rows[prow].seconds += r.rows[i].seconds;
	}
	if (r.nrows > 1)
		qsort(r.rows, r.nrows, sizeof(*r.rows), store_report_row_cmp);
	*rows = r.rows;
	*n = r.nrows;
	r.rows = NULL;
out:
	store_st_done(st);
	free(r.rows);
	free(r.cur);
	free(r.last);
	free(r.area);
	free(r.tab);
	return rc;
}
