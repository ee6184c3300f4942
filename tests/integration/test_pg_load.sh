#!/usr/bin/env bash
# Several servers on one PostgreSQL database (issue 13, item 5): 3
# gss-xlicend and 8 clients checking out and releasing a 3-seat product at
# random across them for 20 s.  While they run, a sampler counts the seats
# in use from the database; afterwards pg_check.py compares the clients'
# own logs of grants with the audit trail.  Wanted: 0 over-subscriptions
# (database and clients' logs), 0 lost grants, nothing left in use.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pgservers.sh"

SEATS=3
CI=$(pg_newdb load)
license xload "$SEATS" --dup-group none
pgs_start "$CI" 3
pgs_sample_start "$CI"
users=(alice bob carol dave)
for i in $(seq 1 8); do
	pgs_client "c$i" "${users[i % 4]}" -s "$(pgs_list)" -r -t 20 -H 50:300 -I 0:100 xload
done
pgs_wait_clients
pgs_sample_stop
pgs_check --seats "$SEATS" --min-grants 50
expect_eq "$(pg_query "$CI" "SELECT COUNT(*) FROM leases")" 0 "leases left after every client released"
pgs_stop_all
pass
