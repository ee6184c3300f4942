/*
 * gss-xlicend.conf: read with the krb5 profile library (the parser of
 * krb5.conf and kdc.conf), so a Kerberos administrator meets one format
 * and we keep no parser of our own for values.
 *
 * The profile library is lenient where a server must not be: it ignores
 * relations before the first [section], takes "key =" at the end of the
 * file as an empty group, merges repeated sections and keys silently, and
 * reports syntax errors without a line number.  So besides asking the
 * library for values we scan the text ourselves (profscan.c, the scanner
 * the policy file shares), only to classify lines: that gives the line of
 * each section and key for messages, the line of a syntax error, and the
 * structural problems the library lets pass.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <com_err.h>
#include <profile.h>

#include "config.h"
#include "err.h"
#include "fileio.h"
#include "limits.h"
#include "log.h"
#include "profscan.h"
#include "store.h"
#include "xlicen_errors.h"

struct config_str {
	struct config_str *next;
	char s[];
};

enum config_type {
	CT_LISTEN,	/* repeatable address:port */
	CT_PATH,	/* absolute file or directory name */
	CT_NAME,	/* user or group name */
	CT_SERVICE,	/* GSS host-based service name */
	CT_LOG,		/* stderr | syslog */
	CT_SECONDS,	/* uint32_t seconds */
	CT_SECONDS_MS,	/* given in seconds, stored as uint32_t ms */
	CT_COUNT,	/* uint32_t */
	CT_BYTES,	/* uint32_t */
	CT_BOOL,	/* int: true | false */
	CT_HTTP_LISTEN,	/* repeatable address:port of [http] */
	CT_NET,		/* repeatable ADDR[/BITS] of [http] allow */
	CT_LEVEL,	/* int: a syslog priority by name (log.h) */
	CT_BACKEND,	/* int: sqlite | postgresql (enum store_backend) */
	CT_CONNINFO,	/* a libpq connection string, non-empty */
};

struct config_key {
	const char *section;
	const char *key;
	enum config_type type;
	uint32_t min, max;
	size_t off;		/* into struct server_config */
};

#define CFG_OFF(f)	offsetof(struct server_config, f)

/* Every key there is.  A new key is one line here, a field in struct
 * server_config and a paragraph in gss-xlicend.conf(5). */
