/*
 * The server's shared state and the interfaces between its parts:
 * loop.c (epoll, accept, timers, signals) drives conn.c (one connection's
 * protocol state machine, the per-peer counts), which hands decoded
 * requests to handlers.c (with req_admin.c, req_list.c, queue.c, lmap.c
 * and req.c; handlers_int.h is what they share).  reload.c reads the
 * licenses and the policy.  Calls go one way, loop -> conn -> handlers
 * -> req_admin -> reload, except the documented upcall conn_send: a
 * handler answers a queued checkout or tells a lease's holder later
 * (docs/ARCHITECTURE.md has the whole order).
 */
#ifndef XLICEN_SERVER_H
#define XLICEN_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gssapi/gssapi.h>

#include "buf.h"
#include "config.h"
#include "frame.h"
#include "msg.h"
#include "store.h"

struct sockaddr;
struct policy;
struct handlers_state;

/* Who ended a connection: its client (EOF, reset, its ALERT) or the
 * server (an ALERT of its own, a timeout, shutdown).  Only the leases of a
 * connection its client ended become orphans (handlers_conn_closed). */
enum conn_end {
	CONN_END_SERVER = 0,
	CONN_END_CLIENT,
};

enum conn_state {
	CONN_HELLO,		/* waiting for the client's HELLO */
	CONN_CONTEXT,		/* GSS context loop */
	CONN_OPEN,		/* authenticated; DATA only */
	CONN_CLOSING,		/* flushing an ALERT, then close */
};

struct server;

struct conn {
	struct conn *prev, *next;
	struct server *srv;
	int fd;
	enum conn_state state;
	struct frame_dec dec;
	gss_ctx_id_t ctx;
	int64_t ctx_expires;		/* UTC s the context stops being valid */
	int64_t deadline_ms;		/* monotonic: handshake or idle limit */
	struct buf out;			/* bytes not yet sent */
	size_t out_off;
	uint32_t events;		/* epoll events registered */
	uint8_t *rest;			/* input held back while replies back up */
	size_t rest_len;
	int shut_wr;			/* FIN sent after an ALERT */
	enum conn_end end;		/* set before conn_free */
	char peer[64];			/* "addr:port" */
	char peer_addr[48];		/* per-peer cap key: IPv4 "addr", IPv6
					 * "prefix::/64" (loop_peer_key) */
	/* While in HELLO or CONTEXT (conn.c): srv's handshakes and this
	 * peer's, oldest first, so that a full cap evicts the oldest.
	 * handshaking: 0 no, 1 silent so far, 2 HELLO answered. */
	int handshaking;
	uint64_t round;			/* srv->round it was accepted in */
	int64_t accepted_ms;		/* monotonic */
	struct conn *uprev, *unext;
	struct conn *pprev, *pnext;
	char principal[256];		/* authenticated initiator */
	void *hconn;			/* handlers.c: leases used from here */
	/* Replies of the current round, held until its batch is committed
	 * (conn_flush_batch). */
	struct conn *fprev, *fnext;
	int fqueued;
	size_t fmark;			/* out.len before them */
	/* Output that waits for the syncer (store_batch_end's ticket): none
	 * of it is sent before the ticket is covered (conn_flush_synced). */
	uint64_t hold;
	struct conn *hprev, *hnext;	/* srv->heldq, if held */
	int held;
	size_t hmark;			/* out.len before the held output */
	uint64_t hfirst;		/* the ticket it was first held for */
};

/* Why a connection was refused at accept or closed by the server before
 * authenticating: counted, and logged as one summary line at most every
 * LIMIT_REFUSE_LOG_MS (loop.c), not one line each. */
enum loop_cause {
	LOOP_REFUSE_SHUTDOWN,
	LOOP_REFUSE_TOTAL,		/* every connection authenticated */
	LOOP_REFUSE_PEER,
	LOOP_REFUSE_NOFD,
	LOOP_REFUSE_NOMEM,
	LOOP_EVICT_TOTAL,		/* oldest handshake closed for a new one */
	LOOP_EVICT_PEER,
	LOOP_EVICT_UNAUTH,
	LOOP_EVICT_UNAUTH_PEER,
	LOOP_EVICT_NOFD,
	LOOP_CLOSE_HANDSHAKE_TIMEOUT,
	LOOP_CLOSE_FRAME_BUDGET,	/* frame_budget spent (conn.c) */
	LOOP_NCAUSES
};

/*
 * Connections per peer address, for [limits] max_connections_per_peer,
 * without a walk of every connection at each accept (with 10,000 open
 * that walk made establishing them quadratic).  Linear probing; a slot
 * whose count drops to 0 is emptied by backward shifting, so that the
 * table holds only the addresses connected now (conn.c keeps it).
 */
