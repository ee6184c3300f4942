#!/usr/bin/env bash
# Server paths the other tests leave out (issue 19, coverage of
# server/loop.c, conn.c, handlers.c, hostcheck.c), each with its outcome:
# * a second listener on [::1] ("listening on [::1]:N"); over IPv6 with
#   [server] verify_host, the machine's own name is accepted from the
#   loopback address and "localhost" is judged by what it resolves to;
# * a WAIT checkout cancelled from another connection of the same
#   principal: the waiting connection gets DENY CLOSED "cancelled";
# * a frame sent after the server's ALERT is not answered (the
#   connection is CLOSING): one ALERT, then the end of the stream;
# * [limits] max_connections (2, by SIGHUP): a new connection evicts the
#   oldest handshake ("handshake evicted: too many connections"), and is
#   refused when every connection is authenticated ("too many
#   connections"), both ALERT BUSY (70);
# * a SIGHUP while the license directory cannot be read: logged, the
#   pools stay and serve;
# * a second server that cannot listen (the port is taken, or the
#   address does not resolve) exits 1 with the reason in its log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
. "$(dirname "$0")/serve.sh"

R=$XLICEN_REALM
license xv 2
license xw 1
policy "[admin]
	principals = admin@$R"
printf '[server]\n\tverify_host = true\n' >"$T/gss-xlicend.conf"
server_start --config "$T/gss-xlicend.conf" --policy "$T/policy.conf" \
	--listen "[::1]:0" --heartbeat 1 --orphan-grace 0
V6PORT=$(sed -n 's/.*listening on \[::1\]:\([0-9][0-9]*\)$/\1/p' "$SERVER_LOG" | head -n 1)
[ -n "$V6PORT" ] || fail "no \"listening on [::1]:N\" line"

# ---- IPv6 and verify_host ----
# v6 HOST STEP...: wire_probe over ::1, claiming HOST.
v6() {
	local host=$1
	shift
	run as alice env XLICEN_SERVICE="gss-xlicen@localhost" XLICEN_PROBE_HOST="$host" \
		"$XLICEN_BIN_WIRE" -s "::1:$V6PORT" "$@"
}
ME=$(hostname)
v6 "$ME" checkout xv 1.0 1 0
expect_rc 0 "checkout over ::1 as $ME"
expect_contains "$RUN_OUT" "GRANT id=100 lease=" "this machine's own name from ::1"
grep -q "127.0.0.1\|::1" <<<"$(getent ahosts localhost | awk '{ print $1 }')" ||
	fail "localhost resolves to no loopback address"
v6 localhost checkout xv 1.0 1 0
expect_rc 0 "checkout over ::1 as localhost"
if grep -qx '::1' <<<"$(getent ahosts localhost | awk '{ print $1 }')"; then
	expect_contains "$RUN_OUT" "GRANT id=100 lease=" "localhost (::1 among its addresses) from ::1"
else
	expect_eq "$RUN_OUT" "DENY id=100 code=HOST_UNVERIFIED reason=\"HOST localhost: no address of localhost is ::1, the connection's\"" \
		"localhost (IPv4 only here) from ::1"
fi
grep -q "connection from \[::1\]:" "$SERVER_LOG" ||
	grep -q "\[::1\]:[0-9]*: authenticated alice@$R" "$SERVER_LOG" ||
	fail "no IPv6 peer in the log"

# ---- a WAIT cancelled from another connection ----
run probe checkout xw
expect_rc 0 "alice takes xw's seat"
# (verify_host is on: the probe claims this machine's name.)
XLICEN_PROBE_HOST=$ME bgwire w bob checkout xw 1.0 1 2 12 wait 14
for i in $(seq 1 100); do
	[ "$(queued xw)" = 1 ] && break
	sleep 0.02
done
expect_eq "$(queued xw)" 1 "bob waits for xw"
run as admin xl holders --json xw
Q=$(printf '%s\n' "$RUN_OUT" | sed -n 's/.*"state": "queued", "principal": "bob@[^"]*".*"queue_id": "\(q[0-9a-f]*\)".*/\1/p')
[ -n "$Q" ] || fail "no queue id of bob's in: $RUN_OUT"
run as bob xl release "$Q"
expect_rc 0 "bob cancels his place from another connection"
await w "^DENY id=100 code=CLOSED queue_id=$Q reason=\"cancelled\"$" 5
expect_eq "$(queued xw)" 0 "nobody waits for xw"

