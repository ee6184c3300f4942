#!/usr/bin/env bash
# Kerberos tickets that end during a long session (issue 11, item 5), with
# 20 s tickets (user shortlived) and a seat held about 60 s, three ticket
# lifetimes.  The three cases run side by side, each as its own
# `xlicen checkout --host CASE` with its own ccache:
#  a. a renewable TGT (kinit -l 20s -r 5m): the library renews it itself
#     before the context ends, makes a new context and RECLAIMs: the same
#     lease all along, the command runs to its end, exit 0;
#  b. a non-renewable TGT refreshed from a keytab every 10 s in the
#     background (as k5start does): the same;
#  c. a non-renewable TGT nobody refreshes: the state callback says
#     CREDS_EXPIRING before the tickets end (async_probe shows it), then
#     AUTH_NEEDED; the lease is LOST when it expires (TTL after the last
#     heartbeat that got through), and `xlicen checkout` ends its command
#     and exits 124.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/async.sh"

lease_from() { printf '%s\n' "$1" | sed -n 's/.*lease \([0-9a-f]\{32\}\).*/\1/p' | head -n 1; }

TTL=8
license xdemo 10
server_start --heartbeat 2 --lease-ttl "$TTL"
KT=$XLICEN_REALM_DIR/shortlived.keytab
P=shortlived@$XLICEN_REALM

kinit -l 20s -r 5m -k -t "$KT" -c "FILE:$T/a.cc" "$P" </dev/null >/dev/null 2>&1 ||
	fail "kinit (renewable)"
grep -q 'Flags: .*R' <<<"$(klist -f -c "FILE:$T/a.cc")" || fail "the TGT of case a is not renewable: $(klist -f -c "FILE:$T/a.cc")"
for c in b c p; do
	kinit -l 20s -k -t "$KT" -c "FILE:$T/$c.cc" "$P" </dev/null >/dev/null 2>&1 ||
		fail "kinit (case $c)"
done
# Renewable past its end by how many seconds (0: not renewable).  Asked
# for no renewal, MIT's kinit still sets RENEWABLE-OK: when its 20 s end
# falls a second short of the time requested (a second boundary between
# kinit and the KDC), the KDC makes the TGT renewable to that time, one
# second past its end.  Such a TGT buys nothing; only more is a setup error.
renew_margin() {	# CCACHE
	local out exp till
	out=$(klist -f -c "FILE:$1")
	grep -q 'Flags: .*R' <<<"$out" || { echo 0; return; }
	exp=$(printf '%s\n' "$out" | sed -n 's/^[0-9/]* [0-9:]*  \([0-9/]* [0-9:]*\)  krbtgt.*/\1/p')
	till=$(printf '%s\n' "$out" | sed -n 's/.*renew until \([0-9/]* [0-9:]*\),.*/\1/p')
	echo $(( $(date -d "$till" +%s) - $(date -d "$exp" +%s) ))
}
for c in b c p; do
	[ "$(renew_margin "$T/$c.cc")" -le 1 ] ||
		fail "the TGT of case $c is renewable: $(klist -f -c "FILE:$T/$c.cc")"
done
A_END0=$(klist -c "FILE:$T/a.cc" | sed -n 's/.*  \([0-9/]* [0-9:]*\)  krbtgt.*/\1/p')

# b's refresher, as k5start: a new TGT from the keytab every 10 s.
( while :; do
	sleep 10
	kinit -l 20s -k -t "$KT" -c "FILE:$T/b.cc" "$P" </dev/null >/dev/null 2>&1
done ) &
REFRESHER=$!

xl_case() {	# CASE SECONDS: checkout as CASE holding `sleep SECONDS`
	KRB5CCNAME="FILE:$T/$1.cc" timeout -k 2 90 "$XLICEN_BIN_CLI" \
		-s "localhost:$SERVER_PORT" checkout --host "$1.example" --kill-after 2 \
		xdemo -- sleep "$2" >"$T/$1.out" 2>"$T/$1.err" </dev/null &
}
T0=$(date +%s)
xl_case a 60; PA=$!
xl_case b 60; PB=$!
xl_case c 60; PC=$!
aprobe_start C "$T/p.cc" xdemo

