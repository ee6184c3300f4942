/*
 * The PostgreSQL dialect of the store: the text of every statement,
 * indexed by enum store_st (store_int.h) and prepared at open and after
 * every reconnect (pg_db.c).  The same statements as sqlite_sql.c, which
 * explains them, in PostgreSQL's words: $N parameters (cast where nothing
 * else gives their type), LEAST/GREATEST for the scalar MIN/MAX, ON
 * CONFLICT for INSERT OR REPLACE, sums cast back to BIGINT (SUM of a
 * BIGINT is NUMERIC), text ordered by COLLATE "C" (byte order, as SQLite).
 * Transaction control (BEGIN, savepoints, COMMIT) is not prepared: pg_db.c
 * sends it itself, so those entries and SQLite's PRAGMAs are NULL.
 */
#include "pg_int.h"

/* The seats of a pool that are in use at $1 without a sweep: lingering,
 * or held by a lease not yet due.  Status is read-only and must not count
 * what the timer has not expired yet. */
#define LIVE_SEATS_SUM(pool)						\
	"(SELECT COALESCE(SUM(s.count), 0)::bigint FROM seats AS s"		\
	" WHERE s.pool_id = " pool " AND (s.linger_until > $1 OR EXISTS"	\
	" (SELECT 1 FROM leases AS l WHERE l.seat_id = s.id"		\
	"  AND l.expires_at > $1)))"
#define POOL_COLS							\
	"p.product, p.ver_min, p.ver_max, p.vendor, p.serial,"		\
	" p.seats, p.start, p.expires, p.uncounted, p.hostid,"		\
	" p.dup_group, p.linger, p.ttl, p.heartbeat"

