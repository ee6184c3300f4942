#!/usr/bin/env bash
# The non-blocking API against a real server and KDC.  async_probe only
# calls xlicen_fd / xlicen_timeout_ms / xlicen_process from a poll() loop:
#  - a checkout goes CONNECTING -> HELD, and heartbeats move the expiry;
#  - the server killed (SIGKILL) and restarted on the same database and
#    port mid-lease: GRACE, then HELD again with the SAME lease id; never a
#    second seat (status in_use stays 1, no second grant in the log; the
#    lease is re-attached with RECLAIM);
#  - a connection closed under the library is replaced at the next
#    heartbeat without any state change;
#  - a checkout beyond the seats is LOST with NO_SEATS and the counts;
#  - quit releases the seat; the loop never spun (few wake-ups).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/async.sh"

license xdemo 2
server_start --lease-ttl 9 --heartbeat 1

aprobe_start A "$XLICEN_REALM_DIR/alice.ccache" xdemo
await A '^STATE HELD ' 10
first=$(head -n 1 "$T/A.out")
expect_contains "$first" "STATE CONNECTING code=OK " "first state reported"
LEASE=$(field "$LINE" lease)
EXP1=$(field "$LINE" expires)
expect_eq "$(field "$LINE" who)" "alice@$XLICEN_REALM" "principal of the holder"
expect_eq "$(field "$LINE" in_use)/$(field "$LINE" total)" "1/2" "seats in the grant"
expect_eq "$(in_use xdemo)" 1 "in use after the async checkout"

# Heartbeats (every second) move the expiry; each is one HELD line.
for ((i = 0; i < 250; i++)); do
	last=$(grep "^STATE HELD .* lease=$LEASE " "$T/A.out" | tail -n 1)
	[ "$(field "$last" expires)" -gt "$EXP1" ] && break
	sleep 0.02
done
[ "$(field "$last" expires)" -gt "$EXP1" ] || fail "expiry not moved by heartbeats: $(cat "$T/A.out")"
grep -q "^STATE GRACE" "$T/A.out" && fail "GRACE while the server runs: $(cat "$T/A.out")"

# Kill the server mid-lease and bring it back on the same port and DB.
server_stop KILL
await A "^STATE GRACE " 6
grace=$LINE
case $(field "$grace" code) in
CONNECT | CLOSED | TIMEOUT | IO) ;;
*) fail "GRACE with unexpected code: $grace" ;;
esac
expect_eq "$(field "$grace" lease)" "$LEASE" "lease id in GRACE"
# Kept sleep: the server stays away for a second, so that the library's
# redials meet a closed port; a missing server sends no event.
sleep 1
server_start
await A '^STATE HELD ' 15 '^STATE GRACE '
expect_eq "$(field "$LINE" lease)" "$LEASE" "lease id after the restart"
expect_eq "$(in_use xdemo)" 1 "in use after the restart (no second seat)"
grep -q "grant xdemo" "$SERVER_LOG" && fail "a second grant after the restart: $(grep 'grant xdemo' "$SERVER_LOG")"
grep -q "reclaim lease $LEASE by alice@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "the lease was not re-attached with RECLAIM after the restart"

# A connection dropped under the library: the next heartbeat dials again,
# and nothing is reported but the moved expiry.
nlines=$(wc -l <"$T/A.out")
aprobe_cmd A drop
# The next heartbeat (every second) dials again: a new authenticated
# connection and one more HELD line with the moved expiry.
authenticated_twice() {
	[ "$(grep -c "authenticated alice@$XLICEN_REALM" "$SERVER_LOG")" -ge 2 ] &&
		grep -q "^STATE HELD .* lease=$LEASE " <<<"$(tail -n +"$((nlines + 1))" "$T/A.out")"
}
wait_until 10 "a new connection and a HELD line after the drop" authenticated_twice
tail -n +"$((nlines + 1))" "$T/A.out" | grep -v "^STATE HELD .* lease=$LEASE " &&
	fail "state changes after a dropped connection: $(cat "$T/A.out")"
[ "$(grep -c "authenticated alice@$XLICEN_REALM" "$SERVER_LOG")" -ge 2 ] ||
	fail "no new connection after the drop"
expect_eq "$(in_use xdemo)" 1 "in use after the dropped connection"

# Beyond the seats: bob takes the second, carol is denied.
aprobe_start B "$XLICEN_REALM_DIR/bob.ccache" xdemo
await B '^STATE HELD ' 10
aprobe_start C "$XLICEN_REALM_DIR/carol.ccache" xdemo
await C '^STATE LOST ' 10
expect_eq "$(field "$LINE" code)" NO_SEATS "carol's denial code"
expect_eq "$(field "$LINE" in_use)/$(field "$LINE" total)" "2/2" "counts in the denial"
expect_contains "$LINE" "text=localhost:$SERVER_PORT (127.0.0.1): all 2 seats of xdemo are in use" "denial reason"
aprobe_stop C
aprobe_stop B
expect_eq "$(in_use xdemo)" 1 "in use after bob quit"

# Quit releases; the loop slept between events (about 20 s, heartbeats
# every second: a few hundred wake-ups at most).
aprobe_stop A
grep -q '^STOPPED rc=OK ' "$T/A.out" || fail "release at quit: $(tail -n 1 "$T/A.out")"
[ "$APROBE_LOOPS" -lt 400 ] || fail "the poll loop woke $APROBE_LOOPS times: it spins"
grep -q "release lease $LEASE by alice@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "alice's lease was not released"
expect_eq "$(in_use xdemo)" 0 "in use at the end"
pass
