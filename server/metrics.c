/*
 * Metrics (metrics.h): atomic counters bumped where events happen, and a
 * snapshot of what only the event loop may read, published by the loop
 * when the HTTP thread asks for one.  Rendering is the HTTP thread's; the
 * loop's share is one store query per snapshot, at most every
 * LIMIT_HTTP_SNAPSHOT_MS, and only while someone scrapes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "err.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"

/* Histogram bounds in seconds (the ns counts are compared with them). */
static const double metrics_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5,
};
#define METRICS_NB	(sizeof(metrics_bounds) / sizeof(metrics_bounds[0]))

struct metrics_hist {
	atomic_uint_fast64_t bucket[METRICS_NB + 1];	/* last: +Inf only */
	atomic_uint_fast64_t sum_ns;
};

/* Codes counted by name: 0..METRICS_NCODES-1 of -code. */
#define METRICS_NCODES	128

static struct {
	atomic_uint_fast64_t grants;
	atomic_uint_fast64_t denials[METRICS_NCODES];
	atomic_uint_fast64_t queued;
	atomic_int_fast64_t queue_len;
	atomic_uint_fast64_t reloads_ok, reloads_failed;
	atomic_uint_fast64_t refused[LOOP_NCAUSES];
	struct metrics_hist checkout, commit, sync;
} metrics_c;

/* The loop's snapshot (under metrics_mu). */
struct metrics_snap {
	int64_t taken_ms;		/* monotonic; 0: never */
	struct store_pool_status *pools;
	size_t npools;
	int64_t leases, seats;
	uint32_t sessions[CONN_CLOSING + 1];
	int store_ok;
};

static pthread_mutex_t metrics_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t metrics_cv;
static struct metrics_snap metrics_snap;
static uint64_t metrics_gen;		/* snapshots published */
static atomic_int metrics_wanted;	/* a scrape asked for one */
static int metrics_efd = -1;
static int64_t metrics_start_s;
/* Loop only: a batch whose sync is being timed, and its commit time. */
static uint64_t metrics_sync_ticket;
static int64_t metrics_sync_from;
/* Loop only: whether the eventfd was read this round. */
static int metrics_due;

static const char *const metrics_cause_name[LOOP_NCAUSES] = {
	[LOOP_REFUSE_SHUTDOWN] = "shutdown",
	[LOOP_REFUSE_TOTAL] = "max_connections",
	[LOOP_REFUSE_PEER] = "max_connections_per_peer",
	[LOOP_REFUSE_NOFD] = "out_of_descriptors",
	[LOOP_REFUSE_NOMEM] = "out_of_memory",
	[LOOP_EVICT_TOTAL] = "evicted_max_connections",
	[LOOP_EVICT_PEER] = "evicted_max_connections_per_peer",
	[LOOP_EVICT_UNAUTH] = "evicted_max_unauthenticated",
	[LOOP_EVICT_UNAUTH_PEER] = "evicted_max_unauthenticated_per_peer",
	[LOOP_EVICT_NOFD] = "evicted_out_of_descriptors",
	[LOOP_CLOSE_HANDSHAKE_TIMEOUT] = "handshake_timeout",
	[LOOP_CLOSE_FRAME_BUDGET] = "partial_frame_budget",
};

static const char *const metrics_state_name[CONN_CLOSING + 1] = {
	[CONN_HELLO] = "hello",
	[CONN_CONTEXT] = "context",
	[CONN_OPEN] = "open",
	[CONN_CLOSING] = "closing",
};

/* The denials a CHECKOUT can get (TIMEOUT: its queue timeout passed):
 * shown at 0 before the first one, so a rate over them exists from the
 * start. */
static const int metrics_deny_codes[] = {
	XLICEN_E_NO_PRODUCT, XLICEN_E_NO_VERSION, XLICEN_E_NO_SEATS,
	XLICEN_E_EXPIRED, XLICEN_E_NOT_YET, XLICEN_E_WRONG_HOST,
	XLICEN_E_EXCLUDED, XLICEN_E_MAX_REACHED, XLICEN_E_COUNT,
	XLICEN_E_BAD_VALUE, XLICEN_E_HOST_UNVERIFIED, XLICEN_E_QUEUE_LIMIT,
	XLICEN_E_DB, XLICEN_E_TIMEOUT,
};

