/*
 * xlicen report: usage per product and principal from the server's audit
 * trail (table, CSV or JSON), and `report verify`, the audit trail's hash
 * chain checked by the server or, with --database, recomputed here from
 * the server's SQLite file, read-only, without trusting the server.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "cli.h"

#include "audit.h"

/* DATE: YYYY-MM-DD (UTC midnight; end_of_day: the next midnight),
 * YYYY-MM-DDTHH:MM:SSZ, or @SECONDS; false if arg is none. */
static bool
report_parse_date(const char *arg, int end_of_day, int64_t *out)
{
	struct tm tm;
	char *end;
	long long v;
	time_t t;

	*out = 0;
	if (arg[0] == '@') {
		errno = 0;
		v = strtoll(arg + 1, &end, 10);
		if (errno != 0 || end == arg + 1 || *end != '\0' || v < 0)
			return false;
		*out = v;
		return true;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(arg, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(arg, "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0')
			return false;
		if (end_of_day)
			tm.tm_mday++;
	}
	if ((t = timegm(&tm)) == (time_t)-1)
		return false;
	*out = (int64_t)t;
	return true;
}

static void
report_csv_str(const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\n\r") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	putchar('"');
}

static void
report_print(const struct xlicen_report_row *r, size_t n, int64_t from,
    int64_t to, const char *format)
{
	char f[32], t[32];
	size_t i;

	cli_fmt_time(from, f, sizeof(f));
	cli_fmt_time(to, t, sizeof(t));
	if (strcmp(format, "json") == 0) {
		printf("{\"from\": \"%s\", \"to\": \"%s\", \"rows\": [", f, t);
		for (i = 0; i < n; i++) {
			printf("%s\n  {\"product\": ", i > 0 ? "," : "");
			cli_json_str(stdout, r[i].product);
			printf(", \"principal\": ");
			cli_json_str_or_null(stdout, r[i].principal);
			printf(", \"grants\": %u, \"denials\": %u, \"peak\": %u,"
			    " \"average\": %.3f, \"hours\": %.4f}", r[i].grants,
			    r[i].denials, r[i].peak, r[i].avg,
			    r[i].seconds / 3600.0);
		}
		printf("%s]}\n", n > 0 ? "\n" : "");
		return;
	}
	if (strcmp(format, "csv") == 0) {
		printf("product,principal,grants,denials,peak,average,hours\n");
		for (i = 0; i < n; i++) {
			report_csv_str(r[i].product);
			putchar(',');
			report_csv_str(r[i].principal);
			printf(",%u,%u,%u,%.3f,%.4f\n", r[i].grants, r[i].denials,
			    r[i].peak, r[i].avg, r[i].seconds / 3600.0);
		}
		return;
	}
	printf("usage from %s to %s\n", f, t);
	printf("%-16s %-28s %7s %7s %5s %8s %9s\n", "PRODUCT", "PRINCIPAL",
	    "GRANTS", "DENIALS", "PEAK", "AVERAGE", "HOURS");
	for (i = 0; i < n; i++)
		printf("%-16s %-28s %7u %7u %5u %8.2f %9.2f\n", r[i].product,
		    r[i].principal[0] != '\0' ? r[i].principal : "(all)",
		    r[i].grants, r[i].denials, r[i].peak, r[i].avg,
		    r[i].seconds / 3600.0);
}

/* The row st is on (columns in events order, the hash last) as the chain
 * verifier takes it: *ae (its strings point into st), how its columns are
 * stored, and the stored hash (*hash NULL unless a blob). */
static void
report_verify_row(sqlite3_stmt *st, struct audit_event *ae,
    struct audit_cell cells[AUDIT_NCOLS], const void **hash, size_t *hashlen)
{
	int i;

	_Static_assert(AUDIT_T_INTEGER == SQLITE_INTEGER &&
	    AUDIT_T_REAL == SQLITE_FLOAT && AUDIT_T_TEXT == SQLITE_TEXT &&
	    AUDIT_T_BLOB == SQLITE_BLOB && AUDIT_T_NULL == SQLITE_NULL,
	    "audit_type is SQLite's datatype codes");
	/* The types first: the reads below may convert them. */
	for (i = 0; i < AUDIT_NCOLS; i++) {
		cells[i].type = sqlite3_column_type(st, i);
		cells[i].bytes = cells[i].type == SQLITE_TEXT ?
		    (size_t)sqlite3_column_bytes(st, i) : 0;
	}
	*hash = NULL;
	*hashlen = 0;
	if (sqlite3_column_type(st, 14) == SQLITE_BLOB) {
		*hash = sqlite3_column_blob(st, 14);
		*hashlen = (size_t)sqlite3_column_bytes(st, 14);
	}
#define TXT(i) (sqlite3_column_type(st, (i)) == SQLITE_NULL ? NULL :	\
	(const char *)sqlite3_column_text(st, (i)))
	memset(ae, 0, sizeof(*ae));
	ae->id = sqlite3_column_int64(st, 0);
	ae->ts = sqlite3_column_int64(st, 1);
	ae->kind = TXT(2);
	ae->principal = TXT(3);
	ae->host = TXT(4);
	ae->display = TXT(5);
	ae->product = TXT(6);
	ae->version = TXT(7);
	ae->lease_id = TXT(8);
	ae->has_pool_id = sqlite3_column_type(st, 9) != SQLITE_NULL;
	ae->pool_id = sqlite3_column_int64(st, 9);
	ae->has_count = sqlite3_column_type(st, 10) != SQLITE_NULL;
	ae->count = sqlite3_column_int64(st, 10);
	ae->code = sqlite3_column_int64(st, 11);
	ae->detail = TXT(12);
	ae->has_seats = sqlite3_column_type(st, 13) != SQLITE_NULL;
	ae->seats = sqlite3_column_int64(st, 13);
#undef TXT
}

/*
 * The audit chain of a database file, read-only, checked here by the
 * verifier the server uses (common/audit.h): the check does not trust
 * the running server at all.  Prints and returns the exit status.
 */
static int
report_verify_file(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct audit_event ae;
	struct audit_cell cells[AUDIT_NCOLS];
	struct audit_chain chain;
	char uri[4200], hex[2 * AUDIT_HASH_LEN + 1];
	const void *hash;
	size_t hashlen;
	int src, ex = 0, rc, have;

	audit_chain_init(&chain);
	snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
	if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT id, ts, kind, principal, host,"
	    " display, product, version, lease_id, pool_id, count, code,"
	    " detail, seats, hash FROM events ORDER BY id", -1, &st, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "xlicen: report verify: %s: %s\n", path,
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		ex = EXIT_NOSERVER;
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		report_verify_row(st, &ae, cells, &hash, &hashlen);
		rc = audit_chain_feed(&chain, &ae, cells, hash, hashlen);
		if (rc == XLICEN_E_AUDIT_CHAIN)
			break;
		if (rc != 0) {
			fprintf(stderr, "xlicen: report verify: hashing failed\n");
			ex = EXIT_NOSERVER;
			goto out;
		}
	}
	if (chain.reason == AUDIT_BREAK_COLUMN)
		fprintf(stderr, "xlicen: report verify: event %lld: column %s "
		    "is not stored as the chain encodes it\n",
		    (long long)chain.bad_id, audit_col_name(chain.col));
	if (chain.reason == AUDIT_BREAK_NONE && src != SQLITE_DONE) {
		fprintf(stderr, "xlicen: report verify: %s: %s\n", path,
		    sqlite3_errmsg(db));
		ex = EXIT_NOSERVER;
		goto out;
	}
	have = audit_chain_head(&chain, hex);
	if (chain.reason != AUDIT_BREAK_NONE) {
		printf("audit trail BROKEN at event %llu (%llu events checked; "
		    "last good hash %s)\n", (unsigned long long)chain.bad_id,
		    (unsigned long long)chain.rows, have ? hex : "-");
		ex = EXIT_AUDIT;
	} else {
		printf("audit trail intact: %llu events, head %s\n",
		    (unsigned long long)chain.rows, have ? hex : "-");
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ex;
}

/* What `report` was asked for. */
struct report_args {
	int verify;		/* report verify */
	int events;		/* --events: the raw audit trail */
	const char *product, *format, *database;
	int64_t from, to;	/* 0: not given */
};

/* report's own options. */
enum {
	REPORT_OPT_FROM = CLI_OPT_VERB,
	REPORT_OPT_TO,
	REPORT_OPT_PRODUCT,
	REPORT_OPT_FORMAT,
	REPORT_OPT_DATABASE,
	REPORT_OPT_EVENTS,
};
static const struct option report_opts[] = {
	{ "from", required_argument, NULL, REPORT_OPT_FROM },
	{ "to", required_argument, NULL, REPORT_OPT_TO },
	{ "product", required_argument, NULL, REPORT_OPT_PRODUCT },
	{ "format", required_argument, NULL, REPORT_OPT_FORMAT },
	{ "database", required_argument, NULL, REPORT_OPT_DATABASE },
	{ "events", no_argument, NULL, REPORT_OPT_EVENTS },
	{ NULL, 0, NULL, 0 }
};

/* One of report's own options (code c, value val, typed as arg) into
 * *ra; 0, or the usage exit status after the message. */
static int
report_option(int c, const char *arg, const char *val,
    struct report_args *ra)
{
	if (ra->verify != (c == REPORT_OPT_DATABASE))
		return cli_usage_error("report: unexpected argument %s", arg);
	switch (c) {
	case REPORT_OPT_FROM:
	case REPORT_OPT_TO:
		if (!report_parse_date(val, c == REPORT_OPT_TO, c ==
		    REPORT_OPT_TO ? &ra->to : &ra->from))
			return cli_usage_error("report: bad date \"%s\" "
			    "(YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
			    "@SECONDS)", val);
		break;
	case REPORT_OPT_PRODUCT:
		ra->product = val;
		break;
	case REPORT_OPT_FORMAT:
		ra->format = val;
		if (strcmp(val, "table") != 0 && strcmp(val, "csv") != 0 &&
		    strcmp(val, "json") != 0)
			return cli_usage_error("report: --format is table, "
			    "csv or json, not \"%s\"", val);
		break;
	case REPORT_OPT_DATABASE:
		ra->database = val;
		break;
	case REPORT_OPT_EVENTS:
		ra->events = 1;
		break;
	}
	return 0;
}

/*
 * Parse report's arguments into *ra, and global options among them into
 * *g.  "verify" is the first argument after the verb (global options
 * aside).  True when the report is to go ahead; false when it ends with
 * exit status *ex (after the message, or help or version).
 */
static bool
report_parse(struct cli_global *g, int argc, char **argv,
    struct report_args *ra, int *ex)
{
	struct cli_getopt p;
	int c, first = 1;

	memset(ra, 0, sizeof(*ra));
	ra->format = "table";
	*ex = EXIT_USAGE;
	cli_getopt_init(&p, argc, argv, 1, NULL, report_opts);
	while ((c = cli_getopt_next(&p, g)) != CLI_END) {
		if (c == CLI_EXIT) {
			*ex = p.ex;
			return false;
		}
		if (c == CLI_NOVALUE) {
			cli_usage_error("report: %s needs a value", p.arg);
			return false;
		}
		if (c == CLI_ARG && first && strcmp(p.val, "verify") == 0) {
			ra->verify = 1;
		} else if (c == CLI_ARG || c == CLI_UNKNOWN) {
			cli_usage_error("report: unexpected argument %s", p.arg);
			return false;
		} else if (report_option(c, p.arg, p.val, ra) != 0) {
			return false;
		}
		first = 0;
	}
	*ex = 0;
	return true;
}

/* A CSV field per RFC 4180: quoted when it holds a comma, a quote, CR or
 * LF, a quote inside doubled; an absent value is an empty field. */
static void
report_csv_field(const char *s, int last)
{
	report_csv_str(s);
	fputs(last ? "\r\n" : ",", stdout);
}

/* One event of --events in the chosen format; first: the first of all. */
static void
report_event_print(const struct xlicen_event *e, const char *format,
    int first)
{
	char t[32], num[32];

	cli_fmt_time(e->time, t, sizeof(t));
	if (strcmp(format, "csv") == 0) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)e->id);
		report_csv_field(num, 0);
		report_csv_field(t, 0);
		report_csv_field(e->kind, 0);
		report_csv_field(e->principal, 0);
		report_csv_field(e->host, 0);
		report_csv_field(e->display, 0);
		report_csv_field(e->product, 0);
		report_csv_field(e->version, 0);
		report_csv_field(e->lease, 0);
		snprintf(num, sizeof(num), "%u", e->count);
		report_csv_field(e->has_count ? num : "", 0);
		report_csv_field(e->code != 0 ? xlicen_errname(e->code) : "", 0);
		report_csv_field(e->note, 1);
		return;
	}
	if (strcmp(format, "json") == 0) {
		printf("%s\n  {\"id\": %llu, \"time\": \"%s\", \"kind\": ",
		    first ? "" : ",", (unsigned long long)e->id, t);
		cli_json_str(stdout, e->kind);
		printf(", \"principal\": ");
		cli_json_str_or_null(stdout, e->principal);
		printf(", \"host\": ");
		cli_json_str_or_null(stdout, e->host);
		printf(", \"display\": ");
		cli_json_str_or_null(stdout, e->display);
		printf(", \"product\": ");
		cli_json_str_or_null(stdout, e->product);
		printf(", \"version\": ");
		cli_json_str_or_null(stdout, e->version);
		printf(", \"lease\": ");
		cli_json_str_or_null(stdout, e->lease);
		printf(", \"count\": ");
		if (e->has_count)
			printf("%u", e->count);
		else
			printf("null");
		printf(", \"code\": ");
		cli_json_str_or_null(stdout, e->code != 0 ?
		    xlicen_errname(e->code) : NULL);
		printf(", \"note\": ");
		cli_json_str_or_null(stdout, e->note);
		printf("}");
		return;
	}
	printf("%-20s %-8s %-24s %-12s %5s %s\n", t, e->kind,
	    e->principal[0] != '\0' ? e->principal : "-",
	    e->product[0] != '\0' ? e->product : "-",
	    e->has_count ? (snprintf(num, sizeof(num), "%u", e->count), num) :
	    "-", e->code != 0 ? xlicen_errname(e->code) : "");
}

