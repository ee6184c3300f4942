/*
 * The SQLite store: license pools, seats, leases and the audit trail
 * behind store.h.  One connection, opened in WAL mode with
 * synchronous=FULL so a committed grant survives kill -9 and power loss;
 * every statement is prepared once at open; every decision is one BEGIN
 * IMMEDIATE transaction that is rolled back on any error.
 *
 * Seats and leases: a pool counts seats; a lease holds (a share of) one
 * seat.  Checkouts of one dup group share a seat (policy.h), so releasing
 * one of them frees nothing while another remains; a seat whose last
 * lease is released may linger, still counted, for the pool's linger time.
 * A lease whose holder's connection was closed by the client is an orphan
 * (orphan_until, store_orphan) until its principal re-attaches it or the
 * sweep frees it as a release would.
 *
 * Every event row is hash-chained to the one before it (common/audit.h):
 * the row's hash is computed here, in the transaction that inserts it,
 * from the last row's hash, and the id is chosen explicitly so that the
 * hash covers it.
 *
 * Durability and cost (docs/PERFORMANCE.md).  The event loop runs each
 * round's operations in one batch (store_batch_begin/end): savepoints of
 * one transaction, committed once before any reply of the round goes out.
 * A batch that may grant a seat is synced (one fdatasync of the WAL, by
 * the syncer thread, see struct store_bg) before its replies go out; one
 * that only releases, expires or writes heartbeats is not, since losing
 * it to a power cut keeps a seat taken until its lease expires and never
 * gives one twice.  A heartbeat of a live lease is answered from
 * memory and written within a second (store_heartbeat); at start every
 * lease gets up to one TTL more for what a crash took, once
 * (store_extend_leases).
 * Seats in use per pool are a counter kept by triggers (schema 0003).
 *
 * Cost of one checkout (the common case, nothing to expire): BEGIN
 * IMMEDIATE, the expiry, orphan and linger sweeps (empty range scans; the
 * orphans' of a partial index holding only orphans), the pool
 * SELECT (one row per pool of the product, its in_use counter), the
 * seat lookup of the dup group, the seats-held SELECT (only with a policy),
 * INSERT seat (its trigger updates the pool's counter), INSERT lease, the
 * last event's hash, INSERT event, RELEASE of its savepoint; its share of
 * the round's COMMIT and fdatasync(), plus the occasional checkpoint.  A
 * heartbeat: one SELECT by primary key.  The reads of expires_at (status,
 * holders, next expiry) first write the heartbeats held in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "audit.h"
#include "display.h"
#include "hash.h"
#include "license.h"
#include "log.h"
#include "policy.h"
#include "schema.h"
#include "store.h"
#include "xlicen_errors.h"

/* How long a statement waits for another connection's lock (an admin
 * tool reading the file) before failing with XLICEN_E_DB. */
#define STORE_BUSY_MS		5000
#define STORE_LEASE_ID_LEN	32	/* hex digits: 16 random bytes */
#define STORE_GROUP_KEY_MAX	1024
/* The checkpointer copies the WAL into the database when it has this
 * many pages (SQLite's own automatic threshold), and at least every
 * second. */
#define STORE_CKPT_PAGES	1000
#define STORE_CKPT_EVERY_S	1
/* Heartbeats held in memory are written once the oldest is a second old,
 * or sooner when there are this many: 10,000 sessions heartbeating every
 * 10 s would otherwise make one write of 1,000 rows (several ms in the
 * loop thread) each second. */
#define STORE_HB_FLUSH_AT	256

enum store_st {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_EXPIRE_SEL,
	ST_LINGER_SEL,
	ST_SEAT_DEL,
	ST_SEAT_LEASES,
	ST_SEAT_GET,
	ST_SEAT_SET_COUNT,
	ST_SEAT_LINGER,
	ST_SEAT_FIND,
	ST_SEAT_INS,
	ST_SEAT_JOIN,
	ST_POOLS_PRODUCT,
	ST_HELD_PRODUCT,
	ST_PRODUCT_TOTALS,
	ST_LEASE_INS,
	ST_EVENT_LAST,
	ST_EVENT_INS,
	ST_HB_UPDATE,
	ST_RECLAIM_UPDATE,
	ST_LEASE_GET,
	ST_LEASE_DEL,
	ST_REVOKED_GET,
	ST_REVOKED_INS,
	ST_REVOKED_PRUNE,
	ST_POOL_ACTIVE_IDS,
	ST_POOL_UPSERT,
	ST_POOL_WITHDRAW,
	ST_POOL_ORPHANS,
	ST_SEATS_MOVE,
	ST_LEASES_MOVE,
	ST_STATUS_ALL,
	ST_STATUS_PRODUCT,
	ST_NEXT_EXPIRY,
	ST_COUNT_LEASES,
	ST_HOLDERS,
	ST_HOLDERS_LINGER,
	ST_EVENTS_ALL,
	ST_EVENTS_REPORT,
	ST_SAVEPOINT,
	ST_RELEASE_SP,
	ST_ROLLBACK_SP,
	ST_HB_GET,
	ST_HB_SET,
	ST_EXTEND,
	ST_SYNC_FULL,
	ST_SYNC_NORMAL,
	ST_ORPHAN_SEL,
	ST_ORPHAN_SET,
	ST_ORPHAN_REARM,
	ST__N
};

/* The seats of a pool that are in use at ?1 without a sweep: lingering,
 * or held by a lease not yet due.  Status is read-only and must not count
 * what the timer has not expired yet. */
#define LIVE_SEATS_SUM(pool)						\
	"(SELECT COALESCE(SUM(s.count), 0) FROM seats AS s"		\
	" WHERE s.pool_id = " pool " AND (s.linger_until > ?1 OR EXISTS"	\
	" (SELECT 1 FROM leases AS l WHERE l.seat_id = s.id"		\
	"  AND l.expires_at > ?1)))"
#define POOL_COLS							\
	"p.product, p.ver_min, p.ver_max, p.vendor, p.serial,"		\
	" p.seats, p.start, p.expires, p.uncounted, p.hostid,"		\
	" p.dup_group, p.linger, p.ttl, p.heartbeat"

static const char *const store_sql[ST__N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_EXPIRE_SEL] =
	    "SELECT l.id, l.principal, l.host, l.display, p.product,"
	    " l.pool_id, l.count, l.seat_id, l.version"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.expires_at <= ?1 ORDER BY l.expires_at, l.id",
	[ST_LINGER_SEL] =
	    "SELECT s.id, s.principal, s.host, p.product, s.pool_id, s.count"
	    " FROM seats AS s JOIN pools AS p ON p.id = s.pool_id"
	    " WHERE s.linger_until > 0 AND s.linger_until <= ?1"
	    " ORDER BY s.linger_until, s.id",
	[ST_SEAT_DEL] = "DELETE FROM seats WHERE id = ?1",
	[ST_SEAT_LEASES] =
	    "SELECT COUNT(*), COALESCE(MAX(count), 0) FROM leases"
	    " WHERE seat_id = ?1",
	[ST_SEAT_GET] = "SELECT count, linger_s FROM seats WHERE id = ?1",
	[ST_SEAT_SET_COUNT] = "UPDATE seats SET count = ?2 WHERE id = ?1",
	[ST_SEAT_LINGER] = "UPDATE seats SET linger_until = ?2 WHERE id = ?1",
	[ST_SEAT_FIND] =
	    "SELECT id, count FROM seats WHERE pool_id = ?1 AND grp = ?2"
	    " ORDER BY id LIMIT 1",
	[ST_SEAT_INS] =
	    "INSERT INTO seats (pool_id, grp, principal, host, count,"
	    " linger_s, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	    " RETURNING id",
	[ST_SEAT_JOIN] =
	    "UPDATE seats SET linger_until = 0, count = MAX(count, ?2),"
	    " linger_s = ?3 WHERE id = ?1",
	/* Only called after the sweeps of the same transaction, so every
	 * seat counted is live. */
	[ST_POOLS_PRODUCT] =
	    "SELECT p.id, p.ver_min, p.ver_max, p.seats, p.start, p.expires,"
	    " p.uncounted, p.hostid, p.dup_group, p.linger, p.ttl,"
	    " p.heartbeat, p.in_use"
	    " FROM pools AS p WHERE p.product = ?1 AND p.withdrawn = 0"
	    " ORDER BY p.id",
	[ST_HELD_PRODUCT] =
	    "SELECT s.principal, s.host, s.count FROM seats AS s"
	    " JOIN pools AS p ON p.id = s.pool_id WHERE p.product = ?1",
	/* In use and total of the product's usable counted pools, for a
	 * grant's reply (after the sweeps). */
	[ST_PRODUCT_TOTALS] =
	    "SELECT p.seats, p.start, p.expires, p.in_use"
	    " FROM pools AS p WHERE p.product = ?1 AND p.withdrawn = 0"
	    " AND p.uncounted = 0",
	[ST_LEASE_INS] =
	    "INSERT INTO leases (id, pool_id, principal, host, display, pid,"
	    " count, ttl_s, granted_at, heartbeat_at, expires_at, seat_id,"
	    " hb_s, version)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12,"
	    " ?13)",
	[ST_EVENT_LAST] = "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1",
	[ST_EVENT_INS] =
	    "INSERT INTO events (id, ts, kind, principal, host, display,"
	    " product, version, lease_id, pool_id, count, code, detail, seats,"
	    " hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	    " ?12, ?13, ?14, ?15)",
	[ST_HB_UPDATE] =
	    "UPDATE leases SET heartbeat_at = ?2, expires_at = ?2 + ttl_s,"
	    " orphan_until = 0 WHERE id = ?1 AND principal = ?3"
	    " AND expires_at > ?2 AND (orphan_until = 0 OR orphan_until > ?2)"
	    " RETURNING expires_at",
	[ST_RECLAIM_UPDATE] =
	    "UPDATE leases SET heartbeat_at = ?2, expires_at = ?2 + ttl_s,"
	    " pid = ?3, host = COALESCE(?4, host),"
	    " display = COALESCE(?5, display), orphan_until = 0"
	    " WHERE id = ?1 RETURNING expires_at",
	/* Column 1: when the lease ends, its expiry or an orphan's grace. */
	[ST_LEASE_GET] =
	    "SELECT l.principal, CASE WHEN l.orphan_until > 0 THEN"
	    " MIN(l.orphan_until, l.expires_at) ELSE l.expires_at END,"
	    " l.host, l.display, l.pool_id,"
	    " l.count, p.product, l.seat_id, l.ttl_s, l.hb_s, l.version"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.id = ?1",
	[ST_LEASE_DEL] = "DELETE FROM leases WHERE id = ?1",
	[ST_REVOKED_GET] = "SELECT principal FROM revoked WHERE lease_id = ?1",
	[ST_REVOKED_INS] =
	    "INSERT OR REPLACE INTO revoked (lease_id, principal, revoked_at,"
	    " by_principal) VALUES (?1, ?2, ?3, ?4)",
	[ST_REVOKED_PRUNE] = "DELETE FROM revoked WHERE revoked_at < ?1",
	[ST_POOL_ACTIVE_IDS] = "SELECT id FROM pools WHERE withdrawn = 0",
	[ST_POOL_UPSERT] =
	    "INSERT INTO pools (vendor, product, ver_min, ver_max, serial,"
	    " seats, start, expires, customer, withdrawn, loaded_at,"
	    " uncounted, hostid, dup_group, linger, ttl, heartbeat)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11, ?12,"
	    " ?13, ?14, ?15, ?16)"
	    " ON CONFLICT (vendor, product, serial, ver_min, ver_max)"
	    " DO UPDATE SET seats = excluded.seats, start = excluded.start,"
	    " expires = excluded.expires, customer = excluded.customer,"
	    " withdrawn = 0, loaded_at = excluded.loaded_at,"
	    " uncounted = excluded.uncounted, hostid = excluded.hostid,"
	    " dup_group = excluded.dup_group, linger = excluded.linger,"
	    " ttl = excluded.ttl, heartbeat = excluded.heartbeat"
	    " RETURNING id",
	[ST_POOL_WITHDRAW] =
	    "UPDATE pools SET withdrawn = 1 WHERE id = ?1"
	    " RETURNING vendor, product, serial, ver_min, ver_max",
	/* The withdrawn pools that still hold seats or leases, each with the
	 * licensed pool that replaces it, if any: same vendor, product,
	 * versions, kind and node lock, the most recently added first (a
	 * renewal is a new row). */
	[ST_POOL_ORPHANS] =
	    "SELECT o.id, (SELECT n.id FROM pools AS n WHERE n.withdrawn = 0"
	    " AND n.vendor = o.vendor AND n.product = o.product"
	    " AND n.ver_min = o.ver_min AND n.ver_max = o.ver_max"
	    " AND n.uncounted = o.uncounted AND n.hostid = o.hostid"
	    " ORDER BY n.id DESC LIMIT 1)"
	    " FROM pools AS o WHERE o.withdrawn = 1"
	    " AND (EXISTS (SELECT 1 FROM seats AS s WHERE s.pool_id = o.id)"
	    " OR EXISTS (SELECT 1 FROM leases AS l WHERE l.pool_id = o.id))"
	    " ORDER BY o.id",
	/* The triggers of 0003 move the in_use counts along. */
	[ST_SEATS_MOVE] = "UPDATE seats SET pool_id = ?2 WHERE pool_id = ?1",
	[ST_LEASES_MOVE] = "UPDATE leases SET pool_id = ?2 WHERE pool_id = ?1",
	/* Withdrawn pools are listed while they hold seats (in_use counts
	 * them, due or not; store_status leaves out those with none live). */
	[ST_STATUS_ALL] =
	    "SELECT " POOL_COLS ", " LIVE_SEATS_SUM("p.id") ", p.withdrawn"
	    " FROM pools AS p WHERE p.withdrawn = 0 OR p.in_use > 0"
	    " ORDER BY p.product, p.id",
	[ST_STATUS_PRODUCT] =
	    "SELECT " POOL_COLS ", " LIVE_SEATS_SUM("p.id") ", p.withdrawn"
	    " FROM pools AS p WHERE p.product = ?2"
	    " AND (p.withdrawn = 0 OR p.in_use > 0)"
	    " ORDER BY p.id",
	[ST_NEXT_EXPIRY] =
	    "SELECT MIN(t) FROM (SELECT MIN(expires_at) AS t FROM leases"
	    " UNION ALL SELECT MIN(linger_until) FROM seats"
	    " WHERE linger_until > 0"
	    " UNION ALL SELECT MIN(orphan_until) FROM leases"
	    " WHERE orphan_until > 0)",
	[ST_COUNT_LEASES] =
	    "SELECT (SELECT COUNT(*) FROM leases),"
	    " (SELECT COALESCE(SUM(count), 0) FROM seats)",
	[ST_HOLDERS] =
	    "SELECT p.product, l.version, l.principal, l.host, l.display,"
	    " l.id, l.pid, l.count, l.hb_s, l.granted_at, l.heartbeat_at,"
	    " l.expires_at, p.withdrawn"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.expires_at > ?1 AND (?2 IS NULL OR p.product = ?2)"
	    " AND (?3 IS NULL OR l.principal = ?3)"
	    " ORDER BY p.product, l.granted_at, l.id",
	[ST_HOLDERS_LINGER] =
	    "SELECT p.product, s.principal, s.host, s.count, s.created_at,"
	    " s.linger_until, p.withdrawn"
	    " FROM seats AS s JOIN pools AS p ON p.id = s.pool_id"
	    " WHERE s.linger_until > ?1 AND (?2 IS NULL OR p.product = ?2)"
	    " AND NOT EXISTS (SELECT 1 FROM leases AS l WHERE l.seat_id = s.id)"
	    " ORDER BY p.product, s.linger_until, s.id",
	[ST_EVENTS_ALL] =
	    "SELECT id, ts, kind, principal, host, display, product, version,"
	    " lease_id, pool_id, count, code, detail, seats, hash"
	    " FROM events ORDER BY id",
	[ST_EVENTS_REPORT] =
	    "SELECT ts, kind, principal, product, lease_id, count, seats"
	    " FROM events WHERE ts <= ?1 ORDER BY id",
	[ST_SAVEPOINT] = "SAVEPOINT op",
	[ST_RELEASE_SP] = "RELEASE op",
	[ST_ROLLBACK_SP] = "ROLLBACK TO op",
	[ST_HB_GET] =
	    "SELECT principal, ttl_s, expires_at, orphan_until FROM leases"
	    " WHERE id = ?1",
	[ST_HB_SET] =
	    "UPDATE leases SET heartbeat_at = ?2, expires_at = ?3 WHERE id = ?1",
	/* See store_extend_leases: heartbeat_at + ttl_s is the expiry the
	 * last written heartbeat gave, so this is the same at every start. */
	[ST_EXTEND] =
	    "UPDATE leases SET expires_at ="
	    " MIN(heartbeat_at + 2 * ttl_s, ?1 + ttl_s)"
	    " WHERE expires_at < MIN(heartbeat_at + 2 * ttl_s, ?1 + ttl_s)"
	    " AND heartbeat_at + 2 * ttl_s > ?1",
	[ST_SYNC_FULL] = "PRAGMA synchronous = FULL",
	[ST_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	/* The columns of ST_EXPIRE_SEL (sweep_lease reads both). */
	[ST_ORPHAN_SEL] =
	    "SELECT l.id, l.principal, l.host, l.display, p.product,"
	    " l.pool_id, l.count, l.seat_id, l.version"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.orphan_until > 0 AND l.orphan_until <= ?1"
	    " ORDER BY l.orphan_until, l.id",
	/* Only a grace that ends before the lease would expire anyway. */
	[ST_ORPHAN_SET] =
	    "UPDATE leases SET orphan_until = ?2"
	    " WHERE id = ?1 AND orphan_until = 0 AND expires_at > ?2",
	[ST_ORPHAN_REARM] =
	    "UPDATE leases SET orphan_until ="
	    " CASE WHEN ?1 > 0 AND ?1 < expires_at THEN ?1 ELSE 0 END"
	    " WHERE orphan_until > 0",
};

