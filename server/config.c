/*
 * gss-xlicend.conf: read with the krb5 profile library (the parser of
 * krb5.conf and kdc.conf), so a Kerberos administrator meets one format
 * and we keep no parser of our own for values.
 *
 * The profile library is lenient where a server must not be: it ignores
 * relations before the first [section], takes "key =" at the end of the
 * file as an empty group, merges repeated sections and keys silently, and
 * reports syntax errors without a line number.  So besides asking the
 * library for values we scan the text ourselves, only to classify lines:
 * that gives the line of each section and key for messages, the line of a
 * syntax error, and the structural problems the library lets pass.
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
#include "limits.h"
#include "xlicen_errors.h"

/* Bigger than any sane configuration; a bound on what we read. */
#define CONFIG_MAX_BYTES	(1024 * 1024)
/* Longest line the scanner classifies; longer ones are refused. */
#define CONFIG_LINE_MAX		4096
/* Longest section or key name we remember (longer ones are unknown). */
#define CONFIG_NAME_MAX		128
/* How much of a bad value an error message quotes. */
#define CONFIG_SHOW_MAX		100

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
	{ "leases", "ttl", CT_SECONDS, CONFIG_TTL_MIN_S, CONFIG_TTL_MAX_S,
	    CFG_OFF(lease_ttl_s) },
	{ "leases", "heartbeat", CT_SECONDS, 1, CONFIG_HEARTBEAT_MAX_S,
	    CFG_OFF(heartbeat_s) },
	{ "leases", "orphan_grace", CT_SECONDS, 0, CONFIG_ORPHAN_GRACE_MAX_S,
	    CFG_OFF(orphan_grace_s) },
};
#define CONFIG_NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))

static const char *const config_sections[] = { "server", "limits", "leases" };
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
	cfg->conn_total = LIMIT_CONN_TOTAL;
	cfg->conn_per_peer = LIMIT_CONN_PER_PEER;
	cfg->frame_postauth = LIMIT_FRAME_POSTAUTH;
	cfg->conn_unauth = LIMIT_CONN_UNAUTH;
	cfg->conn_unauth_per_peer = LIMIT_CONN_UNAUTH_PER_PEER;
	cfg->frame_budget = LIMIT_FRAME_BUDGET;
	cfg->queue_per_principal = LIMIT_QUEUE_PER_PRINCIPAL;
	cfg->log_target = CONFIG_LOG_DEFAULT;
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

static void
config_why(char *why, size_t whylen, const char *text)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", text);
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

	config_why(why, whylen, "");
	if (spec == NULL || spec[0] == '\0') {
		config_why(why, whylen, "empty");
		return XLICEN_E_CONFIG;
	}
	if (spec[0] == '[') {
		if ((close = strchr(spec, ']')) == NULL) {
			config_why(why, whylen, "no closing ]");
			return XLICEN_E_CONFIG;
		}
		n = (size_t)(close - spec - 1);
		if (n == 0 || n >= sizeof(host)) {
			config_why(why, whylen, "not an IPv6 address");
			return XLICEN_E_CONFIG;
		}
		memcpy(host, spec + 1, n);
		host[n] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1) {
			config_why(why, whylen, "not an IPv6 address");
			return XLICEN_E_CONFIG;
		}
		if (close[1] != ':') {
			config_why(why, whylen, "no port");
			return XLICEN_E_CONFIG;
		}
		port = close + 2;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL) {
			config_why(why, whylen, "no port");
			return XLICEN_E_CONFIG;
		}
		n = (size_t)(colon - spec);
		if (memchr(spec, ':', n) != NULL) {
			config_why(why, whylen, "an IPv6 address needs brackets, "
			    "[ADDR]:PORT");
			return XLICEN_E_CONFIG;
		}
		if (n == 0) {
			config_why(why, whylen, "no address (0.0.0.0 or [::] for "
			    "all)");
			return XLICEN_E_CONFIG;
		}
		for (i = 0; i < n; i++)
			if (!isdigit((unsigned char)spec[i]) && spec[i] != '.')
				digits_and_dots = 0;
		if (digits_and_dots) {
			if (n >= sizeof(host)) {
				config_why(why, whylen, "not an IPv4 address");
				return XLICEN_E_CONFIG;
			}
			memcpy(host, spec, n);
			host[n] = '\0';
			if (inet_pton(AF_INET, host, addr) != 1) {
				config_why(why, whylen, "not an IPv4 address");
				return XLICEN_E_CONFIG;
			}
		} else if (!config_is_hostname(spec, n)) {
			config_why(why, whylen, "not an address or host name");
			return XLICEN_E_CONFIG;
		}
		port = colon + 1;
	}
	if (config_parse_u32(port, 0, 65535, &p) != 0) {
		config_why(why, whylen, "the port is not a number 0..65535");
		return XLICEN_E_CONFIG;
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
	va_list ap;
	size_t n;
	int k;

	if (c->err == NULL || c->errlen == 0)
		return XLICEN_E_CONFIG;
	if (line > 0)
		k = snprintf(c->err, c->errlen, "%s:%d: ", c->path, line);
	else
		k = snprintf(c->err, c->errlen, "%s: ", c->path);
	n = k < 0 ? 0 : (size_t)k;
	if (n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	return XLICEN_E_CONFIG;
}

/* A value as quoted in a message: bounded, control bytes as '?'. */
static void
config_show(const char *v, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; v[i] != '\0' && i + 1 < outlen && i < CONFIG_SHOW_MAX; i++)
		out[i] = ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) ? '?' : v[i];
	out[i] = '\0';
	if (v[i] != '\0' && i >= 3)
		memcpy(out + i - 3, "...", 3);
}

