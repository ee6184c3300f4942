/*
 * The daemon's plumbing (daemon.c): socket activation and sd_notify
 * without libsystemd, forking into the background, the pid file, the
 * held signals and the open-files limit.  Used by main.c alone.
 */
#ifndef XLICEN_DAEMON_H
#define XLICEN_DAEMON_H

#include "server.h"

/* LISTEN_FDS for this very process (sd_listen_fds(3)): the count of
 * sockets systemd passed, 0 if none (or they are another process's),
 * -1 if the variables are malformed.  Clears the variables.  Call before
 * any fork changes the pid. */
int daemon_activation_fds(void);
/* Take fds 3..3+n-1 from systemd as srv's listening sockets (made
 * non-blocking and close-on-exec; each logged).  0, XLICEN_E_CONFIG if
 * one is not a listening stream socket, or XLICEN_E_IO. */
int daemon_adopt_listeners(struct server *srv, int n);
/* sd_notify(3): send state ("READY=1") to $NOTIFY_SOCKET, if set; best
 * effort, nothing is reported. */
void daemon_notify(const char *state);
/* Fork into the background: the parent waits until daemon_ready (exit 0)
 * or until the child ends without it (exit 1); the child starts a new
 * session.  0 in the child, or XLICEN_E_IO (logged). */
int daemon_start(void);
/* After daemon_start, once serving: stdin and stdout (and stderr unless
 * keep_stderr) to /dev/null, cwd "/", and release the waiting parent.
 * Nothing in the foreground. */
void daemon_ready(int keep_stderr);
/* Write our pid to path (mode 0644, not through a symlink).  0 or
 * XLICEN_E_IO (logged). */
int daemon_write_pid_file(const char *path);
/* Hold SIGHUP, SIGTERM and SIGINT until the loop reads them from its
 * signalfd. */
void daemon_block_signals(void);
/* Raise the open-files soft limit to the hard one, then daemon_fit_conns. */
void daemon_raise_nofile(struct server_config *cfg);
/* max_connections and the open-files limit: not configured (0), set
 * cfg->conn_total to the limit less LIMIT_FD_RESERVE (at most
 * LIMIT_CONN_TOTAL, at least LIMIT_CONN_FIT_MIN; a limit below that is
 * warned about); configured, warn if the limit cannot meet it. */
void daemon_fit_conns(struct server_config *cfg);

#endif
