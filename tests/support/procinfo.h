/*
 * What the load and hostile-client programs (tests/bench, tests/hostile)
 * read about processes and ask of the system, written once: the monotonic
 * clock, a process's resident memory, the open-files limit, and a socket
 * bound to a chosen loopback source address.  Test support only: never
 * linked into the server or the library.
 */
#ifndef XLICEN_TEST_PROCINFO_H
#define XLICEN_TEST_PROCINFO_H

#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t procinfo_now_ms(void);

/* VmRSS of process pid from /proc/PID/status, in KiB; -1 if unreadable. */
long procinfo_rss_kib(long pid);

/* Raise the soft open-files limit to the hard limit (silently keeps the
 * old one if that fails). */
void procinfo_raise_nofile(void);

/*
 * Bind socket fd to the IPv4 source address src (dotted quad, port 0) so
 * that its connect() comes from there; with no_port the kernel picks the
 * port at connect (IP_BIND_ADDRESS_NO_PORT, for many sources).  Returns 0,
 * or -1 with errno set (EINVAL for a src that is not an IPv4 address).
 */
int procinfo_bind_source(int fd, const char *src, int no_port);

#endif
