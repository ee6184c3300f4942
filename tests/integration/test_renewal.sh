#!/usr/bin/env bash
# A renewed license (same vendor, product, versions; new serial) takes over
# the leases of the one it replaces, on SIGHUP and at a restart: the seats
# in use count against the new total, never a second full set.  A renewal
# with fewer seats than in use shows "over" and grants nothing until use
# falls below it; a license removed without replacement leaves a
# "withdrawn" row while its leases last.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

# sign SERIAL SEATS: the xren license file, replaced in place.
sign() {
	"$XLICEN_BIN_LICENSE" sign --key "$T/private/acme.key" --product xren \
		--seats "$2" --serial "$1" --versions 1.0-2.0 >"$T/xren.new" \
		2>"$T/sign.err" || fail "xlicen-license sign: $(cat "$T/sign.err")"
	mv "$T/xren.new" "$T/lic/xren.lic"
}
# hup: SIGHUP, then wait for the reread's "loaded ... license(s)" line.
hup() {
	local i n
	n=$(grep -c 'loaded [0-9]* license(s)' "$SERVER_LOG")
	kill -HUP "$SERVER_PID"
	for i in $(seq 1 100); do
		[ "$(grep -c 'loaded [0-9]* license(s)' "$SERVER_LOG")" -gt "$n" ] && return 0
		sleep 0.05
	done
	fail "no reread after SIGHUP"
}
status_row() {
	run xl status xren
	expect_rc 0 "status xren"
	printf '%s\n' "$RUN_OUT" | sed -n '2,$p' | tr -s ' '
}

vendor_keys
sign SN-1 3
policy "[admin]
	principals = admin@$XLICEN_REALM"
server_start --heartbeat 1 --policy "$T/policy.conf"

declare -A LEASE
for u in alice bob carol; do
	run as "$u" probe checkout xren
	expect_rc 0 "$u's checkout"
	LEASE[$u]=$RUN_OUT
done
run as dave probe checkout xren
expect_rc 2 "dave's checkout on 3/3"
expect_contains "$RUN_ERR" "lease_probe: NO_SEATS: " "dave's checkout on 3/3"

# The vendor's renewal, by SIGHUP: still 3 of 3, nobody else gets in.
sign SN-2 3
hup
expect_eq "$(status_row)" "xren 1.0-2.0 3/3 permanent active" "status after the renewal"
for u in dave admin; do
	run as "$u" probe checkout xren
	expect_rc 2 "$u's checkout after the renewal"
	expect_contains "$RUN_ERR" "lease_probe: NO_SEATS: " "$u's checkout after the renewal"
done
run xl status --json xren
expect_eq "$(json_field "$RUN_OUT" xren serial)" SN-2 "serial after the renewal"
grep -q 'replaced=1' "$SERVER_LOG" || fail "no takeover logged"
for u in alice bob carol; do
	run as "$u" probe heartbeat "${LEASE[$u]}"
	expect_rc 0 "$u's heartbeat after the renewal"
done

# A renewal with fewer seats, read at a restart: 3 of 2, over.
server_stop TERM
sign SN-3 2
server_start
expect_eq "$(status_row)" "xren 1.0-2.0 3/2 over permanent active" "status over"
run as dave probe checkout xren
expect_rc 2 "dave's checkout on 3/2"
run as alice xl release "${LEASE[alice]}"
expect_rc 0 "alice's release"
expect_eq "$(status_row)" "xren 1.0-2.0 2/2 permanent active" "status at 2/2"
run as dave probe checkout xren
expect_rc 2 "dave's checkout on 2/2"
run as bob xl release "${LEASE[bob]}"
expect_rc 0 "bob's release"
run as dave probe checkout xren
expect_rc 0 "dave's checkout on 1/2"
LEASE[dave]=$RUN_OUT

# Removed without replacement: the leases stay, in a withdrawn row, and
# nothing is granted.
rm "$T/lic/xren.lic"
hup
expect_eq "$(status_row)" "xren 1.0-2.0 2/- permanent withdrawn" "status withdrawn"
run as admin probe checkout xren
expect_rc 2 "checkout of a withdrawn license"
expect_contains "$RUN_ERR" "lease_probe: NO_PRODUCT: " "checkout of a withdrawn license"
run as carol probe heartbeat "${LEASE[carol]}"
expect_rc 0 "carol's heartbeat on the withdrawn license"
run as admin xl holders xren
expect_rc 0 "holders of the withdrawn license"
expect_eq "$(printf '%s\n' "$RUN_OUT" | awk '$1 == "xren" { print $2, $3 }' | sort)" \
"held-w* carol@$XLICEN_REALM
held-w* dave@$XLICEN_REALM" "holders of the withdrawn license"
expect_contains "$RUN_OUT" "(-w: its license was removed; nothing more is granted from it)" \
	"holders' note"
run as admin xl holders --json xren
json_valid "$RUN_OUT"
expect_eq "$(printf '%s\n' "$RUN_OUT" | grep -c '"withdrawn": true')" 2 "holders --json withdrawn"
for u in carol dave; do
	run as "$u" xl release "${LEASE[$u]}"
	expect_rc 0 "$u's release"
done
run xl status xren
expect_rc 0 "status after the last release"
expect_lines "$RUN_OUT" 1 "status after the last release (header only)"

pass
