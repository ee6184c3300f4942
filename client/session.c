/*
 * The client session's connection machine and its two drivers.
 *
 *     IDLE -> CONNECTING -> HELLO -> CONTEXT -> OPEN -> CLOSED
 *
 * advanced by sess_step() whenever the socket is ready or a deadline
 * passes.  It carries one request at a time (wait_id).  Dialing and the
 * GSS handshake are in connect.c; the lease machine of a non-blocking
 * checkout, which uses this connection, in lease.c; the clocks, errors
 * and the socket's output in sess_base.c; the one-shot requests in
 * requests.c (session_int.h tells who uses what).  This file is the top
 * of the session module: it calls the others, none of them calls it, so
 * what waits on the connection (sess_run, sess_request, and
 * xlicen_checkout_stop, which waits for a checkout in flight and then
 * releases) is here.
 *
 * The blocking calls of xlicen.h run the connection with poll() until the
 * step they need is done; xlicen_process() does what is ready without
 * waiting, for the application's own loop.  Every transition lives in the
 * machines, none in the drivers, so both see the same protocol.
 *
 * Untrusted bytes from the server pass only through the frame decoder,
 * frame_*_decode, gssx_unwrap and msg_decode.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <gssapi/gssapi.h>

#include "xlicen.h"

#include "buf.h"
#include "discover.h"
#include "err.h"
#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "msg.h"
#include "session_int.h"
#include "trace.h"

/* Peek the request id of a plaintext message whose type we may not know:
 * an unsolicited (id 0) message of a newer protocol is ignored.  false
 * if the message is too short to have one. */
static bool
sess_peek_id(const struct buf *plain, uint32_t *id)
{
	struct buf_reader r;
	uint16_t type;

	buf_reader_init(&r, plain->data, plain->len);
	if (buf_get_u16(&r, &type) != 0 || buf_get_u32(&r, id) != 0)
		return false;
	return true;
}

static int
sess_on_data(xlicen_session *s, const struct frame *f)
{
	struct buf plain;
	struct msg m;
	char text[300];
	uint32_t id = 0;
	int rc;

	buf_init(&plain);
	msg_init(&m, 0, 0);
	if ((rc = gssx_unwrap(s->ctx, f->body, f->len, &plain, text,
	    sizeof(text))) != 0) {
		if (rc == XLICEN_E_CONTEXT_EXPIRED)
			s->dropped = 1;
		rc = sess_abort(s, rc, text);
		goto out;
	}
	trace_msg(s->peer, "recv", plain.data, plain.len);
	rc = msg_decode(plain.data, plain.len, &m);
	if (rc == XLICEN_E_MSG_TYPE && sess_peek_id(&plain, &id) && id == 0) {
		rc = 0;		/* a newer server's notice: not for us */
		goto out;
	}
	if (rc != 0) {
		snprintf(text, sizeof(text), "malformed reply: %s", err_str(rc));
		rc = sess_abort(s, rc, text);
		goto out;
	}
	if (m.id == 0) {
		lease_on_notice(s, &m);
		goto out;
	}
	if (s->wait_id == 0 || m.id != s->wait_id) {
		snprintf(text, sizeof(text), "reply id %u does not match request %u",
		    m.id, s->wait_id);
		rc = sess_abort(s, XLICEN_E_STATE, text);
		goto out;
	}
	s->wait_id = 0;
	s->deadline = 0;
	if (s->wait_async) {
		s->wait_async = 0;
		rc = lease_on_reply(s, &m);
		goto out;
	}
	msg_clear(&s->reply);
	s->reply = m;
	msg_init(&m, 0, 0);
	s->have_reply = 1;
out:
	msg_clear(&m);
	buf_free(&plain);
	return rc;
}

