/*
 * The server's metrics, for GET /metrics (http.c).  Two kinds, so that a
 * scrape never takes the event loop's time:
 *
 *  - counters and histograms the loop and the handlers bump where an
 *    event happens (grants, denials by reason, refusals by cause, commit
 *    and sync times, ...): relaxed atomics, one add each, read by the
 *    HTTP thread whenever it likes;
 *  - a snapshot of state only the loop can read (seats per pool from the
 *    store, leases, sessions by state): the HTTP thread asks for one
 *    through an eventfd, the loop publishes it after its round's commit
 *    (metrics_publish) at most every LIMIT_HTTP_SNAPSHOT_MS, and the
 *    thread renders the newest it has.
 *
 * The counters are process-wide (one server per process).
 */
#ifndef XLICEN_METRICS_H
#define XLICEN_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "server.h"

/* Make the eventfd the HTTP thread wakes the loop with and note the start
 * time.  Called once before the loop runs; 0 or XLICEN_E_IO. */
int metrics_init(void);
/* The eventfd the loop polls (readable: a scrape wants a snapshot), or
 * -1 before metrics_init or when it failed. */
int metrics_wake_fd(void);
/* Loop: the eventfd was readable; publish a snapshot of srv after the
 * round's commit (metrics_publish_due then says so). */
void metrics_wake_read(void);
/* Loop, after its round's commit: publish the snapshot if one was asked
 * for; cheap (one load) when none was. */
void metrics_publish_due(struct server *srv);
/* Close the eventfd, free the snapshot (at exit). */
void metrics_free(void);

/* ---- events, counted where they happen (any thread) ---- */

/* A checkout granted (a request's or the queue's). */
void metrics_grant(void);
/* A checkout denied with code (an XLICEN_E_ value), counted by its name. */
void metrics_deny(int code);
/* A checkout queued (QUEUE or WAIT); and the queue's length changed by
 * delta (queue.c, where it adds and unlinks an entry). */
void metrics_queued(void);
void metrics_queue_len(int delta);
/* The time a CHECKOUT request took to decide, in ns. */
void metrics_checkout_ns(int64_t ns);
/* The time one round's group commit took (store_batch_end), in ns. */
void metrics_commit_ns(int64_t ns);
/* The time from a batch's commit to the syncer covering it, in ns. */
void metrics_sync_ns(int64_t ns);
/* Loop: a batch committed with ticket (store_batch_end; 0: nothing to
 * sync); the syncer covered synced.  One batch at a time is timed, from
 * its commit to its sync, into metrics_sync_ns. */
void metrics_sync_begin(uint64_t ticket);
void metrics_sync_end(uint64_t synced);
/* A reread of licenses and policy (SIGHUP or REREAD) ended with rc. */
void metrics_reload(int rc);
/* A connection refused or closed before authenticating, for cause. */
void metrics_refused(enum loop_cause cause);

/* Monotonic nanoseconds, for the durations above. */
int64_t metrics_now_ns(void);

/* ---- the scrape (HTTP thread) ---- */

/*
 * Write every metric to f in the Prometheus text exposition format 0.0.4:
 * first a fresh snapshot is asked of the loop if the newest is older than
 * LIMIT_HTTP_SNAPSHOT_MS, and waited for at most LIMIT_HTTP_SNAPSHOT_WAIT_MS
 * (then the older one is shown; xlicen_metrics_snapshot_age_seconds says
 * how old).  Returns 0, or XLICEN_E_NOMEM.
 */
int metrics_render(FILE *f);

#endif
