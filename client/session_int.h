/*
 * The client session's internals.  The session module is five files that
 * share the struct below; each calls only the files listed below it,
 * never one above:
 *
 *     session.c   the connection machine and its two drivers (the
 *                 blocking poll() loop, xlicen_process): frames in,
 *                 replies and notices handed to the lease machine, the
 *                 blocking request (sess_request), the public calls
 *     lease.c     the lease machine of the non-blocking checkout, the
 *                 watch and state callbacks
 *     connect.c   dialing the server list and the GSS handshake
 *     reply.c     building requests and reading replies, the one copy
 *                 of these helpers for the whole library
 *     sess_base.c clocks, errors, the connection's socket (send, flush,
 *                 drop)
 *
 * (connect.c and reply.c do not call each other.)  requests.c (every
 * one-shot request: blocking checkout, heartbeat, release, status,
 * holders, remove, reread, shutdown, report) uses what is declared here;
 * nothing in these five files calls requests.c.  ccache.c (the caller's
 * credentials cache) sits below all of them.  Not part of the public
 * API, not exported (hidden visibility).
 */
#ifndef XLICEN_SESSION_INT_H
#define XLICEN_SESSION_INT_H

#include <stdint.h>

#include <gssapi/gssapi.h>

#include "xlicen.h"

#include "buf.h"
#include "discover.h"
#include "frame.h"
#include "limits.h"
#include "msg.h"

/* Make a new GSS context when this share (percent) of the old one's
 * lifetime has passed, if fresher tickets are there by then... */
#define SESS_CTX_REFRESH_PCT	90
/* ...and look for them again this often until the context ends. */
#define SESS_CTX_POLL_MS	5000
/* Tickets must outlive the current context by this much to be "fresher". */
#define SESS_CTX_GAIN_MS	2000
/* Ticket times are whole seconds: a context can end up to this much
 * before its ctx_end (the blocking calls' check allows for it). */
#define SESS_CTX_TICK_MS	1000

struct ccache_copy;

enum sess_state {
	SESS_IDLE,		/* never connected */
	SESS_CONNECTING,	/* TCP connect in progress */
	SESS_HELLO,		/* HELLO sent, waiting for the server's */
	SESS_CONTEXT,		/* GSS context loop */
	SESS_OPEN,		/* authenticated; requests allowed */
	SESS_CLOSED,		/* failed or closed; s->err says why */
};

/* The non-blocking checkout. */
struct sess_lease {
	int state;			/* enum xlicen_state */
	char product[LIMIT_STRING + 1];
	char version[LIMIT_STRING + 1];
	unsigned count;
	unsigned flags;			/* XLICEN_CHECKOUT_* */
	int have;			/* grant holds a lease */
	struct xlicen_grant grant;
	unsigned attached;		/* conn_id the lease was last confirmed on */
	int no_reclaim;			/* the server does not know RECLAIM */
	unsigned position;		/* QUEUED: place in line, 1 = next */
	char queue_id[LIMIT_STRING + 1];	/* QUEUED: the server's id */
	uint32_t req_id;		/* id of our last CHECKOUT */
	/* Held on a server with a borrow token of the product stored: a
	 * HEARTBEAT of the token's lease (borrow_lease) is 1 due, 2 in
	 * flight, 0 done or none (sess_borrow_verdict decides). */
	int reconcile;
	char borrow_lease[XLICEN_LEASE_MAX + 1];
	int busy;			/* waiting for a connection or a reply */
	uint16_t sent;			/* our request in flight (type), 0 none */
	unsigned conn_id;		/* ...on this connection */
	int64_t next_at;		/* monotonic ms of the next action */
	unsigned failures;		/* in a row, for the backoff */
	int code;			/* why the state is what it is */
	char text[1280];
	/* What the state callback was told last. */
	int rep_state, rep_code;
	int64_t rep_expires;
	unsigned rep_position;
};

struct xlicen_session {
	struct discover_list servers;
	int auto_servers;	/* no list given: DNS SRV, else localhost */
	int64_t servers_at;	/* monotonic ms the SRV answer was fetched */
	char *service;		/* GSS target for every server, or NULL */
	char *display;		/* display override, or NULL ($DISPLAY) */
	int timeout_ms;		/* 0: the LIMIT_* defaults */

	enum sess_state state;
	int fd;
	unsigned gen;		/* bumped per socket: stale input is dropped */
	unsigned conn_id;	/* bumped per connection ended */

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
	struct ccache_copy *cc;	/* the credential the context is made with */
	int ctx_early;		/* the first token went with our HELLO */
	int64_t skew;		/* server clock - ours, from its HELLO */
	int64_t ctx_end;	/* monotonic ms the context ends, 0 none */
	int64_t ctx_check;	/* monotonic ms to look for fresher tickets */
	int64_t ctx_prev_end;	/* end of the context an early refresh left */
	int creds_low;		/* the tickets end with this context and could
				 * not be renewed (CREDS_EXPIRING) */
	int64_t blk_last;	/* monotonic ms of the last blocking request,
				 * 0 none (its gap times the context check) */
	char principal[LIMIT_STRING + 1];

