/*
 * The client session: a non-blocking state machine
 *
 *     IDLE -> CONNECTING -> HELLO -> CONTEXT -> OPEN -> CLOSED
 *
 * driven by sess_step() whenever the socket is ready or a deadline passes,
 * and the public blocking calls of xlicen.h, which run that machine with
 * poll() until the step they need is done.  Keeping every transition in
 * the machine (and none in the blocking wrappers) is what lets an
 * event-loop interface (fd, timeout, process) be exposed later without a
 * second implementation of the protocol.
 *
 * Untrusted bytes from the server pass only through the frame decoder,
 * frame_*_decode, gssx_unwrap and msg_decode.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <sys/stat.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <krb5.h>

#include "xlicen.h"

#include "buf.h"
#include "discover.h"
#include "err.h"
#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "msg.h"

/* Above this clock difference Kerberos (default clockskew) refuses
 * tickets; worth saying when authentication fails. */
#define SESS_SKEW_WARN_S	300

enum sess_state {
	SESS_IDLE,		/* never connected */
	SESS_CONNECTING,	/* TCP connect in progress */
	SESS_HELLO,		/* HELLO sent, waiting for the server's */
	SESS_CONTEXT,		/* GSS context loop */
	SESS_OPEN,		/* authenticated; requests allowed */
	SESS_CLOSED,		/* failed or closed; s->err says why */
};

struct xlicen_session {
	struct discover_list servers;
	char *service;		/* GSS target for every server, or NULL */
	char *display;		/* display override, or NULL ($DISPLAY) */
	int timeout_ms;		/* 0: the LIMIT_* defaults */

	enum sess_state state;
	int fd;
	unsigned gen;		/* bumped per socket: stale input is dropped */

	/* Connection attempts: server srv_i - 1, address addr_i - 1. */
	size_t srv_i;
	struct discover_addr addrs[DISCOVER_MAX_ADDRS];
	size_t naddrs, addr_i;
	const struct discover_server *cur;
	int attempt_code;	/* last failed attempt's code */
	char attempts[768];	/* "peer: reason; peer: reason" */

	int64_t deadline;	/* monotonic ms of the current step, 0 none */
	char peer[384];		/* "host:port (address)" */

	struct frame_dec dec;
	struct buf out;		/* bytes not yet sent */
	size_t out_off;

	gss_ctx_id_t ctx;
	gss_name_t target;
	int64_t skew;		/* server clock - ours, from its HELLO */

	uint32_t next_id;
	uint32_t wait_id;	/* request awaiting its reply, 0 none */
	struct msg reply;
	int have_reply;
	int dropped;		/* the server closed an OPEN connection */

	int err;
	char errmsg[1280];
};

static int64_t
sess_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
sess_connect_ms(const xlicen_session *s)
{
	if (s->timeout_ms > 0 && s->timeout_ms < LIMIT_CONNECT_MS)
		return s->timeout_ms;
	return LIMIT_CONNECT_MS;
}

static int
sess_handshake_ms(const xlicen_session *s)
{
	return s->timeout_ms > 0 ? s->timeout_ms : LIMIT_HANDSHAKE_MS;
}

static int
sess_reply_ms(const xlicen_session *s)
{
	return s->timeout_ms > 0 ? s->timeout_ms : LIMIT_REPLY_MS;
}

/* Record a failure: the code, and the text prefixed with the peer. */
static int __attribute__((format(printf, 3, 4)))
sess_seterr(xlicen_session *s, int code, const char *fmt, ...)
{
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	s->err = code;
	if (s->peer[0] != '\0')
		snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s", s->peer, text);
	else
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", text);
	return code;
}

static void
sess_clearerr(xlicen_session *s)
{
	s->err = 0;
	s->errmsg[0] = '\0';
}

/* Drop the socket, the context and every per-connection buffer. */
static void
sess_drop_conn(xlicen_session *s)
{
	OM_uint32 min;

	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &s->ctx, GSS_C_NO_BUFFER);
	if (s->target != GSS_C_NO_NAME)
		gss_release_name(&min, &s->target);
	frame_dec_free(&s->dec);
	frame_dec_init(&s->dec, LIMIT_FRAME_PREAUTH);
	buf_reset(&s->out);
	s->out_off = 0;
	s->wait_id = 0;
	msg_clear(&s->reply);
	s->have_reply = 0;
	s->deadline = 0;
	s->gen++;
}

