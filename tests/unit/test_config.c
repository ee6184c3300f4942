/*
 * Unit tests for server/config.c: a file with every key, the defaults,
 * and each kind of bad file.  Failures assert the exact code
 * (XLICEN_E_CONFIG) and the exact message, which must name the file, the
 * line, the section and the key.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "limits.h"
#include "xlicen_errors.h"

#define TEST_PATH_MAX 4096

static char tmpdir[1024];

static int
setup_tmp(void **state)
{
	const char *base = getenv("XLICEN_TEST_TMP");

	(void)state;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (mkdir(base, 0700) == -1 && errno != EEXIST)
		return -1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_config.XXXXXX", base);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmp(void **state)
{
	char cmd[TEST_PATH_MAX];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
tpath(const char *name)
{
	static char p[TEST_PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

/* Write text to NAME in the test directory; returns its path. */
static const char *
put(const char *name, const char *text)
{
	const char *path = tpath(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

/*
 * Load text as a config file and expect it to fail with XLICEN_E_CONFIG
 * and the message "<path>:<tail>"; cfg must come back unchanged.
 */
static void
expect_bad(const char *text, const char *tail)
{
	struct server_config cfg;
	char err[1024], want[TEST_PATH_MAX + 512];
	const char *path = put("bad.conf", text);

	config_defaults(&cfg);
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	snprintf(want, sizeof(want), "%s:%s", path, tail);
	assert_string_equal(err, want);
	/* Nothing of the bad file leaked into cfg. */
	assert_null(cfg.owned);
	assert_int_equal(cfg.lease_ttl_s, LIMIT_LEASE_TTL_S);
	assert_int_equal(cfg.nlisten, 0);
	assert_string_equal(cfg.database, CONFIG_DEFAULT_DATABASE);
	config_free(&cfg);
}

/* [logging] (issue 15): the three keys, the level by name, the bounds. */
static void
test_logging(void **state)
{
	struct server_config cfg;
	char err[1024];
	const char *path;

	(void)state;
	config_defaults(&cfg);
	assert_null(cfg.log_file);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.log_fold_s, LIMIT_LOG_FOLD_S);
	path = put("log.conf", "[logging]\n\tfile = /var/log/x.log\n"
	    "\tlevel = debug\n\trepeat_interval = 0\n");
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.log_file, "/var/log/x.log");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(cfg.log_fold_s, 0);
	config_free(&cfg);
	path = put("log.conf", "[logging]\n\tlevel = warning\n");
	config_defaults(&cfg);
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.log_level, LOG_WARNING);
	config_free(&cfg);

	expect_bad("[logging]\n\tlevel = notice\n",
	    "2: [logging] level = \"notice\": expected error, warning, info "
	    "or debug");
	expect_bad("[logging]\n\tfile = x.log\n",
	    "2: [logging] file = \"x.log\": expected an absolute path");
	expect_bad("[logging]\n\trepeat_interval = 3601\n",
	    "2: [logging] repeat_interval = \"3601\": expected a number of "
	    "seconds 0..3600");
	expect_bad("[logging]\n\tsyslog = yes\n",
	    "2: [logging] syslog: unknown key (expected one of: file, level, "
	    "repeat_interval)");
}

static void
test_defaults(void **state)
{
	struct server_config cfg;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.nlisten, 0);
	assert_null(cfg.keytab);
	assert_null(cfg.service);
	assert_null(cfg.user);
	assert_null(cfg.group);
	assert_string_equal(cfg.database, "/var/lib/gss-xlicen/xlicen.db");
	assert_string_equal(cfg.licdir, "/etc/gss-xlicen/licenses");
	assert_string_equal(cfg.keydir, "/etc/gss-xlicen/vendor-keys");
	assert_string_equal(cfg.pid_file, "/run/gss-xlicend.pid");
	assert_int_equal(cfg.log_target, CONFIG_LOG_DEFAULT);
	assert_int_equal(cfg.lease_ttl_s, LIMIT_LEASE_TTL_S);
	assert_int_equal(cfg.heartbeat_s, LIMIT_HEARTBEAT_S);
	assert_int_equal(cfg.orphan_grace_s, LIMIT_ORPHAN_GRACE_S);
	assert_int_equal(cfg.handshake_ms, LIMIT_HANDSHAKE_MS);
	assert_int_equal(cfg.idle_ms, LIMIT_IDLE_MS);
	/* Not configured: fitted to the open-files limit at start. */
	assert_int_equal(cfg.conn_total, 0);
	assert_int_equal(cfg.conn_per_peer, LIMIT_CONN_PER_PEER);
	assert_int_equal(cfg.frame_postauth, LIMIT_FRAME_POSTAUTH);
	assert_int_equal(cfg.conn_unauth, LIMIT_CONN_UNAUTH);
	assert_int_equal(cfg.conn_unauth_per_peer, LIMIT_CONN_UNAUTH_PER_PEER);
	assert_int_equal(cfg.frame_budget, LIMIT_FRAME_BUDGET);
	assert_int_equal(cfg.verify_host, 0);
	assert_int_equal(cfg.queue_per_principal, LIMIT_QUEUE_PER_PRINCIPAL);
	config_free(&cfg);
}

