#!/usr/bin/env bash
# Claimed host names (issue 11).  The HOST a checkout reports is a claim;
# policy host: rules compare it in one canonical form (blanks around it,
# case and final dots do not count, nor the domain: kiosk1 and
# kiosk1.example.org are one host), so "exclude = host:kiosk1" refuses
# every spelling of kiosk1 with DENY EXCLUDED.  A HOST with a control
# character is DENY BAD_VALUE (a RECLAIM with one: ERROR BAD_VALUE).
# With [server] verify_host = true a claimed host must resolve to the
# connection's source address (DENY HOST_UNVERIFIED otherwise): localhost
# from 127.0.0.1 passes; a name that does not resolve, localhost from
# 127.0.0.2, an address literal, no HOST at all, and a RECLAIM claiming a
# name that does not resolve do not; SIGHUP turns it off again.
# /etc/hosts is read, never written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

R=$XLICEN_REALM
license xk 5
policy "[products]
	xk = {
		exclude = host:kiosk1
	}"
server_start --policy "$T/policy.conf"

# claim HOST STEP...: the wire probe (as alice) reporting HOST.
claim() {
	XLICEN_PROBE_HOST=$1
	export XLICEN_PROBE_HOST
	shift
	wire "$@"
	unset XLICEN_PROBE_HOST
}

# ---- every spelling of an excluded host is excluded ----
for h in 'kiosk1' 'kiosk1 ' ' kiosk1' 'KIOSK1.' 'kiosk1.example.org' \
	' Kiosk1.Example.ORG. ' $'kiosk1\t'; do
	claim "$h" checkout xk 1.0 1 0
	expect_rc 0 "checkout claiming \"$h\""
	expect_eq "$RUN_OUT" "DENY id=100 code=EXCLUDED reason=\"alice@$R is excluded from xk by policy: exclude = host:kiosk1 (line 3)\"" \
		"claim \"$h\" refused by exclude = host:kiosk1"
done
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'deny' AND code = 73")" 7 \
	"the refusals audited"
claim 'kiosk10' checkout xk 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100 lease=" "kiosk10 is another host"
claim 'ws1.example.org' checkout xk 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100 lease=" "ws1 is another host"
L=$(printf '%s\n' "$RUN_OUT" | sed -n 's/^GRANT id=100 lease=\([0-9a-f]*\) .*/\1/p')
# What the server records is the claim in canonical form (the full name).
expect_eq "$(db "SELECT COUNT(*) FROM leases WHERE host = 'ws1.example.org'")" 1 \
	"recorded host"

# ---- control characters: BAD_VALUE, nothing else looked at ----
for h in $'kiosk1\x01' $'ws1\x1b[2J' $'ws1\nfake log line' 'ws 1'; do
	claim "$h" checkout xk 1.0 1 0
	expect_rc 0 "checkout claiming a control character"
	expect_eq "$RUN_OUT" "DENY id=100 code=BAD_VALUE reason=\"HOST has a control character or a blank inside: not a host name\"" \
		"HOST with a control character"
done
# The CLI says so too (exit 2, refused).
run xl checkout --host $'ws1\x01' xk -- touch "$T/ran"
expect_rc 2 "CLI checkout with a control character in --host"
expect_contains "$RUN_ERR" "field value out of range" "BAD_VALUE text"
[ ! -e "$T/ran" ] || fail "the command ran without a seat"
# A RECLAIM that reports such a HOST: ERROR BAD_VALUE, the lease's host kept.
claim $'ws9\x01' reclaim "$L"
expect_eq "$RUN_OUT" "ERROR id=100 code=BAD_VALUE reason=\"HOST has a control character or a blank inside: not a host name\"" \
	"RECLAIM with a control character"
expect_eq "$(db "SELECT host FROM leases WHERE id = '$L'")" "ws1.example.org" "the lease's host kept"

# ---- [server] verify_host ----
server_stop
printf '[server]\n\tverify_host = true\n' >"$T/gss-xlicend.conf"
server_start --policy "$T/policy.conf" --config "$T/gss-xlicend.conf"
grep -q "verify_host" "$SERVER_LOG" || fail "no verify_host line in the server's log"