static int
sess_on_alert(xlicen_session *s, const struct frame *f)
{
	struct frame_alert a;
	char note[128];
	int rc, code;

	if ((rc = frame_alert_decode(f->body, f->len, &a)) != 0)
		return sess_fail(s, rc, "malformed ALERT from the server");
	code = -(int)a.code;
	if (s->state == SESS_HELLO)
		return sess_attempt_failed(s, code, "%s",
		    a.reason[0] != '\0' ? a.reason : err_str(code));
	note[0] = '\0';
	if (s->state == SESS_CONTEXT)
		sess_skew_note(s, note, sizeof(note));
	/* These end a connection that a new one can replace. */
	if (s->state == SESS_OPEN && (code == XLICEN_E_TIMEOUT ||
	    code == XLICEN_E_SHUTDOWN || code == XLICEN_E_CONTEXT_EXPIRED))
		s->dropped = 1;
	return sess_fail(s, code, "%s%s%s%s", err_str(code),
	    a.reason[0] != '\0' ? ": " : "", a.reason, note);
}

static int
sess_on_frame(xlicen_session *s, const struct frame *f)
{
	struct frame_hello_server h;
	char text[160];
	int rc;

	trace_frame(s->peer, "recv", f->type, f->body, f->len);
	if (f->type == FRAME_ALERT)
		return sess_on_alert(s, f);
	switch (s->state) {
	case SESS_HELLO:
		if (f->type != FRAME_HELLO)
			break;
		if ((rc = frame_hello_server_decode(f->body, f->len, &h)) != 0)
			return sess_abort(s, rc, "malformed HELLO");
		if (h.version != XLICEN_PROTO_VERSION) {
			snprintf(text, sizeof(text), "server chose protocol "
			    "version %u; we speak %d", h.version,
			    XLICEN_PROTO_VERSION);
			return sess_abort(s, XLICEN_E_VERSION, text);
		}
		s->skew = h.time - (int64_t)time(NULL);
		if (s->ctx_early) {
			/* Our first token is out; the server's comes next. */
			s->state = SESS_CONTEXT;
			return 0;
		}
		return sess_init_context(s, NULL, 0);
	case SESS_CONTEXT:
		if (f->type != FRAME_CONTEXT)
			break;
		return sess_init_context(s, f->body, f->len);
	case SESS_OPEN:
		if (f->type != FRAME_DATA)
			break;
		return sess_on_data(s, f);
	default:
		return 0;
	}
	snprintf(text, sizeof(text), "unexpected frame type %u", f->type);
	return sess_abort(s, XLICEN_E_STATE, text);
}

