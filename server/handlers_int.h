/*
 * What the parts of the request handlers share, and nothing the loop or
 * a connection needs (those use server.h): handlers.c (dispatch, the seat
 * requests), req_admin.c (the admin requests), req_list.c (the list
 * replies), queue.c (the checkout queue), lmap.c (the lease map) and
 * req.c (the handlers' state, reply and audit helpers).  Each calls only
 * those after it in this list, apart from the upcall conn_send.
 */
#ifndef XLICEN_HANDLERS_INT_H
#define XLICEN_HANDLERS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "server.h"

#define LMAP_BUCKETS	4096
#define QUEUE_ID_LEN	17	/* "q" + 16 hex digits */

/* A lease bound to the connection that holds it. */
struct lnk {
	struct lnk *hnext;		/* hash bucket chain */
	struct lnk *cprev, *cnext;	/* the connection's list */
	struct conn *c;
	char id[LIMIT_LEASE_ID + 1];
};

/* A checkout waiting for a seat. */
struct qentry {
	struct qentry *prev, *next;	/* arrival order, all products */
	struct conn *c;
	uint32_t req_id;		/* the request to answer; 0 none */
	int wait;			/* WAIT (held replies), else QUEUE */
	char qid[QUEUE_ID_LEN + 1];
	char principal[LIMIT_STRING + 1];
	char product[LIMIT_STRING + 1];
	char version[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1];
	char display[LIMIT_STRING + 1];
	uint32_t pid;
	uint32_t count;
	int64_t since;			/* UTC s queued */
	int64_t expires;		/* UTC s the queue timeout ends */
	int64_t deadline_ms;		/* monotonic: the same */
	int64_t step_ms;		/* WAIT: the held reply is due */
	int64_t park_ms;		/* WAIT between steps: dropped then */
};

struct handlers_state {
	struct lnk *buckets[LMAP_BUCKETS];
	struct qentry *qhead, *qtail;
	size_t qlen;
	/* An admin SHUTDOWN: stop once its connection closed (so its OK is
	 * read before the SHUTDOWN ALERT) or at shutdown_ms. */
	struct conn *shutdown_conn;
	int64_t shutdown_ms;
};

/* ---- req_borrow.c ---- */

/* Answer a BORROW (host: its canonical HOST, already judged by the
 * handlers' claim check) with BORROWED or DENY.  Returns 0. */
int req_borrow(struct conn *c, const struct msg *req, const char *host,
    struct msg *reply);

/* ---- req.c ---- */

/* srv's handler state, made on first use; NULL if out of memory. */
struct handlers_state *req_state(struct server *srv);
/* Make reply an answer of type (DENY, ERROR, REVOKE) with code and
 * reason (NULL or "": the code's text), cut to LIMIT_STRING on a UTF-8
 * boundary. */
void req_reply_error(struct msg *reply, uint16_t type, int code,
    const char *reason);
/* The reason of a checkout of req refused with code (g: what the store
 * said) into out. */
void req_deny_reason(int code, const struct msg *req,
    const struct store_grant *g, char *out, size_t outlen);
/* The DENY DETAIL (MSG_DENY_* bits) of a checkout refused with code (g:
 * what the store said): MSG_DENY_RESERVED for NO_SEATS while free seats
 * are reserved for others. */
uint32_t req_deny_detail(int code, const struct store_grant *g);
/* Make m the GRANT of g. */
void req_fill_grant(struct msg *m, const struct store_grant *g);
/* A lease now expires at t: the loop's next expiry is no later. */
void req_note_expiry(struct server *srv, int64_t t);
/* Audit an event only the handlers know of (a refusal, an admin
 * request); a failure is logged. */
void req_audit(struct server *srv, const char *kind,
    const char *principal, const char *product, const char *lease,
    int code, const char *detail);

/* ---- lmap.c ---- */

/* The binding of lease id to the connection holding it, or NULL (also
 * when hs is NULL). */
