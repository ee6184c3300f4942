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
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "xlicen.h"

#include "audit.h"

#define EXIT_USAGE	1
#define EXIT_REFUSED	2
#define EXIT_NOSERVER	3
#define EXIT_AUDIT	4
#define EXIT_SERVER	5	/* the server failed: database, internal */
/* checkout: the seat was lost for good and the command was ended (as
 * timeout(1) says 124 when the time ran out). */
#define EXIT_SEAT_LOST	124

/* What `checkout` asks for when no VERSION is given. */
#define DEFAULT_VERSION	"1.0"
/* Between the SIGTERM and the SIGKILL to a command whose seat is lost,
 * unless --kill-after says otherwise (s). */
#define DEFAULT_KILL_AFTER_S	10
/* Session timeout while waiting in the queue: above the 20 s the server
 * holds a waiting checkout's reply. */
#define WAIT_TIMEOUT_MS		25000

struct global_opts {
	const char *servers;	/* -s; NULL: library default */
	const char *service;	/* --service */
	int timeout_ms;		/* --timeout; 0: library default */
};

static void
usage(FILE *f)
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
"\n"
"admin commands (your principal must be on the server's admin ACL):\n"
"  holders [PRODUCT] [--json]      every lease, queued checkout, lingering seat\n"
"  remove LEASE                    revoke a lease; its seat is free at once\n"
"  reread                          reread the license files and the policy\n"
"  shutdown                        stop the server\n"
"  report [--from DATE] [--to DATE] [--product P] [--format table|csv|json]\n"
"                                  usage per product and principal: grants,\n"
"                                  denials, peak and average seats, hours\n"
"  report verify [--database FILE] check the audit trail's hash chain, on the\n"
"                                  server or in its database file (read-only)\n"
"  DATE is YYYY-MM-DD (UTC; --to includes that day), YYYY-MM-DDTHH:MM:SSZ\n"
"  or @SECONDS since 1970.\n"
"\n"
"options:\n"
"  -s, --server LIST    servers to try in order, HOST[:PORT] or [IPV6]:PORT,\n"
"                       comma-separated (default $XLICEN_SERVER, else localhost;\n"
"                       port %d)\n"
"      --service NAME   GSS service name service@host (default $XLICEN_SERVICE,\n"
"                       else gss-xlicen@HOST)\n"
"  -t, --timeout SECS   wait at most this long for the server at each step\n"
"  -h, --help           this text\n"
"  -V, --version        print the version\n"
"\n"
"Authentication uses your Kerberos tickets (kinit).\n"
"exit status: 0 ok, 1 usage error, 2 denied or refused by the server,\n"
"3 connection or authentication failure, 4 audit trail broken, 5 server\n"
"failure (database error); checkout: 124 the lease was lost and the command\n"
"ended, else the command's status (128+N if killed by signal N).\n",
	    XLICEN_DEFAULT_PORT);
}

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "xlicen: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'xlicen --help'.\n");
	return EXIT_USAGE;
}

/* The exit status for a library error. */
static int
exit_for(int rc)
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
static void
report(const xlicen_session *s, const char *what, int rc)
{
	const char *em = xlicen_errmsg(s), *es = xlicen_strerror(rc);

	if (em[0] == '\0' || strstr(em, es) != NULL)
		fprintf(stderr, "xlicen: %s: %s\n", what, em[0] != '\0' ? em : es);
	else
		fprintf(stderr, "xlicen: %s: %s: %s\n", what, es, em);
}

/* A session configured from the global options; NULL after an error
 * message, with *ex set to the exit status. */
static xlicen_session *
open_session(const struct global_opts *g, int *ex)
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
static void
fmt_date(int64_t t, char *out, size_t outlen)
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
static void
fmt_expiry(int64_t expires, char *out, size_t outlen)
{
	fmt_date(expires - 1, out, outlen);
}

/* "YYYY-MM-DDTHH:MM:SSZ" of a UTC time. */
static void
fmt_time(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

static const char *
state_name(int state, char *buf, size_t buflen)
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

/* s as a JSON string, quotes included.  Strings from the server are
 * valid UTF-8 (the decoder checks), so only quoting and control bytes
 * need care. */
static void
json_str(FILE *f, const char *s)
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

/* A pool's kind: how it counts and whom it serves. */
static const char *
kind_name(const struct xlicen_pool_info *p)
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
		json_str(stdout, v->product);
		printf(", \"versions\": ");
		json_str(stdout, v->versions);
		printf(", \"vendor\": ");
		json_str(stdout, v->vendor);
		printf(", \"serial\": ");
		json_str(stdout, v->serial);
		printf(", \"total\": %u, \"in_use\": %u, \"start\": ", v->total,
		    v->in_use);
		if (v->start == 0) {
			printf("null");
		} else {
			fmt_date(v->start, date, sizeof(date));
			json_str(stdout, date);
		}
		printf(", \"expires\": ");
		if (v->expires == 0) {
			json_str(stdout, "permanent");
		} else {
			fmt_expiry(v->expires, date, sizeof(date));
			json_str(stdout, date);
		}
		printf(", \"state\": ");
		json_str(stdout, state_name(v->state, sbuf, sizeof(sbuf)));
		printf(", \"queued\": %u, \"kind\": ", pi[i].queued);
		json_str(stdout, kind_name(&pi[i]));
		printf(", \"hostid\": ");
		if (pi[i].hostid[0] != '\0')
			json_str(stdout, pi[i].hostid);
		else
			printf("null");
		printf(", \"dup_group\": ");
		json_str(stdout, pi[i].dup_group);
		printf(", \"linger\": %u, \"ttl\": %u, \"heartbeat\": %u}%s\n",
		    pi[i].linger_s, pi[i].ttl_s, pi[i].heartbeat_s,
		    i + 1 < n ? "," : "");
	}
	printf("]\n");
}

