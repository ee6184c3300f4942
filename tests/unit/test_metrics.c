/*
 * Unit tests for server/metrics.c: counters and histograms as the
 * exposition format shows them (a duration on a bucket's bound counts in
 * that bucket, one past the last only in +Inf), denials by reason, the
 * sync timer, and the snapshot: asked of the loop through the eventfd,
 * published from a real store and real connection states, shown fresh
 * without waiting, or, when the loop does not answer, the old one after
 * LIMIT_HTTP_SNAPSHOT_WAIT_MS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>

#include <cmocka.h>

#include "limits.h"
#include "metrics.h"
#include "xlicen_errors.h"

/* The whole /metrics text, rendered now. */
static char *
render(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(metrics_render(f), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* text has exactly this line. */
static void
expect_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
test_counters(void **state)
{
	char *t;

	(void)state;
	metrics_grant();
	metrics_grant();
	metrics_deny(XLICEN_E_NO_SEATS);
	metrics_deny(XLICEN_E_MAX_REACHED);
	metrics_deny(XLICEN_E_MAX_REACHED);
	metrics_deny(-200);			/* outside the table */
	metrics_queued();
	metrics_queue_len(1);
	metrics_queue_len(1);
	metrics_queue_len(-1);
	metrics_reload(0);
	metrics_reload(XLICEN_E_CONFIG);
	metrics_refused(LOOP_EVICT_PEER);
	metrics_refused(LOOP_CLOSE_HANDSHAKE_TIMEOUT);
	metrics_refused(LOOP_CLOSE_HANDSHAKE_TIMEOUT);
	/* On a bound: in that bucket (le is "less or equal"). */
	metrics_checkout_ns(1000000);
	/* Past the last bound (2.5 s): only in +Inf. */
	metrics_checkout_ns(3000000000LL);
	metrics_checkout_ns(-5);		/* a clock step: counted as 0 */
	t = render();
	expect_line(t, "xlicen_checkout_grants_total 2");
	expect_line(t, "xlicen_checkout_denials_total{reason=\"no_seats\"} 1");
	expect_line(t, "xlicen_checkout_denials_total{reason=\"max_reached\"} 2");
	expect_line(t, "xlicen_checkout_denials_total{reason=\"other\"} 1");
	expect_line(t, "xlicen_checkout_denials_total{reason=\"no_product\"} 0");
	expect_line(t, "xlicen_checkouts_queued_total 1");
	expect_line(t, "xlicen_queued_checkouts 1");
	expect_line(t, "xlicen_reloads_total{result=\"ok\"} 1");
	expect_line(t, "xlicen_reloads_total{result=\"error\"} 1");
	expect_line(t, "xlicen_connections_refused_total"
	    "{cause=\"evicted_max_connections_per_peer\"} 1");
	expect_line(t, "xlicen_connections_refused_total"
	    "{cause=\"handshake_timeout\"} 2");
	expect_line(t, "xlicen_connections_refused_total{cause=\"shutdown\"} 0");
	expect_line(t, "xlicen_checkout_duration_seconds_bucket{le=\"0.0001\"} 1");
	expect_line(t, "xlicen_checkout_duration_seconds_bucket{le=\"0.0005\"} 1");
	expect_line(t, "xlicen_checkout_duration_seconds_bucket{le=\"0.001\"} 2");
	expect_line(t, "xlicen_checkout_duration_seconds_bucket{le=\"2.5\"} 2");
	expect_line(t, "xlicen_checkout_duration_seconds_bucket{le=\"+Inf\"} 3");
	expect_line(t, "xlicen_checkout_duration_seconds_count 3");
	expect_line(t, "xlicen_checkout_duration_seconds_sum 3.001000000");
	expect_line(t, "# TYPE xlicen_checkout_duration_seconds histogram");
	expect_line(t, "# TYPE xlicen_checkout_grants_total counter");
	expect_line(t, "xlicen_build_info{version=\"" XLICEN_VERSION "\"} 1");
	/* Before metrics_init there is no loop to ask: no snapshot. */
	expect_line(t, "xlicen_store_up 0");
	expect_line(t, "xlicen_metrics_snapshot_age_seconds -1.000");
	free(t);
}

static void
test_sync_timer(void **state)
{
	char *t;

	(void)state;
	metrics_sync_begin(0);		/* nothing to sync: not timed */
	metrics_sync_end(100);
	metrics_sync_begin(5);
	metrics_sync_begin(6);		/* one at a time: 5 is timed */
	metrics_sync_end(4);
	t = render();
	expect_line(t, "xlicen_store_sync_duration_seconds_count 0");
	free(t);
	metrics_sync_end(5);
	metrics_sync_end(6);
	t = render();
	expect_line(t, "xlicen_store_sync_duration_seconds_count 1");
	free(t);
}

/* The loop's side: what it does when the eventfd is readable. */
static void
loop_turn(struct server *srv)
{
	struct pollfd p = { .fd = metrics_wake_fd(), .events = POLLIN };

	assert_int_equal(poll(&p, 1, 0), 1);
	metrics_wake_read();
	metrics_publish_due(srv);
}

static void
test_snapshot(void **state)
{
	struct server srv;
	struct conn c[3];
	char dir[] = "/tmp/test_metrics.XXXXXX", path[64], err[256];
	struct pollfd p;
	int64_t t0;
	char *t;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.db", dir);
	memset(&srv, 0, sizeof(srv));
	assert_int_equal(store_open(path, &srv.store, err, sizeof(err)), 0);
	memset(c, 0, sizeof(c));
	c[0].state = CONN_OPEN;
	c[1].state = CONN_OPEN;
	c[2].state = CONN_HELLO;
	c[0].next = &c[1];
	c[1].next = &c[2];
	srv.conns = &c[0];

	assert_int_equal(metrics_init(), 0);
	assert_true(metrics_wake_fd() >= 0);
	/* Nothing asked yet: the loop publishes nothing. */
	metrics_publish_due(&srv);
	/* A scrape with no loop answering: the old (no) snapshot after the
	 * wait, and the eventfd left readable for the loop. */
	t0 = server_now_ms();
	t = render();
	assert_true(server_now_ms() - t0 >= LIMIT_HTTP_SNAPSHOT_WAIT_MS - 10);
	expect_line(t, "xlicen_store_up 0");
	free(t);
	loop_turn(&srv);
	/* Fresh: shown without asking again. */
	t0 = server_now_ms();
	t = render();
	assert_true(server_now_ms() - t0 < LIMIT_HTTP_SNAPSHOT_MS);
	expect_line(t, "xlicen_store_up 1");
	expect_line(t, "xlicen_sessions{state=\"open\"} 2");
	expect_line(t, "xlicen_sessions{state=\"hello\"} 1");
	expect_line(t, "xlicen_sessions{state=\"closing\"} 0");
	expect_line(t, "xlicen_leases 0");
	expect_line(t, "xlicen_seats_in_use 0");
	free(t);
	p.fd = metrics_wake_fd();
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 0), 0);

	metrics_free();
	store_close(srv.store);
	snprintf(err, sizeof(err), "rm -rf '%s'", dir);
	assert_int_equal(system(err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_sync_timer),
		cmocka_unit_test(test_snapshot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
