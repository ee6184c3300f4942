/*
 * The client session: two non-blocking state machines and two ways to
 * drive them.
 *
 * The connection:
 *
 *     IDLE -> CONNECTING -> HELLO -> CONTEXT -> OPEN -> CLOSED
 *
 * advanced by sess_step() whenever the socket is ready or a deadline
 * passes.  It carries one request at a time (wait_id).
 *
 * The lease of a non-blocking checkout (xlicen_checkout_start):
 *
 *     IDLE -> CONNECTING -> [QUEUED ->] HELD <-> GRACE
 *                      \          \      \-> AUTH_NEEDED -> HELD
 *                       `-> AUTH_NEEDED   `-> LOST
 *
 * advanced by lease_tick() (timers: heartbeat due, retry due, lease
 * expired) and lease_on_reply().  It uses the connection when it has
 * something to send and dials a new one when there is none; a request
 * lost with a connection is a failure it retries, re-attaching the same
 * lease id from the new connection.
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
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <sys/stat.h>

#include <pthread.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

#include "xlicen.h"

#include "buf.h"
#include "discover.h"
#include "display.h"
#include "err.h"
#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "msg.h"
#include "session_int.h"

/* Above this clock difference Kerberos (default clockskew) refuses
 * tickets; worth saying when authentication fails. */
#define SESS_SKEW_WARN_S	300
/* The server's HELLO time has whole seconds: a difference this small is
 * rounding, not a clock to correct for. */
#define SESS_SKEW_IGNORE_S	2
/* Make a new GSS context when this share (percent) of the old one's
 * lifetime has passed, if fresher tickets are there by then... */
#define SESS_CTX_REFRESH_PCT	90
/* ...and look for them again this often until the context ends. */
#define SESS_CTX_POLL_MS	5000
/* Tickets must outlive the current context by this much to be "fresher". */
#define SESS_CTX_GAIN_MS	2000
/* A context without an end (GSS_C_INDEFINITE) is renewed after this, as
 * the server assumes the same. */
#define SESS_CTX_INDEFINITE_MS	(24LL * 3600 * 1000)

/* AUTH_NEEDED looks at the credentials cache this often. */
#define LEASE_AUTH_POLL_MS	2000
/* After a failure, retry after this long, doubling per failure... */
#define LEASE_RETRY_MIN_MS	500
/* ...up to this while a lease is held (it must not run out meanwhile)... */
#define LEASE_RETRY_HELD_MS	5000
/* ...and up to this while still asking for the seat. */
#define LEASE_RETRY_MAX_MS	30000
/* The soonest next heartbeat, however short the lease. */
#define LEASE_HB_MIN_MS		100
/* Each heartbeat comes up to 1/this of its interval early, at random. */
#define LEASE_HB_JITTER_DIV	10

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
	struct sess_cc *cc;	/* the credential the context is made with */
	int ctx_early;		/* the first token went with our HELLO */
	int64_t skew;		/* server clock - ours, from its HELLO */
	int64_t ctx_end;	/* monotonic ms the context ends, 0 none */
	int64_t ctx_check;	/* monotonic ms to look for fresher tickets */
	int64_t ctx_prev_end;	/* end of the context an early refresh left */
	int creds_low;		/* the tickets end with this context and could
				 * not be renewed (CREDS_EXPIRING) */
	char principal[LIMIT_STRING + 1];

	uint32_t next_id;
	uint32_t wait_id;	/* request awaiting its reply, 0 none */
	int wait_async;		/* ...and it is the lease's */
	struct msg reply;
	int have_reply;
	int dropped;		/* the server closed an OPEN connection */

	int err;
	char errmsg[1280];

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

/*
 * Seed the session's random numbers: from the kernel, or where that has
 * nothing (early boot, old kernels) from the session's address, the clock
 * and the pid, enough to tell apart sessions made in the same
 * millisecond.  Jitter, not secrets.
 */
static void
sess_rand_seed(xlicen_session *s)
{
	struct timespec ts;
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint64_t)(uintptr_t)s ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)ts.tv_sec * 1000000000ULL ^ (uint64_t)ts.tv_nsec;
	}
	s->rng = seed;
}