# c: told before the tickets end, then AUTH_NEEDED, then LOST.
await C '^STATE HELD ' 10
PLEASE=$(field "$LINE" lease)
await C '^STATE CREDS_EXPIRING ' 25 '^STATE HELD '
expect_eq "$(field "$LINE" code)" NO_CREDS "CREDS_EXPIRING's code"
expect_eq "$(field "$LINE" lease)" "$PLEASE" "lease while the tickets run out"
expect_contains "$LINE" "cannot be renewed: run kinit" "CREDS_EXPIRING's text"
await C '^STATE AUTH_NEEDED ' 15 '^STATE CREDS_EXPIRING '
await C '^STATE LOST ' $((TTL + 10)) '^STATE AUTH_NEEDED '
expect_eq "$(field "$LINE" code)" NO_LEASE "code of the lost lease"
expect_contains "$LINE" "expired at" "LOST says the lease expired"
aprobe_stop C

rc=0
wait "$PC" || rc=$?
TC=$(( $(date +%s) - T0 ))
expect_eq "$rc" 124 "case c: xlicen's exit status (the lease ran out with the tickets)"
[ "$TC" -ge 20 ] && [ "$TC" -le $((20 + TTL + 12)) ] ||
	fail "case c ended after $TC s (tickets of 20 s, lease TTL $TTL s)"
CERR=$(cat "$T/c.err")
expect_contains "$CERR" "the Kerberos tickets end at " "case c: told before the end"
expect_contains "$CERR" "the lease is lost when it expires" "case c: told the tickets ended"
expect_contains "$CERR" "no seat: ending the command" "case c: command ended"
grep -n 'tickets end at' "$T/c.err" | head -n 1 | cut -d: -f1 >"$T/l1"
grep -n 'is lost' "$T/c.err" | head -n 1 | cut -d: -f1 >"$T/l2"
[ "$(cat "$T/l1")" -lt "$(cat "$T/l2")" ] || fail "case c: the warning did not come first: $CERR"

# a and b: the command ran its 60 s to the end, on the same lease.
for c in a b; do
	rc=0
	if [ "$c" = a ]; then wait "$PA" || rc=$?; else wait "$PB" || rc=$?; fi
	expect_eq "$rc" 0 "case $c: exit status after 60 s ($(cat "$T/$c.err"))"
	L=$(lease_from "$(cat "$T/$c.err")")
	expect_not_contains "$(cat "$T/$c.err")" "is lost" "case $c: lease lost"
	expect_not_contains "$(cat "$T/$c.err")" "AUTH_NEEDED" "case $c"
	n=$(grep -c "reclaim lease $L by $P" "$SERVER_LOG" || true)
	[ "$n" -ge 2 ] || fail "case $c: the lease was re-attached $n times in 60 s with 20 s tickets"
	it_log "case $c: lease $L re-attached $n times on new contexts in 60 s"
	expect_eq "$(grep -c "release lease $L by" "$SERVER_LOG" || true)" 1 \
		"case $c: one release of the lease, at the end"
done
kill "$REFRESHER" 2>/dev/null || true
# a's TGT was renewed in its cache (later end, same renew limit).
A_END1=$(klist -c "FILE:$T/a.cc" | sed -n 's/.*  \([0-9/]* [0-9:]*\)  krbtgt.*/\1/p')
[ "$(date -d "$A_END1" +%s)" -gt $(( $(date -d "$A_END0" +%s) + 30 )) ] ||
	fail "case a: TGT end $A_END0 -> $A_END1: not renewed"
expect_eq "$(grep -c 'grant xdemo' "$SERVER_LOG")" 4 "one grant per case, no second seat"
expect_eq "$(in_use xdemo)" 0 "seats in use at the end"
pass