/* Fail the session: record the error, close, and return the code. */
static int __attribute__((format(printf, 3, 4)))
sess_fail(xlicen_session *s, int code, const char *fmt, ...)
{
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sess_seterr(s, code, "%s", text);
	sess_drop_conn(s);
	s->state = SESS_CLOSED;
	return code;
}

/* Send what is queued without blocking.  0 (possibly with bytes left for
 * POLLOUT), or XLICEN_E_CLOSED / XLICEN_E_IO with errno's text in text. */
static int
sess_flush(xlicen_session *s, char *text, size_t textlen)
{
	ssize_t n;

	while (s->out_off < s->out.len) {
		n = send(s->fd, s->out.data + s->out_off, s->out.len - s->out_off,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			snprintf(text, textlen, "send: %s", strerror(errno));
			return (errno == EPIPE || errno == ECONNRESET) ?
			    XLICEN_E_CLOSED : XLICEN_E_IO;
		}
		s->out_off += (size_t)n;
	}
	buf_reset(&s->out);
	s->out_off = 0;
	return 0;
}

/*
 * A protocol violation by the server: tell it with an ALERT (best effort:
 * the connection is going away anyway), then fail with code.
 */
static int
sess_abort(xlicen_session *s, int code, const char *reason)
{
	char ignored[128];

	if (s->fd >= 0 && frame_alert_encode(&s->out, code, reason) == 0) {
		sess_flush(s, ignored, sizeof(ignored));
		shutdown(s->fd, SHUT_WR);
	}
	return sess_fail(s, code, "%s", reason);
}

static int sess_connect_next(xlicen_session *s);

/* Add "peer: text" to the list of failed attempts. */
static void
sess_note_attempt(xlicen_session *s, int code, const char *text)
{
	size_t used = strlen(s->attempts);

	if (used + 1 < sizeof(s->attempts))
		snprintf(s->attempts + used, sizeof(s->attempts) - used, "%s%s: %s",
		    used > 0 ? "; " : "", s->peer, text);
	s->attempt_code = code;
}

/*
 * One address failed before the server said HELLO: note why and go on
 * with the next address (or server).  Returns 0 while an attempt is in
 * progress or an error once every address failed.
 */
static int __attribute__((format(printf, 3, 4)))
sess_attempt_failed(xlicen_session *s, int code, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	sess_note_attempt(s, code, text);
	sess_drop_conn(s);
	return sess_connect_next(s);
}

/* TCP is up: HELLO goes out, and the handshake clock starts. */
static int
sess_on_connected(xlicen_session *s)
{
	struct frame_hello_client h;
	char text[128];
	int one = 1, rc;

	/* A request is one frame written at once; without NODELAY a reply
	 * can wait for a delayed ACK. */
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	h.min_version = XLICEN_PROTO_VERSION;
	h.max_version = XLICEN_PROTO_VERSION;
	if ((rc = frame_hello_client_encode(&s->out, &h)) != 0)
		return sess_fail(s, rc, "cannot encode HELLO");
	s->state = SESS_HELLO;
	s->deadline = sess_now_ms() + sess_handshake_ms(s);
	if ((rc = sess_flush(s, text, sizeof(text))) != 0)
		return sess_attempt_failed(s, rc, "%s", text);
	return 0;
}

