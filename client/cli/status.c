/*
 * The xlicen verbs that show pools and leases or act on one's own lease:
 * status, leases, holders (the admin list, the same table as leases),
 * info (the server's own facts),
 * release (one lease, or one's orphaned ones) and reclaim.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "limits.h"

/* The options of the listing verbs and of release --mine. */
enum {
	STATUS_OPT_JSON = CLI_OPT_VERB,
	STATUS_OPT_MINE,
	STATUS_OPT_ALL,
};
static const struct option status_list_opts[] = {
	{ "json", no_argument, NULL, STATUS_OPT_JSON },
	{ NULL, 0, NULL, 0 }
};
static const struct option status_mine_opts[] = {
	{ "mine", no_argument, NULL, STATUS_OPT_MINE },
	{ "all", no_argument, NULL, STATUS_OPT_ALL },
	{ NULL, 0, NULL, 0 }
};

static const char *
status_state_name(int state, char *buf, size_t buflen)
{
	switch (state) {
	case XLICEN_POOL_ACTIVE:
		return "active";
	case XLICEN_POOL_EXPIRED:
		return "expired";
	case XLICEN_POOL_NOT_YET:
		return "not yet valid";
	case XLICEN_POOL_WITHDRAWN:
		return "withdrawn";
	default:
		snprintf(buf, buflen, "unknown(%d)", state);
		return buf;
	}
}

/* A pool's kind: how it counts and whom it serves. */
static const char *
status_kind_name(const struct xlicen_pool_info *p)
{
	if (p->flags & XLICEN_POOL_NODE_LOCKED)
		return (p->flags & XLICEN_POOL_UNCOUNTED) ?
		    "node-locked uncounted" : "node-locked";
	return (p->flags & XLICEN_POOL_UNCOUNTED) ? "uncounted" : "floating";
}

static void
status_json(const struct xlicen_pool_info *pi, size_t n)
{
	char date[32], sbuf[32];
	size_t i;

	if (n == 0) {
		printf("[]\n");
		return;
	}
	printf("[\n");
	for (i = 0; i < n; i++) {
		const struct xlicen_pool *v = &pi[i].pool;

		printf("  {\"product\": ");
		cli_json_str(stdout, v->product);
		printf(", \"versions\": ");
		cli_json_str(stdout, v->versions);
		printf(", \"vendor\": ");
		cli_json_str_or_null(stdout, v->vendor);
		printf(", \"serial\": ");
		cli_json_str_or_null(stdout, v->serial);
		printf(", \"total\": %u, \"in_use\": %u, \"start\": ", v->total,
		    v->in_use);
		if (v->start == 0) {
			printf("null");
		} else {
			cli_fmt_date(v->start, date, sizeof(date));
			cli_json_str(stdout, date);
		}
		printf(", \"expires\": ");
		if (v->expires == 0) {
			cli_json_str(stdout, "permanent");
		} else {
			cli_fmt_expiry(v->expires, date, sizeof(date));
			cli_json_str(stdout, date);
		}
		printf(", \"state\": ");
		cli_json_str(stdout, status_state_name(v->state, sbuf, sizeof(sbuf)));
		printf(", \"queued\": %u, \"kind\": ", pi[i].queued);
		cli_json_str(stdout, status_kind_name(&pi[i]));
		printf(", \"hostid\": ");
		cli_json_str_or_null(stdout, pi[i].hostid);
		printf(", \"dup_group\": ");
		cli_json_str_or_null(stdout, pi[i].dup_group);
		printf(", \"linger\": %u, \"ttl\": %u, \"heartbeat\": %u}%s\n",
		    pi[i].linger_s, pi[i].ttl_s, pi[i].heartbeat_s,
		    i + 1 < n ? "," : "");
	}
	printf("]\n");
}

static void
status_seats(const struct xlicen_pool_info *p, char *out, size_t outlen)
{
	if (p->pool.state == XLICEN_POOL_WITHDRAWN)
		/* Leases of a license no longer loaded: no seats to give. */
		snprintf(out, outlen, "%u/-", p->pool.in_use);
	else if (p->flags & XLICEN_POOL_UNCOUNTED)
		snprintf(out, outlen, "%u/uncounted", p->pool.in_use);
	else if (p->pool.in_use > p->pool.total)
		/* A renewal with fewer seats than in use: nothing is granted
		 * until use falls below the total. */
		snprintf(out, outlen, "%u/%u over", p->pool.in_use,
		    p->pool.total);
	else
		snprintf(out, outlen, "%u/%u", p->pool.in_use, p->pool.total);
}

