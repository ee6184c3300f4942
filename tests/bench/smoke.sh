#!/usr/bin/env bash
# bench.smoke: every mode of xlicen-bench, briefly, against a server of
# its own (tests/integration/lib.sh starts it on a free port), with the
# realm fixture's tickets.  Checks that each run completed every operation
# with zero errors in its --json output; never checks a timing.
IT_CMD_TIMEOUT=${IT_CMD_TIMEOUT:-60}
: "${XLICEN_BIN_BENCH:?}" "${XLICEN_IT_LIB:?}"
# shellcheck disable=SC1090
. "$XLICEN_IT_LIB"

# json_num JSON KEY: a number of the bench's one-line JSON object.
json_num() {
	printf '%s\n' "$1" | sed -n "s/.*\"$2\": \([0-9.]*\).*/\1/p"
}

# bench MODE EXPECTED_OPS ARGS...: run a mode; EXPECTED_OPS "-" skips the
# operation count (hold counts heartbeats, which depend on time).
bench() {
	local mode=$1 want=$2 ops errors
	shift 2
	run "$XLICEN_BIN_BENCH" "$mode" -s "127.0.0.1:$SERVER_PORT" \
		--service gss-xlicen@localhost --server-pid "$SERVER_PID" --json "$@"
	expect_rc 0 "xlicen-bench $mode $*"
	it_log "$mode: $RUN_OUT"
	json_valid "$RUN_OUT"
	errors=$(json_num "$RUN_OUT" errors)
	ops=$(json_num "$RUN_OUT" ops)
	expect_eq "$errors" 0 "errors of $mode"
	[ "$want" = - ] || expect_eq "$ops" "$want" "operations of $mode"
	for k in ops_per_sec p50_ms p99_ms server_rss_kib; do
		[ -n "$(json_num "$RUN_OUT" "$k")" ] || fail "$mode: no $k in $RUN_OUT"
	done
}

license xdemo 1000
# A heartbeat every second, so that hold sees a few in its 3 s.
server_start --lease-ttl 600 --heartbeat 1

bench cycle 50 -c 2 -n 50
bench heartbeat 2000 -c 4 -n 2000
bench checkout 20 -c 2 -n 20
bench hold - -c 50 -d 3 --ramp 25
expect_eq "$(json_num "$RUN_OUT" sessions)" 50 "sessions held"
bench launch 3 -n 3

# Every lease went back: nothing left in use.
expect_eq "$(in_use xdemo)" 0 "seats in use after the runs"
pass
