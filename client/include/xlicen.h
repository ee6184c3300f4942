/*
 * libxlicen: the client library of gss-xlicen.  An application opens a
 * session to one of its license servers, checks out a seat, keeps the
 * lease alive with heartbeats and releases it.  Every exchange is
 * authenticated (Kerberos 5 through GSS-API, mutual) and encrypted; the
 * seat belongs to the Kerberos principal of the caller's credentials.
 *
 * This is the only header an application includes.  Conventions:
 *   - Functions return 0 or a negative XLICEN_E_* code from
 *     xlicen_errors.h; xlicen_strerror() names a code, xlicen_errmsg() gives
 *     the details of a session's last failure.
 *   - Out-parameters are cleared on entry, also when the call fails.
 *   - The library never exits, aborts, prints, or installs signal
 *     handlers; it sends with MSG_NOSIGNAL, so a dropped connection is an
 *     error code, not a SIGPIPE.
 *   - A session is not thread-safe: use it from one thread at a time.
 *   - The calls below block (each step bounded by the session's timeout).
 *     For an event loop (Xt, Xlib, GLib) see the non-blocking API further
 *     down: xlicen_checkout_start, xlicen_fd, xlicen_timeout_ms,
 *     xlicen_process.  Both drive the same state machine.
 */
#ifndef XLICEN_H
#define XLICEN_H

#include <stddef.h>
#include <stdint.h>

#include "xlicen_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the exported symbols: the library is built with hidden visibility
 * so that nothing but xlicen_* leaks into an application's namespace. */
#if defined(__GNUC__) && __GNUC__ >= 4
#define XLICEN_API __attribute__((visibility("default")))
#else
#define XLICEN_API
#endif

/* TCP port of a server given without one (IANA gss-xlicen). */
#ifndef XLICEN_DEFAULT_PORT
#define XLICEN_DEFAULT_PORT 128
#endif

/* Longest lease id a server hands out, without the terminating NUL. */
#define XLICEN_LEASE_MAX 64
/* Longest string field (product, versions, vendor, serial), bytes. */
#define XLICEN_STRING_MAX 255

/* An open or closed connection to a license server; opaque. */
typedef struct xlicen_session xlicen_session;

/* A granted seat (filled by xlicen_checkout). */
struct xlicen_grant {
	char lease[XLICEN_LEASE_MAX + 1];	/* server-chosen lease id */
	int64_t expires;	/* UTC seconds the lease ends without a heartbeat */
	unsigned heartbeat_s;	/* send a heartbeat at least this often */
	unsigned in_use;	/* seats of the product in use after the grant */
	unsigned total;		/* seats of the product in all usable pools */
	int borrowed;		/* 1: granted offline from a borrow token
				 * (no server reachable; heartbeat_s 0,
				 * expires the token's end) */
};

/* Pool states in struct xlicen_pool. */
enum xlicen_pool_state {
	XLICEN_POOL_ACTIVE = 0,		/* within its dates */
	XLICEN_POOL_EXPIRED = 1,	/* past its expiry date */
	XLICEN_POOL_NOT_YET = 2,	/* before its start date */
	XLICEN_POOL_WITHDRAWN = 3,	/* no longer licensed; listed while its
					 * leases last, total 0 */
};

/* One license pool as reported by xlicen_status. */
struct xlicen_pool {
	char product[XLICEN_STRING_MAX + 1];
	char versions[XLICEN_STRING_MAX + 1];	/* "1.0-2.0" */
	char vendor[XLICEN_STRING_MAX + 1];	/* "" if the server sent none */
	char serial[XLICEN_STRING_MAX + 1];	/* "" if the server sent none */
	unsigned total;
	unsigned in_use;
	int64_t start;		/* UTC seconds, 0 = no start date */
	int64_t expires;	/* UTC seconds, 0 = permanent */
	int state;		/* enum xlicen_pool_state; other values may come */
};

/*
 * Create a session; it does not connect yet.  servers is a comma-separated
 * list "host[:port][,host[:port]...]"; an IPv6 address with a port is
 * written "[::1]:128".  NULL (or "") means $XLICEN_SERVER, and if that is
 * unset or empty, "localhost".  A server without a port uses
 * XLICEN_DEFAULT_PORT.  The GSS target defaults to $XLICEN_SERVICE if set,
 * else "gss-xlicen@HOST" with HOST as written in the list.
 * On success *out is a session to free with xlicen_session_free().
 * Errors: XLICEN_E_INVALID (out NULL, or the list does not parse: an
 * empty entry, a bad port, an unclosed "["), XLICEN_E_NOMEM.
 */
XLICEN_API int xlicen_session_new(xlicen_session **out, const char *servers);

