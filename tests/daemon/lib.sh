# lib.sh: helpers for the daemon tests (sourced, not run).
#
# These tests run gss-xlicend the way an administrator does: as root with a
# privilege drop, under socket activation, with signals, installed from
# `cmake --install`.  Each test gets a directory under $XLICEN_DAEMON_TMP
# (kept when the test fails), a vendor key pair and license files made with
# the real xlicen-license, and talks to the server with the real xlicen CLI
# using the users of the throwaway realm (fixture "realm").
#
# How a test ends: `pass` stops a server still running with SIGTERM and
# wants exit status 0 within STOP_TIMEOUT seconds (stop_server itself wants
# 0 after SIGTERM or SIGINT), then looks through every server log of the
# test ($T/server*.log, each start_server LOG, the SERVER_LOG of each
# stop_server and the last one) for a sanitizer report
# (server_log_check); any of these fails the test.  A test that fails
# kills what it started with SIGKILL.
#
# Environment (tests/daemon/CMakeLists.txt): XLICEN_BIN_SERVER,
# XLICEN_BIN_CLI, XLICEN_BIN_LICENSE, XLICEN_DAEMON_TMP, XLICEN_SOURCE_DIR,
# XLICEN_BUILD_DIR; with the realm also XLICEN_REALM_DIR and the krb5
# variables of realm.env.
set -euo pipefail

TEST_NAME=$(basename "$0" .sh)
# Seconds any one client command may take.
CMD_TIMEOUT=${CMD_TIMEOUT:-15}
# Seconds the server may take to exit after SIGTERM at the end of a test.
STOP_TIMEOUT=${STOP_TIMEOUT:-10}

: "${XLICEN_DAEMON_TMP:?}"
mkdir -p "$XLICEN_DAEMON_TMP"
T=$(mktemp -d "$XLICEN_DAEMON_TMP/$TEST_NAME.XXXXXX")
# The root test's service user must be able to look inside.
chmod 755 "$T"

SERVER_PID=
SERVER_LOG=
SERVER_LOGS=()
PORT=
CLEANUP_DIRS=()

cleanup() {
	local rc=$? j
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	for j in $(jobs -p); do
		kill -KILL "$j" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
		rm -rf -- "$T" ${CLEANUP_DIRS[@]+"${CLEANUP_DIRS[@]}"}
	else
		echo "$TEST_NAME: FAILED (status $rc); files kept in $T ${CLEANUP_DIRS[*]:-}" >&2
	fi
}
trap cleanup EXIT

note() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

fail() {
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	if [ -n "$SERVER_LOG" ] && [ -r "$SERVER_LOG" ]; then
		echo "--- tail of $SERVER_LOG ---" >&2
		tail -n 20 "$SERVER_LOG" >&2
	fi
	exit 1
}

skip() {
	note "SKIP: $*"
	exit 77
}

# pass: stop a running server (SIGTERM, status 0), check every server log
# of the test, and end the test as passed.
pass() {
	if [ -n "$SERVER_PID" ]; then
		stop_server TERM "$STOP_TIMEOUT"
	fi
	server_log_check "$T"/server*.log ${SERVER_LOGS[@]+"${SERVER_LOGS[@]}"} \
		${SERVER_LOG:+"$SERVER_LOG"}
	note "PASS"
	exit 0
}

# shellcheck source=tests/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