struct peer_slot {
	char addr[48];		/* "" = empty */
	uint32_t n;
	uint32_t nu;		/* of them in HELLO or CONTEXT */
	struct conn *uold[2], *unew[2];	/* those, by tier, oldest first */
};

struct server {
	struct server_config cfg;
	int epfd;
	int sigfd;
	int spare_fd;			/* /dev/null, given up to refuse a client
					 * when out of descriptors */
	int listen_fds[SERVER_MAX_LISTEN];
	int nlisten;
	gss_cred_id_t cred;
	struct store *store;
	struct conn *conns;
	size_t nconns;
	/* Connections per peer address (conn.c): open addressing. */
	struct peer_slot *peers;
	size_t peers_cap, peers_n;
	/* Connections in HELLO or CONTEXT, oldest first (conn.c). */
	struct conn *hs_old[2], *hs_new[2];	/* by tier (conn.c) */
	size_t nhandshakes;
	uint64_t round;			/* turns of the event loop */
	int64_t accept_ms;		/* monotonic, of the current accepts */
	/* Bytes in partly received frames, all connections (cfg.frame_budget). */
	struct frame_budget fbudget;
	uint64_t refused[LOOP_NCAUSES];	/* since refused_logged_ms */
	int64_t refused_logged_ms;
	struct conn *flushq;		/* waiting for the round's commit */
	int batching;			/* a round's batch is open */
	struct conn *heldq;		/* waiting for the syncer */
	uint64_t synced;		/* the highest ticket the syncer covered */
	uint64_t last_ticket;		/* the highest it was given */
	int stopping;
	int64_t next_expiry;		/* UTC s of the next lease expiry, 0 none */
	int64_t conn_deadline_ms;	/* monotonic: no connection deadline is
					 * earlier (a lower bound; INT64_MAX none) */
	/* Called on SIGHUP before the licenses are reread (main.c rereads
	 * the reloadable part of the config file); NULL: nothing. */
	int (*on_reload)(struct server *srv);
	struct policy *policy;		/* cfg.policy as read; NULL: none */
	/* Borrowing (req_borrow.c): the key of cfg.borrow_key, read as
	 * root at start (NULL: none), and the licenses last loaded
	 * (reload.c), whose borrow fields the store consults. */
	void *borrow_key;
	struct license *lics;
	size_t nlics;
	struct handlers_state *hs;	/* handlers.c: queue, lease map */
	/* What INFO tells (req_list.c): the start (main.c), the last load
	 * of the license directory (reload.c), each listening socket's
	 * address as bound (loop.c, daemon.c). */
	int64_t started;		/* UTC s */
	uint32_t lic_loaded, lic_refused;
	char listen_shown[SERVER_MAX_LISTEN][80];	/* as "shown" in loop.c */
};

/* Monotonic milliseconds. */
static inline int64_t
server_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* loop.c */
/* Bind every cfg->listen address (non-blocking, SO_REUSEADDR); logs each
 * "listening on ADDR:PORT". */
int loop_listen(struct server *srv);
/* Run until SIGTERM/SIGINT (or an admin SHUTDOWN); SIGHUP rereads
 * licenses and policy.  Returns 0 or an error code. */
int loop_run(struct server *srv);
/* The per-peer cap key of a client address into key (keylen >= 48): an
 * IPv4 address as is ("192.0.2.1"), an IPv6 address as its
 * LIMIT_PEER_V6_PREFIX-bit prefix ("2001:db8:1:2::/64"); "?" otherwise. */
void loop_peer_key(const struct sockaddr *sa, char *key, size_t keylen);

/* conn.c */
/* The per-peer count of peer key addr (loop_peer_key), or NULL if it has
 * no connection. */
struct peer_slot *conn_peer_find(const struct server *srv, const char *addr);
/* One more connection from addr, before conn_new; XLICEN_E_NOMEM. */
int conn_peer_add(struct server *srv, const char *addr);
/* A connection from addr ends (conn_free, or a conn_new that failed): one
 * less for its per-peer count. */
void conn_peer_gone(struct server *srv, const char *addr);
/* c, just made by conn_new, enters HELLO: it counts towards the handshake
 * caps, the youngest of the silent ones. */
void conn_handshake_start(struct conn *c);
/* Count a connection refused or closed for cause in the loop's next
 * summary line (loop.c). */
void conn_note(struct server *srv, enum loop_cause cause);
/* The server stops: send each connection what it has queued, then an
 * ALERT SHUTDOWN, best effort (not to one whose output waits for a sync
 * that failed); free every connection and the per-peer counts. */
