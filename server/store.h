/*
 * The SQLite store: pools (from verified licenses), leases and the audit
 * trail.  WAL mode, foreign keys on, a busy timeout, statements prepared
 * once, each seat decision in one BEGIN IMMEDIATE transaction.  Identity in
 * every record is the authenticated principal the caller passes.  The
 * implementation is server/store/ (store_int.h says which part is where).
 */
#ifndef XLICEN_STORE_H
#define XLICEN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "license.h"
#include "limits.h"

struct store;

/* Pool states as shown in status. */
enum store_pool_state {
	STORE_POOL_ACTIVE = 0,
	STORE_POOL_EXPIRED = 1,
	STORE_POOL_NOT_YET = 2,
	STORE_POOL_WITHDRAWN = 3,
};

/*
 * Open (creating if needed, mode 0600) the database at path and apply any
 * pending migration from schema/ in one transaction each, recording it in
 * schema_version.  A database whose schema_version is newer than this
 * server knows is refused.  err gets a human reason on failure.  Returns
 * 0 or XLICEN_E_DB (XLICEN_E_INVALID for a NULL path or out,
 * XLICEN_E_NOMEM).
 */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
void store_close(struct store *s);

/* Where the store lives ([store] backend). */
enum store_backend {
	STORE_BACKEND_SQLITE = 0,	/* a file: one server */
	STORE_BACKEND_POSTGRESQL = 1	/* a database shared by N servers */
};

/*
 * Open the store of backend: SQLite, where is the file's path (as
 * store_open); PostgreSQL, where is a libpq connection string (several
 * hosts and target_session_attrs=read-write allowed): connect, apply the
 * migrations of schema/postgresql/ in one transaction under the site-wide
 * lock, prepare every statement.  No lock file: the database is shared
 * on purpose.  A lost connection later fails operations with XLICEN_E_DB
 * (logged once) and is re-established by the next operation, at most
 * once every LIMIT_STORE_RECONNECT_MS.  Same errors as store_open.
 */
int store_open_backend(enum store_backend backend, const char *where,
    struct store **out, char *err, size_t errlen);

/* Where a PostgreSQL database's schema stands for this server. */
enum store_schema_state {
	STORE_SCHEMA_MISSING = 0,	/* none yet: made at the first start */
	STORE_SCHEMA_OLDER = 1,		/* migrated at the next start */
	STORE_SCHEMA_CURRENT = 2,	/* the newest this server knows */
	STORE_SCHEMA_NEWER = 3		/* a start refuses it */
};

/* What store_pg_check found. */
struct store_pg_status {
	int server_version;	/* PQserverVersion: 150010 for 15.10 */
	int64_t version;	/* the database's schema version, 0 if none */
	int known;		/* the newest version this server knows */
	enum store_schema_state state;
};

/*
 * --check-config: connect to conninfo as store_open_backend does (the
 * same connect, its timeouts unless conninfo sets its own), read the
 * schema version and disconnect; nothing is created or migrated.
 * Returns 0 with *st filled, or XLICEN_E_DB with the reason (libpq's,
 * on one line) in err.
 */
int store_pg_check(const char *conninfo, struct store_pg_status *st,
    char *err, size_t errlen);

/*
 * conninfo as libpq reads it, for messages: its keyword=value pairs in
 * libpq's order, a value with blanks or quotes quoted, and never the
 * password (nor any other field libpq marks secret).  A string libpq
 * cannot parse is shown as "(unparsable connection string)".
 */
void store_pg_conninfo_shown(const char *conninfo, char *buf, size_t buflen);

/*
 * Whether other servers share the store (PostgreSQL): then heartbeats are
 * written when answered (another server's expiry sweep must see them),
 * store_extend_leases and store_orphans_rearm do nothing (the leases are
 * not this server's alone), and store_next_expiry is at most
 * LIMIT_STORE_POLL_S ahead, so that leases granted elsewhere expire here
 * too.  0 for NULL.
 */
int store_shared(const struct store *s);

/*
 * One server per SQLite database: store_open also takes an flock(2) on
 * PATH-lock (not on the database, whose POSIX locks SQLite owns) for as
 * long as the store is open, and refuses with XLICEN_E_DB and err "in use
 * by another server, pid N (lock file PATH-lock)" if another process
 * holds it.  store_check_free only looks (for a refusal before the
 * sockets are bound, and --check-config): 0 if free or unknown,
 * XLICEN_E_DB with the same err if held.
 */
int store_check_free(const char *path, char *err, size_t errlen);

