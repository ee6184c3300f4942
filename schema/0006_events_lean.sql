-- 0006_events_lean: two fewer pages written by every commit that audits
-- (issue 18; docs/PERFORMANCE.md).
--
-- * events_ts goes: no statement looks events up by time (the report
--   reads them in id order, ts <= its end, the whole table anyway), and
--   the index cost one WAL page per audited commit.
-- * events loses AUTOINCREMENT: the server gives each event its id itself
--   (the last id + 1, the hash chain's order, audit_trail.c) and the
--   append-only triggers forbid deleting one, so an id is never reused
--   either way; AUTOINCREMENT only made every insert update its
--   sqlite_sequence row, one more WAL page per audited commit.
--
-- SQLite cannot drop AUTOINCREMENT in place: the table is copied, ids and
-- hashes as they are (the chain verifies as before), and its triggers are
-- made again as 0002 left them.  On a database with a long audit trail
-- the copy takes a moment, once (200,000 events, 31 MB: about 2 s).  Dropping events_ts first makes a second
-- run of this migration fail instead of copying again.
--
-- Like every migration this runs in one transaction and must not contain
-- BEGIN/COMMIT.

DROP INDEX events_ts;

CREATE TABLE events_new (
	id		INTEGER PRIMARY KEY,
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
	detail		TEXT,
	seats		INTEGER,
	hash		BLOB
);
INSERT INTO events_new (id, ts, kind, principal, host, display, product,
	version, lease_id, pool_id, count, code, detail, seats, hash)
	SELECT id, ts, kind, principal, host, display, product, version,
	lease_id, pool_id, count, code, detail, seats, hash FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
DELETE FROM sqlite_sequence WHERE name IN ('events', 'events_new');

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
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
