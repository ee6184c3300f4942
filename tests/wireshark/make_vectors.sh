#!/usr/bin/env bash
# make_vectors.sh: the body of scripts/wireshark-vectors (run by it, with a
# realm started and the XLICEN_BIN_* of a build): one complete session
# against a server on port 128, captured, and written to
# $XLICEN_VECTORS_OUT as session.pcapng, service.keytab (the throwaway
# realm's service key, nothing else's), session.txt (tshark -V of the
# gss-xlicen layer, decrypted) and messages.txt (one line per frame).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/session.sh"
: "${XLICEN_VECTORS_OUT:?}" "${XLICEN_WS_PLUGIN:?}"

license xdemo 1
SERVER_PORT=128
server_start
ws_capture_start "$T/cap.pcapng"
ws_session
ws_capture_stop
server_stop
ws_tshark_setup "$XLICEN_WS_PLUGIN" "$T/cap.pcapng" "$XLICEN_SERVICE_KEYTAB"
O=$XLICEN_VECTORS_OUT
mkdir -p "$O"
cp "$T/cap.pcapng" "$O/session.pcapng"
cp "$XLICEN_SERVICE_KEYTAB" "$O/service.keytab"
ws_tshark_keytab -Y xlicen -O xlicen -V | ws_stable >"$O/session.txt"
ws_tshark_keytab -Y xlicen -T fields -E occurrence=a -E aggregator=, \
	-e frame.number -e tcp.srcport -e tcp.dstport -e xlicen.frame.type \
	-e xlicen.msg.type -e xlicen.msg.id -e xlicen.product -e xlicen.lease \
	-e xlicen.code -e xlicen.alert.code -e xlicen.alert.reason >"$O/messages.txt"
pass
