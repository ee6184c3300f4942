/*
 * Lease operations of the store: the sweeps (expiry, orphans, lingering
 * seats), heartbeat, release, administrative remove, reclaim, orphaning
 * at disconnect, and lease ids.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "hash.h"
#include "hex.h"
#include "license.h"
#include "limits.h"
#include "log.h"
#include "seats.h"
#include "store.h"
#include "store_int.h"
#include "xlicen_errors.h"

/*
 * Leases and seats.
 */

/*
 * Delete a lease and settle its seat, inside the caller's transaction:
 * the seat shrinks to the largest count of the leases left on it, or,
 * with none left, lingers (linger 1 and the seat has a linger time) or
 * goes.  *delta gets the change in seats in use (0 or negative).
 */
static int
store_lease_drop(struct store *s, const char *lease_id, int64_t seat_id,
    int64_t lease_count, int64_t now, int linger, int64_t *delta)
{
	struct store_stmt *st;
	int64_t nleft, maxc, scount, linger_s;
	int rc = XLICEN_OK;

	*delta = 0;
	st = s->st[ST_LEASE_DEL];
	if (store_bind_text(st, 1, lease_id) != 0 ||
	    store_step(st) != STORE_DONE) {
		store_st_done(st);
		return store_dberr(s, "delete lease");
	}
	store_st_done(st);
	if (seat_id == 0) {
		/* Cannot happen after migration 0002; count it as freed. */
		*delta = -lease_count;
		return XLICEN_OK;
	}
	/* The seat and the leases left on it, in one read. */
	st = s->st[ST_SEAT_GET];
	if (store_bind_int64(st, 1, seat_id) != 0 ||
	    store_step(st) != STORE_ROW) {
		store_st_done(st);
		return store_dberr(s, "seat: get");
	}
	scount = store_col_int64(st, 0);
	linger_s = store_col_int64(st, 1);
	nleft = store_col_int64(st, 2);
	maxc = store_col_int64(st, 3);
	store_st_done(st);

	if (nleft > 0) {
		if (maxc >= scount)
			return XLICEN_OK;
		st = s->st[ST_SEAT_SET_COUNT];
		*delta = maxc - scount;
	} else if (linger && linger_s > 0) {
		/* Still counted: the group may come back for it. */
		st = s->st[ST_SEAT_LINGER];
		maxc = now + linger_s;
	} else {
		st = s->st[ST_SEAT_DEL];
		*delta = -scount;
	}
	if (store_bind_int64(st, 1, seat_id) != 0 ||
	    (st != s->st[ST_SEAT_DEL] &&
	    store_bind_int64(st, 2, maxc) != 0) ||
	    store_step(st) != STORE_DONE)
		rc = store_dberr(s, "seat: settle");
	store_st_done(st);
	return rc;
}

/*
 * Step the sweep query `which` (one parameter: now) to its first row.
 * Returns 1 with the row ready (the caller reads it, then store_st_done()), 0
 * when none is due (statement reset), or a negative code.
 */
static int
store_sweep_next(struct store *s, enum store_st which, int64_t now,
    const char *what)
{
	struct store_stmt *sel = s->st[which];
	int src;

	if (store_bind_int64(sel, 1, now) != 0) {
		store_st_done(sel);
		return store_dberr(s, what);
	}
	src = store_step(sel);
	if (src == STORE_ROW)
		return 1;
	store_st_done(sel);
	return src == STORE_DONE ? 0 : store_dberr(s, what);
}

/*
 * Free the lease of the current row of the sweep query `which` (columns
 * of ST_EXPIRE_SEL; the statement is reset here) and audit it as kind.
 * An expired lease's seat does not linger (the holder is gone, not done);
 * an orphan's does, as after a release: its holder ended its connection.
 */