/* ---- the line scanner ---- */

enum scan_kind {
	SCAN_BLANK,		/* empty or comment */
	SCAN_SECTION,		/* [name] */
	SCAN_RELATION,		/* key = value */
	SCAN_GROUP,		/* key = {  (opens a group) */
	SCAN_CLOSE,		/* } */
	SCAN_DIRECTIVE,		/* include / includedir / module */
	SCAN_BAD,		/* the profile library refuses it */
};

struct scan_line {
	int lineno;
	enum scan_kind kind;
	int level;		/* group depth before the line */
	const char *section;	/* current top-level section, "" none */
	const char *key;	/* relation or group name */
	int empty_value;	/* "key =" with nothing after it */
	const char *why;	/* SCAN_BAD: what is wrong */
	const char *text;	/* the line, leading blanks skipped */
};

/* Called for each line; a non-zero return stops the scan and is passed
 * back. */
typedef int (*scan_fn)(const struct scan_line *l, void *arg);

static char *
scan_skip_blanks(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static void
scan_trim_end(char *p)
{
	size_t n = strlen(p);

	while (n > 0 && isspace((unsigned char)p[n - 1]))
		p[--n] = '\0';
}

static int
scan_is_directive(const char *line)
{
	static const char *const words[] = { "include", "includedir", "module" };
	size_t i, n;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		n = strlen(words[i]);
		if (strncmp(line, words[i], n) == 0 &&
		    (line[n] == ' ' || line[n] == '\t'))
			return 1;
	}
	return 0;
}

/* Classify one line (modified in place) the way the profile parser of
 * MIT krb5 1.20 reads it. */
