#!/usr/bin/env bash
# The audit trail: every checkout, denial, release and admin request is an
# event with its principal, hash-chained; `xlicen report` summarises usage
# per product and principal (grants, denials, peak and average seats,
# hours) in table, CSV and JSON; `xlicen report verify` checks the chain on
# the server, and `--database` in the file itself (the same head); an
# event edited behind the server's back breaks the chain at that event.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xdemo 2
R=$XLICEN_REALM
policy "[admin]
	principals = admin@$R"
# No orphan grace: bob's lease comes from the probe, which exits, and must
# stay however slow the run (an orphan event would change the count).
server_start --policy "$T/policy.conf" --heartbeat 1 --orphan-grace 0
START=$(date +%s)

# Two seconds, so the whole-second grant and release times always differ.
DISPLAY=:1 run xl checkout xdemo -- sleep 2
expect_rc 0 "alice uses xdemo for two seconds"
run as bob probe checkout xdemo
expect_rc 0 "bob holds a seat"
run probe checkout xdemo
expect_rc 0 "alice holds the second"
run as carol xl checkout xdemo -- true
expect_rc 2 "carol denied"
run as dave xl checkout nosuch -- true
expect_rc 2 "dave: no such product"

run xl report
expect_rc 2 "report by alice"
expect_contains "$RUN_ERR" "not authorized" "report needs the admin ACL"

run as admin xl report --from "@$START" --format csv
expect_rc 0 "report csv"
expect_eq "$(printf '%s\n' "$RUN_OUT" | head -n 1)" "product,principal,grants,denials,peak,average,hours" "csv header"
XDEMO=$(printf '%s\n' "$RUN_OUT" | grep '^xdemo,,')
expect_eq "$(echo "$XDEMO" | cut -d, -f3-5)" "3,1,2" "xdemo: 3 grants, 1 denial, peak 2"
expect_eq "$(printf '%s\n' "$RUN_OUT" | grep "^xdemo,alice@$R," | cut -d, -f3-5)" "2,0,1" "alice's row"
expect_eq "$(printf '%s\n' "$RUN_OUT" | grep "^xdemo,carol@$R," | cut -d, -f3-5)" "0,1,0" "carol's row"
expect_eq "$(printf '%s\n' "$RUN_OUT" | grep "^nosuch,dave@$R," | cut -d, -f3-4)" "0,1" "dave's denial"
HOURS=$(echo "$XDEMO" | cut -d, -f7)
[ "$HOURS" != "0.0000" ] || fail "xdemo's hours are 0"

run as admin xl report --format json --product xdemo
expect_rc 0 "report json"
json_valid "$RUN_OUT"
expect_contains "$RUN_OUT" "{\"product\": \"xdemo\", \"principal\": null, \"grants\": 3, \"denials\": 1, \"peak\": 2," "json product row"
expect_not_contains "$RUN_OUT" "nosuch" "--product"
run as admin xl report --to 2000-01-01
expect_rc 0 "report of an empty range"
expect_lines "$RUN_OUT" 2 "table with no rows"
run as admin xl report --from 2030-01-01 --to 2029-01-01
expect_rc 1 "from after to"

# The chain, on the server and in the file: the same events and head.
run as admin xl report verify
expect_rc 0 "verify on the server"
SERVER_SAYS=$RUN_OUT
expect_contains "$SERVER_SAYS" "audit trail intact: " "server's verdict"
run xl report verify --database "$T/xlicen.db"
expect_rc 0 "verify of the file"
expect_eq "$RUN_OUT" "$SERVER_SAYS" "the file says what the server says"
N=$(db "SELECT COUNT(*) FROM events")
expect_contains "$SERVER_SAYS" "intact: $N events, head " "event count"

# Someone with write access edits an event behind the server's back.
server_stop
BAD=$(db "SELECT id FROM events WHERE kind = 'deny' AND principal = 'carol@$R'")
"$IT_PYTHON" - "$T/xlicen.db" "$BAD" <<'PY' || fail "editing the database"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("DROP TRIGGER events_no_update")
c.execute("UPDATE events SET principal = 'nobody@X' WHERE id = ?", (int(sys.argv[2]),))
c.commit()
PY
run xl report verify --database "$T/xlicen.db"
expect_rc 4 "verify of the edited file"
expect_contains "$RUN_OUT" "audit trail BROKEN at event $BAD (" "broken at the edited event"
server_start
run as admin xl report verify
expect_rc 4 "verify on the server after the edit"
expect_contains "$RUN_OUT" "audit trail BROKEN at event $BAD" "server's verdict"
expect_contains "$RUN_ERR" "audit event $BAD does not match its hash" "reason"

# Edits the hash encoding cannot see (the value reads back as the hashed
# one): a NUL inside a text, a REAL or a TEXT in an integer column.  The
# file's verifier names the row all the same.  Carol's denial first gets its
# principal back, and the chain is intact again.
server_stop
GRANT=$(db "SELECT MIN(id) FROM events WHERE kind = 'grant' AND pool_id IS NOT NULL")
edit() {
	"$IT_PYTHON" - "$T/xlicen.db" "$1" <<'PY' || fail "editing the database: $1"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute(sys.argv[2])
c.commit()
PY
}
edit "UPDATE events SET principal = 'carol@$R' WHERE id = $BAD"
edit "CREATE TABLE orig AS SELECT * FROM events WHERE id = $GRANT"
run xl report verify --database "$T/xlicen.db"
expect_rc 0 "verify after putting the principal back"
for CASE in "principal = principal || char(0) || 'mallory'" \
    "pool_id = pool_id + 0.5" "count = count || ' seats'"; do
	edit "UPDATE events SET $CASE WHERE id = $GRANT"
	run xl report verify --database "$T/xlicen.db"
	expect_rc 4 "verify after $CASE"
	expect_contains "$RUN_OUT" "audit trail BROKEN at event $GRANT (" "$CASE: broken at the edited event"
	expect_contains "$RUN_ERR" "event $GRANT: column ${CASE%% *} is not stored as the chain encodes it" "$CASE: the column named"
	edit "UPDATE events SET (principal, pool_id, count) = (SELECT principal, pool_id, count FROM orig) WHERE id = $GRANT"
done
run xl report verify --database "$T/xlicen.db"
expect_rc 0 "verify after the last edit is undone"
pass