/* The table; QUEUED and KIND columns only when a pool has something to
 * show there, so the common case stays narrow. */
static void
status_table(const struct xlicen_pool_info *pi, size_t n)
{
	int wp = (int)strlen("PRODUCT"), wv = (int)strlen("VERSIONS");
	/* EXPIRES holds "permanent" or YYYY-MM-DD: always 10 wide. */
	int wu = (int)strlen("IN USE/TOTAL"), we = 10, ws = (int)strlen("STATE");
	int len, extra = 0;
	char seats[48], date[32], sbuf[32];
	size_t i;

	for (i = 0; i < n; i++) {
		if ((len = (int)strlen(pi[i].pool.product)) > wp)
			wp = len;
		if ((len = (int)strlen(pi[i].pool.versions)) > wv)
			wv = len;
		status_seats(&pi[i], seats, sizeof(seats));
		if ((len = (int)strlen(seats)) > wu)
			wu = len;
		if ((len = (int)strlen(status_state_name(pi[i].pool.state, sbuf,
		    sizeof(sbuf)))) > ws)
			ws = len;
		if (pi[i].queued > 0 || pi[i].flags != 0)
			extra = 1;
	}
	if (extra)
		printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-6s  %s\n", wp, "PRODUCT",
		    wv, "VERSIONS", wu, "IN USE/TOTAL", we, "EXPIRES", ws,
		    "STATE", "QUEUED", "KIND");
	else
		printf("%-*s  %-*s  %-*s  %-*s  %s\n", wp, "PRODUCT", wv,
		    "VERSIONS", wu, "IN USE/TOTAL", we, "EXPIRES", "STATE");
	for (i = 0; i < n; i++) {
		const struct xlicen_pool *v = &pi[i].pool;

		status_seats(&pi[i], seats, sizeof(seats));
		if (v->expires == 0)
			snprintf(date, sizeof(date), "permanent");
		else
			cli_fmt_expiry(v->expires, date, sizeof(date));
		if (extra)
			printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-6u  %s\n", wp,
			    v->product, wv, v->versions, wu, seats, we, date, ws,
			    status_state_name(v->state, sbuf, sizeof(sbuf)),
			    pi[i].queued, status_kind_name(&pi[i]));
		else
			printf("%-*s  %-*s  %-*s  %-*s  %s\n", wp, v->product,
			    wv, v->versions, wu, seats, we, date,
			    status_state_name(v->state, sbuf, sizeof(sbuf)));
	}
}

int
cli_cmd_status(struct cli_global *g, int argc, char **argv)
{
	struct xlicen_pool_info *v = NULL;
	xlicen_session *s = NULL;
	const char *product = NULL;
	struct cli_getopt p;
	size_t n = 0;
	int c, json = 0, rc, ex = 0;

	cli_getopt_init(&p, argc, argv, 1, NULL, status_list_opts);
	while ((c = cli_getopt_next(&p, g)) != CLI_END) {
		if (c == CLI_EXIT)
			return p.ex;
		if (c == STATUS_OPT_JSON)
			json = 1;
		else if (c != CLI_ARG)
			return cli_usage_error("status: unknown option %s", p.arg);
		else if (product == NULL)
			product = p.val;
		else
			return cli_usage_error("status: unexpected argument %s", p.val);
	}
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	rc = xlicen_status_info(s, product, &v, &n);
	if (rc != 0) {
		cli_error(s, "status", rc);
		ex = cli_exit_for(rc);
		goto out;
	}
	if (json)
		status_json(v, n);
	else
		status_table(v, n);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "xlicen: status: writing output: %s\n",
		    strerror(errno));
		ex = EXIT_NOSERVER;
	}
out:
	xlicen_pool_info_free(v);
	xlicen_session_free(s);
	return ex;
}

/* Whether a lease of our own is left over: no connection of ours uses
 * it and it missed its heartbeat. */
static int
status_orphaned(const struct xlicen_holder *h, int64_t now)
{
	unsigned hb = h->heartbeat_s > 0 ? h->heartbeat_s : LIMIT_HEARTBEAT_S;

	return h->state == XLICEN_HOLDER_LEASE && !h->connected &&
	    now - h->last_heartbeat > (int64_t)hb;
}

