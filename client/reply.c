/*
 * Building requests and reading replies, once for the whole library:
 * the lease machine (lease.c) and the one-shot requests (requests.c) use
 * the same helpers, so a CHECKOUT carries the same client fields and a
 * DENY or ERROR becomes the same error whichever call sent it.  Also
 * xlicen_canon_display, the display canonicalised as a checkout sends it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xlicen.h"

#include "buf.h"
#include "display.h"
#include "err.h"
#include "limits.h"
#include "msg.h"
#include "session_int.h"

/* The error code a DENY or ERROR reply carries. */
int
sess_reply_error(xlicen_session *s, const struct msg *m)
{
	int code = m->code != 0 ? -(int)m->code : XLICEN_E_BAD_VALUE;

	sess_seterr(s, code, "%s", (m->have & MSG_F(TAG_REASON)) &&
	    m->reason[0] != '\0' ? m->reason : err_str(code));
	if (m->type == MSG_DENY && (m->have & MSG_F(TAG_DETAIL)))
		s->deny_detail = m->detail;
	return code;
}

unsigned
xlicen_deny_detail(const xlicen_session *s)
{
	return s != NULL ? s->deny_detail : 0;
}

/* A reply of a type this request cannot have: the server is broken. */
int
sess_bad_reply(xlicen_session *s, uint16_t req_type, const struct msg *m,
    int drop)
{
	char text[160];

	snprintf(text, sizeof(text), "unexpected %s reply to %s",
	    msg_type_name(m->type), msg_type_name(req_type));
	if (!drop)
		return sess_seterr(s, XLICEN_E_MSG_TYPE, "%s", text);
	return sess_abort(s, XLICEN_E_MSG_TYPE, text);
}

/* Set a string field of req; a caller's string that the protocol cannot
 * carry is the caller's error. */
int
sess_set_str(xlicen_session *s, struct msg *req, int tag, const char *what,
    const char *v)
{
	int rc;

	if ((rc = msg_set_str(req, tag, v)) != 0)
		return sess_seterr(s, rc, "%s is longer than %d bytes or not UTF-8",
		    what, LIMIT_STRING);
	return 0;
}

/* Check the arguments of a checkout (blocking or not). */
int
sess_checkout_args(xlicen_session *s, const char *product, const char *version,
    unsigned count)
{
	if (product == NULL || product[0] == '\0' || version == NULL ||
	    version[0] == '\0' || count == 0)
		return sess_seterr(s, XLICEN_E_INVALID, "checkout needs a product, "
		    "a version and a count of at least 1");
	if (count > LIMIT_SEATS)
		return sess_seterr(s, XLICEN_E_COUNT, "at most %d seats in one "
		    "checkout", LIMIT_SEATS);
	if (strlen(product) > LIMIT_STRING ||
	    !buf_utf8_valid((const uint8_t *)product, strlen(product)))
		return sess_seterr(s, XLICEN_E_STRING, "product is longer than %d "
		    "bytes or not UTF-8", LIMIT_STRING);
	if (strlen(version) > LIMIT_STRING ||
	    !buf_utf8_valid((const uint8_t *)version, strlen(version)))
		return sess_seterr(s, XLICEN_E_STRING, "version is longer than %d "
		    "bytes or not UTF-8", LIMIT_STRING);
	return 0;
}

/* This host's name and the canonical display, as a checkout reports them
 * (informational: omitted when they cannot be sent), and the pid. */
void
sess_add_client(xlicen_session *s, struct msg *m, const char *host,
    const char *display)
{
	char hbuf[LIMIT_STRING + 1], canon[LIMIT_STRING + 1];

	if (host == NULL && gethostname(hbuf, sizeof(hbuf)) == 0) {
		hbuf[sizeof(hbuf) - 1] = '\0';
		host = hbuf;
	}
	if (host != NULL && host[0] != '\0')
		msg_set_str(m, TAG_HOST, host);
	if (display == NULL)
		display = s->display;
	if (display == NULL)
		display = getenv("DISPLAY");
	if (display != NULL && display[0] != '\0' &&
	    xlicen_canon_display(display, canon, sizeof(canon)) == 0)
		msg_set_str(m, TAG_DISPLAY, canon);
	m->pid = (uint32_t)getpid();
	m->have |= MSG_F(TAG_PID);
}

/* A CHECKOUT message: product, version, count, and the informational
 * host, canonical display and pid. */
int
sess_build_checkout(xlicen_session *s, struct msg *req, const char *product,
    const char *version, unsigned count)
{
	int rc;

	msg_init(req, MSG_CHECKOUT, 0);
	if ((rc = sess_set_str(s, req, TAG_PRODUCT, "product", product)) != 0 ||
	    (rc = sess_set_str(s, req, TAG_VERSION, "version", version)) != 0)
		return rc;
	req->count = count;
	req->have |= MSG_F(TAG_COUNT);
	sess_add_client(s, req, NULL, NULL);
	return 0;
}

/* A RECLAIM of lease: like a heartbeat, and it tells the server which
 * process on which host and display holds the lease now. */
int
sess_build_reclaim(xlicen_session *s, struct msg *req, const char *lease)
{
	int rc;

	msg_init(req, MSG_RECLAIM, 0);
	if ((rc = msg_set_str(req, TAG_LEASE, lease)) != 0)
		return rc;
	sess_add_client(s, req, NULL, NULL);
	return 0;
}

/* A GRANT into *out; XLICEN_E_BAD_VALUE (drop: connection aborted) if the
 * lease id cannot be one. */
int
sess_take_grant(xlicen_session *s, const struct msg *m,
    struct xlicen_grant *out, int drop)
{
	size_t n = strlen(m->lease);

	if (n == 0 || n > XLICEN_LEASE_MAX) {
		if (!drop)
			return sess_seterr(s, XLICEN_E_BAD_VALUE,
			    "lease id empty or too long");
		return sess_abort(s, XLICEN_E_BAD_VALUE, "lease id empty or too long");
	}
	memset(out, 0, sizeof(*out));
	memcpy(out->lease, m->lease, n + 1);
	out->expires = (int64_t)m->expires;
	out->heartbeat_s = m->heartbeat;
	out->in_use = m->in_use;
	out->total = m->total;
	return 0;
}

int
xlicen_canon_display(const char *display, char *out, size_t outlen)
{
	char host[LIMIT_STRING + 1];

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (display == NULL || out == NULL || outlen == 0)
		return XLICEN_E_INVALID;
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	return display_canon(display, host, out, outlen);
}
