#!/usr/bin/env bash
# Socket activation: systemd-socket-activate binds a port and starts
# gss-xlicend at the first connection with the socket as fd 3 (LISTEN_PID,
# LISTEN_FDS).  The server must adopt that socket instead of binding its
# default 0.0.0.0:128, log that it did, serve a real checkout through it,
# and stop cleanly.
. "$(dirname "$0")/lib.sh"

ACTIVATE=$(command -v systemd-socket-activate || true)
[ -n "$ACTIVATE" ] || skip "no systemd-socket-activate (package systemd)"
use_realm
make_licenses "$T" xdemo:2

# A free port; systemd-socket-activate fails at once if it is taken, and
# then the next one is tried.
SERVER_LOG=$T/server.log
for attempt in 1 2 3 4 5; do
	PORT=$(random_port)
	[ -n "$PORT" ] || continue
	# shellcheck disable=SC2046
	"$ACTIVATE" -l "127.0.0.1:$PORT" "$XLICEN_BIN_SERVER" --foreground \
		--keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/xlicen.db" \
		--licenses "$T/lic" --vendor-keys "$T/keys" $(server_user_args) \
		</dev/null >/dev/null 2>"$SERVER_LOG" &
	SERVER_PID=$!
	for i in $(seq 1 250); do
		grep -q "Listening on 127.0.0.1:$PORT" "$SERVER_LOG" && break
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.02
	done
	grep -q "Listening on 127.0.0.1:$PORT" "$SERVER_LOG" && break
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
done
[ -n "$SERVER_PID" ] || fail "systemd-socket-activate did not listen: $(cat "$SERVER_LOG")"

# Nothing has started the server yet; the first client does.  It is
# systemd-socket-activate's pid that execs the server (LISTEN_PID).
expect_not_contains "$(cat "$SERVER_LOG")" "gss-xlicend" "server log before the first client"
xl as alice checkout xdemo -- true
expect_eq "$RUN_RC" 0 "checkout through the activated socket (stderr: $RUN_ERR)"
expect_contains "$RUN_ERR" "xlicen: granted xdemo lease " "grant line"
LOG=$(cat "$SERVER_LOG")
expect_contains "$LOG" "gss-xlicend: listening on 127.0.0.1:$PORT (socket activation, fd 3)" "adoption line"
expect_contains "$LOG" " ready " "ready line"
expect_not_contains "$LOG" "cannot listen" "server log"
expect_eq "$(grep -c 'listening on' "$SERVER_LOG")" 1 "listening lines"

# The server process holds exactly one listening socket: the adopted one.
LISTEN=$(ss -Hltnp 2>/dev/null | grep "pid=$SERVER_PID," || true)
expect_eq "$(printf '%s\n' "$LISTEN" | grep -c .)" 1 "listening sockets of the server ($LISTEN)"
expect_contains "$LISTEN" "127.0.0.1:$PORT" "the listening socket"
expect_contains "$LISTEN" "fd=3)" "the listening socket's fd"

# Several clients at once through the same socket.
for u in bob carol; do
	xl as "$u" status --json
	expect_eq "$RUN_RC" 0 "$u's status"
	expect_eq "$(json_field "$RUN_OUT" xdemo total)" 2 "$u sees the pool"
done

stop_server TERM 5
expect_eq "$STOP_RC" 0 "exit status after SIGTERM"
expect_contains "$(cat "$SERVER_LOG")" "stopped" "stop line"

# LISTEN_FDS for another process is not ours: the server binds itself.
SERVER_LOG=$T/server2.log
# shellcheck disable=SC2046
LISTEN_PID=1 LISTEN_FDS=1 start_server "$SERVER_LOG" --listen 127.0.0.1:0 \
	--keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/xlicen.db" \
	--licenses "$T/lic" --vendor-keys "$T/keys" $(server_user_args)
expect_not_contains "$(cat "$SERVER_LOG")" "socket activation" "LISTEN_PID of another process"
stop_server TERM 5
expect_eq "$STOP_RC" 0 "exit status after SIGTERM"

pass
