#!/usr/bin/env bash
# Queueing.  QUEUE: a checkout that finds no seat is answered QUEUED with
# its place; when a seat frees, the first in line gets an unsolicited GRANT
# (request id 0, naming its request and queue id); queued checkouts are
# counted in status and listed by holders, vanish with their connection,
# and time out (unsolicited DENY TIMEOUT).  The first entry that fits is
# served (a large request does not block a smaller one).  WAIT: the reply
# is held until a seat is granted (xlicen checkout --wait), the place is
# kept across steps, a client's own deadline gives the place up.  A reread
# that adds seats serves the queue.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xq 1
license xq2 2
license xshort 1
policy "[admin]
	principals = admin@$XLICEN_REALM
[products]
	xshort = {
		queue_timeout = 2
	}"
server_start --policy "$T/policy.conf" --heartbeat 1

# bg NAME USER WIRE-STEPS...: a wire_probe in the background, output in
# $T/NAME.out.
bg() {
	local name=$1 user=$2
	shift 2
	# Not through `as` (a function): $! must be timeout's own pid, which
	# passes a SIGTERM on to the probe.
	KRB5CCNAME="FILE:$XLICEN_REALM_DIR/$user.ccache" timeout -k 2 20 \
		"$XLICEN_BIN_WIRE" -s "localhost:$SERVER_PORT" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" &
	eval "PID_$name=$!"
}
# await NAME PATTERN: wait (5 s) until NAME's output has a line matching.
await() {
	local i
	for i in $(seq 1 250); do
		grep -q -- "$2" "$T/$1.out" 2>/dev/null && return 0
		sleep 0.02
	done
	fail "$1: no line matching \"$2\" in: $(cat "$T/$1.out" "$T/$1.err" 2>/dev/null)"
}
queued() { run xl status --json "$1"; json_field "$RUN_OUT" "$1" queued; }

# ---- QUEUE: FIFO, unsolicited GRANT, status and holders ----
run probe checkout xq
expect_rc 0 "alice takes xq's only seat"
A=$RUN_OUT
bg bob bob checkout xq 1.0 1 1 listen 15
await bob "^QUEUED id=100 queue_id=q[0-9a-f]\{16\} position=1 in_use=1 total=1$"
bg carol carol checkout xq 1.0 1 1 listen 15
await carol "^QUEUED id=100 .* position=2 "
expect_eq "$(queued xq)" 2 "queued count in status"
run xl status
expect_contains "$RUN_OUT" "QUEUED  KIND" "table with the queue column"
run as admin xl holders xq --json
expect_rc 0 "holders"
expect_contains "$RUN_OUT" "\"state\": \"queued\", \"principal\": \"bob@$XLICEN_REALM\"" "bob queued in holders"
expect_contains "$RUN_OUT" "\"position\": 2" "carol's place in holders"

run xl release "$A"
expect_rc 0 "alice releases"
await bob "^GRANT id=0 lease=[0-9a-f]\{32\} .*request=100 queue_id=q"
BOBQ=$(sed -n 's/^QUEUED.* queue_id=\(q[0-9a-f]*\) .*/\1/p' "$T/bob.out")
expect_contains "$(grep '^GRANT' "$T/bob.out")" "queue_id=$BOBQ" "the grant names bob's queue id"
BOBLEASE=$(sed -n 's/^GRANT id=0 lease=\([0-9a-f]*\) .*/\1/p' "$T/bob.out")
expect_eq "$(queued xq)" 1 "carol still waits"
expect_not_contains "$(cat "$T/carol.out")" "GRANT" "carol was not served before bob"

# carol's connection closes: her place vanishes.
kill "$PID_carol"
wait "$PID_carol" || true
for i in $(seq 1 100); do
	[ "$(queued xq)" = 0 ] && break
	sleep 0.05
done
expect_eq "$(queued xq)" 0 "carol's entry gone with her connection"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'dequeue' AND principal = 'carol@$XLICEN_REALM' AND code = 6")" 1 \
	"carol's dequeue audited (CLOSED)"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'queue' AND product = 'xq'")" 2 "queue events"

