-- 0004_orphan: leases whose holder went away.  When the connection that
-- holds a lease is ended by the client (EOF, reset, its ALERT), the lease
-- becomes an orphan: orphan_until is set to the end of its grace
-- ([leases] orphan_grace), and unless its principal re-attaches it
-- (RECLAIM, or a HEARTBEAT) before then, the sweep frees its seat as a
-- release would (the seat may linger) and audits it as 'orphan'.  0: the
-- lease is not an orphan.  A column of its own, not a shorter expires_at:
-- heartbeats held in memory and the TTL given at every start rewrite
-- expires_at, and the sweep must tell an orphan (lingers, 'orphan') from
-- an expiry (does not, 'expire').
--
-- Like every migration this runs in one transaction (store.c) and must not
-- contain BEGIN/COMMIT.

ALTER TABLE leases ADD COLUMN orphan_until INTEGER NOT NULL DEFAULT 0;
-- The orphan sweep and the next-expiry timer read only the orphans.
CREATE INDEX leases_orphan ON leases (orphan_until) WHERE orphan_until > 0;

INSERT INTO event_kinds (kind) VALUES
	('orphan');	-- an orphaned lease was freed after its grace
