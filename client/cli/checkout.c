/*
 * xlicen checkout: hold seats while a command runs.  The command is a
 * child with default signal handling, tied to xlicen (PR_SET_PDEATHSIG);
 * the library's lease machine keeps the lease (heartbeats, reconnects,
 * new tickets) while xlicen waits for the child, passes SIGTERM/SIGHUP
 * on to it, ends it when the seat is lost for good, and gives the seat
 * back when it exits.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "cli.h"

/* Between the SIGTERM and the SIGKILL to a command whose seat is lost,
 * unless --kill-after says otherwise (s). */
#define DEFAULT_KILL_AFTER_S	10
/* Session timeout while waiting in the queue: above the 20 s the server
 * holds a waiting checkout's reply. */
#define WAIT_TIMEOUT_MS		25000

/* The child to pass SIGTERM/SIGHUP on to (0: none yet). */
static volatile sig_atomic_t child_pid;

static void
checkout_forward_signal(int sig)
{
	if (child_pid > 0)
		kill((pid_t)child_pid, sig);
}

static int
checkout_pidfd_open(pid_t pid)
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
checkout_now_ms(void)
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
checkout_spawn(char **argv, const sigset_t *oldmask, int tie)
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
checkout_on_state(xlicen_session *s, int state, int code, const char *text,
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

/* How checkout_supervise ends a command whose seat is gone. */
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
checkout_supervise(xlicen_session *s, struct lease_watch *w, pid_t pid,
    const struct stop_opts *so, int *stopped)
{
	struct pollfd pfd[2];
	int64_t kill_at = 0, now;
	int pidfd, status = 0, rc, n, nfd, wait_ms, reaped = 0, ww, killed = 0;
	int said = 0;

	*stopped = 0;
	pidfd = checkout_pidfd_open(pid);
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
			now = checkout_now_ms();
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
			kill_at = checkout_now_ms() + so->kill_after_ms;
		} else if (w->lost && so->keep_running && !said) {
			fprintf(stderr, "xlicen: %s: the command keeps running "
			    "without a seat (--keep-running)\n", w->product);
			said = 1;
		}
		if (*stopped && !killed && checkout_now_ms() >= kill_at) {
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

/* Parse a seat count 1..10^9 (the server sets the real limit);
 * false if arg is none. */
static bool
checkout_parse_count(const char *arg, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		return false;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 1000000000UL)
		return false;
	*out = (unsigned)v;
	return true;
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

/* checkout's own options. */
enum {
	CHECKOUT_OPT_KEEP = CLI_OPT_VERB,
	CHECKOUT_OPT_KILL_AFTER,
	CHECKOUT_OPT_WAIT,
	CHECKOUT_OPT_HOST,
	CHECKOUT_OPT_DISPLAY,
};
static const struct option checkout_opts[] = {
	{ "count", required_argument, NULL, 'n' },
	{ "keep-running", no_argument, NULL, CHECKOUT_OPT_KEEP },
	{ "kill-after", required_argument, NULL, CHECKOUT_OPT_KILL_AFTER },
	{ "wait", optional_argument, NULL, CHECKOUT_OPT_WAIT },
	{ "host", required_argument, NULL, CHECKOUT_OPT_HOST },
	{ "display", required_argument, NULL, CHECKOUT_OPT_DISPLAY },
	{ NULL, 0, NULL, 0 }
};

/* One of checkout's own options (code c, value val) into *ca; 0, or the
 * usage exit status after the message. */
static int
checkout_option(int c, const char *val, struct checkout_args *ca)
{
	unsigned ka;

	switch (c) {
	case CHECKOUT_OPT_KEEP:
		ca->so.keep_running = 1;
		break;
	case CHECKOUT_OPT_KILL_AFTER:
		if (strcmp(val, "0") == 0)
			ka = 0;
		else if (!checkout_parse_count(val, &ka) || ka > 3600)
			return cli_usage_error("checkout: bad --kill-after "
			    "\"%s\" (seconds, 0 to 3600)", val);
		ca->so.kill_after_ms = (int)ka * 1000;
		break;
	case CHECKOUT_OPT_WAIT:
		ca->co.flags |= XLICEN_CHECKOUT_WAIT;
		if (val != NULL && (!checkout_parse_count(val, &ca->co.wait_s) ||
		    ca->co.wait_s > 86400))
			return cli_usage_error("checkout: bad --wait \"%s\" "
			    "(seconds, 1 to 86400)", val);
		break;
	case CHECKOUT_OPT_HOST:
		ca->co.host = val;
		break;
	case CHECKOUT_OPT_DISPLAY:
		ca->co.display = val;
		break;
	case 'n':
		if (!checkout_parse_count(val, &ca->count))
			return cli_usage_error("checkout: bad seat count \"%s\"",
			    val);
		break;
	}
	return 0;
}

/*
 * Parse checkout's arguments into *ca, and global options among them
 * into *g.  True when the checkout is to go ahead; false when it ends
 * with exit status *ex (after the message, or help or version).
 */
static bool
checkout_parse(struct cli_global *g, int argc, char **argv,
    struct checkout_args *ca, int *ex)
{
	struct cli_getopt p;
	int i, c, dd = -1;

	memset(ca, 0, sizeof(*ca));
	ca->count = 1;
	ca->so.kill_after_ms = DEFAULT_KILL_AFTER_S * 1000;
	*ex = EXIT_USAGE;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	if (dd < 0 || dd + 1 >= argc) {
		cli_usage_error("%s", "usage: xlicen checkout [-n COUNT] "
		    "[--wait[=SECONDS]] [--host NAME] [--display DPY] "
		    "[--kill-after SECONDS] [--keep-running] PRODUCT "
		    "[VERSION] -- COMMAND [ARGS...]");
		return false;
	}
	/* The options end at the "--": what follows is the command's. */
	cli_getopt_init(&p, dd, argv, 1, "n:", checkout_opts);
	while ((c = cli_getopt_next(&p, g)) != CLI_END) {
		if (c == CLI_EXIT) {
			*ex = p.ex;
			return false;
		}
		if (c == CLI_NOVALUE) {
			cli_usage_error(p.opt == 'n' ? "checkout: %s needs a "
			    "number" : "checkout: %s needs a value", p.arg);
			return false;
		}
		if (c == CLI_UNKNOWN) {
			cli_usage_error("checkout: unknown option %s", p.arg);
			return false;
		}
		if (c != CLI_ARG) {
			if (checkout_option(c, p.val, ca) != 0)
				return false;
		} else if (ca->product == NULL) {
			ca->product = p.val;
		} else if (ca->version == NULL) {
			ca->version = p.val;
		} else {
			cli_usage_error("checkout: unexpected argument %s "
			    "(the command goes after --)", p.val);
			return false;
		}
	}
	if (ca->product == NULL) {
		cli_usage_error("%s", "checkout: no PRODUCT given");
		return false;
	}
	if (ca->version == NULL)
		ca->version = DEFAULT_VERSION;
	ca->cmd = &argv[dd + 1];
	*ex = 0;
	return true;
}

/*
 * Run the command while the library's lease machine keeps the granted
 * lease gr (heartbeats, reconnects with RECLAIM, new tickets), then give
 * the seat back.  Returns the exit status.
 */
static int
checkout_run_holding(xlicen_session *s, struct checkout_args *ca,
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
	sa.sa_handler = checkout_forward_signal;
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	memset(&lw, 0, sizeof(lw));
	lw.product = ca->product;
	lw.lease = gr->lease;
	lw.state = XLICEN_STATE_HELD;
	xlicen_set_state_cb(s, checkout_on_state, &lw);
	/* A seat from a borrow token: nothing to heartbeat or release. */
	if (!gr->borrowed && (rc = xlicen_checkout_adopt(s, ca->product,
	    ca->version, ca->count, gr)) != 0) {
		cli_error(s, "checkout", rc);
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		ex = EXIT_NOSERVER;
		goto restore;
	}
	fflush(NULL);
	pid = checkout_spawn(ca->cmd, &oldmask, !ca->so.keep_running);
	if (pid < 0) {
		fprintf(stderr, "xlicen: fork: %s\n", strerror(errno));
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		ex = EXIT_NOSERVER;
	} else {
		child_pid = pid;
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		status = checkout_supervise(s, &lw, pid, &ca->so, &stopped);
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
		cli_error(s, what, rc);
	}
	return ex;
}

/*
 * After a checkout refused for an unknown product or an expired license:
 * what the server has (a STATUS query: the products it licenses, or the
 * last day of the product's expired licenses) and what to do next.  Says
 * nothing more if that query fails.
 */
static void
checkout_deny_hint(xlicen_session *s, int rc, const char *product)
{
	struct xlicen_pool *p = NULL;
	size_t i, j, n = 0;
	int64_t last = 0;
	char day[32];

	if ((rc != XLICEN_E_NO_PRODUCT && rc != XLICEN_E_EXPIRED) ||
	    xlicen_status(s, rc == XLICEN_E_EXPIRED ? product : NULL, &p,
	    &n) != 0)
		return;
	if (rc == XLICEN_E_EXPIRED) {
		for (i = 0; i < n; i++)
			if (p[i].state == XLICEN_POOL_EXPIRED &&
			    p[i].expires > last)
				last = p[i].expires;
		if (last > 0) {
			cli_fmt_expiry(last, day, sizeof(day));
			fprintf(stderr, "xlicen: %s: its last valid day was %s: "
			    "the server needs a renewed license file from the "
			    "vendor\n", product, day);
		}
	} else if (n == 0) {
		fprintf(stderr, "xlicen: %s: the server has no licenses: check "
		    "its license directory (xlicen info)\n", product);
	} else {
		fprintf(stderr, "xlicen: %s: the server has licenses for ",
		    product);
		/* Pools come by product: a name once, at its first pool. */
		for (i = 0; i < n; i++) {
			for (j = 0; j < i; j++)
				if (strcmp(p[j].product, p[i].product) == 0)
					break;
			if (j == i)
				fprintf(stderr, "%s%s", i > 0 ? ", " : "",
				    p[i].product);
		}
		fprintf(stderr, ": check the product's name, or give another "
		    "server with -s\n");
	}
	xlicen_pools_free(p);
}

int
cli_cmd_checkout(struct cli_global *g, int argc, char **argv)
{
	struct checkout_args ca;
	struct xlicen_grant gr;
	xlicen_session *s = NULL;
	const char *product;
	char when[32], what[200];
	int rc, ex = 0;

	if (!checkout_parse(g, argc, argv, &ca, &ex))
		return ex;
	product = ca.product;
	if ((s = cli_open_session(g, &ex)) == NULL)
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
		/* Free seats held back for others (the DENY's DETAIL): say
		 * so, the count alone would look wrong; the server's reason
		 * follows for the numbers. */
		if (rc == XLICEN_E_NO_SEATS &&
		    (xlicen_deny_detail(s) & XLICEN_DENY_RESERVED))
			fprintf(stderr, "xlicen: %s: %s (%u/%u seats in use; "
			    "the free ones are reserved for others): %s\n",
			    product, xlicen_strerror(rc), gr.in_use, gr.total,
			    xlicen_errmsg(s));
		else if (cli_exit_for(rc) == EXIT_REFUSED && gr.total > 0)
			fprintf(stderr, "xlicen: %s: %s: %s (%u/%u seats in "
			    "use)%s\n", product, xlicen_server(s),
			    xlicen_strerror(rc), gr.in_use, gr.total,
			    rc == XLICEN_E_NO_SEATS &&
			    !(ca.co.flags & XLICEN_CHECKOUT_WAIT) ?
			    ": try again later, or wait in the server's queue "
			    "with --wait" : "");
		else {
			snprintf(what, sizeof(what), "%.100s", product);
			cli_error(s, what, rc);
			checkout_deny_hint(s, rc, product);
		}
		ex = cli_exit_for(rc);
		goto out;
	}
	cli_fmt_time(gr.expires, when, sizeof(when));
	if (gr.borrowed)
		fprintf(stderr, "xlicen: no server reachable; borrowed %s lease "
		    "%s until %s\n", product, gr.lease, when);
	else
		fprintf(stderr, "xlicen: granted %s lease %s (%u/%u seats in "
		    "use, expires %s)\n", product, gr.lease, gr.in_use,
		    gr.total, when);
	ex = checkout_run_holding(s, &ca, &gr);
out:
	xlicen_session_free(s);
	return ex;
}
