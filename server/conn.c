/*
 * One client connection: HELLO -> CONTEXT -> OPEN -> CLOSING.  Every frame
 * is checked against the state it arrives in; anything malformed or out of
 * place closes this connection with an ALERT and nothing else.
 *
 * Also the books kept on all connections: how many each peer address has
 * open and which are still handshaking, oldest first (loop.c decides from
 * them whom to admit or evict), and the ALERT SHUTDOWN every connection
 * gets when the server stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "err.h"
#include "gssx.h"
#include "hash.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"
#include "server.h"
#include "trace.h"

/* One buffer for all reads: connections keep only a frame decoder. */
static uint8_t conn_rbuf[64 * 1024];

/* Replies not yet sent. */
static size_t
conn_backlog(const struct conn *c)
{
	return c->out.len - c->out_off;
}

/* Write interest while output is pending; read interest unless replies
 * have backed up (a client that sends and never reads must not grow our
 * memory) or input is already held back.  Held-back input keeps write
 * interest too: once the output is sent, conn_on_writable takes it up
 * (nothing else would, with no read interest). */
static void
conn_update_events(struct conn *c)
{
	struct epoll_event ev;
	uint32_t events = 0;

	if (conn_backlog(c) < LIMIT_CONN_BACKLOG && c->rest == NULL)
		events |= EPOLLIN;
	if (conn_backlog(c) > 0 || c->rest != NULL)
		events |= EPOLLOUT;
	if (events == c->events)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = events;
}

void
conn_set_deadline(struct conn *c, int64_t ms)
{
	c->deadline_ms = server_now_ms() + ms;
	if (c->deadline_ms < c->srv->conn_deadline_ms)
		c->srv->conn_deadline_ms = c->deadline_ms;
}

/* ---- per-peer counts and handshakes (admission: loop.c) ---- */

