#!/usr/bin/env bash
# kill -9 of one of 3 servers on one PostgreSQL database, under load
# (issue 13, items 3 and 5): 3 clients whose server list starts with
# server 1 hold a seat each, 5 more cycle at random across the servers.
# Server 1 is killed; every client that was on it must be HELD again, on
# another server, with the same lease (RECLAIM), within 2 s: the library
# re-attaches as soon as the server's end of the connection closes (GRACE
# only if no server of its list answers).  The servers keep their default
# heartbeat (30 s), so a client that waited for its next heartbeat fails.  No seat lost or doubled: the checker compares the clients' logs
# with the audit trail and the seats in use sampled from the database.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pgservers.sh"

SEATS=6
CI=$(pg_newdb kill)
license xkill "$SEATS" --dup-group none
pgs_start "$CI" 3
pgs_sample_start "$CI"
users=(alice bob carol dave)
for i in 1 2 3; do
	pgs_client "c$i" "${users[i]}" -s "$(pgs_list 1)" -t 12 -H 60000:60000 xkill
done
for i in 4 5 6 7 8; do
	pgs_client "c$i" "${users[i % 4]}" -s "$(pgs_list)" -r -t 12 -H 200:1500 -I 0:100 xkill
done
# The three pinned clients hold their seats on server 1.
held_on_1() { [ "$(cat "$T"/c[123].log 2>/dev/null | grep -c "^GRANT .* ${PGS_PORT[1]}\$")" = 3 ]; }
wait_until 10 "the pinned clients to hold their seats on server 1" held_on_1
sleep 2
pgs_kill 1
it_log "killed server 1 at $PGS_KILLED_MS"
pgs_wait_clients
pgs_sample_stop
# Each pinned client is back on another server with the same lease.
for i in 1 2 3; do
	grep -q "^HELD .* \(${PGS_PORT[2]}\|${PGS_PORT[3]}\)\$" "$T/c$i.log" ||
		fail "c$i not HELD again on server 2 or 3: $(cat "$T/c$i.log")"
done
pgs_check --seats "$SEATS" --event-ms "$PGS_KILLED_MS" --max-recovery-ms 2000 --min-recovered 3
pgs_stop_all
pass
