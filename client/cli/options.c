/*
 * The command line every xlicen verb shares: the global options (-s,
 * --service, -t, -h, -V), accepted before and after the verb, the usage
 * text -h prints, and the option scanner over getopt_long that adds them
 * to a verb's own options (cli_getopt_*, cli_one_operand).  The verbs
 * call it; it calls none of them.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The global options, added to every verb's. */
static const struct option options_global_opts[] = {
	{ "server", required_argument, NULL, 's' },
	{ "service", required_argument, NULL, CLI_OPT_SERVICE },
	{ "timeout", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};
#define OPTIONS_GLOBAL_SHORTOPTS	"s:t:hV"

void
cli_usage(FILE *f)
{
	fprintf(f,
"usage: xlicen [-s HOST[:PORT][,...]] [--service NAME] [-t SECONDS] COMMAND\n"
"\n"
"commands:\n"
"  status [PRODUCT] [--json]       license pools: seats in use, dates, state,\n"
"                                  queue, kind\n"
"  checkout [-n COUNT] [--wait[=SECONDS]] [--host NAME] [--display DPY]\n"
"           [--kill-after SECONDS] [--keep-running]\n"
"           PRODUCT [VERSION] -- COMMAND [ARGS...]\n"
"                                  hold COUNT seats (default 1) of PRODUCT at\n"
"                                  VERSION (default " DEFAULT_VERSION ") while COMMAND runs;\n"
"                                  --wait: wait in the server's queue for a seat;\n"
"                                  a lost lease ends COMMAND (SIGTERM, SIGKILL\n"
"                                  --kill-after seconds later, default 10)\n"
"                                  unless --keep-running\n"
"  release LEASE                   give back a lease you hold\n"
"  release --mine [--all] [PRODUCT]\n"
"                                  release your leases no program holds any\n"
"                                  more (--all: every lease of yours)\n"
"  leases [PRODUCT] [--json]       your own leases and queued checkouts\n"
"  reclaim LEASE                   re-attach your lease after a reconnect\n"
"  borrow PRODUCT [VERSION] (--until DATE | --days N) [--host NAME]\n"
"                                  borrow a seat for offline use (the server's\n"
"                                  signed token is kept in your state directory;\n"
"                                  checkout uses it while no server answers)\n"
"  borrow --return PRODUCT         give a borrowed seat back early\n"
"  info [--json]                   the server: version, start and uptime,\n"
"                                  license directory, licenses loaded and\n"
"                                  refused, listening addresses\n"
"\n"
"admin commands (your principal must be on the server's admin ACL):\n"
"  holders [PRODUCT] [--json]      every lease, queued checkout, lingering seat\n"
"  remove LEASE                    revoke a lease; its seat is free at once\n"
"                                  (a borrowed one: cancelled, counted until\n"
"                                  its end)\n"
"  reread                          reread the license files and the policy\n"
"  shutdown                        stop the server\n"
"  report [--from DATE] [--to DATE] [--product P] [--format table|csv|json]\n"
"                                  usage per product and principal: grants,\n"
"                                  denials, peak and average seats, hours\n"
"                                  (without --from: since the first event)\n"
"  report --events [--from DATE] [--to DATE] [--product P]\n"
"         [--format table|csv|json]\n"
"                                  the raw audit events, one per line\n"
"  report verify [--database FILE] check the audit trail's hash chain, on the\n"
"                                  server or in its database file (read-only)\n"
"  DATE is YYYY-MM-DD (UTC; --to includes that day), YYYY-MM-DDTHH:MM:SSZ\n"
"  or @SECONDS since 1970.\n"
"\n"
"options:\n"
"  -s, --server LIST    servers to try in order, HOST[:PORT] or [IPV6]:PORT,\n"
"                       comma-separated (default $XLICEN_SERVER, else the\n"
"                       servers of the DNS SRV records _gss-xlicen._tcp of\n"
"                       this host's domain, else localhost; port %d)\n"
"      --service NAME   GSS service name service@host (default $XLICEN_SERVICE,\n"
"                       else gss-xlicen@HOST)\n"
"  -t, --timeout SECS   wait at most this long for the server at each step\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n"
"These options may also follow COMMAND (checkout: before its --).\n"
"\n"
"Authentication uses your Kerberos tickets (kinit).\n"
"exit status: 0 ok, 1 usage error, 2 denied or refused by the server,\n"
"3 connection or authentication failure, 4 audit trail broken, 5 server\n"
"failure (database error); checkout: 124 the lease was lost and the command\n"
"ended, else the command's status (128+N if killed by signal N).\n",
	    XLICEN_DEFAULT_PORT);
}

/* A --timeout value: seconds, fractions allowed, above 0 and at most
 * 3600, into *ms (at least 1); false if it is none. */
static bool
options_parse_timeout(const char *arg, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v > 0) || v > 3600)
		return false;
	*ms = (int)(v * 1000);
	if (*ms < 1)
		*ms = 1;
	return true;
}

