/*
 * Server logging: stderr with a UTC timestamp in the foreground, syslog
 * otherwise.
 */
#include <stdarg.h>
#include <stdio.h>
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

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;
	char ts[32];
	struct tm tm;
	time_t now;

	if (prio > log_level)
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "%s gss-xlicend: ", ts);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}
