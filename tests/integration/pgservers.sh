# shellcheck shell=bash
# pgservers.sh: helpers of the several-servers tests (test_pg_*.sh),
# sourced after lib.sh.  Several gss-xlicend on one PostgreSQL database,
# pg_load_client processes cycling checkouts across them, and a sampler
# that counts the seats in use from the database while they run.
#
#   pgs_start CONNINFO N [gss-xlicend options...]
#                     start servers 1..N on free loopback ports, one after
#                     the other (the first applies the migrations); their
#                     pids and ports in PGS_PID[i], PGS_PORT[i], their logs
#                     $T/server.i.log (which lib.sh's pass checks)
#   pgs_list [FIRST]  "localhost:P1,localhost:P2,..." starting at FIRST
#   pgs_kill I        SIGKILL server I, wait for it; PGS_KILLED_MS = when
#   pgs_stop_all      SIGTERM every live server; each must exit 0
#   pgs_client NAME USER ARGS...   pg_load_client as USER, log $T/NAME.log
#   pgs_sample_start CONNINFO / pgs_sample_stop
#                     every 100 ms, one line per pool in $T/samples:
#                     "ms seats used in_use" (used: the sum of the seats
#                     table, in_use: the pool's counter)
#   pgs_check SEATS   pg_check.py over the clients' logs, the samples and
#                     the audit trail; prints the figures, fails the test
#                     on an over-subscription or a lost grant
: "${XLICEN_BIN_PGCLIENT:?}"

PGS_PID=()
PGS_PORT=()
PGS_CLIENTS=()
PGS_SAMPLER=
PGS_CONNINFO=
PGS_KILLED_MS=0

now_ms() { date +%s%3N; }

# pgs_cleanup: SIGKILL every server, client and sampler still running (a
# failed test), keeping the exit status for it_cleanup.  lib.sh's own
# `jobs -p` came back empty in an EXIT trap here and left the servers
# running, so the pids kept in the variables above are killed here.
pgs_cleanup() {
	local p
	for p in "${PGS_PID[@]}" "${PGS_CLIENTS[@]}" "$PGS_SAMPLER"; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	done
	return 0
}
# As pglib.sh: the test's status goes to it_cleanup as an argument (a
# cleanup that returned it would stop the trap under set -e).
trap 'pgs_rc=$?; pgs_cleanup; it_cleanup "$pgs_rc"' EXIT

pgs_ready() {	# i
	grep -q ' ready ' "$T/server.$1.log" 2>/dev/null && return 0
	kill -0 "${PGS_PID[$1]}" 2>/dev/null || fail "gss-xlicend $1 exited during startup: $(tail -n 5 "$T/server.$1.log")"
	return 1
}

pgs_start() {
	local ci=$1 n=$2 i port as_root=()
	shift 2
	PGS_CONNINFO=$ci
	[ "$(id -u)" = 0 ] && as_root=(--user root)
	mkdir -p "$T/lic" "$T/keys"
	for i in $(seq 1 "$n"); do
		"$XLICEN_BIN_SERVER" --foreground --listen 127.0.0.1:0 "${as_root[@]}" \
			--keytab "$XLICEN_SERVICE_KEYTAB" --licenses "$T/lic" \
			--vendor-keys "$T/keys" --store-conninfo "$ci" "$@" \
			</dev/null 2>"$T/server.$i.log" >/dev/null &
		PGS_PID[i]=$!
		wait_until 15 "gss-xlicend $i to log \"ready\"" pgs_ready "$i"
		port=$(sed -n '/http: listening on/!s/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
			"$T/server.$i.log" | tail -n 1)
		[ -n "$port" ] || fail "no \"listening on\" line in $T/server.$i.log"
		PGS_PORT[i]=$port
	done
	# lib.sh's run/in_use talk to SERVER_PORT: the first server.
	SERVER_PORT=${PGS_PORT[1]}
	it_log "servers up on ports ${PGS_PORT[*]}"
}

