/*
 * Every one-shot request of the library: the blocking checkout (also with
 * options and waiting in the server's queue), RECLAIM, heartbeat and
 * release of a lease, status, the caller's own leases, and the admin
 * requests (holders, remove, reread, shutdown, report).  Each is one or a
 * few request/reply exchanges through the session's own request function
 * (sess_request, session_int.h), so connecting, authentication, timeouts
 * and errors behave the same for all; requests are built and replies read
 * with the helpers of reply.c.  Nothing in the session module calls
 * this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xlicen.h"

#include "borrow.h"
#include "err.h"
#include "limits.h"
#include "msg.h"
#include "session_int.h"
#include "tokens.h"

/* A call made with arguments it cannot take: XLICEN_E_INVALID, recorded. */
static int
req_invalid(xlicen_session *s, const char *text)
{
	return sess_seterr(s, XLICEN_E_INVALID, "%s", text);
}

static int64_t
req_mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* Give up a place in line (a RELEASE of the queue id); best effort. */
static void
req_leave_queue(xlicen_session *s, const char *qid)
{
	struct msg req, rep;

	msg_init(&req, MSG_RELEASE, 0);
	if (msg_set_str(&req, TAG_LEASE, qid) == 0 &&
	    sess_request(s, &req, &rep) == 0)
		msg_clear(&rep);
	msg_clear(&req);
}

/*
 * No server could be reached (rc XLICEN_E_CONNECT), or no valid tickets
 * to try (XLICEN_E_NO_CREDS: a laptop away for days): grant from the
 * product's borrow token if it holds (tokens_offline).  Without a token
 * the error stays; a token refused gives its own code and why.
 */
static int
req_offline(xlicen_session *s, int rc, const char *product,
    const char *version, const char *host, struct xlicen_grant *out)
{
	struct borrow_token t;
	char why[600];
	int r;

	if (rc != XLICEN_E_CONNECT && rc != XLICEN_E_NO_CREDS)
		return rc;
	r = tokens_offline(product, version, host, &t, why, sizeof(why));
	if (r == XLICEN_E_NO_TOKEN && why[0] == '\0')
		return rc;
	if (r != 0)
		return sess_seterr(s, r, "no server reachable; borrowed %s "
		    "refused: %s", product, why);
	sess_clearerr(s);
	memset(out, 0, sizeof(*out));
	snprintf(out->lease, sizeof(out->lease), "%.64s", t.lease);
	out->expires = (int64_t)t.end;
	out->borrowed = 1;
	return 0;
}

int
sess_borrow_lease(const char *product, char *lease, size_t leaselen)
{
	uint8_t tok[LIMIT_BORROW_TOKEN];
	struct borrow_token t;
	size_t n;

	if (tokens_load(product, tok, sizeof(tok), &n) != 0 ||
	    borrow_token_parse(tok, n, &t) != 0)
		return -1;
	snprintf(lease, leaselen, "%s", t.lease);
	return 0;
}

void
sess_borrow_verdict(const char *product, const struct msg *rep)
{
	if (rep->type == MSG_ERROR &&
	    (rep->code == (uint16_t)-XLICEN_E_REVOKED ||
	    rep->code == (uint16_t)-XLICEN_E_NO_LEASE ||
	    rep->code == (uint16_t)-XLICEN_E_NOT_OWNER))
		(void)tokens_delete(product);
}

/*
 * Online again, with a stored token for product: a HEARTBEAT of its lease
 * (the server neither extends nor binds a borrowed lease by it) says
 * whether the server still has it (sess_borrow_verdict).  Best effort;
 * the session's error is left as the caller's request set it.  The
 * non-blocking checkout sends the same HEARTBEAT through its machine
 * (lease.c) and decides with the same sess_borrow_verdict.
 */
