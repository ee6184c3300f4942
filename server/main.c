/*
 * gss-xlicend: options and config file, listening sockets (bound here or
 * handed over by systemd), the keytab, the privilege drop, the store and
 * licenses, daemonising and the pid file; then the event loop.
 *
 * Start-up order matters and is the point of this file:
 *   as root:   bind port 128 (or adopt the activated sockets), check the
 *              secrets' modes, copy the keytab into memory, write the pid
 *              file, drop to the service user for good;
 *   as anyone: acquire the acceptor credentials (so the replay cache is
 *              the service user's), open the database (so its files are
 *              the service user's), load the licenses, serve.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <gssapi/gssapi_krb5.h>

#include "config.h"
#include "err.h"
#include "gssx.h"
#include "licdir.h"
#include "limits.h"
#include "log.h"
#include "policy.h"
#include "privs.h"
#include "server.h"

/* First file descriptor systemd passes (sd_listen_fds(3)). */
#define MAIN_LISTEN_FDS_START	3

/* What the command line said; kept for SIGHUP, where it still wins over
 * the file. */
static struct {
	const char *config;
	int config_given;
	const char *listen[SERVER_MAX_LISTEN];
	int nlisten;
	const char *keytab, *service, *database, *licdir, *keydir;
	const char *user, *pid_file, *policy;
	uint32_t ttl_s, heartbeat_s, orphan_grace_s;
	int ttl_given, heartbeat_given, orphan_grace_given;
	int foreground, check;
} opt;

/* Strings made for opt (absolute paths), freed at exit. */
static char *main_allocs[16];
static int main_nallocs;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: gss-xlicend [options]\n"
"  -c, --config FILE       configuration file (default\n"
"                          " CONFIG_DEFAULT_PATH ";\n"
"                          a missing default file means built-in defaults)\n"
"      --check-config      check the configuration, keytab, licenses and\n"
"                          database, then exit 0 (good) or 1\n"
"  -f, --foreground        stay in the foreground (for systemd and tests);\n"
"                          log to stderr unless [server] log = syslog\n"
"  -l, --listen ADDR:PORT  listen address (repeatable; default 0.0.0.0:128\n"
"                          and [::]:128; port 0 picks a free port)\n"
"  -k, --keytab FILE       acceptor keytab (default: the Kerberos default)\n"
"  -S, --service NAME      accept only this service, e.g. gss-xlicen@host\n"
"                          (default: any key in the keytab)\n"
"  -d, --database FILE     SQLite database (default\n"
"                          " CONFIG_DEFAULT_DATABASE ")\n"
"  -L, --licenses DIR      license directory (default\n"
"                          " CONFIG_DEFAULT_LICDIR ")\n"
"  -K, --vendor-keys DIR   vendor public keys, VENDOR.pub (default\n"
"                          " CONFIG_DEFAULT_KEYDIR ")\n"
"  -u, --user USER         when started as root, run as USER (default\n"
"                          " CONFIG_DEFAULT_USER "); \"root\" keeps root\n"
"  -p, --pid-file FILE     write the pid here (default " CONFIG_DEFAULT_PID_FILE "\n"
"                          when daemonising; with -f only if given)\n"
"      --lease-ttl SECONDS lease lifetime without heartbeat (default %d)\n"
"      --heartbeat SECONDS heartbeat interval asked of clients (default %d)\n"
"      --orphan-grace SECONDS  a lease whose client closed its connection is\n"
"                          freed after this unless reclaimed (default %d;\n"
"                          0: it keeps its TTL)\n"
"      --policy FILE       license policy and admin ACL (default: none)\n"
"  -h, --help              this text\n"
"  -V, --version           print the version\n"
"Signals: SIGHUP rereads the licenses and the [limits] and [leases]\n"
"settings; SIGTERM or SIGINT stops the server.  Exit status 0 after a\n"
"clean stop, 1 on any error.\n",
	    LIMIT_LEASE_TTL_S, LIMIT_HEARTBEAT_S, LIMIT_ORPHAN_GRACE_S);
}

static int
parse_u32_opt(const char *opt_name, const char *s, uint32_t min, uint32_t max,
    uint32_t *out)
{
	if (config_parse_u32(s, min, max, out) != 0) {
		fprintf(stderr, "gss-xlicend: %s: \"%s\" is not a number in "
		    "%u..%u\n", opt_name, s, min, max);
		return -1;
	}
	return 0;
}

/* Paths from the command line are relative to where we were started;
 * the daemon runs in "/". */