/* release --mine [--all] [PRODUCT]: list our leases, release the
 * orphaned ones (all with --all). */
static int
status_release_mine(struct cli_global *g, int argc, char **argv)
{
	struct xlicen_holder *h = NULL;
	xlicen_session *s = NULL;
	const char *product = NULL;
	char when[32], what[160];
	struct cli_getopt p;
	size_t n = 0, i, done = 0, kept = 0;
	int all = 0, rc, ex = 0, c;
	int64_t now = (int64_t)time(NULL);

	cli_getopt_init(&p, argc, argv, 1, NULL, status_mine_opts);
	while ((c = cli_getopt_next(&p, g)) != CLI_END) {
		if (c == CLI_EXIT)
			return p.ex;
		if (c == STATUS_OPT_MINE)
			continue;
		if (c == STATUS_OPT_ALL)
			all = 1;
		else if (c != CLI_ARG || strcmp(p.val, "-") == 0)
			return cli_usage_error("release: unknown option %s", p.arg);
		else if (product == NULL)
			product = p.val;
		else
			return cli_usage_error("release: unexpected argument %s",
			    p.val);
	}
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_my_leases(s, product, &h, &n)) != 0) {
		cli_error(s, "release --mine", rc);
		ex = cli_exit_for(rc);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (h[i].state != XLICEN_HOLDER_LEASE)
			continue;
		if (!all && !status_orphaned(&h[i], now)) {
			kept++;
			continue;
		}
		cli_fmt_time(h[i].since, when, sizeof(when));
		if ((rc = xlicen_release(s, h[i].id)) != 0) {
			snprintf(what, sizeof(what), "release %.64s", h[i].id);
			cli_error(s, what, rc);
			ex = cli_exit_for(rc);
			continue;
		}
		printf("released %s (%s, %u seat%s, host %s, since %s)\n",
		    h[i].id, h[i].product, h[i].count, h[i].count == 1 ? "" :
		    "s", h[i].host[0] != '\0' ? h[i].host : "-", when);
		done++;
	}
	if (done == 0 && ex == 0)
		printf("no %sleases to release%s\n", all ? "" : "orphaned ",
		    kept > 0 ? " (the others are in use)" : "");
out:
	xlicen_holders_free(h);
	xlicen_session_free(s);
	return ex;
}

int
cli_cmd_release(struct cli_global *g, int argc, char **argv)
{
	xlicen_session *s = NULL;
	const char *lease;
	char what[128];
	int rc, ex = 0, i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--mine") == 0)
			return status_release_mine(g, argc, argv);
	if (!cli_one_operand(g, argc, argv, "usage: xlicen release LEASE | "
	    "release --mine [--all] [PRODUCT]", &lease, &ex))
		return ex;
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_release(s, lease)) != 0) {
		snprintf(what, sizeof(what), "release %.100s", lease);
		cli_error(s, what, rc);
		ex = cli_exit_for(rc);
	}
	xlicen_session_free(s);
	return ex;
}

int
cli_cmd_reclaim(struct cli_global *g, int argc, char **argv)
{
	struct xlicen_grant gr;
	xlicen_session *s = NULL;
	const char *lease;
	char what[128], when[32];
	int rc, ex = 0;

	if (!cli_one_operand(g, argc, argv, "usage: xlicen reclaim LEASE",
	    &lease, &ex))
		return ex;
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_reclaim(s, lease, &gr)) != 0) {
		snprintf(what, sizeof(what), "reclaim %.100s", lease);
		cli_error(s, what, rc);
		ex = cli_exit_for(rc);
	} else {
		cli_fmt_time(gr.expires, when, sizeof(when));
		printf("reclaimed %s (%u/%u seats in use, expires %s)\n",
		    gr.lease, gr.in_use, gr.total, when);
	}
	xlicen_session_free(s);
	return ex;
}

/* ---- holders and leases ---- */

static const char *
status_holder_state(int state)
{
	switch (state) {
	case XLICEN_HOLDER_LEASE:
		return "held";
	case XLICEN_HOLDER_QUEUED:
		return "queued";
	case XLICEN_HOLDER_LINGER:
		return "lingering";
	case XLICEN_HOLDER_BORROWED:
		return "borrowed";
	case XLICEN_HOLDER_CANCELLED:
		return "cancelled";
	default:
		return "unknown";
	}
}

