-- 0003_pool_in_use: the seats in use of each pool as a counter that
-- triggers keep, so that a checkout reads one row per pool instead of
-- summing every seat of it (with 100,000 seats in use a checkout took
-- several times as long as with 100: docs/PERFORMANCE.md).
--
-- Like every migration this runs in one transaction (store.c) and must not
-- contain BEGIN/COMMIT.

ALTER TABLE pools ADD COLUMN in_use INTEGER NOT NULL DEFAULT 0;
UPDATE pools SET in_use =
	(SELECT COALESCE(SUM(s.count), 0) FROM seats AS s WHERE s.pool_id = pools.id);

CREATE TRIGGER seats_in_use_insert AFTER INSERT ON seats
BEGIN
	UPDATE pools SET in_use = in_use + NEW.count WHERE id = NEW.pool_id;
END;
CREATE TRIGGER seats_in_use_delete AFTER DELETE ON seats
BEGIN
	UPDATE pools SET in_use = in_use - OLD.count WHERE id = OLD.pool_id;
END;
CREATE TRIGGER seats_in_use_update AFTER UPDATE OF count, pool_id ON seats
BEGIN
	UPDATE pools SET in_use = in_use - OLD.count WHERE id = OLD.pool_id;
	UPDATE pools SET in_use = in_use + NEW.count WHERE id = NEW.pool_id;
END;