static const char *
main_abs(const char *path)
{
	char cwd[4096];
	char *p;
	size_t n;

	if (path[0] == '/' || main_nallocs >= (int)(sizeof(main_allocs) /
	    sizeof(main_allocs[0])) || getcwd(cwd, sizeof(cwd)) == NULL)
		return path;
	n = strlen(cwd) + strlen(path) + 2;
	if ((p = malloc(n)) == NULL)
		return path;
	snprintf(p, n, "%s/%s", cwd, path);
	main_allocs[main_nallocs++] = p;
	return p;
}

/* A keytab name with a type ("MEMORY:x", "FILE:/x") is left alone. */
static const char *
main_abs_keytab(const char *name)
{
	const char *colon = strchr(name, ':'), *slash = strchr(name, '/');

	if (colon != NULL && (slash == NULL || colon < slash))
		return name;
	return main_abs(name);
}

/* Command-line settings over whatever cfg holds. */
static void
main_apply_options(struct server_config *cfg)
{
	int i;

	if (opt.nlisten > 0) {
		for (i = 0; i < opt.nlisten; i++)
			cfg->listen[i] = opt.listen[i];
		cfg->nlisten = opt.nlisten;
	}
	if (opt.keytab != NULL)
		cfg->keytab = opt.keytab;
	if (opt.service != NULL)
		cfg->service = opt.service;
	if (opt.database != NULL)
		cfg->database = opt.database;
	if (opt.licdir != NULL)
		cfg->licdir = opt.licdir;
	if (opt.keydir != NULL)
		cfg->keydir = opt.keydir;
	if (opt.user != NULL)
		cfg->user = opt.user;
	if (opt.pid_file != NULL)
		cfg->pid_file = opt.pid_file;
	if (opt.policy != NULL)
		cfg->policy = opt.policy;
	if (opt.ttl_given)
		cfg->lease_ttl_s = opt.ttl_s;
	if (opt.heartbeat_given)
		cfg->heartbeat_s = opt.heartbeat_s;
	if (opt.orphan_grace_given)
		cfg->orphan_grace_s = opt.orphan_grace_s;
	if (opt.foreground)
		cfg->foreground = 1;
}

/* What no setting said: the default addresses; a heartbeat that fits. */
static void
main_finish_config(struct server_config *cfg, int quiet)
{
	uint32_t hb;

	if (cfg->nlisten == 0) {
		cfg->listen[cfg->nlisten++] = "0.0.0.0:128";
		cfg->listen[cfg->nlisten++] = "[::]:128";
	}
	/* A lease must survive a heartbeat or two going missing. */
	if (cfg->heartbeat_s * 3 > cfg->lease_ttl_s) {
		hb = cfg->lease_ttl_s / 3;
		if (hb == 0)
			hb = 1;
		if (!quiet && cfg->heartbeat_s != LIMIT_HEARTBEAT_S)
			log_msg(LOG_WARNING, "heartbeat %u s lowered to %u s (a "
			    "third of the lease TTL)", cfg->heartbeat_s, hb);
		cfg->heartbeat_s = hb;
	}
}

/* defaults <- file <- command line.  0 or XLICEN_E_CONFIG (logged). */
static int
main_read_config(struct server_config *cfg, int quiet)
{
	char err[1024];
	struct stat st;
	int rc;

	config_defaults(cfg);
	rc = config_load(opt.config, opt.config_given, cfg, err, sizeof(err));
	if (rc != 0) {
		log_msg(LOG_ERR, "%s", err);
		return XLICEN_E_CONFIG;
	}
	if (!quiet && stat(opt.config, &st) != 0)
		log_msg(LOG_INFO, "no %s; built-in defaults apply", opt.config);
	/* The file names the user to run as and the keytab to trust. */
	else if (!quiet && (st.st_mode & (S_IWGRP | S_IWOTH)))
		log_msg(LOG_WARNING, "%s is writable by group or others (mode "
		    "%04o); fix with: chmod go-w %s", opt.config,
		    (unsigned)(st.st_mode & 07777), opt.config);
	main_apply_options(cfg);
	main_finish_config(cfg, quiet);
	return 0;
}

static int
main_str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static void main_reload_keytab(struct server *srv);

/*
 * SIGHUP: reread the keytab (main_reload_keytab), then the file.  Only
 * settings that need no privileges and no new sockets take effect:
 * [limits] (for connections accepted from now on; max_connections* at
 * once), [leases] (for grants and heartbeats from now on) and [server]
 * verify_host (for requests from now on).  Other changes to [server] are
 * logged as needing a restart.  The licenses are reread by the loop after
 * this.
 */