/*
 * Close the connection (if any), delete the GSS context and free the
 * session.  Leases are NOT released: a lease outlives its connection and
 * ends by xlicen_release() or by its TTL.  Accepts NULL.
 */
XLICEN_API void xlicen_session_free(xlicen_session *s);

/*
 * Use this GSS host-based service name ("service@host") as the target for
 * every server instead of "gss-xlicen@HOST"; NULL returns to the default
 * (which is $XLICEN_SERVICE if that was set when the session was made).
 * Takes effect at the next connection.  Errors: XLICEN_E_INVALID (s NULL,
 * empty name), XLICEN_E_NOMEM.
 */
XLICEN_API int xlicen_set_service(xlicen_session *s, const char *service);

/*
 * The X display reported with a checkout (informational: the server groups
 * seats by it, but identity is the Kerberos principal).  NULL returns to
 * the default, $DISPLAY at the time of the checkout (none if unset).
 * Errors: XLICEN_E_INVALID (s NULL, or longer than XLICEN_STRING_MAX),
 * XLICEN_E_NOMEM.
 */
XLICEN_API int xlicen_set_display(xlicen_session *s, const char *display);

/*
 * The longest a blocking call waits for one step: the TCP connect to one
 * address (never more than 5 s per address), the handshake, or a reply.
 * 0 restores the default (30 s for a reply, 10 s for the handshake).
 * Errors: XLICEN_E_INVALID (s NULL or ms negative).
 */
XLICEN_API int xlicen_set_timeout_ms(xlicen_session *s, int ms);

/*
 * Connect and authenticate, if the session is not already open.  Tries
 * each server of the list in order and each address its name resolves to
 * (IPv6 and IPv4), with a bounded connect timeout per address, then
 * exchanges HELLO and establishes a mutually authenticated GSS context
 * with confidentiality, replay and sequence protection.  Returns 0 when
 * open.  Errors: XLICEN_E_CONNECT (no server reachable; errmsg has the
 * last address and reason), XLICEN_E_NO_CREDS (no or expired Kerberos
 * tickets: run kinit), XLICEN_E_AUTH (the KDC or the server refused, e.g.
 * unknown service principal), XLICEN_E_GSS, XLICEN_E_GSS_FLAGS,
 * XLICEN_E_VERSION, XLICEN_E_TIMEOUT, XLICEN_E_CLOSED, any code a server
 * sends in an ALERT (e.g. XLICEN_E_BUSY), XLICEN_E_NOMEM, XLICEN_E_IO.
 */
XLICEN_API int xlicen_connect(xlicen_session *s);

/*
 * Whether the session is open (authenticated and connected, as far as the
 * library knows without reading): 1 or 0.  s may be NULL.
 */
XLICEN_API int xlicen_is_open(const xlicen_session *s);

/*
 * Close the connection (a later call reconnects).  Accepts NULL.  The
 * server frees the seats of leases the closed connection held after its
 * orphan grace (default 10 s) unless they are re-attached first: a lease
 * of xlicen_checkout_start is re-attached at once (the session
 * reconnects), one of xlicen_checkout by the caller's next
 * xlicen_heartbeat or xlicen_reclaim.
 */
XLICEN_API void xlicen_disconnect(xlicen_session *s);

/*
 * Check out count seats of product at version (a dotted number such as
 * "1.0"), connecting first if needed.  The request carries this host's
 * name, the display (see xlicen_set_display) and the process id.
 * On success fills *out (cleared on entry; out may not be NULL) and
 * returns 0.  A denial returns its code, e.g. XLICEN_E_NO_SEATS,
 * XLICEN_E_NO_PRODUCT, XLICEN_E_NO_VERSION, XLICEN_E_EXPIRED,
 * XLICEN_E_NOT_YET, XLICEN_E_COUNT, with out->in_use and out->total
 * filled when the server said them, and the server's reason in
 * xlicen_errmsg().  Other errors: those of xlicen_connect(),
 * XLICEN_E_INVALID (NULL or empty product/version, count 0),
 * XLICEN_E_STRING (a string too long or not UTF-8), XLICEN_E_TIMEOUT (no
 * reply in time; the connection is closed).
 */
XLICEN_API int xlicen_checkout(xlicen_session *s, const char *product,
    const char *version, unsigned count, struct xlicen_grant *out);

/*
 * Extend a lease.  Works from any connection of the same principal, also
 * after a reconnect or a server restart.  On success *expires (may be
 * NULL; cleared on entry) gets the new expiry, UTC seconds.  Errors:
 * XLICEN_E_NO_LEASE (unknown, released or expired), XLICEN_E_NOT_OWNER
 * (another principal's lease), XLICEN_E_INVALID, and those of
 * xlicen_connect().
 */
XLICEN_API int xlicen_heartbeat(xlicen_session *s, const char *lease,
    int64_t *expires);

