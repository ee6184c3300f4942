-- 0003_pool_in_use (PostgreSQL): the seats in use of each pool as a
-- counter kept by triggers.  The twin of schema/0003_pool_in_use.sql.

ALTER TABLE pools ADD COLUMN in_use BIGINT NOT NULL DEFAULT 0;
UPDATE pools SET in_use =
	(SELECT COALESCE(SUM(s.count), 0) FROM seats AS s WHERE s.pool_id = pools.id);

CREATE FUNCTION seats_in_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		UPDATE pools SET in_use = in_use - OLD.count WHERE id = OLD.pool_id;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		UPDATE pools SET in_use = in_use + NEW.count WHERE id = NEW.pool_id;
	END IF;
	RETURN NULL;
END;
$$;
CREATE TRIGGER seats_in_use_insert AFTER INSERT ON seats
	FOR EACH ROW EXECUTE FUNCTION seats_in_use();
CREATE TRIGGER seats_in_use_delete AFTER DELETE ON seats
	FOR EACH ROW EXECUTE FUNCTION seats_in_use();
CREATE TRIGGER seats_in_use_update AFTER UPDATE OF count, pool_id ON seats
	FOR EACH ROW EXECUTE FUNCTION seats_in_use();
