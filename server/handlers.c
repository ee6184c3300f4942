/*
 * Request handlers: a decoded, authenticated request -> policy -> store
 * -> reply.  The seat owner is always the principal the GSS context
 * authenticated; nothing the client claims (host, display) decides
 * ownership.  This file dispatches every request and answers those of a
 * seat (CHECKOUT, HEARTBEAT, RELEASE, RECLAIM); queue.c keeps the
 * checkout queue, req_list.c answers STATUS, LIST_MINE, HOLDERS and
 * REPORT, req_admin.c the other admin requests (handlers_int.h); req.c
 * and lmap.c, below them all, hold what they share.  Calls go one way:
 * handlers.c -> req_admin.c -> req_list.c -> queue.c -> lmap.c -> req.c
 * (docs/ARCHITECTURE.md).
 *
 * Besides answering requests this module keeps the server's in-memory
 * seat state that SQLite does not: the queue of checkouts waiting for a
 * seat (queue.c: it vanishes with its connection, so it has no business
 * in the database; its events are audited there), and which open
 * connection holds each lease (the lease map, lmap.c), so that a removed
 * lease's holder can be told at once and the leases of a connection its
 * client ended become orphans.  A connection holds a lease once it got
 * its GRANT or RECLAIM, or heartbeated it while no other connection held
 * it; a HEARTBEAT or RELEASE from another connection does not take it
 * away (docs/ADMIN.md, "When a holder dies: orphaned leases").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "display.h"
#include "err.h"
#include "handlers_int.h"
#include "hostcheck.h"
#include "license.h"
#include "log.h"
#include "metrics.h"

/*
 * The client ended c: the leases it holds become orphans, freed after
 * the grace unless re-attached.  Not when c's GSS context has ended, as
 * the client sees it: the library closes such a connection itself and
 * reconnects when it next needs to, maybe once its user has renewed the
 * tickets, so that close says nothing of the holder (docs/ADMIN.md).  The
 * client's context ends up to the clock skew allowance before ours.
 */
static void
handlers_orphan_leases(struct conn *c)
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
		req_note_expiry(srv, now + srv->cfg.orphan_grace_s);
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
	handlers_orphan_leases(c);
	while (c->hconn != NULL)
		lmap_remove(hs, (struct lnk *)c->hconn);
	for (e = hs->qhead; e != NULL; e = next) {
		next = e->next;
		if (e->c != c)
			continue;
		if (!srv->stopping)
			queue_audit(srv, e, "dequeue", XLICEN_E_CLOSED,
			    "connection closed");
		queue_unlink(hs, e);
	}
}

/* An admin SHUTDOWN's delay (req_admin.c), then the queue's timers. */
void
handlers_timers(struct server *srv)
{
	struct handlers_state *hs = srv->hs;
	int64_t now = server_now_ms();

	if (hs == NULL)
		return;
	if (hs->shutdown_ms != 0 && now >= hs->shutdown_ms)
		srv->stopping = 1;
	queue_timers(srv, now);
}

int64_t
handlers_next_deadline_ms(const struct server *srv)
{
	int64_t next = srv->hs != NULL ? srv->hs->shutdown_ms : 0;
	int64_t q = queue_next_deadline_ms(srv);

	if (q != 0 && (next == 0 || q < next))
		next = q;
	return next;
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
handlers_canon_client(const struct msg *req, char *host, size_t hostlen,
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
handlers_check_claim(struct conn *c, const struct msg *req, char *why,
    size_t whylen)
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
	    (claim != NULL || req->type != MSG_RECLAIM)) {
		rc = hostcheck_verify(c->fd, claim, why, whylen);
		if (rc == XLICEN_E_IO)
			rc = XLICEN_E_HOST_UNVERIFIED;
	}
	if (rc != 0) {
		req_audit(srv, "deny", c->principal,
		    req->type != MSG_RECLAIM ? req->product : NULL,
		    req->type == MSG_RECLAIM ? req->lease : NULL, rc, why);
		log_msg(LOG_INFO, "refused the host claimed by %s from %s: %s",
		    c->principal, c->peer, why);
	}
	return rc;
}

static int
handlers_checkout(struct conn *c, const struct msg *req, struct msg *reply)
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
		req_reply_error(reply, MSG_DENY, XLICEN_E_COUNT, reason);
		log_debug("checkout %s %s by %s denied: COUNT: %s", req->product,
		    req->version, c->principal, reason);
		return 0;
	}
	if (!license_version_valid(req->version)) {
		req_reply_error(reply, MSG_DENY, XLICEN_E_BAD_VALUE,
		    "version is not a dotted number like 1.2");
		log_debug("checkout %s by %s denied: BAD_VALUE: version is not "
		    "a dotted number", req->product, c->principal);
		return 0;
	}
	if ((rc = handlers_check_claim(c, req, reason, sizeof(reason))) != 0) {
		req_reply_error(reply, MSG_DENY, rc, reason);
		log_debug("checkout %s %s by %s denied: %s: %s", req->product,
		    req->version, c->principal, err_name(rc), reason);
		return 0;
	}
	handlers_canon_client(req, host, sizeof(host), disp, sizeof(disp));
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
		req_fill_grant(reply, &g);
		req_note_expiry(srv, g.expires);
		lmap_bind(srv, g.lease_id, c);
		log_msg(LOG_INFO, "grant %s %s %u seat(s) to %s lease %s (%u/%u)%s",
		    req->product, req->version, req->count, c->principal,
		    g.lease_id, g.in_use, g.total, g.shared ?
		    " sharing its group's seat" : "");
		if (resumed != NULL) {
			msg_set_str(reply, TAG_QUEUE_ID, resumed->qid);
			queue_audit(srv, resumed, "dequeue", 0, "granted");
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
		req_deny_reason(rc, req, &g, reason, sizeof(reason));
		queue_audit(srv, resumed, "dequeue", rc, reason);
		queue_unlink(srv->hs, resumed);
	} else if (g.queueable &&
	    (req->flags & (MSG_FLAG_QUEUE | MSG_FLAG_WAIT)) != 0) {
		return queue_add(c, req, host, disp, &g, reply);
	}
	req_deny_reason(rc, req, &g, reason, sizeof(reason));
	req_reply_error(reply, MSG_DENY, rc, reason);
	if (rc == XLICEN_E_NO_SEATS) {
		reply->in_use = g.in_use;
		reply->total = g.total;
		reply->have |= MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL);
	}
	if ((reply->detail = req_deny_detail(rc, &g)) != 0)
		reply->have |= MSG_F(TAG_DETAIL);
	log_msg(LOG_INFO, "deny %s %s to %s: %s", req->product, req->version,
	    c->principal, reason);
	log_debug("checkout %s %s by %s denied: %s: %s", req->product,
	    req->version, c->principal, err_name(rc), reason);
	return 0;
}

