/*
 * The checkout queue: checkouts that asked to wait for a seat (QUEUE, or
 * WAIT with its held reply), in arrival order over all products.  It
 * lives in memory only and vanishes with its connection; its events are
 * audited.  Seats that come free are offered to it (queue_seats_freed),
 * and its timeouts and WAIT steps run from the loop's timers (through
 * handlers_timers, which also keeps an admin SHUTDOWN's delay).  It uses
 * req.c and lmap.c below it, and answers a waiting checkout late through
 * the documented upcall conn_send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "err.h"
#include "handlers_int.h"
#include "hex.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"

void
queue_audit(struct server *srv, const struct qentry *e, const char *kind,
    int code, const char *detail)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.kind = kind;
	a.principal = e->principal;
	a.host = e->host;
	a.display = e->display[0] != '\0' ? e->display : NULL;
	a.product = e->product;
	a.version = e->version;
	a.lease_id = e->qid;
	a.count = e->count;
	a.code = code;
	a.detail = detail;
	if (store_audit(srv->store, (int64_t)time(NULL), &a) != 0)
		log_msg(LOG_ERR, "audit of %s %s failed", kind, e->qid);
}

uint32_t
queue_timeout_s(const struct server *srv, const char *product)
{
	struct policy_settings ps;

	policy_settings(srv->policy, product, &ps);
	return ps.queue_timeout_s != 0 ? ps.queue_timeout_s :
	    LIMIT_QUEUE_TIMEOUT_S;
}

uint32_t
queue_position(const struct handlers_state *hs, const struct qentry *e)
{
	const struct qentry *q;
	uint32_t pos = 0;

	for (q = hs->qhead; q != NULL; q = q->next) {
		if (strcmp(q->product, e->product) == 0)
			pos++;
		if (q == e)
			break;
	}
	return pos;
}

uint32_t
queue_count(const struct handlers_state *hs, const char *product)
{
	const struct qentry *q;
	uint32_t n = 0;

	for (q = hs != NULL ? hs->qhead : NULL; q != NULL; q = q->next)
		if (product == NULL || strcmp(q->product, product) == 0)
			n++;
	return n;
}

uint32_t
queue_count_of(const struct handlers_state *hs, const char *product,
    const char *principal)
{
	const struct qentry *q;
	uint32_t n = 0;

	for (q = hs != NULL ? hs->qhead : NULL; q != NULL; q = q->next)
		if (strcmp(q->product, product) == 0 &&
		    strcmp(q->principal, principal) == 0)
			n++;
	return n;
}

void
queue_unlink(struct handlers_state *hs, struct qentry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		hs->qhead = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		hs->qtail = e->prev;
	hs->qlen--;
	metrics_queue_len(-1);
	free(e);
}

struct qentry *
queue_find(struct handlers_state *hs, const char *qid, const char *principal)
{
	struct qentry *q;

	for (q = hs != NULL ? hs->qhead : NULL; q != NULL; q = q->next)
		if (strcmp(q->qid, qid) == 0 &&
		    strcmp(q->principal, principal) == 0)
			return q;
	return NULL;
}

int
queue_new_id(char out[QUEUE_ID_LEN + 1])
{
	uint8_t raw[(QUEUE_ID_LEN - 1) / 2];

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return XLICEN_E_INTERNAL;
	out[0] = 'q';
	hex_encode(raw, sizeof(raw), out + 1);
	return 0;
}

/* A late answer to a queued checkout: the held reply of a WAIT (its own
 * request id) or an unsolicited message (id 0) naming the request. */
void
queue_answer(struct qentry *e, struct msg *m)
{
	if (e->c == NULL)
		return;
	if (e->wait) {
		m->id = e->req_id;
	} else {
		m->id = 0;
		m->request = e->req_id;
		m->have |= MSG_F(TAG_REQUEST);
	}
	msg_set_str(m, TAG_QUEUE_ID, e->qid);
	if (conn_send(e->c, m) != 0)
		log_msg(LOG_NOTICE, "%s: could not send the answer to queued "
		    "checkout %s", e->c->peer, e->qid);
	e->req_id = 0;
}

static void
queue_store_req(const struct server *srv, const struct qentry *e,
    struct store_checkout_req *cr, int64_t now)
{
	memset(cr, 0, sizeof(*cr));
	cr->principal = e->principal;
	cr->product = e->product;
	cr->version = e->version;
	cr->host = e->host;
	cr->display = e->display;
	cr->count = e->count;
	cr->pid = e->pid;
	cr->ttl_s = srv->cfg.lease_ttl_s;
	cr->heartbeat_s = srv->cfg.heartbeat_s;
	cr->now = now;
	cr->policy = srv->policy;
	cr->quiet = 1;
}

/*
 * Seats may have come free: give them to the queue, in arrival order, to
 * every entry that fits (a large request does not block smaller ones
 * behind it).  Parked WAIT entries keep their place but cannot be served
 * until their client asks again.
 */