static void
test_every_key(void **state)
{
	struct server_config cfg;
	char err[1024] = "untouched";
	const char *path;

	(void)state;
	path = put("good.conf",
	    "# gss-xlicend.conf with every key\n"
	    "; a comment in the other style\n"
	    "\n"
	    "[server]\n"
	    "\tlisten = 127.0.0.1:1128\n"
	    "\tlisten = [::1]:1128\n"
	    "\tlisten = localhost:0\n"
	    "\tkeytab = /etc/gss-xlicen/gss-xlicen.keytab\n"
	    "\tservice = gss-xlicen@license.example.org\n"
	    "\tdatabase = \"/var/lib/gss xlicen/x.db\"\n"
	    "\tlicenses = /srv/lic\n"
	    "\tvendor_keys = /srv/keys\n"
	    "\tuser = xlicen\n"
	    "\tgroup = xlicen-grp\n"
	    "\tpid_file = /run/x.pid\n"
	    "\tlog = syslog\n"
	    "\tverify_host = true\n"
	    "[limits]\n"
	    "\thandshake_timeout = 5\n"
	    "\tidle_timeout = 300\n"
	    "\tmax_connections = 500\n"
	    "\tmax_connections_per_peer = 20\n"
	    "\tmax_frame = 65536\n"
	    "\tmax_unauthenticated = 300\n"
	    "\tmax_unauthenticated_per_peer = 7\n"
	    "\tpartial_frame_budget = 1048576\n"
	    "\tmax_queued_per_principal = 1000\n"
	    "[leases]\n"
	    "\tttl = 2592000\n"
	    "\theartbeat = 60\n"
	    "\torphan_grace = 0\n");
	config_defaults(&cfg);
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.nlisten, 3);
	assert_string_equal(cfg.listen[0], "127.0.0.1:1128");
	assert_string_equal(cfg.listen[1], "[::1]:1128");
	assert_string_equal(cfg.listen[2], "localhost:0");
	assert_string_equal(cfg.keytab, "/etc/gss-xlicen/gss-xlicen.keytab");
	assert_string_equal(cfg.service, "gss-xlicen@license.example.org");
	assert_string_equal(cfg.database, "/var/lib/gss xlicen/x.db");
	assert_string_equal(cfg.licdir, "/srv/lic");
	assert_string_equal(cfg.keydir, "/srv/keys");
	assert_string_equal(cfg.user, "xlicen");
	assert_string_equal(cfg.group, "xlicen-grp");
	assert_string_equal(cfg.pid_file, "/run/x.pid");
	assert_int_equal(cfg.log_target, CONFIG_LOG_SYSLOG);
	assert_int_equal(cfg.handshake_ms, 5000);
	assert_int_equal(cfg.idle_ms, 300000);
	assert_int_equal(cfg.conn_total, 500);
	assert_int_equal(cfg.conn_per_peer, 20);
	assert_int_equal(cfg.frame_postauth, 65536);
	assert_int_equal(cfg.conn_unauth, 300);
	assert_int_equal(cfg.conn_unauth_per_peer, 7);
	assert_int_equal(cfg.frame_budget, 1048576);
	assert_int_equal(cfg.verify_host, 1);
	assert_int_equal(cfg.queue_per_principal, 1000);
	assert_int_equal(cfg.lease_ttl_s, 2592000);
	assert_int_equal(cfg.heartbeat_s, 60);
	assert_int_equal(cfg.orphan_grace_s, 0);
	config_free(&cfg);
	assert_null(cfg.owned);
}

