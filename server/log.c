/*
 * Server logging: stderr with a UTC timestamp in the foreground, a file
 * ([logging] file) or syslog otherwise; levels; folding of repeated lines.
 *
 * Syslog is spoken here, not through syslog(3): glibc's syslog() drops a
 * line it cannot send without telling anyone, so on a host without
 * /dev/log every line after start-up was lost.  Sending the datagram
 * ourselves tells us when it fails, and the line goes to stderr instead.
 *
 * Every thread may log (the store's syncer and checkpointer do): the
 * target and the folding table are behind one mutex, and a line is one
 * write() or send().
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "err.h"
#include "limits.h"
#include "log.h"
#include "xlicen_errors.h"

#define LOG_SYSLOG_PATH	"/dev/log"

_Atomic int log_level_now = LOG_INFO;

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *log_ident = "gss-xlicend";

/* Syslog: the socket, and whether it is down (since when we retried). */
static int log_syslog;
static int log_sock = -1;
static int log_sys_down;
static time_t log_sys_retry;

/* The file target: its descriptor (-1: none) and name for reopening. */
static int log_fd = -1;
static char log_path[4096];

/* A line seen within the interval: written LIMIT_LOG_FOLD_BURST times,
 * then counted. */
struct log_fold {
	uint64_t hash;
	time_t since;		/* when it was first written */
	uint32_t written;	/* copies written in the interval */
	uint32_t count;		/* repeats not written since */
	int prio;
	size_t len;		/* 0: a free slot */
	char text[LIMIT_LOG_LINE];
};
static struct log_fold log_folds[LIMIT_LOG_FOLD_LINES];
static uint32_t log_fold_s = LIMIT_LOG_FOLD_S;

static const struct {
	const char *name;
	int prio;
} log_levels[] = {
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};
#define LOG_NLEVELS	(sizeof(log_levels) / sizeof(log_levels[0]))

const char *
log_level_name(int prio)
{
	size_t i;

	for (i = 0; i < LOG_NLEVELS; i++)
		if (log_levels[i].prio == prio)
			return log_levels[i].name;
	return "?";
}

int
log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < LOG_NLEVELS; i++)
		if (strcmp(log_levels[i].name, name) == 0)
			return log_levels[i].prio;
	return -1;
}

void
log_set_level(int prio)
{
	atomic_store_explicit(&log_level_now, prio, memory_order_relaxed);
}

/* "TIME gss-xlicend: TEXT\n" to fd in one write(), so that lines of
 * concurrent writers to one file (O_APPEND) do not interleave.  The whole
 * line, newline included, fits LIMIT_LOG_LINE - 1 bytes: a longer TEXT is
 * cut and ends with "...". */
static void
log_write_fd(int fd, const char *text, size_t len)
{
	char line[LIMIT_LOG_LINE];
	struct tm tm;
	time_t now = time(NULL);
	size_t n, room;

	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%s: ", log_ident);
	room = sizeof(line) - 2 - n;
	if (len > room) {
		memcpy(line + n, text, room - 3);
		memcpy(line + n + room - 3, "...", 3);
		len = room;
	} else {
		memcpy(line + n, text, len);
	}
	n += len;
	line[n++] = '\n';
	(void)!write(fd, line, n);
}

