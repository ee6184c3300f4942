/*
 * The store's audit trail: appending hash-chained events (common/audit.h)
 * inside the caller's transaction, store_audit for events of their own,
 * and store_verify_chain, which recomputes the chain.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xlicen_errors.h"

/* A column's text, or NULL for SQL NULL. */
const char *
store_col_text_or_null(struct store_stmt *st, int col)
{
	if (store_col_is_null(st, col))
		return NULL;
	return store_col_text(st, col);
}

/* An events row (columns in ST_EVENTS_ALL order) as the chain sees it.
 * The strings point into st: valid until its next step. */
void
store_row_to_audit(struct store_stmt *st, struct audit_event *ae)
{
	memset(ae, 0, sizeof(*ae));
	ae->id = store_col_int64(st, 0);
	ae->ts = store_col_int64(st, 1);
	ae->kind = store_col_text_or_null(st, 2);
	ae->principal = store_col_text_or_null(st, 3);
	ae->host = store_col_text_or_null(st, 4);
	ae->display = store_col_text_or_null(st, 5);
	ae->product = store_col_text_or_null(st, 6);
	ae->version = store_col_text_or_null(st, 7);
	ae->lease_id = store_col_text_or_null(st, 8);
	ae->has_pool_id = !store_col_is_null(st, 9);
	ae->pool_id = store_col_int64(st, 9);
	ae->has_count = !store_col_is_null(st, 10);
	ae->count = store_col_int64(st, 10);
	ae->code = store_col_int64(st, 11);
	ae->detail = store_col_text_or_null(st, 12);
	ae->has_seats = !store_col_is_null(st, 13);
	ae->seats = store_col_int64(st, 13);
}

/* How the row st is on stores its chained columns, for audit_row_check:
 * called before store_row_to_audit, whose reads may convert a value and
 * leave the column's type undefined. */
static void
store_row_cells(struct store_stmt *st, struct audit_cell c[AUDIT_NCOLS])
{
	int i;

	_Static_assert((int)AUDIT_T_INTEGER == (int)STORE_T_INTEGER &&
	    (int)AUDIT_T_REAL == (int)STORE_T_REAL &&
	    (int)AUDIT_T_TEXT == (int)STORE_T_TEXT &&
	    (int)AUDIT_T_BLOB == (int)STORE_T_BLOB &&
	    (int)AUDIT_T_NULL == (int)STORE_T_NULL,
	    "audit_type is store_type");
	for (i = 0; i < AUDIT_NCOLS; i++) {
		c[i].type = (int)store_col_type(st, i);
		c[i].bytes = 0;
		if (c[i].type == AUDIT_T_TEXT) {
			(void)store_col_text(st, i);
			c[i].bytes = store_col_bytes(st, i);
		}
	}
}

/*
 * Append an event, chained to the last one: its id is the last id + 1
 * and its hash covers the previous hash and the whole row.  Inside the
 * caller's transaction, which BEGIN IMMEDIATE makes the only writer.
 */
