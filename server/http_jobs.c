/*
 * The HTTP threads' jobs for the event loop (http_jobs.h): one mutex,
 * one condition, a queue of jobs not taken and a list of those run this
 * round.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "err.h"
#include "http_jobs.h"
#include "limits.h"
#include "log.h"

enum { JOB_QUEUED = 1, JOB_TAKEN, JOB_DONE };

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t jobs_cv;
static struct http_job *jobs_head, *jobs_tail;	/* queued */
static struct http_job *jobs_ran;		/* run this round */
static int jobs_efd = -1;
static int jobs_stopping;

int
http_jobs_init(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&jobs_cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((jobs_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		log_msg(LOG_ERR, "http: eventfd: %s", strerror(errno));
		return XLICEN_E_IO;
	}
	return 0;
}

int
http_jobs_fd(void)
{
	return jobs_efd;
}

void
http_jobs_run(struct server *srv)
{
	struct http_job *j, *list;
	uint64_t v;

	(void)!read(jobs_efd, &v, sizeof(v));
	pthread_mutex_lock(&jobs_mu);
	list = jobs_head;
	jobs_head = jobs_tail = NULL;
	for (j = list; j != NULL; j = j->next)
		j->state = JOB_TAKEN;
	pthread_mutex_unlock(&jobs_mu);
	/* Outside the lock: a job may query the store.  Taken jobs are
	 * only the loop's until they are done. */
	while ((j = list) != NULL) {
		list = j->next;
		j->run(srv, j);
		j->next = jobs_ran;
		jobs_ran = j;
	}
}

void
http_jobs_committed(int ok)
{
	struct http_job *j;

	if (jobs_ran == NULL)
		return;
	pthread_mutex_lock(&jobs_mu);
	for (j = jobs_ran; j != NULL; j = j->next) {
		if (!ok && j->rc == 0)
			j->rc = XLICEN_E_DB;
		j->state = JOB_DONE;
	}
	jobs_ran = NULL;
	pthread_cond_broadcast(&jobs_cv);
	pthread_mutex_unlock(&jobs_mu);
}

/* Take j out of the queue (under jobs_mu). */
static void
http_jobs_unlink(struct http_job *j)
{
	struct http_job **pp, *prev = NULL;

	for (pp = &jobs_head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp != j)
			continue;
		*pp = j->next;
		if (jobs_tail == j)
			jobs_tail = prev;
		return;
	}
}

int
http_jobs_call(struct http_job *j)
{
	struct timespec until;
	uint64_t one = 1;
	int rc = 0, expired = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += LIMIT_HTTP_JOB_WAIT_MS / 1000;
	until.tv_nsec += (LIMIT_HTTP_JOB_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&jobs_mu);
	if (jobs_stopping || jobs_efd < 0) {
		pthread_mutex_unlock(&jobs_mu);
		return XLICEN_E_TIMEOUT;
	}
	j->rc = 0;
	j->next = NULL;
	j->state = JOB_QUEUED;
	if (jobs_tail != NULL)
		jobs_tail->next = j;
	else
		jobs_head = j;
	jobs_tail = j;
	(void)!write(jobs_efd, &one, sizeof(one));
	while (j->state != JOB_DONE) {
		if (j->state == JOB_QUEUED && jobs_stopping) {
			http_jobs_unlink(j);
			rc = XLICEN_E_TIMEOUT;
			break;
		}
		/* Taken: done within the loop's round, waited for. */
		if (expired) {
			pthread_cond_wait(&jobs_cv, &jobs_mu);
			continue;
		}
		if (pthread_cond_timedwait(&jobs_cv, &jobs_mu, &until) ==
		    ETIMEDOUT) {
			expired = 1;
			if (j->state == JOB_QUEUED) {
				http_jobs_unlink(j);
				rc = XLICEN_E_TIMEOUT;
				break;
			}
		}
	}
	pthread_mutex_unlock(&jobs_mu);
	return rc;
}

void
http_jobs_stop(void)
{
	pthread_mutex_lock(&jobs_mu);
	jobs_stopping = 1;
	pthread_cond_broadcast(&jobs_cv);
	/* Nobody writes to it now (a call checks jobs_stopping first). */
	if (jobs_efd >= 0)
		close(jobs_efd);
	jobs_efd = -1;
	pthread_mutex_unlock(&jobs_mu);
}