/*
 * report --events: the raw audit trail of the range, page by page (each
 * reply carries what fits; the next asks for the events after the last
 * one).  The exit status.
 */
static int
report_events(xlicen_session *s, const struct report_args *ra)
{
	struct xlicen_event *ev = NULL;
	int64_t from = ra->from, to = ra->to, rf = 0, rt = 0;
	uint64_t after = 0;
	char f[32], t[32];
	size_t i, n = 0, total = 0;
	int rc, more = 0;

	do {
		rc = xlicen_report_events(s, from, to, ra->product, after, &ev,
		    &n, &more);
		if (rc != 0) {
			cli_error(s, "report --events", rc);
			return cli_exit_for(rc);
		}
		if (total == 0 && after == 0) {
			/* The range of the first page holds for the others. */
			xlicen_report_range(s, &rf, &rt);
			from = rf;
			to = rt;
			cli_fmt_time(rf, f, sizeof(f));
			cli_fmt_time(rt, t, sizeof(t));
			if (strcmp(ra->format, "csv") == 0)
				printf("id,time,kind,principal,host,display,"
				    "product,version,lease,count,code,note\r\n");
			else if (strcmp(ra->format, "json") == 0)
				printf("{\"from\": \"%s\", \"to\": \"%s\", "
				    "\"events\": [", f, t);
			else
				printf("events from %s to %s\n%-20s %-8s %-24s "
				    "%-12s %5s %s\n", f, t, "TIME", "KIND",
				    "PRINCIPAL", "PRODUCT", "COUNT", "CODE");
		}
		for (i = 0; i < n; i++)
			report_event_print(&ev[i], ra->format, total + i == 0);
		total += n;
		if (n > 0)
			after = ev[n - 1].id;
		xlicen_events_free(ev);
		ev = NULL;
	} while (more && n > 0);
	if (strcmp(ra->format, "json") == 0)
		printf("%s]}\n", total > 0 ? "\n" : "");
	return 0;
}