static int
main_reload(struct server *srv)
{
	struct server_config n;
	struct server_config *c = &srv->cfg;
	int i, listen_changed;

	main_reload_keytab(srv);
	memset(&n, 0, sizeof(n));
	if (main_read_config(&n, 1) != 0) {
		log_msg(LOG_ERR, "SIGHUP: %s not reread; the running "
		    "configuration stays", opt.config);
		config_free(&n);
		return XLICEN_E_CONFIG;
	}
#define MAIN_RELOAD_U32(field, name, div, unit)				\
	if (n.field != c->field) {					\
		log_msg(LOG_INFO, "SIGHUP: %s %u -> %u%s", name,	\
		    c->field / (div), n.field / (div), unit);		\
		c->field = n.field;					\
	}
	MAIN_RELOAD_U32(lease_ttl_s, "[leases] ttl", 1, " s");
	MAIN_RELOAD_U32(heartbeat_s, "[leases] heartbeat", 1, " s");
	MAIN_RELOAD_U32(orphan_grace_s, "[leases] orphan_grace", 1, " s");
	MAIN_RELOAD_U32(handshake_ms, "[limits] handshake_timeout", 1000, " s");
	MAIN_RELOAD_U32(idle_ms, "[limits] idle_timeout", 1000, " s");
	MAIN_RELOAD_U32(conn_total, "[limits] max_connections", 1, "");
	MAIN_RELOAD_U32(conn_per_peer, "[limits] max_connections_per_peer", 1,
	    "");
	MAIN_RELOAD_U32(frame_postauth, "[limits] max_frame", 1, " bytes");
	MAIN_RELOAD_U32(conn_unauth, "[limits] max_unauthenticated", 1, "");
	MAIN_RELOAD_U32(conn_unauth_per_peer,
	    "[limits] max_unauthenticated_per_peer", 1, "");
	MAIN_RELOAD_U32(frame_budget, "[limits] partial_frame_budget", 1,
	    " bytes");
	MAIN_RELOAD_U32(queue_per_principal,
	    "[limits] max_queued_per_principal", 1, "");
#undef MAIN_RELOAD_U32

	listen_changed = n.nlisten != c->nlisten;
	for (i = 0; !listen_changed && i < n.nlisten; i++)
		listen_changed = main_str_differs(n.listen[i], c->listen[i]);
#define MAIN_RESTART_ONLY(changed, name)				\
	if (changed)							\
		log_msg(LOG_WARNING, "SIGHUP: [server] %s changed; it takes " \
		    "effect at the next start", name);
	MAIN_RESTART_ONLY(listen_changed, "listen");
	MAIN_RESTART_ONLY(main_str_differs(n.keytab, c->keytab), "keytab");
	MAIN_RESTART_ONLY(main_str_differs(n.service, c->service), "service");
	MAIN_RESTART_ONLY(main_str_differs(n.database, c->database),
	    "database");
	MAIN_RESTART_ONLY(main_str_differs(n.licdir, c->licdir), "licenses");
	MAIN_RESTART_ONLY(main_str_differs(n.keydir, c->keydir),
	    "vendor_keys");
	MAIN_RESTART_ONLY(main_str_differs(n.user, c->user), "user");
	MAIN_RESTART_ONLY(main_str_differs(n.group, c->group), "group");
	MAIN_RESTART_ONLY(main_str_differs(n.pid_file, c->pid_file),
	    "pid_file");
	MAIN_RESTART_ONLY(n.log_target != c->log_target, "log");
	MAIN_RESTART_ONLY(main_str_differs(n.policy, c->policy), "policy");
#undef MAIN_RESTART_ONLY
	/* A check on requests, not on sockets or privileges: it may change
	 * at once. */
	if (n.verify_host != c->verify_host) {
		log_msg(LOG_INFO, "SIGHUP: [server] verify_host %s -> %s",
		    c->verify_host ? "true" : "false",
		    n.verify_host ? "true" : "false");
		c->verify_host = n.verify_host;
	}
	config_free(&n);
	if (access(opt.config, F_OK) == 0)
		log_msg(LOG_INFO, "SIGHUP: reread %s", opt.config);
	else
		log_msg(LOG_INFO, "SIGHUP: no %s; built-in defaults and options "
		    "apply", opt.config);
	return 0;
}

/* ---- systemd ---- */

/* LISTEN_FDS for this very process (sd_listen_fds(3)); 0 if none, -1 if
 * the variables are malformed.  Read before any fork changes our pid. */
