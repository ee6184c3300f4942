/*
 * Requests of the HTTP threads that only the event loop may carry out
 * (the status page's data from the store, the policy and the queue; a
 * removal through the store): an HTTP thread queues a job and wakes the
 * loop through an eventfd; the loop runs it within its round, so what it
 * changes is committed with the round's batch, and marks it done after
 * the commit; the thread waits for that, then answers.
 */
#ifndef XLICEN_HTTP_JOBS_H
#define XLICEN_HTTP_JOBS_H

#include "server.h"

struct http_job {
	/* Loop: do the work on srv (in its round); the result goes in the
	 * job's own fields. */
	void (*run)(struct server *srv, struct http_job *j);
	void *arg;		/* the caller's */
	int rc;			/* run's result; after a failed commit
				 * XLICEN_E_DB */
	/* Private to http_jobs.c. */
	struct http_job *next;
	int state;
};

/* Make the eventfd (once, before the loop runs).  0 or XLICEN_E_IO. */
int http_jobs_init(void);
/* The eventfd the loop polls, or -1 when the endpoint is off. */
int http_jobs_fd(void);
/* Loop: the eventfd was readable; run the queued jobs. */
void http_jobs_run(struct server *srv);
/* Loop, after its round's commit (ok: it succeeded): the jobs run this
 * round are done; their threads are woken. */
void http_jobs_committed(int ok);
/*
 * HTTP thread: have the loop run j and wait until it is done (0: j->rc
 * holds the result) or until LIMIT_HTTP_JOB_WAIT_MS passed with the job
 * not yet taken, or the endpoint is stopping (XLICEN_E_TIMEOUT: the job
 * was not run).  A job the loop has taken is always waited for.
 */
int http_jobs_call(struct http_job *j);
/* At exit, before the HTTP threads are stopped: every job not taken
 * fails at once, and later calls too.  Then close the eventfd. */
void http_jobs_stop(void);

#endif
