#!/usr/bin/env bash
# The sample capture of tests/vectors/ still decodes, with its keytab, to
# the messages and the tshark -V text committed beside it (regenerate all
# of them with scripts/wireshark-vectors after a change to the dissector
# or the protocol).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/session.sh"
: "${XLICEN_WS_PLUGIN:?}"
V="$(dirname "$0")/../vectors"
SERVER_PORT=128
ws_tshark_setup "$XLICEN_WS_PLUGIN" "$V/session.pcapng" "$V/service.keytab"
ws_tshark_keytab -Y xlicen -T fields -E occurrence=a -E aggregator=, \
	-e frame.number -e tcp.srcport -e tcp.dstport -e xlicen.frame.type \
	-e xlicen.msg.type -e xlicen.msg.id -e xlicen.product -e xlicen.lease \
	-e xlicen.code -e xlicen.alert.code -e xlicen.alert.reason >"$T/messages.txt"
diff -u "$V/messages.txt" "$T/messages.txt" >&2 || fail "messages.txt differs"
ws_tshark_keytab -Y xlicen -O xlicen -V | ws_stable >"$T/session.txt"
diff -u "$V/session.txt" "$T/session.txt" >&2 || fail "session.txt differs"
# Every DATA frame of the sample decrypted: 5 requests, 5 replies.
expect_eq "$(awk -F'\t' '$5 != ""' "$T/messages.txt" | wc -l)" 10 "decrypted messages"
pass
