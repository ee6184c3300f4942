/*
 * Privileges of gss-xlicend: what it does while still root (copy the
 * keytab into memory), the one-way drop to the service user, the checks
 * that the drop cannot be undone, and the file-mode checks that refuse
 * secrets other users could read.
 */
#ifndef XLICEN_PRIVS_H
#define XLICEN_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/* The in-memory keytab the acceptor uses after the drop. */
#define PRIVS_MEMORY_KEYTAB	"MEMORY:gss-xlicend"

/* Who the server becomes. */
struct privs_user {
	uid_t uid;
	gid_t gid;
	char user[64];
	char group[64];
};

/*
 * Look up user (and group; NULL: the user's primary group).  Fills *out
 * (cleared on entry).  Returns 0, or XLICEN_E_CONFIG with the reason in
 * err if either is unknown or is root (uid or gid 0).
 */
int privs_lookup(const char *user, const char *group, struct privs_user *out,
    char *err, size_t errlen);

/*
 * Become u for good: empty the capability bounding set and the ambient
 * set, setgroups(1, &gid), setresgid, setresuid, clear the inheritable
 * set, PR_SET_NO_NEW_PRIVS; then privs_verify().  Must be called as root.
 * Returns 0, or XLICEN_E_IO with the failing step in err (the caller must
 * exit: the process may be half-dropped).
 */
int privs_drop(const struct privs_user *u, char *err, size_t errlen);

/*
 * Check that the process runs as u and cannot return to root: real,
 * effective and saved uid/gid are u's (none is 0), the only group is u's,
 * setuid(0) and setgid(0) fail, /proc/self/status shows CapInh, CapPrm,
 * CapEff and CapAmb all zero and NoNewPrivs 1.  Returns 0 or XLICEN_E_IO
 * with what is wrong in err.
 */
int privs_verify(const struct privs_user *u, char *err, size_t errlen);

/* PR_SET_NO_NEW_PRIVS, for a server that never was root.  0 or
 * XLICEN_E_IO. */
int privs_no_new_privs(void);

/*
 * Copy every entry of the keytab at path (NULL: the Kerberos default
 * keytab) into PRIVS_MEMORY_KEYTAB, which stays open for the life of the
 * process, and return the number of keys in *nkeys.  The GSS acceptor
 * reads its keytab lazily, at each accept: after the drop it could no
 * longer open a root-only file.  Returns 0, XLICEN_E_CONFIG (unreadable
 * or empty keytab; reason in err) or XLICEN_E_NOMEM.
 */
int privs_keytab_to_memory(const char *path, size_t *nkeys, char *err,
    size_t errlen);

/*
 * SIGHUP: read the keytab at path (NULL: the default keytab) again, into a
 * new in-memory keytab beside the one in use, and set *name to its name
 * (valid until the next call here) for the acceptor credentials.  Then
 * privs_keytab_switch(1) makes it the one in use, or (0) drops it.  The
 * file is read with the privileges the process has now: after the drop,
 * only a keytab the service user can read.  Returns 0, XLICEN_E_INTERNAL
 * (no keytab was loaded at start), XLICEN_E_NOMEM or XLICEN_E_CONFIG
 * (unreadable or empty keytab; reason in err); on error nothing changes.
 */
int privs_keytab_reread(const char *path, const char **name, size_t *nkeys,
    char *err, size_t errlen);

/*
 * After privs_keytab_reread: use_new 1 makes the reread keytab the one in
 * use and empties the old one (credentials acquired from it must have
 * been released), 0 empties and drops the reread one.  Nothing pending:
 * no-op.
 */
void privs_keytab_switch(int use_new);

/* The name of the in-memory keytab in use. */
const char *privs_keytab_name(void);

/*
 * Count the entries of the keytab at path (NULL: the default keytab), for
 * --check-config.  Returns 0 or XLICEN_E_CONFIG (reason in err; an empty
 * keytab is an error).
 */
int privs_keytab_count(const char *path, size_t *nkeys, char *err,
    size_t errlen);

/*
 * The file name behind a keytab name ("FILE:/x" or "/x" -> "/x"), or NULL
 * for another type (MEMORY:, KEYRING:).  path NULL: the default keytab.
 * Returns a pointer into path or into buf.
 */
const char *privs_keytab_file(const char *path, char *buf, size_t buflen);

/*
 * Refuse a secret group or others can read or write: XLICEN_E_CONFIG with
 * "WHAT PATH is accessible by group or others (mode 0644); fix with:
 * chmod 600 PATH" in err.  A missing file is XLICEN_E_CONFIG too unless
 * missing_ok, when it is 0.
 */
int privs_check_private(const char *what, const char *path, int missing_ok,
    char *err, size_t errlen);

/*
 * The same for every *.key (a vendor's private key) in dir; a dir that
 * does not exist is fine (the license loader reports it).  *nkeys (may be
 * NULL) gets the number of private keys found, which are private but
 * still have no business on a license server (the caller warns).
 */
int privs_check_vendor_keys(const char *dir, size_t *nkeys, char *err,
    size_t errlen);

#endif
