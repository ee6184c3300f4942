/*
 * Privileges of gss-xlicend.  Started as root it binds port 128, copies
 * its keytab into a MEMORY: keytab and then becomes the service user for
 * good; started unprivileged (systemd User= with socket activation, or a
 * developer on a high port) it only sets no_new_privs.  The checks after
 * the drop do not trust the return codes alone: they try to get root back
 * and read what the kernel says in /proc/self/status.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include <krb5.h>

#include "err.h"
#include "privs.h"
#include "xlicen_errors.h"

/* The MEMORY: keytab and its context live as long as the process: the
 * acceptor resolves the name at every accept, and an unreferenced MEMORY
 * keytab may be freed. */
static krb5_context privs_kctx;
static krb5_keytab privs_memkt;
/* Each SIGHUP reads the keytab into a new one ("MEMORY:gss-xlicend.N"):
 * the credentials in use keep theirs until the new ones are acquired. */
static char privs_memkt_name[64] = PRIVS_MEMORY_KEYTAB;
static krb5_keytab privs_memkt_next;
static char privs_memkt_next_name[64];
static unsigned privs_memkt_gen;

int
privs_lookup(const char *user, const char *group, struct privs_user *out,
    char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	memset(out, 0, sizeof(*out));
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		err_setf(err, errlen, "user %s does not exist%s%s", user,
		    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
		return XLICEN_E_CONFIG;
	}
	if (pw->pw_uid == 0) {
		err_setf(err, errlen, "user %s is root (uid 0): the server "
		    "must run as an unprivileged user", user);
		return XLICEN_E_CONFIG;
	}
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	snprintf(out->user, sizeof(out->user), "%s", user);
	if (group != NULL) {
		errno = 0;
		if ((gr = getgrnam(group)) == NULL) {
			err_setf(err, errlen, "group %s does not exist", group);
			return XLICEN_E_CONFIG;
		}
		out->gid = gr->gr_gid;
		snprintf(out->group, sizeof(out->group), "%s", group);
	} else if ((gr = getgrgid(out->gid)) != NULL) {
		snprintf(out->group, sizeof(out->group), "%s", gr->gr_name);
	} else {
		snprintf(out->group, sizeof(out->group), "%u",
		    (unsigned)out->gid);
	}
	if (out->gid == 0) {
		err_setf(err, errlen, "group %s is gid 0: the server must run "
		    "with an unprivileged group", out->group);
		return XLICEN_E_CONFIG;
	}
	return 0;
}

/* Highest capability number the kernel knows (it may know more than our
 * headers). */
static int
privs_last_cap(void)
{
	FILE *f;
	int n = CAP_LAST_CAP;

	if ((f = fopen("/proc/sys/kernel/cap_last_cap", "re")) != NULL) {
		if (fscanf(f, "%d", &n) != 1 || n < 0 || n > 255)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n;
}

int
privs_no_new_privs(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 ? 0 : XLICEN_E_IO;
}

int
privs_drop(const struct privs_user *u, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	int cap, last = privs_last_cap();

	/* While we may still hold CAP_SETPCAP: no capability can come back
	 * through exec of a file with capabilities, whatever happens later.
	 * Without CAP_SETPCAP (a unit with a narrow CapabilityBoundingSet=)
	 * the set stays as it is: defence in depth only, since no_new_privs
	 * below has the same effect on exec. */
	for (cap = 0; cap <= last; cap++) {
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
			if (errno == EPERM)
				break;
			err_setf(err, errlen, "dropping capability %d from the "
			    "bounding set: %s", cap, strerror(errno));
			return XLICEN_E_IO;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL) {
		err_setf(err, errlen, "clearing ambient capabilities: %s",
		    strerror(errno));
		return XLICEN_E_IO;
	}
	/* Groups first: after setresgid/setresuid we could no longer. */
	if (setgroups(1, &u->gid) != 0) {
		err_setf(err, errlen, "setgroups(%u): %s", (unsigned)u->gid,
		    strerror(errno));
		return XLICEN_E_IO;
	}
	if (setresgid(u->gid, u->gid, u->gid) != 0) {
		err_setf(err, errlen, "setresgid(%u): %s", (unsigned)u->gid,
		    strerror(errno));
		return XLICEN_E_IO;
	}
	/* All three uids non-zero and no SECBIT_KEEP_CAPS: the kernel
	 * clears the permitted, effective and ambient sets here. */
	if (setresuid(u->uid, u->uid, u->uid) != 0) {
		err_setf(err, errlen, "setresuid(%u): %s", (unsigned)u->uid,
		    strerror(errno));
		return XLICEN_E_IO;
	}
	/* The inheritable set survives setresuid; empty it too. */
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) != 0) {
		err_setf(err, errlen, "clearing capabilities: %s",
		    strerror(errno));
		return XLICEN_E_IO;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		err_setf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return XLICEN_E_IO;
	}
	return privs_verify(u, err, errlen);
}

