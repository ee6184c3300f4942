#!/usr/bin/env bash
# Without --foreground: the command returns 0 only once the server is ready
# and the server runs on, detached (its own session, not our child), with
# its pid in the pid file; a checkout works; SIGTERM stops it and the pid
# file goes.  A start that fails returns 1 with the reason on stderr.
. "$(dirname "$0")/lib.sh"

use_realm
make_licenses "$T" xdemo:1
cat >"$T/gss-xlicend.conf" <<EOF
[server]
	listen = 127.0.0.1:0
	keytab = $XLICEN_SERVICE_KEYTAB
	database = $T/xlicen.db
	licenses = $T/lic
	vendor_keys = $T/keys
	pid_file = $T/gss-xlicend.pid
	log = stderr
EOF

# log = stderr: a daemon keeps its stderr (here a file) instead of syslog.
SERVER_LOG=$T/server.log
rc=0
# shellcheck disable=SC2046
timeout -k 2 20 "$XLICEN_BIN_SERVER" --config "$T/gss-xlicend.conf" \
	$(server_user_args) </dev/null >/dev/null 2>"$SERVER_LOG" || rc=$?
expect_eq "$rc" 0 "exit status of the starting command"
# Returned only after the server was ready.
expect_contains "$(cat "$SERVER_LOG")" " ready " "log when the command returned"
[ -s "$T/gss-xlicend.pid" ] || fail "no pid file"
DPID=$(cat "$T/gss-xlicend.pid")
expect_eq "$(tr -d '0-9' <"$T/gss-xlicend.pid")" "" "pid file content"
kill -0 "$DPID" 2>/dev/null || fail "no process $DPID"
expect_eq "$(readlink "/proc/$DPID/exe")" "$(readlink -f "$XLICEN_BIN_SERVER")" "the pid file's process"
# Detached: a session of its own, not a child of this shell, no terminal.
expect_eq "$(ps -o sid= -p "$DPID" | tr -d ' ')" "$DPID" "session id of the daemon"
[ "$(ps -o ppid= -p "$DPID" | tr -d ' ')" != "$$" ] || fail "the daemon is our child"
expect_eq "$(readlink "/proc/$DPID/fd/0")" "/dev/null" "the daemon's stdin"
expect_eq "$(readlink "/proc/$DPID/cwd")" "/" "the daemon's working directory"

PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
xl as bob checkout xdemo -- true
expect_eq "$RUN_RC" 0 "a checkout from the daemon (stderr: $RUN_ERR)"

kill -TERM "$DPID"
for i in $(seq 1 500); do
	grep -q '^State:[[:space:]]*[^Z]' "/proc/$DPID/status" 2>/dev/null || break
	sleep 0.01
done
grep -q '^State:[[:space:]]*[^Z]' "/proc/$DPID/status" 2>/dev/null &&
	fail "the daemon still runs 5 s after SIGTERM"
expect_contains "$(cat "$SERVER_LOG")" "stopped" "last line"
[ ! -e "$T/gss-xlicend.pid" ] || fail "the pid file is still there"

# A start that fails: exit 1, the reason on stderr, no pid file.
rc=0
# shellcheck disable=SC2046
ERR=$(timeout -k 2 20 "$XLICEN_BIN_SERVER" --config "$T/gss-xlicend.conf" \
	--keytab "$T/missing.keytab" $(server_user_args) 2>&1 >/dev/null) || rc=$?
expect_eq "$rc" 1 "exit status of a failing start"
expect_contains "$ERR" "keytab $T/missing.keytab: No such file or directory" "reason"
[ ! -e "$T/gss-xlicend.pid" ] || fail "a failed start left a pid file"

pass
