/*
 * gss-xlicend: options and config file (and its SIGHUP reread), then the
 * start-up in its phases, then the event loop.  The steps live beside it:
 * daemon.c (socket activation, notify, daemonising, the pid file) and
 * startup.c (the checks of keytab, database and user; the credentials).
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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gssapi/gssapi.h>

#include "config.h"
#include "daemon.h"
#include "err.h"
#include "http.h"
#include "limits.h"
#include "log.h"
#include "metrics.h"
#include "privs.h"
#include "server.h"
#include "startup.h"
#include "trace.h"

/* What the command line said; kept for SIGHUP, where it still wins over
 * the file. */
static struct {
	const char *config;
	int config_given;
	const char *listen[SERVER_MAX_LISTEN];
	int nlisten;
	const char *keytab, *service, *database, *licdir, *keydir;
	const char *user, *pid_file, *policy;
	const char *store_conninfo;
	uint32_t ttl_s, heartbeat_s, orphan_grace_s;
	int ttl_given, heartbeat_given, orphan_grace_given;
	int foreground, check, debug;
} opt;

/* Strings made for opt (absolute paths), freed at exit. */
static char *main_allocs[16];
static int main_nallocs;

static void
main_usage(FILE *f)
{
	fprintf(f,
"usage: gss-xlicend [options]\n"
"  -c, --config FILE       configuration file (default\n"
"                          " CONFIG_DEFAULT_PATH ";\n"
"                          a missing default file means built-in defaults)\n"
"      --check-config      check the configuration, keytab, licenses and\n"
"                          database (PostgreSQL: connect, schema version),\n"
"                          then exit 0 (good) or 1\n"
"  -f, --foreground        stay in the foreground (for systemd and tests);\n"
"                          log to stderr unless [server] log = syslog\n"
"                          or [logging] file is set\n"
"      --debug             stay in the foreground and log at level debug\n"
"                          (over [logging] level)\n"
"  -l, --listen ADDR:PORT  listen address (repeatable; default 0.0.0.0:128\n"
"                          and [::]:128; port 0 picks a free port)\n"
"  -k, --keytab FILE       acceptor keytab (default: the Kerberos default)\n"
"  -S, --service NAME      accept only this service, e.g. gss-xlicen@host\n"
"                          (default: any key in the keytab)\n"
"  -d, --database FILE     SQLite database (default\n"
"                          " CONFIG_DEFAULT_DATABASE ")\n"
"      --store-conninfo STR  use PostgreSQL, this libpq connection string\n"
"                          (over [store] backend and conninfo)\n"
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
"      --trace DEST        protocol trace: every frame and message, never\n"
"                          keys, appended to file DEST (\"-\": stderr)\n"
"  -h, --help              this text\n"
"  -V, --version           print the version\n"
"Signals: SIGHUP rereads the licenses and the [limits], [leases] and\n"
"[logging] settings and reopens the log and --trace files; SIGUSR1 only\n"
"reopens those files; SIGTERM or SIGINT stops the server.  Exit status 0\n"
"after a clean stop, 1 on any error.\n",
	    LIMIT_LEASE_TTL_S, LIMIT_HEARTBEAT_S, LIMIT_ORPHAN_GRACE_S);
}

static int
main_parse_u32_opt(const char *opt_name, const char *s, uint32_t min,
    uint32_t max, uint32_t *out)
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
	if (opt.store_conninfo != NULL) {
		cfg->store_backend = STORE_BACKEND_POSTGRESQL;
		cfg->store_conninfo = opt.store_conninfo;
	}
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
	if (opt.debug) {
		cfg->foreground = 1;
		cfg->log_level = LOG_DEBUG;
	}
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

/*
 * SIGHUP: reread the keytab (startup_reload_keytab), then the file.  Only
 * settings that need no privileges and no new sockets take effect:
 * [limits] (for connections accepted from now on; max_connections* at
 * once), [leases] (for grants and heartbeats from now on) and [server]
 * verify_host (for requests from now on).  Other changes to [server] are
 * logged as needing a restart.  The licenses are reread by the loop after
 * this.
 */
/* SIGHUP's [logging]: the level and interval at once; the line saying
 * so is written at the more verbose of the two levels. */
static void
main_reload_logging(struct server_config *c, const struct server_config *n)
{
	log_set_fold(c->log_fold_s);
	if (n->log_level != c->log_level) {
		log_set_level(n->log_level > c->log_level ? n->log_level :
		    c->log_level);
		log_msg(LOG_INFO, "SIGHUP: [logging] level %s -> %s",
		    log_level_name(c->log_level), log_level_name(n->log_level));
		c->log_level = n->log_level;
		log_set_level(c->log_level);
	}
	if (main_str_differs(n->log_file, c->log_file))
		log_msg(LOG_WARNING, "SIGHUP: [logging] file changed; it takes "
		    "effect at the next start");
}