/* "CapEff:\t0000000000000000" -> whether the hex number is zero. */
static int
privs_hex_is_zero(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '\n')
		return 0;
	for (; *s != '\0' && *s != '\n'; s++)
		if (*s != '0')
			return 0;
	return 1;
}

int
privs_verify(const struct privs_user *u, char *err, size_t errlen)
{
	static const char *const caps[] = {
		"CapInh:", "CapPrm:", "CapEff:", "CapAmb:",
	};
	uid_t r, e, s;
	gid_t rg, eg, sg, groups[2];
	FILE *f = NULL;
	char line[256];
	size_t i;
	int n, seen = 0, nnp = -1, rc = XLICEN_E_IO;

	if (getresuid(&r, &e, &s) != 0 || r != u->uid || e != u->uid ||
	    s != u->uid || r == 0 || e == 0 || s == 0) {
		err_setf(err, errlen, "uids are not all %u", (unsigned)u->uid);
		goto out;
	}
	if (getresgid(&rg, &eg, &sg) != 0 || rg != u->gid || eg != u->gid ||
	    sg != u->gid || rg == 0 || eg == 0 || sg == 0) {
		err_setf(err, errlen, "gids are not all %u", (unsigned)u->gid);
		goto out;
	}
	n = getgroups(2, groups);
	if (n < 0 || n > 1 || (n == 1 && groups[0] != u->gid)) {
		err_setf(err, errlen, "supplementary groups remain");
		goto out;
	}
	/* These must fail now; if one succeeds the drop did not hold. */
	if (setuid(0) == 0 || setgid(0) == 0 || seteuid(0) == 0) {
		err_setf(err, errlen, "root could be regained after the drop");
		goto out;
	}
	if ((f = fopen("/proc/self/status", "re")) == NULL) {
		err_setf(err, errlen, "/proc/self/status: %s", strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			if (strncmp(line, caps[i], strlen(caps[i])) != 0)
				continue;
			if (!privs_hex_is_zero(line + strlen(caps[i]))) {
				line[strcspn(line, "\n")] = '\0';
				err_setf(err, errlen, "capabilities remain: %s",
				    line);
				goto out;
			}
			seen |= 1 << i;
		}
		if (strncmp(line, "NoNewPrivs:", 11) == 0)
			nnp = atoi(line + 11);
	}
	if (seen != (1 << (sizeof(caps) / sizeof(caps[0]))) - 1) {
		err_setf(err, errlen, "/proc/self/status lacks Cap* lines");
		goto out;
	}
	if (nnp != 1) {
		err_setf(err, errlen, "NoNewPrivs is not set");
		goto out;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	return rc;
}

const char *
privs_keytab_file(const char *path, char *buf, size_t buflen)
{
	krb5_context ctx = NULL;
	const char *name = path;

	if (path == NULL) {
		if (krb5_init_context(&ctx) != 0)
			return NULL;
		if (krb5_kt_default_name(ctx, buf, (int)buflen) != 0) {
			krb5_free_context(ctx);
			return NULL;
		}
		krb5_free_context(ctx);
		name = buf;
	}
	if (strncmp(name, "FILE:", 5) == 0)
		return name + 5;
	if (strncmp(name, "WRFILE:", 7) == 0)
		return name + 7;
	return name[0] == '/' ? name : NULL;
}

/* err = "keytab NAME: <Kerberos message for kc>". */
static void
privs_krb5_err(krb5_context ctx, krb5_error_code kc, const char *path,
    char *err, size_t errlen)
{
	const char *msg = krb5_get_error_message(ctx, kc);

	err_setf(err, errlen, "keytab %s: %s", path != NULL ? path :
	    "(default)", msg);
	krb5_free_error_message(ctx, msg);
}

/* Open the keytab at path (NULL: default), count its entries in *n and,
 * if dst is not NULL, add each to dst. */
static int
privs_keytab_walk(krb5_context ctx, const char *path, krb5_keytab dst,
    size_t *n, char *err, size_t errlen)
{
	krb5_keytab kt = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	krb5_error_code kc;
	int rc = XLICEN_E_CONFIG, started = 0;

	*n = 0;
	kc = path != NULL ? krb5_kt_resolve(ctx, path, &kt) :
	    krb5_kt_default(ctx, &kt);
	if (kc == 0 && (kc = krb5_kt_start_seq_get(ctx, kt, &cur)) == 0)
		started = 1;
	while (kc == 0) {
		kc = krb5_kt_next_entry(ctx, kt, &ent, &cur);
		if (kc != 0)
			break;
		if (dst != NULL)
			kc = krb5_kt_add_entry(ctx, dst, &ent);
		krb5_free_keytab_entry_contents(ctx, &ent);
		if (kc == 0)
			(*n)++;
	}
	if (kc != KRB5_KT_END) {
		privs_krb5_err(ctx, kc, path, err, errlen);
		goto out;
	}
	if (*n == 0) {
		err_setf(err, errlen, "keytab %s has no keys", path != NULL ?
		    path : "(default)");
		goto out;
	}
	rc = 0;
out:
	if (started)
		krb5_kt_end_seq_get(ctx, kt, &cur);
	if (kt != NULL)
		krb5_kt_close(ctx, kt);
	return rc;
}

int
privs_keytab_count(const char *path, size_t *nkeys, char *err, size_t errlen)
{
	krb5_context ctx = NULL;
	int rc;

	*nkeys = 0;
	if (krb5_init_context(&ctx) != 0) {
		err_setf(err, errlen, "cannot initialise Kerberos (krb5.conf?)");
		return XLICEN_E_CONFIG;
	}
	rc = privs_keytab_walk(ctx, path, NULL, nkeys, err, errlen);
	krb5_free_context(ctx);
	return rc;
}

int
privs_keytab_to_memory(const char *path, size_t *nkeys, char *err,
    size_t errlen)
{
	krb5_error_code kc;
	int rc;

	*nkeys = 0;
	if (privs_memkt != NULL) {
		err_setf(err, errlen, "the memory keytab is already loaded");
		return XLICEN_E_INTERNAL;
	}
	if (privs_kctx == NULL && krb5_init_context(&privs_kctx) != 0) {
		privs_kctx = NULL;
		err_setf(err, errlen, "cannot initialise Kerberos (krb5.conf?)");
		return XLICEN_E_CONFIG;
	}
	if ((kc = krb5_kt_resolve(privs_kctx, PRIVS_MEMORY_KEYTAB,
	    &privs_memkt)) != 0) {
		privs_krb5_err(privs_kctx, kc, PRIVS_MEMORY_KEYTAB, err, errlen);
		privs_memkt = NULL;
		return XLICEN_E_NOMEM;
	}
	rc = privs_keytab_walk(privs_kctx, path, privs_memkt, nkeys, err,
	    errlen);
	if (rc != 0) {
		/* The caller exits; this only keeps the handle from being
		 * taken for a loaded keytab. */
		krb5_kt_close(privs_kctx, privs_memkt);
		privs_memkt = NULL;
	}
	return rc;
}

/* Remove every entry of kt (MIT has no krb5_kt_destroy for MEMORY:
 * keytabs): no old key stays in memory after a switch. */
static void
privs_keytab_empty(krb5_keytab kt)
{
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	int got;

	do {
		got = 0;
		if (krb5_kt_start_seq_get(privs_kctx, kt, &cur) != 0)
			return;
		if (krb5_kt_next_entry(privs_kctx, kt, &ent, &cur) == 0)
			got = 1;
		krb5_kt_end_seq_get(privs_kctx, kt, &cur);
		if (got) {
			if (krb5_kt_remove_entry(privs_kctx, kt, &ent) != 0)
				got = 0;
			krb5_free_keytab_entry_contents(privs_kctx, &ent);
		}
	} while (got);
}

int
privs_keytab_reread(const char *path, const char **name, size_t *nkeys,
    char *err, size_t errlen)
{
	krb5_error_code kc;
	int rc;

	*name = NULL;
	*nkeys = 0;
	if (privs_memkt == NULL) {
		err_setf(err, errlen, "no keytab was loaded at start");
		return XLICEN_E_INTERNAL;
	}
	privs_keytab_switch(0);
	snprintf(privs_memkt_next_name, sizeof(privs_memkt_next_name),
	    "%s.%u", PRIVS_MEMORY_KEYTAB, ++privs_memkt_gen);
	if ((kc = krb5_kt_resolve(privs_kctx, privs_memkt_next_name,
	    &privs_memkt_next)) != 0) {
		privs_krb5_err(privs_kctx, kc, privs_memkt_next_name, err,
		    errlen);
		privs_memkt_next = NULL;
		return XLICEN_E_NOMEM;
	}
	rc = privs_keytab_walk(privs_kctx, path, privs_memkt_next, nkeys, err,
	    errlen);
	if (rc != 0) {
		privs_keytab_switch(0);
		return rc;
	}
	*name = privs_memkt_next_name;
	return 0;
}

void
privs_keytab_switch(int use_new)
{
	krb5_keytab victim;

	if (privs_memkt_next == NULL)
		return;
	victim = privs_memkt_next;
	if (use_new) {
		victim = privs_memkt;
		privs_memkt = privs_memkt_next;
		snprintf(privs_memkt_name, sizeof(privs_memkt_name), "%s",
		    privs_memkt_next_name);
	}
	privs_memkt_next = NULL;
	privs_keytab_empty(victim);
	krb5_kt_close(privs_kctx, victim);
}

const char *
privs_keytab_name(void)
{
	return privs_memkt_name;
}

int
privs_check_private(const char *what, const char *path, int missing_ok,
    char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		err_setf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return XLICEN_E_CONFIG;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		err_setf(err, errlen, "%s %s is accessible by group or others "
		    "(mode %04o); fix with: chmod 600 %s", what, path,
		    (unsigned)(st.st_mode & 07777), path);
		return XLICEN_E_CONFIG;
	}
	return 0;
}

int
privs_check_vendor_keys(const char *dir, size_t *nkeys, char *err,
    size_t errlen)
{
	DIR *d;
	struct dirent *de;
	char path[4096];
	size_t len;
	int rc = 0;

	if (nkeys != NULL)
		*nkeys = 0;
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".key") != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    de->d_name) >= sizeof(path))
			continue;
		if ((rc = privs_check_private("vendor private key", path, 1, err,
		    errlen)) != 0)
			break;
		if (nkeys != NULL)
			(*nkeys)++;
	}
	closedir(d);
	return rc;
}
