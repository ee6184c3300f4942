# session.sh: helpers shared by test_wireshark.sh and scripts/wireshark-vectors
# (sourced after tests/integration/lib.sh, which has started a realm and
# gives server_start, run, fail).
#
# ws_capture_start FILE: capture the loopback traffic of the test server's
#   port (only it) into FILE with dumpcap; ws_capture_stop ends it.
# ws_session: one complete session against a server with one seat of
#   xdemo: STATUS, CHECKOUT (lease in WS_LEASE), HEARTBEAT, a second
#   principal's CHECKOUT (DENY NO_SEATS), RELEASE, and a client HELLO
#   offering version 2 only (ALERT VERSION).
# ws_tshark ARGS...: tshark on the capture with the dissector plugin and
#   the service keytab, as an unprivileged user (Wireshark does not load
#   personal plugins as root).

WS_CAP_PID=

# A missing tool is a skip (77) naming its Debian package (scripts/deps.sh
# installs them; as root on Debian 12 this never skips).
for tool in tshark:tshark dumpcap:wireshark-common text2pcap:wireshark-common \
	runuser:util-linux; do
	if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
		echo "$IT_NAME: SKIP: ${tool%%:*} not installed (package ${tool#*:})" >&2
		exit 77
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "$IT_NAME: SKIP: not root (capturing on lo and port 128 need root)" >&2
	exit 77
fi

ws_capture_start() {
	: >"$T/dumpcap.err"
	dumpcap -q -i lo -f "tcp port $SERVER_PORT" -w "$1" 2>"$T/dumpcap.err" &
	WS_CAP_PID=$!
	wait_until 10 "dumpcap to start capturing" grep -q "Capturing on" "$T/dumpcap.err"
}

ws_capture_stop() {
	# Let the last segments (the server's FIN) reach the capture.
	sleep 0.5
	kill -INT "$WS_CAP_PID"
	wait "$WS_CAP_PID" || fail "dumpcap: $(cat "$T/dumpcap.err")"
	WS_CAP_PID=
}

ws_session() {
	run xl status
	expect_rc 0 "status"
	run probe checkout xdemo
	expect_rc 0 "checkout"
	WS_LEASE=$RUN_OUT
	run probe heartbeat "$WS_LEASE"
	expect_rc 0 "heartbeat"
	run as bob xl checkout xdemo -- true
	expect_rc 2 "bob's checkout while alice holds the only seat"
	run xl release "$WS_LEASE"
	expect_rc 0 "release"
	# Example 3 of docs/PROTOCOL.md: a client HELLO offering 2-2.
	exec 3<>"/dev/tcp/127.0.0.1/$SERVER_PORT"
	printf '\001\000\000\000\004\000\002\000\002' >&3
	timeout 5 cat <&3 >"$T/alert.bin" || true
	exec 3<&-
	[ "$(od -An -tx1 -N1 "$T/alert.bin" | tr -d ' ')" = 04 ] ||
		fail "no ALERT answered the version-2 HELLO"
}

# The dissector plugin in a per-user plugin directory of WS_HOME, and a
# keytab and capture copy that user may read.
ws_tshark_setup() {	# PLUGIN CAPTURE KEYTAB
	WS_HOME="$T/wshome"
	mkdir -p "$WS_HOME/.local/lib/wireshark/plugins/4.0/epan"
	cp "$1" "$WS_HOME/.local/lib/wireshark/plugins/4.0/epan/"
	cp "$2" "$WS_HOME/capture.pcapng"
	cp "$3" "$WS_HOME/service.keytab"
	WS_USER=
	if [ "$(id -u)" = 0 ]; then
		WS_USER=nobody
		chown -R "$WS_USER" "$WS_HOME"
		chmod 0711 "$T"
	fi
}

ws_tshark() {
	local pre=()
	[ -n "$WS_USER" ] && pre=(runuser -u "$WS_USER" --)
	"${pre[@]}" env HOME="$WS_HOME" LC_ALL=C tshark -r "$WS_HOME/capture.pcapng" \
		-o "xlicen.tcp.port:$SERVER_PORT" "$@"
}

ws_tshark_keytab() {
	ws_tshark -o kerberos.decrypt:TRUE -o "kerberos.file:$WS_HOME/service.keytab" "$@"
}

# tshark -V text without the Kerberos dissector's notes of how many keys it
# tried (its key table's order varies from run to run).
ws_stable() { grep -v 'Used keymap='; }