static const struct config_key config_keys[] = {
	{ "server", "listen", CT_LISTEN, 0, 0, CFG_OFF(listen) },
	{ "server", "keytab", CT_PATH, 0, 0, CFG_OFF(keytab) },
	{ "server", "service", CT_SERVICE, 0, 0, CFG_OFF(service) },
	{ "server", "database", CT_PATH, 0, 0, CFG_OFF(database) },
	{ "server", "licenses", CT_PATH, 0, 0, CFG_OFF(licdir) },
	{ "server", "vendor_keys", CT_PATH, 0, 0, CFG_OFF(keydir) },
	{ "server", "user", CT_NAME, 0, 0, CFG_OFF(user) },
	{ "server", "group", CT_NAME, 0, 0, CFG_OFF(group) },
	{ "server", "pid_file", CT_PATH, 0, 0, CFG_OFF(pid_file) },
	{ "server", "log", CT_LOG, 0, 0, CFG_OFF(log_target) },
	{ "server", "policy", CT_PATH, 0, 0, CFG_OFF(policy) },
	{ "server", "verify_host", CT_BOOL, 0, 0, CFG_OFF(verify_host) },
	{ "server", "borrow_key", CT_PATH, 0, 0, CFG_OFF(borrow_key) },
	{ "limits", "handshake_timeout", CT_SECONDS_MS, 1,
	    CONFIG_HANDSHAKE_MAX_S, CFG_OFF(handshake_ms) },
	{ "limits", "idle_timeout", CT_SECONDS_MS, 1, CONFIG_IDLE_MAX_S,
	    CFG_OFF(idle_ms) },
	{ "limits", "max_connections", CT_COUNT, 1, CONFIG_CONN_MAX,
	    CFG_OFF(conn_total) },
	{ "limits", "max_connections_per_peer", CT_COUNT, 1, CONFIG_CONN_MAX,
	    CFG_OFF(conn_per_peer) },
	{ "limits", "max_frame", CT_BYTES, CONFIG_FRAME_MIN, CONFIG_FRAME_MAX,
	    CFG_OFF(frame_postauth) },
	{ "limits", "max_unauthenticated", CT_COUNT, 1, CONFIG_CONN_MAX,
	    CFG_OFF(conn_unauth) },
	{ "limits", "max_unauthenticated_per_peer", CT_COUNT, 1,
	    CONFIG_CONN_MAX, CFG_OFF(conn_unauth_per_peer) },
	{ "limits", "partial_frame_budget", CT_BYTES, CONFIG_FRAME_BUDGET_MIN,
	    CONFIG_FRAME_BUDGET_MAX, CFG_OFF(frame_budget) },
	{ "limits", "max_queued_per_principal", CT_COUNT, 1, LIMIT_QUEUE_LEN,
	    CFG_OFF(queue_per_principal) },
	{ "leases", "ttl", CT_SECONDS, LIMIT_LEASE_TTL_MIN_S, LIMIT_LEASE_TTL_MAX_S,
	    CFG_OFF(lease_ttl_s) },
	{ "leases", "heartbeat", CT_SECONDS, 1, LIMIT_HEARTBEAT_MAX_S,
	    CFG_OFF(heartbeat_s) },
	{ "leases", "orphan_grace", CT_SECONDS, 0, CONFIG_ORPHAN_GRACE_MAX_S,
	    CFG_OFF(orphan_grace_s) },
	{ "http", "listen", CT_HTTP_LISTEN, 0, 0, CFG_OFF(http_listen) },
	{ "http", "allow", CT_NET, 0, 0, CFG_OFF(http_allow) },
	{ "http", "keytab", CT_PATH, 0, 0, CFG_OFF(http_keytab) },
	{ "http", "service", CT_SERVICE, 0, 0, CFG_OFF(http_service) },
	{ "http", "public_status", CT_BOOL, 0, 0, CFG_OFF(http_public_status) },
	{ "http", "metrics_auth", CT_BOOL, 0, 0, CFG_OFF(http_metrics_auth) },
	{ "logging", "file", CT_PATH, 0, 0, CFG_OFF(log_file) },
	{ "logging", "level", CT_LEVEL, 0, 0, CFG_OFF(log_level) },
	{ "logging", "repeat_interval", CT_SECONDS, 0, LIMIT_LOG_FOLD_MAX_S,
	    CFG_OFF(log_fold_s) },
	{ "store", "backend", CT_BACKEND, 0, 0, CFG_OFF(store_backend) },
	{ "store", "conninfo", CT_CONNINFO, 0, 0, CFG_OFF(store_conninfo) },
};
#define CONFIG_NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))

static const char *const config_sections[] = { "server", "limits", "leases",
    "http", "logging", "store" };
#define CONFIG_NSECTIONS \
	(sizeof(config_sections) / sizeof(config_sections[0]))

/* One file being read. */
struct config_ctx {
	const char *path;
	const char *text;	/* NUL-terminated file contents */
	profile_t prof;
	char *err;
	size_t errlen;
};

/* ---- owned strings ---- */

const char *
config_strdup(struct server_config *cfg, const char *s)
{
	struct config_str *c;
	size_t n = strlen(s);

	if ((c = malloc(sizeof(*c) + n + 1)) == NULL)
		return NULL;
	memcpy(c->s, s, n + 1);
	c->next = cfg->owned;
	cfg->owned = c;
	return c->s;
}