/* A heartbeat answered but not yet written (see store_heartbeat). */
struct store_hb {
	char id[STORE_LEASE_ID_LEN + 1];	/* "" = free slot */
	int64_t at;
	int64_t expires;
};

struct store {
	sqlite3 *db;
	int lockfd;		/* the -lock file (store_lock), or -1 */
	sqlite3_stmt *st[ST__N];
	/* Group commit (store_batch_begin/end): the operations of one round
	 * of the event loop run in savepoints of one transaction. */
	int batching;
	int in_batch;		/* its BEGIN IMMEDIATE was done */
	int batch_failed;	/* SQLite rolled it back: nothing is durable */
	int batch_full;		/* it must be durable before its replies */
	int sync_normal;	/* PRAGMA synchronous is NORMAL now */
	struct store_bg *bg;	/* the syncer and checkpointer, or NULL */
	/* Heartbeats answered from memory and not yet written: an
	 * open-addressing table keyed by lease id. */
	struct store_hb *hb;
	size_t hb_cap, hb_n;
	int64_t hb_since;	/* UTC s of the oldest */
};

/*
 * Background threads, so that no fsync stalls the event loop (a batch's
 * fdatasync() costs 0.1-4 ms here, a checkpoint 5-40 ms).
 *
 * The syncer makes batches durable.  A batch that must be durable before
 * its replies commits with synchronous = NORMAL (in WAL mode: written,
 * not synced) and gets a ticket; the syncer fdatasync()s the WAL through
 * a descriptor of its own, which covers every frame written before the
 * call, and counts the tickets it covered as done, waking the loop
 * through an eventfd.  The loop holds the batch's replies until then
 * (conn.c), and meanwhile serves other connections: contexts are
 * accepted while the disk syncs, and one fdatasync() covers every batch
 * committed while the previous one ran.  This is SQLite's own FULL
 * commit (sync the WAL after the commit frame), done by another thread.
 * The WAL file is not deleted while our connection is open, so the
 * descriptor stays valid.
 *
 * The checkpointer has a SQLite connection of its own and runs PASSIVE
 * checkpoints (neither waits for the other writer) when the WAL reaches
 * STORE_CKPT_PAGES, and every STORE_CKPT_EVERY_S; a checkpoint syncs the
 * WAL first, so what was committed without a sync of its own (releases,
 * expiries, heartbeats) is durable within about a second.  What the loop
 * committed during a pass is left for the loop to copy before its next
 * round (store_ckpt_tail), after which SQLite writes the WAL from its
 * start again: the file stays near STORE_CKPT_PAGES and a sync rewrites
 * blocks in place instead of extending it.
 */
struct store_bg {
	pthread_mutex_t lock;
	pthread_cond_t sync_cond, ckpt_cond;
	pthread_t sync_thread, ckpt_thread;
	int sync_started, ckpt_started;
	int walfd;		/* the -wal file, for fdatasync() */
	int efd;		/* eventfd: a sync is done */
	uint64_t want, done;	/* tickets asked for, synced */
	int sync_errno;		/* a failed fdatasync(): never cleared */
	int ckpt_want, stop;
	int ckpt_tail;		/* atomic: the loop should finish a checkpoint */
	sqlite3 *ck_db;
};

/* One audit record; NULL strings are stored as NULL. */
struct store_event {
	int64_t ts;
	const char *kind;
	const char *principal;
	const char *host;
	const char *display;
	const char *product;
	const char *version;
	const char *lease_id;
	int64_t pool_id;	/* 0 = none */
	int64_t count;		/* 0 = none */
	int code;		/* xlicen code, 0 or negative */
	const char *detail;
	int has_seats;
	int64_t seats;		/* change in seats in use */
};

static int
store_dberr(struct store *s, const char *what)
{
	log_msg(LOG_ERR, "store: %s: %s", what, sqlite3_errmsg(s->db));
	return XLICEN_E_DB;
}

static void
store_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
store_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Reset a statement and drop its bindings: a reset releases the read
 * snapshot (an unreset SELECT would pin the WAL and stop checkpoints), and
 * the bindings point into the caller's strings (SQLITE_STATIC), which must
 * not outlive the call.
 */
static void
st_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Bind a C string as TEXT with its explicit length; NULL binds NULL. */
static int
st_text(sqlite3_stmt *st, int idx, const char *v)
{
	size_t len;

	if (v == NULL)
		return sqlite3_bind_null(st, idx);
	len = strlen(v);
	if (len > INT32_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_text(st, idx, v, (int)len, SQLITE_STATIC);
}

/* Copy a TEXT column into a fixed buffer, truncating; NULL gives "". */
static void
col_copy(sqlite3_stmt *st, int col, char *dst, size_t dstlen)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

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
static int
st_exec(struct store *s, enum store_st which, const char *what)
{
	sqlite3_stmt *st = s->st[which];
	int rc = XLICEN_OK;

	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, what);
	st_done(st);
	return rc;
}

static int store_hb_flush(struct store *s);

/* PRAGMA synchronous, which SQLite lets change only between
 * transactions. */
static int
store_sync_mode(struct store *s, int full)
{
	int rc;

	if (s->sync_normal == !full)
		return XLICEN_OK;
	if ((rc = st_exec(s, full ? ST_SYNC_FULL : ST_SYNC_NORMAL,
	    "synchronous")) == 0)
		s->sync_normal = !full;
	return rc;
}

/*
 * One operation's transaction.  Outside a batch: BEGIN IMMEDIATE ...
 * COMMIT.  Inside one: a savepoint of the batch's transaction, so that a
 * failing operation undoes only itself while the loop commits them all at
 * once (one fsync) before any of their replies goes out.  Either way the
 * heartbeats answered from memory are written first, so that whatever
 * reads expires_at sees them.
 *
 * durable: the operation may grant a seat (or record what must survive a
 * power loss), so its batch must be synced before its replies: by the
 * syncer (the batch gets a ticket), or without one by committing with
 * synchronous = FULL.  The others (releases, expiries, heartbeats) only
 * free seats or extend leases; were their commit lost with the power, a
 * seat would stay taken until its lease expires, never be given twice.
 * They commit with synchronous = NORMAL, without an fsync of their own.
 */
static int
store_begin_as(struct store *s, int durable)
{
	int rc;

	if (!s->batching) {
		if ((rc = store_sync_mode(s, durable)) != 0 ||
		    (rc = st_exec(s, ST_BEGIN, "begin")) != 0)
			return rc;
		if ((rc = store_hb_flush(s)) != 0 &&
		    !sqlite3_get_autocommit(s->db))
			(void)st_exec(s, ST_ROLLBACK, "rollback");
		return rc;
	}
	if (s->batch_failed)
		return XLICEN_E_DB;
	if (s->in_batch && durable && !s->batch_full) {
		if (s->bg != NULL) {
			/* The syncer makes it durable, whatever the mode. */
			s->batch_full = 1;
		} else {
			/* What the batch did so far needs no fsync: commit it
			 * as it is and go on in a transaction that gets one. */
			if ((rc = st_exec(s, ST_COMMIT, "commit")) != 0) {
				s->batch_failed = 1;
				return rc;
			}
			s->in_batch = 0;
		}
	}
	if (!s->in_batch) {
		if ((rc = store_sync_mode(s, durable && s->bg == NULL)) != 0 ||
		    (rc = st_exec(s, ST_BEGIN, "begin")) != 0)
			return rc;
		s->in_batch = 1;
		s->batch_full = durable;
	}
	if ((rc = store_hb_flush(s)) != 0) {
		s->batch_failed = 1;
		return rc;
	}
	return st_exec(s, ST_SAVEPOINT, "savepoint");
}

static int
store_begin(struct store *s)
{
	return store_begin_as(s, 1);
}

/* For what only frees seats or extends leases (see store_begin_as). */
static int
store_begin_light(struct store *s)
{
	return store_begin_as(s, 0);
}

static int
store_commit(struct store *s)
{
	if (s->batching)
		return st_exec(s, ST_RELEASE_SP, "release savepoint");
	return st_exec(s, ST_COMMIT, "commit");
}

/* Some errors (I/O, full disk) already rolled back; then there is nothing
 * left to undo -- in a batch, nothing of the whole batch. */
static void
store_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db)) {
		if (s->in_batch) {
			s->in_batch = 0;
			s->batch_failed = 1;
		}
		return;
	}
	if (s->batching) {
		(void)st_exec(s, ST_ROLLBACK_SP, "rollback to savepoint");
		(void)st_exec(s, ST_RELEASE_SP, "release savepoint");
		return;
	}
	(void)st_exec(s, ST_ROLLBACK, "rollback");
}

/*
 * Finish, in the loop's connection, a checkpoint the checkpointer could
 * not complete because the loop kept committing.  SQLite starts the WAL
 * over from its beginning only when a write finds every frame copied into
 * the database; under steady load the checkpointer never gets there, and
 * the WAL would grow without end, each commit's sync extending the file
 * (a metadata write besides the data, each time).  Between rounds nothing
 * else writes, so this copies the few frames written since the
 * checkpointer's pass, and the round's first commit starts the WAL over.
 */
static void
store_ckpt_tail(struct store *s)
{
	int rc;

	rc = sqlite3_wal_checkpoint_v2(s->db, "main",
	    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc == SQLITE_BUSY)	/* the checkpointer is at it: next round */
		__atomic_store_n(&s->bg->ckpt_tail, 1, __ATOMIC_RELAXED);
	else if (rc != SQLITE_OK)
		log_msg(LOG_WARNING, "store: checkpoint: %s",
		    sqlite3_errmsg(s->db));
}

void
store_batch_begin(struct store *s)
{
	if (s->bg != NULL &&
	    __atomic_exchange_n(&s->bg->ckpt_tail, 0, __ATOMIC_RELAXED))
		store_ckpt_tail(s);
	s->batching = 1;
	s->in_batch = 0;
	s->batch_failed = 0;
}

/* A ticket for what was committed so far (the syncer covers it). */
static uint64_t
store_sync_ask(struct store_bg *bg)
{
	uint64_t t;

	pthread_mutex_lock(&bg->lock);
	t = ++bg->want;
	/* Broadcast: store_sync_wait waits on the same condition. */
	pthread_cond_broadcast(&bg->sync_cond);
	pthread_mutex_unlock(&bg->lock);
	return t;
}

int
store_batch_end(struct store *s, uint64_t *ticket)
{
	int rc = XLICEN_OK;

	*ticket = 0;
	if (s->in_batch && (rc = st_exec(s, ST_COMMIT, "commit")) != 0 &&
	    !sqlite3_get_autocommit(s->db))
		(void)st_exec(s, ST_ROLLBACK, "rollback");
	if (s->batch_failed)
		rc = XLICEN_E_DB;
	if (rc == 0 && s->in_batch && s->batch_full && s->bg != NULL)
		*ticket = store_sync_ask(s->bg);
	s->batching = 0;
	s->in_batch = 0;
	s->batch_failed = 0;
	return rc;
}

int
store_sync_fd(const struct store *s)
{
	return s != NULL && s->bg != NULL ? s->bg->efd : -1;
}

int
store_synced(struct store *s, uint64_t *done)
{
	struct store_bg *bg = s->bg;
	uint64_t n;
	int err;

	if (bg == NULL) {
		*done = UINT64_MAX;
		return XLICEN_OK;
	}
	while (read(bg->efd, &n, sizeof(n)) == sizeof(n))
		;
	pthread_mutex_lock(&bg->lock);
	*done = bg->done;
	err = bg->sync_errno;
	pthread_mutex_unlock(&bg->lock);
	if (err != 0) {
		log_msg(LOG_ERR, "store: fdatasync of the WAL: %s", strerror(err));
		return XLICEN_E_DB;
	}
	return XLICEN_OK;
}

int
store_sync_wait(struct store *s, uint64_t ticket)
{
	struct store_bg *bg = s->bg;
	int err;

	if (bg == NULL || ticket == 0)
		return XLICEN_OK;
	pthread_mutex_lock(&bg->lock);
	while (bg->done < ticket && bg->sync_errno == 0)
		pthread_cond_wait(&bg->sync_cond, &bg->lock);
	err = bg->sync_errno;
	pthread_mutex_unlock(&bg->lock);
	return err != 0 ? XLICEN_E_DB : XLICEN_OK;
}

/*
 * Heartbeats answered from memory (store_heartbeat), written by the next
 * operation that writes or by store_flush.
 */

/* The slot of id, or the free slot where it would go. */
static struct store_hb *
hb_slot(struct store *s, const char *id)
{
	size_t i = (size_t)hash_str(id) & (s->hb_cap - 1);

	while (s->hb[i].id[0] != '\0' && strcmp(s->hb[i].id, id) != 0)
		i = (i + 1) & (s->hb_cap - 1);
	return &s->hb[i];
}

static int
hb_put(struct store *s, const char *id, int64_t at, int64_t expires)
{
	struct store_hb *old = s->hb, *e;
	size_t oldcap = s->hb_cap, i;

	if (2 * (s->hb_n + 1) > s->hb_cap) {
		s->hb_cap = oldcap != 0 ? 2 * oldcap : 256;
		if ((s->hb = calloc(s->hb_cap, sizeof(*s->hb))) == NULL) {
			s->hb = old;
			s->hb_cap = oldcap;
			return XLICEN_E_NOMEM;
		}
		for (i = 0; i < oldcap; i++)
			if (old[i].id[0] != '\0')
				*hb_slot(s, old[i].id) = old[i];
		free(old);
	}
	e = hb_slot(s, id);
	if (e->id[0] == '\0') {
		/* 32 hex digits and the NUL: the caller checked the length. */
		memcpy(e->id, id, sizeof(e->id));
		if (s->hb_n++ == 0)
			s->hb_since = at;
	}
	e->at = at;
	e->expires = expires;
	return XLICEN_OK;
}

