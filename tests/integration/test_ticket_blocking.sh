#!/usr/bin/env bash
# The blocking API across ticket expiry: a program that checks a seat out
# with xlicen_checkout and calls xlicen_heartbeat every second
# (lease_probe hold) keeps the same lease for as long as its user has
# valid tickets, with 6 s tickets (user shortlived) and 16 s of holding.
# Three programs side by side, each with its own ccache:
#  r. a renewable TGT (kinit -l 6s -r 60s): the library renews it before
#     the context ends, makes a new context and RECLAIMs the lease;
#  k. a non-renewable TGT that a `kinit` renews every 3 s in the same
#     ccache: the library finds the fresher tickets, the same;
#  n. a non-renewable TGT nobody renews: xlicen_heartbeat_ex says when the
#     tickets end (CREDS_END) before they do, then the heartbeat after
#     the end fails with NO_CREDS.
. "$(dirname "$0")/lib.sh"

TTL=8
HOLD=16
license xdemo 10
server_start --heartbeat 2 --lease-ttl "$TTL"
KT=$XLICEN_REALM_DIR/shortlived.keytab
P=shortlived@$XLICEN_REALM
kinit -l 6s -r 60s -k -t "$KT" -c "FILE:$T/r.cc" "$P" </dev/null >/dev/null 2>&1 ||
	fail "kinit (renewable)"
grep -q 'Flags: .*R' <<<"$(klist -f -c "FILE:$T/r.cc")" ||
	fail "the TGT of case r is not renewable: $(klist -f -c "FILE:$T/r.cc")"
for c in k n; do
	kinit -l 6s -k -t "$KT" -c "FILE:$T/$c.cc" "$P" </dev/null >/dev/null 2>&1 ||
		fail "kinit (case $c)"
done
# k's user runs kinit every 3 s (MIT's kinit replaces the cache's
# contents in place: the same FILE, new tickets).
( while :; do
	sleep 3
	kinit -l 6s -k -t "$KT" -c "FILE:$T/k.cc" "$P" </dev/null >/dev/null 2>&1
done ) &
REFRESHER=$!

hold() {	# CASE
	KRB5CCNAME="FILE:$T/$1.cc" timeout -k 2 $((HOLD + 10)) "$XLICEN_BIN_PROBE" \
		-s "localhost:$SERVER_PORT" hold xdemo "$HOLD" >"$T/$1.out" 2>"$T/$1.err" </dev/null &
}
T0=$(date +%s)
hold r; PR=$!
hold k; PK=$!
hold n; PN=$!

for c in r k; do
	rc=0
	if [ "$c" = r ]; then wait "$PR" || rc=$?; else wait "$PK" || rc=$?; fi
	OUT=$(cat "$T/$c.out")
	expect_eq "$rc" 0 "case $c: lease_probe hold's exit status ($(tail -n 1 "$T/$c.out") $(cat "$T/$c.err"))"
	L=$(sed -n 's/^LEASE //p' "$T/$c.out")
	[ -n "$L" ] || fail "case $c: no lease: $OUT"
	expect_eq "$(grep -c '^HB [0-9]* OK ' "$T/$c.out")" "$(grep -c '^HB ' "$T/$c.out")" \
		"case $c: every heartbeat OK"
	[ "$(grep -c '^HB [0-9]* OK ' "$T/$c.out")" -ge $((HOLD - 2)) ] ||
		fail "case $c: too few heartbeats: $OUT"
	expect_contains "$OUT" RELEASED "case $c: released at the end"
	n=$(grep -c "reclaim lease $L by $P" "$SERVER_LOG" || true)
	[ "$n" -ge 1 ] || fail "case $c: the lease was never re-attached on a new context"
	expect_eq "$(grep -c "release lease $L by" "$SERVER_LOG" || true)" 1 \
		"case $c: one release of the lease, at the end"
	it_log "case $c: lease $L re-attached $n times in $HOLD s with 6 s tickets"
done
kill "$REFRESHER" 2>/dev/null || true

rc=0
wait "$PN" || rc=$?
OUT=$(cat "$T/n.out")
expect_eq "$rc" 3 "case n: exit status once the tickets ended ($OUT)"
LAST=$(tail -n 1 "$T/n.out")
expect_contains "$LAST" "NO_CREDS: " "case n: the failing heartbeat"
FIRST_END=$(awk '$1 == "HB" && $3 == "OK" && $5 != 0 { print $2; exit }' "$T/n.out")
[ -n "$FIRST_END" ] || fail "case n: no heartbeat said the tickets end: $OUT"
END_AT=$(awk '$1 == "HB" && $3 == "OK" && $5 != 0 { print $5; exit }' "$T/n.out")
TKT_END=$(date -d "$(klist -c "FILE:$T/n.cc" | sed -n 's/^[0-9/]* [0-9:]*  \([0-9/]* [0-9:]*\)  krbtgt.*/\1/p')" +%s)
[ "$END_AT" -ge $((TKT_END - 2)) ] && [ "$END_AT" -le "$TKT_END" ] ||
	fail "case n: CREDS_END $END_AT, the TGT ends at $TKT_END"
it_log "case n: told at +$FIRST_END s that the tickets end at $END_AT; then: $LAST"
expect_eq "$(grep -c 'grant xdemo' "$SERVER_LOG")" 3 "one grant per program, no second seat"
it_log "took $(( $(date +%s) - T0 )) s"
pass