void
cli_getopt_init(struct cli_getopt *p, int argc, char **argv, int verb,
    const char *shortopts, const struct option *longopts)
{
	size_t n = 0, i;

	memset(p, 0, sizeof(*p));
	p->argc = argc;
	p->argv = argv;
	p->verb = verb;
	/* "-": every argument in order, operands too (verb); "+": stop at
	 * the first operand.  ":": a missing value is ':', and getopt
	 * prints nothing (the messages are xlicen's own). */
	snprintf(p->shortopts, sizeof(p->shortopts), "%s%s" OPTIONS_GLOBAL_SHORTOPTS,
	    verb ? "-:" : "+:", shortopts != NULL ? shortopts : "");
	for (i = 0; longopts != NULL && longopts[i].name != NULL &&
	    n < CLI_MAX_VERB_OPTS; i++)
		p->longopts[n++] = longopts[i];
	for (i = 0; options_global_opts[i].name != NULL; i++)
		p->longopts[n++] = options_global_opts[i];
	p->next = 1;
	/* 0: getopt starts afresh, with the new ordering. */
	optind = 0;
	opterr = 0;
}

/*
 * Whether argument at, which getopt took as an option (long option li,
 * or -1 for a short one), is that option spelled whole and alone in its
 * argument: getopt also takes "--js" for --json and "-hV" for -h -V,
 * which xlicen never did.
 */
static bool
options_spelled_whole(const struct cli_getopt *p, int at, int li)
{
	const char *a = p->argv[at], *name;
	size_t len;

	if (li < 0)
		/* getopt moves past an argument once it is used up (a value
		 * included); it stays when more letters follow. */
		return p->next > at;
	name = p->longopts[li].name;
	len = strlen(name);
	return strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, len) == 0 &&
	    (a[2 + len] == '\0' || a[2 + len] == '=');
}

/* Apply global option c (value val) to *g; false when the scan is to
 * stop with p->ex (help, version, a bad value). */
static bool
options_global(struct cli_getopt *p, struct cli_global *g, int c,
    const char *val)
{
	switch (c) {
	case 's':
		g->servers = val;
		return true;
	case CLI_OPT_SERVICE:
		g->service = val;
		return true;
	case 't':
		if (options_parse_timeout(val, &g->timeout_ms))
			return true;
		p->ex = cli_usage_error("bad timeout \"%s\" (seconds, at most "
		    "3600)", val);
		return false;
	case 'h':
		cli_usage(stdout);
		p->ex = 0;
		return false;
	default:	/* 'V' */
		printf("xlicen %s (libxlicen %s)\n", XLICEN_VERSION,
		    xlicen_version());
		p->ex = 0;
		return false;
	}
}

/* Whether c is the code of a global option. */
static bool
options_is_global(int c)
{
	return c == 's' || c == 't' || c == 'h' || c == 'V' ||
	    c == CLI_OPT_SERVICE;
}

int
cli_getopt_next(struct cli_getopt *p, struct cli_global *g)
{
	int at, c, li;

	for (;;) {
		at = p->next;
		if (at >= p->argc)
			return CLI_END;
		if (p->verb && strcmp(p->argv[at], "--") == 0) {
			p->arg = p->argv[at];
			p->next = optind = at + 1;
			return CLI_UNKNOWN;
		}
		li = -1;
		c = getopt_long(p->argc, p->argv, p->shortopts, p->longopts,
		    &li);
		p->next = optind;
		if (c == -1)
			return CLI_END;
		p->arg = p->argv[at];
		p->val = optarg;
		p->opt = optopt;
		if (c == CLI_ARG || c == CLI_UNKNOWN)
			return c;
		if (c == CLI_NOVALUE) {
			if (!options_is_global(optopt))
				return c;
			p->ex = cli_usage_error("option %s needs a value", p->arg);
			return CLI_EXIT;
		}
		if (!options_spelled_whole(p, at, li))
			return CLI_UNKNOWN;
		if (!options_is_global(c))
			return c;
		if (!options_global(p, g, c, optarg))
			return CLI_EXIT;
	}
}

bool
cli_one_operand(struct cli_global *g, int argc, char **argv,
    const char *usage_text, const char **operand, int *ex)
{
	struct cli_getopt p;
	int c;

	*operand = NULL;
	cli_getopt_init(&p, argc, argv, 1, NULL, NULL);
	while ((c = cli_getopt_next(&p, g)) != CLI_END) {
		if (c == CLI_EXIT) {
			*ex = p.ex;
			return false;
		}
		if (c != CLI_ARG || *operand != NULL || p.val[0] == '-')
			break;
		*operand = p.val;
	}
	if (c != CLI_END || *operand == NULL) {
		*ex = cli_usage_error("%s", usage_text);
		return false;
	}
	return true;
}
