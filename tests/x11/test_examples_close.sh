#!/usr/bin/env bash
# Issue 16 item 5: the Xt example of docs/CLIENT.md (xt-seat) gives its
# seat back when it is quit through the window manager's close
# (WM_DELETE_WINDOW), and exits 0; before, only signals and the loss of
# the X server released it.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/x11.sh"
: "${XLICEN_BIN_XT_SEAT:?}"

license xdemo 2
server_start --heartbeat 2 --lease-ttl 30
xvfb_start
export XLICEN_SERVER="localhost:$SERVER_PORT"

x_app xt bob "$XLICEN_BIN_XT_SEAT"
await_window xt-seat 30
wait_until 20 "1 seat of xdemo in use" in_use_is xdemo 1
close_window "$WIN"
await_exit xt 10
# Released by the program (well before the 30 s lease would run out).
wait_until 5 "0 seats of xdemo in use" in_use_is xdemo 0
grep -q "release lease .* by bob@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "the Xt example did not release its seat on the window manager's close"
pass
