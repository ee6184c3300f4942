#!/usr/bin/env bash
# run.sh: the hostile-client suite driver.  Starts a gss-xlicend of its own
# on a free loopback port (against the realm fixture's KDC), lets a
# well-behaved client (bob) hold a seat, then runs each ITEM and after
# every one checks that the server process is alive and that a good client
# (alice) still checks a seat out and releases it.  At the end the held
# seat must still be in use and its client still running, and the server
# must stop on SIGTERM with status 0 and no sanitizer report in its log (a
# failing run kills it with SIGKILL instead).
#
#   run.sh [options] NAME ITEM...
#
# ITEM is an xlicen-hostile case (`xlicen-hostile list`) or a check of
# this script: @names (license and status of a product with every allowed
# punctuation), @gss-client (MIT's gss-client pointed at the server),
# @memory (VmRSS and open files before and after 200 bad connections).
#
# Options (server configuration, written to a file for gss-xlicend --config):
#   --handshake S      [limits] handshake_timeout
#   --idle S           [limits] idle_timeout
#   --max-conn N       [limits] max_connections
#   --max-per-peer N   [limits] max_connections_per_peer
#   --max-unauth N     [limits] max_unauthenticated
#   --max-unauth-per-peer N  [limits] max_unauthenticated_per_peer
#   --frame-budget B   [limits] partial_frame_budget
#
# Exit status 0 all passed, 1 a failure, 77 (skipped, with "SKIP:" lines)
# when nothing failed but a check could not run for lack of a tool that
# scripts/deps.sh installs (gss-client, sqlite3, python3).
#
# Environment (set by tests/hostile/CMakeLists.txt): HOSTILE_BIN,
# XLICEN_BIN_SERVER, XLICEN_BIN_CLI, XLICEN_BIN_LICENSE, XLICEN_REALM_DIR,
# HOSTILE_TMP.  Traffic goes to 127.0.0.1 (and from 127.0.0.2) only.
set -u

: "${HOSTILE_BIN:?}" "${XLICEN_BIN_SERVER:?}" "${XLICEN_BIN_CLI:?}"
: "${XLICEN_BIN_LICENSE:?}" "${XLICEN_REALM_DIR:?}" "${HOSTILE_TMP:?}"

HANDSHAKE='' IDLE='' MAX_CONN='' MAX_PER_PEER=''
MAX_UNAUTH='' MAX_UNAUTH_PER_PEER='' FRAME_BUDGET=''
while [ $# -gt 0 ]; do
	case $1 in
	--handshake) HANDSHAKE=$2; shift 2 ;;
	--idle) IDLE=$2; shift 2 ;;
	--max-conn) MAX_CONN=$2; shift 2 ;;
	--max-per-peer) MAX_PER_PEER=$2; shift 2 ;;
	--max-unauth) MAX_UNAUTH=$2; shift 2 ;;
	--max-unauth-per-peer) MAX_UNAUTH_PER_PEER=$2; shift 2 ;;
	--frame-budget) FRAME_BUDGET=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || { echo "usage: run.sh [options] NAME ITEM..." >&2; exit 2; }
NAME=$1
shift

SUITE_START=$(date +%s%N)
say() { printf 'hostile.%s: %s\n' "$NAME" "$*"; }
die() { say "FAIL: $*"; exit 1; }

if [ ! -s "$XLICEN_REALM_DIR/realm.env" ]; then
	die "no realm in $XLICEN_REALM_DIR (fixture realm not started?)"
fi
# shellcheck disable=SC1091
. "$XLICEN_REALM_DIR/realm.env"
# shellcheck source=tests/common.sh
. "$(dirname "$0")/../common.sh"
unset XLICEN_SERVER DISPLAY
export XLICEN_SERVICE=gss-xlicen@localhost
export KRB5CCNAME="FILE:$XLICEN_REALM_DIR/alice.ccache"
HOLDER_CCACHE="FILE:$XLICEN_REALM_DIR/bob.ccache"

mkdir -p "$HOSTILE_TMP"
T=$(mktemp -d "$HOSTILE_TMP/$NAME.XXXXXX")
SERVER_PID='' HOLDER_PID='' PORT='' FAILED=0
FAILURES=() SKIPS=()

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	local rc=$?
	[ -n "$HOLDER_PID" ] && kill -KILL "$HOLDER_PID" 2>/dev/null
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	if [ "$rc" = 0 ] || [ "$rc" = 77 ]; then
		rm -rf -- "$T"
	else
		say "files kept in $T"
		if [ -r "$T/server.log" ]; then
			echo "--- tail of $T/server.log ---"
			tail -n 25 "$T/server.log"
		fi
	fi
}
trap cleanup EXIT

