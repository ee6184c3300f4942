/*
 * The lease of a non-blocking checkout (xlicen_checkout_start):
 *
 *     IDLE -> CONNECTING -> [QUEUED ->] HELD <-> GRACE
 *                      \          \      \-> AUTH_NEEDED -> HELD
 *                       `-> AUTH_NEEDED   `-> LOST
 *                       `-> BORROWED -> LOST (no server, a borrow token)
 *
 * advanced by lease_tick() (timers: heartbeat due, retry due, lease
 * expired) and lease_on_reply(), which the connection machine (session.c)
 * calls.  It sends on the connection (sess_send, sess_base.c) when it has
 * something to send and dials a new one (connect.c) when there is none;
 * it never waits.  A request lost with a connection is a failure it
 * retries, re-attaching the same lease id from the new connection.  Here
 * too: the context refresh before the tickets run out, the application's
 * watch and state callbacks, and the non-blocking calls of xlicen.h
 * (xlicen_checkout_stop, which blocks, is in session.c).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include "xlicen.h"

#include "ccache.h"
#include "err.h"
#include "limits.h"
#include "msg.h"
#include "session_int.h"
#include "tokens.h"

/* AUTH_NEEDED looks at the credentials cache this often. */
#define LEASE_AUTH_POLL_MS	2000
/* After a failure, retry after this long, doubling per failure... */
#define LEASE_RETRY_MIN_MS	500
/* ...up to this while a lease is held (it must not run out meanwhile)... */
#define LEASE_RETRY_HELD_MS	5000
/* ...and up to this while still asking for the seat. */
#define LEASE_RETRY_MAX_MS	30000
/* The soonest next heartbeat, however short the lease. */
#define LEASE_HB_MIN_MS		100
/* Each heartbeat comes up to 1/this of its interval early, at random. */
#define LEASE_HB_JITTER_DIV	10

/*
 * Seed the session's random numbers: from the kernel, or where that has
 * nothing (early boot, old kernels) from the session's address, the clock
 * and the pid, enough to tell apart sessions made in the same
 * millisecond.  Jitter, not secrets.
 */
void
sess_rand_seed(xlicen_session *s)
{
	struct timespec ts;
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)(uintptr_t)s ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)ts.tv_sec * 1000000000ULL ^ (uint64_t)ts.tv_nsec;
	}
	s->rng = seed;
}