static int
store_sweep_lease(struct store *s, enum store_st which, int64_t now,
    const char *kind, int linger, const char *detail)
{
	struct store_stmt *sel = s->st[which];
	struct store_event ev;
	char id[STORE_LEASE_ID_LEN + 1], principal[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1], display[LIMIT_STRING + 1];
	char product[LICENSE_NAME_MAX + 1], version[LICENSE_VERSION_MAX + 1];
	int64_t seat_id, count, pool_id, delta;
	int rc;

	store_col_copy(sel, 0, id, sizeof(id));
	store_col_copy(sel, 1, principal, sizeof(principal));
	store_col_copy(sel, 2, host, sizeof(host));
	store_col_copy(sel, 3, display, sizeof(display));
	store_col_copy(sel, 4, product, sizeof(product));
	pool_id = store_col_int64(sel, 5);
	count = store_col_int64(sel, 6);
	seat_id = store_col_int64(sel, 7);
	store_col_copy(sel, 8, version, sizeof(version));
	store_st_done(sel);
	log_msg(LOG_INFO, "lease %s of %s for %s (%" PRId64 " seat(s)) %s",
	    id, principal, product, count, detail);
	if ((rc = store_lease_drop(s, id, seat_id, count, now, linger,
	    &delta)) != 0)
		return rc;
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = kind;
	ev.lease_id = id;
	ev.principal = principal;
	ev.host = host;
	ev.display = display;
	ev.product = product;
	ev.version = version[0] != '\0' ? version : NULL;
	ev.pool_id = pool_id;
	ev.count = count;
	ev.has_seats = 1;
	ev.seats = delta;
	return store_event(s, &ev);
}

/*
 * The sweeps, inside the caller's transaction: audit and delete every
 * lease whose expiry is <= now, then every orphan whose grace is over
 * (store_sweep_lease), then every lingering seat whose time is up.  *n gets
 * how many of all.  One row at a time, re-selected after each change,
 * so no statement reads a table while it is being changed.
 */
int
store_sweep(struct store *s, int64_t now, int *n)
{
	struct store_stmt *sel;
	struct store_event ev;
	char principal[LIMIT_STRING + 1], host[LIMIT_STRING + 1];
	char product[LICENSE_NAME_MAX + 1];
	int64_t seat_id, count, pool_id;
	int rc = XLICEN_OK, src, due;

	*n = 0;
	/* Mostly nothing is due: one read says so for the three sweeps. */
	sel = s->st[ST_SWEEP_DUE];
	if (store_bind_int64(sel, 1, now) != 0 ||
	    store_step(sel) != STORE_ROW) {
		store_st_done(sel);
		return store_dberr(s, "sweep: due");
	}
	due = store_col_int64(sel, 0) != 0;
	store_st_done(sel);
	while (due && (src = store_sweep_next(s, ST_EXPIRE_SEL, now,
	    "expire: select")) != 0) {
		if (src < 0)
			return src;
		if ((rc = store_sweep_lease(s, ST_EXPIRE_SEL, now, "expire", 0,
		    "expired")) != 0)
			return rc;
		(*n)++;
	}
	while (due && (src = store_sweep_next(s, ST_ORPHAN_SEL, now,
	    "orphan: select")) != 0) {
		if (src < 0)
			return src;
		if ((rc = store_sweep_lease(s, ST_ORPHAN_SEL, now, "orphan", 1,
		    "freed: its holder's connection closed and it was not "
		    "re-attached within the grace")) != 0)
			return rc;
		(*n)++;
	}
	while (due && (src = store_sweep_next(s, ST_LINGER_SEL, now,
	    "linger: select")) != 0) {
		if (src < 0)
			return src;
		sel = s->st[ST_LINGER_SEL];
		seat_id = store_col_int64(sel, 0);
		store_col_copy(sel, 1, principal, sizeof(principal));
		store_col_copy(sel, 2, host, sizeof(host));
		store_col_copy(sel, 3, product, sizeof(product));
		pool_id = store_col_int64(sel, 4);
		count = store_col_int64(sel, 5);
		store_st_done(sel);
		sel = s->st[ST_SEAT_DEL];
		if (store_bind_int64(sel, 1, seat_id) != 0 ||
		    store_step(sel) != STORE_DONE) {
			store_st_done(sel);
			return store_dberr(s, "linger: delete");
		}
		store_st_done(sel);
		log_msg(LOG_INFO, "lingering seat of %s for %s (%" PRId64
		    " seat(s)) freed", principal, product, count);
		memset(&ev, 0, sizeof(ev));
		ev.ts = now;
		ev.kind = "linger";
		ev.principal = principal;
		ev.host = host;
		ev.product = product;
		ev.pool_id = pool_id;
		ev.count = count;
		ev.has_seats = 1;
		ev.seats = -count;
		if ((rc = store_event(s, &ev)) != 0)
			return rc;
		(*n)++;
	}
	sel = s->st[ST_REVOKED_PRUNE];
	if (store_bind_int64(sel, 1, now - LIMIT_REVOKED_KEEP_S) !=
	    0 || store_step(sel) != STORE_DONE)
		rc = store_dberr(s, "revoked: prune");
	store_st_done(sel);
	return rc;
}