int64_t
metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
metrics_init(void)
{
	pthread_condattr_t ca;

	metrics_start_s = (int64_t)time(NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&metrics_cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((metrics_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		log_msg(LOG_ERR, "metrics: eventfd: %s", strerror(errno));
		return XLICEN_E_IO;
	}
	return 0;
}

int
metrics_wake_fd(void)
{
	return metrics_efd;
}

void
metrics_wake_read(void)
{
	uint64_t v;

	if (read(metrics_efd, &v, sizeof(v)) == (ssize_t)sizeof(v) ||
	    atomic_load_explicit(&metrics_wanted, memory_order_relaxed))
		metrics_due = 1;
}

void
metrics_free(void)
{
	if (metrics_efd >= 0)
		close(metrics_efd);
	metrics_efd = -1;
	pthread_mutex_lock(&metrics_mu);
	free(metrics_snap.pools);
	memset(&metrics_snap, 0, sizeof(metrics_snap));
	pthread_mutex_unlock(&metrics_mu);
}

/* The loop's state into a new snapshot, then swapped in under the lock
 * (the store is queried outside it: the HTTP thread never waits on the
 * store). */
void
metrics_publish_due(struct server *srv)
{
	struct metrics_snap n;
	struct store_pool_status *old;
	struct conn *c;

	if (!metrics_due)
		return;
	metrics_due = 0;
	atomic_store_explicit(&metrics_wanted, 0, memory_order_relaxed);
	memset(&n, 0, sizeof(n));
	n.store_ok = store_status(srv->store, NULL, (int64_t)time(NULL),
	    &n.pools, &n.npools) == 0 &&
	    store_count_leases(srv->store, &n.leases, &n.seats) == 0;
	for (c = srv->conns; c != NULL; c = c->next)
		if ((unsigned)c->state <= CONN_CLOSING)
			n.sessions[c->state]++;
	n.taken_ms = server_now_ms();
	pthread_mutex_lock(&metrics_mu);
	old = metrics_snap.pools;
	metrics_snap = n;
	metrics_gen++;
	pthread_cond_broadcast(&metrics_cv);
	pthread_mutex_unlock(&metrics_mu);
	free(old);
}

/* ---- events ---- */

#define METRICS_ADD(v, n) \
	atomic_fetch_add_explicit(&(v), (n), memory_order_relaxed)

void
metrics_grant(void)
{
	METRICS_ADD(metrics_c.grants, 1);
}

void
metrics_deny(int code)
{
	int i = -code;

	if (i > 0 && i < METRICS_NCODES)
		METRICS_ADD(metrics_c.denials[i], 1);
	else
		METRICS_ADD(metrics_c.denials[0], 1);
}

void
metrics_queued(void)
{
	METRICS_ADD(metrics_c.queued, 1);
}

void
metrics_queue_len(int delta)
{
	METRICS_ADD(metrics_c.queue_len, delta);
}

static void
metrics_observe(struct metrics_hist *h, int64_t ns)
{
	size_t i;
	double s;

	if (ns < 0)
		ns = 0;
	s = (double)ns / 1e9;
	for (i = 0; i < METRICS_NB && s > metrics_bounds[i]; i++)
		;
	METRICS_ADD(h->bucket[i], 1);
	METRICS_ADD(h->sum_ns, (uint64_t)ns);
}

void
metrics_checkout_ns(int64_t ns)
{
	metrics_observe(&metrics_c.checkout, ns);
}

void
metrics_commit_ns(int64_t ns)
{
	metrics_observe(&metrics_c.commit, ns);
}

void
metrics_sync_ns(int64_t ns)
{
	metrics_observe(&metrics_c.sync, ns);
}

void
metrics_reload(int rc)
{
	if (rc == 0)
		METRICS_ADD(metrics_c.reloads_ok, 1);
	else
		METRICS_ADD(metrics_c.reloads_failed, 1);
}

void
metrics_refused(enum loop_cause cause)
{
	if ((unsigned)cause < LOOP_NCAUSES)
		METRICS_ADD(metrics_c.refused[cause], 1);
}

/* ---- rendering ---- */

#define METRICS_LOAD(v) atomic_load_explicit(&(v), memory_order_relaxed)

/* A label value: \, " and newline escaped (format 0.0.4). */
static void
metrics_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
metrics_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metrics_hist_render(FILE *f, const char *name, const char *help,
    struct metrics_hist *h)
{
	uint64_t cum = 0;
	size_t i;

	metrics_head(f, name, "histogram", help);
	for (i = 0; i < METRICS_NB; i++) {
		cum += METRICS_LOAD(h->bucket[i]);
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name,
		    metrics_bounds[i], (unsigned long long)cum);
	}
	cum += METRICS_LOAD(h->bucket[METRICS_NB]);
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)cum);
	fprintf(f, "%s_sum %.9f\n%s_count %llu\n", name,
	    (double)METRICS_LOAD(h->sum_ns) / 1e9, name,
	    (unsigned long long)cum);
}