/* The next random number of the session (splitmix64: any seed will do). */
static uint64_t
sess_rand(xlicen_session *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- the lease machine (non-blocking checkout) ---- */

int
lease_active(const struct sess_lease *L)
{
	return L->state != XLICEN_STATE_IDLE && L->state != XLICEN_STATE_LOST;
}

static void __attribute__((format(printf, 4, 5)))
lease_set(xlicen_session *s, int state, int code, const char *fmt, ...)
{
	struct sess_lease *L = &s->lease;
	va_list ap;

	L->state = state;
	L->code = code;
	va_start(ap, fmt);
	vsnprintf(L->text, sizeof(L->text), fmt, ap);
	va_end(ap);
	if (state != XLICEN_STATE_QUEUED)
		L->position = 0;
	if (state == XLICEN_STATE_LOST) {
		L->busy = 0;
		L->sent = 0;
	}
}

/* Monotonic ms at which the held lease ends, by the server's clock. */
static int64_t
lease_end_ms(const xlicen_session *s)
{
	return sess_now_ms() + (s->lease.grant.expires * 1000 - sess_server_ms(s));
}

/*
 * Milliseconds to the next heartbeat: the server's interval, but at most
 * half the time the lease has left.  That is counted in ms: the server
 * counts whole seconds, so a lease of TTL 2 s granted at x.95 ends at
 * x+2, 1.05 s later, and a heartbeat "every second" would drift past it.
 * Less up to a tenth, at random each time: sessions that started in the
 * same millisecond (or reconnected in the same second after a server
 * restart) would otherwise heartbeat in step forever, and the server
 * would get their heartbeats in bursts.  Only earlier, never later than
 * without it, so no lease runs closer to its end.
 */
static int64_t
lease_hb_delay(xlicen_session *s)
{
	const struct xlicen_grant *g = &s->lease.grant;
	int64_t ms = 1000LL * (g->heartbeat_s > 0 ? g->heartbeat_s :
	    LIMIT_HEARTBEAT_S), left = g->expires * 1000 - sess_server_ms(s);

	if (left / 2 < ms)
		ms = left / 2;
	if (ms > 0)
		ms -= (int64_t)(sess_rand(s) %
		    (uint64_t)(ms / LEASE_HB_JITTER_DIV + 1));
	return ms < LEASE_HB_MIN_MS ? LEASE_HB_MIN_MS : ms;
}

/* "HH:MM:SS UTC" of a UTC time. */
static void
lease_fmt_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%H:%M:%S UTC", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

/* A grant, a reclaim or a heartbeat went through on this connection. */
static void
lease_ok(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;

	L->have = 1;
	L->attached = s->conn_id;
	L->failures = 0;
	L->next_at = sess_now_ms() + lease_hb_delay(s);
	/* The warning stands until a context with fresh tickets is made. */
	if (s->creds_low && L->state == XLICEN_STATE_CREDS_EXPIRING)
		return;
	lease_set(s, XLICEN_STATE_HELD, 0, "%s", "");
}

/* No valid tickets: wait for the user's kinit, looking now and then. */
static void
lease_auth_needed(xlicen_session *s, const char *text)
{
	struct sess_lease *L = &s->lease;

	L->next_at = sess_now_ms() + LEASE_AUTH_POLL_MS;
	lease_set(s, XLICEN_STATE_AUTH_NEEDED, XLICEN_E_NO_CREDS, "%s", text);
}

/*
 * Before a lease, no server reachable (code CONNECT) or no valid tickets
 * (NO_CREDS: a laptop away for days): the seat from the product's borrow
 * token, if it holds (tokens.h).  1 if the state is now BORROWED; else 0
 * with *code and text replaced by the token's refusal, if a token was
 * there and refused.
 */
static int
lease_try_borrowed(xlicen_session *s, int *code, char *text, size_t textlen)
{
	struct sess_lease *L = &s->lease;
	struct borrow_token t;
	char why[600];
	int rc;

	if (L->have || (*code != XLICEN_E_CONNECT && *code != XLICEN_E_NO_CREDS))
		return 0;
	rc = tokens_offline(L->product, L->version, NULL, &t, why,
	    sizeof(why));
	if (rc == XLICEN_E_NO_TOKEN && why[0] == '\0')
		return 0;
	if (rc != 0) {
		*code = rc;
		snprintf(text, textlen, "borrowed %.64s refused: %.500s",
		    L->product, why);
		return 0;
	}
	memset(&L->grant, 0, sizeof(L->grant));
	snprintf(L->grant.lease, sizeof(L->grant.lease), "%.64s", t.lease);
	L->grant.expires = (int64_t)t.end;
	L->grant.borrowed = 1;
	L->busy = 0;
	L->sent = 0;
	/* Nothing to do until the token ends. */
	L->next_at = sess_now_ms() + 1000 * ((int64_t)t.end - time(NULL));
	lease_set(s, XLICEN_STATE_BORROWED, 0, "no server reachable; borrowed "
	    "%s until %llu", L->product, (unsigned long long)t.end);
	return 1;
}

/*
 * An attempt failed (connection, authentication, or a transient error
 * reply): decide what the application is told and when to try again.
 */
static void
lease_failed(xlicen_session *s, int code, const char *text)
{
	struct sess_lease *L = &s->lease;
	char ctext[600], btext[700] = "";
	int64_t now = sess_now_ms(), delay, cred_ms, left;
	uint16_t sent = L->sent;
	unsigned i;

	if (code == 0)
		code = XLICEN_E_CLOSED;
	if (L->reconcile == 2)		/* lost: asked again once re-attached */
		L->reconcile = 1;
	if (text == NULL || text[0] == '\0')
		text = err_str(code);
	if (lease_try_borrowed(s, &code, btext, sizeof(btext)))
		return;
	if (btext[0] != '\0')
		text = btext;
	L->busy = 0;
	L->sent = 0;
	/* A server that predates RECLAIM refuses the message type: re-attach
	 * with a heartbeat instead, at once, from now on. */
	if (sent == MSG_RECLAIM && code == XLICEN_E_MSG_TYPE && !L->no_reclaim) {
		L->no_reclaim = 1;
		L->next_at = now;
		return;
	}
	L->failures++;
	if (code == XLICEN_E_NO_CREDS) {
		lease_auth_needed(s, text);
		return;
	}
	if (ccache_cred_ms(&cred_ms, ctext, sizeof(ctext)) != 0) {
		lease_auth_needed(s, ctext);
		return;
	}
	/* The server retired our context: a new one, right away, once. */
	if (code == XLICEN_E_CONTEXT_EXPIRED && L->failures == 1) {
		L->next_at = now;
		return;
	}
	delay = LEASE_RETRY_MIN_MS;
	for (i = 1; i < L->failures && delay < LEASE_RETRY_MAX_MS; i++)
		delay *= 2;
	/* Up to a tenth sooner, at random, like the heartbeats: the clients
	 * of a server that restarts all fail at once and would otherwise
	 * come back in step. */
	delay -= (int64_t)(sess_rand(s) %
	    (uint64_t)(delay / LEASE_HB_JITTER_DIV + 1));
	if (L->have) {
		if (delay > LEASE_RETRY_HELD_MS)
			delay = LEASE_RETRY_HELD_MS;
		/* Several tries before the lease runs out. */
		left = lease_end_ms(s) - now;
		if (delay > left / 3)
			delay = left / 3;
		if (delay < LEASE_HB_MIN_MS)
			delay = LEASE_HB_MIN_MS;
		L->next_at = now + delay;
		lease_set(s, XLICEN_STATE_GRACE, code, "%s", text);
		return;
	}
	if (delay > LEASE_RETRY_MAX_MS)
		delay = LEASE_RETRY_MAX_MS;
	L->next_at = now + delay;
	/* Lost with its connection, a place in the queue is asked for
	 * again (with its queue id, to keep the place if the server can). */
	lease_set(s, XLICEN_STATE_CONNECTING, code, "%s", text);
}

/* The held lease passed its expiry without a heartbeat getting through. */
static void
lease_expired(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;
	char when[32], last[1280];

	lease_fmt_time(L->grant.expires, when, sizeof(when));
	snprintf(last, sizeof(last), "%s", L->code != 0 ? L->text : "");
	lease_set(s, XLICEN_STATE_LOST, XLICEN_E_NO_LEASE, "lease %s expired at "
	    "%s without a heartbeat getting through%s%s", L->grant.lease, when,
	    last[0] != '\0' ? "; last error: " : "", last);
}

/* The server's verdict on the lease itself: it is gone for good. */
static int
lease_is_gone(int code)
{
	return code == XLICEN_E_NO_LEASE || code == XLICEN_E_NOT_OWNER ||
	    code == XLICEN_E_REVOKED;
}

/* QUEUED: our place in line. */
static void
lease_queued(xlicen_session *s, const struct msg *m)
{
	struct sess_lease *L = &s->lease;

	L->position = m->position;
	if (m->have & MSG_F(TAG_QUEUE_ID))
		memcpy(L->queue_id, m->queue_id, sizeof(L->queue_id));
	if (m->have & MSG_F(TAG_IN_USE))
		L->grant.in_use = m->in_use;
	if (m->have & MSG_F(TAG_TOTAL))
		L->grant.total = m->total;
	L->failures = 0;
	lease_set(s, XLICEN_STATE_QUEUED, 0, "waiting in line for %s, "
	    "position %u", L->product, m->position);
	L->position = m->position;
}

/* The answer to our checkout: GRANT, QUEUED, or DENY (also a late one,
 * sent unsolicited when a queued checkout is decided). */
static int
lease_checkout_answer(xlicen_session *s, const struct msg *m)
{
	struct sess_lease *L = &s->lease;
	int rc, code;

	switch (m->type) {
	case MSG_GRANT:
		if ((rc = sess_take_grant(s, m, &L->grant, 1)) != 0) {
			lease_failed(s, rc, s->errmsg);
			return rc;
		}
		L->queue_id[0] = '\0';
		lease_ok(s);
		/* Held on a server: reconcile a borrow token of the product
		 * (issue 17) with a HEARTBEAT of its lease, next. */
		if (sess_borrow_lease(L->product, L->borrow_lease,
		    sizeof(L->borrow_lease)) == 0) {
			L->reconcile = 1;
			L->next_at = sess_now_ms();
		}
		return 0;
	case MSG_QUEUED:
		lease_queued(s, m);
		return 0;
	case MSG_DENY:
	case MSG_ERROR:
		L->grant.in_use = m->in_use;
		L->grant.total = m->total;
		code = sess_reply_error(s, m);
		lease_set(s, XLICEN_STATE_LOST, code, "%s", s->errmsg);
		return 0;
	default:
		rc = sess_bad_reply(s, MSG_CHECKOUT, m, 1);
		lease_failed(s, rc, s->errmsg);
		return rc;
	}
}

/* A reply to the lease machine's request. */
int
lease_on_reply(xlicen_session *s, const struct msg *m)
{
	struct sess_lease *L = &s->lease;
	uint16_t type = L->sent;
	int rc, code;

	/* Stopped or lost meanwhile: the answer to a request of an earlier
	 * checkout, not of this one. */
	if (type == 0 || !lease_active(L))
		return 0;
	L->busy = 0;
	L->sent = 0;
	if (type == MSG_CHECKOUT)
		return lease_checkout_answer(s, m);
	/* The answer about the borrow token, not about our lease: it keeps
	 * its state; the next heartbeat as it was due. */
	if (L->reconcile == 2) {
		L->reconcile = 0;
		sess_borrow_verdict(L->product, m);
		L->next_at = sess_now_ms() + lease_hb_delay(s);
		return 0;
	}
	switch (m->type) {
	case MSG_GRANT:		/* RECLAIM: the same lease, re-attached */
		if (type != MSG_RECLAIM)
			break;
		if ((rc = sess_take_grant(s, m, &L->grant, 1)) != 0) {
			lease_failed(s, rc, s->errmsg);
			return rc;
		}
		lease_ok(s);
		return 0;
	case MSG_OK:
		if (m->have & MSG_F(TAG_EXPIRES))
			L->grant.expires = (int64_t)m->expires;
		lease_ok(s);
		return 0;
	case MSG_ERROR:
	case MSG_DENY:
		code = sess_reply_error(s, m);
		L->sent = type;		/* for the RECLAIM fallback */
		if (lease_is_gone(code))
			lease_set(s, XLICEN_STATE_LOST, code, "%s", s->errmsg);
		else
			lease_failed(s, code, s->errmsg);
		return 0;
	default:
		break;
	}
	rc = sess_bad_reply(s, type, m, 1);
	lease_failed(s, rc, s->errmsg);
	return rc;
}

/*
 * An unsolicited message (request id 0): the late answer to a queued
 * checkout, a new place in line, or the revocation of our lease.  Any
 * other notice while a lease is held is checked with a heartbeat now
 * rather than trusted as is.
 */
void
lease_on_notice(xlicen_session *s, const struct msg *m)
{
	struct sess_lease *L = &s->lease;
	int ours, code;

	if (!lease_active(L))
		return;
	ours = L->state == XLICEN_STATE_QUEUED && !L->have &&
	    (((m->have & MSG_F(TAG_QUEUE_ID)) && L->queue_id[0] != '\0' &&
	    strcmp(m->queue_id, L->queue_id) == 0) ||
	    ((m->have & MSG_F(TAG_REQUEST)) && m->request == L->req_id));
	switch (m->type) {
	case MSG_GRANT:
	case MSG_DENY:
	case MSG_QUEUED:
		if (ours) {
			lease_checkout_answer(s, m);
			return;
		}
		break;
	case MSG_REVOKE:
		if (L->have && strcmp(m->lease, L->grant.lease) == 0) {
			code = sess_reply_error(s, m);
			lease_set(s, XLICEN_STATE_LOST, code, "%s", s->errmsg);
			return;
		}
		break;
	default:
		break;
	}
	if (L->have)
		L->next_at = sess_now_ms();
}

/*
 * Send the lease machine's next request on the open connection: the
 * checkout; on a new connection RECLAIM of the lease (re-attaching it:
 * leases belong to the principal, not the connection); a reconciling
 * HEARTBEAT of a borrow token's lease if one is due; else a heartbeat.
 */
static void
lease_send(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;
	struct msg req;
	int rc, reconciling = 0;

	if (L->have && L->attached != s->conn_id && !L->no_reclaim) {
		rc = sess_build_reclaim(s, &req, L->grant.lease);
	} else if (L->have && L->reconcile == 1) {
		msg_init(&req, MSG_HEARTBEAT, 0);
		rc = msg_set_str(&req, TAG_LEASE, L->borrow_lease);
		reconciling = 1;
	} else if (L->have) {
		msg_init(&req, MSG_HEARTBEAT, 0);
		rc = msg_set_str(&req, TAG_LEASE, L->grant.lease);
	} else {
		rc = sess_build_checkout(s, &req, L->product, L->version, L->count);
		if (rc == 0 && (L->flags & XLICEN_CHECKOUT_QUEUE)) {
			req.flags = MSG_FLAG_QUEUE;
			req.have |= MSG_F(TAG_FLAGS);
			if (L->queue_id[0] != '\0')
				msg_set_str(&req, TAG_QUEUE_ID, L->queue_id);
		}
	}
	if (rc == 0)
		rc = sess_send(s, &req, 1);
	if (rc == 0) {
		L->busy = 1;
		L->sent = req.type;
		L->conn_id = s->conn_id;
		if (req.type == MSG_CHECKOUT)
			L->req_id = req.id;
		if (reconciling)
			L->reconcile = 2;
	} else {
		L->sent = req.type;
		lease_failed(s, rc, s->errmsg);
	}
	msg_clear(&req);
}

/* Whether the caller's tickets now outlive the context by a margin worth
 * a new one. */
static int
sess_creds_fresher(const xlicen_session *s, int64_t now, int64_t *cred_ms)
{
	char text[600];

	return ccache_cred_ms(cred_ms, text, sizeof(text)) == 0 &&
	    now + *cred_ms >= s->ctx_end + SESS_CTX_GAIN_MS;
}

/*
 * Before the context ends, a new one: at SESS_CTX_REFRESH_PCT of its life
 * (and every SESS_CTX_POLL_MS after) see whether the tickets now last
 * longer than the context (the user ran kinit, or a keytab renews them),
 * else renew a renewable TGT ourselves (ccache_renew_tgt); if either gives
 * longer life, reconnect now (the lease machine RECLAIMs the lease first
 * thing on the new connection).  If neither does, a held lease is
 * CREDS_EXPIRING: the application can ask the user to kinit.  When the
 * context ends, close the connection: the next heartbeat dials anew, and
 * reports AUTH_NEEDED if there are no tickets left by then.  A place in
 * the queue lives on the connection, so a queued checkout keeps it until
 * it is decided.  The blocking calls run the same check (sess_request),
 * so that a program heartbeating with xlicen_heartbeat keeps its seat
 * too; the creds_low it leaves is what xlicen_heartbeat_ex reports.
 */
int
sess_ctx_check(xlicen_session *s, int64_t now)
{
	struct sess_lease *L = &s->lease;
	char when[32];
	int64_t cred_ms = 0;

	if (L->state == XLICEN_STATE_QUEUED)
		return 0;
	if (now < s->ctx_end && !sess_creds_fresher(s, now, &cred_ms) &&
	    (ccache_renew_tgt() != 0 || !sess_creds_fresher(s, now, &cred_ms))) {
		s->ctx_check = now + SESS_CTX_POLL_MS < s->ctx_end ?
		    now + SESS_CTX_POLL_MS : s->ctx_end;
		s->creds_low = 1;
		if (L->have && L->state == XLICEN_STATE_HELD) {
			lease_fmt_time((int64_t)time(NULL) +
			    (s->ctx_end - now) / 1000, when, sizeof(when));
			lease_set(s, XLICEN_STATE_CREDS_EXPIRING,
			    XLICEN_E_NO_CREDS, "the Kerberos tickets end at %s "
			    "and cannot be renewed: run kinit to keep the seat",
			    when);
		}
		return 0;
	}
	s->ctx_prev_end = now < s->ctx_end ? s->ctx_end : 0;
	sess_drop_conn(s);
	s->state = SESS_CLOSED;
	if (L->have && lease_active(L))
		L->next_at = now;
	return 1;
}

/* Advance the lease machine by its timers and the connection's fate. */
void
lease_tick(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;
	char text[600];
	int64_t now = sess_now_ms(), cred_ms;

	if (!lease_active(L))
		return;
	if (L->state == XLICEN_STATE_BORROWED) {
		if (now >= L->next_at)
			lease_set(s, XLICEN_STATE_LOST, XLICEN_E_TOKEN_EXPIRED,
			    "the borrow of %s ended", L->product);
		return;
	}
	if (L->have && now >= lease_end_ms(s)) {
		lease_expired(s);
		return;
	}
	if (L->busy) {
		if (L->sent != 0) {
			if (s->conn_id == L->conn_id && s->wait_async &&
			    s->wait_id != 0)
				return;		/* the reply is on its way */
			/* The request was lost with its connection. */
			lease_failed(s, s->err, s->errmsg);
			return;
		}
		if (sess_conn_pending(s))
			return;
		if (s->state != SESS_OPEN) {
			lease_failed(s, s->err, s->errmsg);
			return;
		}
		L->busy = 0;
		L->next_at = now;	/* connected: send at once */
	}
	if (s->state == SESS_OPEN && s->wait_id == 0 && s->ctx_check != 0 &&
	    now >= s->ctx_check)
		(void)sess_ctx_check(s, now);
	if (L->state == XLICEN_STATE_QUEUED) {
		/* The line is kept by the connection: if it went, ask again. */
		if (s->state == SESS_OPEN || sess_conn_pending(s))
			return;
		lease_set(s, XLICEN_STATE_CONNECTING, XLICEN_E_CLOSED,
		    "%s", s->errmsg[0] != '\0' ? s->errmsg :
		    "connection closed while waiting in line");
		L->next_at = now;
	}
	/* The server ended the connection of a held lease (it died, was
	 * restarted or shut down): re-attach now, from the first server of
	 * the list that answers, rather than at the next heartbeat, so that
	 * the lease is back on a live server within a second.  Once only:
	 * dialing clears dropped, and a failed dial backs off in GRACE. */
	if (L->have && s->dropped && s->state != SESS_OPEN &&
	    !sess_conn_pending(s) && (L->state == XLICEN_STATE_HELD ||
	    L->state == XLICEN_STATE_CREDS_EXPIRING))
		L->next_at = now;
	if (now < L->next_at)
		return;
	if (s->state == SESS_OPEN) {
		if (s->wait_id == 0)
			lease_send(s);
		return;
	}
	if (sess_conn_pending(s)) {
		L->busy = 1;		/* someone else is dialing: wait */
		L->sent = 0;
		return;
	}
	/* Dialing without tickets only makes the server log a failure. */
	if (ccache_cred_ms(&cred_ms, text, sizeof(text)) != 0) {
		int code = XLICEN_E_NO_CREDS;
		char btext[700] = "";

		if (!lease_try_borrowed(s, &code, btext, sizeof(btext)))
			lease_auth_needed(s, text);
		return;
	}
	sess_connect_start(s);
	if (sess_conn_pending(s)) {
		L->busy = 1;
		L->sent = 0;
		return;
	}
	lease_failed(s, s->err, s->errmsg);
}

/*
 * The next time (monotonic ms) xlicen_process has work without input;
 * -1 none.  A time already past (0 included) means now.
 */
int64_t
sess_next_deadline(const xlicen_session *s)
{
	const struct sess_lease *L = &s->lease;
	int64_t d = -1, t;

#define SESS_EARLIER(x) do { t = (x); if (d < 0 || t < d) d = t; } while (0)
	if (s->state_cb != NULL && (L->state != L->rep_state ||
	    L->code != L->rep_code || L->grant.expires != L->rep_expires ||
	    L->position != L->rep_position))
		return 0;
	if (sess_conn_pending(s) || s->state == SESS_OPEN) {
		if (s->deadline != 0)
			SESS_EARLIER(s->deadline);
		if (s->state == SESS_OPEN && s->ctx_check != 0 &&
		    lease_active(L))
			SESS_EARLIER(s->ctx_check);
	}
	if (lease_active(L)) {
		if (L->busy) {
			if (L->sent != 0 ? !(s->conn_id == L->conn_id &&
			    s->wait_async && s->wait_id != 0) :
			    !sess_conn_pending(s))
				return 0;
		} else if (L->state != XLICEN_STATE_QUEUED ||
		    !(s->state == SESS_OPEN || sess_conn_pending(s))) {
			SESS_EARLIER(L->next_at);
		}
		if (L->have)
			SESS_EARLIER(lease_end_ms(s));
	}
#undef SESS_EARLIER
	return d;
}

/* Tell the watch callback if the descriptor or the deadline changed. */
void
sess_watch(xlicen_session *s)
{
	int fd, ww;
	int64_t d;

	if (s->watch_cb == NULL)
		return;
	fd = xlicen_fd(s, &ww);
	d = sess_next_deadline(s);
	if (fd == s->w_fd && ww == s->w_write && d == s->w_deadline)
		return;
	s->w_fd = fd;
	s->w_write = ww;
	s->w_deadline = d;
	s->watch_cb(s, 0, s->watch_ud);
}

/* Run the state callback for what changed since it last ran. */
void
sess_report(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;
	char text[sizeof(L->text)];
	int i, state, code;

	/* A callback may change the state again (stop, start): a few rounds,
	 * not forever. */
	for (i = 0; i < 4 && !s->free_pending; i++) {
		if (L->state == L->rep_state && L->code == L->rep_code &&
		    L->grant.expires == L->rep_expires &&
		    L->position == L->rep_position)
			return;
		state = L->rep_state = L->state;
		code = L->rep_code = L->code;
		L->rep_expires = L->grant.expires;
		L->rep_position = L->position;
		if (s->state_cb == NULL)
			return;
		memcpy(text, L->text, sizeof(text));
		s->state_cb(s, state, code, text, s->state_ud);
	}
}

/* ---- public API: non-blocking ---- */

int
xlicen_set_state_cb(xlicen_session *s, xlicen_state_cb cb, void *userdata)
{
	if (s == NULL)
		return XLICEN_E_INVALID;
	s->state_cb = cb;
	s->state_ud = userdata;
	return 0;
}

int
xlicen_set_watch_cb(xlicen_session *s, xlicen_watch_cb cb, void *userdata)
{
	xlicen_watch_cb old;
	void *old_ud;

	if (s == NULL)
		return XLICEN_E_INVALID;
	old = s->watch_cb;
	old_ud = s->watch_ud;
	s->watch_cb = cb;
	s->watch_ud = userdata;
	s->w_fd = -1;
	s->w_write = 0;
	s->w_deadline = -1;
	if (old != NULL)
		old(s, 1, old_ud);
	return 0;
}

/* The start shared by xlicen_checkout_start and xlicen_checkout_adopt:
 * check the arguments, refuse a second checkout, and make s->lease a new
 * one for product, version and count.  0 or XLICEN_E_INVALID (set). */
static int
sess_lease_begin(xlicen_session *s, const char *product,
    const char *version, unsigned count)
{
	struct sess_lease *L = &s->lease;
	int rc;

	sess_clearerr(s);
	if ((rc = sess_checkout_args(s, product, version, count)) != 0)
		return rc;
	if (lease_active(L))
		return sess_seterr(s, XLICEN_E_INVALID, "a checkout is already "
		    "running (xlicen_checkout_stop ends it)");
	memset(L, 0, sizeof(*L));
	snprintf(L->product, sizeof(L->product), "%s", product);
	snprintf(L->version, sizeof(L->version), "%s", version);
	L->count = count;
	return 0;
}

int
xlicen_checkout_start(xlicen_session *s, const char *product,
    const char *version, unsigned count, unsigned flags)
{
	struct sess_lease *L;
	int rc;

	if (s == NULL)
		return XLICEN_E_INVALID;
	L = &s->lease;
	if ((rc = sess_lease_begin(s, product, version, count)) != 0)
		return rc;
	L->flags = flags;
	L->state = XLICEN_STATE_CONNECTING;
	L->next_at = 0;		/* due now */
	L->rep_state = XLICEN_STATE_IDLE;
	sess_watch(s);
	return 0;
}

int
xlicen_checkout_adopt(xlicen_session *s, const char *product,
    const char *version, unsigned count, const struct xlicen_grant *grant)
{
	struct sess_lease *L;
	int rc;

	if (s == NULL)
		return XLICEN_E_INVALID;
	L = &s->lease;
	if (grant == NULL || grant->lease[0] == '\0' ||
	    memchr(grant->lease, '\0', sizeof(grant->lease)) == NULL) {
		sess_clearerr(s);
		return sess_seterr(s, XLICEN_E_INVALID, "no lease to adopt");
	}
	if ((rc = sess_lease_begin(s, product, version, count)) != 0)
		return rc;
	L->grant = *grant;
	/* Granted on the connection open now (or, if it is gone, re-attached
	 * with RECLAIM from the next one: connecting bumps conn_id). */
	L->rep_state = XLICEN_STATE_IDLE;
	lease_ok(s);
	sess_watch(s);
	return 0;
}

int
xlicen_state(const xlicen_session *s, struct xlicen_grant *grant)
{
	if (grant != NULL)
		memset(grant, 0, sizeof(*grant));
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (grant != NULL)
		*grant = s->lease.grant;
	return s->lease.state;
}

const char *
xlicen_state_name(int state)
{
	switch (state) {
	case XLICEN_STATE_IDLE:
		return "IDLE";
	case XLICEN_STATE_CONNECTING:
		return "CONNECTING";
	case XLICEN_STATE_QUEUED:
		return "QUEUED";
	case XLICEN_STATE_HELD:
		return "HELD";
	case XLICEN_STATE_GRACE:
		return "GRACE";
	case XLICEN_STATE_LOST:
		return "LOST";
	case XLICEN_STATE_AUTH_NEEDED:
		return "AUTH_NEEDED";
	case XLICEN_STATE_CREDS_EXPIRING:
		return "CREDS_EXPIRING";
	case XLICEN_STATE_BORROWED:
		return "BORROWED";
	default:
		return "UNKNOWN";
	}
}

int
xlicen_retry_now(xlicen_session *s)
{
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (lease_active(&s->lease) && !s->lease.busy)
		s->lease.next_at = 0;
	sess_watch(s);
	return 0;
}
