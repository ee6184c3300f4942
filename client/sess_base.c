/*
 * The base of the client session, below every other part of it: the
 * clocks and timeouts, the error a call reports (sess_seterr, sess_fail,
 * sess_abort), and the connection's socket: its descriptor, the bytes
 * queued for it (sess_flush), a request wrapped and sent on it
 * (sess_send), and dropping it (sess_drop_conn).  connect.c, reply.c,
 * lease.c and session.c build on these; this file calls none of them
 * (session_int.h tells the order).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <gssapi/gssapi.h>

#include "xlicen.h"

#include "buf.h"
#include "ccache.h"
#include "err.h"
#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "msg.h"
#include "session_int.h"
#include "trace.h"

int64_t
sess_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The server's clock now, ms, as far as its HELLO told us. */
int64_t
sess_server_ms(const xlicen_session *s)
{
	struct timespec ts;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (s->skew > SESS_SKEW_IGNORE_S || s->skew < -SESS_SKEW_IGNORE_S)
		ms += s->skew * 1000;
	return ms;
}

int
sess_connect_ms(const xlicen_session *s)
{
	if (s->timeout_ms > 0 && s->timeout_ms < LIMIT_CONNECT_MS)
		return s->timeout_ms;
	return LIMIT_CONNECT_MS;
}

int
sess_handshake_ms(const xlicen_session *s)
{
	return s->timeout_ms > 0 ? s->timeout_ms : LIMIT_HANDSHAKE_MS;
}

int
sess_reply_ms(const xlicen_session *s)
{
	return s->timeout_ms > 0 ? s->timeout_ms : LIMIT_REPLY_MS;
}

/* Record a failure: the code, and the text prefixed with the peer. */
int
sess_seterr(xlicen_session *s, int code, const char *fmt, ...)
{
	char text[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	s->err = code;
	s->deny_detail = 0;
	if (s->peer[0] != '\0')
		snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s", s->peer, text);
	else
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", text);
	return code;
}

void
sess_clearerr(xlicen_session *s)
{
	s->err = 0;
	s->deny_detail = 0;
	s->errmsg[0] = '\0';
}

/* Drop the socket, the context and every per-connection buffer. */
void
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
	ccache_put(s->cc);
	s->cc = NULL;
	frame_dec_free(&s->dec);
	frame_dec_init(&s->dec, LIMIT_FRAME_PREAUTH);
	buf_reset(&s->out);
	s->out_off = 0;
	s->wait_id = 0;
	s->wait_async = 0;
	/* A reply already received stays for its caller: a server may answer
	 * and close right after (SHUTDOWN answers OK, then ALERTs). */
	s->deadline = 0;
	s->ctx_end = 0;
	s->ctx_check = 0;
	s->gen++;
	s->conn_id++;
}

/* Fail the session: record the error, close, and return the code. */
int
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
int
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
	/* Every frame queued is out: the trace ($XLICEN_TRACE) shows them. */
	trace_frames(s->peer, "send", s->out.data, s->out.len);
	buf_reset(&s->out);
	s->out_off = 0;
	return 0;
}

/*
 * A protocol violation by the server: tell it with an ALERT (best effort:
 * the connection is going away anyway), then fail with code.
 */
int
sess_abort(xlicen_session *s, int code, const char *reason)
{
	char ignored[128];

	if (s->fd >= 0 && frame_alert_encode(&s->out, code, reason) == 0) {
		sess_flush(s, ignored, sizeof(ignored));
		shutdown(s->fd, SHUT_WR);
	}
	return sess_fail(s, code, "%s", reason);
}

/* No request of the lease machine is waiting for its reply. */
int
sess_async_idle(const xlicen_session *s)
{
	return s->wait_id == 0 || !s->wait_async;
}

/* Wrap req and queue it on the open connection; async: its reply goes to
 * the lease machine.  On failure the connection is closed. */
int
sess_send(xlicen_session *s, struct msg *req, int async)
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
	trace_msg(s->peer, "send", enc.data, enc.len);
	rc = gssx_wrap_frame(s->ctx, enc.data, enc.len, &s->out, text, sizeof(text));
	if (rc != 0) {
		if (rc == XLICEN_E_CONTEXT_EXPIRED)
			s->dropped = 1;
		sess_fail(s, rc, "%s", text);
		goto out;
	}
	s->wait_id = req->id;
	s->wait_async = async;
	msg_clear(&s->reply);
	s->have_reply = 0;
	s->deadline = sess_now_ms() + sess_reply_ms(s);
	if ((rc = sess_flush(s, text, sizeof(text))) != 0) {
		s->dropped = 1;
		sess_fail(s, rc, "%s", text);
		goto out;
	}
out:
	buf_free(&enc);
	return rc;
}

int
xlicen_fd(xlicen_session *s, int *want_write)
{
	if (want_write != NULL)
		*want_write = 0;
	if (s == NULL || s->fd < 0)
		return -1;
	switch (s->state) {
	case SESS_CONNECTING:
		if (want_write != NULL)
			*want_write = 1;
		return s->fd;
	case SESS_HELLO:
	case SESS_CONTEXT:
	case SESS_OPEN:
		if (want_write != NULL)
			*want_write = s->out_off < s->out.len;
		return s->fd;
	default:
		return -1;
	}
}
