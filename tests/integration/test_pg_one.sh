#!/usr/bin/env bash
# One server on PostgreSQL ([store] backend = postgresql, here through
# --store-conninfo): checkout, heartbeat, release, status, holders, report
# and the audit chain verified, everything in the database (no SQLite file
# is made); the migrations are applied once; a restart keeps the leases;
# a lost connection fails one request with DB and is re-established; an
# event edited behind the server's back breaks the chain there; a bad
# [store] value is refused naming file, line and key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
. "$(dirname "$0")/pglib.sh"

license xdemo 2
R=$XLICEN_REALM
policy "[admin]
	principals = admin@$R"
pg_usedb
server_start --policy "$T/policy.conf" --heartbeat 1 --orphan-grace 0
# Every migration of schema/postgresql/, by the number its file name starts with.
want=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../schema/postgresql" &&
	ls [0-9]*.sql | sed 's/^0*\([0-9][0-9]*\)_.*/\1/' | paste -sd, -)
expect_eq "$(pg_q "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version")" \
	"$want" "migrations applied"
[ ! -e "$T/xlicen.db" ] || fail "a SQLite file was made beside a PostgreSQL store"

run probe checkout xdemo
expect_rc 0 "alice's checkout"
L1=$RUN_OUT
expect_eq "$(pg_q "SELECT principal, count FROM leases WHERE id = '$L1'")" "alice@$R|1" "the lease row"
expect_eq "$(in_use xdemo)" 1 "in use after one checkout"
BEFORE=$(pg_q "SELECT heartbeat_at FROM leases WHERE id = '$L1'")
sleep 1.1
run probe heartbeat "$L1"
expect_rc 0 "alice's heartbeat"
# Written when answered, not held in memory: another server's sweep must
# see it (store_shared).
expect_eq "$(pg_q "SELECT expires_at FROM leases WHERE id = '$L1'")" "$RUN_OUT" \
	"the expiry answered is in the database at once"
AFTER=$(pg_q "SELECT heartbeat_at FROM leases WHERE id = '$L1'")
[ "$AFTER" -gt "$BEFORE" ] || fail "heartbeat_at $AFTER not after $BEFORE"

run as bob probe checkout xdemo
expect_rc 0 "bob's checkout"
L2=$RUN_OUT
run as carol probe checkout xdemo
expect_rc 2 "carol: both seats taken"
expect_contains "$RUN_ERR" "lease_probe: NO_SEATS: " "carol's denial"
run as admin xl holders --json
expect_rc 0 "holders"
expect_lines "$RUN_OUT" 4 "two holders"
expect_contains "$RUN_OUT" "\"lease\": \"$L2\"" "bob's lease in holders"
run as bob xl release "$L2"
expect_rc 0 "bob's release"
expect_eq "$(in_use xdemo)" 1 "in use after bob's release"
expect_eq "$(pg_q "SELECT in_use FROM pools WHERE product = 'xdemo'")" 1 "the pool's counter (trigger)"

# A restart keeps alice's lease; its expiry is not touched at start on a
# shared store.
EXP=$(pg_q "SELECT expires_at FROM leases WHERE id = '$L1'")
server_stop
server_start --policy "$T/policy.conf" --heartbeat 1 --orphan-grace 0
expect_eq "$(pg_q "SELECT COUNT(*) FROM schema_version")" "$(printf "%s\n" "$want" | tr , "\n" | wc -l)" "no migration twice"
expect_eq "$(pg_q "SELECT expires_at FROM leases WHERE id = '$L1'")" "$EXP" "expiry untouched by the start"
run probe heartbeat "$L1"
expect_rc 0 "alice's heartbeat after the restart"
run xl release "$L1"
expect_rc 0 "alice's release"
expect_eq "$(in_use xdemo)" 0 "in use after both releases"

# The connection to PostgreSQL breaks (as when the primary goes) and the
# database refuses connections for a while: requests fail with DB, the
# server stays up, logs the loss once, and once the database is back
# connects again (at most once a second) and serves.
DB=$(pg_q "SELECT current_database()")
PGADMIN=${PG_CONNINFO/dbname=$DB/dbname=postgres}
"$XLICEN_PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$PGADMIN" \
	-c "ALTER DATABASE $DB ALLOW_CONNECTIONS false" \
	-c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'gss-xlicend' AND datname = '$DB'" >/dev/null ||
	fail "cutting the server off"