/* report verify, on the server; the exit status. */
static int
report_verify_server(xlicen_session *s)
{
	struct xlicen_audit_check ac;
	int rc;

	rc = xlicen_report_verify(s, &ac);
	if (rc == 0)
		printf("audit trail intact: %llu events, head %s\n",
		    (unsigned long long)ac.events,
		    ac.head[0] != '\0' ? ac.head : "-");
	else if (rc == XLICEN_E_AUDIT_CHAIN)
		printf("audit trail BROKEN at event %llu (%llu events "
		    "checked; last good hash %s)\n",
		    (unsigned long long)ac.bad_event,
		    (unsigned long long)ac.events,
		    ac.head[0] != '\0' ? ac.head : "-");
	if (rc != 0) {
		cli_error(s, "report verify", rc);
		return cli_exit_for(rc);
	}
	return 0;
}

int
cli_cmd_report(struct cli_global *g, int argc, char **argv)
{
	struct xlicen_report_row *rows = NULL;
	struct report_args ra;
	xlicen_session *s = NULL;
	int64_t from, to;
	size_t n = 0;
	int rc, ex = 0, more = 0;

	if (!report_parse(g, argc, argv, &ra, &ex))
		return ex;
	from = ra.from;
	to = ra.to;
	if (ra.verify && ra.database != NULL)
		return report_verify_file(ra.database);
	if (to > 0 && from > to)
		return cli_usage_error("%s", "report: --from is after --to");
	if ((s = cli_open_session(g, &ex)) == NULL)
		return ex;
	if (ra.verify) {
		ex = report_verify_server(s);
		goto out;
	}
	if (ra.events) {
		ex = report_events(s, &ra);
		goto out;
	}
	if (to == 0)
		to = (int64_t)time(NULL);
	rc = xlicen_report(s, from, to, ra.product, &rows, &n, &more);
	if (rc != 0) {
		cli_error(s, "report", rc);
		ex = cli_exit_for(rc);
		goto out;
	}
	/* The range the server used: without --from, its first event. */
	xlicen_report_range(s, &from, &to);
	report_print(rows, n, from, to, ra.format);
	if (more)
		fprintf(stderr, "xlicen: report: cut to fit one reply; give "
		    "--product\n");
out:
	xlicen_report_free(rows);
	xlicen_session_free(s);
	return ex;
}
