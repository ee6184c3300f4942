#!/usr/bin/env bash
# Server list failover for the non-blocking API: the first address of the
# list refuses the connection, the second serves; with no server at all
# the checkout stays CONNECTING (code CONNECT) and retries by itself until
# a server comes up on that address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/async.sh"

# A loopback port nobody listens on: bind it, note it, let it go.
free_port() {
	if [ -n "$IT_PYTHON" ]; then
		"$IT_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
	else
		echo 1
	fi
}

license xdemo 2
server_start
DEAD=$(free_port)

aprobe_start A "$XLICEN_REALM_DIR/alice.ccache" -s "127.0.0.1:$DEAD,localhost:$SERVER_PORT" xdemo
await A '^STATE HELD ' 10
expect_eq "$(grep -c '^STATE ' "$T/A.out")" 2 "states: CONNECTING, HELD ($(cat "$T/A.out"))"
grep -q 'code=CONNECT' "$T/A.out" && fail "the refused first address was reported: $(cat "$T/A.out")"
expect_eq "$(in_use xdemo)" 1 "in use after the failover"
aprobe_stop A
expect_eq "$(in_use xdemo)" 0 "in use after quit"

# The blocking API over the same list.
run as alice "$XLICEN_BIN_CLI" -s "127.0.0.1:$DEAD,localhost:$SERVER_PORT" status --json xdemo
expect_rc 0 "status over a list whose first address refuses"

# Nobody there yet: CONNECTING with the reason, retried until a server
# starts on that very address.
server_stop TERM
SERVER_PORT=$DEAD
aprobe_start B "$XLICEN_REALM_DIR/bob.ccache" -s "localhost:$DEAD" xdemo
await B '^STATE CONNECTING code=CONNECT ' 10
expect_contains "$LINE" "text=localhost:$DEAD (127.0.0.1): Connection refused" "reason of the failed attempt"
# Kept sleep: no server for a second, so that the library retries against
# a refused port; a missing server sends no event to wait for.
sleep 1
server_start
[ "$SERVER_PORT" = "$DEAD" ] || fail "server came up on $SERVER_PORT, not $DEAD"
await B '^STATE HELD ' 20
aprobe_stop B
pass