/* A file that sets a few keys leaves the rest; log = stderr; repeated
 * sections merge; a second load replaces listen. */
static void
test_partial_and_reload(void **state)
{
	struct server_config cfg;
	char err[1024];
	const char *path;

	(void)state;
	config_defaults(&cfg);
	path = put("a.conf", "[server]\nlisten = 0.0.0.0:1\nlog = stderr\n"
	    "[leases]\nttl = 300\n[server]\nlisten = 0.0.0.0:2\n");
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nlisten, 2);
	assert_string_equal(cfg.listen[0], "0.0.0.0:1");
	assert_string_equal(cfg.listen[1], "0.0.0.0:2");
	assert_int_equal(cfg.log_target, CONFIG_LOG_STDERR);
	assert_int_equal(cfg.lease_ttl_s, 300);
	assert_int_equal(cfg.heartbeat_s, LIMIT_HEARTBEAT_S);
	assert_string_equal(cfg.database, CONFIG_DEFAULT_DATABASE);

	path = put("b.conf", "[server]\nlisten = 10.0.0.1:128\n");
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nlisten, 1);
	assert_string_equal(cfg.listen[0], "10.0.0.1:128");
	/* Earlier strings stay valid until config_free. */
	assert_int_equal(cfg.lease_ttl_s, 300);
	config_free(&cfg);
}

