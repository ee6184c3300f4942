/*
 * The requests that answer with a list, cut to fit one reply (MORE set
 * when it was cut): STATUS (the pools with their effective settings),
 * LIST_MINE and the admin HOLDERS (leases, lingering seats and queued
 * checkouts), and the admin REPORT (usage, and the audit chain's check);
 * and INFO, the server's own facts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "handlers_int.h"
#include "log.h"
#include "policy.h"

/* Space a list may take in one reply: the smaller of the two sides'
 * frame limits, less room for the wrap and the other fields. */
static size_t
req_list_budget(const struct server *srv)
{
	size_t lim = srv->cfg.frame_postauth;

	if (lim == 0 || lim > LIMIT_FRAME_POSTAUTH)
		lim = LIMIT_FRAME_POSTAUTH;
	return lim > 8192 ? lim - 4096 : lim / 2;
}

static const char *
req_list_dup(const struct server *srv, const struct store_pool_status *p,
    uint32_t *linger, uint32_t *ttl, uint32_t *hb)
{
	struct policy_settings ps;
	int d;

	policy_settings(srv->policy, p->product, &ps);
	*linger = p->linger_s > ps.linger_s ? p->linger_s : ps.linger_s;
	*ttl = p->ttl_s != 0 ? p->ttl_s : ps.ttl_s != 0 ? ps.ttl_s :
	    srv->cfg.lease_ttl_s;
	if (*ttl < LIMIT_LEASE_TTL_MIN_S)
		*ttl = LIMIT_LEASE_TTL_MIN_S;
	*hb = p->heartbeat_s != 0 ? p->heartbeat_s : ps.heartbeat_s != 0 ?
	    ps.heartbeat_s : srv->cfg.heartbeat_s;
	if (*hb == 0 || *hb > *ttl / 3)
		*hb = *ttl / 3 > 0 ? *ttl / 3 : 1;
	if ((d = policy_dup_parse(p->dup_group)) >= 0)
		return policy_dup_name((enum policy_dup)d);
	return policy_dup_name(ps.dup_set ? ps.dup : POLICY_DUP_UHD);
}

