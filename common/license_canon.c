/*
 * A license written out: the canonical form, the fixed-order byte string
 * the vendor's Ed25519 signature covers (comments and spacing of a file
 * do not reach it, every field does), and the human-readable text form
 * the vendor tool writes, which license_parse.c reads back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "license.h"
#include "license_int.h"
#include "xlicen_errors.h"

/* Render a date field: start ("none") or the last valid day of expires. */
static void
license_start_str(int64_t start, char out[11])
{
	if (start == 0)
		snprintf(out, 11, "none");
	else
		license_date_str(start, out);
}

static void
license_expires_str(int64_t expires, char out[11])
{
	if (expires == 0)
		snprintf(out, 11, "permanent");
	else
		license_date_str(expires - SECS_PER_DAY, out);
}

int
license_canonical(const struct license *lic, char **out, size_t *outlen)
{
	char buf[1024], start[11], expires[11], seats[16];
	size_t len;
	int n, ret = XLICEN_E_NOMEM;

	*out = NULL;
	*outlen = 0;
	license_start_str(lic->start, start);
	license_expires_str(lic->expires, expires);
	if (lic->uncounted)
		snprintf(seats, sizeof(seats), "uncounted");
	else
		snprintf(seats, sizeof(seats), "%u", (unsigned)lic->seats);
	n = snprintf(buf, sizeof(buf),
	    LICENSE_CANON_ID "\n"
	    "vendor=%.64s\n"
	    "product=%.64s\n"
	    "versions=%.32s-%.32s\n"
	    "seats=%s\n"
	    "start=%s\n"
	    "expires=%s\n"
	    "serial=%.64s\n"
	    "customer=%.128s\n",
	    lic->vendor, lic->product, lic->ver_min, lic->ver_max,
	    seats, start, expires, lic->serial, lic->customer);
	/* The fields are bounded, so this cannot truncate; refuse rather
	 * than sign a prefix if it ever does. */
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		ret = XLICEN_E_INTERNAL;
		goto out;
	}
	len = (size_t)n;
	/*
	 * The optional fields, each only when set and always in this order:
	 * a license without them has exactly the canonical form it had
	 * before they existed, so its signature still verifies.
	 */
#define CANON_ADD(...) do {						\
		n = snprintf(buf + len, sizeof(buf) - len, __VA_ARGS__);	\
		if (n < 0 || (size_t)n >= sizeof(buf) - len) {		\
			ret = XLICEN_E_INTERNAL;			\
			goto out;					\
		}							\
		len += (size_t)n;					\
	} while (0)
	if (lic->hostid[0] != '\0')
		CANON_ADD("hostid=%.160s\n", lic->hostid);
	if (lic->dup_group[0] != '\0')
		CANON_ADD("dup_group=%.8s\n", lic->dup_group);
	if (lic->linger_s != 0)
		CANON_ADD("linger=%u\n", (unsigned)lic->linger_s);
	if (lic->ttl_s != 0)
		CANON_ADD("ttl=%u\n", (unsigned)lic->ttl_s);
	if (lic->heartbeat_s != 0)
		CANON_ADD("heartbeat=%u\n", (unsigned)lic->heartbeat_s);
	if (lic->borrow_days != 0)
		CANON_ADD("borrow=%u\n", (unsigned)lic->borrow_days);
#undef CANON_ADD
	n = (int)len;
	if ((*out = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(*out, buf, (size_t)n + 1);
	*outlen = (size_t)n;
	ret = 0;
 out:
	return ret;
}

int
license_format(const struct license *lic, const uint8_t sig[64], char **out)
{
	char buf[4096], line[300], start[11], expires[11];
	char b64[SIG_B64_LEN + 1], seats[16];
	size_t len = 0;
	int n, ret = XLICEN_E_INVALID;

	*out = NULL;
	if (license_check(lic, NULL) != 0)
		goto out;
	license_start_str(lic->start, start);
	license_expires_str(lic->expires, expires);
	if (lic->uncounted)
		snprintf(seats, sizeof(seats), "uncounted");
	else
		snprintf(seats, sizeof(seats), "%u", (unsigned)lic->seats);
	if (EVP_EncodeBlock((unsigned char *)b64, sig, LICENSE_SIG_LEN) !=
	    SIG_B64_LEN)
		goto out;

	n = snprintf(buf, sizeof(buf),
	    "# gss-xlicen license file\n"
	    "#\n"
	    "# %s seat%s of %s %s-%s from vendor %s, %s%s.\n"
	    "# Signed with the vendor's Ed25519 key: changing any field below,\n"
	    "# even by one character, makes the server refuse this file.\n"
	    "# Comments and blank lines may be edited freely.  Install it in\n"
	    "# the server's license directory as NAME.lic.\n"
	    "\n"
	    "format: " LICENSE_FORMAT_ID "\n"
	    "vendor: %s\n"
	    "product: %s\n"
	    "versions: %s-%s\n"
	    "seats: %s\n",
	    seats, lic->seats == 1 ? "" : "s", lic->product,
	    lic->ver_min, lic->ver_max, lic->vendor,
	    lic->expires == 0 ? "permanent" : "valid through ",
	    lic->expires == 0 ? "" : expires,
	    lic->vendor, lic->product, lic->ver_min, lic->ver_max,
	    seats);
	if (n < 0 || (size_t)n >= sizeof(buf))
		goto out;
	len = (size_t)n;
#define APPEND(...) do {						\
		n = snprintf(line, sizeof(line), __VA_ARGS__);		\
		if (n < 0 || (size_t)n >= sizeof(line) ||		\
		    sizeof(buf) - len <= (size_t)n)			\
			goto out;					\
		memcpy(buf + len, line, (size_t)n + 1);			\
		len += (size_t)n;					\
	} while (0)
	if (lic->start != 0)
		APPEND("start: %s\n", start);
	APPEND("expires: %s\n", expires);
	APPEND("serial: %s\n", lic->serial);
	if (lic->customer[0] != '\0')
		APPEND("customer: %s\n", lic->customer);
	if (lic->hostid[0] != '\0')
		APPEND("hostid: %s\n", lic->hostid);
	if (lic->dup_group[0] != '\0')
		APPEND("dup_group: %s\n", lic->dup_group);
	if (lic->linger_s != 0)
		APPEND("linger: %u\n", (unsigned)lic->linger_s);
	if (lic->ttl_s != 0)
		APPEND("ttl: %u\n", (unsigned)lic->ttl_s);
	if (lic->heartbeat_s != 0)
		APPEND("heartbeat: %u\n", (unsigned)lic->heartbeat_s);
	if (lic->borrow_days != 0)
		APPEND("borrow: %u\n", (unsigned)lic->borrow_days);
	APPEND("signature: %s\n", b64);
#undef APPEND
	ret = XLICEN_E_NOMEM;
	if ((*out = malloc(len + 1)) == NULL)
		goto out;
	memcpy(*out, buf, len + 1);
	ret = 0;
 out:
	return ret;
}