# A live process, not a zombie (a crashed child stays a zombie until
# waited for, and kill -0 succeeds on zombies).
alive() {
	local state
	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ "$state" != Z ] && [ "$state" != X ]
}

record_failure() {
	FAILED=1
	FAILURES+=("$1")
	say "FAIL: $1"
}

# A check that cannot run for lack of a tool: the run ends in a skip (77).
# The "SKIP:" lines come at the end, once the other items have run.
skip_check() {
	SKIPS+=("$1")
}

# ---- server configuration ---------------------------------------------
CONFIG_ARGS=()
if [ -n "$HANDSHAKE$IDLE$MAX_CONN$MAX_PER_PEER$MAX_UNAUTH$MAX_UNAUTH_PER_PEER$FRAME_BUDGET" ]; then
	{
		echo "[limits]"
		[ -n "$HANDSHAKE" ] && echo "	handshake_timeout = $HANDSHAKE"
		[ -n "$IDLE" ] && echo "	idle_timeout = $IDLE"
		[ -n "$MAX_CONN" ] && echo "	max_connections = $MAX_CONN"
		[ -n "$MAX_PER_PEER" ] && echo "	max_connections_per_peer = $MAX_PER_PEER"
		[ -n "$MAX_UNAUTH" ] && echo "	max_unauthenticated = $MAX_UNAUTH"
		[ -n "$MAX_UNAUTH_PER_PEER" ] && echo "	max_unauthenticated_per_peer = $MAX_UNAUTH_PER_PEER"
		[ -n "$FRAME_BUDGET" ] && echo "	partial_frame_budget = $FRAME_BUDGET"
	} >"$T/gss-xlicend.conf"
	CONFIG_ARGS=(--config "$T/gss-xlicend.conf")
fi
export HOSTILE_HANDSHAKE_S=${HANDSHAKE:-10}
export HOSTILE_IDLE_S=${IDLE:-}
export HOSTILE_MAX_TOTAL=${MAX_CONN:-}
export HOSTILE_MAX_PER_PEER=${MAX_PER_PEER:-}
export HOSTILE_MAX_UNAUTH=${MAX_UNAUTH:-}
export HOSTILE_FRAME_BUDGET=${FRAME_BUDGET:-${HOSTILE_FRAME_BUDGET:-}}

# ---- licenses ------------------------------------------------------------
mkdir -p "$T/keys" "$T/lic" "$T/private"
"$XLICEN_BIN_LICENSE" keygen "$T/private/acme" >/dev/null 2>"$T/keygen.err" ||
	die "xlicen-license keygen: $(cat "$T/keygen.err")"
mv "$T/private/acme.pub" "$T/keys/acme.pub"
sign() {	# PRODUCT SEATS
	"$XLICEN_BIN_LICENSE" sign --key "$T/private/acme.key" --product "$1" \
		--seats "$2" --versions 1.0-2.0 --serial "SN-$1" \
		>"$T/lic/$1.lic" 2>"$T/sign.err" ||
		die "xlicen-license sign $1: $(cat "$T/sign.err")"
}
# xdemo: one seat for the holder, one for the health checks, one spare.
sign xdemo 3
# Every punctuation a license name allows.
sign 'x.y_z+1-2' 2

# ---- server ------------------------------------------------------------
DB="$T/xlicen.db"
LOG="$T/server.log"
# As root, stay root: the gss-xlicen user (if installed) cannot write $T.
AS_ROOT=()
[ "$(id -u)" = 0 ] && AS_ROOT=(--user root)
"$XLICEN_BIN_SERVER" --foreground --listen 127.0.0.1:0 "${AS_ROOT[@]}" \
	--keytab "$XLICEN_SERVICE_KEYTAB" --database "$DB" --licenses "$T/lic" \
	--vendor-keys "$T/keys" ${CONFIG_ARGS[@]+"${CONFIG_ARGS[@]}"} \
	</dev/null >/dev/null 2>"$LOG" &
