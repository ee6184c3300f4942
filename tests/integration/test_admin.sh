#!/usr/bin/env bash
# Admin requests, checked against the policy's admin ACL (a principal, or
# a member of an admin group) and audited: holders (who holds what, from
# where, since when, connected or not), remove (the seat is free at once,
# a connected holder gets an unsolicited REVOKE, its next heartbeat
# REVOKED; a running `xlicen checkout` says its lease is lost), shutdown
# (graceful: exit 0, leases kept).  Non-admins get NOT_AUTHORIZED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xdemo 4
R=$XLICEN_REALM
policy "[groups]
	ops = carol@$R
[admin]
	principals = admin@$R
	groups = ops"
# Leases left by lease_probe (which exits) must stay for the whole run,
# however slow: no orphan grace (test_orphan.sh has that).
server_start --policy "$T/policy.conf" --heartbeat 1 --orphan-grace 0

# bob holds a seat on a connection that stays open and prints what comes.
as bob timeout -k 2 20 "$XLICEN_BIN_WIRE" -s "localhost:$SERVER_PORT" \
	checkout xdemo 1.0 1 0 listen 18 >"$T/bob.out" 2>"$T/bob.err" &
for i in $(seq 1 250); do
	grep -q '^GRANT' "$T/bob.out" && break
	sleep 0.02
done
BOB=$(sed -n 's/^GRANT id=100 lease=\([0-9a-f]*\) .*/\1/p' "$T/bob.out")
[ -n "$BOB" ] || fail "bob's grant: $(cat "$T/bob.out" "$T/bob.err")"
DISPLAY=:5 run probe checkout xdemo
expect_rc 0 "alice's checkout"
ALICE=$RUN_OUT

run as admin xl holders --json
expect_rc 0 "holders by admin"
json_valid "$RUN_OUT"
expect_lines "$RUN_OUT" 4 "two holders"
BOBLINE=$(printf '%s\n' "$RUN_OUT" | grep "\"lease\": \"$BOB\"")
expect_contains "$BOBLINE" "\"state\": \"held\", \"principal\": \"bob@$R\", \"host\": \"probe.example\"" "bob's entry"
expect_contains "$BOBLINE" "\"connected\": true" "bob is connected"
ALICELINE=$(printf '%s\n' "$RUN_OUT" | grep "\"lease\": \"$ALICE\"")
expect_contains "$ALICELINE" "\"principal\": \"alice@$R\"" "alice's entry"
expect_contains "$ALICELINE" ":5\", \"lease\"" "alice's canonical display"
expect_contains "$ALICELINE" "\"connected\": false" "alice's probe is gone"
expect_contains "$ALICELINE" "\"last_heartbeat\": \"" "last heartbeat"
run as admin xl holders
expect_rc 0 "holders table"
expect_contains "$RUN_OUT" "PRODUCT      STATE      PRINCIPAL" "table header"
expect_contains "$RUN_OUT" "(* no connection uses the lease now)" "table footnote"

run xl holders
expect_rc 2 "holders by alice"
expect_eq "$RUN_ERR" "xlicen: holders: not authorized: localhost:$SERVER_PORT (127.0.0.1): alice@$R is not on the admin ACL of the server's policy" \
	"NOT_AUTHORIZED"
run as carol xl holders xdemo
expect_rc 0 "holders by carol (admin group ops)"
run xl remove "$BOB"
expect_rc 2 "remove by alice"
expect_contains "$RUN_ERR" "not authorized" "remove by a non-admin"
expect_eq "$(in_use xdemo)" 2 "nothing removed"

# Remove: the seat is free at once, bob is told on his open connection.
run as admin xl remove "$BOB"
expect_rc 0 "admin removes bob's lease"
expect_eq "$RUN_OUT" "removed $BOB" "remove output"
expect_eq "$(in_use xdemo)" 1 "bob's seat is free"
for i in $(seq 1 100); do
	grep -q '^REVOKE' "$T/bob.out" && break
	sleep 0.02
done
expect_eq "$(grep '^REVOKE' "$T/bob.out")" "REVOKE id=0 lease=$BOB code=REVOKED reason=\"lease $BOB was removed by admin@$R\"" \
	"the unsolicited REVOKE"
run as bob probe heartbeat "$BOB"
expect_rc 3 "bob's next heartbeat"
expect_eq "$RUN_ERR" "lease_probe: REVOKED: localhost:$SERVER_PORT (127.0.0.1): lease was removed by an administrator" \
	"REVOKED"
run probe heartbeat "$BOB"
expect_contains "$RUN_ERR" "NO_LEASE" "revoked only to its owner"
run as admin xl remove "$BOB"
expect_rc 2 "removing it again"
expect_contains "$RUN_ERR" "no such lease" "second removal"

# A running `xlicen checkout --keep-running` whose lease is removed keeps
# its command but says the lease is lost (without the option the command
# is ended: test_checkout_life.sh).
# (His command runs until the test says so: after he was told.)
as dave timeout -k 2 20 "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" \
	checkout --keep-running xdemo -- sh -c "while [ ! -e '$T/dave.done' ]; do sleep 0.05; done" \
	>"$T/dave.out" 2>"$T/dave.err" &
DAVE=$!
wait_until 10 "dave's grant" grep -q granted "$T/dave.err"
DLEASE=$(lease_from "$(cat "$T/dave.err")")
run as admin xl remove "$DLEASE"
expect_rc 0 "removing dave's lease"
wait_until 10 "dave to be told his lease is lost" \
	grep -q "the command keeps running without a seat" "$T/dave.err"
touch "$T/dave.done"
rc=0
wait "$DAVE" || rc=$?
expect_eq "$rc" 0 "dave's command ran to its end"
expect_contains "$(cat "$T/dave.err")" "lease was removed by an administrator" "dave told"
expect_contains "$(cat "$T/dave.err")" "lease $DLEASE is lost: " "dave's lease lost"
expect_contains "$(cat "$T/dave.err")" "the command keeps running without a seat" "dave's command kept"

expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'remove' AND detail = 'by admin@$R'")" 2 "removals audited"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'admin' AND principal = 'carol@$R' AND detail = 'HOLDERS'")" 1 \
	"admin requests audited"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'deny' AND code = 68 AND principal = 'alice@$R'")" 2 \
	"refused admin requests audited"

# Shutdown: non-admins may not; the admin's stops the server cleanly.
run as bob xl shutdown
expect_rc 2 "shutdown by bob"
run as admin xl shutdown
expect_rc 0 "shutdown by admin"
expect_eq "$RUN_OUT" "server is shutting down" "shutdown output"
rc=0
for i in $(seq 1 100); do
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.05
done
wait "$SERVER_PID" || rc=$?
SERVER_PID=
expect_eq "$rc" 0 "server exit status after SHUTDOWN"
grep -q "shutdown requested by admin@$R" "$SERVER_LOG" || fail "no shutdown line in the log"
server_start
expect_eq "$(in_use xdemo)" 1 "alice's lease survived the shutdown"
pass
