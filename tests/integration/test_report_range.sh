#!/usr/bin/env bash
# xlicen report without dates covers the recorded history: its range
# starts at the first event of the audit trail, not in 1970, so the
# average seats in use mean something (issue 16, item 7); and absent
# values are null in the --json outputs (holders, leases, status), never "".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
[ -n "$IT_PYTHON" ] || { it_log "SKIP: needs python3 to read the database"; exit 77; }

license xdemo 2
R=$XLICEN_REALM
policy "[admin]
	principals = admin@$R"
server_start --policy "$T/policy.conf" --orphan-grace 0

# A lease without a display (the probe exits; the lease stays).
run probe checkout xdemo
expect_rc 0 "a lease without a display"
LEASE=$RUN_OUT
# Two seconds with a second seat, so the average is clearly above 0.
run xl checkout xdemo -- sleep 2
expect_rc 0 "a seat for two seconds"

run as admin xl holders --json
expect_rc 0 "holders --json"
json_valid "$RUN_OUT"
LINE=$(printf '%s\n' "$RUN_OUT" | grep "\"lease\": \"$LEASE\"")
expect_contains "$LINE" "\"display\": null, \"lease\": \"$LEASE\"" "holders: no display is null"
run xl leases --json
expect_rc 0 "leases --json"
json_valid "$RUN_OUT"
expect_contains "$RUN_OUT" "\"display\": null, \"lease\": \"$LEASE\"" "leases: no display is null"
expect_not_contains "$RUN_OUT" '""' "leases: no empty strings"

FIRST=$(db "SELECT ts FROM events ORDER BY id LIMIT 1")
[ -n "$FIRST" ] || fail "no events recorded"
FIRST_ISO=$(date -u -d "@$FIRST" +%Y-%m-%dT%H:%M:%SZ)
run as admin xl report
expect_rc 0 "report without dates"
expect_contains "$(printf '%s\n' "$RUN_OUT" | head -n 1)" "usage from $FIRST_ISO to " "the range starts at the first event"
AVG=$(printf '%s\n' "$RUN_OUT" | awk '$1 == "xdemo" && $2 == "(all)" { print $6 }')
[ -n "$AVG" ] && [ "$AVG" != "0.00" ] || fail "report: average of xdemo is \"$AVG\": $RUN_OUT"
run as admin xl report --format json
expect_rc 0 "report --format json without dates"
json_valid "$RUN_OUT"
expect_contains "$RUN_OUT" "{\"from\": \"$FIRST_ISO\", \"to\": \"" "json: the range starts at the first event"
pass
