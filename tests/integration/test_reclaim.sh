#!/usr/bin/env bash
# RECLAIM and self-service: a lease is re-attached (same id, renewed
# expiry, no second seat) from a new connection and after a server
# restart, only by its principal (NOT_OWNER), never once expired or unknown
# (NO_LEASE); `xlicen release --mine` releases exactly the caller's leases
# that no program holds any more.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xdemo 3
server_start --heartbeat 1 --lease-ttl 6

run probe checkout xdemo
expect_rc 0 "alice's checkout"
LEASE=$RUN_OUT
expect_eq "$(in_use xdemo)" 1 "in use after the checkout"

run xl reclaim "$LEASE"
expect_rc 0 "alice reclaims her lease"
expect_contains "$RUN_OUT" "reclaimed $LEASE (1/3 seats in use, expires " "reclaim output"
expect_eq "$(in_use xdemo)" 1 "in use after the reclaim: no second seat"

# On the wire: a GRANT with the same lease id.
wire reclaim "$LEASE"
expect_rc 0 "wire reclaim"
expect_contains "$RUN_OUT" "GRANT id=100 lease=$LEASE in_use=1 total=3" "reclaim reply"

run as bob xl reclaim "$LEASE"
expect_rc 2 "bob reclaiming alice's lease"
expect_eq "$RUN_ERR" "xlicen: reclaim $LEASE: localhost:$SERVER_PORT (127.0.0.1): lease belongs to another principal" "NOT_OWNER"
run xl reclaim 0123456789abcdef0123456789abcdef
expect_rc 2 "reclaim of an unknown lease"
expect_eq "$RUN_ERR" "xlicen: reclaim 0123456789abcdef0123456789abcdef: localhost:$SERVER_PORT (127.0.0.1): no such lease" "NO_LEASE"

# After kill -9 and a restart: the same lease, re-attached.
server_stop KILL
server_start
run xl reclaim "$LEASE"
expect_rc 0 "reclaim after kill -9"
expect_contains "$RUN_OUT" "reclaimed $LEASE (1/3 seats in use" "reclaim after the restart"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'reclaim' AND lease_id = '$LEASE' AND principal = 'alice@$XLICEN_REALM'")" 3 \
	"reclaims audited"

# Self-service: alice's orphaned lease goes, her running program's stays,
# bob's is not hers.
# The running program ends when the test says so (not after a fixed
# time a loaded machine could outlast).
as alice timeout -k 2 40 "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" \
	checkout xdemo -- sh -c "while [ ! -e '$T/done' ]; do sleep 0.1; done" \
	>"$T/run.alice" 2>"$T/err.alice" &
HOLDER=$!
for i in $(seq 1 250); do
	grep -q granted "$T/err.alice" && break
	sleep 0.02
done
RUNNING=$(lease_from "$(cat "$T/err.alice")")
[ -n "$RUNNING" ] || fail "alice's running checkout: $(cat "$T/err.alice")"
run as bob probe checkout xdemo
expect_rc 0 "bob's checkout"
BOB=$RUN_OUT
# (Reclaimed again: its TTL of 6 s must outlast the rest.)
run xl reclaim "$LEASE"
expect_rc 0 "alice refreshes her orphaned lease"
run xl leases --json
expect_rc 0 "alice's leases"
json_valid "$RUN_OUT"
expect_contains "$RUN_OUT" "\"lease\": \"$LEASE\"" "her orphaned lease listed"
expect_contains "$RUN_OUT" "\"lease\": \"$RUNNING\"" "her running lease listed"
expect_not_contains "$RUN_OUT" "$BOB" "bob's lease in alice's list"
# Kept sleep: the orphaned lease must miss its 1 s heartbeat by 2 whole
# seconds; that is time passing, and the server says nothing when it has.
sleep 2.5
run xl release --mine
expect_rc 0 "release --mine"
expect_contains "$RUN_OUT" "released $LEASE (xdemo, 1 seat, host " "released line"
expect_lines "$RUN_OUT" 1 "only the orphaned lease"
run xl reclaim "$LEASE"
expect_rc 2 "reclaim of the released lease"
expect_contains "$RUN_ERR" "no such lease" "reclaim after release"
run xl release --mine xdemo
expect_rc 0 "release --mine again"
expect_eq "$RUN_OUT" "no orphaned leases to release (the others are in use)" "nothing left"
touch "$T/done"
rc=0
wait "$HOLDER" || rc=$?
expect_eq "$rc" 0 "alice's running checkout was not disturbed"
expect_not_contains "$(cat "$T/err.alice")" "lost" "alice's running lease"

# An expired lease cannot be reclaimed.
run as bob probe checkout xdemo
expect_rc 0 "bob's second checkout"
BOB=$RUN_OUT
t0=$(date +%s)
run as bob xl reclaim "$BOB"
expect_rc 0 "bob reclaims his lease"
wait_until 20 "bob's lease to expire (TTL 6 s)" \
	db_is "SELECT COUNT(*) FROM leases WHERE id = '$BOB'" 0
not_before $((t0 + 6)) "bob's lease expired"
run as bob xl reclaim "$BOB"
expect_rc 2 "reclaim after the TTL"
expect_contains "$RUN_ERR" "no such lease" "expired"
expect_eq "$(in_use xdemo)" 0 "in use at the end"
pass
