#!/usr/bin/env bash
# The queue is served whenever a seat frees without a release (issue 19):
# the first queued client gets its unsolicited GRANT (request id 0, naming
# its request and queue id) when the holder's lease runs out (its
# license's TTL of 3 s, nobody heartbeats), when an admin removes the
# holder's lease (`xlicen remove`), and when a lingering seat's time ends
# (linger 6 s: not at the release, at the linger's end).  The second in
# line is not served by one freed seat.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
. "$(dirname "$0")/serve.sh"

R=$XLICEN_REALM
# Each license has its own TTL: only xexp's leases run out in this test.
license xexp 1 --ttl 3 --heartbeat 1
license xrm 1 --ttl 60 --heartbeat 1
license xlin 1 --ttl 60 --heartbeat 1 --linger 6
policy "[admin]
	principals = admin@$R"
# No orphan grace: a lease whose client left is freed by its TTL only.
server_start --policy "$T/policy.conf" --orphan-grace 0
now() { date +%s.%N; }
# elapsed T0: seconds since T0, to 0.1 s.
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ---- an admin removes the holder's lease ----
bgwire dave dave checkout xrm 1.0 1 0 listen 30
await dave "^GRANT id=100 lease="
D=$(sed -n 's/^GRANT id=100 lease=\([0-9a-f]*\) .*/\1/p' "$T/dave.out")
bgwire erin bob checkout xrm 1.0 1 1 listen 30
await erin "^QUEUED id=100 .* position=1 "
expect_eq "$(queued xrm)" 1 "bob queued on xrm"
# With a TTL of 60 s nothing else frees dave's seat, and no other lease
# expires while this part runs (an expiry serves every queue).
t0=$(now)
run as admin xl remove "$D"
expect_rc 0 "admin removes dave's lease"
await erin "^GRANT id=0 lease=[0-9a-f]\{32\} request=100 queue_id=q[0-9a-f]* in_use=1 total=1 heartbeat=1$" 5
await dave "^REVOKE id=0 lease=$D code=REVOKED "
E=$(sed -n 's/^GRANT id=0 lease=\([0-9a-f]*\) .*/\1/p' "$T/erin.out")
[ "$E" != "$D" ] || fail "bob was given dave's lease id"
expect_eq "$(queued xrm)" 0 "nobody queued on xrm"
expect_eq "$(in_use xrm)" 1 "bob's seat of xrm"
it_log "served $(elapsed "$t0") s after the removal"

# ---- a lingering seat's time ends ----
run probe checkout xlin
expect_rc 0 "alice takes xlin's only seat"
L=$RUN_OUT
bgwire frank carol checkout xlin 1.0 1 1 listen 30
await frank "^QUEUED id=100 .* position=1 "
run xl release "$L"
expect_rc 0 "alice releases xlin"
t0=$(now)
# The seat lingers (6 s; room for the three checks below on a slow
# sanitizer run): still in use, carol still waits.
expect_eq "$(in_use xlin)" 1 "xlin lingers after the release"
expect_eq "$(queued xlin)" 1 "carol still queued during the linger"
run as admin xl holders --json xlin
expect_rc 0 "holders of xlin during the linger"
expect_contains "$RUN_OUT" "\"state\": \"lingering\", \"principal\": \"alice@$R\"" "alice's lingering seat"
expect_contains "$RUN_OUT" "\"state\": \"queued\", \"principal\": \"carol@$R\"" "carol in line"
await frank "^GRANT id=0 lease=[0-9a-f]\{32\} request=100 queue_id=q[0-9a-f]* in_use=1 total=1 heartbeat=1$" 10
waited=$(elapsed "$t0")
it_log "served $waited s after the release (linger 6 s)"
# The linger ends in whole seconds: at least 5 s after the release.
awk -v w="$waited" 'BEGIN { exit !(w >= 5.0) }' ||
	fail "carol served $waited s after the release, before the linger of 6 s ended"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'linger' AND product = 'xlin' AND seats = -1")" 1 \
	"the linger's end audited"
expect_eq "$(queued xlin)" 0 "nobody queued on xlin"

# ---- the TTL runs out ----
run probe checkout xexp
expect_rc 0 "alice takes xexp's only seat"
A=$RUN_OUT
bgwire bob bob checkout xexp 1.0 1 1 listen 15
await bob "^QUEUED id=100 queue_id=q[0-9a-f]\{16\} position=1 in_use=1 total=1$"
bgwire carol carol checkout xexp 1.0 1 1 listen 15
await carol "^QUEUED id=100 .* position=2 "
await bob "^GRANT id=0 lease=[0-9a-f]\{32\} request=100 queue_id=q[0-9a-f]* in_use=1 total=1 heartbeat=1$" 8
BOBQ=$(sed -n 's/^QUEUED.* queue_id=\(q[0-9a-f]*\) .*/\1/p' "$T/bob.out")
expect_contains "$(grep '^GRANT' "$T/bob.out")" "queue_id=$BOBQ" "bob's grant names his queue id"
expect_not_contains "$(cat "$T/carol.out")" "GRANT" "carol is second: one freed seat serves one"
run probe heartbeat "$A"
expect_rc 2 "alice's lease after its TTL"
expect_contains "$RUN_ERR" "lease_probe: NO_LEASE: " "alice's lease expired"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'dequeue' AND principal = 'bob@$R' AND product = 'xexp' AND detail = 'granted'")" 1 \
	"bob's dequeue audited as granted"

server_stop
pass