SERVER_PID=$!
for _ in $(seq 1 250); do
	grep -q ' ready ' "$LOG" && break
	alive "$SERVER_PID" || die "gss-xlicend exited during startup: $(tail -n 3 "$LOG")"
	sleep 0.02
done
grep -q ' ready ' "$LOG" || die "gss-xlicend not ready after 5 s"
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$LOG" | head -n 1)
[ -n "$PORT" ] || die "no \"listening on\" line in $LOG"
export HOSTILE_SERVER_PID=$SERVER_PID
say "server pid $SERVER_PID on 127.0.0.1:$PORT${CONFIG_ARGS[*]:+ (${CONFIG_ARGS[*]})}"

cli() {	# CLI args...: as alice, bounded
	timeout -k 2 15 "$XLICEN_BIN_CLI" -s "127.0.0.1:$PORT" "$@"
}

# ---- the seat a well-behaved client holds throughout ---------------------
(
	export KRB5CCNAME="$HOLDER_CCACHE"
	exec "$XLICEN_BIN_CLI" -s "127.0.0.1:$PORT" checkout xdemo 1.0 -- sleep 120
) </dev/null >"$T/holder.out" 2>"$T/holder.err" &
HOLDER_PID=$!
for _ in $(seq 1 250); do
	grep -q 'granted' "$T/holder.err" && break
	alive "$HOLDER_PID" || die "the seat holder's checkout ended: $(cat "$T/holder.err")"
	sleep 0.02
done
grep -q 'granted' "$T/holder.err" || die "the seat holder got no grant in 5 s"

# JSON field of one product in `status --json` (one object per line).
json_field() {	# JSON PRODUCT FIELD
	printf '%s\n' "$1" | grep -F "{\"product\": \"$2\"," | head -n 1 |
		sed -n "s/.*\"$3\": \(\"[^\"]*\"\|[0-9][0-9]*\|null\).*/\1/p" | tr -d '"'
}

PY=
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; fi

# ---- after every item ------------------------------------------------------
health() {	# ITEM
	if ! alive "$SERVER_PID"; then
		wait "$SERVER_PID"
		local st=$?
		SERVER_PID=
		record_failure "gss-xlicend died after $1 (wait status $st)"
		say "aborting: no server"
		exit 1
	fi
	if ! cli checkout xdemo 1.0 -- true >"$T/health.out" 2>"$T/health.err"; then
		record_failure "after $1: a good client's checkout failed: $(tr '\n' ' ' <"$T/health.err")"
	fi
}

# ---- driver checks -------------------------------------------------------
check_truncated_close() {
	# The server logs it when it sees our close.
	for _ in $(seq 1 50); do
		grep -q 'closed inside a frame' "$LOG" && return 0
		sleep 0.02
	done
	record_failure "truncated-close: no \"closed inside a frame\" line in the server log"
}

check_sql_product() {
	local name q got
	local -a names=("x'; DROP TABLE leases;--" '"%s%n' "xdemo' OR '1'='1"
		'%n%n%n%n%s%s%s%s%p' '%' 'xdem_')
	for name in "${names[@]}"; do
		grep -F -- " $name " "$LOG" | grep -q 'deny' ||
			record_failure "sql-product: no deny line in the log shows \"$name\" verbatim"
	done
	# The audit trail keeps the names verbatim, and the tables are there.
	if command -v sqlite3 >/dev/null 2>&1; then
		q="SELECT product FROM events WHERE kind = 'deny' AND code = 60 ORDER BY id;"
		got=$(sqlite3 "$DB" "$q" 2>&1) ||
			record_failure "sql-product: sqlite3 on the database: $got"
		for name in "${names[@]}"; do
			printf '%s\n' "$got" | grep -qxF -- "$name" ||
				record_failure "sql-product: the audit trail lacks \"$name\" verbatim (has: $(printf '%s' "$got" | tr '\n' '|'))"
		done
		got=$(sqlite3 "$DB" "SELECT count(*) FROM sqlite_master WHERE name IN ('leases', 'events', 'pools');" 2>&1)
		[ "$got" = 3 ] || record_failure "sql-product: tables missing from the database ($got)"
	else
		skip_check "sql-product: no sqlite3 (package sqlite3); audit trail not inspected"
	fi
}