/* The slot of addr, or the empty one where it would go. */
static struct peer_slot *
conn_peer_slot(struct peer_slot *t, size_t cap, const char *addr)
{
	size_t i = (size_t)hash_str(addr) & (cap - 1);

	while (t[i].addr[0] != '\0' && strcmp(t[i].addr, addr) != 0)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

struct peer_slot *
conn_peer_find(const struct server *srv, const char *addr)
{
	struct peer_slot *e;

	if (srv->peers_cap == 0)
		return NULL;
	e = conn_peer_slot(srv->peers, srv->peers_cap, addr);
	return e->addr[0] != '\0' ? e : NULL;
}

int
conn_peer_add(struct server *srv, const char *addr)
{
	struct peer_slot *t, *e;
	size_t cap, i;

	if (2 * (srv->peers_n + 1) > srv->peers_cap) {
		cap = srv->peers_cap != 0 ? 2 * srv->peers_cap : 64;
		if ((t = calloc(cap, sizeof(*t))) == NULL)
			return XLICEN_E_NOMEM;
		for (i = 0; i < srv->peers_cap; i++)
			if (srv->peers[i].addr[0] != '\0')
				*conn_peer_slot(t, cap, srv->peers[i].addr) =
				    srv->peers[i];
		free(srv->peers);
		srv->peers = t;
		srv->peers_cap = cap;
	}
	e = conn_peer_slot(srv->peers, srv->peers_cap, addr);
	if (e->addr[0] == '\0') {
		snprintf(e->addr, sizeof(e->addr), "%s", addr);
		e->n = 0;
		srv->peers_n++;
	}
	e->n++;
	return XLICEN_OK;
}

void
conn_peer_gone(struct server *srv, const char *addr)
{
	struct peer_slot *t = srv->peers;
	size_t mask = srv->peers_cap - 1, i, j, home;

	if (srv->peers_cap == 0)
		return;
	i = (size_t)(conn_peer_slot(t, srv->peers_cap, addr) - t);
	if (t[i].addr[0] == '\0' || --t[i].n > 0)
		return;
	/* Empty slot i and pull back the entries of the run after it that
	 * could not be found past the hole. */
	t[i].addr[0] = '\0';
	srv->peers_n--;
	for (j = (i + 1) & mask; t[j].addr[0] != '\0'; j = (j + 1) & mask) {
		home = (size_t)hash_str(t[j].addr) & mask;
		/* Leave j where it is if its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t[i] = t[j];
		t[j].addr[0] = '\0';
		i = j;
	}
}

/*
 * Handshakes are kept in two tiers, each oldest first, for the server and
 * for each peer: tier 0, not a word yet; tier 1, a good HELLO answered
 * (CONTEXT).  Eviction takes the oldest of tier 0 first, so that a real
 * client (which sends its HELLO at once) outlives any number of silent
 * connections opened after it.
 */
static void
conn_hs_link(struct conn *c, struct peer_slot *e, int tier)
{
	struct server *srv = c->srv;

	c->handshaking = 1 + tier;
	c->unext = NULL;
	c->uprev = srv->hs_new[tier];
	if (srv->hs_new[tier] != NULL)
		srv->hs_new[tier]->unext = c;
	else
		srv->hs_old[tier] = c;
	srv->hs_new[tier] = c;
	c->pnext = NULL;
	c->pprev = e->unew[tier];
	if (e->unew[tier] != NULL)
		e->unew[tier]->pnext = c;
	else
		e->uold[tier] = c;
	e->unew[tier] = c;
}

static void
conn_hs_unlink(struct conn *c, struct peer_slot *e)
{
	struct server *srv = c->srv;
	int tier = c->handshaking - 1;

	if (c->uprev != NULL)
		c->uprev->unext = c->unext;
	else
		srv->hs_old[tier] = c->unext;
	if (c->unext != NULL)
		c->unext->uprev = c->uprev;
	else
		srv->hs_new[tier] = c->uprev;
	if (c->pprev != NULL)
		c->pprev->pnext = c->pnext;
	else
		e->uold[tier] = c->pnext;
	if (c->pnext != NULL)
		c->pnext->pprev = c->pprev;
	else
		e->unew[tier] = c->pprev;
	c->uprev = c->unext = c->pprev = c->pnext = NULL;
	c->handshaking = 0;
}

void
conn_handshake_start(struct conn *c)
{
	struct peer_slot *e = conn_peer_find(c->srv, c->peer_addr);

	conn_hs_link(c, e, 0);
	c->srv->nhandshakes++;
	e->nu++;
}

/* c's HELLO was answered: among handshakes it is evicted after every
 * silent one. */
static void
conn_handshake_progress(struct conn *c)
{
	struct peer_slot *e = conn_peer_find(c->srv, c->peer_addr);

	if (c->handshaking != 1 || e == NULL)
		return;
	conn_hs_unlink(c, e);
	conn_hs_link(c, e, 1);
}

/* c leaves HELLO/CONTEXT (authenticated, or freed): it no longer counts
 * towards the handshake caps and can no longer be evicted.  Idempotent. */
static void
conn_handshake_done(struct conn *c)
{
	struct peer_slot *e = conn_peer_find(c->srv, c->peer_addr);

	if (!c->handshaking || e == NULL)
		return;
	conn_hs_unlink(c, e);
	c->srv->nhandshakes--;
	e->nu--;
}

void
conn_note(struct server *srv, enum loop_cause cause)
{
	srv->refused[cause]++;
	metrics_refused(cause);
}

struct conn *
conn_new(struct server *srv, int fd, const char *peer, const char *peer_addr)
{
	struct conn *c;
	struct epoll_event ev;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->srv = srv;
	c->fd = fd;
	c->state = CONN_HELLO;
	c->ctx = GSS_C_NO_CONTEXT;
	frame_dec_init(&c->dec, LIMIT_FRAME_PREAUTH);
	/* (A reload may have changed the budget: it applies at once.) */
	srv->fbudget.max = srv->cfg.frame_budget;
	frame_dec_set_budget(&c->dec, &srv->fbudget);
	buf_init(&c->out);
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	snprintf(c->peer_addr, sizeof(c->peer_addr), "%s", peer_addr);
	conn_set_deadline(c, srv->cfg.handshake_ms);

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		free(c);
		return NULL;
	}
	c->events = EPOLLIN;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	return c;
}

static void conn_unqueue(struct conn *);
static void conn_unhold(struct conn *);

void
conn_free(struct conn *c)
{
	struct server *srv;
	OM_uint32 min;

	if (c == NULL)
		return;
	srv = c->srv;
	log_debug("%s%s%s: connection closed by the %s", c->peer,
	    c->principal[0] != '\0' ? " " : "", c->principal,
	    c->end == CONN_END_CLIENT ? "client" : "server");
	handlers_conn_closed(c);
	conn_handshake_done(c);
	conn_peer_gone(srv, c->peer_addr);
	conn_unqueue(c);
	conn_unhold(c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &c->ctx, GSS_C_NO_BUFFER);
	frame_dec_free(&c->dec);
	buf_free(&c->out);
	free(c->rest);
	free(c);
}

/*
 * Two lists of connections whose output waits: srv->flushq for the end
 * of the round's batch (conn_queue_flush, conn_flush_batch), srv->heldq
 * for the syncer (conn_hold, conn_flush_synced).  A connection freed
 * meanwhile leaves both.
 */
static void
conn_unqueue(struct conn *c)
{
	if (!c->fqueued)
		return;
	if (c->fprev != NULL)
		c->fprev->fnext = c->fnext;
	else
		c->srv->flushq = c->fnext;
	if (c->fnext != NULL)
		c->fnext->fprev = c->fprev;
	c->fprev = c->fnext = NULL;
	c->fqueued = 0;
}

/* Hold c's output until the syncer covers ticket. */
static void
conn_hold(struct conn *c, uint64_t ticket)
{
	struct server *srv = c->srv;

	if (ticket <= c->hold)
		return;
	c->hold = ticket;
	if (c->held)
		return;
	c->held = 1;
	c->hmark = c->fmark;
	c->hfirst = ticket;
	c->hprev = NULL;
	c->hnext = srv->heldq;
	if (srv->heldq != NULL)
		srv->heldq->hprev = c;
	srv->heldq = c;
}

static void
conn_unhold(struct conn *c)
{
	if (!c->held)
		return;
	if (c->hprev != NULL)
		c->hprev->hnext = c->hnext;
	else
		c->srv->heldq = c->hnext;
	if (c->hnext != NULL)
		c->hnext->hprev = c->hprev;
	c->hprev = c->hnext = NULL;
	c->held = 0;
}

/* Hold c's new output until the round's batch is committed.  mark is
 * out.len before this round's first reply. */
static void
conn_queue_flush(struct conn *c, size_t mark)
{
	struct server *srv = c->srv;

	if (c->fqueued)
		return;
	c->fqueued = 1;
	c->fmark = mark;
	c->fprev = NULL;
	c->fnext = srv->flushq;
	if (srv->flushq != NULL)
		srv->flushq->fprev = c;
	srv->flushq = c;
}

/* Try to send what is queued.  -1: the socket failed (caller frees). */
static int
conn_flush(struct conn *c)
{
	ssize_t n;

	if (c->fqueued || c->hold > c->srv->synced)
		return 0;	/* not before the batch is committed and synced */
	while (c->out_off < c->out.len) {
		n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* The client is gone (reset, EPIPE), unless this was
			 * the server's own close. */
			if (c->state != CONN_CLOSING)
				c->end = CONN_END_CLIENT;
			return -1;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
		/* After an ALERT: FIN, then drain what the peer still sends
		 * so that our close does not turn into a RST that could
		 * destroy the ALERT in flight. */
		if (c->state == CONN_CLOSING && !c->shut_wr) {
			shutdown(c->fd, SHUT_WR);
			c->shut_wr = 1;
		}
	}
	conn_update_events(c);
	return 0;
}

/* The connection conn_feed is handling: its frames are traced when the
 * feed ends, so conn_send must not trace them a second time. */
static const struct conn *conn_feeding;

/* The protocol trace (--trace) of the frames c queued since mark. */
static void
conn_trace_out(const struct conn *c, size_t mark)
{
	if (trace_on() && c->out.len > mark)
		trace_frames(c->peer, "send", c->out.data + mark,
		    c->out.len - mark);
}

/* conn_alert, logged one line per connection (log), or counted for the
 * loop's summary line as cause (what a flood makes by the thousand). */
static void
conn_alert_ex(struct conn *c, int code, const char *reason, int log,
    enum loop_cause cause)
{
	if (log)
		log_msg(LOG_NOTICE, "%s%s%s: closing: %s (%s)%s%s", c->peer,
		    c->principal[0] != '\0' ? " " : "", c->principal,
		    err_name(code), err_str(code), reason != NULL ? ": " : "",
		    reason != NULL ? reason : "");
	else
		conn_note(c->srv, cause);
	if (!log)	/* counted, not logged: its reason at debug */
		log_debug("%s: closing: %s (%s)%s%s", c->peer, err_name(code),
		    err_str(code), reason != NULL ? ": " : "",
		    reason != NULL ? reason : "");
	if (frame_alert_encode(&c->out, code, reason) != 0)
		buf_reset(&c->out);
	c->state = CONN_CLOSING;
	conn_set_deadline(c, 2000);
}

void
conn_alert(struct conn *c, int code, const char *reason)
{
	conn_alert_ex(c, code, reason, 1, LOOP_NCAUSES);
}

static int
conn_on_hello(struct conn *c, const struct frame *f)
{
	struct frame_hello_client h;
	struct frame_hello_server sh;
	char reason[96];
	int rc;

	if ((rc = frame_hello_client_decode(f->body, f->len, &h)) != 0) {
		conn_alert(c, rc, "malformed HELLO");
		return rc;
	}
	if (h.min_version > XLICEN_PROTO_VERSION ||
	    h.max_version < XLICEN_PROTO_VERSION) {
		snprintf(reason, sizeof(reason),
		    "server speaks version %d only; client offered %u-%u",
		    XLICEN_PROTO_VERSION, h.min_version, h.max_version);
		conn_alert(c, XLICEN_E_VERSION, reason);
		return XLICEN_E_VERSION;
	}
	sh.version = XLICEN_PROTO_VERSION;
	sh.time = (int64_t)time(NULL);
	if ((rc = frame_hello_server_encode(&c->out, &sh)) != 0)
		return rc;
	c->state = CONN_CONTEXT;
	conn_handshake_progress(c);
	return 0;
}

static int
conn_on_context(struct conn *c, const struct frame *f)
{
	OM_uint32 maj, min, ret_flags = 0, time_rec = 0;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	char text[512], missing[96];
	int rc = 0;

	in.value = f->body;
	in.length = f->len;
	maj = gss_accept_sec_context(&min, &c->ctx, c->srv->cred, &in,
	    GSS_C_NO_CHANNEL_BINDINGS, &src, NULL, &out, &ret_flags, &time_rec,
	    NULL);
	/* The token goes out even on error: it may be a KRB-ERROR. */
	if (out.length > 0 &&
	    (rc = frame_encode(&c->out, FRAME_CONTEXT, out.value, out.length)) != 0)
		goto out;
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, text, sizeof(text));
		conn_alert(c, XLICEN_E_AUTH, text);
		rc = XLICEN_E_AUTH;
		goto out;
	}
	if (maj & GSS_S_CONTINUE_NEEDED)
		goto out;
	if (!gssx_flags_ok(ret_flags)) {
		gssx_flags_missing(ret_flags, missing, sizeof(missing));
		snprintf(text, sizeof(text), "context lacks: %s", missing);
		conn_alert(c, XLICEN_E_GSS_FLAGS, text);
		rc = XLICEN_E_GSS_FLAGS;
		goto out;
	}
	if ((rc = gssx_display_name(src, c->principal, sizeof(c->principal))) != 0) {
		conn_alert(c, XLICEN_E_AUTH, "initiator name unusable");
		goto out;
	}
	c->ctx_expires = (int64_t)time(NULL) +
	    (time_rec == GSS_C_INDEFINITE ? 86400 : (int64_t)time_rec);
	c->state = CONN_OPEN;
	conn_handshake_done(c);
	conn_set_deadline(c, c->srv->cfg.idle_ms);
	frame_dec_set_max(&c->dec, c->srv->cfg.frame_postauth);
	log_msg(LOG_INFO, "%s: authenticated %s", c->peer, c->principal);
out:
	gss_release_buffer(&min, &out);
	if (src != GSS_C_NO_NAME)
		gss_release_name(&min, &src);
	return rc;
}