/* Write them all, inside the caller's transaction. */
static int
store_hb_flush(struct store *s)
{
	sqlite3_stmt *st = s->st[ST_HB_SET];
	size_t i;
	int rc;

	if (s->hb_n == 0)
		return XLICEN_OK;
	for (i = 0; i < s->hb_cap; i++) {
		if (s->hb[i].id[0] == '\0')
			continue;
		if (st_text(st, 1, s->hb[i].id) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, s->hb[i].at) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 3, s->hb[i].expires) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE) {
			rc = store_dberr(s, "heartbeat: write");
			st_done(st);
			return rc;
		}
		st_done(st);
	}
	memset(s->hb, 0, s->hb_cap * sizeof(*s->hb));
	s->hb_n = 0;
	return XLICEN_OK;
}

/* Write the heartbeats held in memory in a transaction of their own:
 * store_begin_as writes them, the empty operation commits them. */
static int
store_hb_commit(struct store *s, int durable)
{
	int rc;

	if (s->hb_n == 0)
		return XLICEN_OK;
	if ((rc = store_begin_as(s, durable)) != 0)
		return rc;
	if ((rc = store_commit(s)) != 0)
		store_rollback(s);
	return rc;
}

/* Before a read of expires_at: write the heartbeats, no fsync needed. */
static int
store_hb_write(struct store *s)
{
	return store_hb_commit(s, 0);
}

int
store_flush(struct store *s, int64_t now, int64_t max_age)
{
	if (s == NULL || s->hb_n == 0 ||
	    (max_age > 0 && now - s->hb_since < max_age &&
	    s->hb_n < STORE_HB_FLUSH_AT))
		return XLICEN_OK;
	/* What a power loss can take must stay about a second of heartbeats
	 * (store_extend_leases): the checkpointer syncs the WAL every second;
	 * without one, this commit does, at most once a second. */
	return store_hb_commit(s, s->bg == NULL);
}

int
store_extend_leases(struct store *s, int64_t now)
{
	sqlite3_stmt *st;
	int rc = XLICEN_OK;

	if (s == NULL)
		return XLICEN_E_INVALID;
	/*
	 * A heartbeat lost in a crash was answered while its lease was live,
	 * within about a second of the last one written (store_flush), and
	 * before the crash: the expiry it gave is at most one TTL past the
	 * stored one and at most now + TTL.  The bound is computed from
	 * heartbeat_at, not from expires_at, so that starting again (a crash
	 * loop) gives nothing more: an abandoned lease ends at most two TTL
	 * after its last written heartbeat however many times the server
	 * starts.
	 */
	st = s->st[ST_EXTEND];
	if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, "extend leases");
	st_done(st);
	return rc;
}

/* Whether a pool's dates allow a grant at now: -1 not yet, 1 expired,
 * 0 usable.  Expired wins for a pool that is both (start after expiry
 * cannot come from a checked license, but the answer must be stable). */
static int
pool_dates(int64_t start, int64_t expires, int64_t now)
{
	if (expires != 0 && now >= expires)
		return 1;
	if (start != 0 && now < start)
		return -1;
	return 0;
}

/* A column's text, or NULL for SQL NULL. */
static const char *
col_text_or_null(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return (const char *)sqlite3_column_text(st, col);
}

/* An events row (columns in ST_EVENTS_ALL order) as the chain sees it.
 * The strings point into st: valid until its next step. */
static void
row_to_audit(sqlite3_stmt *st, struct audit_event *ae)
{
	memset(ae, 0, sizeof(*ae));
	ae->id = sqlite3_column_int64(st, 0);
	ae->ts = sqlite3_column_int64(st, 1);
	ae->kind = col_text_or_null(st, 2);
	ae->principal = col_text_or_null(st, 3);
	ae->host = col_text_or_null(st, 4);
	ae->display = col_text_or_null(st, 5);
	ae->product = col_text_or_null(st, 6);
	ae->version = col_text_or_null(st, 7);
	ae->lease_id = col_text_or_null(st, 8);
	ae->has_pool_id = sqlite3_column_type(st, 9) != SQLITE_NULL;
	ae->pool_id = sqlite3_column_int64(st, 9);
	ae->has_count = sqlite3_column_type(st, 10) != SQLITE_NULL;
	ae->count = sqlite3_column_int64(st, 10);
	ae->code = sqlite3_column_int64(st, 11);
	ae->detail = col_text_or_null(st, 12);
	ae->has_seats = sqlite3_column_type(st, 13) != SQLITE_NULL;
	ae->seats = sqlite3_column_int64(st, 13);
}

/* How the row st is on stores its chained columns, for audit_row_check:
 * called before row_to_audit, whose reads may convert a value and leave
 * sqlite3_column_type() undefined. */
static void
row_cells(sqlite3_stmt *st, struct audit_cell c[AUDIT_NCOLS])
{
	int i;

	_Static_assert(AUDIT_T_INTEGER == SQLITE_INTEGER &&
	    AUDIT_T_REAL == SQLITE_FLOAT && AUDIT_T_TEXT == SQLITE_TEXT &&
	    AUDIT_T_BLOB == SQLITE_BLOB && AUDIT_T_NULL == SQLITE_NULL,
	    "audit_type is SQLite's datatype codes");
	for (i = 0; i < AUDIT_NCOLS; i++) {
		c[i].type = sqlite3_column_type(st, i);
		c[i].bytes = c[i].type == SQLITE_TEXT ?
		    (size_t)sqlite3_column_bytes(st, i) : 0;
	}
}

/*
 * Append an event, chained to the last one: its id is the last id + 1
 * and its hash covers the previous hash and the whole row.  Inside the
 * caller's transaction, which BEGIN IMMEDIATE makes the only writer.
 */
static int
store_event(struct store *s, const struct store_event *ev)
{
	sqlite3_stmt *last = s->st[ST_EVENT_LAST], *st = s->st[ST_EVENT_INS];
	struct audit_event ae;
	uint8_t prev[AUDIT_HASH_LEN], hash[AUDIT_HASH_LEN];
	int64_t id = 1;
	int have_prev = 0, src, rc = XLICEN_OK, b = SQLITE_OK;

	src = sqlite3_step(last);
	if (src == SQLITE_ROW) {
		id = sqlite3_column_int64(last, 0) + 1;
		if (sqlite3_column_type(last, 1) != SQLITE_BLOB ||
		    sqlite3_column_bytes(last, 1) != AUDIT_HASH_LEN) {
			log_msg(LOG_ERR, "store: audit event %" PRId64 " has no "
			    "hash: the chain cannot be continued", id - 1);
			st_done(last);
			return XLICEN_E_DB;
		}
		memcpy(prev, sqlite3_column_blob(last, 1), AUDIT_HASH_LEN);
		have_prev = 1;
	} else if (src != SQLITE_DONE) {
		st_done(last);
		return store_dberr(s, "event: last hash");
	}
	st_done(last);

	memset(&ae, 0, sizeof(ae));
	ae.id = id;
	ae.ts = ev->ts;
	ae.kind = ev->kind;
	ae.principal = ev->principal;
	ae.host = ev->host;
	ae.display = ev->display;
	ae.product = ev->product;
	ae.version = ev->version;
	ae.lease_id = ev->lease_id;
	ae.has_pool_id = ev->pool_id != 0;
	ae.pool_id = ev->pool_id;
	ae.has_count = ev->count != 0;
	ae.count = ev->count;
	/* Stored as the positive wire value, like DENY and ERROR carry it. */
	ae.code = -(int64_t)ev->code;
	ae.detail = ev->detail;
	ae.has_seats = ev->has_seats;
	ae.seats = ev->seats;
	if ((rc = audit_event_hash(have_prev ? prev : NULL, &ae, hash)) != 0)
		return rc;

	b |= sqlite3_bind_int64(st, 1, id);
	b |= sqlite3_bind_int64(st, 2, ev->ts);
	b |= st_text(st, 3, ev->kind);
	b |= st_text(st, 4, ev->principal);
	b |= st_text(st, 5, ev->host);
	b |= st_text(st, 6, ev->display);
	b |= st_text(st, 7, ev->product);
	b |= st_text(st, 8, ev->version);
	b |= st_text(st, 9, ev->lease_id);
	b |= ae.has_pool_id ? sqlite3_bind_int64(st, 10, ev->pool_id) :
	    sqlite3_bind_null(st, 10);
	b |= ae.has_count ? sqlite3_bind_int64(st, 11, ev->count) :
	    sqlite3_bind_null(st, 11);
	b |= sqlite3_bind_int64(st, 12, ae.code);
	b |= st_text(st, 13, ev->detail);
	b |= ev->has_seats ? sqlite3_bind_int64(st, 14, ev->seats) :
	    sqlite3_bind_null(st, 14);
	b |= sqlite3_bind_blob(st, 15, hash, AUDIT_HASH_LEN, SQLITE_TRANSIENT);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, "insert event");
	st_done(st);
	return rc;
}

int
store_audit(struct store *s, int64_t now, const struct store_audit *a)
{
	struct store_event ev;
	int rc;

	if (s == NULL || a == NULL || a->kind == NULL)
		return XLICEN_E_INVALID;
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = a->kind;
	ev.principal = a->principal;
	ev.host = a->host;
	ev.display = a->display;
	ev.product = a->product;
	ev.version = a->version;
	ev.lease_id = a->lease_id;
	ev.count = a->count;
	ev.code = a->code;
	ev.detail = a->detail;
	if ((rc = store_begin(s)) != 0)
		return rc;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		store_rollback(s);
	return rc;
}

/*
 * Leases and seats.
 */

/*
 * Delete a lease and settle its seat, inside the caller's transaction:
 * the seat shrinks to the largest count of the leases left on it, or,
 * with none left, lingers (linger 1 and the seat has a linger time) or
 * goes.  *delta gets the change in seats in use (0 or negative).
 */
