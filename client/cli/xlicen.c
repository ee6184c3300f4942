/*
 * xlicen: the command-line client of gss-xlicen, for users and scripts:
 * show the license pools, run a command while holding a seat, release a
 * lease.  Everything it knows about the protocol comes from libxlicen.
 *
 * Exit codes (also in the usage text): 0 success, 1 usage error, 2 the
 * server refused (denied, not the owner, no such lease), 3 no answer or
 * failed authentication; `checkout` otherwise exits with the command's
 * status (128+N if a signal N killed it).
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

#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "xlicen.h"

#define EXIT_USAGE	1
#define EXIT_REFUSED	2
#define EXIT_NOSERVER	3

/* What `checkout` asks for when no VERSION is given. */
#define DEFAULT_VERSION	"1.0"
/* Heartbeat interval if the server does not say one. */
#define DEFAULT_HEARTBEAT_S	30
/* After a failed heartbeat, try again this soon (s; sooner if the
 * server's interval is shorter). */
#define RETRY_HEARTBEAT_S	5

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
"  status [PRODUCT] [--json]       license pools: seats in use, dates, state\n"
"  checkout [-n COUNT] PRODUCT [VERSION] -- COMMAND [ARGS...]\n"
"                                  hold COUNT seats (default 1) of PRODUCT at\n"
"                                  VERSION (default " DEFAULT_VERSION ") while COMMAND runs\n"
"  release LEASE                   give back a lease you hold\n"
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
"3 connection or authentication failure; checkout: else the command's\n"
"status (128+N if killed by signal N).\n", XLICEN_DEFAULT_PORT);
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
		return EXIT_REFUSED;
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

static void
status_json(const struct xlicen_pool *v, size_t n)
{
	char date[32], sbuf[32];
	size_t i;

	if (n == 0) {
		printf("[]\n");
		return;
	}
	printf("[\n");
	for (i = 0; i < n; i++) {
		printf("  {\"product\": ");
		json_str(stdout, v[i].product);
		printf(", \"versions\": ");
		json_str(stdout, v[i].versions);
		printf(", \"vendor\": ");
		json_str(stdout, v[i].vendor);
		printf(", \"serial\": ");
		json_str(stdout, v[i].serial);
		printf(", \"total\": %u, \"in_use\": %u, \"start\": ", v[i].total,
		    v[i].in_use);
		if (v[i].start == 0) {
			printf("null");
		} else {
			fmt_date(v[i].start, date, sizeof(date));
			json_str(stdout, date);
		}
		printf(", \"expires\": ");
		if (v[i].expires == 0) {
			json_str(stdout, "permanent");
		} else {
			fmt_expiry(v[i].expires, date, sizeof(date));
			json_str(stdout, date);
		}
		printf(", \"state\": ");
		json_str(stdout, state_name(v[i].state, sbuf, sizeof(sbuf)));
		printf("}%s\n", i + 1 < n ? "," : "");
	}
	printf("]\n");
}

static void
status_table(const struct xlicen_pool *v, size_t n)
{
	int wp = (int)strlen("PRODUCT"), wv = (int)strlen("VERSIONS");
	/* EXPIRES holds "permanent" or YYYY-MM-DD: always 10 wide. */
	int wu = (int)strlen("IN USE/TOTAL"), we = 10, len;
	char seats[32], date[32], sbuf[32];
	size_t i;

	for (i = 0; i < n; i++) {
		if ((len = (int)strlen(v[i].product)) > wp)
			wp = len;
		if ((len = (int)strlen(v[i].versions)) > wv)
			wv = len;
		len = snprintf(seats, sizeof(seats), "%u/%u", v[i].in_use, v[i].total);
		if (len > wu)
			wu = len;
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", wp, "PRODUCT", wv, "VERSIONS", wu,
	    "IN USE/TOTAL", we, "EXPIRES", "STATE");
	for (i = 0; i < n; i++) {
		snprintf(seats, sizeof(seats), "%u/%u", v[i].in_use, v[i].total);
		if (v[i].expires == 0)
			snprintf(date, sizeof(date), "permanent");
		else
			fmt_expiry(v[i].expires, date, sizeof(date));
		printf("%-*s  %-*s  %-*s  %-*s  %s\n", wp, v[i].product, wv,
		    v[i].versions, wu, seats, we, date,
		    state_name(v[i].state, sbuf, sizeof(sbuf)));
	}
}

static int
cmd_status(const struct global_opts *g, int argc, char **argv)
{
	struct xlicen_pool *v = NULL;
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
	rc = xlicen_status(s, product, &v, &n);
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
	xlicen_pools_free(v);
	xlicen_session_free(s);
	return ex;
}