claim 'localhost' checkout xk 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100 lease=" "localhost from 127.0.0.1"
claim 'LOCALHOST.' checkout xk 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100 lease=" "LOCALHOST. from 127.0.0.1"
claim 'nonexistent.invalid' checkout xk 1.0 1 0
expect_eq "$RUN_OUT" "DENY id=100 code=HOST_UNVERIFIED reason=\"HOST nonexistent.invalid: the server cannot resolve nonexistent\"" \
	"a name that does not resolve"
claim '127.0.0.1' checkout xk 1.0 1 0
expect_eq "$RUN_OUT" "DENY id=100 code=HOST_UNVERIFIED reason=\"HOST 127.0.0.1: an address, not a host name\"" \
	"an address literal"
XLICEN_PROBE_NOHOST=1 wire checkout xk 1.0 1 0
expect_eq "$RUN_OUT" "DENY id=100 code=HOST_UNVERIFIED reason=\"no HOST: verify_host needs the client's host name\"" \
	"no HOST"
# From another loopback address, localhost is not the peer's name.
# (A loopback client may also claim the server's own name: on a machine
# itself named localhost that would be this claim.)
NDENY=7
if [ "$(hostname | cut -d. -f1 | tr '[:upper:]' '[:lower:]')" != localhost ]; then
	XLICEN_PROBE_SRC=127.0.0.2 XLICEN_PROBE_HOST=localhost wire checkout xk 1.0 1 0
	expect_rc 0 "checkout from 127.0.0.2"
	expect_eq "$RUN_OUT" "DENY id=100 code=HOST_UNVERIFIED reason=\"HOST localhost: no address of localhost is 127.0.0.2, the connection's\"" \
		"localhost from 127.0.0.2"
else
	it_log "this machine is named localhost: the 127.0.0.2 case is not tried"
	NDENY=6
fi
# The excluded host, verified or not, stays excluded: the policy decides
# only after the claim passed.
claim 'kiosk1' checkout xk 1.0 1 0
expect_contains "$RUN_OUT" "DENY id=100 code=HOST_UNVERIFIED" "kiosk1 does not resolve here"
# A RECLAIM claiming a host is checked too; one without HOST keeps its
# lease's.
claim 'nonexistent.invalid' reclaim "$L"
expect_eq "$RUN_OUT" "ERROR id=100 code=HOST_UNVERIFIED reason=\"HOST nonexistent.invalid: the server cannot resolve nonexistent\"" \
	"RECLAIM claiming a host that does not resolve"
wire reclaim "$L"
expect_contains "$RUN_OUT" "GRANT id=100 lease=$L" "RECLAIM without HOST"
expect_eq "$(db "SELECT host FROM leases WHERE id = '$L'")" "ws1.example.org" "the lease's host kept"
# The CLI: exit 2 (refused), the code's text.
run xl checkout --host nonexistent.invalid xk -- touch "$T/ran"
expect_rc 2 "CLI checkout claiming a host that is not the peer"
expect_contains "$RUN_ERR" "the claimed host is not the connection's address" "HOST_UNVERIFIED text"
[ ! -e "$T/ran" ] || fail "the command ran without a seat"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'deny' AND code = 77")" "$NDENY" \
	"HOST_UNVERIFIED refusals audited"

# SIGHUP turns the check off again.
printf '[server]\n\tverify_host = false\n' >"$T/gss-xlicend.conf"
kill -HUP "$SERVER_PID"
for i in $(seq 1 250); do
	grep -q "SIGHUP: \[server\] verify_host true -> false" "$SERVER_LOG" && break
	sleep 0.02
done
grep -q "SIGHUP: \[server\] verify_host true -> false" "$SERVER_LOG" ||
	fail "no SIGHUP line for verify_host"
claim 'nonexistent.invalid' checkout xk 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100 lease=" "no check after SIGHUP"
pass