check_names() {
	local out
	if ! cli checkout 'x.y_z+1-2' 1.0 -- true >"$T/names.out" 2>"$T/names.err"; then
		record_failure "@names: checkout of x.y_z+1-2 failed: $(tr '\n' ' ' <"$T/names.err")"
		return
	fi
	# Names outside [A-Za-z0-9._+-] cannot even be signed.
	if "$XLICEN_BIN_LICENSE" sign --key "$T/private/acme.key" --product "a'b\"c;--" \
		--seats 1 --versions 1.0-2.0 --serial SN-bad >"$T/bad.lic" 2>"$T/bad.err"; then
		record_failure "@names: xlicen-license signed a license for product a'b\"c;--"
	fi
	grep -qF 'granted x.y_z+1-2 lease ' "$T/names.err" ||
		record_failure "@names: no grant line naming x.y_z+1-2 verbatim: $(cat "$T/names.err")"
	out=$(cli status --json 2>"$T/names.err") ||
		{ record_failure "@names: status --json failed: $(cat "$T/names.err")"; return; }
	if [ -n "$PY" ]; then
		printf '%s' "$out" | "$PY" -c '
import json, sys
pools = {p["product"]: p for p in json.load(sys.stdin)}
assert "x.y_z+1-2" in pools, sorted(pools)
assert pools["x.y_z+1-2"]["serial"] == "SN-x.y_z+1-2", pools["x.y_z+1-2"]
assert pools["x.y_z+1-2"]["in_use"] == 0, pools["x.y_z+1-2"]
' 2>"$T/names.py" || record_failure "@names: status --json: $(tail -n 1 "$T/names.py"): $out"
	else
		skip_check "@names: no /usr/bin/python3 (package python3); status --json not parsed"
	fi
	printf '%s\n' "$out" | grep -qF '{"product": "x.y_z+1-2", ' ||
		record_failure "@names: status --json does not show \"x.y_z+1-2\" verbatim: $out"
	say "@names: ok: x.y_z+1-2 checked out and shown verbatim by status --json; a'b\"c;-- refused by xlicen-license sign: $(head -n 1 "$T/bad.err")"
}

check_gss_client() {
	local rc=0 before
	if [ ! -x /usr/bin/gss-client ]; then
		skip_check "@gss-client: no /usr/bin/gss-client (package krb5-gss-samples)"
		return
	fi
	before=$(wc -l <"$LOG")
	timeout -k 2 15 /usr/bin/gss-client -port "$PORT" 127.0.0.1 \
		gss-xlicen@localhost hello >"$T/gss-client.out" 2>&1 </dev/null || rc=$?
	if [ "$rc" = 0 ]; then
		record_failure "@gss-client: MIT gss-client exited 0 against gss-xlicend"
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		record_failure "@gss-client: MIT gss-client hung (killed after 15 s)"
	else
		say "@gss-client: ok: exit $rc: $(head -n 2 "$T/gss-client.out" | tr '\n' ' ')"
	fi
	# Its first byte, TOKEN_NOOP|TOKEN_CONTEXT_NEXT (17), is no frame type.
	tail -n "+$((before + 1))" "$LOG" | grep -q 'closing: FRAME_TYPE' ||
		record_failure "@gss-client: no FRAME_TYPE refusal in the server log"
}

# wait_until SECONDS WHAT CMD...: run CMD every 20 ms until it succeeds;
# die after SECONDS with "timed out after SECONDS s waiting for WHAT".
wait_until() {
	local secs=$1 what=$2 end
	shift 2
	end=$(( $(date +%s%N) / 1000000 + $(awk -v s="$secs" 'BEGIN { printf "%d", s * 1000 }') ))
	while ! "$@"; do
		[ "$(( $(date +%s%N) / 1000000 ))" -lt "$end" ] ||
			die "timed out after $secs s waiting for $what"
		sleep 0.02
	done
}

