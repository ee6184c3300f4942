#!/usr/bin/env bash
# The CLI's surface: help, version, usage errors (exit 1), unreachable
# servers (exit 3, with the address), fail-over along a server list, the
# status table and JSON for pools that are expired or not yet valid, and
# denial texts of checkout.
. "$(dirname "$0")/lib.sh"

run "$XLICEN_BIN_CLI" --help
expect_rc 0 "--help"
expect_contains "$RUN_OUT" "usage: xlicen [-s HOST[:PORT][,...]] [--service NAME] [-t SECONDS] COMMAND" "--help"
expect_contains "$RUN_OUT" "exit status: 0 ok, 1 usage error, 2 denied or refused by the server," "--help"
run "$XLICEN_BIN_CLI" --version
expect_rc 0 "--version"
grep -Eq '^xlicen [0-9]+\.[0-9]+\.[0-9]+ \(libxlicen [0-9]+\.[0-9]+\.[0-9]+\)$' <<<"$RUN_OUT" ||
	fail "--version: \"$RUN_OUT\""

# Usage errors: exit 1, nothing contacted.
for args in "" "frobnicate" "--bogus status" "checkout xdemo" "checkout -- true" \
	"checkout -n 0 xdemo -- true" "checkout -n x xdemo -- true" "release" \
	"release a b" "status a b" "-t 0 status" "-s a:99999 status" "-s ,x status" \
	"-s [::1 status"; do
	# shellcheck disable=SC2086
	run "$XLICEN_BIN_CLI" $args
	expect_rc 1 "xlicen $args"
	expect_contains "$RUN_ERR" "xlicen: " "xlicen $args"
done
run "$XLICEN_BIN_CLI" -s a:99999 status
expect_eq "$RUN_ERR" "xlicen: bad server list \"a:99999\": expected HOST[:PORT] or [IPV6]:PORT, comma-separated" "bad port"

license xdemo 3 --versions 2.0-2.9
license xold 1 --expires 2020-12-31
license xnew 4 --start 2099-01-01 --expires 2099-12-31
server_start
LIVE=$SERVER_PORT

# A port nothing listens on: the one of a server that is gone.
server_stop
DEAD=$LIVE
run "$XLICEN_BIN_CLI" -s "localhost:$DEAD" status
expect_rc 3 "status with no server"
expect_eq "$RUN_ERR" "xlicen: status: could not connect to a license server: localhost:$DEAD (127.0.0.1): Connection refused" "connection refused"
run "$XLICEN_BIN_CLI" -s "localhost:$DEAD,[::1]:$DEAD,127.0.0.1:$DEAD" checkout xdemo -- touch "$T/ran"
expect_rc 3 "checkout with no server"
expect_contains "$RUN_ERR" "xlicen: xdemo: could not connect to a license server: localhost:$DEAD (127.0.0.1): Connection refused; [::1]:$DEAD: " "every address named"
expect_contains "$RUN_ERR" "; 127.0.0.1:$DEAD: Connection refused" "every address named"
[ ! -e "$T/ran" ] || fail "the command ran without a seat"
XLICEN_SERVER="localhost:$DEAD" run "$XLICEN_BIN_CLI" status
expect_rc 3 "\$XLICEN_SERVER is used"
expect_contains "$RUN_ERR" "localhost:$DEAD (127.0.0.1): Connection refused" "\$XLICEN_SERVER is used"
# The global options also after the command (checkout: before its --).
run "$XLICEN_BIN_CLI" status -s "localhost:$DEAD"
expect_rc 3 "-s after the command"
expect_eq "$RUN_ERR" "xlicen: status: could not connect to a license server: localhost:$DEAD (127.0.0.1): Connection refused" "-s after the command"
run "$XLICEN_BIN_CLI" checkout --server="localhost:$DEAD" xdemo -- touch "$T/ran"
expect_rc 3 "--server= after checkout"
expect_contains "$RUN_ERR" "xlicen: xdemo: could not connect to a license server: localhost:$DEAD (127.0.0.1)" "--server= after checkout"
[ ! -e "$T/ran" ] || fail "the command ran without a seat"
run "$XLICEN_BIN_CLI" status -t 0
expect_rc 1 "-t 0 after the command"
expect_eq "$RUN_ERR" "xlicen: bad timeout \"0\" (seconds, at most 3600)
Try 'xlicen --help'." "-t 0 after the command"
run "$XLICEN_BIN_CLI" leases --help
expect_rc 0 "--help after the command"
expect_contains "$RUN_OUT" "usage: xlicen [-s HOST[:PORT][,...]]" "--help after the command"

