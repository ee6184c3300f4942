/*
 * Server logging: one line per significant event, to stderr (the
 * foreground), a file ([logging] file; reopened on SIGHUP and SIGUSR1 for
 * logrotate) or syslog (falling back to stderr while /dev/log cannot be
 * reached).  Lines below the level are dropped before they are formatted;
 * a line repeated within [logging] repeat_interval is written up to
 * LIMIT_LOG_FOLD_BURST times and then counted, and the count is written as
 * one summary line.
 */
#ifndef XLICEN_LOG_H
#define XLICEN_LOG_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

/* The least important priority still logged; read through log_on(). */
extern _Atomic int log_level_now;

/* Whether a line of priority prio would be logged: test it before
 * computing what a line needs (log_debug does). */
static inline int
log_on(int prio)
{
	return prio <= atomic_load_explicit(&log_level_now,
	    memory_order_relaxed);
}

/* A debug line: its arguments are not even evaluated unless the level is
 * debug, so a debug line costs one comparison when it is off. */
#define log_debug(...)							\
	do {								\
		if (log_on(LOG_DEBUG))					\
			log_msg(LOG_DEBUG, __VA_ARGS__);		\
	} while (0)

/*
 * Send log lines to syslog (/dev/log, facility daemon, tag ident[pid])
 * instead of stderr, unless a file is the target (log_open_file).  A line
 * that cannot be sent goes to stderr; the first such line is preceded by
 * one saying so, and syslog is tried again at most once a second.
 */
void log_use_syslog(const char *ident);

/*
 * Make the file at path (absolute) the target of every line from now on,
 * opened for appending (created mode 0640).  Returns 0, or XLICEN_E_IO
 * with the reason in err (the target is then unchanged).
 */
int log_open_file(const char *path, char *err, size_t errlen);

/*
 * Reopen the log file by its name (after logrotate renamed it), saying so
 * in the new file with why ("SIGHUP", "SIGUSR1").  If it cannot be
 * opened, lines keep going to the old one, and an error says why.  No-op
 * without a file target.  Safe against other threads logging meanwhile.
 */
void log_reopen(const char *why);

/* Give the log file to the user the server is about to become, so that
 * it can still reopen it.  No-op without a file target. */
void log_file_chown(uid_t uid, gid_t gid);

/* Least important priority that is still logged (default LOG_INFO). */
void log_set_level(int prio);

/* The level's name ("error", "warning", "info", "debug") and back: the
 * syslog priority of a name, or -1 for any other text. */
const char *log_level_name(int prio);
int log_level_parse(const char *name);

/* Seconds after a line's first writing during which its copies past
 * LIMIT_LOG_FOLD_BURST are counted, then summed up; 0 writes every line
 * (default LIMIT_LOG_FOLD_S). */
void log_set_fold(uint32_t seconds);

/* Write the summaries whose interval has ended (the loop calls it once a
 * round, at least once a second). */
void log_tick(void);

/* Write every pending summary and close the file or socket (at exit). */
void log_close(void);

void log_msg(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
