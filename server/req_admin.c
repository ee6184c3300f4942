/*
 * The admin requests: the admin ACL of the policy, checked before any of
 * them and its refusals audited; REMOVE (a lease, its holder told at
 * once), REREAD (licenses and policy), SHUTDOWN (once its OK is read);
 * HOLDERS and REPORT are answered by req_list.c.  The library's side of
 * these requests is client/requests.c, the CLI's client/cli/admin.c.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "handlers_int.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"

/* The admin ACL; a refusal is answered, logged and audited. */
static int
req_admin_ok(struct conn *c, const struct msg *req, struct msg *reply)
{
	char reason[LIMIT_STRING + 64];

	if (policy_is_admin(c->srv->policy, c->principal))
		return 1;
	snprintf(reason, sizeof(reason), "%s is not on the admin ACL of the "
	    "server's policy", c->principal);
	req_reply_error(reply, MSG_ERROR, XLICEN_E_NOT_AUTHORIZED, reason);
	log_msg(LOG_NOTICE, "%s: %s refused to %s", c->peer,
	    msg_type_name(req->type), c->principal);
	req_audit(c->srv, "deny", c->principal, NULL, NULL,
	    XLICEN_E_NOT_AUTHORIZED, msg_type_name(req->type));
	return 0;
}

int
req_admin_remove_lease(struct server *srv, const char *admin,
    const char *lease, int64_t *cancelled_end)
{
	struct lnk *l;
	struct msg m;
	char owner[LIMIT_STRING + 1], reason[2 * LIMIT_STRING + 64];
	int rc;

	rc = store_remove(srv->store, admin, lease, (int64_t)time(NULL),
	    owner, sizeof(owner), cancelled_end);
	if (rc != 0)
		return rc;
	log_msg(LOG_NOTICE, "lease %s of %s removed by %s", lease, owner,
	    admin);
	/* Tell the holder now, if it is connected. */
	if ((l = lmap_find(srv->hs, lease)) != NULL) {
		snprintf(reason, sizeof(reason), "lease %s was removed by %s",
		    lease, admin);
		msg_init(&m, MSG_REVOKE, 0);
		msg_set_str(&m, TAG_LEASE, lease);
		req_reply_error(&m, MSG_REVOKE, XLICEN_E_REVOKED, reason);
		if (conn_send(l->c, &m) != 0)
			log_msg(LOG_NOTICE, "%s: could not send REVOKE",
			    l->c->peer);
		msg_clear(&m);
		lmap_remove(srv->hs, l);
	}
	queue_seats_freed(srv);
	return 0;
}

static int
req_admin_remove(struct conn *c, const struct msg *req, struct msg *reply)
{
	int64_t end = 0;
	int rc;

	rc = req_admin_remove_lease(c->srv, c->principal, req->lease, &end);
	if (rc != 0) {
		req_reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	reply->type = MSG_OK;
	/* Only cancelled: the admin is told so, and until when it counts. */
	if (end > 0) {
		reply->flags = MSG_OK_BORROW_CANCELLED;
		reply->expires = (uint64_t)end;
		reply->have |= MSG_F(TAG_FLAGS) | MSG_F(TAG_EXPIRES);
	}
	return 0;
}

static int
req_admin_reread(struct conn *c, struct msg *reply)
{
	char err[512];
	int rc;

	rc = server_reload(c->srv, err, sizeof(err));
	metrics_reload(rc);
	if (rc != 0) {
		req_reply_error(reply, MSG_ERROR, rc, err);
		return 0;
	}
	/* New seats (and a new policy) may let queued checkouts in. */
	queue_seats_freed(c->srv);
	reply->type = MSG_OK;
	msg_set_str(reply, TAG_REASON, err);
	return 0;
}

int
req_admin_dispatch(struct conn *c, const struct msg *req, struct msg *reply)
{
	char detail[LIMIT_STRING + 32];

	/* The holders, for everyone if the policy says so (lmstat -a). */
	if (req->type == MSG_HOLDERS &&
	    policy_public_holders(c->srv->policy) &&
	    !policy_is_admin(c->srv->policy, c->principal)) {
		log_debug("%s: HOLDERS by %s (public_holders)", c->peer,
		    c->principal);
		return req_list_holders(c, req, NULL, reply);
	}
	if (!req_admin_ok(c, req, reply))
		return 0;
	snprintf(detail, sizeof(detail), "%s%s%s", msg_type_name(req->type),
	    (req->have & MSG_F(TAG_LEASE)) ? " " : "",
	    (req->have & MSG_F(TAG_LEASE)) ? req->lease : "");
	req_audit(c->srv, "admin", c->principal,
	    (req->have & MSG_F(TAG_PRODUCT)) ? req->product : NULL, NULL, 0,
	    detail);
	log_msg(LOG_INFO, "%s: admin %s by %s", c->peer, detail, c->principal);
	switch (req->type) {
	case MSG_HOLDERS:
		return req_list_holders(c, req, NULL, reply);
	case MSG_REMOVE:
		return req_admin_remove(c, req, reply);
	case MSG_REREAD:
		return req_admin_reread(c, reply);
	case MSG_SHUTDOWN:
		log_msg(LOG_NOTICE, "shutdown requested by %s", c->principal);
		if (req_state(c->srv) == NULL) {
			c->srv->stopping = 1;
		} else if (c->srv->hs->shutdown_ms == 0) {
			c->srv->hs->shutdown_conn = c;
			c->srv->hs->shutdown_ms = server_now_ms() + 1000;
		}
		reply->type = MSG_OK;
		return 0;
	case MSG_REPORT:
		return req_list_report(c, req, reply);
	}
	return XLICEN_E_MSG_TYPE;
}