/*
 * xlicen_heartbeat, and whether the caller's Kerberos tickets are about
 * to run out: *creds_end (may be NULL; cleared on entry) is 0 while all
 * is well, or the UTC second the tickets end when they end with the
 * session's current GSS context and neither fresher tickets in the cache
 * nor a renewable TGT could be had (what the non-blocking API reports as
 * XLICEN_STATE_CREDS_EXPIRING, code XLICEN_E_NO_CREDS): ask the user to
 * run kinit before then.  Set only on success.  As the lease machine,
 * both calls look for fresher tickets (and renew a renewable TGT) when
 * 90% of the context's life has passed (or it would end within twice
 * the time since the caller's previous call), and then make a new
 * connection and context and re-attach the lease to it (RECLAIM); after
 * the tickets ended without a kinit they fail with XLICEN_E_NO_CREDS, and
 * a kinit before the lease expires lets the next call keep the same
 * lease.
 */
XLICEN_API int xlicen_heartbeat_ex(xlicen_session *s, const char *lease,
    int64_t *expires, int64_t *creds_end);

/*
 * Give a lease back.  Errors: XLICEN_E_NO_LEASE, XLICEN_E_NOT_OWNER,
 * XLICEN_E_INVALID, and those of xlicen_connect().
 */
XLICEN_API int xlicen_release(xlicen_session *s, const char *lease);

/*
 * The server's pools, all of them or those of one product (product may be
 * NULL).  On success *pools is a malloc'd array of *n entries (NULL when
 * *n is 0) to free with xlicen_pools_free(); on failure *pools is NULL and
 * *n is 0.  Errors: those of xlicen_connect(), XLICEN_E_INVALID,
 * XLICEN_E_NOMEM, a code from the server's ERROR reply.
 */
XLICEN_API int xlicen_status(xlicen_session *s, const char *product,
    struct xlicen_pool **pools, size_t *n);

/* Free what xlicen_status() returned.  Accepts NULL. */
XLICEN_API void xlicen_pools_free(struct xlicen_pool *pools);

/* ---- Non-blocking API: a seat held from the application's event loop ----
 *
 * xlicen_checkout_start() asks for a seat and returns at once.  From then
 * on the application watches xlicen_fd() (readable, and writable when
 * *want_write says so) and wakes after xlicen_timeout_ms(), and calls
 * xlicen_process() whenever either happens.  xlicen_process() does what is
 * due without waiting for the network: connecting, authenticating, sending
 * the checkout, reading replies, heartbeating the lease at the server's
 * interval, reconnecting (re-attaching the same lease, never taking a
 * second seat) and making a new GSS context before the old one expires.
 * What happens is reported through the state callback, which runs only
 * inside xlicen_process(), on the caller's thread.  No signals, no threads.
 *
 * Name resolution (getaddrinfo, DNS SRV) and the Kerberos ticket request
 * for the service (gss_init_sec_context, once per ticket lifetime) still
 * block in the resolver and the KDC library, as in every Kerberos client.
 */

/* Where a non-blocking checkout stands (xlicen_state, the state callback). */
enum xlicen_state {
	XLICEN_STATE_IDLE = 0,		/* no checkout started (or stopped) */
	XLICEN_STATE_CONNECTING = 1,	/* asking for the seat; code != 0: the
					 * last attempt failed, retrying */
	XLICEN_STATE_QUEUED = 2,	/* waiting in the server's queue */
	XLICEN_STATE_HELD = 3,		/* the seat is ours; heartbeats work */
	XLICEN_STATE_GRACE = 4,		/* heartbeats failing, lease not yet
					 * expired: retrying; keep working */
	XLICEN_STATE_LOST = 5,		/* denied, revoked or expired: stop
					 * using the product (final) */
	XLICEN_STATE_AUTH_NEEDED = 6,	/* no valid Kerberos tickets: ask the
					 * user to kinit; retried by itself */
	XLICEN_STATE_CREDS_EXPIRING = 7, /* the seat is still ours, but the
					 * tickets end soon and could not be
					 * renewed: ask the user to kinit
					 * (code NO_CREDS; text says when) */
	XLICEN_STATE_BORROWED = 8,	/* no server reachable: the seat is
					 * ours from a borrow token until its
					 * end (docs/CLIENT.md) */
};

/*
 * The state callback: state is an enum xlicen_state, code 0 or the
 * XLICEN_E_* that led there (e.g. XLICEN_E_NO_SEATS for a denial,
 * XLICEN_E_CONNECT in GRACE, XLICEN_E_NO_CREDS in AUTH_NEEDED), text the
 * details (the server's reason, the GSS or system error; "" if none),
 * valid during the call.  Called from xlicen_process() whenever the state,
 * the code or the lease's expiry changed (so also after each heartbeat
 * that extended the lease).  It may call any function on s, including
 * xlicen_checkout_stop() and xlicen_session_free() (the free is done when
 * xlicen_process() returns).
 */