/* The product's counted seats in use and in total, for a reply. */
static int
store_product_totals(struct store *s, const char *product, int64_t now,
    uint32_t *in_use, uint32_t *total)
{
	struct store_stmt *st = s->st[ST_PRODUCT_TOTALS];
	int64_t t = 0, u = 0;
	int rc = XLICEN_OK, src;

	*in_use = *total = 0;
	if (store_bind_text(st, 1, product) != 0) {
		rc = store_dberr(s, "totals: bind");
		goto out;
	}
	while ((src = store_step(st)) == STORE_ROW) {
		if (store_pool_dates(store_col_int64(st, 1),
		    store_col_int64(st, 2), now) != STORE_DATES_USABLE)
			continue;
		t += store_col_int64(st, 0);
		u += store_col_int64(st, 3);
	}
	if (src != STORE_DONE)
		rc = store_dberr(s, "totals: select");
	*in_use = store_clamp_u32(u);
	*total = store_clamp_u32(t);
out:
	store_st_done(st);
	return rc;
}

/*
 * Why a lease could not be touched: REVOKED to the owner of a lease an
 * administrator removed, NO_LEASE if it is gone or past its expiry, else
 * NOT_OWNER (which is audited: someone tried another principal's lease).
 * Called inside the caller's transaction; commits the audit record.
 */
static int
store_lease_refused(struct store *s, const char *principal,
    const char *lease_id, int64_t now, const char *op)
{
	struct store_stmt *st = s->st[ST_LEASE_GET];
	struct store_event ev;
	char owner[LIMIT_STRING + 1], product[LICENSE_NAME_MAX + 1];
	int rc, src;

	if (store_bind_text(st, 1, lease_id) != 0) {
		rc = store_dberr(s, "lease: bind");
		goto out;
	}
	src = store_step(st);
	if (src == STORE_DONE ||
	    (src == STORE_ROW && store_col_int64(st, 1) <= now)) {
		store_st_done(st);
		st = s->st[ST_REVOKED_GET];
		rc = XLICEN_E_NO_LEASE;
		if (store_bind_text(st, 1, lease_id) != 0) {
			rc = store_dberr(s, "revoked: bind");
			goto out;
		}
		src = store_step(st);
		if (src == STORE_ROW && strcmp(store_col_text(st, 0),
		    principal) == 0)
			rc = XLICEN_E_REVOKED;
		else if (src != STORE_ROW && src != STORE_DONE)
			rc = store_dberr(s, "revoked: select");
		goto out;
	}
	if (src != STORE_ROW) {
		rc = store_dberr(s, "lease: select");
		goto out;
	}
	store_col_copy(st, 0, owner, sizeof(owner));
	store_col_copy(st, 6, product, sizeof(product));
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "deny";
	ev.principal = principal;
	ev.product = product;
	ev.lease_id = lease_id;
	ev.pool_id = store_col_int64(st, 4);
	ev.code = XLICEN_E_NOT_OWNER;
	ev.detail = op;
	store_st_done(st);
	st = NULL;
	log_msg(LOG_NOTICE, "%s refused: %s tried lease %s of %s", op,
	    principal, lease_id, owner);
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	rc = XLICEN_E_NOT_OWNER;
out:
	store_st_done(st);
	return rc;
}

/* A heartbeat written at once: the refusals (NOT_OWNER is audited) and
 * whatever the fast path of store_heartbeat cannot decide alone, and on a
 * shared store every heartbeat.  durable: as store_begin_as. */