static int
lease_drop(struct store *s, const char *lease_id, int64_t seat_id,
    int64_t lease_count, int64_t now, int linger, int64_t *delta)
{
	sqlite3_stmt *st;
	int64_t nleft, maxc, scount, linger_s;
	int rc = XLICEN_OK;

	*delta = 0;
	st = s->st[ST_LEASE_DEL];
	if (st_text(st, 1, lease_id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		st_done(st);
		return store_dberr(s, "delete lease");
	}
	st_done(st);
	if (seat_id == 0) {
		/* Cannot happen after migration 0002; count it as freed. */
		*delta = -lease_count;
		return XLICEN_OK;
	}
	st = s->st[ST_SEAT_LEASES];
	if (sqlite3_bind_int64(st, 1, seat_id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		st_done(st);
		return store_dberr(s, "seat: leases");
	}
	nleft = sqlite3_column_int64(st, 0);
	maxc = sqlite3_column_int64(st, 1);
	st_done(st);
	st = s->st[ST_SEAT_GET];
	if (sqlite3_bind_int64(st, 1, seat_id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		st_done(st);
		return store_dberr(s, "seat: get");
	}
	scount = sqlite3_column_int64(st, 0);
	linger_s = sqlite3_column_int64(st, 1);
	st_done(st);

	if (nleft > 0) {
		if (maxc >= scount)
			return XLICEN_OK;
		st = s->st[ST_SEAT_SET_COUNT];
		*delta = maxc - scount;
	} else if (linger && linger_s > 0) {
		/* Still counted: the group may come back for it. */
		st = s->st[ST_SEAT_LINGER];
		maxc = now + linger_s;
	} else {
		st = s->st[ST_SEAT_DEL];
		*delta = -scount;
	}
	if (sqlite3_bind_int64(st, 1, seat_id) != SQLITE_OK ||
	    (st != s->st[ST_SEAT_DEL] &&
	    sqlite3_bind_int64(st, 2, maxc) != SQLITE_OK) ||
	    sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, "seat: settle");
	st_done(st);
	return rc;
}

/*
 * Step the sweep query `which` (one parameter: now) to its first row.
 * Returns 1 with the row ready (the caller reads it, then st_done()), 0
 * when none is due (statement reset), or a negative code.
 */
static int
sweep_next(struct store *s, enum store_st which, int64_t now,
    const char *what)
{
	sqlite3_stmt *sel = s->st[which];
	int src;

	if (sqlite3_bind_int64(sel, 1, now) != SQLITE_OK) {
		st_done(sel);
		return store_dberr(s, what);
	}
	src = sqlite3_step(sel);
	if (src == SQLITE_ROW)
		return 1;
	st_done(sel);
	return src == SQLITE_DONE ? 0 : store_dberr(s, what);
}

/*
 * Free the lease of the current row of the sweep query `which` (columns
 * of ST_EXPIRE_SEL; the statement is reset here) and audit it as kind.
 * An expired lease's seat does not linger (the holder is gone, not done);
 * an orphan's does, as after a release: its holder ended its connection.
 */
static int
sweep_lease(struct store *s, enum store_st which, int64_t now,
    const char *kind, int linger, const char *detail)
{
	sqlite3_stmt *sel = s->st[which];
	struct store_event ev;
	char id[STORE_LEASE_ID_LEN + 1], principal[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1], display[LIMIT_STRING + 1];
	char product[LICENSE_NAME_MAX + 1], version[LICENSE_VERSION_MAX + 1];
	int64_t seat_id, count, pool_id, delta;
	int rc;

	col_copy(sel, 0, id, sizeof(id));
	col_copy(sel, 1, principal, sizeof(principal));
	col_copy(sel, 2, host, sizeof(host));
	col_copy(sel, 3, display, sizeof(display));
	col_copy(sel, 4, product, sizeof(product));
	pool_id = sqlite3_column_int64(sel, 5);
	count = sqlite3_column_int64(sel, 6);
	seat_id = sqlite3_column_int64(sel, 7);
	col_copy(sel, 8, version, sizeof(version));
	st_done(sel);
	log_msg(LOG_INFO, "lease %s of %s for %s (%" PRId64 " seat(s)) %s",
	    id, principal, product, count, detail);
	if ((rc = lease_drop(s, id, seat_id, count, now, linger, &delta)) != 0)
		return rc;
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = kind;
	ev.lease_id = id;
	ev.principal = principal;
	ev.host = host;
	ev.display = display;
	ev.product = product;
	ev.version = version[0] != '\0' ? version : NULL;
	ev.pool_id = pool_id;
	ev.count = count;
	ev.has_seats = 1;
	ev.seats = delta;
	return store_event(s, &ev);
}

/*
 * The sweeps, inside the caller's transaction: audit and delete every
 * lease whose expiry is <= now, then every orphan whose grace is over
 * (sweep_lease), then every lingering seat whose time is up.  *n gets
 * how many of all.  One row at a time, re-selected after each change,
 * so no statement reads a table while it is being changed.
 */
static int
store_sweep(struct store *s, int64_t now, int *n)
{
	sqlite3_stmt *sel;
	struct store_event ev;
	char principal[LIMIT_STRING + 1], host[LIMIT_STRING + 1];
	char product[LICENSE_NAME_MAX + 1];
	int64_t seat_id, count, pool_id;
	int rc = XLICEN_OK, src;

	*n = 0;
	while ((src = sweep_next(s, ST_EXPIRE_SEL, now, "expire: select")) != 0) {
		if (src < 0)
			return src;
		if ((rc = sweep_lease(s, ST_EXPIRE_SEL, now, "expire", 0,
		    "expired")) != 0)
			return rc;
		(*n)++;
	}
	while ((src = sweep_next(s, ST_ORPHAN_SEL, now, "orphan: select")) != 0) {
		if (src < 0)
			return src;
		if ((rc = sweep_lease(s, ST_ORPHAN_SEL, now, "orphan", 1,
		    "freed: its holder's connection closed and it was not "
		    "re-attached within the grace")) != 0)
			return rc;
		(*n)++;
	}
	while ((src = sweep_next(s, ST_LINGER_SEL, now, "linger: select")) != 0) {
		if (src < 0)
			return src;
		sel = s->st[ST_LINGER_SEL];
		seat_id = sqlite3_column_int64(sel, 0);
		col_copy(sel, 1, principal, sizeof(principal));
		col_copy(sel, 2, host, sizeof(host));
		col_copy(sel, 3, product, sizeof(product));
		pool_id = sqlite3_column_int64(sel, 4);
		count = sqlite3_column_int64(sel, 5);
		st_done(sel);
		sel = s->st[ST_SEAT_DEL];
		if (sqlite3_bind_int64(sel, 1, seat_id) != SQLITE_OK ||
		    sqlite3_step(sel) != SQLITE_DONE) {
			st_done(sel);
			return store_dberr(s, "linger: delete");
		}
		st_done(sel);
		log_msg(LOG_INFO, "lingering seat of %s for %s (%" PRId64
		    " seat(s)) freed", principal, product, count);
		memset(&ev, 0, sizeof(ev));
		ev.ts = now;
		ev.kind = "linger";
		ev.principal = principal;
		ev.host = host;
		ev.product = product;
		ev.pool_id = pool_id;
		ev.count = count;
		ev.has_seats = 1;
		ev.seats = -count;
		if ((rc = store_event(s, &ev)) != 0)
			return rc;
		(*n)++;
	}
	sel = s->st[ST_REVOKED_PRUNE];
	if (sqlite3_bind_int64(sel, 1, now - LIMIT_REVOKED_KEEP_S) !=
	    SQLITE_OK || sqlite3_step(sel) != SQLITE_DONE)
		rc = store_dberr(s, "revoked: prune");
	st_done(sel);
	return rc;
}

static int
store_new_lease_id(char id[STORE_LEASE_ID_LEN + 1]);
static uint32_t clamp_u32(int64_t v);

/* A usable pool of a checkout. */
struct cand {
	int64_t id;
	int64_t seats;
	int64_t used;
	int uncounted;
	enum policy_dup dup;
	uint32_t linger_s;
	uint32_t ttl_s;
	uint32_t heartbeat_s;
};

/* Whether a node lock lets this client use the pool. */
static int
hostid_matches(const char *hostid, const char *principal, const char *host)
{
	if (hostid == NULL || hostid[0] == '\0')
		return 1;
	if (strncmp(hostid, "principal:", 10) == 0)
		return strcmp(hostid + 10, principal) == 0;
	/* The one host comparison of common/display.h: a lock naming
	 * ws1.example.org is met by a claim of ws1, WS1. or " ws1 ". */
	if (strncmp(hostid, "host:", 5) == 0)
		return display_host_same(hostid + 5, host);
	return 0;
}

/* Uncounted pools first (they cost nothing), then by id (first fit). */
static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->uncounted != y->uncounted)
		return y->uncounted - x->uncounted;
	return (x->id > y->id) - (x->id < y->id);
}

/* Every seat of the product with its owner, for the policy. */
static int
load_held(struct store *s, const char *product, struct policy_holding **out,
    char **strs, size_t *n)
{
	sqlite3_stmt *st = s->st[ST_HELD_PRODUCT];
	struct policy_holding *v = NULL, *tv;
	char *pool = NULL, *tp;
	size_t len = 0, cap = 0, plen = 0, pcap = 0, i, a, b;
	int rc = XLICEN_OK, src;
	size_t *offs = NULL, *to;

	*out = NULL;
	*strs = NULL;
	*n = 0;
	if (st_text(st, 1, product) != SQLITE_OK) {
		rc = store_dberr(s, "held: bind");
		goto out;
	}
	/* Strings go into one buffer; pointers are fixed up at the end,
	 * when the buffer no longer moves. */
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char *pr = (const char *)sqlite3_column_text(st, 0);
		const char *ho = (const char *)sqlite3_column_text(st, 1);

		a = pr != NULL ? strlen(pr) : 0;
		b = ho != NULL ? strlen(ho) : 0;
		if (len == cap) {
			cap = cap ? 2 * cap : 16;
			if ((tv = reallocarray(v, cap, sizeof(*v))) == NULL ||
			    (to = reallocarray(offs, cap, 2 * sizeof(*offs))) ==
			    NULL) {
				if (tv != NULL)
					v = tv;
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			v = tv;
			offs = to;
		}
		while (pcap - plen < a + b + 2) {
			pcap = pcap ? 2 * pcap : 1024;
			if ((tp = realloc(pool, pcap)) == NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			pool = tp;
		}
		offs[2 * len] = plen;
		memcpy(pool + plen, a ? pr : "", a);
		pool[plen + a] = '\0';
		plen += a + 1;
		offs[2 * len + 1] = plen;
		memcpy(pool + plen, b ? ho : "", b);
		pool[plen + b] = '\0';
		plen += b + 1;
		v[len].count = clamp_u32(sqlite3_column_int64(st, 2));
		len++;
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "held: select");
		goto out;
	}
	for (i = 0; i < len; i++) {
		v[i].principal = pool + offs[2 * i];
		v[i].host = pool + offs[2 * i + 1];
	}
	*out = v;
	*strs = pool;
	*n = len;
	v = NULL;
	pool = NULL;
out:
	st_done(st);
	free(v);
	free(pool);
	free(offs);
	return rc;
}

int
store_checkout(struct store *s, const struct store_checkout_req *req,
    struct store_grant *out)
{
	sqlite3_stmt *st = NULL;
	struct store_event ev;
	struct policy_settings ps;
	struct policy_decision dec;
	struct policy_ident ident;
	struct policy_holding *held = NULL;
	struct cand *cands = NULL, *tc, *c, *use = NULL;
	char *held_strs = NULL;
	char lease_id[STORE_LEASE_ID_LEN + 1], detail[300];
	char key[STORE_GROUP_KEY_MAX];
	const char *vmin, *vmax, *hostid, *dupg;
	int64_t id, seats, start, expires, used, total = 0, in_use = 0;
	int64_t join_seat = 0, join_count = 0, want, seat_id = 0, expiry;
	size_t ncand = 0, capc = 0, nheld = 0, i;
	uint32_t ttl, hb, linger;
	int any_product = 0, any_cover = 0, any_dated = 0, any_expired = 0;
	int rc, deny = 0, in_tx = 0, nexp, src, b = SQLITE_OK, d;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || req == NULL || out == NULL ||
	    req->principal == NULL || req->principal[0] == '\0' ||
	    req->product == NULL || req->version == NULL ||
	    req->ttl_s == 0)
		return XLICEN_E_INVALID;
	if (req->count == 0 || req->count > LIMIT_SEATS)
		return XLICEN_E_COUNT;
	if (!license_version_valid(req->version))
		return XLICEN_E_BAD_VALUE;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_sweep(s, req->now, &nexp)) != 0)
		goto out;

	policy_settings(req->policy, req->product, &ps);
	st = s->st[ST_POOLS_PRODUCT];
	if (st_text(st, 1, req->product) != SQLITE_OK) {
		rc = store_dberr(s, "checkout: bind");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		any_product = 1;
		id = sqlite3_column_int64(st, 0);
		vmin = (const char *)sqlite3_column_text(st, 1);
		vmax = (const char *)sqlite3_column_text(st, 2);
		seats = sqlite3_column_int64(st, 3);
		start = sqlite3_column_int64(st, 4);
		expires = sqlite3_column_int64(st, 5);
		used = sqlite3_column_int64(st, 12);
		if (vmin == NULL || vmax == NULL ||
		    license_version_cmp(req->version, vmin) < 0 ||
		    license_version_cmp(req->version, vmax) > 0)
			continue;
		any_cover = 1;
		switch (pool_dates(start, expires, req->now)) {
		case 1:
			any_expired = 1;
			continue;
		case -1:
			continue;
		}
		any_dated = 1;
		hostid = (const char *)sqlite3_column_text(st, 7);
		if (!hostid_matches(hostid, req->principal, req->host))
			continue;
		if (ncand == capc) {
			capc = capc ? 2 * capc : 8;
			if ((tc = reallocarray(cands, capc, sizeof(*cands))) ==
			    NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			cands = tc;
		}
		c = &cands[ncand++];
		memset(c, 0, sizeof(*c));
		c->id = id;
		c->seats = seats;
		c->used = used;
		c->uncounted = sqlite3_column_int(st, 6) != 0;
		/* The vendor's signed dup_group wins over the policy's. */
		dupg = (const char *)sqlite3_column_text(st, 8);
		d = policy_dup_parse(dupg);
		c->dup = d >= 0 ? (enum policy_dup)d : ps.dup_set ? ps.dup :
		    POLICY_DUP_UHD;
		/* Linger: the vendor's is a minimum the policy may raise. */
		c->linger_s = (uint32_t)sqlite3_column_int64(st, 9);
		if (ps.linger_s > c->linger_s)
			c->linger_s = ps.linger_s;
		c->ttl_s = (uint32_t)sqlite3_column_int64(st, 10);
		c->heartbeat_s = (uint32_t)sqlite3_column_int64(st, 11);
		if (!c->uncounted) {
			total += seats;
			in_use += used;
		}
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "checkout: select pools");
		goto out;
	}
	st_done(st);
	st = NULL;

	memset(&ev, 0, sizeof(ev));
	ev.ts = req->now;
	ev.principal = req->principal;
	ev.host = req->host;
	ev.display = req->display;
	ev.product = req->product;
	ev.version = req->version;
	ev.count = req->count;
	if (!any_product)
		deny = XLICEN_E_NO_PRODUCT;
	else if (!any_cover)
		deny = XLICEN_E_NO_VERSION;
	else if (!any_dated)
		deny = any_expired ? XLICEN_E_EXPIRED : XLICEN_E_NOT_YET;
	else if (ncand == 0)
		deny = XLICEN_E_WRONG_HOST;
	if (deny != 0)
		goto deny;

	if (ncand > 1)
		qsort(cands, ncand, sizeof(*cands), cand_cmp);
	if ((rc = store_new_lease_id(lease_id)) != 0)
		goto out;

	/* A seat of this checkout's dup group, in any usable pool. */
	for (i = 0; i < ncand && join_seat == 0; i++) {
		if ((rc = policy_group_key(cands[i].dup, req->principal,
		    req->host, req->display, req->pid, lease_id, key,
		    sizeof(key))) != 0)
			goto out;
		st = s->st[ST_SEAT_FIND];
		if (sqlite3_bind_int64(st, 1, cands[i].id) != SQLITE_OK ||
		    st_text(st, 2, key) != SQLITE_OK) {
			rc = store_dberr(s, "checkout: bind seat");
			goto out;
		}
		src = sqlite3_step(st);
		if (src == SQLITE_ROW) {
			join_seat = sqlite3_column_int64(st, 0);
			join_count = sqlite3_column_int64(st, 1);
			use = &cands[i];
		} else if (src != SQLITE_DONE) {
			rc = store_dberr(s, "checkout: find seat");
			goto out;
		}
		st_done(st);
		st = NULL;
	}
	want = join_seat != 0 ? (req->count > join_count ?
	    req->count - join_count : 0) : req->count;

	if (req->policy != NULL &&
	    (rc = load_held(s, req->product, &held, &held_strs, &nheld)) != 0)
		goto out;
	ident.principal = req->principal;
	ident.host = req->host;
	policy_check(req->policy, req->product, &ident, (uint32_t)want,
	    clamp_u32(total), clamp_u32(in_use), held, nheld, &dec);
	if (dec.code != 0) {
		deny = dec.code;
		snprintf(out->reason, sizeof(out->reason), "%s", dec.reason);
		goto deny;
	}

	if (join_seat != 0 && want > 0 && !use->uncounted &&
	    (use->seats - use->used < want || dec.avail < want))
		use = NULL, deny = XLICEN_E_NO_SEATS;
	if (join_seat == 0) {
		use = NULL;
		for (i = 0; i < ncand && use == NULL; i++) {
			/* A reissued license may have fewer seats than are
			 * in use: seats - used can be negative. */
			if (cands[i].uncounted ||
			    (cands[i].seats - cands[i].used >= want &&
			    dec.avail >= want))
				use = &cands[i];
		}
		if (use == NULL)
			deny = XLICEN_E_NO_SEATS;
	}
	if (deny != 0) {
		if (dec.reserved_others > 0)
			snprintf(out->reason, sizeof(out->reason), "%" PRId64
			    " of %" PRId64 " seats of %s in use and %u of the "
			    "free ones reserved for others (%u wanted)", in_use,
			    total, req->product, dec.reserved_others,
			    req->count);
		goto deny;
	}

	/* The seat: joined (grown if this checkout wants more) or new. */
	linger = use->linger_s;
	if (join_seat != 0) {
		st = s->st[ST_SEAT_JOIN];
		b |= sqlite3_bind_int64(st, 1, join_seat);
		b |= sqlite3_bind_int64(st, 2, req->count);
		b |= sqlite3_bind_int64(st, 3, linger);
		if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
			rc = store_dberr(s, "checkout: join seat");
			goto out;
		}
		seat_id = join_seat;
	} else {
		if ((rc = policy_group_key(use->dup, req->principal, req->host,
		    req->display, req->pid, lease_id, key, sizeof(key))) != 0)
			goto out;
		st = s->st[ST_SEAT_INS];
		b |= sqlite3_bind_int64(st, 1, use->id);
		b |= st_text(st, 2, key);
		b |= st_text(st, 3, req->principal);
		b |= st_text(st, 4, req->host != NULL ? req->host : "");
		b |= sqlite3_bind_int64(st, 5, req->count);
		b |= sqlite3_bind_int64(st, 6, linger);
		b |= sqlite3_bind_int64(st, 7, req->now);
		if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
			rc = store_dberr(s, "checkout: insert seat");
			goto out;
		}
		seat_id = sqlite3_column_int64(st, 0);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = store_dberr(s, "checkout: insert seat");
			goto out;
		}
	}
	st_done(st);
	st = NULL;

	/* The license's TTL and heartbeat, else the policy's, else ours. */
	ttl = use->ttl_s != 0 ? use->ttl_s : ps.ttl_s != 0 ? ps.ttl_s :
	    req->ttl_s;
	if (ttl < LIMIT_LEASE_TTL_MIN_S)
		ttl = LIMIT_LEASE_TTL_MIN_S;
	hb = use->heartbeat_s != 0 ? use->heartbeat_s :
	    ps.heartbeat_s != 0 ? ps.heartbeat_s : req->heartbeat_s;
	if (hb == 0 || hb > ttl / 3)
		hb = ttl / 3 > 0 ? ttl / 3 : 1;
	expiry = req->now + (int64_t)ttl;
	st = s->st[ST_LEASE_INS];
	b = SQLITE_OK;
	b |= st_text(st, 1, lease_id);
	b |= sqlite3_bind_int64(st, 2, use->id);
	b |= st_text(st, 3, req->principal);
	b |= st_text(st, 4, req->host ? req->host : "");
	b |= st_text(st, 5, req->display ? req->display : "");
	b |= sqlite3_bind_int64(st, 6, req->pid);
	b |= sqlite3_bind_int64(st, 7, req->count);
	b |= sqlite3_bind_int64(st, 8, ttl);
	b |= sqlite3_bind_int64(st, 9, req->now);
	b |= sqlite3_bind_int64(st, 10, expiry);
	b |= sqlite3_bind_int64(st, 11, seat_id);
	b |= sqlite3_bind_int64(st, 12, hb);
	b |= st_text(st, 13, req->version);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		rc = store_dberr(s, "checkout: insert lease");
		goto out;
	}
	st_done(st);
	st = NULL;
	ev.kind = "grant";
	ev.lease_id = lease_id;
	ev.pool_id = use->id;
	ev.has_seats = 1;
	ev.seats = want;
	if (join_seat != 0) {
		snprintf(detail, sizeof(detail), "shares a seat (dup group %s)",
		    policy_dup_name(use->dup));
		ev.detail = detail;
	}
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;

	memcpy(out->lease_id, lease_id, sizeof(lease_id));
	out->expires = expiry;
	out->in_use = clamp_u32(in_use + (use->uncounted ? 0 : want));
	out->total = clamp_u32(total);
	out->ttl_s = ttl;
	out->heartbeat_s = hb;
	out->pool_id = use->id;
	out->uncounted = use->uncounted;
	out->shared = join_seat != 0;
	rc = XLICEN_OK;
	goto out;

