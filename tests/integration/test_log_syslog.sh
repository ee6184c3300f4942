#!/usr/bin/env bash
# Logging to syslog (issue 15).  Before this test's change, with [server]
# log = syslog and no syslog daemon (no /dev/log), every line after
# start-up was lost without a word: glibc's syslog() drops what it cannot
# send.  Now such lines go to stderr, after one line saying so.  The
# server runs in a mount namespace whose /dev has no log socket
# (logns.sh); with a syslog daemon (syslogd.py) behind /dev/log, the lines
# reach it in the form of RFC 3164 (PRI, time, tag with pid); when that
# daemon goes away they fall back to stderr, and reach it again once it is
# back.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || [ -z "$IT_PYTHON" ]; then
	echo "SKIP: needs root (a mount namespace), unshare and python3"
	exit 77
fi
R=$XLICEN_REALM
HERE=$(cd "$(dirname "$0")" && pwd)
printf '[server]\n\tlog = syslog\n' >"$T/conf"
license xr 4
NS=(unshare -m --propagation private bash "$HERE/logns.sh" "$T/olddev")

# text FILE: the server's stderr lines without their time stamp.
text() { sed -n 's/^[0-9T:Z-]* gss-xlicend: //p' "$1"; }
# has_line FILE TEXT: FILE's stderr lines have TEXT exactly.
has_line() { grep -Fxq -- "$2" <<<"$(text "$1")"; }

# 1. No /dev/log: the lines come to stderr.
SERVER_WRAP=("${NS[@]}")
server_start --config "$T/conf"
has_line "$SERVER_LOG" "syslog: cannot send to /dev/log (No such file or directory); logging to stderr" ||
	fail "no fallback notice: $(text "$SERVER_LOG")"
run probe checkout xr
expect_rc 0 "checkout of xr"
wait_until 5 "the grant on stderr" log_has "gss-xlicend: grant xr 1\.0 1 seat\(s\) to alice@$R lease "
expect_eq "$(grep -c 'logging to stderr' "$SERVER_LOG")" 1 "the notice, once"
server_stop TERM

# 2. A syslog daemon at /dev/log: the lines go there, none to stderr.
rm -f "$T/syslog.sock"
"$IT_PYTHON" "$HERE/syslogd.py" "$T/syslog.sock" "$T/syslog.out" &
SYSLOGD=$!
wait_until 5 "the test syslogd" test -S "$T/syslog.sock"
SERVER_WRAP=(env "NS_SYSLOG=$T/syslog.sock" "${NS[@]}")
SERVER_STARTS=$((SERVER_STARTS + 1))
SERVER_LOG="$T/server.$SERVER_STARTS.log"
"${SERVER_WRAP[@]}" "$XLICEN_BIN_SERVER" --foreground --listen 127.0.0.1:0 \
	--user root --keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/xlicen.db" \
	--licenses "$T/lic" --vendor-keys "$T/keys" --config "$T/conf" \
	</dev/null 2>"$SERVER_LOG" >/dev/null &
SERVER_PID=$!
wait_until 10 "ready in syslog" log_has "^<30>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} gss-xlicend\[$SERVER_PID\]: gss-xlicend [0-9.]+ ready \(lease ttl" "$T/syslog.out"
SERVER_PORT=$(sed -n 's/.*: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T/syslog.out" | head -n 1)
[ -n "$SERVER_PORT" ] || fail "no listening line in syslog: $(cat "$T/syslog.out")"
log_has "ready|listening" "$SERVER_LOG" && fail "lines on stderr too: $(cat "$SERVER_LOG")"
run probe checkout xr
expect_rc 0 "checkout of xr"
wait_until 5 "the grant in syslog" log_has "^<30>.* gss-xlicend\[$SERVER_PID\]: grant xr 1\.0 1 seat\(s\) to alice@$R lease " "$T/syslog.out"

# 3. The daemon goes away: stderr, with the notice; back: syslog again.
kill "$SYSLOGD"
wait "$SYSLOGD" 2>/dev/null || true
rm -f "$T/syslog.sock"
run as bob probe checkout xr
expect_rc 0 "bob's checkout of xr"
wait_until 5 "bob's grant on stderr" log_has "gss-xlicend: grant xr 1\.0 1 seat\(s\) to bob@$R lease "
has_line "$SERVER_LOG" "syslog: cannot send to /dev/log (Connection refused); logging to stderr" ||
	has_line "$SERVER_LOG" "syslog: cannot send to /dev/log (No such file or directory); logging to stderr" ||
	fail "no fallback notice: $(text "$SERVER_LOG")"
"$IT_PYTHON" "$HERE/syslogd.py" "$T/syslog.sock" "$T/syslog.out" &
SYSLOGD=$!
wait_until 5 "the test syslogd again" test -S "$T/syslog.sock"
sleep 1.1	# a lost syslog is tried again at most once a second
run as carol probe checkout xr
expect_rc 0 "carol's checkout of xr"
wait_until 5 "carol's grant in syslog" log_has "^<30>.* gss-xlicend\[$SERVER_PID\]: grant xr 1\.0 1 seat\(s\) to carol@$R lease " "$T/syslog.out"
log_has "gss-xlicend\[$SERVER_PID\]: syslog: /dev/log reachable again" "$T/syslog.out" ||
	fail "no line saying syslog is back: $(cat "$T/syslog.out")"
kill "$SYSLOGD"
wait "$SYSLOGD" 2>/dev/null || true
pass