void conn_shutdown_all(struct server *srv);
/* Set c's handshake/idle/closing deadline to ms from now, keeping
 * srv->conn_deadline_ms a lower bound of all deadlines. */
void conn_set_deadline(struct conn *c, int64_t ms);
struct conn *conn_new(struct server *srv, int fd, const char *peer,
    const char *peer_addr);
/* Read and process whatever is available; returns -1 if the connection
 * was closed and freed, else 0. */
int conn_on_readable(struct conn *c);
/* Flush pending output; -1 if closed and freed. */
int conn_on_writable(struct conn *c);
/* After the round's batch: send what it queued (ok), or if its commit
 * failed drop those replies and close each such connection with ALERT
 * DB.  A nonzero ticket holds them until the syncer covers it. */
void conn_flush_batch(struct server *srv, int ok, uint64_t ticket);
/* The syncer covered srv->synced: send what waited for it. */
void conn_flush_synced(struct server *srv);
/* The COMMITs of tickets first..last failed (store_sync_failed): the
 * output held for any of them is dropped and each of its connections
 * gets an ALERT DB instead, as for a failed batch (conn_flush_batch). */
void conn_withdraw_held(struct server *srv, uint64_t first, uint64_t last);
/* Handshake/idle deadline passed: ALERT and close. */
void conn_on_timeout(struct conn *c);
/* Send an ALERT with code and reason, then close once flushed. */
void conn_alert(struct conn *c, int code, const char *reason);
void conn_free(struct conn *c);
/* Encode, wrap and queue one message on an OPEN connection (a late reply
 * or an unsolicited message), flushing what the socket takes.  Never
 * frees c: a dead socket is noticed by the loop.  0, XLICEN_E_STATE (not
 * OPEN) or the encoding/wrapping error. */
int conn_send(struct conn *c, const struct msg *m);

/* reload.c */
/* At start-up: read the policy file (if cfg.policy is set) and load the
 * license directory into the store.  Any error is fatal (logged, naming
 * file, line and key for the policy).  Returns 0 or an error code. */
int server_load_licenses(struct server *srv);
/* SIGHUP and admin REREAD: reread the policy and the licenses, keeping
 * every lease.  A policy with an error is not applied (the running one
 * stays); err (errlen bytes) gets the error or a one-line summary.  The
 * caller offers the seats added to the queue (queue_seats_freed) when
 * it returns 0.  Returns 0, XLICEN_E_CONFIG or another error code. */
int server_reload(struct server *srv, char *err, size_t errlen);

/* handlers.c (with req_admin.c, req_list.c, queue.c, lmap.c, req.c) */
/* handlers_dispatch() built no reply: it will come later (a WAIT). */
#define HANDLERS_DEFERRED 1
/*
 * Answer one decoded request from c's authenticated principal.  Fills
 * *reply (type, same id, fields).  Returns 0 when a reply was built
 * (including DENY/ERROR replies), HANDLERS_DEFERRED when the answer is
 * sent later with conn_send(), or a negative code for a protocol error
 * that must close the connection with an ALERT (e.g. a server-to-client
 * message type sent by a client: XLICEN_E_MSG_TYPE).
 */
int handlers_dispatch(struct conn *c, const struct msg *req,
    struct msg *reply);
/* An admin SHUTDOWN's delay, queue timeouts and WAIT steps due now; the
 * next one (monotonic ms, 0 none). */
void handlers_timers(struct server *srv);
int64_t handlers_next_deadline_ms(const struct server *srv);
/* c is going away: forget its leases and queued checkouts; if its client
 * ended it (c->end), the leases it held become orphans (store_orphan). */
void handlers_conn_closed(struct conn *c);
/* Free the queue and the lease map (at exit).  Accepts srv->hs NULL. */
void handlers_free(struct server *srv);

/* queue.c */
/* Seats came free (release, expiry, removal, linger end, reread): serve
 * the queue. */
void queue_seats_freed(struct server *srv);

/* req_admin.c */
/* Administrator admin (already checked against the admin ACL, and the
 * request audited) removes lease: store_remove, the holder told with a
 * REVOKE if connected, the queue served.  The REMOVE request's and the
 * status page's (http_jobs.c) one path.  *cancelled_end (may be NULL):
 * the end of a borrowed lease only cancelled (store_remove), else 0.
 * 0, XLICEN_E_NO_LEASE or XLICEN_E_DB. */
int req_admin_remove_lease(struct server *srv, const char *admin,
    const char *lease, int64_t *cancelled_end);

#endif