typedef void (*xlicen_state_cb)(xlicen_session *s, int state, int code,
    const char *text, void *userdata);

/*
 * The watch callback, for event-loop glue: called whenever the file
 * descriptor, the want-write flag or the next deadline may have changed,
 * also from the blocking calls; re-read them with xlicen_fd() and
 * xlicen_timeout_ms() (call nothing else on s from it).  removed is 1 on
 * the last call: the callback was replaced, or the session is being freed
 * (s is still valid during that call, not after).
 */
typedef void (*xlicen_watch_cb)(xlicen_session *s, int removed,
    void *userdata);

/*
 * Set (or with cb NULL remove) the state callback.  Errors:
 * XLICEN_E_INVALID (s NULL).
 */
XLICEN_API int xlicen_set_state_cb(xlicen_session *s, xlicen_state_cb cb,
    void *userdata);

/*
 * Set (or with cb NULL remove) the watch callback; the previous one, if
 * any, is called once with removed = 1.  Errors: XLICEN_E_INVALID.
 */
XLICEN_API int xlicen_set_watch_cb(xlicen_session *s, xlicen_watch_cb cb,
    void *userdata);

/* Flags of xlicen_checkout_start. */
#define XLICEN_CHECKOUT_QUEUE	0x1u	/* no seat free: wait in the server's
					 * line (QUEUED) instead of LOST */

/*
 * Start checking out count seats of product at version, without blocking:
 * the work happens in xlicen_process(), which reports CONNECTING first.
 * flags: 0 or XLICEN_CHECKOUT_QUEUE.  Allowed when no checkout runs (state
 * IDLE or LOST).  The request carries this host's name, the canonical
 * display (see xlicen_set_display) and the process id.  Errors:
 * XLICEN_E_INVALID (bad arguments, or a checkout is already running),
 * XLICEN_E_STRING, XLICEN_E_COUNT.
 */
XLICEN_API int xlicen_checkout_start(xlicen_session *s, const char *product,
    const char *version, unsigned count, unsigned flags);

/*
 * Hand a lease this session got with a blocking call (xlicen_checkout,
 * xlicen_checkout_ex, xlicen_reclaim) to the non-blocking machine, as if
 * xlicen_checkout_start() had obtained it: the state is HELD from now on
 * (the state callback hears it at the next xlicen_process()), and
 * xlicen_process() heartbeats it, re-attaches it after a reconnect and
 * reports GRACE, CREDS_EXPIRING, AUTH_NEEDED and LOST like any other.
 * product, version and count are those of the checkout; *grant is copied.
 * xlicen_checkout_stop() releases it.  Allowed when no checkout runs
 * (state IDLE or LOST).  Errors: XLICEN_E_INVALID (bad arguments, an
 * empty lease id, or a checkout is already running), XLICEN_E_STRING,
 * XLICEN_E_COUNT.
 */
XLICEN_API int xlicen_checkout_adopt(xlicen_session *s, const char *product,
    const char *version, unsigned count, const struct xlicen_grant *grant);

/*
 * End the checkout started by xlicen_checkout_start(): release the lease
 * if one is held (this blocks, bounded by the session's timeout), leave
 * the server's queue, stop heartbeating; the state is IDLE afterwards
 * (reported to no callback).  Returns 0 or the error of the release
 * (the lease then ends by its TTL).  Accepts a session without a checkout.
 */
XLICEN_API int xlicen_checkout_stop(xlicen_session *s);

/*
 * The descriptor to watch, or -1 if none now; *want_write (may be NULL)
 * gets 1 if it should be watched for writing too (a connect in progress,
 * output not yet sent), else 0.  It changes across connections.
 */
XLICEN_API int xlicen_fd(xlicen_session *s, int *want_write);

/*
 * Milliseconds until xlicen_process() has something to do even without
 * input (a heartbeat, a retry, a timeout), 0 if it has now, -1 if never.
 */
XLICEN_API int xlicen_timeout_ms(xlicen_session *s);

/*
 * Do whatever is due, without waiting: read and write what the socket
 * allows, handle deadlines, heartbeat, reconnect; then run the state
 * callback if something changed.  Call it when xlicen_fd() is ready or
 * xlicen_timeout_ms() passed; extra calls are harmless.  Returns 0, or
 * XLICEN_E_INVALID if s is NULL.  Failures are reported as states.
 */
XLICEN_API int xlicen_process(xlicen_session *s);

/*
 * The current state (enum xlicen_state) of the non-blocking checkout; with
 * grant not NULL, also the lease (lease id, expiry, heartbeat, seats) as
 * of the last grant or heartbeat, or after a denial just the seats in use
 * and total the server gave.  s NULL is XLICEN_E_INVALID.
 */
