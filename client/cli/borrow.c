/*
 * xlicen borrow: take a seat for offline use (the server signs a token
 * the library stores), and give it back early (--return).  The offline
 * use itself is xlicen_checkout's, through the library.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <getopt.h>

#include "xlicen.h"

#include "cli.h"
#include "limits.h"

enum {
	BORROW_OPT_UNTIL = CLI_OPT_VERB,
	BORROW_OPT_DAYS,
	BORROW_OPT_HOST,
	BORROW_OPT_RETURN,
};

static const struct option borrow_opts[] = {
	{ "until", required_argument, NULL, BORROW_OPT_UNTIL },
	{ "days", required_argument, NULL, BORROW_OPT_DAYS },
	{ "host", required_argument, NULL, BORROW_OPT_HOST },
	{ "return", no_argument, NULL, BORROW_OPT_RETURN },
	{ NULL, 0, NULL, 0 }
};

#define BORROW_USAGE "usage: xlicen borrow PRODUCT [VERSION] (--until DATE | " \
	"--days N) [--host NAME] | borrow --return PRODUCT"

/* --until: YYYY-MM-DD (through the end of that UTC day) or @SECONDS (UTC
 * seconds since 1970); 0 if neither. */
static int64_t
borrow_parse_until(const char *v)
{
	struct tm tm;
	char *end;
	long long n;
	time_t t;

	if (v[0] == '@') {
		n = strtoll(v + 1, &end, 10);
		return end != v + 1 && *end == '\0' && n > 0 ? (int64_t)n : 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return 0;
	if ((t = timegm(&tm)) == (time_t)-1)
		return 0;
	return (int64_t)t + 86400;
}

/* --return PRODUCT. */
static int
borrow_return(struct cli_global *g, const char *product)
{
	xlicen_session *s;
	char what[128];
	int rc, ex = 0;

	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_borrow_return(s, product)) != 0) {
		snprintf(what, sizeof(what), "borrow --return %.80s", product);
		cli_error(s, what, rc);
		ex = cli_exit_for(rc);
	} else {
		printf("returned %s\n", product);
	}
	xlicen_session_free(s);
	return ex;
}

int
cli_cmd_borrow(struct cli_global *g, int argc, char **argv)
{
	struct xlicen_borrow_info bi;
	struct cli_getopt p;
	xlicen_session *s;
	const char *product = NULL, *version = NULL, *host = NULL;
	char what[128], when[32];
	int64_t end = 0;
	long days;
	char *e;
	int c, rc, ex = 0, ret = 0;

	cli_getopt_init(&p, argc, argv, 1, NULL, borrow_opts);
	while ((c = cli_getopt_next(&p, g)) != CLI_END) {
		if (c == CLI_EXIT)
			return p.ex;
		if (c == BORROW_OPT_UNTIL) {
			if ((end = borrow_parse_until(p.val)) == 0)
				return cli_usage_error("borrow: --until %s: "
				    "expected YYYY-MM-DD or @SECONDS", p.val);
		} else if (c == BORROW_OPT_DAYS) {
			days = strtol(p.val, &e, 10);
			if (e == p.val || *e != '\0' || days < 1 ||
			    days > LIMIT_BORROW_DAYS_MAX)
				return cli_usage_error("borrow: --days %s: "
				    "expected a number of days 1..365", p.val);
			end = (int64_t)time(NULL) + days * 86400;
		} else if (c == BORROW_OPT_HOST) {
			host = p.val;
		} else if (c == BORROW_OPT_RETURN) {
			ret = 1;
		} else if (c != CLI_ARG) {
			return cli_usage_error("borrow: unknown option %s",
			    p.arg);
		} else if (product == NULL) {
			product = p.val;
		} else if (version == NULL) {
			version = p.val;
		} else {
			return cli_usage_error("borrow: unexpected argument %s",
			    p.val);
		}
	}
	if (product == NULL)
		return cli_usage_error("%s", BORROW_USAGE);
	if (ret)
		return version == NULL && end == 0 ? borrow_return(g, product) :
		    cli_usage_error("%s", BORROW_USAGE);
	if (end == 0)
		return cli_usage_error("%s", BORROW_USAGE);
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	rc = xlicen_borrow(s, product, version != NULL ? version :
	    DEFAULT_VERSION, end, host, &bi);
	if (rc != 0) {
		snprintf(what, sizeof(what), "borrow %.100s", product);
		cli_error(s, what, rc);
		ex = cli_exit_for(rc);
	} else {
		cli_fmt_time(bi.end, when, sizeof(when));
		printf("borrowed %s lease %s until %s (%u/%u seats in use)\n",
		    product, bi.lease, when, bi.in_use, bi.total);
	}
	xlicen_session_free(s);
	return ex;
}