run as bob probe checkout xdemo
expect_rc 3 "a checkout while the database is gone"
expect_contains "$RUN_ERR" "lease_probe: DB: " "its error"
run as bob probe checkout xdemo
expect_rc 3 "a second one"
"$XLICEN_PG_BIN/psql" -X -q -At -d "$PGADMIN" -c "ALTER DATABASE $DB ALLOW_CONNECTIONS true" >/dev/null ||
	fail "letting the server back in"
checkout_ok() { run as bob probe checkout xdemo; [ "$RUN_RC" = 0 ] || { sleep 0.2; false; }; }
wait_until 10 "a checkout on a new connection" checkout_ok
expect_eq "$(grep -c 'lost the connection to PostgreSQL' "$SERVER_LOG")" 1 "the loss logged once"
expect_eq "$(grep -c 'connected to PostgreSQL again' "$SERVER_LOG")" 1 "the reconnect logged"
kill -0 "$SERVER_PID" || fail "the server exited"
run as bob xl release "$RUN_OUT"
expect_rc 0 "bob's release of it"

run as admin xl report --format csv
expect_rc 0 "report"
expect_eq "$(printf '%s\n' "$RUN_OUT" | grep '^xdemo,,' | cut -d, -f3-5)" "3,1,2" \
	"xdemo: 3 grants, 1 denial (the failed one is not audited), peak 2"
run as admin xl report verify
expect_rc 0 "verify on the server"
N=$(pg_q "SELECT COUNT(*) FROM events")
expect_contains "$RUN_OUT" "audit trail intact: $N events, head " "every event checked"
expect_eq "$(pg_q "SELECT COUNT(*) FROM events WHERE length(hash) <> 32 OR hash IS NULL")" 0 "32-byte hashes"

# The chain holds against an edit made behind the server's back.
BAD=$(pg_q "SELECT id FROM events WHERE kind = 'deny' AND principal = 'carol@$R'")
pg_q "ALTER TABLE events DISABLE TRIGGER events_no_update;
	UPDATE events SET principal = 'nobody@X' WHERE id = $BAD;
	ALTER TABLE events ENABLE TRIGGER events_no_update" >/dev/null
run as admin xl report verify
expect_rc 4 "verify after the edit"
expect_contains "$RUN_OUT" "audit trail BROKEN at event $BAD" "broken at the edited event"
# The append-only trigger refuses the same edit.
if pg_q "UPDATE events SET principal = 'x' WHERE id = $BAD" 2>"$T/psql.err"; then
	fail "an UPDATE of events was allowed"
fi
expect_contains "$(cat "$T/psql.err")" "events are append-only" "the trigger's refusal"
server_stop

# The configuration: a bad backend, and postgresql without a conninfo.
printf '[store]\n\tbackend = mysql\n' >"$T/bad.conf"
run "$XLICEN_BIN_SERVER" --config "$T/bad.conf" --check-config
expect_rc 1 "backend = mysql"
expect_contains "$RUN_ERR" "$T/bad.conf:2: [store] backend = \"mysql\": expected sqlite or postgresql" "bad backend"
printf '[store]\n\tbackend = postgresql\n' >"$T/bad.conf"
run "$XLICEN_BIN_SERVER" --config "$T/bad.conf" --check-config
expect_rc 1 "postgresql without conninfo"
expect_contains "$RUN_ERR" "$T/bad.conf:2: [store] backend = \"postgresql\": expected a [store] conninfo too" "no conninfo"
# An unreachable database: the server does not start, and says why.
run "$XLICEN_BIN_SERVER" --foreground --listen 127.0.0.1:0 --user root \
	--keytab "$XLICEN_SERVICE_KEYTAB" --licenses "$T/lic" --vendor-keys "$T/keys" \
	--store-conninfo "host=$T/nosock dbname=x connect_timeout=2"
expect_rc 1 "no database"
expect_contains "$RUN_ERR" "store: cannot connect to PostgreSQL: " "the reason"
pass
