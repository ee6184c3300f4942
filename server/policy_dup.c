/*
 * Dup grouping (policy.h): the names of the modes and the key that makes
 * checkouts share a seat.  Part of the policy module, apart from the
 * options file: a license file's own dup_group uses it too, with or
 * without a policy.
 */
#include <stdio.h>
#include <string.h>

#include "display.h"
#include "policy.h"
#include "xlicen_errors.h"

static const char *const dup_names[] = {
	[POLICY_DUP_UHD] = "uhd", [POLICY_DUP_USER] = "user",
	[POLICY_DUP_HOST] = "host", [POLICY_DUP_DISPLAY] = "display",
	[POLICY_DUP_SITE] = "site", [POLICY_DUP_NONE] = "none",
};

const char *
policy_dup_name(enum policy_dup d)
{
	if ((unsigned)d >= sizeof(dup_names) / sizeof(dup_names[0]))
		return "uhd";
	return dup_names[d];
}

int
policy_dup_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return POLICY_DUP_UNKNOWN;
	for (i = 0; i < sizeof(dup_names) / sizeof(dup_names[0]); i++)
		if (strcmp(s, dup_names[i]) == 0)
			return (int)i;
	return POLICY_DUP_UNKNOWN;
}

int
policy_group_key(enum policy_dup d, const char *principal,
    const char *claimed_host, const char *display, uint32_t pid,
    const char *unique, char *out, size_t outlen)
{
	char disp[300], host[256];
	int n;

	if (out == NULL || outlen == 0)
		return XLICEN_E_INVALID;
	out[0] = '\0';
	if (principal == NULL)
		principal = "";
	/* One host under two spellings is one group (common/display.h). */
	display_host_key(claimed_host, host, sizeof(host));
	if (unique == NULL)
		unique = "";
	/* No display: the process is the display, so that two jobs of one
	 * user on one host are two seats (as two terminals would be). */
	if (display == NULL || display[0] == '\0')
		snprintf(disp, sizeof(disp), "%s/pid:%u", host, (unsigned)pid);
	else
		snprintf(disp, sizeof(disp), "%s", display);
	/* Client strings may contain any character (even a newline), so
	 * every part is length-prefixed rather than separated. */
	switch (d) {
	case POLICY_DUP_UHD:
		n = snprintf(out, outlen, "uhd:%zu:%s%zu:%s%zu:%s",
		    strlen(principal), principal, strlen(host), host,
		    strlen(disp), disp);
		break;
	case POLICY_DUP_USER:
		n = snprintf(out, outlen, "user:%zu:%s", strlen(principal),
		    principal);
		break;
	case POLICY_DUP_HOST:
		n = snprintf(out, outlen, "host:%zu:%s", strlen(host), host);
		break;
	case POLICY_DUP_DISPLAY:
		n = snprintf(out, outlen, "display:%zu:%s", strlen(disp), disp);
		break;
	case POLICY_DUP_SITE:
		n = snprintf(out, outlen, "site");
		break;
	case POLICY_DUP_NONE:
	default:
		n = snprintf(out, outlen, "none:%s", unique);
		break;
	}
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return XLICEN_E_INVALID;
	}
	return 0;
}
