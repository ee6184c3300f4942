#!/usr/bin/env bash
# Rules of docs/PROTOCOL.md (issue 14, section 1) on a live server:
# * a NO_SEATS denial whose free seats are reserved for others carries
#   DENY DETAIL bit 0 (RESERVED), and the CLI says so from that field, not
#   from the reason's words; a plain NO_SEATS carries no DETAIL;
# * a pool's EXPIRES is the license's exclusive end: `expires: D` gives
#   D+1 00:00:00Z, the first second the license is no longer valid, and
#   START is 00:00:00Z of `start: D`;
# * the queue flags of section 8.2 (WAIT's default, WAIT without its flag,
#   QUEUE+WAIT, WAIT 0, HEARTBEAT of a queue id);
# * the target name when the server is given as an address;
# * grouping when a checkout reports neither DISPLAY nor PID;
# * the server's context ends at the ticket's end plus the clock skew;
# * the client's frame limit and a close inside a frame (fake server).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xres 2
license xfull 1
license xold 1 --start 2020-06-01 --expires 2020-12-31
license xnew 1 --expires 2027-12-31
license xgrp 3
R=$XLICEN_REALM
policy "# policy of test_spec_rules
[products]
	xres = {
		reserve = 1 carol@$R
	}"
# Orphans off: the probes' leases keep their TTL after the probes exit.
server_start --policy "$T/policy.conf" --orphan-grace 0

# RESERVED: one seat taken, the other free but carol's.
run probe checkout xres
expect_rc 0 "alice on xres"
wire as bob checkout xres 1.0 1 0
expect_rc 0 "bob's wire checkout"
expect_contains "$RUN_OUT" "DENY id=" "bob denied"
expect_contains "$RUN_OUT" "code=NO_SEATS" "bob: NO_SEATS"
expect_contains "$RUN_OUT" " detail=1 " "DETAIL RESERVED on the wire"
run as bob xl checkout xres -- true
expect_rc 2 "bob on xres"
expect_contains "$RUN_ERR" "xlicen: xres: all seats are in use (1/2 seats in use; the free ones are reserved for others): " \
	"the CLI's words come from DETAIL"
expect_contains "$RUN_ERR" "1 of 2 seats of xres in use and 1 of the free ones reserved for others (1 wanted)" \
	"the server's reason follows"

# A plain NO_SEATS: no DETAIL, and the CLI says nothing of reservations.
run probe checkout xfull
expect_rc 0 "alice on xfull"
# WAIT's default (section 8.2), in the background while the rest runs: a
# WAIT checkout without a WAIT field is held LIMIT_WAIT_STEP_S = 20 s.
KRB5CCNAME="FILE:$XLICEN_REALM_DIR/bob.ccache" timeout -k 2 40 "$XLICEN_BIN_WIRE" \
	-s "localhost:$SERVER_PORT" checkout xfull 1.0 1 2 expect 17 wait 8 \
	>"$T/waitdef.out" 2>&1 &
WAITDEF_PID=$!
wire as bob checkout xfull 1.0 1 0
expect_contains "$RUN_OUT" "code=NO_SEATS" "xfull: NO_SEATS"
expect_not_contains "$RUN_OUT" "detail=" "no DETAIL without a reservation"
run as bob xl checkout xfull -- true
expect_rc 2 "bob on xfull"
expect_not_contains "$RUN_ERR" "reserved" "plain NO_SEATS"
expect_contains "$RUN_ERR" "xlicen: xfull: localhost:$SERVER_PORT (127.0.0.1): all seats are in use (1/1 seats in use): try again later, or wait in the server's queue with --wait" "plain NO_SEATS text"

# Queue flags (section 8.2), xfull's one seat being alice's:
# WAIT without its flag changes nothing: DENY at once.
wire as bob checkout xfull 1.0 1 0 5
expect_contains "$RUN_OUT" "DENY id=100 code=NO_SEATS" "WAIT field without the WAIT flag"
# QUEUE and WAIT both: WAIT wins (no QUEUED at once; after WAIT = 1 s,
# QUEUED with the CHECKOUT's own id).
wire as bob checkout xfull 1.0 1 3 1 expect 0.5 wait 5
expect_contains "$RUN_OUT" "none" "QUEUE+WAIT: nothing at once"
expect_contains "$RUN_OUT" "QUEUED id=100 " "QUEUE+WAIT: answered as a WAIT"
# WAIT = 0: QUEUED (own id) without holding the reply.
wire as bob checkout xfull 1.0 1 2 0 wait 2
expect_contains "$RUN_OUT" "QUEUED id=100 " "WAIT 0"
# HEARTBEAT of a queue id: ERROR NO_LEASE, the place is kept (a RELEASE
# of it still finds it: OK).
wire as bob checkout xfull 1.0 1 1 heartbeat last release last
expect_contains "$RUN_OUT" "ERROR id=101 code=NO_LEASE" "HEARTBEAT of a queue id"
expect_contains "$RUN_OUT" "OK id=102" "the place was kept: RELEASE finds it"

# The server given as an address: the target is gss-xlicen@ADDRESS as
# given (this realm's krb5.conf turns off rdns and canonicalisation), for
# which there is no key; with the service named too, it works.
run "$XLICEN_BIN_CLI" -s "127.0.0.1:$SERVER_PORT" status
expect_rc 3 "status from 127.0.0.1 without a service name"
expect_contains "$RUN_ERR" "Server gss-xlicen/127.0.0.1@$R not found in Kerberos database" \
	"the target is the address as given"
run "$XLICEN_BIN_CLI" -s "127.0.0.1:$SERVER_PORT" --service gss-xlicen@localhost status
expect_rc 0 "status from 127.0.0.1 with --service"