deny:
	if (deny == XLICEN_E_NO_SEATS) {
		out->in_use = clamp_u32(in_use);
		out->total = clamp_u32(total);
		out->queueable = req->count <= total;
		if (out->reason[0] == '\0')
			snprintf(out->reason, sizeof(out->reason),
			    "in use %" PRId64 " of %" PRId64, in_use, total);
	} else if (deny == XLICEN_E_MAX_REACHED) {
		out->queueable = 1;
	}
	ev.kind = "deny";
	ev.code = deny;
	ev.detail = out->reason[0] != '\0' ? out->reason : NULL;
	if (!req->quiet && (rc = store_event(s, &ev)) != 0)
		goto out;
	/* Also when quiet: the sweep may have expired something. */
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	rc = deny;
out:
	st_done(st);
	if (in_tx)
		store_rollback(s);
	free(cands);
	free(held);
	free(held_strs);
	return rc;
}

/* The product's counted seats in use and in total, for a reply. */
static int
product_totals(struct store *s, const char *product, int64_t now,
    uint32_t *in_use, uint32_t *total)
{
	sqlite3_stmt *st = s->st[ST_PRODUCT_TOTALS];
	int64_t t = 0, u = 0;
	int rc = XLICEN_OK, src;

	*in_use = *total = 0;
	if (st_text(st, 1, product) != SQLITE_OK) {
		rc = store_dberr(s, "totals: bind");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (pool_dates(sqlite3_column_int64(st, 1),
		    sqlite3_column_int64(st, 2), now) != 0)
			continue;
		t += sqlite3_column_int64(st, 0);
		u += sqlite3_column_int64(st, 3);
	}
	if (src != SQLITE_DONE)
		rc = store_dberr(s, "totals: select");
	*in_use = clamp_u32(u);
	*total = clamp_u32(t);
out:
	st_done(st);
	return rc;
}

/*
 * Why a lease could not be touched: REVOKED to the owner of a lease an
 * administrator removed, NO_LEASE if it is gone or past its expiry, else
 * NOT_OWNER (which is audited: someone tried another principal's lease).
 * Called inside the caller's transaction; commits the audit record.
 */
static int
store_lease_refused(struct store *s, const char *principal,
    const char *lease_id, int64_t now, const char *op)
{
	sqlite3_stmt *st = s->st[ST_LEASE_GET];
	struct store_event ev;
	char owner[LIMIT_STRING + 1], product[LICENSE_NAME_MAX + 1];
	int rc, src;

	if (st_text(st, 1, lease_id) != SQLITE_OK) {
		rc = store_dberr(s, "lease: bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_DONE ||
	    (src == SQLITE_ROW && sqlite3_column_int64(st, 1) <= now)) {
		st_done(st);
		st = s->st[ST_REVOKED_GET];
		rc = XLICEN_E_NO_LEASE;
		if (st_text(st, 1, lease_id) != SQLITE_OK) {
			rc = store_dberr(s, "revoked: bind");
			goto out;
		}
		src = sqlite3_step(st);
		if (src == SQLITE_ROW && strcmp((const char *)
		    sqlite3_column_text(st, 0), principal) == 0)
			rc = XLICEN_E_REVOKED;
		else if (src != SQLITE_ROW && src != SQLITE_DONE)
			rc = store_dberr(s, "revoked: select");
		goto out;
	}
	if (src != SQLITE_ROW) {
		rc = store_dberr(s, "lease: select");
		goto out;
	}
	col_copy(st, 0, owner, sizeof(owner));
	col_copy(st, 6, product, sizeof(product));
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "deny";
	ev.principal = principal;
	ev.product = product;
	ev.lease_id = lease_id;
	ev.pool_id = sqlite3_column_int64(st, 4);
	ev.code = XLICEN_E_NOT_OWNER;
	ev.detail = op;
	st_done(st);
	st = NULL;
	log_msg(LOG_NOTICE, "%s refused: %s tried lease %s of %s", op,
	    principal, lease_id, owner);
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	rc = XLICEN_E_NOT_OWNER;
out:
	st_done(st);
	return rc;
}

/* A heartbeat written at once: the refusals (NOT_OWNER is audited) and
 * whatever the fast path of store_heartbeat cannot decide alone. */
static int
store_heartbeat_write(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int64_t *expires)
{
	sqlite3_stmt *st = NULL;
	int64_t exp = 0;
	int rc, in_tx = 0, src, b = SQLITE_OK;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	/* The common case in one statement; only a refusal looks closer. */
	st = s->st[ST_HB_UPDATE];
	b |= st_text(st, 1, lease_id);
	b |= sqlite3_bind_int64(st, 2, now);
	b |= st_text(st, 3, principal);
	if (b != SQLITE_OK) {
		rc = store_dberr(s, "heartbeat: bind");
		goto out;
	}
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		exp = sqlite3_column_int64(st, 0);
		src = sqlite3_step(st);
	} else if (src == SQLITE_DONE) {
		st_done(st);
		st = NULL;
		rc = store_lease_refused(s, principal, lease_id, now,
		    "heartbeat");
		if (rc == XLICEN_E_NOT_OWNER)
			in_tx = 0;	/* committed its audit record */
		goto out;
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "heartbeat: update");
		goto out;
	}
	st_done(st);
	st = NULL;
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (expires != NULL)
		*expires = exp;
out:
	st_done(st);
	if (in_tx)
		store_rollback(s);
	return rc;
}

/* A lease of principal, not past its expiry, read inside the caller's
 * transaction; otherwise the refusal (committed if audited). */
struct lease_row {
	char owner[LIMIT_STRING + 1];
	char host[LIMIT_STRING + 1];
	char display[LIMIT_STRING + 1];
	char product[LICENSE_NAME_MAX + 1];
	char version[LICENSE_VERSION_MAX + 1];
	int64_t pool_id;
	int64_t count;
	int64_t seat_id;
	int64_t ttl_s;
	int64_t hb_s;
};

static int
lease_get(struct store *s, const char *principal, const char *lease_id,
    int64_t now, const char *op, struct lease_row *lr, int *committed)
{
	sqlite3_stmt *get = s->st[ST_LEASE_GET];
	int rc = XLICEN_OK, src;

	*committed = 0;
	memset(lr, 0, sizeof(*lr));
	if (st_text(get, 1, lease_id) != SQLITE_OK) {
		st_done(get);
		return store_dberr(s, "lease: bind");
	}
	src = sqlite3_step(get);
	if (src == SQLITE_DONE || (src == SQLITE_ROW &&
	    (sqlite3_column_int64(get, 1) <= now || (principal != NULL &&
	    strcmp((const char *)sqlite3_column_text(get, 0), principal) !=
	    0)))) {
		st_done(get);
		if (principal == NULL)
			return XLICEN_E_NO_LEASE;
		rc = store_lease_refused(s, principal, lease_id, now, op);
		*committed = rc == XLICEN_E_NOT_OWNER;
		return rc;
	}
	if (src != SQLITE_ROW) {
		st_done(get);
		return store_dberr(s, "lease: select");
	}
	col_copy(get, 0, lr->owner, sizeof(lr->owner));
	col_copy(get, 2, lr->host, sizeof(lr->host));
	col_copy(get, 3, lr->display, sizeof(lr->display));
	lr->pool_id = sqlite3_column_int64(get, 4);
	lr->count = sqlite3_column_int64(get, 5);
	col_copy(get, 6, lr->product, sizeof(lr->product));
	lr->seat_id = sqlite3_column_int64(get, 7);
	lr->ttl_s = sqlite3_column_int64(get, 8);
	lr->hb_s = sqlite3_column_int64(get, 9);
	col_copy(get, 10, lr->version, sizeof(lr->version));
	st_done(get);
	return XLICEN_OK;
}

/*
 * The common case costs one indexed read and no write: the lease exists,
 * is the caller's and has not expired, so the new expiry is answered at
 * once and kept in memory; the next operation that writes, or store_flush
 * within a second, writes it.  A heartbeat is not a grant: the heartbeats
 * of the last second that a crash may lose cost nothing because the
 * server extends every lease by one TTL when it starts
 * (store_extend_leases).
 */
int
store_heartbeat(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int64_t *expires)
{
	sqlite3_stmt *st;
	struct store_hb *e;
	const unsigned char *owner;
	int64_t ttl, exp;
	int rc, src, mine, orphan;

	if (expires != NULL)
		*expires = 0;
	if (s == NULL || principal == NULL || lease_id == NULL)
		return XLICEN_E_INVALID;
	if (strlen(lease_id) != STORE_LEASE_ID_LEN)
		return store_heartbeat_write(s, principal, lease_id, now,
		    expires);
	st = s->st[ST_HB_GET];
	if (st_text(st, 1, lease_id) != SQLITE_OK) {
		rc = store_dberr(s, "heartbeat: bind");
		st_done(st);
		return rc;
	}
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		st_done(st);
		if (src != SQLITE_DONE)
			return store_dberr(s, "heartbeat: select");
		return store_heartbeat_write(s, principal, lease_id, now,
		    expires);
	}
	owner = sqlite3_column_text(st, 0);
	mine = owner != NULL && strcmp((const char *)owner, principal) == 0;
	ttl = sqlite3_column_int64(st, 1);
	exp = sqlite3_column_int64(st, 2);
	orphan = sqlite3_column_int64(st, 3) != 0;
	st_done(st);
	if (s->hb_n > 0 && (e = hb_slot(s, lease_id))->id[0] != '\0')
		exp = e->expires;
	/* An orphan's heartbeat re-attaches it: written at once, so that
	 * its grace is over in the database too. */
	if (!mine || exp <= now || orphan)
		return store_heartbeat_write(s, principal, lease_id, now,
		    expires);
	if ((rc = hb_put(s, lease_id, now, now + ttl)) != 0)
		return rc;
	if (expires != NULL)
		*expires = now + ttl;
	return XLICEN_OK;
}

int
store_release(struct store *s, const char *principal,
    const char *lease_id, int64_t now, int *freed)
{
	struct store_event ev;
	struct lease_row lr;
	int64_t delta = 0;
	int rc, in_tx = 0, committed;

	if (freed != NULL)
		*freed = 0;
	if (s == NULL || principal == NULL || lease_id == NULL)
		return XLICEN_E_INVALID;

	if ((rc = store_begin_light(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = lease_get(s, principal, lease_id, now, "release", &lr,
	    &committed)) != 0) {
		if (committed)
			in_tx = 0;
		goto out;
	}
	if ((rc = lease_drop(s, lease_id, lr.seat_id, lr.count, now, 1,
	    &delta)) != 0)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "release";
	ev.principal = principal;
	ev.host = lr.host;
	ev.display = lr.display;
	ev.product = lr.product;
	ev.version = lr.version[0] != '\0' ? lr.version : NULL;
	ev.lease_id = lease_id;
	ev.pool_id = lr.pool_id;
	ev.count = lr.count;
	ev.has_seats = 1;
	ev.seats = delta;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (freed != NULL)
		*freed = delta < 0;
out:
	if (in_tx)
		store_rollback(s);
	return rc;
}

int
store_remove(struct store *s, const char *admin, const char *lease_id,
    int64_t now, char *owner, size_t ownerlen)
{
	sqlite3_stmt *st;
	struct store_event ev;
	struct lease_row lr;
	char detail[LIMIT_STRING + 16];
	int64_t delta = 0;
	int rc, in_tx = 0, committed, b = SQLITE_OK;

	if (owner != NULL && ownerlen > 0)
		owner[0] = '\0';
	if (s == NULL || admin == NULL || lease_id == NULL)
		return XLICEN_E_INVALID;
	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = lease_get(s, NULL, lease_id, now, "remove", &lr,
	    &committed)) != 0)
		goto out;
	if ((rc = lease_drop(s, lease_id, lr.seat_id, lr.count, now, 0,
	    &delta)) != 0)
		goto out;
	st = s->st[ST_REVOKED_INS];
	b |= st_text(st, 1, lease_id);
	b |= st_text(st, 2, lr.owner);
	b |= sqlite3_bind_int64(st, 3, now);
	b |= st_text(st, 4, admin);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		st_done(st);
		rc = store_dberr(s, "remove: revoked");
		goto out;
	}
	st_done(st);
	snprintf(detail, sizeof(detail), "by %s", admin);
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "remove";
	ev.principal = lr.owner;
	ev.host = lr.host;
	ev.display = lr.display;
	ev.product = lr.product;
	ev.version = lr.version[0] != '\0' ? lr.version : NULL;
	ev.lease_id = lease_id;
	ev.pool_id = lr.pool_id;
	ev.count = lr.count;
	ev.detail = detail;
	ev.has_seats = 1;
	ev.seats = delta;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (owner != NULL && ownerlen > 0)
		snprintf(owner, ownerlen, "%s", lr.owner);
out:
	if (in_tx)
		store_rollback(s);
	return rc;
}

