/*
 * The store's statement interface: what the seat logic (checkout.c,
 * leases.c, pools.c, audit_trail.c, report.c) calls instead of a database
 * driver, so that it is written once for every backend.  A backend (the
 * SQLite one is sqlite_db.c, its SQL text sqlite_sql.c) fills a const
 * table of these operations and prepares one statement per enum store_st
 * at open; every call below is one indirect call through that table, with
 * no allocation of its own.
 *
 * The life of a statement, shaped so that a client/server database can
 * implement it (PostgreSQL: PQexecPrepared with text parameters, then a
 * walk over the result's rows):
 *   bind parameters, numbered from 1 (they stay bound until the reset;
 *   text and blob values are not copied, so they must stay valid until
 *   then);
 *   step: the first step executes, each step gives the next row
 *   (STORE_ROW), then STORE_DONE, or a negative XLICEN_E_DB;
 *   column reads of the current row, numbered from 0, valid until the
 *   next step or the reset;
 *   store_changes after the last step: rows the statement changed;
 *   store_st_done: reset and clear the bindings (a backend releases its
 *   result or read snapshot here).
 */
#ifndef XLICEN_STORE_DB_H
#define XLICEN_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* What store_step returns besides a negative XLICEN_E_DB. */
enum store_step_rc {
	STORE_DONE = 0,		/* no (more) rows: the statement is complete */
	STORE_ROW = 1		/* a row is there to read */
};

/* How a column of the current row is stored.  The values are those of
 * common/audit.h's enum audit_type, which the chain check is given. */
enum store_type {
	STORE_T_INTEGER = 1,
	STORE_T_REAL = 2,
	STORE_T_TEXT = 3,
	STORE_T_BLOB = 4,
	STORE_T_NULL = 5
};

/* A prepared statement; the backend's own statement begins with it. */
struct store_stmt {
	const struct store_db_ops *ops;
};

/*
 * A backend's operations.  Statement ones: the binds return 0 or
 * XLICEN_E_DB; step as above; the column ones read the current row (a
 * NULL reads as 0, NULL text, NULL blob or 0 bytes); col_bytes is the
 * length of a text or blob.  Connection ones: errmsg is the last error's
 * text (for the log only); begin/commit/rollback are store_begin_as,
 * store_commit and store_rollback (store_int.h).
 */
struct store_db_ops {
	const char *name;
	/* The database is shared with other servers (PostgreSQL): see
	 * store_shared in store.h. */
	int shared;
	int (*bind_int64)(struct store_stmt *st, int idx, int64_t v);
	int (*bind_text)(struct store_stmt *st, int idx, const char *v);
	int (*bind_null)(struct store_stmt *st, int idx);
	int (*bind_blob)(struct store_stmt *st, int idx, const void *v,
	    size_t len);
	int (*step)(struct store_stmt *st);
	int64_t (*col_int64)(struct store_stmt *st, int col);
	const char *(*col_text)(struct store_stmt *st, int col);
	const void *(*col_blob)(struct store_stmt *st, int col);
	size_t (*col_bytes)(struct store_stmt *st, int col);
	enum store_type (*col_type)(struct store_stmt *st, int col);
	int64_t (*changes)(struct store_stmt *st);
	void (*done)(struct store_stmt *st);
	const char *(*errmsg)(struct store *s);
	int (*begin)(struct store *s, int durable);
	int (*commit)(struct store *s);
	void (*rollback)(struct store *s);
	/* store_send_ahead (below); NULL: the backend has no use for it. */
	void (*send_ahead)(struct store_stmt *st);
	/* store_sync_fd, store_synced, store_sync_wait, store_sync_failed
	 * (store.h) of a backend whose commits complete after
	 * store_batch_end returns (PostgreSQL); NULL: SQLite's syncer. */
	int (*sync_fd)(const struct store *s);
	int (*synced)(struct store *s, uint64_t *done);
	int (*sync_wait)(struct store *s, uint64_t ticket);
	uint64_t (*sync_failed)(struct store *s, uint64_t *first);
	int (*sync_pending)(const struct store *s);
	/* store_batch_begin, store_batch_end, store_close (store.h). */
	void (*batch_begin)(struct store *s);
	int (*batch_end)(struct store *s, uint64_t *ticket);
	void (*close)(struct store *s);
};