/* 0, or the errno of the failed connect. */
static int
log_syslog_connect(void)
{
	struct sockaddr_un sa;
	int e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, LOG_SYSLOG_PATH, sizeof(LOG_SYSLOG_PATH));
	if ((log_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	if (connect(log_sock, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		close(log_sock);
		log_sock = -1;
		return e;
	}
	return 0;
}

/* One RFC 3164 datagram ("<PRI>Mmm dd hh:mm:ss TAG[PID]: TEXT", the form
 * syslog(3) sends).  A failed send is tried once more on a new socket
 * (the syslog daemon restarted).  0, or the errno of the failure. */
static int
log_syslog_send(int prio, const char *text, size_t len)
{
	char line[LIMIT_LOG_LINE + 96], ts[32];
	struct tm tm;
	time_t now = time(NULL);
	int n, e, tries;

	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "<%d>%s %s[%d]: %.*s",
	    LOG_DAEMON | prio, ts, log_ident, (int)getpid(), (int)len, text);
	if (n < 0)
		return EINVAL;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	for (tries = 0; tries < 2; tries++) {
		if (log_sock < 0 && (e = log_syslog_connect()) != 0)
			return e;
		if (send(log_sock, line, (size_t)n, MSG_NOSIGNAL) == n)
			return 0;
		e = errno;
		close(log_sock);
		log_sock = -1;
	}
	return e;
}

/* Say once (to stderr) that syslog is lost, with why. */
static void
log_syslog_lost(int e)
{
	char note[256];
	int n;

	log_sys_down = 1;
	n = snprintf(note, sizeof(note), "syslog: cannot send to "
	    LOG_SYSLOG_PATH " (%s); logging to stderr", strerror(e));
	log_write_fd(STDERR_FILENO, note, (size_t)n);
}

/* One line to the target.  Called with log_mu held. */
static void
log_out(int prio, const char *text, size_t len)
{
	static const char back[] = "syslog: " LOG_SYSLOG_PATH
	    " reachable again";
	time_t now;
	int e;

	if (log_fd >= 0) {
		log_write_fd(log_fd, text, len);
		return;
	}
	if (log_syslog) {
		now = time(NULL);
		if (!log_sys_down || now != log_sys_retry) {
			if ((e = log_syslog_send(prio, text, len)) == 0) {
				if (log_sys_down) {
					log_sys_down = 0;
					(void)log_syslog_send(LOG_NOTICE, back,
					    sizeof(back) - 1);
				}
				return;
			}
			log_sys_retry = now;
			if (!log_sys_down)
				log_syslog_lost(e);
		}
	}
	log_write_fd(STDERR_FILENO, text, len);
}

/* The summary of a folded line, if it was repeated, and its slot freed.
 * Called with log_mu held. */
static void
log_fold_flush(struct log_fold *f)
{
	char line[LIMIT_LOG_LINE];
	int n;

	if (f->len > 0 && f->count > 0) {
		n = snprintf(line, sizeof(line), "line repeated %u more "
		    "time%s: %.*s", f->count, f->count == 1 ? "" : "s",
		    (int)f->len, f->text);
		if (n > 0)
			log_out(f->prio, line, (size_t)n < sizeof(line) ?
			    (size_t)n : sizeof(line) - 1);
	}
	f->len = 0;
	f->count = 0;
}

/* Summaries of the lines whose interval ended.  With log_mu held. */
static void
log_fold_due(time_t now, int all)
{
	size_t i;

	for (i = 0; i < LIMIT_LOG_FOLD_LINES; i++)
		if (log_folds[i].len > 0 &&
		    (all || now - log_folds[i].since >= (time_t)log_fold_s))
			log_fold_flush(&log_folds[i]);
}

/* 1 if the line was seen often enough within the interval to be counted
 * instead of written, else 0 (to be written; a new line is remembered).
 * With log_mu held. */
static int
log_fold_seen(int prio, const char *text, size_t len, time_t now)
{
	struct log_fold *f, *slot = NULL, *oldest = NULL;
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
	for (i = 0; i < LIMIT_LOG_FOLD_LINES; i++) {
		f = &log_folds[i];
		if (f->len == 0) {
			if (slot == NULL)
				slot = f;
			continue;
		}
		if (f->hash == h && f->prio == prio && f->len == len &&
		    memcmp(f->text, text, len) == 0) {
			if (f->written < LIMIT_LOG_FOLD_BURST) {
				f->written++;
				return 0;
			}
			f->count++;
			return 1;
		}
		if (oldest == NULL || f->since < oldest->since)
			oldest = f;
	}
	/* Full: the oldest line gives way (its summary now). */
	if (slot == NULL) {
		log_fold_flush(oldest);
		slot = oldest;
	}
	slot->hash = h;
	slot->since = now;
	slot->written = 1;
	slot->count = 0;
	slot->prio = prio;
	slot->len = len;
	memcpy(slot->text, text, len);
	return 0;
}

void
log_set_fold(uint32_t seconds)
{
	pthread_mutex_lock(&log_mu);
	if (seconds != log_fold_s)
		log_fold_due(0, 1);
	log_fold_s = seconds;
	pthread_mutex_unlock(&log_mu);
}

void
log_tick(void)
{
	pthread_mutex_lock(&log_mu);
	log_fold_due(time(NULL), 0);
	pthread_mutex_unlock(&log_mu);
}

/* Longer lines are cut with "...". */
void
log_msg(int prio, const char *fmt, ...)
{
	char text[LIMIT_LOG_LINE];
	va_list ap;
	time_t now;
	size_t n;
	int m;

	if (!log_on(prio))
		return;
	va_start(ap, fmt);
	m = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n = (size_t)m;
	if (n >= sizeof(text)) {
		n = sizeof(text) - 1;
		memcpy(text + n - 3, "...", 3);
	}
	now = time(NULL);
	pthread_mutex_lock(&log_mu);
	log_fold_due(now, 0);
	if (log_fold_s == 0 || !log_fold_seen(prio, text, n, now))
		log_out(prio, text, n);
	pthread_mutex_unlock(&log_mu);
}

void
log_use_syslog(const char *ident)
{
	int e;

	pthread_mutex_lock(&log_mu);
	log_ident = ident;
	log_syslog = 1;
	if (log_fd < 0 && log_sock < 0 && (e = log_syslog_connect()) != 0) {
		log_sys_retry = time(NULL);
		log_syslog_lost(e);
	}
	pthread_mutex_unlock(&log_mu);
}

/* Purpose: the log file, appended to by this server alone. */
static int
log_open_path(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOCTTY, 0600);
}