XLICEN_API int xlicen_state(const xlicen_session *s, struct xlicen_grant *grant);

/* "HELD" etc. for an enum xlicen_state; "UNKNOWN" otherwise. */
XLICEN_API const char *xlicen_state_name(int state);

/*
 * Make a waiting retry (after a failure, or in AUTH_NEEDED after the user
 * ran kinit) happen at the next xlicen_process().  Errors: XLICEN_E_INVALID.
 */
XLICEN_API int xlicen_retry_now(xlicen_session *s);

/*
 * The Kerberos principal the session authenticated as ("alice@REALM"),
 * the owner of its seats; "" before the first successful authentication.
 * Never NULL (s may be NULL).
 */
XLICEN_API const char *xlicen_principal(const xlicen_session *s);

/*
 * The canonical form of an X display name, as a checkout reports it and
 * the server groups seats by it: "host:N" with the screen number and a
 * transport prefix ("tcp/", "unix/") dropped, a local form (":0",
 * "unix:0", "localhost:10") named by this host's name, host names in
 * lower case.  Pass DisplayString(dpy) or $DISPLAY.  out gets "" on
 * error.  Errors: XLICEN_E_BAD_VALUE (not a display name),
 * XLICEN_E_INVALID (NULL arguments, or out too small).
 */
XLICEN_API int xlicen_canon_display(const char *display, char *out,
    size_t outlen);

/*
 * Static text for an error code ("all seats are in use"); never NULL.
 * Positive wire values are accepted too.
 */
XLICEN_API const char *xlicen_strerror(int code);

/*
 * Stable symbolic name for an error code ("NO_SEATS"), for scripts and
 * logs; "UNKNOWN" if the code is not in the table.
 */
XLICEN_API const char *xlicen_errname(int code);

/*
 * The details of the session's last failure: the server's reason for a
 * DENY, ERROR or ALERT, the GSS-API status text, or the system error,
 * prefixed with the server involved ("localhost:128 (127.0.0.1): ...").
 * Valid until the next call on s.  After a successful call it is "".
 * Never NULL (s may be NULL).
 */
XLICEN_API const char *xlicen_errmsg(const xlicen_session *s);

/* Bits of xlicen_deny_detail(). */
#define XLICEN_DENY_RESERVED	0x1u	/* XLICEN_E_NO_SEATS although seats are
					 * free: they are reserved (server
					 * policy) for others */

/*
 * Facts the server gave about the session's last failure when it was a
 * DENY (its DETAIL field, PROTOCOL.md section 7.2): XLICEN_DENY_* bits, 0
 * when the last call did not end in a DENY or the DENY gave none.  A
 * program acts on these and on the code, never on xlicen_errmsg()'s
 * words.  Valid until the next call on s; 0 for a NULL s.
 */
XLICEN_API unsigned xlicen_deny_detail(const xlicen_session *s);

/*
 * The server the session is (or was last) connected to, as
 * "host:port (address)", or "" if none.  Never NULL (s may be NULL).
 */
XLICEN_API const char *xlicen_server(const xlicen_session *s);

/* The library's version string, e.g. "0.1.0". */
XLICEN_API const char *xlicen_version(void);

/* ---- Seat lifecycle and administration (client/requests.c) ----
 *
 * Blocking calls like xlicen_checkout().  The administrative ones
 * (xlicen_holders, xlicen_remove, xlicen_reread, xlicen_shutdown,
 * xlicen_report*) are answered XLICEN_E_NOT_AUTHORIZED unless the caller's
 * principal is on the admin ACL of the server's policy.
 */

/* xlicen_checkout_ex flag: no seat free, wait in the server's queue until
 * one is granted (the call blocks) or opts->wait_s passes. */
#define XLICEN_CHECKOUT_WAIT	0x2u

struct xlicen_checkout_opts {
	unsigned flags;		/* 0 or XLICEN_CHECKOUT_WAIT */
	unsigned wait_s;	/* with WAIT: give up after this many seconds
				 * (0: when the server's queue timeout ends) */
	const char *host;	/* host to report; NULL: this host's name */
	const char *display;	/* display to report; NULL: the session's
				 * (xlicen_set_display), else $DISPLAY */
};

/*
 * xlicen_checkout() with options (opts may be NULL: the same as
 * xlicen_checkout).  With XLICEN_CHECKOUT_WAIT a checkout that finds no
 * free seat joins the product's queue on the server (first in, first
 * served) and the call returns when a seat is granted (0) or the wait ends:
 * XLICEN_E_TIMEOUT (wait_s passed; the place in line is given up) or the
 * server's DENY (e.g. TIMEOUT when its queue timeout ended).  The server
 * answers a waiting checkout at least every 20 s, so the session's
 * timeout (xlicen_set_timeout_ms) must stay above that (the default 30 s
 * does).  Other errors: those of xlicen_checkout().
 */
