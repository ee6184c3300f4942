-- 0001_init: license pools, leases and the audit trail.
--
-- Migrations are applied by server/store.c, each inside its own
-- transaction, and recorded in schema_version (which store.c creates), so a
-- migration must not contain BEGIN/COMMIT.  Never edit a migration that has
-- shipped: add the next numbered file instead.
--
-- Times are int64 UTC seconds; 0 in pools.start/pools.expires means "none".

-- One row per license (vendor, product, serial, version range) the server
-- has ever loaded.  Rows are never deleted: a license that disappears from
-- the license set is marked withdrawn, because leases granted from it
-- still reference it until they are released or expire.
CREATE TABLE pools (
	id		INTEGER PRIMARY KEY,
	vendor		TEXT NOT NULL,
	product		TEXT NOT NULL,
	ver_min		TEXT NOT NULL,	-- inclusive, dotted; compared in C
	ver_max		TEXT NOT NULL,	-- (license_version_cmp), not by SQL
	serial		TEXT NOT NULL,
	seats		INTEGER NOT NULL CHECK (seats >= 1),
	start		INTEGER NOT NULL DEFAULT 0,
	expires		INTEGER NOT NULL DEFAULT 0,	-- first invalid second
	customer	TEXT NOT NULL DEFAULT '',
	withdrawn	INTEGER NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1)),
	loaded_at	INTEGER NOT NULL,	-- last reload that contained it
	UNIQUE (vendor, product, serial, ver_min, ver_max)
);
-- Checkout and status only ever look at pools still licensed.
CREATE INDEX pools_active_product ON pools (product) WHERE withdrawn = 0;

-- A granted seat (or count seats).  id is the server-chosen opaque lease
-- id (32 lowercase hex digits of 16 random bytes); the row is deleted on
-- release or expiry, which the events table remembers.
CREATE TABLE leases (
	id		TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 32),
	pool_id		INTEGER NOT NULL REFERENCES pools (id),
	principal	TEXT NOT NULL,	-- authenticated GSS initiator name
	host		TEXT NOT NULL DEFAULT '',	-- client-reported
	display		TEXT NOT NULL DEFAULT '',	-- client-reported
	pid		INTEGER NOT NULL DEFAULT 0,
	count		INTEGER NOT NULL CHECK (count >= 1),
	ttl_s		INTEGER NOT NULL CHECK (ttl_s >= 1),	-- heartbeat extends by this
	granted_at	INTEGER NOT NULL,
	heartbeat_at	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL
) WITHOUT ROWID;
-- The expiry sweep and the next-expiry timer.
CREATE INDEX leases_expires ON leases (expires_at);
-- Seats in use per pool; count is included so the sum is read from the
-- index alone.  expires_at is deliberately left out: heartbeats rewrite it
-- and would otherwise touch this index too.
CREATE INDEX leases_pool ON leases (pool_id, count);

-- The kinds of audit event.  A table rather than a CHECK constraint so a
-- later migration can add a kind with an INSERT instead of rebuilding
-- events.
CREATE TABLE event_kinds (
	kind		TEXT PRIMARY KEY NOT NULL
) WITHOUT ROWID;
INSERT INTO event_kinds (kind) VALUES
	('grant'), ('deny'), ('release'), ('expire'), ('reload');

-- The audit trail, append-only (enforced by the triggers below) so it can
-- later be hash-chained.  Values are copied, not referenced: a record must
-- keep saying what happened after leases are deleted and pools change.
-- code is the positive wire value of the xlicen error (0 for success).
CREATE TABLE events (
	id		INTEGER PRIMARY KEY AUTOINCREMENT,
	ts		INTEGER NOT NULL,
	kind		TEXT NOT NULL REFERENCES event_kinds (kind),
	principal	TEXT,
	host		TEXT,
	display		TEXT,
	product		TEXT,
	version		TEXT,	-- the version a checkout asked for
	lease_id	TEXT,
	pool_id		INTEGER,	-- pools.id at the time; no FK, history
	count		INTEGER,
	code		INTEGER NOT NULL DEFAULT 0,
	detail		TEXT
);
CREATE INDEX events_ts ON events (ts);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