/* Read what the socket has and handle every complete frame. */
static int
sess_read(xlicen_session *s)
{
	uint8_t rbuf[16384];
	struct frame f;
	size_t off, used;
	ssize_t n;
	unsigned gen = s->gen;
	int rc;

	n = recv(s->fd, rbuf, sizeof(rbuf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0) {
		const char *why = n == 0 ? (frame_dec_pending(&s->dec) ?
		    "connection closed inside a frame" :
		    "connection closed by the server") : strerror(errno);

		if (s->state == SESS_HELLO)
			return sess_attempt_failed(s, XLICEN_E_CLOSED, "%s", why);
		if (s->state == SESS_OPEN)
			s->dropped = 1;
		return sess_fail(s, n == 0 || errno == ECONNRESET ?
		    XLICEN_E_CLOSED : XLICEN_E_IO, "%s", why);
	}
	for (off = 0; off < (size_t)n; off += used) {
		rc = frame_dec_feed(&s->dec, rbuf + off, (size_t)n - off, &used, &f);
		if (rc < 0)
			return sess_abort(s, rc, err_str(rc));
		if (rc == 0)
			continue;
		rc = sess_on_frame(s, &f);
		frame_free(&f);
		if (rc != 0)
			return rc;
		/* A handler may have closed this connection or moved on to
		 * another address: the rest of rbuf belongs to the old one. */
		if (s->gen != gen || s->state == SESS_CLOSED)
			return 0;
	}
	return 0;
}

/* The poll() events the current state waits for (0: nothing to wait on). */
static short
sess_events(const xlicen_session *s)
{
	switch (s->state) {
	case SESS_CONNECTING:
		return POLLOUT;
	case SESS_HELLO:
	case SESS_CONTEXT:
	case SESS_OPEN:
		return (short)(POLLIN | (s->out_off < s->out.len ? POLLOUT : 0));
	default:
		return 0;
	}
}

/*
 * Advance the machine: revents is what poll() said about s->fd (0 if it
 * timed out).  Returns 0, or the error that closed the session.
 */
static int
sess_step(xlicen_session *s, short revents)
{
	char text[256];
	int soerr = 0, rc;
	socklen_t len = sizeof(soerr);
	int64_t now;

	switch (s->state) {
	case SESS_CONNECTING:
		if (revents & (POLLOUT | POLLERR | POLLHUP)) {
			if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
				soerr = errno;
			if (soerr == 0)
				return sess_on_connected(s);
			return sess_attempt_failed(s, XLICEN_E_CONNECT, "%s",
			    strerror(soerr));
		}
		if (sess_now_ms() >= s->deadline)
			return sess_attempt_failed(s, XLICEN_E_CONNECT,
			    "connect timed out after %d ms", sess_connect_ms(s));
		return 0;
	case SESS_HELLO:
	case SESS_CONTEXT:
	case SESS_OPEN:
		if (revents & POLLOUT) {
			if ((rc = sess_flush(s, text, sizeof(text))) != 0) {
				if (s->state == SESS_HELLO)
					return sess_attempt_failed(s, rc, "%s", text);
				if (s->state == SESS_OPEN)
					s->dropped = 1;
				return sess_fail(s, rc, "%s", text);
			}
		}
		if (revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((rc = sess_read(s)) != 0)
				return rc;
		}
		if (s->state < SESS_HELLO || s->state > SESS_OPEN ||
		    s->deadline == 0)
			return 0;
		now = sess_now_ms();
		if (now < s->deadline)
			return 0;
		if (s->state == SESS_HELLO)
			return sess_attempt_failed(s, XLICEN_E_TIMEOUT,
			    "no HELLO from the server within %d ms",
			    sess_handshake_ms(s));
		if (s->state == SESS_CONTEXT)
			return sess_fail(s, XLICEN_E_TIMEOUT, "authentication "
			    "did not complete within %d ms", sess_handshake_ms(s));
		return sess_fail(s, XLICEN_E_TIMEOUT, "no reply within %d ms",
		    sess_reply_ms(s));
	default:
		return 0;
	}
}

/*
 * Run the machine with poll() until done(s) holds or the session fails.
 * Every state that waits has a deadline, so this always ends.
 */
int
sess_run(xlicen_session *s, int (*done)(const xlicen_session *))
{
	struct pollfd pfd;
	int64_t left;
	int n, rc;

	for (;;) {
		if (done(s))
			return 0;
		if (s->state == SESS_CLOSED)
			return s->err != 0 ? s->err : XLICEN_E_NOT_CONNECTED;
		if (s->fd < 0 || s->deadline == 0)
			return sess_fail(s, XLICEN_E_INTERNAL, "nothing to wait for");
		left = s->deadline - sess_now_ms();
		if (left < 0)
			left = 0;
		pfd.fd = s->fd;
		pfd.events = sess_events(s);
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return sess_fail(s, XLICEN_E_IO, "poll: %s", strerror(errno));
		}
		if ((rc = sess_step(s, n > 0 ? pfd.revents : 0)) != 0)
			return rc;
	}
}

static int
sess_is_open(const xlicen_session *s)
{
	return s->state == SESS_OPEN;
}

static int
sess_has_reply(const xlicen_session *s)
{
	return s->have_reply;
}

/*
 * An idle OPEN connection whose GSS context has expired is closed: the
 * server would only answer CONTEXT_EXPIRED.  The clock only, no system
 * call.  Returns 1 if it closed it.
 */
static int
sess_drop_expired(xlicen_session *s)
{
	if (s->state == SESS_OPEN && s->ctx_end != 0 &&
	    sess_now_ms() >= s->ctx_end && s->wait_id == 0) {
		sess_drop_conn(s);
		s->state = SESS_CLOSED;
		return 1;
	}
	return 0;
}