static void
test_missing_file(void **state)
{
	struct server_config cfg;
	char err[1024] = "untouched", want[TEST_PATH_MAX + 64];
	const char *path = tpath("does-not-exist.conf");

	(void)state;
	config_defaults(&cfg);
	/* The default file may be absent: defaults apply, no message. */
	assert_int_equal(config_load(path, 0, &cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_null(cfg.owned);
	assert_int_equal(cfg.lease_ttl_s, LIMIT_LEASE_TTL_S);
	/* A file named with --config must exist. */
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
}

static void
test_empty_file(void **state)
{
	struct server_config cfg;
	char err[64];
	const char *path = put("empty.conf", "");

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nlisten, 0);
	config_free(&cfg);
}

static void
test_unknown_section(void **state)
{
	(void)state;
	expect_bad("[server]\nuser = x\n\n[serverr]\nlisten = 1.2.3.4:1\n",
	    "4: [serverr]: unknown section (expected [server], [limits], "
	    "[leases], [http] or [logging])");
}

static void
test_unknown_key(void **state)
{
	(void)state;
	expect_bad("[leases]\nttl = 60\n[server]\n\tkeytab = /k\n\tlisen = "
	    "0.0.0.0:128\n",
	    "5: [server] lisen: unknown key (expected one of: listen, keytab, "
	    "service, database, licenses, vendor_keys, user, group, pid_file, "
	    "log, policy, verify_host, borrow_key)");
	/* A key of another section is unknown in this one. */
	expect_bad("[limits]\nttl = 60\n",
	    "2: [limits] ttl: unknown key (expected one of: handshake_timeout, "
	    "idle_timeout, max_connections, max_connections_per_peer, "
	    "max_frame, max_unauthenticated, max_unauthenticated_per_peer, "
	    "partial_frame_budget, max_queued_per_principal)");
}

static void
test_bad_number(void **state)
{
	(void)state;
	expect_bad("[server]\nlog = stderr\n[leases]\n\tttl = abc\n",
	    "4: [leases] ttl = \"abc\": expected a number of seconds "
	    "2..2592000");
	expect_bad("[limits]\nmax_connections = -5\n",
	    "2: [limits] max_connections = \"-5\": expected a number "
	    "1..1000000");
	expect_bad("[limits]\nmax_frame = 64k\n",
	    "2: [limits] max_frame = \"64k\": expected a number of bytes "
	    "4096..16777216");
	expect_bad("[server]\nverify_host = yes\n",
	    "2: [server] verify_host = \"yes\": expected true or false");
	expect_bad("[limits]\nmax_queued_per_principal = 0\n",
	    "2: [limits] max_queued_per_principal = \"0\": expected a number "
	    "1..1000");
	expect_bad("[limits]\nidle_timeout = 99999999999999999999\n",
	    "2: [limits] idle_timeout = \"99999999999999999999\": expected a "
	    "number of seconds 1..86400");
}

static void
test_out_of_range(void **state)
{
	(void)state;
	expect_bad("[leases]\nttl = 1\n",
	    "2: [leases] ttl = \"1\": expected a number of seconds 2..2592000");
	expect_bad("[leases]\nttl = 2592001\n",
	    "2: [leases] ttl = \"2592001\": expected a number of seconds "
	    "2..2592000");
	expect_bad("[limits]\nmax_connections_per_peer = 0\n",
	    "2: [limits] max_connections_per_peer = \"0\": expected a number "
	    "1..1000000");
	expect_bad("[leases]\norphan_grace = 86401\n",
	    "2: [leases] orphan_grace = \"86401\": expected a number of "
	    "seconds 0..86400");
	expect_bad("[limits]\nhandshake_timeout = 301\n",
	    "2: [limits] handshake_timeout = \"301\": expected a number of "
	    "seconds 1..300");
	/* Both given: the heartbeat must fit three times into the TTL. */
	expect_bad("[leases]\nttl = 30\nheartbeat = 11\n",
	    "3: [leases] heartbeat = \"11\": expected at most a third of "
	    "[leases] ttl (30 s), i.e. 10");
}

static void
test_bad_listen(void **state)
{
	(void)state;
	expect_bad("[server]\nlisten = 127.0.0.1:128\nlisten = 127.0.0.1\n",
	    "3: [server] listen = \"127.0.0.1\": expected ADDR:PORT or "
	    "[IPV6ADDR]:PORT (PORT 0..65535): no port");
	expect_bad("[server]\nlisten = ::1:128\n",
	    "2: [server] listen = \"::1:128\": expected ADDR:PORT or "
	    "[IPV6ADDR]:PORT (PORT 0..65535): an IPv6 address needs brackets, "
	    "[ADDR]:PORT");
	expect_bad("[server]\nlisten = 1.2.3.256:128\n",
	    "2: [server] listen = \"1.2.3.256:128\": expected ADDR:PORT or "
	    "[IPV6ADDR]:PORT (PORT 0..65535): not an IPv4 address");
	expect_bad("[server]\nlisten = [::1]:65536\n",
	    "2: [server] listen = \"[::1]:65536\": expected ADDR:PORT or "
	    "[IPV6ADDR]:PORT (PORT 0..65535): the port is not a number "
	    "0..65535");
	expect_bad("[server]\nlisten = [::1:128\n",
	    "2: [server] listen = \"[::1:128\": expected ADDR:PORT or "
	    "[IPV6ADDR]:PORT (PORT 0..65535): no closing ]");
}

static void
test_listen_check(void **state)
{
	char why[128];

	(void)state;
	assert_int_equal(config_check_listen("0.0.0.0:128", why, sizeof(why)),
	    0);
	assert_string_equal(why, "");
	assert_int_equal(config_check_listen("[::]:0", why, sizeof(why)), 0);
	assert_int_equal(config_check_listen("localhost:65535", why,
	    sizeof(why)), 0);
	assert_int_equal(config_check_listen(":128", why, sizeof(why)),
	    XLICEN_E_CONFIG);
	assert_string_equal(why, "no address (0.0.0.0 or [::] for all)");
	assert_int_equal(config_check_listen("128", why, sizeof(why)),
	    XLICEN_E_CONFIG);
	assert_string_equal(why, "no port");
	assert_int_equal(config_check_listen("host_x:1", why, sizeof(why)),
	    XLICEN_E_CONFIG);
	assert_string_equal(why, "not an address or host name");
	assert_int_equal(config_check_listen("[nothex]:1", why, sizeof(why)),
	    XLICEN_E_CONFIG);
	assert_string_equal(why, "not an IPv6 address");
	assert_int_equal(config_check_listen("1.2.3.4:+1", why, sizeof(why)),
	    XLICEN_E_CONFIG);
	assert_int_equal(config_check_listen("", why, sizeof(why)),
	    XLICEN_E_CONFIG);
	/* Longer than any IPv6 or IPv4 address; brackets without a port;
	 * a host name with a bad character after the first. */
	assert_int_equal(config_check_listen("[0000:0000:0000:0000:0000:0000:"
	    "0000:0000:0000:0000:0000]:1", why, sizeof(why)), XLICEN_E_CONFIG);
	assert_string_equal(why, "not an IPv6 address");
	assert_int_equal(config_check_listen("[::1]", why, sizeof(why)),
	    XLICEN_E_CONFIG);
	assert_string_equal(why, "no port");
	assert_int_equal(config_check_listen("1111111111.2222222222.3333333333."
	    "4444444444.5555555555:1", why, sizeof(why)), XLICEN_E_CONFIG);
	assert_string_equal(why, "not an IPv4 address");
	assert_int_equal(config_check_listen("a*b:1", why, sizeof(why)),
	    XLICEN_E_CONFIG);
	assert_string_equal(why, "not an address or host name");
	assert_int_equal(config_check_listen("-ab:1", why, sizeof(why)),
	    XLICEN_E_CONFIG);
	assert_string_equal(why, "not an address or host name");
}

static void
test_duplicate_key(void **state)
{
	(void)state;
	expect_bad("[server]\n\tdatabase = /a.db\n\tuser = x\n\tdatabase = "
	    "/b.db\n",
	    "4: [server] database: given more than once (first on line 2)");
	/* Also across two [leases] sections, which profile merges. */
	expect_bad("[leases]\nttl = 60\n[server]\nuser = x\n[leases]\nttl = "
	    "90\n",
	    "6: [leases] ttl: given more than once (first on line 2)");
}

static void
test_syntax_error(void **state)
{
	(void)state;
	expect_bad("# ok\n[server]\n\tuser = x\n\tkeytab /etc/k\n",
	    "4: Syntax error in profile relation: \"keytab /etc/k\"");
	expect_bad("[server]\nuser = x\n[limits\n",
	    "3: Syntax error in profile section header: \"[limits\"");
	expect_bad("[server]\nuser = x\n}\n",
	    "3: Extra closing brace in profile: \"}\"");
}

/* What the profile library lets pass but would misread. */
static void
test_structure(void **state)
{
	(void)state;
	expect_bad("user = x\n[server]\n",
	    "1: \"user\" comes before any [section] header");
	expect_bad("[server]\nkeytab =\n",
	    "2: [server] keytab: no value after \"=\" (the value must be on the "
	    "same line)");
	expect_bad("[server]\nkeytab = {\n\tfile = /k\n}\n",
	    "2: [server] keytab = { ... }: expected a single value, not a { } "
	    "group");
	expect_bad("[server]\nuser = x\nkeytab = {\n",
	    "3: a { that is never closed");
	expect_bad("[server]\ninclude /etc/krb5.conf\n",
	    "2: include, includedir and module are not supported here");
}

static void
test_bad_strings(void **state)
{
	(void)state;
	expect_bad("[server]\ndatabase = var/db\n",
	    "2: [server] database = \"var/db\": expected an absolute path");
	expect_bad("[server]\nkeytab = \"\"\n",
	    "2: [server] keytab = \"\": expected an absolute path");
	expect_bad("[server]\nuser = \"a b\"\n",
	    "2: [server] user = \"a b\": expected a user name (letters, "
	    "digits, _ - .)");
	expect_bad("[server]\nservice = gss-xlicen@\n",
	    "2: [server] service = \"gss-xlicen@\": expected a GSS service "
	    "name, SERVICE or SERVICE@HOST");
	expect_bad("[server]\nlog = journal\n",
	    "2: [server] log = \"journal\": expected stderr or syslog");
	expect_bad("[server]\nuser = -x\n",
	    "2: [server] user = \"-x\": expected a user name (letters, "
	    "digits, _ - .)");
	expect_bad("[server]\nservice = gss/xlicen\n",
	    "2: [server] service = \"gss/xlicen\": expected a GSS service "
	    "name, SERVICE or SERVICE@HOST");
}

static void
test_parse_u32(void **state)
{
	uint32_t v = 7;

	(void)state;
	assert_int_equal(config_parse_u32("4294967295", 0, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(config_parse_u32("4294967296", 0, UINT32_MAX, &v),
	    XLICEN_E_CONFIG);
	assert_int_equal(v, 0);
	assert_int_equal(config_parse_u32(" 1", 0, 9, &v), XLICEN_E_CONFIG);
	assert_int_equal(config_parse_u32("1 ", 0, 9, &v), XLICEN_E_CONFIG);
	assert_int_equal(config_parse_u32("", 0, 9, &v), XLICEN_E_CONFIG);
	assert_int_equal(config_parse_u32("10", 0, 9, &v), XLICEN_E_CONFIG);
}

/* Lines the scanner refuses that are not caught by the tests above. */
static void
test_scanner_lines(void **state)
{
	char *text;
	size_t i;

	(void)state;
	expect_bad("[server]\nuser = x\nkeytab = {\n[limits]\n}\n",
	    "4: Profile section header not at top level: \"[limits]\"");
	expect_bad("[server] x\nuser = x\n",
	    "1: Syntax error in profile section header: \"[server] x\"");
	expect_bad("[]\nuser = x\n", "1: an empty section name");
	/* The profile library keeps blanks inside the brackets: the line
	 * of such a section must still be found. */
	expect_bad("[ server ]\nuser = x\n", "1: [ server ]: unknown section "
	    "(expected [server], [limits], [leases], [http] or [logging])");
	expect_bad("[server]\nus er = x\n",
	    "2: Syntax error in profile relation: \"us er = x\"");
	expect_bad("[server]\nkeytab = { x\n}\n",
	    "2: Extra closing brace in profile: \"keytab = { x\"");
	/* One line longer than the scanner's 4,096 bytes. */
	text = malloc(5000);
	assert_non_null(text);
	i = (size_t)snprintf(text, 5000, "[server]\n# ");
	memset(text + i, 'c', 4200);
	strcpy(text + i + 4200, "\nuser = x\n");
	expect_bad(text, 
	    "2: Syntax error in profile relation: \"\"");
	free(text);
}

/* Blanks after a value and a final "*" marker after the section name:
 * read as the plain name and value; so is a last line without newline. */
static void
test_blanks(void **state)
{
	struct server_config cfg;
	char err[1024];
	const char *path;

	(void)state;
	path = put("blanks.conf", "[server]*\n\tuser = svc   \t\n"
	    "[leases]\n\tttl = 90 \n");
	config_defaults(&cfg);
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.user, "svc");
	assert_int_equal(cfg.lease_ttl_s, 90);
	config_free(&cfg);
	config_free(NULL);
	/* The last line without its newline; verify_host = false. */
	path = put("nonl.conf", "[server]\n\tverify_host = false\n\tuser = last");
	config_defaults(&cfg);
	cfg.verify_host = 1;
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.user, "last");
	assert_int_equal(cfg.verify_host, 0);
	config_free(&cfg);
}

/* A value longer than a message shows is cut with "...". */
static void
test_long_value(void **state)
{
	char text[512], tail[512];

	(void)state;
	snprintf(text, sizeof(text), "[server]\ndatabase = %0150d\n", 0);
	snprintf(tail, sizeof(tail), "2: [server] database = \"%097d...\": "
	    "expected an absolute path", 0);
	expect_bad(text, tail);
}

/* What the file as a whole may not be. */
static void
test_bad_file(void **state)
{
	struct server_config cfg;
	char err[1024], want[TEST_PATH_MAX + 128];
	const char *path;
	FILE *f;
	size_t i;

	(void)state;
	config_defaults(&cfg);
	/* Larger than 1 MiB: comment lines. */
	path = tpath("big.conf");
	f = fopen(path, "w");
	assert_non_null(f);
	for (i = 0; i < 1024 * 1024 / 64 + 1; i++)
		fprintf(f, "# %061zu\n", i);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes", path);
	assert_string_equal(err, want);
	/* A NUL byte. */
	path = tpath("nul.conf");
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite("[server]\n\0\n", 1, 11, f), 11);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	snprintf(want, sizeof(want), "%s: contains a NUL byte: not a text file",
	    path);
	assert_string_equal(err, want);
	/* A directory opens but does not read. */
	assert_int_equal(config_load(tmpdir, 1, &cfg, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	snprintf(want, sizeof(want), "%s: %s", tmpdir, strerror(EISDIR));
	assert_string_equal(err, want);
	/* No buffer for the message: the code alone. */
	assert_int_equal(config_load(path, 1, &cfg, NULL, 0), XLICEN_E_CONFIG);
	assert_int_equal(config_load(NULL, 1, &cfg, err, sizeof(err)),
	    XLICEN_E_INVALID);
	assert_null(cfg.owned);
	config_free(&cfg);
}

/* More listen lines than the server has sockets for. */
static void
test_too_many_listen(void **state)
{
	char text[2048];
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "[server]\n");
	for (i = 0; i <= SERVER_MAX_LISTEN; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "listen = 127.0.0.1:%d\n", 1000 + i);
	expect_bad(text, "18: [server] listen: more than 16 addresses");
}

/* [http]: listen and allow repeat, IPv4 and IPv6; a bad network names
 * what is wrong; config_parse_net gives the address and prefix. */
static void
test_http_keys(void **state)
{
	struct server_config cfg;
	struct config_net net;
	char err[1024], why[96];
	const char *path;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.nhttp_listen, 0);
	path = put("http.conf", "[http]\nlisten = 127.0.0.1:8128\n"
	    "listen = [::1]:8128\nallow = 127.0.0.0/8\nallow = ::1\n");
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nhttp_listen, 2);
	assert_string_equal(cfg.http_listen[0], "127.0.0.1:8128");
	assert_string_equal(cfg.http_listen[1], "[::1]:8128");
	assert_int_equal(cfg.nhttp_allow, 2);
	assert_string_equal(cfg.http_allow[1], "::1");
	config_free(&cfg);

	assert_int_equal(config_parse_net("10.1.2.0/24", &net, why,
	    sizeof(why)), 0);
	assert_int_equal(net.family, AF_INET);
	assert_int_equal(net.bits, 24);
	assert_int_equal(net.addr[1], 1);
	assert_int_equal(config_parse_net("2001:db8::1", &net, why,
	    sizeof(why)), 0);
	assert_int_equal(net.family, AF_INET6);
	assert_int_equal(net.bits, 128);
	assert_int_equal(config_parse_net("10.0.0.0/33", &net, why,
	    sizeof(why)), XLICEN_E_CONFIG);
	assert_string_equal(why, "the prefix length is not a number 0..32");
	assert_int_equal(net.family, 0);
	expect_bad("[http]\nallow = 127.0.0.1\nallow = host.example\n",
	    "3: [http] allow = \"host.example\": expected ADDR or ADDR/BITS "
	    "(IPv4 or IPv6): not an IPv4 or IPv6 address");
	expect_bad("[http]\nlisten = 8128\n", "2: [http] listen = \"8128\": "
	    "expected ADDR:PORT or [IPV6ADDR]:PORT (PORT 0..65535): no port");
}

