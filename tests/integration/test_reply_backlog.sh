#!/usr/bin/env bash
# A client that pipelines requests whose replies pass the per-connection
# backlog (LIMIT_CONN_BACKLOG, 256 KiB): the server stops reading, keeps
# the unread requests, and must take them up again once the client has
# read its replies (server/conn.c).  300 STATUS requests over 40 pools
# (about 1.5 MB of replies), written back to back: every one is answered,
# in order, within the command timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

for i in $(seq 1 40); do license "xb$i" 5; done
server_start
wire flood 300
expect_rc 0 "the flooding client"
expect_eq "$RUN_OUT" "FLOOD sent=300 replies=300 in_order=yes" "replies to 300 pipelined STATUS requests"
# A client with a small receive buffer backs the replies up sooner.
XLICEN_PROBE_RCVBUF=4096 wire flood 300
expect_eq "$RUN_OUT" "FLOOD sent=300 replies=300 in_order=yes" "the same with a 4 KiB receive buffer"
server_stop
pass