const char *const store_pg_sql[ST__N] = {
	[ST_BEGIN] = NULL,
	[ST_COMMIT] = NULL,
	[ST_ROLLBACK] = NULL,
	[ST_EXPIRE_SEL] =
	    "SELECT l.id, l.principal, l.host, l.display, p.product,"
	    " l.pool_id, l.count, l.seat_id, l.version"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.expires_at <= $1 ORDER BY l.expires_at, l.id COLLATE \"C\"",
	[ST_LINGER_SEL] =
	    "SELECT s.id, s.principal, s.host, p.product, s.pool_id, s.count"
	    " FROM seats AS s JOIN pools AS p ON p.id = s.pool_id"
	    " WHERE s.linger_until > 0 AND s.linger_until <= $1"
	    " ORDER BY s.linger_until, s.id",
	[ST_SEAT_DEL] = "DELETE FROM seats WHERE id = $1",
	[ST_SEAT_GET] =
	    "SELECT s.count, s.linger_s, COUNT(l.id), COALESCE(MAX(l.count), 0)"
	    " FROM seats AS s LEFT JOIN leases AS l ON l.seat_id = s.id"
	    " WHERE s.id = $1 GROUP BY s.id",
	[ST_SEAT_SET_COUNT] = "UPDATE seats SET count = $2 WHERE id = $1",
	[ST_SEAT_LINGER] = "UPDATE seats SET linger_until = $2 WHERE id = $1",
	[ST_SEAT_FIND] =
	    "SELECT id, count FROM seats WHERE pool_id = $1 AND grp = $2"
	    " ORDER BY id LIMIT 1",
	[ST_SEAT_INS] =
	    "INSERT INTO seats (pool_id, grp, principal, host, count,"
	    " linger_s, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
	[ST_SEAT_JOIN] =
	    "UPDATE seats SET linger_until = 0, count = GREATEST(count, $2),"
	    " linger_s = $3 WHERE id = $1",
	/* Only called after the sweeps of the same transaction, so every
	 * seat counted is live. */
	[ST_POOLS_PRODUCT] =
	    "SELECT p.id, p.ver_min, p.ver_max, p.seats, p.start, p.expires,"
	    " p.uncounted, p.hostid, p.dup_group, p.linger, p.ttl,"
	    " p.heartbeat, p.in_use, p.vendor, p.serial"
	    " FROM pools AS p WHERE p.product = $1 AND p.withdrawn = 0"
	    " ORDER BY p.id",
	[ST_HELD_PRODUCT] =
	    "SELECT s.principal, s.host, s.count FROM seats AS s"
	    " JOIN pools AS p ON p.id = s.pool_id WHERE p.product = $1",
	/* In use and total of the product's usable counted pools, for a
	 * grant's reply (after the sweeps). */
	[ST_PRODUCT_TOTALS] =
	    "SELECT p.seats, p.start, p.expires, p.in_use"
	    " FROM pools AS p WHERE p.product = $1 AND p.withdrawn = 0"
	    " AND p.uncounted = 0",
	/* Seat $11 NULL: the seat ST_SEAT_INS inserted just before, the
	 * session's last value of a sequence (seats.id's; no trigger of
	 * that insert draws from another), so the INSERT of the seat needs
	 * no RETURNING and travels in the pipeline. */
	[ST_LEASE_INS] =
	    "INSERT INTO leases (id, pool_id, principal, host, display, pid,"
	    " count, ttl_s, granted_at, heartbeat_at, expires_at, seat_id,"
	    " hb_s, version, borrow)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10,"
	    " COALESCE($11, lastval()), $12, $13, $14)",
	[ST_EVENT_LAST] = "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1",
	[ST_EVENT_INS] =
	    "INSERT INTO events (id, ts, kind, principal, host, display,"
	    " product, version, lease_id, pool_id, count, code, detail, seats,"
	    " hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
	    " $12, $13, $14, $15)",
	/* A borrowed lease (borrow > 0) keeps its end whatever happens. */
	[ST_HB_UPDATE] =
	    "UPDATE leases SET heartbeat_at = $2, expires_at ="
	    " CASE WHEN borrow > 0 THEN expires_at ELSE $2 + ttl_s END,"
	    " orphan_until = 0 WHERE id = $1 AND principal = $3"
	    " AND expires_at > $2 AND (orphan_until = 0 OR orphan_until > $2)"
	    " RETURNING expires_at, borrow",
	[ST_RECLAIM_UPDATE] =
	    "UPDATE leases SET heartbeat_at = $2, expires_at ="
	    " CASE WHEN borrow > 0 THEN expires_at ELSE $2 + ttl_s END,"
	    " pid = $3, host = COALESCE($4, host),"
	    " display = COALESCE($5, display), orphan_until = 0"
	    " WHERE id = $1 RETURNING expires_at",
	/* Column 1: when the lease ends, its expiry or an orphan's grace. */
	[ST_LEASE_GET] =
	    "SELECT l.principal, CASE WHEN l.orphan_until > 0 THEN"
	    " LEAST(l.orphan_until, l.expires_at) ELSE l.expires_at END,"
	    " l.host, l.display, l.pool_id,"
	    " l.count, p.product, l.seat_id, l.ttl_s, l.hb_s, l.version,"
	    " l.borrow"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.id = $1",
	[ST_LEASE_DEL] = "DELETE FROM leases WHERE id = $1",
	[ST_REVOKED_GET] = "SELECT principal FROM revoked WHERE lease_id = $1",
	[ST_REVOKED_INS] =
	    "INSERT INTO revoked (lease_id, principal, revoked_at,"
	    " by_principal) VALUES ($1, $2, $3, $4) ON CONFLICT (lease_id)"
	    " DO UPDATE SET principal = excluded.principal,"
	    " revoked_at = excluded.revoked_at,"
	    " by_principal = excluded.by_principal",
	[ST_REVOKED_PRUNE] = "DELETE FROM revoked WHERE revoked_at < $1",
	[ST_POOL_ACTIVE_IDS] = "SELECT id FROM pools WHERE withdrawn = 0",
	[ST_POOL_UPSERT] =
	    "INSERT INTO pools (vendor, product, ver_min, ver_max, serial,"
	    " seats, start, expires, customer, withdrawn, loaded_at,"
	    " uncounted, hostid, dup_group, linger, ttl, heartbeat)"
	    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12,"
	    " $13, $14, $15, $16)"
	    " ON CONFLICT (vendor, product, serial, ver_min, ver_max)"
	    " DO UPDATE SET seats = excluded.seats, start = excluded.start,"
	    " expires = excluded.expires, customer = excluded.customer,"
	    " withdrawn = 0, loaded_at = excluded.loaded_at,"
	    " uncounted = excluded.uncounted, hostid = excluded.hostid,"
	    " dup_group = excluded.dup_group, linger = excluded.linger,"
	    " ttl = excluded.ttl, heartbeat = excluded.heartbeat"
	    " RETURNING id",
	[ST_POOL_WITHDRAW] =
	    "UPDATE pools SET withdrawn = 1 WHERE id = $1"
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
	[ST_SEATS_MOVE] = "UPDATE seats SET pool_id = $2 WHERE pool_id = $1",
	[ST_LEASES_MOVE] = "UPDATE leases SET pool_id = $2 WHERE pool_id = $1",
	/* Withdrawn pools are listed while they hold seats (in_use counts
	 * them, due or not; store_status leaves out those with none live). */
	[ST_STATUS_ALL] =
	    "SELECT " POOL_COLS ", " LIVE_SEATS_SUM("p.id") ", p.withdrawn"
	    " FROM pools AS p WHERE p.withdrawn = 0 OR p.in_use > 0"
	    " ORDER BY p.product COLLATE \"C\", p.id",
	[ST_STATUS_PRODUCT] =
	    "SELECT " POOL_COLS ", " LIVE_SEATS_SUM("p.id") ", p.withdrawn"
	    " FROM pools AS p WHERE p.product = $2"
	    " AND (p.withdrawn = 0 OR p.in_use > 0)"
	    " ORDER BY p.id",
	[ST_NEXT_EXPIRY] =
	    "SELECT MIN(t) FROM (SELECT MIN(expires_at) AS t FROM leases"
	    " UNION ALL SELECT MIN(linger_until) FROM seats"
	    " WHERE linger_until > 0"
	    " UNION ALL SELECT MIN(orphan_until) FROM leases"
	    " WHERE orphan_until > 0) AS due",
	[ST_COUNT_LEASES] =
	    "SELECT (SELECT COUNT(*) FROM leases),"
	    " (SELECT COALESCE(SUM(count), 0)::bigint FROM seats)",
	[ST_HOLDERS] =
	    "SELECT p.product, l.version, l.principal, l.host, l.display,"
	    " l.id, l.pid, l.count, l.hb_s, l.granted_at, l.heartbeat_at,"
	    " l.expires_at, p.withdrawn, l.borrow"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.expires_at > $1 AND ($2::text IS NULL OR p.product = $2)"
	    " AND ($3::text IS NULL OR l.principal = $3)"
	    " ORDER BY p.product COLLATE \"C\", l.granted_at, l.id COLLATE \"C\"",
	[ST_HOLDERS_LINGER] =
	    "SELECT p.product, s.principal, s.host, s.count, s.created_at,"
	    " s.linger_until, p.withdrawn"
	    " FROM seats AS s JOIN pools AS p ON p.id = s.pool_id"
	    " WHERE s.linger_until > $1 AND ($2::text IS NULL OR p.product = $2)"
	    " AND NOT EXISTS (SELECT 1 FROM leases AS l WHERE l.seat_id = s.id)"
	    " ORDER BY p.product COLLATE \"C\", s.linger_until, s.id",
	[ST_EVENTS_ALL] =
	    "SELECT id, ts, kind, principal, host, display, product, version,"
	    " lease_id, pool_id, count, code, detail, seats, hash"
	    " FROM events ORDER BY id",
	[ST_EVENTS_REPORT] =
	    "SELECT ts, kind, principal, product, lease_id, count, seats"
	    " FROM events WHERE ts <= $1 ORDER BY id",
	[ST_SAVEPOINT] = NULL,
	[ST_RELEASE_SP] = NULL,
	[ST_ROLLBACK_SP] = NULL,
	[ST_HB_GET] =
	    "SELECT principal, ttl_s, expires_at, orphan_until, borrow"
	    " FROM leases WHERE id = $1",
	[ST_HB_SET] =
	    "UPDATE leases SET heartbeat_at = $2, expires_at = $3 WHERE id = $1",
	/* See store_extend_leases: heartbeat_at + ttl_s is the expiry the
	 * last written heartbeat gave, so this is the same at every start. */
	[ST_EXTEND] =
	    "UPDATE leases SET expires_at ="
	    " LEAST(heartbeat_at + 2 * ttl_s, $1 + ttl_s)"
	    " WHERE expires_at < LEAST(heartbeat_at + 2 * ttl_s, $1 + ttl_s)"
	    " AND heartbeat_at + 2 * ttl_s > $1 AND borrow = 0",
	[ST_SYNC_FULL] = NULL,
	[ST_SYNC_NORMAL] = NULL,
	/* The columns of ST_EXPIRE_SEL (store_sweep_lease reads both). */
	[ST_ORPHAN_SEL] =
	    "SELECT l.id, l.principal, l.host, l.display, p.product,"
	    " l.pool_id, l.count, l.seat_id, l.version"
	    " FROM leases AS l JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE l.orphan_until > 0 AND l.orphan_until <= $1"
	    " ORDER BY l.orphan_until, l.id COLLATE \"C\"",
	/* Only a grace that ends before the lease would expire anyway. */
	[ST_ORPHAN_SET] =
	    "UPDATE leases SET orphan_until = $2"
	    " WHERE id = $1 AND orphan_until = 0 AND expires_at > $2"
	    " AND borrow = 0",
	[ST_ORPHAN_REARM] =
	    "UPDATE leases SET orphan_until ="
	    " CASE WHEN $1::bigint > 0 AND $1 < expires_at THEN $1 ELSE 0 END"
	    " WHERE orphan_until > 0",
	/* Borrowing (schema 0005). */
	[ST_BORROWED_PRODUCT] =
	    "SELECT COALESCE(SUM(l.count), 0) FROM leases AS l"
	    " JOIN pools AS p ON p.id = l.pool_id"
	    " WHERE p.product = $1 AND l.borrow > 0 AND l.expires_at > $2",
	[ST_BORROW_CANCEL] = "UPDATE leases SET borrow = 2 WHERE id = $1",
	/* An integer, not a boolean (pg_col_int64 reads integers). */
	[ST_SWEEP_DUE] =
	    "SELECT (EXISTS (SELECT 1 FROM leases WHERE expires_at <= $1)"
	    " OR EXISTS (SELECT 1 FROM leases WHERE orphan_until > 0"
	    " AND orphan_until <= $1)"
	    " OR EXISTS (SELECT 1 FROM seats WHERE linger_until > 0"
	    " AND linger_until <= $1))::integer",
};
