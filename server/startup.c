/*
 * The start-up checks and the service credentials: the secrets' modes
 * (keytab, database), who to run as and whether the database is that
 * user's, acceptor credentials from the keytab (again on SIGHUP, for a
 * rotated key), and --check-config, which runs every check without
 * binding.  main.c calls these in its start-up order; nothing else does.
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gssapi/gssapi_krb5.h>

#include "err.h"
#include "gssx.h"
#include "licdir.h"
#include "license.h"
#include "log.h"
#include "policy.h"
#include "startup.h"

int
startup_acquire_cred(struct server *srv, const char *ktname)
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
startup_is_credential(const char *path)
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
startup_check_keytab(const struct server_config *cfg, char *err,
    size_t errlen)
{
	char ktbuf[1024];
	const char *ktfile;

	ktfile = privs_keytab_file(cfg->keytab, ktbuf, sizeof(ktbuf));
	if (ktfile != NULL && startup_is_credential(ktfile))
		ktfile = NULL;
	if (ktfile != NULL &&
	    privs_check_private("keytab", ktfile, 0, err, errlen) != 0)
		return XLICEN_E_CONFIG;
	return 0;
}

/* The secrets: keytab and database private.  (Vendor private keys are
 * judged with the licenses, at start and on every reread alike.) */