/* A time of a holder in JSON: null when the server sent none (0). */
static void
status_json_time(int64_t v)
{
	char t[32];

	if (v <= 0) {
		printf("null");
		return;
	}
	cli_fmt_time(v, t, sizeof(t));
	cli_json_str(stdout, t);
}

static void
status_holders_json(const struct xlicen_holder *h, size_t n)
{
	size_t i;

	if (n == 0) {
		printf("[]\n");
		return;
	}
	printf("[\n");
	for (i = 0; i < n; i++) {
		printf("  {\"product\": ");
		cli_json_str(stdout, h[i].product);
		printf(", \"state\": ");
		cli_json_str(stdout, status_holder_state(h[i].state));
		printf(", \"principal\": ");
		cli_json_str_or_null(stdout, h[i].principal);
		printf(", \"host\": ");
		cli_json_str_or_null(stdout, h[i].host);
		printf(", \"display\": ");
		cli_json_str_or_null(stdout, h[i].display);
		printf(", \"%s\": ", h[i].state == XLICEN_HOLDER_QUEUED ?
		    "queue_id" : "lease");
		cli_json_str_or_null(stdout, h[i].id);
		printf(", \"version\": ");
		cli_json_str_or_null(stdout, h[i].version);
		/* PID is optional in a checkout: 0 is none. */
		printf(", \"count\": %u, \"pid\": ", h[i].count);
		if (h[i].pid > 0)
			printf("%u", h[i].pid);
		else
			printf("null");
		printf(", \"since\": ");
		status_json_time(h[i].since);
		printf(", \"last_heartbeat\": ");
		status_json_time(h[i].last_heartbeat);
		printf(", \"expires\": ");
		status_json_time(h[i].expires);
		printf(", \"heartbeat\": %u, \"position\": %u, \"connected\": "
		    "%s, \"withdrawn\": %s}%s\n", h[i].heartbeat_s,
		    h[i].position, h[i].connected ? "true" : "false",
		    h[i].withdrawn ? "true" : "false", i + 1 < n ? "," : "");
	}
	printf("]\n");
}

static void
status_holders_table(const struct xlicen_holder *h, size_t n)
{
	char since[32], hb[32], exp[32], state[32];
	size_t i;

	printf("%-12s %-10s %-24s %-16s %-18s %-32s %5s %-20s %-20s %-20s\n",
	    "PRODUCT", "STATE", "PRINCIPAL", "HOST", "DISPLAY", "LEASE/QUEUE ID",
	    "COUNT", "SINCE", "LAST HEARTBEAT", "EXPIRES");
	for (i = 0; i < n; i++) {
		cli_fmt_time(h[i].since, since, sizeof(since));
		if (h[i].last_heartbeat > 0)
			cli_fmt_time(h[i].last_heartbeat, hb, sizeof(hb));
		else
			snprintf(hb, sizeof(hb), "-");
		cli_fmt_time(h[i].expires, exp, sizeof(exp));
		if (h[i].state == XLICEN_HOLDER_QUEUED)
			snprintf(state, sizeof(state), "queued#%u",
			    h[i].position);
		else
			snprintf(state, sizeof(state), "%s%s%s",
			    status_holder_state(h[i].state), h[i].withdrawn ? "-w" :
			    "", h[i].state == XLICEN_HOLDER_LEASE &&
			    !h[i].connected ? "*" : "");
		printf("%-12s %-10s %-24s %-16s %-18s %-32s %5u %-20s %-20s "
		    "%-20s\n", h[i].product, state, h[i].principal,
		    h[i].host[0] != '\0' ? h[i].host : "-",
		    h[i].display[0] != '\0' ? h[i].display : "-",
		    h[i].id[0] != '\0' ? h[i].id : "-", h[i].count, since, hb,
		    exp);
	}
	for (i = 0; i < n; i++)
		if (h[i].withdrawn) {
			printf("(-w: its license was removed; nothing more is "
			    "granted from it)\n");
			break;
		}
}

