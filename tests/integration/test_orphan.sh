#!/usr/bin/env bash
# Orphaned leases: when the connection holding a lease is ended by the
# client (kill -9 of `xlicen checkout`: EOF), the seat is freed after the
# orphan grace ([leases] orphan_grace, default 10 s), not after the TTL
# (120 s here), and audited as 'orphan'; a RECLAIM within the grace keeps
# the same lease; a one-shot HEARTBEAT from another connection does not
# make the holder's lease an orphan; a seat freed this way lingers like a
# released one; a server stop (SIGTERM) or the idle timeout orphans
# nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

XL=("$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT")

# hold NAME PRODUCT: alice's `xlicen checkout PRODUCT -- sleep`, in the
# background; HOLDER (the xlicen pid), HOLDER_CHILD (the command's pid)
# and HELD (its lease id) once it was granted.
hold() {
	local name=$1 product=$2 i
	# (env, not the function `as`: $! must be xlicen itself.)
	env KRB5CCNAME="FILE:$XLICEN_REALM_DIR/alice.ccache" \
		"$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" checkout \
		"$product" -- sh -c "echo \$\$ >'$T/$name.pid'; exec sleep 600" \
		>"$T/$name.out" 2>"$T/$name.err" &
	HOLDER=$!
	for i in $(seq 1 250); do
		grep -q granted "$T/$name.err" && [ -s "$T/$name.pid" ] && break
		sleep 0.02
	done
	HELD=$(lease_from "$(cat "$T/$name.err")")
	[ -n "$HELD" ] || fail "$name: no grant: $(cat "$T/$name.err")"
	HOLDER_CHILD=$(cat "$T/$name.pid")
}

# kill9: kill -9 the holder (and its command, which holds nothing).
kill9() {
	kill -KILL "$HOLDER" 2>/dev/null || true
	wait "$HOLDER" 2>/dev/null || true
	kill -KILL "$HOLDER_CHILD" 2>/dev/null || true
}

# seconds_until_free PRODUCT LIMIT: poll `status` until no seat of PRODUCT
# is in use; prints the seconds it took (one decimal), fails after LIMIT.
seconds_until_free() {
	local start now
	start=$(date +%s.%N)
	while :; do
		[ "$(in_use "$1")" = 0 ] && break
		now=$(date +%s.%N)
		if awk -v a="$start" -v b="$now" -v l="$2" 'BEGIN { exit !(b - a > l) }'; then
			fail "a seat of $1 still in use $2 s after kill -9 of its holder"
		fi
		sleep 0.2
	done
	now=$(date +%s.%N)
	awk -v a="$start" -v b="$now" 'BEGIN { printf "%.1f\n", b - a }'
}

license xdemo 2
license xlinger 1 --linger 4
server_start

# 1. kill -9 of the holder: its seat is free within the default grace of
#    10 s (plus the poll), far sooner than the TTL of 120 s.
hold a xdemo
expect_eq "$(in_use xdemo)" 1 "in use while the holder runs"
kill9
took=$(seconds_until_free xdemo 14)
it_log "seat free ${took} s after kill -9 of its holder (TTL 120 s)"
awk -v t="$took" 'BEGIN { exit !(t >= 8) }' ||
	fail "seat freed after ${took} s, before the grace of 10 s"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'orphan' AND lease_id = '$HELD' AND principal = 'alice@$XLICEN_REALM' AND seats = -1")" 1 \
	"the orphan event"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'expire' AND lease_id = '$HELD'")" 0 \
	"no expire event"
expect_eq "$(db "SELECT COUNT(*) FROM leases WHERE id = '$HELD'")" 0 "lease row gone"

# 2. The rest with a grace of 3 s.
server_stop
server_start --orphan-grace 3

# A RECLAIM from a new connection within the grace keeps the same lease;
# once that connection ends too, the lease is an orphan again.
hold b xdemo
kill9
as alice "$XLICEN_BIN_WIRE" -s "localhost:$SERVER_PORT" reclaim "$HELD" listen 5 \
	>"$T/wire.out" 2>"$T/wire.err" &