SERVER_PORT=0	# a new port: $DEAD stays dead
server_start
# Fail-over: the dead server first, then the live one.
run "$XLICEN_BIN_CLI" -s "localhost:$DEAD, localhost:$SERVER_PORT" status xdemo
expect_rc 0 "fail-over to the second server"
XLICEN_SERVER="127.0.0.1:$DEAD,localhost:$SERVER_PORT" run "$XLICEN_BIN_CLI" status xdemo
expect_rc 0 "fail-over through \$XLICEN_SERVER"

# -s and --service after the command: the server and the service asked for.
run "$XLICEN_BIN_CLI" status xdemo --service "gss-xlicen@localhost" -s "localhost:$SERVER_PORT"
expect_rc 0 "-s and --service after the command"
expect_contains "$RUN_OUT" "xdemo    2.0-2.9   0/3" "-s and --service after the command"
run "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" status --service "nosuch@localhost"
expect_rc 3 "--service after the command"
expect_contains "$RUN_ERR" "nosuch" "--service after the command"

run xl status
expect_rc 0 "status"
expect_eq "$RUN_OUT" "PRODUCT  VERSIONS  IN USE/TOTAL  EXPIRES     STATE
xdemo    2.0-2.9   0/3           permanent   active
xnew     0-999999  0/4           2099-12-31  not yet valid
xold     0-999999  0/1           2020-12-31  expired" "status table"

run xl status --json
expect_rc 0 "status --json"
json_valid "$RUN_OUT"
expect_eq "$RUN_OUT" '[
  {"product": "xdemo", "versions": "2.0-2.9", "vendor": "acme", "serial": "SN-xdemo", "total": 3, "in_use": 0, "start": null, "expires": "permanent", "state": "active", "queued": 0, "kind": "floating", "hostid": null, "dup_group": "uhd", "linger": 0, "ttl": 120, "heartbeat": 30},
  {"product": "xnew", "versions": "0-999999", "vendor": "acme", "serial": "SN-xnew", "total": 4, "in_use": 0, "start": "2099-01-01", "expires": "2099-12-31", "state": "not yet valid", "queued": 0, "kind": "floating", "hostid": null, "dup_group": "uhd", "linger": 0, "ttl": 120, "heartbeat": 30},
  {"product": "xold", "versions": "0-999999", "vendor": "acme", "serial": "SN-xold", "total": 1, "in_use": 0, "start": null, "expires": "2020-12-31", "state": "expired", "queued": 0, "kind": "floating", "hostid": null, "dup_group": "uhd", "linger": 0, "ttl": 120, "heartbeat": 30}
]' "status --json"

# One product; an unknown one gives an empty list, not an error.
run xl status xold
expect_rc 0 "status xold"
expect_lines "$RUN_OUT" 2 "status xold"
run xl status nosuch --json
expect_rc 0 "status nosuch --json"
expect_eq "$RUN_OUT" "[]" "status of an unknown product"
run xl status nosuch
expect_eq "$RUN_OUT" "PRODUCT  VERSIONS  IN USE/TOTAL  EXPIRES     STATE" "empty table"

# Denials that are not about seats: exit 2, the server's reason.
AT="localhost:$SERVER_PORT (127.0.0.1)"
run xl checkout xold -- touch "$T/ran"
expect_rc 2 "checkout of an expired license"
expect_eq "$RUN_ERR" "xlicen: xold: $AT: xold: license has expired
xlicen: xold: its last valid day was 2020-12-31: the server needs a renewed license file from the vendor" "expired"
run xl checkout xnew -- touch "$T/ran"
expect_rc 2 "checkout of a license not yet valid"
expect_contains "$RUN_ERR" "license is not yet valid" "not yet valid"
run xl checkout xdemo 3.0 -- touch "$T/ran"
expect_rc 2 "checkout of an uncovered version"
expect_eq "$RUN_ERR" "xlicen: xdemo: no license covers this version: $AT: no license of xdemo covers version 3.0" "uncovered version"
run xl checkout nosuch 1.0 -- touch "$T/ran"
expect_rc 2 "checkout of an unknown product"
expect_contains "$RUN_ERR" "no license for this product" "unknown product"
run xl checkout -n 4 xdemo 2.1 -- touch "$T/ran"
expect_rc 2 "checkout of more seats than there are"
expect_eq "$RUN_ERR" "xlicen: xdemo: localhost:$SERVER_PORT (127.0.0.1): all seats are in use (0/3 seats in use): try again later, or wait in the server's queue with --wait" "4 of 3 seats"
[ ! -e "$T/ran" ] || fail "a denied command ran"

