/*
 * The one table of gss-xlicen error codes.  Functions return 0 or one of
 * these negative values; on the wire (ALERT, DENY, ERROR) the same code is
 * sent as its positive u16 value.  The numbers are stable: never renumber,
 * only append.  docs/PROTOCOL.md lists them with their meaning.
 *
 * This header is shared by the server, the client library (it is installed
 * next to xlicen.h) and the CLI, and therefore holds nothing but the enum.
 */
#ifndef XLICEN_ERRORS_H
#define XLICEN_ERRORS_H

enum xlicen_error {
	XLICEN_OK = 0,

	/* local / generic */
	XLICEN_E_NOMEM = -1,		/* out of memory */
	XLICEN_E_INVALID = -2,		/* invalid argument */
	XLICEN_E_INTERNAL = -3,		/* internal server error */
	XLICEN_E_IO = -4,		/* system call failed (see errno) */
	XLICEN_E_CONNECT = -5,		/* could not connect to any server */
	XLICEN_E_CLOSED = -6,		/* peer closed the connection */
	XLICEN_E_TIMEOUT = -7,		/* operation timed out */
	XLICEN_E_NOT_CONNECTED = -8,	/* session is not open */

	/* framing and message codec (wire) */
	XLICEN_E_TRUNCATED = -20,	/* input ended inside a field */
	XLICEN_E_TRAILING = -21,	/* bytes left after a complete field */
	XLICEN_E_FRAME_TOO_LONG = -22,	/* frame length over the limit */
	XLICEN_E_FRAME_TYPE = -23,	/* unknown frame type */
	XLICEN_E_FRAME_EMPTY = -24,	/* zero-length frame */
	XLICEN_E_MSG_TYPE = -25,	/* unknown message type */
	XLICEN_E_TLV_CRITICAL = -26,	/* unknown critical TLV */
	XLICEN_E_TLV_DUP = -27,		/* TLV repeated */
	XLICEN_E_TLV_MISSING = -28,	/* required TLV absent */
	XLICEN_E_TLV_LENGTH = -29,	/* TLV value has the wrong length */
	XLICEN_E_STRING = -30,		/* string too long, not UTF-8, or has NUL */
	XLICEN_E_TLV_COUNT = -31,	/* too many TLVs */
	XLICEN_E_VERSION = -32,		/* no common protocol version */
	XLICEN_E_STATE = -33,		/* frame not legal in this state */
	XLICEN_E_BAD_VALUE = -34,	/* a field has an out-of-range value */

	/* authentication */
	XLICEN_E_GSS = -40,		/* GSS-API call failed */
	XLICEN_E_AUTH = -41,		/* authentication failed */
	XLICEN_E_NO_CREDS = -42,	/* no usable Kerberos credentials */
	XLICEN_E_GSS_FLAGS = -43,	/* context lacks a required flag */
	XLICEN_E_UNWRAP = -44,		/* DATA not a valid/confidential token */
	XLICEN_E_CONTEXT_EXPIRED = -45,	/* GSS context lifetime ended */

	/* licensing */
	XLICEN_E_NO_PRODUCT = -60,	/* no license for this product */
	XLICEN_E_NO_VERSION = -61,	/* no license covers this version */
	XLICEN_E_NO_SEATS = -62,	/* all seats are in use */
	XLICEN_E_EXPIRED = -63,		/* license has expired */
	XLICEN_E_NOT_YET = -64,		/* license not yet valid */
	XLICEN_E_NO_LEASE = -65,	/* no such lease (expired or released) */
	XLICEN_E_NOT_OWNER = -66,	/* lease belongs to another principal */
	XLICEN_E_COUNT = -67,		/* seat count out of range */
	XLICEN_E_NOT_AUTHORIZED = -68,	/* principal may not do this */
	XLICEN_E_DB = -69,		/* license database error */
	XLICEN_E_BUSY = -70,		/* server at its connection limit */
	XLICEN_E_SHUTDOWN = -71,	/* server is shutting down */

	/* license files and keys */
	XLICEN_E_LIC_SYNTAX = -80,	/* malformed license file */
	XLICEN_E_LIC_SIGNATURE = -81,	/* signature does not verify */
	XLICEN_E_LIC_KEY = -82,		/* unreadable or wrong key */
	XLICEN_E_LIC_NO_VENDOR = -83,	/* no key for the license's vendor */
	XLICEN_E_CONFIG = -84,		/* bad configuration */

	/* seat lifecycle and policy (appended; numbered in the licensing
	 * range, where the gap after SHUTDOWN was left for them) */
	XLICEN_E_REVOKED = -72,		/* lease removed by an administrator */
	XLICEN_E_EXCLUDED = -73,	/* the server's policy excludes the caller */
	XLICEN_E_MAX_REACHED = -74,	/* a policy MAX for the caller is reached */
	XLICEN_E_WRONG_HOST = -75,	/* license is locked to another host */
	XLICEN_E_AUDIT_CHAIN = -76,	/* audit trail hash chain is broken */
	XLICEN_E_HOST_UNVERIFIED = -77,	/* claimed host is not the peer's address */
	XLICEN_E_QUEUE_LIMIT = -78,	/* principal holds its most queue places */

	/* borrowing for offline use (docs/PROTOCOL.md section 8.5) */
	XLICEN_E_BORROW = -90,		/* license or policy does not allow borrowing */
	XLICEN_E_BORROW_PERIOD = -91,	/* borrow period longer than allowed */
	XLICEN_E_BORROW_LIMIT = -92,	/* the product's borrowed seats are at their cap */
	XLICEN_E_TOKEN = -93,		/* malformed borrow token */
	XLICEN_E_TOKEN_SIGNATURE = -94,	/* token signature does not verify */
	XLICEN_E_TOKEN_EXPIRED = -95,	/* borrow token has expired */
	XLICEN_E_TOKEN_PRINCIPAL = -96,	/* token belongs to another principal */
	XLICEN_E_TOKEN_HOST = -97,	/* token was issued for another host */
	XLICEN_E_TOKEN_CLOCK = -98,	/* clock set back beyond the tolerance */
	XLICEN_E_NO_TOKEN = -99,	/* no borrow token for this product */
};

#endif
