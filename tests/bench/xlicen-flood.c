/*
 * xlicen-flood: connection and memory floods against gss-xlicend, on
 * loopback only, bounded in connections and time (issue 11); the figures
 * are in docs/PERFORMANCE.md and scripts/bench-flood runs it.
 *
 *   unauth  -n connections from -a loopback source addresses (127.0.0.2
 *           up, or --first-addr up; 1 is the real checkouts' own
 *           address; bound before connect) that never say a word, spread over
 *           -P processes (a process may open 20,000 files here); each one
 *           the server closes is opened again (at most --reopen per
 *           second per process; default: at once), for -t seconds.  Meanwhile
 *           real checkouts (libxlicen: new session, connect, HELLO, GSS
 *           context, CHECKOUT, RELEASE, close) from 127.0.0.1, one every
 *           -i ms: their latency (p50, p99, max) and failures are the result.
 *   frames  -n connections that each declare a frame of -l bytes and send
 *           all of it but the last byte, then hold for -t seconds; with
 *           --auth they authenticate first (the ccache's principal, one
 *           user) and send a DATA frame, else a HELLO frame before any
 *           handshake.  The result is the server's peak VmRSS.
 *
 * --server-pid PID is needed for VmRSS.  Prints one line of text and,
 * with --json, one JSON object.  Exit 0 when the run completed (failures
 * are counted, not fatal), 1 on a usage error, 2 if it could not start.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <gssapi/gssapi.h>

#include "buf.h"
#include "frame.h"
#include "gssx.h"
#include "limits.h"
#include "procinfo.h"
#include "xlicen.h"

/* Bounds: what one run may open and how long it may last. */
#define FLOOD_MAX_CONNS		40000
#define FLOOD_MAX_PROCS		8
#define FLOOD_MAX_ADDRS		250
#define FLOOD_MAX_SECONDS	120
#define FLOOD_MAX_REAL		10000

static struct {
	const char *mode;
	char host[64];
	int port;
	const char *service;
	long server_pid;
	int conns, addrs, procs, seconds, interval_ms, auth, json;
	uint32_t len;
	long reopen;		/* per process per second; -1 no limit */
	int first_addr;		/* sources 127.0.0.first_addr up */
} opt = { NULL, "127.0.0.1", 0, "gss-xlicen@localhost", 0, 20000, 100,
	  2, 20, 100, 0, 0, LIMIT_FRAME_PREAUTH, -1, 2 };

/* What a flood process reports to the parent at its end. */
struct flood_stats {
	long opened;		/* connections established */
	long closed_by_server;	/* then closed by the server (EOF/ALERT) */
	long connect_failed;
	long auth_failed;
	long bytes_sent;
};

static volatile sig_atomic_t g_stop;