void
config_free(struct server_config *cfg)
{
	struct config_str *c, *next;

	if (cfg == NULL)
		return;
	for (c = cfg->owned; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	cfg->owned = NULL;
}

void
config_defaults(struct server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->database = CONFIG_DEFAULT_DATABASE;
	cfg->licdir = CONFIG_DEFAULT_LICDIR;
	cfg->keydir = CONFIG_DEFAULT_KEYDIR;
	cfg->pid_file = CONFIG_DEFAULT_PID_FILE;
	cfg->lease_ttl_s = LIMIT_LEASE_TTL_S;
	cfg->heartbeat_s = LIMIT_HEARTBEAT_S;
	cfg->orphan_grace_s = LIMIT_ORPHAN_GRACE_S;
	cfg->handshake_ms = LIMIT_HANDSHAKE_MS;
	cfg->idle_ms = LIMIT_IDLE_MS;
	cfg->conn_total = 0;	/* fit the open-files limit: daemon_fit_conns */
	cfg->conn_per_peer = LIMIT_CONN_PER_PEER;
	cfg->frame_postauth = LIMIT_FRAME_POSTAUTH;
	cfg->conn_unauth = LIMIT_CONN_UNAUTH;
	cfg->conn_unauth_per_peer = LIMIT_CONN_UNAUTH_PER_PEER;
	cfg->frame_budget = LIMIT_FRAME_BUDGET;
	cfg->queue_per_principal = LIMIT_QUEUE_PER_PRINCIPAL;
	cfg->log_target = CONFIG_LOG_DEFAULT;
	cfg->log_level = LOG_INFO;
	cfg->log_fold_s = LIMIT_LOG_FOLD_S;
}

/* ---- value checks shared with the command line ---- */

int
config_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *p;

	*out = 0;
	if (s == NULL || s[0] == '\0')
		return XLICEN_E_CONFIG;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return XLICEN_E_CONFIG;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return XLICEN_E_CONFIG;
	}
	if (v < min || v > max)
		return XLICEN_E_CONFIG;
	*out = (uint32_t)v;
	return 0;
}

/* A DNS-style host name: letters, digits, '-' and '.', not starting with
 * '-' or '.'. */
static int
config_is_hostname(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 253 || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

int
config_check_listen(const char *spec, char *why, size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *close, *colon, *port;
	uint32_t p;
	size_t n, i;
	int digits_and_dots = 1;

	err_setf(why, whylen, "%s", "");
	if (spec == NULL || spec[0] == '\0') {
		err_setf(why, whylen, "empty");
		return XLICEN_E_CONFIG;
	}
	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL) {
			err_setf(why, whylen, "no closing ]");
			return XLICEN_E_CONFIG;
		}
		n = (size_t)(close - spec - 1);
		if (n == 0 || n >= sizeof(host)) {
			err_setf(why, whylen, "not an IPv6 address");
			return XLICEN_E_CONFIG;
		}
		memcpy(host, spec + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1) {
			err_setf(why, whylen, "not an IPv6 address");
			return XLICEN_E_CONFIG;
		}
		if (close[1] != ':') {
			err_setf(why, whylen, "no port");
			return XLICEN_E_CONFIG;
		}
		port = close + 2;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL) {
			err_setf(why, whylen, "no port");
			return XLICEN_E_CONFIG;
		}
		n = (size_t)(colon - spec);
		if (memchr(spec, ':', n) != NULL) {
			err_setf(why, whylen, "an IPv6 address needs brackets, "
			    "[ADDR]:PORT");
			return XLICEN_E_CONFIG;
		}
		if (n == 0) {
			err_setf(why, whylen, "no address (0.0.0.0 or [::] for "
			    "all)");
			return XLICEN_E_CONFIG;
		}
		for (i = 0; i < n; i++)
			if (!isdigit((unsigned char)spec[i]) && spec[i] != '.')
				digits_and_dots = 0;
		if (digits_and_dots) {
			if (n >= sizeof(host)) {
				err_setf(why, whylen, "not an IPv4 address");
				return XLICEN_E_CONFIG;
			}
			memcpy(host, spec, n);
			host[n] = '\0';
			if (inet_pton(AF_INET, host, addr) != 1) {
				err_setf(why, whylen, "not an IPv4 address");
				return XLICEN_E_CONFIG;
			}
		} else if (!config_is_hostname(spec, n)) {
			err_setf(why, whylen, "not an address or host name");
			return XLICEN_E_CONFIG;
		}
		port = colon + 1;
	}
	if (config_parse_u32(port, 0, 65535, &p) != 0) {
		err_setf(why, whylen, "the port is not a number 0..65535");
		return XLICEN_E_CONFIG;
	}
	return 0;
}

