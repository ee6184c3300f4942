#!/usr/bin/env bash
# The PostgreSQL driver's pipeline (server/store/pg_db.c): commands whose
# result nobody reads (BEGIN, the lock, SAVEPOINT, RELEASE, writes without
# RETURNING) and the reads sent ahead (the audit chain's head, a
# checkout's pools) travel with the next command whose answer is needed,
# and one read tells whether any sweep is due, so a checkout plus its
# release costs at most PG_RT_MAX round trips to PostgreSQL (25 before
# the pipeline, 14-15 before the reads sent ahead), counted as the
# server's send()s of PostgreSQL protocol messages under strace, less
# those of its timers.  A deferred write that fails (a trigger refuses it)
# still fails its checkout with DB, leaves no seat taken and no lease, and
# the next checkout is served.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
. "$(dirname "$0")/pglib.sh"

PG_RT_MAX=9
CYCLES=10
command -v strace >/dev/null || fail "strace is needed (Debian package strace)"

license xdemo 3
R=$XLICEN_REALM
policy "[admin]
	principals = admin@$R"
pg_usedb
server_start --policy "$T/policy.conf" --heartbeat 1 --orphan-grace 0
server_save 1	# pglib.sh's cleanup kills it (and so ends strace) if the test fails
run probe checkout xdemo
expect_rc 0 "a first checkout (warms the server up)"
run xl release "$RUN_OUT"
expect_rc 0 "its release"

# Round trips: strace the server while CYCLES checkouts and releases run
# one after the other.  The server's PostgreSQL messages start with a
# protocol letter (P, B, Q, S...), its replies to clients with a binary
# frame header; -s 1 shows the first byte.  The server also talks to
# PostgreSQL on its own timers (the expiry poll, at least every 2 s), the
# more the longer the cycles take on a busy machine: the same trace for as
# long again with no client gives that background, and it is taken off.
strace_on() {	# FILE
	strace -qq -f -e trace=sendto -s 1 -o "$1" -p "$SERVER_PID" &
	STRACE=$!
	wait_until 5 "strace attached" grep -qE 'TracerPid:[[:space:]]*[1-9]' "/proc/$SERVER_PID/status"
}
strace_off() {
	kill "$STRACE"
	wait "$STRACE" 2>/dev/null || true
}
pg_msgs() {	# FILE: the PostgreSQL messages sent in that trace
	grep -cE '^[0-9]+ +sendto\([0-9]+, "[A-Z]' "$1" || true
}
strace_on "$T/strace.out"
T0=$(date +%s%N)
for i in $(seq 1 "$CYCLES"); do
	run probe checkout xdemo
	expect_rc 0 "checkout $i"
	run xl release "$RUN_OUT"
	expect_rc 0 "release $i"
done
MS=$(( ($(date +%s%N) - T0) / 1000000 ))
strace_off
N=$(pg_msgs "$T/strace.out")
strace_on "$T/strace-idle.out"
sleep "$(awk -v ms="$MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
strace_off
BG=$(pg_msgs "$T/strace-idle.out")
echo "round trips to PostgreSQL: $N for $CYCLES checkouts and releases in $MS ms; $BG in as long with no client"
[ "$N" -gt 0 ] || fail "no PostgreSQL message seen under strace"
[ $((N - BG)) -le $((PG_RT_MAX * CYCLES)) ] ||
	fail "$((N - BG)) round trips to PostgreSQL for $CYCLES cycles ($N, less $BG in as long with no client): more than $PG_RT_MAX each"

# A deferred write that fails: the grant's audit event is the last write
# of a checkout, its result read only with the COMMIT.  A trigger refuses
# bob's; his checkout fails with DB, and nothing of it stays.
pg_q "CREATE FUNCTION it_refuse() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN RAISE EXCEPTION 'refused by the test'; END \$\$;
	CREATE TRIGGER it_refuse_bob BEFORE INSERT ON events FOR EACH ROW
	WHEN (NEW.principal LIKE 'bob@%' AND NEW.kind = 'grant')
	EXECUTE FUNCTION it_refuse();
	CREATE TRIGGER it_refuse_carol BEFORE INSERT ON leases FOR EACH ROW
	WHEN (NEW.principal LIKE 'carol@%') EXECUTE FUNCTION it_refuse()" >/dev/null