	uint32_t next_id;
	uint32_t wait_id;	/* request awaiting its reply, 0 none */
	int wait_async;		/* ...and it is the lease's */
	struct msg reply;
	int have_reply;
	int dropped;		/* the server closed an OPEN connection */

	int err;
	char errmsg[1280];
	unsigned deny_detail;	/* DETAIL of the DENY that set err, or 0 */
	int64_t report_from;	/* the last REPORT_REPLY's FROM and TO */
	int64_t report_to;

	struct sess_lease lease;
	xlicen_state_cb state_cb;
	void *state_ud;
	xlicen_watch_cb watch_cb;
	void *watch_ud;
	int w_fd, w_write;	/* what the watch callback was told last */
	int64_t w_deadline;
	int depth;		/* inside xlicen_process (callbacks) */
	int free_pending;	/* xlicen_session_free called from a callback */
	uint64_t rng;		/* sess_rand's state: heartbeat jitter */
};

/* ---- sess_base.c: clocks, errors, the connection's socket ---- */

/* Monotonic clock, ms. */
int64_t sess_now_ms(void);

/* The server's clock now, ms, as far as its HELLO told us. */
int64_t sess_server_ms(const xlicen_session *s);

/* The bounds of a TCP connect and of the HELLO and context exchange, ms
 * (the session's timeout, else the LIMIT_* defaults). */
int sess_connect_ms(const xlicen_session *s);
int sess_handshake_ms(const xlicen_session *s);

/* The bound of the wait for a reply, ms (the session's timeout, else
 * LIMIT_REPLY_MS). */
int sess_reply_ms(const xlicen_session *s);

/* Record a failure for xlicen_errmsg(): the code, and the text prefixed
 * with the peer.  Returns code. */
