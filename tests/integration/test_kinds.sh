#!/usr/bin/env bash
# License kinds and the optional signed fields: an uncounted license serves
# everyone (every use still leased), node locks by client-reported host
# name and by authenticated principal (WRONG_HOST for others), and a
# license's own TTL and heartbeat govern its leases.  The new fields are
# signed like the others: editing one breaks the signature; a file with a
# bad value is refused with its line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xfloat 1 --ttl 3 --heartbeat 1
license xfree uncounted
license xlock 1 --hostid host:WS9.Example.ORG
license xplock uncounted --hostid "principal:bob@$XLICEN_REALM" --dup-group none
server_start

run xl status --json
expect_rc 0 "status --json"
json_valid "$RUN_OUT"
expect_eq "$(json_field "$RUN_OUT" xfree kind)" uncounted "xfree kind"
expect_eq "$(json_field "$RUN_OUT" xfree total)" 0 "xfree total"
expect_eq "$(json_field "$RUN_OUT" xlock kind)" node-locked "xlock kind"
expect_eq "$(json_field "$RUN_OUT" xlock hostid)" host:WS9.Example.ORG "xlock hostid"
expect_eq "$(json_field "$RUN_OUT" xplock kind)" "node-locked uncounted" "xplock kind"
expect_eq "$(json_field "$RUN_OUT" xplock dup_group)" none "xplock dup_group"
expect_eq "$(json_field "$RUN_OUT" xfloat ttl)" 3 "xfloat ttl from the license"
expect_eq "$(json_field "$RUN_OUT" xfloat heartbeat)" 1 "xfloat heartbeat from the license"
expect_eq "$(json_field "$RUN_OUT" xfree ttl)" 120 "xfree ttl: the server's default"

# Uncounted: everyone gets a lease; they are counted in use and audited.
for u in alice bob carol dave; do
	run as "$u" probe checkout xfree
	expect_rc 0 "$u's checkout of the uncounted xfree"
done
run xl status
expect_contains "$RUN_OUT" "4/uncounted" "status table of xfree"
expect_contains "$RUN_OUT" "QUEUED  KIND" "extra columns"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'grant' AND product = 'xfree'")" 4 \
	"grants of xfree audited"

# Locked to a host name (compared canonically: case, trailing dot).
run xl checkout --host ws9.example.org. xlock -- true
expect_rc 0 "checkout of xlock from ws9"
run xl checkout --host ws1.example.org xlock -- touch "$T/ran"
expect_rc 2 "checkout of xlock from ws1"
expect_eq "$RUN_ERR" "xlicen: xlock: license is locked to another host: localhost:$SERVER_PORT (127.0.0.1): the licenses of xlock are locked to other hosts or principals" \
	"WRONG_HOST text"
[ ! -e "$T/ran" ] || fail "the command ran without a seat"

# Locked to an authenticated principal: bob only, from any host.
run as bob xl checkout --host anywhere xplock -- true
expect_rc 0 "bob's checkout of xplock"
run as alice xl checkout --host anywhere xplock -- true
expect_rc 2 "alice's checkout of xplock"
expect_contains "$RUN_ERR" "license is locked to another host" "alice on bob's lock"

# The license's TTL (3 s): a lease nobody heartbeats is gone after it.
t0=$(date +%s)
run probe checkout xfloat
expect_rc 0 "checkout of xfloat"
expect_eq "$(in_use xfloat)" 1 "xfloat in use"
wait_until 15 "xfloat's seat to be freed after its license's TTL of 3 s" in_use_is xfloat 0
not_before $((t0 + 3)) "xfloat's seat freed"

# The vendor tool shows the fields; changing one breaks the signature.
run "$XLICEN_BIN_LICENSE" verify --keydir "$T/keys" "$T/lic/xplock.lic"
expect_rc 0 "verify xplock"
expect_contains "$RUN_OUT" "uncounted seats" "verify output"
expect_contains "$RUN_OUT" "locked to principal:bob@$XLICEN_REALM" "verify output"
sed "s/^hostid: .*/hostid: principal:alice@$XLICEN_REALM/" "$T/lic/xplock.lic" >"$T/edited.lic"
run "$XLICEN_BIN_LICENSE" verify --keydir "$T/keys" "$T/edited.lic"
expect_rc 1 "verify of an edited hostid"
expect_contains "$RUN_OUT$RUN_ERR" "signature does not verify" "edited hostid"
line=$(grep -n '^hostid:' "$T/lic/xplock.lic" | cut -d: -f1)
sed "s/^dup_group: .*/dup_group: everyone/" "$T/lic/xplock.lic" >"$T/lic/zbad.lic"
server_stop
server_start
dline=$(grep -n '^dup_group:' "$T/lic/zbad.lic" | cut -d: -f1)
grep -q "license $T/lic/zbad.lic:$dline: dup_group must be one of uhd, user, host, display, site, none" "$SERVER_LOG" ||
	fail "no refusal of zbad.lic at line $dline in the log"
[ -n "$line" ] || fail "no hostid line"
pass
