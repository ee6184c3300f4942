/*
 * Opening the PostgreSQL store (pg_int.h): connecting with the server's
 * session settings, and the migrations of schema/postgresql/.  The
 * statements, transactions and reconnects are pg_db.c's.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "limits.h"
#include "log.h"
#include "schema.h"
#include "pg_int.h"
#include "xlicen_errors.h"

/* A one-off query while opening: its first value as an integer. */
static int
pg_open_query_int(PGconn *c, const char *sql, int64_t *v, char *err,
    size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	int rc = XLICEN_E_DB;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		*v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		rc = XLICEN_OK;
	} else {
		store_seterr(err, errlen, "%s: %s", sql, PQerrorMessage(c));
	}
	PQclear(r);
	return rc;
}

static int
pg_open_exec(PGconn *c, const char *sql, const char *what, char *err,
    size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		store_seterr(err, errlen, "%s: %s", what, PQerrorMessage(c));
	PQclear(r);
	return ok ? XLICEN_OK : XLICEN_E_DB;
}

/* PostgreSQL's notices (NOTICE, WARNING) go to the log, not stderr. */
static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	log_msg(LOG_DEBUG, "store: PostgreSQL: %.*s", (int)strcspn(msg, "\n"),
	    msg);
}

/* Connect with conninfo; its own settings override these defaults (a
 * bounded connect, a dead peer noticed within seconds, a name in
 * pg_stat_activity).  NULL and a message in err on failure. */