static int
main_reload(struct server *srv)
{
	struct server_config n;
	struct server_config *c = &srv->cfg;
	int i, listen_changed;

	startup_reload_keytab(srv);
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
	daemon_fit_conns(&n);
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
	MAIN_RELOAD_U32(log_fold_s, "[logging] repeat_interval", 1, " s");
#undef MAIN_RELOAD_U32
	main_reload_logging(c, &n);

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
	MAIN_RESTART_ONLY(n.store_backend != c->store_backend ||
	    main_str_differs(n.store_conninfo, c->store_conninfo),
	    "store");
	MAIN_RESTART_ONLY(main_str_differs(n.licdir, c->licdir), "licenses");
	MAIN_RESTART_ONLY(main_str_differs(n.keydir, c->keydir),
	    "vendor_keys");
	MAIN_RESTART_ONLY(main_str_differs(n.user, c->user), "user");
	MAIN_RESTART_ONLY(main_str_differs(n.group, c->group), "group");
	MAIN_RESTART_ONLY(main_str_differs(n.pid_file, c->pid_file),
	    "pid_file");
	MAIN_RESTART_ONLY(n.log_target != c->log_target, "log");
	MAIN_RESTART_ONLY(main_str_differs(n.policy, c->policy), "policy");
	MAIN_RESTART_ONLY(main_str_differs(n.borrow_key, c->borrow_key),
	    "borrow_key");
#undef MAIN_RESTART_ONLY
	/* A check on requests, not on sockets or privileges: it may change
	 * at once. */
	if (n.verify_host != c->verify_host) {
		log_msg(LOG_INFO, "SIGHUP: [server] verify_host %s -> %s",
		    c->verify_host ? "true" : "false",
		    n.verify_host ? "true" : "false");
		c->verify_host = n.verify_host;
	}
	/* [http]: its sockets and threads stay as started. */
	listen_changed = n.nhttp_listen != c->nhttp_listen ||
	    n.nhttp_allow != c->nhttp_allow ||
	    main_str_differs(n.http_keytab, c->http_keytab) ||
	    main_str_differs(n.http_service, c->http_service) ||
	    n.http_public_status != c->http_public_status ||
	    n.http_metrics_auth != c->http_metrics_auth;
	for (i = 0; !listen_changed && i < n.nhttp_listen; i++)
		listen_changed = main_str_differs(n.http_listen[i],
		    c->http_listen[i]);
	for (i = 0; !listen_changed && i < n.nhttp_allow; i++)
		listen_changed = main_str_differs(n.http_allow[i],
		    c->http_allow[i]);
	if (listen_changed)
		log_msg(LOG_WARNING, "SIGHUP: [http] changed; it takes effect "
		    "at the next start");
	config_free(&n);
	if (access(opt.config, F_OK) == 0)
		log_msg(LOG_INFO, "SIGHUP: reread %s", opt.config);
	else
		log_msg(LOG_INFO, "SIGHUP: no %s; built-in defaults and options "
		    "apply", opt.config);
	return 0;
}


/* ---- the command line ---- */

enum {
	MAIN_OPT_CHECK = 256, MAIN_OPT_TTL, MAIN_OPT_HEARTBEAT, MAIN_OPT_POLICY,
	MAIN_OPT_ORPHAN_GRACE, MAIN_OPT_TRACE, MAIN_OPT_DEBUG,
	MAIN_OPT_CONNINFO
};