/* Bind an integer to parameter idx (from 1).  0 or XLICEN_E_DB. */
static inline int
store_bind_int64(struct store_stmt *st, int idx, int64_t v)
{
	return st->ops->bind_int64(st, idx, v);
}

/* Bind a C string as text (NULL binds NULL); not copied: v must stay
 * valid until store_st_done.  0 or XLICEN_E_DB (also over INT32_MAX
 * bytes). */
static inline int
store_bind_text(struct store_stmt *st, int idx, const char *v)
{
	return st->ops->bind_text(st, idx, v);
}

/* Bind NULL.  0 or XLICEN_E_DB. */
static inline int
store_bind_null(struct store_stmt *st, int idx)
{
	return st->ops->bind_null(st, idx);
}

/* Bind len bytes as a blob; not copied: v must stay valid until
 * store_st_done.  0 or XLICEN_E_DB. */
static inline int
store_bind_blob(struct store_stmt *st, int idx, const void *v, size_t len)
{
	return st->ops->bind_blob(st, idx, v, len);
}

/* The next row: STORE_ROW, STORE_DONE, or XLICEN_E_DB (the backend's
 * message is store_dberr's to log). */
static inline int
store_step(struct store_stmt *st)
{
	return st->ops->step(st);
}

/* Column col of the current row as an integer (NULL: 0). */
static inline int64_t
store_col_int64(struct store_stmt *st, int col)
{
	return st->ops->col_int64(st, col);
}

/* Column col as NUL-terminated text, or NULL for SQL NULL (or out of
 * memory); valid until the next step or store_st_done. */
static inline const char *
store_col_text(struct store_stmt *st, int col)
{
	return st->ops->col_text(st, col);
}

/* Column col as bytes (store_col_bytes of them), NULL for SQL NULL or an
 * empty blob; valid until the next step or store_st_done. */
static inline const void *
store_col_blob(struct store_stmt *st, int col)
{
	return st->ops->col_blob(st, col);
}

/* The length in bytes of column col's text or blob (0 for NULL).  Read it
 * after store_col_text or store_col_blob, not before. */
static inline size_t
store_col_bytes(struct store_stmt *st, int col)
{
	return st->ops->col_bytes(st, col);
}

/* How column col is stored; read it before the column's value (a read
 * may convert the value in place). */
static inline enum store_type
store_col_type(struct store_stmt *st, int col)
{
	return st->ops->col_type(st, col);
}

/* Whether column col is SQL NULL; as store_col_type, before its value. */
static inline int
store_col_is_null(struct store_stmt *st, int col)
{
	return st->ops->col_type(st, col) == STORE_T_NULL;
}

/* The rows an INSERT, UPDATE or DELETE changed, read after its last
 * step and before store_st_done. */
static inline int64_t
store_changes(struct store_stmt *st)
{
	return st->ops->changes(st);
}

/*
 * Send st ahead, with its bindings, inside the operation's transaction:
 * a backend that pays a round trip per answer (PostgreSQL) sends it now,
 * behind the commands it still owes, and its first store_step reads that
 * answer instead of waiting for one of its own; the others do nothing
 * (st runs at its first step).  The caller steps it later in the same
 * operation with the same bindings, and nothing it does in between may
 * change what st reads; otherwise it drops the answer with store_st_done
 * first (the backend drops it too when the operation commits or rolls
 * back).  A write, or a statement with no rows, is never sent ahead.
 */
static inline void
store_send_ahead(struct store_stmt *st)
{
	if (st->ops->send_ahead != NULL)
		st->ops->send_ahead(st);
}

/*
 * Reset a statement and drop its bindings (NULL is ignored): a reset
 * releases the backend's result and read snapshot (an unreset SELECT
 * would pin SQLite's WAL and stop checkpoints), and the bindings point
 * into the caller's strings, which must not outlive the call.
 */
static inline void
store_st_done(struct store_stmt *st)
{
	if (st != NULL)
		st->ops->done(st);
}

#endif