PGconn *
store_pg_connect(const char *conninfo, char *err, size_t errlen)
{
	static const char *const keys[] = { "connect_timeout",
	    "tcp_user_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "5", "5000", "gss-xlicend", conninfo, NULL };
	char set[256];
	PGconn *c;

	c = PQconnectdbParams(keys, vals, 1);
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		store_seterr(err, errlen, "cannot connect to PostgreSQL: %s",
		    c != NULL ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, pg_notice, NULL);
	/* Our statements' text in the database's words, whatever the
	 * server's or the role's settings; and a session whose server
	 * vanished while it held the site-wide lock (a round's transaction
	 * never idles for more than a fraction of a second) ends, instead
	 * of holding every other server until TCP notices. */
	snprintf(set, sizeof(set), "SET client_encoding = 'UTF8';"
	    " SET search_path = public;"
	    " SET idle_in_transaction_session_timeout = %d",
	    LIMIT_STORE_IDLE_TX_MS);
	if (pg_open_exec(c, set, "settings", err, errlen) != 0) {
		PQfinish(c);
		return NULL;
	}
	return c;
}

static int
pg_record_version(PGconn *c, const struct schema_migration *m, char *err,
    size_t errlen)
{
	char ver[24], at[24];
	const char *vals[3] = { ver, m->name, at };
	PGresult *r;
	int ok;

	snprintf(ver, sizeof(ver), "%d", m->version);
	snprintf(at, sizeof(at), "%" PRId64, (int64_t)time(NULL));
	r = PQexecParams(c, "INSERT INTO schema_version (version, name,"
	    " applied_at) VALUES ($1, $2, $3)", 3, NULL, vals, NULL, NULL, 0);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		store_seterr(err, errlen, "recording migration %s: %s",
		    m->name, PQerrorMessage(c));
	PQclear(r);
	return ok ? XLICEN_OK : XLICEN_E_DB;
}

/*
 * Apply every migration of schema/postgresql/ newer than the database, all
 * in one transaction under the site-wide lock: servers started together
 * wait for the first, then find nothing left to do.  A database newer
 * than this server is refused.
 */
int
store_pg_migrate(PGconn *c, char *err, size_t errlen)
{
	const struct schema_migration *m;
	int64_t cur = 0;
	int known = 0, rc;

	for (m = schema_pg_migrations; m->version != 0; m++) {
		if (m->version <= known) {
			store_seterr(err, errlen, "embedded migration %s is "
			    "out of order (internal error)", m->name);
			return XLICEN_E_DB;
		}
		known = m->version;
	}
	if ((rc = pg_open_exec(c, "BEGIN; SELECT pg_advisory_xact_lock("
	    STORE_PG_LOCK ")", "begin", err, errlen)) != 0 ||
	    (rc = pg_open_exec(c, "CREATE TABLE IF NOT EXISTS schema_version"
	    " (version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
	    " applied_at BIGINT NOT NULL)", "creating schema_version", err,
	    errlen)) != 0 ||
	    (rc = pg_open_query_int(c, "SELECT COALESCE(MAX(version), 0) FROM"
	    " schema_version", &cur, err, errlen)) != 0)
		goto out;
	if (cur > known) {
		store_seterr(err, errlen, "the database has schema version %"
		    PRId64 ", newer than the %d this gss-xlicend knows: "
		    "refusing to use it (run a newer server)", cur, known);
		rc = XLICEN_E_DB;
		goto out;
	}
	for (m = schema_pg_migrations; m->version != 0; m++) {
		if (m->version <= cur)
			continue;
		if ((rc = pg_open_exec(c, m->sql, m->name, err, errlen)) != 0 ||
		    (rc = pg_record_version(c, m, err, errlen)) != 0)
			goto out;
		log_msg(LOG_NOTICE, "store: PostgreSQL: applied migration %s",
		    m->name);
	}
	rc = pg_open_exec(c, "COMMIT", "commit", err, errlen);
out:
	if (rc != 0)
		PQclear(PQexec(c, "ROLLBACK"));
	return rc;
}

/* The newest migration version this server knows. */
static int
pg_known_version(void)
{
	const struct schema_migration *m;
	int known = 0;

	for (m = schema_pg_migrations; m->version != 0; m++)
		if (m->version > known)
			known = m->version;
	return known;
}

/* libpq's multi-line messages ("...failed: X\n\tIs the server running
 * ...?\n") as one line: each line break and the indent after it become
 * "; " (" " where they were one byte), a trailing one goes. */
static void
pg_one_line(char *s)
{
	char *w = s, *r = s;

	while (*r != '\0') {
		if (*r != '\n') {
			*w++ = *r++;
			continue;
		}
		while (*r == '\n' || *r == '\t' || *r == ' ')
			r++;
		if (*r == '\0')
			break;
		if (w + 2 <= r)
			*w++ = ';';
		*w++ = ' ';
	}
	*w = '\0';
}

int
store_pg_check(const char *conninfo, struct store_pg_status *st, char *err,
    size_t errlen)
{
	int64_t exists = 0;
	PGconn *c;
	int rc;

	memset(st, 0, sizeof(*st));
	st->known = pg_known_version();
	if ((c = store_pg_connect(conninfo, err, errlen)) == NULL) {
		pg_one_line(err);
		return XLICEN_E_DB;
	}
	st->server_version = PQserverVersion(c);
	/* Only reads: the table schema_version is store_pg_migrate's to
	 * make, at the first start. */
	rc = pg_open_query_int(c, "SELECT count(*) FROM pg_catalog.pg_tables"
	    " WHERE schemaname = 'public' AND tablename = 'schema_version'",
	    &exists, err, errlen);
	if (rc == 0 && exists > 0)
		rc = pg_open_query_int(c, "SELECT COALESCE(MAX(version), 0)"
		    " FROM schema_version", &st->version, err, errlen);
	PQfinish(c);
	if (rc != 0) {
		pg_one_line(err);
		return rc;
	}
	if (st->version == 0)
		st->state = STORE_SCHEMA_MISSING;
	else if (st->version < st->known)
		st->state = STORE_SCHEMA_OLDER;
	else if (st->version == st->known)
		st->state = STORE_SCHEMA_CURRENT;
	else
		st->state = STORE_SCHEMA_NEWER;
	return 0;
}

/* Append "key=value" to buf at *at, the value quoted as libpq reads it
 * when it is empty or has blanks, quotes or backslashes. */
static void
pg_shown_add(char *buf, size_t buflen, size_t *at, const char *key,
    const char *val)
{
	int quote = val[0] == '\0' || strpbrk(val, " \t\n'\\") != NULL;
	const char *p;

	if (*at + 1 >= buflen)
		return;
	*at += (size_t)snprintf(buf + *at, buflen - *at, "%s%s=%s",
	    *at > 0 ? " " : "", key, quote ? "'" : "");
	for (p = val; *p != '\0' && *at + 1 < buflen; p++) {
		if ((*p == '\'' || *p == '\\') && *at + 2 < buflen)
			buf[(*at)++] = '\\';
		buf[(*at)++] = *p;
	}
	if (quote && *at + 1 < buflen)
		buf[(*at)++] = '\'';
	buf[*at < buflen ? *at : buflen - 1] = '\0';
}

void
store_pg_conninfo_shown(const char *conninfo, char *buf, size_t buflen)
{
	PQconninfoOption *opts, *o;
	char *perr = NULL;
	size_t at = 0;

	if (buflen == 0)
		return;
	buf[0] = '\0';
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		snprintf(buf, buflen, "(unparsable connection string)");
		PQfreemem(perr);
		return;
	}
	for (o = opts; o->keyword != NULL; o++) {
		/* dispchar "*": a secret (the password), never shown. */
		if (o->val == NULL || strchr(o->dispchar, '*') != NULL)
			continue;
		pg_shown_add(buf, buflen, &at, o->keyword, o->val);
	}
	PQconninfoFree(opts);
}