/* "code" lowercase into out: "NO_SEATS" -> "no_seats". */
static void
metrics_reason(int code, char *out, size_t outlen)
{
	const char *n = code == 0 ? "other" : err_name(code);
	size_t i;

	for (i = 0; n[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
	out[i] = '\0';
}

static void
metrics_render_counters(FILE *f)
{
	char reason[64];
	size_t i, j;
	int shown;

	metrics_head(f, "xlicen_checkout_grants_total", "counter",
	    "Checkouts granted (by a request or from the queue).");
	fprintf(f, "xlicen_checkout_grants_total %llu\n",
	    (unsigned long long)METRICS_LOAD(metrics_c.grants));
	metrics_head(f, "xlicen_checkout_denials_total", "counter",
	    "Checkouts denied, by reason (the error code's name).");
	for (i = 0; i < METRICS_NCODES; i++) {
		uint64_t v = METRICS_LOAD(metrics_c.denials[i]);

		for (shown = 0, j = 0; j < sizeof(metrics_deny_codes) /
		    sizeof(metrics_deny_codes[0]); j++)
			shown |= -metrics_deny_codes[j] == (int)i;
		if (v == 0 && !shown)
			continue;
		metrics_reason(-(int)i, reason, sizeof(reason));
		fprintf(f, "xlicen_checkout_denials_total{reason=\"%s\"} %llu\n",
		    reason, (unsigned long long)v);
	}
	metrics_head(f, "xlicen_checkouts_queued_total", "counter",
	    "Checkouts that joined the queue (QUEUE or WAIT).");
	fprintf(f, "xlicen_checkouts_queued_total %llu\n",
	    (unsigned long long)METRICS_LOAD(metrics_c.queued));
	metrics_head(f, "xlicen_queued_checkouts", "gauge",
	    "Checkouts waiting in the queue now.");
	fprintf(f, "xlicen_queued_checkouts %lld\n",
	    (long long)METRICS_LOAD(metrics_c.queue_len));
	metrics_hist_render(f, "xlicen_checkout_duration_seconds",
	    "Time to decide a CHECKOUT request (before its commit and sync).",
	    &metrics_c.checkout);
	metrics_hist_render(f, "xlicen_store_commit_duration_seconds",
	    "Time of one event-loop round's group commit.", &metrics_c.commit);
	metrics_hist_render(f, "xlicen_store_sync_duration_seconds",
	    "Time from a granting batch's commit until the syncer made it "
	    "durable (one batch timed at a time).", &metrics_c.sync);
	metrics_head(f, "xlicen_reloads_total", "counter",
	    "Rereads of the licenses and the policy (SIGHUP or REREAD).");
	fprintf(f, "xlicen_reloads_total{result=\"ok\"} %llu\n",
	    (unsigned long long)METRICS_LOAD(metrics_c.reloads_ok));
	fprintf(f, "xlicen_reloads_total{result=\"error\"} %llu\n",
	    (unsigned long long)METRICS_LOAD(metrics_c.reloads_failed));
	metrics_head(f, "xlicen_connections_refused_total", "counter",
	    "Connections refused at accept or closed before authenticating, "
	    "by cause.");
	for (i = 0; i < LOOP_NCAUSES; i++)
		fprintf(f, "xlicen_connections_refused_total{cause=\"%s\"} "
		    "%llu\n", metrics_cause_name[i],
		    (unsigned long long)METRICS_LOAD(metrics_c.refused[i]));
}

/* One gauge line per pool: name{product,versions,vendor,serial} value. */
static void
metrics_pool_line(FILE *f, const char *name, const struct store_pool_status *p,
    uint32_t v)
{
	fprintf(f, "%s{product=\"", name);
	metrics_label(f, p->product);
	fputs("\",versions=\"", f);
	metrics_label(f, p->versions);
	fputs("\",vendor=\"", f);
	metrics_label(f, p->vendor);
	fputs("\",serial=\"", f);
	metrics_label(f, p->serial);
	fprintf(f, "\"} %u\n", v);
}

/* Per product: the seats of its active counted pools, and those in use
 * in any of its pools (pools come ordered by product). */
static void
metrics_render_products(FILE *f, const struct metrics_snap *s, int in_use)
{
	size_t i = 0, j;
	uint64_t v;

	while (i < s->npools) {
		v = 0;
		for (j = i; j < s->npools && strcmp(s->pools[j].product,
		    s->pools[i].product) == 0; j++)
			v += in_use ? s->pools[j].in_use :
			    s->pools[j].state == STORE_POOL_ACTIVE &&
			    !s->pools[j].uncounted ? s->pools[j].total : 0;
		fprintf(f, "%s{product=\"", in_use ?
		    "xlicen_product_seats_in_use" : "xlicen_product_seats");
		metrics_label(f, s->pools[i].product);
		fprintf(f, "\"} %llu\n", (unsigned long long)v);
		i = j;
	}
}

static void
metrics_render_snap(FILE *f, const struct metrics_snap *s)
{
	static const char *const state[] = { "active", "expired", "not_yet",
	    "withdrawn" };
	size_t i;

	metrics_head(f, "xlicen_product_seats", "gauge",
	    "Seats of a product's active counted pools.");
	metrics_render_products(f, s, 0);
	metrics_head(f, "xlicen_product_seats_in_use", "gauge",
	    "Seats of a product in use, in any of its pools.");
	metrics_render_products(f, s, 1);
	metrics_head(f, "xlicen_pool_seats", "gauge",
	    "Seats of a pool (0: withdrawn, or uncounted).");
	for (i = 0; i < s->npools; i++)
		metrics_pool_line(f, "xlicen_pool_seats", &s->pools[i],
		    s->pools[i].uncounted ? 0 : s->pools[i].total);
	metrics_head(f, "xlicen_pool_seats_in_use", "gauge",
	    "Seats of a pool in use.");
	for (i = 0; i < s->npools; i++)
		metrics_pool_line(f, "xlicen_pool_seats_in_use", &s->pools[i],
		    s->pools[i].in_use);
	metrics_head(f, "xlicen_pool_info", "gauge",
	    "A pool's state and kind (always 1).");
	for (i = 0; i < s->npools; i++) {
		fputs("xlicen_pool_info{product=\"", f);
		metrics_label(f, s->pools[i].product);
		fputs("\",versions=\"", f);
		metrics_label(f, s->pools[i].versions);
		fputs("\",vendor=\"", f);
		metrics_label(f, s->pools[i].vendor);
		fputs("\",serial=\"", f);
		metrics_label(f, s->pools[i].serial);
		fprintf(f, "\",state=\"%s\",counted=\"%s\"} 1\n",
		    (unsigned)s->pools[i].state < 4 ?
		    state[s->pools[i].state] : "unknown",
		    s->pools[i].uncounted ? "false" : "true");
	}
	metrics_head(f, "xlicen_leases", "gauge", "Current leases.");
	fprintf(f, "xlicen_leases %lld\n", (long long)s->leases);
	metrics_head(f, "xlicen_seats_in_use", "gauge",
	    "Seats held by leases or lingering, all pools.");
	fprintf(f, "xlicen_seats_in_use %lld\n", (long long)s->seats);
	metrics_head(f, "xlicen_sessions", "gauge",
	    "Client connections by protocol state.");
	for (i = 0; i <= CONN_CLOSING; i++)
		fprintf(f, "xlicen_sessions{state=\"%s\"} %u\n",
		    metrics_state_name[i], s->sessions[i]);
	metrics_head(f, "xlicen_store_up", "gauge",
	    "1 if the last snapshot's store queries succeeded.");
	fprintf(f, "xlicen_store_up %d\n", s->store_ok);
}

/* A copy of the newest snapshot, asking the loop for a fresh one first
 * when it is older than LIMIT_HTTP_SNAPSHOT_MS. */
static int
metrics_get_snap(struct metrics_snap *out)
{
	struct timespec until;
	uint64_t gen, one = 1;
	int64_t now = server_now_ms();
	int rc = 0;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&metrics_mu);
	if ((metrics_snap.taken_ms == 0 ||
	    now - metrics_snap.taken_ms >= LIMIT_HTTP_SNAPSHOT_MS) &&
	    metrics_efd >= 0) {
		gen = metrics_gen;
		atomic_store_explicit(&metrics_wanted, 1, memory_order_relaxed);
		(void)!write(metrics_efd, &one, sizeof(one));
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += LIMIT_HTTP_SNAPSHOT_WAIT_MS / 1000;
		until.tv_nsec += (LIMIT_HTTP_SNAPSHOT_WAIT_MS % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (metrics_gen == gen && pthread_cond_timedwait(&metrics_cv,
		    &metrics_mu, &until) != ETIMEDOUT)
			;
	}
	*out = metrics_snap;
	out->pools = NULL;
	if (metrics_snap.npools > 0) {
		out->pools = malloc(metrics_snap.npools * sizeof(*out->pools));
		if (out->pools != NULL)
			memcpy(out->pools, metrics_snap.pools,
			    metrics_snap.npools * sizeof(*out->pools));
		else
			rc = XLICEN_E_NOMEM;
	}
	pthread_mutex_unlock(&metrics_mu);
	return rc;
}

int
metrics_render(FILE *f)
{
	struct metrics_snap s;
	int rc;

	if ((rc = metrics_get_snap(&s)) != 0)
		return rc;
	metrics_head(f, "xlicen_build_info", "gauge",
	    "The server's version (always 1).");
	fprintf(f, "xlicen_build_info{version=\"%s\"} 1\n", XLICEN_VERSION);
	metrics_head(f, "xlicen_start_time_seconds", "gauge",
	    "When the server started, UTC seconds since the epoch.");
	fprintf(f, "xlicen_start_time_seconds %lld\n",
	    (long long)metrics_start_s);
	metrics_render_counters(f);
	metrics_render_snap(f, &s);
	metrics_head(f, "xlicen_metrics_snapshot_age_seconds", "gauge",
	    "Age of the loop's snapshot the gauges above come from.");
	fprintf(f, "xlicen_metrics_snapshot_age_seconds %.3f\n",
	    s.taken_ms == 0 ? -1.0 :
	    (double)(server_now_ms() - s.taken_ms) / 1000.0);
	free(s.pools);
	return ferror(f) ? XLICEN_E_NOMEM : 0;
}

/* ---- the sync timer (loop only) ---- */

void
metrics_sync_begin(uint64_t ticket)
{
	if (ticket != 0 && metrics_sync_ticket == 0) {
		metrics_sync_ticket = ticket;
		metrics_sync_from = metrics_now_ns();
	}
}

void
metrics_sync_end(uint64_t synced)
{
	if (metrics_sync_ticket != 0 && synced >= metrics_sync_ticket) {
		metrics_sync_ns(metrics_now_ns() - metrics_sync_from);
		metrics_sync_ticket = 0;
	}
}
