/*
 * The daemon's plumbing, apart from what it serves: the listening sockets
 * systemd hands over (socket activation) and its notify socket, forking
 * into the background with the parent waiting for the child's word, the
 * pid file, the signals held for the loop and the open-files limit.
 * main.c calls these in its start-up order; nothing else does.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "daemon.h"
#include "err.h"
#include "limits.h"
#include "log.h"

/* First file descriptor systemd passes (sd_listen_fds(3)). */
#define DAEMON_LISTEN_FDS_START	3

/* ---- systemd ---- */

/* LISTEN_FDS for this very process (sd_listen_fds(3)); 0 if none, -1 if
 * the variables are malformed.  Read before any fork changes our pid. */
int
daemon_activation_fds(void)
{
	const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
	uint32_t pid, n;

	if (pid_s == NULL || fds_s == NULL)
		return 0;
	if (config_parse_u32(pid_s, 1, UINT32_MAX, &pid) != 0 ||
	    (pid_t)pid != getpid())
		return 0;
	/* Not for children (we have none, but the variables are ours). */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (config_parse_u32(fds_s, 1, SERVER_MAX_LISTEN, &n) != 0)
		return -1;
	return (int)n;
}

static void
daemon_format_addr(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char h[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		snprintf(out, outlen, "%s:%u", h, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		snprintf(out, outlen, "[%s]:%u", h, ntohs(s6->sin6_port));
	} else {
		snprintf(out, outlen, "(family %d)", ss->ss_family);
	}
}

/* Take fds 3..3+n-1 from systemd as the listening sockets. */
int
daemon_adopt_listeners(struct server *srv, int n)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct stat st;
	char shown[80];
	int fd, type, acc, fl;

	for (fd = DAEMON_LISTEN_FDS_START;
	    fd < DAEMON_LISTEN_FDS_START + n; fd++) {
		sl = sizeof(type);
		if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) != 0 ||
		    type != SOCK_STREAM) {
			log_msg(LOG_ERR, "socket activation: fd %d is not a "
			    "stream socket", fd);
			return XLICEN_E_CONFIG;
		}
		sl = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &sl) != 0 ||
		    acc == 0) {
			log_msg(LOG_ERR, "socket activation: fd %d is not "
			    "listening (use Accept=no in the .socket unit)", fd);
			return XLICEN_E_CONFIG;
		}
		/* The loop accepts until EAGAIN. */
		if ((fl = fcntl(fd, F_GETFL)) < 0 ||
		    fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
			log_msg(LOG_ERR, "socket activation: fd %d: %s", fd,
			    strerror(errno));
			return XLICEN_E_IO;
		}
		sl = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
			snprintf(shown, sizeof(shown), "?");
		else
			daemon_format_addr(&ss, shown, sizeof(shown));
		log_msg(LOG_INFO, "listening on %s (socket activation, fd %d)",
		    shown, fd);
		snprintf(srv->listen_shown[srv->nlisten],
		    sizeof(srv->listen_shown[0]), "%s", shown);	/* INFO */
		srv->listen_fds[srv->nlisten++] = fd;
	}
	return 0;
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
void
daemon_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t n;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	n = strlen(path);
	if (n >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
}

/* ---- daemonising ---- */

/* Write end of the pipe to the waiting parent; -1 in the foreground. */
static int daemon_ready_fd = -1;

/*
 * Fork; the parent waits until the child says it is ready (exit 0) or
 * the pipe closes without a word (exit 1: the child failed and said why
 * on stderr, which is still the caller's terminal).  Unlike daemon(3),
 * a broken configuration is an error the caller sees.
 */
int
daemon_start(void)
{
	int p[2];
	pid_t pid;
	ssize_t n;
	char c;

	if (pipe2(p, O_CLOEXEC) != 0) {
		log_msg(LOG_ERR, "pipe: %s", strerror(errno));
		return XLICEN_E_IO;
	}
	if ((pid = fork()) < 0) {
		log_msg(LOG_ERR, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return XLICEN_E_IO;
	}
	if (pid > 0) {
		close(p[1]);
		do
			n = read(p[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 ? 0 : 1);
	}
	close(p[0]);
	daemon_ready_fd = p[1];
	if (setsid() < 0) {
		log_msg(LOG_ERR, "setsid: %s", strerror(errno));
		return XLICEN_E_IO;
	}
	return 0;
}

/* Detach from the terminal and release the waiting parent. */
void
daemon_ready(int keep_stderr)
{
	int fd;

	if (daemon_ready_fd < 0)
		return;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		if (!keep_stderr)
			(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (chdir("/") != 0)
		log_msg(LOG_WARNING, "chdir /: %s", strerror(errno));
	(void)!write(daemon_ready_fd, "1", 1);
	close(daemon_ready_fd);
	daemon_ready_fd = -1;
}

int
daemon_write_pid_file(const char *path)
{
	char buf[32];
	int fd, n, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
	    0644);
	if (fd < 0) {
		log_msg(LOG_ERR, "pid file %s: %s", path, strerror(errno));
		return XLICEN_E_IO;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (fchmod(fd, 0644) != 0 || write(fd, buf, (size_t)n) != n) {
		log_msg(LOG_ERR, "pid file %s: %s", path, strerror(errno));
		rc = XLICEN_E_IO;
	}
	close(fd);
	return rc;
}

void
daemon_block_signals(void)
{
	sigset_t mask;

	/* Held until loop_run() reads them from its signalfd: a HUP or TERM
	 * during start-up is acted on once the loop runs, not fatal. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

/*
 * Every connection is a descriptor, and the usual soft limit (1,024) is
 * far below max_connections (20,000 by default): raise it to the hard
 * limit, which needs no privilege, then fit max_connections to it.
 * (The systemd unit sets LimitNOFILE=65536.)
 */
void
daemon_raise_nofile(struct server_config *cfg)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	daemon_fit_conns(cfg);
}

void
daemon_fit_conns(struct server_config *cfg)
{
	struct rlimit rl;
	rlim_t cur = RLIM_INFINITY, fit = LIMIT_CONN_TOTAL;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		cur = rl.rlim_cur;
	if (cfg->conn_total != 0) {
		/* Configured: the administrator's number stands. */
		if (cur != RLIM_INFINITY &&
		    cur < (rlim_t)cfg->conn_total + LIMIT_FD_RESERVE)
			log_msg(LOG_WARNING, "open files limit %llu is below "
			    "[limits] max_connections %u + %d: raise it (ulimit "
			    "-n, LimitNOFILE=) or clients beyond it are refused",
			    (unsigned long long)cur, (unsigned)cfg->conn_total,
			    LIMIT_FD_RESERVE);
		return;
	}
	if (cur != RLIM_INFINITY && cur < fit + LIMIT_FD_RESERVE)
		fit = cur > LIMIT_CONN_FIT_MIN + LIMIT_FD_RESERVE ?
		    cur - LIMIT_FD_RESERVE : LIMIT_CONN_FIT_MIN;
	cfg->conn_total = (uint32_t)fit;
	if (cur != RLIM_INFINITY && cur < LIMIT_CONN_FIT_MIN + LIMIT_FD_RESERVE)
		log_msg(LOG_WARNING, "open files limit %llu leaves no room for "
		    "%d connections: raise it (ulimit -n, LimitNOFILE=)",
		    (unsigned long long)cur, LIMIT_CONN_FIT_MIN);
	else if (fit < LIMIT_CONN_TOTAL)
		log_msg(LOG_DEBUG, "[limits] max_connections %u: what the open "
		    "files limit %llu leaves", (unsigned)fit,
		    (unsigned long long)cur);
}