static int
conn_on_data(struct conn *c, const struct frame *f)
{
	struct buf plain, enc;
	struct msg req, reply;
	char err[256];
	int rc;

	buf_init(&plain);
	buf_init(&enc);
	msg_init(&req, 0, 0);
	msg_init(&reply, 0, 0);
	if ((int64_t)time(NULL) >= c->ctx_expires) {
		conn_alert(c, XLICEN_E_CONTEXT_EXPIRED, "re-authenticate");
		rc = XLICEN_E_CONTEXT_EXPIRED;
		goto out;
	}
	if ((rc = gssx_unwrap(c->ctx, f->body, f->len, &plain, err,
	    sizeof(err))) != 0) {
		conn_alert(c, rc, err);
		goto out;
	}
	if ((rc = msg_decode(plain.data, plain.len, &req)) != 0) {
		conn_alert(c, rc, "malformed message");
		goto out;
	}
	trace_msg(c->peer, "recv", plain.data, plain.len);
	/* Id 0 marks the server's unsolicited messages (PROTOCOL.md section
	 * 7): a reply carrying it would be ignored by the client. */
	if (req.id == 0) {
		rc = XLICEN_E_BAD_VALUE;
		conn_alert(c, rc, "request id 0 is reserved for unsolicited "
		    "messages");
		goto out;
	}
	rc = handlers_dispatch(c, &req, &reply);
	if (rc == HANDLERS_DEFERRED) {
		/* A WAIT checkout: answered by conn_send() later. */
		rc = 0;
		conn_set_deadline(c, c->srv->cfg.idle_ms);
		goto out;
	}
	if (rc != 0) {
		snprintf(err, sizeof(err), "unexpected %s message",
		    msg_type_name(req.type));
		conn_alert(c, rc, err);
		goto out;
	}
	if ((rc = msg_encode(&reply, &enc)) != 0 ||
	    (rc = gssx_wrap_frame(c->ctx, enc.data, enc.len, &c->out, err,
	    sizeof(err))) != 0) {
		conn_alert(c, rc, "cannot build reply");
		goto out;
	}
	trace_msg(c->peer, "send", enc.data, enc.len);
	conn_set_deadline(c, c->srv->cfg.idle_ms);
out:
	msg_clear(&req);
	msg_clear(&reply);
	buf_free(&plain);
	buf_free(&enc);
	return rc;
}

