#!/usr/bin/env bash
# SIGTERM (issue 19): the server sends ALERT SHUTDOWN (71), reason "server
# is shutting down", to every connected client, whatever it is doing: a
# holder of a lease, a client queued for a seat, an authenticated client
# that asked nothing, and a client still in the handshake (HELLO done, no
# GSS context yet).  Each sees the ALERT; the server exits 0, and the
# lease survives for a restarted server (SIGTERM is no release).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
. "$(dirname "$0")/serve.sh"

license xt 1
server_start --heartbeat 1 --orphan-grace 0

bgwire holder bob checkout xt 1.0 1 0 listen 20
await holder "^GRANT id=100 lease="
LEASE=$(sed -n 's/^GRANT id=100 lease=\([0-9a-f]*\) .*/\1/p' "$T/holder.out")
bgwire waiter carol checkout xt 1.0 1 1 listen 20
await waiter "^QUEUED id=100 .* position=1 "
bgwire idle dave listen 20
raw hs
await hs "^HELLO$"
# dave's context is complete once the server logs him (the probe prints
# nothing before the first message).
for i in $(seq 1 250); do
	grep -q "authenticated dave@$XLICEN_REALM" "$SERVER_LOG" && break
	sleep 0.02
done
grep -q "authenticated dave@$XLICEN_REALM" "$SERVER_LOG" || fail "dave never authenticated"

kill -TERM "$SERVER_PID"
wait_gone "$SERVER_PID" 10
SERVER_PID=
expect_eq "$GONE_RC" 0 "the server's exit status after SIGTERM"
grep -q "SIGTERM: shutting down" "$SERVER_LOG" || fail "no SIGTERM line in the log"

ALERT='ALERT code=SHUTDOWN reason="server is shutting down"'
for n in holder waiter idle; do
	eval "pid=\$PID_$n"
	wait_gone "$pid" 10
	expect_eq "$GONE_RC" 0 "$n's wire_probe exit status (an ALERT ends it with 0)"
	expect_eq "$(tail -n 1 "$T/$n.out")" "$ALERT" "the last line $n received"
done
expect_not_contains "$(cat "$T/waiter.out")" "GRANT" "carol was not granted on the way out"
wait_gone "$PID_hs" 10
expect_eq "$(cat "$T/hs.out")" "HELLO
ALERT code=71 reason=server is shutting down
EOF" "what the client in the handshake received"

# SIGTERM released nothing: bob's lease is there after a restart.
server_start
expect_eq "$(in_use xt)" 1 "bob's seat after the restart"
run as bob probe heartbeat "$LEASE"
expect_rc 0 "bob's heartbeat to the restarted server"
server_stop
pass
