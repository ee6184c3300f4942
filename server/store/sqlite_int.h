/*
 * What the SQLite backend's files (sqlite_*.c) share and nothing else
 * sees: its dialect, its operations table, and the sqlite3 handle behind
 * struct store's opaque connection.
 */
#ifndef XLICEN_STORE_SQLITE_INT_H
#define XLICEN_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store_int.h"

/* The SQL text of each statement (sqlite_sql.c). */
extern const char *const store_sqlite_sql[ST__N];

/* The operations of db.h on SQLite (sqlite_db.c). */
extern const struct store_db_ops store_sqlite_ops;

/* SQLite's group commit (sqlite_durable.c) and close (sqlite_db.c), as
 * the operations table's batch_begin, batch_end and close. */
void store_sqlite_batch_begin(struct store *s);
int store_sqlite_batch_end(struct store *s, uint64_t *ticket);
/* Commit the transaction earlier rounds left open (store_carry_until), if
 * any, before anything runs outside a round.  0 or XLICEN_E_DB (then
 * what they did is undone; it is logged). */
int store_carry_end(struct store *s);
void store_sqlite_close(struct store *s);

/* The VFS shim that writes a commit's WAL frames in one write
 * (sqlite_vfs.c), registered (not as the default) at the first call.
 * Returns the name to give sqlite3_open_v2(), or NULL (SQLite's default
 * VFS, one write per frame header and page) if it could not be
 * registered.  Thread-safe. */
#define STORE_SQLITE_VFS	"xlicen-walbuf"
const char *store_sqlite_vfs(void);

/* The connection: struct store_conn is never defined; the pointer is the
 * sqlite3 handle. */
static inline sqlite3 *
store_sqlite_db(const struct store *s)
{
	return (sqlite3 *)(void *)s->conn;
}

#endif
