/*
 * What the PostgreSQL backend's files (pg_*.c) share and nothing else
 * sees: its dialect and its operations table.
 */
#ifndef XLICEN_STORE_PG_INT_H
#define XLICEN_STORE_PG_INT_H

#include <libpq-fe.h>

#include "store_int.h"

/* The site-wide advisory lock every writing transaction takes first
 * (pg_db.c), and the migrations under it (pg_open.c). */
#define STORE_PG_LOCK		"132407019922798"

/* The SQL text of each statement (pg_sql.c); NULL for what pg_db.c sends
 * itself (transaction control) or PostgreSQL has no use for (PRAGMAs). */
extern const char *const store_pg_sql[ST__N];

/* The operations of db.h on libpq (pg_db.c). */
extern const struct store_db_ops store_pg_ops;

/* Connect with conninfo; its own settings override the defaults (a
 * bounded connect, a dead peer noticed within seconds, a name in
 * pg_stat_activity), then set the session (UTF8, search_path, the idle
 * transaction timeout).  NULL and a message in err on failure. */
PGconn *store_pg_connect(const char *conninfo, char *err, size_t errlen);

/* Apply every migration of schema/postgresql/ newer than the database, in
 * one transaction under the site-wide lock.  0 or XLICEN_E_DB with a
 * message in err (also for a database newer than this server). */
int store_pg_migrate(PGconn *c, char *err, size_t errlen);

#endif