int
log_open_file(const char *path, char *err, size_t errlen)
{
	int fd;

	if (strlen(path) >= sizeof(log_path)) {
		err_setf(err, errlen, "log file %s: name too long", path);
		return XLICEN_E_IO;
	}
	if ((fd = log_open_path(path)) < 0) {
		err_setf(err, errlen, "log file %s: %s", path, strerror(errno));
		return XLICEN_E_IO;
	}
	pthread_mutex_lock(&log_mu);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	memcpy(log_path, path, strlen(path) + 1);
	pthread_mutex_unlock(&log_mu);
	return 0;
}

void
log_reopen(const char *why)
{
	int fd, e;

	if (log_fd < 0)
		return;
	if ((fd = log_open_path(log_path)) < 0) {
		e = errno;
		log_msg(LOG_ERR, "%s: cannot reopen log file %s (%s); lines "
		    "still go to the file it was", why, log_path, strerror(e));
		return;
	}
	/* dup3 swaps the target in one step for every thread. */
	pthread_mutex_lock(&log_mu);
	(void)dup3(fd, log_fd, O_CLOEXEC);
	pthread_mutex_unlock(&log_mu);
	close(fd);
	log_msg(LOG_INFO, "%s: reopened log file %s", why, log_path);
}

void
log_file_chown(uid_t uid, gid_t gid)
{
	if (log_fd >= 0 && fchown(log_fd, uid, gid) != 0)
		log_msg(LOG_WARNING, "log file %s: chown: %s; it cannot be "
		    "reopened after rotation", log_path, strerror(errno));
}

void
log_close(void)
{
	pthread_mutex_lock(&log_mu);
	log_fold_due(0, 1);
	if (log_sock >= 0)
		close(log_sock);
	log_sock = -1;
	pthread_mutex_unlock(&log_mu);
}