# ---- a frame after the server's ALERT ----
"$IT_PYTHON" - "$SERVER_PORT" >"$T/late.out" 2>"$T/late.err" <<'PY' || fail "raw client: $(cat "$T/late.err")"
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
hello = lambda lo, hi: bytes([1]) + struct.pack(">IHH", 4, lo, hi)
s.sendall(hello(2, 2))
buf = b""
while len(buf) < 5 or len(buf) < 5 + struct.unpack(">I", buf[1:5])[0]:
    buf += s.recv(4096)
n = struct.unpack(">I", buf[1:5])[0]
code = struct.unpack(">H", buf[5:7])[0]
print("ALERT type=%d code=%d" % (buf[0], code))
buf = buf[5 + n:]
s.sendall(hello(1, 1))
while True:
    try:
        d = s.recv(4096)
    except ConnectionResetError:
        d = b""
    if not d:
        break
    buf += d
print("after: %d bytes" % len(buf))
PY
expect_eq "$(cat "$T/late.out")" "ALERT type=4 code=32
after: 0 bytes" "a HELLO after ALERT VERSION"

# ---- the total connection cap, by SIGHUP ----
printf '[server]\n\tverify_host = true\n[limits]\n\tmax_connections = 2\n' >"$T/gss-xlicend.conf"
hup
# The default before it is what the open-files limit leaves (at most 20000).
grep -Eq "SIGHUP: \[limits\] max_connections [0-9]+ -> 2" "$SERVER_LOG" || fail "no max_connections line"
bgwire c1 carol listen 20
for i in $(seq 1 250); do
	grep -q "authenticated carol@$R" "$SERVER_LOG" && break
	sleep 0.02
done
raw h1
await h1 "^HELLO$"
# The third connection takes the place of the handshake h1.
raw h2
await h2 "^HELLO$"
wait_gone "$PID_h1" 10
expect_eq "$(cat "$T/h1.out")" "HELLO
ALERT code=70 reason=handshake evicted: too many connections
EOF" "the evicted handshake"
kill "$PID_h2" 2>/dev/null || true
wait "$PID_h2" 2>/dev/null || true
bgwire c2 dave listen 20
for i in $(seq 1 250); do
	grep -q "authenticated dave@$R" "$SERVER_LOG" && break
	sleep 0.02
done
grep -q "authenticated dave@$R" "$SERVER_LOG" || fail "dave never authenticated"
raw h3
wait_gone "$PID_h3" 10
expect_eq "$(cat "$T/h3.out")" "ALERT code=70 reason=too many connections
EOF" "a connection while both are authenticated"
kill "$PID_c1" "$PID_c2" 2>/dev/null || true
wait "$PID_c1" "$PID_c2" 2>/dev/null || true
printf '[server]\n\tverify_host = true\n' >"$T/gss-xlicend.conf"
hup

# ---- SIGHUP while the license directory cannot be read ----
mv "$T/lic" "$T/lic.away"
kill -HUP "$SERVER_PID"
for i in $(seq 1 250); do
	grep -q "cannot read license directory $T/lic: " "$SERVER_LOG" && break
	sleep 0.02
done
grep -q "cannot read license directory $T/lic: " "$SERVER_LOG" || fail "no line for the unreadable directory"
mv "$T/lic.away" "$T/lic"
run xl status --json xv
expect_eq "$(json_field "$RUN_OUT" xv total)" 2 "xv's pool after the failed reread"
run as carol probe checkout xv
expect_rc 0 "a checkout after the failed reread"

# ---- a second server that cannot listen ----
# bad_listen ADDR WHAT: gss-xlicend on ADDR exits 1, logging WHAT.
bad_listen() {
	local rc=0 as_root=()
	[ "$(id -u)" = 0 ] && as_root=(--user root)
	timeout -k 2 10 "$XLICEN_BIN_SERVER" --foreground --listen "$1" "${as_root[@]}" \
		--keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/other.db" --licenses "$T/lic" \
		--vendor-keys "$T/keys" </dev/null >/dev/null 2>"$T/other.log" || rc=$?
	expect_eq "$rc" 1 "exit status of a server on $1"
	expect_contains "$(cat "$T/other.log")" "$2" "the log of a server on $1"
}
bad_listen "127.0.0.1:$SERVER_PORT" "cannot listen on 127.0.0.1:$SERVER_PORT: Address already in use"
bad_listen "nosuch.invalid:1" "listen address \"nosuch.invalid:1\": "

server_stop
pass
