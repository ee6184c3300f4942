#!/usr/bin/env bash
# Two servers, A and B, on one PostgreSQL database (issue 13, item 2):
#  - checkouts arriving at both at once never take more than the pool's
#    seats (the site-wide lock makes every seat decision serial);
#  - a lease granted by A is heartbeated, reclaimed and released on B, and
#    holders on B lists it;
#  - a heartbeat answered by B keeps the lease alive against A's sweep;
#  - a lease nobody heartbeats expires once, by exactly one of them;
#  - starting a server does not touch the leases the others hold;
#  - a removal on B reaches the holder connected to A at its next
#    heartbeat;
#  - a checkout queued on A gets the seat a release on B freed;
#  - a lease granted by A, which is then killed, still expires (B's timer
#    looks again at least every LIMIT_STORE_POLL_S).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
. "$(dirname "$0")/pglib.sh"

license xdemo 2
R=$XLICEN_REALM
policy "[admin]
	principals = admin@$R"
pg_newdb
ARGS=(--policy "$T/policy.conf" --lease-ttl 3 --heartbeat 1 --orphan-grace 0)
server_new A "${ARGS[@]}"
server_new B "${ARGS[@]}"
on() { server_use "$1"; }

# Over-subscription: 8 checkouts at once, half at each server, 2 seats.
for i in 1 2 3 4 5 6 7 8; do
	if [ $((i % 2)) = 0 ]; then port=${PG_SRV_PORT[A]}; else port=${PG_SRV_PORT[B]}; fi
	timeout -k 2 10 "$XLICEN_BIN_PROBE" -s "localhost:$port" checkout xdemo \
		>"$T/race.$i.out" 2>"$T/race.$i.err" &
done
wait_until 15 "the 8 racing checkouts to end" sh -c "[ \$(cat '$T'/race.*.err '$T'/race.*.out | wc -l) -ge 8 ]"
GRANTED=$(cat "$T"/race.*.out | grep -c '^[0-9a-f]\{32\}$' || true)
DENIED=$(cat "$T"/race.*.err | grep -c 'NO_SEATS' || true)
expect_eq "$GRANTED/$DENIED" "2/6" "granted/denied of 8 racing checkouts"
expect_eq "$(pg_q "SELECT in_use, (SELECT COUNT(*) FROM leases) FROM pools WHERE product = 'xdemo'")" "2|2" \
	"seats and leases in the database"
# Let them expire (nobody heartbeats them): one expiry event each.
RACE=$(cat "$T"/race.*.out | grep '^[0-9a-f]\{32\}$' | tr '\n' ' ')
wait_until 15 "the racing leases to expire" sh -c "[ \"\$('$XLICEN_PG_BIN/psql' -X -At -d '$PG_CONNINFO' -c 'SELECT COUNT(*) FROM leases')\" = 0 ]"
for l in $RACE; do
	expect_eq "$(pg_q "SELECT COUNT(*) FROM events WHERE kind = 'expire' AND lease_id = '$l'")" 1 \
		"expiry events of lease $l"
done

# A lease from A: heartbeated, reclaimed, listed and released on B.
on A
run probe checkout xdemo
expect_rc 0 "checkout on A"
L1=$RUN_OUT
on B
run probe heartbeat "$L1"
expect_rc 0 "heartbeat on B of A's lease"
run xl reclaim "$L1"
expect_rc 0 "reclaim on B of A's lease"
run as admin xl holders --json
expect_rc 0 "holders on B"
expect_contains "$RUN_OUT" "\"lease\": \"$L1\"" "B lists A's lease"
# Heartbeats answered by B, every second for 4 s (TTL 3 s): A's sweep,
# which runs at least every 2 s, must not expire the lease.
for i in 1 2 3 4; do
	sleep 1
	run probe heartbeat "$L1"
	expect_rc 0 "heartbeat $i on B"
done
expect_eq "$(pg_q "SELECT COUNT(*) FROM events WHERE kind = 'expire' AND lease_id = '$L1'")" 0 \
	"A did not expire a lease B keeps alive"

# Starting a server (C) touches no lease the others hold: neither the
# expiry (SQLite's start lengthens a lease by up to a TTL) nor an orphan's
# grace (SQLite's start gives every orphan a new one).  The lease gets a
# TTL of 60 s and 30 s left, so that a lengthening would show and it
# cannot expire while C starts, and is made an orphan for 29 s.
NOW=$(date +%s)
pg_q "UPDATE leases SET ttl_s = 60, expires_at = $((NOW + 30)), orphan_until = $((NOW + 29))
	WHERE id = '$L1'" >/dev/null