static int
store_heartbeat_write(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int64_t *expires, int durable)
{
	struct store_stmt *st = NULL;
	int64_t exp = 0, borrowed = 0;
	int rc, in_tx = 0, src, b = 0;

	if ((rc = store_begin_as(s, durable)) != 0)
		goto out;
	in_tx = 1;
	/* The common case in one statement; only a refusal looks closer. */
	st = s->st[ST_HB_UPDATE];
	b |= store_bind_text(st, 1, lease_id);
	b |= store_bind_int64(st, 2, now);
	b |= store_bind_text(st, 3, principal);
	if (b != 0) {
		rc = store_dberr(s, "heartbeat: bind");
		goto out;
	}
	src = store_step(st);
	if (src == STORE_ROW) {
		exp = store_col_int64(st, 0);
		borrowed = store_col_int64(st, 1);
		src = store_step(st);
	} else if (src == STORE_DONE) {
		store_st_done(st);
		st = NULL;
		rc = store_lease_refused(s, principal, lease_id, now,
		    "heartbeat");
		if (rc == XLICEN_E_NOT_OWNER)
			in_tx = 0;	/* committed its audit record */
		goto out;
	}
	if (src != STORE_DONE) {
		rc = store_dberr(s, "heartbeat: update");
		goto out;
	}
	store_st_done(st);
	st = NULL;
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	/* A borrowed lease an administrator cancelled (as in the fast
	 * path of store_heartbeat): its owner is told. */
	if (borrowed == 2)
		rc = XLICEN_E_REVOKED;
	else if (expires != NULL)
		*expires = exp;
out:
	store_st_done(st);
	if (in_tx)
		store_rollback(s);
	return rc;
}

/* A lease of principal, not past its expiry, read inside the caller's
 * transaction; otherwise the refusal (committed if audited). */
struct lease_row {
	char owner[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1];
	char display[LIMIT_STRING + 1];
	char product[LICENSE_NAME_MAX + 1];
	char version[LICENSE_VERSION_MAX + 1];
	int64_t pool_id;
	int64_t count;
	int64_t seat_id;
	int64_t ttl_s;
	int64_t hb_s;
	int64_t borrow;		/* 0, 1 borrowed, 2 borrowed and cancelled */
	int64_t expires;	/* UTC s (orphan grace included) */
};

/* Run statement which with its one parameter, the text t. */
static int
store_st_exec_text(struct store *s, enum store_st which, const char *t,
    const char *what)
{
	struct store_stmt *st = s->st[which];
	int rc = XLICEN_OK;

	if (store_bind_text(st, 1, t) != 0 || store_step(st) != STORE_DONE)
		rc = store_dberr(s, what);
	store_st_done(st);
	return rc;
}

static int
store_lease_get(struct store *s, const char *principal, const char *lease_id,
    int64_t now, const char *op, struct lease_row *lr, int *committed)
{
	struct store_stmt *get = s->st[ST_LEASE_GET];
	int rc = XLICEN_OK, src;

	*committed = 0;
	memset(lr, 0, sizeof(*lr));
	if (store_bind_text(get, 1, lease_id) != 0) {
		store_st_done(get);
		return store_dberr(s, "lease: bind");
	}
	src = store_step(get);
	if (src == STORE_DONE || (src == STORE_ROW &&
	    (store_col_int64(get, 1) <= now || (principal != NULL &&
	    strcmp(store_col_text(get, 0), principal) !=
	    0)))) {
		store_st_done(get);
		if (principal == NULL)
			return XLICEN_E_NO_LEASE;
		rc = store_lease_refused(s, principal, lease_id, now, op);
		*committed = rc == XLICEN_E_NOT_OWNER;
		return rc;
	}
	if (src != STORE_ROW) {
		store_st_done(get);
		return store_dberr(s, "lease: select");
	}
	store_col_copy(get, 0, lr->owner, sizeof(lr->owner));
	store_col_copy(get, 2, lr->host, sizeof(lr->host));
	store_col_copy(get, 3, lr->display, sizeof(lr->display));
	lr->pool_id = store_col_int64(get, 4);
	lr->count = store_col_int64(get, 5);
	store_col_copy(get, 6, lr->product, sizeof(lr->product));
	lr->seat_id = store_col_int64(get, 7);
	lr->ttl_s = store_col_int64(get, 8);
	lr->hb_s = store_col_int64(get, 9);
	store_col_copy(get, 10, lr->version, sizeof(lr->version));
	lr->borrow = store_col_int64(get, 11);
	lr->expires = store_col_int64(get, 1);
	store_st_done(get);
	return XLICEN_OK;
}

/*
 * The common case costs one indexed read and no write: the lease exists,
 * is the caller's and has not expired, so the new expiry is answered at
 * once and kept in memory; the next operation that writes, or store_flush
 * within a second, writes it.  A heartbeat is not a grant: the heartbeats
 * of the last second that a crash may lose cost nothing because the
 * server extends every lease by one TTL when it starts
 * (store_extend_leases).
 */