static void
scan_classify(char *buf, struct scan_line *l, int *level, char *section,
    char *key)
{
	char *cp, *p, *eq, *val;

	l->kind = SCAN_BLANK;
	l->level = *level;
	l->key = "";
	l->empty_value = 0;
	l->why = "";
	if (scan_is_directive(buf)) {
		l->kind = SCAN_DIRECTIVE;
		l->text = buf;
		return;
	}
	scan_trim_end(buf);
	cp = scan_skip_blanks(buf);
	l->text = cp;
	if (*cp == '\0' || *cp == '#' || *cp == ';')
		return;
	if (*cp == '[') {
		l->kind = SCAN_BAD;
		if (*level > 0) {
			l->why = "a [section] header inside a { } group";
			return;
		}
		if ((p = strchr(cp, ']')) == NULL) {
			l->why = "no closing ] in the section header";
			return;
		}
		val = p + 1;
		if (*val == '*')
			val++;
		if (*scan_skip_blanks(val) != '\0') {
			l->why = "text after the section header";
			return;
		}
		/* The library keeps blanks inside the brackets as part of
		 * the name ("[ server ]" is section " server "): so do we,
		 * or the line of such a section is not found. */
		cp++;
		if (p == cp) {
			l->why = "an empty section name";
			return;
		}
		snprintf(section, CONFIG_NAME_MAX, "%.*s", (int)(p - cp), cp);
		l->kind = SCAN_SECTION;
		return;
	}
	if (*cp == '}') {
		if (*level == 0) {
			l->kind = SCAN_BAD;
			l->why = "a } without a {";
			return;
		}
		(*level)--;
		l->kind = SCAN_CLOSE;
		return;
	}
	l->kind = SCAN_BAD;
	if ((eq = strchr(cp, '=')) == NULL || eq == cp) {
		l->why = "expected KEY = VALUE";
		return;
	}
	/* The key is one word; the library refuses blanks inside it. */
	p = cp;
	while (p < eq && *p != ' ' && *p != '\t')
		p++;
	snprintf(key, CONFIG_NAME_MAX, "%.*s", (int)(p - cp), cp);
	l->key = key;
	while (p < eq && (*p == ' ' || *p == '\t'))
		p++;
	if (p != eq) {
		l->why = "a blank inside the key";
		return;
	}
	val = scan_skip_blanks(eq + 1);
	if (*val == '\0') {
		l->empty_value = 1;
		l->kind = SCAN_RELATION;
		return;
	}
	if (*val == '{') {
		if (*scan_skip_blanks(val + 1) != '\0') {
			l->why = "text after {";
			return;
		}
		(*level)++;
		l->kind = SCAN_GROUP;
		return;
	}
	l->kind = SCAN_RELATION;
}

/* Run fn over every line of text.  At the end, an unclosed group is
 * reported as a SCAN_BAD pseudo-line at the line that opened it. */