static int
handlers_heartbeat(struct conn *c, const struct msg *req, struct msg *reply)
{
	int64_t expires = 0;
	int rc;

	rc = store_heartbeat(c->srv->store, c->principal, req->lease,
	    (int64_t)time(NULL), &expires);
	if (rc != 0) {
		req_reply_error(reply, MSG_ERROR, rc, NULL);
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
handlers_release(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct qentry *e;
	int rc, freed = 0;

	/* A queue id: the client gives up its place. */
	if (req->lease[0] == 'q' &&
	    (e = queue_find(srv->hs, req->lease, c->principal)) != NULL) {
		queue_audit(srv, e, "dequeue", 0, "cancelled by the client");
		log_msg(LOG_INFO, "queued checkout %s cancelled by %s", e->qid,
		    c->principal);
		if (e->req_id != 0 && e->c != NULL && e->c != c) {
			struct msg m;

			msg_init(&m, MSG_DENY, 0);
			req_reply_error(&m, MSG_DENY, XLICEN_E_CLOSED,
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
		req_reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	lmap_unbind(srv, req->lease);
	log_msg(LOG_INFO, "release lease %s by %s", req->lease, c->principal);
	reply->type = MSG_OK;
	if (freed)
		queue_seats_freed(srv);
	else
		srv->next_expiry = store_next_expiry(srv->store);
	return 0;
}

static int
handlers_reclaim(struct conn *c, const struct msg *req, struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_grant g;
	char host[LIMIT_STRING + 1], disp[LIMIT_STRING + 1];
	char why[3 * LIMIT_STRING];
	int rc;

	if ((rc = handlers_check_claim(c, req, why, sizeof(why))) != 0) {
		req_reply_error(reply, MSG_ERROR, rc, why);
		return 0;
	}
	handlers_canon_client(req, host, sizeof(host), disp, sizeof(disp));
	rc = store_reclaim(srv->store, c->principal, req->lease,
	    (req->have & MSG_F(TAG_HOST)) ? host : NULL,
	    (req->have & MSG_F(TAG_DISPLAY)) ? disp : NULL, req->pid,
	    (int64_t)time(NULL), &g);
	if (rc != 0) {
		req_reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	req_fill_grant(reply, &g);
	lmap_bind(srv, g.lease_id, c);
	log_msg(LOG_INFO, "reclaim lease %s by %s", g.lease_id, c->principal);
	return 0;
}

static int
handlers_borrow(struct conn *c, const struct msg *req, struct msg *reply)
{
	char host[LIMIT_STRING + 1], disp[LIMIT_STRING + 1];
	char why[3 * LIMIT_STRING];
	int rc;

	if ((rc = handlers_check_claim(c, req, why, sizeof(why))) != 0) {
		req_reply_error(reply, MSG_DENY, rc, why);
		return 0;
	}
	handlers_canon_client(req, host, sizeof(host), disp, sizeof(disp));
	return req_borrow(c, req, host, reply);
}

int
handlers_dispatch(struct conn *c, const struct msg *req, struct msg *reply)
{
	msg_init(reply, 0, req->id);
	switch (req->type) {
	case MSG_CHECKOUT: {
		int64_t t0 = metrics_now_ns();
		int rc = handlers_checkout(c, req, reply);

		metrics_checkout_ns(metrics_now_ns() - t0);
		if (rc == 0 && reply->type == MSG_GRANT)
			metrics_grant();
		else if (rc == 0 && reply->type == MSG_DENY)
			metrics_deny(-(int)reply->code);
		return rc;
	}
	case MSG_HEARTBEAT:
		return handlers_heartbeat(c, req, reply);
	case MSG_RELEASE:
		return handlers_release(c, req, reply);
	case MSG_STATUS:
		return req_list_status(c, req, reply);
	case MSG_RECLAIM:
		return handlers_reclaim(c, req, reply);
	case MSG_LIST_MINE:
		return req_list_holders(c, req, c->principal, reply);
	case MSG_INFO:
		return req_list_info(c, reply);
	case MSG_BORROW:
		return handlers_borrow(c, req, reply);
	case MSG_HOLDERS:
	case MSG_REMOVE:
	case MSG_REREAD:
	case MSG_SHUTDOWN:
	case MSG_REPORT:
		return req_admin_dispatch(c, req, reply);
	default:
		return XLICEN_E_MSG_TYPE;
	}
}