int
store_heartbeat(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int64_t *expires)
{
	struct store_stmt *st;
	struct store_hb *e;
	const char *owner;
	int64_t ttl, exp;
	int rc, src, mine, orphan, borrowed;

	if (expires != NULL)
		*expires = 0;
	if (s == NULL || principal == NULL || lease_id == NULL)
		return XLICEN_E_INVALID;
	/* Shared: written at once, so that the other servers' sweeps see
	 * it (one round's transaction holds them all), as a light commit
	 * (pg_db.c: a lost one ends the lease up to a heartbeat early). */
	if (s->ops->shared)
		return store_heartbeat_write(s, principal, lease_id, now,
		    expires, 0);
	if (strlen(lease_id) != STORE_LEASE_ID_LEN)
		return store_heartbeat_write(s, principal, lease_id, now,
		    expires, 1);
	st = s->st[ST_HB_GET];
	if (store_bind_text(st, 1, lease_id) != 0) {
		rc = store_dberr(s, "heartbeat: bind");
		store_st_done(st);
		return rc;
	}
	if ((src = store_step(st)) != STORE_ROW) {
		store_st_done(st);
		if (src != STORE_DONE)
			return store_dberr(s, "heartbeat: select");
		return store_heartbeat_write(s, principal, lease_id, now,
		    expires, 1);
	}
	owner = store_col_text(st, 0);
	mine = owner != NULL && strcmp(owner, principal) == 0;
	ttl = store_col_int64(st, 1);
	exp = store_col_int64(st, 2);
	orphan = store_col_int64(st, 3) != 0;
	borrowed = (int)store_col_int64(st, 4);	/* 0, 1, 2 cancelled */
	store_st_done(st);
	/* A borrowed lease needs no heartbeat and gets no extension; one an
	 * administrator cancelled says so to its owner (whose library then
	 * drops the token, docs/CLIENT.md). */
	if (borrowed == 2 && mine && exp > now)
		return XLICEN_E_REVOKED;
	if (borrowed && mine && exp > now) {
		if (expires != NULL)
			*expires = exp;
		return XLICEN_OK;
	}
	if (s->hb_n > 0 && (e = store_hb_slot(s, lease_id))->id[0] != '\0')
		exp = e->expires;
	/* An orphan's heartbeat re-attaches it: written at once, so that
	 * its grace is over in the database too. */
	if (!mine || exp <= now || orphan)
		return store_heartbeat_write(s, principal, lease_id, now,
		    expires, 1);
	if ((rc = store_hb_put(s, lease_id, now, now + ttl)) != 0)
		return rc;
	if (expires != NULL)
		*expires = now + ttl;
	return XLICEN_OK;
}

int
store_release(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int *freed)
{
	struct store_event ev;
	struct lease_row lr;
	int64_t delta = 0;
	int rc, in_tx = 0, committed;

	if (freed != NULL)
		*freed = 0;
	if (s == NULL || principal == NULL || lease_id == NULL)
		return XLICEN_E_INVALID;

	if ((rc = store_begin_light(s)) != 0)
		goto out;
	in_tx = 1;
	/* The audit chain's head travels with the lease's read (only
	 * store_event writes events, and it steps the head first). */
	store_send_ahead(s->st[ST_EVENT_LAST]);
	if ((rc = store_lease_get(s, principal, lease_id, now, "release", &lr,
	    &committed)) != 0) {
		if (committed)
			in_tx = 0;
		goto out;
	}
	if ((rc = store_lease_drop(s, lease_id, lr.seat_id, lr.count, now, 1,
	    &delta)) != 0)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "release";
	ev.principal = principal;
	ev.host = lr.host;
	ev.display = lr.display;
	ev.product = lr.product;
	ev.version = lr.version[0] != '\0' ? lr.version : NULL;
	ev.lease_id = lease_id;
	ev.pool_id = lr.pool_id;
	ev.count = lr.count;
	ev.has_seats = 1;
	ev.seats = delta;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (freed != NULL)
		*freed = delta < 0;
out:
	if (in_tx)
		store_rollback(s);
	return rc;
}