/* The next random number of the session (splitmix64: any seed will do). */
static uint64_t
sess_rand(xlicen_session *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t
sess_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The server's clock now, ms, as far as its HELLO told us. */
static int64_t
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

static void sess_cc_put(struct sess_cc *cc);

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
	sess_cc_put(s->cc);
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
static int sess_init_context(xlicen_session *s, const uint8_t *in_p,
    size_t in_n);

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
	/*
	 * The first context token goes right behind the HELLO, in the same
	 * segment: a round trip less per connection (docs/PROTOCOL.md,
	 * section 4).  A server that refuses the HELLO never reads it.  We
	 * stay in HELLO, with its failover to the next address, until the
	 * server's HELLO comes.
	 */
	s->ctx_early = 0;
	if ((rc = sess_init_context(s, NULL, 0)) != 0)
		return rc;
	if (s->state == SESS_CONTEXT) {
		s->state = SESS_HELLO;
		s->ctx_early = 1;
	}
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

/*
 * Without a server list from the caller, ask DNS (SRV records of the
 * domain) at the first connection and again when the answer is older
 * than DISCOVER_SRV_CACHE_MS.
 */
static int
sess_servers_refresh(xlicen_session *s)
{
	struct discover_list l = { NULL, 0 };
	char text[512];
	int64_t now = sess_now_ms();
	int rc;

	if (!s->auto_servers || (s->servers.n > 0 &&
	    now - s->servers_at < DISCOVER_SRV_CACHE_MS))
		return 0;
	rc = discover_auto(&l, text, sizeof(text));
	if (rc != 0) {
		s->state = SESS_CLOSED;
		return sess_seterr(s, rc, "%s", text);
	}
	discover_list_free(&s->servers);
	s->servers = l;
	s->servers_at = now;
	return 0;
}

/* Begin connecting from the first server of the list. */
static int
sess_connect_start(xlicen_session *s)
{
	int rc;

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
	if ((rc = sess_servers_refresh(s)) != 0)
		return rc;
	return sess_connect_next(s);
}

/* A connection is being made (not yet open, not failed). */
static int
sess_conn_pending(const xlicen_session *s)
{
	return s->state == SESS_CONNECTING || s->state == SESS_HELLO ||
	    s->state == SESS_CONTEXT;
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
 * Acquire the caller's initiator credentials.  With $KRB5CCNAME set they
 * come from that cache by name (gss_acquire_cred_from): that path is safe
 * from the krb5 < 1.21.3 crash described at sess_check_ccache, and it
 * reads only that cache.  Returns the GSS major status.
 */
static OM_uint32
sess_acquire_cred(OM_uint32 *min, gss_cred_id_t *cred, OM_uint32 *lifetime)
{
	const char *name = getenv("KRB5CCNAME");
	gss_key_value_element_desc el;
	gss_key_value_set_desc store;
	OM_uint32 maj, tmp;

	*cred = GSS_C_NO_CREDENTIAL;
	if (lifetime != NULL)
		*lifetime = 0;
	if (name != NULL && name[0] != '\0') {
		el.key = "ccache";
		el.value = name;
		store.count = 1;
		store.elements = &el;
		maj = gss_acquire_cred_from(min, GSS_C_NO_NAME, GSS_C_INDEFINITE,
		    GSS_C_NO_OID_SET, GSS_C_INITIATE, &store, cred, NULL, NULL);
	} else {
		maj = gss_acquire_cred(min, GSS_C_NO_NAME, GSS_C_INDEFINITE,
		    GSS_C_NO_OID_SET, GSS_C_INITIATE, cred, NULL, NULL);
	}
	if (GSS_ERROR(maj) || lifetime == NULL)
		return maj;
	maj = gss_inquire_cred(min, *cred, NULL, lifetime, NULL, NULL);
	if (GSS_ERROR(maj))
		gss_release_cred(&tmp, cred);
	return maj;
}

/*
 * The caller's tickets, copied into memory once per process.  Each new
 * context otherwise reads the FILE cache several times over (a new krb5
 * context, the principal, the TGT, the service ticket: some 70 fcntl()
 * locks and 50 stat()s), about half the client's CPU per connection, while
 * the answer only changes with the file.  The entry below follows the FILE
 * cache named by $KRB5CCNAME through stat(): device and inode (a kinit that
 * renames a new file over it, a symlink pointed elsewhere, another working
 * directory for a relative path), size, and modification and change times
 * (rewritten in place; touch can set the modification time back, nothing
 * but the clock the change time).
 *
 * The first context made while the file is in a given state uses the file
 * itself, after sess_check_ccache, so that a service ticket the KDC issues
 * is stored there for the next process, as without us.  The next one
 * copies the file into a MEMORY cache and imports that as its GSS
 * credential (gss_krb5_import_cred); later ones use the copy until the
 * file changes.  A ticket fetched through the copy (another server of the
 * list) stays in the copy.  Only success is kept: a failed check forgets
 * the entry, so that every broken cache is looked at each time and
 * reported as a fresh process reports it.  Sessions of several threads
 * share the copy (MIT's credential handles lock themselves); a copy
 * replaced while a session still makes a context with it is freed when
 * that session is done with it (refs).  sess_cc_lock is held only to
 * compare or swap the entry, never across a Kerberos call.
 */
#define SESS_CC_NAME_MAX	1024

struct sess_cc {
	unsigned refs;		/* the entry's, and each session's */
	gss_cred_id_t cred;
	char mem[128];		/* "MEMORY:...", destroyed with the last ref */
};

struct sess_cc_entry {
	int valid;		/* the file in state st passed the check */
	char name[SESS_CC_NAME_MAX];
	struct stat st;
	struct sess_cc *cc;	/* its copy, NULL before the second use */
};

static pthread_mutex_t sess_cc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sess_cc_entry sess_cc_entry;

/* Whether a and b are the same file with the same contents, as far as
 * stat() can tell. */
static int
sess_cc_stat_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Drop a reference; the last one frees the credential and its cache. */
static void
sess_cc_put(struct sess_cc *cc)
{
	krb5_context kc;
	krb5_ccache mcc;
	OM_uint32 min;
	unsigned left;

	if (cc == NULL)
		return;
	pthread_mutex_lock(&sess_cc_lock);
	left = --cc->refs;
	pthread_mutex_unlock(&sess_cc_lock);
	if (left > 0)
		return;
	if (cc->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &cc->cred);
	if (cc->mem[0] != '\0' && krb5_init_context(&kc) == 0) {
		if (krb5_cc_resolve(kc, cc->mem, &mcc) == 0)
			(void)krb5_cc_destroy(kc, mcc);
		krb5_free_context(kc);
	}
	free(cc);
}

/* A copy of the cache name in memory, as a GSS credential, or NULL when
 * any step fails (the caller then checks the file the old way). */
static struct sess_cc *
sess_cc_copy(const char *name)
{
	krb5_context kc;
	krb5_ccache fcc = NULL, mcc = NULL;
	krb5_principal princ = NULL;
	struct sess_cc *cc;
	OM_uint32 maj, min;
	int ok = 0;

	if ((cc = calloc(1, sizeof(*cc))) == NULL)
		return NULL;
	cc->refs = 1;
	cc->cred = GSS_C_NO_CREDENTIAL;
	if (krb5_init_context(&kc) != 0) {
		free(cc);
		return NULL;
	}
	if (krb5_cc_resolve(kc, name, &fcc) == 0 &&
	    krb5_cc_get_principal(kc, fcc, &princ) == 0 &&
	    krb5_cc_new_unique(kc, "MEMORY", NULL, &mcc) == 0) {
		snprintf(cc->mem, sizeof(cc->mem), "MEMORY:%s",
		    krb5_cc_get_name(kc, mcc));
		if (krb5_cc_initialize(kc, mcc, princ) == 0 &&
		    krb5_cc_copy_creds(kc, fcc, mcc) == 0) {
			maj = gss_krb5_import_cred(&min, mcc, NULL, NULL,
			    &cc->cred);
			ok = !GSS_ERROR(maj);
		}
	}
	if (princ != NULL)
		krb5_free_principal(kc, princ);
	if (fcc != NULL)
		krb5_cc_close(kc, fcc);
	if (mcc != NULL)
		krb5_cc_close(kc, mcc);
	krb5_free_context(kc);
	if (!ok) {
		sess_cc_put(cc);
		return NULL;
	}
	return cc;
}

/* Make the entry say name in state st passed the check, with copy cc
 * (NULL: none yet), or forget it (valid 0).  A name too long for the
 * entry is not kept (checked every time). */
static void
sess_cc_set(int valid, const char *name, const struct stat *st,
    struct sess_cc *cc)
{
	struct sess_cc *old;
	size_t n = strlen(name);

	if (valid && n >= sizeof(sess_cc_entry.name))
		return;
	pthread_mutex_lock(&sess_cc_lock);
	old = sess_cc_entry.cc;
	sess_cc_entry.valid = valid;
	sess_cc_entry.cc = valid ? cc : NULL;
	if (sess_cc_entry.cc != NULL)
		sess_cc_entry.cc->refs++;
	if (valid) {
		memcpy(sess_cc_entry.name, name, n + 1);
		sess_cc_entry.st = *st;
	}
	pthread_mutex_unlock(&sess_cc_lock);
	sess_cc_put(old);
}

/*
 * The credential for a new context of s, into s->cc: the process's copy
 * of the FILE cache named by $KRB5CCNAME, or NULL for the default
 * credentials (no such name or file, the first use of the file in this
 * state, or a cache that cannot be copied).  Returns 0 or
 * XLICEN_E_NO_CREDS.
 */
static int sess_check_ccache(xlicen_session *s);

static int
sess_get_cred(xlicen_session *s)
{
	const char *name = getenv("KRB5CCNAME"), *path;
	struct sess_cc *cc = NULL;
	struct stat st, st2;
	int seen = 0, rc;

	sess_cc_put(s->cc);
	s->cc = NULL;
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
	pthread_mutex_lock(&sess_cc_lock);
	if (sess_cc_entry.valid && sess_cc_stat_same(&sess_cc_entry.st, &st) &&
	    strcmp(sess_cc_entry.name, name) == 0) {
		seen = 1;
		if ((cc = sess_cc_entry.cc) != NULL)
			cc->refs++;
	}
	pthread_mutex_unlock(&sess_cc_lock);
	if (cc != NULL) {
		s->cc = cc;
		return 0;
	}
	/* The second use: copy, if the file stays what stat() saw (no
	 * kinit in between). */
	if (seen && (cc = sess_cc_copy(name)) != NULL) {
		s->cc = cc;
		if (stat(path, &st2) == 0 && sess_cc_stat_same(&st, &st2))
			sess_cc_set(1, name, &st, cc);
		return 0;
	}
	rc = sess_check_ccache(s);
	/* A success counts for the file stat() saw only if the check read
	 * that one. */
	if (rc != 0)
		sess_cc_set(0, name, NULL, NULL);
	else if (stat(path, &st2) == 0 && sess_cc_stat_same(&st, &st2))
		sess_cc_set(1, name, &st, NULL);
	return rc;
}

/*
 * Work around a crash in MIT krb5 before 1.21.3: when the default ccache is
 * a FILE that exists but cannot be read (empty, truncated, garbage),
 * gss_init_sec_context with default credentials ends in
 * krb5_cccol_have_content(), which frees an uninitialised pointer and kills
 * the application at random (fixed upstream as "potential bad pointer free
 * in krb5_cccol_have_content()").  Acquiring credentials from that one named
 * cache does not take that path, so try that first and report NO_CREDS
 * without calling init.  sess_get_cred calls this for a FILE cache named by
 * $KRB5CCNAME that exists, unless its copy is used: a missing file is safe,
 * and collections (DIR, KEYRING, KCM) keep their usual cache selection.
 * Returns 0 or XLICEN_E_NO_CREDS.
 */
static int
sess_check_ccache(xlicen_session *s)
{
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 maj, min;
	char text[600];

	maj = sess_acquire_cred(&min, &cred, NULL);
	if (cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &cred);
	if (!GSS_ERROR(maj))
		return 0;
	gssx_status_text(maj, min, text, sizeof(text));
	return sess_abort(s, XLICEN_E_NO_CREDS, text);
}

/*
 * How long the caller's tickets stay valid, ms, into *ms (0 when there are
 * none or they expired).  Reads the credentials cache only, no network:
 * the lease machine asks this before dialing and while waiting for the
 * user to kinit.  Returns 0 or XLICEN_E_NO_CREDS with the GSS text.
 */
static int
sess_cred_ms(int64_t *ms, char *text, size_t textlen)
{
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	OM_uint32 maj, min, life = 0;

	*ms = 0;
	text[0] = '\0';
	maj = sess_acquire_cred(&min, &cred, &life);
	if (cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &cred);
	if (GSS_ROUTINE_ERROR(maj) == GSS_S_CREDENTIALS_EXPIRED ||
	    (!GSS_ERROR(maj) && life == 0)) {
		snprintf(text, textlen, "the Kerberos tickets have expired "
		    "(run kinit)");
		return XLICEN_E_NO_CREDS;
	}
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, text, textlen);
		return XLICEN_E_NO_CREDS;
	}
	*ms = life == GSS_C_INDEFINITE ? SESS_CTX_INDEFINITE_MS :
	    (int64_t)life * 1000;
	return 0;
}