/*
 * An OPEN connection may have died while idle (server restart, idle
 * timeout ALERT): read whatever is already there, so that xlicen_connect
 * does not call a dead connection open.  Requests do without this poll
 * (see sess_request).
 */
static void
sess_poll_idle(xlicen_session *s)
{
	struct pollfd pfd;

	sess_drop_expired(s);
	if (s->state != SESS_OPEN)
		return;
	pfd.fd = s->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) > 0)
		sess_step(s, pfd.revents);
}

/* Connect if needed, blocking; a connection already being made (by the
 * lease machine) is waited for rather than restarted. */
static int
sess_connect_blocking(xlicen_session *s)
{
	int rc;

	if (s->state == SESS_OPEN)
		return 0;
	if (!sess_conn_pending(s) && (rc = sess_connect_start(s)) != 0)
		return rc;
	return sess_run(s, sess_is_open);
}

/* Send req on the open connection and wait for its reply. */
static int
sess_exchange(xlicen_session *s, struct msg *req, struct msg *reply)
{
	int rc;

	if ((rc = sess_send(s, req, 0)) != 0)
		return rc;
	if ((rc = sess_run(s, sess_has_reply)) != 0)
		return rc;
	*reply = s->reply;
	msg_init(&s->reply, 0, 0);
	s->have_reply = 0;
	return 0;
}

/*
 * Before a blocking request: a request of the lease machine in flight is
 * answered first; then, on the idle connection, the context refresh the
 * lease machine makes (sess_ctx_check: fresher or renewed tickets mean a
 * new connection and context now, else creds_low), and a connection
 * whose context has ended is closed.  The lease machine runs the check
 * on its timer; a blocking caller comes when it comes, so the check is
 * also due when the context would end (give or take SESS_CTX_TICK_MS)
 * within twice the gap since the caller's previous call (so that a late
 * call misses nothing): a TGT can be renewed only before it ends.
 * Returns 1 if the connection was closed here for its context, so that
 * the request will go on a new one (a blocking heartbeat then RECLAIMs
 * its lease), else 0.
 */
static int
sess_request_prepare(xlicen_session *s)
{
	int64_t now, gap;

	if (!sess_async_idle(s))
		sess_run(s, sess_async_idle);
	now = sess_now_ms();
	gap = s->blk_last != 0 ? now - s->blk_last : 0;
	s->blk_last = now;
	if (s->state == SESS_OPEN && s->wait_id == 0 && s->ctx_check != 0 &&
	    (now >= s->ctx_check ||
	    now + 2 * gap + SESS_CTX_TICK_MS >= s->ctx_end) &&
	    sess_ctx_check(s, now))
		return 1;
	return sess_drop_expired(s);
}

/*
 * One request/reply, connecting first if needed.  A request of the lease
 * machine still in flight is answered first (one request at a time).  A
 * connection that was already open and turns out to have been dropped by
 * the server is replaced once: that is the normal fate of an idle
 * connection (server restart, idle timeout, expired ticket).  A retried
 * CHECKOUT whose first copy did reach the server costs a seat until its
 * lease expires.
 *
 * The idle connection is not polled before the request (that was one
 * system call per request): the request finds out itself.  Into a closed
 * connection send() fails (EPIPE, ECONNRESET), or it succeeds and the
 * read then gets what the server left before it went: the ALERT
 * (TIMEOUT, SHUTDOWN, CONTEXT_EXPIRED), end of file or a reset.  Each of
 * these marks the connection dropped, and the request goes again on a
 * new one, as when a poll had found it dead.  No copy is lost or doubled
 * by this: a server that has sent its ALERT or closed only drains what
 * still comes (CLOSING), it handles no request after it.
 */
