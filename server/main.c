/*
 * gss-xlicend: options, acceptor credentials, store, licenses, then the
 * event loop.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gssapi/gssapi_krb5.h>

#include "err.h"
#include "gssx.h"
#include "limits.h"
#include "log.h"
#include "server.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: gss-xlicend [options]\n"
"  -f, --foreground        stay in the foreground, log to stderr\n"
"  -l, --listen ADDR:PORT  listen address (repeatable; default 0.0.0.0:128\n"
"                          and [::]:128; port 0 picks a free port)\n"
"  -k, --keytab FILE       acceptor keytab (default: the Kerberos default)\n"
"  -S, --service NAME      accept only this service, e.g. gss-xlicen@host\n"
"                          (default: any key in the keytab)\n"
"  -d, --database FILE     SQLite database (default /var/lib/gss-xlicen/xlicen.db)\n"
"  -L, --licenses DIR      license directory (default /etc/gss-xlicen/licenses)\n"
"  -K, --vendor-keys DIR   vendor public keys, VENDOR.pub (default\n"
"                          /etc/gss-xlicen/vendor-keys)\n"
"      --lease-ttl SECONDS lease lifetime without heartbeat (default %d)\n"
"      --heartbeat SECONDS heartbeat interval asked of clients (default %d)\n"
"  -h, --help              this text\n"
"  -V, --version           print the version\n",
	    LIMIT_LEASE_TTL_S, LIMIT_HEARTBEAT_S);
}

static int
parse_u32(const char *opt, const char *s, uint32_t min, uint32_t max,
    uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < min || v > max) {
		fprintf(stderr, "gss-xlicend: %s: \"%s\" is not a number in "
		    "%u..%u\n", opt, s, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* A keytab others can read is a stolen server identity. */
static int
check_private_file(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		log_msg(LOG_ERR, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_msg(LOG_ERR, "%s %s is accessible by group or others "
		    "(mode %03o); fix with: chmod 600 %s", what, path,
		    (unsigned)(st.st_mode & 0777), path);
		return -1;
	}
	return 0;
}

static int
acquire_cred(struct server *srv)
{
	OM_uint32 maj, min;
	gss_name_t name = GSS_C_NO_NAME;
	char err[512];
	int rc = 0;

	if (srv->cfg.keytab != NULL) {
		if (check_private_file("keytab", srv->cfg.keytab) != 0)
			return XLICEN_E_CONFIG;
		maj = krb5_gss_register_acceptor_identity(srv->cfg.keytab);
		if (GSS_ERROR(maj)) {
			log_msg(LOG_ERR, "keytab %s: cannot register",
			    srv->cfg.keytab);
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

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "listen", required_argument, NULL, 'l' },
		{ "keytab", required_argument, NULL, 'k' },
		{ "service", required_argument, NULL, 'S' },
		{ "database", required_argument, NULL, 'd' },
		{ "licenses", required_argument, NULL, 'L' },
		{ "vendor-keys", required_argument, NULL, 'K' },
		{ "lease-ttl", required_argument, NULL, 'T' },
		{ "heartbeat", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct server srv;
	char err[256];
	int ch, rc, heartbeat_set = 0;
	OM_uint32 min;

	memset(&srv, 0, sizeof(srv));
	srv.cred = GSS_C_NO_CREDENTIAL;
	srv.epfd = srv.sigfd = -1;
	srv.cfg.database = "/var/lib/gss-xlicen/xlicen.db";
	srv.cfg.licdir = "/etc/gss-xlicen/licenses";
	srv.cfg.keydir = "/etc/gss-xlicen/vendor-keys";
	srv.cfg.lease_ttl_s = LIMIT_LEASE_TTL_S;
	srv.cfg.heartbeat_s = LIMIT_HEARTBEAT_S;
	srv.cfg.handshake_ms = LIMIT_HANDSHAKE_MS;
	srv.cfg.idle_ms = LIMIT_IDLE_MS;
	srv.cfg.conn_total = LIMIT_CONN_TOTAL;
	srv.cfg.conn_per_peer = LIMIT_CONN_PER_PEER;
	srv.cfg.frame_postauth = LIMIT_FRAME_POSTAUTH;

	while ((ch = getopt_long(argc, argv, "fl:k:S:d:L:K:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			srv.cfg.foreground = 1;
			break;
		case 'l':
			if (srv.cfg.nlisten >= SERVER_MAX_LISTEN) {
				fprintf(stderr, "gss-xlicend: at most %d --listen\n",
				    SERVER_MAX_LISTEN);
				return 1;
			}
			srv.cfg.listen[srv.cfg.nlisten++] = optarg;
			break;
		case 'k':
			srv.cfg.keytab = optarg;
			break;
		case 'S':
			srv.cfg.service = optarg;
			break;
		case 'd':
			srv.cfg.database = optarg;
			break;
		case 'L':
			srv.cfg.licdir = optarg;
			break;
		case 'K':
			srv.cfg.keydir = optarg;
			break;
		case 'T':
			if (parse_u32("--lease-ttl", optarg, LIMIT_LEASE_TTL_MIN_S,
			    86400 * 30, &srv.cfg.lease_ttl_s) != 0)
				return 1;
			break;
		case 'H':
			if (parse_u32("--heartbeat", optarg, 1, 86400,
			    &srv.cfg.heartbeat_s) != 0)
				return 1;
			heartbeat_set = 1;
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
	if (srv.cfg.nlisten == 0) {
		srv.cfg.listen[srv.cfg.nlisten++] = "0.0.0.0:128";
		srv.cfg.listen[srv.cfg.nlisten++] = "[::]:128";
	}
	/* A lease must survive a heartbeat or two going missing. */
	if (srv.cfg.heartbeat_s * 3 > srv.cfg.lease_ttl_s) {
		uint32_t hb = srv.cfg.lease_ttl_s / 3;

		if (heartbeat_set)
			fprintf(stderr, "gss-xlicend: heartbeat %u s lowered to %u s "
			    "(a third of the lease TTL)\n", srv.cfg.heartbeat_s,
			    hb > 0 ? hb : 1);
		srv.cfg.heartbeat_s = hb > 0 ? hb : 1;
	}

	if (!srv.cfg.foreground) {
		if (daemon(0, 0) != 0) {
			fprintf(stderr, "gss-xlicend: daemon: %s\n", strerror(errno));
			return 1;
		}
		log_use_syslog("gss-xlicend");
	}

	rc = XLICEN_E_CONFIG;
	if (loop_listen(&srv) != 0 || acquire_cred(&srv) != 0)
		goto out;
	if (store_open(srv.cfg.database, &srv.store, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "database %s: %s", srv.cfg.database, err);
		goto out;
	}
	if (server_load_licenses(&srv) != 0)
		goto out;
	log_msg(LOG_INFO, "gss-xlicend %s ready (lease ttl %u s, heartbeat %u s)",
	    XLICEN_VERSION, srv.cfg.lease_ttl_s, srv.cfg.heartbeat_s);
	rc = loop_run(&srv);
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
	return rc == 0 ? 0 : 1;
}
