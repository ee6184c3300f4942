/*
 * The store's helpers over the statement interface (db.h), the same for
 * every backend: logging a backend error, copying a text column, running
 * a statement that returns no rows, and the per-operation transactions,
 * which the backend's operations table carries out.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xlicen_errors.h"

int
store_dberr(struct store *s, const char *what)
{
	/* A lost connection is logged once, by the backend. */
	if (s->db_down)
		return XLICEN_E_DB;
	log_msg(LOG_ERR, "store: %s: %s", what, s->ops->errmsg(s));
	return XLICEN_E_DB;
}

void
store_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Copy a TEXT column into a fixed buffer, truncating; NULL gives "". */
void
store_col_copy(struct store_stmt *st, int col, char *dst, size_t dstlen)
{
	const char *v = store_col_text(st, col);
	size_t len = store_col_bytes(st, col);

	if (dstlen == 0)
		return;
	if (v == NULL)
		len = 0;
	if (len > dstlen - 1)
		len = dstlen - 1;
	if (len > 0)
		memcpy(dst, v, len);
	dst[len] = '\0';
}

/* Run a statement that returns no rows. */
int
store_st_exec(struct store *s, enum store_st which, const char *what)
{
	struct store_stmt *st = s->st[which];
	int rc = XLICEN_OK;

	if (store_step(st) != STORE_DONE)
		rc = store_dberr(s, what);
	store_st_done(st);
	return rc;
}

int
store_begin_as(struct store *s, int durable)
{
	return s->ops->begin(s, durable);
}

int
store_begin(struct store *s)
{
	return s->ops->begin(s, 1);
}

/* For what only frees seats or extends leases (see store_begin_as). */
int
store_begin_light(struct store *s)
{
	return s->ops->begin(s, 0);
}

int
store_commit(struct store *s)
{
	return s->ops->commit(s);
}

void
store_rollback(struct store *s)
{
	s->ops->rollback(s);
}

/*
 * The public entry points that choose the backend.
 */

int
store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	return store_open_backend(STORE_BACKEND_SQLITE, path, out, err,
	    errlen);
}

int
store_open_backend(enum store_backend backend, const char *where,
    struct store **out, char *err, size_t errlen)
{
	if (out != NULL)
		*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (where == NULL || out == NULL) {
		store_seterr(err, errlen, backend == STORE_BACKEND_POSTGRESQL ?
		    "no connection string" : "no database path");
		return XLICEN_E_INVALID;
	}
	if (backend == STORE_BACKEND_POSTGRESQL)
		return store_pg_open(where, out, err, errlen);
	return store_sqlite_open(where, out, err, errlen);
}

void
store_close(struct store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

int
store_shared(const struct store *s)
{
	return s != NULL && s->ops->shared;
}

void
store_batch_begin(struct store *s)
{
	s->ops->batch_begin(s);
}

int
store_batch_end(struct store *s, uint64_t *ticket)
{
	return s->ops->batch_end(s, ticket);
}
