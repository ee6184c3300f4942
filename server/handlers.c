/*
 * Request handlers: a decoded, authenticated request -> store -> reply.
 * The seat owner is always the principal the GSS context authenticated;
 * nothing the client claims (host, display) decides ownership.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "license.h"
#include "log.h"
#include "server.h"

static void
reply_error(struct msg *reply, uint16_t type, int code, const char *reason)
{
	char cut[LIMIT_STRING + 1];
	size_t n;

	reply->type = type;
	reply->code = (uint16_t)(code < 0 ? -code : code);
	reply->have |= MSG_F(TAG_CODE);
	if (reason == NULL)
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
		snprintf(out, outlen, "all %u seats of %s are in use (%u wanted)",
		    g->total, req->product, req->count);
		break;
	case XLICEN_E_NO_VERSION:
		snprintf(out, outlen, "no license of %s covers version %s",
		    req->product, req->version);
		break;
	default:
		snprintf(out, outlen, "%s: %s", req->product, err_str(code));
		break;
	}
}

static int
handle_checkout(struct server *srv, const char *principal,
    const struct msg *req, struct msg *reply)
{
	struct store_checkout_req cr;
	struct store_grant g;
	char reason[3 * LIMIT_STRING];
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
	memset(&cr, 0, sizeof(cr));
	cr.principal = principal;
	cr.product = req->product;
	cr.version = req->version;
	cr.host = req->host;
	cr.display = req->display;
	cr.count = req->count;
	cr.pid = req->pid;
	cr.ttl_s = srv->cfg.lease_ttl_s;
	cr.now = (int64_t)time(NULL);
	rc = store_checkout(srv->store, &cr, &g);
	if (rc == 0) {
		reply->type = MSG_GRANT;
		msg_set_str(reply, TAG_LEASE, g.lease_id);
		reply->expires = (uint64_t)g.expires;
		reply->heartbeat = srv->cfg.heartbeat_s;
		reply->in_use = g.in_use;
		reply->total = g.total;
		reply->have |= MSG_F(TAG_EXPIRES) | MSG_F(TAG_HEARTBEAT) |
		    MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL);
		if (srv->next_expiry == 0 || g.expires < srv->next_expiry)
			srv->next_expiry = g.expires;
		log_msg(LOG_INFO, "grant %s %s %u seat(s) to %s lease %s (%u/%u)",
		    req->product, req->version, req->count, principal,
		    g.lease_id, g.in_use, g.total);
		return 0;
	}
	deny_reason(rc, req, &g, reason, sizeof(reason));
	reply_error(reply, MSG_DENY, rc, reason);
	if (rc == XLICEN_E_NO_SEATS) {
		reply->in_use = g.in_use;
		reply->total = g.total;
		reply->have |= MSG_F(TAG_IN_USE) | MSG_F(TAG_TOTAL);
	}
	log_msg(LOG_INFO, "deny %s %s to %s: %s", req->product, req->version,
	    principal, reason);
	return 0;
}

static int
handle_heartbeat(struct server *srv, const char *principal,
    const struct msg *req, struct msg *reply)
{
	int64_t expires = 0;
	int rc;

	rc = store_heartbeat(srv->store, principal, req->lease,
	    (int64_t)time(NULL), &expires);
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	reply->type = MSG_OK;
	reply->expires = (uint64_t)expires;
	reply->have |= MSG_F(TAG_EXPIRES);
	return 0;
}

static int
handle_release(struct server *srv, const char *principal,
    const struct msg *req, struct msg *reply)
{
	int rc;

	rc = store_release(srv->store, principal, req->lease, (int64_t)time(NULL));
	if (rc != 0) {
		reply_error(reply, MSG_ERROR, rc, NULL);
		return 0;
	}
	log_msg(LOG_INFO, "release lease %s by %s", req->lease, principal);
	reply->type = MSG_OK;
	return 0;
}

static int
handle_status(struct server *srv, const struct msg *req, struct msg *reply)
{
	struct store_pool_status *ps = NULL;
	struct msg_pool mp;
	size_t i, n = 0;
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
	for (i = 0; i < n && i < LIMIT_STATUS_POOLS; i++) {
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
		if ((rc = msg_add_pool(reply, &mp)) != 0)
			break;
	}
	free(ps);
	return 0;
}

int
handlers_dispatch(struct server *srv, const char *principal,
    const struct msg *req, struct msg *reply)
{
	msg_init(reply, 0, req->id);
	switch (req->type) {
	case MSG_CHECKOUT:
		return handle_checkout(srv, principal, req, reply);
	case MSG_HEARTBEAT:
		return handle_heartbeat(srv, principal, req, reply);
	case MSG_RELEASE:
		return handle_release(srv, principal, req, reply);
	case MSG_STATUS:
		return handle_status(srv, req, reply);
	default:
		return XLICEN_E_MSG_TYPE;
	}
}
