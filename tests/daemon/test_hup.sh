#!/usr/bin/env bash
# SIGHUP: alice holds a lease of xdemo; a second license file appears; after
# SIGHUP the server has the new pool, alice's lease is still there (status
# in use, heartbeats and her release work), nothing was restarted.  A
# changed [leases] ttl in the configuration file applies to the next grant;
# a changed [server] key is only logged; a broken file is not applied.
#
# Argument: "licenses" stops after the license part; "config" (the test
# daemon.hup_config) runs both.
. "$(dirname "$0")/lib.sh"

PART=${1:-config}
use_realm
make_licenses "$T" xdemo:2

cat >"$T/gss-xlicend.conf" <<EOF
[server]
	listen = 127.0.0.1:0
	keytab = $XLICEN_SERVICE_KEYTAB
	database = $T/xlicen.db
	licenses = $T/lic
	vendor_keys = $T/keys
[leases]
	ttl = 60
	heartbeat = 1
EOF
# shellcheck disable=SC2046
start_server "$T/server.log" --config "$T/gss-xlicend.conf" $(server_user_args)
expect_contains "$(cat "$SERVER_LOG")" "ready (lease ttl 60 s, heartbeat 1 s)" "ready line"

hold alice alice
ALICE_PID=$HOLD_PID
ALICE_LEASE=$(lease_of alice)
[ -n "$ALICE_LEASE" ] || fail "no lease id in alice's grant line"
expect_eq "$(seats xdemo)" "1/2" "xdemo before SIGHUP"
expect_eq "$(seats xother)" "/" "xother before SIGHUP (no such pool)"

# A second license, then SIGHUP.
make_licenses "$T" xother:5
kill -HUP "$SERVER_PID"
wait_log "loaded 2 license\(s\) from $T/lic, refused 0"
kill -0 "$SERVER_PID" || fail "the server died on SIGHUP"
expect_contains "$(cat "$SERVER_LOG")" "SIGHUP: rereading licenses" "reread line"

expect_eq "$(seats xother)" "0/5" "the new pool after SIGHUP"
expect_eq "$(seats xdemo)" "1/2" "alice's seat after SIGHUP"

# Her lease is alive: heartbeats (every second) keep going through the
# reload, bob takes the second seat, carol is denied.
HUP_S=$(date +%s)
wait_until 10 "a heartbeat of alice's lease after the reload" \
	db_is "SELECT COUNT(*) FROM leases WHERE id = '$ALICE_LEASE' AND heartbeat_at > $HUP_S" 1
expect_not_contains "$(cat "$T/alice.err")" "heartbeat" "alice's heartbeats"
xl as carol checkout xother -- true
expect_eq "$RUN_RC" 0 "carol's checkout of the new product (stderr: $RUN_ERR)"
hold bob bob
BOB_PID=$HOLD_PID
xl as carol checkout xdemo -- true
expect_eq "$RUN_RC" 2 "carol's checkout of a full xdemo"
expect_eq "$RUN_ERR" "xlicen: xdemo: localhost:$PORT (127.0.0.1): all seats are in use (2/2 seats in use): try again later, or wait in the server's queue with --wait" "carol's denial"

# alice's command ends: her own release succeeds (no error line).
touch "$T/go.alice" "$T/go.bob"
rc=0
wait "$ALICE_PID" || rc=$?
expect_eq "$rc" 0 "alice's xlicen exit status"
wait "$BOB_PID" || fail "bob's xlicen failed: $(cat "$T/bob.err")"
expect_eq "$(grep -c '^xlicen:' "$T/alice.err")" 1 "alice's messages ($(cat "$T/alice.err"))"
expect_eq "$(seats xdemo)" "0/2" "xdemo after both released"
expect_contains "$(cat "$SERVER_LOG")" "release lease $ALICE_LEASE by alice@XLICEN.TEST" "alice's release"

if [ "$PART" = licenses ]; then
	stop_server TERM 5
	expect_eq "$STOP_RC" 0 "exit status after SIGTERM"
	pass
fi

# --- the configuration file on SIGHUP ---

# A broken file: logged, not applied, the server keeps serving.
cp "$T/gss-xlicend.conf" "$T/good.conf"
printf '[limits]\n\tmax_frame = big\n' >>"$T/gss-xlicend.conf"
kill -HUP "$SERVER_PID"
wait_log "SIGHUP: $T/gss-xlicend.conf not reread; the running configuration stays"
expect_contains "$(cat "$SERVER_LOG")" "$T/gss-xlicend.conf:11: [limits] max_frame = \"big\": expected a number of bytes 4096..16777216" "the error"
xl as dave checkout xdemo -- true
expect_eq "$RUN_RC" 0 "a checkout after the broken reload"

# ttl 60 -> 90 and a new listen address: the ttl applies to the next
# grant, the address only at the next start.
sed -e 's/ttl = 60/ttl = 90/' -e 's/listen = 127.0.0.1:0/listen = 127.0.0.1:1/' \
	"$T/good.conf" >"$T/gss-xlicend.conf"
kill -HUP "$SERVER_PID"
wait_log "SIGHUP: reread $T/gss-xlicend.conf"
LOG=$(cat "$SERVER_LOG")
expect_contains "$LOG" "SIGHUP: [leases] ttl 60 -> 90 s" "ttl change"
expect_contains "$LOG" "SIGHUP: [server] listen changed; it takes effect at the next start" "listen change"
expect_not_contains "$LOG" "[leases] heartbeat" "heartbeat unchanged"
t0=$(date +%s)
xl as dave checkout xdemo -- true
expect_eq "$RUN_RC" 0 "dave's checkout after the reload"
exp=$(sed -n 's/.*expires \([0-9T:-]*Z\)).*/\1/p' <<<"$RUN_ERR")
[ -n "$exp" ] || fail "no expiry in \"$RUN_ERR\""
left=$(( $(date -d "$exp" +%s) - t0 ))
[ "$left" -ge 89 ] && [ "$left" -le 92 ] ||
	fail "lease granted after the reload lives $left s, expected 90"

stop_server TERM 5
expect_eq "$STOP_RC" 0 "exit status after SIGTERM"
pass
