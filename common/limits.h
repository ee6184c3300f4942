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
/* ALERT reason text. */
#define LIMIT_ALERT_REASON	512

/* Messages. */
#define LIMIT_STRING		255	/* any string field, bytes */
#define LIMIT_TLV_COUNT		64	/* TLVs in one message */
#define LIMIT_STATUS_POOLS	512	/* pools in one STATUS reply: 512 pools of
					 * the longest names fit one frame */
#define LIMIT_LEASE_ID		64	/* lease id string */
#define LIMIT_SEATS		1000000	/* seats asked in one checkout */
#define LIMIT_LIST_ITEMS	1000	/* HOLDER entries or report ROWs in one
					 * reply (the server also cuts a list to
					 * fit one frame and says so with MORE) */

/* Time (defaults). */
#define LIMIT_HANDSHAKE_MS	10000	/* HELLO + context must finish */
#define LIMIT_IDLE_MS		600000	/* an OPEN connection with no traffic */
#define LIMIT_LEASE_TTL_S	120	/* lease lifetime without heartbeat */
#define LIMIT_LEASE_TTL_MIN_S	2	/* floor for a configured TTL */
#define LIMIT_HEARTBEAT_S	30	/* interval the server asks for */
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
#define LIMIT_REVOKED_KEEP_S	86400	/* a removed lease answers REVOKED this
					 * long, then NO_LEASE */

/* Replies queued to one connection beyond which the server stops reading
 * its requests until the client reads (backpressure). */
#define LIMIT_CONN_BACKLOG	(256 * 1024)

/* Connections (defaults). */
#define LIMIT_CONN_TOTAL	20000
#define LIMIT_CONN_PER_PEER	1000

#endif