static int
main_activation_fds(void)
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
main_format_addr(const struct sockaddr_storage *ss, char *out, size_t outlen)
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
static int
main_adopt_listeners(struct server *srv, int n)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct stat st;
	char shown[80];
	int fd, type, acc, fl;

	for (fd = MAIN_LISTEN_FDS_START; fd < MAIN_LISTEN_FDS_START + n; fd++) {
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
			main_format_addr(&ss, shown, sizeof(shown));
		log_msg(LOG_INFO, "listening on %s (socket activation, fd %d)",
		    shown, fd);
		srv->listen_fds[srv->nlisten++] = fd;
	}
	return 0;
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void
main_notify(const char *state)
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
static int main_ready_fd = -1;

/*
 * Fork; the parent waits until the child says it is ready (exit 0) or
 * the pipe closes without a word (exit 1: the child failed and said why
 * on stderr, which is still the caller's terminal).  Unlike daemon(3),
 * a broken configuration is an error the caller sees.
 */
static int
main_daemon_start(void)
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
	main_ready_fd = p[1];
	if (setsid() < 0) {
		log_msg(LOG_ERR, "setsid: %s", strerror(errno));
		return XLICEN_E_IO;
	}
	return 0;
}

/* Detach from the terminal and release the waiting parent. */
static void
main_daemon_ready(int keep_stderr)
{
	int fd;

	if (main_ready_fd < 0)
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
	(void)!write(main_ready_fd, "1", 1);
	close(main_ready_fd);
	main_ready_fd = -1;
}

static int
main_write_pid_file(const char *path)
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

/* ---- credentials, files ---- */

static int
acquire_cred(struct server *srv, const char *ktname)
{
	OM_uint32 maj, min;
	gss_name_t name = GSS_C_NO_NAME;
	char err[512];
	int rc = 0;

	if (ktname != NULL) {
		maj = krb5_gss_register_acceptor_identity(ktname);
		if (GSS_ERROR(maj)) {
			log_msg(LOG_ERR, "keytab %s: cannot register", ktname);
			return XLICEN_E_GSS;
		}
	}
	if (srv->cfg.service != NULL &&
	    gssx_import_service(srv->cfg.service, &name, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "service name %s: %s", srv->cfg.service, err);
		return XLICEN_E_GSS;
	}
	maj = gss_acquire_cred(&min, name, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
	    GSS_C_ACCEPT, &srv->cred, NULL, NULL);
	if (GSS_ERROR(maj)) {
		gssx_status_text(maj, min, err, sizeof(err));
		log_msg(LOG_ERR, "acceptor credentials%s%s: %s",
		    srv->cfg.service != NULL ? " for " : "",
		    srv->cfg.service != NULL ? srv->cfg.service : "", err);
		rc = XLICEN_E_GSS;
	}
	if (name != GSS_C_NO_NAME)
		gss_release_name(&min, &name);
	return rc;
}

/*
 * Whether path is in systemd's credentials directory (LoadCredential=):
 * systemd makes such a file readable by this service's user only, but may
 * do so with an ACL, which shows as group bits in the mode.
 */
static int
main_is_credential(const char *path)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	size_t n;

	if (dir == NULL || dir[0] != '/')
		return 0;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && path[n] == '/' &&
	    strstr(path + n, "/../") == NULL;
}

/* The keytab file, if it is one, is private: at start and on SIGHUP. */
static int
main_check_keytab(const struct server_config *cfg, char *err, size_t errlen)
{
	char ktbuf[1024];
	const char *ktfile;

	ktfile = privs_keytab_file(cfg->keytab, ktbuf, sizeof(ktbuf));
	if (ktfile != NULL && main_is_credential(ktfile))
		ktfile = NULL;
	if (ktfile != NULL &&
	    privs_check_private("keytab", ktfile, 0, err, errlen) != 0)
		return XLICEN_E_CONFIG;
	return 0;
}

/* The secrets: keytab and database private.  (Vendor private keys are
 * judged with the licenses, at start and on every reread alike.) */