int
conn_send(struct conn *c, const struct msg *m)
{
	struct buf enc;
	char err[256];
	size_t mark;
	int rc;

	if (c->state != CONN_OPEN)
		return XLICEN_E_STATE;
	buf_init(&enc);
	mark = c->out.len;
	if ((rc = msg_encode(m, &enc)) != 0 ||
	    (rc = gssx_wrap_frame(c->ctx, enc.data, enc.len, &c->out, err,
	    sizeof(err))) != 0)
		goto out;
	trace_msg(c->peer, "send", enc.data, enc.len);
	if (c != conn_feeding)
		conn_trace_out(c, mark);
	/* Traffic: the connection is not idle. */
	conn_set_deadline(c, c->srv->cfg.idle_ms);
	if (c->srv->batching) {
		conn_queue_flush(c, mark);
		goto out;
	}
	/* A failed flush is seen by the loop (EPOLLERR/HUP), which frees c;
	 * freeing it here would pull it from under our caller. */
	(void)conn_flush(c);
out:
	buf_free(&enc);
	return rc;
}

static int
conn_on_frame(struct conn *c, const struct frame *f)
{
	struct frame_alert a;

	if (c->state != CONN_CLOSING)
		trace_frame(c->peer, "recv", f->type, f->body, f->len);
	if (f->type == FRAME_ALERT) {
		if (frame_alert_decode(f->body, f->len, &a) == 0)
			log_msg(LOG_INFO, "%s: client alert %u: %s", c->peer,
			    a.code, a.reason);
		if (c->state != CONN_CLOSING)
			c->end = CONN_END_CLIENT;
		return XLICEN_E_CLOSED;
	}
	switch (c->state) {
	case CONN_HELLO:
		if (f->type == FRAME_HELLO)
			return conn_on_hello(c, f);
		break;
	case CONN_CONTEXT:
		if (f->type == FRAME_CONTEXT)
			return conn_on_context(c, f);
		break;
	case CONN_OPEN:
		if (f->type == FRAME_DATA)
			return conn_on_data(c, f);
		break;
	case CONN_CLOSING:
		return XLICEN_E_CLOSED;
	}
	conn_alert(c, XLICEN_E_STATE, "frame not allowed in this state");
	return XLICEN_E_STATE;
}

