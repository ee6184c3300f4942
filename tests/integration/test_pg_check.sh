#!/usr/bin/env bash
# --check-config with the PostgreSQL store connects as the server would
# and says where the schema stands, without migrating: an empty database
# ("no schema yet"), one a server made ("current"), an older one
# ("migrated at the next start"), one newer than this server (an error); a wrong port and a wrong database fail with exit
# status 1 and one line naming the conninfo, never its password, and
# libpq's reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pglib.sh"

license xdemo 1
: >"$T/empty.conf"
pg_usedb
DB=$(pg_q "SELECT current_database()")
# check CONNINFO: --check-config with everything else the test server's.
check() {
	run "$XLICEN_BIN_SERVER" --check-config --config "$T/empty.conf" --user root \
		--keytab "$XLICEN_SERVICE_KEYTAB" --licenses "$T/lic" --vendor-keys "$T/keys" \
		--store-conninfo "$1"
}
# shown DBNAME PORT: the conninfo as the messages show it: libpq's order
# of keywords, the password left out.
ROLE=$(printf '%s\n' "$PG_CONNINFO" | sed -n 's/.*user=\([^ ]*\).*/\1/p')
shown() { printf '"user=%s connect_timeout=2 dbname=%s host=%s port=%s"' \
	"$ROLE" "$1" "$XLICEN_PG_SOCKDIR" "$2"; }
KNOWN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../schema/postgresql" &&
	ls [0-9]*.sql | sed 's/^0*\([0-9][0-9]*\)_.*/\1/' | sort -n | tail -n 1)
CI="$PG_CONNINFO password=sekret"

# An empty database: connected, the schema made at the first start; the
# check creates nothing.
check "$CI"
expect_rc 0 "check-config on an empty database"
expect_contains "$RUN_OUT" "store PostgreSQL $(shown "$DB" "$XLICEN_PG_PORT"): connected (PostgreSQL 15." "the connection line"
expect_contains "$RUN_OUT" "no schema yet: it is created at the first start" "an empty database"
expect_eq "$(pg_q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0 "tables made by the check"

# After a server's start: current.
server_start
server_stop
check "$CI"
expect_rc 0 "check-config after a start"
expect_contains "$RUN_OUT" "schema version $KNOWN, current" "a migrated database"
expect_not_contains "$RUN_OUT$RUN_ERR" sekret "the password"

# A wrong port (no socket there) and a wrong database.
BAD=${CI/port=$XLICEN_PG_PORT/port=1}
[ "$BAD" != "$CI" ] || fail "no port=$XLICEN_PG_PORT in $CI"
check "$BAD"
expect_rc 1 "check-config with a wrong port"
expect_contains "$RUN_ERR" "store PostgreSQL $(shown "$DB" 1): cannot connect to PostgreSQL: connection to server on socket \"$XLICEN_PG_SOCKDIR/.s.PGSQL.1\" failed: No such file or directory; Is the server running locally and accepting connections on that socket?" "the wrong port's line"
expect_not_contains "$RUN_ERR" sekret "the password (wrong port)"
expect_contains "$RUN_ERR" "gss-xlicend: configuration has errors" "the verdict (wrong port)"
BAD=${CI/dbname=$DB/dbname=${DB}_none}
check "$BAD"
expect_rc 1 "check-config with a wrong database"
expect_contains "$RUN_ERR" "store PostgreSQL $(shown "${DB}_none" "$XLICEN_PG_PORT"): cannot connect to PostgreSQL: connection to server on socket \"$XLICEN_PG_SOCKDIR/.s.PGSQL.$XLICEN_PG_PORT\" failed: FATAL:  database \"${DB}_none\" does not exist" "the wrong database's line"
[ "$(printf '%s\n' "$RUN_ERR" | grep -c 'PostgreSQL')" = 1 ] || fail "not one line: $RUN_ERR"

# An older schema (the newest migration's row gone): migrated at the start.
pg_q "DELETE FROM schema_version WHERE version = $KNOWN"
check "$CI"
expect_rc 0 "check-config on an older schema"
expect_contains "$RUN_OUT" "store PostgreSQL $(shown "$DB" "$XLICEN_PG_PORT"): connected (PostgreSQL 15." "the older schema's line"
expect_contains "$RUN_OUT" "schema version $((KNOWN - 1)) of $KNOWN: migrated at the next start" "an older schema"
expect_eq "$(pg_q "SELECT max(version) FROM schema_version")" $((KNOWN - 1)) "a migration applied by the check"

# A schema newer than this server: the start would refuse it, so does the check.
pg_q "INSERT INTO schema_version (version, name, applied_at) VALUES ($((KNOWN + 1)), 'future', 0)"
check "$CI"
expect_rc 1 "check-config on a newer schema"
expect_contains "$RUN_ERR" "store PostgreSQL $(shown "$DB" "$XLICEN_PG_PORT"): schema version $((KNOWN + 1)), newer than the $KNOWN this gss-xlicend knows: it refuses to start on it (run a newer server)" "a newer schema"
pass