int
store_reclaim(struct store *s, const char *principal, const char *lease_id,
    const char *host, const char *display, uint32_t pid, int64_t now,
    struct store_grant *out)
{
	sqlite3_stmt *st;
	struct store_event ev;
	struct lease_row lr;
	int64_t exp = 0;
	int rc, in_tx = 0, committed, b = SQLITE_OK;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (s == NULL || principal == NULL || lease_id == NULL || out == NULL)
		return XLICEN_E_INVALID;
	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = lease_get(s, principal, lease_id, now, "reclaim", &lr,
	    &committed)) != 0) {
		if (committed)
			in_tx = 0;
		goto out;
	}
	st = s->st[ST_RECLAIM_UPDATE];
	b |= st_text(st, 1, lease_id);
	b |= sqlite3_bind_int64(st, 2, now);
	b |= sqlite3_bind_int64(st, 3, pid);
	b |= st_text(st, 4, host);
	b |= st_text(st, 5, display);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		st_done(st);
		rc = store_dberr(s, "reclaim: update");
		goto out;
	}
	exp = sqlite3_column_int64(st, 0);
	(void)sqlite3_step(st);
	st_done(st);
	if ((rc = product_totals(s, lr.product, now, &out->in_use,
	    &out->total)) != 0)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "reclaim";
	ev.principal = principal;
	ev.host = host != NULL ? host : lr.host;
	ev.display = display != NULL ? display : lr.display;
	ev.product = lr.product;
	ev.version = lr.version[0] != '\0' ? lr.version : NULL;
	ev.lease_id = lease_id;
	ev.pool_id = lr.pool_id;
	ev.count = lr.count;
	ev.has_seats = 1;
	ev.seats = 0;
	if ((rc = store_event(s, &ev)) != 0 || (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	memcpy(out->lease_id, lease_id, strnlen(lease_id, LIMIT_LEASE_ID));
	out->expires = exp;
	out->ttl_s = (uint32_t)lr.ttl_s;
	out->heartbeat_s = lr.hb_s > 0 ? (uint32_t)lr.hb_s :
	    (uint32_t)(lr.ttl_s / 3 > 0 ? lr.ttl_s / 3 : 1);
	out->pool_id = lr.pool_id;
out:
	if (in_tx)
		store_rollback(s);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int
store_expire(struct store *s, int64_t now, int *n)
{
	int rc, in_tx = 0, found = 0;

	if (n != NULL)
		*n = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	if ((rc = store_begin_light(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_sweep(s, now, &found)) != 0 ||
	    (rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (n != NULL)
		*n = found;
out:
	if (in_tx)
		store_rollback(s);
	return rc;
}

int64_t
store_next_expiry(struct store *s)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (s == NULL)
		return 0;
	(void)store_hb_write(s);
	st = s->st[ST_NEXT_EXPIRY];
	if (sqlite3_step(st) != SQLITE_ROW)
		(void)store_dberr(s, "next expiry");
	else if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	st_done(st);
	return v;
}

int
store_orphan(struct store *s, const char *const *lease_ids, size_t n,
    int64_t now, uint32_t grace_s, size_t *orphaned)
{
	sqlite3_stmt *st;
	size_t i, done = 0;
	int rc, in_tx = 0;

	if (orphaned != NULL)
		*orphaned = 0;
	if (s == NULL || (n > 0 && lease_ids == NULL))
		return XLICEN_E_INVALID;
	if (n == 0 || grace_s == 0)
		return XLICEN_OK;
	/* Not synced: a grace lost to a power cut leaves the TTL. */
	if ((rc = store_begin_light(s)) != 0)
		goto out;
	in_tx = 1;
	st = s->st[ST_ORPHAN_SET];
	for (i = 0; i < n; i++) {
		if (st_text(st, 1, lease_ids[i]) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, now + grace_s) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE) {
			st_done(st);
			rc = store_dberr(s, "orphan: set");
			goto out;
		}
		st_done(st);
		if (sqlite3_changes(s->db) > 0) {
			log_msg(LOG_INFO, "lease %s: its holder's connection "
			    "closed; freed in %u s unless re-attached",
			    lease_ids[i], grace_s);
			done++;
		}
	}
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	if (orphaned != NULL)
		*orphaned = done;
out:
	if (in_tx)
		store_rollback(s);
	return rc;
}

int
store_orphans_rearm(struct store *s, int64_t now, uint32_t grace_s)
{
	sqlite3_stmt *st;
	int rc;

	if (s == NULL)
		return XLICEN_E_INVALID;
	if ((rc = store_begin_light(s)) != 0)
		return rc;
	st = s->st[ST_ORPHAN_REARM];
	if (sqlite3_bind_int64(st, 1, grace_s > 0 ? now + grace_s : 0) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		rc = store_dberr(s, "orphan: rearm");
		st_done(st);
		store_rollback(s);
		return rc;
	}
	st_done(st);
	if ((rc = store_commit(s)) != 0)
		store_rollback(s);
	return rc;
}

static int
store_new_lease_id(char id[STORE_LEASE_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[STORE_LEASE_ID_LEN / 2];
	size_t got = 0, i;
	ssize_t r;

	while (got < sizeof(raw)) {
		r = getrandom(raw + got, sizeof(raw) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERR, "store: getrandom: %s",
			    strerror(errno));
			return XLICEN_E_INTERNAL;
		}
		got += (size_t)r;
	}
	for (i = 0; i < sizeof(raw); i++) {
		id[2 * i] = hex[raw[i] >> 4];
		id[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	id[STORE_LEASE_ID_LEN] = '\0';
	return XLICEN_OK;
}

static uint32_t
clamp_u32(int64_t v)
{
	if (v < 0)
		return 0;
	if (v > (int64_t)UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)v;
}

/*
 * Opening.
 */

static int
open_exec(sqlite3 *db, const char *sql, const char *what, char *err,
    size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_seterr(err, errlen, "%s: %s", what,
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return XLICEN_E_DB;
	}
	return XLICEN_OK;
}

/* A one-off single-value query used only while opening. */
static int
open_query_int(sqlite3 *db, const char *sql, int64_t *v, char *text,
    size_t textlen, const char *what, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = XLICEN_E_DB;

	*v = 0;
	if (text != NULL && textlen > 0)
		text[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		store_seterr(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
		goto out;
	}
	*v = sqlite3_column_int64(st, 0);
	if (text != NULL)
		col_copy(st, 0, text, textlen);
	rc = XLICEN_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

static void
open_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

static int
open_record_version(sqlite3 *db, const struct schema_migration *m,
    char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	int rc = XLICEN_E_DB;

	if (sqlite3_prepare_v2(db, "INSERT INTO schema_version (version,"
	    " name, applied_at) VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
	    SQLITE_OK ||
	    sqlite3_bind_int(st, 1, m->version) != SQLITE_OK ||
	    st_text(st, 2, m->name) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, (int64_t)time(NULL)) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		store_seterr(err, errlen, "recording migration %s: %s",
		    m->name, sqlite3_errmsg(db));
		goto out;
	}
	rc = XLICEN_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

/*
 * Apply every migration newer than the database, one transaction each.
 * BEGIN IMMEDIATE and re-reading the version inside it make two servers
 * started on one file at once apply each migration exactly once.
 */
static int
store_migrate(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	const struct schema_migration *m;
	int64_t cur = 0;
	int known = 0, rc = XLICEN_E_DB;

	for (m = schema_migrations; m->version != 0; m++) {
		if (m->version <= known) {
			store_seterr(err, errlen, "embedded migration %s is "
			    "out of order (internal error)", m->name);
			return XLICEN_E_DB;
		}
		known = m->version;
	}

	if ((rc = open_exec(db, "BEGIN IMMEDIATE", "begin", err,
	    errlen)) != 0)
		goto out;
	if ((rc = open_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	    " applied_at INTEGER NOT NULL)", "creating schema_version", err,
	    errlen)) != 0)
		goto out;
	if ((rc = open_query_int(db, "SELECT COALESCE(MAX(version), 0)"
	    " FROM schema_version", &cur, NULL, 0, "reading schema_version",
	    err, errlen)) != 0)
		goto out;
	if (cur > known) {
		store_seterr(err, errlen, "%s has schema version %" PRId64
		    ", newer than the %d this gss-xlicend knows: refusing to "
		    "use it (run a newer server or restore a backup)", path,
		    cur, known);
		rc = XLICEN_E_DB;
		goto out;
	}
	if ((rc = open_exec(db, "COMMIT", "commit", err, errlen)) != 0)
		goto out;

	for (m = schema_migrations; m->version != 0; m++) {
		if (m->version <= cur)
			continue;
		if ((rc = open_exec(db, "BEGIN IMMEDIATE", "begin", err,
		    errlen)) != 0)
			goto out;
		if ((rc = open_query_int(db, "SELECT COALESCE(MAX(version), 0)"
		    " FROM schema_version", &cur, NULL, 0,
		    "reading schema_version", err, errlen)) != 0)
			goto out;
		if (m->version > cur) {
			char what[128];

			snprintf(what, sizeof(what), "migration %s", m->name);
			if ((rc = open_exec(db, m->sql, what, err,
			    errlen)) != 0 ||
			    (rc = open_record_version(db, m, err,
			    errlen)) != 0)
				goto out;
			log_msg(LOG_NOTICE, "store: %s: applied migration %s",
			    path, m->name);
		}
		if ((rc = open_exec(db, "COMMIT", "commit", err,
		    errlen)) != 0)
			goto out;
	}
	rc = XLICEN_OK;
out:
	if (rc != 0)
		open_rollback(db);
	return rc;
}

/*
 * Events written before the hash chain existed (migration 0002) get their
 * hashes, in id order, once; the trigger of 0002 allows exactly this
 * update.  From then on every row is written with its hash.
 */
static int
store_backfill_hashes(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	struct audit_event ae;
	uint8_t prev[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	int have = 0, rc = XLICEN_E_DB, src, n = 0;
	int64_t missing = 0;

	if ((rc = open_query_int(db, "SELECT COUNT(*) FROM events WHERE hash"
	    " IS NULL", &missing, NULL, 0, "counting unhashed events", err,
	    errlen)) != 0 || missing == 0)
		return rc;
	rc = XLICEN_E_DB;
	if (open_exec(db, "BEGIN IMMEDIATE", "begin", err, errlen) != 0)
		return XLICEN_E_DB;
	if (sqlite3_prepare_v2(db, "SELECT id, ts, kind, principal, host,"
	    " display, product, version, lease_id, pool_id, count, code,"
	    " detail, seats, hash FROM events ORDER BY id", -1, &sel, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(db, "UPDATE events SET hash = ?2 WHERE id = ?1",
	    -1, &upd, NULL) != SQLITE_OK) {
		store_seterr(err, errlen, "hash chain: %s", sqlite3_errmsg(db));
		goto out;
	}
	/* Updating only the hash column of the row just read, which no
	 * index covers, does not disturb the scan. */
	while ((src = sqlite3_step(sel)) == SQLITE_ROW) {
		if (sqlite3_column_type(sel, 14) == SQLITE_BLOB &&
		    sqlite3_column_bytes(sel, 14) == AUDIT_HASH_LEN) {
			memcpy(prev, sqlite3_column_blob(sel, 14),
			    AUDIT_HASH_LEN);
			have = 1;
			continue;
		}
		row_to_audit(sel, &ae);
		if (audit_event_hash(have ? prev : NULL, &ae, h) != 0) {
			store_seterr(err, errlen, "hash chain: hashing failed");
			goto out;
		}
		if (sqlite3_bind_int64(upd, 1, ae.id) != SQLITE_OK ||
		    sqlite3_bind_blob(upd, 2, h, AUDIT_HASH_LEN,
		    SQLITE_TRANSIENT) != SQLITE_OK ||
		    sqlite3_step(upd) != SQLITE_DONE) {
			store_seterr(err, errlen, "hash chain: %s",
			    sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(upd);
		memcpy(prev, h, sizeof(prev));
		have = 1;
		n++;
	}
	if (src != SQLITE_DONE) {
		store_seterr(err, errlen, "hash chain: %s", sqlite3_errmsg(db));
		goto out;
	}
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sel = upd = NULL;
	if (open_exec(db, "COMMIT", "commit", err, errlen) != 0)
		goto out;
	log_msg(LOG_NOTICE, "store: audit hash chain: %d earlier event(s) "
	    "hashed", n);
	rc = XLICEN_OK;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	if (rc != 0)
		open_rollback(db);
	return rc;
}

/* Connection settings; the pragmas that matter are read back because an
 * unsupported one is silently ignored. */
static int
store_configure(sqlite3 *db, char *err, size_t errlen)
{
	char mode[16];
	int64_t v;
	int rc;

	sqlite3_extended_result_codes(db, 1);
	/* No writable_schema or similar footguns; and never run SQL functions
	 * named by a (possibly tampered) schema. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_busy_timeout(db, STORE_BUSY_MS);

	if ((rc = open_query_int(db, "PRAGMA journal_mode = WAL", &v, mode,
	    sizeof(mode), "setting WAL mode", err, errlen)) != 0)
		return rc;
	/* "memory" is what an in-memory database answers; nothing to make
	 * durable there. */
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
		store_seterr(err, errlen, "cannot use WAL mode (journal mode "
		    "stays \"%s\")", mode);
		return XLICEN_E_DB;
	}
	/* FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on
	 * power loss, and a lost grant means an oversubscribed pool. */
	if ((rc = open_exec(db, "PRAGMA synchronous = FULL",
	    "setting synchronous", err, errlen)) != 0)
		return rc;
	if ((rc = open_exec(db, "PRAGMA foreign_keys = ON",
	    "enabling foreign keys", err, errlen)) != 0)
		return rc;
	if ((rc = open_query_int(db, "PRAGMA foreign_keys", &v, NULL, 0,
	    "reading foreign_keys", err, errlen)) != 0)
		return rc;
	if (v != 1) {
		store_seterr(err, errlen, "this SQLite does not enforce foreign "
		    "keys");
		return XLICEN_E_DB;
	}
	return XLICEN_OK;
}

/*
 * One server per SQLite database: two would each count the seats in use
 * and hand out the same free seat.  SQLite's own locks are POSIX locks on
 * the database file, which a process loses when it closes any descriptor
 * of that file, so the lock is taken on a file of its own beside it,
 * PATH-lock, with flock(2), which belongs to the open file description:
 * held until store_close (or the process's end, kill -9 included), never
 * dropped by another descriptor.  The holder's pid is written in the file
 * so that the refusal can name it.  The file is not removed at close (a
 * next server may already have it open).  Not done for :memory: and URI
 * names; a PostgreSQL store shares its database on purpose.
 */

/* The lock file's path for the database at path; 0 if there is none. */
static int
store_lock_path(const char *path, char *lpath, size_t lpathlen)
{
	if (path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0)
		return 0;
	return snprintf(lpath, lpathlen, "%s-lock", path) < (int)lpathlen;
}

/* The refusal: another server holds lpath (fd, open on it). */
static void
store_lock_busy(int fd, const char *lpath, char *err, size_t errlen)
{
	char pidtxt[32];
	ssize_t r;
	long pid = 0;

	/* The holder may not have written its pid yet. */
	r = pread(fd, pidtxt, sizeof(pidtxt) - 1, 0);
	pidtxt[r > 0 ? r : 0] = '\0';
	if (sscanf(pidtxt, "%ld", &pid) == 1 && pid > 0)
		store_seterr(err, errlen, "in use by another server, pid %ld "
		    "(lock file %s)", pid, lpath);
	else
		store_seterr(err, errlen, "in use by another server (lock "
		    "file %s)", lpath);
}

int
store_check_free(const char *path, char *err, size_t errlen)
{
	char lpath[4096];
	int fd, rc = XLICEN_OK;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || !store_lock_path(path, lpath, sizeof(lpath)))
		return XLICEN_OK;
	/* The lock file, only looked at: absent or unreadable, store_open
	 * will tell. */
	if ((fd = open(lpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return XLICEN_OK;
	if (flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK) {
		store_lock_busy(fd, lpath, err, errlen);
		rc = XLICEN_E_DB;
	}
	close(fd);
	return rc;
}

static int
store_lock(const char *path, int *lockfd, char *err, size_t errlen)
{
	char lpath[4096], pidtxt[32];
	int fd, len;

	*lockfd = -1;
	if (path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0)
		return XLICEN_OK;
	if (!store_lock_path(path, lpath, sizeof(lpath))) {
		store_seterr(err, errlen, "database path too long");
		return XLICEN_E_DB;
	}
	/* The lock file: created 0600 beside the database, never followed
	 * through a symbolic link. */
	fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1) {
		store_seterr(err, errlen, "cannot open lock file %s: %s", lpath,
		    strerror(errno));
		return XLICEN_E_DB;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			store_lock_busy(fd, lpath, err, errlen);
		else
			store_seterr(err, errlen, "cannot lock %s: %s", lpath,
			    strerror(errno));
		close(fd);
		return XLICEN_E_DB;
	}
	len = snprintf(pidtxt, sizeof(pidtxt), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pidtxt, (size_t)len, 0) !=
	    len)
		log_msg(LOG_WARNING, "store: writing the pid to %s: %s", lpath,
		    strerror(errno));
	*lockfd = fd;
	return XLICEN_OK;
}

/* SQLite creates files with mode 0644 less umask, and gives the -wal and
 * -shm files the database's mode; create it 0600 first so none of them is
 * ever readable by others. */
static int
store_precreate(const char *path, char *err, size_t errlen)
{
	int fd;

	if (path[0] == '\0' || strcmp(path, ":memory:") == 0 ||
	    strncmp(path, "file:", 5) == 0)
		return XLICEN_OK;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		store_seterr(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return XLICEN_E_DB;
	}
	close(fd);
	return XLICEN_OK;
}

static void *
store_sync_main(void *arg)
{
	struct store_bg *bg = arg;
	uint64_t t, one = 1;
	ssize_t n;
	int e;

	pthread_mutex_lock(&bg->lock);
	for (;;) {
		while (bg->done == bg->want && !bg->stop)
			pthread_cond_wait(&bg->sync_cond, &bg->lock);
		if (bg->done == bg->want)
			break;		/* stopping, nothing left */
		t = bg->want;
		pthread_mutex_unlock(&bg->lock);
		e = fdatasync(bg->walfd) == 0 ? 0 : errno;
		pthread_mutex_lock(&bg->lock);
		if (e != 0 && bg->sync_errno == 0)
			bg->sync_errno = e;
		if (e == 0)
			bg->done = t;
		/* store_sync_wait waits on the same condition. */
		pthread_cond_broadcast(&bg->sync_cond);
		/* EAGAIN: the counter is full, the loop is awake anyway. */
		n = write(bg->efd, &one, sizeof(one));
		(void)n;
		if (e != 0)
			break;		/* the loop stops the server */
	}
	pthread_mutex_unlock(&bg->lock);
	return NULL;
}

/* After every commit of the loop's connection (sqlite3_wal_hook, which
 * replaces SQLite's automatic checkpoint): wake the checkpointer once the
 * WAL is long. */
static int
store_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store_bg *bg = arg;

	(void)db;
	(void)name;
	if (pages >= STORE_CKPT_PAGES &&
	    !__atomic_load_n(&bg->ckpt_tail, __ATOMIC_RELAXED)) {
		pthread_mutex_lock(&bg->lock);
		bg->ckpt_want = 1;
		pthread_cond_signal(&bg->ckpt_cond);
		pthread_mutex_unlock(&bg->lock);
	}
	return SQLITE_OK;
}

static void *
store_ckpt_main(void *arg)
{
	struct store_bg *bg = arg;
	struct timespec until;
	int stop, rc, nlog;

	for (;;) {
		pthread_mutex_lock(&bg->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += STORE_CKPT_EVERY_S;
		while (!bg->ckpt_want && !bg->stop &&
		    pthread_cond_timedwait(&bg->ckpt_cond, &bg->lock,
		    &until) == 0)
			;
		bg->ckpt_want = 0;
		stop = bg->stop;
		pthread_mutex_unlock(&bg->lock);
		/* A last one when stopping: what was committed unsynced is
		 * durable when the server exits. */
		rc = sqlite3_wal_checkpoint_v2(bg->ck_db, "main",
		    SQLITE_CHECKPOINT_PASSIVE, &nlog, NULL);
		if (rc != SQLITE_OK)
			log_msg(LOG_WARNING, "store: checkpoint: %s",
			    sqlite3_errmsg(bg->ck_db));
		else if (nlog >= STORE_CKPT_PAGES) {
			/* Hand the rest to the loop, also when this pass
			 * copied all it saw: the loop may have begun its next
			 * round meanwhile, and SQLite starts the WAL over only
			 * for a write begun with nothing left to copy.  No
			 * second pass meanwhile (store_wal_hook does not ask
			 * while this is pending). */
			__atomic_store_n(&bg->ckpt_tail, 1, __ATOMIC_RELAXED);
			pthread_mutex_lock(&bg->lock);
			bg->ckpt_want = 0;
			pthread_mutex_unlock(&bg->lock);
		}
		if (stop)
			break;
	}
	return NULL;
}

static void
store_bg_stop(struct store *s)
{
	struct store_bg *bg = s->bg;

	if (bg == NULL)
		return;
	pthread_mutex_lock(&bg->lock);
	bg->stop = 1;
	pthread_cond_broadcast(&bg->sync_cond);
	pthread_cond_signal(&bg->ckpt_cond);
	pthread_mutex_unlock(&bg->lock);
	if (bg->sync_started)
		pthread_join(bg->sync_thread, NULL);
	if (bg->ckpt_started)
		pthread_join(bg->ckpt_thread, NULL);
	sqlite3_wal_hook(s->db, NULL, NULL);
	sqlite3_close(bg->ck_db);
	if (bg->walfd != -1)
		close(bg->walfd);
	if (bg->efd != -1)
		close(bg->efd);
	pthread_mutex_destroy(&bg->lock);
	pthread_cond_destroy(&bg->sync_cond);
	pthread_cond_destroy(&bg->ckpt_cond);
	free(bg);
	s->bg = NULL;
}

/* Start the syncer and the checkpointer.  Without them (an in-memory or
 * URI database, a SQLite without threads, no resources) every durable
 * commit syncs in the loop thread and SQLite checkpoints there, as it
 * does by default: slower, equally safe. */
static void
store_bg_start(struct store *s, const char *path)
{
	struct store_bg *bg;
	char wal[4096];
	int nlog;

	if (!sqlite3_threadsafe() || path[0] == '\0' ||
	    strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0 ||
	    (size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >= sizeof(wal) ||
	    (bg = calloc(1, sizeof(*bg))) == NULL)
		return;
	bg->walfd = bg->efd = -1;
	pthread_mutex_init(&bg->lock, NULL);
	pthread_cond_init(&bg->sync_cond, NULL);
	pthread_cond_init(&bg->ckpt_cond, NULL);
	s->bg = bg;
	if ((bg->walfd = open(wal, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (bg->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    sqlite3_open_v2(path, &bg->ck_db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_msg(LOG_WARNING, "store: no background sync (%s): every "
		    "grant syncs in the event loop", bg->ck_db != NULL ?
		    sqlite3_errmsg(bg->ck_db) : strerror(errno));
		store_bg_stop(s);
		return;
	}
	sqlite3_busy_timeout(bg->ck_db, STORE_BUSY_MS);
	/* A connection opens the WAL at its first read; until then a
	 * checkpoint through it does nothing at all. */
	if (sqlite3_exec(bg->ck_db, "SELECT 1 FROM sqlite_schema LIMIT 1",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_wal_checkpoint_v2(bg->ck_db, "main",
	    SQLITE_CHECKPOINT_PASSIVE, &nlog, NULL) != SQLITE_OK || nlog < 0) {
		log_msg(LOG_WARNING, "store: no background checkpoints (%s): "
		    "every grant syncs in the event loop",
		    sqlite3_errmsg(bg->ck_db));
		store_bg_stop(s);
		return;
	}
	if (pthread_create(&bg->sync_thread, NULL, store_sync_main, bg) != 0) {
		store_bg_stop(s);
		return;
	}
	bg->sync_started = 1;
	if (pthread_create(&bg->ckpt_thread, NULL, store_ckpt_main, bg) != 0) {
		store_bg_stop(s);
		return;
	}
	bg->ckpt_started = 1;
	sqlite3_wal_hook(s->db, store_wal_hook, bg);
}

int
store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *s = NULL;
	int rc = XLICEN_E_DB, i;

	if (out != NULL)
		*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || out == NULL) {
		store_seterr(err, errlen, "no database path");
		return XLICEN_E_INVALID;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		store_seterr(err, errlen, "out of memory");
		return XLICEN_E_NOMEM;
	}
	s->lockfd = -1;
	if ((rc = store_lock(path, &s->lockfd, err, errlen)) != 0)
		goto out;
	if ((rc = store_precreate(path, err, errlen)) != 0)
		goto out;
	rc = XLICEN_E_DB;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		store_seterr(err, errlen, "cannot open %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	/* SQLite quietly falls back to read-only; a license server that
	 * cannot record a grant must not start. */
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		store_seterr(err, errlen, "%s is read-only", path);
		goto out;
	}
	if ((rc = store_configure(s->db, err, errlen)) != 0)
		goto out;
	if ((rc = store_migrate(s->db, path, err, errlen)) != 0)
		goto out;
	if ((rc = store_backfill_hashes(s->db, err, errlen)) != 0)
		goto out;
	for (i = 0; i < ST__N; i++) {
		if (sqlite3_prepare_v3(s->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			store_seterr(err, errlen, "preparing statement %d: %s",
			    i, sqlite3_errmsg(s->db));
			rc = XLICEN_E_DB;
			goto out;
		}
	}
	store_bg_start(s, path);
	*out = s;
	s = NULL;
	rc = XLICEN_OK;
out:
	store_close(s);
	return rc;
}

void
store_close(struct store *s)
{
	int i;

	if (s == NULL)
		return;
	(void)store_flush(s, 0, 0);
	store_bg_stop(s);
	free(s->hb);
	for (i = 0; i < ST__N; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK) {
		log_msg(LOG_ERR, "store: close: %s", sqlite3_errmsg(s->db));
		sqlite3_close_v2(s->db);
	}
	/* Last: the database is closed (and checkpointed) before the next
	 * server may open it. */
	if (s->lockfd != -1)
		close(s->lockfd);
	free(s);
}

/*
 * Pools.
 */

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
ids_has(const int64_t *ids, size_t n, int64_t id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof(*ids), cmp_i64) != NULL;
}

/* The ids of the pools not withdrawn, sorted. */
static int
store_active_ids(struct store *s, int64_t **out, size_t *n)
{
	sqlite3_stmt *st = s->st[ST_POOL_ACTIVE_IDS];
	int64_t *ids = NULL, *tmp;
	size_t len = 0, cap = 0;
	int rc = XLICEN_OK, src;

	*out = NULL;
	*n = 0;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? 2 * cap : 16;
			if ((tmp = reallocarray(ids, cap, sizeof(*ids))) ==
			    NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			ids = tmp;
		}
		ids[len++] = sqlite3_column_int64(st, 0);
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "sync: list pools");
		goto out;
	}
	if (len > 0)
		qsort(ids, len, sizeof(*ids), cmp_i64);
	*out = ids;
	*n = len;
	ids = NULL;
out:
	st_done(st);
	free(ids);
	return rc;
}

static int
store_upsert_pool(struct store *s, const struct license *l, int64_t now,
    int64_t *id)
{
	sqlite3_stmt *st = s->st[ST_POOL_UPSERT];
	int rc = XLICEN_OK, b = SQLITE_OK;

	*id = 0;
	b |= st_text(st, 1, l->vendor);
	b |= st_text(st, 2, l->product);
	b |= st_text(st, 3, l->ver_min);
	b |= st_text(st, 4, l->ver_max);
	b |= st_text(st, 5, l->serial);
	/* seats >= 1 is a CHECK of 0001: an uncounted pool stores 1. */
	b |= sqlite3_bind_int64(st, 6, l->uncounted ? 1 : l->seats);
	b |= sqlite3_bind_int64(st, 7, l->start);
	b |= sqlite3_bind_int64(st, 8, l->expires);
	b |= st_text(st, 9, l->customer);
	b |= sqlite3_bind_int64(st, 10, now);
	b |= sqlite3_bind_int(st, 11, l->uncounted ? 1 : 0);
	b |= st_text(st, 12, l->hostid);
	b |= st_text(st, 13, l->dup_group);
	b |= sqlite3_bind_int64(st, 14, l->linger_s);
	b |= sqlite3_bind_int64(st, 15, l->ttl_s);
	b |= sqlite3_bind_int64(st, 16, l->heartbeat_s);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		rc = store_dberr(s, "sync: store pool");
		goto out;
	}
	*id = sqlite3_column_int64(st, 0);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, "sync: store pool");
out:
	st_done(st);
	return rc;
}

static int
store_withdraw_pool(struct store *s, int64_t id)
{
	sqlite3_stmt *st = s->st[ST_POOL_WITHDRAW];
	int rc = XLICEN_OK;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		rc = store_dberr(s, "sync: withdraw pool");
		goto out;
	}
	log_msg(LOG_NOTICE, "pool %" PRId64 " withdrawn (vendor %s product %s "
	    "serial %s versions %s-%s); its leases stay until released", id,
	    (const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1),
	    (const char *)sqlite3_column_text(st, 2),
	    (const char *)sqlite3_column_text(st, 3),
	    (const char *)sqlite3_column_text(st, 4));
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = store_dberr(s, "sync: withdraw pool");
out:
	st_done(st);
	return rc;
}

/* Move the seats and leases of pool from to pool to. */
static int
store_move_pool(struct store *s, int64_t from, int64_t to)
{
	static const enum store_st which[] = { ST_SEATS_MOVE, ST_LEASES_MOVE };
	sqlite3_stmt *st;
	size_t i;
	int rc = XLICEN_OK;

	for (i = 0; i < sizeof(which) / sizeof(which[0]) && rc == 0; i++) {
		st = s->st[which[i]];
		if (sqlite3_bind_int64(st, 1, from) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, to) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE)
			rc = store_dberr(s, "sync: move leases");
		st_done(st);
	}
	return rc;
}

/*
 * A license that replaces another (a renewal: same vendor, product,
 * versions, kind and node lock, another serial) takes over the seats,
 * lingering ones too, and leases of the withdrawn one, so that they count
 * against its total instead of being counted by nobody; with fewer seats
 * than in use it grants nothing until use falls below them.  Withdrawn
 * pools from earlier reloads that still hold leases are replaced the same
 * way.  *moved gets how many pools were taken over.
 */
static int
store_take_over(struct store *s, size_t *moved)
{
	sqlite3_stmt *st = s->st[ST_POOL_ORPHANS];
	int64_t (*pairs)[2] = NULL, (*tmp)[2];
	size_t len = 0, cap = 0, i;
	int rc = XLICEN_OK, src;

	*moved = 0;
	/* Read them all first: the moves change what the query reads. */
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 1) == SQLITE_NULL)
			continue;	/* removed without replacement */
		if (len == cap) {
			cap = cap ? 2 * cap : 8;
			if ((tmp = reallocarray(pairs, cap, sizeof(*pairs))) ==
			    NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			pairs = tmp;
		}
		pairs[len][0] = sqlite3_column_int64(st, 0);
		pairs[len++][1] = sqlite3_column_int64(st, 1);
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "sync: withdrawn pools");
		goto out;
	}
	st_done(st);
	st = NULL;
	for (i = 0; i < len; i++) {
		if ((rc = store_move_pool(s, pairs[i][0], pairs[i][1])) != 0)
			goto out;
		log_msg(LOG_NOTICE, "pool %" PRId64 " replaced by pool %" PRId64
		    ": its leases and seats count against the new license",
		    pairs[i][0], pairs[i][1]);
	}
	*moved = len;
out:
	st_done(st);
	free(pairs);
	return rc;
}

int
store_sync_pools(struct store *s, const struct license *lics, size_t n,
    int64_t now)
{
	struct store_event ev;
	int64_t *before = NULL, *seen = NULL;
	size_t nbefore = 0, nnew = 0, nwithdrawn = 0, nmoved = 0, i;
	char detail[128];
	int rc, in_tx = 0;

	if (s == NULL || (lics == NULL && n > 0))
		return XLICEN_E_INVALID;
	if (n > 0 && (seen = calloc(n, sizeof(*seen))) == NULL)
		return XLICEN_E_NOMEM;

	if ((rc = store_begin(s)) != 0)
		goto out;
	in_tx = 1;
	if ((rc = store_active_ids(s, &before, &nbefore)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = store_upsert_pool(s, &lics[i], now, &seen[i])) != 0)
			goto out;
		if (!ids_has(before, nbefore, seen[i]))
			nnew++;
	}
	if (n > 0)
		qsort(seen, n, sizeof(*seen), cmp_i64);
	for (i = 0; i < nbefore; i++) {
		if (ids_has(seen, n, before[i]))
			continue;
		if ((rc = store_withdraw_pool(s, before[i])) != 0)
			goto out;
		nwithdrawn++;
	}
	if ((rc = store_take_over(s, &nmoved)) != 0)
		goto out;
	/* nnew counts a license listed twice in lics twice; harmless in a
	 * log line. */
	snprintf(detail, sizeof(detail), "licenses=%zu new=%zu withdrawn=%zu "
	    "replaced=%zu", n, nnew, nwithdrawn, nmoved);
	memset(&ev, 0, sizeof(ev));
	ev.ts = now;
	ev.kind = "reload";
	ev.detail = detail;
	if ((rc = store_event(s, &ev)) != 0)
		goto out;
	if ((rc = store_commit(s)) != 0)
		goto out;
	in_tx = 0;
	log_msg(LOG_INFO, "store: pools synced: %s", detail);
out:
	if (in_tx)
		store_rollback(s);
	free(before);
	free(seen);
	return rc;
}

/*
 * Status, holders, reports.
 */

int
store_status(struct store *s, const char *product, int64_t now,
    struct store_pool_status **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct store_pool_status *v = NULL, *tmp, *p;
	char vmin[LICENSE_VERSION_MAX + 1], vmax[LICENSE_VERSION_MAX + 1];
	size_t len = 0, cap = 0;
	int rc = XLICEN_OK, src, b = SQLITE_OK;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL)
		return XLICEN_E_INVALID;
	/* in use and expiry come from expires_at: the heartbeats in
	 * memory first. */
	if ((rc = store_hb_write(s)) != 0)
		return rc;

	st = s->st[product != NULL ? ST_STATUS_PRODUCT : ST_STATUS_ALL];
	b |= sqlite3_bind_int64(st, 1, now);
	if (product != NULL)
		b |= st_text(st, 2, product);
	if (b != SQLITE_OK) {
		rc = store_dberr(s, "status: bind");
		goto out;
	}
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? 2 * cap : 8;
			if ((tmp = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			v = tmp;
		}
		p = &v[len++];
		memset(p, 0, sizeof(*p));
		col_copy(st, 0, p->product, sizeof(p->product));
		col_copy(st, 1, vmin, sizeof(vmin));
		col_copy(st, 2, vmax, sizeof(vmax));
		snprintf(p->versions, sizeof(p->versions), "%s-%s", vmin,
		    vmax);
		col_copy(st, 3, p->vendor, sizeof(p->vendor));
		col_copy(st, 4, p->serial, sizeof(p->serial));
		p->total = clamp_u32(sqlite3_column_int64(st, 5));
		p->start = sqlite3_column_int64(st, 6);
		p->expires = sqlite3_column_int64(st, 7);
		p->uncounted = sqlite3_column_int(st, 8) != 0;
		if (p->uncounted)
			p->total = 0;
		col_copy(st, 9, p->hostid, sizeof(p->hostid));
		col_copy(st, 10, p->dup_group, sizeof(p->dup_group));
		p->linger_s = clamp_u32(sqlite3_column_int64(st, 11));
		p->ttl_s = clamp_u32(sqlite3_column_int64(st, 12));
		p->heartbeat_s = clamp_u32(sqlite3_column_int64(st, 13));
		p->in_use = clamp_u32(sqlite3_column_int64(st, 14));
		if (sqlite3_column_int(st, 15) != 0) {
			/* Withdrawn: shown while it has live seats, with
			 * none to give. */
			if (p->in_use == 0) {
				len--;
				continue;
			}
			p->state = STORE_POOL_WITHDRAWN;
			p->total = 0;
			continue;
		}
		switch (pool_dates(p->start, p->expires, now)) {
		case 1:
			p->state = STORE_POOL_EXPIRED;
			break;
		case -1:
			p->state = STORE_POOL_NOT_YET;
			break;
		default:
			p->state = STORE_POOL_ACTIVE;
			break;
		}
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "status: select");
		goto out;
	}
	*out = v;
	*n = len;
	v = NULL;
out:
	st_done(st);
	free(v);
	return rc;
}

int
store_holders(struct store *s, const char *product, const char *principal,
    int64_t now, struct store_holder **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct store_holder *v = NULL, *tmp, *h;
	size_t len = 0, cap = 0;
	int rc = XLICEN_OK, src, pass, b;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || out == NULL || n == NULL)
		return XLICEN_E_INVALID;
	/* in use and expiry come from expires_at: the heartbeats in
	 * memory first. */
	if ((rc = store_hb_write(s)) != 0)
		return rc;
	/* Pass 0: leases; pass 1: lingering seats (whose owner took them,
	 * not necessarily principal: only in the full listing). */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1 && principal != NULL)
			break;
		st = s->st[pass == 0 ? ST_HOLDERS : ST_HOLDERS_LINGER];
		b = sqlite3_bind_int64(st, 1, now);
		b |= st_text(st, 2, product);
		if (pass == 0)
			b |= st_text(st, 3, principal);
		if (b != SQLITE_OK) {
			rc = store_dberr(s, "holders: bind");
			goto out;
		}
		while ((src = sqlite3_step(st)) == SQLITE_ROW) {
			if (len == cap) {
				cap = cap ? 2 * cap : 16;
				if ((tmp = reallocarray(v, cap, sizeof(*v))) ==
				    NULL) {
					rc = XLICEN_E_NOMEM;
					goto out;
				}
				v = tmp;
			}
			h = &v[len++];
			memset(h, 0, sizeof(*h));
			col_copy(st, 0, h->product, sizeof(h->product));
			if (pass == 0) {
				col_copy(st, 1, h->version, sizeof(h->version));
				col_copy(st, 2, h->principal,
				    sizeof(h->principal));
				col_copy(st, 3, h->host, sizeof(h->host));
				col_copy(st, 4, h->display, sizeof(h->display));
				col_copy(st, 5, h->lease_id,
				    sizeof(h->lease_id));
				h->pid = clamp_u32(sqlite3_column_int64(st, 6));
				h->count = clamp_u32(sqlite3_column_int64(st,
				    7));
				h->heartbeat_s = clamp_u32(
				    sqlite3_column_int64(st, 8));
				h->since = sqlite3_column_int64(st, 9);
				h->last_hb = sqlite3_column_int64(st, 10);
				h->expires = sqlite3_column_int64(st, 11);
				h->withdrawn = sqlite3_column_int(st, 12) != 0;
			} else {
				col_copy(st, 1, h->principal,
				    sizeof(h->principal));
				col_copy(st, 2, h->host, sizeof(h->host));
				h->count = clamp_u32(sqlite3_column_int64(st,
				    3));
				h->since = sqlite3_column_int64(st, 4);
				h->expires = sqlite3_column_int64(st, 5);
				h->withdrawn = sqlite3_column_int(st, 6) != 0;
				h->lingering = 1;
			}
		}
		if (src != SQLITE_DONE) {
			rc = store_dberr(s, "holders: select");
			goto out;
		}
		st_done(st);
		st = NULL;
	}
	*out = v;
	*n = len;
	v = NULL;
