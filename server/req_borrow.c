/*
 * BORROW: a seat taken for offline use (docs/PROTOCOL.md section 8.5,
 * docs/ADMIN.md "Borrowing").  The store grants a lease that ends at the
 * borrow's end and needs no heartbeat; this file signs the token the
 * client carries away with the server's own borrow key.  The lease is
 * not bound to the connection (lmap.c), so closing it orphans nothing.
 * Calls only store.h, common/ and req.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "borrow.h"
#include "err.h"
#include "handlers_int.h"
#include "license.h"
#include "log.h"

/* The token of grant g for req by c, into reply's TOKEN.  0 or a code. */
static int
req_borrow_token(struct conn *c, const struct msg *req, const char *host,
    const struct store_grant *g, int64_t now, struct msg *reply)
{
	struct borrow_token t;
	struct buf b;
	int rc;

	memset(&t, 0, sizeof(t));
	t.start = (uint64_t)now;
	t.end = (uint64_t)g->expires;
	snprintf(t.product, sizeof(t.product), "%s", req->product);
	snprintf(t.version, sizeof(t.version), "%s", req->version);
	snprintf(t.principal, sizeof(t.principal), "%s", c->principal);
	snprintf(t.host, sizeof(t.host), "%s", host);
	snprintf(t.lease, sizeof(t.lease), "%s", g->lease_id);
	if (gethostname(t.server, sizeof(t.server) - 1) != 0)
		t.server[0] = '\0';
	buf_init(&b);
	b.max = LIMIT_BORROW_TOKEN;
	if ((rc = borrow_token_encode(&t, c->srv->borrow_key, &b)) == 0) {
		memcpy(reply->token.data, b.data, b.len);
		reply->token.len = (uint16_t)b.len;
		reply->have |= MSG_F(TAG_TOKEN);
	}
	buf_free(&b);
	return rc;
}

int
req_borrow(struct conn *c, const struct msg *req, const char *host,
    struct msg *reply)
{
	struct server *srv = c->srv;
	struct store_checkout_req cr;
	struct store_grant g;
	char reason[3 * LIMIT_STRING];
	int64_t now = (int64_t)time(NULL);
	int rc;

	if (srv->borrow_key == NULL) {
		req_reply_error(reply, MSG_DENY, XLICEN_E_BORROW, "this server "
		    "has no borrow key ([server] borrow_key)");
		return 0;
	}
	if (!license_version_valid(req->version) || host[0] == '\0') {
		req_reply_error(reply, MSG_DENY, XLICEN_E_BAD_VALUE, "BORROW "
		    "needs a dotted VERSION and a HOST");
		return 0;
	}
	if (req->to <= (uint64_t)now ||
	    req->to - (uint64_t)now > (uint64_t)LIMIT_BORROW_DAYS_MAX * 86400) {
		snprintf(reason, sizeof(reason), "the end must be after now and "
		    "at most %d days away", LIMIT_BORROW_DAYS_MAX);
		req_reply_error(reply, MSG_DENY, XLICEN_E_BORROW_PERIOD, reason);
		return 0;
	}
	memset(&cr, 0, sizeof(cr));
	cr.principal = c->principal;
	cr.product = req->product;
	cr.version = req->version;
	cr.host = host;
	cr.display = "";
	cr.count = 1;
	cr.ttl_s = srv->cfg.lease_ttl_s;
	cr.heartbeat_s = srv->cfg.heartbeat_s;
	cr.now = now;
	cr.policy = srv->policy;
	cr.borrow_end = (int64_t)req->to;
	cr.lics = srv->lics;
	cr.nlics = srv->nlics;
	rc = store_checkout(srv->store, &cr, &g);
	if (rc != 0) {
		if (g.reason[0] != '\0')
			snprintf(reason, sizeof(reason), "%s", g.reason);
		else
			req_deny_reason(rc, req, &g, reason, sizeof(reason));
		req_reply_error(reply, MSG_DENY, rc, reason);
		log_msg(LOG_INFO, "deny borrow %s %s to %s: %s", req->product,
		    req->version, c->principal, reason);
		return 0;
	}
	if ((rc = req_borrow_token(c, req, host, &g, now, reply)) != 0) {
		/* Nothing to carry away: give the seat back at once. */
		log_msg(LOG_ERR, "borrow %s: cannot sign its token: %s",
		    g.lease_id, err_str(rc));
		(void)store_release(srv->store, c->principal, g.lease_id, now,
		    NULL);
		msg_init(reply, 0, req->id);
		req_reply_error(reply, MSG_ERROR, XLICEN_E_INTERNAL, NULL);
		return 0;
	}
	reply->type = MSG_BORROWED;
	msg_set_str(reply, TAG_LEASE, g.lease_id);
	reply->expires = (uint64_t)g.expires;
	reply->in_use = g.in_use;
	reply->total = g.total;
	reply->have |= MSG_F(TAG_EXPIRES) | MSG_F(TAG_IN_USE) |
	    MSG_F(TAG_TOTAL);
	req_note_expiry(srv, g.expires);
	log_msg(LOG_INFO, "borrow %s %s by %s on %s lease %s until %lld "
	    "(%u/%u)", req->product, req->version, c->principal, host,
	    g.lease_id, (long long)g.expires, g.in_use, g.total);
	return 0;
}