void
queue_seats_freed(struct server *srv)
{
	struct handlers_state *hs = srv->hs;
	struct qentry *e, *next;
	struct store_checkout_req cr;
	struct store_grant g;
	struct msg m;
	/* Per product, the smallest count denied for want of seats in this
	 * pass: a larger one cannot fit either. */
	struct { const char *product; uint32_t min; } full[32];
	size_t nfull = 0, i;
	char reason[3 * LIMIT_STRING];
	int64_t now = (int64_t)time(NULL);
	int rc, skip;

	if (hs == NULL || hs->qhead == NULL)
		return;
	for (e = hs->qhead; e != NULL; e = next) {
		next = e->next;
		if (e->park_ms != 0 || e->c == NULL)
			continue;
		skip = 0;
		for (i = 0; i < nfull; i++)
			if (strcmp(full[i].product, e->product) == 0 &&
			    e->count >= full[i].min)
				skip = 1;
		if (skip)
			continue;
		queue_store_req(srv, e, &cr, now);
		rc = store_checkout(srv->store, &cr, &g);
		if (rc == 0) {
			msg_init(&m, MSG_GRANT, 0);
			req_fill_grant(&m, &g);
			req_note_expiry(srv, g.expires);
			log_msg(LOG_INFO, "grant %s %s %u seat(s) to %s lease %s "
			    "(%u/%u) from the queue (%s)", e->product,
			    e->version, e->count, e->principal, g.lease_id,
			    g.in_use, g.total, e->qid);
			lmap_bind(srv, g.lease_id, e->c);
			metrics_grant();
			queue_audit(srv, e, "dequeue", 0, "granted");
			queue_answer(e, &m);
			msg_clear(&m);
			queue_unlink(hs, e);
			continue;
		}
		if (rc == XLICEN_E_NO_SEATS) {
			for (i = 0; i < nfull; i++)
				if (strcmp(full[i].product, e->product) == 0)
					break;
			if (i < nfull) {
				if (e->count < full[i].min)
					full[i].min = e->count;
			} else if (nfull < sizeof(full) / sizeof(full[0])) {
				full[nfull].product = e->product;
				full[nfull++].min = e->count;
			}
			continue;
		}
		if (rc == XLICEN_E_MAX_REACHED || rc == XLICEN_E_DB)
			continue;
		/* The license went away, expired or now excludes it. */
		{
			struct msg rq;

			msg_init(&rq, MSG_CHECKOUT, 0);
			msg_set_str(&rq, TAG_PRODUCT, e->product);
			msg_set_str(&rq, TAG_VERSION, e->version);
			rq.count = e->count;
			req_deny_reason(rc, &rq, &g, reason,
			    sizeof(reason));
			msg_clear(&rq);
		}
		msg_init(&m, MSG_DENY, 0);
		req_reply_error(&m, MSG_DENY, rc, reason);
		metrics_deny(rc);
		queue_audit(srv, e, "dequeue", rc, reason);
		queue_answer(e, &m);
		msg_clear(&m);
		queue_unlink(hs, e);
	}
}

/* Queue timeouts, WAIT steps and parked entries. */
void
queue_timers(struct server *srv, int64_t now)
{
	struct handlers_state *hs = srv->hs;
	struct qentry *e, *next;
	struct msg m;
	char reason[LIMIT_STRING + 96];

	if (hs == NULL)
		return;
	for (e = hs->qhead; e != NULL; e = next) {
		next = e->next;
		if (now >= e->deadline_ms) {
			snprintf(reason, sizeof(reason), "no seat of %s within "
			    "the queue timeout of %u s", e->product,
			    queue_timeout_s(srv, e->product));
			log_msg(LOG_INFO, "queued checkout %s of %s by %s timed "
			    "out", e->qid, e->product, e->principal);
			queue_audit(srv, e, "dequeue", XLICEN_E_TIMEOUT, reason);
			metrics_deny(XLICEN_E_TIMEOUT);
			if (e->park_ms == 0) {
				msg_init(&m, MSG_DENY, 0);
				req_reply_error(&m, MSG_DENY,
				    XLICEN_E_TIMEOUT, reason);
				queue_answer(e, &m);
				msg_clear(&m);
			}
			queue_unlink(hs, e);
			continue;
		}
		if (e->park_ms != 0 && now >= e->park_ms) {
			queue_audit(srv, e, "dequeue", XLICEN_E_CLOSED,
			    "abandoned: the waiting client did not ask again");
			queue_unlink(hs, e);
			continue;
		}
		if (e->wait && e->step_ms != 0 && now >= e->step_ms) {
			/* The step is over: say where it stands and keep its
			 * place while the client asks again. */
			msg_init(&m, MSG_QUEUED, e->req_id);
			m.position = queue_position(hs, e);
			m.expires = (uint64_t)e->expires;
			m.have |= MSG_F(TAG_POSITION) | MSG_F(TAG_EXPIRES);
			msg_set_str(&m, TAG_QUEUE_ID, e->qid);
			if (e->c != NULL && conn_send(e->c, &m) != 0)
				log_msg(LOG_NOTICE, "%s: could not send QUEUED",
				    e->c->peer);
			msg_clear(&m);
			e->req_id = 0;
			e->step_ms = 0;
			e->park_ms = now + 1000LL * LIMIT_QUEUE_PARK_S;
		}
	}
}