out:
	st_done(st);
	free(v);
	return rc;
}

/* ---- reports: a replay of the audit trail ---- */

struct rep_lease {
	char id[STORE_LEASE_ID_LEN + 1];
	size_t row;		/* the principal's row */
	int64_t count;
	int64_t since;
	int used;		/* 0: a free slot of the table */
};

struct rep {
	struct store_report_row *rows;
	size_t nrows, cap;
	int64_t *cur;		/* per row: seats (product) or lease seats */
	int64_t *last;		/* per row: time of the last change */
	double *area;		/* per row: seat-seconds within the range */
	struct rep_lease *tab;	/* open leases, open addressing */
	size_t tabsz, tabn;
	int64_t from, to;
};

static int
rep_row(struct rep *r, const char *product, const char *principal,
    size_t *idx)
{
	size_t i;
	void *t;

	for (i = 0; i < r->nrows; i++)
		if (strcmp(r->rows[i].product, product) == 0 &&
		    strcmp(r->rows[i].principal, principal) == 0) {
			*idx = i;
			return 0;
		}
	if (r->nrows == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		if ((t = reallocarray(r->rows, r->cap, sizeof(*r->rows))) ==
		    NULL)
			return XLICEN_E_NOMEM;
		r->rows = t;
		if ((t = reallocarray(r->cur, r->cap, sizeof(*r->cur))) == NULL)
			return XLICEN_E_NOMEM;
		r->cur = t;
		if ((t = reallocarray(r->last, r->cap, sizeof(*r->last))) ==
		    NULL)
			return XLICEN_E_NOMEM;
		r->last = t;
		if ((t = reallocarray(r->area, r->cap, sizeof(*r->area))) ==
		    NULL)
			return XLICEN_E_NOMEM;
		r->area = t;
	}
	i = r->nrows++;
	memset(&r->rows[i], 0, sizeof(r->rows[i]));
	snprintf(r->rows[i].product, sizeof(r->rows[i].product), "%s",
	    product);
	snprintf(r->rows[i].principal, sizeof(r->rows[i].principal), "%s",
	    principal);
	r->cur[i] = 0;
	r->last[i] = r->from;
	r->area[i] = 0;
	*idx = i;
	return 0;
}

