#!/usr/bin/env bash
# Seats across concurrent clients on a 2-seat license: alice and bob are
# granted while their commands run, carol is denied (exit 2, 2/2), status
# follows every step, and only a lease's owner can release it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xdemo 2 --versions 1.0-2.0
server_start --heartbeat 1

run xl status
expect_rc 0 "status"
expect_eq "$RUN_OUT" "PRODUCT  VERSIONS  IN USE/TOTAL  EXPIRES     STATE
xdemo    1.0-2.0   0/2           permanent   active" "status table"
expect_eq "$RUN_ERR" "" "status stderr"

# hold USER: check out a seat as USER for a command that runs until
# $T/go.USER exists; HOLD_PID is the CLI's pid.  Returns once granted.
hold() {
	local user=$1 i
	as "$user" timeout -k 2 20 "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" \
		checkout xdemo 1.5 -- sh -c "echo \$\$ >'$T/$user.cmdpid'; while [ ! -e '$T/go.$user' ]; do sleep 0.05; done; exit 0" \
		>"$T/$user.out" 2>"$T/$user.err" &
	HOLD_PID=$!
	for i in $(seq 1 250); do
		grep -q 'granted' "$T/$user.err" && return 0
		kill -0 "$HOLD_PID" 2>/dev/null || fail "$user's checkout ended: $(cat "$T/$user.err")"
		sleep 0.02
	done
	fail "$user: no grant after 5 s"
}
lease_of() { sed -n 's/^xlicen: granted xdemo lease \([^ ]*\) .*/\1/p' "$T/$1.err"; }

hold alice
ALICE_PID=$HOLD_PID
expect_contains "$(cat "$T/alice.err")" "xlicen: granted xdemo lease " "alice's grant line"
expect_contains "$(cat "$T/alice.err")" " (1/2 seats in use, expires " "alice's grant line"
hold bob
BOB_PID=$HOLD_PID
expect_contains "$(cat "$T/bob.err")" " (2/2 seats in use, expires " "bob's grant line"
ALICE_LEASE=$(lease_of alice)
BOB_LEASE=$(lease_of bob)
[ -n "$ALICE_LEASE" ] && [ -n "$BOB_LEASE" ] || fail "no lease ids in the grant lines"
[ "$ALICE_LEASE" != "$BOB_LEASE" ] || fail "alice and bob got the same lease id"

# carol: denied, exit 2, one line, and her command never runs.
run as carol xl checkout xdemo -- touch "$T/carol.ran"
expect_rc 2 "carol's checkout"
expect_eq "$RUN_ERR" "xlicen: xdemo: localhost:$SERVER_PORT (127.0.0.1): all seats are in use (2/2 seats in use): try again later, or wait in the server's queue with --wait" "carol's denial"
[ ! -e "$T/carol.ran" ] || fail "carol's command ran although she was denied"

# The same through the library, by error name.
run as carol probe checkout xdemo
expect_rc 2 "carol's probe"
expect_contains "$RUN_ERR" "lease_probe: NO_SEATS: localhost:$SERVER_PORT (127.0.0.1): " "carol's probe"

run as dave xl status --json
expect_rc 0 "status --json"
json_valid "$RUN_OUT"
expect_eq "$RUN_OUT" '[
  {"product": "xdemo", "versions": "1.0-2.0", "vendor": "acme", "serial": "SN-xdemo", "total": 2, "in_use": 2, "start": null, "expires": "permanent", "state": "active", "queued": 0, "kind": "floating", "hostid": null, "dup_group": "uhd", "linger": 0, "ttl": 120, "heartbeat": 1}
]' "status --json with 2 seats taken"

# bob may not release alice's lease; it stays.
run as bob xl release "$ALICE_LEASE"
expect_rc 2 "bob releasing alice's lease"
expect_eq "$RUN_ERR" "xlicen: release $ALICE_LEASE: localhost:$SERVER_PORT (127.0.0.1): lease belongs to another principal" "NOT_OWNER text"
expect_eq "$(in_use xdemo)" 2 "in use after bob's failed release"

# alice's command ends: exit 0, her seat comes back, no error printed.
touch "$T/go.alice"
rc=0
wait "$ALICE_PID" || rc=$?
expect_eq "$rc" 0 "alice's xlicen exit status"
expect_lines "$(cat "$T/alice.err")" 1 "alice's stderr"
expect_eq "$(in_use xdemo)" 1 "in use after alice's command ended"
run as dave xl status --json
expect_eq "$(json_field "$RUN_OUT" xdemo in_use)/$(json_field "$RUN_OUT" xdemo total)" "1/2" "json in_use/total"

# Now carol fits; her command's exit status is passed through.
run as carol xl checkout xdemo -- sh -c 'exit 5'
expect_rc 5 "carol's command status"
expect_contains "$RUN_ERR" "xlicen: granted xdemo lease " "carol's grant"
expect_contains "$RUN_ERR" " (2/2 seats in use, expires " "carol's grant"
expect_lines "$RUN_ERR" 1 "carol's stderr"
expect_eq "$(in_use xdemo)" 1 "in use after carol's command"

# A lease that outlives its process is released by its owner only.
run as carol probe checkout xdemo
expect_rc 0 "carol's probe checkout"
CAROL_LEASE=$RUN_OUT
expect_eq "$(in_use xdemo)" 2 "in use with carol's probe lease"
run as bob xl release "$CAROL_LEASE"
expect_rc 2 "bob releasing carol's lease"
expect_contains "$RUN_ERR" "lease belongs to another principal" "NOT_OWNER"
run as carol xl release "$CAROL_LEASE"
expect_rc 0 "carol releasing her lease"
expect_eq "$RUN_OUT$RUN_ERR" "" "release output"
run as carol xl release "$CAROL_LEASE"
expect_rc 2 "releasing twice"
expect_eq "$RUN_ERR" "xlicen: release $CAROL_LEASE: localhost:$SERVER_PORT (127.0.0.1): no such lease" "NO_LEASE text"
expect_eq "$(in_use xdemo)" 1 "in use after carol's release"

# bob's command was killed by a signal: 128+15, and the seat is released.
wait_until 10 "a heartbeat on bob's connection" \
	db_is "SELECT heartbeat_at > granted_at FROM leases WHERE id = '$BOB_LEASE'" 1
kill -TERM "$(cat "$T/bob.cmdpid")"
rc=0
wait "$BOB_PID" || rc=$?
expect_eq "$rc" 143 "bob's xlicen exit status (command killed by SIGTERM)"
expect_lines "$(cat "$T/bob.err")" 1 "bob's stderr"
expect_eq "$(in_use xdemo)" 0 "in use at the end"
grep -q "release lease $BOB_LEASE by bob@XLICEN.TEST" "$SERVER_LOG" ||
	fail "the server did not log bob's release"
pass
