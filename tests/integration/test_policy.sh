#!/usr/bin/env bash
# The policy file against a real server and several principals: EXCLUDE
# (by principal, and in [default] for every product without rules of its
# own), INCLUDE by group, RESERVE (others see fewer seats; the holder gets
# in although not included), MAX per group and per realm, with the exact
# codes and texts; reread by SIGHUP and by `xlicen reread` keeps every
# lease, a bad policy is refused with file, line and key (at start-up, and
# on reread, where the running policy stays).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xpol 3
license xres 2
license xmax 5
license xother 5
R=$XLICEN_REALM
policy "# policy of test_policy
[groups]
	cad = alice@$R bob@$R
[admin]
	principals = admin@$R
[default]
	exclude = dave@$R
[products]
	xpol = {
		include = group:cad
		exclude = principal:bob@$R
		reserve = 1 principal:carol@$R
		max = 1 group:cad
	}
	xres = {
		reserve = 1 carol@$R
	}
	xmax = {
		max = 2 @$R
	}"
server_start --policy "$T/policy.conf" --heartbeat 1
grep -q "policy $T/policy.conf read" "$SERVER_LOG" || fail "policy not read at start-up"

# EXCLUDE wins over INCLUDE (bob is in cad).
run as bob xl checkout xpol -- true
expect_rc 2 "bob on xpol"
expect_eq "$RUN_ERR" "xlicen: xpol: the server's license policy excludes you: localhost:$SERVER_PORT (127.0.0.1): bob@$R is excluded from xpol by policy: exclude = principal:bob@$R (line 11)" \
	"EXCLUDED text"
# [default] applies to a product without rules of its own.
run as dave xl checkout xother -- true
expect_rc 2 "dave on xother"
expect_contains "$RUN_ERR" "dave@$R is excluded from xother by policy: exclude = dave@$R (line 7)" "default exclude"
run as dave xl checkout xpol -- true
expect_rc 2 "dave on xpol: not included"
expect_contains "$RUN_ERR" "the server's license policy excludes you" "include list"
expect_contains "$RUN_ERR" "dave@$R is not on the include list of xpol in the policy" "include list text"

# INCLUDE by group; MAX 1 for the group.
DISPLAY=:1 run probe checkout xpol
expect_rc 0 "alice on xpol"
ALICE_POL=$RUN_OUT
DISPLAY=:2 run xl checkout xpol -- true
expect_rc 2 "alice's second seat"
expect_contains "$RUN_ERR" "xlicen: xpol: policy limit for you or your group is reached: " "MAX_REACHED text"
expect_contains "$RUN_ERR" "policy limit for xpol reached: max = 1 group:cad (line 13); 1 seat(s) held, 1 wanted" \
	"MAX_REACHED reason"
# RESERVE wins over INCLUDE: carol is not in cad but has a seat reserved.
run as carol xl checkout xpol -- true
expect_rc 0 "carol from her reservation"

# RESERVE: others see one seat fewer.
run probe checkout xres
expect_rc 0 "alice on xres"
run as bob xl checkout xres -- true
expect_rc 2 "bob on xres: the free seat is carol's"
expect_contains "$RUN_ERR" "all seats are in use" "NO_SEATS"
expect_contains "$RUN_ERR" "1 of 2 seats of xres in use and 1 of the free ones reserved for others (1 wanted)" \
	"reservation reason"
run as carol xl checkout xres -- true
expect_rc 0 "carol takes the reserved seat"

# MAX for a realm: the realm together holds at most 2.
run probe checkout xmax
run as bob probe checkout xmax
expect_rc 0 "bob on xmax"
run as carol xl checkout xmax -- true
expect_rc 2 "carol: the realm's MAX"
expect_contains "$RUN_ERR" "max = 2 @$R (line 19); 2 seat(s) held, 1 wanted" "realm MAX"

# Every refusal is audited with its code.
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'deny' AND code = 73")" 3 "EXCLUDED audited"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'deny' AND code = 74")" 2 "MAX_REACHED audited"

# A bad policy on reread: refused with file, line and key; the old stays.
cp "$T/policy.conf" "$T/policy.good"
sed -i 's/max = 1 group:cad/max = one group:cad/' "$T/policy.conf"
run as admin xl reread
expect_rc 2 "reread of a bad policy"
expect_contains "$RUN_ERR" "xlicen: reread: bad configuration: localhost:$SERVER_PORT (127.0.0.1): $T/policy.conf:13: [products] xpol max = \"one group:cad\": expected COUNT TARGET, COUNT a number 0..1000000" \
	"bad policy on reread"
run as bob xl checkout xpol -- true
expect_rc 2 "the old policy still excludes bob"
# SIGHUP applies a fixed policy; leases survive.
sed -e '/exclude = principal:bob/d' "$T/policy.good" >"$T/policy.conf"
IN_USE=$(in_use xpol)
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do
	[ "$(grep -c "policy $T/policy.conf read" "$SERVER_LOG")" -ge 2 ] && break
	sleep 0.05
done
expect_eq "$(in_use xpol)" "$IN_USE" "leases kept across the reread"
run probe heartbeat "$ALICE_POL"
expect_rc 0 "alice's lease after the reread"
run as bob xl checkout xpol -- true
expect_rc 2 "bob no longer excluded, but cad's MAX 1 is used by alice"
expect_contains "$RUN_ERR" "policy limit for xpol reached" "bob at the group's MAX"
run xl release "$ALICE_POL"
run as bob xl checkout xpol -- true
expect_rc 0 "bob now"

# A bad policy at start-up: the server does not start.
sed -i 's/^\[default\]/[defaults]/' "$T/policy.conf"
server_stop
rc=0
"$XLICEN_BIN_SERVER" --foreground --listen 127.0.0.1:0 --keytab "$XLICEN_SERVICE_KEYTAB" \
	--database "$T/xlicen.db" --licenses "$T/lic" --vendor-keys "$T/keys" \
	--policy "$T/policy.conf" </dev/null >/dev/null 2>"$T/bad.log" || rc=$?
expect_eq "$rc" 1 "exit status with a bad policy"
grep -q "policy $T/policy.conf:6: unknown section \[defaults\] (expected \[groups\], \[admin\], \[default\] or \[products\])" "$T/bad.log" ||
	fail "start-up error: $(cat "$T/bad.log")"

# --check-config reads the policy too: the same error, and OK once fixed.
check_config() {
	rc=0
	"$XLICEN_BIN_SERVER" --check-config --keytab "$XLICEN_SERVICE_KEYTAB" \
		--database "$T/xlicen.db" --licenses "$T/lic" --vendor-keys "$T/keys" \
		--policy "$T/policy.conf" </dev/null >"$T/check.out" 2>"$T/check.err" || rc=$?
}
check_config
expect_eq "$rc" 1 "--check-config exit status with a bad policy"
expect_contains "$(cat "$T/check.err")" "policy $T/policy.conf:6: unknown section [defaults]" "--check-config error"
sed -i 's/^\[defaults\]/[default]/' "$T/policy.conf"
check_config
expect_eq "$rc" 0 "--check-config exit status ($(cat "$T/check.err"))"
expect_contains "$(cat "$T/check.out")" "policy $T/policy.conf: OK" "--check-config policy line"
pass