int sess_seterr(xlicen_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Forget the last failure. */
void sess_clearerr(xlicen_session *s);

/* Drop the socket, the context and every per-connection buffer; a reply
 * already received stays for its caller. */
void sess_drop_conn(xlicen_session *s);

/* Fail the session: record the error, close (SESS_CLOSED), and return
 * the code. */
int sess_fail(xlicen_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Send what is queued without blocking.  0 (possibly with bytes left for
 * POLLOUT), or XLICEN_E_CLOSED / XLICEN_E_IO with errno's text in text. */
int sess_flush(xlicen_session *s, char *text, size_t textlen);

/* A protocol violation by the server: an ALERT with code and reason
 * (best effort), then sess_fail.  Returns code. */
int sess_abort(xlicen_session *s, int code, const char *reason);

/* No request of the lease machine is waiting for its reply. */
int sess_async_idle(const xlicen_session *s);

/* Wrap req (its id is set here) and queue it on the OPEN connection;
 * async: its reply goes to the lease machine (lease_on_reply).  On
 * failure the connection is closed and the error returned. */
int sess_send(xlicen_session *s, struct msg *req, int async);

/* ---- connect.c: dialing and the GSS handshake ---- */

/* Begin connecting from the first server of the list (asking DNS first
 * when the list is automatic and stale); 0 while an attempt is in
 * progress, else the error (recorded). */
int sess_connect_start(xlicen_session *s);

/* A connection is being made (TCP, HELLO or the context loop). */
int sess_conn_pending(const xlicen_session *s);

/* TCP is up: HELLO (and the first context token) go out, the handshake
 * clock starts.  0 or the error that closed the session. */
int sess_on_connected(xlicen_session *s);

/* One address failed before the server said HELLO: note why (fmt) and go
 * on with the next address or server.  0 while an attempt is in
 * progress, or the error once every address failed. */
int sess_attempt_failed(xlicen_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One round of gss_init_sec_context with the server's token (in_p NULL
 * on the first call); makes the state SESS_CONTEXT or SESS_OPEN.  0 or
 * the error that closed the session. */
int sess_init_context(xlicen_session *s, const uint8_t *in_p, size_t in_n);

/* The server's HELLO time has whole seconds: a difference this small is
 * rounding, not a clock to correct for. */
#define SESS_SKEW_IGNORE_S	2

/* " (the server's clock differs from ours by N s: ...)" when the skew
 * the server's HELLO showed may explain a Kerberos failure (our clock
 * behind: " (our clock is N s behind the server's: ...)"), else "". */
void sess_skew_note(const xlicen_session *s, char *out, size_t outlen);

/* ---- lease.c: the lease machine ---- */

/* Seed the session's random numbers (heartbeat jitter). */
void sess_rand_seed(xlicen_session *s);

/* A checkout is running (not IDLE, not LOST). */
int lease_active(const struct sess_lease *L);

/* A reply to the lease's own request (sess_send async).  0, or the error
 * that closed the connection. */
int lease_on_reply(xlicen_session *s, const struct msg *m);

/* An unsolicited message (request id 0): the late answer to a queued
 * checkout, a new place in line, or the revocation of our lease; any
 * other notice while a lease is held is checked with a heartbeat. */
void lease_on_notice(xlicen_session *s, const struct msg *m);

/*
 * The context refresh, due once now >= s->ctx_check on an idle OPEN
 * connection (lease.c has the rule): fresher tickets in the cache, or a
 * renewable TGT renewed here, close the connection so that the next
 * request makes a new context (returns 1); else s->creds_low is set, a
 * held lease of the machine becomes CREDS_EXPIRING, the check comes again
 * (returns 0).  The lease machine and the blocking calls (sess_request)
 * both run it.
 */
int sess_ctx_check(xlicen_session *s, int64_t now);

/* Advance the lease machine by its timers (heartbeat, retry, expiry,
 * context refresh) and the connection's fate. */
void lease_tick(xlicen_session *s);

/* The next time (monotonic ms) xlicen_process has work without input;
 * -1 none, a time already past means now. */
int64_t sess_next_deadline(const xlicen_session *s);

/* Tell the watch callback if the descriptor or the deadline changed. */
void sess_watch(xlicen_session *s);

/* Run the state callback for what changed since it last ran. */
void sess_report(xlicen_session *s);

/* ---- reply.c: requests built and replies read, once ---- */

/*
 * Reconciling a borrow token once online (requests.c; issue 17).  The
 * lease id of product's stored, well-formed borrow token into lease
 * (leaselen bytes): 0, or -1 if there is none.
 */
int sess_borrow_lease(const char *product, char *lease, size_t leaselen);

/* The server's reply rep to a HEARTBEAT of that lease: ERROR NO_LEASE,
 * NOT_OWNER or REVOKED (returned, expired, or cancelled by an
 * administrator) deletes product's token; any other answer keeps it. */
void sess_borrow_verdict(const char *product, const struct msg *rep);

/* The error a DENY or ERROR (or REVOKE) reply carries, recorded with its
 * reason (else the code's text).  Returns the negative code. */
int sess_reply_error(xlicen_session *s, const struct msg *m);

/* A reply of a type the request req_type cannot have: XLICEN_E_MSG_TYPE,
 * recorded.  drop: the server is broken, close the connection with an
 * ALERT (sess_abort; the session's calls and the lease machine); 0: keep
 * it (the calls that were in admin.c always have). */
int sess_bad_reply(xlicen_session *s, uint16_t req_type, const struct msg *m,
    int drop);

/* Set a string field (tag) of req; a string the protocol cannot carry is
 * the caller's error, recorded with what it is.  0 or the code. */
int sess_set_str(xlicen_session *s, struct msg *req, int tag, const char *what,
    const char *v);

/* Check the arguments of a checkout (blocking or not): 0, or
 * XLICEN_E_INVALID, XLICEN_E_COUNT, XLICEN_E_STRING (recorded). */
int sess_checkout_args(xlicen_session *s, const char *product,
    const char *version, unsigned count);

/* The informational client fields of a CHECKOUT or RECLAIM: host (NULL:
 * this host's name), canonical display (NULL: the session's, else
 * $DISPLAY) and pid; what cannot be sent is left out. */
void sess_add_client(xlicen_session *s, struct msg *m, const char *host,
    const char *display);

/* A CHECKOUT message of product, version and count, with sess_add_client's
 * fields.  0 or the code (recorded). */
int sess_build_checkout(xlicen_session *s, struct msg *req,
    const char *product, const char *version, unsigned count);

/* A RECLAIM of lease, with sess_add_client's fields.  0 or the code of
 * msg_set_str (not recorded). */
int sess_build_reclaim(xlicen_session *s, struct msg *req, const char *lease);

/* A GRANT into *out; XLICEN_E_BAD_VALUE (recorded; drop: the connection
 * aborted as by sess_bad_reply) if the lease id cannot be one. */
int sess_take_grant(xlicen_session *s, const struct msg *m,
    struct xlicen_grant *out, int drop);

/* ---- session.c: the connection machine and its drivers ---- */

/* Run the machine with poll() until done(s) holds or the session fails
 * (every waiting state has a deadline, so this ends); 0 or the session's
 * error. */
int sess_run(xlicen_session *s, int (*done)(const xlicen_session *));

/*
 * One request/reply on s, connecting first if needed, retrying once on
 * a new connection when an idle one turns out dropped (see session.c).
 * *reply is initialised here and owned by the caller (msg_clear).
 * Returns 0 when a reply arrived (also a DENY or ERROR), or the
 * session's error (recorded).
 */
int sess_request(xlicen_session *s, struct msg *req, struct msg *reply);

/*
 * A blocking HEARTBEAT or RELEASE (type) of lease: OK (with the new
 * expiry into *expires, if not NULL) or the error the server gave
 * (recorded).  A heartbeat on a connection made anew for a new context
 * re-attaches the lease (RECLAIM).  *creds_end (if not NULL; 0 on entry)
 * gets the UTC second the caller's tickets end when they end with the
 * current context and could not be renewed (creds_low).
 * xlicen_heartbeat(_ex) and xlicen_release (requests.c) and
 * xlicen_checkout_stop use it.
 */
int sess_lease_request(xlicen_session *s, uint16_t type, const char *lease,
    int64_t *expires, int64_t *creds_end);

#endif