/*
 * Renew the caller's ticket-granting ticket in its cache, as `kinit -R`
 * and krenew do: if the TGT is renewable, not yet expired, and may be
 * renewed past its present end, ask the KDC for a renewed one and store
 * it back (the cache is reinitialised with it, so service tickets of the
 * old TGT go).  The cache is $KRB5CCNAME, else the default, the one
 * sess_acquire_cred reads; a FILE cache rewritten this way changes under
 * stat(), so sess_get_cred makes no use of its old in-memory copy.  One
 * KDC exchange, blocking like gss_init_sec_context.  Returns 0 when a
 * renewed TGT was stored, else XLICEN_E_NO_CREDS (not renewable, renewal
 * limit reached, the KDC refused or is unreachable; nothing changed).
 */
static int
sess_renew_tgt(void)
{
	const char *name = getenv("KRB5CCNAME");
	krb5_context kc;
	krb5_ccache cc = NULL;
	krb5_principal princ = NULL;
	krb5_creds mcreds, tgt, fresh;
	krb5_data *realm;
	int have_tgt = 0, have_fresh = 0, rc = XLICEN_E_NO_CREDS;
	time_t now = time(NULL);

	memset(&mcreds, 0, sizeof(mcreds));
	memset(&tgt, 0, sizeof(tgt));
	memset(&fresh, 0, sizeof(fresh));
	if (krb5_init_context(&kc) != 0)
		return XLICEN_E_NO_CREDS;
	if ((name != NULL && name[0] != '\0' ? krb5_cc_resolve(kc, name, &cc) :
	    krb5_cc_default(kc, &cc)) != 0 ||
	    krb5_cc_get_principal(kc, cc, &princ) != 0)
		goto out;
	realm = krb5_princ_realm(kc, princ);
	if (krb5_build_principal_ext(kc, &mcreds.server, realm->length,
	    realm->data, KRB5_TGS_NAME_SIZE, KRB5_TGS_NAME, realm->length,
	    realm->data, 0) != 0)
		goto out;
	mcreds.client = princ;
	if (krb5_cc_retrieve_cred(kc, cc, 0, &mcreds, &tgt) != 0)
		goto out;
	have_tgt = 1;
	if (!(tgt.ticket_flags & TKT_FLG_RENEWABLE) ||
	    tgt.times.endtime <= now || tgt.times.renew_till <= tgt.times.endtime)
		goto out;
	if (krb5_get_renewed_creds(kc, &fresh, princ, cc, NULL) != 0)
		goto out;
	have_fresh = 1;
	if (krb5_cc_initialize(kc, cc, princ) != 0 ||
	    krb5_cc_store_cred(kc, cc, &fresh) != 0)
		goto out;
	rc = 0;
out:
	if (have_fresh)
		krb5_free_cred_contents(kc, &fresh);
	if (have_tgt)
		krb5_free_cred_contents(kc, &tgt);
	if (mcreds.server != NULL)
		krb5_free_principal(kc, mcreds.server);
	if (princ != NULL)
		krb5_free_principal(kc, princ);
	if (cc != NULL)
		krb5_cc_close(kc, cc);
	krb5_free_context(kc);
	return rc;
}

/* The context is complete: remember until when it is good, and whom it
 * authenticated. */
