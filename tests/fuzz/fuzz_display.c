/*
 * libFuzzer target: display_canon and display_canon_host, which turn the
 * X display and host name a client claims (CHECKOUT DISPLAY and HOST, up
 * to LIMIT_STRING bytes of anything) into the keys seats are grouped by.
 *
 * Input: display, then optionally a NUL and the client's host name (no
 * NUL: host is NULL).  Properties checked, from the contract in display.h:
 *   - the result is 0, XLICEN_E_BAD_VALUE or XLICEN_E_INVALID; out is
 *     NUL-terminated and "" on error;
 *   - the display is refused exactly when a reference check of its syntax
 *     fails (1 to 255 bytes, a ':' whose tail is 1 to 9 digits and an
 *     optional ".S" screen); the output is "HOST:D" with D the display
 *     number without leading zeros, and ":D" takes the client's host
 *     (display_canon_host: blanks around it and final dots dropped,
 *     ASCII lowered, cut; BAD_VALUE when a control character or blank
 *     is left inside; display_host_key a prefix of it ending at a dot,
 *     its own key), in
 *     brackets exactly when it ends in ':', has a '/' or starts with '[';
 *   - the host part has no ASCII capitals, and flipping the case of the
 *     input's ASCII letters or dropping its screen number changes nothing;
 *   - the output is canonical: display_canon of it (same client host)
 *     gives it back, unless it is over 255 bytes;
 *   - out of exactly strlen(result) + 1 bytes works, one byte less is
 *     XLICEN_E_INVALID with out = "".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
#include "limits.h"
#include "xlicen_errors.h"

#include "fuzz_check.h"

#define OUT_BIG	1024

/* display_canon_host from its contract, into a big enough out: returns
 * XLICEN_E_BAD_VALUE if a control character or blank is left inside. */
static int
ref_canon_host(const char *host, char *out, size_t outlen)
{
	size_t n = host != NULL ? strlen(host) : 0, i, b = 0;
	int rc = 0;

	while (b < n && (host[b] == ' ' || host[b] == '\t'))
		b++;
	while (n > b && (host[n - 1] == ' ' || host[n - 1] == '\t' ||
	    host[n - 1] == '.'))
		n--;
	for (i = b; i < n; i++)
		if ((unsigned char)host[i] < 0x21 || host[i] == 0x7f)
			rc = XLICEN_E_BAD_VALUE;
	if (n - b > outlen - 1)
		n = b + outlen - 1;
	for (i = b; i < n; i++)
		out[i - b] = (host[i] >= 'A' && host[i] <= 'Z') ?
		    (char)(host[i] + ('a' - 'A')) : host[i];
	out[n - b] = '\0';
	return rc;
}

/* The display number of a syntactically valid display, or -1. */
static long
ref_display_number(const char *d)
{
	const char *c = strrchr(d, ':'), *p;
	size_t n = strlen(d), digits;

	if (n < 1 || n > 255 || c == NULL)
		return -1;
	p = c + 1;
	digits = strspn(p, "0123456789");
	if (digits < 1 || digits > 9)
		return -1;
	if (p[digits] == '.') {
		size_t s = strspn(p + digits + 1, "0123456789");

		if (s < 1 || p[digits + 1 + s] != '\0')
			return -1;
	} else if (p[digits] != '\0') {
		return -1;
	}
	return strtol(p, NULL, 10);
}

