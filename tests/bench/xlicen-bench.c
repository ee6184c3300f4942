/*
 * xlicen-bench: a load generator for gss-xlicend, written against the
 * public client library only (xlicen.h), so it measures what an
 * application gets.  scripts/bench runs it side by side with MIT's
 * gss-sample; docs/PERFORMANCE.md has the figures.
 *
 *   cycle      per operation: new session, TCP connect, HELLO, GSS
 *              context, CHECKOUT, RELEASE, close; -c clients in threads
 *   heartbeat  -c open sessions, one lease each, heartbeating as fast as
 *              the replies come (one thread per session)
 *   checkout   -c open sessions, each CHECKOUT then RELEASE in a loop;
 *              the latency is the CHECKOUT's alone
 *   hold       -c sessions with a lease each through the non-blocking API
 *              (xlicen_checkout_start / xlicen_process) in one epoll
 *              loop, heartbeating at the server's interval for -d seconds
 *   launch     -n fresh processes, each with a ccache holding only a TGT,
 *              doing a first checkout (or running the command after --)
 *
 * With --server-pid the server's CPU time (utime + stime of
 * /proc/PID/stat) and resident memory (VmRSS) are read before and after
 * the measured phase.  --json prints one JSON object instead of text.
 * The exit status is 0 when the run completed (errors are counted and
 * reported, not fatal), 1 on a usage error, 2 if the run could not start.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <krb5.h>

#include "procinfo.h"
#include "xlicen.h"

#define BENCH_DEFAULT_OPS	1000
#define BENCH_DEFAULT_HOLD_S	10
#define BENCH_DEFAULT_RAMP	64
#define BENCH_MAX_THREADS	1024
/* The hold loop gives up waiting for every session to be HELD after this. */
#define BENCH_ESTABLISH_MAX_S	300

enum bench_mode {
	MODE_CYCLE,
	MODE_HEARTBEAT,
	MODE_CHECKOUT,
	MODE_HOLD,
	MODE_LAUNCH,
	MODE_LAUNCH_CHILD,
};

static const char *const bench_mode_names[] = {
	[MODE_CYCLE] = "cycle",
	[MODE_HEARTBEAT] = "heartbeat",
	[MODE_CHECKOUT] = "checkout",
	[MODE_HOLD] = "hold",
	[MODE_LAUNCH] = "launch",
	[MODE_LAUNCH_CHILD] = "launch-child",
};

struct bench_opts {
	enum bench_mode mode;
	const char *servers;	/* NULL: library default */
	const char *service;	/* NULL: library default */
	const char *product;
	const char *version;
	unsigned clients;
	unsigned long ops;
	double duration_s;	/* hold: the measured phase, seconds */
	unsigned ramp;		/* hold: sessions being established at once */
	int release;		/* hold: release the leases at the end */
	int inherit_ccache;	/* launch: the caller's ccache, not a copy
				 * holding only the TGT */
	long server_pid;	/* 0: none */
	int json;
	char **cmd;		/* launch: command instead of launch-child */
	const char *self;	/* launch: our own executable */
};

/* Latencies of one thread, microseconds. */
struct lat {
	uint32_t *us;
	size_t n, cap;
};

/* What every mode reports. */
struct bench_result {
	unsigned long ops;		/* operations completed */
	unsigned long errors;
	double seconds;			/* wall time of the measured phase */
	double client_cpu_s;		/* our CPU (launch: the children's) */
	struct lat lat;			/* merged */
	char first_error[512];
	/* hold only */
	unsigned sessions;		/* held when the measured phase began */
	double establish_s;		/* time to get them all held */
	/* server, with --server-pid */
	int have_server;
	double server_cpu_s;		/* during the measured phase */
	long rss_base_kib;		/* when the bench started */
	long rss_kib;			/* at the end of the measured phase */
};