static void
req_borrow_reconcile(xlicen_session *s, const char *product)
{
	char lease[XLICEN_LEASE_MAX + 1];
	struct msg req, rep;

	if (sess_borrow_lease(product, lease, sizeof(lease)) != 0)
		return;
	msg_init(&req, MSG_HEARTBEAT, 0);
	msg_init(&rep, 0, 0);
	if (msg_set_str(&req, TAG_LEASE, lease) == 0 &&
	    sess_request(s, &req, &rep) == 0)
		sess_borrow_verdict(product, &rep);
	msg_clear(&req);
	msg_clear(&rep);
}

int
xlicen_checkout(xlicen_session *s, const char *product, const char *version,
    unsigned count, struct xlicen_grant *out)
{
	struct msg req, rep;
	int rc;

	msg_init(&req, MSG_CHECKOUT, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	if (out == NULL) {
		rc = sess_seterr(s, XLICEN_E_INVALID, "checkout needs somewhere "
		    "to put the grant");
		goto out;
	}
	if ((rc = sess_checkout_args(s, product, version, count)) != 0 ||
	    (rc = sess_build_checkout(s, &req, product, version, count)) != 0)
		goto out;
	if ((rc = sess_request(s, &req, &rep)) != 0) {
		rc = req_offline(s, rc, product, version, NULL, out);
		goto out;
	}
	switch (rep.type) {
	case MSG_GRANT:
		rc = sess_take_grant(s, &rep, out, 1);
		if (rc == 0)
			req_borrow_reconcile(s, product);
		break;
	case MSG_DENY:
	case MSG_ERROR:
		out->in_use = rep.in_use;
		out->total = rep.total;
		rc = sess_reply_error(s, &rep);
		break;
	default:
		rc = sess_bad_reply(s, req.type, &rep, 1);
		break;
	}
out:
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

int
xlicen_checkout_ex(xlicen_session *s, const char *product,
    const char *version, unsigned count,
    const struct xlicen_checkout_opts *opts, struct xlicen_grant *out)
{
	struct msg req, rep;
	char qid[LIMIT_STRING + 1] = "", text[400];
	unsigned flags = opts != NULL ? opts->flags : 0, position = 0;
	int64_t deadline = 0, left;
	int rc;

	msg_init(&req, MSG_CHECKOUT, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (out == NULL || product == NULL || product[0] == '\0' ||
	    version == NULL || version[0] == '\0' || count == 0) {
		rc = req_invalid(s, "checkout needs a product, a version and a "
		    "count of at least 1");
		goto out;
	}
	if (count > LIMIT_SEATS) {
		snprintf(text, sizeof(text), "at most %d seats in one checkout",
		    LIMIT_SEATS);
		rc = sess_seterr(s, XLICEN_E_COUNT, "%s", text);
		goto out;
	}
	if ((rc = sess_set_str(s, &req, TAG_PRODUCT, "product", product)) != 0 ||
	    (rc = sess_set_str(s, &req, TAG_VERSION, "version", version)) != 0)
		goto out;
	req.count = count;
	req.have |= MSG_F(TAG_COUNT);
	sess_add_client(s, &req, opts != NULL ? opts->host : NULL,
	    opts != NULL ? opts->display : NULL);
	if (flags & XLICEN_CHECKOUT_WAIT) {
		req.flags = MSG_FLAG_WAIT;
		req.have |= MSG_F(TAG_FLAGS) | MSG_F(TAG_WAIT);
		if (opts->wait_s > 0)
			deadline = req_mono_s() + opts->wait_s;
	}
	/*
	 * A waiting checkout is held by the server for at most
	 * LIMIT_WAIT_STEP_S (below the session's reply timeout), then
	 * answered QUEUED; asking again with the queue id keeps the place.
	 */
	for (;;) {
		if (flags & XLICEN_CHECKOUT_WAIT) {
			req.wait = LIMIT_WAIT_STEP_S;
			if (deadline != 0) {
				left = deadline - req_mono_s();
				if (left <= 0)
					break;
				if (left < (int64_t)req.wait)
					req.wait = (uint32_t)left;
			}
			if (qid[0] != '\0')
				msg_set_str(&req, TAG_QUEUE_ID, qid);
		}
		msg_clear(&rep);
		if ((rc = sess_request(s, &req, &rep)) != 0) {
			if (qid[0] == '\0')
				rc = req_offline(s, rc, product, version,
				    opts != NULL ? opts->host : NULL, out);
			goto out;
		}
		switch (rep.type) {
		case MSG_GRANT:
			rc = sess_take_grant(s, &rep, out, 0);
			if (rc == 0)
				req_borrow_reconcile(s, product);
			goto out;
		case MSG_QUEUED:
			if (!(flags & XLICEN_CHECKOUT_WAIT)) {
				rc = sess_bad_reply(s, MSG_CHECKOUT, &rep, 0);
				goto out;
			}
			snprintf(qid, sizeof(qid), "%s", rep.queue_id);
			position = rep.position;
			out->in_use = rep.in_use;
			out->total = rep.total;
			continue;
		case MSG_DENY:
		case MSG_ERROR:
			out->in_use = rep.in_use;
			out->total = rep.total;
			rc = sess_reply_error(s, &rep);
			goto out;
		default:
			rc = sess_bad_reply(s, MSG_CHECKOUT, &rep, 0);
			goto out;
		}
	}
	/* Our own wait is over: give the place up. */
	if (qid[0] != '\0')
		req_leave_queue(s, qid);
	snprintf(text, sizeof(text), "no seat of %s within %u s (position %u "
	    "in the queue)", product, opts->wait_s, position);
	rc = sess_seterr(s, XLICEN_E_TIMEOUT, "%s", text);
out:
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

int
xlicen_reclaim(xlicen_session *s, const char *lease, struct xlicen_grant *out)
{
	struct msg req, rep;
	int rc;

	msg_init(&req, MSG_RECLAIM, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (out == NULL || lease == NULL || lease[0] == '\0' ||
	    strlen(lease) > XLICEN_LEASE_MAX) {
		rc = req_invalid(s, "reclaim needs a lease id of 1 to 64 bytes");
		goto out;
	}
	if ((rc = sess_set_str(s, &req, TAG_LEASE, "lease id", lease)) != 0)
		goto out;
	sess_add_client(s, &req, NULL, NULL);
	if ((rc = sess_request(s, &req, &rep)) != 0)
		goto out;
	switch (rep.type) {
	case MSG_GRANT:
		rc = sess_take_grant(s, &rep, out, 0);
		break;
	case MSG_ERROR:
	case MSG_DENY:
		rc = sess_reply_error(s, &rep);
		break;
	default:
		rc = sess_bad_reply(s, MSG_RECLAIM, &rep, 0);
		break;
	}
out:
	msg_clear(&req);
	msg_clear(&rep);
	if (rc != 0 && out != NULL)
		memset(out, 0, sizeof(*out));
	return rc;
}

int
xlicen_heartbeat(xlicen_session *s, const char *lease, int64_t *expires)
{
	return sess_lease_request(s, MSG_HEARTBEAT, lease, expires, NULL);
}

int
xlicen_heartbeat_ex(xlicen_session *s, const char *lease, int64_t *expires,
    int64_t *creds_end)
{
	return sess_lease_request(s, MSG_HEARTBEAT, lease, expires, creds_end);
}

int
xlicen_release(xlicen_session *s, const char *lease)
{
	return sess_lease_request(s, MSG_RELEASE, lease, NULL, NULL);
}

/*
 * A request whose success is a reply of type want (OK, or a list): the
 * common part of the administrative calls.  *rep is the caller's.
 */
static int
req_simple(xlicen_session *s, struct msg *req, uint16_t want,
    struct msg *rep)
{
	int rc;

	if ((rc = sess_request(s, req, rep)) != 0)
		return rc;
	if (rep->type == want)
		return 0;
	if (rep->type == MSG_ERROR || rep->type == MSG_DENY)
		return sess_reply_error(s, rep);
	return sess_bad_reply(s, req->type, rep, 0);
}

static int
req_holders(xlicen_session *s, uint16_t type, const char *product,
    struct xlicen_holder **out, size_t *n, int *more)
{
	struct xlicen_holder *v = NULL;
	struct msg req, rep;
	size_t i;
	int rc;

	msg_init(&req, type, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (more != NULL)
		*more = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (out == NULL || n == NULL) {
		rc = req_invalid(s, "no place to put the list");
		goto out;
	}
	if (product != NULL &&
	    (rc = sess_set_str(s, &req, TAG_PRODUCT, "product", product)) != 0)
		goto out;
	if ((rc = req_simple(s, &req, MSG_HOLDERS_REPLY, &rep)) != 0)
		goto out;
	if (rep.nholders > 0 && (v = calloc(rep.nholders, sizeof(*v))) ==
	    NULL) {
		rc = sess_seterr(s, XLICEN_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < rep.nholders; i++) {
		const struct msg_holder *h = &rep.holders[i];
		struct xlicen_holder *x = &v[i];

		snprintf(x->product, sizeof(x->product), "%s", h->product);
		snprintf(x->version, sizeof(x->version), "%s", h->version);
		snprintf(x->principal, sizeof(x->principal), "%s", h->principal);
		snprintf(x->host, sizeof(x->host), "%s", h->host);
		snprintf(x->display, sizeof(x->display), "%s", h->display);
		snprintf(x->id, sizeof(x->id), "%s", h->state ==
		    MSG_HOLDER_QUEUED ? h->queue_id : h->lease);
		x->pid = h->pid;
		x->count = h->count;
		x->heartbeat_s = h->heartbeat;
		x->position = h->position;
		x->since = (int64_t)h->since;
		x->last_heartbeat = (int64_t)h->last_hb;
		x->expires = (int64_t)h->expires;
		x->state = h->state;
		x->connected = h->connected;
		x->withdrawn = (h->pool_flags & MSG_POOL_WITHDRAWN) != 0;
	}
	*out = v;
	*n = rep.nholders;
	v = NULL;
	if (more != NULL)
		*more = rep.more != 0;
out:
	free(v);
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

int
xlicen_holders(xlicen_session *s, const char *product,
    struct xlicen_holder **out, size_t *n, int *more)
{
	return req_holders(s, MSG_HOLDERS, product, out, n, more);
}

int
xlicen_my_leases(xlicen_session *s, const char *product,
    struct xlicen_holder **out, size_t *n)
{
	return req_holders(s, MSG_LIST_MINE, product, out, n, NULL);
}

void
xlicen_holders_free(struct xlicen_holder *h)
{
	free(h);
}

int
xlicen_remove(xlicen_session *s, const char *lease)
{
	return xlicen_remove_lease(s, lease, NULL);
}

int
xlicen_remove_lease(xlicen_session *s, const char *lease,
    struct xlicen_removed *out)
{
	struct msg req, rep;
	int rc;

	msg_init(&req, MSG_REMOVE, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (lease == NULL || lease[0] == '\0' || strlen(lease) > XLICEN_LEASE_MAX)
		rc = req_invalid(s, "remove needs a lease id of 1 to 64 bytes");
	else if ((rc = sess_set_str(s, &req, TAG_LEASE, "lease id", lease)) == 0)
		rc = req_simple(s, &req, MSG_OK, &rep);
	if (rc == 0 && out != NULL && (rep.have & MSG_F(TAG_FLAGS)) &&
	    (rep.flags & MSG_OK_BORROW_CANCELLED)) {
		out->cancelled = 1;
		out->end = (rep.have & MSG_F(TAG_EXPIRES)) ?
		    (int64_t)rep.expires : 0;
	}
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

int
xlicen_info(xlicen_session *s, struct xlicen_info *out)
{
	struct msg req, rep;
	size_t i;
	int rc;

	msg_init(&req, MSG_INFO, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (out == NULL) {
		rc = req_invalid(s, "no place to put the server's info");
		goto out;
	}
	if ((rc = req_simple(s, &req, MSG_INFO_REPLY, &rep)) != 0)
		goto out;
	snprintf(out->version, sizeof(out->version), "%s", rep.version);
	out->time = (int64_t)rep.time;
	out->started = (int64_t)rep.since;
	snprintf(out->licdir, sizeof(out->licdir), "%s", rep.licdir);
	out->licenses_loaded = rep.loaded;
	out->licenses_refused = rep.refused;
	for (i = 0; i < rep.nlistens && i < XLICEN_INFO_LISTEN_MAX; i++)
		snprintf(out->listen[i], sizeof(out->listen[i]), "%s",
		    rep.listens[i].address);
	out->nlisten = i;
out:
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

int
xlicen_reread(xlicen_session *s, char *summary, size_t summarylen)
{
	struct msg req, rep;
	int rc;

	msg_init(&req, MSG_REREAD, 0);
	msg_init(&rep, 0, 0);
	if (summary != NULL && summarylen > 0)
		summary[0] = '\0';
	if (s == NULL)
		return XLICEN_E_INVALID;
	rc = req_simple(s, &req, MSG_OK, &rep);
	if (rc == 0 && summary != NULL && summarylen > 0)
		snprintf(summary, summarylen, "%s", rep.reason);
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

int
xlicen_shutdown(xlicen_session *s)
{
	struct msg req, rep;
	int rc;

	msg_init(&req, MSG_SHUTDOWN, 0);
	msg_init(&rep, 0, 0);
	if (s == NULL)
		return XLICEN_E_INVALID;
	rc = req_simple(s, &req, MSG_OK, &rep);
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

/* A REPORT request; verify adds the chain check. */
static int
req_report(xlicen_session *s, int64_t from, int64_t to,
    const char *product, uint32_t flags, uint64_t after, struct msg *rep)
{
	struct msg req;
	int rc;

	msg_init(&req, MSG_REPORT, 0);
	if (from < 0 || to < 0 || (to > 0 && from > to)) {
		rc = sess_seterr(s, XLICEN_E_BAD_VALUE, "the report range is "
		    "empty (from after to)");
		goto out;
	}
	if (from > 0) {
		req.from = (uint64_t)from;
		req.have |= MSG_F(TAG_FROM);
	}
	if (to > 0) {
		req.to = (uint64_t)to;
		req.have |= MSG_F(TAG_TO);
	}
	if (flags != 0) {
		req.flags = flags;
		req.have |= MSG_F(TAG_FLAGS);
	}
	if (after > 0) {
		req.after = after;
		req.have |= MSG_F(TAG_AFTER);
	}
	if (product != NULL &&
	    (rc = sess_set_str(s, &req, TAG_PRODUCT, "product", product)) != 0)
		goto out;
	rc = req_simple(s, &req, MSG_REPORT_REPLY, rep);
out:
	msg_clear(&req);
	return rc;
}

int
xlicen_report(xlicen_session *s, int64_t from, int64_t to,
    const char *product, struct xlicen_report_row **rows, size_t *n,
    int *more)
{
	struct xlicen_report_row *v = NULL;
	struct msg rep;
	size_t i;
	int rc;

	msg_init(&rep, 0, 0);
	if (rows != NULL)
		*rows = NULL;
	if (n != NULL)
		*n = 0;
	if (more != NULL)
		*more = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (rows == NULL || n == NULL)
		return req_invalid(s, "no place to put the report");
	if ((rc = req_report(s, from, to, product, 0, 0, &rep)) != 0)
		goto out;
	if (rep.nrows > 0 && (v = calloc(rep.nrows, sizeof(*v))) == NULL) {
		rc = sess_seterr(s, XLICEN_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < rep.nrows; i++) {
		snprintf(v[i].product, sizeof(v[i].product), "%s",
		    rep.rows[i].product);
		snprintf(v[i].principal, sizeof(v[i].principal), "%s",
		    rep.rows[i].principal);
		v[i].grants = rep.rows[i].grants;
		v[i].denials = rep.rows[i].denials;
		v[i].peak = rep.rows[i].peak;
		v[i].avg = rep.rows[i].avg_milli / 1000.0;
		v[i].seconds = rep.rows[i].seconds;
	}
	*rows = v;
	*n = rep.nrows;
	v = NULL;
	if (more != NULL)
		*more = rep.more != 0;
	/* Required fields of REPORT_REPLY: the decoder saw both. */
	s->report_from = rep.from > INT64_MAX ? INT64_MAX : (int64_t)rep.from;
	s->report_to = rep.to > INT64_MAX ? INT64_MAX : (int64_t)rep.to;
out:
	free(v);
	msg_clear(&rep);
	return rc;
}

int
xlicen_report_events(xlicen_session *s, int64_t from, int64_t to,
    const char *product, uint64_t after, struct xlicen_event **events,
    size_t *n, int *more)
{
	struct xlicen_event *v = NULL;
	const struct msg_event *e;
	struct msg rep;
	size_t i;
	int rc;

	msg_init(&rep, 0, 0);
	if (events != NULL)
		*events = NULL;
	if (n != NULL)
		*n = 0;
	if (more != NULL)
		*more = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (events == NULL || n == NULL)
		return req_invalid(s, "no place to put the events");
	if ((rc = req_report(s, from, to, product, MSG_REPORT_EVENTS, after,
	    &rep)) != 0)
		goto out;
	/* A server before EVENTS ignores the flag and sends usage rows. */
	if (rep.nrows > 0) {
		rc = sess_seterr(s, XLICEN_E_MSG_TYPE, "the server predates the "
		    "raw event export (it answered with usage rows)");
		goto out;
	}
	if (rep.nevs > 0 && (v = calloc(rep.nevs, sizeof(*v))) == NULL) {
		rc = sess_seterr(s, XLICEN_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < rep.nevs; i++) {
		e = &rep.evs[i];
		v[i].id = e->event_id;
		v[i].time = e->time > INT64_MAX ? INT64_MAX : (int64_t)e->time;
		/* Absent strings are "" in the decoded element. */
		snprintf(v[i].kind, sizeof(v[i].kind), "%s", e->kind);
		snprintf(v[i].principal, sizeof(v[i].principal), "%s", e->principal);
		snprintf(v[i].host, sizeof(v[i].host), "%s", e->host);
		snprintf(v[i].display, sizeof(v[i].display), "%s", e->display);
		snprintf(v[i].product, sizeof(v[i].product), "%s", e->product);
		snprintf(v[i].version, sizeof(v[i].version), "%s", e->version);
		snprintf(v[i].lease, sizeof(v[i].lease), "%s", e->lease);
		snprintf(v[i].note, sizeof(v[i].note), "%s", e->note);
		v[i].has_count = (e->have & MSG_F(TAG_COUNT)) != 0;
		v[i].count = e->count;
		v[i].code = (e->have & MSG_F(TAG_CODE)) ? -(int)e->code : 0;
	}
	*events = v;
	*n = rep.nevs;
	v = NULL;
	if (more != NULL)
		*more = rep.more != 0;
	s->report_from = rep.from > INT64_MAX ? INT64_MAX : (int64_t)rep.from;
	s->report_to = rep.to > INT64_MAX ? INT64_MAX : (int64_t)rep.to;
out:
	free(v);
	msg_clear(&rep);
	return rc;
}

void
xlicen_events_free(struct xlicen_event *events)
{
	free(events);
}

void
xlicen_report_range(const xlicen_session *s, int64_t *from, int64_t *to)
{
	if (from != NULL)
		*from = s != NULL ? s->report_from : 0;
	if (to != NULL)
		*to = s != NULL ? s->report_to : 0;
}

void
xlicen_report_free(struct xlicen_report_row *rows)
{
	free(rows);
}

int
xlicen_report_verify(xlicen_session *s, struct xlicen_audit_check *out)
{
	struct msg rep;
	int rc;

	msg_init(&rep, 0, 0);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (out == NULL)
		return req_invalid(s, "no place to put the result");
	/* A range ending at 1 s keeps the usage rows out of the reply. */
	if ((rc = req_report(s, 0, 1, NULL, MSG_REPORT_VERIFY, 0, &rep)) != 0)
		goto out;
	if (!(rep.have & MSG_F(TAG_EVENTS))) {
		rc = sess_seterr(s, XLICEN_E_MSG_TYPE, "the server did not "
		    "check its audit trail");
		goto out;
	}
	out->events = rep.events;
	out->bad_event = rep.bad_event;
	snprintf(out->head, sizeof(out->head), "%.64s", rep.hash);
	if (rep.bad_event != 0)
		rc = sess_seterr(s, XLICEN_E_AUDIT_CHAIN, "%s",
		    rep.reason[0] != '\0' ? rep.reason :
		    err_str(XLICEN_E_AUDIT_CHAIN));
out:
	msg_clear(&rep);
	return rc;
}

int
xlicen_status_info(xlicen_session *s, const char *product,
    struct xlicen_pool_info **out, size_t *n)
{
	struct xlicen_pool_info *v = NULL;
	struct msg req, rep;
	size_t i;
	int rc;

	msg_init(&req, MSG_STATUS, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (out == NULL || n == NULL) {
		rc = req_invalid(s, "no place to put the pools");
		goto out;
	}
	if (product != NULL &&
	    (rc = sess_set_str(s, &req, TAG_PRODUCT, "product", product)) != 0)
		goto out;
	if ((rc = req_simple(s, &req, MSG_STATUS_REPLY, &rep)) != 0)
		goto out;
	if (rep.npools > 0 && (v = calloc(rep.npools, sizeof(*v))) == NULL) {
		rc = sess_seterr(s, XLICEN_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < rep.npools; i++) {
		const struct msg_pool *p = &rep.pools[i];
		struct xlicen_pool_info *x = &v[i];

		snprintf(x->pool.product, sizeof(x->pool.product), "%s",
		    p->product);
		snprintf(x->pool.versions, sizeof(x->pool.versions), "%s",
		    p->versions);
		snprintf(x->pool.vendor, sizeof(x->pool.vendor), "%s", p->vendor);
		snprintf(x->pool.serial, sizeof(x->pool.serial), "%s", p->serial);
		x->pool.total = p->total;
		x->pool.in_use = p->in_use;
		x->pool.start = (int64_t)p->start;
		x->pool.expires = (int64_t)p->expires;
		x->pool.state = p->state;
		x->queued = p->queued;
		x->flags = p->pool_flags;
		snprintf(x->hostid, sizeof(x->hostid), "%s", p->hostid);
		snprintf(x->dup_group, sizeof(x->dup_group), "%s", p->dup_group);
		x->linger_s = p->linger;
		x->ttl_s = p->ttl;
		x->heartbeat_s = p->heartbeat;
	}
	*out = v;
	*n = rep.npools;
	v = NULL;
out:
	free(v);
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

void
xlicen_pool_info_free(struct xlicen_pool_info *pools)
{
	free(pools);
}

int
xlicen_status(xlicen_session *s, const char *product,
    struct xlicen_pool **pools, size_t *n)
{
	struct xlicen_pool_info *info = NULL;
	struct xlicen_pool *v = NULL;
	size_t i, k = 0;
	int rc;

	if (pools != NULL)
		*pools = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (pools == NULL || n == NULL) {
		sess_clearerr(s);
		return sess_seterr(s, XLICEN_E_INVALID, "status needs "
		    "somewhere to put the pools");
	}
	/* The same request as xlicen_status_info, less detail. */
	if ((rc = xlicen_status_info(s, product, &info, &k)) != 0)
		return rc;
	if (k > 0 && (v = calloc(k, sizeof(*v))) == NULL) {
		xlicen_pool_info_free(info);
		return sess_seterr(s, XLICEN_E_NOMEM, "out of memory");
	}
	for (i = 0; i < k; i++)
		v[i] = info[i].pool;
	xlicen_pool_info_free(info);
	*pools = v;
	*n = k;
	return 0;
}

void
xlicen_pools_free(struct xlicen_pool *pools)
{
	free(pools);
}

/* The BORROWED reply rep of a borrow of product: the token stored, *out
 * filled.  0 or the code (recorded). */
static int
req_borrowed(xlicen_session *s, const char *product, const struct msg *rep,
    struct xlicen_borrow_info *out)
{
	struct borrow_token t;
	int64_t latest;
	int rc;

	if (borrow_token_parse(rep->token.data, rep->token.len, &t) != 0 ||
	    strcmp(t.lease, rep->lease) != 0 || strcmp(t.product, product) != 0)
		return sess_seterr(s, XLICEN_E_TOKEN, "the server's borrow "
		    "token does not parse or is not for lease %s", rep->lease);
	if ((rc = tokens_save(product, rep->token.data, rep->token.len)) != 0)
		return sess_seterr(s, rc, "cannot store the borrow token of %s "
		    "in the state directory", product);
	/* A time seen, for the clock check offline (tokens.h). */
	tokens_clock((int64_t)time(NULL), &latest);
	if (out != NULL) {
		snprintf(out->lease, sizeof(out->lease), "%.64s", rep->lease);
		out->start = (int64_t)t.start;
		out->end = (int64_t)t.end;
		out->in_use = rep->in_use;
		out->total = rep->total;
	}
	return 0;
}

/* XLICEN_E_BORROW (recorded) if a token of product not yet ended is
 * stored, else 0. */
static int
req_borrow_held(xlicen_session *s, const char *product)
{
	uint8_t tok[LIMIT_BORROW_TOKEN];
	struct borrow_token t;
	size_t n;

	if (tokens_load(product, tok, sizeof(tok), &n) != 0 ||
	    borrow_token_parse(tok, n, &t) != 0 ||
	    t.end <= (uint64_t)time(NULL))
		return 0;
	return sess_seterr(s, XLICEN_E_BORROW, "you have borrowed %s until "
	    "%llu (lease %s): return it first (xlicen borrow --return %s)",
	    product, (unsigned long long)t.end, t.lease, product);
}

int
xlicen_borrow(xlicen_session *s, const char *product, const char *version,
    int64_t end, const char *host, struct xlicen_borrow_info *out)
{
	struct msg req, rep;
	int rc;

	msg_init(&req, MSG_BORROW, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	if (product == NULL || product[0] == '\0' || version == NULL ||
	    version[0] == '\0' || end <= 0) {
		rc = req_invalid(s, "borrow needs a product, a version and an "
		    "end");
		goto out;
	}
	if ((rc = sess_set_str(s, &req, TAG_PRODUCT, "product", product)) != 0 ||
	    (rc = sess_set_str(s, &req, TAG_VERSION, "version", version)) != 0)
		goto out;
	/* One token per product: a second borrow would overwrite the first,
	 * whose seat could then no longer be returned early. */
	if ((rc = req_borrow_held(s, product)) != 0)
		goto out;
	req.to = (uint64_t)end;
	req.have |= MSG_F(TAG_TO);
	sess_add_client(s, &req, host, NULL);
	if ((rc = sess_request(s, &req, &rep)) != 0)
		goto out;
	switch (rep.type) {
	case MSG_BORROWED:
		if ((rc = req_borrowed(s, product, &rep, out)) != 0)
			(void)xlicen_release(s, rep.lease);
		break;
	case MSG_DENY:
	case MSG_ERROR:
		rc = sess_reply_error(s, &rep);
		break;
	default:
		rc = sess_bad_reply(s, req.type, &rep, 0);
		break;
	}
out:
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

int
xlicen_borrow_return(xlicen_session *s, const char *product)
{
	uint8_t tok[LIMIT_BORROW_TOKEN];
	struct borrow_token t;
	size_t n;
	int rc;

	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	if ((rc = tokens_load(product, tok, sizeof(tok), &n)) != 0)
		return sess_seterr(s, rc, "no borrow token of %s stored",
		    product != NULL ? product : "(null)");
	if (borrow_token_parse(tok, n, &t) != 0)
		return sess_seterr(s, XLICEN_E_TOKEN, "the stored borrow token "
		    "of %s does not parse", product);
	rc = xlicen_release(s, t.lease);
	/* Gone on the server (returned, expired): the token is worthless. */
	if (rc == 0 || rc == XLICEN_E_NO_LEASE || rc == XLICEN_E_REVOKED)
		(void)tokens_delete(product);
	return rc;
}
