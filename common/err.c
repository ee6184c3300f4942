/*
 * Error codes: the strings for the one error table (xlicen_errors.h), and
 * err_setf, the one printf-into-an-error-buffer helper.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

struct err_entry {
	int code;
	const char *name;
	const char *text;
};

static const struct err_entry err_table[] = {
	{ XLICEN_OK, "OK", "success" },
	{ XLICEN_E_NOMEM, "NOMEM", "out of memory" },
	{ XLICEN_E_INVALID, "INVALID", "invalid argument" },
	{ XLICEN_E_INTERNAL, "INTERNAL", "internal server error" },
	{ XLICEN_E_IO, "IO", "input/output error" },
	{ XLICEN_E_CONNECT, "CONNECT", "could not connect to a license server" },
	{ XLICEN_E_CLOSED, "CLOSED", "connection closed by peer" },
	{ XLICEN_E_TIMEOUT, "TIMEOUT", "operation timed out" },
	{ XLICEN_E_NOT_CONNECTED, "NOT_CONNECTED", "session is not open" },
	{ XLICEN_E_TRUNCATED, "TRUNCATED", "message truncated" },
	{ XLICEN_E_TRAILING, "TRAILING", "trailing bytes after message" },
	{ XLICEN_E_FRAME_TOO_LONG, "FRAME_TOO_LONG", "frame longer than allowed" },
	{ XLICEN_E_FRAME_TYPE, "FRAME_TYPE", "unknown frame type" },
	{ XLICEN_E_FRAME_EMPTY, "FRAME_EMPTY", "empty frame" },
	{ XLICEN_E_MSG_TYPE, "MSG_TYPE", "unknown or unexpected message type" },
	{ XLICEN_E_TLV_CRITICAL, "TLV_CRITICAL", "unknown critical field" },
	{ XLICEN_E_TLV_DUP, "TLV_DUP", "field repeated" },
	{ XLICEN_E_TLV_MISSING, "TLV_MISSING", "required field missing" },
	{ XLICEN_E_TLV_LENGTH, "TLV_LENGTH", "field has the wrong length" },
	{ XLICEN_E_STRING, "STRING", "string too long, not UTF-8, or contains NUL" },
	{ XLICEN_E_TLV_COUNT, "TLV_COUNT", "too many fields in message" },
	{ XLICEN_E_VERSION, "VERSION", "no common protocol version" },
	{ XLICEN_E_STATE, "STATE", "frame not allowed in this protocol state" },
	{ XLICEN_E_BAD_VALUE, "BAD_VALUE", "field value out of range" },
	{ XLICEN_E_GSS, "GSS", "GSS-API failure" },
	{ XLICEN_E_AUTH, "AUTH", "authentication failed" },
	{ XLICEN_E_NO_CREDS, "NO_CREDS", "no usable Kerberos credentials (run kinit)" },
	{ XLICEN_E_GSS_FLAGS, "GSS_FLAGS", "security context lacks a required protection flag" },
	{ XLICEN_E_UNWRAP, "UNWRAP", "message is not a valid confidential GSS token" },
	{ XLICEN_E_CONTEXT_EXPIRED, "CONTEXT_EXPIRED", "security context expired" },
	{ XLICEN_E_NO_PRODUCT, "NO_PRODUCT", "no license for this product" },
	{ XLICEN_E_NO_VERSION, "NO_VERSION", "no license covers this version" },
	{ XLICEN_E_NO_SEATS, "NO_SEATS", "all seats are in use" },
	{ XLICEN_E_EXPIRED, "EXPIRED", "license has expired" },
	{ XLICEN_E_NOT_YET, "NOT_YET", "license is not yet valid" },
	{ XLICEN_E_NO_LEASE, "NO_LEASE", "no such lease" },
	{ XLICEN_E_NOT_OWNER, "NOT_OWNER", "lease belongs to another principal" },
	{ XLICEN_E_COUNT, "COUNT", "seat count out of range" },
	{ XLICEN_E_NOT_AUTHORIZED, "NOT_AUTHORIZED", "not authorized" },
	{ XLICEN_E_DB, "DB", "license database error" },
	{ XLICEN_E_BUSY, "BUSY", "server busy: too many connections" },
	{ XLICEN_E_SHUTDOWN, "SHUTDOWN", "server is shutting down" },
	{ XLICEN_E_LIC_SYNTAX, "LIC_SYNTAX", "malformed license file" },
	{ XLICEN_E_LIC_SIGNATURE, "LIC_SIGNATURE", "license signature does not verify" },
	{ XLICEN_E_LIC_KEY, "LIC_KEY", "unreadable or invalid key" },
	{ XLICEN_E_LIC_NO_VENDOR, "LIC_NO_VENDOR", "no public key for the license's vendor" },
	{ XLICEN_E_CONFIG, "CONFIG", "bad configuration" },
	{ XLICEN_E_REVOKED, "REVOKED", "lease was removed by an administrator" },
	{ XLICEN_E_EXCLUDED, "EXCLUDED", "the server's license policy excludes you" },
	{ XLICEN_E_MAX_REACHED, "MAX_REACHED", "policy limit for you or your group is reached" },
	{ XLICEN_E_WRONG_HOST, "WRONG_HOST", "license is locked to another host" },
	{ XLICEN_E_AUDIT_CHAIN, "AUDIT_CHAIN", "audit trail hash chain is broken" },
	{ XLICEN_E_HOST_UNVERIFIED, "HOST_UNVERIFIED", "the claimed host is not the connection's address" },
	{ XLICEN_E_QUEUE_LIMIT, "QUEUE_LIMIT", "you hold the most places allowed in this product's queue" },
	{ XLICEN_E_BORROW, "BORROW", "borrowing is not allowed for this license or by the policy" },
	{ XLICEN_E_BORROW_PERIOD, "BORROW_PERIOD", "borrow period is longer than allowed" },
	{ XLICEN_E_BORROW_LIMIT, "BORROW_LIMIT", "the product's borrowed seats are at their limit" },
	{ XLICEN_E_TOKEN, "TOKEN", "malformed borrow token" },
	{ XLICEN_E_TOKEN_SIGNATURE, "TOKEN_SIGNATURE", "borrow token signature does not verify against an installed key" },
	{ XLICEN_E_TOKEN_EXPIRED, "TOKEN_EXPIRED", "borrow token has expired" },
	{ XLICEN_E_TOKEN_PRINCIPAL, "TOKEN_PRINCIPAL", "borrow token belongs to another principal" },
	{ XLICEN_E_TOKEN_HOST, "TOKEN_HOST", "borrow token was issued for another host" },
	{ XLICEN_E_TOKEN_CLOCK, "TOKEN_CLOCK", "the clock was set back beyond the tolerance" },
	{ XLICEN_E_NO_TOKEN, "NO_TOKEN", "no borrow token for this product" },
};

static const struct err_entry *
err_find(int code)
{
	size_t i;

	if (code > 0)
		code = -code;
	for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == code)
			return &err_table[i];
	return NULL;
}

const char *
err_str(int code)
{
	const struct err_entry *e = err_find(code);

	return e != NULL ? e->text : "unknown error";
}

const char *
err_name(int code)
{
	const struct err_entry *e = err_find(code);

	return e != NULL ? e->name : "UNKNOWN";
}

int
err_known(int wire_code)
{
	return wire_code > 0 && err_find(wire_code) != NULL;
}

void
err_setf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