# test_user NAME: the throwaway system user NAME (root only), made once
# and left in place: another daemon test may be using it at the same time.
test_user() {
	getent passwd "$1" >/dev/null && return 0
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin "$1" 2>/dev/null ||
		getent passwd "$1" >/dev/null ||
		fail "cannot create user $1"
	note "created system user $1"
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

# use_realm: the krb5 environment of the running test realm.
use_realm() {
	: "${XLICEN_REALM_DIR:?}"
	[ -s "$XLICEN_REALM_DIR/realm.env" ] ||
		fail "no realm in $XLICEN_REALM_DIR (fixture realm not started?)"
	# shellcheck disable=SC1091
	. "$XLICEN_REALM_DIR/realm.env"
	unset XLICEN_SERVER XLICEN_SERVICE DISPLAY
}

# make_licenses DIR PRODUCT:SEATS...: a vendor key pair "acme" (public key
# in DIR/keys, private key in DIR/private) and one DIR/lic/PRODUCT.lic each.
make_licenses() {
	local dir=$1 spec
	shift
	mkdir -p "$dir/keys" "$dir/lic" "$dir/private"
	if [ ! -s "$dir/private/acme.key" ]; then
		"$XLICEN_BIN_LICENSE" keygen "$dir/private/acme" >/dev/null ||
			fail "xlicen-license keygen"
		mv "$dir/private/acme.pub" "$dir/keys/acme.pub"
	fi
	for spec in "$@"; do
		"$XLICEN_BIN_LICENSE" sign --key "$dir/private/acme.key" \
			--product "${spec%%:*}" --seats "${spec#*:}" \
			--serial "SN-${spec%%:*}" >"$dir/lic/${spec%%:*}.lic" ||
			fail "xlicen-license sign $spec"
	done
}

# server_user_args: as root, keep root (these tests are not about the
# drop, and the package's gss-xlicen user may exist on the machine).
server_user_args() {
	if [ "$(id -u)" = 0 ]; then
		echo "--user root"
	fi
}

# start_server LOG ARGS...: run gss-xlicend --foreground ARGS in the
# background (SERVER_PID); return once it logged " ready ".  PORT is the
# port of its first "listening on 127.0.0.1:PORT" line.
start_server() {
	local i
	SERVER_LOG=$1
	SERVER_LOGS+=("$1")
	shift
	"$XLICEN_BIN_SERVER" --foreground "$@" </dev/null >/dev/null 2>"$SERVER_LOG" &
	SERVER_PID=$!
	wait_ready
	PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
	[ -n "$PORT" ] || fail "no \"listening on 127.0.0.1:PORT\" in $SERVER_LOG"
}

# wait_ready: until SERVER_LOG has " ready " (10 s).
wait_ready() {
	wait_until 10 "gss-xlicend to log \"ready\"" server_ready
}
server_ready() {
	grep -q ' ready ' "$SERVER_LOG" && return 0
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
		fail "gss-xlicend exited during start-up"
	fi
	return 1
}

# wait_log PATTERN [SECONDS]: until SERVER_LOG has a line matching the
# grep -E PATTERN.
wait_log() {
	wait_until "${2:-10}" "a line matching /$1/ in $SERVER_LOG" \
		grep -Eq -- "$1" "$SERVER_LOG"
}

# stop_server SIGNAL SECONDS: send SIGNAL and wait at most SECONDS for the
# exit; STOP_RC is the exit status, STOP_MS how long it took.  After
# SIGTERM or SIGINT the status must be 0 and the log free of sanitizer
# reports.
stop_server() {
	local sig=$1 limit=$2 t0
	t0=$(date +%s%N)
	kill "-$sig" "$SERVER_PID"
	wait_until "$limit" "gss-xlicend to exit on SIG$sig" server_exited
	STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	STOP_RC=0
	wait "$SERVER_PID" || STOP_RC=$?
	SERVER_PID=
	SERVER_LOGS+=("$SERVER_LOG")
	case $sig in
	TERM | INT)
		[ "$STOP_RC" = 0 ] ||
			fail "gss-xlicend exited with status $STOP_RC on SIG$sig, expected 0"
		server_log_check "$SERVER_LOG"
		;;
	esac
}
# server_exited: SERVER_PID is gone or a zombie (kill -0 succeeds on one).
server_exited() {
	! grep -q '^State:[[:space:]]*[^Z]' "/proc/$SERVER_PID/status" 2>/dev/null
}

