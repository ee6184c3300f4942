/*
 * What the PostgreSQL backend's files (pg_*.c) share and nothing else
 * sees: its dialect and its operations table.
 */
#ifndef XLICEN_STORE_PG_INT_H
#define XLICEN_STORE_PG_INT_H

#include "store_int.h"

/* The SQL text of each statement (pg_sql.c); NULL for what pg_db.c sends
 * itself (transaction control) or PostgreSQL has no use for (PRAGMAs). */
extern const char *const store_pg_sql[ST__N];

/* The operations of db.h on libpq (pg_db.c). */
extern const struct store_db_ops store_pg_ops;

#endif
