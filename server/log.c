/*
 * Server logging: stderr with a UTC timestamp in the foreground, syslog
 * otherwise.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int log_syslog;
static int log_level = LOG_INFO;

void
log_use_syslog(const char *ident)
{
	openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = 1;
}

void
log_set_level(int prio)
{
	log_level = prio;
}

/* One line, one write(): lines of concurrent writers to the same file
 * (O_APPEND) do not interleave, and a request costs one system call for
 * its log line instead of three.  Longer lines are cut with "...". */
void
log_msg(int prio, const char *fmt, ...)
{
	static _Thread_local time_t ts_at = -1;	/* the store's threads log too */
	static _Thread_local char ts[32];
	char line[2048];
	va_list ap;
	struct tm tm;
	time_t now;
	size_t n;
	int m;

	if (prio > log_level)
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(prio, fmt, ap);
		va_end(ap);
		return;
	}
	if ((now = time(NULL)) != ts_at) {
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		ts_at = now;
	}
	n = (size_t)snprintf(line, sizeof(line), "%s gss-xlicend: ", ts);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	if ((size_t)m >= sizeof(line) - n - 1) {
		n = sizeof(line) - 1;
		memcpy(line + n - 4, "...", 3);
		n--;
	} else {
		n += (size_t)m;
	}
	line[n++] = '\n';
	(void)fwrite(line, 1, n, stderr);	/* unbuffered: one write() */
}