static void
sess_context_done(xlicen_session *s, OM_uint32 time_rec)
{
	gss_name_t src = GSS_C_NO_NAME;
	OM_uint32 maj, min;
	int64_t now = sess_now_ms(), life;

	life = time_rec == GSS_C_INDEFINITE ? SESS_CTX_INDEFINITE_MS :
	    (int64_t)time_rec * 1000;
	s->ctx_end = now + life;
	s->ctx_check = now + life * SESS_CTX_REFRESH_PCT / 100;
	/* An early refresh that brought no longer life (the service ticket
	 * came from the cache) is not repeated: this context runs out, and
	 * the next one is made with a new ticket. */
	if (s->ctx_prev_end != 0 && s->ctx_end < s->ctx_prev_end + SESS_CTX_GAIN_MS)
		s->ctx_check = s->ctx_end;
	s->ctx_prev_end = 0;
	s->creds_low = 0;
	maj = gss_inquire_context(&min, s->ctx, &src, NULL, NULL, NULL, NULL,
	    NULL, NULL);
	if (!GSS_ERROR(maj) &&
	    gssx_display_name(src, s->principal, sizeof(s->principal)) != 0)
		s->principal[0] = '\0';
	if (src != GSS_C_NO_NAME)
		gss_release_name(&min, &src);
}

/*
 * One round of gss_init_sec_context: in is the server's token (NULL on
 * the first call).  The output token goes out even when the call failed
 * (it may be an error token the server should see).
 */
static int
sess_init_context(xlicen_session *s, const uint8_t *in_p, size_t in_n)
{
	OM_uint32 maj, min, tmp, ret_flags = 0, time_rec = 0;
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
		if ((rc = sess_get_cred(s)) != 0)
			return rc;
	}
	in.value = (void *)in_p;
	in.length = in_n;
	maj = gss_init_sec_context(&min, s->cc != NULL ? s->cc->cred :
	    GSS_C_NO_CREDENTIAL, &s->ctx, s->target,
	    GSS_C_NO_OID, GSSX_REQUIRED_FLAGS, 0, GSS_C_NO_CHANNEL_BINDINGS,
	    in_p != NULL ? &in : GSS_C_NO_BUFFER, NULL, &out, &ret_flags,
	    &time_rec);
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
	sess_context_done(s, time_rec);
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

static int lease_on_reply(xlicen_session *s, const struct msg *m);
static void lease_on_notice(xlicen_session *s, const struct msg *m);

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
static int
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

/* No request of the lease machine is waiting for its reply. */
static int
sess_async_idle(const xlicen_session *s)
{
	return s->wait_id == 0 || !s->wait_async;
}

/*
 * An idle OPEN connection whose GSS context has expired is closed: the
 * server would only answer CONTEXT_EXPIRED.  The clock only, no system
 * call.
 */