XLICEN_API int xlicen_checkout_ex(xlicen_session *s, const char *product,
    const char *version, unsigned count,
    const struct xlicen_checkout_opts *opts, struct xlicen_grant *out);

/*
 * Re-attach a lease after the connection was lost or the server restarted
 * (the same lease, not a second seat): it must be the caller's principal's
 * and not yet expired.  On success *out (cleared on entry) has the same
 * lease id, the renewed expiry, the heartbeat interval and the product's
 * seats.  Errors: XLICEN_E_NO_LEASE (unknown or expired), XLICEN_E_NOT_OWNER,
 * XLICEN_E_REVOKED (an administrator removed it), XLICEN_E_INVALID, those
 * of xlicen_connect().
 */
XLICEN_API int xlicen_reclaim(xlicen_session *s, const char *lease,
    struct xlicen_grant *out);

/* What an entry of xlicen_holders() is. */
enum xlicen_holder_state {
	XLICEN_HOLDER_LEASE = 0,	/* a lease holds seats */
	XLICEN_HOLDER_QUEUED = 1,	/* a checkout waiting for a seat */
	XLICEN_HOLDER_LINGER = 2,	/* a released seat kept for its linger */
	XLICEN_HOLDER_BORROWED = 3,	/* a lease borrowed for offline use */
	XLICEN_HOLDER_CANCELLED = 4,	/* a borrowed lease an administrator
					 * cancelled: counted until its end */
};

struct xlicen_holder {
	char product[XLICEN_STRING_MAX + 1];
	char version[XLICEN_STRING_MAX + 1];	/* "" for a lingering seat */
	char principal[XLICEN_STRING_MAX + 1];	/* authenticated owner */
	char host[XLICEN_STRING_MAX + 1];	/* as the client reported it */
	char display[XLICEN_STRING_MAX + 1];	/* canonical; "" none */
	char id[XLICEN_STRING_MAX + 1];		/* lease id, or queue id of a
						 * queued checkout; "" lingering */
	unsigned pid;
	unsigned count;		/* seats */
	unsigned heartbeat_s;	/* interval the lease was granted with */
	unsigned position;	/* queued: place in line, 1 = next */
	int64_t since;		/* UTC s granted / queued / released */
	int64_t last_heartbeat;	/* UTC s, 0 if unknown */
	int64_t expires;	/* lease expiry, queue timeout or linger end */
	int state;		/* enum xlicen_holder_state */
	int connected;		/* a connection of the holder is open now */
	int withdrawn;		/* its license was removed without a
				 * replacement: nothing more is granted
				 * from it (XLICEN_POOL_WITHDRAWN) */
};

/*
 * Admin: every lease, queued checkout and lingering seat, of product or
 * of all products (NULL).  *out is a malloc'd array of *n entries (NULL
 * when 0) to free with xlicen_holders_free(); *more (may be NULL) is 1 if
 * the server had more than one reply holds.  Errors: XLICEN_E_NOT_AUTHORIZED,
 * XLICEN_E_INVALID, XLICEN_E_NOMEM, those of xlicen_connect().
 */
XLICEN_API int xlicen_holders(xlicen_session *s, const char *product,
    struct xlicen_holder **out, size_t *n, int *more);

/*
 * The caller's own leases and queued checkouts (any principal may ask), of
 * product or all (NULL), e.g. to find leases a crashed program left
 * behind (connected 0) and release them.  Same conventions and errors as
 * xlicen_holders() except NOT_AUTHORIZED.
 */
XLICEN_API int xlicen_my_leases(xlicen_session *s, const char *product,
    struct xlicen_holder **out, size_t *n);

/* Free what xlicen_holders() or xlicen_my_leases() returned (NULL ok). */
XLICEN_API void xlicen_holders_free(struct xlicen_holder *h);

/* Most listening addresses xlicen_info() reports. */
#define XLICEN_INFO_LISTEN_MAX	16

/* The server itself, as xlicen_info() reports it. */
struct xlicen_info {
	char version[XLICEN_STRING_MAX + 1];	/* server software, "0.1.0" */
	int64_t time;		/* the server's clock, UTC s */
	int64_t started;	/* UTC s the server started (uptime: time -
				 * started) */
	char licdir[XLICEN_STRING_MAX + 1];	/* license directory; "" if
						 * the server did not say */
	unsigned licenses_loaded;	/* license files loaded at the last
					 * (re)read */
	unsigned licenses_refused;	/* and refused (see its log) */
	size_t nlisten;
	char listen[XLICEN_INFO_LISTEN_MAX][XLICEN_STRING_MAX + 1];
				/* "ADDR:PORT" or "[V6ADDR]:PORT" as bound */
};

