/*
 * The xlicen admin verbs that change the server: remove a lease, reread
 * the licenses and policy, shut down.  (The admin list, holders, shares
 * the leases table in status.c; the reports are in report.c.)  The
 * server checks the admin ACL; a refusal is exit status 2.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int
cli_cmd_remove(struct cli_global *g, int argc, char **argv)
{
	xlicen_session *s = NULL;
	struct xlicen_removed rm;
	const char *lease;
	char what[128], when[40];
	int rc, ex = 0;

	if (!cli_one_operand(g, argc, argv, "usage: xlicen remove LEASE",
	    &lease, &ex))
		return ex;
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_remove_lease(s, lease, &rm)) != 0) {
		snprintf(what, sizeof(what), "remove %.100s", lease);
		cli_error(s, what, rc);
		ex = cli_exit_for(rc);
	} else if (rm.cancelled) {
		cli_fmt_time(rm.end, when, sizeof(when));
		printf("cancelled borrowed lease %s: its seat stays counted "
		    "until %s\n", lease, when);
	} else {
		printf("removed %s\n", lease);
	}
	xlicen_session_free(s);
	return ex;
}

/* reread, shutdown: no arguments, OK or an error. */
int
cli_cmd_simple_admin(struct cli_global *g, int argc, char **argv)
{
	struct cli_getopt p;
	xlicen_session *s = NULL;
	char summary[512];
	int c, rc, ex = 0;

	/* Only global options (the scan applies those and goes on). */
	cli_getopt_init(&p, argc, argv, 1, NULL, NULL);
	if ((c = cli_getopt_next(&p, g)) == CLI_EXIT)
		return p.ex;
	if (c != CLI_END)
		return cli_usage_error("%s: takes no arguments", argv[0]);
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	if (strcmp(argv[0], "reread") == 0) {
		rc = xlicen_reread(s, summary, sizeof(summary));
		if (rc == 0)
			printf("reread: %s\n", summary);
	} else {
		rc = xlicen_shutdown(s);
		if (rc == 0)
			printf("server is shutting down\n");
	}
	if (rc != 0) {
		cli_error(s, argv[0], rc);
		ex = cli_exit_for(rc);
	}
	xlicen_session_free(s);
	return ex;
}
