/*
 * pg_load_client: one client of the several-servers tests (test_pg_*.sh).
 * It checks out and releases a product for a bounded time through
 * libxlicen's non-blocking API, as an application's event loop would,
 * and writes its own log of what the library told it.
 *
 *   pg_load_client -s SERVERS -o LOG [-r] [-t SECONDS] [-H MIN:MAX]
 *                  [-I MIN:MAX] PRODUCT
 *
 * Each cycle opens a session on SERVERS (comma-separated, as for
 * xlicen_session_new); with -r the list is rotated to start at a server
 * picked at random, so that the cycles spread across the servers, else
 * its order is kept (the first is the client's home).  It starts a
 * checkout; once HELD it keeps the seat MIN..MAX ms (-H, default
 * 50:300), driving xlicen_process() so that heartbeats, reconnects and
 * RECLAIMs happen (a lease in GRACE then is kept until HELD again),
 * then releases it (xlicen_checkout_stop) and idles
 * MIN..MAX ms (-I, default 0:100).  -t bounds the run (default 20 s);
 * a seat held at the end is released.
 *
 * LOG gets one line per event, times in UTC milliseconds:
 *
 *   GRANT ms lease product port    told HELD; port = the server's (peer)
 *   GRACE ms lease code            heartbeats failing, lease kept
 *   HELD ms lease port             HELD again after GRACE, or on another
 *                                  server (re-attached: RECLAIM)
 *   SWAP ms old new                the held lease id changed (must not)
 *   LOST ms lease code             a held lease was lost
 *   DENY ms product code           the checkout ended without a seat
 *   RELEASE ms lease code          start of the release (code: its result,
 *                                  logged once it returns)
 *
 * Exit status 0, or 1 on a usage or setup error.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include "xlicen.h"

#define PLC_DRAIN_MS	3000	/* see cycle() */
#define PLC_MAX_SERVERS	8
#define PLC_LIST_MAX	1024

struct plc {
	FILE *log;
	const char *product;
	char lease[XLICEN_LEASE_MAX + 1];	/* held now, "" if none */
	int state;
	int grace;		/* GRACE seen since the last HELD */
	int code;		/* of the last state */
	unsigned port;		/* of the server the lease was last HELD on */
};

static long long
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The port of the server the session is connected to, 0 if none. */
static unsigned
peer_port(xlicen_session *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = xlicen_fd(s, NULL);

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

static const char *
code_name(int code)
{
	return code == 0 ? "OK" : xlicen_errname(code);
}

/* The state callback: log what the application would act on. */
static void
on_state(xlicen_session *s, int state, int code, const char *text, void *ud)
{
	struct plc *p = ud;
	struct xlicen_grant g;
	unsigned port;

	(void)text;
	xlicen_state(s, &g);
	if (state == XLICEN_STATE_HELD) {
		port = peer_port(s);
		if (p->lease[0] == '\0') {
			snprintf(p->lease, sizeof(p->lease), "%s", g.lease);
			fprintf(p->log, "GRANT %lld %s %s %u\n", wall_ms(), g.lease,
			    p->product, port);
		} else if (strcmp(p->lease, g.lease) != 0) {
			fprintf(p->log, "SWAP %lld %s %s\n", wall_ms(), p->lease,
			    g.lease);
			snprintf(p->lease, sizeof(p->lease), "%s", g.lease);
		} else if (p->grace || port != p->port) {
			fprintf(p->log, "HELD %lld %s %u\n", wall_ms(), g.lease,
			    port);
		}
		p->port = port;
		p->grace = 0;
	} else if (state == XLICEN_STATE_GRACE && !p->grace) {
		p->grace = 1;
		fprintf(p->log, "GRACE %lld %s %s\n", wall_ms(), p->lease,
		    code_name(code));
	} else if (state == XLICEN_STATE_LOST && p->lease[0] != '\0') {
		fprintf(p->log, "LOST %lld %s %s\n", wall_ms(), p->lease,
		    code_name(code));
	}
	p->state = state;
	p->code = code;
	fflush(p->log);
}

/* Drive the session until the deadline (monotonic ms) or until the
 * state is none of stay_in's (a bit per enum xlicen_state). */
static void
pump(xlicen_session *s, struct plc *p, long long until, unsigned stay_in)
{
	struct pollfd pfd;
	long long left;
	int to, ww;

	while ((left = until - mono_ms()) > 0 && (stay_in & (1u << p->state))) {
		pfd.fd = xlicen_fd(s, &ww);
		pfd.events = POLLIN | (ww ? POLLOUT : 0);
		to = xlicen_timeout_ms(s);
		if (to < 0 || to > left)
			to = (int)left;
		if (poll(&pfd, pfd.fd >= 0 ? 1 : 0, to) < 0 && errno != EINTR)
			break;
		xlicen_process(s);
	}
}

static int
range(const char *arg, int *lo, int *hi)
{
	return sscanf(arg, "%d:%d", lo, hi) == 2 && *lo >= 0 && *hi >= *lo ? 0 : -1;
}

static int
pick(int lo, int hi)
{
	return lo + (hi > lo ? rand() % (hi - lo + 1) : 0);
}

/* list rotated to start at entry first, into out. */
static void
rotate(char **srv, int n, int first, char *out, size_t size)
{
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s",
		    i ? "," : "", srv[(first + i) % n]);
}