static int
scan_text(const char *text, scan_fn fn, void *arg)
{
	char buf[CONFIG_LINE_MAX + 1], section[CONFIG_NAME_MAX] = "";
	char key[CONFIG_NAME_MAX];
	const char *p = text, *nl;
	struct scan_line l;
	size_t n;
	int level = 0, lineno = 0, open_line = 0, rc;

	while (*p != '\0') {
		lineno++;
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		memset(&l, 0, sizeof(l));
		l.lineno = lineno;
		if (n > CONFIG_LINE_MAX) {
			l.kind = SCAN_BAD;
			l.level = level;
			l.why = "line too long";
			l.section = section;
			l.key = "";
			l.text = "";
		} else {
			memcpy(buf, p, n);
			buf[n] = '\0';
			scan_classify(buf, &l, &level, section, key);
			l.section = section;
			if (l.kind == SCAN_GROUP && l.level == 0)
				open_line = lineno;
		}
		if ((rc = fn(&l, arg)) != 0)
			return rc;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (level > 0) {
		memset(&l, 0, sizeof(l));
		l.lineno = open_line;
		l.kind = SCAN_BAD;
		l.section = section;
		l.key = "";
		l.text = "";
		l.why = "a { that is never closed";
		return fn(&l, arg);
	}
	return 0;
}

/* Find the first problem: a line the library refuses, or one it would
 * silently drop or misread. */
struct scan_problem {
	int hard_only;		/* only what the library itself refuses */
	int line;
	char why[160];
	char text[CONFIG_SHOW_MAX + 4];
};

static int
scan_problem_fn(const struct scan_line *l, void *arg)
{
	struct scan_problem *pr = arg;

	switch (l->kind) {
	case SCAN_BAD:
		snprintf(pr->why, sizeof(pr->why), "%s", l->why);
		break;
	case SCAN_DIRECTIVE:
		snprintf(pr->why, sizeof(pr->why), "include, includedir and "
		    "module are not supported here");
		break;
	case SCAN_RELATION:
	case SCAN_GROUP:
		if (!pr->hard_only && l->level == 0 && l->section[0] == '\0') {
			snprintf(pr->why, sizeof(pr->why), "\"%s\" comes "
			    "before any [section] header", l->key);
			break;
		}
		if (l->empty_value) {
			snprintf(pr->why, sizeof(pr->why), "[%s] %s: no value "
			    "after \"=\" (the value must be on the same line)",
			    l->section, l->key);
			break;
		}
		return 0;
	default:
		return 0;
	}
	pr->line = l->lineno;
	config_show(l->text, pr->text, sizeof(pr->text));
	return 1;
}

struct scan_find {
	const char *section;	/* NULL: find the section header itself */
	const char *key;
	int nth;		/* 0: first occurrence */
	int line;
};

static int
scan_find_fn(const struct scan_line *l, void *arg)
{
	struct scan_find *f = arg;

	if (f->key == NULL) {
		if (l->kind == SCAN_SECTION && strcmp(l->section, f->section) == 0) {
			f->line = l->lineno;
			return 1;
		}
		return 0;
	}
	if ((l->kind == SCAN_RELATION || l->kind == SCAN_GROUP) &&
	    l->level == 0 && strcmp(l->section, f->section) == 0 &&
	    strcmp(l->key, f->key) == 0 && f->nth-- == 0) {
		f->line = l->lineno;
		return 1;
	}
	return 0;
}

/* Line of the nth "key =" in [section], or of "[section]" if key is NULL;
 * 0 if not found (e.g. the text came from an included file). */
static int
config_line_of(struct config_ctx *c, const char *section, const char *key,
    int nth)
{
	struct scan_find f;

	f.section = section;
	f.key = key;
	f.nth = nth;
	f.line = 0;
	(void)scan_text(c->text, scan_find_fn, &f);
	return f.line;
}

/* ---- reading ---- */

/* The whole file, NUL-terminated.  *missing is set when it does not
 * exist. */
static int
config_read_text(struct config_ctx *c, char **out, int *missing)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n;
	int rc = XLICEN_E_CONFIG;

	*out = NULL;
	*missing = 0;
	if ((f = fopen(c->path, "re")) == NULL) {
		*missing = errno == ENOENT;
		config_fail(c, 0, "%s", strerror(errno));
		goto out;
	}
	if ((buf = malloc(CONFIG_MAX_BYTES + 1)) == NULL) {
		rc = XLICEN_E_NOMEM;
		config_fail(c, 0, "out of memory");
		goto out;
	}
	n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	if (ferror(f)) {
		config_fail(c, 0, "%s", strerror(errno));
		goto out;
	}
	if (n > CONFIG_MAX_BYTES) {
		config_fail(c, 0, "larger than %d bytes", CONFIG_MAX_BYTES);
		goto out;
	}
	if (memchr(buf, '\0', n) != NULL) {
		config_fail(c, 0, "contains a NUL byte: not a text file");
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
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
			    "[%s]: unknown section (expected [server], [limits] "
			    "or [leases])", name);
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

/* Parse one value of key k into cfg.  Returns 0 or an error message in
 * c (XLICEN_E_CONFIG). */
static int
config_set(struct config_ctx *c, struct server_config *cfg,
    const struct config_key *k, const char *v, int line)
{
	char *base = (char *)cfg + k->off;
	char show[CONFIG_SHOW_MAX + 4], why[96];
	const char *copy;
	uint32_t u;

	config_show(v, show, sizeof(show));
	switch (k->type) {
	case CT_LISTEN:
		if (config_check_listen(v, why, sizeof(why)) != 0)
			return config_fail(c, line, "[%s] %s = \"%s\": expected "
			    "ADDR:PORT or [IPV6ADDR]:PORT (PORT 0..65535): %s",
			    k->section, k->key, show, why);
		if (cfg->nlisten >= SERVER_MAX_LISTEN)
			return config_fail(c, line, "[%s] %s: more than %d "
			    "addresses", k->section, k->key, SERVER_MAX_LISTEN);
		if ((copy = config_strdup(cfg, v)) == NULL)
			return XLICEN_E_NOMEM;
		cfg->listen[cfg->nlisten++] = copy;
		return 0;
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
	for (i = 0; vals[i] != NULL; i++) {
		if (i > 0 && k->type != CT_LISTEN) {
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
	struct scan_problem pr;
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
	memset(&pr, 0, sizeof(pr));
	if ((prc = profile_init_flags(files, 0, &c.prof)) != 0) {
		c.prof = NULL;
		pr.hard_only = 1;
		if (scan_text(text, scan_problem_fn, &pr) == 0) {
			pr.hard_only = 0;
			(void)scan_text(text, scan_problem_fn, &pr);
		}
		if (pr.line > 0)
			rc = config_fail(&c, pr.line, "%s: \"%s\"",
			    error_message(prc), pr.text);
		else
			rc = config_fail(&c, 0, "%s", error_message(prc));
		goto out;
	}
	if (scan_text(text, scan_problem_fn, &pr) != 0) {
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