/* Row i's level changes by delta at time t: integrate the old level over
 * the part of [last, t] inside the range, track the peak. */
static void
rep_level(struct rep *r, size_t i, int64_t t, int64_t delta)
{
	int64_t a = r->last[i] > r->from ? r->last[i] : r->from;
	int64_t b = t < r->to ? t : r->to;

	if (b > a)
		r->area[i] += (double)r->cur[i] * (double)(b - a);
	if (t >= r->from && r->cur[i] > 0 &&
	    (uint64_t)r->cur[i] > r->rows[i].peak)
		r->rows[i].peak = clamp_u32(r->cur[i]);
	r->cur[i] += delta;
	if (r->cur[i] < 0)
		r->cur[i] = 0;
	if (t >= r->from && t <= r->to && (uint64_t)r->cur[i] > r->rows[i].peak)
		r->rows[i].peak = clamp_u32(r->cur[i]);
	if (t > r->last[i])
		r->last[i] = t;
}

static struct rep_lease *
rep_find(struct rep *r, const char *id, int insert)
{
	size_t i, mask;
	struct rep_lease *nt, *old;
	size_t oldsz, k;

	if (insert && (r->tabn + 1) * 2 > r->tabsz) {
		oldsz = r->tabsz;
		old = r->tab;
		r->tabsz = oldsz ? 2 * oldsz : 256;
		if ((nt = calloc(r->tabsz, sizeof(*nt))) == NULL) {
			r->tabsz = oldsz;
			return NULL;
		}
		r->tab = nt;
		r->tabn = 0;
		for (k = 0; k < oldsz; k++)
			if (old[k].used && old[k].id[0] != '\x01') {
				struct rep_lease *e = rep_find(r, old[k].id, 1);

				*e = old[k];
			}
		free(old);
	}
	if (r->tabsz == 0)
		return NULL;
	mask = r->tabsz - 1;
	for (i = hash_str(id) & mask; r->tab[i].used; i = (i + 1) & mask)
		if (strcmp(r->tab[i].id, id) == 0)
			return &r->tab[i];
	if (!insert)
		return NULL;
	snprintf(r->tab[i].id, sizeof(r->tab[i].id), "%s", id);
	r->tab[i].used = 1;
	r->tabn++;
	return &r->tab[i];
}

static int
row_cmp(const void *a, const void *b)
{
	const struct store_report_row *x = a, *y = b;
	int c = strcmp(x->product, y->product);

	if (c != 0)
		return c;
	/* The product's own row ("") first. */
	return strcmp(x->principal, y->principal);
}

int
store_report(struct store *s, int64_t from, int64_t to, int64_t now,
    const char *product, struct store_report_row **rows, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct rep r;
	struct rep_lease *l;
	const char *kind, *principal, *prod, *lease;
	int64_t ts, count, seats;
	size_t prow, urow, i;
	double span;
	int rc = XLICEN_OK, src;

	if (rows != NULL)
		*rows = NULL;
	if (n != NULL)
		*n = 0;
	if (s == NULL || rows == NULL || n == NULL)
		return XLICEN_E_INVALID;
	if (to > now)
		to = now;
	if (from > to)
		return XLICEN_E_INVALID;
	memset(&r, 0, sizeof(r));
	r.from = from;
	r.to = to;
	st = s->st[ST_EVENTS_REPORT];
	if (sqlite3_bind_int64(st, 1, to) != SQLITE_OK) {
		rc = store_dberr(s, "report: bind");
		goto out;
	}
	/* Replay from the first event: a lease granted before from and
	 * held into the range counts from from on. */
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		ts = sqlite3_column_int64(st, 0);
		kind = (const char *)sqlite3_column_text(st, 1);
		principal = col_text_or_null(st, 2);
		prod = col_text_or_null(st, 3);
		lease = col_text_or_null(st, 4);
		count = sqlite3_column_int64(st, 5);
		seats = sqlite3_column_int64(st, 6);
		/* Events from before migration 0002 have no seats: then every
		 * lease was a seat of its own. */
		if (sqlite3_column_type(st, 6) == SQLITE_NULL && kind != NULL)
			seats = strcmp(kind, "grant") == 0 ? count : -count;
		if (kind == NULL || prod == NULL ||
		    (product != NULL && strcmp(prod, product) != 0))
			continue;
		if ((rc = rep_row(&r, prod, "", &prow)) != 0)
			goto out;
		/* An event without a principal (store_audit allows one, and
		 * another program may write one) counts in the product's row
		 * alone: its user row would be that same row, counted twice. */
		urow = prow;
		if (principal != NULL && principal[0] != '\0' &&
		    (rc = rep_row(&r, prod, principal, &urow)) != 0)
			goto out;
		if (strcmp(kind, "deny") == 0) {
			if (ts >= from) {
				r.rows[prow].denials++;
				if (urow != prow)
					r.rows[urow].denials++;
			}
			continue;
		}
		if (strcmp(kind, "grant") == 0) {
			if (ts >= from) {
				r.rows[prow].grants++;
				if (urow != prow)
					r.rows[urow].grants++;
			}
			rep_level(&r, prow, ts, seats);
			if (lease == NULL || urow == prow)
				continue;
			if ((l = rep_find(&r, lease, 1)) == NULL) {
				rc = XLICEN_E_NOMEM;
				goto out;
			}
			l->row = urow;
			l->count = count > 0 ? count : 1;
			l->since = ts;
			rep_level(&r, urow, ts, l->count);
			continue;
		}
		if (strcmp(kind, "release") == 0 || strcmp(kind, "expire") ==
		    0 || strcmp(kind, "remove") == 0 ||
		    strcmp(kind, "orphan") == 0 ||
		    strcmp(kind, "linger") == 0) {
			rep_level(&r, prow, ts, seats);
			if (lease == NULL || (l = rep_find(&r, lease, 0)) ==
			    NULL)
				continue;
			rep_level(&r, l->row, ts, -l->count);
			/* Tombstone: keep the probe chain intact. */
			l->count = 0;
			l->id[0] = '\x01';
		}
	}
	if (src != SQLITE_DONE) {
		rc = store_dberr(s, "report: select");
		goto out;
	}
	span = to > from ? (double)(to - from) : 1.0;
	for (i = 0; i < r.nrows; i++) {
		rep_level(&r, i, to, 0);
		r.rows[i].avg = r.area[i] / span;
	}
	/* Seat-seconds of leases: the principals' areas; the product's row
	 * sums them (its own area is seats, shared ones counted once). */
	for (i = 0; i < r.nrows; i++) {
		if (r.rows[i].principal[0] == '\0')
			continue;
		r.rows[i].seconds = (uint64_t)(r.area[i] + 0.5);
		if (rep_row(&r, r.rows[i].product, "", &prow) == 0)
			r.rows[prow].seconds += r.rows[i].seconds;
	}
	if (r.nrows > 1)
		qsort(r.rows, r.nrows, sizeof(*r.rows), row_cmp);
	*rows = r.rows;
	*n = r.nrows;
	r.rows = NULL;
out:
	st_done(st);
	free(r.rows);
	free(r.cur);
	free(r.last);
	free(r.area);
	free(r.tab);
	return rc;
}

int
store_verify_chain(struct store *s, uint64_t *events, uint64_t *bad_id,
    char head[65])
{
	sqlite3_stmt *st;
	struct audit_event ae;
	uint8_t prev[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	struct audit_cell cells[AUDIT_NCOLS];
	uint64_t nev = 0, bad = 0;
	int have = 0, rc = XLICEN_OK, src, col = -1;

	if (events != NULL)
		*events = 0;
	if (bad_id != NULL)
		*bad_id = 0;
	if (head != NULL)
		head[0] = '\0';
	if (s == NULL)
		return XLICEN_E_INVALID;
	st = s->st[ST_EVENTS_ALL];
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		row_cells(st, cells);
		row_to_audit(st, &ae);
		nev++;
		if ((rc = audit_event_hash(have ? prev : NULL, &ae, h)) != 0)
			goto out;
		if (audit_row_check(&ae, cells, &col) != 0) {
			log_msg(LOG_WARNING, "store: audit event %" PRId64
			    ": column %s is not stored as the chain encodes "
			    "it", ae.id, audit_col_name(col));
			bad = (uint64_t)ae.id;
			break;
		}
		if (sqlite3_column_type(st, 14) != SQLITE_BLOB ||
		    sqlite3_column_bytes(st, 14) != AUDIT_HASH_LEN ||
		    memcmp(sqlite3_column_blob(st, 14), h,
		    AUDIT_HASH_LEN) != 0) {
			bad = (uint64_t)ae.id;
			break;
		}
		memcpy(prev, h, sizeof(prev));
		have = 1;
	}
	if (bad == 0 && src != SQLITE_DONE) {
		rc = store_dberr(s, "verify: select");
		goto out;
	}
	if (events != NULL)
		*events = nev;
	if (bad_id != NULL)
		*bad_id = bad;
	if (head != NULL && have)
		audit_hex(prev, head);
out:
	st_done(st);
	return rc;
}

int
store_count_leases(struct store *s, int64_t *leases, int64_t *seats)
{
	sqlite3_stmt *st;
	int rc = XLICEN_OK;

	if (leases != NULL)
		*leases = 0;
	if (seats != NULL)
		*seats = 0;
	if (s == NULL)
		return XLICEN_E_INVALID;
	st = s->st[ST_COUNT_LEASES];
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = store_dberr(s, "count leases");
		goto out;
	}
	if (leases != NULL)
		*leases = sqlite3_column_int64(st, 0);
	if (seats != NULL)
		*seats = sqlite3_column_int64(st, 1);
out:
	st_done(st);
	return rc;
}