/* One cycle: check out, hold, release.  Returns at the deadline at latest
 * (a held seat is released even then). */
static void
cycle(struct plc *p, const char *servers, const char *product,
    long long end, int hold_ms)
{
	xlicen_session *s = NULL;
	const unsigned asking = 1u << XLICEN_STATE_CONNECTING |
	    1u << XLICEN_STATE_IDLE | 1u << XLICEN_STATE_AUTH_NEEDED;
	const unsigned holding = 1u << XLICEN_STATE_HELD |
	    1u << XLICEN_STATE_GRACE | 1u << XLICEN_STATE_CREDS_EXPIRING;
	int rc;

	if (xlicen_session_new(&s, servers) != 0)
		return;
	p->lease[0] = '\0';
	p->grace = 0;
	p->state = XLICEN_STATE_IDLE;
	xlicen_set_state_cb(s, on_state, p);
	if (xlicen_checkout_start(s, product, "1.0", 1, 0) != 0)
		goto out;
	/* A checkout asked just before the end gets a little longer to be
	 * answered, so that a seat granted then is released below rather
	 * than left to the server's orphan grace. */
	pump(s, p, end + PLC_DRAIN_MS, asking);
	if (p->state == XLICEN_STATE_LOST && p->lease[0] == '\0')
		fprintf(p->log, "DENY %lld %s %s\n", wall_ms(), product,
		    code_name(p->code));
	if (p->lease[0] != '\0' && p->state != XLICEN_STATE_LOST) {
		long long until = mono_ms() + hold_ms;

		pump(s, p, until < end ? until : end, holding);
		/* A lease in GRACE is kept until HELD again (or the end), so
		 * that the log shows how long the failover took. */
		pump(s, p, end, 1u << XLICEN_STATE_GRACE);
		if (p->state != XLICEN_STATE_LOST) {
			fprintf(p->log, "RELEASE %lld %s", wall_ms(), p->lease);
			fflush(p->log);
			rc = xlicen_checkout_stop(s);
			fprintf(p->log, " %s\n", code_name(rc));
		}
	}
out:
	fflush(p->log);
	xlicen_session_free(s);
}

int
main(int argc, char **argv)
{
	char *srv[PLC_MAX_SERVERS], list[PLC_LIST_MAX], *servers = NULL, *tok;
	const char *logname = NULL, *product;
	int c, n = 0, rnd = 0, hlo = 50, hhi = 300, ilo = 0, ihi = 100, secs = 20;
	struct plc p;
	long long end;

	memset(&p, 0, sizeof(p));

	while ((c = getopt(argc, argv, "s:o:rt:H:I:")) != -1) {
		switch (c) {
		case 's':
			servers = optarg;
			break;
		case 'o':
			logname = optarg;
			break;
		case 'r':
			rnd = 1;
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'H':
			if (range(optarg, &hlo, &hhi) != 0)
				return 1;
			break;
		case 'I':
			if (range(optarg, &ilo, &ihi) != 0)
				return 1;
			break;
		default:
			return 1;
		}
	}
	if (servers == NULL || logname == NULL || optind + 1 != argc) {
		fprintf(stderr, "usage: pg_load_client -s SERVERS -o LOG [-r] "
		    "[-t SECONDS] [-H MIN:MAX] [-I MIN:MAX] PRODUCT\n");
		return 1;
	}
	product = argv[optind];
	p.product = product;
	for (tok = strtok(servers, ","); tok != NULL && n < PLC_MAX_SERVERS;
	    tok = strtok(NULL, ","))
		srv[n++] = tok;
	if ((p.log = fopen(logname, "a")) == NULL) {
		fprintf(stderr, "pg_load_client: %s: %s\n", logname,
		    strerror(errno));
		return 1;
	}
	srand((unsigned)(getpid() ^ wall_ms()));
	end = mono_ms() + 1000LL * secs;
	while (mono_ms() < end) {
		rotate(srv, n, rnd ? rand() % n : 0, list, sizeof(list));
		cycle(&p, list, product, end, pick(hlo, hhi));
		usleep(1000u * (unsigned)pick(ilo, ihi));
	}
	fclose(p.log);
	return 0;
}
