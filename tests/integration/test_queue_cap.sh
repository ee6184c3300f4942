#!/usr/bin/env bash
# The queue places one principal may hold per product (issue 11): by
# default LIMIT_QUEUE_PER_PRINCIPAL (4); [limits] max_queued_per_principal
# sets it.  One more is DENY QUEUE_LIMIT while another principal still
# queues; QUEUE and WAIT entries both count; the places come back when the
# entries leave.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

R=$XLICEN_REALM
license xc 1
license xd 1
server_start --heartbeat 1
queued() { run xl status --json "$1"; json_field "$RUN_OUT" "$1" queued; }

run probe checkout xc
expect_rc 0 "alice takes xc's only seat"
run probe checkout xd
expect_rc 0 "alice takes xd's only seat"

# bob: four places in line are his, the fifth is refused.
STEPS=()
for i in 1 2 3 4 5; do STEPS+=(checkout xc 1.0 1 1); done
wire as bob "${STEPS[@]}" checkout xd 1.0 1 1
expect_rc 0 "bob's checkouts"
for id in 100 101 102 103; do
	expect_contains "$RUN_OUT" "QUEUED id=$id queue_id=q" "bob's place $id"
done
expect_contains "$RUN_OUT" "DENY id=104 code=QUEUE_LIMIT reason=\"bob@$R already holds 4 places in the queue of xc (the most one principal may hold)\"" \
	"bob's fifth place refused"
expect_contains "$RUN_OUT" "QUEUED id=105 queue_id=q" "another product is another queue"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'deny' AND code = 78 AND principal = 'bob@$R'")" 1 \
	"the refusal audited"

# While bob holds four places, carol still queues, and a refused bob
# does not lose the places he has.
bg_out=$T/bob.out
KRB5CCNAME="FILE:$XLICEN_REALM_DIR/bob.ccache" timeout -k 2 20 \
	"$XLICEN_BIN_WIRE" -s "localhost:$SERVER_PORT" "${STEPS[@]}" listen 15 \
	>"$bg_out" 2>"$T/bob.err" &
BOB=$!
for i in $(seq 1 250); do
	grep -q "^DENY id=104 code=QUEUE_LIMIT" "$bg_out" 2>/dev/null && break
	sleep 0.02
done
expect_contains "$(cat "$bg_out")" "DENY id=104 code=QUEUE_LIMIT" "bob refused in the background"
expect_eq "$(queued xc)" 4 "bob's four places"
wire as carol checkout xc 1.0 1 1
expect_contains "$RUN_OUT" "QUEUED id=100 queue_id=q" "carol queues"
expect_contains "$RUN_OUT" "position=5" "carol after bob's four"
# A WAIT entry counts as a place too.
wire as bob checkout xc 1.0 1 2 1 wait 3
expect_eq "$RUN_OUT" "DENY id=100 code=QUEUE_LIMIT reason=\"bob@$R already holds 4 places in the queue of xc (the most one principal may hold)\"" \
	"bob's WAIT over the cap"
kill "$BOB"
wait "$BOB" || true
for i in $(seq 1 100); do
	[ "$(queued xc)" = 0 ] && break
	sleep 0.05
done
# bob's places went with his connection: he may queue again.
wire as bob checkout xc 1.0 1 1
expect_contains "$RUN_OUT" "QUEUED id=100 queue_id=q" "bob queues again"

# [limits] max_queued_per_principal sets the cap.
server_stop
printf '[limits]\n\tmax_queued_per_principal = 2\n' >"$T/gss-xlicend.conf"
server_start --heartbeat 1 --config "$T/gss-xlicend.conf"
run probe checkout xc
wire as bob checkout xc 1.0 1 1 checkout xc 1.0 1 1 checkout xc 1.0 1 1
expect_contains "$RUN_OUT" "QUEUED id=101 queue_id=q" "bob's second place"
expect_contains "$RUN_OUT" "DENY id=102 code=QUEUE_LIMIT reason=\"bob@$R already holds 2 places in the queue of xc (the most one principal may hold)\"" \
	"the configured cap"
pass
