#!/usr/bin/env bash
# SIGTERM under load: eight clients hold leases (five users, each checkout
# on its own display so that none is a duplicate of another), more clients
# hammer the server with status requests; SIGTERM must stop the server with
# exit status 0 within 5 s.  A server restarted on the same database and
# port has every granted lease (status in use 8/10), the holders' heartbeats
# reach it, and each holder's own release succeeds at the end.
. "$(dirname "$0")/lib.sh"

use_realm
make_licenses "$T" xdemo:10
ARGS=(--keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/xlicen.db"
	--licenses "$T/lic" --vendor-keys "$T/keys" --lease-ttl 30 --heartbeat 1)
# shellcheck disable=SC2207
ARGS+=($(server_user_args))
start_server "$T/server.1.log" --listen 127.0.0.1:0 "${ARGS[@]}"

USERS=(alice bob carol dave admin)
HOLDERS=()
for i in 1 2 3 4 5 6 7 8; do
	u=${USERS[$(( (i - 1) % 5 ))]}
	hold "h$i" "$u" DISPLAY=":$i"
	HOLDERS+=("$HOLD_PID")
done
expect_eq "$(seats xdemo)" "8/10" "seats before SIGTERM"
declare -A LEASES
for i in 1 2 3 4 5 6 7 8; do
	LEASES[$i]=$(lease_of "h$i")
	[ -n "${LEASES[$i]}" ] || fail "no lease id for h$i"
done
[ "$(printf '%s\n' "${LEASES[@]}" | sort -u | wc -l)" = 8 ] ||
	fail "the eight holders did not get eight leases: ${LEASES[*]}"

# Load: four clients asking for status as fast as they can.
LOADERS=()
for u in alice bob carol dave; do
	( while [ ! -e "$T/stop-load" ]; do
		KRB5CCNAME="FILE:$XLICEN_REALM_DIR/$u.ccache" timeout -k 1 5 \
			"$XLICEN_BIN_CLI" -s "localhost:$PORT" status >/dev/null 2>&1 || true
		echo >>"$T/load.$u"
	done ) &
	LOADERS+=($!)
done
# The load is on once every loader has had two requests answered.
loaded() {
	local u
	for u in alice bob carol dave; do
		[ "$(wc -l <"$T/load.$u" 2>/dev/null || echo 0)" -ge 2 ] || return 1
	done
}
wait_until 20 "two status requests of each loader" loaded

stop_server TERM 5
note "stopped in $STOP_MS ms"
expect_eq "$STOP_RC" 0 "exit status after SIGTERM under load"
LOG=$(cat "$SERVER_LOG")
expect_contains "$LOG" "SIGTERM: shutting down" "stop line"
expect_contains "$LOG" "stopped" "last line"
touch "$T/stop-load"
for p in "${LOADERS[@]}"; do
	wait "$p" 2>/dev/null || true
done

# The holders outlive the server; restart on the same port and database.
start_server "$T/server.2.log" --listen "127.0.0.1:$PORT" "${ARGS[@]}"
expect_eq "$(seats xdemo)" "8/10" "seats after the restart"
# Heartbeats of every lease arrive at the new server: each lease has one
# stamped after the restart (heartbeat_at is in whole seconds, hence >).
RESTART_S=$(date +%s)
wait_until 15 "a heartbeat of every lease at the restarted server" \
	db_is "SELECT COUNT(*) FROM leases WHERE heartbeat_at > $RESTART_S" 8
for i in 1 2 3 4 5 6 7 8; do
	expect_not_contains "$(cat "$T/h$i.err")" "is lost" "h$i's lease after the restart"
done

# Each holder's command ends; each releases its own lease without error.
for i in 1 2 3 4 5 6 7 8; do
	touch "$T/go.h$i"
done
for i in 1 2 3 4 5 6 7 8; do
	rc=0
	wait "${HOLDERS[$((i - 1))]}" || rc=$?
	expect_eq "$rc" 0 "h$i's xlicen exit status ($(cat "$T/h$i.err"))"
	expect_not_contains "$(cat "$T/h$i.err")" "release of lease" "h$i's release"
	expect_contains "$(cat "$SERVER_LOG")" "release lease ${LEASES[$i]} by" "h$i's release in the log"
done
expect_eq "$(seats xdemo)" "0/10" "seats after every release"

stop_server TERM 5
expect_eq "$STOP_RC" 0 "exit status of the restarted server"
pass