static void
on_term(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* A socket from source 127.0.0.(2 + k % addrs), connecting to the server;
 * nonblock: connect in progress is fine.  -1 on failure. */
static int
flood_socket(int k, int nonblock)
{
	struct sockaddr_in dst;
	char src[INET_ADDRSTRLEN];
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	snprintf(src, sizeof(src), "127.0.0.%d", opt.first_addr + k % opt.addrs);
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)opt.port);
	inet_pton(AF_INET, opt.host, &dst.sin_addr);
	if (procinfo_bind_source(fd, src, 1) != 0 ||
	    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 &&
	    errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Blocking: read one frame into f (body owned by the caller). */
static int
read_frame(int fd, struct frame_dec *d, struct frame *f)
{
	uint8_t b[1];
	size_t used, off;
	ssize_t n;
	int rc;

	for (;;) {
		/* One byte at a time past the header would be slow; frames
		 * here are small, and nothing follows them unasked. */
		n = recv(fd, b, 1, 0);
		if (n <= 0)
			return -1;
		for (off = 0; off < (size_t)n; off += used) {
			rc = frame_dec_feed(d, b + off, (size_t)n - off, &used,
			    f);
			if (rc < 0)
				return -1;
			if (rc == 1)
				return 0;
		}
	}
}

static int
send_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	ssize_t k;

	while (n > 0) {
		if ((k = send(fd, q, n, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Blocking HELLO and GSS context on fd, as the ccache's principal. */
static int
authenticate(int fd)
{
	struct frame_hello_client h = { XLICEN_PROTO_VERSION,
	    XLICEN_PROTO_VERSION };
	struct frame_dec d;
	struct frame f = { 0 };
	struct buf b;
	gss_ctx_id_t ctx = GSS_C_NO_CONTEXT;
	gss_name_t target = GSS_C_NO_NAME;
	gss_buffer_desc nb, in = GSS_C_EMPTY_BUFFER, out = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min;
	int rc = -1;

	buf_init(&b);
	frame_dec_init(&d, LIMIT_FRAME_PREAUTH);
	nb.value = (void *)opt.service;
	nb.length = strlen(opt.service);
	if (GSS_ERROR(gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE,
	    &target)))
		goto out;
	if (frame_hello_client_encode(&b, &h) != 0 ||
	    send_all(fd, b.data, b.len) != 0 || read_frame(fd, &d, &f) != 0 ||
	    f.type != FRAME_HELLO)
		goto out;
	for (;;) {
		maj = gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ctx,
		    target, GSS_C_NO_OID, GSSX_REQUIRED_FLAGS, 0,
		    GSS_C_NO_CHANNEL_BINDINGS, f.body != NULL &&
		    f.type == FRAME_CONTEXT ? &in : GSS_C_NO_BUFFER, NULL, &out,
		    NULL, NULL);
		frame_free(&f);
		if (out.length > 0) {
			buf_reset(&b);
			if (frame_encode(&b, FRAME_CONTEXT, out.value,
			    out.length) != 0 || send_all(fd, b.data, b.len) != 0)
				goto out;
		}
		gss_release_buffer(&min, &out);
		if (GSS_ERROR(maj))
			goto out;
		if (!(maj & GSS_S_CONTINUE_NEEDED))
			break;
		if (read_frame(fd, &d, &f) != 0 || f.type != FRAME_CONTEXT)
			goto out;
		in.value = f.body;
		in.length = f.len;
	}
	rc = 0;
out:
	frame_free(&f);
	frame_dec_free(&d);
	buf_free(&b);
	gss_release_buffer(&min, &out);
	if (ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &ctx, GSS_C_NO_BUFFER);
	if (target != GSS_C_NO_NAME)
		gss_release_name(&min, &target);
	return rc;
}

/* One flood connection of a process. */
struct fconn {
	int fd;
	int k;			/* its index: picks the source address */
	int up;			/* connected */
	uint32_t sent;		/* frames mode: bytes of header + body sent */
};

static int
fconn_open(int epfd, struct fconn *c, struct flood_stats *st)
{
	struct epoll_event ev;

	c->up = 0;
	c->sent = 0;
	if (opt.auth) {
		if ((c->fd = flood_socket(c->k, 0)) < 0) {
			st->connect_failed++;
			return -1;
		}
		if (authenticate(c->fd) != 0) {
			st->auth_failed++;
			close(c->fd);
			c->fd = -1;
			return -1;
		}
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	} else if ((c->fd = flood_socket(c->k, 1)) < 0) {
		st->connect_failed++;
		return -1;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	ev.data.ptr = c;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* frames mode: send what the socket takes of header + len-1 body bytes. */
static void
fconn_push(struct fconn *c, struct flood_stats *st, const uint8_t *junk)
{
	uint8_t hdr[LIMIT_FRAME_HDR];
	uint32_t total = LIMIT_FRAME_HDR + opt.len - 1;
	ssize_t n;

	frame_header(hdr, opt.auth ? FRAME_DATA : FRAME_HELLO, opt.len);
	while (c->sent < total) {
		if (c->sent < LIMIT_FRAME_HDR)
			n = send(c->fd, hdr + c->sent, LIMIT_FRAME_HDR - c->sent,
			    MSG_NOSIGNAL);
		else
			n = send(c->fd, junk, total - c->sent, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		c->sent += (uint32_t)n;
		st->bytes_sent += n;
	}
}

/* One flood process: connections first .. first+n-1, until SIGTERM or
 * the deadline.  Writes its stats to wfd. */
static void
flood_proc(int first, int n, int wfd, int64_t deadline)
{
	struct flood_stats st;
	struct epoll_event evs[256];
	struct fconn *cs;
	uint8_t *junk = NULL, b[512];
	struct fconn **closed;
	int64_t last = procinfo_now_ms(), t;
	double tokens = 0;
	int epfd, i, m, nclosed = 0;

	memset(&st, 0, sizeof(st));
	signal(SIGTERM, on_term);
	procinfo_raise_nofile();
	cs = calloc((size_t)n, sizeof(*cs));
	closed = calloc((size_t)n, sizeof(*closed));
	if (strcmp(opt.mode, "frames") == 0)
		junk = calloc(1, opt.len);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (cs == NULL || closed == NULL || epfd < 0 || (strcmp(opt.mode, "frames") == 0 &&
	    junk == NULL))
		_exit(2);
	for (i = 0; i < n && !g_stop && procinfo_now_ms() < deadline; i++) {
		cs[i].k = first + i;
		cs[i].fd = -1;
		(void)fconn_open(epfd, &cs[i], &st);
	}
	while (!g_stop && procinfo_now_ms() < deadline) {
		m = epoll_wait(epfd, evs, 256, 100);
		for (i = 0; i < m; i++) {
			struct fconn *c = evs[i].data.ptr;

			if (!c->up && (evs[i].events & EPOLLOUT) &&
			    !(evs[i].events & (EPOLLERR | EPOLLHUP))) {
				c->up = 1;
				st.opened++;
			}
			if (junk != NULL && (evs[i].events & EPOLLOUT))
				fconn_push(c, &st, junk);
			/* Connected (unauth) or all sent (frames): only
			 * the server's close matters now. */
			if (c->up && (evs[i].events & EPOLLOUT) &&
			    (junk == NULL ||
			    c->sent == LIMIT_FRAME_HDR + opt.len - 1)) {
				struct epoll_event ev = { .events = EPOLLIN |
				    EPOLLRDHUP, .data.ptr = c };

				epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
			}
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR |
			    EPOLLHUP)) {
				/* An ALERT (BUSY) and the close, or a reset:
				 * drain, close, and (unauth mode) come back. */
				if ((evs[i].events & EPOLLIN) &&
				    recv(c->fd, b, sizeof(b), 0) > 0 &&
				    !(evs[i].events & (EPOLLRDHUP | EPOLLHUP |
				    EPOLLERR)))
					continue;
				if (c->up)
					st.closed_by_server++;
				else
					st.connect_failed++;
				close(c->fd);
				c->fd = -1;
				if (junk == NULL)
					closed[nclosed++] = c;
			}
		}
		/* unauth: open again what the server closed, at most
		 * opt.reopen per second (a token bucket). */
		if (opt.reopen >= 0) {
			t = procinfo_now_ms();
			tokens += (double)(t - last) * (double)opt.reopen / 1000;
			if (tokens > (double)opt.reopen)
				tokens = (double)opt.reopen;
			last = t;
		}
		while (nclosed > 0 && (opt.reopen < 0 || tokens >= 1)) {
			(void)fconn_open(epfd, closed[--nclosed], &st);
			tokens -= 1;
		}
	}
	if (write(wfd, &st, sizeof(st)) != (ssize_t)sizeof(st))
		_exit(2);
	_exit(0);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* One real checkout from 127.0.0.1 through libxlicen; its ms in *ms. */
static int
real_checkout(const char *server, int64_t *ms)
{
	xlicen_session *s = NULL;
	struct xlicen_grant g;
	int64_t t0 = procinfo_now_ms();
	int rc;

	*ms = 0;
	if ((rc = xlicen_session_new(&s, server)) != 0)
		return rc;
	xlicen_set_service(s, opt.service);
	rc = xlicen_checkout(s, "xdemo", "1.0", 1, &g);
	*ms = procinfo_now_ms() - t0;
	if (rc == 0)
		(void)xlicen_release(s, g.lease);
	xlicen_session_free(s);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr, "usage: xlicen-flood unauth|frames -s HOST:PORT "
	    "[--server-pid PID] [--service NAME] [-n CONNS] [-a ADDRS] "
	    "[-P PROCS] [-t SECONDS] [-i REAL_INTERVAL_MS] [-l LEN] [--auth] "
	    "[--reopen PER_PROC_PER_S] [--first-addr N] [--json]\n");
}

static int
parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server-pid", required_argument, NULL, 'p' },
		{ "service", required_argument, NULL, 'S' },
		{ "auth", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "reopen", required_argument, NULL, 'r' },
		{ "first-addr", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	char *colon;
	int ch;

	if (argc < 2)
		return -1;
	opt.mode = argv[1];
	if (strcmp(opt.mode, "unauth") != 0 && strcmp(opt.mode, "frames") != 0)
		return -1;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "s:n:a:P:t:i:l:", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			if ((colon = strrchr(optarg, ':')) == NULL ||
			    (size_t)(colon - optarg) >= sizeof(opt.host))
				return -1;
			snprintf(opt.host, sizeof(opt.host), "%.*s",
			    (int)(colon - optarg), optarg);
			opt.port = atoi(colon + 1);
			break;
		case 'n': opt.conns = atoi(optarg); break;
		case 'a': opt.addrs = atoi(optarg); break;
		case 'P': opt.procs = atoi(optarg); break;
		case 't': opt.seconds = atoi(optarg); break;
		case 'i': opt.interval_ms = atoi(optarg); break;
		case 'l': opt.len = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'p': opt.server_pid = atol(optarg); break;
		case 'S': opt.service = optarg; break;
		case 'A': opt.auth = 1; break;
		case 'j': opt.json = 1; break;
		case 'r': opt.reopen = atol(optarg); break;
		case 'F': opt.first_addr = atoi(optarg); break;
		default: return -1;
		}
	}
	/* Loopback only, and bounded. */
	if (strncmp(opt.host, "127.", 4) != 0 || opt.port <= 0 ||
	    opt.conns < 1 || opt.conns > FLOOD_MAX_CONNS || opt.addrs < 1 ||
	    opt.addrs > FLOOD_MAX_ADDRS || opt.first_addr < 1 ||
	    opt.first_addr + opt.addrs > 255 || opt.procs < 1 ||
	    opt.procs > FLOOD_MAX_PROCS || opt.seconds < 1 ||
	    opt.seconds > FLOOD_MAX_SECONDS || opt.interval_ms < 1 ||
	    opt.len < 2 || opt.len > 16 * 1024 * 1024)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct flood_stats st, sum;
	pid_t pids[FLOOD_MAX_PROCS];
	int pipes[FLOOD_MAX_PROCS][2];
	int64_t *lat = NULL, start, deadline, next, ms;
	long rss0, rss, rss_max = 0, nreal = 0, nfail = 0;
	int i, rc, first_err = 0, share;
	char server[96];

	if (parse_args(argc, argv) != 0) {
		usage();
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	procinfo_raise_nofile();
	snprintf(server, sizeof(server), "%s:%d", opt.host, opt.port);
	rss0 = opt.server_pid > 0 ? procinfo_rss_kib(opt.server_pid) : -1;
	if ((lat = calloc(FLOOD_MAX_REAL, sizeof(*lat))) == NULL)
		return 2;
	start = procinfo_now_ms();
	deadline = start + (int64_t)opt.seconds * 1000;
	share = (opt.conns + opt.procs - 1) / opt.procs;
	for (i = 0; i < opt.procs; i++) {
		if (pipe(pipes[i]) != 0 || (pids[i] = fork()) < 0)
			return 2;
		if (pids[i] == 0) {
			close(pipes[i][0]);
			flood_proc(i * share, i == opt.procs - 1 ?
			    opt.conns - i * share : share, pipes[i][1],
			    deadline);
		}
		close(pipes[i][1]);
	}
	/* The flood builds for a fifth of the run (at most 5 s); then real
	 * checkouts, one every interval, until the deadline. */
	next = start + (opt.seconds * 1000 / 5 < 5000 ?
	    opt.seconds * 1000 / 5 : 5000);
	while (procinfo_now_ms() < deadline) {
		if (opt.server_pid > 0 && (rss = procinfo_rss_kib(opt.server_pid)) >
		    rss_max)
			rss_max = rss;
		if (strcmp(opt.mode, "unauth") != 0 || procinfo_now_ms() < next ||
		    nreal >= FLOOD_MAX_REAL) {
			poll(NULL, 0, 20);
			continue;
		}
		rc = real_checkout(server, &ms);
		lat[nreal++] = ms;
		if (rc != 0) {
			nfail++;
			if (first_err == 0)
				first_err = rc;
		}
		next += opt.interval_ms;
		if (next < procinfo_now_ms())
			next = procinfo_now_ms();
	}
	memset(&sum, 0, sizeof(sum));
	for (i = 0; i < opt.procs; i++) {
		kill(pids[i], SIGTERM);
		if (read(pipes[i][0], &st, sizeof(st)) == (ssize_t)sizeof(st)) {
			sum.opened += st.opened;
			sum.closed_by_server += st.closed_by_server;
			sum.connect_failed += st.connect_failed;
			sum.auth_failed += st.auth_failed;
			sum.bytes_sent += st.bytes_sent;
		}
		close(pipes[i][0]);
		waitpid(pids[i], NULL, 0);
	}
	qsort(lat, (size_t)nreal, sizeof(*lat), cmp_i64);
#define PCT(p) (nreal > 0 ? (long long)lat[(nreal - 1) * (p) / 100] : -1LL)
	if (opt.json)
		printf("{\"mode\": \"%s\", \"conns\": %d, \"addrs\": %d, "
		    "\"procs\": %d, \"seconds\": %d, \"len\": %u, \"auth\": %d, "
		    "\"reopen\": %ld, "
		    "\"opened\": %ld, \"closed_by_server\": %ld, "
		    "\"connect_failed\": %ld, \"auth_failed\": %ld, "
		    "\"bytes_sent\": %ld, \"real\": %ld, \"real_failed\": %ld, "
		    "\"first_error\": \"%s\", \"p50_ms\": %lld, \"p99_ms\": %lld, "
		    "\"max_ms\": %lld, \"server_rss_base_kib\": %ld, "
		    "\"server_rss_peak_kib\": %ld}\n", opt.mode, opt.conns,
		    opt.addrs, opt.procs, opt.seconds, opt.len, opt.auth,
		    opt.reopen, sum.opened, sum.closed_by_server, sum.connect_failed,
		    sum.auth_failed, sum.bytes_sent, nreal, nfail,
		    first_err != 0 ? xlicen_strerror(first_err) : "", PCT(50),
		    PCT(99), PCT(100), rss0, rss_max);
	else
		printf("%s: %d connections from %d addresses in %d processes, "
		    "%d s%s: opened %ld, closed by the server %ld, connect "
		    "failed %ld, auth failed %ld; real checkouts %ld, failed "
		    "%ld%s%s, p50 %lld ms, p99 %lld ms, max %lld ms; server "
		    "VmRSS %ld kB at start, peak %ld kB\n", opt.mode,
		    opt.conns, opt.addrs, opt.procs, opt.seconds,
		    opt.auth ? ", authenticated" : "", sum.opened,
		    sum.closed_by_server, sum.connect_failed, sum.auth_failed,
		    nreal, nfail, first_err != 0 ? ": " : "",
		    first_err != 0 ? xlicen_strerror(first_err) : "", PCT(50),
		    PCT(99), PCT(100), rss0, rss_max);
	free(lat);
	return 0;
}
