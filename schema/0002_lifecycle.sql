-- 0002_lifecycle: license kinds, shared seats (dup grouping, linger),
-- revoked leases, more audit kinds and the audit hash chain.
--
-- Like every migration this runs in one transaction (store.c) and must
-- not contain BEGIN/COMMIT.  Existing rows are carried over: every lease
-- gets a seat of its own, so nothing in use changes.

-- The optional license fields (common/license.h).  For an uncounted
-- license seats holds 1 (the CHECK of 0001 wants >= 1) and is ignored.
ALTER TABLE pools ADD COLUMN uncounted INTEGER NOT NULL DEFAULT 0
	CHECK (uncounted IN (0, 1));
ALTER TABLE pools ADD COLUMN hostid TEXT NOT NULL DEFAULT '';	-- '' = not node-locked
ALTER TABLE pools ADD COLUMN dup_group TEXT NOT NULL DEFAULT '';	-- '' = not in the license
ALTER TABLE pools ADD COLUMN linger INTEGER NOT NULL DEFAULT 0;	-- seconds, 0 = none
ALTER TABLE pools ADD COLUMN ttl INTEGER NOT NULL DEFAULT 0;	-- seconds, 0 = not in the license
ALTER TABLE pools ADD COLUMN heartbeat INTEGER NOT NULL DEFAULT 0;

-- A seat: what a pool counts.  Leases of one dup group (same principal,
-- host and display by default) share one seat, so the seat, not the
-- lease, is what is in use.  A seat lives while it has a lease, and after
-- its last lease is released for linger_s more seconds (linger_until > 0,
-- still counted) so that the same group can take it back.  principal and
-- host are those of the checkout that took it (policy MAX and RESERVE
-- count seats by them).
CREATE TABLE seats (
	id		INTEGER PRIMARY KEY,
	pool_id		INTEGER NOT NULL REFERENCES pools (id),
	grp		TEXT NOT NULL,	-- dup-group key (policy.c)
	principal	TEXT NOT NULL,
	host		TEXT NOT NULL DEFAULT '',
	count		INTEGER NOT NULL CHECK (count >= 1),
	linger_s	INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	linger_until	INTEGER NOT NULL DEFAULT 0	-- 0: held by leases
);
CREATE INDEX seats_pool_grp ON seats (pool_id, grp);
CREATE INDEX seats_linger ON seats (linger_until) WHERE linger_until > 0;

ALTER TABLE leases ADD COLUMN seat_id INTEGER REFERENCES seats (id);
ALTER TABLE leases ADD COLUMN hb_s INTEGER NOT NULL DEFAULT 0;	-- interval the GRANT asked for
ALTER TABLE leases ADD COLUMN version TEXT NOT NULL DEFAULT '';	-- asked for at checkout

INSERT INTO seats (pool_id, grp, principal, host, count, created_at)
	SELECT pool_id, 'lease:' || id, principal, host, count, granted_at
	FROM leases;
UPDATE leases SET seat_id =
	(SELECT s.id FROM seats AS s WHERE s.grp = 'lease:' || leases.id);
CREATE INDEX leases_seat ON leases (seat_id);

-- A lease an administrator removed answers REVOKED (not NO_LEASE) to its
-- owner for a while; store.c prunes old rows.
CREATE TABLE revoked (
	lease_id	TEXT PRIMARY KEY NOT NULL,
	principal	TEXT NOT NULL,	-- the lease's owner
	revoked_at	INTEGER NOT NULL,
	by_principal	TEXT NOT NULL	-- the administrator
) WITHOUT ROWID;

INSERT INTO event_kinds (kind) VALUES
	('queue'),	-- a checkout joined a queue (detail: position)
	('dequeue'),	-- it left the queue without a seat (code says why)
	('remove'),	-- an administrator removed a lease
	('reclaim'),	-- a lease was re-attached after a reconnect
	('admin'),	-- an administrative request (detail: which)
	('linger');	-- a lingering seat was finally freed

-- seats: the change in seats in use the event caused (+n a new seat, -n a
-- freed one, 0 a lease sharing a seat).  hash: the audit chain (see
-- common/audit.h), SHA-256 over the previous row's hash and this row.
ALTER TABLE events ADD COLUMN seats INTEGER;
ALTER TABLE events ADD COLUMN hash BLOB;

-- Append-only still, with one exception: a hash may be filled in once
-- where it is NULL (rows written before this migration get theirs when
-- the store opens), and nothing else of the row may change with it.
DROP TRIGGER events_no_update;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
WHEN OLD.hash IS NOT NULL OR NEW.hash IS NULL
	OR NEW.id IS NOT OLD.id OR NEW.ts IS NOT OLD.ts
	OR NEW.kind IS NOT OLD.kind OR NEW.principal IS NOT OLD.principal
	OR NEW.host IS NOT OLD.host OR NEW.display IS NOT OLD.display
	OR NEW.product IS NOT OLD.product OR NEW.version IS NOT OLD.version
	OR NEW.lease_id IS NOT OLD.lease_id OR NEW.pool_id IS NOT OLD.pool_id
	OR NEW.count IS NOT OLD.count OR NEW.code IS NOT OLD.code
	OR NEW.detail IS NOT OLD.detail OR NEW.seats IS NOT OLD.seats
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
