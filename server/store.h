/*
 * The SQLite store: pools (from verified licenses), leases and the audit
 * trail.  WAL mode, foreign keys on, a busy timeout, statements prepared
 * once, each seat decision in one BEGIN IMMEDIATE transaction.  Identity in
 * every record is the authenticated principal the caller passes.
 */
#ifndef XLICEN_STORE_H
#define XLICEN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "license.h"
#include "limits.h"

struct store;

/* Pool states as shown in status. */
enum store_pool_state {
	STORE_POOL_ACTIVE = 0,
	STORE_POOL_EXPIRED = 1,
	STORE_POOL_NOT_YET = 2,
};

/*
 * Open (creating if needed, mode 0600) the database at path and apply any
 * pending migration from schema/ in one transaction each, recording it in
 * schema_version.  A database whose schema_version is newer than this
 * server knows is refused.  err gets a human reason on failure.  Returns
 * 0 or XLICEN_E_DB (XLICEN_E_INVALID for a NULL path or out,
 * XLICEN_E_NOMEM).
 */
int store_open(const char *path, struct store **out, char *err, size_t errlen);
void store_close(struct store *s);

/*
 * Make the set of pools equal to lics: a pool is identified by (vendor,
 * product, serial, versions); existing pools keep their id and leases,
 * pools no longer licensed are marked withdrawn (their leases stay until
 * released or expired but no new seat is granted from them).  Records a
 * "reload" audit event.  Returns 0 or XLICEN_E_DB.
 */
int store_sync_pools(struct store *s, const struct license *lics, size_t n,
    int64_t now);

struct store_checkout_req {
	const char *principal;	/* authenticated initiator name */
	const char *product;
	const char *version;	/* dotted version */
	const char *host;	/* client-reported, informational */
	const char *display;	/* client-reported, informational */
	uint32_t count;		/* seats wanted, >= 1 */
	uint32_t pid;
	uint32_t ttl_s;		/* lease lifetime without heartbeat */
	int64_t now;
};

struct store_grant {
	char lease_id[LIMIT_LEASE_ID + 1];	/* server-chosen, opaque */
	int64_t expires;			/* lease expiry, UTC s */
	uint32_t in_use;			/* seats in use after the grant */
	uint32_t total;				/* seats of the product's usable pools */
};

/*
 * In one BEGIN IMMEDIATE transaction: expire leases past their time, find
 * a usable pool of the product whose version range covers req->version and
 * that has req->count free seats, and insert a lease.  The pool is the
 * first such by id (first fit): a lease never spans pools.  Errors:
 * XLICEN_E_NO_PRODUCT (no pool of that product), XLICEN_E_NO_VERSION (none
 * covers the version), XLICEN_E_EXPIRED / XLICEN_E_NOT_YET (only pools
 * outside their dates cover it; EXPIRED if any covering one has expired),
 * XLICEN_E_NO_SEATS (out->in_use and out->total are still filled, summed
 * over the usable covering pools), XLICEN_E_DB.  Grants and these denials
 * are recorded in the audit trail, in the same transaction.  Refused
 * before any of that, and not audited: XLICEN_E_INVALID (NULL or empty
 * principal, NULL product/version, ttl_s 0), XLICEN_E_COUNT (count 0 or
 * over LIMIT_SEATS), XLICEN_E_BAD_VALUE (version not a dotted version);
 * XLICEN_E_INTERNAL if getrandom() fails.
 */
int store_checkout(struct store *s, const struct store_checkout_req *req,
    struct store_grant *out);

/* Extend a lease of principal to now + its ttl.  XLICEN_E_NO_LEASE if it
 * does not exist (or expired), XLICEN_E_NOT_OWNER if another principal's
 * (audited as a "deny").  Leases of withdrawn or expired pools can still
 * be kept alive.  expires (may be NULL) is 0 on error. */
int store_heartbeat(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int64_t *expires);

/* Release a lease of principal.  Same errors as store_heartbeat. */
int store_release(struct store *s, const char *principal,
    const char *lease_id, int64_t now);

/* Delete leases whose expiry is <= now, auditing each; *n (may be NULL)
 * gets how many.  Returns 0 or XLICEN_E_DB. */
int store_expire(struct store *s, int64_t now, int *n);

/* Earliest lease expiry, or 0 if there is no lease (for the timer); also
 * 0, logged, on a database error. */
int64_t store_next_expiry(struct store *s);

struct store_pool_status {
	char product[LICENSE_NAME_MAX + 1];
	char versions[2 * LICENSE_VERSION_MAX + 2];	/* "1.0-2.0" */
	char vendor[LICENSE_NAME_MAX + 1];
	char serial[LICENSE_NAME_MAX + 1];
	uint32_t total;
	uint32_t in_use;
	int64_t start;		/* 0 = none */
	int64_t expires;	/* 0 = permanent */
	int state;		/* enum store_pool_state */
};

/* All licensed (not withdrawn) pools, or those of one product (product may
 * be NULL), ordered by product then id.  Read-only: in_use leaves out
 * leases already due at now even if store_expire has not run yet.  *out
 * is malloc'd (caller frees); it may be NULL when *n is 0. */
int store_status(struct store *s, const char *product, int64_t now,
    struct store_pool_status **out, size_t *n);

/* Count of current leases (all pools, including withdrawn ones and leases
 * due but not yet expired) and seats they hold, for tests and logs.
 * Either pointer may be NULL. */
int store_count_leases(struct store *s, int64_t *leases, int64_t *seats);

#endif
