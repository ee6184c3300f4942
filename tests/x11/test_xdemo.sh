#!/usr/bin/env bash
# xlicen-xdemo on a private Xvfb against a real server and KDC:
#  - alice's copy gets the only seat: its window exists, its state is HELD
#    (the _XLICEN_STATE property), status says 1 in use, and the lease's
#    expiry moves with the heartbeats;
#  - bob's copy, beyond the seat count, shows the denial dialog (its own
#    window, titled "xlicen-xdemo: license denied") with the counts;
#  - carol's copy, with no server to reach, waits with its controls off;
#  - screenshots of them are taken and are not blank;
#  - the window manager's close (WM_DELETE_WINDOW) ends bob's copy, and
#    alice's after releasing her seat.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/x11.sh"

license xdemo 1
server_start --heartbeat 1 --lease-ttl 6
xvfb_start
SRV="localhost:$SERVER_PORT"

x_app alice alice "$XLICEN_BIN_XDEMO" -server "$SRV" -geometry +16+16
await_window "xlicen-xdemo: xdemo" 30
ALICE_WIN=$WIN
await_prop "$ALICE_WIN" _XLICEN_STATE '^HELD ' 15
LEASE=$(kv "$VAL" lease)
EXP1=$(kv "$VAL" expires)
expect_eq "$(kv "$VAL" in_use)/$(kv "$VAL" total)" 1/1 "alice's grant counts"
expect_eq "$(in_use xdemo)" 1 "in use with alice's copy running"
# The heartbeats (every second) move the expiry on.
for ((i = 0; i < 250; i++)); do
	VAL=$(prop "$ALICE_WIN" _XLICEN_STATE)
	[ "$(kv "$VAL" lease)" = "$LEASE" ] && [ "$(kv "$VAL" expires)" -gt "$EXP1" ] && break
	sleep 0.02
done
[ "$(kv "$VAL" expires)" -gt "$EXP1" ] || fail "expiry not moved by heartbeats: $VAL"
grep -q "grant xdemo 1.0 1 seat(s) to alice@$XLICEN_REALM lease $LEASE" "$SERVER_LOG" ||
	fail "no grant to alice in the server log"

# Bob's copy: denied, with a dialog.
x_app bob bob "$XLICEN_BIN_XDEMO" -server "$SRV" -geometry +480+16
await_window "xlicen-xdemo: license denied" 30
DENIED_WIN=$WIN
BOB_WIN=
for w in $(windows "xlicen-xdemo: xdemo"); do
	[ "$w" = "$ALICE_WIN" ] || BOB_WIN=$w
done
[ -n "$BOB_WIN" ] || fail "bob's main window is missing"
await_prop "$BOB_WIN" _XLICEN_STATE '^LOST ' 5
expect_eq "$(kv "$VAL" code)" NO_SEATS "bob's denial code"
expect_eq "$(kv "$VAL" in_use)/$(kv "$VAL" total)" 1/1 "counts in bob's denial"
expect_eq "$(in_use xdemo)" 1 "in use with bob denied"

# Carol's copy cannot reach any server: it waits, unusable, and retries.
DEAD=$("$IT_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 1)
x_app carol carol "$XLICEN_BIN_XDEMO" -server "localhost:$DEAD" -product cad \
	-version 2.1 -geometry +16+400
await_window "xlicen-xdemo: cad" 30
CAROL_WIN=$WIN
await_prop "$CAROL_WIN" _XLICEN_STATE '^CONNECTING code=CONNECT ' 10

# Kept sleep: let the windows finish drawing; X tells a client nothing
# when another client has finished drawing, so there is no event.
sleep 0.5
screenshot "$ALICE_WIN" xdemo-held
screenshot "$DENIED_WIN" xdemo-denied
screenshot "$CAROL_WIN" xdemo-waiting
screenshot_area xdemo-screen "$ALICE_WIN" "$BOB_WIN" "$DENIED_WIN" "$CAROL_WIN"

# Closing: bob's and carol's copies just go; alice's gives the seat back
# first.
close_window "$BOB_WIN"
await_exit bob 10
close_window "$CAROL_WIN"
await_exit carol 10
close_window "$ALICE_WIN"
await_exit alice 10
grep -q "release lease $LEASE by alice@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "alice's copy did not release its lease"
expect_eq "$(in_use xdemo)" 0 "in use after both closed"
for n in alice bob carol; do
	expect_quiet "$n"
done
pass
