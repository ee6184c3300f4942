#!/usr/bin/env bash
# Crash safety.  Eight clients (alice, bob, carol, dave, two each) cycle
# checkout/release on a 3-seat license while a sampler reads `xlicen
# status --json`; the server is killed with SIGKILL mid-run and restarted
# on the same database.  Proven: the pool is never over-subscribed (every
# status sample, and the seats in use replayed from the audit trail, stay
# within 3); no lease a client was granted and did not release is lost
# (each is in the database after the restart); every such lease can be
# RECLAIMed by its own principal, which returns the same lease id.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

SEATS=3
license xcrash $SEATS
# The clients take seats with lease_probe, which exits and leaves them
# held until released: no orphan grace (test_orphan.sh has that), or a
# lease held across a slow restart would be freed as an orphan.
server_start --heartbeat 2 --lease-ttl 60 --orphan-grace 0
USERS=(alice bob carol dave alice bob carol dave)

# client N USER: hold at most one lease for a moment; release it, take
# one, repeat.  Its log: "GRANT id", "RELEASED id", or "UNSURE id" (the
# release was in flight when the server died: it may or may not be done).
# A release that found no server at all was not done: it is retried.
client() {
	local n=$1 user=$2 held= out
	export KRB5CCNAME="FILE:$XLICEN_REALM_DIR/$user.ccache"
	while [ ! -e "$T/stop" ]; do
		if [ -e "$T/pause" ]; then
			touch "$T/paused.$n"
			sleep 0.05
			continue
		fi
		rm -f "$T/paused.$n"
		if [ -n "$held" ]; then
			if "$XLICEN_BIN_CLI" -t 2 -s "localhost:$SERVER_PORT" release "$held" \
				>/dev/null 2>"$T/rel.$n"; then
				echo "RELEASED $held" >>"$T/c$n.log"
				held=
			elif ! grep -q "could not connect" "$T/rel.$n"; then
				echo "UNSURE $held" >>"$T/c$n.log"
				held=
			fi
		elif out=$(timeout 5 "$XLICEN_BIN_PROBE" -s "localhost:$SERVER_PORT" \
			checkout xcrash 2>/dev/null) && [ -n "$out" ]; then
			echo "GRANT $out" >>"$T/c$n.log"
			held=$out
			sleep "0.$((RANDOM % 6))"
		fi
		sleep "0.0$((RANDOM % 5))"
	done
}
sampler() {
	while [ ! -e "$T/stop" ]; do
		if out=$(timeout 5 "$XLICEN_BIN_CLI" -t 2 -s "localhost:$SERVER_PORT" \
			status --json xcrash 2>/dev/null); then
			echo "$(json_field "$out" xcrash in_use) $(json_field "$out" xcrash total)" \
				>>"$T/samples"
		fi
		sleep 0.05
	done
}

# The leases granted to a client and not (possibly) released: its log's
# GRANTs without a later RELEASED or UNSURE.
held_of() {
	awk '$1 == "GRANT" { h[$2] = 1 } $1 != "GRANT" { delete h[$2] }
		END { for (l in h) print l }' "$T/c$1.log" 2>/dev/null
}
await_paused() {
	local i n
	for i in $(seq 1 200); do
		for n in "${!USERS[@]}"; do
			if [ ! -e "$T/paused.$n" ]; then
				sleep 0.05
				continue 2
			fi
		done
		return 0
	done
	fail "clients did not pause"
}
# check_held: every held lease is in the database and reclaimable by its
# principal, with the same id.
check_held() {
	local n l what=$1 count=0
	for n in "${!USERS[@]}"; do
		for l in $(held_of "$n"); do
			count=$((count + 1))
			expect_eq "$(db "SELECT COUNT(*) FROM leases WHERE id = '$l' AND principal = '${USERS[$n]}@$XLICEN_REALM'")" 1 \
				"$what: client $n's lease $l in the database"
			run as "${USERS[$n]}" xl reclaim "$l"
			expect_rc 0 "$what: client $n reclaims $l"
			expect_contains "$RUN_OUT" "reclaimed $l (" "$what: same lease id"
		done
	done
	HELD_COUNT=$count
}

for n in "${!USERS[@]}"; do
	client "$n" "${USERS[$n]}" &
done
sampler &
# Run until the clients have been granted seats for a while, not for a
# fixed time: a sanitizer build or a loaded machine is several times slower.
grants() { cat "$T"/c*.log 2>/dev/null | grep -c '^GRANT' || true; }
await_grants() {
	local want=$1 i
	for i in $(seq 1 300); do
		[ "$(grants)" -ge "$want" ] && return 0
		sleep 0.1
	done
	fail "only $(grants) grants after 30 s (wanted $want): the clients did not run"
}
await_grants 16
server_stop KILL		# mid-run: requests are in flight
touch "$T/pause"
server_start
await_paused
check_held "after kill -9"
it_log "$HELD_COUNT lease(s) held across the crash, all reclaimed"
rm -f "$T"/pause "$T"/paused.*
await_grants $(($(grants) + 16))
touch "$T/pause"
await_paused
touch "$T/stop"
for j in $(jobs -p); do
	[ "$j" = "$SERVER_PID" ] || wait "$j" 2>/dev/null || true
done
check_held "at the end"

# Never over-subscribed: every sample, and the trail replayed.
[ -s "$T/samples" ] || fail "no status samples"
bad=$(awk -v s=$SEATS '$1 > $2 || $2 != s' "$T/samples" | head -n 3)
[ -z "$bad" ] || fail "over-subscribed or wrong total in samples: $bad"
it_log "$(wc -l <"$T/samples") status samples, all within $SEATS"
GRANTS=$(grants)
peak=$("$IT_PYTHON" - "$T/xlicen.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
cur = peak = 0
for kind, seats in c.execute("SELECT kind, seats FROM events WHERE product = 'xcrash'"
                             " AND seats IS NOT NULL ORDER BY id"):
    cur += seats
    peak = max(peak, cur)
print(peak)
PY
)
[ "$peak" -le $SEATS ] || fail "the audit trail shows $peak seats in use at once"
it_log "$GRANTS grants; peak from the audit trail $peak of $SEATS"
run as admin xl report verify --database "$T/xlicen.db"
expect_rc 0 "the audit chain survived the crash"
pass
