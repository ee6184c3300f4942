/*
 * Canonical X display and host names (see display.h).  The input is a
 * client's claim and may be anything up to LIMIT_STRING bytes: every
 * index is checked against the length before use.
 */
#include <stdio.h>
#include <string.h>

#include "display.h"
#include "limits.h"
#include "xlicen_errors.h"

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int
display_canon_host(const char *host, char *out, size_t outlen)
{
	size_t n, i, start = 0;
	int rc = 0;

	if (outlen == 0)
		return 0;
	if (host == NULL)
		host = "";
	n = strlen(host);
	while (start < n && is_blank(host[start]))
		start++;
	while (n > start && (is_blank(host[n - 1]) || host[n - 1] == '.'))
		n--;
	n -= start;
	for (i = 0; i < n; i++)
		if ((unsigned char)host[start + i] <= 0x20 ||
		    host[start + i] == 0x7f)
			rc = XLICEN_E_BAD_VALUE;
	if (n > outlen - 1)
		n = outlen - 1;
	/* Forward copy: out may be host itself (display_canon). */
	for (i = 0; i < n; i++) {
		char c = host[start + i];

		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	return rc;
}

/* Whether the canonical name h is an address literal: an IPv6 address
 * has a ':', an IPv4 one ends in a label of digits (no top-level domain
 * is all digits). */
static int
is_address(const char *h)
{
	const char *last = strrchr(h, '.');

	if (strchr(h, ':') != NULL)
		return 1;
	if (last == NULL || last[1] == '\0')
		return 0;
	for (last++; *last != '\0'; last++)
		if (*last < '0' || *last > '9')
			return 0;
	return 1;
}

int
display_host_key(const char *host, char *out, size_t outlen)
{
	char *dot;
	int rc;

	if (outlen == 0)
		return 0;
	rc = display_canon_host(host, out, outlen);
	if (!is_address(out) && (dot = strchr(out, '.')) != NULL &&
	    dot != out)
		*dot = '\0';
	return rc;
}

int
display_host_same(const char *a, const char *b)
{
	char ka[LIMIT_STRING + 1], kb[LIMIT_STRING + 1];

	/* Longer than any string of the protocol, so not a host name: cut
	 * to fit, its key could be another name's (a cut can make a name
	 * read as an address, or the other way round). */
	if ((a != NULL && strlen(a) > LIMIT_STRING) ||
	    (b != NULL && strlen(b) > LIMIT_STRING))
		return 0;
	display_host_key(a, ka, sizeof(ka));
	display_host_key(b, kb, sizeof(kb));
	return ka[0] != '\0' && strcmp(ka, kb) == 0;
}

/* Whether the canonical host h names the client's own machine. */
static int
is_local(const char *h)
{
	static const char *const local[] = { "", "unix", "localhost",
	    "localhost.localdomain", "127.0.0.1", "::1" };
	size_t i;

	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (strcmp(h, local[i]) == 0)
			return 1;
	return 0;
}

/* Whether "h:D" would not parse back to h: a DECnet "::", a protocol
 * prefix, brackets. */
static int
needs_brackets(const char *h)
{
	size_t n = strlen(h);

	return (n > 0 && h[n - 1] == ':') || strchr(h, '/') != NULL ||
	    h[0] == '[';
}

int
display_canon(const char *display, const char *host, char *out,
    size_t outlen)
{
	char hbuf[256], num[16];
	const char *d, *colon, *slash, *hp;
	size_t n, hn, i, nd, start;
	unsigned long v = 0;
	int w;

	if (out == NULL || outlen == 0)
		return XLICEN_E_INVALID;
	out[0] = '\0';
	if (display == NULL || display[0] == '\0')
		return XLICEN_E_BAD_VALUE;
	n = strlen(display);
	if (n > 255)
		return XLICEN_E_BAD_VALUE;
	/* The display number follows the last ':'. */
	if ((colon = strrchr(display, ':')) == NULL)
		return XLICEN_E_BAD_VALUE;
	d = colon + 1;
	nd = 0;
	while (d[nd] >= '0' && d[nd] <= '9')
		nd++;
	if (nd == 0 || nd > 9)
		return XLICEN_E_BAD_VALUE;
	/* ".S" (screen) may follow, and nothing else. */
	if (d[nd] == '.') {
		for (i = nd + 1; d[i] >= '0' && d[i] <= '9'; i++)
			;
		if (i == nd + 1 || d[i] != '\0')
			return XLICEN_E_BAD_VALUE;
	} else if (d[nd] != '\0') {
		return XLICEN_E_BAD_VALUE;
	}
	for (i = 0; i < nd; i++)
		v = v * 10 + (unsigned long)(d[i] - '0');
	snprintf(num, sizeof(num), "%lu", v);

	/* The host part: before the colon, after a "proto/" prefix (not
	 * inside brackets); a DECnet "host::" leaves one more colon. */
	hp = display;
	hn = (size_t)(colon - display);
	if (hn > 0 && hp[hn - 1] == ':')
		hn--;
	slash = hn > 0 && hp[0] != '[' ? memchr(hp, '/', hn) : NULL;
	if (slash != NULL) {
		start = (size_t)(slash - hp) + 1;
		hp += start;
		hn -= start;
	}
	/* "[v6]": the brackets are syntax, not part of the name. */
	if (hn >= 2 && hp[0] == '[' && hp[hn - 1] == ']') {
		hp++;
		hn -= 2;
	}
	if (hn >= sizeof(hbuf))
		return XLICEN_E_BAD_VALUE;
	memcpy(hbuf, hp, hn);
	hbuf[hn] = '\0';
	display_canon_host(hbuf, hbuf, sizeof(hbuf));
	if (is_local(hbuf))
		display_canon_host(host, hbuf, sizeof(hbuf));
	/* The result is canonical itself: brackets where the name would
	 * otherwise read differently. */
	if (needs_brackets(hbuf))
		w = snprintf(out, outlen, "[%s]:%s", hbuf, num);
	else
		w = snprintf(out, outlen, "%s:%s", hbuf, num);
	if (w < 0 || (size_t)w >= outlen) {
		out[0] = '\0';
		return XLICEN_E_INVALID;
	}
	return 0;
}