/*
 * Decode and handle the frames in p.  When replies back up past
 * LIMIT_CONN_BACKLOG, the unprocessed rest is kept in c->rest and reading
 * stops until the client has read enough.  -1 if c was freed.
 */
static int
conn_feed(struct conn *c, const uint8_t *p, size_t n)
{
	struct frame f;
	size_t off, used, mark = c->out.len;
	int rc;

	conn_feeding = c;
	for (off = 0; off < n && c->state != CONN_CLOSING; off += used) {
		if (conn_backlog(c) >= LIMIT_CONN_BACKLOG) {
			if ((c->rest = malloc(n - off)) == NULL) {
				conn_feeding = NULL;
				conn_free(c);
				return -1;
			}
			memcpy(c->rest, p + off, n - off);
			c->rest_len = n - off;
			break;
		}
		rc = frame_dec_feed(&c->dec, p + off, n - off, &used, &f);
		if (rc < 0) {
			char why[96];

			if (rc == XLICEN_E_BUSY) {
				/* The server-wide budget for partly received
				 * frames is spent (PROTOCOL.md). */
				conn_alert_ex(c, rc, "server memory for partly "
				    "received frames is spent", 0,
				    LOOP_CLOSE_FRAME_BUDGET);
				/* Its bytes go back to the budget now, not
				 * when CLOSING ends. */
				frame_dec_free(&c->dec);
				break;
			}
			if (rc == XLICEN_E_FRAME_TOO_LONG)
				snprintf(why, sizeof(why), "frame of %u bytes "
				    "exceeds the limit of %u", c->dec.len, c->dec.max);
			else if (rc == XLICEN_E_FRAME_TYPE)
				snprintf(why, sizeof(why), "unknown frame type %u",
				    c->dec.type);
			else
				snprintf(why, sizeof(why), "%s", err_str(rc));
			conn_alert(c, rc, why);
			break;
		}
		if (rc == 0)
			continue;
		rc = conn_on_frame(c, &f);
		frame_free(&f);
		if (rc == XLICEN_E_CLOSED) {
			conn_feeding = NULL;
			conn_free(c);
			return -1;
		}
		if (rc < 0 && c->state != CONN_CLOSING)
			conn_alert(c, XLICEN_E_INTERNAL, NULL);
	}
	conn_feeding = NULL;
	conn_trace_out(c, mark);
	if (c->srv->batching) {
		conn_queue_flush(c, mark);
		return 0;
	}
	if (conn_flush(c) != 0) {
		conn_free(c);
		return -1;
	}
	return 0;
}