static int
sess_request_run(xlicen_session *s, struct msg *req, struct msg *reply)
{
	int attempt, reused, rc = 0;

	msg_init(reply, 0, 0);
	for (attempt = 0; attempt < 2; attempt++) {
		sess_drop_expired(s);
		reused = s->state == SESS_OPEN;
		if (!reused && (rc = sess_connect_blocking(s)) != 0)
			break;
		s->dropped = 0;
		sess_clearerr(s);
		rc = sess_exchange(s, req, reply);
		if (rc == 0 || !reused || !s->dropped)
			break;
	}
	/* A reply that came just before the server closed is a success; the
	 * close only means the next call connects anew. */
	if (rc == 0)
		sess_clearerr(s);
	sess_watch(s);
	return rc;
}

/* sess_request_prepare, then sess_request_run. */
int
sess_request(xlicen_session *s, struct msg *req, struct msg *reply)
{
	(void)sess_request_prepare(s);
	return sess_request_run(s, req, reply);
}

/* The answer to a blocking HEARTBEAT, RELEASE or RECLAIM (req) of a
 * lease: 0 with the expiry into *expires (if not NULL), or the error. */
static int
sess_lease_answer(xlicen_session *s, const struct msg *req,
    const struct msg *rep, int64_t *expires)
{
	if (rep->type == MSG_OK ||
	    (req->type == MSG_RECLAIM && rep->type == MSG_GRANT)) {
		if (expires != NULL)
			*expires = (int64_t)rep->expires;
		return 0;
	}
	if (rep->type == MSG_ERROR || rep->type == MSG_DENY)
		return sess_reply_error(s, rep);
	return sess_bad_reply(s, req->type, rep, 1);
}

/*
 * HEARTBEAT and RELEASE: a lease in, OK (maybe with an expiry) out.  A
 * heartbeat whose connection sess_request_prepare just replaced for a
 * new context goes as a RECLAIM: the lease is then held by the new
 * connection for certain, whether or not the server has seen the old one
 * close yet (docs/PROTOCOL.md, 8.4); a server that predates RECLAIM gets
 * the HEARTBEAT after all.
 */