int
config_parse_net(const char *spec, struct config_net *out, char *why,
    size_t whylen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash;
	uint32_t bits;
	size_t n;

	memset(out, 0, sizeof(*out));
	err_setf(why, whylen, "%s", "");
	slash = strchr(spec, '/');
	n = slash != NULL ? (size_t)(slash - spec) : strlen(spec);
	if (n == 0 || n >= sizeof(host)) {
		err_setf(why, whylen, "not an address");
		return XLICEN_E_CONFIG;
	}
	memcpy(host, spec, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		out->bits = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		out->bits = 128;
	} else {
		err_setf(why, whylen, "not an IPv4 or IPv6 address");
		return XLICEN_E_CONFIG;
	}
	if (slash != NULL) {
		if (config_parse_u32(slash + 1, 0, out->bits, &bits) != 0) {
			err_setf(why, whylen, "the prefix length is not a "
			    "number 0..%u", out->bits);
			memset(out, 0, sizeof(*out));
			return XLICEN_E_CONFIG;
		}
		out->bits = bits;
	}
	return 0;
}

/* ---- messages ---- */

/* "PATH:LINE: " (or "PATH: " without a line) and the message. */
static int
config_fail(struct config_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
config_fail(struct config_ctx *c, int line, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		err_setf(c->err, c->errlen, "%s:%d: %s", c->path, line, msg);
	else
		err_setf(c->err, c->errlen, "%s: %s", c->path, msg);
	return XLICEN_E_CONFIG;
}

/* Line of the nth "key =" in [section], or of "[section]" if key is NULL;
 * 0 if not found (e.g. the text came from an included file). */
static int
config_line_of(struct config_ctx *c, const char *section, const char *key,
    int nth)
{
	struct profscan_query q;

	memset(&q, 0, sizeof(q));
	q.section = section;
	q.key = key;
	q.groups = 1;
	q.nth = nth;
	return profscan_find(c->text, LIMIT_CONFIG_LINE, &q);
}

/* ---- reading ---- */

/* The whole file, NUL-terminated.  *missing is set when it does not
 * exist. */
static int
config_read_text(struct config_ctx *c, char **out, int *missing)
{
	char *buf = NULL;
	size_t n;
	mode_t mode;
	int rc, errnum;

	*out = NULL;
	*missing = 0;
	rc = fileio_read(c->path, LIMIT_CONFIG_BYTES, &buf, &n, &mode, &errnum);
	if (rc == XLICEN_E_NOMEM) {
		config_fail(c, 0, "out of memory");
		return rc;
	}
	if (rc == FILEIO_TOO_LARGE)
		return config_fail(c, 0, "larger than %d bytes",
		    LIMIT_CONFIG_BYTES);
	if (rc == FILEIO_NOT_REGULAR && errnum == 0)
		return config_fail(c, 0, "not a regular file");
	if (rc != 0) {
		*missing = errnum == ENOENT;
		return config_fail(c, 0, "%s", strerror(errnum));
	}
	if (memchr(buf, '\0', n) != NULL) {
		free(buf);
		return config_fail(c, 0, "contains a NUL byte: not a text file");
	}
	*out = buf;
	return 0;
}

static const struct config_key *
config_find_key(const char *section, const char *key)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].key, key) == 0)
			return &config_keys[i];
	return NULL;
}

static int
config_known_section(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NSECTIONS; i++)
		if (strcmp(config_sections[i], name) == 0)
			return 1;
	return 0;
}

/* "listen, keytab, ..." for a message. */
static void
config_key_list(const char *section, char *out, size_t outlen)
{
	size_t i, n = 0;
	int k;

	out[0] = '\0';
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].section, section) != 0)
			continue;
		k = snprintf(out + n, outlen - n, "%s%s", n > 0 ? ", " : "",
		    config_keys[i].key);
		if (k < 0 || (size_t)k >= outlen - n)
			return;
		n += (size_t)k;
	}
}

/* Every top-level name must be a known section. */
static int
config_check_sections(struct config_ctx *c)
{
	static const char *const top[] = { NULL };
	void *it = NULL;
	char *name = NULL, *value = NULL;
	long prc;
	int rc = 0;

	prc = profile_iterator_create(c->prof, top, PROFILE_ITER_LIST_SECTION |
	    PROFILE_ITER_SECTIONS_ONLY, &it);
	if (prc != 0)
		return config_fail(c, 0, "%s", error_message(prc));
	for (;;) {
		if ((prc = profile_iterator(&it, &name, &value)) != 0) {
			rc = config_fail(c, 0, "%s", error_message(prc));
			break;
		}
		if (name == NULL)
			break;
		if (!config_known_section(name)) {
			rc = config_fail(c, config_line_of(c, name, NULL, 0),
			    "[%s]: unknown section (expected [server], [limits], "
			    "[leases], [http] or [logging])", name);
			break;
		}
		profile_release_string(name);
		profile_release_string(value);
		name = value = NULL;
	}
	profile_release_string(name);
	profile_release_string(value);
	profile_iterator_free(&it);
	return rc;
}