int64_t
queue_next_deadline_ms(const struct server *srv)
{
	const struct qentry *e;
	int64_t next = 0;

	for (e = srv->hs != NULL ? srv->hs->qhead : NULL; e != NULL;
	    e = e->next) {
		int64_t t = e->deadline_ms;

		if (e->step_ms != 0 && e->step_ms < t)
			t = e->step_ms;
		if (e->park_ms != 0 && e->park_ms < t)
			t = e->park_ms;
		if (next == 0 || t < next)
			next = t;
	}
	return next;
}

int
queue_add(struct conn *c, const struct msg *req, const char *host,
    const char *disp, const struct store_grant *g, struct msg *reply)
{
	struct server *srv = c->srv;
	struct handlers_state *hs = req_state(srv);
	struct qentry *e;
	uint32_t tmo, wait, mine;
	int64_t now = (int64_t)time(NULL);
	char detail[64], why[3 * LIMIT_STRING];

	if (hs == NULL)
		return XLICEN_E_NOMEM;
	if (queue_count(hs, req->product) >= LIMIT_QUEUE_LEN) {
		req_reply_error(reply, MSG_DENY, XLICEN_E_BUSY,
		    "the queue of this product is full");
		return 0;
	}
	/* One principal may not fill the queue that all share: beyond its
	 * places, its checkouts are refused, not queued. */
	mine = queue_count_of(hs, req->product, c->principal);
	if (mine >= srv->cfg.queue_per_principal) {
		snprintf(why, sizeof(why), "%s already holds %u places in the "
		    "queue of %s (the most one principal may hold)",
		    c->principal, mine, req->product);
		req_reply_error(reply, MSG_DENY, XLICEN_E_QUEUE_LIMIT,
		    why);
		req_audit(srv, "deny", c->principal, req->product, NULL,
		    XLICEN_E_QUEUE_LIMIT, why);
		log_msg(LOG_INFO, "deny %s %s to %s: %s", req->product,
		    req->version, c->principal, why);
		return 0;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return XLICEN_E_NOMEM;
	if (queue_new_id(e->qid) != 0) {
		free(e);
		return XLICEN_E_INTERNAL;
	}
	e->c = c;
	e->req_id = req->id;
	e->wait = (req->flags & MSG_FLAG_WAIT) != 0;
	snprintf(e->principal, sizeof(e->principal), "%s", c->principal);
	snprintf(e->product, sizeof(e->product), "%s", req->product);
	snprintf(e->version, sizeof(e->version), "%s", req->version);
	snprintf(e->host, sizeof(e->host), "%s", host);
	snprintf(e->display, sizeof(e->display), "%s", disp);
	e->pid = req->pid;
	e->count = req->count;
	tmo = queue_timeout_s(srv, req->product);
	e->since = now;
	e->expires = now + tmo;
	e->deadline_ms = server_now_ms() + 1000LL * tmo;
	e->prev = hs->qtail;
	if (hs->qtail != NULL)
		hs->qtail->next = e;
	else
		hs->qhead = e;
	hs->qtail = e;
	hs->qlen++;
	metrics_queue_len(1);
	metrics_queued();
	snprintf(detail, sizeof(detail), "position %u", queue_position(hs, e));
	queue_audit(srv, e, "queue", 0, detail);
	log_msg(LOG_INFO, "queued %s %s %u seat(s) for %s as %s (%s, %u/%u)",
	    e->product, e->version, e->count, e->principal, e->qid, detail,
	    g->in_use, g->total);
	if (e->wait) {
		wait = (req->have & MSG_F(TAG_WAIT)) ? req->wait :
		    LIMIT_WAIT_STEP_S;
		if (wait > LIMIT_WAIT_STEP_S)
			wait = LIMIT_WAIT_STEP_S;
		e->step_ms = server_now_ms() + 1000LL * wait;
		if (e->step_ms > e->deadline_ms)
			e->step_ms = e->deadline_ms;
		return HANDLERS_DEFERRED;
	}
	reply->type = MSG_QUEUED;
	reply->position = queue_position(hs, e);
	reply->expires = (uint64_t)e->expires;
	reply->in_use = g->in_use;
	reply->total = g->total;
	reply->have |= MSG_F(TAG_POSITION) | MSG_F(TAG_EXPIRES) |
	    MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL);
	msg_set_str(reply, TAG_QUEUE_ID, e->qid);
	return 0;
}
