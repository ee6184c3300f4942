#!/usr/bin/env bash
# Queueing and revocation with the non-blocking API:
#  - a checkout willing to queue (XLICEN_CHECKOUT_QUEUE) while no seat is
#    free is QUEUED at position 1, and HELD once the holder quits: the
#    server's unsolicited GRANT (request id 0) is picked up by the loop;
#  - blocking calls on the same session amid the checkout (status) work;
#  - an administrator removes the lease (xlicen_remove): the holder hears
#    the server's REVOKE at once and reports LOST with REVOKED; the seat
#    is free; a non-administrator's remove is NOT_AUTHORIZED.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/async.sh"

license xdemo 1
printf '[admin]\n\tprincipals = admin@%s\n' "$XLICEN_REALM" >"$T/policy.conf"
server_start --policy "$T/policy.conf" --heartbeat 2 --lease-ttl 30

aprobe_start A "$XLICEN_REALM_DIR/alice.ccache" xdemo
await A '^STATE HELD ' 10

aprobe_start C "$XLICEN_REALM_DIR/carol.ccache" -q xdemo
await C '^STATE QUEUED ' 10
expect_contains "$LINE" "position 1" "carol's place in line"
expect_eq "$(field "$LINE" in_use)/$(field "$LINE" total)" 1/1 "counts while queued"
aprobe_cmd C "status xdemo"
await C '^STATUS ' 10
expect_eq "$LINE" "STATUS rc=OK in_use=1 total=1" "a blocking status while queued"

aprobe_stop A
await C '^STATE HELD ' 10 '^STATE QUEUED '
CLEASE=$(field "$LINE" lease)
expect_eq "$(field "$LINE" who)" "carol@$XLICEN_REALM" "holder after the queue"
expect_eq "$(in_use xdemo)" 1 "in use after the queue was served"
aprobe_cmd C "status xdemo"
await C '^STATUS ' 10 '^STATE HELD '
expect_eq "$LINE" "STATUS rc=OK in_use=1 total=1" "a blocking status while held"

# Bob may not remove leases; the administrator may.
aprobe_start B "$XLICEN_REALM_DIR/bob.ccache" -n
aprobe_cmd B "remove $CLEASE"
await B '^REMOVE ' 10
expect_eq "$LINE" "REMOVE rc=NOT_AUTHORIZED" "bob's remove"
aprobe_start M "$XLICEN_REALM_DIR/admin.ccache" -n
aprobe_cmd M "remove $CLEASE"
await M '^REMOVE ' 10
expect_eq "$LINE" "REMOVE rc=OK" "the administrator's remove"
await C '^STATE LOST ' 5
expect_eq "$(field "$LINE" code)" REVOKED "carol's loss"
expect_contains "$LINE" "removed by admin@$XLICEN_REALM" "reason of the loss"
expect_eq "$(in_use xdemo)" 0 "in use after the removal"
aprobe_stop C
aprobe_stop B
aprobe_stop M
pass