int
startup_check_secrets(const struct server_config *cfg)
{
	char err[1024];

	if (startup_check_keytab(cfg, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		return XLICEN_E_CONFIG;
	}
	/* (A PostgreSQL store has no file here.) */
	if (cfg->store_backend == STORE_BACKEND_SQLITE &&
	    privs_check_private("database", cfg->database, 1, err,
	    sizeof(err)) != 0) {
		log_msg(LOG_ERR, "%s", err);
		return XLICEN_E_CONFIG;
	}
	return 0;
}

int
startup_load_borrow_key(struct server *srv)
{
	struct license_error lerr;

	if (srv->cfg.borrow_key == NULL)
		return 0;
	/* Purpose: the key that signs borrow tokens; read as root, kept in
	 * memory (the service user cannot read it after the drop). */
	if (license_key_load_private(srv->cfg.borrow_key, &srv->borrow_key,
	    &lerr) != 0) {
		log_msg(LOG_ERR, "borrow_key: %s", lerr.reason);
		return XLICEN_E_CONFIG;
	}
	log_msg(LOG_INFO, "borrow_key %s read: borrowing is possible",
	    srv->cfg.borrow_key);
	return 0;
}

/*
 * SIGHUP: the keytab again, for a rotated service key (a new kvno), and
 * acceptor credentials from it.  Contexts already established do not
 * use the credentials.  On any failure the credentials in use stay, and
 * the log says so: after the privilege drop the service user must be
 * able to read the file (docs/ADMIN.md).
 */
void
startup_reload_keytab(struct server *srv)
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
	if (startup_check_keytab(&srv->cfg, err, sizeof(err)) != 0 ||
	    privs_keytab_reread(srv->cfg.keytab, &name, &nkeys, err,
	    sizeof(err)) != 0) {
		log_msg(LOG_ERR, "SIGHUP: keytab %s not reread: %s; the service "
		    "keys read before stay in use", shown, err);
		return;
	}
	srv->cred = GSS_C_NO_CREDENTIAL;
	if (startup_acquire_cred(srv, name) != 0) {
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
startup_dirname(const char *path, char *buf, size_t buflen)
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
int
startup_check_db_owner(const struct server_config *cfg,
    const struct privs_user *u)
{
	struct stat st;

	if (cfg->store_backend != STORE_BACKEND_SQLITE ||
	    stat(cfg->database, &st) != 0)
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
int
startup_check_db_dir(const struct server_config *cfg, const char *user)
{
	char buf[4096];
	const char *dir = startup_dirname(cfg->database, buf, sizeof(buf));

	if (cfg->store_backend != STORE_BACKEND_SQLITE)
		return 0;
	if (access(dir, W_OK | X_OK) != 0) {
		log_msg(LOG_ERR, "database directory %s: %s; it must be "
		    "writable by %s (fix with: chown %s: %s && chmod 700 %s)",
		    dir, strerror(errno), user, user, dir, dir);
		return XLICEN_E_CONFIG;
	}
	return 0;
}

/* Whether any configured address has a privileged port. */
int
startup_wants_low_port(const struct server_config *cfg)
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

/*
 * --check-config's PostgreSQL store: connect as the start would (the
 * connection string shown without its password), say where the schema
 * stands; migrate nothing.  0, or XLICEN_E_CONFIG (said on stderr) if the
 * start would fail: no connection, or a schema newer than this server.
 */
static int
startup_check_pg(const struct server_config *cfg)
{
	struct store_pg_status st;
	char shown[1024], err[1024];

	store_pg_conninfo_shown(cfg->store_conninfo, shown, sizeof(shown));
	if (store_pg_check(cfg->store_conninfo, &st, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "store PostgreSQL \"%s\": %s", shown, err);
		return XLICEN_E_CONFIG;
	}
	printf("store PostgreSQL \"%s\": connected (PostgreSQL %d.%d), ",
	    shown, st.server_version / 10000, st.server_version % 10000);
	switch (st.state) {
	case STORE_SCHEMA_MISSING:
		printf("no schema yet: it is created at the first start\n");
		break;
	case STORE_SCHEMA_OLDER:
		printf("schema version %" PRId64 " of %d: migrated at the next "
		    "start\n", st.version, st.known);
		break;
	case STORE_SCHEMA_CURRENT:
		printf("schema version %" PRId64 ", current\n", st.version);
		break;
	case STORE_SCHEMA_NEWER:
		printf("schema version %" PRId64 "\n", st.version);
		log_msg(LOG_ERR, "store PostgreSQL \"%s\": schema version %"
		    PRId64 ", newer than the %d this gss-xlicend knows: it "
		    "refuses to start on it (run a newer server)", shown,
		    st.version, st.known);
		return XLICEN_E_CONFIG;
	}
	return 0;
}

/* --check-config: everything start-up would read, without binding. */
int
startup_check_config(const struct server_config *cfg, const char *config)
{
	struct license *lics = NULL;
	struct privs_user u;
	struct stat st;
	char err[1024];
	size_t nkeys = 0, n = 0, nbad = 0, nexp = 0;
	int ok = 1;

	if (stat(config, &st) == 0)
		printf("config %s: OK\n", config);
	else
		printf("config %s: absent, built-in defaults apply\n",
		    config);
	if (startup_check_secrets(cfg) != 0)
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
	if (cfg->store_backend == STORE_BACKEND_SQLITE &&
	    store_check_free(cfg->database, err, sizeof(err)) != 0)
		printf("database %s: %s\n", cfg->database, err);
	if (cfg->store_backend == STORE_BACKEND_POSTGRESQL &&
	    startup_check_pg(cfg) != 0)
		ok = 0;
	if (licdir_check_keydir(cfg->keydir, err, sizeof(err)) != 0 ||
	    licdir_load_dir(cfg->licdir, cfg->keydir, &lics, &n, &nbad) != 0) {
		ok = 0;
	} else {
		/* An expired license loads (its signature is good) but
		 * grants nothing: counted apart from the loaded ones. */
		licdir_count_expired(lics, n, (int64_t)time(NULL), &nexp);
		printf("licenses %s: %zu loaded, %zu expired, %zu refused\n",
		    cfg->licdir, n - nexp, nexp, nbad);
		if (nbad > 0)
			ok = 0;
	}
	free(lics);
	if (cfg->borrow_key != NULL) {
		struct license_error lerr;
		void *key = NULL;

		/* Purpose: that the borrow key loads as it will at start. */
		if (license_key_load_private(cfg->borrow_key, &key,
		    &lerr) != 0) {
			log_msg(LOG_ERR, "borrow_key: %s", lerr.reason);
			ok = 0;
		} else {
			printf("borrow_key %s: OK\n", cfg->borrow_key);
		}
		license_key_free(key);
	}
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
			if (startup_check_db_owner(cfg, &u) != 0)
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
int
startup_decide_user(const struct server_config *cfg, struct privs_user *u)
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