/* Every key of a known section must be known, and a plain value. */
static int
config_check_keys(struct config_ctx *c, const char *section)
{
	const char *names[2] = { section, NULL };
	char list[512];
	void *it = NULL;
	char *name = NULL, *value = NULL;
	long prc;
	int pass, rc = 0;

	/* Pass 0 lists relations (key = value), pass 1 groups (key = {}). */
	for (pass = 0; pass < 2 && rc == 0; pass++) {
		prc = profile_iterator_create(c->prof, names,
		    PROFILE_ITER_LIST_SECTION | (pass == 0 ?
		    PROFILE_ITER_RELATIONS_ONLY : PROFILE_ITER_SECTIONS_ONLY),
		    &it);
		if (prc == PROF_NO_SECTION)
			return 0;
		if (prc != 0)
			return config_fail(c, 0, "%s", error_message(prc));
		for (;;) {
			if ((prc = profile_iterator(&it, &name, &value)) != 0) {
				rc = config_fail(c, 0, "%s", error_message(prc));
				break;
			}
			if (name == NULL)
				break;
			if (config_find_key(section, name) == NULL) {
				config_key_list(section, list, sizeof(list));
				rc = config_fail(c, config_line_of(c, section,
				    name, 0), "[%s] %s: unknown key (expected "
				    "one of: %s)", section, name, list);
				break;
			}
			if (pass == 1) {
				rc = config_fail(c, config_line_of(c, section,
				    name, 0), "[%s] %s = { ... }: expected a "
				    "single value, not a { } group", section,
				    name);
				break;
			}
			profile_release_string(name);
			profile_release_string(value);
			name = value = NULL;
		}
		profile_release_string(name);
		profile_release_string(value);
		name = value = NULL;
		profile_iterator_free(&it);
	}
	return rc;
}

static int
config_is_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.' && !(s[i] == '$' && i == n - 1))
			return 0;
	return 1;
}

/* "service" or "service@host". */
static int
config_is_service(const char *s)
{
	const char *at = strchr(s, '@');
	size_t i, n = strlen(s);

	if (n == 0 || n > 255 || s[0] == '@' || (at != NULL &&
	    (at[1] == '\0' || strchr(at + 1, '@') != NULL)))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.' && s[i] != '@')
			return 0;
	return 1;
}

/* A value of a repeatable key (CT_LISTEN, CT_HTTP_LISTEN, CT_NET),
 * checked and added to its list.  0, XLICEN_E_NOMEM or config_fail's. */
static int
config_append(struct config_ctx *c, struct server_config *cfg,
    const struct config_key *k, const char *v, const char *show, int line)
{
	const char **list = cfg->listen, *copy;
	int *n = &cfg->nlisten, max = SERVER_MAX_LISTEN;
	const char *what = "addresses";
	char why[96];
	struct config_net net;

	if (k->type == CT_NET) {
		if (config_parse_net(v, &net, why, sizeof(why)) != 0)
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "ADDR or ADDR/BITS (IPv4 or IPv6): %s", k->section,
			    k->key, show, why);
		list = cfg->http_allow;
		n = &cfg->nhttp_allow;
		max = LIMIT_HTTP_ALLOW;
		what = "networks";
	} else {
		if (config_check_listen(v, why, sizeof(why)) != 0)
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "ADDR:PORT or [IPV6ADDR]:PORT (PORT 0..65535): %s",
			    k->section, k->key, show, why);
		if (k->type == CT_HTTP_LISTEN) {
			list = cfg->http_listen;
			n = &cfg->nhttp_listen;
			max = LIMIT_HTTP_LISTEN;
		}
	}
	if (*n >= max)
		return config_fail(c, line, "[%s] %s: more than %d %s",
		    k->section, k->key, max, what);
	if ((copy = config_strdup(cfg, v)) == NULL)
		return XLICEN_E_NOMEM;
	list[(*n)++] = copy;
	return 0;
}