static struct bench_opts opt;
static pthread_mutex_t bench_err_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void __attribute__((format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xlicen-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(2);
}

/* CPU time (user + system) of this process and its threads, or with
 * children set of the children waited for, seconds. */
static double
cpu_s(int children)
{
	struct rusage ru;

	if (getrusage(children ? RUSAGE_CHILDREN : RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
lat_add(struct lat *l, int64_t us)
{
	uint32_t *tmp;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		if ((tmp = realloc(l->us, l->cap * sizeof(*l->us))) == NULL)
			die("out of memory");
		l->us = tmp;
	}
	l->us[l->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void
lat_merge(struct lat *dst, const struct lat *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		lat_add(dst, src->us[i]);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile, milliseconds; the list must be sorted. */
static double
lat_pct(const struct lat *l, double p)
{
	size_t k;

	if (l->n == 0)
		return 0;
	k = (size_t)(p / 100.0 * (double)l->n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > l->n)
		k = l->n;
	return l->us[k - 1] / 1000.0;
}

/* Remember the first failure (later ones are only counted). */
static void
note_error(struct bench_result *r, const char *what, int rc,
    const xlicen_session *s)
{
	pthread_mutex_lock(&bench_err_lock);
	r->errors++;
	if (r->first_error[0] == '\0')
		snprintf(r->first_error, sizeof(r->first_error), "%s: %s: %s",
		    what, xlicen_errname(rc), s != NULL && xlicen_errmsg(s)[0] != '\0' ?
		    xlicen_errmsg(s) : xlicen_strerror(rc));
	pthread_mutex_unlock(&bench_err_lock);
}

/*
 * The server process.
 */

/* utime + stime of PID, seconds; -1 if unreadable. */
static double
server_cpu_s(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* "pid (comm) state ..." where comm may contain blanks: fields
	 * count from the last ')'.  utime and stime are fields 14 and 15. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (i = 3; i < 14 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, "%llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/*
 * Sessions.
 */

static int
session_open(xlicen_session **out)
{
	int rc;

	if ((rc = xlicen_session_new(out, opt.servers)) != 0)
		return rc;
	if (opt.service != NULL && (rc = xlicen_set_service(*out, opt.service)) != 0) {
		xlicen_session_free(*out);
		*out = NULL;
	}
	return rc;
}

/* Threads of the blocking modes. */
struct worker {
	pthread_t tid;
	unsigned index;
	struct bench_result *r;
	struct lat lat;
	unsigned long ops;
	pthread_barrier_t *start;
};

static atomic_ulong bench_claimed;
static atomic_int bench_stop;

/* Claim the next operation; 0 when the run is over. */
static int
claim_op(void)
{
	if (atomic_load(&bench_stop))
		return 0;
	return atomic_fetch_add(&bench_claimed, 1) < opt.ops;
}

static void *
cycle_worker(void *arg)
{
	struct worker *w = arg;
	struct xlicen_grant g;
	xlicen_session *s = NULL;
	int64_t t0;
	int rc;

	pthread_barrier_wait(w->start);
	while (claim_op()) {
		t0 = now_us();
		if ((rc = session_open(&s)) != 0) {
			note_error(w->r, "session", rc, NULL);
			continue;
		}
		if ((rc = xlicen_checkout(s, opt.product, opt.version, 1, &g)) != 0)
			note_error(w->r, "checkout", rc, s);
		else if ((rc = xlicen_release(s, g.lease)) != 0)
			note_error(w->r, "release", rc, s);
		xlicen_session_free(s);
		s = NULL;
		if (rc == 0) {
			lat_add(&w->lat, now_us() - t0);
			w->ops++;
		}
	}
	return NULL;
}

/* heartbeat and checkout: an open session first, then the loop. */
static void *
loop_worker(void *arg)
{
	struct worker *w = arg;
	struct xlicen_grant g, g2;
	xlicen_session *s = NULL;
	int64_t t0, t1, expires;
	int rc, have = 0;

	if ((rc = session_open(&s)) != 0)
		note_error(w->r, "session", rc, NULL);
	else if ((rc = xlicen_checkout(s, opt.product, opt.version, 1, &g)) != 0)
		note_error(w->r, "checkout", rc, s);
	else
		have = 1;
	pthread_barrier_wait(w->start);
	while (have && claim_op()) {
		t0 = now_us();
		if (opt.mode == MODE_HEARTBEAT) {
			rc = xlicen_heartbeat(s, g.lease, &expires);
			t1 = now_us();
			if (rc != 0) {
				note_error(w->r, "heartbeat", rc, s);
				continue;
			}
		} else {
			rc = xlicen_checkout(s, opt.product, opt.version, 1, &g2);
			t1 = now_us();
			if (rc != 0) {
				note_error(w->r, "checkout", rc, s);
				continue;
			}
			if ((rc = xlicen_release(s, g2.lease)) != 0) {
				note_error(w->r, "release", rc, s);
				continue;
			}
		}
		lat_add(&w->lat, t1 - t0);
		w->ops++;
	}
	if (have && (rc = xlicen_release(s, g.lease)) != 0)
		note_error(w->r, "release", rc, s);
	xlicen_session_free(s);
	return NULL;
}

/* Run the threads of a blocking mode; the clock runs from the moment all
 * of them are set up to the moment the last one is done. */
static void
run_threads(struct bench_result *r, void *(*fn)(void *))
{
	struct worker *w;
	pthread_barrier_t start;
	pthread_attr_t attr;
	double cpu0 = 0, my0;
	int64_t t0;
	unsigned i;
	int rc;

	if ((w = calloc(opt.clients, sizeof(*w))) == NULL)
		die("out of memory");
	if (pthread_barrier_init(&start, NULL, opt.clients + 1) != 0)
		die("pthread_barrier_init failed");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < opt.clients; i++) {
		w[i].index = i;
		w[i].r = r;
		w[i].start = &start;
		if ((rc = pthread_create(&w[i].tid, &attr, fn, &w[i])) != 0)
			die("pthread_create: %s", strerror(rc));
	}
	pthread_attr_destroy(&attr);
	pthread_barrier_wait(&start);
	if (opt.server_pid > 0)
		cpu0 = server_cpu_s(opt.server_pid);
	my0 = cpu_s(0);
	t0 = now_us();
	/* The clock includes each thread's final release: one per thread
	 * against thousands of operations. */
	for (i = 0; i < opt.clients; i++)
		pthread_join(w[i].tid, NULL);
	r->seconds = (double)(now_us() - t0) / 1e6;
	r->client_cpu_s = cpu_s(0) - my0;
	if (opt.server_pid > 0) {
		r->have_server = 1;
		r->server_cpu_s = server_cpu_s(opt.server_pid) - cpu0;
		r->rss_kib = procinfo_rss_kib(opt.server_pid);
	}
	for (i = 0; i < opt.clients; i++) {
		lat_merge(&r->lat, &w[i].lat);
		r->ops += w[i].ops;
		free(w[i].lat.us);
	}
	pthread_barrier_destroy(&start);
	free(w);
}

/*
 * hold: every session in one epoll loop through the non-blocking API.
 */

struct hold_sess {
	xlicen_session *s;
	unsigned index;
	int fd;			/* registered with epoll, -1 none */
	int64_t deadline;	/* ms, -1 none */
	unsigned gen;		/* of the deadline in the heap */
	int64_t started_us;
	int64_t hb_sent_us;	/* heartbeat in flight since, 0 none */
	int held;		/* got its first grant */
	int lost;
	int state;
};

struct heap_ent {
	int64_t at;
	unsigned idx, gen;
};

struct hold {
	struct hold_sess *v;
	unsigned n, started, held, pending;
	int ep;
	struct heap_ent *heap;
	size_t hn, hcap;
	int measuring;
	unsigned long heartbeats;
	struct lat lat;
	struct bench_result *r;
};

static void
heap_push(struct hold *h, int64_t at, unsigned idx, unsigned gen)
{
	struct heap_ent e = { at, idx, gen }, *tmp;
	size_t i, p;

	if (h->hn == h->hcap) {
		h->hcap = h->hcap ? 2 * h->hcap : 1024;
		if ((tmp = realloc(h->heap, h->hcap * sizeof(*tmp))) == NULL)
			die("out of memory");
		h->heap = tmp;
	}
	for (i = h->hn++; i > 0; i = p) {
		p = (i - 1) / 2;
		if (h->heap[p].at <= at)
			break;
		h->heap[i] = h->heap[p];
	}
	h->heap[i] = e;
}

static void
heap_pop(struct hold *h)
{
	struct heap_ent last;
	size_t i = 0, c;

	if (h->hn == 0)
		return;
	last = h->heap[--h->hn];
	for (;;) {
		c = 2 * i + 1;
		if (c >= h->hn)
			break;
		if (c + 1 < h->hn && h->heap[c + 1].at < h->heap[c].at)
			c++;
		if (h->heap[c].at >= last.at)
			break;
		h->heap[i] = h->heap[c];
		i = c;
	}
	if (h->hn > 0)
		h->heap[i] = last;
}

static struct hold hold_g;

/* The library says the descriptor or the deadline may have changed. */
static void
hold_watch(xlicen_session *s, int removed, void *ud)
{
	struct hold_sess *hs = ud;
	struct epoll_event ev;
	int64_t at;
	int fd, ww, t;

	if (removed) {
		if (hs->fd >= 0)
			(void)epoll_ctl(hold_g.ep, EPOLL_CTL_DEL, hs->fd, NULL);
		hs->fd = -1;
		return;
	}
	fd = xlicen_fd(s, &ww);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (ww ? EPOLLOUT : 0);
	ev.data.u32 = hs->index;
	if (fd != hs->fd && hs->fd >= 0)
		(void)epoll_ctl(hold_g.ep, EPOLL_CTL_DEL, hs->fd, NULL);
	/* Always MOD (else ADD): a reconnect may have closed the old
	 * descriptor, which epoll forgets, and got the same number back. */
	if (fd >= 0 && epoll_ctl(hold_g.ep, EPOLL_CTL_MOD, fd, &ev) != 0 &&
	    epoll_ctl(hold_g.ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		die("epoll_ctl: %s", strerror(errno));
	hs->fd = fd;
	t = xlicen_timeout_ms(s);
	if (t < 0) {
		hs->deadline = -1;
		hs->gen++;
		return;
	}
	at = procinfo_now_ms() + t;
	if (hs->deadline != at) {
		hs->deadline = at;
		heap_push(&hold_g, at, hs->index, ++hs->gen);
	}
}

static void
hold_state(xlicen_session *s, int state, int code, const char *text, void *ud)
{
	struct hold_sess *hs = ud;
	struct hold *h = &hold_g;
	int64_t now = now_us();

	hs->state = state;
	switch (state) {
	case XLICEN_STATE_HELD:
		if (!hs->held) {
			hs->held = 1;
			h->held++;
			h->pending--;
		} else if (hs->hb_sent_us != 0) {
			if (h->measuring) {
				lat_add(&h->lat, now - hs->hb_sent_us);
				h->heartbeats++;
			}
		}
		hs->hb_sent_us = 0;
		return;
	case XLICEN_STATE_CONNECTING:
		if (code == 0)
			return;
		break;
	case XLICEN_STATE_LOST:
		if (!hs->held)
			h->pending--;
		hs->lost = 1;
		break;
	default:
		break;
	}
	/* A failed attempt (retried by the library), GRACE, AUTH_NEEDED or
	 * LOST: each report is an error. */
	hs->hb_sent_us = 0;
	pthread_mutex_lock(&bench_err_lock);
	h->r->errors++;
	if (h->r->first_error[0] == '\0')
		snprintf(h->r->first_error, sizeof(h->r->first_error),
		    "session %u: %s: %s: %s", hs->index, xlicen_state_name(state),
		    xlicen_errname(code), text);
	pthread_mutex_unlock(&bench_err_lock);
}

static void
hold_process(struct hold_sess *hs, int timer)
{
	/* A due timer on a held lease with nothing in flight is the
	 * heartbeat going out now; its reply ends the measurement. */
	if (timer && hs->held && !hs->lost && hs->hb_sent_us == 0 &&
	    hs->state == XLICEN_STATE_HELD)
		hs->hb_sent_us = now_us();
	xlicen_process(hs->s);
}

static void
hold_start_one(struct hold *h)
{
	struct hold_sess *hs = &h->v[h->started];
	int rc;

	hs->index = h->started++;
	hs->fd = -1;
	hs->deadline = -1;
	if ((rc = session_open(&hs->s)) != 0)
		die("session: %s", xlicen_strerror(rc));
	xlicen_set_state_cb(hs->s, hold_state, hs);
	xlicen_set_watch_cb(hs->s, hold_watch, hs);
	hs->started_us = now_us();
	h->pending++;
	if ((rc = xlicen_checkout_start(hs->s, opt.product, opt.version, 1, 0)) != 0)
		die("checkout_start: %s: %s", xlicen_errname(rc), xlicen_errmsg(hs->s));
	xlicen_process(hs->s);
}

/* One round: start sessions, run due timers, wait for input. */
static void
hold_round(struct hold *h, int ramp)
{
	struct epoll_event evs[512];
	struct heap_ent e;
	int64_t now;
	int n, i, wait;

	while (ramp && h->started < h->n && h->pending < opt.ramp)
		hold_start_one(h);
	now = procinfo_now_ms();
	while (h->hn > 0 && h->heap[0].at <= now) {
		e = h->heap[0];
		heap_pop(h);
		if (e.gen != h->v[e.idx].gen)
			continue;	/* superseded */
		h->v[e.idx].deadline = -1;
		hold_process(&h->v[e.idx], 1);
	}
	wait = 100;
	if (h->hn > 0) {
		now = procinfo_now_ms();
		wait = h->heap[0].at <= now ? 0 : (int)(h->heap[0].at - now);
		if (wait > 100)
			wait = 100;
	}
	n = epoll_wait(h->ep, evs, 512, wait);
	if (n < 0 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	for (i = 0; i < n; i++)
		hold_process(&h->v[evs[i].data.u32], 0);
}

static void
run_hold(struct bench_result *r)
{
	struct hold *h = &hold_g;
	double cpu0 = 0, my0;
	int64_t t0, end;
	unsigned i;

	memset(h, 0, sizeof(*h));
	h->r = r;
	h->n = opt.clients;
	if ((h->v = calloc(h->n, sizeof(*h->v))) == NULL)
		die("out of memory");
	if ((h->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));

	/* Phase 1: every session authenticated and holding a lease. */
	t0 = now_us();
	end = t0 + (int64_t)BENCH_ESTABLISH_MAX_S * 1000000;
	while ((h->started < h->n || h->pending > 0) && now_us() < end)
		hold_round(h, 1);
	r->establish_s = (double)(now_us() - t0) / 1e6;
	r->sessions = h->held;
	if (h->held < h->n && r->first_error[0] == '\0')
		snprintf(r->first_error, sizeof(r->first_error), "only %u of %u "
		    "sessions held a lease after %d s", h->held, h->n,
		    BENCH_ESTABLISH_MAX_S);

	/* Phase 2: hold them, heartbeating at the server's interval. */
	if (opt.server_pid > 0)
		cpu0 = server_cpu_s(opt.server_pid);
	my0 = cpu_s(0);
	h->measuring = 1;
	t0 = now_us();
	end = t0 + (int64_t)(opt.duration_s * 1e6);
	while (now_us() < end)
		hold_round(h, 0);
	h->measuring = 0;
	r->seconds = (double)(now_us() - t0) / 1e6;
	r->client_cpu_s = cpu_s(0) - my0;
	if (opt.server_pid > 0) {
		r->have_server = 1;
		r->server_cpu_s = server_cpu_s(opt.server_pid) - cpu0;
		r->rss_kib = procinfo_rss_kib(opt.server_pid);
	}
	r->ops = h->heartbeats;
	r->lat = h->lat;
	memset(&h->lat, 0, sizeof(h->lat));

	/* Phase 3: release (or just drop, leaving the leases to their TTL). */
	for (i = 0; i < h->started; i++) {
		if (opt.release && h->v[i].held && !h->v[i].lost)
			(void)xlicen_checkout_stop(h->v[i].s);
		xlicen_session_free(h->v[i].s);
	}
	close(h->ep);
	free(h->heap);
	free(h->v);
}

/*
 * launch: a fresh process per operation, with only a TGT in its ccache,
 * as when an application starts.
 */

/* Write a FILE ccache at path holding only the TGT(s) of the default
 * ccache; 0 or -1 with a message printed. */
static int
launch_tgt_ccache(const char *path)
{
	krb5_context kc = NULL;
	krb5_ccache src = NULL, dst = NULL;
	krb5_principal me = NULL;
	krb5_cc_cursor cur;
	krb5_creds c;
	krb5_error_code ret;
	char name[PATH_MAX + 8];
	int n = 0, rc = -1, seq = 0;

	if ((ret = krb5_init_context(&kc)) != 0) {
		fprintf(stderr, "xlicen-bench: krb5_init_context failed\n");
		return -1;
	}
	snprintf(name, sizeof(name), "FILE:%s", path);
	if ((ret = krb5_cc_default(kc, &src)) != 0 ||
	    (ret = krb5_cc_get_principal(kc, src, &me)) != 0 ||
	    (ret = krb5_cc_resolve(kc, name, &dst)) != 0 ||
	    (ret = krb5_cc_initialize(kc, dst, me)) != 0 ||
	    (ret = krb5_cc_start_seq_get(kc, src, &cur)) != 0)
		goto out;
	seq = 1;
	while (krb5_cc_next_cred(kc, src, &cur, &c) == 0) {
		if (!krb5_is_config_principal(kc, c.server) &&
		    c.server->length == 2 && c.server->data[0].length == 6 &&
		    memcmp(c.server->data[0].data, "krbtgt", 6) == 0) {
			if ((ret = krb5_cc_store_cred(kc, dst, &c)) != 0) {
				krb5_free_cred_contents(kc, &c);
				goto out;
			}
			n++;
		}
		krb5_free_cred_contents(kc, &c);
	}
	if (n == 0) {
		fprintf(stderr, "xlicen-bench: no TGT in the default ccache "
		    "(run kinit)\n");
		goto out;
	}
	rc = 0;
out:
	if (ret != 0) {
		const char *m = krb5_get_error_message(kc, ret);

		fprintf(stderr, "xlicen-bench: TGT-only ccache: %s\n", m);
		krb5_free_error_message(kc, m);
	}
	if (seq)
		krb5_cc_end_seq_get(kc, src, &cur);
	if (dst != NULL)
		krb5_cc_close(kc, dst);
	if (src != NULL)
		krb5_cc_close(kc, src);
	krb5_free_principal(kc, me);
	krb5_free_context(kc);
	return rc;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0)
		die("%s: %s", path, strerror(errno));
	if ((p = malloc((size_t)st.st_size + 1)) == NULL)
		die("out of memory");
	if (read(fd, p, (size_t)st.st_size) != st.st_size)
		die("%s: short read", path);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void
write_file(const char *path, const uint8_t *p, size_t len)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    write(fd, p, len) != (ssize_t)len || close(fd) != 0)
		die("%s: %s", path, strerror(errno));
}

static void
run_launch(struct bench_result *r)
{
	char dir[] = "/tmp/xlicen-bench.XXXXXX", tmpl[PATH_MAX], cc[PATH_MAX];
	char env[PATH_MAX + 16];
	char *argv[16];
	uint8_t *tgt = NULL;
	size_t tgtlen = 0;
	double cpu0 = 0, my0;
	int64_t t0, t1, start;
	unsigned long i;
	int a, status, devnull;
	pid_t pid;

	if (mkdtemp(dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(tmpl, sizeof(tmpl), "%s/tgt.ccache", dir);
	snprintf(cc, sizeof(cc), "%s/run.ccache", dir);
	if (!opt.inherit_ccache) {
		if (launch_tgt_ccache(tmpl) != 0) {
			unlink(tmpl);
			rmdir(dir);
			exit(2);
		}
		tgt = read_file(tmpl, &tgtlen);
	}
	snprintf(env, sizeof(env), "KRB5CCNAME=FILE:%s", cc);

	a = 0;
	argv[a++] = (char *)opt.self;
	argv[a++] = (char *)"launch-child";
	if (opt.servers != NULL) {
		argv[a++] = (char *)"-s";
		argv[a++] = (char *)opt.servers;
	}
	if (opt.service != NULL) {
		argv[a++] = (char *)"--service";
		argv[a++] = (char *)opt.service;
	}
	argv[a++] = (char *)"-p";
	argv[a++] = (char *)opt.product;
	argv[a++] = (char *)"-V";
	argv[a++] = (char *)opt.version;
	argv[a] = NULL;

	if (opt.server_pid > 0)
		cpu0 = server_cpu_s(opt.server_pid);
	my0 = cpu_s(1);
	start = now_us();
	for (i = 0; i < opt.ops; i++) {
		/* A fresh ccache each time: the previous child stored its
		 * service ticket in the old one. */
		if (tgt != NULL)
			write_file(cc, tgt, tgtlen);
		t0 = now_us();
		if ((pid = fork()) < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			if (tgt != NULL)
				putenv(env);
			if (opt.cmd != NULL &&
			    (devnull = open("/dev/null", O_WRONLY)) >= 0) {
				dup2(devnull, 1);
				close(devnull);
			}
			if (opt.cmd != NULL)
				execvp(opt.cmd[0], opt.cmd);
			else
				execv(opt.self, argv);
			fprintf(stderr, "xlicen-bench: exec: %s\n", strerror(errno));
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		t1 = now_us();
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			lat_add(&r->lat, t1 - t0);
			r->ops++;
		} else {
			pthread_mutex_lock(&bench_err_lock);
			r->errors++;
			if (r->first_error[0] == '\0')
				snprintf(r->first_error, sizeof(r->first_error),
				    "launch %lu: exit status %d", i,
				    WIFEXITED(status) ? WEXITSTATUS(status) :
				    128 + WTERMSIG(status));
			pthread_mutex_unlock(&bench_err_lock);
		}
	}
	r->seconds = (double)(now_us() - start) / 1e6;
	r->client_cpu_s = cpu_s(1) - my0;
	if (opt.server_pid > 0) {
		r->have_server = 1;
		r->server_cpu_s = server_cpu_s(opt.server_pid) - cpu0;
		r->rss_kib = procinfo_rss_kib(opt.server_pid);
	}
	free(tgt);
	unlink(cc);
	unlink(tmpl);
	rmdir(dir);
}

/* The child of launch: what an application does at start. */
static int
run_launch_child(void)
{
	struct xlicen_grant g;
	xlicen_session *s = NULL;
	int rc;

	if ((rc = session_open(&s)) == 0 &&
	    (rc = xlicen_checkout(s, opt.product, opt.version, 1, &g)) == 0)
		rc = xlicen_release(s, g.lease);
	if (rc != 0)
		fprintf(stderr, "xlicen-bench launch-child: %s: %s\n",
		    xlicen_errname(rc), s != NULL ? xlicen_errmsg(s) : "");
	xlicen_session_free(s);
	return rc == 0 ? 0 : 1;
}

/*
 * Output.
 */

static void
report(struct bench_result *r)
{
	double ops_s = r->seconds > 0 ? (double)r->ops / r->seconds : 0;
	double per_op_ms = 0, client_ms = 0;
	long rss_per = 0, per_session;
	char esc[sizeof(r->first_error) * 2];
	size_t i, j;

	if (r->lat.n > 0)
		qsort(r->lat.us, r->lat.n, sizeof(*r->lat.us), cmp_u32);
	if (r->have_server && r->ops > 0)
		per_op_ms = r->server_cpu_s * 1000.0 / (double)r->ops;
	if (r->ops > 0)
		client_ms = r->client_cpu_s * 1000.0 / (double)r->ops;
	per_session = opt.mode == MODE_HOLD ? (long)r->sessions :
	    opt.mode == MODE_HEARTBEAT || opt.mode == MODE_CHECKOUT ?
	    (long)opt.clients : 0;
	if (r->have_server && per_session > 0 && r->rss_kib > 0 &&
	    r->rss_base_kib > 0)
		rss_per = (r->rss_kib - r->rss_base_kib) * 1024 / per_session;

	if (opt.json) {
		for (i = j = 0; r->first_error[i] != '\0' && j + 7 < sizeof(esc); i++) {
			unsigned char ch = (unsigned char)r->first_error[i];

			if (ch == '"' || ch == '\\') {
				esc[j++] = '\\';
				esc[j++] = (char)ch;
			} else if (ch < 0x20) {
				j += (size_t)snprintf(esc + j, sizeof(esc) - j,
				    "\\u%04x", ch);
			} else {
				esc[j++] = (char)ch;
			}
		}
		esc[j] = '\0';
		printf("{\"mode\": \"%s\", \"clients\": %u, \"ops\": %lu, "
		    "\"errors\": %lu, \"seconds\": %.3f, \"ops_per_sec\": %.1f, "
		    "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, "
		    "\"max_ms\": %.3f", bench_mode_names[opt.mode], opt.clients,
		    r->ops, r->errors, r->seconds, ops_s, lat_pct(&r->lat, 50),
		    lat_pct(&r->lat, 90), lat_pct(&r->lat, 99),
		    lat_pct(&r->lat, 100));
		printf(", \"client_cpu_ms_per_op\": %.4f", client_ms);
		if (opt.mode == MODE_HOLD)
			printf(", \"sessions\": %u, \"establish_s\": %.3f",
			    r->sessions, r->establish_s);
		if (r->have_server) {
			printf(", \"server_cpu_s\": %.3f, \"server_cpu_ms_per_op\": %.4f, "
			    "\"server_rss_kib\": %ld, \"server_rss_base_kib\": %ld",
			    r->server_cpu_s, per_op_ms, r->rss_kib, r->rss_base_kib);
			if (per_session > 0)
				printf(", \"server_rss_bytes_per_session\": %ld",
				    rss_per);
		}
		printf(", \"first_error\": \"%s\"}\n", esc);
		return;
	}
	printf("mode %s, %u client%s%s\n", bench_mode_names[opt.mode],
	    opt.clients, opt.clients == 1 ? "" : "s",
	    opt.mode == MODE_HOLD ? " (sessions)" : "");
	if (opt.mode == MODE_HOLD)
		printf("  held:       %u sessions with a lease, established in "
		    "%.2f s (%.0f/s)\n", r->sessions, r->establish_s,
		    r->establish_s > 0 ? r->sessions / r->establish_s : 0);
	printf("  operations: %lu in %.3f s: %.1f/s\n", r->ops, r->seconds, ops_s);
	printf("  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
	    lat_pct(&r->lat, 50), lat_pct(&r->lat, 90), lat_pct(&r->lat, 99),
	    lat_pct(&r->lat, 100));
	printf("  client:     CPU %.3f s = %.4f ms per operation%s\n",
	    r->client_cpu_s, client_ms, opt.mode == MODE_LAUNCH ?
	    " (the processes launched)" : "");
	printf("  errors:     %lu%s%s\n", r->errors,
	    r->first_error[0] != '\0' ? "; first: " : "", r->first_error);
	if (r->have_server) {
		printf("  server:     CPU %.3f s = %.4f ms per operation; RSS %ld KiB "
		    "(%ld at start)", r->server_cpu_s, per_op_ms, r->rss_kib,
		    r->rss_base_kib);
		if (per_session > 0)
			printf(", %.2f KiB per session", rss_per / 1024.0);
		printf("\n");
	}
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: xlicen-bench MODE [-s HOST:PORT] [--service NAME] [-p PRODUCT]\n"
"                    [-V VERSION] [-c CLIENTS] [-n OPERATIONS] [-d SECONDS]\n"
"                    [--ramp N] [--no-release] [--inherit-ccache]\n"
"                    [--server-pid PID] [--json] [-- COMMAND...]\n"
"\n"
"modes:\n"
"  cycle      new connection, HELLO, context, CHECKOUT, RELEASE, close\n"
"  heartbeat  CLIENTS open sessions heartbeating as fast as replies come\n"
"  checkout   CLIENTS open sessions, CHECKOUT (timed) + RELEASE in a loop\n"
"  hold       CLIENTS sessions holding a lease each (non-blocking API),\n"
"             heartbeating at the server's interval for -d SECONDS\n"
"  launch     OPERATIONS fresh processes with only a TGT, each doing a\n"
"             first checkout (or running COMMAND after --)\n"
"\n"
"defaults: -p xdemo -V 1.0 -c 1 -n %d -d %d --ramp %d; -s and --service as\n"
"libxlicen ($XLICEN_SERVER, $XLICEN_SERVICE).  Leases go back at the end\n"
"unless --no-release (hold).  launch gives each process a ccache holding\n"
"only the TGT of the default one, unless --inherit-ccache.  --server-pid\n"
"PID adds the server's CPU and RSS (/proc/PID).  --json prints one JSON\n"
"object.\n",
	    BENCH_DEFAULT_OPS, BENCH_DEFAULT_HOLD_S, BENCH_DEFAULT_RAMP);
}

static unsigned long
parse_num(const char *what, const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min ||
	    v > max) {
		fprintf(stderr, "xlicen-bench: %s: \"%s\" is not a number in "
		    "%lu..%lu\n", what, s, min, max);
		exit(1);
	}
	return v;
}

int
main(int argc, char **argv)
{
	enum { OPT_PID = 256, OPT_JSON, OPT_SERVICE, OPT_RAMP, OPT_NOREL,
	    OPT_INHERIT };
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "service", required_argument, NULL, OPT_SERVICE },
		{ "product", required_argument, NULL, 'p' },
		{ "version", required_argument, NULL, 'V' },
		{ "clients", required_argument, NULL, 'c' },
		{ "operations", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "ramp", required_argument, NULL, OPT_RAMP },
		{ "no-release", no_argument, NULL, OPT_NOREL },
		{ "inherit-ccache", no_argument, NULL, OPT_INHERIT },
		{ "server-pid", required_argument, NULL, OPT_PID },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_result r;
	struct rlimit rl;
	size_t m;
	int ch, found = 0;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 1 : 0;
	}
	for (m = 0; m < sizeof(bench_mode_names) / sizeof(bench_mode_names[0]); m++)
		if (strcmp(argv[1], bench_mode_names[m]) == 0) {
			opt.mode = (enum bench_mode)m;
			found = 1;
		}
	if (!found) {
		fprintf(stderr, "xlicen-bench: unknown mode \"%s\"\n", argv[1]);
		usage(stderr);
		return 1;
	}
	opt.product = "xdemo";
	opt.version = "1.0";
	opt.clients = 1;
	opt.ops = BENCH_DEFAULT_OPS;
	opt.duration_s = BENCH_DEFAULT_HOLD_S;
	opt.ramp = BENCH_DEFAULT_RAMP;
	opt.release = 1;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "+s:p:V:c:n:d:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			opt.servers = optarg;
			break;
		case OPT_SERVICE:
			opt.service = optarg;
			break;
		case 'p':
			opt.product = optarg;
			break;
		case 'V':
			opt.version = optarg;
			break;
		case 'c':
			opt.clients = (unsigned)parse_num("-c", optarg, 1, 1000000);
			break;
		case 'n':
			opt.ops = parse_num("-n", optarg, 1, 1000000000UL);
			break;
		case 'd':
			opt.duration_s = (double)parse_num("-d", optarg, 1, 86400);
			break;
		case OPT_RAMP:
			opt.ramp = (unsigned)parse_num("--ramp", optarg, 1, 100000);
			break;
		case OPT_NOREL:
			opt.release = 0;
			break;
		case OPT_INHERIT:
			opt.inherit_ccache = 1;
			break;
		case OPT_PID:
			opt.server_pid = (long)parse_num("--server-pid", optarg, 1,
			    INT_MAX);
			break;
		case OPT_JSON:
			opt.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		if (opt.mode != MODE_LAUNCH) {
			fprintf(stderr, "xlicen-bench: unexpected argument \"%s\"\n",
			    argv[optind]);
			return 1;
		}
		opt.cmd = &argv[optind];
	}
	if ((opt.mode == MODE_CYCLE || opt.mode == MODE_HEARTBEAT ||
	    opt.mode == MODE_CHECKOUT) && opt.clients > BENCH_MAX_THREADS) {
		fprintf(stderr, "xlicen-bench: at most %d clients (threads) in %s "
		    "mode\n", BENCH_MAX_THREADS, bench_mode_names[opt.mode]);
		return 1;
	}
	if (opt.mode == MODE_LAUNCH_CHILD)
		return run_launch_child();

	/* A server that goes away must not kill us with SIGPIPE (the library
	 * uses MSG_NOSIGNAL; this is for anything else). */
	signal(SIGPIPE, SIG_IGN);
	procinfo_raise_nofile();
	if (opt.mode == MODE_HOLD && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)opt.clients + 64)
		die("hold with %u sessions needs %u descriptors; the limit is %lu "
		    "(ulimit -n)", opt.clients, opt.clients + 64,
		    (unsigned long)rl.rlim_cur);
	opt.self = "/proc/self/exe";
	memset(&r, 0, sizeof(r));
	if (opt.server_pid > 0 &&
	    (r.rss_base_kib = procinfo_rss_kib(opt.server_pid)) < 0)
		die("no process %ld (or /proc unreadable)", opt.server_pid);

	switch (opt.mode) {
	case MODE_CYCLE:
		run_threads(&r, cycle_worker);
		break;
	case MODE_HEARTBEAT:
	case MODE_CHECKOUT:
		run_threads(&r, loop_worker);
		break;
	case MODE_HOLD:
		run_hold(&r);
		break;
	case MODE_LAUNCH:
		run_launch(&r);
		break;
	default:
		break;
	}
	report(&r);
	free(r.lat.us);
	return 0;
}
