/*
 * gss-xlicend.conf: the server's configuration file, in the krb5 profile
 * syntax of krb5.conf and kdc.conf, read with the profile library libkrb5
 * exports.  This module knows every section and key, their defaults and
 * ranges; it refuses what it does not know, naming file, line, section
 * and key.  docs/man/gss-xlicend.conf.5 is the reference for users.
 */
#ifndef XLICEN_CONFIG_H
#define XLICEN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"

#define CONFIG_DEFAULT_PATH	"/etc/gss-xlicen/gss-xlicend.conf"
#define CONFIG_DEFAULT_USER	"gss-xlicen"
#define CONFIG_DEFAULT_PID_FILE	"/run/gss-xlicend.pid"
#define CONFIG_DEFAULT_DATABASE	"/var/lib/gss-xlicen/xlicen.db"
#define CONFIG_DEFAULT_LICDIR	"/etc/gss-xlicen/licenses"
#define CONFIG_DEFAULT_KEYDIR	"/etc/gss-xlicen/vendor-keys"

/* Ranges of the numeric settings (also used for command-line options). */
#define CONFIG_ORPHAN_GRACE_MAX_S	86400
#define CONFIG_HANDSHAKE_MAX_S	300
#define CONFIG_IDLE_MAX_S	86400
#define CONFIG_CONN_MAX		1000000
#define CONFIG_FRAME_MIN	4096
#define CONFIG_FRAME_MAX	(16 * 1024 * 1024)
#define CONFIG_FRAME_BUDGET_MIN	(1024 * 1024)
#define CONFIG_FRAME_BUDGET_MAX	(2048U * 1024 * 1024)

/* struct server_config.log_target */
enum config_log {
	CONFIG_LOG_DEFAULT = 0,	/* stderr in the foreground, else syslog */
	CONFIG_LOG_STDERR = 1,
	CONFIG_LOG_SYSLOG = 2,
};

/* Most [server] listen addresses (and listening sockets). */
#define SERVER_MAX_LISTEN 16

struct config_str;

/* The settings: config_defaults, then config_load, then command-line
 * options (main.c). */
struct server_config {
	const char *listen[SERVER_MAX_LISTEN];	/* "addr:port", "[v6]:port" */
	int nlisten;
	const char *keytab;		/* NULL: the GSS default */
	const char *service;		/* acceptor name "svc@host"; NULL: any key */
	const char *database;
	int store_backend;		/* enum store_backend: [store] backend */
	const char *store_conninfo;	/* [store] conninfo (PostgreSQL) */
	const char *licdir;
	const char *keydir;
	uint32_t lease_ttl_s;
	uint32_t heartbeat_s;
	uint32_t orphan_grace_s;	/* a lease of a connection its client
					 * ended is freed after this; 0 never */
	uint32_t handshake_ms;
	uint32_t idle_ms;
	uint32_t conn_total;	/* 0 until daemon_fit_conns: not configured */
	uint32_t conn_per_peer;
	uint32_t frame_postauth;
	uint32_t conn_unauth;		/* in HELLO or CONTEXT, all peers */
	uint32_t conn_unauth_per_peer;
	uint32_t frame_budget;		/* bytes in partly received frames */
	int foreground;
	/* Daemon settings (server/config.c, server/main.c, server/privs.c). */
	const char *user;		/* drop to this user if root; NULL: the
					 * default "gss-xlicen", if it exists */
	const char *group;		/* NULL: the user's primary group */
	const char *pid_file;		/* written when daemonising */
	int log_target;			/* enum config_log */
	const char *policy;		/* policy file (policy.h); NULL: none */
	const char *borrow_key;		/* Ed25519 private key that signs
					 * borrow tokens; NULL: no borrowing */
	int verify_host;		/* a CHECKOUT's HOST must resolve to the
					 * peer's address (hostcheck.c) */
	uint32_t queue_per_principal;	/* queued checkouts one principal may
					 * have per product */
	/* [http] (server/http.c): the endpoint is on when listen is given. */
	const char *http_listen[LIMIT_HTTP_LISTEN];	/* as listen above */
	int nhttp_listen;
	const char *http_allow[LIMIT_HTTP_ALLOW];	/* "ADDR[/BITS]"; none:
							 * every client */
	int nhttp_allow;
	/* The status page's sign-on (server/http_auth.c, http_page.c). */
	const char *http_keytab;	/* HTTP/host keys; NULL: keytab above */
	const char *http_service;	/* acceptor name; NULL: "HTTP" (any
					 * HTTP/host key of http_keytab) */
	int http_public_status;		/* GET / without sign-on */
	int http_metrics_auth;		/* /metrics only for the admin ACL */
	const char *log_file;		/* [logging] file; NULL: none */
	int log_level;			/* least important syslog priority
					 * logged (LOG_INFO) */
	uint32_t log_fold_s;		/* repeated lines folded for this
					 * long; 0: never */
	struct config_str *owned;	/* strings config.c allocated */
};

/*
 * Fill cfg with the built-in defaults (common/limits.h, the paths above);
 * listen stays empty (main.c adds 0.0.0.0:128 and [::]:128 when nothing
 * asked for an address) and user NULL (see struct server_config).
 * Clears cfg first; the caller must config_free() anything it held.
 */
void config_defaults(struct server_config *cfg);

/*
 * Read the configuration file at path and set in cfg every setting the
 * file gives; settings it does not mention keep their value.  A [server]
 * listen in the file replaces cfg's listen list.  Strings are owned by cfg
 * (config_free).  If the file does not exist and must_exist is 0, returns
 * 0 and leaves cfg alone (the defaults apply).
 *
 * On error cfg is unchanged and err gets one line naming the file, the
 * line when it can be found, the section and key and what was expected,
 * e.g. "/etc/x.conf:12: [leases] ttl = "abc": expected a number of
 * seconds 2..2592000".  Returns 0, XLICEN_E_CONFIG (unreadable file,
 * syntax error, unknown section or key, bad or repeated value) or
 * XLICEN_E_NOMEM.
 */
int config_load(const char *path, int must_exist, struct server_config *cfg,
    char *err, size_t errlen);

/* Free the strings cfg owns and clear cfg->owned.  Accepts NULL. */
void config_free(struct server_config *cfg);

/*
 * Copy s into storage owned by cfg (freed by config_free) and return the
 * copy, or NULL if out of memory.
 */
const char *config_strdup(struct server_config *cfg, const char *s);

/*
 * Check a listen address: "A.B.C.D:PORT", "[IPV6]:PORT" or "NAME:PORT"
 * with a decimal PORT 0..65535 (0: any free port).  Returns 0, or
 * XLICEN_E_CONFIG with what is wrong in why.
 */
int config_check_listen(const char *spec, char *why, size_t whylen);

/* A network of [http] allow: family AF_INET or AF_INET6, the address
 * (4 or 16 bytes) and its prefix length. */
struct config_net {
	int family;
	unsigned char addr[16];
	unsigned bits;
};

/*
 * Parse "ADDR" or "ADDR/BITS" (IPv4 dotted quad, BITS 0..32; IPv6
 * without brackets, BITS 0..128; no BITS: the one address) into *out.
 * Returns 0, or XLICEN_E_CONFIG with what is wrong in why.
 */
int config_parse_net(const char *spec, struct config_net *out, char *why,
    size_t whylen);

/*
 * Parse a decimal number in min..max (no sign, no spaces, no suffix).
 * Returns 0 and *out, or XLICEN_E_CONFIG (*out 0).
 */
int config_parse_u32(const char *s, uint32_t min, uint32_t max,
    uint32_t *out);

#endif