static int
main_check_secrets(const struct server_config *cfg)
{
	char err[1024];

	if (main_check_keytab(cfg, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		return XLICEN_E_CONFIG;
	}
	if (privs_check_private("database", cfg->database, 1, err,
	    sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		return XLICEN_E_CONFIG;
	}
	return 0;
}

/*
 * SIGHUP: the keytab again, for a rotated service key (a new kvno), and
 * acceptor credentials from it.  Contexts already established do not
 * use the credentials.  On any failure the credentials in use stay, and
 * the log says so: after the privilege drop the service user must be
 * able to read the file (docs/ADMIN.md).
 */
static void
main_reload_keytab(struct server *srv)
{
	gss_cred_id_t old = srv->cred;
	const char *name = NULL, *ktfile, *shown = srv->cfg.keytab != NULL ?
	    srv->cfg.keytab : "(default)";
	char err[1024], ktbuf[1024];
	struct passwd *pw;
	size_t nkeys = 0;
	OM_uint32 min;

	ktfile = privs_keytab_file(srv->cfg.keytab, ktbuf, sizeof(ktbuf));
	if (ktfile != NULL && access(ktfile, R_OK) != 0 && errno == EACCES) {
		/* The usual root-only keytab after the privilege drop. */
		pw = getpwuid(geteuid());
		log_msg(LOG_WARNING, "SIGHUP: keytab %s not reread: %s may not "
		    "read it; the service keys read before stay in use (for "
		    "a new key without a restart, make the keytab %s's, mode "
		    "0600)", shown, pw != NULL ? pw->pw_name : "this user",
		    pw != NULL ? pw->pw_name : "this user");
		return;
	}
	if (main_check_keytab(&srv->cfg, err, sizeof(err)) != 0 ||
	    privs_keytab_reread(srv->cfg.keytab, &name, &nkeys, err,
	    sizeof(err)) != 0) {
		log_msg(LOG_ERR, "SIGHUP: keytab %s not reread: %s; the service "
		    "keys read before stay in use", shown, err);
		return;
	}
	srv->cred = GSS_C_NO_CREDENTIAL;
	if (acquire_cred(srv, name) != 0) {
		srv->cred = old;
		privs_keytab_switch(0);
		(void)krb5_gss_register_acceptor_identity(privs_keytab_name());
		log_msg(LOG_ERR, "SIGHUP: keytab %s reread, but no acceptor "
		    "credentials from it; the service keys read before stay in "
		    "use", shown);
		return;
	}
	if (old != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &old);
	privs_keytab_switch(1);
	log_msg(LOG_INFO, "SIGHUP: keytab %s reread: %zu key(s), new acceptor "
	    "credentials", shown, nkeys);
}

/* The directory part of path, in buf. */
static const char *
main_dirname(const char *path, char *buf, size_t buflen)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return ".";
	if (slash == path)
		return "/";
	snprintf(buf, buflen, "%.*s", (int)(slash - path), path);
	return buf;
}

/* Before the drop: the database must be the service user's. */
static int
main_check_db_owner(const struct server_config *cfg,
    const struct privs_user *u)
{
	struct stat st;

	if (stat(cfg->database, &st) != 0)
		return 0;
	if (st.st_uid != u->uid) {
		log_msg(LOG_ERR, "database %s belongs to uid %u, not to %s "
		    "(uid %u), which the server runs as; fix with: chown %s: "
		    "%s*", cfg->database, (unsigned)st.st_uid, u->user,
		    (unsigned)u->uid, u->user, cfg->database);
		return XLICEN_E_CONFIG;
	}
	return 0;
}

/* After the drop: SQLite creates DB-wal and DB-shm next to the file. */
static int
main_check_db_dir(const struct server_config *cfg, const char *user)
{
	char buf[4096];
	const char *dir = main_dirname(cfg->database, buf, sizeof(buf));

	if (access(dir, W_OK | X_OK) != 0) {
		log_msg(LOG_ERR, "database directory %s: %s; it must be "
		    "writable by %s (fix with: chown %s: %s && chmod 700 %s)",
		    dir, strerror(errno), user, user, dir, dir);
		return XLICEN_E_CONFIG;
	}
	return 0;
}

/* Whether any configured address has a privileged port. */
static int
main_wants_low_port(const struct server_config *cfg)
{
	const char *colon;
	uint32_t port;
	int i;

	for (i = 0; i < cfg->nlisten; i++) {
		if ((colon = strrchr(cfg->listen[i], ':')) != NULL &&
		    config_parse_u32(colon + 1, 1, 1023, &port) == 0)
			return 1;
	}
	return 0;
}

/* --check-config: everything start-up would read, without binding. */
static int
main_check_config(const struct server_config *cfg)
{
	struct license *lics = NULL;
	struct privs_user u;
	struct stat st;
	char err[1024];
	size_t nkeys = 0, n = 0, nbad = 0;
	int ok = 1;

	if (stat(opt.config, &st) == 0)
		printf("config %s: OK\n", opt.config);
	else
		printf("config %s: absent, built-in defaults apply\n",
		    opt.config);
	if (main_check_secrets(cfg) != 0)
		ok = 0;
	if (privs_keytab_count(cfg->keytab, &nkeys, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		ok = 0;
	} else {
		printf("keytab %s: %zu key(s)\n", cfg->keytab != NULL ?
		    cfg->keytab : "(Kerberos default)", nkeys);
	}
	/* Informational: checking the configuration of a running server
	 * is what this option is for. */
	if (store_check_free(cfg->database, err, sizeof(err)) != 0)
		printf("database %s: %s\n", cfg->database, err);
	if (licdir_check_keydir(cfg->keydir, err, sizeof(err)) != 0 ||
	    licdir_load_dir(cfg->licdir, cfg->keydir, &lics, &n, &nbad) != 0) {
		ok = 0;
	} else {
		printf("licenses %s: %zu loaded, %zu refused\n", cfg->licdir, n,
		    nbad);
		if (nbad > 0)
			ok = 0;
	}
	free(lics);
	if (cfg->policy != NULL) {
		struct policy *pol = NULL;

		if (policy_load(cfg->policy, &pol, err, sizeof(err)) != 0) {
			log_msg(LOG_ERR, "policy %s", err);
			ok = 0;
		} else {
			printf("policy %s: OK\n", cfg->policy);
		}
		policy_free(pol);
	}
	if (geteuid() == 0) {
		const char *user = cfg->user != NULL ? cfg->user :
		    CONFIG_DEFAULT_USER;

		if (strcmp(user, "root") == 0) {
			printf("user: root (no privilege drop)\n");
		} else if (privs_lookup(user, cfg->group, &u, err,
		    sizeof(err)) != 0) {
			log_msg(cfg->user != NULL ? LOG_ERR : LOG_WARNING, "%s",
			    err);
			if (cfg->user != NULL)
				ok = 0;
		} else {
			printf("user %s (uid %u), group %s (gid %u)\n", u.user,
			    (unsigned)u.uid, u.group, (unsigned)u.gid);
			if (main_check_db_owner(cfg, &u) != 0)
				ok = 0;
		}
	}
	if (ok)
		printf("gss-xlicend: configuration OK\n");
	else
		fprintf(stderr, "gss-xlicend: configuration has errors\n");
	return ok ? 0 : XLICEN_E_CONFIG;
}

/*
 * Who to become.  Returns 1 with *u filled if the drop must happen, 0 to
 * run as we are, or XLICEN_E_CONFIG.
 */
static int
main_decide_user(const struct server_config *cfg, struct privs_user *u)
{
	const char *user = cfg->user != NULL ? cfg->user : CONFIG_DEFAULT_USER;
	char err[512];

	if (geteuid() != 0) {
		if (cfg->user != NULL && (privs_lookup(cfg->user, cfg->group, u,
		    err, sizeof(err)) != 0 || u->uid != geteuid()))
			log_msg(LOG_WARNING, "not started as root: [server] "
			    "user %s ignored; running as uid %u", cfg->user,
			    (unsigned)geteuid());
		return 0;
	}
	if (strcmp(user, "root") == 0) {
		log_msg(LOG_WARNING, "user root: running as root, without the "
		    "privilege drop (not for production)");
		return 0;
	}
	if (privs_lookup(user, cfg->group, u, err, sizeof(err)) != 0) {
		if (cfg->user != NULL) {
			log_msg(LOG_ERR, "[server] user: %s", err);
			return XLICEN_E_CONFIG;
		}
		/* Only the built-in default is missing: a development
		 * machine without the package's system user. */
		log_msg(LOG_WARNING, "%s: staying root; create it (adduser "
		    "--system --group %s) or set [server] user", err, user);
		return 0;
	}
	return 1;
}

static void
main_block_signals(void)
{
	sigset_t mask;

	/* Held until loop_run() reads them from its signalfd: a HUP or TERM
	 * during start-up is acted on once the loop runs, not fatal. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

/*
 * Every connection is a descriptor, and the usual soft limit (1,024) is
 * far below max_connections (20,000 by default): raise it to the hard
 * limit, which needs no privilege, and say so when even that is short.
 * (The systemd unit sets LimitNOFILE=65536.)
 */
static void
main_raise_nofile(const struct server_config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->conn_total + 64;	/* listeners, db, logs */

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		log_msg(LOG_WARNING, "open files limit %llu is below "
		    "[limits] max_connections %u + 64: raise it (ulimit -n, "
		    "LimitNOFILE=) or clients beyond it are refused",
		    (unsigned long long)rl.rlim_cur, (unsigned)cfg->conn_total);
}

int
main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_TTL, OPT_HEARTBEAT, OPT_POLICY,
	    OPT_ORPHAN_GRACE };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "foreground", no_argument, NULL, 'f' },
		{ "listen", required_argument, NULL, 'l' },
		{ "keytab", required_argument, NULL, 'k' },
		{ "service", required_argument, NULL, 'S' },
		{ "database", required_argument, NULL, 'd' },
		{ "licenses", required_argument, NULL, 'L' },
		{ "vendor-keys", required_argument, NULL, 'K' },
		{ "user", required_argument, NULL, 'u' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "lease-ttl", required_argument, NULL, OPT_TTL },
		{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
		{ "orphan-grace", required_argument, NULL, OPT_ORPHAN_GRACE },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct server srv;
	struct privs_user u;
	char err[1024], why[128];
	const char *ktname;
	size_t nkeys;
	int ch, rc, nactivated, drop, pid_written = 0, use_syslog;
	OM_uint32 min;

	memset(&srv, 0, sizeof(srv));
	memset(&u, 0, sizeof(u));
	srv.cred = GSS_C_NO_CREDENTIAL;
	srv.conn_deadline_ms = INT64_MAX;
	srv.epfd = srv.sigfd = -1;
	opt.config = CONFIG_DEFAULT_PATH;
	umask(077);

	while ((ch = getopt_long(argc, argv, "c:fl:k:S:d:L:K:u:p:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			opt.config = main_abs(optarg);
			opt.config_given = 1;
			break;
		case OPT_CHECK:
			opt.check = 1;
			break;
		case 'f':
			opt.foreground = 1;
			break;
		case 'l':
			if (opt.nlisten >= SERVER_MAX_LISTEN) {
				fprintf(stderr, "gss-xlicend: at most %d --listen\n",
				    SERVER_MAX_LISTEN);
				return 1;
			}
			if (config_check_listen(optarg, why, sizeof(why)) != 0) {
				fprintf(stderr, "gss-xlicend: --listen \"%s\": "
				    "expected ADDR:PORT or [IPV6ADDR]:PORT: %s\n",
				    optarg, why);
				return 1;
			}
			opt.listen[opt.nlisten++] = optarg;
			break;
		case 'k':
			opt.keytab = main_abs_keytab(optarg);
			break;
		case 'S':
			opt.service = optarg;
			break;
		case 'd':
			opt.database = main_abs(optarg);
			break;
		case 'L':
			opt.licdir = main_abs(optarg);
			break;
		case 'K':
			opt.keydir = main_abs(optarg);
			break;
		case 'u':
			opt.user = optarg;
			break;
		case 'p':
			opt.pid_file = main_abs(optarg);
			break;
		case OPT_TTL:
			if (parse_u32_opt("--lease-ttl", optarg, CONFIG_TTL_MIN_S,
			    CONFIG_TTL_MAX_S, &opt.ttl_s) != 0)
				return 1;
			opt.ttl_given = 1;
			break;
		case OPT_HEARTBEAT:
			if (parse_u32_opt("--heartbeat", optarg, 1,
			    CONFIG_HEARTBEAT_MAX_S, &opt.heartbeat_s) != 0)
				return 1;
			opt.heartbeat_given = 1;
			break;
		case OPT_ORPHAN_GRACE:
			if (parse_u32_opt("--orphan-grace", optarg, 0,
			    CONFIG_ORPHAN_GRACE_MAX_S, &opt.orphan_grace_s) != 0)
				return 1;
			opt.orphan_grace_given = 1;
			break;
		case OPT_POLICY:
			opt.policy = main_abs(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("gss-xlicend %s (protocol %d)\n", XLICEN_VERSION,
			    XLICEN_PROTO_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gss-xlicend: unexpected argument \"%s\"\n",
		    argv[optind]);
		return 1;
	}
	if (getuid() != geteuid() || getgid() != getegid()) {
		fprintf(stderr, "gss-xlicend: refusing to run set-user-ID or "
		    "set-group-ID; start it as root or as its user\n");
		return 1;
	}

	rc = XLICEN_E_CONFIG;
	if (main_read_config(&srv.cfg, 0) != 0)
		goto out;
	if (opt.check) {
		rc = main_check_config(&srv.cfg);
		goto out;
	}
	/* A second server on the same database: refused before it binds
	 * (on the same port it would otherwise fail there, without naming
	 * the database); store_open takes the lock itself. */
	if (store_check_free(srv.cfg.database, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "database %s: %s", srv.cfg.database, err);
		goto out;
	}
	if ((nactivated = main_activation_fds()) < 0) {
		log_msg(LOG_ERR, "socket activation: LISTEN_FDS is not a number "
		    "1..%d", SERVER_MAX_LISTEN);
		goto out;
	}
	use_syslog = srv.cfg.log_target == CONFIG_LOG_SYSLOG ||
	    (srv.cfg.log_target == CONFIG_LOG_DEFAULT && !srv.cfg.foreground);
	if (srv.cfg.foreground && use_syslog)
		log_use_syslog("gss-xlicend");
	if (!srv.cfg.foreground && main_daemon_start() != 0)
		goto out;
	main_block_signals();

	/* Sockets first: port 128 needs root (or systemd). */
	if (nactivated > 0) {
		if (opt.nlisten > 0)
			log_msg(LOG_INFO, "socket activation: ignoring --listen");
		if (main_adopt_listeners(&srv, nactivated) != 0)
			goto out;
	} else if (loop_listen(&srv) != 0) {
		if (geteuid() != 0 && main_wants_low_port(&srv.cfg))
			log_msg(LOG_ERR, "ports below 1024 need root or socket "
			    "activation; for development use e.g. --listen "
			    "127.0.0.1:1128");
		goto out;
	}

	if (main_check_secrets(&srv.cfg) != 0)
		goto out;
	if ((drop = main_decide_user(&srv.cfg, &u)) < 0)
		goto out;
	if (drop && main_check_db_owner(&srv.cfg, &u) != 0)
		goto out;
	/* Read once, at start (docs/ADMIN.md): after the privilege drop the
	 * file is out of reach, and a context accepted from memory costs no
	 * file reads. */
	if (privs_keytab_to_memory(srv.cfg.keytab, &nkeys, err,
	    sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		goto out;
	}
	ktname = PRIVS_MEMORY_KEYTAB;
	log_msg(LOG_INFO, "keytab %s: %zu key(s) copied into memory",
	    srv.cfg.keytab != NULL ? srv.cfg.keytab : "(default)", nkeys);
	if ((!srv.cfg.foreground || opt.pid_file != NULL) &&
	    srv.cfg.pid_file != NULL) {
		if (main_write_pid_file(srv.cfg.pid_file) != 0)
			goto out;
		pid_written = 1;
	}
	if (drop) {
		if (privs_drop(&u, err, sizeof(err)) != 0) {
			log_msg(LOG_ERR, "dropping privileges to %s: %s", u.user,
			    err);
			goto out;
		}
		log_msg(LOG_INFO, "running as %s (uid %u), group %s (gid %u), "
		    "no capabilities", u.user, (unsigned)u.uid, u.group,
		    (unsigned)u.gid);
		if (main_check_db_dir(&srv.cfg, u.user) != 0)
			goto out;
	} else if (privs_no_new_privs() != 0) {
		log_msg(LOG_WARNING, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	}

	/* From here on nothing needs root. */
	if (acquire_cred(&srv, ktname) != 0)
		goto out;
	main_raise_nofile(&srv.cfg);
	if (store_open(srv.cfg.database, &srv.store, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "database %s: %s", srv.cfg.database, err);
		goto out;
	}
	if (server_load_licenses(&srv) != 0)
		goto out;
	srv.on_reload = main_reload;

	if (!srv.cfg.foreground && use_syslog)
		log_use_syslog("gss-xlicend");
	if (srv.cfg.verify_host)
		log_msg(LOG_INFO, "verify_host: a client's claimed host must "
		    "resolve to its address");
	log_msg(LOG_INFO, "gss-xlicend %s ready (lease ttl %u s, heartbeat %u s)",
	    XLICEN_VERSION, srv.cfg.lease_ttl_s, srv.cfg.heartbeat_s);
	main_notify("READY=1");
	main_daemon_ready(!use_syslog);
	rc = loop_run(&srv);
	main_notify("STOPPING=1");
	log_msg(LOG_INFO, "stopped");
out:
	store_close(srv.store);
	if (srv.cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &srv.cred);
	for (ch = 0; ch < srv.nlisten; ch++)
		close(srv.listen_fds[ch]);
	if (srv.epfd >= 0)
		close(srv.epfd);
	if (srv.sigfd >= 0)
		close(srv.sigfd);
	/* After the drop this fails in a root-owned /run; harmless: the
	 * next start overwrites it. */
	if (pid_written)
		(void)unlink(srv.cfg.pid_file);
	config_free(&srv.cfg);
	for (ch = 0; ch < main_nallocs; ch++)
		free(main_allocs[ch]);
	return rc == 0 ? 0 : 1;
}
