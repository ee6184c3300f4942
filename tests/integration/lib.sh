# lib.sh: shared helpers for the integration tests (sourced, not run).
#
# Each test gets its own directory under $XLICEN_IT_TMP with a vendor key
# pair, a license directory, a database, and a gss-xlicend on a free
# loopback port (the server binds port 0 and logs the port it got, so two
# tests never race for one).
#
# How a test ends: `pass` stops the server with SIGTERM and wants exit
# status 0 within IT_STOP_TIMEOUT seconds, then looks through every server
# log of the test ($T/server.N.log, one per server_start) for a sanitizer
# report (server_log_check); any of these fails the test.  A test that
# fails instead kills everything it started with SIGKILL.
#
# Environment (set by tests/integration/CMakeLists.txt):
#   XLICEN_BIN_SERVER XLICEN_BIN_CLI XLICEN_BIN_LICENSE XLICEN_BIN_PROBE
#   XLICEN_REALM_DIR  the running test realm (fixture "realm")
#   XLICEN_IT_TMP     where per-test directories go
#
# Conventions: every client command runs under `timeout`, through `run`,
# which leaves RUN_RC, RUN_OUT and RUN_ERR; checks are `expect_*`, which
# fail the test with a message saying what differed.
set -euo pipefail

: "${XLICEN_BIN_SERVER:?}" "${XLICEN_BIN_CLI:?}" "${XLICEN_BIN_LICENSE:?}"
: "${XLICEN_BIN_PROBE:?}" "${XLICEN_REALM_DIR:?}" "${XLICEN_IT_TMP:?}"

IT_NAME=$(basename "$0" .sh)
# A python3 for the optional checks; the system one starts fastest.
IT_PYTHON=$(command -v /usr/bin/python3 || command -v python3 || true)
# Seconds any one client command may take.
IT_CMD_TIMEOUT=${IT_CMD_TIMEOUT:-10}
# Seconds the server may take to exit after SIGTERM (a sanitizer build
# under load is several times slower than a plain one).
IT_STOP_TIMEOUT=${IT_STOP_TIMEOUT:-10}

if [ ! -s "$XLICEN_REALM_DIR/realm.env" ]; then
	echo "$IT_NAME: no realm in $XLICEN_REALM_DIR (fixture realm not started?)" >&2
	exit 1
fi
# shellcheck disable=SC1091
. "$XLICEN_REALM_DIR/realm.env"
# Never let the caller's environment pick another server or service.
unset XLICEN_SERVER XLICEN_SERVICE XLICEN_TRACE DISPLAY

mkdir -p "$XLICEN_IT_TMP"
T=$(mktemp -d "$XLICEN_IT_TMP/$IT_NAME.XXXXXX")
SERVER_PID=
SERVER_PORT=0
SERVER_LOG=
SERVER_STARTS=0
SERVER_ARGS=()

# it_cleanup [STATUS]: the test's exit status, else $? (as the EXIT trap).
it_cleanup() {
	local rc=${1:-$?}
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	# Children a test put in the background (clients) go too.
	local j
	for j in $(jobs -p); do
		kill -KILL "$j" 2>/dev/null || true
		wait "$j" 2>/dev/null || true
	done
	if [ "$rc" = 0 ]; then
		rm -rf -- "$T"
	else
		echo "$IT_NAME: FAILED; files kept in $T" >&2
	fi
}
trap it_cleanup EXIT

it_log() { printf '%s: %s\n' "$IT_NAME" "$*" >&2; }

fail() {
	printf '%s: FAIL: %s\n' "$IT_NAME" "$*" >&2
	if [ -n "$SERVER_LOG" ] && [ -r "$SERVER_LOG" ]; then
		echo "--- tail of $SERVER_LOG ---" >&2
		tail -n 15 "$SERVER_LOG" >&2
	fi
	# A suite may add what it knows (the X tests: their programs' output).
	if declare -F fail_hook >/dev/null; then
		fail_hook >&2
	fi
	exit 1
}

# shellcheck source=tests/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

# not CMD...: CMD failed (for wait_until).
not() { ! "$@"; }

# log_has PATTERN [FILE]: FILE (default the current server log) has a
# line matching the grep -E PATTERN.
log_has() { grep -Eq -- "$1" "${2:-$SERVER_LOG}" 2>/dev/null; }

# server_gone: the server process has exited (bash reaps its children as
# they end, so a dead server does not linger as a zombie here).
server_gone() { ! kill -0 "$SERVER_PID" 2>/dev/null; }