static void
check_host(const char *host)
{
	static const size_t sizes[] = { 1, 2, 8, 256, OUT_BIG };
	char out[OUT_BIG], ref[OUT_BIG], key[OUT_BIG], key2[OUT_BIG];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(out, 'x', sizeof(out));
		rc = display_canon_host(host, out, sizes[i]);
		FUZZ_CHECK(rc == ref_canon_host(host, ref, sizes[i]));
		FUZZ_CHECK(strcmp(out, ref) == 0);
		/* The key is the canonical name or a prefix of it that ends
		 * before a dot, and is its own key. */
		memset(key, 'x', sizeof(key));
		FUZZ_CHECK(display_host_key(host, key, sizes[i]) == rc);
		FUZZ_CHECK(strncmp(key, ref, strlen(key)) == 0);
		FUZZ_CHECK(ref[strlen(key)] == '\0' || ref[strlen(key)] == '.');
		if (rc == 0 && sizes[i] == OUT_BIG) {
			display_host_key(key, key2, sizeof(key2));
			FUZZ_CHECK(strcmp(key, key2) == 0);
			FUZZ_CHECK(display_host_same(host, key) ==
			    (key[0] != '\0' && strlen(host) <= LIMIT_STRING));
		}
	}
	out[0] = 'x';
	display_canon_host(host, out, 0);
	FUZZ_CHECK(out[0] == 'x');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[OUT_BIG], out2[OUT_BIG], hostcanon[OUT_BIG];
	char *buf, *display, *host = NULL, *flip, *colon, *dot;
	size_t dn, len, i;
	long num;
	int rc, rc2;

	if (size > 4096)
		return 0;
	if ((buf = malloc(size + 2)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	display = buf;
	dn = strlen(display);
	if (dn < size)
		host = buf + dn + 1;	/* up to the next NUL or the end */

	check_host(host);
	check_host(display);

	FUZZ_CHECK(display_canon(display, host, NULL, 10) == XLICEN_E_INVALID);
	FUZZ_CHECK(display_canon(display, host, out, 0) == XLICEN_E_INVALID);
	FUZZ_CHECK(display_canon(NULL, host, out, sizeof(out)) ==
	    XLICEN_E_BAD_VALUE && out[0] == '\0');

	memset(out, 'x', sizeof(out));
	rc = display_canon(display, host, out, sizeof(out));
	FUZZ_CHECK(rc == 0 || rc == XLICEN_E_BAD_VALUE);
	FUZZ_CHECK(memchr(out, '\0', sizeof(out)) != NULL);
	num = ref_display_number(display);
	FUZZ_CHECK((rc == 0) == (num >= 0));
	if (rc != 0) {
		FUZZ_CHECK(out[0] == '\0');
		free(buf);
		return 0;
	}

	/* "HOST:D" */
	len = strlen(out);
	colon = strrchr(out, ':');
	FUZZ_CHECK(colon != NULL);
	FUZZ_CHECK(strtol(colon + 1, NULL, 10) == num);
	FUZZ_CHECK(colon[1] != '0' || colon[2] == '\0');
	FUZZ_CHECK(strspn(colon + 1, "0123456789") == strlen(colon + 1));
	for (i = 0; out + i < colon; i++)
		FUZZ_CHECK(out[i] < 'A' || out[i] > 'Z');
	if (display[0] == ':' && strchr(display + 1, ':') == NULL) {
		size_t hn;
		int br;

		ref_canon_host(host, hostcanon, 256);
		hn = strlen(hostcanon);
		br = (hn > 0 && hostcanon[hn - 1] == ':') ||
		    strchr(hostcanon, '/') != NULL || hostcanon[0] == '[';
		FUZZ_CHECK((size_t)(colon - out) == hn + (br ? 2 : 0) &&
		    memcmp(out + br, hostcanon, hn) == 0);
		FUZZ_CHECK(!br || (out[0] == '[' && out[hn + 1] == ']'));
	}

	/* Canonical: the result is its own canonical form (a display name
	 * longer than 255 bytes is refused, and a long client host can make
	 * one). */
	rc2 = display_canon(out, host, out2, sizeof(out2));
	FUZZ_CHECK(len > 255 ? rc2 == XLICEN_E_BAD_VALUE :
	    rc2 == 0 && strcmp(out2, out) == 0);

	/* Exactly enough room, and one byte too little. */
	rc2 = display_canon(display, host, out2, len + 1);
	FUZZ_CHECK(rc2 == 0 && strcmp(out2, out) == 0);
	memset(out2, 'x', sizeof(out2));
	rc2 = display_canon(display, host, out2, len);
	FUZZ_CHECK(rc2 == XLICEN_E_INVALID && out2[0] == '\0');

	/* The case of ASCII letters does not matter. */
	if ((flip = strdup(display)) != NULL) {
		for (i = 0; flip[i] != '\0'; i++) {
			if (flip[i] >= 'a' && flip[i] <= 'z')
				flip[i] = (char)(flip[i] - ('a' - 'A'));
			else if (flip[i] >= 'A' && flip[i] <= 'Z')
				flip[i] = (char)(flip[i] + ('a' - 'A'));
		}
		rc2 = display_canon(flip, host, out2, sizeof(out2));
		FUZZ_CHECK(rc2 == 0 && strcmp(out2, out) == 0);
		free(flip);
	}

	/* Neither does the screen number. */
	colon = strrchr(display, ':');
	if ((dot = strchr(colon, '.')) != NULL) {
		*dot = '\0';
		rc2 = display_canon(display, host, out2, sizeof(out2));
		FUZZ_CHECK(rc2 == 0 && strcmp(out2, out) == 0);
	}
	free(buf);
	return 0;
}
