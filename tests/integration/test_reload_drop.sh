#!/usr/bin/env bash
# A reload that drops a license file, end to end through SIGHUP (issue
# 19), where another license of the same product stays (test_renewal.sh
# has the product's only license removed: NO_PRODUCT).  xd has a 1-seat
# license for all versions and a 2-seat one for 2.0-3.0 (not the same
# range, so the first does not replace the second when it goes: ADMIN.md,
# "Renewals and removed licenses").  alice holds the first one's seat
# (version 1.0), bob one of the second's (2.5, on an open connection).
# The second file goes, SIGHUP: its free seat is not granted, carol is
# refused NO_SEATS; both leases keep running (bob's connection stays
# open and is told nothing): heartbeats, status and holders show them, and their releases
# work.  Then xd has its one remaining seat; a second checkout is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
. "$(dirname "$0")/serve.sh"

R=$XLICEN_REALM
license xd 1
"$XLICEN_BIN_LICENSE" sign --key "$T/private/acme.key" --product xd --seats 2 \
	--serial SN-xd-b --versions 2.0-3.0 >"$T/lic/xd-b.lic" 2>"$T/sign.err" ||
	fail "signing xd-b: $(cat "$T/sign.err")"
license xother 1
license xonly 1
policy "[admin]
	principals = admin@$R"
# seats PRODUCT: the sum of the totals of PRODUCT's rows in status --json.
seats() {
	run xl status --json "$1"
	expect_rc 0 "status --json $1"
	printf '%s\n' "$RUN_OUT" | grep -F "{\"product\": \"$1\"," |
		sed -n 's/.*"total": \([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }'
}
server_start --policy "$T/policy.conf" --heartbeat 1 --orphan-grace 0

expect_eq "$(seats xd)" 3 "xd's seats before"
run probe checkout xd 1.0
expect_rc 0 "alice's checkout of xd 1.0"
A=$RUN_OUT
bgwire bob bob checkout xd 2.5 1 0 listen 20
await bob "^GRANT id=100 lease="
B=$(sed -n 's/^GRANT id=100 lease=\([0-9a-f]*\) .*/\1/p' "$T/bob.out")
run as carol probe checkout xd 1.0
expect_rc 2 "carol's checkout of xd 1.0, which only the first license serves"
expect_contains "$RUN_ERR" "lease_probe: NO_SEATS: " "carol before the reload"

# A client queued for a product whose only license goes is told at the
# reload: an unsolicited DENY NO_PRODUCT (it would wait in vain).
run as admin probe checkout xonly
expect_rc 0 "admin takes xonly's seat"
bgwire q carol checkout xonly 1.0 1 1 listen 20
await q "^QUEUED id=100 .* position=1 "

rm "$T/lic/xd-b.lic" "$T/lic/xonly.lic"
hup
await q "^DENY id=0 code=NO_PRODUCT request=100 queue_id=q[0-9a-f]* reason=" 5
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'dequeue' AND principal = 'carol@$R' AND product = 'xonly' AND code = 60")" 1 \
	"carol's dequeue audited with NO_PRODUCT"
grep -q "store: pools synced: licenses=2 new=0 withdrawn=2 replaced=0" "$SERVER_LOG" ||
	fail "no withdrawn pool in the sync line"
run as carol probe checkout xd 2.5
expect_rc 2 "carol's checkout after the reload"
expect_contains "$RUN_ERR" "lease_probe: NO_SEATS: " "no seat from the dropped license"
run as admin probe checkout xother
expect_rc 0 "another product is untouched"

# The leases run: heartbeats, status, holders.
run probe heartbeat "$A"
expect_rc 0 "alice's heartbeat after the reload"
run as admin xl holders --json xd
expect_rc 0 "holders of xd"
expect_contains "$RUN_OUT" "\"lease\": \"$A\"" "alice's lease in holders"
expect_contains "$RUN_OUT" "\"lease\": \"$B\"" "bob's lease in holders"
expect_eq "$(printf '%s\n' "$RUN_OUT" | grep -c '"withdrawn": true')" 1 "one lease is on the dropped license"
run xl status xd
expect_rc 0 "status xd"
expect_contains "$RUN_OUT" "1/1" "the remaining license, in use"
expect_not_contains "$RUN_OUT" "/2" "the dropped license's seats"
expect_contains "$RUN_OUT" "1/-" "the dropped license's row while its lease lasts"
expect_contains "$RUN_OUT" "withdrawn" "the dropped license's state"
run as bob probe heartbeat "$B"
expect_rc 0 "bob's heartbeat after the reload"
expect_eq "$(grep -c . "$T/bob.out")" 1 "bob's connection got nothing but its GRANT"

# Releases work; then one seat is left for xd.
run xl release "$A"
expect_rc 0 "alice's release"
run as bob xl release "$B"
expect_rc 0 "bob's release"
expect_eq "$(in_use xd)" 0 "xd after both releases"
run as carol probe checkout xd 2.5
expect_rc 0 "carol's checkout of the remaining seat"
run as dave probe checkout xd 2.5
expect_rc 2 "dave's checkout: the dropped seat is gone"
expect_contains "$RUN_ERR" "lease_probe: NO_SEATS: " "dave after the releases"
expect_eq "$(seats xd)" 1 "xd's seats after"
kill "$PID_bob" 2>/dev/null || true
wait "$PID_bob" 2>/dev/null || true
server_stop
pass
