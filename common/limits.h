/*
 * Every size and time limit of gss-xlicen, named, in one place.  The
 * server's configuration may override the ones marked "default";
 * docs/PROTOCOL.md lists them all.
 */
#ifndef XLICEN_LIMITS_H
#define XLICEN_LIMITS_H

#define XLICEN_PROTO_VERSION	1	/* the only version spoken */
#define XLICEN_DEFAULT_PORT	128	/* IANA gss-xlicen */
#define XLICEN_SERVICE_NAME	"gss-xlicen"	/* GSS host-based service */

/* Frames: u8 type | u32 length | body. */
#define LIMIT_FRAME_HDR		5
/* Before the context is complete: enough for a Kerberos AP-REQ with a
 * large PAC (Windows allows 48,000-byte tokens). */
#define LIMIT_FRAME_PREAUTH	(64 * 1024)
/* After authentication (default): a wrapped message. */
#define LIMIT_FRAME_POSTAUTH	(256 * 1024)
/* A partly received body is grown as its bytes arrive: first this many
 * bytes (or the declared length, if smaller), then doubled, never past the
 * declared length; a declared length alone costs nothing. */
#define LIMIT_FRAME_CHUNK	4096
/* Bytes held in partly received frame bodies over all connections
 * (default): past it a frame that must grow is refused with ALERT BUSY.
 * Bodies of at most LIMIT_FRAME_CHUNK bytes are not refused (handshakes
 * and small requests go on; connection caps bound their total). */
#define LIMIT_FRAME_BUDGET	(64 * 1024 * 1024)
/* ALERT reason text. */
#define LIMIT_ALERT_REASON	512
/* Bytes of a GSS token (CONTEXT or DATA body) the protocol trace shows:
 * an RFC 4121 wrap token's header is 16 bytes; an initial context token's
 * first 16 are its DER header, mechanism OID and token id.  No key. */
#define LIMIT_TRACE_TOKEN_HEAD	16

/* Messages. */
#define LIMIT_STRING		255	/* any string field, bytes */
#define LIMIT_TLV_COUNT		64	/* TLVs in one message */
#define LIMIT_STATUS_POOLS	512	/* pools in one STATUS reply: 512 pools of
					 * the longest names fit one frame */
#define LIMIT_LEASE_ID		64	/* lease id string */
#define LIMIT_SEATS		1000000	/* seats asked in one checkout, and a
					 * policy's reserve and max counts */
/* Seats one signed license may grant (its "seats" field).  Not the same
 * fact as LIMIT_SEATS, though equal today: a product's licenses add up
 * their seats and an uncounted license has no seat count, while one
 * CHECKOUT's COUNT is bounded on the wire whatever the pools hold. */
#define LIMIT_LICENSE_SEATS	1000000
#define LIMIT_LIST_ITEMS	1000	/* HOLDER entries or report ROWs in one
					 * reply (the server also cuts a list to
					 * fit one frame and says so with MORE) */
/* Listening addresses in one INFO reply (the server listens on at most
 * this many: SERVER_MAX_LISTEN). */
#define LIMIT_INFO_LISTEN	16

/* Time (defaults). */
#define LIMIT_HANDSHAKE_MS	10000	/* HELLO + context must finish */
#define LIMIT_IDLE_MS		600000	/* an OPEN connection with no traffic */
#define LIMIT_LEASE_TTL_S	120	/* lease lifetime without heartbeat */
#define LIMIT_LEASE_TTL_MIN_S	2	/* floor for a configured TTL */
#define LIMIT_LEASE_TTL_MAX_S	2592000	/* 30 days: ceiling of a lease's ttl
					 * and linger wherever they are set
					 * (config, policy, license file) */
#define LIMIT_HEARTBEAT_S	30	/* interval the server asks for */
#define LIMIT_HEARTBEAT_MAX_S	86400	/* ceiling of a heartbeat interval
					 * wherever it is set (config, policy,
					 * license file) */
#define LIMIT_ORPHAN_GRACE_S	10	/* a lease whose holder closed its
					 * connection is freed after this */
