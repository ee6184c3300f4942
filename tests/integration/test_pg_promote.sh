#!/usr/bin/env bash
# Database failover under load (issue 13, items 4 and 5): a primary and a
# synchronous streaming standby of its own (scripts/pg.sh --standby), 3
# servers whose conninfo lists both nodes with
# target_session_attrs=read-write, 8 clients cycling at random across
# them.  The primary is crashed (stop -m immediate) and the standby
# promoted with pg_ctl promote.  The servers reconnect through libpq's
# multi-host list; every grant a client was told of must be in the audit
# trail of the promoted node (synchronous commit), no pool over its
# count, and the clients HELD again: the figures are printed.  A release
# answered within 2 s of the crash may be lost with the primary (releases
# commit with synchronous_commit off): its lease is left to its TTL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pgservers.sh"

pgp_cleanup() {
	"$XLICEN_PG_SH" stop "$T/pg" >/dev/null 2>&1 || true
}
# A failed run used to leave its primary and standby running: pgs_cleanup
# returned the failing status, and set -e stopped the trap there.
trap 'pgp_rc=$?; pgs_cleanup; pgp_cleanup; it_cleanup "$pgp_rc"' EXIT

# The cluster's user (postgres, when root runs this) must reach $T.
chmod 0755 "$T"
"$XLICEN_PG_SH" start "$T/pg" --standby >"$T/pg.out" 2>&1 ||
	fail "pg.sh start --standby: $(cat "$T/pg.out")"
CI=$(. "$T/pg/pg.env" && printf '%s\n' "$XLICEN_PG_CONNINFO")
case $CI in
*target_session_attrs=read-write*) ;;
*) fail "conninfo does not list the nodes for read-write: $CI" ;;
esac

SEATS=4
license xprom "$SEATS" --dup-group none
# Heartbeats every second, so that held leases meet the failover too.
pgs_start "$CI" 3 --lease-ttl 10 --heartbeat 1
it_log "servers started"
pgs_sample_start "$CI"
users=(alice bob carol dave)
# The clients run 14 s past the crash: a release made while the servers
# wait to reconnect (at most one try a second) fails with DB, and its
# seat stays taken until the lease's TTL (10 s, then the expiry poll);
# with every seat held at the crash, the first grant after it can only
# come then.
for i in $(seq 1 8); do
	pgs_client "c$i" "${users[i % 4]}" -s "$(pgs_list)" -r -t 18 -H 500:2500 -I 0:100 xprom
done
sleep 4
CRASH_MS=$(now_ms)
"$XLICEN_PG_SH" crash "$T/pg" || fail "could not crash the primary"
"$XLICEN_PG_SH" promote "$T/pg" || fail "could not promote the standby"
PROMOTED_MS=$(now_ms)
it_log "primary crashed at $CRASH_MS, standby promoted $((PROMOTED_MS - CRASH_MS)) ms later"
pgs_wait_clients
pgs_sample_stop
# The promoted node is the one that now takes writes.
expect_eq "$(pg_query "$CI" "SELECT pg_is_in_recovery()")" f "the promoted standby takes writes"
first=$(cat "$T"/c*.log | awk -v t="$PROMOTED_MS" '$1 == "GRANT" && $2 >= t { print $2 }' | sort -n | head -n 1)
[ -n "$first" ] || fail "no grant after the promotion"
awk -v f="$first" -v c="$CRASH_MS" -v p="$PROMOTED_MS" 'BEGIN {
	printf "first grant after the crash: %.3f s (crash to promoted: %.3f s)\n", (f - c) / 1000, (p - c) / 1000 }'
it_log "clients done"
pgs_check --seats "$SEATS" --event-ms "$CRASH_MS" --async-window-ms 2000 \
	--min-grants 20 --max-recovery-ms 10000
pgs_stop_all
pass
