-- 0006_events_lean (PostgreSQL): events_ts goes.  The twin of
-- schema/0006_events_lean.sql, which explains it; here the events' ids
-- are an identity column the server always fills itself, which writes no
-- sequence row, so the index is all there is to drop.

DROP INDEX events_ts;
