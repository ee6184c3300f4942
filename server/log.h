/*
 * Server logging: stderr in the foreground, syslog as a daemon.  One line
 * per significant event.
 */
#ifndef XLICEN_LOG_H
#define XLICEN_LOG_H

#include <syslog.h>

/* Send log lines to syslog instead of stderr (after daemonising). */
void log_use_syslog(const char *ident);
/* Least important priority that is still logged (default LOG_INFO). */
void log_set_level(int prio);
void log_msg(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