#define LIMIT_ORPHAN_CTX_SLACK_S 300	/* a client's close this near its GSS
					 * context's end orphans nothing: MIT
					 * adds the clock skew allowed (default
					 * 300 s) to an acceptor's lifetime */
#define LIMIT_CONNECT_MS	5000	/* client connect timeout per address */
#define LIMIT_REPLY_MS		30000	/* client waits this long for a reply */
#define LIMIT_QUEUE_TIMEOUT_S	300	/* a queued checkout gives up (DENY TIMEOUT) */
#define LIMIT_QUEUE_LEN		1000	/* queued checkouts per product */
#define LIMIT_QUEUE_PER_PRINCIPAL 4	/* default: queued checkouts one principal
					 * may have per product */
#define LIMIT_WAIT_STEP_S	20	/* longest the server holds a WAIT reply;
					 * below the client's reply timeout */
#define LIMIT_QUEUE_PARK_S	5	/* a WAIT entry between two steps keeps
					 * its place this long */
#define LIMIT_STORE_POLL_S	2	/* a server on a shared (PostgreSQL)
					 * store looks for leases to expire
					 * at least this often: those granted
					 * by other servers too */
#define LIMIT_STORE_RECONNECT_MS 1000	/* at most one reconnect to a lost
					 * PostgreSQL per this long */
#define LIMIT_STORE_IDLE_TX_MS	5000	/* PostgreSQL ends a server's session
					 * idle this long inside a transaction
					 * (its host gone): the site-wide lock
					 * it held is free again */
#define LIMIT_STORE_CARRY_MS	2	/* a round's transaction that needs no
					 * sync (releases, expiries) is left
					 * open for the next round's commit at
					 * most this long (SQLite) */
#define LIMIT_STORE_WAL_BUF	(127 * 1024)	/* a SQLite connection holds at
					 * most this many WAL bytes before
					 * writing them (store/sqlite_vfs.c);
					 * under 128 KiB: SQLite's unix VFS
					 * cuts a write's length to 17 bits */
#define LIMIT_REVOKED_KEEP_S	86400	/* a removed lease answers REVOKED this
					 * long, then NO_LEASE */

/* Replies queued to one connection beyond which the server stops reading
 * its requests until the client reads (backpressure). */
#define LIMIT_CONN_BACKLOG	(256 * 1024)

/* Connections (defaults).  max_connections not configured is the
 * open-files limit less LIMIT_FD_RESERVE, at most LIMIT_CONN_TOTAL and
 * at least LIMIT_CONN_FIT_MIN (daemon_fit_conns). */
#define LIMIT_CONN_TOTAL	20000
#define LIMIT_FD_RESERVE	64	/* listeners, database, logs, keytab */
#define LIMIT_CONN_FIT_MIN	16
#define LIMIT_CONN_PER_PEER	1000
/* Connections still in the handshake (HELLO or CONTEXT state), in all and
 * from one peer (defaults).  Past either, a new connection evicts the
 * oldest such handshake (of that peer) instead of being refused, so that
 * idle unauthenticated connections never lock real clients out. */
#define LIMIT_CONN_UNAUTH	2000
#define LIMIT_CONN_UNAUTH_PER_PEER	64
/* A peer for the per-peer caps: an IPv4 address, or an IPv6 prefix of
 * this many bits (one site's /64 is one peer). */
#define LIMIT_PEER_V6_PREFIX	64
/* A silent handshake younger than this is not evicted for the two
 * handshake caps above (they give way meanwhile; max_connections and
 * max_connections_per_peer do not): a client gets this long to send its
 * HELLO however fast a flood from its own address comes. */
#define LIMIT_HANDSHAKE_GRACE_MS	250
/* Refused and evicted connections are logged as one summary line at most
 * this often, not one line each. */
#define LIMIT_REFUSE_LOG_MS	10000
/* Connections accepted per listener per turn of the event loop, and the
 * kernel's queue of connections not yet accepted (capped by
 * net.core.somaxconn): a full queue drops new clients' SYNs, which then
 * wait a second for their retransmission. */
