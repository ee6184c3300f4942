-- 0004_orphan (PostgreSQL): leases whose holder went away.  The twin of
-- schema/0004_orphan.sql, which explains it.

ALTER TABLE leases ADD COLUMN orphan_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX leases_orphan ON leases (orphan_until) WHERE orphan_until > 0;

INSERT INTO event_kinds (kind) VALUES
	('orphan');