int
sess_lease_request(xlicen_session *s, uint16_t type, const char *lease,
    int64_t *expires, int64_t *creds_end)
{
	struct msg req, rep;
	int64_t now;
	int rc, reattach;

	msg_init(&req, type, 0);
	msg_init(&rep, 0, 0);
	if (expires != NULL)
		*expires = 0;
	if (creds_end != NULL)
		*creds_end = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	if (lease == NULL || lease[0] == '\0' || strlen(lease) > XLICEN_LEASE_MAX) {
		rc = sess_seterr(s, XLICEN_E_INVALID, "a lease id has 1 to %d bytes",
		    XLICEN_LEASE_MAX);
		goto out;
	}
	reattach = sess_request_prepare(s) && type == MSG_HEARTBEAT;
	if (reattach) {
		msg_clear(&req);
		if ((rc = sess_build_reclaim(s, &req, lease)) != 0)
			rc = sess_seterr(s, rc, "cannot build RECLAIM");
	} else {
		rc = sess_set_str(s, &req, TAG_LEASE, "lease id", lease);
	}
	if (rc != 0)
		goto out;
	rc = sess_request_run(s, &req, &rep);
	if (reattach && rc == XLICEN_E_MSG_TYPE) {
		msg_clear(&req);
		msg_clear(&rep);
		msg_init(&req, type, 0);
		if ((rc = sess_set_str(s, &req, TAG_LEASE, "lease id", lease)) == 0)
			rc = sess_request_run(s, &req, &rep);
	}
	if (rc == 0)
		rc = sess_lease_answer(s, &req, &rep, expires);
	/* The tickets end with this context (sess_ctx_check found none
	 * fresher and could not renew them): say when, UTC seconds. */
	now = sess_now_ms();
	if (rc == 0 && creds_end != NULL && s->creds_low &&
	    s->state == SESS_OPEN && s->ctx_end > now)
		*creds_end = (int64_t)time(NULL) + (s->ctx_end - now) / 1000;
out:
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

static void
sess_free_now(xlicen_session *s)
{
	xlicen_watch_cb w = s->watch_cb;

	if (w != NULL) {
		s->watch_cb = NULL;
		w(s, 1, s->watch_ud);
	}
	sess_drop_conn(s);
	msg_clear(&s->reply);
	frame_dec_free(&s->dec);
	buf_free(&s->out);
	discover_list_free(&s->servers);
	free(s->service);
	free(s->display);
	free(s);
}

/* ---- public API ---- */

/* $XLICEN_TRACE, read once per process: the protocol trace
 * (common/trace.h) to standard error ("1") or appended to a file.  A file
 * that cannot be opened leaves the trace off: the library never prints. */
static void
sess_trace_init(void)
{
	(void)trace_open(getenv("XLICEN_TRACE"), NULL, 0);
}

int
xlicen_session_new(xlicen_session **out, const char *servers)
{
	static pthread_once_t trace_once = PTHREAD_ONCE_INIT;
	xlicen_session *s = NULL;
	const char *env;
	char err[256];
	int rc = 0;

	if (out == NULL)
		return XLICEN_E_INVALID;
	*out = NULL;
	pthread_once(&trace_once, sess_trace_init);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return XLICEN_E_NOMEM;
	s->fd = -1;
	s->ctx = GSS_C_NO_CONTEXT;
	s->target = GSS_C_NO_NAME;
	s->state = SESS_IDLE;
	s->w_fd = -1;
	s->w_deadline = -1;
	sess_rand_seed(s);
	frame_dec_init(&s->dec, LIMIT_FRAME_PREAUTH);
	buf_init(&s->out);
	env = getenv("XLICEN_SERVER");
	if (servers != NULL && servers[0] != '\0')
		rc = discover_parse(servers, &s->servers, err, sizeof(err));
	else if (env != NULL && env[0] != '\0')
		rc = discover_parse(env, &s->servers, err, sizeof(err));
	else
		s->auto_servers = 1;	/* DNS SRV at the first connection */
	if (rc != 0)
		goto out;
	env = getenv("XLICEN_SERVICE");
	if (env != NULL && env[0] != '\0' && (s->service = strdup(env)) == NULL) {
		rc = XLICEN_E_NOMEM;
		goto out;
	}
	*out = s;
	s = NULL;
out:
	xlicen_session_free(s);
	return rc;
}

void
xlicen_session_free(xlicen_session *s)
{
	if (s == NULL)
		return;
	if (s->depth > 0) {
		s->free_pending = 1;	/* from a callback: when it returns */
		return;
	}
	sess_free_now(s);
}

int
xlicen_set_service(xlicen_session *s, const char *service)
{
	char *copy = NULL;
	const char *env;

	if (s == NULL || (service != NULL && service[0] == '\0'))
		return XLICEN_E_INVALID;
	if (service == NULL) {
		env = getenv("XLICEN_SERVICE");
		service = env != NULL && env[0] != '\0' ? env : NULL;
	}
	if (service != NULL && (copy = strdup(service)) == NULL)
		return XLICEN_E_NOMEM;
	free(s->service);
	s->service = copy;
	return 0;
}

int
xlicen_set_display(xlicen_session *s, const char *display)
{
	char *copy = NULL;

	if (s == NULL)
		return XLICEN_E_INVALID;
	if (display != NULL) {
		if (strlen(display) > LIMIT_STRING ||
		    !buf_utf8_valid((const uint8_t *)display, strlen(display)))
			return XLICEN_E_INVALID;
		if ((copy = strdup(display)) == NULL)
			return XLICEN_E_NOMEM;
	}
	free(s->display);
	s->display = copy;
	return 0;
}

int
xlicen_set_timeout_ms(xlicen_session *s, int ms)
{
	if (s == NULL || ms < 0)
		return XLICEN_E_INVALID;
	s->timeout_ms = ms;
	return 0;
}

int
xlicen_connect(xlicen_session *s)
{
	int rc;

	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	sess_poll_idle(s);
	rc = sess_connect_blocking(s);
	sess_watch(s);
	return rc;
}

int
xlicen_is_open(const xlicen_session *s)
{
	return s != NULL && s->state == SESS_OPEN;
}

void
xlicen_disconnect(xlicen_session *s)
{
	if (s == NULL || s->state == SESS_IDLE)
		return;
	sess_drop_conn(s);
	s->state = SESS_CLOSED;
	s->err = XLICEN_E_NOT_CONNECTED;
	s->errmsg[0] = '\0';
	/* The server frees the seat of a connection its client closed after
	 * a short grace: a held lease is re-attached at once, not at its
	 * next heartbeat. */
	if (s->lease.have && lease_active(&s->lease) && !s->lease.busy)
		s->lease.next_at = sess_now_ms();
	sess_watch(s);
}

int
xlicen_checkout_stop(xlicen_session *s)
{
	struct sess_lease *L;
	char lease[XLICEN_LEASE_MAX + 1];
	int rc = 0;

	if (s == NULL)
		return XLICEN_E_INVALID;
	L = &s->lease;
	sess_clearerr(s);
	/* A checkout on its way may come back granted: wait for it, so that
	 * the seat is given back rather than left to its TTL. */
	if (L->busy && L->sent != 0 && !sess_async_idle(s) &&
	    s->conn_id == L->conn_id)
		sess_run(s, sess_async_idle);
	if (L->state == XLICEN_STATE_QUEUED && s->state != SESS_IDLE) {
		/* Leaving the connection leaves the queue. */
		sess_drop_conn(s);
		s->state = SESS_CLOSED;
	}
	lease[0] = '\0';
	if (L->have && lease_active(L))
		memcpy(lease, L->grant.lease, sizeof(lease));
	memset(L, 0, sizeof(*L));
	if (lease[0] != '\0')
		rc = sess_lease_request(s, MSG_RELEASE, lease, NULL, NULL);
	sess_watch(s);
	return rc;
}

int
xlicen_timeout_ms(xlicen_session *s)
{
	int64_t d, now;

	if (s == NULL)
		return -1;
	if ((d = sess_next_deadline(s)) < 0)
		return -1;
	now = sess_now_ms();
	if (d <= now)
		return 0;
	return d - now > INT_MAX ? INT_MAX : (int)(d - now);
}

int
xlicen_process(xlicen_session *s)
{
	struct pollfd pfd;
	short events;
	int i, n;

	if (s == NULL)
		return XLICEN_E_INVALID;
	s->depth++;
	/* Bounded: a server flooding us cannot keep the application here. */
	for (i = 0; i < 8; i++) {
		pfd.revents = 0;
		events = sess_events(s);
		if (s->fd >= 0 && events != 0) {
			pfd.fd = s->fd;
			pfd.events = events;
			n = poll(&pfd, 1, 0);
			if (n <= 0)
				pfd.revents = 0;
		}
		if (pfd.revents == 0 && (s->deadline == 0 ||
		    sess_now_ms() < s->deadline))
			break;
		sess_step(s, pfd.revents);
		lease_tick(s);
	}
	lease_tick(s);
	sess_report(s);
	s->depth--;
	if (s->depth == 0 && s->free_pending) {
		sess_free_now(s);
		return 0;
	}
	sess_watch(s);
	return 0;
}

const char *
xlicen_principal(const xlicen_session *s)
{
	return s != NULL ? s->principal : "";
}

const char *
xlicen_strerror(int code)
{
	return err_str(code);
}

const char *
xlicen_errname(int code)
{
	return err_name(code);
}

const char *
xlicen_errmsg(const xlicen_session *s)
{
	if (s == NULL)
		return err_str(XLICEN_E_INVALID);
	if (s->errmsg[0] == '\0' && s->err != 0)
		return err_str(s->err);
	return s->errmsg;
}

const char *
xlicen_server(const xlicen_session *s)
{
	return s != NULL ? s->peer : "";
}

const char *
xlicen_version(void)
{
	return XLICEN_VERSION;
}
