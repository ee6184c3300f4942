/*
 * xlicen: the command-line client of gss-xlicen, for users, scripts and
 * administrators (the lmutil/rlmutil of this system): show the license
 * pools, run a command while holding a seat (waiting in line if asked),
 * release or reclaim leases, and the admin verbs: holders, remove, reread,
 * shutdown, usage reports and the audit trail check.  Everything it knows
 * about the protocol comes from libxlicen; only `report verify
 * --database` reads the server's SQLite file itself.
 *
 * Exit codes (also in the usage text): 0 success, 1 usage error, 2 the
 * server refused (denied, not the owner, no such lease, not an admin), 3
 * no answer or failed authentication, 4 the audit trail does not verify,
 * 5 the server failed (database or internal error), 124 `checkout` lost
 * its lease and ended the command; `checkout` otherwise exits with the
 * command's status (128+N if a signal N killed it).
 *
 * This file: main and the verb table.  The option scanner the verbs share
 * (getopt_long; the global options are accepted before and after the
 * verb) and the usage text are in options.c; the verbs are in status.c,
 * checkout.c, admin.c and report.c.  Calls go one way: this file calls
 * the verbs, the verbs call options.c and common.c, never back.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* A verb: its name and what runs it. */
struct main_verb {
	const char *name;
	int (*run)(struct cli_global *g, int argc, char **argv);
};

static int main_help(struct cli_global *g, int argc, char **argv);

static const struct main_verb main_verbs[] = {
	{ "status", cli_cmd_status },
	{ "checkout", cli_cmd_checkout },
	{ "release", cli_cmd_release },
	{ "reclaim", cli_cmd_reclaim },
	{ "info", cli_cmd_info },
	{ "leases", cli_cmd_leases },
	{ "holders", cli_cmd_holders },
	{ "remove", cli_cmd_remove },
	{ "reread", cli_cmd_simple_admin },
	{ "shutdown", cli_cmd_simple_admin },
	{ "report", cli_cmd_report },
	{ "borrow", cli_cmd_borrow },
	{ "help", main_help },
};

/* `help`: the usage text, whatever follows. */
static int
main_help(struct cli_global *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	cli_usage(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli_global g;
	struct cli_getopt p;
	size_t v;
	int c;

	memset(&g, 0, sizeof(g));
	/* The global options up to the verb. */
	cli_getopt_init(&p, argc, argv, 0, NULL, NULL);
	if ((c = cli_getopt_next(&p, &g)) == CLI_EXIT)
		return p.ex;
	if (c != CLI_END)
		return cli_usage_error("unknown option %s", p.arg);
	if (p.next >= argc)
		return cli_usage_error("%s", "no command given");
	for (v = 0; v < sizeof(main_verbs) / sizeof(main_verbs[0]); v++)
		if (strcmp(argv[p.next], main_verbs[v].name) == 0)
			return main_verbs[v].run(&g, argc - p.next,
			    argv + p.next);
	return cli_usage_error("unknown command \"%s\"", argv[p.next]);
}