run as bob probe checkout xdemo
expect_rc 3 "bob's checkout, its event refused"
expect_contains "$RUN_ERR" "lease_probe: DB: " "bob's error"
# The lease row is a write whose result comes back only with the COMMIT
# (the seat's too; the audit chain's head was sent ahead): refused for
# carol.
run as carol probe checkout xdemo
expect_rc 3 "carol's checkout, her lease refused"
expect_contains "$RUN_ERR" "lease_probe: DB: " "carol's error"
expect_eq "$(pg_q "SELECT COUNT(*) FROM leases")" 0 "no lease left"
expect_eq "$(pg_q "SELECT COUNT(*) FROM seats")" 0 "no seat left"
expect_eq "$(pg_q "SELECT in_use FROM pools WHERE product = 'xdemo'")" 0 "the pool's count"
expect_eq "$(pg_q "SELECT COUNT(*) FROM events WHERE principal LIKE 'bob@%' OR principal LIKE 'carol@%'")" 0 \
	"no event of the failed checkouts"
expect_contains "$(cat "$SERVER_LOG")" "refused by the test" "the refusal logged"
run probe checkout xdemo
expect_rc 0 "alice's checkout after them"
expect_eq "$(in_use xdemo)" 1 "in use: alice's seat only"
run as admin xl report verify
expect_rc 0 "the audit chain after the failures"

# The COMMIT of a round that may grant is sent, not waited for in the
# event loop: while dave's COMMIT takes 2 s (a deferred trigger sleeps in
# it), alice's info (no database) is answered at once, and dave's grant
# goes only after his COMMIT answered.  (Before: the loop waited in the
# COMMIT and info took the 2 s.)
pg_q "CREATE FUNCTION it_slow() RETURNS trigger LANGUAGE plpgsql AS
	\$\$ BEGIN PERFORM pg_sleep(2); RETURN NULL; END \$\$;
	CREATE CONSTRAINT TRIGGER it_slow_dave AFTER INSERT ON events
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
	WHEN (NEW.principal LIKE 'dave@%' AND NEW.kind = 'grant')
	EXECUTE FUNCTION it_slow()" >/dev/null
t0=$(date +%s%N)
as dave "$XLICEN_BIN_PROBE" -s "localhost:$SERVER_PORT" checkout xdemo \
	>"$T/dave.out" 2>"$T/dave.err" </dev/null &
DAVE=$!
wait_until 10 "dave's grant decided, its COMMIT under way" log_has "grant xdemo .* to dave@"
t1=$(date +%s%N)
run xl info
expect_rc 0 "info while dave's COMMIT is under way"
t2=$(date +%s%N)
kill -0 "$DAVE" 2>/dev/null || fail "dave's checkout ended before his COMMIT could have answered"
echo "info answered in $(((t2 - t1) / 1000000)) ms during dave's 2 s COMMIT"
[ $(((t2 - t1) / 1000000)) -lt 1000 ] ||
	fail "info took $(((t2 - t1) / 1000000)) ms: the loop waited for dave's COMMIT"
wait "$DAVE" || fail "dave's checkout failed: $(cat "$T/dave.err")"
t3=$(date +%s%N)
[ $(((t3 - t0) / 1000000)) -ge 1900 ] ||
	fail "dave's grant came after $(((t3 - t0) / 1000000)) ms, before his 2 s COMMIT answered"
expect_eq "$(pg_q "SELECT COUNT(*) FROM leases WHERE principal LIKE 'dave@%'")" 1 "dave's lease committed"
kill -0 "$SERVER_PID" || fail "the server exited"
server_stop
pass