void
conn_flush_batch(struct server *srv, int ok, uint64_t ticket)
{
	struct conn *c;

	while ((c = srv->flushq) != NULL) {
		conn_unqueue(c);
		if (!ok && c->state != CONN_CLOSING) {
			/* Nothing the batch decided is durable: none of its
			 * replies may go out. */
			c->out.len = c->fmark;
			conn_alert(c, XLICEN_E_DB, "database error");
		} else if (ok) {
			conn_hold(c, ticket);
		}
		if (conn_flush(c) != 0)
			conn_free(c);
	}
}

void
conn_withdraw_held(struct server *srv, uint64_t first, uint64_t last)
{
	struct conn *c, *next;

	for (c = srv->heldq; c != NULL; c = next) {
		next = c->hnext;
		/* Held from hfirst to hold: output of a failed round? */
		if (c->hold < first || c->hfirst > last)
			continue;
		conn_unhold(c);
		c->hold = 0;
		/* Nothing of its round is in the database: none of what it
		 * answered may go. */
		if (c->out.len > c->hmark && c->hmark >= c->out_off)
			c->out.len = c->hmark;
		if (c->state != CONN_CLOSING)
			conn_alert(c, XLICEN_E_DB, "database error");
		if (conn_flush(c) != 0)
			conn_free(c);
	}
}

