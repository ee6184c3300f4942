/*
 * libFuzzer target: license_check, license_canonical and license_format on
 * a struct license built from the input, the way the vendor tool builds one
 * from its command line before signing.  The server later parses the text
 * the vendor tool wrote, so:
 *
 *   - whatever license_check accepts must format (license_format), parse
 *     back (license_parse) to the same fields and signature, and give the
 *     same canonical form; otherwise a vendor could sign a license that no
 *     server accepts, or one the server reads differently from what was
 *     signed;
 *   - the canonical form has exactly its nine lines: no field value may add
 *     a line (the signature covers this string, so it must be unambiguous);
 *   - a refusal is XLICEN_E_LIC_SYNTAX with a printable ASCII reason.
 *
 * Input: u8 flags | u32 seats | u64 start | u64 expires | u32 linger |
 * u32 ttl | u32 heartbeat | 64 bytes sig | then eight strings, each u8
 * length + bytes: vendor, product, ver_min, ver_max, serial, customer,
 * hostid, dup_group (clipped to the field; a string that fills its field
 * has no terminator, which license_check must refuse).  Missing bytes read
 * as 0.  flags bit 0: start is a whole day count (u32 days) rather than raw
 * seconds; bit 1: the same for expires; bit 2: seats modulo
 * LIMIT_LICENSE_SEATS + 2; bit 3: uncounted; bit 4: linger, ttl and
 * heartbeat modulo (their maximum + 2).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "license.h"
#include "xlicen_errors.h"

#include "fuzz_check.h"

#define SECS_PER_DAY	86400

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t
take_uint(struct input *in, size_t bytes)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < bytes; i++) {
		v <<= 8;
		if (in->n > 0) {
			v |= *in->p++;
			in->n--;
		}
	}
	return v;
}

/* Copy the next string into dst (size bytes), clipped; no terminator if
 * it fills dst (dst was zeroed, so shorter ones are terminated).  Bytes
 * after an embedded NUL are zeroed, as license_parse leaves them, so that
 * equal licenses are equal byte for byte. */
static void
take_str(struct input *in, char *dst, size_t size)
{
	size_t len = (size_t)take_uint(in, 1), n;

	if (len > in->n)
		len = in->n;
	memcpy(dst, in->p, len < size ? len : size);
	in->p += len;
	in->n -= len;
	n = strnlen(dst, size);
	memset(dst + n, 0, size - n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct license lic, lic2;
	struct license_error err;
	uint8_t sig[LICENSE_SIG_LEN], sig2[LICENSE_SIG_LEN];
	char *text = NULL, *c1 = NULL, *c2 = NULL;
	size_t n1 = 0, n2 = 0, i, lines, want;
	unsigned flags;
	uint64_t v;
	int rc;

	memset(&lic, 0, sizeof(lic));
	flags = (unsigned)take_uint(&in, 1);
	lic.seats = (uint32_t)take_uint(&in, 4);
	if (flags & 4)
		lic.seats %= LIMIT_LICENSE_SEATS + 2;
	v = take_uint(&in, 8);
	lic.start = (flags & 1) ? (int64_t)(uint32_t)v * SECS_PER_DAY :
	    (int64_t)v;
	v = take_uint(&in, 8);
	lic.expires = (flags & 2) ? (int64_t)(uint32_t)v * SECS_PER_DAY :
	    (int64_t)v;
	lic.uncounted = (flags & 8) != 0;
	lic.linger_s = (uint32_t)take_uint(&in, 4);
	lic.ttl_s = (uint32_t)take_uint(&in, 4);
	lic.heartbeat_s = (uint32_t)take_uint(&in, 4);
	if (flags & 16) {
		lic.linger_s %= LIMIT_LEASE_TTL_MAX_S + 2;
		lic.ttl_s %= LIMIT_LEASE_TTL_MAX_S + 2;
		lic.heartbeat_s %= LIMIT_HEARTBEAT_MAX_S + 2;
	}
	for (i = 0; i < LICENSE_SIG_LEN; i++)
		sig[i] = (uint8_t)take_uint(&in, 1);
	take_str(&in, lic.vendor, sizeof(lic.vendor));
	take_str(&in, lic.product, sizeof(lic.product));
	take_str(&in, lic.ver_min, sizeof(lic.ver_min));
	take_str(&in, lic.ver_max, sizeof(lic.ver_max));
	take_str(&in, lic.serial, sizeof(lic.serial));
	take_str(&in, lic.customer, sizeof(lic.customer));
	take_str(&in, lic.hostid, sizeof(lic.hostid));
	take_str(&in, lic.dup_group, sizeof(lic.dup_group));

	rc = license_check(&lic, &err);
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_LIC_SYNTAX);
	FUZZ_CHECK(memchr(err.reason, '\0', sizeof(err.reason)) != NULL);
	for (i = 0; err.reason[i] != '\0'; i++)
		FUZZ_CHECK(err.reason[i] >= 0x20 && err.reason[i] < 0x7f);
	FUZZ_CHECK(err.line == 0);
	if (rc != 0) {
		FUZZ_CHECK(err.reason[0] != '\0');
		/* The vendor tool's path: format refuses it too. */
		FUZZ_CHECK(license_format(&lic, sig, &text) == XLICEN_E_INVALID);
		FUZZ_CHECK(text == NULL);
		return 0;
	}

	FUZZ_CHECK(license_canonical(&lic, &c1, &n1) == 0);
	FUZZ_CHECK(strlen(c1) == n1);
	/* Nine lines, and one per optional field that is set. */
	want = 9 + (lic.hostid[0] != '\0') + (lic.dup_group[0] != '\0') +
	    (lic.linger_s != 0) + (lic.ttl_s != 0) + (lic.heartbeat_s != 0);
	for (i = 0, lines = 0; i < n1; i++)
		lines += c1[i] == '\n';
	FUZZ_CHECK(lines == want && c1[n1 - 1] == '\n');

	rc = license_format(&lic, sig, &text);
	FUZZ_CHECK(rc == 0 && text != NULL);
	rc = license_parse(text, strlen(text), &lic2, sig2, &err);
	if (rc != 0)
		fprintf(stderr, "re-parse failed at line %u: %s\n%s", err.line,
		    err.reason, text);
	FUZZ_CHECK(rc == 0);
	/* Every field, new ones too: both structs are zero but for them. */
	for (i = 0; i < sizeof(lic); i++) {
		if (((uint8_t *)&lic)[i] != ((uint8_t *)&lic2)[i]) {
			fprintf(stderr, "struct license differs at byte %zu\n%s",
			    i, text);
			abort();
		}
	}
	FUZZ_CHECK(memcmp(sig, sig2, LICENSE_SIG_LEN) == 0);
	FUZZ_CHECK(license_canonical(&lic2, &c2, &n2) == 0);
	FUZZ_CHECK(n1 == n2 && memcmp(c1, c2, n1) == 0);

	free(text);
	free(c1);
	free(c2);
	return 0;
}