struct lnk *lmap_find(struct handlers_state *hs, const char *id);
/* Forget binding l (and free it). */
void lmap_remove(struct handlers_state *hs, struct lnk *l);
/* Remember that c is the connection lease id is used from now (out of
 * memory: not remembered, only a notification is lost). */
void lmap_bind(struct server *srv, const char *id, struct conn *c);
/* Forget the binding of lease id, if there is one. */
void lmap_unbind(struct server *srv, const char *id);

/* ---- queue.c (also queue_seats_freed, in server.h) ---- */

/* Audit an event of queue entry e (kind "queue" or "dequeue"). */
void queue_audit(struct server *srv, const struct qentry *e,
    const char *kind, int code, const char *detail);
/* 1-based place of e among the entries of its product. */
uint32_t queue_position(const struct handlers_state *hs,
    const struct qentry *e);
/* Entries of product (NULL: all) in the queue; hs may be NULL. */
uint32_t queue_count(const struct handlers_state *hs, const char *product);
/* Entries of product that principal has in the queue; hs may be NULL. */
uint32_t queue_count_of(const struct handlers_state *hs, const char *product,
    const char *principal);
/* The queue timeout of product: the policy's queue_timeout, else
 * LIMIT_QUEUE_TIMEOUT_S. */
uint32_t queue_timeout_s(const struct server *srv, const char *product);
/* A fresh random queue id into out: "q" and 16 lowercase hex digits.
 * 0, or XLICEN_E_INTERNAL if no random bytes were had. */
int queue_new_id(char out[QUEUE_ID_LEN + 1]);
/* Take e out of the queue and free it. */
void queue_unlink(struct handlers_state *hs, struct qentry *e);
/* principal's entry qid, or NULL; hs may be NULL. */
struct qentry *queue_find(struct handlers_state *hs, const char *qid,
    const char *principal);
/* Send m as the late answer to e's request (its WAIT's held reply, or an
 * unsolicited message naming it); nothing if e has no connection. */
void queue_answer(struct qentry *e, struct msg *m);
/*
 * Queue c's CHECKOUT req that found no seat (g: the store's answer; host
 * and disp canonical), unless the product's queue is full or the
 * principal holds its most places (then reply is a DENY).  Returns 0 with
 * reply QUEUED or DENY, HANDLERS_DEFERRED for a WAIT (answered later),
 * XLICEN_E_NOMEM or XLICEN_E_INTERNAL.
 */
int queue_add(struct conn *c, const struct msg *req, const char *host,
    const char *disp, const struct store_grant *g, struct msg *reply);
/* The queue's timeouts, WAIT steps and parked entries due at now
 * (monotonic ms): a timed-out entry is denied (TIMEOUT) and dropped, a
 * parked one dropped, a WAIT whose step ended told QUEUED and parked. */
void queue_timers(struct server *srv, int64_t now);
/* The queue's next deadline, step or park end (monotonic ms), 0 none. */
int64_t queue_next_deadline_ms(const struct server *srv);

/* ---- req_list.c ---- */

/* STATUS: the pools (of req's PRODUCT, if given). */
int req_list_status(struct conn *c, const struct msg *req,
    struct msg *reply);
/* HOLDERS and LIST_MINE (principal set: only its own). */
int req_list_holders(struct conn *c, const struct msg *req,
    const char *principal, struct msg *reply);
/* REPORT: usage between FROM and TO, and with the VERIFY flag the audit
 * chain's check. */
int req_list_report(struct conn *c, const struct msg *req,
    struct msg *reply);
/* INFO (anyone authenticated): the server's version, start, license
 * directory with the files loaded and refused at the last (re)read, and
 * listening addresses. */
int req_list_info(struct conn *c, struct msg *reply);

/* ---- req_admin.c ---- */

/* An admin request (HOLDERS, REMOVE, REREAD, SHUTDOWN, REPORT): checked
 * against the admin ACL, audited, answered.  Returns as
 * handlers_dispatch. */
int req_admin_dispatch(struct conn *c, const struct msg *req,
    struct msg *reply);

#endif