/*
 * Make the set of pools equal to lics: a pool is identified by (vendor,
 * product, serial, versions); existing pools keep their id and leases,
 * pools no longer licensed are marked withdrawn.  A withdrawn pool's
 * seats (lingering ones too) and leases are taken over by the licensed
 * pool that replaces it, if any: same vendor, product, versions, kind
 * (uncounted) and hostid, the most recently added; they then count
 * against its seats, in_use possibly above them.  Without a replacement
 * they stay until released or expired, and no new seat is granted from
 * the pool.  Records a "reload" audit event.  Returns 0, XLICEN_E_NOMEM
 * or XLICEN_E_DB.
 */
int store_sync_pools(struct store *s, const struct license *lics, size_t n,
    int64_t now);

struct policy;

struct store_checkout_req {
	const char *principal;	/* authenticated initiator name */
	const char *product;
	const char *version;	/* dotted version */
	const char *host;	/* client-reported, canonical (display.h) */
	const char *display;	/* client-reported, canonical; "" none */
	uint32_t count;		/* seats wanted, >= 1 */
	uint32_t pid;
	uint32_t ttl_s;		/* server default lease lifetime */
	uint32_t heartbeat_s;	/* server default heartbeat interval */
	int64_t now;
	const struct policy *policy;	/* NULL: no policy */
	int quiet;		/* do not audit a denial (a queued retry) */
	/* A borrow for offline use (borrow_end > 0, UTC s): only pools
	 * whose license (found in lics by vendor and serial) has a borrow
	 * field of at least borrow_end - now serve it; the policy's
	 * borrow_days and borrow_seats (policy_settings) and borrow list
	 * (policy_may_borrow) apply.  The lease gets a seat of its own and
	 * expires at borrow_end. */
	int64_t borrow_end;
	const struct license *lics;
	size_t nlics;
};

struct store_grant {
	char lease_id[LIMIT_LEASE_ID + 1];	/* server-chosen, opaque */
	int64_t expires;			/* lease expiry, UTC s */
	uint32_t in_use;			/* seats in use after the grant */
	uint32_t total;				/* seats of the product's usable
						 * counted pools */
	uint32_t ttl_s;				/* the lease's lifetime */
	uint32_t heartbeat_s;			/* interval to ask of the client */
	int64_t pool_id;
	int uncounted;				/* granted from an uncounted pool */
	int shared;				/* joined its dup group's seat */
	int queueable;				/* denied, but a seat freed later
						 * could serve it (NO_SEATS or
						 * MAX_REACHED) */
	uint32_t reserved_others;		/* NO_SEATS: free seats the
						 * policy reserves for others
						 * (0: every seat is in use) */
	char reason[512];			/* denial: why, for the client */
};

/*
 * In one BEGIN IMMEDIATE transaction: expire leases and lingering seats
 * past their time, find the usable pools of the product (covering
 * req->version, within their dates, node lock matching req->host or
 * req->principal), ask the policy, and grant: a checkout whose dup group
 * (policy.h; the pool's license dup_group, else the policy's, else uhd)
 * already holds a seat in such a pool shares it; otherwise the seats come
 * from the first uncounted pool, else the first counted pool (by id) with
 * req->count free seats.  A lease never spans pools.  The lease's TTL and
 * heartbeat are the license's, else the policy's, else req's (heartbeat
 * at most a third of the TTL).
 *
 * Errors: XLICEN_E_NO_PRODUCT, XLICEN_E_NO_VERSION, XLICEN_E_EXPIRED /
 * XLICEN_E_NOT_YET (only pools outside their dates cover it; EXPIRED if
 * any covering one has expired), XLICEN_E_WRONG_HOST (the covering pools
 * in their dates are all node-locked to others), XLICEN_E_EXCLUDED,
 * XLICEN_E_MAX_REACHED (the policy; out->reason says which rule),
 * XLICEN_E_NO_SEATS (out->in_use and out->total are still filled),
 * XLICEN_E_DB; for a borrow also XLICEN_E_BORROW (no usable pool's
 * license, or the policy, allows borrowing; or the principal is not on
 * the policy's borrow list), XLICEN_E_BORROW_PERIOD (longer than the
 * licenses or the policy allow; out->reason says which) and
 * XLICEN_E_BORROW_LIMIT (the policy's borrow_seats).  A borrow is
 * audited as "borrow", not "grant".  Grants and these denials are audited in the same
 * transaction (denials not if req->quiet).  Refused before any of that,
 * and not audited: XLICEN_E_INVALID (NULL or empty principal, NULL
 * product/version, ttl_s 0), XLICEN_E_COUNT, XLICEN_E_BAD_VALUE (version
 * not a dotted version); XLICEN_E_INTERNAL if getrandom() fails.
 */
