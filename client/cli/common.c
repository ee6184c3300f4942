/*
 * The helpers every xlicen verb shares: usage errors, the exit status of
 * a library error and its one-line message, a session set up from the
 * global options, and the date and JSON formatting of the output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int
cli_usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "xlicen: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'xlicen --help'.\n");
	return EXIT_USAGE;
}

/* The exit status for a library error. */
int
cli_exit_for(int rc)
{
	switch (rc) {
	case XLICEN_E_NO_PRODUCT:
	case XLICEN_E_NO_VERSION:
	case XLICEN_E_NO_SEATS:
	case XLICEN_E_EXPIRED:
	case XLICEN_E_NOT_YET:
	case XLICEN_E_NO_LEASE:
	case XLICEN_E_NOT_OWNER:
	case XLICEN_E_COUNT:
	case XLICEN_E_NOT_AUTHORIZED:
	case XLICEN_E_BAD_VALUE:
	case XLICEN_E_REVOKED:
	case XLICEN_E_EXCLUDED:
	case XLICEN_E_MAX_REACHED:
	case XLICEN_E_WRONG_HOST:
	case XLICEN_E_HOST_UNVERIFIED:
	case XLICEN_E_QUEUE_LIMIT:
	case XLICEN_E_CONFIG:
	case XLICEN_E_BORROW:
	case XLICEN_E_BORROW_PERIOD:
	case XLICEN_E_BORROW_LIMIT:
	case XLICEN_E_TOKEN:
	case XLICEN_E_TOKEN_SIGNATURE:
	case XLICEN_E_TOKEN_EXPIRED:
	case XLICEN_E_TOKEN_PRINCIPAL:
	case XLICEN_E_TOKEN_HOST:
	case XLICEN_E_TOKEN_CLOCK:
	case XLICEN_E_NO_TOKEN:
		return EXIT_REFUSED;
	case XLICEN_E_AUDIT_CHAIN:
		return EXIT_AUDIT;
	case XLICEN_E_DB:
	case XLICEN_E_INTERNAL:
		return EXIT_SERVER;
	case XLICEN_E_INVALID:
		return EXIT_USAGE;
	default:
		return EXIT_NOSERVER;
	}
}

/* One line "xlicen: WHAT: summary: details", without saying a thing twice. */
void
cli_error(const xlicen_session *s, const char *what, int rc)
{
	const char *em = xlicen_errmsg(s), *es = xlicen_strerror(rc);

	if (em[0] == '\0' || strstr(em, es) != NULL)
		fprintf(stderr, "xlicen: %s: %s\n", what, em[0] != '\0' ? em : es);
	else
		fprintf(stderr, "xlicen: %s: %s: %s\n", what, es, em);
}

/* A session configured from the global options; NULL after an error
 * message, with *ex set to the exit status. */
xlicen_session *
cli_open_session(const struct cli_global *g, int *ex)
{
	xlicen_session *s = NULL;
	int rc;

	rc = xlicen_session_new(&s, g->servers);
	if (rc != 0) {
		if (rc == XLICEN_E_INVALID)
			fprintf(stderr, "xlicen: bad server list \"%s\": expected "
			    "HOST[:PORT] or [IPV6]:PORT, comma-separated\n",
			    g->servers != NULL ? g->servers :
			    (getenv("XLICEN_SERVER") != NULL ?
			    getenv("XLICEN_SERVER") : ""));
		else
			fprintf(stderr, "xlicen: %s\n", xlicen_strerror(rc));
		*ex = rc == XLICEN_E_INVALID ? EXIT_USAGE : EXIT_NOSERVER;
		return NULL;
	}
	if ((g->service != NULL && (rc = xlicen_set_service(s, g->service)) != 0) ||
	    (rc = xlicen_set_timeout_ms(s, g->timeout_ms)) != 0) {
		fprintf(stderr, "xlicen: --service/--timeout: %s\n",
		    xlicen_strerror(rc));
		xlicen_session_free(s);
		*ex = EXIT_USAGE;
		return NULL;
	}
	return s;
}

/* "YYYY-MM-DD" of a UTC time. */
void
cli_fmt_date(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, outlen, "%Y-%m-%d", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

/*
 * The last day a pool is valid, "YYYY-MM-DD": the server sends the first
 * second it is no longer valid (midnight UTC after the license's last
 * day), and people and license files name the last valid day.
 */
void
cli_fmt_expiry(int64_t expires, char *out, size_t outlen)
{
	cli_fmt_date(expires - 1, out, outlen);
}

/* "YYYY-MM-DDTHH:MM:SSZ" of a UTC time. */
void
cli_fmt_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

/* s as a JSON string, or null when it is absent (NULL or ""): every
 * --json output writes an absent value as null. */
void
cli_json_str_or_null(FILE *f, const char *s)
{
	if (s == NULL || s[0] == '\0')
		fputs("null", f);
	else
		cli_json_str(f, s);
}

/* s as a JSON string, quotes included.  Strings from the server are
 * valid UTF-8 (the decoder checks), so only quoting and control bytes
 * need care. */
void
cli_json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}
