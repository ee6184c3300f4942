#!/usr/bin/env bash
# Dup grouping and linger.  Default (uhd): checkouts of one principal on
# one host and display share a seat (":0", ":0.1" and "unix:0" are one
# display); releasing one lease of a group keeps the seat while another
# remains.  user/host/site/none group as their names say.  A lingering
# seat stays counted after its release until the linger ends, and the same
# group takes it back meanwhile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xuhd 2
license xuser 1 --dup-group user
license xhost 1 --dup-group host
license xsite 1 --dup-group site
license xnone 2 --dup-group none
license xlinger 1 --linger 5
server_start --heartbeat 1

# co USER DISPLAY PRODUCT: a lease that outlives the probe; sets LEASE.
co() {
	DISPLAY=$2 run as "$1" probe checkout "$3"
	LEASE=$RUN_OUT
}

co alice :0 xuhd
expect_rc 0 "alice :0"
A0=$LEASE
co alice :0.1 xuhd
expect_rc 0 "alice :0.1"
A01=$LEASE
co alice unix:0 xuhd
expect_rc 0 "alice unix:0"
AU=$LEASE
[ "$A0" != "$A01" ] && [ "$A01" != "$AU" ] || fail "shared seats must still have their own lease ids"
expect_eq "$(in_use xuhd)" 1 "one seat for alice's display 0"
co alice :1 xuhd
expect_rc 0 "alice :1"
A1=$LEASE
expect_eq "$(in_use xuhd)" 2 "display 1 is another seat"
co bob :0 xuhd
expect_rc 2 "bob's display :0 is not alice's"
expect_contains "$RUN_ERR" "NO_SEATS" "bob denied"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'grant' AND product = 'xuhd' AND seats = 0")" 2 \
	"two grants took no new seat"
HOST=$(db "SELECT host FROM leases WHERE id = '$A0'")
expect_eq "$(db "SELECT display FROM leases WHERE id = '$AU'")" "$HOST:0" "canonical display of unix:0"

# Releasing one lease of the group keeps the seat; the last frees it.
run xl release "$A0"
expect_rc 0 "release of one shared lease"
expect_eq "$(in_use xuhd)" 2 "seat kept while the group holds leases"
run xl release "$A01"
run xl release "$AU"
expect_eq "$(in_use xuhd)" 1 "display 0's seat freed with its last lease"
co bob :0 xuhd
expect_rc 0 "bob now fits"
run xl release "$A1"

# user: one seat per principal, whatever the display.
co alice :0 xuser
expect_rc 0 "xuser alice :0"
co alice :7 xuser
expect_rc 0 "xuser alice :7 shares"
co bob :0 xuser
expect_rc 2 "xuser bob"
# host: everyone on this host shares.
co alice :0 xhost
expect_rc 0 "xhost alice"
co bob :4 xhost
expect_rc 0 "xhost bob shares the host's seat"
expect_eq "$(in_use xhost)" 1 "xhost one seat"
# site: one seat for everyone.
for u in alice bob carol; do
	co "$u" ":9" xsite
	expect_rc 0 "xsite $u"
done
expect_eq "$(in_use xsite)" 1 "xsite one seat"
# none: every checkout is a seat.
co alice :0 xnone
expect_rc 0 "xnone 1"
co alice :0 xnone
expect_rc 0 "xnone 2"
co alice :0 xnone
expect_rc 2 "xnone 3: two seats only"

# Linger: released, the seat stays 5 s (room for the three steps in it on a
# slow sanitizer run); the same group gets it back.
DISPLAY=:3 run xl checkout xlinger -- true
expect_rc 0 "alice's first use of xlinger"
expect_eq "$(in_use xlinger)" 1 "lingering after the release"
co bob :0 xlinger
expect_rc 2 "bob during the linger"
t0=$(date +%s)
DISPLAY=:3 run xl checkout xlinger -- true
expect_rc 0 "alice takes her lingering seat back"
expect_contains "$RUN_ERR" "(1/1 seats in use" "the same seat"
wait_until 15 "xlinger's seat to be free after the linger of 5 s" in_use_is xlinger 0
not_before $((t0 + 5)) "xlinger's seat freed"
co bob :0 xlinger
expect_rc 0 "bob after the linger"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'linger' AND product = 'xlinger' AND seats = -1")" 1 \
	"the linger's end audited"
pass