#define LIMIT_ACCEPT_BATCH	1024
#define LIMIT_LISTEN_BACKLOG	4096

/* Files the server reads whole in the krb5 profile syntax: its
 * configuration and its policy file (bigger than any sane one; a bound on
 * what is read), and the longest line of the configuration the syntax
 * scanner classifies (longer ones are refused). */
#define LIMIT_CONFIG_BYTES	(1024 * 1024)
#define LIMIT_CONFIG_LINE	4096

/* The HTTP endpoint ([http], server/http.c, server/metrics.c).  A scrape
 * reuses the loop's snapshot of the store and the sessions while it is
 * younger than LIMIT_HTTP_SNAPSHOT_MS (so however often it is scraped the
 * loop queries the store at most that often), and waits at most
 * LIMIT_HTTP_SNAPSHOT_WAIT_MS for a fresh one (a busy loop is not waited
 * for: the older one is shown, with its age).  Per connection the
 * library keeps LIMIT_HTTP_CONN_MEMORY bytes for the request line and
 * headers (a request whose headers do not fit gets 431), at most
 * LIMIT_HTTP_CONNS connections (LIMIT_HTTP_CONNS_PER_IP from one
 * address), each closed after LIMIT_HTTP_TIMEOUT_S idle.  [http] listen
 * takes up to LIMIT_HTTP_LISTEN addresses, [http] allow up to
 * LIMIT_HTTP_ALLOW networks. */
#define LIMIT_HTTP_SNAPSHOT_MS	250
#define LIMIT_HTTP_SNAPSHOT_WAIT_MS	1000
#define LIMIT_HTTP_CONN_MEMORY	(16 * 1024)
#define LIMIT_HTTP_CONNS	64
#define LIMIT_HTTP_CONNS_PER_IP	8
#define LIMIT_HTTP_TIMEOUT_S	10
#define LIMIT_HTTP_LISTEN	8
#define LIMIT_HTTP_ALLOW	32
/* The status page (server/http_page.c, http_auth.c, http_jobs.c): a
 * Negotiate token of at most LIMIT_HTTP_NEGOTIATE_B64 base64 characters
 * (9,000 bytes: a Kerberos AP-REQ with a large PAC; the header must also
 * fit LIMIT_HTTP_CONN_MEMORY); a POST body (the Remove form) of at most
 * LIMIT_HTTP_POST_BYTES; the page lists at most LIMIT_HTTP_PAGE_ROWS
 * holders (it says how many it left out); an HTTP thread waits at most
 * LIMIT_HTTP_JOB_WAIT_MS for the event loop to take its request (a page's
 * data, a removal) before it answers 503. */
#define LIMIT_HTTP_NEGOTIATE_B64	12000
#define LIMIT_HTTP_POST_BYTES	1024
#define LIMIT_HTTP_PAGE_ROWS	1000
#define LIMIT_HTTP_JOB_WAIT_MS	5000

/* Borrowing for offline use (common/borrow.h, PROTOCOL.md section 8.5):
 * the longest borrow any license field or policy may allow, a token's
 * size bound, and how far the client's clock may go back behind the
 * latest time the library has seen before a token is refused. */
#define LIMIT_BORROW_DAYS_MAX	365
#define LIMIT_BORROW_TOKEN	2048	/* bytes of one encoded token */
#define LIMIT_BORROW_CLOCK_BACK_S 3600	/* clock set back: tolerance */

/* Server logging (server/log.c): the longest line (longer ones are cut
 * with "..."); how many distinct lines the folding of repeated lines
 * tracks at once (a bound on its memory: the oldest gives way), how many
 * copies of one line an interval writes before it counts them instead
 * (occasional repeats, such as two rereads, stay whole; a flood is cut
 * to this many and one summary), and the interval's default and ceiling
 * ([logging] repeat_interval). */
#define LIMIT_LOG_LINE		2048
#define LIMIT_LOG_FOLD_LINES	32
#define LIMIT_LOG_FOLD_BURST	10
#define LIMIT_LOG_FOLD_S	30
#define LIMIT_LOG_FOLD_MAX_S	3600

#endif