int store_checkout(struct store *s, const struct store_checkout_req *req,
    struct store_grant *out);

/*
 * Re-attach a lease after a reconnect or a server restart: a lease of
 * principal not past its expiry (an orphan within its grace, too) is
 * extended by its TTL and is an orphan no more, its pid (and host
 * and display, when given: NULL keeps them) updated, a "reclaim" audited,
 * and *out filled as for a grant (same lease id, new expiry, heartbeat,
 * product in use/total).  Errors: XLICEN_E_NO_LEASE, XLICEN_E_NOT_OWNER
 * (audited), XLICEN_E_REVOKED (an administrator removed it),
 * XLICEN_E_INVALID, XLICEN_E_DB.  *out is cleared first.
 */
int store_reclaim(struct store *s, const char *principal,
    const char *lease_id, const char *host, const char *display,
    uint32_t pid, int64_t now, struct store_grant *out);

/* Extend a lease of principal to now + its ttl (an orphan's grace ends:
 * it is re-attached).  XLICEN_E_NO_LEASE if it
 * does not exist (or expired), XLICEN_E_NOT_OWNER if another principal's
 * (audited as a "deny"), XLICEN_E_REVOKED if an administrator removed it
 * (to its owner; NO_LEASE to others), also a borrowed lease it
 * cancelled (still counted until its end).  A borrowed lease is not
 * extended: *expires gets its end.  Leases of withdrawn or expired
 * pools can still be kept alive.  expires (may be NULL) is 0 on error. */
int store_heartbeat(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int64_t *expires);

/*
 * Group commit.  Between store_batch_begin and store_batch_end the
 * operations of this file do not commit one by one: each runs in a
 * savepoint of one transaction, which store_batch_end commits.  On
 * XLICEN_E_DB nothing of the batch is durable and none of its replies
 * may be sent.  Otherwise, if *ticket is 0 the replies may go now; else
 * the batch may grant and is durable only once the syncer has covered
 * the ticket (store_synced): its replies wait until then.  On PostgreSQL
 * such a batch's COMMIT is sent and not waited for: the ticket is covered
 * when it answers (or when the store next needs the connection), and if
 * it failed store_sync_failed names the ticket, whose replies must be
 * withdrawn.
 */
void store_batch_begin(struct store *s);
int store_batch_end(struct store *s, uint64_t *ticket);
/* The monotonic ms (CLOCK_MONOTONIC) by which a round must run so that
 * store_batch_end commits what earlier rounds left open, or 0 if nothing
 * is (SQLite: a round that needs no sync is committed with the next one
 * that does, or after LIMIT_STORE_CARRY_MS; its replies went at once). */
int64_t store_carry_until(const struct store *s);
/* The eventfd that becomes readable when the syncer has covered more
 * tickets, or -1 if there is no syncer (then every ticket is 0).  On
 * PostgreSQL: the connection's socket, readable when the COMMIT of a
 * round that may grant has answered (it changes when the connection is
 * made again: the loop adds it to its watch again after every round). */
int store_sync_fd(const struct store *s);
/* The highest ticket covered (*done); XLICEN_E_DB if a sync failed, after
 * which nothing more becomes durable and the server must stop.  On
 * PostgreSQL a ticket is covered when its COMMIT answered, whether it
 * committed or failed (store_sync_failed tells which); never E_DB. */
int store_synced(struct store *s, uint64_t *done);
/* The latest covered ticket whose COMMIT failed since the last call, or
 * 0, and in *first the earliest (PostgreSQL only; tickets are covered in
 * order, one pending at a time): nothing of their rounds is in the
 * database, so the replies held for them must never go; the caller
 * withdraws them before it sends what store_synced covered. */
uint64_t store_sync_failed(struct store *s, uint64_t *first);
/* Block until ticket is covered (at shutdown).  0 or XLICEN_E_DB. */
int store_sync_wait(struct store *s, uint64_t ticket);
/* 1 while a COMMIT sent by store_batch_end has not answered (PostgreSQL;
 * SQLite: always 0): any use of the store waits for it, so what can wait
 * (the expiry timer) waits for the next round. */
int store_sync_pending(const struct store *s);
/* Write the heartbeats answered from memory (store_heartbeat) if the
 * oldest is max_age seconds old at now (UTC s) or there are a few hundred
 * of them; max_age 0: whatever their age.  Returns 0 or XLICEN_E_DB. */
int store_flush(struct store *s, int64_t now, int64_t max_age);
/* At start (now, UTC s): for the heartbeats of the last second before a
 * crash, answered but not yet written, every lease's expiry becomes at
 * least min(last written heartbeat + 2 TTL, now + TTL), where that is
 * after now.  The same at every start: it never adds up over restarts.
 * Returns 0, XLICEN_E_INVALID or XLICEN_E_DB. */