void
conn_flush_synced(struct server *srv)
{
	struct conn *c, *next;

	for (c = srv->heldq; c != NULL; c = next) {
		next = c->hnext;
		if (c->hold > srv->synced)
			continue;
		conn_unhold(c);
		if (conn_flush(c) != 0)
			conn_free(c);
	}
}

int
conn_on_readable(struct conn *c)
{
	ssize_t n;

	if (c->rest != NULL)
		return 0;
	n = recv(c->fd, conn_rbuf, sizeof(conn_rbuf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0 || c->state == CONN_CLOSING) {
		/* In CLOSING, input is drained and dropped until EOF. */
		if (n > 0)
			return 0;
		if (n == 0 && frame_dec_pending(&c->dec) &&
		    c->state != CONN_CLOSING)
			log_msg(LOG_NOTICE, "%s: closed inside a frame", c->peer);
		/* EOF or a reset: the client ended it, unless it came after
		 * our ALERT (then we did). */
		if (c->state != CONN_CLOSING)
			c->end = CONN_END_CLIENT;
		conn_free(c);
		return -1;
	}
	return conn_feed(c, conn_rbuf, (size_t)n);
}

int
conn_on_writable(struct conn *c)
{
	uint8_t *rest;
	int rc;

	if (conn_flush(c) != 0) {
		conn_free(c);
		return -1;
	}
	if (c->rest == NULL || conn_backlog(c) >= LIMIT_CONN_BACKLOG)
		return 0;
	/* The client caught up: handle the input held back. */
	rest = c->rest;
	c->rest = NULL;
	rc = conn_feed(c, rest, c->rest_len);
	free(rest);
	return rc;
}

void
conn_on_timeout(struct conn *c)
{
	size_t mark = c->out.len;

	if (c->state == CONN_CLOSING) {
		conn_free(c);
		return;
	}
	if (c->state == CONN_OPEN)
		conn_alert(c, XLICEN_E_TIMEOUT, "idle timeout");
	else
		conn_alert_ex(c, XLICEN_E_TIMEOUT, "handshake not completed "
		    "in time", 0, LOOP_CLOSE_HANDSHAKE_TIMEOUT);
	conn_trace_out(c, mark);
	if (conn_flush(c) != 0)
		conn_free(c);
}

void
conn_shutdown_all(struct server *srv)
{
	/*
	 * Every grant is already committed and synced; tell clients and go.
	 * Whatever is still queued for a client (the OK of an admin SHUTDOWN,
	 * a late GRANT) goes out first, then the ALERT, best effort.
	 */
	while (srv->conns != NULL) {
		struct conn *c = srv->conns;

		/* Not what waits for a sync that failed. */
		if (c->state != CONN_CLOSING && c->hold <= srv->synced) {
			size_t mark = c->out.len;

			if (frame_alert_encode(&c->out, XLICEN_E_SHUTDOWN,
			    "server is shutting down") == 0)
				conn_trace_out(c, mark);
			if (c->out.len > c->out_off)
				(void)send(c->fd, c->out.data + c->out_off,
				    c->out.len - c->out_off,
				    MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		conn_free(c);
	}
	free(srv->peers);
	srv->peers = NULL;
	srv->peers_cap = srv->peers_n = 0;
}
