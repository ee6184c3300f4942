#!/usr/bin/env bash
# SIGHUP rereads [leases] and [limits] of the configuration file (issue
# 19), observed by clients: the heartbeat interval a GRANT carries (5 s,
# then 2 s), the places one principal may hold in a queue
# (max_queued_per_principal 1, then 3: QUEUE_LIMIT at the new cap), and
# the connections one address may have (max_connections_per_peer: none,
# then 2: a third connection is refused with ALERT BUSY at once).  A
# broken file is not applied.  The command line sets neither key here (an
# option wins over the file, on SIGHUP too).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
. "$(dirname "$0")/serve.sh"

R=$XLICEN_REALM
CONF=$T/gss-xlicend.conf
# conf HEARTBEAT MAXQUEUED [PERPEER]: write the configuration file.
conf() {
	{
		printf '[leases]\n\theartbeat = %s\n[limits]\n\tmax_queued_per_principal = %s\n' "$1" "$2"
		[ -z "${3:-}" ] || printf '\tmax_connections_per_peer = %s\n' "$3"
	} >"$CONF"
}
license xr 1
license xq 1
conf 5 1
server_start --config "$CONF" --orphan-grace 0

run probe checkout xq
expect_rc 0 "alice takes xq's only seat"
# queue_cap N: bob queues N+1 times on one connection; the last is refused.
queue_cap() {
	local steps=() i last=$((100 + $1))
	for i in $(seq 0 "$1"); do steps+=(checkout xq 1.0 1 1); done
	wire as bob "${steps[@]}"
	expect_rc 0 "bob's $(( $1 + 1 )) queued checkouts"
	expect_contains "$RUN_OUT" "QUEUED id=$((last - 1)) queue_id=q" "bob's place $1"
	expect_contains "$RUN_OUT" "DENY id=$last code=QUEUE_LIMIT reason=\"bob@$R already holds $1 places in the queue of xq (the most one principal may hold)\"" \
		"bob's place $(( $1 + 1 )) refused"
}
# grant_hb: the heartbeat of a GRANT of xr (released again).
grant_hb() {
	wire checkout xr 1.0 1 0
	expect_rc 0 "checkout of xr"
	local l
	l=$(printf '%s\n' "$RUN_OUT" | sed -n 's/^GRANT id=100 lease=\([0-9a-f]*\) .*/\1/p')
	[ -n "$l" ] || fail "no GRANT of xr: $RUN_OUT"
	printf '%s\n' "$RUN_OUT" | sed -n 's/^GRANT id=100 .* heartbeat=\([0-9]*\).*/\1/p'
	run xl release "$l"
}

expect_eq "$(grant_hb)" 5 "the GRANT's heartbeat from the file"
queue_cap 1

# A broken file: nothing of it applies.
printf '[leases]\n\theartbeat = 2\n[limits]\n\tmax_queued_per_principal = lots\n' >"$CONF"
kill -HUP "$SERVER_PID"
for i in $(seq 1 250); do
	grep -q "SIGHUP: $CONF not reread; the running configuration stays" "$SERVER_LOG" && break
	sleep 0.02
done
grep -q "SIGHUP: $CONF not reread; the running configuration stays" "$SERVER_LOG" ||
	fail "the broken file was not refused"
expect_eq "$(grant_hb)" 5 "the heartbeat after a broken file"
queue_cap 1

# The new values.
conf 2 3
hup
expect_eq "$(grant_hb)" 2 "the GRANT's heartbeat after SIGHUP"
run xl status --json xr
expect_eq "$(json_field "$RUN_OUT" xr heartbeat)" 2 "status heartbeat of xr after SIGHUP"
queue_cap 3
grep -q "SIGHUP: \[leases\] heartbeat 5 -> 2 s" "$SERVER_LOG" || fail "no heartbeat line"
grep -q "SIGHUP: \[limits\] max_queued_per_principal 1 -> 3" "$SERVER_LOG" || fail "no queue cap line"

# A connection cap per address, set by SIGHUP: two authenticated clients
# stay connected, the third connection is refused at once.
conf 2 3 2
hup
bgwire c1 carol listen 20
bgwire c2 dave listen 20
for i in $(seq 1 250); do
	[ "$(grep -c "authenticated \(carol\|dave\)@$R" "$SERVER_LOG")" = 2 ] && break
	sleep 0.02
done
raw third
wait_gone "$PID_third" 10
expect_eq "$(cat "$T/third.out")" "ALERT code=70 reason=too many connections from this address
EOF" "the third connection from 127.0.0.1"
grep -q "SIGHUP: \[limits\] max_connections_per_peer 1000 -> 2" "$SERVER_LOG" ||
	fail "no connection cap line"
# One client leaves: a new connection is let in again.
kill "$PID_c1"
wait "$PID_c1" 2>/dev/null || true
for i in $(seq 1 250); do
	run xl status xr
	[ "$RUN_RC" = 0 ] && break
	sleep 0.02
done
expect_rc 0 "status once a connection is free again"
kill "$PID_c2"
wait "$PID_c2" 2>/dev/null || true
server_stop
pass