static int
cmd_release(const struct global_opts *g, int argc, char **argv)
{
	xlicen_session *s = NULL;
	char what[128];
	int rc, ex = 0;

	if (argc != 2 || argv[1][0] == '-')
		return usage_error("%s", "usage: xlicen release LEASE");
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

/*
 * Milliseconds to the next heartbeat: the server's interval, but at most
 * half the time the lease has left.  That is measured in milliseconds: the
 * server counts whole seconds, so a lease of TTL 2 s granted at x.95 ends
 * at x+2, only 1.05 s later, and a heartbeat "every second" drifts past
 * it.
 */
static int64_t
heartbeat_in_ms(unsigned interval, int64_t expires)
{
	struct timespec ts;
	int64_t left, ms = 1000LL * (interval > 0 ? interval : DEFAULT_HEARTBEAT_S);

	clock_gettime(CLOCK_REALTIME, &ts);
	left = expires * 1000 - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	if (left / 2 < ms)
		ms = left / 2;
	return ms < 100 ? 100 : ms;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start argv as a child with default signal handling. */
static pid_t
spawn(char **argv, const sigset_t *oldmask)
{
	pid_t pid = fork();
	int e;

	if (pid != 0)
		return pid;
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	execvp(argv[0], argv);
	e = errno;
	fprintf(stderr, "xlicen: %s: %s\n", argv[0], strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/*
 * Heartbeat the lease until the child exits; returns its wait status.
 * A heartbeat that fails for want of a connection is retried (the library
 * reconnects and heartbeats the same lease id); a lease the server no
 * longer knows is reported once and then left alone.
 */
static int
supervise(xlicen_session *s, const char *product, struct xlicen_grant *gr,
    pid_t pid, int *lease_lost)
{
	struct pollfd pfd;
	int64_t next, now, expires = gr->expires;
	int pidfd, status = 0, rc, n, wait_ms, reaped = 0;
	char what[128];

	snprintf(what, sizeof(what), "%.80s: heartbeat", product);
	pidfd = pidfd_open_compat(pid);
	next = now_ms() + heartbeat_in_ms(gr->heartbeat_s, expires);
	for (;;) {
		now = now_ms();
		wait_ms = next > now ? (int)(next - now) : 0;
		if (pidfd < 0 && wait_ms > 200)
			wait_ms = 200;	/* no pidfd: poll waitpid instead */
		pfd.fd = pidfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = poll(&pfd, pidfd >= 0 ? 1 : 0, wait_ms);
		if (n < 0 && errno != EINTR)
			break;
		rc = (int)waitpid(pid, &status, WNOHANG);
		if (rc == pid) {
			reaped = 1;
			break;
		}
		if (rc < 0 && errno != EINTR)
			break;
		if (*lease_lost || now_ms() < next)
			continue;
		rc = xlicen_heartbeat(s, gr->lease, &expires);
		if (rc == 0) {
			next = now_ms() + heartbeat_in_ms(gr->heartbeat_s, expires);
			continue;
		}
		report(s, what, rc);
		if (rc == XLICEN_E_NO_LEASE || rc == XLICEN_E_NOT_OWNER) {
			fprintf(stderr, "xlicen: %s: lease %s is lost; the command "
			    "keeps running\n", product, gr->lease);
			*lease_lost = 1;
			continue;
		}
		/* Drop what is left of the connection: the next try starts
		 * from a new one. */
		xlicen_disconnect(s);
		next = now_ms() + 1000LL * (gr->heartbeat_s > 0 &&
		    gr->heartbeat_s < RETRY_HEARTBEAT_S ? (int)gr->heartbeat_s :
		    RETRY_HEARTBEAT_S);
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

static int
cmd_checkout(const struct global_opts *g, int argc, char **argv)
{
	struct xlicen_grant gr;
	struct sigaction sa, old_int, old_quit, old_term, old_hup;
	sigset_t block, oldmask;
	xlicen_session *s = NULL;
	const char *product = NULL, *version = NULL;
	char **cmd = NULL, when[32], what[200];
	unsigned count = 1;
	int i, dd = -1, rc, ex = 0, status, lease_lost = 0;
	pid_t pid;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	if (dd < 0 || dd + 1 >= argc)
		return usage_error("%s", "usage: xlicen checkout [-n COUNT] PRODUCT "
		    "[VERSION] -- COMMAND [ARGS...]");
	for (i = 1; i < dd; i++) {
		const char *a = argv[i], *val = NULL;

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
		} else if (product == NULL) {
			product = a;
			continue;
		} else if (version == NULL) {
			version = a;
			continue;
		} else {
			return usage_error("checkout: unexpected argument %s "
			    "(the command goes after --)", a);
		}
		if (parse_count(val, &count) != 0)
			return usage_error("checkout: bad seat count \"%s\"", val);
	}
	if (product == NULL)
		return usage_error("%s", "checkout: no PRODUCT given");
	if (version == NULL)
		version = DEFAULT_VERSION;
	cmd = &argv[dd + 1];

	if ((s = open_session(g, &ex)) == NULL)
		return ex;
	rc = xlicen_checkout(s, product, version, count, &gr);
	if (rc != 0) {
		if (exit_for(rc) == EXIT_REFUSED && gr.total > 0)
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
	fflush(NULL);
	pid = spawn(cmd, &oldmask);
	if (pid < 0) {
		fprintf(stderr, "xlicen: fork: %s\n", strerror(errno));
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		ex = EXIT_NOSERVER;
	} else {
		child_pid = pid;
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		status = supervise(s, product, &gr, pid, &lease_lost);
		if (WIFEXITED(status))
			ex = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			ex = 128 + WTERMSIG(status);
		else
			ex = EXIT_NOSERVER;
		child_pid = 0;
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);

	if (!lease_lost && (rc = xlicen_release(s, gr.lease)) != 0) {
		snprintf(what, sizeof(what), "%.80s: release of lease %.64s",
		    product, gr.lease);
		report(s, what, rc);
	}
out:
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
	if (strcmp(a, "help") == 0) {
		usage(stdout);
		return 0;
	}
	return usage_error("unknown command \"%s\"", a);
}
