-- 0005_borrow: seats borrowed for offline use (docs/ADMIN.md,
-- "Borrowing").  A borrowed lease is an ordinary lease whose expires_at
-- is the borrow's end and which heartbeats, reclaims, restarts and a
-- closed connection never change; an administrator's cancel marks it
-- (borrow = 2) but its seat stays counted until that end, because the
-- laptop that holds its token cannot be told.
--
-- Like every migration this runs in one transaction and must not contain
-- BEGIN/COMMIT.

ALTER TABLE leases ADD COLUMN borrow INTEGER NOT NULL DEFAULT 0
	CHECK (borrow IN (0, 1, 2));	-- 0 no, 1 borrowed, 2 borrowed and cancelled

INSERT INTO event_kinds (kind) VALUES
	('borrow'),		-- a seat was borrowed (detail: its end)
	('borrow_cancel');	-- an administrator cancelled a borrowed lease