int
store_remove(struct store *s, const char *admin, const char *lease_id,
    int64_t now, char *owner, size_t ownerlen, int64_t *cancelled_end)
{
	struct store_stmt *st;
	struct store_event ev;
	struct lease_row lr;
	char detail[LIMIT_STRING + 16];
	int64_t delta = 0;
	int rc, in_tx = 0, committed, b = 0;

	if (owner != NULL && ownerlen > 0)
		owner[0] = '\0';
	if (cancelled_end != NULL)
		*cancelled_end = 0;
	if (s == NULL || admin == NULL || lease_id == NULL)
		return XLICEN_E_INVALID;
	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_lease_get(s, NULL, lease_id, now, "remove", &lr,
	    &committed)) != 0)
		goto out;
	/* A borrowed lease is only marked: its token is away on a laptop
	 * that cannot be told, so its seat counts until its end. */
	if (lr.borrow > 0)
		rc = store_st_exec_text(s, ST_BORROW_CANCEL, lease_id,
		    "remove: cancel borrow");
	else
		rc = store_lease_drop(s, lease_id, lr.seat_id, lr.count, now,
		    0, &delta);
	if (rc != 0)
		goto out;
	st = s->st[ST_REVOKED_INS];
	b |= store_bind_text(st, 1, lease_id);
	b |= store_bind_text(st, 2, lr.owner);
	b |= store_bind_int64(st, 3, now);
	b |= store_bind_text(st, 4, admin);
	if (b != 0 || store_step(st) != STORE_DONE) {
		store_st_done(st);
		rc = store_dberr(s, "remove: revoked");
		goto out;
	}
	store_st_done(st);
	snprintf(detail, sizeof(detail), "by %s", admin);
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = lr.borrow > 0 ? "borrow_cancel" : "remove";
	ev.principal = lr.owner;
	ev.host = lr.host;
	ev.display = lr.display;
	ev.product = lr.product;
	ev.version = lr.version[0] != '\0' ? lr.version : NULL;
	ev.lease_id = lease_id;
	ev.pool_id = lr.pool_id;
	ev.count = lr.count;
	ev.detail = detail;
	ev.has_seats = 1;
	ev.seats = delta;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (owner != NULL && ownerlen > 0)
		snprintf(owner, ownerlen, "%s", lr.owner);
	if (cancelled_end != NULL && lr.borrow > 0)
		*cancelled_end = lr.expires;
out:
	if (in_tx)
		store_rollback(s);
	return rc;
}

int
store_reclaim(struct store *s, const char *principal, const char *lease_id,
    const char *host, const char *display, uint32_t pid, int64_t now,
    struct store_grant *out)
{
	struct store_stmt *st;
	struct store_event ev;
	struct lease_row lr;
	int64_t exp = 0;
	int rc, in_tx = 0, committed, b = 0;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || principal == NULL || lease_id == NULL || out == NULL)
		return XLICEN_E_INVALID;
	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_lease_get(s, principal, lease_id, now, "reclaim", &lr,
	    &committed)) != 0) {
		if (committed)
			in_tx = 0;
		goto out;
	}
	st = s->st[ST_RECLAIM_UPDATE];
	b |= store_bind_text(st, 1, lease_id);
	b |= store_bind_int64(st, 2, now);
	b |= store_bind_int64(st, 3, pid);
	b |= store_bind_text(st, 4, host);
	b |= store_bind_text(st, 5, display);
	if (b != 0 || store_step(st) != STORE_ROW) {
		store_st_done(st);
		rc = store_dberr(s, "reclaim: update");
		goto out;
	}
	exp = store_col_int64(st, 0);
	(void)store_step(st);
	store_st_done(st);
	if ((rc = store_product_totals(s, lr.product, now, &out->in_use,
	    &out->total)) != 0)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "reclaim";
	ev.principal = principal;
	ev.host = host != NULL ? host : lr.host;
	ev.display = display != NULL ? display : lr.display;
	ev.product = lr.product;
	ev.version = lr.version[0] != '\0' ? lr.version : NULL;
	ev.lease_id = lease_id;
	ev.pool_id = lr.pool_id;
	ev.count = lr.count;
	ev.has_seats = 1;
	ev.seats = 0;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	memcpy(out->lease_id, lease_id, strnlen(lease_id, LIMIT_LEASE_ID));
	out->expires = exp;
	out->ttl_s = (uint32_t)lr.ttl_s;
	out->heartbeat_s = lr.hb_s > 0 ? (uint32_t)lr.hb_s :
	    (uint32_t)(lr.ttl_s / 3 > 0 ? lr.ttl_s / 3 : 1);
	out->pool_id = lr.pool_id;
