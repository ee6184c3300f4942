#!/usr/bin/env bash
# The Wireshark dissector and the protocol trace against a real session:
# a capture of loopback traffic to a test server, decoded by tshark with
# the plugin (contrib/wireshark) and the service keytab, must show each
# frame and each decrypted message with the values the client and the
# server saw; the traces of both ends (--trace, $XLICEN_TRACE) must show
# the messages and no key the capture's Kerberos exchange carried.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/session.sh"
: "${XLICEN_WS_PLUGIN:?}"

license xdemo 1
server_start --trace "$T/server.trace"
ws_capture_start "$T/cap.pcapng"
export XLICEN_TRACE="$T/client.trace"
ws_session
unset XLICEN_TRACE
ws_capture_stop
# Not in the capture: a late GRANT (id 0), which the server sends with
# conn_send from another connection's request, must be traced too.
run probe checkout xdemo
expect_rc 0 "checkout for the queue test"
QLEASE=$RUN_OUT
XLICEN_TRACE="$T/client.trace" XLICEN_PROBE_HOST=ws2 timeout 20 "$XLICEN_BIN_WIRE" \
	-s "localhost:$SERVER_PORT" checkout xdemo 1.0 1 1 expect 10 >"$T/wire.out" 2>&1 &
WIRE=$!
wait_until 10 "wire_probe to be queued" grep -q '^QUEUED' "$T/wire.out"
run xl release "$QLEASE"
expect_rc 0 "release that serves the queue"
wait "$WIRE" || fail "wire_probe: $(cat "$T/wire.out")"
grep -q '^GRANT id=0 ' "$T/wire.out" || fail "no late GRANT: $(cat "$T/wire.out")"
ws_tshark_setup "$XLICEN_WS_PLUGIN" "$T/cap.pcapng" "$XLICEN_SERVICE_KEYTAB"

# Without the keytab: frames, HELLO and ALERT, but no message.
ws_tshark -Y xlicen -T fields -e xlicen.frame.type -e xlicen.msg.type >"$T/nokey.txt" 2>"$T/tshark.err" ||
	fail "tshark: $(cat "$T/tshark.err")"
grep -q '^1' "$T/nokey.txt" || fail "no HELLO frame decoded"
grep -q '^3' "$T/nokey.txt" || fail "no DATA frame decoded"
! grep -q $'\t0x' "$T/nokey.txt" || fail "a message shown without the keytab"

F=(-T fields -E occurrence=f -e xlicen.frame.type -e xlicen.msg.type -e xlicen.msg.id
   -e xlicen.product -e xlicen.lease -e xlicen.code -e xlicen.count
   -e xlicen.alert.code -e xlicen.alert.reason -e xlicen.hello.min_version
   -e xlicen.hello.max_version -e kerberos.msg_type)
ws_tshark_keytab -Y xlicen "${F[@]}" >"$T/fields.txt" 2>"$T/tshark.err" ||
	fail "tshark: $(cat "$T/tshark.err")"
# frame type, msg type, id, PRODUCT, LEASE, CODE, COUNT, alert code,
# reason, HELLO min, max, Kerberos message type.
col() { awk -F'\t' -v t="$1" -v c="$2" '$2 == t { print $c }' "$T/fields.txt"; }
expect_eq "$(col 0x0001 4 | head -n 2 | tr '\n' ' ')" "xdemo xdemo " "PRODUCT of the two CHECKOUTs"
expect_eq "$(col 0x0001 7 | head -n 1)" 1 "COUNT of the CHECKOUT"
expect_eq "$(col 0x8001 5)" "$WS_LEASE" "LEASE of the GRANT (the lease the client got)"
expect_eq "$(col 0x0002 5)" "$WS_LEASE" "LEASE of the HEARTBEAT"
expect_eq "$(col 0x0003 5)" "$WS_LEASE" "LEASE of the RELEASE"
expect_eq "$(col 0x8002 6)" 62 "CODE of the DENY (NO_SEATS)"
[ -n "$(col 0x0004 3)" ] || fail "no STATUS decrypted"
[ -n "$(col 0x8004 3)" ] || fail "no STATUS_REPLY decrypted"
expect_eq "$(awk -F'\t' '$1 == 4 { print $8 "|" $9 }' "$T/fields.txt")" \
	"32|server speaks version 1 only; client offered 2-2" "the ALERT"
awk -F'\t' '$1 == 1 && $10 == 2 && $11 == 2 { f = 1 } END { exit !f }' "$T/fields.txt" ||
	fail "the version-2 HELLO not decoded"
# The client's HELLO and CONTEXT share a segment: the AP-REQ (14) is in a
# row whose first frame is the HELLO; the AP-REP (15) has one of its own.
expect_eq "$(awk -F'\t' '$12 == 14' "$T/fields.txt" | wc -l)" 5 "CONTEXT frames shown as AP-REQ"
expect_eq "$(awk -F'\t' '$12 == 15' "$T/fields.txt" | wc -l)" 5 "CONTEXT frames shown as AP-REP"
# Every DATA frame decrypted: as many messages as DATA frames.
expect_eq "$(awk -F'\t' '$1 == 3 && $2 == ""' "$T/fields.txt" | wc -l)" 0 "DATA frames left encrypted"