int
req_list_status(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_pool_status *ps = NULL;
	struct msg_pool mp;
	size_t i, n = 0, used = 0, budget = req_list_budget(srv);
	int64_t now = (int64_t)time(NULL);
	int rc;

	rc = store_status(srv->store, (req->have & MSG_F(TAG_PRODUCT)) ?
	    req->product : NULL, now, &ps, &n);
	if (rc != 0) {
		req_reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	reply->type = MSG_STATUS_REPLY;
	reply->time = (uint64_t)now;
	reply->have |= MSG_F(TAG_TIME);
	for (i = 0; i < n; i++) {
		const char *dup;

		memset(&mp, 0, sizeof(mp));
		snprintf(mp.product, sizeof(mp.product), "%s", ps[i].product);
		snprintf(mp.versions, sizeof(mp.versions), "%s", ps[i].versions);
		snprintf(mp.vendor, sizeof(mp.vendor), "%s", ps[i].vendor);
		snprintf(mp.serial, sizeof(mp.serial), "%s", ps[i].serial);
		mp.total = ps[i].total;
		mp.in_use = ps[i].in_use;
		mp.start = (uint64_t)ps[i].start;
		mp.expires = (uint64_t)ps[i].expires;
		mp.state = (uint8_t)ps[i].state;
		mp.have = MSG_F(TAG_PRODUCT) | MSG_F(TAG_VERSIONS) |
		    MSG_F(TAG_VENDOR) | MSG_F(TAG_SERIAL) | MSG_F(TAG_TOTAL) |
		    MSG_F(TAG_IN_USE) | MSG_F(TAG_START) | MSG_F(TAG_EXPIRES) |
		    MSG_F(TAG_STATE);
		/* The later fields: effective settings and the queue. */
		mp.queued = queue_count(srv->hs, ps[i].product);
		mp.pool_flags = (ps[i].uncounted ? MSG_POOL_UNCOUNTED : 0) |
		    (ps[i].hostid[0] != '\0' ? MSG_POOL_NODE_LOCKED : 0);
		dup = req_list_dup(srv, &ps[i], &mp.linger, &mp.ttl,
		    &mp.heartbeat);
		snprintf(mp.dup_group, sizeof(mp.dup_group), "%s", dup);
		mp.have |= MSG_F(TAG_QUEUED) | MSG_F(TAG_POOL_FLAGS) |
		    MSG_F(TAG_DUP_GROUP) | MSG_F(TAG_LINGER) | MSG_F(TAG_TTL) |
		    MSG_F(TAG_HEARTBEAT);
		if (ps[i].hostid[0] != '\0') {
			snprintf(mp.hostid, sizeof(mp.hostid), "%s",
			    ps[i].hostid);
			mp.have |= MSG_F(TAG_HOSTID);
		}
		used += 160 + strlen(mp.product) + strlen(mp.versions) +
		    strlen(mp.vendor) + strlen(mp.serial) + strlen(mp.hostid);
		if (used > budget || msg_add_pool(reply, &mp) != 0) {
			reply->more = 1;
			reply->have |= MSG_F(TAG_MORE);
			break;
		}
	}
	free(ps);
	return 0;
}

/* A HOLDER entry of a lease or lingering seat. */
static void
req_list_holder_of_store(const struct server *srv,
    const struct store_holder *sh, struct msg_holder *h)
{
	memset(h, 0, sizeof(*h));
	msg_holder_set_str(h, TAG_PRODUCT, sh->product);
	msg_holder_set_str(h, TAG_PRINCIPAL, sh->principal);
	if (sh->version[0] != '\0')
		msg_holder_set_str(h, TAG_VERSION, sh->version);
	msg_holder_set_str(h, TAG_HOST, sh->host);
	if (sh->display[0] != '\0')
		msg_holder_set_str(h, TAG_DISPLAY, sh->display);
	h->count = sh->count;
	h->since = (uint64_t)sh->since;
	h->expires = (uint64_t)sh->expires;
	h->have |= MSG_F(TAG_COUNT) | MSG_F(TAG_SINCE) | MSG_F(TAG_EXPIRES);
	if (sh->lingering) {
		h->state = MSG_HOLDER_LINGER;
	} else {
		h->state = sh->borrow == 1 ? MSG_HOLDER_BORROWED :
		    sh->borrow == 2 ? MSG_HOLDER_CANCELLED : MSG_HOLDER_LEASE;
		msg_holder_set_str(h, TAG_LEASE, sh->lease_id);
		h->pid = sh->pid;
		h->last_hb = (uint64_t)sh->last_hb;
		h->heartbeat = sh->heartbeat_s;
		h->connected = lmap_find(srv->hs, sh->lease_id) != NULL;
		h->have |= MSG_F(TAG_PID) | MSG_F(TAG_LAST_HB) |
		    MSG_F(TAG_HEARTBEAT) | MSG_F(TAG_CONNECTED);
	}
	h->pool_flags = sh->withdrawn ? MSG_POOL_WITHDRAWN : 0;
	h->have |= MSG_F(TAG_STATE) | MSG_F(TAG_POOL_FLAGS);
}

static void
req_list_holder_of_queue(const struct handlers_state *hs,
    const struct qentry *e, struct msg_holder *h)
{
	memset(h, 0, sizeof(*h));
	msg_holder_set_str(h, TAG_PRODUCT, e->product);
	msg_holder_set_str(h, TAG_PRINCIPAL, e->principal);
	msg_holder_set_str(h, TAG_VERSION, e->version);
	msg_holder_set_str(h, TAG_HOST, e->host);
	if (e->display[0] != '\0')
		msg_holder_set_str(h, TAG_DISPLAY, e->display);
	msg_holder_set_str(h, TAG_QUEUE_ID, e->qid);
	h->pid = e->pid;
	h->count = e->count;
	h->since = (uint64_t)e->since;
	h->expires = (uint64_t)e->expires;
	h->state = MSG_HOLDER_QUEUED;
	h->position = queue_position(hs, e);
	h->connected = e->c != NULL;
	h->have |= MSG_F(TAG_PID) | MSG_F(TAG_COUNT) | MSG_F(TAG_SINCE) |
	    MSG_F(TAG_EXPIRES) | MSG_F(TAG_STATE) | MSG_F(TAG_POSITION) |
	    MSG_F(TAG_CONNECTED);
}

/* HOLDERS and LIST_MINE (principal set: only its own). */
int
req_list_holders(struct conn *c, const struct msg *req, const char *principal,
    struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_holder *sh = NULL;
	struct msg_holder h;
	const struct qentry *e;
	const char *product = (req->have & MSG_F(TAG_PRODUCT)) ?
	    req->product : NULL;
	size_t i, n = 0, used = 0, budget = req_list_budget(srv);
	int64_t now = (int64_t)time(NULL);
	int rc, full = 0;

	rc = store_holders(srv->store, product, principal, now, &sh, &n);
	if (rc != 0) {
		req_reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	reply->type = MSG_HOLDERS_REPLY;
	reply->time = (uint64_t)now;
	reply->have |= MSG_F(TAG_TIME);
	for (i = 0; i < n && !full; i++) {
		req_list_holder_of_store(srv, &sh[i], &h);
		used += 120 + strlen(h.product) + strlen(h.principal) +
		    strlen(h.host) + strlen(h.display) + strlen(h.lease) +
		    strlen(h.version);
		if (used > budget || msg_add_holder(reply, &h) != 0)
			full = 1;
	}
	for (e = srv->hs != NULL ? srv->hs->qhead : NULL; e != NULL && !full;
	    e = e->next) {
		if ((product != NULL && strcmp(e->product, product) != 0) ||
		    (principal != NULL && strcmp(e->principal, principal) != 0))
			continue;
		req_list_holder_of_queue(srv->hs, e, &h);
		used += 120 + strlen(h.product) + strlen(h.principal) +
		    strlen(h.host) + strlen(h.display) + strlen(h.queue_id) +
		    strlen(h.version);
		if (used > budget || msg_add_holder(reply, &h) != 0)
			full = 1;
	}
	if (full) {
		reply->more = 1;
		reply->have |= MSG_F(TAG_MORE);
	}
	free(sh);
	return 0;
}

/* Filling a REPORT_REPLY with raw events (REPORT with FLAGS EVENTS). */
struct req_events {
	struct msg *reply;
	const char *product;	/* NULL: all */
	int64_t from, to;
	size_t used, budget;
};

/* One event into the reply, if it is in range; 1 (stop) when the reply
 * is full, with MORE set. */
static int
req_list_event(void *arg, const struct store_event_row *e)
{
	struct req_events *x = arg;
	struct msg_event m;
	size_t i;
	const struct {
		int tag;
		const char *v;
	} strs[] = {
		{ TAG_KIND, e->kind }, { TAG_PRINCIPAL, e->principal },
		{ TAG_HOST, e->host }, { TAG_DISPLAY, e->display },
		{ TAG_PRODUCT, e->product }, { TAG_VERSION, e->version },
		{ TAG_LEASE, e->lease_id }, { TAG_NOTE, e->detail },
	};

	if (e->ts < x->from || e->ts > x->to || (x->product != NULL &&
	    (e->product == NULL || strcmp(e->product, x->product) != 0)))
		return 0;
	memset(&m, 0, sizeof(m));
	m.event_id = (uint64_t)e->id;
	m.time = e->ts > 0 ? (uint64_t)e->ts : 0;
	m.have |= MSG_F(TAG_EVENT_ID) | MSG_F(TAG_TIME);
	x->used += 80;
	/* A value the protocol cannot carry (too long, not UTF-8: written
	 * by hand into the file) is left out rather than the event. */
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strs[i].v != NULL && strs[i].v[0] != '\0' &&
		    msg_event_set_str(&m, strs[i].tag, strs[i].v) == 0)
			x->used += 4 + strlen(strs[i].v);
	if (e->count >= 0 && e->count <= UINT32_MAX) {
		m.count = (uint32_t)e->count;
		m.have |= MSG_F(TAG_COUNT);
	}
	if (e->code > 0 && e->code <= UINT16_MAX) {
		m.code = (uint16_t)e->code;
		m.have |= MSG_F(TAG_CODE);
	}
	if (!(m.have & MSG_F(TAG_KIND)))
		return 0;
	if (x->used > x->budget || msg_add_event(x->reply, &m) != 0) {
		x->reply->more = 1;
		x->reply->have |= MSG_F(TAG_MORE);
		return 1;
	}
	return 0;
}

/* REPORT with FLAGS EVENTS: the events of [from, to] (of the request's
 * PRODUCT) after its AFTER, as many as fit.  0 or a store error. */
static int
req_list_events(struct server *srv, const struct msg *req, struct msg *reply,
    int64_t from, int64_t to)
{
	struct req_events x;
	uint64_t after = (req->have & MSG_F(TAG_AFTER)) ? req->after : 0;
	int rc;

	memset(&x, 0, sizeof(x));
	x.reply = reply;
	x.product = (req->have & MSG_F(TAG_PRODUCT)) ? req->product : NULL;
	x.from = from;
	x.to = to;
	x.budget = req_list_budget(srv);
	rc = store_events(srv->store, after > INT64_MAX ? INT64_MAX :
	    (int64_t)after, req_list_event, &x);
	return rc == 1 ? 0 : rc;
}

int
req_list_report(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_report_row *rows = NULL;
	struct msg_row r;
	size_t i, n = 0, used = 0, budget = req_list_budget(srv);
	int64_t now = (int64_t)time(NULL);
	int64_t from = (req->have & MSG_F(TAG_FROM)) ? (int64_t)req->from : 0;
	int64_t to = (req->have & MSG_F(TAG_TO)) ? (int64_t)req->to : now;
	int64_t first = 0;
	uint64_t nev = 0, bad = 0;
	char head[65], why[160];
	int rc;

	if (req->from > INT64_MAX || req->to > INT64_MAX || from > to) {
		req_reply_error(reply, MSG_ERROR, XLICEN_E_BAD_VALUE,
		    "the report range is empty (FROM after TO)");
		return 0;
	}
	if (to > now)
		to = now;
	/* No start given: the whole recorded history, from its first
	 * event (none yet: an empty range at to). */
	if (!(req->have & MSG_F(TAG_FROM))) {
		if ((rc = store_first_event(srv->store, &first)) != 0) {
			req_reply_error(reply, MSG_ERROR, rc, NULL);
			return 0;
		}
		from = first > 0 ? first : to;
	}
	if (from > to)
		from = to;
	if ((req->have & MSG_F(TAG_FLAGS)) && (req->flags & MSG_REPORT_EVENTS)) {
		reply->type = MSG_REPORT_REPLY;
		reply->time = (uint64_t)now;
		reply->from = (uint64_t)from;
		reply->to = (uint64_t)to;
		reply->have |= MSG_F(TAG_TIME) | MSG_F(TAG_FROM) | MSG_F(TAG_TO);
		if ((rc = req_list_events(srv, req, reply, from, to)) != 0) {
			msg_clear(reply);
			msg_init(reply, 0, req->id);
			req_reply_error(reply, MSG_ERROR, rc, NULL);
		}
		return 0;
	}
	rc = store_report(srv->store, from, to, now,
	    (req->have & MSG_F(TAG_PRODUCT)) ? req->product : NULL, &rows, &n);
	if (rc != 0) {
		req_reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	reply->type = MSG_REPORT_REPLY;
	reply->time = (uint64_t)now;
	reply->from = (uint64_t)from;
	reply->to = (uint64_t)to;
	reply->have |= MSG_F(TAG_TIME) | MSG_F(TAG_FROM) | MSG_F(TAG_TO);
	for (i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		msg_row_set_str(&r, TAG_PRODUCT, rows[i].product);
		if (rows[i].principal[0] != '\0')
			msg_row_set_str(&r, TAG_PRINCIPAL, rows[i].principal);
		r.grants = rows[i].grants;
		r.denials = rows[i].denials;
		r.peak = rows[i].peak;
		r.avg_milli = rows[i].avg * 1000.0 >= 4294967295.0 ?
		    UINT32_MAX : (uint32_t)(rows[i].avg * 1000.0 + 0.5);
		r.seconds = rows[i].seconds;
		r.have |= MSG_F(TAG_GRANTS) | MSG_F(TAG_DENIALS) |
		    MSG_F(TAG_PEAK) | MSG_F(TAG_AVG_MILLI) | MSG_F(TAG_SECONDS);
		used += 80 + strlen(r.product) + strlen(r.principal);
		if (used > budget || msg_add_row(reply, &r) != 0) {
			reply->more = 1;
			reply->have |= MSG_F(TAG_MORE);
			break;
		}
	}
	free(rows);
	if ((req->have & MSG_F(TAG_FLAGS)) && (req->flags & MSG_REPORT_VERIFY)) {
		if ((rc = store_verify_chain(srv->store, &nev, &bad, head)) !=
		    0) {
			msg_clear(reply);
			msg_init(reply, 0, req->id);
			req_reply_error(reply, MSG_ERROR, rc, NULL);
			return 0;
		}
		reply->events = nev;
		reply->bad_event = bad;
		reply->have |= MSG_F(TAG_EVENTS) | MSG_F(TAG_BAD_EVENT);
		msg_set_str(reply, TAG_HASH, head);
		if (bad != 0) {
			snprintf(why, sizeof(why), "audit event %llu does not "
			    "match its hash: the trail was altered from there "
			    "on", (unsigned long long)bad);
			msg_set_str(reply, TAG_REASON, why);
			log_msg(LOG_WARNING, "audit chain broken at event %llu",
			    (unsigned long long)bad);
		}
	}
	return 0;
}

int
req_list_info(struct conn *c, struct msg *reply)
{
	struct server *srv = c->srv;
	int i;

	reply->type = MSG_INFO_REPLY;
	reply->time = (uint64_t)time(NULL);
	reply->since = (uint64_t)srv->started;
	reply->loaded = srv->lic_loaded;
	reply->refused = srv->lic_refused;
	reply->have |= MSG_F(TAG_TIME) | MSG_F(TAG_SINCE) | MSG_F(TAG_LOADED) |
	    MSG_F(TAG_REFUSED);
	(void)msg_set_str(reply, TAG_VERSION, XLICEN_VERSION);
	/* A directory name past LIMIT_STRING, or not UTF-8, is left out
	 * (the field is optional); so is an address that would not fit. */
	(void)msg_set_str(reply, TAG_LICDIR, srv->cfg.licdir);
	for (i = 0; i < srv->nlisten; i++)
		(void)msg_add_listen(reply, srv->listen_shown[i]);
	return 0;
}
