#!/usr/bin/env bash
# The non-blocking API and orphaned leases (heartbeat every 6 s, orphan
# grace 2 s):
#  - xlicen_disconnect under a held lease: the session reconnects and
#    RECLAIMs it at once, not at its next heartbeat, so the grace does not
#    free the seat; nothing is reported but HELD lines of the same lease;
#  - the holding program killed with SIGKILL: its seat is free after the
#    grace, not after the TTL of 30 s, freed as an orphan.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/async.sh"

license xdemo 2
server_start --lease-ttl 30 --heartbeat 6 --orphan-grace 2

aprobe_start A "$XLICEN_REALM_DIR/alice.ccache" xdemo
await A '^STATE HELD ' 10
LEASE=$(field "$LINE" lease)
# Just granted: the next heartbeat is 5.4 s or more away.
nlines=$(wc -l <"$T/A.out")
aprobe_cmd A drop
wait_until 10 "the lease re-attached after xlicen_disconnect" \
	grep -q "reclaim lease $LEASE by alice@$XLICEN_REALM" "$SERVER_LOG"
# Kept sleep: the orphan grace of 2 s must pass without the lease being
# freed; the assertion is that nothing happens, so nothing to wait for.
sleep 2.5
tail -n +"$((nlines + 1))" "$T/A.out" | grep -v "^STATE HELD .* lease=$LEASE " &&
	fail "state changes after xlicen_disconnect: $(cat "$T/A.out")"
grep -q "reclaim lease $LEASE by alice@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "the lease was not re-attached at once after xlicen_disconnect"
expect_eq "$(in_use xdemo)" 1 "in use after the disconnect and the grace"
grep -q "lease $LEASE .* freed: its holder's connection closed" "$SERVER_LOG" &&
	fail "the lease was freed as an orphan: $(cat "$SERVER_LOG")"

# The holder dies: async_probe itself (the child of `timeout`).
pid=$(ps -o pid= --ppid "$APROBE_PID_A" | tr -d ' ')
[ -n "$pid" ] || fail "no async_probe under timeout $APROBE_PID_A"
kill -KILL "$pid"
wait_until 10 "the seat freed after the holder was killed (grace 2 s, TTL 30 s)" in_use_is xdemo 0
grep -q "lease $LEASE of alice@$XLICEN_REALM for xdemo (1 seat(s)) freed: its holder's connection closed" "$SERVER_LOG" ||
	fail "not freed as an orphan: $(cat "$SERVER_LOG")"
wait "$APROBE_PID_A" 2>/dev/null || true
pass