/* A FIFO or a device where the file should be is refused at once: the
 * server must not wait for a writer at start or on SIGHUP. */
static void
test_not_a_file(void **state)
{
	struct server_config cfg;
	char err[1024], want[TEST_PATH_MAX + 64];
	const char *path;

	(void)state;
	config_defaults(&cfg);
	path = tpath("fifo.conf");
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	assert_int_equal(config_load(path, 1, &cfg, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	alarm(0);
	snprintf(want, sizeof(want), "%s: not a regular file", path);
	assert_string_equal(err, want);
	assert_int_equal(config_load("/dev/null", 1, &cfg, err, sizeof(err)),
	    XLICEN_E_CONFIG);
	assert_string_equal(err, "/dev/null: not a regular file");
	assert_null(cfg.owned);
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_partial_and_reload),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_number),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_bad_listen),
		cmocka_unit_test(test_listen_check),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_parse_u32),
		cmocka_unit_test(test_scanner_lines),
		cmocka_unit_test(test_blanks),
		cmocka_unit_test(test_long_value),
		cmocka_unit_test(test_not_a_file),
		cmocka_unit_test(test_bad_file),
		cmocka_unit_test(test_too_many_listen),
		cmocka_unit_test(test_http_keys),
		cmocka_unit_test(test_logging),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