# run [as USER] CMD...: run CMD with a timeout (as USER: with USER's
# Kerberos tickets); leaves RUN_RC, RUN_OUT and RUN_ERR.  CMD "xl" is the
# CLI and "probe" is lease_probe, both pointed at this test's server.
run() {
	local envs=()
	if [ "$1" = as ]; then
		envs=("KRB5CCNAME=FILE:$XLICEN_REALM_DIR/$2.ccache")
		shift 2
	fi
	case $1 in
	xl) shift; set -- "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" "$@" ;;
	probe) shift; set -- "$XLICEN_BIN_PROBE" -s "localhost:$SERVER_PORT" "$@" ;;
	esac
	RUN_RC=0
	timeout -k 2 "$IT_CMD_TIMEOUT" env ${envs[@]+"${envs[@]}"} "$@" \
		>"$T/run.out" 2>"$T/run.err" </dev/null || RUN_RC=$?
	RUN_OUT=$(cat "$T/run.out")
	RUN_ERR=$(cat "$T/run.err")
	if [ "$RUN_RC" = 124 ] || [ "$RUN_RC" = 137 ]; then
		fail "timed out after ${IT_CMD_TIMEOUT}s: $*"
	fi
}

# as USER CMD...: run the external CMD with USER's Kerberos tickets.
as() {
	local user=$1
	shift
	KRB5CCNAME="FILE:$XLICEN_REALM_DIR/$user.ccache" "$@"
}

expect_rc() {	# expected what
	[ "$RUN_RC" = "$1" ] ||
		fail "$2: exit status $RUN_RC, expected $1 (stderr: $RUN_ERR)"
}
expect_eq() {	# actual expected what
	[ "$1" = "$2" ] || fail "$3: got \"$1\", expected \"$2\""
}
expect_contains() {	# haystack needle what
	case $1 in
	*"$2"*) ;;
	*) fail "$3: \"$1\" does not contain \"$2\"" ;;
	esac
}
expect_not_contains() {	# haystack needle what
	case $1 in
	*"$2"*) fail "$3: \"$1\" contains \"$2\"" ;;
	*) ;;
	esac
}
# expect_lines TEXT N what: TEXT has exactly N lines.
expect_lines() {
	local n
	n=$(printf '%s\n' "$1" | grep -c '' || true)
	[ -z "$1" ] && n=0
	[ "$n" = "$2" ] || fail "$3: $n lines, expected $2: \"$1\""
}

# vendor_keys: a key pair for vendor "acme"; the server reads $T/keys.
vendor_keys() {
	mkdir -p "$T/keys" "$T/lic" "$T/private"
	"$XLICEN_BIN_LICENSE" keygen "$T/private/acme" >/dev/null 2>&1 ||
		fail "xlicen-license keygen failed"
	mv "$T/private/acme.pub" "$T/keys/acme.pub"
}

# license PRODUCT SEATS [xlicen-license sign options...]: a signed license
# file $T/lic/PRODUCT.lic.
license() {
	local product=$1 seats=$2
	shift 2
	[ -s "$T/private/acme.key" ] || vendor_keys
	"$XLICEN_BIN_LICENSE" sign --key "$T/private/acme.key" --product "$product" \
		--seats "$seats" --serial "SN-$product" "$@" >"$T/lic/$product.lic" \
		2>"$T/sign.err" || fail "xlicen-license sign $product: $(cat "$T/sign.err")"
}

# server_ready: the server logged " ready " (in $SERVER_WATCH if set: a
# test's [logging] file; else its stderr); fails the test if it exited.
server_ready() {
	grep -q ' ready ' "${SERVER_WATCH:-$SERVER_LOG}" 2>/dev/null && return 0
	if server_gone; then
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
		fail "gss-xlicend exited during startup"
	fi
	return 1
}

# server_start [gss-xlicend options...]: start (or restart, on the same port
# and database) the server; returns once it logged "ready".
server_start() {
	local listen
	[ $# -gt 0 ] && SERVER_ARGS=("$@")
	mkdir -p "$T/lic" "$T/keys"
	SERVER_STARTS=$((SERVER_STARTS + 1))
	SERVER_LOG="$T/server.$SERVER_STARTS.log"
	# As root the server would drop to the gss-xlicen user where that
	# exists, and then could not write this test's root-owned directory.
	local as_root=()
	[ "$(id -u)" = 0 ] && as_root=(--user root)
	# SERVER_WRAP: a command the server runs under (e.g. prlimit), which
	# must exec it, so that SERVER_PID is the server's.
	${SERVER_WRAP[@]+"${SERVER_WRAP[@]}"} \
	"$XLICEN_BIN_SERVER" --foreground --listen "127.0.0.1:$SERVER_PORT" \
		"${as_root[@]}" --keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/xlicen.db" \
		${XLICEN_IT_STORE_CONNINFO:+--store-conninfo "$XLICEN_IT_STORE_CONNINFO"} \
		--licenses "$T/lic" --vendor-keys "$T/keys" ${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"} \
		</dev/null 2>"$SERVER_LOG" >/dev/null &
	SERVER_PID=$!
	wait_until 10 "gss-xlicend to log \"ready\"" server_ready
	# The last start's license port (a watched file keeps earlier starts;
	# the HTTP endpoint's lines say "http: listening on").
	listen=$(sed -n '/http: listening on/!s/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
		"${SERVER_WATCH:-$SERVER_LOG}" | tail -n 1)
	[ -n "$listen" ] || fail "no \"listening on\" line in ${SERVER_WATCH:-$SERVER_LOG}"
	SERVER_PORT=$listen
}