/*
 * The server's version, start time and clock, license directory, license
 * files loaded and refused, and listening addresses (any principal may
 * ask).  *out is cleared on entry.  Errors: XLICEN_E_INVALID, those of
 * xlicen_connect().
 */
XLICEN_API int xlicen_info(xlicen_session *s, struct xlicen_info *out);

/*
 * Admin: remove a lease.  Its seat is free at once; its holder is told
 * right away if connected, and its next heartbeat, release or reclaim gets
 * XLICEN_E_REVOKED.  Errors: XLICEN_E_NO_LEASE, XLICEN_E_NOT_AUTHORIZED,
 * XLICEN_E_INVALID, those of xlicen_connect().
 */
XLICEN_API int xlicen_remove(xlicen_session *s, const char *lease);

/* What xlicen_remove_lease did. */
struct xlicen_removed {
	int cancelled;		/* 1: a borrowed lease, only cancelled: its
				 * seat stays counted until end (the laptop
				 * holding its token cannot be told) */
	int64_t end;		/* cancelled: UTC s; else 0 */
};

/*
 * Admin: xlicen_remove, and into *out (may be NULL) whether the lease was
 * removed or, a borrowed lease, only cancelled (from the OK reply's FLAGS,
 * docs/PROTOCOL.md section 8.5).  Errors: those of xlicen_remove.
 */
XLICEN_API int xlicen_remove_lease(xlicen_session *s, const char *lease,
    struct xlicen_removed *out);

/*
 * Admin: make the server reread its license files and policy (leases are
 * kept).  summary (may be NULL) gets the server's one-line account.
 * Errors: XLICEN_E_CONFIG (the policy has an error and was not applied:
 * xlicen_errmsg() names file, line and key), XLICEN_E_NOT_AUTHORIZED, those
 * of xlicen_connect().
 */
XLICEN_API int xlicen_reread(xlicen_session *s, char *summary,
    size_t summarylen);

/*
 * Admin: stop the server gracefully (as SIGTERM does: every lease is
 * already saved).  Errors: XLICEN_E_NOT_AUTHORIZED, those of
 * xlicen_connect().
 */
XLICEN_API int xlicen_shutdown(xlicen_session *s);

/* One line of a usage report: a product (principal "") or one principal's
 * use of it. */
struct xlicen_report_row {
	char product[XLICEN_STRING_MAX + 1];
	char principal[XLICEN_STRING_MAX + 1];
	unsigned grants;	/* checkouts granted in the range */
	unsigned denials;	/* checkouts denied in the range */
	unsigned peak;		/* most seats in use at once */
	double avg;		/* seats in use on average over the range */
	uint64_t seconds;	/* seat-seconds of leases in the range */
};

/*
 * Admin: usage from the server's audit trail between from and to (UTC s;
 * from 0: from the trail's first event; to 0: now), of product or all
 * (NULL): per product, then per principal.  xlicen_report_range() gives
 * the range the server reported on.
 * *rows is malloc'd (free with xlicen_report_free); *more (may be NULL) 1
 * if cut to fit a reply.  Errors: XLICEN_E_BAD_VALUE (from after to),
 * XLICEN_E_NOT_AUTHORIZED, XLICEN_E_INVALID, XLICEN_E_NOMEM, those of
 * xlicen_connect().
 */
XLICEN_API int xlicen_report(xlicen_session *s, int64_t from, int64_t to,
    const char *product, struct xlicen_report_row **rows, size_t *n,
    int *more);
XLICEN_API void xlicen_report_free(struct xlicen_report_row *rows);

/* The range (UTC s) of the session's last successful xlicen_report(), as
 * the server applied it: *from the first event's time when none was
 * asked for, *to capped at the server's now.  Both 0 before any report.
 * from and to may be NULL. */
XLICEN_API void xlicen_report_range(const xlicen_session *s, int64_t *from,
    int64_t *to);

/* One event of the server's audit trail, as recorded (the raw export).
 * Strings are "" and has_count/code 0 where the event has no value. */
struct xlicen_event {
	uint64_t id;		/* increasing in the order of recording */
	int64_t time;		/* UTC seconds */
	char kind[XLICEN_STRING_MAX + 1];	/* "grant", "deny", ... */
	char principal[XLICEN_STRING_MAX + 1];
	char host[XLICEN_STRING_MAX + 1];
	char display[XLICEN_STRING_MAX + 1];
	char product[XLICEN_STRING_MAX + 1];
	char version[XLICEN_STRING_MAX + 1];
	char lease[XLICEN_STRING_MAX + 1];
	int has_count;
	unsigned count;
	int code;		/* a denial's error code (negative), or 0 */
	char note[XLICEN_STRING_MAX + 1];	/* detail text */
};