# The traces: the messages by name with their values.
ST="$T/server.trace" CT="$T/client.trace"
grep -q '^xlicen-trace 127\.0\.0\.1:[0-9]* recv msg CHECKOUT(0x0001) id=1 PRODUCT="xdemo" VERSION="1.0" COUNT=1 ' "$ST" ||
	fail "server trace: no CHECKOUT line"
grep -q "send msg GRANT(0x8001) id=1 LEASE=\"$WS_LEASE\" EXPIRES=" "$ST" || fail "server trace: no GRANT"
grep -q "recv msg GRANT(0x8001) id=1 LEASE=\"$WS_LEASE\" " "$CT" || fail "client trace: no GRANT"
grep -q 'recv msg DENY(0x8002) id=1 IN_USE=1 TOTAL=1 CODE=62 REASON=' "$CT" || fail "client trace: no DENY"
grep -q 'send frame ALERT len=52 code=32 VERSION reason="server speaks version 1 only; client offered 2-2"' "$ST" ||
	fail "server trace: no ALERT"
grep -q 'recv frame HELLO len=4 min_version=2 max_version=2' "$ST" || fail "server trace: no HELLO"
grep -q 'send frame CONTEXT len=[0-9]* token_head=' "$CT" || fail "client trace: no CONTEXT"
grep -q 'send msg GRANT(0x8001) id=0 LEASE="[0-9a-f]*" .* REQUEST=100 QUEUE_ID="q[0-9a-f]*"$' "$ST" ||
	fail "server trace: no late GRANT"
# Each message once, each in one DATA frame: per connection and
# direction as many message lines as DATA frame lines.
awk '$4 == "msg" || ($4 == "frame" && $5 == "DATA") { n[$2 " " $3 " " $4]++ }
	END { for (k in n) { split(k, a, " "); o = a[1] " " a[2] " " (a[3] == "msg" ? "frame" : "msg");
		if (n[k] != n[o]) { print k, n[k], o, n[o]; bad = 1 } } exit bad }' "$ST" >"$T/count.txt" ||
	fail "server trace: messages and DATA frames differ: $(cat "$T/count.txt")"

# No key in either trace: the service's keys and every key Wireshark
# learnt from the capture (the ticket's session key, the subkeys).
ws_tshark_keytab -T fields -e kerberos.keyvalue >"$T/keys.txt" 2>/dev/null
klist -kK "$XLICEN_SERVICE_KEYTAB" | sed -n 's/.*(0x\([0-9a-f]*\)).*/\1/p' >>"$T/keys.txt"
tr ',' '\n' <"$T/keys.txt" | tr -d ':' | sed '/^$/d' | sort -u >"$T/keyhex.txt"
[ "$(wc -l <"$T/keyhex.txt")" -ge 3 ] || fail "too few keys found to check: $(cat "$T/keyhex.txt")"
while read -r k; do
	for tr_ in "$ST" "$CT"; do
		# Any 8 bytes of a key would be a leak.
		! grep -qi "${k:0:16}" "$tr_" || fail "key bytes ${k:0:16}... in $tr_"
		! grep -qi "${k: -16}" "$tr_" || fail "key bytes ...${k: -16} in $tr_"
	done
done <"$T/keyhex.txt"
# Last, as it replaces the capture: malformed frames are shown as such,
# not mistaken or crashed on: a
# 3-byte HELLO, an ALERT whose reason length is not its body's, frame
# type 9, an ALERT too short for its header.
printf '0000  01 00 00 00 03 00 01 00 04 00 00 00 06 00 20 00 09 41 42 09 00 00 00 01 00 04 00 00 00 02 00 00\n' >"$T/bad.hex"
text2pcap -q -T "40000,$SERVER_PORT" "$T/bad.hex" "$WS_HOME/capture.pcapng" ||
	fail "text2pcap could not make the malformed capture"
[ -z "$WS_USER" ] || chown "$WS_USER" "$WS_HOME/capture.pcapng"
ws_tshark -T fields -E occurrence=a -E aggregator=, -e xlicen.frame.type -e _ws.expert \
	>"$T/bad.txt" 2>"$T/tshark.err" || fail "tshark on malformed frames: $(cat "$T/tshark.err")"
expect_eq "$(tr '\t' ' ' <"$T/bad.txt")" "1,4,9,4 Expert Info (Error/Malformed): HELLO body of 3 bytes (4 or 10 expected),$(printf 'Expert Info (Error/Malformed): Malformed gss-xlicen frame or message,%.0s' 1 2)Expert Info (Error/Malformed): Malformed gss-xlicen frame or message" "malformed frames"
pass
