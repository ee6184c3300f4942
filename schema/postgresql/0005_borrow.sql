-- 0005_borrow (PostgreSQL): seats borrowed for offline use.  The twin of
-- schema/0005_borrow.sql, which explains it.

ALTER TABLE leases ADD COLUMN borrow BIGINT NOT NULL DEFAULT 0
	CHECK (borrow IN (0, 1, 2));	-- 0 no, 1 borrowed, 2 borrowed and cancelled

INSERT INTO event_kinds (kind) VALUES
	('borrow'),
	('borrow_cancel');