/* Parse one value of key k into cfg.  Returns 0 or an error message in
 * c (XLICEN_E_CONFIG). */
static int
config_set(struct config_ctx *c, struct server_config *cfg,
    const struct config_key *k, const char *v, int line)
{
	char *base = (char *)cfg + k->off;
	char show[PROFSCAN_SHOW_MAX + 4];
	const char *copy;
	uint32_t u;

	profscan_show(v, show, sizeof(show));
	switch (k->type) {
	case CT_LISTEN:
	case CT_HTTP_LISTEN:
	case CT_NET:
		return config_append(c, cfg, k, v, show, line);
	case CT_PATH:
		if (v[0] != '/')
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "an absolute path", k->section, k->key, show);
		break;
	case CT_NAME:
		if (!config_is_name(v))
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "a %s name (letters, digits, _ - .)", k->section,
			    k->key, show, k->key);
		break;
	case CT_SERVICE:
		if (!config_is_service(v))
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "a GSS service name, SERVICE or SERVICE@HOST",
			    k->section, k->key, show);
		break;
	case CT_LOG:
		if (strcmp(v, "stderr") == 0)
			*(int *)(void *)base = CONFIG_LOG_STDERR;
		else if (strcmp(v, "syslog") == 0)
			*(int *)(void *)base = CONFIG_LOG_SYSLOG;
		else
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "stderr or syslog", k->section, k->key, show);
		return 0;
	case CT_LEVEL:
		if ((*(int *)(void *)base = log_level_parse(v)) < 0)
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "error, warning, info or debug", k->section, k->key,
			    show);
		return 0;
	case CT_BACKEND:
		if (strcmp(v, "sqlite") == 0)
			*(int *)(void *)base = STORE_BACKEND_SQLITE;
		else if (strcmp(v, "postgresql") == 0)
			*(int *)(void *)base = STORE_BACKEND_POSTGRESQL;
		else
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "sqlite or postgresql", k->section, k->key, show);
		return 0;
	case CT_CONNINFO:
		/* libpq judges it when the server connects. */
		if (v[0] == '\0')
			return config_fail(c, line, "[%s] %s = \"\": expected a "
			    "PostgreSQL connection string", k->section, k->key);
		break;
	case CT_BOOL:
		if (strcmp(v, "true") == 0)
			*(int *)(void *)base = 1;
		else if (strcmp(v, "false") == 0)
			*(int *)(void *)base = 0;
		else
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "true or false", k->section, k->key, show);
		return 0;
	case CT_SECONDS:
	case CT_SECONDS_MS:
	case CT_COUNT:
	case CT_BYTES:
		if (config_parse_u32(v, k->min, k->max, &u) != 0)
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "a number %s%u..%u", k->section, k->key, show,
			    k->type == CT_COUNT ? "" : k->type == CT_BYTES ?
			    "of bytes " : "of seconds ", k->min, k->max);
		*(uint32_t *)(void *)base = k->type == CT_SECONDS_MS ?
		    u * 1000 : u;
		return 0;
	}
	if ((copy = config_strdup(cfg, v)) == NULL)
		return XLICEN_E_NOMEM;
	*(const char **)(void *)base = copy;
	return 0;
}

/* Read key k from the profile into cfg; *given says whether the file had
 * it. */
static int
config_load_key(struct config_ctx *c, struct server_config *cfg,
    const struct config_key *k, int *given)
{
	const char *names[3] = { k->section, k->key, NULL };
	char **vals = NULL;
	long prc;
	int i, rc = 0, first;

	*given = 0;
	prc = profile_get_values(c->prof, names, &vals);
	if (prc == PROF_NO_RELATION || prc == PROF_NO_SECTION)
		return 0;
	if (prc != 0)
		return config_fail(c, 0, "[%s] %s: %s", k->section, k->key,
		    error_message(prc));
	*given = 1;
	if (k->type == CT_LISTEN)
		cfg->nlisten = 0;
	if (k->type == CT_HTTP_LISTEN)
		cfg->nhttp_listen = 0;
	if (k->type == CT_NET)
		cfg->nhttp_allow = 0;
	for (i = 0; vals[i] != NULL; i++) {
		if (i > 0 && k->type != CT_LISTEN &&
		    k->type != CT_HTTP_LISTEN && k->type != CT_NET) {
			first = config_line_of(c, k->section, k->key, 0);
			if (first > 0)
				rc = config_fail(c, config_line_of(c, k->section,
				    k->key, i), "[%s] %s: given more than once "
				    "(first on line %d)", k->section, k->key,
				    first);
			else
				rc = config_fail(c, 0, "[%s] %s: given more "
				    "than once", k->section, k->key);
			break;
		}
		if ((rc = config_set(c, cfg, k, vals[i],
		    config_line_of(c, k->section, k->key, i))) != 0)
			break;
	}
	profile_free_list(vals);
	return rc;
}