static void
sess_drop_expired(xlicen_session *s)
{
	if (s->state == SESS_OPEN && s->ctx_end != 0 &&
	    sess_now_ms() >= s->ctx_end && s->wait_id == 0) {
		sess_drop_conn(s);
		s->state = SESS_CLOSED;
	}
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

/* Wrap req and queue it on the open connection; async: its reply goes to
 * the lease machine.  On failure the connection is closed. */
static int
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

static void sess_watch(xlicen_session *s);

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
sess_request(xlicen_session *s, struct msg *req, struct msg *reply)
{
	int attempt, reused, rc = 0;

	msg_init(reply, 0, 0);
	if (!sess_async_idle(s))
		sess_run(s, sess_async_idle);
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
sess_bad_reply(xlicen_session *s, uint16_t req_type, const struct msg *m)
{
	char text[160];

	snprintf(text, sizeof(text), "unexpected %s reply to %s",
	    msg_type_name(m->type), msg_type_name(req_type));
	return sess_abort(s, XLICEN_E_MSG_TYPE, text);
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

/* Check the arguments of a checkout (blocking or not). */
static int
sess_checkout_args(xlicen_session *s, const char *product, const char *version,
    unsigned count)
{
	if (product == NULL || product[0] == '\0' || version == NULL ||
	    version[0] == '\0' || count == 0)
		return sess_seterr(s, XLICEN_E_INVALID, "checkout needs a product, "
		    "a version and a count of at least 1");
	if (count > LIMIT_SEATS)
		return sess_seterr(s, XLICEN_E_COUNT, "at most %d seats in one "
		    "checkout", LIMIT_SEATS);
	if (strlen(product) > LIMIT_STRING ||
	    !buf_utf8_valid((const uint8_t *)product, strlen(product)))
		return sess_seterr(s, XLICEN_E_STRING, "product is longer than %d "
		    "bytes or not UTF-8", LIMIT_STRING);
	if (strlen(version) > LIMIT_STRING ||
	    !buf_utf8_valid((const uint8_t *)version, strlen(version)))
		return sess_seterr(s, XLICEN_E_STRING, "version is longer than %d "
		    "bytes or not UTF-8", LIMIT_STRING);
	return 0;
}

/* A CHECKOUT message: product, version, count, and the informational
 * host, canonical display and pid. */
static int
sess_build_checkout(xlicen_session *s, struct msg *req, const char *product,
    const char *version, unsigned count)
{
	char host[LIMIT_STRING + 1], canon[LIMIT_STRING + 1];
	const char *display;
	int rc;

	msg_init(req, MSG_CHECKOUT, 0);
	if ((rc = sess_set_str(s, req, TAG_PRODUCT, "product", product)) != 0 ||
	    (rc = sess_set_str(s, req, TAG_VERSION, "version", version)) != 0)
		return rc;
	req->count = count;
	req->pid = (uint32_t)getpid();
	req->have |= MSG_F(TAG_COUNT) | MSG_F(TAG_PID);
	/* Host and display are informational: omit what cannot be sent. */
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		msg_set_str(req, TAG_HOST, host);
	}
	display = s->display != NULL ? s->display : getenv("DISPLAY");
	if (display != NULL && display[0] != '\0' &&
	    xlicen_canon_display(display, canon, sizeof(canon)) == 0)
		msg_set_str(req, TAG_DISPLAY, canon);
	return 0;
}

/* A RECLAIM of lease: like a heartbeat, and it tells the server which
 * process on which host and display holds the lease now. */
static int
sess_build_reclaim(xlicen_session *s, struct msg *req, const char *lease)
{
	struct msg co;
	int rc;

	msg_init(req, MSG_RECLAIM, 0);
	if ((rc = msg_set_str(req, TAG_LEASE, lease)) != 0)
		return rc;
	if (sess_build_checkout(s, &co, "-", "-", 1) == 0) {
		if (co.have & MSG_F(TAG_HOST))
			msg_set_str(req, TAG_HOST, co.host);
		if (co.have & MSG_F(TAG_DISPLAY))
			msg_set_str(req, TAG_DISPLAY, co.display);
	}
	msg_clear(&co);
	req->pid = (uint32_t)getpid();
	req->have |= MSG_F(TAG_PID);
	return 0;
}

/* A GRANT into *out; XLICEN_E_BAD_VALUE (connection aborted) if the lease
 * id cannot be one. */
static int
sess_take_grant(xlicen_session *s, const struct msg *m, struct xlicen_grant *out)
{
	size_t n = strlen(m->lease);

	if (n == 0 || n > XLICEN_LEASE_MAX)
		return sess_abort(s, XLICEN_E_BAD_VALUE, "lease id empty or too long");
	memset(out, 0, sizeof(*out));
	memcpy(out->lease, m->lease, n + 1);
	out->expires = (int64_t)m->expires;
	out->heartbeat_s = m->heartbeat;
	out->in_use = m->in_use;
	out->total = m->total;
	return 0;
}

/* ---- the lease machine (non-blocking checkout) ---- */

static int
lease_active(const struct sess_lease *L)
{
	return L->state != XLICEN_STATE_IDLE && L->state != XLICEN_STATE_LOST;
}

static void __attribute__((format(printf, 4, 5)))
lease_set(xlicen_session *s, int state, int code, const char *fmt, ...)
{
	struct sess_lease *L = &s->lease;
	va_list ap;

	L->state = state;
	L->code = code;
	va_start(ap, fmt);
	vsnprintf(L->text, sizeof(L->text), fmt, ap);
	va_end(ap);
	if (state != XLICEN_STATE_QUEUED)
		L->position = 0;
	if (state == XLICEN_STATE_LOST) {
		L->busy = 0;
		L->sent = 0;
	}
}

/* Monotonic ms at which the held lease ends, by the server's clock. */
static int64_t
lease_end_ms(const xlicen_session *s)
{
	return sess_now_ms() + (s->lease.grant.expires * 1000 - sess_server_ms(s));
}

/*
 * Milliseconds to the next heartbeat: the server's interval, but at most
 * half the time the lease has left.  That is counted in ms: the server
 * counts whole seconds, so a lease of TTL 2 s granted at x.95 ends at
 * x+2, 1.05 s later, and a heartbeat "every second" would drift past it.
 * Less up to a tenth, at random each time: sessions that started in the
 * same millisecond (or reconnected in the same second after a server
 * restart) would otherwise heartbeat in step forever, and the server
 * would get their heartbeats in bursts.  Only earlier, never later than
 * without it, so no lease runs closer to its end.
 */
static int64_t
lease_hb_delay(xlicen_session *s)
{
	const struct xlicen_grant *g = &s->lease.grant;
	int64_t ms = 1000LL * (g->heartbeat_s > 0 ? g->heartbeat_s :
	    LIMIT_HEARTBEAT_S), left = g->expires * 1000 - sess_server_ms(s);

	if (left / 2 < ms)
		ms = left / 2;
	if (ms > 0)
		ms -= (int64_t)(sess_rand(s) %
		    (uint64_t)(ms / LEASE_HB_JITTER_DIV + 1));
	return ms < LEASE_HB_MIN_MS ? LEASE_HB_MIN_MS : ms;
}

/* "HH:MM:SS UTC" of a UTC time. */
static void
lease_fmt_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%H:%M:%S UTC", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

/* A grant, a reclaim or a heartbeat went through on this connection. */
static void
lease_ok(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;

	L->have = 1;
	L->attached = s->conn_id;
	L->failures = 0;
	L->next_at = sess_now_ms() + lease_hb_delay(s);
	/* The warning stands until a context with fresh tickets is made. */
	if (s->creds_low && L->state == XLICEN_STATE_CREDS_EXPIRING)
		return;
	lease_set(s, XLICEN_STATE_HELD, 0, "%s", "");
}

/* No valid tickets: wait for the user's kinit, looking now and then. */
static void
lease_auth_needed(xlicen_session *s, const char *text)
{
	struct sess_lease *L = &s->lease;

	L->next_at = sess_now_ms() + LEASE_AUTH_POLL_MS;
	lease_set(s, XLICEN_STATE_AUTH_NEEDED, XLICEN_E_NO_CREDS, "%s", text);
}

/*
 * An attempt failed (connection, authentication, or a transient error
 * reply): decide what the application is told and when to try again.
 */
static void
lease_failed(xlicen_session *s, int code, const char *text)
{
	struct sess_lease *L = &s->lease;
	char ctext[600];
	int64_t now = sess_now_ms(), delay, cred_ms, left;
	uint16_t sent = L->sent;
	unsigned i;

	if (code == 0)
		code = XLICEN_E_CLOSED;
	if (text == NULL || text[0] == '\0')
		text = err_str(code);
	L->busy = 0;
	L->sent = 0;
	/* A server that predates RECLAIM refuses the message type: re-attach
	 * with a heartbeat instead, at once, from now on. */
	if (sent == MSG_RECLAIM && code == XLICEN_E_MSG_TYPE && !L->no_reclaim) {
		L->no_reclaim = 1;
		L->next_at = now;
		return;
	}
	L->failures++;
	if (code == XLICEN_E_NO_CREDS) {
		lease_auth_needed(s, text);
		return;
	}
	if (sess_cred_ms(&cred_ms, ctext, sizeof(ctext)) != 0) {
		lease_auth_needed(s, ctext);
		return;
	}
	/* The server retired our context: a new one, right away, once. */
	if (code == XLICEN_E_CONTEXT_EXPIRED && L->failures == 1) {
		L->next_at = now;
		return;
	}
	delay = LEASE_RETRY_MIN_MS;
	for (i = 1; i < L->failures && delay < LEASE_RETRY_MAX_MS; i++)
		delay *= 2;
	/* Up to a tenth sooner, at random, like the heartbeats: the clients
	 * of a server that restarts all fail at once and would otherwise
	 * come back in step. */
	delay -= (int64_t)(sess_rand(s) %
	    (uint64_t)(delay / LEASE_HB_JITTER_DIV + 1));
	if (L->have) {
		if (delay > LEASE_RETRY_HELD_MS)
			delay = LEASE_RETRY_HELD_MS;
		/* Several tries before the lease runs out. */
		left = lease_end_ms(s) - now;
		if (delay > left / 3)
			delay = left / 3;
		if (delay < LEASE_HB_MIN_MS)
			delay = LEASE_HB_MIN_MS;
		L->next_at = now + delay;
		lease_set(s, XLICEN_STATE_GRACE, code, "%s", text);
		return;
	}
	if (delay > LEASE_RETRY_MAX_MS)
		delay = LEASE_RETRY_MAX_MS;
	L->next_at = now + delay;
	/* Lost with its connection, a place in the queue is asked for
	 * again (with its queue id, to keep the place if the server can). */
	lease_set(s, XLICEN_STATE_CONNECTING, code, "%s", text);
}

/* The held lease passed its expiry without a heartbeat getting through. */
static void
lease_expired(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;
	char when[32], last[1280];

	lease_fmt_time(L->grant.expires, when, sizeof(when));
	snprintf(last, sizeof(last), "%s", L->code != 0 ? L->text : "");
	lease_set(s, XLICEN_STATE_LOST, XLICEN_E_NO_LEASE, "lease %s expired at "
	    "%s without a heartbeat getting through%s%s", L->grant.lease, when,
	    last[0] != '\0' ? "; last error: " : "", last);
}

/* The server's verdict on the lease itself: it is gone for good. */
static int
lease_is_gone(int code)
{
	return code == XLICEN_E_NO_LEASE || code == XLICEN_E_NOT_OWNER ||
	    code == XLICEN_E_REVOKED;
}

/* QUEUED: our place in line. */
static void
lease_queued(xlicen_session *s, const struct msg *m)
{
	struct sess_lease *L = &s->lease;

	L->position = m->position;
	if (m->have & MSG_F(TAG_QUEUE_ID))
		memcpy(L->queue_id, m->queue_id, sizeof(L->queue_id));
	if (m->have & MSG_F(TAG_IN_USE))
		L->grant.in_use = m->in_use;
	if (m->have & MSG_F(TAG_TOTAL))
		L->grant.total = m->total;
	L->failures = 0;
	lease_set(s, XLICEN_STATE_QUEUED, 0, "waiting in line for %s, "
	    "position %u", L->product, m->position);
	L->position = m->position;
}

/* The answer to our checkout: GRANT, QUEUED, or DENY (also a late one,
 * sent unsolicited when a queued checkout is decided). */
static int
lease_checkout_answer(xlicen_session *s, const struct msg *m)
{
	struct sess_lease *L = &s->lease;
	int rc, code;

	switch (m->type) {
	case MSG_GRANT:
		if ((rc = sess_take_grant(s, m, &L->grant)) != 0) {
			lease_failed(s, rc, s->errmsg);
			return rc;
		}
		L->queue_id[0] = '\0';
		lease_ok(s);
		return 0;
	case MSG_QUEUED:
		lease_queued(s, m);
		return 0;
	case MSG_DENY:
	case MSG_ERROR:
		L->grant.in_use = m->in_use;
		L->grant.total = m->total;
		code = sess_reply_error(s, m);
		lease_set(s, XLICEN_STATE_LOST, code, "%s", s->errmsg);
		return 0;
	default:
		rc = sess_bad_reply(s, MSG_CHECKOUT, m);
		lease_failed(s, rc, s->errmsg);
		return rc;
	}
}

/* A reply to the lease machine's request. */
static int
lease_on_reply(xlicen_session *s, const struct msg *m)
{
	struct sess_lease *L = &s->lease;
	uint16_t type = L->sent;
	int rc, code;

	/* Stopped or lost meanwhile: the answer to a request of an earlier
	 * checkout, not of this one. */
	if (type == 0 || !lease_active(L))
		return 0;
	L->busy = 0;
	L->sent = 0;
	if (type == MSG_CHECKOUT)
		return lease_checkout_answer(s, m);
	switch (m->type) {
	case MSG_GRANT:		/* RECLAIM: the same lease, re-attached */
		if (type != MSG_RECLAIM)
			break;
		if ((rc = sess_take_grant(s, m, &L->grant)) != 0) {
			lease_failed(s, rc, s->errmsg);
			return rc;
		}
		lease_ok(s);
		return 0;
	case MSG_OK:
		if (m->have & MSG_F(TAG_EXPIRES))
			L->grant.expires = (int64_t)m->expires;
		lease_ok(s);
		return 0;
	case MSG_ERROR:
	case MSG_DENY:
		code = sess_reply_error(s, m);
		L->sent = type;		/* for the RECLAIM fallback */
		if (lease_is_gone(code))
			lease_set(s, XLICEN_STATE_LOST, code, "%s", s->errmsg);
		else
			lease_failed(s, code, s->errmsg);
		return 0;
	default:
		break;
	}
	rc = sess_bad_reply(s, type, m);
	lease_failed(s, rc, s->errmsg);
	return rc;
}

/*
 * An unsolicited message (request id 0): the late answer to a queued
 * checkout, a new place in line, or the revocation of our lease.  Any
 * other notice while a lease is held is checked with a heartbeat now
 * rather than trusted as is.
 */
static void
lease_on_notice(xlicen_session *s, const struct msg *m)
{
	struct sess_lease *L = &s->lease;
	int ours, code;

	if (!lease_active(L))
		return;
	ours = L->state == XLICEN_STATE_QUEUED && !L->have &&
	    (((m->have & MSG_F(TAG_QUEUE_ID)) && L->queue_id[0] != '\0' &&
	    strcmp(m->queue_id, L->queue_id) == 0) ||
	    ((m->have & MSG_F(TAG_REQUEST)) && m->request == L->req_id));
	switch (m->type) {
	case MSG_GRANT:
	case MSG_DENY:
	case MSG_QUEUED:
		if (ours) {
			lease_checkout_answer(s, m);
			return;
		}
		break;
	case MSG_REVOKE:
		if (L->have && strcmp(m->lease, L->grant.lease) == 0) {
			code = sess_reply_error(s, m);
			lease_set(s, XLICEN_STATE_LOST, code, "%s", s->errmsg);
			return;
		}
		break;
	default:
		break;
	}
	if (L->have)
		L->next_at = sess_now_ms();
}

/*
 * Send the lease machine's next request on the open connection: the
 * checkout; on a new connection RECLAIM of the lease (re-attaching it:
 * leases belong to the principal, not the connection); else a heartbeat.
 */
static void
lease_send(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;
	struct msg req;
	int rc;

	if (L->have && L->attached != s->conn_id && !L->no_reclaim) {
		rc = sess_build_reclaim(s, &req, L->grant.lease);
	} else if (L->have) {
		msg_init(&req, MSG_HEARTBEAT, 0);
		rc = msg_set_str(&req, TAG_LEASE, L->grant.lease);
	} else {
		rc = sess_build_checkout(s, &req, L->product, L->version, L->count);
		if (rc == 0 && (L->flags & XLICEN_CHECKOUT_QUEUE)) {
			req.flags = MSG_FLAG_QUEUE;
			req.have |= MSG_F(TAG_FLAGS);
			if (L->queue_id[0] != '\0')
				msg_set_str(&req, TAG_QUEUE_ID, L->queue_id);
		}
	}
	if (rc == 0)
		rc = sess_send(s, &req, 1);
	if (rc == 0) {
		L->busy = 1;
		L->sent = req.type;
		L->conn_id = s->conn_id;
		if (req.type == MSG_CHECKOUT)
			L->req_id = req.id;
	} else {
		L->sent = req.type;
		lease_failed(s, rc, s->errmsg);
	}
	msg_clear(&req);
}

/* Whether the caller's tickets now outlive the context by a margin worth
 * a new one. */
static int
sess_creds_fresher(const xlicen_session *s, int64_t now, int64_t *cred_ms)
{
	char text[600];

	return sess_cred_ms(cred_ms, text, sizeof(text)) == 0 &&
	    now + *cred_ms >= s->ctx_end + SESS_CTX_GAIN_MS;
}

/*
 * Before the context ends, a new one: at SESS_CTX_REFRESH_PCT of its life
 * (and every SESS_CTX_POLL_MS after) see whether the tickets now last
 * longer than the context (the user ran kinit, or a keytab renews them),
 * else renew a renewable TGT ourselves (sess_renew_tgt); if either gives
 * longer life, reconnect now (the lease machine RECLAIMs the lease first
 * thing on the new connection).  If neither does, a held lease is
 * CREDS_EXPIRING: the application can ask the user to kinit.  When the
 * context ends, close the connection: the next heartbeat dials anew, and
 * reports AUTH_NEEDED if there are no tickets left by then.  A place in
 * the queue lives on the connection, so a queued checkout keeps it until
 * it is decided.
 */
static void
sess_ctx_check(xlicen_session *s, int64_t now)
{
	struct sess_lease *L = &s->lease;
	char when[32];
	int64_t cred_ms = 0;

	if (L->state == XLICEN_STATE_QUEUED)
		return;
	if (now < s->ctx_end && !sess_creds_fresher(s, now, &cred_ms) &&
	    (sess_renew_tgt() != 0 || !sess_creds_fresher(s, now, &cred_ms))) {
		s->ctx_check = now + SESS_CTX_POLL_MS < s->ctx_end ?
		    now + SESS_CTX_POLL_MS : s->ctx_end;
		s->creds_low = 1;
		if (L->have && L->state == XLICEN_STATE_HELD) {
			lease_fmt_time((int64_t)time(NULL) +
			    (s->ctx_end - now) / 1000, when, sizeof(when));
			lease_set(s, XLICEN_STATE_CREDS_EXPIRING,
			    XLICEN_E_NO_CREDS, "the Kerberos tickets end at %s "
			    "and cannot be renewed: run kinit to keep the seat",
			    when);
		}
		return;
	}
	s->ctx_prev_end = now < s->ctx_end ? s->ctx_end : 0;
	sess_drop_conn(s);
	s->state = SESS_CLOSED;
	if (L->have && lease_active(L))
		L->next_at = now;
}

/* Advance the lease machine by its timers and the connection's fate. */
static void
lease_tick(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;
	char text[600];
	int64_t now = sess_now_ms(), cred_ms;

	if (!lease_active(L))
		return;
	if (L->have && now >= lease_end_ms(s)) {
		lease_expired(s);
		return;
	}
	if (L->busy) {
		if (L->sent != 0) {
			if (s->conn_id == L->conn_id && s->wait_async &&
			    s->wait_id != 0)
				return;		/* the reply is on its way */
			/* The request was lost with its connection. */
			lease_failed(s, s->err, s->errmsg);
			return;
		}
		if (sess_conn_pending(s))
			return;
		if (s->state != SESS_OPEN) {
			lease_failed(s, s->err, s->errmsg);
			return;
		}
		L->busy = 0;
		L->next_at = now;	/* connected: send at once */
	}
	if (s->state == SESS_OPEN && s->wait_id == 0 && s->ctx_check != 0 &&
	    now >= s->ctx_check)
		sess_ctx_check(s, now);
	if (L->state == XLICEN_STATE_QUEUED) {
		/* The line is kept by the connection: if it went, ask again. */
		if (s->state == SESS_OPEN || sess_conn_pending(s))
			return;
		lease_set(s, XLICEN_STATE_CONNECTING, XLICEN_E_CLOSED,
		    "%s", s->errmsg[0] != '\0' ? s->errmsg :
		    "connection closed while waiting in line");
		L->next_at = now;
	}
	if (now < L->next_at)
		return;
	if (s->state == SESS_OPEN) {
		if (s->wait_id == 0)
			lease_send(s);
		return;
	}
	if (sess_conn_pending(s)) {
		L->busy = 1;		/* someone else is dialing: wait */
		L->sent = 0;
		return;
	}
	/* Dialing without tickets only makes the server log a failure. */
	if (sess_cred_ms(&cred_ms, text, sizeof(text)) != 0) {
		lease_auth_needed(s, text);
		return;
	}
	sess_connect_start(s);
	if (sess_conn_pending(s)) {
		L->busy = 1;
		L->sent = 0;
		return;
	}
	lease_failed(s, s->err, s->errmsg);
}

/*
 * The next time (monotonic ms) xlicen_process has work without input;
 * -1 none.  A time already past (0 included) means now.
 */
static int64_t
sess_next_deadline(const xlicen_session *s)
{
	const struct sess_lease *L = &s->lease;
	int64_t d = -1, t;

#define SESS_EARLIER(x) do { t = (x); if (d < 0 || t < d) d = t; } while (0)
	if (s->state_cb != NULL && (L->state != L->rep_state ||
	    L->code != L->rep_code || L->grant.expires != L->rep_expires ||
	    L->position != L->rep_position))
		return 0;
	if (sess_conn_pending(s) || s->state == SESS_OPEN) {
		if (s->deadline != 0)
			SESS_EARLIER(s->deadline);
		if (s->state == SESS_OPEN && s->ctx_check != 0 &&
		    lease_active(L))
			SESS_EARLIER(s->ctx_check);
	}
	if (lease_active(L)) {
		if (L->busy) {
			if (L->sent != 0 ? !(s->conn_id == L->conn_id &&
			    s->wait_async && s->wait_id != 0) :
			    !sess_conn_pending(s))
				return 0;
		} else if (L->state != XLICEN_STATE_QUEUED ||
		    !(s->state == SESS_OPEN || sess_conn_pending(s))) {
			SESS_EARLIER(L->next_at);
		}
		if (L->have)
			SESS_EARLIER(lease_end_ms(s));
	}
#undef SESS_EARLIER
	return d;
}

/* Tell the watch callback if the descriptor or the deadline changed. */
static void
sess_watch(xlicen_session *s)
{
	int fd, ww;
	int64_t d;

	if (s->watch_cb == NULL)
		return;
	fd = xlicen_fd(s, &ww);
	d = sess_next_deadline(s);
	if (fd == s->w_fd && ww == s->w_write && d == s->w_deadline)
		return;
	s->w_fd = fd;
	s->w_write = ww;
	s->w_deadline = d;
	s->watch_cb(s, 0, s->watch_ud);
}

/* Run the state callback for what changed since it last ran. */
static void
sess_report(xlicen_session *s)
{
	struct sess_lease *L = &s->lease;
	char text[sizeof(L->text)];
	int i, state, code;

	/* A callback may change the state again (stop, start): a few rounds,
	 * not forever. */
	for (i = 0; i < 4 && !s->free_pending; i++) {
		if (L->state == L->rep_state && L->code == L->rep_code &&
		    L->grant.expires == L->rep_expires &&
		    L->position == L->rep_position)
			return;
		state = L->rep_state = L->state;
		code = L->rep_code = L->code;
		L->rep_expires = L->grant.expires;
		L->rep_position = L->position;
		if (s->state_cb == NULL)
			return;
		memcpy(text, L->text, sizeof(text));
		s->state_cb(s, state, code, text, s->state_ud);
	}
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

int
xlicen_session_new(xlicen_session **out, const char *servers)
{
	xlicen_session *s = NULL;
	const char *env;
	char err[256];
	int rc = 0;

	if (out == NULL)
		return XLICEN_E_INVALID;
	*out = NULL;
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
xlicen_checkout(xlicen_session *s, const char *product, const char *version,
    unsigned count, struct xlicen_grant *out)
{
	struct msg req, rep;
	int rc;

	msg_init(&req, MSG_CHECKOUT, 0);
	msg_init(&rep, 0, 0);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL)
		return XLICEN_E_INVALID;
	sess_clearerr(s);
	if (out == NULL) {
		rc = sess_seterr(s, XLICEN_E_INVALID, "checkout needs somewhere "
		    "to put the grant");
		goto out;
	}
	if ((rc = sess_checkout_args(s, product, version, count)) != 0 ||
	    (rc = sess_build_checkout(s, &req, product, version, count)) != 0)
		goto out;
	if ((rc = sess_request(s, &req, &rep)) != 0)
		goto out;
	switch (rep.type) {
	case MSG_GRANT:
		rc = sess_take_grant(s, &rep, out);
		break;
	case MSG_DENY:
	case MSG_ERROR:
		out->in_use = rep.in_use;
		out->total = rep.total;
		rc = sess_reply_error(s, &rep);
		break;
	default:
		rc = sess_bad_reply(s, req.type, &rep);
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
		rc = sess_bad_reply(s, req.type, &rep);
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
	struct xlicen_pool_info *info = NULL;
	struct xlicen_pool *v = NULL;
	size_t i, k = 0;
	int rc;

	if (pools != NULL)
		*pools = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (pools == NULL || n == NULL) {
		sess_clearerr(s);
		return sess_seterr(s, XLICEN_E_INVALID, "status needs "
		    "somewhere to put the pools");
	}
	/* The same request as xlicen_status_info (admin.c), less detail. */
	if ((rc = xlicen_status_info(s, product, &info, &k)) != 0)
		return rc;
	if (k > 0 && (v = calloc(k, sizeof(*v))) == NULL) {
		xlicen_pool_info_free(info);
		return sess_seterr(s, XLICEN_E_NOMEM, "out of memory");
	}
	for (i = 0; i < k; i++)
		v[i] = info[i].pool;
	xlicen_pool_info_free(info);
	*pools = v;
	*n = k;
	return 0;
}

void
xlicen_pools_free(struct xlicen_pool *pools)
{
	free(pools);
}

/* ---- public API: non-blocking ---- */

int
xlicen_set_state_cb(xlicen_session *s, xlicen_state_cb cb, void *userdata)
{
	if (s == NULL)
		return XLICEN_E_INVALID;
	s->state_cb = cb;
	s->state_ud = userdata;
	return 0;
}

int
xlicen_set_watch_cb(xlicen_session *s, xlicen_watch_cb cb, void *userdata)
{
	xlicen_watch_cb old;
	void *old_ud;

	if (s == NULL)
		return XLICEN_E_INVALID;
	old = s->watch_cb;
	old_ud = s->watch_ud;
	s->watch_cb = cb;
	s->watch_ud = userdata;
	s->w_fd = -1;
	s->w_write = 0;
	s->w_deadline = -1;
	if (old != NULL)
		old(s, 1, old_ud);
	return 0;
}

/* The start shared by xlicen_checkout_start and xlicen_checkout_adopt:
 * check the arguments, refuse a second checkout, and make s->lease a new
 * one for product, version and count.  0 or XLICEN_E_INVALID (set). */
static int
sess_lease_begin(xlicen_session *s, const char *product,
    const char *version, unsigned count)
{
	struct sess_lease *L = &s->lease;
	int rc;

	sess_clearerr(s);
	if ((rc = sess_checkout_args(s, product, version, count)) != 0)
		return rc;
	if (lease_active(L))
		return sess_seterr(s, XLICEN_E_INVALID, "a checkout is already "
		    "running (xlicen_checkout_stop ends it)");
	memset(L, 0, sizeof(*L));
	snprintf(L->product, sizeof(L->product), "%s", product);
	snprintf(L->version, sizeof(L->version), "%s", version);
	L->count = count;
	return 0;
}

int
xlicen_checkout_start(xlicen_session *s, const char *product,
    const char *version, unsigned count, unsigned flags)
{
	struct sess_lease *L;
	int rc;

	if (s == NULL)
		return XLICEN_E_INVALID;
	L = &s->lease;
	if ((rc = sess_lease_begin(s, product, version, count)) != 0)
		return rc;
	L->flags = flags;
	L->state = XLICEN_STATE_CONNECTING;
	L->next_at = 0;		/* due now */
	L->rep_state = XLICEN_STATE_IDLE;
	sess_watch(s);
	return 0;
}

int
xlicen_checkout_adopt(xlicen_session *s, const char *product,
    const char *version, unsigned count, const struct xlicen_grant *grant)
{
	struct sess_lease *L;
	int rc;

	if (s == NULL)
		return XLICEN_E_INVALID;
	L = &s->lease;
	if (grant == NULL || grant->lease[0] == '\0' ||
	    memchr(grant->lease, '\0', sizeof(grant->lease)) == NULL) {
		sess_clearerr(s);
		return sess_seterr(s, XLICEN_E_INVALID, "no lease to adopt");
	}
	if ((rc = sess_lease_begin(s, product, version, count)) != 0)
		return rc;
	L->grant = *grant;
	/* Granted on the connection open now (or, if it is gone, re-attached
	 * with RECLAIM from the next one: connecting bumps conn_id). */
	L->rep_state = XLICEN_STATE_IDLE;
	lease_ok(s);
	sess_watch(s);
	return 0;
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
		rc = xlicen_release(s, lease);
	sess_watch(s);
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

int
xlicen_state(const xlicen_session *s, struct xlicen_grant *grant)
{
	if (grant != NULL)
		memset(grant, 0, sizeof(*grant));
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (grant != NULL)
		*grant = s->lease.grant;
	return s->lease.state;
}

const char *
xlicen_state_name(int state)
{
	switch (state) {
	case XLICEN_STATE_IDLE:
		return "IDLE";
	case XLICEN_STATE_CONNECTING:
		return "CONNECTING";
	case XLICEN_STATE_QUEUED:
		return "QUEUED";
	case XLICEN_STATE_HELD:
		return "HELD";
	case XLICEN_STATE_GRACE:
		return "GRACE";
	case XLICEN_STATE_LOST:
		return "LOST";
	case XLICEN_STATE_AUTH_NEEDED:
		return "AUTH_NEEDED";
	case XLICEN_STATE_CREDS_EXPIRING:
		return "CREDS_EXPIRING";
	default:
		return "UNKNOWN";
	}
}

int
xlicen_retry_now(xlicen_session *s)
{
	if (s == NULL)
		return XLICEN_E_INVALID;
	if (lease_active(&s->lease) && !s->lease.busy)
		s->lease.next_at = 0;
	sess_watch(s);
	return 0;
}

const char *
xlicen_principal(const xlicen_session *s)
{
	return s != NULL ? s->principal : "";
}

int
xlicen_canon_display(const char *display, char *out, size_t outlen)
{
	char host[LIMIT_STRING + 1];

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (display == NULL || out == NULL || outlen == 0)
		return XLICEN_E_INVALID;
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	return display_canon(display, host, out, outlen);
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

/* ---- for the library's other modules (session_int.h) ---- */

int
session_request(xlicen_session *s, struct msg *req, struct msg *reply)
{
	return sess_request(s, req, reply);
}

int
session_seterr(xlicen_session *s, int code, const char *text)
{
	return sess_seterr(s, code, "%s", text);
}

const char *
session_display(const xlicen_session *s)
{
	return s->display;
}