WIRE=$!
wait_until 10 "wire_probe's reclaim" grep -q '^GRANT id=100 ' "$T/wire.out"
expect_contains "$(cat "$T/wire.out")" "GRANT id=100 lease=$HELD in_use=1 total=2" "reclaim within the grace"
expect_eq "$(db "SELECT orphan_until FROM leases WHERE id = '$HELD'")" 0 "no grace left after the reclaim"
# Kept sleep: the grace of 3 s must pass without the lease being freed;
# there is no event to wait for (the assertion is that none comes).
sleep 3.5
expect_eq "$(in_use xdemo)" 1 "in use after the grace: the reclaim kept it"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'orphan' AND lease_id = '$HELD'")" 0 \
	"no orphan event while reclaimed"
wait "$WIRE" || fail "wire_probe: $(cat "$T/wire.err")"
seconds_until_free xdemo 6 >/dev/null
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'orphan' AND lease_id = '$HELD'")" 1 \
	"orphan event after the reclaiming connection ended"

# A HEARTBEAT from a one-shot connection does not take the lease from the
# connection that holds it: the holder's lease outlives the grace.
hold c xdemo
wire heartbeat "$HELD"
expect_rc 0 "one-shot heartbeat of the held lease"
expect_contains "$RUN_OUT" "OK id=100" "heartbeat reply"
run xl status xdemo
expect_rc 0 "one-shot status"
# Kept sleep: the grace of 3 s must pass without the holder's lease being
# orphaned; the assertion is that no event comes, so nothing to wait for.
sleep 4
expect_eq "$(in_use xdemo)" 1 "the holder's seat after one-shot requests and the grace"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'orphan' AND lease_id = '$HELD'")" 0 \
	"no orphan event for a live holder"

# A server stop orphans nothing: after SIGTERM the lease is whole (and a
# holder that dies while the server is down leaves its lease to the TTL).
server_stop
expect_eq "$(db "SELECT orphan_until FROM leases WHERE id = '$HELD'")" 0 \
	"no grace set by the server's stop"
kill9
server_start
expect_eq "$(in_use xdemo)" 1 "the lease after the restart"

# A seat freed from an orphan lingers, as after a release.
hold d xlinger
kill9
wait_until 10 "the orphan event of the lingering seat (grace 3 s)" \
	db_is "SELECT COUNT(*) FROM events WHERE kind = 'orphan' AND lease_id = '$HELD'" 1
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'orphan' AND lease_id = '$HELD' AND seats = 0")" 1 \
	"orphan event of the lingering seat"
expect_eq "$(in_use xlinger)" 1 "the seat lingers after its orphan is freed"
seconds_until_free xlinger 6 >/dev/null
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'linger' AND product = 'xlinger'")" 1 \
	"the linger event"

# A connection the server ends (the idle timeout: ALERT TIMEOUT, then the
# client's close) orphans nothing: the lease keeps its TTL.
server_stop
printf '[limits]\n\tidle_timeout = 1\n' >"$T/idle.conf"
server_start --config "$T/idle.conf" --orphan-grace 2
wire checkout xlinger 1.0 1 0 listen 3
expect_rc 0 "checkout, then idle"
expect_contains "$RUN_OUT" "ALERT code=TIMEOUT" "the server's idle ALERT"
IDLE=$(printf '%s\n' "$RUN_OUT" | sed -n 's/^GRANT id=[0-9]* lease=\([0-9a-f]*\).*/\1/p')
[ -n "$IDLE" ] || fail "no GRANT: $RUN_OUT"
# Kept sleep: the grace of 2 s must pass without an orphan grace being
# set; the assertion is that nothing happens, so nothing to wait for.
sleep 3
expect_eq "$(db "SELECT orphan_until FROM leases WHERE id = '$IDLE'")" 0 \
	"the lease after the server's idle close and the grace"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'orphan' AND lease_id = '$IDLE'")" 0 \
	"no orphan event after the server's close"
pass