# ---- the queue timeout: an unsolicited DENY TIMEOUT ----
run probe checkout xshort
expect_rc 0 "alice takes xshort"
bg dave dave checkout xshort 1.0 1 1 listen 10
await dave "^QUEUED id=100 "
await dave "^DENY id=0 code=TIMEOUT request=100 queue_id=q[0-9a-f]* reason=\"no seat of xshort within the queue timeout of 2 s\"$"
expect_eq "$(queued xshort)" 0 "timed-out entry gone"

# ---- the first that fits is served ----
run probe checkout xq2
X1=$RUN_OUT
run probe checkout xq2
X2=$RUN_OUT
bg big bob checkout xq2 1.0 2 1 listen 15
await big "^QUEUED .* position=1 "
bg small carol checkout xq2 1.0 1 1 listen 15
await small "^QUEUED .* position=2 "
run xl release "$X1"
await small "^GRANT id=0 "
expect_not_contains "$(cat "$T/big.out")" "GRANT" "bob's 2 seats do not fit in 1"
# A reread adding seats serves the queue.
"$XLICEN_BIN_LICENSE" sign --key "$T/private/acme.key" --product xq2 --seats 2 \
	--serial SN-xq2-more >"$T/lic/xq2-more.lic" 2>/dev/null || fail "signing xq2-more"
run xl reread
expect_rc 2 "reread by a non-admin"
expect_contains "$RUN_ERR" "not authorized: localhost:$SERVER_PORT (127.0.0.1): alice@$XLICEN_REALM is not on the admin ACL of the server's policy" \
	"NOT_AUTHORIZED text"
run as admin xl reread
expect_rc 0 "admin reread"
expect_contains "$RUN_OUT" "reread: loaded " "reread summary"
await big "^GRANT id=0 "
run xl release "$X2"

# ---- WAIT: the library blocks; the place is kept across steps ----
as carol timeout -k 2 20 "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" \
	checkout --wait=15 xq -- true >"$T/waiter.out" 2>"$T/waiter.err" &
WAITER=$!
for i in $(seq 1 250); do
	[ "$(queued xq)" = 1 ] && break
	sleep 0.02
done
expect_eq "$(queued xq)" 1 "carol waits in line"
run as bob xl release "$BOBLEASE"
expect_rc 0 "bob releases xq"
rc=0
wait "$WAITER" || rc=$?
expect_eq "$rc" 0 "carol's waiting checkout"
expect_contains "$(cat "$T/waiter.err")" "xlicen: xq: waiting for a seat" "waiting line"
expect_contains "$(cat "$T/waiter.err")" "xlicen: granted xq lease " "granted after waiting"

# The server's WAIT step (1 s here) ends with QUEUED; asking again with
# the queue id keeps the place, and the grant answers the new request.
run probe checkout xq
expect_rc 0 "alice takes xq again"
A=$RUN_OUT
# alice releases once carol's first step has ended QUEUED (run writes
# wire_probe's lines to $T/run.out as they come): her second step, sent
# at once, is then waiting or about to.
( wait_until 15 "carol's first step to end QUEUED" grep -q '^QUEUED id=100 ' "$T/run.out"
  "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" release "$A" ) &
RELEASER=$!
wire as carol checkout xq 1.0 1 2 1 wait 3 checkout xq 1.0 1 2 5 last wait 8
expect_rc 0 "carol's two WAIT steps"
expect_contains "$RUN_OUT" "QUEUED id=100 queue_id=q" "first step ends QUEUED"
Q=$(printf '%s\n' "$RUN_OUT" | sed -n 's/^QUEUED id=100 queue_id=\(q[0-9a-f]*\) .*/\1/p')
expect_contains "$RUN_OUT" "GRANT id=101 lease=" "granted in the second step"
expect_contains "$(printf '%s\n' "$RUN_OUT" | grep '^GRANT')" "queue_id=$Q" "same place in line"
wait "$RELEASER"

# The client's own deadline: the place is given up.
run probe checkout xq
run xl checkout --wait=2 xq -- touch "$T/ran"
expect_rc 3 "a wait that runs out"
expect_contains "$RUN_ERR" "xlicen: xq: operation timed out: localhost:$SERVER_PORT (127.0.0.1): no seat of xq within 2 s (position 1 in the queue)" \
	"client wait timeout"
[ ! -e "$T/ran" ] || fail "the command ran without a seat"
expect_eq "$(queued xq)" 0 "the place was given up"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'dequeue' AND detail = 'cancelled by the client'")" 1 \
	"cancel audited"
pass