# xl [as USER] ARGS...: the CLI against 127.0.0.1:PORT (the service
# principal is gss-xlicen/localhost), with a timeout; leaves RUN_RC,
# RUN_OUT, RUN_ERR.
xl() {
	local envs=()
	if [ "$1" = as ]; then
		envs=("KRB5CCNAME=FILE:$XLICEN_REALM_DIR/$2.ccache")
		shift 2
	fi
	RUN_RC=0
	timeout -k 2 "$CMD_TIMEOUT" env ${envs[@]+"${envs[@]}"} \
		"$XLICEN_BIN_CLI" -s "localhost:$PORT" "$@" \
		>"$T/run.out" 2>"$T/run.err" </dev/null || RUN_RC=$?
	RUN_OUT=$(cat "$T/run.out")
	RUN_ERR=$(cat "$T/run.err")
	if [ "$RUN_RC" = 124 ] || [ "$RUN_RC" = 137 ]; then
		fail "timed out after ${CMD_TIMEOUT}s: xlicen $*"
	fi
}

# json_field JSON PRODUCT FIELD: one field of one product in
# `xlicen status --json` output (one object per line), quotes removed.
json_field() {
	printf '%s\n' "$1" | grep -F "{\"product\": \"$2\"," | head -n 1 |
		sed -n "s/.*\"$3\": \(\"[^\"]*\"\|[0-9][0-9]*\|null\).*/\1/p" | tr -d '"'
}

# seats PRODUCT: "in_use/total" of PRODUCT by `xlicen status --json`.
seats() {
	xl status --json
	[ "$RUN_RC" = 0 ] || fail "xlicen status --json: exit $RUN_RC: $RUN_ERR"
	echo "$(json_field "$RUN_OUT" "$1" in_use)/$(json_field "$RUN_OUT" "$1" total)"
}

# hold NAME USER [ENV=VALUE...]: check out xdemo as USER for a command that
# runs until $T/go.NAME exists; returns once granted.  HOLD_PID is the
# CLI's pid; $T/NAME.err has its messages.
hold() {
	local name=$1 user=$2 i
	shift 2
	env KRB5CCNAME="FILE:$XLICEN_REALM_DIR/$user.ccache" "$@" \
		timeout -k 2 120 "$XLICEN_BIN_CLI" -s "localhost:$PORT" \
		checkout xdemo -- sh -c "while [ ! -e '$T/go.$name' ]; do sleep 0.05; done" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null &
	HOLD_PID=$!
	for i in $(seq 1 500); do
		grep -q 'granted' "$T/$name.err" && return 0
		kill -0 "$HOLD_PID" 2>/dev/null ||
			fail "$name's checkout ended: $(cat "$T/$name.err")"
		sleep 0.02
	done
	fail "$name: no grant after 10 s"
}

# lease_of NAME: the lease id in NAME's grant line.
lease_of() {
	sed -n 's/^xlicen: granted xdemo lease \([^ ]*\) .*/\1/p' "$T/$1.err"
}

# db_is SQL VALUE: one value of $T/xlicen.db (read-only, python3's
# sqlite3; the server keeps the file open) is VALUE (for wait_until).
db_is() {
	local got
	got=$(/usr/bin/python3 - "$T/xlicen.db" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
row = c.execute(sys.argv[2]).fetchone()
print("" if row is None or row[0] is None else row[0])
PY
) || fail "reading $T/xlicen.db: $1"
	[ "$got" = "$2" ]
}

# port_free PORT: nothing listens on 127.0.0.1:PORT or *:PORT (TCP).
port_free() {
	[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# random_port: a TCP port for a server the test starts with a fixed
# --listen address, chosen at random from 20000 up to the start of the
# kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768 on
# Debian), where no outgoing connection of another test (they run side by
# side) takes it as its local port; no socket of any state uses it now.
# Prints nothing after 20 tries.
random_port() {
	local low hi p i
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	hi=$(( low > 21000 ? low : 32768 ))
	for i in $(seq 1 20); do
		p=$(( 20000 + RANDOM % (hi - 20000) ))
		if [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
			echo "$p"
			return
		fi
	done
}