int store_extend_leases(struct store *s, int64_t now);

/* Release a lease of principal.  Same errors as store_heartbeat.  The
 * seat goes when no lease shares it any more, or stays counted for its
 * linger time; *freed (may be NULL) is 1 if seats became free now. */
int store_release(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int *freed);

/*
 * An administrator (admin, already checked against the ACL) removes a
 * lease: deleted at once (no linger), remembered as revoked so that its
 * owner's next heartbeat, release or reclaim gets XLICEN_E_REVOKED, and
 * audited as "remove".  A borrowed lease is only marked cancelled
 * (audited "borrow_cancel"): its seat stays counted until its end, and
 * its owner may still return it (store_release).  owner (may be NULL, ownerlen bytes) gets the
 * holder's principal; *cancelled_end (may be NULL) the end of a borrowed
 * lease only cancelled, else 0.  Errors: XLICEN_E_NO_LEASE, XLICEN_E_DB.
 */
int store_remove(struct store *s, const char *admin, const char *lease_id,
    int64_t now, char *owner, size_t ownerlen, int64_t *cancelled_end);

/* Delete leases whose expiry is <= now, orphans whose grace ended at or
 * before now (store_orphan; their seats may linger, as after a release)
 * and seats whose linger ended, auditing each ("expire", "orphan",
 * "linger"); *n (may be NULL) gets how many.  Returns 0 or XLICEN_E_DB. */
int store_expire(struct store *s, int64_t now, int *n);

/*
 * The connection holding the n leases lease_ids was ended by its client:
 * each becomes an orphan, freed by store_expire at now + grace_s unless
 * its principal re-attaches it first (store_reclaim, store_heartbeat
 * end the grace).  A lease that is unknown, already an orphan, or due to
 * expire by then anyway is left as it is.  grace_s 0 does nothing.
 * *orphaned (may be NULL) gets how many became orphans.  Not audited
 * (the freeing is).  Returns 0, XLICEN_E_INVALID or XLICEN_E_DB.
 */
int store_orphan(struct store *s, const char *const *lease_ids, size_t n,
    int64_t now, uint32_t grace_s, size_t *orphaned);
/* At start: every orphan gets a new grace of grace_s from now (its
 * principal could not re-attach it while the server was down); with
 * grace_s 0, or a lease due to expire first, it is an orphan no more and
 * keeps its TTL.  Returns 0 or XLICEN_E_DB. */
int store_orphans_rearm(struct store *s, int64_t now, uint32_t grace_s);

/* Earliest lease expiry, orphan grace end or linger end, or 0 if there is
 * none (for the timer); also 0, logged, on a database error. */
int64_t store_next_expiry(struct store *s);

struct store_pool_status {
	char product[LICENSE_NAME_MAX + 1];
	char versions[2 * LICENSE_VERSION_MAX + 2];	/* "1.0-2.0" */
	char vendor[LICENSE_NAME_MAX + 1];
	char serial[LICENSE_NAME_MAX + 1];
	uint32_t total;
	uint32_t in_use;
	int64_t start;		/* 0 = none */
	int64_t expires;	/* 0 = permanent */
	int state;		/* enum store_pool_state; WITHDRAWN: total 0 */
	/* The license's optional fields (0 / "" when absent). */
	int uncounted;
	char hostid[LICENSE_HOSTID_MAX + 1];
	char dup_group[LICENSE_DUP_MAX + 1];
	uint32_t linger_s;
	uint32_t ttl_s;
	uint32_t heartbeat_s;
};

/* All licensed pools, and withdrawn ones (STORE_POOL_WITHDRAWN, total 0)
 * while they have seats in use, or those of one product (product may be
 * NULL), ordered by product then id.  Read-only: in_use leaves out
 * leases already due at now even if store_expire has not run yet.  *out
 * is malloc'd (caller frees); it may be NULL when *n is 0. */
int store_status(struct store *s, const char *product, int64_t now,
    struct store_pool_status **out, size_t *n);

/* Count of current leases (all pools, including withdrawn ones and leases
 * due but not yet expired) and the seats they hold (a seat shared by
 * several leases counts once; lingering seats count too), for tests and
 * logs.  Either pointer may be NULL. */
int store_count_leases(struct store *s, int64_t *leases, int64_t *seats);

