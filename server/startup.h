/*
 * The start-up checks and the service credentials (startup.c): secrets'
 * modes, the user to run as, the database's owner and directory, the
 * acceptor credentials and their SIGHUP reread, --check-config.  Used by
 * main.c alone; every failure is logged here, naming the fix.
 */
#ifndef XLICEN_STARTUP_H
#define XLICEN_STARTUP_H

#include "privs.h"
#include "server.h"

/* Register keytab ktname (NULL: the Kerberos default) as the acceptor's
 * and acquire srv->cred for cfg.service (NULL: any key of the keytab).
 * 0 or XLICEN_E_GSS. */
int startup_acquire_cred(struct server *srv, const char *ktname);
/* The keytab (if a file outside systemd's credentials directory) and the
 * database must not be readable by group or others.  0 or
 * XLICEN_E_CONFIG. */
int startup_check_secrets(const struct server_config *cfg);

/* [server] borrow_key: the Ed25519 private key that signs borrow tokens
 * (docs/ADMIN.md, "Borrowing"), read once as root before the privilege
 * drop into srv->borrow_key; it must have no group or other permission
 * bits.  Nothing to do without the key.  0 or XLICEN_E_CONFIG (logged). */
struct server;
int startup_load_borrow_key(struct server *srv);
/* SIGHUP: reread the keytab into memory and acquire new acceptor
 * credentials from it; on any failure the credentials in use stay (and
 * the log says why). */
void startup_reload_keytab(struct server *srv);
/* Before the privilege drop: an existing database must belong to u.
 * 0 or XLICEN_E_CONFIG. */
int startup_check_db_owner(const struct server_config *cfg,
    const struct privs_user *u);
/* After the drop: the database's directory must be writable by us (user
 * is named in the message).  0 or XLICEN_E_CONFIG. */
int startup_check_db_dir(const struct server_config *cfg, const char *user);
/* 1 if any configured listen address has a port below 1024, else 0. */
int startup_wants_low_port(const struct server_config *cfg);
/* --check-config: config file (path config), secrets, keytab, database,
 * vendor keys, licenses, policy and (as root) the user, each reported on
 * stdout.  0 if all are good, else XLICEN_E_CONFIG. */
int startup_check_config(const struct server_config *cfg,
    const char *config);
/* Who to become: 1 with *u filled if the privilege drop must happen, 0 to
 * run as we are (not root; user root; the default user missing), or
 * XLICEN_E_CONFIG if the configured user does not exist. */
int startup_decide_user(const struct server_config *cfg,
    struct privs_user *u);

#endif