int
store_event(struct store *s, const struct store_event *ev)
{
	struct store_stmt *last = s->st[ST_EVENT_LAST];
	struct store_stmt *st = s->st[ST_EVENT_INS];
	struct audit_event ae;
	const void *blob;
	uint8_t prev[AUDIT_HASH_LEN], hash[AUDIT_HASH_LEN];
	int64_t id = 1;
	int have_prev = 0, src, rc = XLICEN_OK, b = 0;

	src = store_step(last);
	if (src == STORE_ROW) {
		id = store_col_int64(last, 0) + 1;
		if (store_col_type(last, 1) != STORE_T_BLOB ||
		    (blob = store_col_blob(last, 1)) == NULL ||
		    store_col_bytes(last, 1) != AUDIT_HASH_LEN) {
			log_msg(LOG_ERR, "store: audit event %" PRId64 " has no "
			    "hash: the chain cannot be continued", id - 1);
			store_st_done(last);
			return XLICEN_E_DB;
		}
		memcpy(prev, blob, AUDIT_HASH_LEN);
		have_prev = 1;
	} else if (src != STORE_DONE) {
		store_st_done(last);
		return store_dberr(s, "event: last hash");
	}
	store_st_done(last);

	memset(&ae, 0, sizeof(ae));
	ae.id = id;
	ae.ts = ev->ts;
	ae.kind = ev->kind;
	ae.principal = ev->principal;
	ae.host = ev->host;
	ae.display = ev->display;
	ae.product = ev->product;
	ae.version = ev->version;
	ae.lease_id = ev->lease_id;
	ae.has_pool_id = ev->pool_id != 0;
	ae.pool_id = ev->pool_id;
	ae.has_count = ev->count != 0;
	ae.count = ev->count;
	/* Stored as the positive wire value, like DENY and ERROR carry it. */
	ae.code = -(int64_t)ev->code;
	ae.detail = ev->detail;
	ae.has_seats = ev->has_seats;
	ae.seats = ev->seats;
	if ((rc = audit_event_hash(have_prev ? prev : NULL, &ae, hash)) != 0)
		return rc;

	b |= store_bind_int64(st, 1, id);
	b |= store_bind_int64(st, 2, ev->ts);
	b |= store_bind_text(st, 3, ev->kind);
	b |= store_bind_text(st, 4, ev->principal);
	b |= store_bind_text(st, 5, ev->host);
	b |= store_bind_text(st, 6, ev->display);
	b |= store_bind_text(st, 7, ev->product);
	b |= store_bind_text(st, 8, ev->version);
	b |= store_bind_text(st, 9, ev->lease_id);
	b |= ae.has_pool_id ? store_bind_int64(st, 10, ev->pool_id) :
	    store_bind_null(st, 10);
	b |= ae.has_count ? store_bind_int64(st, 11, ev->count) :
	    store_bind_null(st, 11);
	b |= store_bind_int64(st, 12, ae.code);
	b |= store_bind_text(st, 13, ev->detail);
	b |= ev->has_seats ? store_bind_int64(st, 14, ev->seats) :
	    store_bind_null(st, 14);
	b |= store_bind_blob(st, 15, hash, AUDIT_HASH_LEN);
	if (b != 0 || store_step(st) != STORE_DONE)
		rc = store_dberr(s, "insert event");
	store_st_done(st);
	return rc;
}

int
store_audit(struct store *s, int64_t now, const struct store_audit *a)
{
	struct store_event ev;
	int rc;

	if (s == NULL || a == NULL || a->kind == NULL)
		return XLICEN_E_INVALID;
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = a->kind;
	ev.principal = a->principal;
	ev.host = a->host;
	ev.display = a->display;
	ev.product = a->product;
	ev.version = a->version;
	ev.lease_id = a->lease_id;
	ev.count = a->count;
	ev.code = a->code;
	ev.detail = a->detail;
	if ((rc = store_begin(s)) != 0)
		return rc;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		store_rollback(s);
	return rc;
}

int
store_verify_chain(struct store *s, uint64_t *events, uint64_t *bad_id,
    char head[65])
{
	struct store_stmt *st;
	struct audit_event ae;
	struct audit_cell cells[AUDIT_NCOLS];
	struct audit_chain chain;
	const void *hash;
	size_t hashlen;
	int rc = XLICEN_OK, src;

	if (events != NULL)
		*events = 0;
	if (bad_id != NULL)
		*bad_id = 0;
	if (head != NULL)
		head[0] = '\0';
	if (s == NULL)
		return XLICEN_E_INVALID;
	audit_chain_init(&chain);
	st = s->st[ST_EVENTS_ALL];
	while ((src = store_step(st)) == STORE_ROW) {
		store_row_cells(st, cells);
		hash = NULL;
		hashlen = 0;
		if (store_col_type(st, 14) == STORE_T_BLOB) {
			hash = store_col_blob(st, 14);
			hashlen = store_col_bytes(st, 14);
		}
		store_row_to_audit(st, &ae);
		rc = audit_chain_feed(&chain, &ae, cells, hash, hashlen);
		if (rc == XLICEN_E_AUDIT_CHAIN)
			break;
		if (rc != 0)
			goto out;
	}
	rc = XLICEN_OK;
	if (chain.reason == AUDIT_BREAK_COLUMN)
		log_msg(LOG_WARNING, "store: audit event %" PRId64 ": column "
		    "%s is not stored as the chain encodes it", chain.bad_id,
		    audit_col_name(chain.col));
	if (chain.reason == AUDIT_BREAK_NONE && src != STORE_DONE) {
		rc = store_dberr(s, "verify: select");
		goto out;
	}
	if (events != NULL)
		*events = chain.rows;
	/* 0 means intact to the caller: a break at a row whose id is below
	 * 1 (only a row made by hand has one) is reported as UINT64_MAX. */
	if (bad_id != NULL && chain.reason != AUDIT_BREAK_NONE)
		*bad_id = chain.bad_id >= 1 ? (uint64_t)chain.bad_id :
		    UINT64_MAX;
	if (head != NULL)
		(void)audit_chain_head(&chain, head);
out:
	store_st_done(st);
	return rc;
}
