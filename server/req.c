/*
 * What every request file shares (handlers.c, queue.c, req_list.c,
 * req_admin.c): the handlers' in-memory state, the reply helpers (an
 * error or a DENY, the reason of a refused checkout, a GRANT), the loop's
 * next lease expiry and the audit of events only the handlers know of.
 * It calls no other part of the server: the request files sit above it
 * (docs/ARCHITECTURE.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "handlers_int.h"
#include "log.h"

/* ---- state ---- */

struct handlers_state *
req_state(struct server *srv)
{
	if (srv->hs == NULL)
		srv->hs = calloc(1, sizeof(*srv->hs));
	return srv->hs;
}

/* ---- replies ---- */

void
req_reply_error(struct msg *reply, uint16_t type, int code,
    const char *reason)
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

uint32_t
req_deny_detail(int code, const struct store_grant *g)
{
	if (code == XLICEN_E_NO_SEATS && g->reserved_others > 0)
		return MSG_DENY_RESERVED;
	return 0;
}

void
req_deny_reason(int code, const struct msg *req,
    const struct store_grant *g, char *out, size_t outlen)
{
	switch (code) {
	case XLICEN_E_NO_SEATS:
		if (req_deny_detail(code, g) & MSG_DENY_RESERVED)
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

void
req_fill_grant(struct msg *m, const struct store_grant *g)
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

void
req_note_expiry(struct server *srv, int64_t t)
{
	if (t > 0 && (srv->next_expiry == 0 || t < srv->next_expiry))
		srv->next_expiry = t;
}

/* Audit helper for the events only handlers know of. */
void
req_audit(struct server *srv, const char *kind, const char *principal,
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

