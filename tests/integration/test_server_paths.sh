#!/usr/bin/env bash
# Server paths the other tests leave out (issue 19, coverage of
# server/loop.c, conn.c, handlers.c, hostcheck.c), each with its outcome:
# * a second listener on [::1] ("listening on [::1]:N"); over IPv6 with
#   [server] verify_host, the machine's own name is accepted from the
#   loopback address and "localhost" is judged by what it resolves to;
# * a WAIT checkout cancelled from another connection of the same
#   principal: the waiting connection gets DENY CLOSED "cancelled";
# * a frame sent after the server's ALERT is not answered (the
#   connection is CLOSING): one ALERT, then the end of the stream.
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
if getent ahosts localhost | awk '{ print $1 }' | grep -qx '::1'; then
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
    d = s.recv(4096)
    if not d:
        break
    buf += d
print("after: %d bytes" % len(buf))
PY
expect_eq "$(cat "$T/late.out")" "ALERT type=4 code=32
after: 0 bytes" "a HELLO after ALERT VERSION"

server_stop
pass