# Grouping (section 8.1, dup group uhd): without DISPLAY the PID stands
# in, so two processes of one principal and host take two seats; without
# DISPLAY and PID, PID 0 stands in, so such checkouts share one seat.
wire as bob checkout xgrp 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100 " "xgrp, pid 1"
wire as bob checkout xgrp 1.0 1 0
expect_contains "$RUN_OUT" "in_use=2 total=3" "another process: its own seat"
XLICEN_PROBE_NOPID=1 wire as bob checkout xgrp 1.0 1 0
expect_contains "$RUN_OUT" "in_use=3 total=3" "no display, no pid: a seat"
XLICEN_PROBE_NOPID=1 wire as bob checkout xgrp 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100 " "no display, no pid, again"
expect_contains "$RUN_OUT" "in_use=3 total=3" "...shares the seat of the first"

# When a context ends (section 5): at the ticket's end plus the clock-skew
# allowance (5 s in this realm).  8 s tickets: a request 9.5 s after the
# context began (past the ticket's end) is answered, one 15 s after it
# (past end + skew) gets ALERT CONTEXT_EXPIRED.
kinit -l 8s -k -t "$XLICEN_REALM_DIR/shortlived.keytab" -c "FILE:$T/short.ccache" \
	"shortlived@$R" </dev/null >/dev/null 2>"$T/kinit.err" ||
	fail "kinit shortlived: $(cat "$T/kinit.err")"
IT_CMD_TIMEOUT=30 KRB5CCNAME="FILE:$T/short.ccache" wire status xres listen 9.5 status xres listen 5.5 status xres
expect_lines "$(printf '%s\n' "$RUN_OUT" | grep '^STATUS_REPLY ')" 2 "answered before ticket end + skew"
expect_contains "$RUN_OUT" 'ALERT code=CONTEXT_EXPIRED reason="re-authenticate"' "expired after ticket end + skew"

# The client's side of section 2, against a fake server (python3): a
# frame header over the client's pre-authentication limit is refused from
# the header, with ALERT FRAME_TOO_LONG back; a close inside a frame is
# CLOSED, "connection closed inside a frame".
fake_server() {	# MODE: big | cut; sets FAKE_PORT, the ALERT seen in $T/fake.alert
	: >"$T/fake.port"
	: >"$T/fake.alert"
	"$IT_PYTHON" - "$1" "$T/fake.alert" >"$T/fake.port" 2>"$T/fake.err" <<'PY' &
import socket, struct, sys
mode, alert_file = sys.argv[1], sys.argv[2]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
print(ls.getsockname()[1], flush=True)
ls.settimeout(10)
def recv_n(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b
def read_frame(c):
    hdr = recv_n(c, 5)
    return hdr[0], recv_n(c, struct.unpack(">I", hdr[1:])[0])
c, _ = ls.accept()
c.settimeout(10)
t, body = read_frame(c)                   # the client's HELLO
if mode == "big":
    c.sendall(struct.pack(">BI", 1, 65537))
    try:
        while True:
            t, body = read_frame(c)
            if t == 4:
                code, n = struct.unpack(">HH", body[:4])
                open(alert_file, "w").write("%d %s\n" % (code, body[4:4 + n].decode()))
                break
    except (EOFError, socket.timeout):
        pass
else:
    read_frame(c)                         # its AP-REQ, sent right behind
    c.sendall(struct.pack(">BI", 1, 10) + b"\x00\x01\x00")
    c.shutdown(socket.SHUT_WR)            # FIN, not RST
    try:
        while c.recv(4096):
            pass
    except (OSError, socket.timeout):
        pass
c.close()
PY
	FAKE_PID=$!
	for i in $(seq 1 250); do
		[ -s "$T/fake.port" ] && break
		sleep 0.02
	done
	FAKE_PORT=$(cat "$T/fake.port")
	[ -n "$FAKE_PORT" ] || fail "fake server did not start: $(cat "$T/fake.err")"
}
if [ -n "$IT_PYTHON" ]; then
	fake_server big
	run "$XLICEN_BIN_CLI" -s "localhost:$FAKE_PORT" status
	wait "$FAKE_PID" 2>/dev/null || true
	expect_rc 3 "frame over the client's limit"
	expect_contains "$RUN_ERR" "frame longer than allowed" "FRAME_TOO_LONG from the header"
	expect_eq "$(cat "$T/fake.alert")" "22 frame longer than allowed" "the client's ALERT"
	fake_server cut
	run "$XLICEN_BIN_CLI" -s "localhost:$FAKE_PORT" status
	wait "$FAKE_PID" 2>/dev/null || true
	expect_rc 3 "close inside a frame"
	expect_contains "$RUN_ERR" "connection closed inside a frame" "CLOSED inside a frame"
fi

# EXPIRES: the exclusive end; START: the first valid second.
wire status xold
expect_contains "$RUN_OUT" "pool=xold:start=1590969600:expires=1609459200:state=1" \
	"expires: 2020-12-31 is 2021-01-01T00:00:00Z, start: 2020-06-01 its midnight"
wire status xnew
expect_contains "$RUN_OUT" "pool=xnew:start=0:expires=1830297600:state=0" \
	"expires: 2027-12-31 is 2028-01-01T00:00:00Z"
# ...and a checkout of the expired one is EXPIRED.
run xl checkout xold -- true
expect_rc 2 "xold is expired"
expect_contains "$RUN_ERR" "license has expired" "EXPIRED"

wait "$WAITDEF_PID" || fail "WAIT default: wire_probe failed: $(cat "$T/waitdef.out")"
WAITDEF=$(cat "$T/waitdef.out")
expect_contains "$WAITDEF" "none" "WAIT default: nothing within 17 s"
expect_contains "$WAITDEF" "QUEUED id=100 " "WAIT default: QUEUED after 20 s"

pass