/*
 * Admin: the raw events of the server's audit trail whose time is within
 * from..to (as xlicen_report()) and whose id is above after, of product
 * or all (NULL), in id order: at most one reply's worth (up to 1,000);
 * *more 1 if there are more (ask again with after = the last id).
 * *events is malloc'd (free with xlicen_events_free).  Errors as
 * xlicen_report(), and XLICEN_E_MSG_TYPE from a server that predates the
 * export (it answers with usage rows).
 */
XLICEN_API int xlicen_report_events(xlicen_session *s, int64_t from,
    int64_t to, const char *product, uint64_t after,
    struct xlicen_event **events, size_t *n, int *more);
XLICEN_API void xlicen_events_free(struct xlicen_event *events);

/* The result of checking the audit trail's hash chain. */
struct xlicen_audit_check {
	uint64_t events;	/* events checked */
	uint64_t bad_event;	/* first event that does not match, 0 none */
	char head[65];		/* hex SHA-256 of the last (good) event */
};

/*
 * Admin: have the server recompute its audit trail's hash chain.  Fills
 * *out (cleared on entry).  Returns 0 if the chain is intact,
 * XLICEN_E_AUDIT_CHAIN if an event was altered, inserted or deleted
 * (out->bad_event names the first), or the errors of xlicen_report().
 */
XLICEN_API int xlicen_report_verify(xlicen_session *s,
    struct xlicen_audit_check *out);

/* Pool flags of struct xlicen_pool_info. */
#define XLICEN_POOL_UNCOUNTED	0x1u	/* no seat limit */
#define XLICEN_POOL_NODE_LOCKED	0x2u	/* only for hostid */

/* A pool as xlicen_status() reports it, with the later details. */
struct xlicen_pool_info {
	struct xlicen_pool pool;
	unsigned queued;	/* checkouts of the product waiting in line */
	unsigned flags;		/* XLICEN_POOL_* */
	char hostid[XLICEN_STRING_MAX + 1];	/* node lock, "" none */
	char dup_group[XLICEN_STRING_MAX + 1];	/* in force: uhd, user, ... */
	unsigned linger_s;	/* 0 none */
	unsigned ttl_s;		/* lease lifetime without heartbeat */
	unsigned heartbeat_s;
};

/*
 * xlicen_status() with the queue and the pools' kinds and settings (a
 * server that predates them leaves those fields 0 or "").  Free *out with
 * xlicen_pool_info_free().  Errors: those of xlicen_status().
 */
XLICEN_API int xlicen_status_info(xlicen_session *s, const char *product,
    struct xlicen_pool_info **out, size_t *n);
XLICEN_API void xlicen_pool_info_free(struct xlicen_pool_info *pools);

/* ---- Borrowing a seat for offline use (docs/CLIENT.md) ---- */

/* A borrowed seat, as xlicen_borrow() got it. */
struct xlicen_borrow_info {
	char lease[XLICEN_LEASE_MAX + 1];
	int64_t start;		/* UTC s */
	int64_t end;		/* UTC s the borrow ends (exclusive) */
	unsigned in_use;	/* seats of the product in use after it */
	unsigned total;
};

/*
 * Borrow one seat of product at version until end (UTC seconds), for use
 * without the server: the server must allow it (the license's borrow
 * field and its policy).  host: the host to name in the token (NULL:
 * this host's name; only this host may then use it).  The server's
 * signed token is stored in the user's state directory
 * ($XDG_STATE_HOME/xlicen/borrow/PRODUCT.token, mode 0600), replacing
 * an ended one for the same product.  From then on, while no server can be
 * reached, xlicen_checkout() and the non-blocking API grant the product
 * from it (state BORROWED).  *out (may be NULL) gets the lease.  A stored
 * token of the product that has not ended is refused first, without
 * asking the server (XLICEN_E_BORROW: return it first).  Errors:
 * XLICEN_E_BORROW, XLICEN_E_BORROW_PERIOD, XLICEN_E_BORROW_LIMIT, the
 * denials of a checkout, XLICEN_E_IO (the token could not be stored; the
 * seat is given back), those of xlicen_connect().
 */
XLICEN_API int xlicen_borrow(xlicen_session *s, const char *product,
    const char *version, int64_t end, const char *host,
    struct xlicen_borrow_info *out);

/*
 * Return a borrowed seat of product early: the server frees it and the
 * stored token is deleted (also when the server no longer knows the
 * lease: XLICEN_E_NO_LEASE is then returned, the token gone all the
 * same).  Errors: XLICEN_E_NO_TOKEN, XLICEN_E_TOKEN, those of
 * xlicen_release().
 */
XLICEN_API int xlicen_borrow_return(xlicen_session *s, const char *product);

#ifdef __cplusplus
}
#endif

#endif