/* holders (admin) and leases (one's own). */
static int
status_holders(struct cli_global *g, int argc, char **argv, int mine)
{
	struct xlicen_holder *h = NULL;
	xlicen_session *s = NULL;
	const char *product = NULL;
	struct cli_getopt p;
	size_t n = 0;
	int i, c, json = 0, rc, ex = 0, more = 0;

	cli_getopt_init(&p, argc, argv, 1, NULL, status_list_opts);
	while ((c = cli_getopt_next(&p, g)) != CLI_END) {
		if (c == CLI_EXIT)
			return p.ex;
		if (c == STATUS_OPT_JSON)
			json = 1;
		else if (c != CLI_ARG)
			return cli_usage_error("unknown option %s", p.arg);
		else if (product == NULL)
			product = p.val;
		else
			return cli_usage_error("unexpected argument %s", p.val);
	}
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	rc = mine ? xlicen_my_leases(s, product, &h, &n) :
	    xlicen_holders(s, product, &h, &n, &more);
	if (rc != 0) {
		cli_error(s, mine ? "leases" : "holders", rc);
		ex = cli_exit_for(rc);
		goto out;
	}
	if (json)
		status_holders_json(h, n);
	else
		status_holders_table(h, n);
	if (more)
		fprintf(stderr, "xlicen: holders: the server sent only the "
		    "first %zu entries; give a PRODUCT\n", n);
	if (!json && !mine)
		for (i = 0; i < (int)n; i++)
			if (h[i].state == XLICEN_HOLDER_LEASE && !h[i].connected) {
				printf("(* no connection uses the lease now)\n");
				break;
			}
out:
	xlicen_holders_free(h);
	xlicen_session_free(s);
	return ex;
}

int
cli_cmd_leases(struct cli_global *g, int argc, char **argv)
{
	return status_holders(g, argc, argv, 1);
}

int
cli_cmd_holders(struct cli_global *g, int argc, char **argv)
{
	return status_holders(g, argc, argv, 0);
}

/* ---- info ---- */

static void
status_info_json(const struct xlicen_info *in)
{
	char t[32];
	size_t i;

	cli_fmt_time(in->started, t, sizeof(t));
	printf("{\"version\": ");
	cli_json_str(stdout, in->version);
	printf(", \"started\": \"%s\", \"uptime_s\": %lld, "
	    "\"license_directory\": ", t, (long long)(in->time - in->started));
	cli_json_str_or_null(stdout, in->licdir);
	printf(", \"licenses_loaded\": %u, \"licenses_refused\": %u, "
	    "\"listen\": [", in->licenses_loaded, in->licenses_refused);
	for (i = 0; i < in->nlisten; i++) {
		printf("%s", i > 0 ? ", " : "");
		cli_json_str(stdout, in->listen[i]);
	}
	printf("]}\n");
}

static void
status_info_text(const struct xlicen_info *in)
{
	long long up = (long long)(in->time - in->started);
	char t[32];
	size_t i;

	if (up < 0)
		up = 0;
	cli_fmt_time(in->started, t, sizeof(t));
	printf("version            %s\n", in->version);
	printf("started            %s\n", t);
	printf("uptime             %lldd %02lld:%02lld:%02lld\n", up / 86400,
	    up / 3600 % 24, up / 60 % 60, up % 60);
	printf("license directory  %s\n", in->licdir[0] != '\0' ? in->licdir :
	    "-");
	printf("licenses loaded    %u\n", in->licenses_loaded);
	printf("licenses refused   %u\n", in->licenses_refused);
	for (i = 0; i < in->nlisten; i++)
		printf("listening on       %s\n", in->listen[i]);
}

int
cli_cmd_info(struct cli_global *g, int argc, char **argv)
{
	struct xlicen_info in;
	xlicen_session *s = NULL;
	struct cli_getopt p;
	int c, json = 0, rc, ex = 0;

	cli_getopt_init(&p, argc, argv, 1, NULL, status_list_opts);
	while ((c = cli_getopt_next(&p, g)) != CLI_END) {
		if (c == CLI_EXIT)
			return p.ex;
		if (c == STATUS_OPT_JSON)
			json = 1;
		else if (c != CLI_ARG)
			return cli_usage_error("unknown option %s", p.arg);
		else
			return cli_usage_error("unexpected argument %s", p.val);
	}
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_info(s, &in)) != 0) {
		cli_error(s, "info", rc);
		ex = cli_exit_for(rc);
		goto out;
	}
	if (json)
		status_info_json(&in);
	else
		status_info_text(&in);
out:
	xlicen_session_free(s);
	return ex;
}