out:
	if (in_tx)
		store_rollback(s);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int
store_expire(struct store *s, int64_t now, int *n)
{
	int rc, in_tx = 0, found = 0;

	if (n != NULL)
		*n = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	if ((rc = store_begin_light(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_sweep(s, now, &found)) != 0 ||
	    (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (n != NULL)
		*n = found;
out:
	if (in_tx)
		store_rollback(s);
	return rc;
}

int64_t
store_next_expiry(struct store *s)
{
	struct store_stmt *st;
	int64_t v = 0;

	if (s == NULL)
		return 0;
	(void)store_hb_write(s);
	st = s->st[ST_NEXT_EXPIRY];
	if (store_step(st) != STORE_ROW)
		(void)store_dberr(s, "next expiry");
	else if (!store_col_is_null(st, 0))
		v = store_col_int64(st, 0);
	store_st_done(st);
	/* Shared: other servers grant leases this timer has not seen (and
	 * may die before they expire them); look again soon. */
	if (s->ops->shared) {
		int64_t poll = (int64_t)time(NULL) + LIMIT_STORE_POLL_S;

		if (v == 0 || v > poll)
			v = poll;
	}
	return v;
}

int
store_orphan(struct store *s, const char *const *lease_ids, size_t n,
    int64_t now, uint32_t grace_s, size_t *orphaned)
{
	struct store_stmt *st;
	size_t i, done = 0;
	int64_t changed;
	int rc, in_tx = 0;

	if (orphaned != NULL)
		*orphaned = 0;
	if (s == NULL || (n > 0 && lease_ids == NULL))
		return XLICEN_E_INVALID;
	if (n == 0 || grace_s == 0)
		return XLICEN_OK;
	/* Not synced: a grace lost to a power cut leaves the TTL. */
	if ((rc = store_begin_light(s)) != 0)
		goto out;
	in_tx = 1;
	st = s->st[ST_ORPHAN_SET];
	for (i = 0; i < n; i++) {
		if (store_bind_text(st, 1, lease_ids[i]) != 0 ||
		    store_bind_int64(st, 2, now + grace_s) != 0 ||
		    store_step(st) != STORE_DONE) {
			store_st_done(st);
			rc = store_dberr(s, "orphan: set");
			goto out;
		}
		changed = store_changes(st);
		store_st_done(st);
		if (changed > 0) {
			log_msg(LOG_INFO, "lease %s: its holder's connection "
			    "closed; freed in %u s unless re-attached",
			    lease_ids[i], grace_s);
			done++;
		}
	}
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (orphaned != NULL)
		*orphaned = done;
out:
	if (in_tx)
		store_rollback(s);
	return rc;
}

int
store_orphans_rearm(struct store *s, int64_t now, uint32_t grace_s)
{
	struct store_stmt *st;
	int rc;

	if (s == NULL)
		return XLICEN_E_INVALID;
	/* Shared: the other servers were up to take reclaims; their
	 * orphans' graces are not ours to restart. */
	if (s->ops->shared)
		return XLICEN_OK;
	if ((rc = store_begin_light(s)) != 0)
		return rc;
	st = s->st[ST_ORPHAN_REARM];
	if (store_bind_int64(st, 1, grace_s > 0 ? now + grace_s : 0) !=
	    0 || store_step(st) != STORE_DONE) {
		rc = store_dberr(s, "orphan: rearm");
		store_st_done(st);
		store_rollback(s);
		return rc;
	}
	store_st_done(st);
	if ((rc = store_commit(s)) != 0)
		store_rollback(s);
	return rc;
}

int
store_new_lease_id(char id[STORE_LEASE_ID_LEN + 1])
{
	uint8_t raw[STORE_LEASE_ID_LEN / 2];
	size_t got = 0;
	ssize_t r;

	while (got < sizeof(raw)) {
		r = getrandom(raw + got, sizeof(raw) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, "store: getrandom: %s",
			    strerror(errno));
			return XLICEN_E_INTERNAL;
		}
		got += (size_t)r;
	}
	hex_encode(raw, sizeof(raw), id);
	return XLICEN_OK;
}

uint32_t
store_clamp_u32(int64_t v)
{
	if (v < 0)
		return 0;
	if (v > (int64_t)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)v;
}