EXP=$((NOW + 30))
server_new C "${ARGS[@]}"
expect_eq "$(pg_q "SELECT expires_at, orphan_until FROM leases WHERE id = '$L1'")" "$EXP|$((NOW + 29))" \
	"A's lease after C started"
pg_q "UPDATE leases SET orphan_until = 0 WHERE id = '$L1'" >/dev/null
server_stop
on B
run xl release "$L1"
expect_rc 0 "release on B of A's lease"
expect_eq "$(pg_q "SELECT COUNT(*) FROM leases")" 0 "no lease left"

# A removal on B reaches carol, who holds her seat through A.
on A
as carol timeout -k 2 20 "$XLICEN_BIN_CLI" -s "localhost:${PG_SRV_PORT[A]}" \
	checkout xdemo -- sleep 15 >"$T/carol.out" 2>"$T/carol.err" &
CAROL=$!
wait_until 10 "carol's grant" grep -q granted "$T/carol.err"
CL=$(pg_q "SELECT id FROM leases WHERE principal = 'carol@$R'")
on B
T0=$(date +%s%N)
run as admin xl remove "$CL"
expect_rc 0 "remove on B"
rc=0
wait "$CAROL" || rc=$?
T1=$(date +%s%N)
[ "$rc" != 0 ] || fail "carol's command ran on after the removal"
expect_contains "$(cat "$T/carol.err")" "lease was removed by an administrator" "carol told her lease was revoked"
MS=$(((T1 - T0) / 1000000))
[ "$MS" -lt 4000 ] || fail "carol learnt of the removal after $MS ms (heartbeat 1 s)"
it_log "removal on B reached the holder on A after $MS ms"

# The queue is per server: dave waits on A; bob's release on B frees a
# seat, which A's queue takes at its next look (LIMIT_STORE_POLL_S).
# Alice and bob heartbeat theirs (through A), so nothing else frees one.
for u in alice bob; do
	as $u timeout -k 2 30 "$XLICEN_BIN_CLI" -s "localhost:${PG_SRV_PORT[A]}" \
		checkout xdemo -- sleep 20 >"$T/$u.out" 2>"$T/$u.err" &
	wait_until 10 "$u's grant" grep -q granted "$T/$u.err"
done
as dave timeout -k 2 20 "$XLICEN_BIN_CLI" -s "localhost:${PG_SRV_PORT[A]}" \
	checkout --wait=15 xdemo -- true >"$T/dave.out" 2>"$T/dave.err" &
DAVE=$!
wait_until 10 "dave to be queued on A" sh -c "[ \"\$('$XLICEN_PG_BIN/psql' -X -At -d '$PG_CONNINFO' -c \"SELECT COUNT(*) FROM events WHERE kind = 'queue' AND principal = 'dave@$R'\")\" = 1 ]"
sleep 1.5
expect_eq "$(pg_q "SELECT COUNT(*) FROM leases WHERE principal = 'dave@$R'")" 0 "dave waits while both seats are held"
BL=$(pg_q "SELECT id FROM leases WHERE principal = 'bob@$R'")
on B
T0=$(date +%s%N)
run as bob xl release "$BL"
expect_rc 0 "bob's release on B"
rc=0
wait "$DAVE" || rc=$?
T1=$(date +%s%N)
expect_eq "$rc" 0 "dave's queued checkout on A (stderr: $(cat "$T/dave.err"))"
expect_contains "$(cat "$T/dave.err")" "granted" "dave's grant"
it_log "a seat freed on B served A's queue after $(((T1 - T0) / 1000000)) ms"

# A grants a lease and is killed: B still expires it, once.
on A
run as bob probe checkout xdemo
expect_rc 0 "bob's lease from A"
L3=$RUN_OUT
server_stop KILL
PG_SRV_PID[A]=
on B
wait_until 10 "B to expire the lease of the killed A" sh -c "[ \"\$('$XLICEN_PG_BIN/psql' -X -At -d '$PG_CONNINFO' -c \"SELECT COUNT(*) FROM leases WHERE id = '$L3'\")\" = 0 ]"
expect_eq "$(pg_q "SELECT COUNT(*) FROM events WHERE kind = 'expire' AND lease_id = '$L3'")" 1 \
	"one expiry event for the killed server's lease"
run as admin xl report verify
expect_rc 0 "the chain of both servers' events"
expect_contains "$RUN_OUT" "audit trail intact: $(pg_q "SELECT COUNT(*) FROM events") events" "every event"
server_stop
PG_SRV_PID[B]=
pass