# -n takes several seats; the default version 1.0 is outside 2.0-2.9.
run xl checkout -n 3 xdemo 2.1 -- sh -c 'exit 0'
expect_rc 0 "checkout -n 3"
expect_contains "$RUN_ERR" " (3/3 seats in use, expires " "3 seats at once"
run xl checkout xdemo -- true
expect_rc 2 "default version"
expect_contains "$RUN_ERR" "no license of xdemo covers version 1.0" "default version is 1.0"

# Misbehaving servers (a fake one in python3, where it exists): one that
# never says HELLO (handshake timeout), one that talks HTTP, and one whose
# clock is an hour behind and whose context token is garbage.
FAKE_PID=
fake_server() {	# MODE: silent | garbage | skew; sets FAKE_PORT
	fake_stop
	: >"$T/fake.port"
	"$IT_PYTHON" - "$1" >"$T/fake.port" 2>"$T/fake.err" <<'PY' &
import socket, struct, sys, time
mode = sys.argv[1]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
print(ls.getsockname()[1], flush=True)
ls.settimeout(15)
keep = []
def read_frame(c):
    hdr = b""
    while len(hdr) < 5:
        hdr += c.recv(5 - len(hdr))
    n = struct.unpack(">I", hdr[1:])[0]
    body = b""
    while len(body) < n:
        body += c.recv(n - len(body))
    return hdr[0], body
while True:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        break
    keep.append(c)
    if mode == "garbage":
        c.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
    elif mode == "skew":
        read_frame(c)                       # the client's HELLO
        body = struct.pack(">HQ", 1, int(time.time()) - 3600)
        c.sendall(struct.pack(">BI", 1, len(body)) + body)
        read_frame(c)                       # its AP-REQ
        tok = b"\x60\x05garbage"
        c.sendall(struct.pack(">BI", 2, len(tok)) + tok)
PY
	FAKE_PID=$!
	for i in $(seq 1 250); do
		[ -s "$T/fake.port" ] && break
		sleep 0.02
	done
	FAKE_PORT=$(cat "$T/fake.port")
	[ -n "$FAKE_PORT" ] || fail "fake server did not start: $(cat "$T/fake.err")"
}
fake_stop() {
	[ -n "$FAKE_PID" ] || return 0
	kill "$FAKE_PID" 2>/dev/null || true
	wait "$FAKE_PID" 2>/dev/null || true
	FAKE_PID=
}
if [ -n "$IT_PYTHON" ]; then
	fake_server silent
	run "$XLICEN_BIN_CLI" -t 1 -s "localhost:$FAKE_PORT" status
	expect_rc 3 "silent server"
	expect_eq "$RUN_ERR" "xlicen: status: operation timed out: localhost:$FAKE_PORT (127.0.0.1): no HELLO from the server within 1000 ms" "silent server"
	fake_server garbage
	run "$XLICEN_BIN_CLI" -s "localhost:$FAKE_PORT" status
	expect_rc 3 "HTTP server"
	expect_eq "$RUN_ERR" "xlicen: status: localhost:$FAKE_PORT (127.0.0.1): unknown frame type" "HTTP server"
	fake_server skew
	run "$XLICEN_BIN_CLI" -s "localhost:$FAKE_PORT" status
	expect_rc 3 "server with a skewed clock"
	expect_contains "$RUN_ERR" "xlicen: status: authentication failed: localhost:$FAKE_PORT (127.0.0.1): " "skewed clock"
	expect_contains "$RUN_ERR" "(the server's clock differs from ours by -3" "skewed clock"
	fake_stop
else
	NO_PYTHON=1
fi

# A command that cannot be run: 127, and the seat is given back.
run xl checkout xdemo 2.0 -- "$T/no-such-program"
expect_rc 127 "checkout of a missing program"
expect_contains "$RUN_ERR" "xlicen: $T/no-such-program: No such file or directory" "missing program"
expect_eq "$(in_use xdemo)" 0 "seats after the missing program"
if [ -n "${NO_PYTHON:-}" ]; then
	it_log "SKIP: the fake-server cases need python3 (package python3)"
	exit 77
fi
pass
