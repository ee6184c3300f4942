/*
 * Request handlers: a decoded, authenticated request -> policy -> store
 * -> reply.  The seat owner is always the principal the GSS context
 * authenticated; nothing the client claims (host, display) decides
 * ownership.
 *
 * Besides answering requests this module keeps the server's in-memory
 * seat state that SQLite does not: the queue of checkouts waiting for a
 * seat (it vanishes with its connection, so it has no business in the
 * database; its events are audited there), and which open connection
 * holds each lease, so that a removed lease's holder can be told at once
 * and the leases of a connection its client ended become orphans.  A
 * connection holds a lease once it got its GRANT or RECLAIM, or
 * heartbeated it while no other connection held it; a HEARTBEAT or
 * RELEASE from another connection does not take it away (docs/ADMIN.md,
 * "When a holder dies: orphaned leases").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "display.h"
#include "err.h"
#include "hash.h"
#include "hostcheck.h"
#include "license.h"
#include "log.h"
#include "policy.h"
#include "server.h"

#define LMAP_BUCKETS	4096
#define QUEUE_ID_LEN	17	/* "q" + 16 hex digits */

/* A lease bound to the connection that holds it. */
struct lnk {
	struct lnk *hnext;		/* hash bucket chain */
	struct lnk *cprev, *cnext;	/* the connection's list */
	struct conn *c;
	char id[LIMIT_LEASE_ID + 1];
};

/* A checkout waiting for a seat. */
struct qentry {
	struct qentry *prev, *next;	/* arrival order, all products */
	struct conn *c;
	uint32_t req_id;		/* the request to answer; 0 none */
	int wait;			/* WAIT (held replies), else QUEUE */
	char qid[QUEUE_ID_LEN + 1];
	char principal[LIMIT_STRING + 1];
	char product[LIMIT_STRING + 1];
	char version[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1];
	char display[LIMIT_STRING + 1];
	uint32_t pid;
	uint32_t count;
	int64_t since;			/* UTC s queued */
	int64_t expires;		/* UTC s the queue timeout ends */
	int64_t deadline_ms;		/* monotonic: the same */
	int64_t step_ms;		/* WAIT: the held reply is due */
	int64_t park_ms;		/* WAIT between steps: dropped then */
};

struct handlers_state {
	struct lnk *buckets[LMAP_BUCKETS];
	struct qentry *qhead, *qtail;
	size_t qlen;
	/* An admin SHUTDOWN: stop once its connection closed (so its OK is
	 * read before the SHUTDOWN ALERT) or at shutdown_ms. */
	struct conn *shutdown_conn;
	int64_t shutdown_ms;
};

/* ---- the lease -> connection map ---- */

static struct handlers_state *
hs_get(struct server *srv)
{
	if (srv->hs == NULL)
		srv->hs = calloc(1, sizeof(*srv->hs));
	return srv->hs;
}

static size_t
lmap_bucket(const char *id)
{
	return (size_t)(hash_str(id) % LMAP_BUCKETS);
}

static struct lnk *
lmap_find(struct handlers_state *hs, const char *id)
{
	struct lnk *l;

	if (hs == NULL)
		return NULL;
	for (l = hs->buckets[lmap_bucket(id)]; l != NULL; l = l->hnext)
		if (strcmp(l->id, id) == 0)
			return l;
	return NULL;
}

static void
lmap_unlink_conn(struct lnk *l)
{
	if (l->cprev != NULL)
		l->cprev->cnext = l->cnext;
	else
		l->c->hconn = l->cnext;
	if (l->cnext != NULL)
		l->cnext->cprev = l->cprev;
	l->cprev = l->cnext = NULL;
}

static void
lmap_remove(struct handlers_state *hs, struct lnk *l)
{
	struct lnk **pp = &hs->buckets[lmap_bucket(l->id)];

	while (*pp != NULL && *pp != l)
		pp = &(*pp)->hnext;
	if (*pp == l)
		*pp = l->hnext;
	lmap_unlink_conn(l);
	free(l);
}