static void
seats_str(const struct xlicen_pool_info *p, char *out, size_t outlen)
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
		seats_str(&pi[i], seats, sizeof(seats));
		if ((len = (int)strlen(seats)) > wu)
			wu = len;
		if ((len = (int)strlen(state_name(pi[i].pool.state, sbuf,
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

		seats_str(&pi[i], seats, sizeof(seats));
		if (v->expires == 0)
			snprintf(date, sizeof(date), "permanent");
		else
			fmt_expiry(v->expires, date, sizeof(date));
		if (extra)
			printf("%-*s  %-*s  %-*s  %-*s  %-*s  %-6u  %s\n", wp,
			    v->product, wv, v->versions, wu, seats, we, date, ws,
			    state_name(v->state, sbuf, sizeof(sbuf)),
			    pi[i].queued, kind_name(&pi[i]));
		else
			printf("%-*s  %-*s  %-*s  %-*s  %s\n", wp, v->product,
			    wv, v->versions, wu, seats, we, date,
			    state_name(v->state, sbuf, sizeof(sbuf)));
	}
}

static int
cmd_status(const struct global_opts *g, int argc, char **argv)
{
	struct xlicen_pool_info *v = NULL;
	xlicen_session *s = NULL;
	const char *product = NULL;
	size_t n = 0;
	int i, json = 0, rc, ex = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("status: unknown option %s", argv[i]);
		else if (product == NULL)
			product = argv[i];
		else
			return usage_error("status: unexpected argument %s", argv[i]);
	}
	if ((s = open_session(g, &ex)) == NULL)
		return ex;
	rc = xlicen_status_info(s, product, &v, &n);
	if (rc != 0) {
		report(s, "status", rc);
		ex = exit_for(rc);
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
orphaned(const struct xlicen_holder *h, int64_t now)
{
	unsigned hb = h->heartbeat_s > 0 ? h->heartbeat_s : 30;

	return h->state == XLICEN_HOLDER_LEASE && !h->connected &&
	    now - h->last_heartbeat > (int64_t)hb;
}

/* release --mine [--all] [PRODUCT]: list our leases, release the
 * orphaned ones (all with --all). */
static int
release_mine(const struct global_opts *g, int argc, char **argv)
{
	struct xlicen_holder *h = NULL;
	xlicen_session *s = NULL;
	const char *product = NULL;
	char when[32], what[160];
	size_t n = 0, i, done = 0, kept = 0;
	int all = 0, rc, ex = 0, j;
	int64_t now = (int64_t)time(NULL);

	for (j = 1; j < argc; j++) {
		if (strcmp(argv[j], "--mine") == 0)
			continue;
		if (strcmp(argv[j], "--all") == 0)
			all = 1;
		else if (argv[j][0] == '-')
			return usage_error("release: unknown option %s", argv[j]);
		else if (product == NULL)
			product = argv[j];
		else
			return usage_error("release: unexpected argument %s",
			    argv[j]);
	}
	if ((s = open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_my_leases(s, product, &h, &n)) != 0) {
		report(s, "release --mine", rc);
		ex = exit_for(rc);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (h[i].state != XLICEN_HOLDER_LEASE)
			continue;
		if (!all && !orphaned(&h[i], now)) {
			kept++;
			continue;
		}
		fmt_time(h[i].since, when, sizeof(when));
		if ((rc = xlicen_release(s, h[i].id)) != 0) {
			snprintf(what, sizeof(what), "release %.64s", h[i].id);
			report(s, what, rc);
			ex = exit_for(rc);
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

static int
cmd_release(const struct global_opts *g, int argc, char **argv)
{
	xlicen_session *s = NULL;
	char what[128];
	int rc, ex = 0, i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--mine") == 0)
			return release_mine(g, argc, argv);
	if (argc != 2 || argv[1][0] == '-')
		return usage_error("%s", "usage: xlicen release LEASE | "
		    "release --mine [--all] [PRODUCT]");
	if ((s = open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_release(s, argv[1])) != 0) {
		snprintf(what, sizeof(what), "release %.100s", argv[1]);
		report(s, what, rc);
		ex = exit_for(rc);
	}
	xlicen_session_free(s);
	return ex;
}

static int
cmd_reclaim(const struct global_opts *g, int argc, char **argv)
{
	struct xlicen_grant gr;
	xlicen_session *s = NULL;
	char what[128], when[32];
	int rc, ex = 0;

	if (argc != 2 || argv[1][0] == '-')
		return usage_error("%s", "usage: xlicen reclaim LEASE");
	if ((s = open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_reclaim(s, argv[1], &gr)) != 0) {
		snprintf(what, sizeof(what), "reclaim %.100s", argv[1]);
		report(s, what, rc);
		ex = exit_for(rc);
	} else {
		fmt_time(gr.expires, when, sizeof(when));
		printf("reclaimed %s (%u/%u seats in use, expires %s)\n",
		    gr.lease, gr.in_use, gr.total, when);
	}
	xlicen_session_free(s);
	return ex;
}

/* The child to pass SIGTERM/SIGHUP on to (0: none yet). */
static volatile sig_atomic_t child_pid;

static void
forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static int
pidfd_open_compat(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Start argv as a child with default signal handling.  tie: the child
 * gets SIGKILL when xlicen dies, however it dies (PR_SET_PDEATHSIG, Linux);
 * if xlicen died before the child could ask for that, it is already an
 * orphan (getppid() changed) and goes at once.
 */
static pid_t
spawn(char **argv, const sigset_t *oldmask, int tie)
{
	pid_t parent = getpid(), pid = fork();
	int e;

	if (pid != 0)
		return pid;
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
#ifdef PR_SET_PDEATHSIG
	if (tie) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
			fprintf(stderr, "xlicen: prctl(PR_SET_PDEATHSIG): %s\n",
			    strerror(errno));
			_exit(126);
		}
		if (getppid() != parent)
			_exit(126);
	}
#else
	(void)tie;
	(void)parent;
#endif
	execvp(argv[0], argv);
	e = errno;
	fprintf(stderr, "xlicen: %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* What `checkout` learns about its lease from the library's state
 * callback while the command runs. */
struct lease_watch {
	const char *product;
	const char *lease;
	int state, code;	/* as last reported */
	int lost;		/* LOST: the seat is gone for good */
};

/* One line on stderr when the lease's state (or its reason) changes; the
 * heartbeats that only move the expiry say nothing. */
static void
on_lease_state(xlicen_session *s, int state, int code, const char *text,
    void *ud)
{
	struct lease_watch *w = ud;
	const char *why = text[0] != '\0' ? text : xlicen_strerror(code);

	(void)s;
	if (state == w->state && code == w->code)
		return;
	w->state = state;
	w->code = code;
	switch (state) {
	case XLICEN_STATE_HELD:
		fprintf(stderr, "xlicen: %s: lease %s held\n", w->product,
		    w->lease);
		break;
	case XLICEN_STATE_GRACE:
		fprintf(stderr, "xlicen: %s: lease %s: heartbeat failed (%s); "
		    "retrying\n", w->product, w->lease, why);
		break;
	case XLICEN_STATE_CREDS_EXPIRING:
		fprintf(stderr, "xlicen: %s: lease %s: %s\n", w->product,
		    w->lease, why);
		break;
	case XLICEN_STATE_AUTH_NEEDED:
		fprintf(stderr, "xlicen: %s: lease %s: %s; the lease is lost "
		    "when it expires\n", w->product, w->lease, why);
		break;
	case XLICEN_STATE_LOST:
		if (code != 0 && text[0] != '\0' &&
		    strstr(text, xlicen_strerror(code)) == NULL)
			fprintf(stderr, "xlicen: %s: lease %s is lost: %s: %s\n",
			    w->product, w->lease, xlicen_strerror(code), text);
		else
			fprintf(stderr, "xlicen: %s: lease %s is lost: %s\n",
			    w->product, w->lease, why);
		w->lost = 1;
		break;
	default:
		break;
	}
}

/* How supervise ends a command whose seat is gone. */
struct stop_opts {
	int keep_running;	/* --keep-running: never */
	int kill_after_ms;	/* SIGTERM, then SIGKILL this much later */
};

/*
 * Run the lease machine (heartbeats, reconnects, new credentials) until
 * the child exits; returns its wait status.  When the lease is lost for
 * good the child gets SIGTERM, and SIGKILL kill_after_ms later if it is
 * still there, unless keep_running; *stopped says it was done.
 */
static int
supervise(xlicen_session *s, struct lease_watch *w, pid_t pid,
    const struct stop_opts *so, int *stopped)
{
	struct pollfd pfd[2];
	int64_t kill_at = 0, now;
	int pidfd, status = 0, rc, n, nfd, wait_ms, reaped = 0, ww, killed = 0;
	int said = 0;

	*stopped = 0;
	pidfd = pidfd_open_compat(pid);
	for (;;) {
		nfd = 0;
		wait_ms = xlicen_timeout_ms(s);
		if (pidfd >= 0) {
			pfd[nfd].fd = pidfd;
			pfd[nfd].events = POLLIN;
			pfd[nfd++].revents = 0;
		} else if (wait_ms < 0 || wait_ms > 200) {
			wait_ms = 200;	/* no pidfd: poll waitpid instead */
		}
		if ((pfd[nfd].fd = xlicen_fd(s, &ww)) >= 0) {
			pfd[nfd].events = POLLIN | (ww ? POLLOUT : 0);
			pfd[nfd++].revents = 0;
		}
		if (*stopped && !killed) {
			now = now_ms();
			if (wait_ms < 0 || kill_at - now < wait_ms)
				wait_ms = kill_at > now ? (int)(kill_at - now) : 0;
		}
		n = poll(pfd, (nfds_t)nfd, wait_ms);
		if (n < 0 && errno != EINTR)
			break;
		rc = (int)waitpid(pid, &status, WNOHANG);
		if (rc == pid) {
			reaped = 1;
			break;
		}
		if (rc < 0 && errno != EINTR)
			break;
		xlicen_process(s);
		if (w->lost && !*stopped && !so->keep_running) {
			fprintf(stderr, "xlicen: %s: no seat: ending the command "
			    "(SIGTERM, SIGKILL after %d s)\n", w->product,
			    so->kill_after_ms / 1000);
			kill(pid, SIGTERM);
			*stopped = 1;
			kill_at = now_ms() + so->kill_after_ms;
		} else if (w->lost && so->keep_running && !said) {
			fprintf(stderr, "xlicen: %s: the command keeps running "
			    "without a seat (--keep-running)\n", w->product);
			said = 1;
		}
		if (*stopped && !killed && now_ms() >= kill_at) {
			kill(pid, SIGKILL);
			killed = 1;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	/* If the loop ended on an error, still wait for the child. */
	while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* Parse a seat count 1..10^9 (the server sets the real limit). */
static int
parse_count(const char *arg, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		return -1;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 1000000000UL)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* What `checkout` was asked for. */
struct checkout_args {
	const char *product;
	const char *version;
	unsigned count;
	struct xlicen_checkout_opts co;
	struct stop_opts so;
	char **cmd;		/* after "--" */
};

/* Parse checkout's arguments into *ca; 0, or the usage exit status after
 * the message. */
static int
parse_checkout(int argc, char **argv, struct checkout_args *ca)
{
	int i, dd = -1;

	memset(ca, 0, sizeof(*ca));
	ca->count = 1;
	ca->so.kill_after_ms = DEFAULT_KILL_AFTER_S * 1000;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	if (dd < 0 || dd + 1 >= argc)
		return usage_error("%s", "usage: xlicen checkout [-n COUNT] "
		    "[--wait[=SECONDS]] [--host NAME] [--display DPY] "
		    "[--kill-after SECONDS] [--keep-running] PRODUCT "
		    "[VERSION] -- COMMAND [ARGS...]");
	for (i = 1; i < dd; i++) {
		const char *a = argv[i], *val = NULL;

		if (strcmp(a, "--keep-running") == 0) {
			ca->so.keep_running = 1;
			continue;
		}
		if (strcmp(a, "--kill-after") == 0 ||
		    strncmp(a, "--kill-after=", 13) == 0) {
			unsigned ka;

			if (a[12] == '\0' && i + 1 >= dd)
				return usage_error("checkout: %s needs a value", a);
			val = a[12] == '=' ? a + 13 : argv[++i];
			if (strcmp(val, "0") == 0)
				ka = 0;
			else if (parse_count(val, &ka) != 0 || ka > 3600)
				return usage_error("checkout: bad --kill-after "
				    "\"%s\" (seconds, 0 to 3600)", val);
			ca->so.kill_after_ms = (int)ka * 1000;
			continue;
		}
		if (strcmp(a, "--wait") == 0) {
			ca->co.flags |= XLICEN_CHECKOUT_WAIT;
			continue;
		}
		if (strncmp(a, "--wait=", 7) == 0) {
			ca->co.flags |= XLICEN_CHECKOUT_WAIT;
			if (parse_count(a + 7, &ca->co.wait_s) != 0 ||
			    ca->co.wait_s > 86400)
				return usage_error("checkout: bad --wait \"%s\" "
				    "(seconds, 1 to 86400)", a + 7);
			continue;
		}
		if (strcmp(a, "--host") == 0 || strcmp(a, "--display") == 0) {
			if (i + 1 >= dd)
				return usage_error("checkout: %s needs a value", a);
			if (strcmp(a, "--host") == 0)
				ca->co.host = argv[++i];
			else
				ca->co.display = argv[++i];
			continue;
		}
		if (strcmp(a, "-n") == 0 || strcmp(a, "--count") == 0) {
			if (i + 1 >= dd)
				return usage_error("checkout: %s needs a number", a);
			val = argv[++i];
		} else if (strncmp(a, "--count=", 8) == 0) {
			val = a + 8;
		} else if (strncmp(a, "-n", 2) == 0) {
			val = a + 2;
		} else if (a[0] == '-' && a[1] != '\0') {
			return usage_error("checkout: unknown option %s", a);
		} else if (ca->product == NULL) {
			ca->product = a;
			continue;
		} else if (ca->version == NULL) {
			ca->version = a;
			continue;
		} else {
			return usage_error("checkout: unexpected argument %s "
			    "(the command goes after --)", a);
		}
		if (parse_count(val, &ca->count) != 0)
			return usage_error("checkout: bad seat count \"%s\"", val);
	}
	if (ca->product == NULL)
		return usage_error("%s", "checkout: no PRODUCT given");
	if (ca->version == NULL)
		ca->version = DEFAULT_VERSION;
	ca->cmd = &argv[dd + 1];
	return 0;
}

/*
 * Run the command while the library's lease machine keeps the granted
 * lease gr (heartbeats, reconnects with RECLAIM, new tickets), then give
 * the seat back.  Returns the exit status.
 */
static int
run_holding(xlicen_session *s, struct checkout_args *ca,
    const struct xlicen_grant *gr)
{
	struct sigaction sa, old_int, old_quit, old_term, old_hup;
	struct lease_watch lw;
	sigset_t block, oldmask;
	char what[200];
	int rc, ex, status, stopped = 0;
	pid_t pid;

	/*
	 * Like time(1): the terminal's SIGINT/SIGQUIT are for the command;
	 * we outlive it to release the seat.  SIGTERM/SIGHUP sent to us are
	 * passed on to it.  They stay blocked until child_pid is known.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &oldmask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGQUIT, &sa, &old_quit);
	sa.sa_handler = forward_signal;
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	memset(&lw, 0, sizeof(lw));
	lw.product = ca->product;
	lw.lease = gr->lease;
	lw.state = XLICEN_STATE_HELD;
	xlicen_set_state_cb(s, on_lease_state, &lw);
	if ((rc = xlicen_checkout_adopt(s, ca->product, ca->version, ca->count,
	    gr)) != 0) {
		report(s, "checkout", rc);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		ex = EXIT_NOSERVER;
		goto restore;
	}
	fflush(NULL);
	pid = spawn(ca->cmd, &oldmask, !ca->so.keep_running);
	if (pid < 0) {
		fprintf(stderr, "xlicen: fork: %s\n", strerror(errno));
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		ex = EXIT_NOSERVER;
	} else {
		child_pid = pid;
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		status = supervise(s, &lw, pid, &ca->so, &stopped);
		if (stopped)
			ex = EXIT_SEAT_LOST;
		else if (WIFEXITED(status))
			ex = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			ex = 128 + WTERMSIG(status);
		else
			ex = EXIT_NOSERVER;
		child_pid = 0;
	}
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	/* Give the seat back (nothing to give if it was lost). */
	if (!lw.lost && (rc = xlicen_checkout_stop(s)) != 0) {
		snprintf(what, sizeof(what), "%.80s: release of lease %.64s",
		    ca->product, gr->lease);
		report(s, what, rc);
	}
	return ex;
}

static int
cmd_checkout(const struct global_opts *g, int argc, char **argv)
{
	struct checkout_args ca;
	struct xlicen_grant gr;
	xlicen_session *s = NULL;
	const char *product;
	char when[32], what[200];
	int rc, ex = 0;

	if ((ex = parse_checkout(argc, argv, &ca)) != 0)
		return ex;
	product = ca.product;
	if ((s = open_session(g, &ex)) == NULL)
		return ex;
	/* The server holds a waiting checkout's reply up to 20 s: the
	 * session must wait longer than that for it. */
	if ((ca.co.flags & XLICEN_CHECKOUT_WAIT) && g->timeout_ms > 0 &&
	    g->timeout_ms < WAIT_TIMEOUT_MS)
		xlicen_set_timeout_ms(s, WAIT_TIMEOUT_MS);
	if ((ca.co.flags & XLICEN_CHECKOUT_WAIT))
		fprintf(stderr, "xlicen: %s: waiting for a seat%s\n", product,
		    ca.co.wait_s > 0 ? "" : " (until the server's queue timeout)");
	rc = xlicen_checkout_ex(s, product, ca.version, ca.count, &ca.co, &gr);
	if (rc != 0) {
		const char *em = xlicen_errmsg(s), *why = strstr(em, "): ");

		/* Free seats held back for others: say so, the count alone
		 * would look wrong. */
		if (rc == XLICEN_E_NO_SEATS && gr.total > 0 && why != NULL &&
		    strstr(why, "reserved for others") != NULL)
			fprintf(stderr, "xlicen: %s: %s (%u/%u seats in use): "
			    "%s\n", product, xlicen_strerror(rc), gr.in_use,
			    gr.total, why + 3);
		else if (exit_for(rc) == EXIT_REFUSED && gr.total > 0)
			fprintf(stderr, "xlicen: %s: %s (%u/%u seats in use)\n",
			    product, xlicen_strerror(rc), gr.in_use, gr.total);
		else {
			snprintf(what, sizeof(what), "%.100s", product);
			report(s, what, rc);
		}
		ex = exit_for(rc);
		goto out;
	}
	fmt_time(gr.expires, when, sizeof(when));
	fprintf(stderr, "xlicen: granted %s lease %s (%u/%u seats in use, "
	    "expires %s)\n", product, gr.lease, gr.in_use, gr.total, when);
	ex = run_holding(s, &ca, &gr);
out:
	xlicen_session_free(s);
	return ex;
}

/* ---- holders and leases ---- */

static const char *
holder_state(int state)
{
	switch (state) {
	case XLICEN_HOLDER_LEASE:
		return "held";
	case XLICEN_HOLDER_QUEUED:
		return "queued";
	case XLICEN_HOLDER_LINGER:
		return "lingering";
	default:
		return "unknown";
	}
}

static void
holders_json(const struct xlicen_holder *h, size_t n)
{
	char t[32];
	size_t i;

	if (n == 0) {
		printf("[]\n");
		return;
	}
	printf("[\n");
	for (i = 0; i < n; i++) {
		printf("  {\"product\": ");
		json_str(stdout, h[i].product);
		printf(", \"state\": ");
		json_str(stdout, holder_state(h[i].state));
		printf(", \"principal\": ");
		json_str(stdout, h[i].principal);
		printf(", \"host\": ");
		json_str(stdout, h[i].host);
		printf(", \"display\": ");
		json_str(stdout, h[i].display);
		printf(", \"%s\": ", h[i].state == XLICEN_HOLDER_QUEUED ?
		    "queue_id" : "lease");
		json_str(stdout, h[i].id);
		printf(", \"version\": ");
		json_str(stdout, h[i].version);
		printf(", \"count\": %u, \"pid\": %u, \"since\": ", h[i].count,
		    h[i].pid);
		fmt_time(h[i].since, t, sizeof(t));
		json_str(stdout, t);
		printf(", \"last_heartbeat\": ");
		if (h[i].last_heartbeat > 0) {
			fmt_time(h[i].last_heartbeat, t, sizeof(t));
			json_str(stdout, t);
		} else {
			printf("null");
		}
		printf(", \"expires\": ");
		fmt_time(h[i].expires, t, sizeof(t));
		json_str(stdout, t);
		printf(", \"heartbeat\": %u, \"position\": %u, \"connected\": "
		    "%s, \"withdrawn\": %s}%s\n", h[i].heartbeat_s,
		    h[i].position, h[i].connected ? "true" : "false",
		    h[i].withdrawn ? "true" : "false", i + 1 < n ? "," : "");
	}
	printf("]\n");
}

static void
holders_table(const struct xlicen_holder *h, size_t n)
{
	char since[32], hb[32], exp[32], state[32];
	size_t i;

	printf("%-12s %-10s %-24s %-16s %-18s %-32s %5s %-20s %-20s %-20s\n",
	    "PRODUCT", "STATE", "PRINCIPAL", "HOST", "DISPLAY", "LEASE/QUEUE ID",
	    "COUNT", "SINCE", "LAST HEARTBEAT", "EXPIRES");
	for (i = 0; i < n; i++) {
		fmt_time(h[i].since, since, sizeof(since));
		if (h[i].last_heartbeat > 0)
			fmt_time(h[i].last_heartbeat, hb, sizeof(hb));
		else
			snprintf(hb, sizeof(hb), "-");
		fmt_time(h[i].expires, exp, sizeof(exp));
		if (h[i].state == XLICEN_HOLDER_QUEUED)
			snprintf(state, sizeof(state), "queued#%u",
			    h[i].position);
		else
			snprintf(state, sizeof(state), "%s%s%s",
			    holder_state(h[i].state), h[i].withdrawn ? "-w" :
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
cmd_holders(const struct global_opts *g, int argc, char **argv, int mine)
{
	struct xlicen_holder *h = NULL;
	xlicen_session *s = NULL;
	const char *product = NULL;
	size_t n = 0;
	int i, json = 0, rc, ex = 0, more = 0;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return usage_error("unknown option %s", argv[i]);
		else if (product == NULL)
			product = argv[i];
		else
			return usage_error("unexpected argument %s", argv[i]);
	}
	if ((s = open_session(g, &ex)) == NULL)
		return ex;
	rc = mine ? xlicen_my_leases(s, product, &h, &n) :
	    xlicen_holders(s, product, &h, &n, &more);
	if (rc != 0) {
		report(s, mine ? "leases" : "holders", rc);
		ex = exit_for(rc);
		goto out;
	}
	if (json)
		holders_json(h, n);
	else
		holders_table(h, n);
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

static int
cmd_remove(const struct global_opts *g, int argc, char **argv)
{
	xlicen_session *s = NULL;
	char what[128];
	int rc, ex = 0;

	if (argc != 2 || argv[1][0] == '-')
		return usage_error("%s", "usage: xlicen remove LEASE");
	if ((s = open_session(g, &ex)) == NULL)
		return ex;
	if ((rc = xlicen_remove(s, argv[1])) != 0) {
		snprintf(what, sizeof(what), "remove %.100s", argv[1]);
		report(s, what, rc);
		ex = exit_for(rc);
	} else {
		printf("removed %s\n", argv[1]);
	}
	xlicen_session_free(s);
	return ex;
}

/* reread, shutdown: no arguments, OK or an error. */
static int
cmd_simple_admin(const struct global_opts *g, int argc, char **argv)
{
	xlicen_session *s = NULL;
	char summary[512];
	int rc, ex = 0;

	if (argc != 1)
		return usage_error("%s: takes no arguments", argv[0]);
	if ((s = open_session(g, &ex)) == NULL)
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
		report(s, argv[0], rc);
		ex = exit_for(rc);
	}
	xlicen_session_free(s);
	return ex;
}

/* ---- reports ---- */

/* DATE: YYYY-MM-DD (UTC midnight; end_of_day: the next midnight),
 * YYYY-MM-DDTHH:MM:SSZ, or @SECONDS. */
static int
parse_date(const char *arg, int end_of_day, int64_t *out)
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
			return -1;
		*out = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(arg, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		memset(&tm, 0, sizeof(tm));
		end = strptime(arg, "%Y-%m-%d", &tm);
		if (end == NULL || *end != '\0')
			return -1;
		if (end_of_day)
			tm.tm_mday++;
	}
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

static void
csv_str(const char *s)
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
report_out(const struct xlicen_report_row *r, size_t n, int64_t from,
    int64_t to, const char *format)
{
	char f[32], t[32];
	size_t i;

	fmt_time(from, f, sizeof(f));
	fmt_time(to, t, sizeof(t));
	if (strcmp(format, "json") == 0) {
		printf("{\"from\": \"%s\", \"to\": \"%s\", \"rows\": [", f, t);
		for (i = 0; i < n; i++) {
			printf("%s\n  {\"product\": ", i > 0 ? "," : "");
			json_str(stdout, r[i].product);
			printf(", \"principal\": ");
			if (r[i].principal[0] != '\0')
				json_str(stdout, r[i].principal);
			else
				printf("null");
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
			csv_str(r[i].product);
			putchar(',');
			csv_str(r[i].principal);
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

/*
 * The audit chain of a database file, read-only, recomputed here: the
 * check does not trust the running server at all.  Prints and returns the
 * exit status.
 */
static int
verify_file(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct audit_event ae;
	uint8_t prev[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	char uri[4200], hex[2 * AUDIT_HASH_LEN + 1];
	struct audit_cell cells[AUDIT_NCOLS];
	uint64_t n = 0, bad = 0;
	int have = 0, src, ex = 0, i, col = -1;

	_Static_assert(AUDIT_T_INTEGER == SQLITE_INTEGER &&
	    AUDIT_T_REAL == SQLITE_FLOAT && AUDIT_T_TEXT == SQLITE_TEXT &&
	    AUDIT_T_BLOB == SQLITE_BLOB && AUDIT_T_NULL == SQLITE_NULL,
	    "audit_type is SQLite's datatype codes");
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
#define TXT(i) (sqlite3_column_type(st, (i)) == SQLITE_NULL ? NULL :	\
	(const char *)sqlite3_column_text(st, (i)))
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		/* The types first: the reads below may convert them. */
		for (i = 0; i < AUDIT_NCOLS; i++) {
			cells[i].type = sqlite3_column_type(st, i);
			cells[i].bytes = cells[i].type == SQLITE_TEXT ?
			    (size_t)sqlite3_column_bytes(st, i) : 0;
		}
		memset(&ae, 0, sizeof(ae));
		ae.id = sqlite3_column_int64(st, 0);
		ae.ts = sqlite3_column_int64(st, 1);
		ae.kind = TXT(2);
		ae.principal = TXT(3);
		ae.host = TXT(4);
		ae.display = TXT(5);
		ae.product = TXT(6);
		ae.version = TXT(7);
		ae.lease_id = TXT(8);
		ae.has_pool_id = sqlite3_column_type(st, 9) != SQLITE_NULL;
		ae.pool_id = sqlite3_column_int64(st, 9);
		ae.has_count = sqlite3_column_type(st, 10) != SQLITE_NULL;
		ae.count = sqlite3_column_int64(st, 10);
		ae.code = sqlite3_column_int64(st, 11);
		ae.detail = TXT(12);
		ae.has_seats = sqlite3_column_type(st, 13) != SQLITE_NULL;
		ae.seats = sqlite3_column_int64(st, 13);
		n++;
		if (audit_event_hash(have ? prev : NULL, &ae, h) != 0) {
			fprintf(stderr, "xlicen: report verify: hashing failed\n");
			ex = EXIT_NOSERVER;
			goto out;
		}
		if (audit_row_check(&ae, cells, &col) != 0) {
			fprintf(stderr, "xlicen: report verify: event %lld: "
			    "column %s is not stored as the chain encodes it\n",
			    (long long)ae.id, audit_col_name(col));
			bad = (uint64_t)ae.id;
			break;
		}
		if (sqlite3_column_type(st, 14) != SQLITE_BLOB ||
		    sqlite3_column_bytes(st, 14) != AUDIT_HASH_LEN ||
		    memcmp(sqlite3_column_blob(st, 14), h, AUDIT_HASH_LEN) !=
		    0) {
			bad = (uint64_t)ae.id;
			break;
		}
		memcpy(prev, h, sizeof(prev));
		have = 1;
	}
#undef TXT
	if (bad == 0 && src != SQLITE_DONE) {
		fprintf(stderr, "xlicen: report verify: %s: %s\n", path,
		    sqlite3_errmsg(db));
		ex = EXIT_NOSERVER;
		goto out;
	}
	if (have)
		audit_hex(prev, hex);
	else
		hex[0] = '\0';
	if (bad != 0) {
		printf("audit trail BROKEN at event %llu (%llu events checked; "
		    "last good hash %s)\n", (unsigned long long)bad,
		    (unsigned long long)n, have ? hex : "-");
		ex = EXIT_AUDIT;
	} else {
		printf("audit trail intact: %llu events, head %s\n",
		    (unsigned long long)n, have ? hex : "-");
	}
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ex;
}

static int
cmd_report(const struct global_opts *g, int argc, char **argv)
{
	struct xlicen_report_row *rows = NULL;
	struct xlicen_audit_check ac;
	xlicen_session *s = NULL;
	const char *product = NULL, *format = "table", *database = NULL;
	int64_t from = 0, to = 0;
	size_t n = 0;
	int i, rc, ex = 0, more = 0, verify = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (i == 1 && strcmp(a, "verify") == 0) {
			verify = 1;
			continue;
		}
		if (i + 1 >= argc && (strcmp(a, "--from") == 0 ||
		    strcmp(a, "--to") == 0 || strcmp(a, "--product") == 0 ||
		    strcmp(a, "--format") == 0 || strcmp(a, "--database") == 0))
			return usage_error("report: %s needs a value", a);
		if (!verify && strcmp(a, "--from") == 0) {
			if (parse_date(argv[++i], 0, &from) != 0)
				return usage_error("report: bad date \"%s\" "
				    "(YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
				    "@SECONDS)", argv[i]);
		} else if (!verify && strcmp(a, "--to") == 0) {
			if (parse_date(argv[++i], 1, &to) != 0)
				return usage_error("report: bad date \"%s\" "
				    "(YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
				    "@SECONDS)", argv[i]);
		} else if (!verify && strcmp(a, "--product") == 0) {
			product = argv[++i];
		} else if (!verify && strcmp(a, "--format") == 0) {
			format = argv[++i];
			if (strcmp(format, "table") != 0 &&
			    strcmp(format, "csv") != 0 &&
			    strcmp(format, "json") != 0)
				return usage_error("report: --format is table, "
				    "csv or json, not \"%s\"", format);
		} else if (verify && strcmp(a, "--database") == 0) {
			database = argv[++i];
		} else {
			return usage_error("report: unexpected argument %s", a);
		}
	}
	if (verify && database != NULL)
		return verify_file(database);
	if (to > 0 && from > to)
		return usage_error("%s", "report: --from is after --to");
	if ((s = open_session(g, &ex)) == NULL)
		return ex;
	if (verify) {
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
			report(s, "report verify", rc);
			ex = exit_for(rc);
		}
		goto out;
	}
	if (to == 0)
		to = (int64_t)time(NULL);
	rc = xlicen_report(s, from, to, product, &rows, &n, &more);
	if (rc != 0) {
		report(s, "report", rc);
		ex = exit_for(rc);
		goto out;
	}
	report_out(rows, n, from, to > (int64_t)time(NULL) ?
	    (int64_t)time(NULL) : to, format);
	if (more)
		fprintf(stderr, "xlicen: report: cut to fit one reply; give "
		    "--product\n");
out:
	xlicen_report_free(rows);
	xlicen_session_free(s);
	return ex;
}

static int
parse_timeout(const char *arg, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v > 0) || v > 3600)
		return -1;
	*ms = (int)(v * 1000);
	if (*ms < 1)
		*ms = 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct global_opts g;
	const char *a, *val;
	int i;

	memset(&g, 0, sizeof(g));
	for (i = 1; i < argc; i++) {
		a = argv[i];
		val = NULL;
		if (a[0] != '-' || strcmp(a, "-") == 0)
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("xlicen %s (libxlicen %s)\n", XLICEN_VERSION,
			    xlicen_version());
			return 0;
		}
		if (strcmp(a, "-s") == 0 || strcmp(a, "--server") == 0 ||
		    strcmp(a, "--service") == 0 || strcmp(a, "-t") == 0 ||
		    strcmp(a, "--timeout") == 0) {
			if (i + 1 >= argc)
				return usage_error("option %s needs a value", a);
			val = argv[++i];
		} else if (strncmp(a, "--server=", 9) == 0) {
			val = a + 9;
			a = "--server";
		} else if (strncmp(a, "--service=", 10) == 0) {
			val = a + 10;
			a = "--service";
		} else if (strncmp(a, "--timeout=", 10) == 0) {
			val = a + 10;
			a = "--timeout";
		} else if (strncmp(a, "-s", 2) == 0) {
			val = a + 2;
			a = "-s";
		} else if (strncmp(a, "-t", 2) == 0) {
			val = a + 2;
			a = "-t";
		} else {
			return usage_error("unknown option %s", a);
		}
		if (strcmp(a, "-s") == 0 || strcmp(a, "--server") == 0)
			g.servers = val;
		else if (strcmp(a, "--service") == 0)
			g.service = val;
		else if (parse_timeout(val, &g.timeout_ms) != 0)
			return usage_error("bad timeout \"%s\" (seconds, at most 3600)",
			    val);
	}
	if (i >= argc)
		return usage_error("%s", "no command given");
	a = argv[i];
	if (strcmp(a, "status") == 0)
		return cmd_status(&g, argc - i, argv + i);
	if (strcmp(a, "checkout") == 0)
		return cmd_checkout(&g, argc - i, argv + i);
	if (strcmp(a, "release") == 0)
		return cmd_release(&g, argc - i, argv + i);
	if (strcmp(a, "reclaim") == 0)
		return cmd_reclaim(&g, argc - i, argv + i);
	if (strcmp(a, "leases") == 0)
		return cmd_holders(&g, argc - i, argv + i, 1);
	if (strcmp(a, "holders") == 0)
		return cmd_holders(&g, argc - i, argv + i, 0);
	if (strcmp(a, "remove") == 0)
		return cmd_remove(&g, argc - i, argv + i);
	if (strcmp(a, "reread") == 0 || strcmp(a, "shutdown") == 0)
		return cmd_simple_admin(&g, argc - i, argv + i);
	if (strcmp(a, "report") == 0)
		return cmd_report(&g, argc - i, argv + i);
	if (strcmp(a, "help") == 0) {
		usage(stdout);
		return 0;
	}
	return usage_error("unknown command \"%s\"", a);
}