# quiet: the server holds no client connection but the seat holder's (it
# has closed every connection a check opened, and freed what they held).
quiet() {
	[ "$(ss -Htn state established state close-wait "( sport = :$PORT )" 2>/dev/null | wc -l)" -le 1 ]
}

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$SERVER_PID/status"; }
nfds() { find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

check_memory() {
	local r0 r1 r2 f0 f1 out
	# Warm up (GSS, rcache, SQLite and malloc reach their steady state).
	out=$(timeout -k 2 60 "$HOSTILE_BIN" churn 127.0.0.1 "$PORT" 100 2>&1) ||
		{ record_failure "@memory: warm-up: $out"; return; }
	wait_until 10 "the server to close the warm-up's connections" quiet
	r0=$(rss_kb) f0=$(nfds)
	out=$(timeout -k 2 60 "$HOSTILE_BIN" churn 127.0.0.1 "$PORT" 200 2>&1) ||
		{ record_failure "@memory: $out"; return; }
	wait_until 10 "the server to close the churn's connections" quiet
	r1=$(rss_kb) f1=$(nfds)
	out=$(timeout -k 2 60 "$HOSTILE_BIN" churn 127.0.0.1 "$PORT" 200 2>&1) ||
		{ record_failure "@memory: $out"; return; }
	wait_until 10 "the server to close the churn's connections" quiet
	r2=$(rss_kb)
	say "@memory: VmRSS ${r0} kB -> ${r1} kB after 200 bad connections -> ${r2} kB after 200 more; open files $f0 -> $f1"
	[ $((r1 - r0)) -lt 2048 ] ||
		record_failure "@memory: VmRSS grew $((r1 - r0)) kB over 200 bad connections (limit 2048)"
	[ $((r2 - r0)) -lt 2048 ] ||
		record_failure "@memory: VmRSS grew $((r2 - r0)) kB over 400 bad connections (limit 2048)"
	[ "$f1" -le $((f0 + 1)) ] ||
		record_failure "@memory: open files grew from $f0 to $f1 over 200 bad connections"
}

# ---- the items -----------------------------------------------------------
for item in "$@"; do
	t0=$(date +%s%N)
	case $item in
	@names) check_names ;;
	@gss-client) check_gss_client ;;
	@memory) check_memory ;;
	@*) die "unknown check $item" ;;
	*)
		rc=0
		timeout -k 2 40 "$HOSTILE_BIN" "$item" 127.0.0.1 "$PORT" \
			>"$T/case.out" 2>"$T/case.err" </dev/null || rc=$?
		cat "$T/case.out"
		if [ "$rc" != 0 ]; then
			[ "$rc" = 124 ] || [ "$rc" = 137 ] &&
				echo "$item: timed out" >>"$T/case.err"
			record_failure "$(tr '\n' ' ' <"$T/case.err")"
		fi
		case $item in
		truncated-close) check_truncated_close ;;
		sql-product) check_sql_product ;;
		esac
		;;
	esac
	health "$item"
	say "$item: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done

# ---- the held seat survived everything ------------------------------------
alive "$HOLDER_PID" || record_failure "the seat holder's client is gone: $(cat "$T/holder.err")"
out=$(cli status --json 2>&1) || record_failure "status --json failed: $out"
in_use=$(json_field "$out" xdemo in_use)
[ "$in_use" = 1 ] ||
	record_failure "xdemo in_use is \"$in_use\" at the end, expected 1 (the holder's seat): $out"
kill -TERM "$HOLDER_PID" 2>/dev/null
wait "$HOLDER_PID" 2>/dev/null
HOLDER_PID=

# ---- and the server stops cleanly ------------------------------------------
# (SIGTERM, exit status 0 within 10 s, no sanitizer report in its log.)
kill -TERM "$SERVER_PID"
for _ in $(seq 1 500); do
	alive "$SERVER_PID" || break
	sleep 0.02
done
if alive "$SERVER_PID"; then
	record_failure "gss-xlicend ignored SIGTERM for 10 s"
else
	wait "$SERVER_PID"
	st=$?
	[ "$st" = 0 ] || record_failure "gss-xlicend exited with status $st on SIGTERM"
fi
SERVER_PID=
if grep -qE -- "$SANITIZER_REPORT" "$LOG"; then
	record_failure "sanitizer report in the server log: $(grep -E -m 5 -- "$SANITIZER_REPORT" "$LOG" | tr '\n' ' ')"
fi

elapsed=$(awk -v a="$SUITE_START" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
if [ "$FAILED" != 0 ]; then
	say "${#FAILURES[@]} failure(s) in ${elapsed} s:"
	for f in "${FAILURES[@]}"; do
		say "  $f"
	done
	exit 1
fi
if [ "${#SKIPS[@]}" != 0 ]; then
	for s in "${SKIPS[@]}"; do
		say "SKIP: $s"
	done
	exit 77
fi
say "PASS ($# items in ${elapsed} s)"
exit 0