/* Start a TCP connection to the next address; see sess_attempt_failed. */
static int
sess_connect_next(xlicen_session *s)
{
	const struct discover_addr *a;
	char name[300], text[256];
	int rc;

	for (;;) {
		while (s->addr_i >= s->naddrs) {
			if (s->srv_i >= s->servers.n) {
				s->peer[0] = '\0';
				s->state = SESS_CLOSED;
				return sess_seterr(s, s->attempt_code != 0 ?
				    s->attempt_code : XLICEN_E_CONNECT, "%s",
				    s->attempts[0] != '\0' ? s->attempts :
				    "no server to connect to");
			}
			s->cur = &s->servers.v[s->srv_i++];
			s->addr_i = 0;
			discover_server_format(s->cur, s->peer, sizeof(s->peer));
			rc = discover_resolve(s->cur, s->addrs, &s->naddrs, text,
			    sizeof(text));
			if (rc == XLICEN_E_NOMEM) {
				s->state = SESS_CLOSED;
				return sess_seterr(s, rc, "out of memory");
			}
			if (rc != 0)
				sess_note_attempt(s, XLICEN_E_CONNECT, text);
		}
		a = &s->addrs[s->addr_i++];
		discover_server_format(s->cur, name, sizeof(name));
		if (strcmp(a->shown, s->cur->host) == 0)
			snprintf(s->peer, sizeof(s->peer), "%s", name);
		else
			snprintf(s->peer, sizeof(s->peer), "%s (%s)", name, a->shown);
		s->gen++;
		s->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);
		if (s->fd < 0) {
			snprintf(text, sizeof(text), "socket: %s", strerror(errno));
			sess_note_attempt(s, XLICEN_E_CONNECT, text);
			continue;
		}
		if (connect(s->fd, (const struct sockaddr *)&a->ss, a->len) == 0)
			return sess_on_connected(s);
		if (errno == EINPROGRESS || errno == EINTR) {
			s->state = SESS_CONNECTING;
			s->deadline = sess_now_ms() + sess_connect_ms(s);
			return 0;
		}
		snprintf(text, sizeof(text), "%s", strerror(errno));
		close(s->fd);
		s->fd = -1;
		sess_note_attempt(s, XLICEN_E_CONNECT, text);
	}
}

/* Begin connecting from the first server of the list. */
static int
sess_connect_start(xlicen_session *s)
{
	sess_drop_conn(s);
	s->srv_i = 0;
	s->naddrs = 0;
	s->addr_i = 0;
	s->cur = NULL;
	s->attempt_code = 0;
	s->attempts[0] = '\0';
	s->peer[0] = '\0';
	s->skew = 0;
	s->dropped = 0;
	sess_clearerr(s);
	return sess_connect_next(s);
}

/* "; the clocks differ by N s" when that may explain a Kerberos failure. */
static void
sess_skew_note(const xlicen_session *s, char *out, size_t outlen)
{
	int64_t a = s->skew < 0 ? -s->skew : s->skew;

	out[0] = '\0';
	if (a > SESS_SKEW_WARN_S)
		snprintf(out, outlen, " (the server's clock differs from ours by "
		    "%lld s: check the time on both hosts)", (long long)s->skew);
}

/* Whether a failed init_sec_context means "you have no usable tickets". */
static int
sess_is_no_creds(OM_uint32 maj, OM_uint32 min)
{
	OM_uint32 routine = GSS_ROUTINE_ERROR(maj);

	if (routine == GSS_S_NO_CRED || routine == GSS_S_CREDENTIALS_EXPIRED)
		return 1;
	return min == (OM_uint32)KRB5_FCC_NOFILE ||
	    min == (OM_uint32)KRB5_CC_NOTFOUND ||
	    min == (OM_uint32)KRB5_CC_NOSUPP ||
	    min == (OM_uint32)KRB5_CC_FORMAT ||
	    min == (OM_uint32)KRB5KRB_AP_ERR_TKT_EXPIRED;
}

/*
 * Work around a crash in MIT krb5 before 1.21.3: when the default ccache is
 * a FILE that exists but cannot be read (empty, truncated, garbage),
 * gss_init_sec_context with default credentials ends in
 * krb5_cccol_have_content(), which frees an uninitialised pointer and kills
 * the application at random (fixed upstream as "potential bad pointer free
 * in krb5_cccol_have_content()").  Acquiring credentials from that one named
 * cache does not take that path, so try that first and report NO_CREDS
 * without calling init.  Only a FILE cache named by $KRB5CCNAME that exists
 * is checked: a missing file is safe, and collections (DIR, KEYRING, KCM)
 * keep their usual cache selection.  Returns 0 or XLICEN_E_NO_CREDS.
 */
