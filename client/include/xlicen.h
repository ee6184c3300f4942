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
 *     Internally they drive a non-blocking state machine, so an
 *     event-loop interface can be added without changing these calls.
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
};

/* Pool states in struct xlicen_pool. */
enum xlicen_pool_state {
	XLICEN_POOL_ACTIVE = 0,		/* within its dates */
	XLICEN_POOL_EXPIRED = 1,	/* past its expiry date */
	XLICEN_POOL_NOT_YET = 2,	/* before its start date */
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
 * Close the connection (a later call reconnects).  Accepts NULL.
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

/*
 * The server the session is (or was last) connected to, as
 * "host:port (address)", or "" if none.  Never NULL (s may be NULL).
 */
XLICEN_API const char *xlicen_server(const xlicen_session *s);

/* The library's version string, e.g. "0.1.0". */
XLICEN_API const char *xlicen_version(void);

#ifdef __cplusplus
}
#endif

#endif
