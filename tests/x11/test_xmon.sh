#!/usr/bin/env bash
# xlicen-xmon on a private Xvfb against a real server: one bar per product
# with the seats in use out of the total (read back from the window's
# _XLICEN_XMON property), refreshed live as seats are taken; a server
# that goes away is shown as an error and the counts come back with it;
# a screenshot is taken and is not blank; the window manager's close ends
# it.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/x11.sh"
: "${XLICEN_BIN_XMON:?}"

license xdemo 2
license cad 5 --versions 2.0-2.999
server_start --lease-ttl 60 --heartbeat 20
SRV="localhost:$SERVER_PORT"
run probe checkout xdemo
expect_rc 0 "alice's xdemo seat"
run as bob probe checkout cad 2.1
expect_rc 0 "bob's cad seat"
run as carol probe checkout cad 2.1 2
expect_rc 0 "carol's two cad seats"
xvfb_start

x_app mon admin "$XLICEN_BIN_XMON" -server "$SRV" -interval 1 -geometry +16+16
await_window "xlicen-xmon" 10
MON=$WIN
await_prop "$MON" _XLICEN_XMON 'cad=3/5' 10
expect_eq "$VAL" "cad=3/5 xdemo=1/2" "the monitor's counts"

# Live: a seat taken now shows within a refresh or two.
run as dave probe checkout xdemo
expect_rc 0 "dave's xdemo seat"
await_prop "$MON" _XLICEN_XMON 'xdemo=2/2' 5
sleep 1.2	# one more sample in the history strips
screenshot "$MON" xmon

# The server away: an error, then the counts again (leases survive).
server_stop KILL
await_prop "$MON" _XLICEN_XMON '^error=' 8
server_start
await_prop "$MON" _XLICEN_XMON '^cad=3/5 xdemo=2/2$' 10

close_window "$MON"
await_exit mon 10
[ ! -s "$T/mon.log" ] || fail "xlicen-xmon printed: $(cat "$T/mon.log")"
pass