static int
sess_check_ccache(xlicen_session *s)
{
	const char *name = getenv("KRB5CCNAME"), *path;
	gss_key_value_element_desc el;
	gss_key_value_set_desc store;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 maj, min;
	struct stat st;
	char text[600];

	if (name == NULL)
		return 0;
	if (strncmp(name, "FILE:", 5) == 0)
		path = name + 5;
	else if (name[0] == '/')
		path = name;
	else
		return 0;
	if (stat(path, &st) != 0)
		return 0;
	el.key = "ccache";
	el.value = name;
	store.count = 1;
	store.elements = &el;
	maj = gss_acquire_cred_from(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE,
	    GSS_C_NO_OID_SET, GSS_C_INITIATE, &store, &cred, NULL, NULL);
	if (cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &cred);
	if (!GSS_ERROR(maj))
		return 0;
	gssx_status_text(maj, min, text, sizeof(text));
	return sess_abort(s, XLICEN_E_NO_CREDS, text);
}

/*
 * One round of gss_init_sec_context: in is the server's token (NULL on
 * the first call).  The output token goes out even when the call failed
 * (it may be an error token the server should see).
 */
static int
sess_init_context(xlicen_session *s, const uint8_t *in_p, size_t in_n)
{
	OM_uint32 maj, min, tmp, ret_flags = 0;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	char target[300], text[600], note[128], missing[96], ftext[128];
	char reason[760];
	int rc, code;

	if (s->target == GSS_C_NO_NAME) {
		if (s->service != NULL)
			snprintf(target, sizeof(target), "%s", s->service);
		else
			snprintf(target, sizeof(target), "%s@%s",
			    XLICEN_SERVICE_NAME, s->cur->host);
		if ((rc = gssx_import_service(target, &s->target, text,
		    sizeof(text))) != 0)
			return sess_fail(s, rc, "service name %s: %s", target, text);
		if ((rc = sess_check_ccache(s)) != 0)
			return rc;
	}
	in.value = (void *)in_p;
	in.length = in_n;
	maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &s->ctx, s->target,
	    GSS_C_NO_OID, GSSX_REQUIRED_FLAGS, 0, GSS_C_NO_CHANNEL_BINDINGS,
	    in_p != NULL ? &in : GSS_C_NO_BUFFER, NULL, &out, &ret_flags, NULL);
	rc = 0;
	if (out.length > 0)
		rc = frame_encode(&s->out, FRAME_CONTEXT, out.value, out.length);
	gss_release_buffer(&tmp, &out);
	if (rc != 0)
		return sess_fail(s, rc, "cannot frame the context token");
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, text, sizeof(text));
		if (sess_is_no_creds(maj, min))
			code = XLICEN_E_NO_CREDS;
		else if (GSS_ROUTINE_ERROR(maj) == GSS_S_BAD_NAME ||
		    GSS_ROUTINE_ERROR(maj) == GSS_S_BAD_NAMETYPE ||
		    GSS_ROUTINE_ERROR(maj) == GSS_S_BAD_MECH)
			code = XLICEN_E_GSS;
		else
			code = XLICEN_E_AUTH;
		sess_skew_note(s, note, sizeof(note));
		snprintf(reason, sizeof(reason), "%s%s", text, note);
		/* The error token (queued above) goes first, then our ALERT,
		 * so that the server logs why we gave up. */
		return sess_abort(s, code, reason);
	}
	if ((rc = sess_flush(s, ftext, sizeof(ftext))) != 0)
		return sess_fail(s, rc, "%s", ftext);
	if (maj & GSS_S_CONTINUE_NEEDED) {
		s->state = SESS_CONTEXT;
		return 0;
	}
	if (!gssx_flags_ok(ret_flags)) {
		gssx_flags_missing(ret_flags, missing, sizeof(missing));
		snprintf(text, sizeof(text), "context lacks: %s", missing);
		return sess_abort(s, XLICEN_E_GSS_FLAGS, text);
	}
	s->state = SESS_OPEN;
	s->deadline = 0;
	frame_dec_set_max(&s->dec, LIMIT_FRAME_POSTAUTH);
	return 0;
}

/* Peek the request id of a plaintext message whose type we may not know:
 * an unsolicited (id 0) message of a newer protocol is ignored. */