static const struct option main_longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "check-config", no_argument, NULL, MAIN_OPT_CHECK },
	{ "foreground", no_argument, NULL, 'f' },
	{ "debug", no_argument, NULL, MAIN_OPT_DEBUG },
	{ "listen", required_argument, NULL, 'l' },
	{ "keytab", required_argument, NULL, 'k' },
	{ "service", required_argument, NULL, 'S' },
	{ "database", required_argument, NULL, 'd' },
	{ "store-conninfo", required_argument, NULL, MAIN_OPT_CONNINFO },
	{ "licenses", required_argument, NULL, 'L' },
	{ "vendor-keys", required_argument, NULL, 'K' },
	{ "user", required_argument, NULL, 'u' },
	{ "pid-file", required_argument, NULL, 'p' },
	{ "lease-ttl", required_argument, NULL, MAIN_OPT_TTL },
	{ "heartbeat", required_argument, NULL, MAIN_OPT_HEARTBEAT },
	{ "orphan-grace", required_argument, NULL, MAIN_OPT_ORPHAN_GRACE },
	{ "policy", required_argument, NULL, MAIN_OPT_POLICY },
	{ "trace", required_argument, NULL, MAIN_OPT_TRACE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* --listen ADDR: one more address.  0, or -1 (said on stderr). */
static int
main_add_listen(const char *arg)
{
	char why[128];

	if (opt.nlisten >= SERVER_MAX_LISTEN) {
		fprintf(stderr, "gss-xlicend: at most %d --listen\n",
		    SERVER_MAX_LISTEN);
		return -1;
	}
	if (config_check_listen(arg, why, sizeof(why)) != 0) {
		fprintf(stderr, "gss-xlicend: --listen \"%s\": "
		    "expected ADDR:PORT or [IPV6ADDR]:PORT: %s\n",
		    arg, why);
		return -1;
	}
	opt.listen[opt.nlisten++] = arg;
	return 0;
}

/* --trace DEST: the protocol trace (common/trace.h) to DEST, "-" for
 * standard error.  0, or -1 (said on stderr). */
static int
main_trace(const char *dest)
{
	char why[256];

	if (trace_open(dest, why, sizeof(why)) != 0) {
		fprintf(stderr, "gss-xlicend: --trace: %s\n", why);
		return -1;
	}
	return 0;
}

/*
 * The command line into opt.  0 to go on, 1 to exit with status 0
 * (--help, --version), -1 to exit with status 1 (said on stderr).
 */
static int
main_parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt_long(argc, argv, "c:fl:k:S:d:L:K:u:p:hV",
	    main_longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			opt.config = main_abs(optarg);
			opt.config_given = 1;
			break;
		case MAIN_OPT_CHECK:
			opt.check = 1;
			break;
		case 'f':
			opt.foreground = 1;
			break;
		case MAIN_OPT_DEBUG:
			opt.debug = 1;
			break;
		case 'l':
			if (main_add_listen(optarg) != 0)
				return -1;
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
		case MAIN_OPT_CONNINFO:
			opt.store_conninfo = optarg;
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
		case MAIN_OPT_TTL:
			if (main_parse_u32_opt("--lease-ttl", optarg,
			    LIMIT_LEASE_TTL_MIN_S, LIMIT_LEASE_TTL_MAX_S,
			    &opt.ttl_s) != 0)
				return -1;
			opt.ttl_given = 1;
			break;
		case MAIN_OPT_HEARTBEAT:
			if (main_parse_u32_opt("--heartbeat", optarg, 1,
			    LIMIT_HEARTBEAT_MAX_S, &opt.heartbeat_s) != 0)
				return -1;
			opt.heartbeat_given = 1;
			break;
		case MAIN_OPT_ORPHAN_GRACE:
			if (main_parse_u32_opt("--orphan-grace", optarg, 0,
			    CONFIG_ORPHAN_GRACE_MAX_S,
			    &opt.orphan_grace_s) != 0)
				return -1;
			opt.orphan_grace_given = 1;
			break;
		case MAIN_OPT_POLICY:
			opt.policy = main_abs(optarg);
			break;
		case MAIN_OPT_TRACE:
			if (main_trace(optarg) != 0)
				return -1;
			break;
		case 'h':
			main_usage(stdout);
			return 1;
		case 'V':
			printf("gss-xlicend %s (protocol %d)\n", XLICEN_VERSION,
			    XLICEN_PROTO_VERSION);
			return 1;
		default:
			main_usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gss-xlicend: unexpected argument \"%s\"\n",
		    argv[optind]);
		return -1;
	}
	if (getuid() != geteuid() || getgid() != getegid()) {
		fprintf(stderr, "gss-xlicend: refusing to run set-user-ID or "
		    "set-group-ID; start it as root or as its user\n");
		return -1;
	}
	return 0;
}

/* ---- start-up, in its phases ---- */

/* What start-up made, for the phases after it and for main_cleanup. */
struct main_run {
	struct server srv;
	struct privs_user u;	/* who to become, if drop */
	int drop;		/* the privilege drop is to happen */
	int nactivated;		/* sockets systemd passed */
	int use_syslog;
	int pid_written;
	struct http_server *http;	/* [http]: NULL when off */
};

/*
 * Before the sockets: a second server on the same database is refused
 * before it binds (on the same port it would otherwise fail there,
 * without naming the database; store_open takes the lock itself); the
 * activated sockets are counted before a fork changes the pid; then the
 * fork into the background, and the signals held for the loop.
 */