# server_stop [SIGNAL]: stop the server (default TERM) and wait at most
# IT_STOP_TIMEOUT s for it.  On SIGKILL it must end with status 137;
# on any other signal with status 0 and no sanitizer report in its log.
server_stop() {
	local sig=${1:-TERM} want=0 rc=0
	[ -n "$SERVER_PID" ] || return 0
	[ "$sig" = KILL ] && want=137
	kill "-$sig" "$SERVER_PID" 2>/dev/null || true
	wait_until "$IT_STOP_TIMEOUT" "gss-xlicend to exit on SIG$sig" server_gone
	wait "$SERVER_PID" 2>/dev/null || rc=$?
	SERVER_PID=
	[ "$rc" = "$want" ] ||
		fail "gss-xlicend exited with status $rc on SIG$sig, expected $want"
	[ "$sig" = KILL ] || server_log_check "$SERVER_LOG"
}

# json_field JSON PRODUCT FIELD: a field of one product in `status --json`
# (one object per line, as the CLI prints it), without quotes.  No jq:
# the tests need nothing the build does not.
json_field() {
	printf '%s\n' "$1" | grep -F "{\"product\": \"$2\"," | head -n 1 |
		sed -n "s/.*\"$3\": \(\"[^\"]*\"\|[0-9][0-9]*\|null\).*/\1/p" | tr -d '"'
}

# json_valid JSON: if python3 is there, check that JSON parses.
json_valid() {
	if [ -n "$IT_PYTHON" ]; then
		printf '%s' "$1" | "$IT_PYTHON" -c 'import json,sys; json.load(sys.stdin)' ||
			fail "not valid JSON: $1"
	fi
}

# in_use PRODUCT: the seats in use now, by `xlicen status --json` as alice.
in_use() {
	run xl status --json "$1"
	expect_rc 0 "status --json $1"
	json_field "$RUN_OUT" "$1" in_use
}

# in_use_is PRODUCT N: PRODUCT has N seats in use now (for wait_until).
in_use_is() { [ "$(in_use "$1")" = "$2" ]; }

# not_before SECONDS WHAT: fail unless the clock (date +%s) has reached
# SECONDS: an event waited for must not have come early (a TTL or a
# linger that ended before its time).
not_before() {
	[ "$(date +%s)" -ge "$1" ] || fail "$2 at $(date +%s), before $1"
}

# pass: stop the server (SIGTERM, status 0), check every server log of
# the test, and end the test as passed.
pass() {
	server_stop TERM
	server_log_check "$T"/server.*.log
	it_log "PASS"
	exit 0
}

# --- PostgreSQL (fixture "pg", tests/pg; scripts/pg.sh) ---------------------
# A test using these is registered with xlicen_use_pg, which sets
# XLICEN_PG_DIR (the fixture's cluster) and XLICEN_PG_SH.

# pg_newdb NAME: create a database of this test's own in the fixture's
# cluster (NAME plus this shell's pid: tests run in parallel) and print its
# libpq conninfo.
pg_newdb() {
	: "${XLICEN_PG_DIR:?no XLICEN_PG_DIR (test not registered with xlicen_use_pg)}"
	"$XLICEN_PG_SH" newdb "$XLICEN_PG_DIR" "${1}_$$" 2>"$T/pg_newdb.err" ||
		fail "pg.sh newdb ${1}_$$: $(cat "$T/pg_newdb.err")"
}

# pg_query CONNINFO SQL: run SQL (psql -At: unaligned, no header) and print
# its rows; fails the test on an error.
pg_query() {
	local bin=${XLICEN_PG_BIN:-/usr/lib/postgresql/15/bin}
	timeout -k 2 "$IT_CMD_TIMEOUT" "$bin/psql" -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" \
		2>"$T/pg_query.err" </dev/null || fail "psql: $2: $(cat "$T/pg_query.err")"
}
