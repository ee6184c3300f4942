#!/usr/bin/env bash
# Messages that say what to do next (issue 16, item 6), word for word:
# a service principal the KDC does not know (the server given as an
# address, or a wrong --service), a client clock behind the server's (a
# fake server whose HELLO is 60 s ahead answers the AP-REQ with a
# KRB-ERROR "ticket not yet valid"; with a HELLO that agrees with us, the
# KDC's clock is named instead), an unknown product (the products
# the server has, from a STATUS query), an expired license (its last
# day), no free seats (the server named, --wait suggested), and the
# server-list default of --help (DNS SRV); and --check-config's count of
# expired licenses (item 8).
. "$(dirname "$0")/lib.sh"

run "$XLICEN_BIN_CLI" --help
expect_rc 0 "--help"
expect_contains "$RUN_OUT" "  -s, --server LIST    servers to try in order, HOST[:PORT] or [IPV6]:PORT,
                       comma-separated (default \$XLICEN_SERVER, else the
                       servers of the DNS SRV records _gss-xlicen._tcp of
                       this host's domain, else localhost; port 128)" "--help: server list default"

license xdemo 1
license xold 1 --expires 2020-12-31
server_start
P=$SERVER_PORT
GSSTXT="Unspecified GSS failure.  Minor code may provide more information"

# The server given as an address: the principal asked for is
# gss-xlicen/127.0.0.1, which the realm does not have.
run "$XLICEN_BIN_CLI" -s "127.0.0.1:$P" status
expect_rc 3 "server as an address"
expect_eq "$RUN_ERR" "xlicen: status: authentication failed: 127.0.0.1:$P: $GSSTXT; Server gss-xlicen/127.0.0.1@$XLICEN_REALM not found in Kerberos database (the server was given as an address, and the KDC knows no service gss-xlicen@127.0.0.1: name the server by its host name, or give its principal with --service or \$XLICEN_SERVICE, e.g. gss-xlicen@HOST)" "server as an address"
# The same server with its principal named: it answers.
run "$XLICEN_BIN_CLI" -s "127.0.0.1:$P" --service gss-xlicen@localhost status xdemo
expect_rc 0 "server as an address with --service"
# A wrong --service, and a wrong $XLICEN_SERVICE.
run "$XLICEN_BIN_CLI" -s "localhost:$P" --service nosuch@localhost status
expect_rc 3 "wrong --service"
expect_eq "$RUN_ERR" "xlicen: status: authentication failed: localhost:$P (127.0.0.1): $GSSTXT; Server nosuch/localhost@$XLICEN_REALM not found in Kerberos database (the KDC knows no service nosuch@localhost: check the name given with --service or \$XLICEN_SERVICE)" "wrong --service"
XLICEN_SERVICE=nosuch@localhost run "$XLICEN_BIN_CLI" -s "localhost:$P" status
expect_rc 3 "wrong \$XLICEN_SERVICE"
expect_eq "$RUN_ERR" "xlicen: status: authentication failed: localhost:$P (127.0.0.1): $GSSTXT; Server nosuch/localhost@$XLICEN_REALM not found in Kerberos database (the KDC knows no service nosuch@localhost: check the name given with --service or \$XLICEN_SERVICE)" "wrong \$XLICEN_SERVICE"

# An unknown product: the products the server has.
run xl checkout nosuch -- true
expect_rc 2 "unknown product"
expect_eq "$RUN_ERR" "xlicen: nosuch: localhost:$P (127.0.0.1): nosuch: no license for this product
xlicen: nosuch: the server has licenses for xdemo, xold: check the product's name, or give another server with -s" "unknown product"

# An expired license: its last day.
run xl checkout xold -- true
expect_rc 2 "expired license"
expect_eq "$RUN_ERR" "xlicen: xold: localhost:$P (127.0.0.1): xold: license has expired
xlicen: xold: its last valid day was 2020-12-31: the server needs a renewed license file from the vendor" "expired license"

# No free seats: the server named, --wait suggested.
run xl checkout xdemo -- touch "$T/ran"
expect_rc 0 "first seat"
"$XLICEN_BIN_CLI" -s "localhost:$P" checkout xdemo -- sleep 5 2>"$T/holder.err" &
HOLDER=$!
wait_until 5 "the seat to be taken" in_use_is xdemo 1
run xl checkout xdemo -- true
expect_rc 2 "no free seats"
expect_eq "$RUN_ERR" "xlicen: xdemo: localhost:$P (127.0.0.1): all seats are in use (1/1 seats in use): try again later, or wait in the server's queue with --wait" "no free seats"
kill "$HOLDER" 2>/dev/null || true
wait "$HOLDER" 2>/dev/null || true

# gss-xlicend --check-config counts the expired license as expired and
# names its last day (issue 16, item 8).
run "$XLICEN_BIN_SERVER" --check-config --keytab "$XLICEN_SERVICE_KEYTAB" \
	--database "$T/check.db" --licenses "$T/lic" --vendor-keys "$T/keys"
expect_rc 0 "--check-config"
expect_contains "$RUN_OUT" "
licenses $T/lic: 1 loaded, 1 expired, 0 refused
" "--check-config counts"
expect_contains "$RUN_ERR" "gss-xlicend: license $T/lic/xold.lic: expired: its last valid day was 2020-12-31; no seats of it are granted" "--check-config names the expired license"

# A ticket refused as not yet valid (a KRB-ERROR 33 in the context
# token of a fake server): with the server's HELLO 60 s ahead of us, our
# clock is behind; with the HELLO agreeing with us, the KDC's is ahead.
# fake_nyv OFFSET: `run` of status against such a server whose clock is
# OFFSET s ahead of ours.
fake_nyv() {
	: >"$T/fake.port"
	"$IT_PYTHON" - "$1" >"$T/fake.port" 2>"$T/fake.err" <<'PY' &
import socket, struct, sys, time
offset = int(sys.argv[1])
def der(tag, body):
    n = len(body)
    if n < 128:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body
def integer(v):
    return der(0x02, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big"))
def gstr(s):
    return der(0x1b, s.encode())
def ctx(n, body):
    return der(0xa0 + n, body)
now = time.strftime("%Y%m%d%H%M%SZ", time.gmtime(time.time() + offset)).encode()
sname = der(0x30, ctx(0, integer(2)) + ctx(1, der(0x30, gstr("gss-xlicen") + gstr("localhost"))))
err = der(0x7e, der(0x30, ctx(0, integer(5)) + ctx(1, integer(30)) +
    ctx(4, der(0x18, now)) + ctx(5, integer(0)) + ctx(6, integer(33)) +
    ctx(9, gstr("XLICEN.TEST")) + ctx(10, sname)))
oid = der(0x06, bytes.fromhex("2a864886f712010202"))
tok = der(0x60, oid + b"\x03\x00" + err)
def read_frame(c):
    hdr = b""
    while len(hdr) < 5:
        hdr += c.recv(5 - len(hdr))
    n = struct.unpack(">I", hdr[1:])[0]
    body = b""
    while len(body) < n:
        body += c.recv(n - len(body))
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
print(ls.getsockname()[1], flush=True)
ls.settimeout(15)
c, _ = ls.accept()
read_frame(c)                           # the client's HELLO
body = struct.pack(">HQ", 1, int(time.time()) + offset)
c.sendall(struct.pack(">BI", 1, len(body)) + body)
read_frame(c)                           # its AP-REQ
c.sendall(struct.pack(">BI", 2, len(tok)) + tok)
time.sleep(2)
PY
	FAKE=$!
	wait_until 5 "the fake server's port" test -s "$T/fake.port"
	FP=$(cat "$T/fake.port")
	run "$XLICEN_BIN_CLI" -s "localhost:$FP" status
	kill "$FAKE" 2>/dev/null || true
	wait "$FAKE" 2>/dev/null || true
}
if [ -n "$IT_PYTHON" ]; then
	fake_nyv 60
	expect_rc 3 "client clock behind"
	# The HELLO's second and ours may straddle a tick: 59 to 61 s.
	SKEW=$(printf '%s\n' "$RUN_ERR" | sed -n 's/.*our clock is \([0-9]*\) s behind.*/\1/p')
	case $SKEW in 59|60|61) ;; *) fail "client clock behind: \"$RUN_ERR\"" ;; esac
	expect_eq "$RUN_ERR" "xlicen: status: authentication failed: localhost:$FP (127.0.0.1): $GSSTXT; Ticket not yet valid (our clock is $SKEW s behind the server's: set this host's clock (NTP), then try again)" "client clock behind"
	fake_nyv 0
	expect_rc 3 "KDC clock ahead"
	expect_eq "$RUN_ERR" "xlicen: status: authentication failed: localhost:$FP (127.0.0.1): $GSSTXT; Ticket not yet valid (the ticket starts later than the clock here, which agrees with the server's: check the time on the KDC)" "KDC clock ahead"
else
	server_stop
	it_log "SKIP: the clock case needs python3 (package python3)"
	exit 77
fi
pass
