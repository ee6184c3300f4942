#!/usr/bin/env bash
# xlicen-xmon on a private Xvfb against a real server: one bar per product
# with the seats in use out of the total (read back from the window's
# _XLICEN_XMON property), refreshed live as seats are taken; for the
# administrator the holders are listed (by principal), and selecting one
# and pressing Remove asks first (a dialog; Cancel keeps the lease), then
# takes its lease away: alice's running xlicen-xdemo is told at once and
# shows "license lost"; an expired license shows as expired with its last
# day, not as "0 / 0" (issue 16, item 8); a server that goes away is an
# error and the counts come back with it; a screenshot is taken and is not
# blank; the window manager's close ends it.  For an ordinary user the
# server answers NOT_AUTHORIZED: pools are listed and Remove is gone.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/x11.sh"
: "${XLICEN_BIN_XMON:?}" "${XLICEN_BIN_XCLICK:?}"

license xdemo 2
license cad 5 --versions 2.0-2.999
license xold 3 --expires 2020-12-31
printf '[admin]\n\tprincipals = admin@%s\n' "$XLICEN_REALM" >"$T/policy.conf"
# The seats of bob and carol are taken by lease_probe, which exits: no
# orphan grace, so that they stay (for the TTL) however slow the run.
server_start --policy "$T/policy.conf" --lease-ttl 60 --heartbeat 20 --orphan-grace 0
SRV="localhost:$SERVER_PORT"
xvfb_start
x_app demo alice "$XLICEN_BIN_XDEMO" -server "$SRV" -geometry +16+400
await_window "xlicen-xdemo: xdemo" 30
DEMO=$WIN
await_prop "$DEMO" _XLICEN_STATE '^HELD ' 10
run as bob probe checkout cad 2.1
expect_rc 0 "bob's cad seat"
run as carol probe checkout cad 2.1 2
expect_rc 0 "carol's two cad seats"

x_app mon admin "$XLICEN_BIN_XMON" -server "$SRV" -interval 1 -geometry +16+16
await_window "xlicen-xmon" 30
MON=$WIN
await_prop "$MON" _XLICEN_XMON 'cad=3/5' 10
expect_eq "$VAL" "cad=3/5 xdemo=1/2 xold=expired:2020-12-31 admin=yes holders=3" "the monitor's counts"

# Live: a seat taken now shows within a refresh or two.
run as dave probe checkout xdemo
expect_rc 0 "dave's xdemo seat"
await_prop "$MON" _XLICEN_XMON 'xdemo=2/2 xold=expired:2020-12-31 admin=yes holders=4' 5
# Kept sleep: one more sample (interval 1 s) in the history strips of the
# screenshot; the monitor publishes no sample count to wait for.
sleep 1.2
screenshot "$MON" xmon

# Select the first holder (alice, by name), press Remove: a question, and
# nothing removed yet; Cancel keeps the lease.  (No pause between the
# clicks: each xclick has XSync'd its events into xmon's queue before it
# exits, and xmon handles them in order.)
"$XLICEN_BIN_XCLICK" holders 40 8 || fail "clicking the holders list"
"$XLICEN_BIN_XCLICK" remove || fail "clicking Remove"
await_window "xlicen-xmon: remove?" 5
expect_eq "$(prop "$MON" _XLICEN_XMON)" "cad=3/5 xdemo=2/2 xold=expired:2020-12-31 admin=yes holders=4" "nothing removed before the answer"
screenshot "$WIN" xmon-confirm
"$XLICEN_BIN_XCLICK" cancel || fail "clicking Cancel"
gone() { [ -z "$(windows "xlicen-xmon: remove?" | sed -n 1p)" ] || ! grep -q IsViewable <<<"$(xwininfo -id "$(windows "xlicen-xmon: remove?" | sed -n 1p)")"; }
wait_until 5 "the question to go" gone
await_prop "$MON" _XLICEN_XMON '^cad=3/5 xdemo=2/2 xold=expired:2020-12-31 admin=yes holders=4$' 5
# Asked again, and answered Remove: her running copy loses its seat at
# once and says so.
"$XLICEN_BIN_XCLICK" remove || fail "clicking Remove again"
wait_until 5 "the question again" not gone
"$XLICEN_BIN_XCLICK" confirm || fail "clicking Remove in the question"
await_prop "$MON" _XLICEN_XMON '^cad=3/5 xdemo=1/2 xold=expired:2020-12-31 admin=yes holders=3$' 5
grep -q "lease .* of alice@$XLICEN_REALM removed by admin@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "no removal of alice's lease in the server log"
await_prop "$DEMO" _XLICEN_STATE '^LOST code=REVOKED ' 5
await_window "xlicen-xdemo: license lost" 5
# Kept sleep: the new window draws itself after it is mapped; X tells a
# client nothing when another client has finished drawing.
sleep 0.3
screenshot "$WIN" xdemo-lost
close_window "$DEMO"
await_exit demo 10

# The server away: an error, then the counts again (leases survive).
server_stop KILL
await_prop "$MON" _XLICEN_XMON '^error=' 8
server_start
await_prop "$MON" _XLICEN_XMON '^cad=3/5 xdemo=1/2 xold=expired:2020-12-31 admin=yes holders=3$' 10

close_window "$MON"
await_exit mon 10
expect_quiet mon
expect_quiet demo

# An ordinary user: pools, no holders, no Remove.
x_app user bob "$XLICEN_BIN_XMON" -server "localhost:$SERVER_PORT" -interval 1 -geometry +16+16
await_window "xlicen-xmon" 30
await_prop "$WIN" _XLICEN_XMON 'admin=no holders=0$' 10
screenshot "$WIN" xmon-user
close_window "$WIN"
await_exit user 10
pass