int
config_load(const char *path, int must_exist, struct server_config *cfg,
    char *err, size_t errlen)
{
	struct config_ctx c;
	struct server_config tmp;
	struct profscan_problem pr;
	struct config_str **tail;
	const_profile_filespec_t files[2];
	char *text = NULL;
	size_t i;
	long prc;
	int rc, missing, given, ttl_given = 0, hb_given = 0, line;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.path = path;
	c.err = err;
	c.errlen = errlen;
	memset(&tmp, 0, sizeof(tmp));
	if (path == NULL || cfg == NULL)
		return XLICEN_E_INVALID;

	if ((rc = config_read_text(&c, &text, &missing)) != 0) {
		if (missing && !must_exist) {
			if (err != NULL && errlen > 0)
				err[0] = '\0';
			rc = 0;
		}
		goto out;
	}
	c.text = text;

	/* profile_init_path() would split the path at ':'; a list of one
	 * file does not.  Flags 0: no "module" directive. */
	files[0] = path;
	files[1] = NULL;
	if ((prc = profile_init_flags(files, 0, &c.prof)) != 0) {
		c.prof = NULL;
		/* Out of memory here only costs the message its line. */
		(void)profscan_syntax_error(text, LIMIT_CONFIG_LINE, &pr);
		if (pr.line > 0)
			rc = config_fail(&c, pr.line, "%s: \"%s\"",
			    error_message(prc), pr.text);
		else
			rc = config_fail(&c, 0, "%s", error_message(prc));
		goto out;
	}
	if ((rc = profscan_problem(text, LIMIT_CONFIG_LINE, 0, &pr)) != 0) {
		if (rc > 0)
			rc = config_fail(&c, pr.line, "%s", pr.why);
		goto out;
	}
	if ((rc = config_check_sections(&c)) != 0)
		goto out;
	for (i = 0; i < CONFIG_NSECTIONS; i++)
		if ((rc = config_check_keys(&c, config_sections[i])) != 0)
			goto out;

	tmp = *cfg;
	tmp.owned = NULL;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if ((rc = config_load_key(&c, &tmp, &config_keys[i], &given)) != 0)
			goto out;
		if (config_keys[i].off == CFG_OFF(lease_ttl_s))
			ttl_given = given;
		if (config_keys[i].off == CFG_OFF(heartbeat_s))
			hb_given = given;
	}
	/* A lease must survive two lost heartbeats.  (When only one of the
	 * two is in the file, main.c lowers the heartbeat instead.) */
	if (ttl_given && hb_given && tmp.heartbeat_s > tmp.lease_ttl_s / 3) {
		line = config_line_of(&c, "leases", "heartbeat", 0);
		rc = config_fail(&c, line, "[leases] heartbeat = \"%u\": expected "
		    "at most a third of [leases] ttl (%u s), i.e. %u",
		    tmp.heartbeat_s, tmp.lease_ttl_s, tmp.lease_ttl_s / 3);
		goto out;
	}

	if (tmp.store_backend == STORE_BACKEND_POSTGRESQL &&
	    tmp.store_conninfo == NULL) {
		line = config_line_of(&c, "store", "backend", 0);
		rc = config_fail(&c, line, "[store] backend = \"postgresql\": "
		    "expected a [store] conninfo too");
		goto out;
	}

	/* Hand the new strings over; cfg keeps the ones it had. */
	for (tail = &tmp.owned; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = cfg->owned;
	*cfg = tmp;
	tmp.owned = NULL;
	rc = 0;
out:
	config_free(&tmp);
	if (c.prof != NULL)
		profile_release(c.prof);
	free(text);
	return rc;
}