/* A lease or a lingering seat, for HOLDERS and LIST_MINE. */
struct store_holder {
	char product[LICENSE_NAME_MAX + 1];
	char version[LICENSE_VERSION_MAX + 1];
	char principal[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1];
	char display[LIMIT_STRING + 1];
	char lease_id[LIMIT_LEASE_ID + 1];	/* "" for a lingering seat */
	uint32_t pid;
	uint32_t count;
	uint32_t heartbeat_s;
	int64_t since;		/* granted (lingering: released) */
	int64_t last_hb;
	int64_t expires;	/* lease expiry or linger end */
	int lingering;
	int withdrawn;		/* of a pool withdrawn without replacement */
	int borrow;		/* 1 borrowed, 2 borrowed and cancelled */
};

/*
 * The leases not past their expiry and the lingering seats, of one
 * product or all (product NULL), of one principal or all (principal
 * NULL; lingering seats are listed only then), ordered by product and
 * time.  *out is malloc'd (caller frees; NULL when *n is 0).  Read-only.
 * Returns 0, XLICEN_E_NOMEM or XLICEN_E_DB.
 */
int store_holders(struct store *s, const char *product,
    const char *principal, int64_t now, struct store_holder **out,
    size_t *n);

/* An audit record written on its own (queue events, admin requests).
 * code is 0 or a negative xlicen code; strings may be NULL. */
struct store_audit {
	const char *kind;	/* a kind of event_kinds */
	const char *principal;
	const char *host;
	const char *display;
	const char *product;
	const char *version;
	const char *lease_id;
	int64_t count;		/* 0 = none */
	int code;
	const char *detail;
};

/* Append one event (hash-chained) in its own transaction.  0 or
 * XLICEN_E_DB / XLICEN_E_INVALID. */
int store_audit(struct store *s, int64_t now, const struct store_audit *a);

/* One line of a usage report (principal "" for the product's total). */
struct store_report_row {
	char product[LICENSE_NAME_MAX + 1];
	char principal[LIMIT_STRING + 1];
	uint32_t grants;
	uint32_t denials;
	uint32_t peak;		/* seats (product) or lease seats (principal) */
	double avg;		/* the same, averaged over [from, to] */
	uint64_t seconds;	/* seat-seconds of leases within [from, to] */
};

/*
 * Usage from the audit trail between from and to (UTC s, inclusive; to
 * is capped at now): for each product (of product, or all), and for each
 * principal that used it, grants and denials within the range, the peak
 * and average seats in use, and the seat-seconds of leases (grant to
 * release, expiry or removal; a lease still held counts up to to).
 * Products first, then their principals, by name.  *rows is malloc'd.
 * Returns 0, XLICEN_E_INVALID (from > to), XLICEN_E_NOMEM, XLICEN_E_DB.
 */
int store_report(struct store *s, int64_t from, int64_t to, int64_t now,
    const char *product, struct store_report_row **rows, size_t *n);

/* One row of the audit trail as recorded (strings NULL where the row has
 * none; they point into the store and last only for the callback). */
struct store_event_row {
	int64_t id, ts;
	const char *kind, *principal, *host, *display, *product, *version;
	const char *lease_id, *detail;
	int64_t count;		/* -1: none */
	int64_t code;		/* 0: none */
};

/* Called per event; a nonzero return stops the walk and is returned. */
typedef int (*store_event_fn)(void *arg, const struct store_event_row *e);

/*
 * The raw audit trail (the export of `xlicen report --events`): fn for
 * each event whose id is above after, in id order, until fn returns
 * nonzero.  A walk of the whole trail (the ST_EVENTS_ALL statement of
 * the chain check), the events up to after skipped.  Returns 0, fn's
 * nonzero value, or XLICEN_E_DB.
 */
int store_events(struct store *s, int64_t after, store_event_fn fn,
    void *arg);

/* The time (UTC s) of the audit trail's first event into *ts, 0 if there
 * is none: where a report without a start begins.  0 or XLICEN_E_DB. */
int store_first_event(struct store *s, int64_t *ts);

/*
 * Recompute the audit trail's hash chain (common/audit.h) over every
 * event.  *events gets how many were checked, *bad_id the id of the first
 * whose stored hash is wrong, or whose stored values are not exactly what
 * the hash covers (audit_row_check: a REAL, a NUL inside a text, ...; the
 * column is logged), 0 if the chain is intact (UINT64_MAX if that event's
 * id is below 1, which AUTOINCREMENT never gives); head the hex hash
 * of the last event (of the last good one if broken; "" with no events).
 * Returns 0 (also for a broken chain), XLICEN_E_NOMEM or XLICEN_E_DB.
 */
int store_verify_chain(struct store *s, uint64_t *events, uint64_t *bad_id,
    char head[65]);

#endif