pgs_list() {
	local first=${1:-1} n=${#PGS_PORT[@]} i k out=
	for i in $(seq 0 $((n - 1))); do
		k=$(( (first - 1 + i) % n + 1 ))
		out="${out:+$out,}localhost:${PGS_PORT[k]}"
	done
	printf '%s\n' "$out"
}

pgs_kill() {
	local i=$1 rc=0
	PGS_KILLED_MS=$(now_ms)
	kill -KILL "${PGS_PID[i]}"
	wait "${PGS_PID[i]}" 2>/dev/null || rc=$?
	[ "$rc" = 137 ] || fail "server $i exited with status $rc on SIGKILL, expected 137"
	PGS_PID[i]=
}

pgs_gone() { ! kill -0 "$1" 2>/dev/null; }

pgs_stop_all() {
	local i rc
	for i in "${!PGS_PID[@]}"; do
		[ -n "${PGS_PID[i]}" ] || continue
		kill -TERM "${PGS_PID[i]}" 2>/dev/null || true
	done
	for i in "${!PGS_PID[@]}"; do
		[ -n "${PGS_PID[i]}" ] || continue
		rc=0
		wait_until "$IT_STOP_TIMEOUT" "gss-xlicend $i to exit on SIGTERM" \
			pgs_gone "${PGS_PID[i]}"
		wait "${PGS_PID[i]}" 2>/dev/null || rc=$?
		[ "$rc" = 0 ] || fail "gss-xlicend $i exited with status $rc on SIGTERM (log: $(tail -n 5 "$T/server.$i.log"))"
		PGS_PID[i]=
	done
}

pgs_client() {
	local name=$1 user=$2
	shift 2
	KRB5CCNAME="FILE:$XLICEN_REALM_DIR/$user.ccache" \
		"$XLICEN_BIN_PGCLIENT" -o "$T/$name.log" "$@" </dev/null 2>"$T/$name.err" &
	PGS_CLIENTS+=("$!")
}

# pgs_wait_clients: every client has ended with status 0.
pgs_wait_clients() {
	local pid rc
	for pid in "${PGS_CLIENTS[@]}"; do
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" = 0 ] || fail "pg_load_client $pid exited with status $rc"
	done
	PGS_CLIENTS=()
}

PGS_SAMPLE_SQL="SELECT p.seats || ' ' || (SELECT COALESCE(SUM(s.count), 0) FROM seats AS s WHERE s.pool_id = p.id) || ' ' || p.in_use FROM pools AS p"

pgs_sample_start() {
	local ci=$1 bin=${XLICEN_PG_BIN:-/usr/lib/postgresql/15/bin}
	: >"$T/samples"
	(
		# A sample that fails (the database being promoted) is skipped.
		while :; do
			ms=$(date +%s%3N)
			"$bin/psql" -X -At -d "$ci" -c "$PGS_SAMPLE_SQL" 2>/dev/null </dev/null |
				sed "s/^/$ms /" >>"$T/samples" || true
			sleep 0.1
		done
	) &
	PGS_SAMPLER=$!
}

pgs_sample_stop() {
	[ -n "$PGS_SAMPLER" ] || return 0
	kill "$PGS_SAMPLER" 2>/dev/null || true
	wait "$PGS_SAMPLER" 2>/dev/null || true
	PGS_SAMPLER=
}

# pgs_check [pg_check.py options...]: the audit trail and the leases left
# exported from CONNINFO, then the checker; its figures go to stdout.
pgs_check() {
	[ -n "$IT_PYTHON" ] || fail "python3 is needed for the checker"
	pg_query "$PGS_CONNINFO" "SELECT kind || ' ' || COALESCE(lease_id, '-') FROM events ORDER BY id" \
		>"$T/events"
	pg_query "$PGS_CONNINFO" "SELECT id FROM leases" >"$T/leases_left"
	"$IT_PYTHON" "$(dirname "${BASH_SOURCE[0]}")/pg_check.py" --samples "$T/samples" \
		--events "$T/events" --leases-left "$T/leases_left" "$@" "$T"/c*.log ||
		fail "pg_check.py found a violation (files in $T)"
}