/* Remember that c is the connection lease id is used from now. */
static void
lmap_bind(struct server *srv, const char *id, struct conn *c)
{
	struct handlers_state *hs = hs_get(srv);
	struct lnk *l;
	size_t b;

	if (hs == NULL || id == NULL || id[0] == '\0' || c == NULL)
		return;
	if ((l = lmap_find(hs, id)) != NULL) {
		if (l->c == c)
			return;
		lmap_unlink_conn(l);
	} else {
		if ((l = calloc(1, sizeof(*l))) == NULL)
			return;	/* only a notification is lost */
		snprintf(l->id, sizeof(l->id), "%s", id);
		b = lmap_bucket(l->id);
		l->hnext = hs->buckets[b];
		hs->buckets[b] = l;
	}
	/* c->hconn is the head of the connection's list. */
	l->c = c;
	l->cprev = NULL;
	l->cnext = c->hconn;
	if (l->cnext != NULL)
		l->cnext->cprev = l;
	c->hconn = l;
}

static void
lmap_unbind(struct server *srv, const char *id)
{
	struct lnk *l = lmap_find(srv->hs, id);

	if (l != NULL)
		lmap_remove(srv->hs, l);
}

/* ---- replies ---- */

static void
reply_error(struct msg *reply, uint16_t type, int code, const char *reason)
{
	char cut[LIMIT_STRING + 1];
	size_t n;

	reply->type = type;
	reply->code = (uint16_t)(code < 0 ? -code : code);
	reply->have |= MSG_F(TAG_CODE);
	if (reason == NULL || reason[0] == '\0')
		reason = err_str(code);
	/* Reasons quote client strings: cut on a UTF-8 boundary to fit. */
	n = strlen(reason);
	if (n > LIMIT_STRING) {
		n = LIMIT_STRING;
		while (n > 0 && ((unsigned char)reason[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(cut, reason, n);
	cut[n] = '\0';
	if (msg_set_str(reply, TAG_REASON, cut) != 0)
		msg_set_str(reply, TAG_REASON, err_str(code));
}

static void
deny_reason(int code, const struct msg *req, const struct store_grant *g,
    char *out, size_t outlen)
{
	switch (code) {
	case XLICEN_E_NO_SEATS:
		if (g->reason[0] != '\0' && strstr(g->reason, "reserved"))
			snprintf(out, outlen, "%s", g->reason);
		else
			snprintf(out, outlen, "all %u seats of %s are in use "
			    "(%u wanted)", g->total, req->product, req->count);
		break;
	case XLICEN_E_NO_VERSION:
		snprintf(out, outlen, "no license of %s covers version %s",
		    req->product, req->version);
		break;
	case XLICEN_E_WRONG_HOST:
		snprintf(out, outlen, "the licenses of %s are locked to other "
		    "hosts or principals", req->product);
		break;
	case XLICEN_E_EXCLUDED:
	case XLICEN_E_MAX_REACHED:
		snprintf(out, outlen, "%s", g->reason);
		break;
	default:
		snprintf(out, outlen, "%s: %s", req->product, err_str(code));
		break;
	}
}

static void
fill_grant(struct msg *m, const struct store_grant *g)
{
	m->type = MSG_GRANT;
	msg_set_str(m, TAG_LEASE, g->lease_id);
	m->expires = (uint64_t)g->expires;
	m->heartbeat = g->heartbeat_s;
	m->in_use = g->in_use;
	m->total = g->total;
	m->have |= MSG_F(TAG_EXPIRES) | MSG_F(TAG_HEARTBEAT) |
	    MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL);
}

static void
note_expiry(struct server *srv, int64_t t)
{
	if (t > 0 && (srv->next_expiry == 0 || t < srv->next_expiry))
		srv->next_expiry = t;
}

/* Audit helper for the events only handlers know of. */
static void
audit(struct server *srv, const char *kind, const char *principal,
    const char *product, const char *lease, int code, const char *detail)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.kind = kind;
	a.principal = principal;
	a.product = product;
	a.lease_id = lease;
	a.code = code;
	a.detail = detail;
	if (store_audit(srv->store, (int64_t)time(NULL), &a) != 0)
		log_msg(LOG_ERR, "audit of %s by %s failed", kind,
		    principal != NULL ? principal : "-");
}

static void
audit_queue(struct server *srv, const struct qentry *e, const char *kind,
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

/* ---- the queue ---- */

static uint32_t
queue_timeout_s(const struct server *srv, const char *product)
{
	struct policy_settings ps;

	policy_settings(srv->policy, product, &ps);
	return ps.queue_timeout_s != 0 ? ps.queue_timeout_s :
	    LIMIT_QUEUE_TIMEOUT_S;
}

/* 1-based place of e among the entries of its product. */
static uint32_t
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

static uint32_t
queue_count(const struct handlers_state *hs, const char *product)
{
	const struct qentry *q;
	uint32_t n = 0;

	for (q = hs != NULL ? hs->qhead : NULL; q != NULL; q = q->next)
		if (product == NULL || strcmp(q->product, product) == 0)
			n++;
	return n;
}

/* Entries of product that principal has in the queue. */
static uint32_t
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

static void
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
	free(e);
}

static struct qentry *
queue_find(struct handlers_state *hs, const char *qid, const char *principal)
{
	struct qentry *q;

	for (q = hs != NULL ? hs->qhead : NULL; q != NULL; q = q->next)
		if (strcmp(q->qid, qid) == 0 &&
		    strcmp(q->principal, principal) == 0)
			return q;
	return NULL;
}

static int
new_queue_id(char out[QUEUE_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[8];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return XLICEN_E_INTERNAL;
	out[0] = 'q';
	for (i = 0; i < sizeof(raw); i++) {
		out[1 + 2 * i] = hex[raw[i] >> 4];
		out[2 + 2 * i] = hex[raw[i] & 0x0f];
	}
	out[QUEUE_ID_LEN] = '\0';
	return 0;
}

/* A late answer to a queued checkout: the held reply of a WAIT (its own
 * request id) or an unsolicited message (id 0) naming the request. */
static void
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
store_req_of(const struct server *srv, const struct qentry *e,
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
handlers_seats_freed(struct server *srv)
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
		store_req_of(srv, e, &cr, now);
		rc = store_checkout(srv->store, &cr, &g);
		if (rc == 0) {
			msg_init(&m, MSG_GRANT, 0);
			fill_grant(&m, &g);
			note_expiry(srv, g.expires);
			log_msg(LOG_INFO, "grant %s %s %u seat(s) to %s lease %s "
			    "(%u/%u) from the queue (%s)", e->product,
			    e->version, e->count, e->principal, g.lease_id,
			    g.in_use, g.total, e->qid);
			lmap_bind(srv, g.lease_id, e->c);
			audit_queue(srv, e, "dequeue", 0, "granted");
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
			deny_reason(rc, &rq, &g, reason, sizeof(reason));
			msg_clear(&rq);
		}
		msg_init(&m, MSG_DENY, 0);
		reply_error(&m, MSG_DENY, rc, reason);
		audit_queue(srv, e, "dequeue", rc, reason);
		queue_answer(e, &m);
		msg_clear(&m);
		queue_unlink(hs, e);
	}
}

/* Queue timeouts, WAIT steps and parked entries. */
void
handlers_timers(struct server *srv)
{
	struct handlers_state *hs = srv->hs;
	struct qentry *e, *next;
	struct msg m;
	int64_t now = server_now_ms();
	char reason[LIMIT_STRING + 96];

	if (hs == NULL)
		return;
	if (hs->shutdown_ms != 0 && now >= hs->shutdown_ms)
		srv->stopping = 1;
	for (e = hs->qhead; e != NULL; e = next) {
		next = e->next;
		if (now >= e->deadline_ms) {
			snprintf(reason, sizeof(reason), "no seat of %s within "
			    "the queue timeout of %u s", e->product,
			    queue_timeout_s(srv, e->product));
			log_msg(LOG_INFO, "queued checkout %s of %s by %s timed "
			    "out", e->qid, e->product, e->principal);
			audit_queue(srv, e, "dequeue", XLICEN_E_TIMEOUT, reason);
			if (e->park_ms == 0) {
				msg_init(&m, MSG_DENY, 0);
				reply_error(&m, MSG_DENY, XLICEN_E_TIMEOUT, reason);
				queue_answer(e, &m);
				msg_clear(&m);
			}
			queue_unlink(hs, e);
			continue;
		}
		if (e->park_ms != 0 && now >= e->park_ms) {
			audit_queue(srv, e, "dequeue", XLICEN_E_CLOSED,
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
handlers_next_deadline_ms(const struct server *srv)
{
	const struct qentry *e;
	int64_t next = srv->hs != NULL ? srv->hs->shutdown_ms : 0;

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

/*
 * The client ended c: the leases it holds become orphans, freed after
 * the grace unless re-attached.  Not when c's GSS context has ended, as
 * the client sees it: the library closes such a connection itself and
 * reconnects when it next needs to, maybe once its user has renewed the
 * tickets, so that close says nothing of the holder (docs/ADMIN.md).  The
 * client's context ends up to the clock skew allowance before ours.
 */
static void
orphan_leases(struct conn *c)
{
	struct server *srv = c->srv;
	const char **ids;
	struct lnk *l;
	size_t n = 0, done = 0;
	int64_t now = (int64_t)time(NULL);

	if (c->end != CONN_END_CLIENT || srv->cfg.orphan_grace_s == 0 ||
	    c->hconn == NULL ||
	    now + LIMIT_ORPHAN_CTX_SLACK_S >= c->ctx_expires)
		return;
	for (l = c->hconn; l != NULL; l = l->cnext)
		n++;
	if ((ids = calloc(n, sizeof(*ids))) == NULL) {
		log_msg(LOG_ERR, "%s: out of memory: its %zu lease(s) keep "
		    "their TTL", c->peer, n);
		return;
	}
	n = 0;
	for (l = c->hconn; l != NULL; l = l->cnext)
		ids[n++] = l->id;
	if (store_orphan(srv->store, ids, n, now, srv->cfg.orphan_grace_s,
	    &done) != 0)
		log_msg(LOG_ERR, "%s: the leases of %s could not be made "
		    "orphans: they keep their TTL", c->peer, c->principal);
	else if (done > 0)
		note_expiry(srv, now + srv->cfg.orphan_grace_s);
	free(ids);
}

void
handlers_conn_closed(struct conn *c)
{
	struct server *srv = c->srv;
	struct handlers_state *hs = srv->hs;
	struct qentry *e, *next;

	if (hs == NULL)
		return;
	if (hs->shutdown_conn == c)
		srv->stopping = 1;
	orphan_leases(c);
	while (c->hconn != NULL)
		lmap_remove(hs, (struct lnk *)c->hconn);
	for (e = hs->qhead; e != NULL; e = next) {
		next = e->next;
		if (e->c != c)
			continue;
		if (!srv->stopping)
			audit_queue(srv, e, "dequeue", XLICEN_E_CLOSED,
			    "connection closed");
		queue_unlink(hs, e);
	}
}

void
handlers_free(struct server *srv)
{
	struct handlers_state *hs = srv->hs;
	struct lnk *l, *n;
	size_t i;

	if (hs == NULL)
		return;
	while (hs->qhead != NULL)
		queue_unlink(hs, hs->qhead);
	for (i = 0; i < LMAP_BUCKETS; i++)
		for (l = hs->buckets[i]; l != NULL; l = n) {
			n = l->hnext;
			free(l);
		}
	free(hs);
	srv->hs = NULL;
}

/* ---- requests ---- */

/* Canonical host and display of a request (display: "" if none; a name
 * that is not a display is kept as sent, so it still groups by itself). */
static void
canon_client(const struct msg *req, char *host, size_t hostlen,
    char *disp, size_t displen)
{
	display_canon_host((req->have & MSG_F(TAG_HOST)) ? req->host : "",
	    host, hostlen);
	disp[0] = '\0';
	if ((req->have & MSG_F(TAG_DISPLAY)) && req->display[0] != '\0' &&
	    display_canon(req->display, host, disp, displen) != 0)
		snprintf(disp, displen, "%s", req->display);
}

/*
 * The HOST a CHECKOUT or RECLAIM claims: refused if it has a control
 * character or blank inside (BAD_VALUE), and with [server] verify_host if
 * it does not resolve to the peer's address (HOST_UNVERIFIED; a CHECKOUT
 * must then claim one, a RECLAIM without HOST keeps its lease's).  0, or
 * the code with why; the refusal is audited and logged.
 */
static int
check_claim(struct conn *c, const struct msg *req, char *why, size_t whylen)
{
	struct server *srv = c->srv;
	const char *claim = (req->have & MSG_F(TAG_HOST)) ? req->host : NULL;
	char canon[LIMIT_STRING + 1];
	int rc = 0;

	why[0] = '\0';
	if (claim != NULL &&
	    display_canon_host(claim, canon, sizeof(canon)) != 0) {
		rc = XLICEN_E_BAD_VALUE;
		snprintf(why, whylen, "HOST has a control character or a "
		    "blank inside: not a host name");
	} else if (srv->cfg.verify_host &&
	    (claim != NULL || req->type == MSG_CHECKOUT)) {
		rc = hostcheck_verify(c->fd, claim, why, whylen);
		if (rc == XLICEN_E_IO)
			rc = XLICEN_E_HOST_UNVERIFIED;
	}
	if (rc != 0) {
		audit(srv, "deny", c->principal,
		    req->type == MSG_CHECKOUT ? req->product : NULL,
		    req->type == MSG_RECLAIM ? req->lease : NULL, rc, why);
		log_msg(LOG_INFO, "refused the host claimed by %s from %s: %s",
		    c->principal, c->peer, why);
	}
	return rc;
}

static int
enqueue(struct conn *c, const struct msg *req, const char *host,
    const char *disp, const struct store_grant *g, struct msg *reply)
{
	struct server *srv = c->srv;
	struct handlers_state *hs = hs_get(srv);
	struct qentry *e;
	uint32_t tmo, wait, mine;
	int64_t now = (int64_t)time(NULL);
	char detail[64], why[3 * LIMIT_STRING];

	if (hs == NULL)
		return XLICEN_E_NOMEM;
	if (queue_count(hs, req->product) >= LIMIT_QUEUE_LEN) {
		reply_error(reply, MSG_DENY, XLICEN_E_BUSY,
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
		reply_error(reply, MSG_DENY, XLICEN_E_QUEUE_LIMIT, why);
		audit(srv, "deny", c->principal, req->product, NULL,
		    XLICEN_E_QUEUE_LIMIT, why);
		log_msg(LOG_INFO, "deny %s %s to %s: %s", req->product,
		    req->version, c->principal, why);
		return 0;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return XLICEN_E_NOMEM;
	if (new_queue_id(e->qid) != 0) {
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
	snprintf(detail, sizeof(detail), "position %u", queue_position(hs, e));
	audit_queue(srv, e, "queue", 0, detail);
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

static int
handle_checkout(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_checkout_req cr;
	struct store_grant g;
	struct qentry *resumed = NULL;
	char reason[3 * LIMIT_STRING];
	char host[LIMIT_STRING + 1], disp[LIMIT_STRING + 1];
	uint32_t wait;
	int rc;

	if (req->count == 0 || req->count > LIMIT_SEATS) {
		snprintf(reason, sizeof(reason), "seat count %u not in 1..%u",
		    req->count, LIMIT_SEATS);
		reply_error(reply, MSG_DENY, XLICEN_E_COUNT, reason);
		return 0;
	}
	if (!license_version_valid(req->version)) {
		reply_error(reply, MSG_DENY, XLICEN_E_BAD_VALUE,
		    "version is not a dotted number like 1.2");
		return 0;
	}
	if ((rc = check_claim(c, req, reason, sizeof(reason))) != 0) {
		reply_error(reply, MSG_DENY, rc, reason);
		return 0;
	}
	canon_client(req, host, sizeof(host), disp, sizeof(disp));
	/* A WAIT client asking again for its place in the queue. */
	if ((req->have & MSG_F(TAG_QUEUE_ID)) &&
	    (resumed = queue_find(srv->hs, req->queue_id, c->principal)) !=
	    NULL && (resumed->c != c || resumed->req_id != 0 ||
	    strcmp(resumed->product, req->product) != 0))
		resumed = NULL;

	memset(&cr, 0, sizeof(cr));
	cr.principal = c->principal;
	cr.product = req->product;
	cr.version = req->version;
	cr.host = host;
	cr.display = disp;
	cr.count = req->count;
	cr.pid = req->pid;
	cr.ttl_s = srv->cfg.lease_ttl_s;
	cr.heartbeat_s = srv->cfg.heartbeat_s;
	cr.now = (int64_t)time(NULL);
	cr.policy = srv->policy;
	cr.quiet = resumed != NULL;
	rc = store_checkout(srv->store, &cr, &g);
	if (rc == 0) {
		fill_grant(reply, &g);
		note_expiry(srv, g.expires);
		lmap_bind(srv, g.lease_id, c);
		log_msg(LOG_INFO, "grant %s %s %u seat(s) to %s lease %s (%u/%u)%s",
		    req->product, req->version, req->count, c->principal,
		    g.lease_id, g.in_use, g.total, g.shared ?
		    " sharing its group's seat" : "");
		if (resumed != NULL) {
			msg_set_str(reply, TAG_QUEUE_ID, resumed->qid);
			audit_queue(srv, resumed, "dequeue", 0, "granted");
			queue_unlink(srv->hs, resumed);
		}
		return 0;
	}
	if (resumed != NULL && (rc == XLICEN_E_NO_SEATS ||
	    rc == XLICEN_E_MAX_REACHED)) {
		/* Back in line at its old place for another step. */
		resumed->req_id = req->id;
		resumed->park_ms = 0;
		wait = (req->have & MSG_F(TAG_WAIT)) ? req->wait :
		    LIMIT_WAIT_STEP_S;
		if (wait > LIMIT_WAIT_STEP_S)
			wait = LIMIT_WAIT_STEP_S;
		resumed->step_ms = server_now_ms() + 1000LL * wait;
		if (resumed->step_ms > resumed->deadline_ms)
			resumed->step_ms = resumed->deadline_ms;
		return HANDLERS_DEFERRED;
	}
	if (resumed != NULL) {
		deny_reason(rc, req, &g, reason, sizeof(reason));
		audit_queue(srv, resumed, "dequeue", rc, reason);
		queue_unlink(srv->hs, resumed);
	} else if (g.queueable &&
	    (req->flags & (MSG_FLAG_QUEUE | MSG_FLAG_WAIT)) != 0) {
		return enqueue(c, req, host, disp, &g, reply);
	}
	deny_reason(rc, req, &g, reason, sizeof(reason));
	reply_error(reply, MSG_DENY, rc, reason);
	if (rc == XLICEN_E_NO_SEATS) {
		reply->in_use = g.in_use;
		reply->total = g.total;
		reply->have |= MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL);
	}
	log_msg(LOG_INFO, "deny %s %s to %s: %s", req->product, req->version,
	    c->principal, reason);
	return 0;
}

static int
handle_heartbeat(struct conn *c, const struct msg *req, struct msg *reply)
{
	int64_t expires = 0;
	int rc;

	rc = store_heartbeat(c->srv->store, c->principal, req->lease,
	    (int64_t)time(NULL), &expires);
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	/* Held by no open connection (after a restart, or an orphan): this
	 * one holds it now.  Another's stays the holder. */
	if (lmap_find(c->srv->hs, req->lease) == NULL)
		lmap_bind(c->srv, req->lease, c);
	reply->type = MSG_OK;
	reply->expires = (uint64_t)expires;
	reply->have |= MSG_F(TAG_EXPIRES);
	return 0;
}

static int
handle_release(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct qentry *e;
	int rc, freed = 0;

	/* A queue id: the client gives up its place. */
	if (req->lease[0] == 'q' &&
	    (e = queue_find(srv->hs, req->lease, c->principal)) != NULL) {
		audit_queue(srv, e, "dequeue", 0, "cancelled by the client");
		log_msg(LOG_INFO, "queued checkout %s cancelled by %s", e->qid,
		    c->principal);
		if (e->req_id != 0 && e->c != NULL && e->c != c) {
			struct msg m;

			msg_init(&m, MSG_DENY, 0);
			reply_error(&m, MSG_DENY, XLICEN_E_CLOSED,
			    "cancelled");
			queue_answer(e, &m);
			msg_clear(&m);
		}
		queue_unlink(srv->hs, e);
		reply->type = MSG_OK;
		return 0;
	}
	rc = store_release(srv->store, c->principal, req->lease,
	    (int64_t)time(NULL), &freed);
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	lmap_unbind(srv, req->lease);
	log_msg(LOG_INFO, "release lease %s by %s", req->lease, c->principal);
	reply->type = MSG_OK;
	if (freed)
		handlers_seats_freed(srv);
	else
		srv->next_expiry = store_next_expiry(srv->store);
	return 0;
}

static int
handle_reclaim(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_grant g;
	char host[LIMIT_STRING + 1], disp[LIMIT_STRING + 1];
	char why[3 * LIMIT_STRING];
	int rc;

	if ((rc = check_claim(c, req, why, sizeof(why))) != 0) {
		reply_error(reply, MSG_ERROR, rc, why);
		return 0;
	}
	canon_client(req, host, sizeof(host), disp, sizeof(disp));
	rc = store_reclaim(srv->store, c->principal, req->lease,
	    (req->have & MSG_F(TAG_HOST)) ? host : NULL,
	    (req->have & MSG_F(TAG_DISPLAY)) ? disp : NULL, req->pid,
	    (int64_t)time(NULL), &g);
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	fill_grant(reply, &g);
	lmap_bind(srv, g.lease_id, c);
	log_msg(LOG_INFO, "reclaim lease %s by %s", g.lease_id, c->principal);
	return 0;
}

/* Space a list may take in one reply: the smaller of the two sides'
 * frame limits, less room for the wrap and the other fields. */
static size_t
list_budget(const struct server *srv)
{
	size_t lim = srv->cfg.frame_postauth;

	if (lim == 0 || lim > LIMIT_FRAME_POSTAUTH)
		lim = LIMIT_FRAME_POSTAUTH;
	return lim > 8192 ? lim - 4096 : lim / 2;
}

static const char *
dup_effective(const struct server *srv, const struct store_pool_status *p,
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

static int
handle_status(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_pool_status *ps = NULL;
	struct msg_pool mp;
	size_t i, n = 0, used = 0, budget = list_budget(srv);
	int64_t now = (int64_t)time(NULL);
	int rc;

	rc = store_status(srv->store, (req->have & MSG_F(TAG_PRODUCT)) ?
	    req->product : NULL, now, &ps, &n);
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, NULL);
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
		dup = dup_effective(srv, &ps[i], &mp.linger, &mp.ttl,
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
holder_of_store(const struct server *srv, const struct store_holder *sh,
    struct msg_holder *h)
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
		h->state = MSG_HOLDER_LEASE;
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
holder_of_queue(const struct handlers_state *hs, const struct qentry *e,
    struct msg_holder *h)
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
static int
list_holders(struct conn *c, const struct msg *req, const char *principal,
    struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_holder *sh = NULL;
	struct msg_holder h;
	const struct qentry *e;
	const char *product = (req->have & MSG_F(TAG_PRODUCT)) ?
	    req->product : NULL;
	size_t i, n = 0, used = 0, budget = list_budget(srv);
	int64_t now = (int64_t)time(NULL);
	int rc, full = 0;

	rc = store_holders(srv->store, product, principal, now, &sh, &n);
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	reply->type = MSG_HOLDERS_REPLY;
	reply->time = (uint64_t)now;
	reply->have |= MSG_F(TAG_TIME);
	for (i = 0; i < n && !full; i++) {
		holder_of_store(srv, &sh[i], &h);
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
		holder_of_queue(srv->hs, e, &h);
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

/* The admin ACL; a refusal is answered, logged and audited. */
static int
admin_ok(struct conn *c, const struct msg *req, struct msg *reply)
{
	char reason[LIMIT_STRING + 64];

	if (policy_is_admin(c->srv->policy, c->principal))
		return 1;
	snprintf(reason, sizeof(reason), "%s is not on the admin ACL of the "
	    "server's policy", c->principal);
	reply_error(reply, MSG_ERROR, XLICEN_E_NOT_AUTHORIZED, reason);
	log_msg(LOG_NOTICE, "%s: %s refused to %s", c->peer,
	    msg_type_name(req->type), c->principal);
	audit(c->srv, "deny", c->principal, NULL, NULL,
	    XLICEN_E_NOT_AUTHORIZED, msg_type_name(req->type));
	return 0;
}

static int
handle_remove(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct lnk *l;
	struct msg m;
	char owner[LIMIT_STRING + 1], reason[2 * LIMIT_STRING + 64];
	int rc;

	rc = store_remove(srv->store, c->principal, req->lease,
	    (int64_t)time(NULL), owner, sizeof(owner));
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	log_msg(LOG_NOTICE, "lease %s of %s removed by %s", req->lease, owner,
	    c->principal);
	/* Tell the holder now, if it is connected. */
	if ((l = lmap_find(srv->hs, req->lease)) != NULL) {
		snprintf(reason, sizeof(reason), "lease %s was removed by %s",
		    req->lease, c->principal);
		msg_init(&m, MSG_REVOKE, 0);
		msg_set_str(&m, TAG_LEASE, req->lease);
		reply_error(&m, MSG_REVOKE, XLICEN_E_REVOKED, reason);
		if (conn_send(l->c, &m) != 0)
			log_msg(LOG_NOTICE, "%s: could not send REVOKE",
			    l->c->peer);
		msg_clear(&m);
		lmap_remove(srv->hs, l);
	}
	reply->type = MSG_OK;
	handlers_seats_freed(srv);
	return 0;
}

static int
handle_reread(struct conn *c, struct msg *reply)
{
	char err[512];
	int rc;

	rc = server_reload(c->srv, err, sizeof(err));
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, err);
		return 0;
	}
	reply->type = MSG_OK;
	msg_set_str(reply, TAG_REASON, err);
	return 0;
}

static int
handle_report(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_report_row *rows = NULL;
	struct msg_row r;
	size_t i, n = 0, used = 0, budget = list_budget(srv);
	int64_t now = (int64_t)time(NULL);
	int64_t from = (req->have & MSG_F(TAG_FROM)) ? (int64_t)req->from : 0;
	int64_t to = (req->have & MSG_F(TAG_TO)) ? (int64_t)req->to : now;
	uint64_t nev = 0, bad = 0;
	char head[65], why[160];
	int rc;

	if (req->from > INT64_MAX || req->to > INT64_MAX || from > to) {
		reply_error(reply, MSG_ERROR, XLICEN_E_BAD_VALUE,
		    "the report range is empty (FROM after TO)");
		return 0;
	}
	if (to > now)
		to = now;
	if (from > to)
		from = to;
	rc = store_report(srv->store, from, to, now,
	    (req->have & MSG_F(TAG_PRODUCT)) ? req->product : NULL, &rows, &n);
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, NULL);
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
			reply_error(reply, MSG_ERROR, rc, NULL);
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

static int
handle_admin(struct conn *c, const struct msg *req, struct msg *reply)
{
	char detail[LIMIT_STRING + 32];

	if (!admin_ok(c, req, reply))
		return 0;
	snprintf(detail, sizeof(detail), "%s%s%s", msg_type_name(req->type),
	    (req->have & MSG_F(TAG_LEASE)) ? " " : "",
	    (req->have & MSG_F(TAG_LEASE)) ? req->lease : "");
	audit(c->srv, "admin", c->principal, (req->have & MSG_F(TAG_PRODUCT)) ?
	    req->product : NULL, NULL, 0, detail);
	log_msg(LOG_INFO, "%s: admin %s by %s", c->peer, detail, c->principal);
	switch (req->type) {
	case MSG_HOLDERS:
		return list_holders(c, req, NULL, reply);
	case MSG_REMOVE:
		return handle_remove(c, req, reply);
	case MSG_REREAD:
		return handle_reread(c, reply);
	case MSG_SHUTDOWN:
		log_msg(LOG_NOTICE, "shutdown requested by %s", c->principal);
		if (hs_get(c->srv) == NULL) {
			c->srv->stopping = 1;
		} else if (c->srv->hs->shutdown_ms == 0) {
			c->srv->hs->shutdown_conn = c;
			c->srv->hs->shutdown_ms = server_now_ms() + 1000;
		}
		reply->type = MSG_OK;
		return 0;
	case MSG_REPORT:
		return handle_report(c, req, reply);
	}
	return XLICEN_E_MSG_TYPE;
}

int
handlers_dispatch(struct conn *c, const struct msg *req, struct msg *reply)
{
	msg_init(reply, 0, req->id);
	switch (req->type) {
	case MSG_CHECKOUT:
		return handle_checkout(c, req, reply);
	case MSG_HEARTBEAT:
		return handle_heartbeat(c, req, reply);
	case MSG_RELEASE:
		return handle_release(c, req, reply);
	case MSG_STATUS:
		return handle_status(c, req, reply);
	case MSG_RECLAIM:
		return handle_reclaim(c, req, reply);
	case MSG_LIST_MINE:
		return list_holders(c, req, c->principal, reply);
	case MSG_HOLDERS:
	case MSG_REMOVE:
	case MSG_REREAD:
	case MSG_SHUTDOWN:
	case MSG_REPORT:
		return handle_admin(c, req, reply);
	default:
		return XLICEN_E_MSG_TYPE;
	}
}