static int
sess_peek_id(const struct buf *plain, uint32_t *id)
{
	struct buf_reader r;
	uint16_t type;

	buf_reader_init(&r, plain->data, plain->len);
	if (buf_get_u16(&r, &type) != 0 || buf_get_u32(&r, id) != 0)
		return -1;
	return 0;
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
	rc = msg_decode(plain.data, plain.len, &m);
	if (rc == XLICEN_E_MSG_TYPE && sess_peek_id(&plain, &id) == 0 && id == 0) {
		rc = 0;		/* a newer server's notice: not for us */
		goto out;
	}
	if (rc != 0) {
		snprintf(text, sizeof(text), "malformed reply: %s", err_str(rc));
		rc = sess_abort(s, rc, text);
		goto out;
	}
	if (m.id == 0)
		goto out;	/* unsolicited notices: none handled yet */
	if (s->wait_id == 0 || m.id != s->wait_id) {
		snprintf(text, sizeof(text), "reply id %u does not match request %u",
		    m.id, s->wait_id);
		rc = sess_abort(s, XLICEN_E_STATE, text);
		goto out;
	}
	msg_clear(&s->reply);
	s->reply = m;
	msg_init(&m, 0, 0);
	s->have_reply = 1;
	s->wait_id = 0;
	s->deadline = 0;
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
static int
sess_run(xlicen_session *s, int (*done)(const xlicen_session *))
{
	struct pollfd pfd;
	int64_t left;
	int n, rc;

	for (;;) {
		if (s->state == SESS_CLOSED)
			return s->err != 0 ? s->err : XLICEN_E_NOT_CONNECTED;
		if (done(s))
			return 0;
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
 * An OPEN connection may have died while idle (server restart, idle
 * timeout ALERT): read whatever is already there so that a request is not
 * sent into a dead socket.
 */
static void
sess_poll_idle(xlicen_session *s)
{
	struct pollfd pfd;

	if (s->state != SESS_OPEN)
		return;
	pfd.fd = s->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) > 0)
		sess_step(s, pfd.revents);
}

/* Connect if needed, blocking. */
static int
sess_connect_blocking(xlicen_session *s)
{
	int rc;

	if (s->state == SESS_OPEN)
		return 0;
	if ((rc = sess_connect_start(s)) != 0)
		return rc;
	return sess_run(s, sess_is_open);
}

/* Send req on the open connection and wait for its reply. */
static int
sess_exchange(xlicen_session *s, struct msg *req, struct msg *reply)
{
	struct buf enc;
	char text[300];
	int rc;

	buf_init(&enc);
	if (++s->next_id == 0)
		s->next_id = 1;		/* 0 is the server's unsolicited id */
	req->id = s->next_id;
	if ((rc = msg_encode(req, &enc)) != 0) {
		sess_seterr(s, rc, "cannot encode %s: %s", msg_type_name(req->type),
		    err_str(rc));
		goto out;
	}
	rc = gssx_wrap_frame(s->ctx, enc.data, enc.len, &s->out, text, sizeof(text));
	if (rc != 0) {
		if (rc == XLICEN_E_CONTEXT_EXPIRED)
			s->dropped = 1;
		sess_fail(s, rc, "%s", text);
		goto out;
	}
	s->wait_id = req->id;
	s->have_reply = 0;
	s->deadline = sess_now_ms() + sess_reply_ms(s);
	if ((rc = sess_flush(s, text, sizeof(text))) != 0) {
		s->dropped = 1;
		sess_fail(s, rc, "%s", text);
		goto out;
	}
	if ((rc = sess_run(s, sess_has_reply)) != 0)
		goto out;
	*reply = s->reply;
	msg_init(&s->reply, 0, 0);
	s->have_reply = 0;
out:
	buf_free(&enc);
	return rc;
}

/*
 * One request/reply, connecting first if needed.  A connection that was
 * already open and turns out to have been dropped by the server is
 * replaced once: that is the normal fate of an idle connection (server
 * restart, idle timeout, expired ticket).  A retried CHECKOUT whose first
 * copy did reach the server costs a seat until its lease expires; RECLAIM
 * in a later protocol step removes that window.
 */
static int
sess_request(xlicen_session *s, struct msg *req, struct msg *reply)
{
	int attempt, reused, rc = 0;

	msg_init(reply, 0, 0);
	for (attempt = 0; attempt < 2; attempt++) {
		sess_poll_idle(s);
		reused = s->state == SESS_OPEN;
		if (!reused && (rc = sess_connect_blocking(s)) != 0)
			return rc;
		s->dropped = 0;
		sess_clearerr(s);
		rc = sess_exchange(s, req, reply);
		if (rc == 0 || !reused || !s->dropped)
			return rc;
	}
	return rc;
}

/* The error code a DENY or ERROR reply carries. */
static int
sess_reply_error(xlicen_session *s, const struct msg *m)
{
	int code = m->code != 0 ? -(int)m->code : XLICEN_E_BAD_VALUE;

	return sess_seterr(s, code, "%s", (m->have & MSG_F(TAG_REASON)) &&
	    m->reason[0] != '\0' ? m->reason : err_str(code));
}

/* A reply of a type this request cannot have: the server is broken. */
static int
sess_bad_reply(xlicen_session *s, const struct msg *req, const struct msg *m)
{
	char text[160];

	snprintf(text, sizeof(text), "unexpected %s reply to %s",
	    msg_type_name(m->type), msg_type_name(req->type));
	return sess_abort(s, XLICEN_E_MSG_TYPE, text);
}

/* ---- public API ---- */

int
xlicen_session_new(xlicen_session **out, const char *servers)
{
	xlicen_session *s = NULL;
	const char *env;
	char err[256];
	int rc;

	if (out == NULL)
		return XLICEN_E_INVALID;
	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return XLICEN_E_NOMEM;
	s->fd = -1;
	s->ctx = GSS_C_NO_CONTEXT;
	s->target = GSS_C_NO_NAME;
	s->state = SESS_IDLE;
	frame_dec_init(&s->dec, LIMIT_FRAME_PREAUTH);
	buf_init(&s->out);
	if (servers != NULL && servers[0] != '\0')
		rc = discover_parse(servers, &s->servers, err, sizeof(err));
	else
		rc = discover_default(&s->servers, err, sizeof(err));
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
	sess_drop_conn(s);
	frame_dec_free(&s->dec);
	buf_free(&s->out);
	discover_list_free(&s->servers);
	free(s->service);
	free(s->display);
	free(s);
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
	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	sess_poll_idle(s);
	return sess_connect_blocking(s);
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
}

/* Set a string field of req; a caller's string that the protocol cannot
 * carry is the caller's error. */
static int
sess_set_str(xlicen_session *s, struct msg *req, int tag, const char *what,
    const char *v)
{
	int rc;

	if ((rc = msg_set_str(req, tag, v)) != 0)
		return sess_seterr(s, rc, "%s is longer than %d bytes or not UTF-8",
		    what, LIMIT_STRING);
	return 0;
}

int
xlicen_checkout(xlicen_session *s, const char *product, const char *version,
    unsigned count, struct xlicen_grant *out)
{
	struct msg req, rep;
	char host[LIMIT_STRING + 1];
	const char *display;
	int rc;

	msg_init(&req, MSG_CHECKOUT, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	if (out == NULL || product == NULL || product[0] == '\0' ||
	    version == NULL || version[0] == '\0' || count == 0) {
		rc = sess_seterr(s, XLICEN_E_INVALID, "checkout needs a product, "
		    "a version and a count of at least 1");
		goto out;
	}
	if (count > LIMIT_SEATS) {
		rc = sess_seterr(s, XLICEN_E_COUNT, "at most %d seats in one "
		    "checkout", LIMIT_SEATS);
		goto out;
	}
	if ((rc = sess_set_str(s, &req, TAG_PRODUCT, "product", product)) != 0 ||
	    (rc = sess_set_str(s, &req, TAG_VERSION, "version", version)) != 0)
		goto out;
	req.count = count;
	req.pid = (uint32_t)getpid();
	req.have |= MSG_F(TAG_COUNT) | MSG_F(TAG_PID);
	/* Host and display are informational: omit what cannot be sent. */
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		msg_set_str(&req, TAG_HOST, host);
	}
	display = s->display != NULL ? s->display : getenv("DISPLAY");
	if (display != NULL && display[0] != '\0')
		msg_set_str(&req, TAG_DISPLAY, display);

	if ((rc = sess_request(s, &req, &rep)) != 0)
		goto out;
	switch (rep.type) {
	case MSG_GRANT:
		if (strlen(rep.lease) == 0 || strlen(rep.lease) > XLICEN_LEASE_MAX) {
			rc = sess_abort(s, XLICEN_E_BAD_VALUE,
			    "lease id empty or too long");
			goto out;
		}
		memcpy(out->lease, rep.lease, strlen(rep.lease) + 1);
		out->expires = (int64_t)rep.expires;
		out->heartbeat_s = rep.heartbeat;
		out->in_use = rep.in_use;
		out->total = rep.total;
		break;
	case MSG_DENY:
	case MSG_ERROR:
		out->in_use = rep.in_use;
		out->total = rep.total;
		rc = sess_reply_error(s, &rep);
		break;
	default:
		rc = sess_bad_reply(s, &req, &rep);
		break;
	}
out:
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

/* HEARTBEAT and RELEASE: a lease in, OK (maybe with an expiry) out. */
static int
sess_lease_request(xlicen_session *s, uint16_t type, const char *lease,
    int64_t *expires)
{
	struct msg req, rep;
	int rc;

	msg_init(&req, type, 0);
	msg_init(&rep, 0, 0);
	if (expires != NULL)
		*expires = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	if (lease == NULL || lease[0] == '\0' || strlen(lease) > XLICEN_LEASE_MAX) {
		rc = sess_seterr(s, XLICEN_E_INVALID, "a lease id has 1 to %d bytes",
		    XLICEN_LEASE_MAX);
		goto out;
	}
	if ((rc = sess_set_str(s, &req, TAG_LEASE, "lease id", lease)) != 0)
		goto out;
	if ((rc = sess_request(s, &req, &rep)) != 0)
		goto out;
	switch (rep.type) {
	case MSG_OK:
		if (expires != NULL)
			*expires = (int64_t)rep.expires;
		break;
	case MSG_ERROR:
	case MSG_DENY:
		rc = sess_reply_error(s, &rep);
		break;
	default:
		rc = sess_bad_reply(s, &req, &rep);
		break;
	}
out:
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

int
xlicen_heartbeat(xlicen_session *s, const char *lease, int64_t *expires)
{
	return sess_lease_request(s, MSG_HEARTBEAT, lease, expires);
}

int
xlicen_release(xlicen_session *s, const char *lease)
{
	return sess_lease_request(s, MSG_RELEASE, lease, NULL);
}

int
xlicen_status(xlicen_session *s, const char *product,
    struct xlicen_pool **pools, size_t *n)
{
	struct xlicen_pool *v = NULL;
	struct msg req, rep;
	size_t i;
	int rc;

	msg_init(&req, MSG_STATUS, 0);
	msg_init(&rep, 0, 0);
	if (pools != NULL)
		*pools = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	if (pools == NULL || n == NULL) {
		rc = sess_seterr(s, XLICEN_E_INVALID, "status needs somewhere "
		    "to put the pools");
		goto out;
	}
	if (product != NULL &&
	    (rc = sess_set_str(s, &req, TAG_PRODUCT, "product", product)) != 0)
		goto out;
	if ((rc = sess_request(s, &req, &rep)) != 0)
		goto out;
	if (rep.type == MSG_ERROR || rep.type == MSG_DENY) {
		rc = sess_reply_error(s, &rep);
		goto out;
	}
	if (rep.type != MSG_STATUS_REPLY) {
		rc = sess_bad_reply(s, &req, &rep);
		goto out;
	}
	if (rep.npools > 0) {
		if ((v = calloc(rep.npools, sizeof(*v))) == NULL) {
			rc = sess_seterr(s, XLICEN_E_NOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < rep.npools; i++) {
			const struct msg_pool *p = &rep.pools[i];

			/* Both sides are LIMIT_STRING + 1 bytes. */
			memcpy(v[i].product, p->product, sizeof(v[i].product));
			memcpy(v[i].versions, p->versions, sizeof(v[i].versions));
			memcpy(v[i].vendor, p->vendor, sizeof(v[i].vendor));
			memcpy(v[i].serial, p->serial, sizeof(v[i].serial));
			v[i].total = p->total;
			v[i].in_use = p->in_use;
			v[i].start = (int64_t)p->start;
			v[i].expires = (int64_t)p->expires;
			v[i].state = p->state;
		}
	}
	*pools = v;
	*n = rep.npools;
	v = NULL;
out:
	free(v);
	msg_clear(&req);
	msg_clear(&rep);
	return rc;
}

void
xlicen_pools_free(struct xlicen_pool *pools)
{
	free(pools);
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