static int
main_detach(struct main_run *r)
{
	struct server *srv = &r->srv;
	char err[1024];

	if (srv->cfg.store_backend == STORE_BACKEND_SQLITE &&
	    store_check_free(srv->cfg.database, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "database %s: %s", srv->cfg.database, err);
		return XLICEN_E_CONFIG;
	}
	if ((r->nactivated = daemon_activation_fds()) < 0) {
		log_msg(LOG_ERR, "socket activation: LISTEN_FDS is not a number "
		    "1..%d", SERVER_MAX_LISTEN);
		return XLICEN_E_CONFIG;
	}
	/* The file first, as root: /var/log is root's. */
	if (srv->cfg.log_file != NULL &&
	    log_open_file(srv->cfg.log_file, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		return XLICEN_E_CONFIG;
	}
	r->use_syslog = srv->cfg.log_file == NULL &&
	    (srv->cfg.log_target == CONFIG_LOG_SYSLOG ||
	    (srv->cfg.log_target == CONFIG_LOG_DEFAULT && !srv->cfg.foreground));
	if (srv->cfg.foreground && r->use_syslog)
		log_use_syslog("gss-xlicend");
	if (!srv->cfg.foreground && daemon_start() != 0)
		return XLICEN_E_CONFIG;
	daemon_block_signals();
	return 0;
}

/* Sockets first: port 128 needs root (or systemd). */
static int
main_listen(struct main_run *r)
{
	struct server *srv = &r->srv;

	if (r->nactivated > 0) {
		if (opt.nlisten > 0)
			log_msg(LOG_INFO, "socket activation: ignoring --listen");
		if (daemon_adopt_listeners(srv, r->nactivated) != 0)
			return XLICEN_E_CONFIG;
	} else if (loop_listen(srv) != 0) {
		if (geteuid() != 0 && startup_wants_low_port(&srv->cfg))
			log_msg(LOG_ERR, "ports below 1024 need root or socket "
			    "activation; for development use e.g. --listen "
			    "127.0.0.1:1128");
		return XLICEN_E_CONFIG;
	}
	/* [http] binds here too, before the privilege drop. */
	if (http_listen(&srv->cfg, &r->http) != 0)
		return XLICEN_E_CONFIG;
	return 0;
}

/*
 * What needs root, if we are: the secrets' modes, the database's owner,
 * the keytab copied into memory, the pid file; then the privilege drop
 * for good.
 */
static int
main_as_root(struct main_run *r)
{
	struct server *srv = &r->srv;
	char err[1024];
	size_t nkeys;

	if (startup_check_secrets(&srv->cfg) != 0)
		return XLICEN_E_CONFIG;
	if ((r->drop = startup_decide_user(&srv->cfg, &r->u)) < 0)
		return XLICEN_E_CONFIG;
	if (r->drop && startup_check_db_owner(&srv->cfg, &r->u) != 0)
		return XLICEN_E_CONFIG;
	/* Read once, at start (docs/ADMIN.md): after the privilege drop the
	 * file is out of reach, and a context accepted from memory costs no
	 * file reads. */
	if (privs_keytab_to_memory(srv->cfg.keytab, &nkeys, err,
	    sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		return XLICEN_E_CONFIG;
	}
	log_msg(LOG_INFO, "keytab %s: %zu key(s) copied into memory",
	    srv->cfg.keytab != NULL ? srv->cfg.keytab : "(default)", nkeys);
	if (startup_load_borrow_key(srv) != 0)
		return XLICEN_E_CONFIG;
	if ((!srv->cfg.foreground || opt.pid_file != NULL) &&
	    srv->cfg.pid_file != NULL) {
		if (daemon_write_pid_file(srv->cfg.pid_file) != 0)
			return XLICEN_E_CONFIG;
		r->pid_written = 1;
	}
	if (r->drop) {
		log_file_chown(r->u.uid, r->u.gid);	/* for SIGUSR1 */
		if (trace_chown(r->u.uid, r->u.gid, err, sizeof(err)) != 0)
			log_msg(LOG_WARNING, "trace file %s: chown: %s; it "
			    "cannot be reopened after rotation", trace_file(),
			    err);
		if (privs_drop(&r->u, err, sizeof(err)) != 0) {
			log_msg(LOG_ERR, "dropping privileges to %s: %s",
			    r->u.user, err);
			return XLICEN_E_CONFIG;
		}
		log_msg(LOG_INFO, "running as %s (uid %u), group %s (gid %u), "
		    "no capabilities", r->u.user, (unsigned)r->u.uid,
		    r->u.group, (unsigned)r->u.gid);
		if (startup_check_db_dir(&srv->cfg, r->u.user) != 0)
			return XLICEN_E_CONFIG;
	} else if (privs_no_new_privs() != 0) {
		log_msg(LOG_WARNING, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	}
	return 0;
}

/*
 * From here on nothing needs root: the acceptor credentials (so the
 * replay cache is the service user's), the database (so its files are
 * the service user's), the licenses; then serve until told to stop.
 * Returns loop_run's code, or XLICEN_E_CONFIG if a step failed.
 */
static int
main_serve(struct main_run *r)
{
	struct server *srv = &r->srv;
	char err[1024];
	int rc;

	if (startup_acquire_cred(srv, PRIVS_MEMORY_KEYTAB) != 0)
		return XLICEN_E_CONFIG;
	daemon_raise_nofile(&srv->cfg);
	/* (Never the connection string in the log: it may hold a
	 * password.) */
	if (srv->cfg.store_backend == STORE_BACKEND_POSTGRESQL) {
		if (store_open_backend(STORE_BACKEND_POSTGRESQL,
		    srv->cfg.store_conninfo, &srv->store, err, sizeof(err)) !=
		    0) {
			log_msg(LOG_ERR, "store: %s", err);
			return XLICEN_E_CONFIG;
		}
	} else if (store_open(srv->cfg.database, &srv->store, err,
	    sizeof(err)) != 0) {
		log_msg(LOG_ERR, "database %s: %s", srv->cfg.database, err);
		return XLICEN_E_CONFIG;
	}
	if (server_load_licenses(srv) != 0)
		return XLICEN_E_CONFIG;
	srv->on_reload = main_reload;
	srv->started = (int64_t)time(NULL);

	if (!srv->cfg.foreground && r->use_syslog)
		log_use_syslog("gss-xlicend");
	if (srv->cfg.verify_host)
		log_msg(LOG_INFO, "verify_host: a client's claimed host must "
		    "resolve to its address");
	if (http_start(r->http) != 0)
		return XLICEN_E_CONFIG;
	log_msg(LOG_INFO, "gss-xlicend %s ready (lease ttl %u s, heartbeat %u s)",
	    XLICEN_VERSION, srv->cfg.lease_ttl_s, srv->cfg.heartbeat_s);
	daemon_notify("READY=1");
	daemon_ready(!r->use_syslog);
	rc = loop_run(srv);
	daemon_notify("STOPPING=1");
	log_msg(LOG_INFO, "stopped");
	return rc;
}

/* Whatever start-up got as far as making, at exit. */
static void
main_cleanup(struct main_run *r)
{
	struct server *srv = &r->srv;
	OM_uint32 min;
	int i;

	/* The HTTP threads first: a scrape reads the loop's snapshot. */
	http_free(r->http);
	metrics_free();
	store_close(srv->store);
	if (srv->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &srv->cred);
	for (i = 0; i < srv->nlisten; i++)
		close(srv->listen_fds[i]);
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->sigfd >= 0)
		close(srv->sigfd);
	/* After the drop this fails in a root-owned /run; harmless: the
	 * next start overwrites it. */
	if (r->pid_written)
		(void)unlink(srv->cfg.pid_file);
	log_close();
	config_free(&srv->cfg);
	for (i = 0; i < main_nallocs; i++)
		free(main_allocs[i]);
}

int
main(int argc, char **argv)
{
	struct main_run r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.srv.cred = GSS_C_NO_CREDENTIAL;
	r.srv.conn_deadline_ms = INT64_MAX;
	r.srv.epfd = r.srv.sigfd = -1;
	opt.config = CONFIG_DEFAULT_PATH;
	umask(077);

	if ((rc = main_parse_args(argc, argv)) != 0)
		return rc > 0 ? 0 : 1;
	rc = XLICEN_E_CONFIG;
	if (main_read_config(&r.srv.cfg, 0) != 0)
		goto out;
	log_set_level(r.srv.cfg.log_level);
	log_set_fold(r.srv.cfg.log_fold_s);
	if (opt.check) {
		rc = startup_check_config(&r.srv.cfg, opt.config);
		goto out;
	}
	if (main_detach(&r) != 0 || main_listen(&r) != 0 ||
	    main_as_root(&r) != 0)
		goto out;
	rc = main_serve(&r);
out:
	main_cleanup(&r);
	return rc == 0 ? 0 : 1;
}
