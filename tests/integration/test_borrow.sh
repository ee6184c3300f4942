#!/usr/bin/env bash
# Borrowing for offline use (issue 17): the license field and the policy
# decide (BORROW, BORROW_PERIOD, BORROW_LIMIT); a borrowed seat counts
# until its end without heartbeats, survives its connection and a
# restart; with the server stopped the library grants from the token and
# refuses a tampered, expired, other-principal, other-host one, a clock
# set back, and a token no installed key verifies, each with its code;
# an admin's cancel keeps the seat counted (and `xlicen remove` says so);
# back online a checkout, blocking or non-blocking (async_probe, once
# HELD), drops a cancelled token and keeps a valid one; `borrow --return`
# frees it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
. "$(dirname "$0")/async.sh"

[ "$(id -u)" = 0 ] || fail "the key directory must be root's: run as root"
R=$XLICEN_REALM
license xdemo 3 --borrow 7
license nob 2
# The server's own key pair (as an administrator makes it).
"$XLICEN_BIN_LICENSE" keygen "$T/private/borrow" >/dev/null 2>&1 ||
	fail "keygen of the borrow key"
mkdir -m 0755 "$T/borrow-keys"
mv "$T/private/borrow.pub" "$T/borrow-keys/server.pub"
export XLICEN_BORROW_KEYDIR="$T/borrow-keys"
export XDG_STATE_HOME="$T/state"
cat >"$T/gss-xlicend.conf" <<CONF
[server]
	borrow_key = $T/private/borrow.key
[leases]
	orphan_grace = 1
[http]
	listen = 127.0.0.1:0
	keytab = $XLICEN_HTTP_KEYTAB
CONF
policy "[admin]
	principals = admin@$R
[products]
	xdemo = {
		borrow_days = 5
		borrow_seats = 2
		borrow = alice@$R
		borrow = bob@$R
		borrow = dave@$R
	}
	nob = {
		borrow_days = 5
	}"
# The key is checked as at start: a key others may read is refused.
as_root=()
[ "$(id -u)" = 0 ] && as_root=(--user root)
chmod 0640 "$T/private/borrow.key"
run "$XLICEN_BIN_SERVER" --check-config --config "$T/gss-xlicend.conf" "${as_root[@]}" \
	--keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/xlicen.db" --licenses "$T/lic" \
	--vendor-keys "$T/keys" --policy "$T/policy.conf"
expect_rc 1 "--check-config with a borrow key others may read"
expect_contains "$RUN_ERR" "borrow_key: " "the borrow key refused"
chmod 0600 "$T/private/borrow.key"
run "$XLICEN_BIN_SERVER" --check-config --config "$T/gss-xlicend.conf" "${as_root[@]}" \
	--keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/xlicen.db" --licenses "$T/lic" \
	--vendor-keys "$T/keys" --policy "$T/policy.conf"
expect_rc 0 "--check-config with the borrow key"
expect_contains "$RUN_OUT" "borrow_key $T/private/borrow.key: OK" "the borrow key checked"
server_start --config "$T/gss-xlicend.conf" --policy "$T/policy.conf"
in_use() { json_field "$(as alice "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" status --json)" "$1" in_use; }
token() { printf '%s/%s/xlicen/borrow/%s.token' "$T" "$1" "$2"; }

# Refusals, each with its code (exit 2 and the reason).
run xl borrow nob --days 1
expect_rc 2 "borrow of a license without a borrow field"
expect_contains "$RUN_ERR" "borrowing is not allowed for this license or by the policy: localhost:$SERVER_PORT (127.0.0.1): no license of nob allows borrowing" "BORROW (license)"
run xl borrow xdemo --days 8
expect_rc 2 "borrow beyond the license's 7 days"
expect_contains "$RUN_ERR" "borrow period is longer than allowed" "BORROW_PERIOD (license)"
expect_contains "$RUN_ERR" "the licenses of xdemo allow borrowing for at most 7 days" "license period reason"
run xl borrow xdemo --days 6
expect_rc 2 "borrow beyond the policy's 5 days"
expect_contains "$RUN_ERR" "the policy allows borrowing xdemo for at most 5 days" "BORROW_PERIOD (policy)"
run as carol xl borrow xdemo --days 1
expect_rc 2 "carol is not on the borrow list"
expect_contains "$RUN_ERR" "carol@$R is not on the policy's borrow list of xdemo" "BORROW (list)"
expect_eq "$(in_use xdemo)" 0 "in use after the refusals"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'deny' AND code = 90")" 2 "BORROW denials audited"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'deny' AND code = 91")" 2 "BORROW_PERIOD denials audited"

# dave: a borrow of two seconds, to expire on the laptop.
XDG_STATE_HOME="$T/dave" run as dave xl borrow xdemo --until "@$(( $(date +%s) + 2 ))"
expect_rc 0 "dave's short borrow"
expect_eq "$(in_use xdemo)" 1 "in use with dave's borrow"
wait_until 10 "dave's borrow to end on the server" db_is \
	"SELECT COUNT(*) FROM leases WHERE borrow > 0" 0

# alice (this host) and bob (for another host): two seats, the cap.
XDG_STATE_HOME="$T/alice" run xl borrow xdemo --days 2
expect_rc 0 "alice borrows"
expect_contains "$RUN_OUT" "borrowed xdemo lease " "borrow output"
ALICE=$(lease_from "$RUN_OUT")
[ -s "$(token alice xdemo)" ] || fail "no token stored for alice"
expect_eq "$(stat -c %a "$(token alice xdemo)")" 600 "token file mode"
XDG_STATE_HOME="$T/alice" run xl borrow xdemo --days 1
expect_rc 2 "alice borrows the product a second time"
expect_contains "$RUN_ERR" "you have borrowed xdemo until " "one token per product"
XDG_STATE_HOME="$T/bob" run as bob xl borrow xdemo 1.0 --days 1 --host laptop-b.example.org
expect_rc 0 "bob borrows for another host"
BOB=$(lease_from "$RUN_OUT")
XDG_STATE_HOME="$T/dave" run as dave xl borrow xdemo --days 1
expect_rc 2 "a third borrowed seat"
expect_contains "$RUN_ERR" "the product's borrowed seats are at their limit" "BORROW_LIMIT"
expect_contains "$RUN_ERR" "2 seat(s) of xdemo borrowed, the policy allows 2" "BORROW_LIMIT reason"
expect_eq "$(in_use xdemo)" 2 "in use: two borrowed seats"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'borrow'")" 3 "borrows audited"
# No heartbeat, no orphan: the connections are closed, the grace (1 s) past.
sleep 1.5
expect_eq "$(db "SELECT COUNT(*) FROM leases WHERE borrow = 1 AND orphan_until = 0")" 2 "borrowed leases not orphaned"
expect_eq "$(in_use xdemo)" 2 "in use after the orphan grace"
run as admin xl holders xdemo --json
expect_rc 0 "holders"
expect_contains "$RUN_OUT" "\"state\": \"borrowed\", \"principal\": \"alice@$R\"" "alice's borrowed seat in holders"
END=$(db "SELECT expires_at FROM leases WHERE id = '$ALICE'")

# Offline: the server is stopped.
server_stop
XDG_STATE_HOME="$T/alice" run xl checkout xdemo -- true
expect_rc 0 "alice's offline checkout"
expect_contains "$RUN_ERR" "no server reachable; borrowed xdemo lease $ALICE until" "offline grant"
# The non-blocking API says BORROWED.
XDG_STATE_HOME="$T/alice" aprobe_start ab "$XLICEN_REALM_DIR/alice.ccache" xdemo
await ab "^STATE BORROWED code=OK lease=$ALICE expires=$END " 10
aprobe_stop ab
# Tickets expired (a laptop away for days): the token still serves.
kinit_to "$T/short.ccache" alice 2s
wait_until 10 "the 2 s tickets to expire" not klist -s -c "FILE:$T/short.ccache"
XDG_STATE_HOME="$T/alice" KRB5CCNAME="FILE:$T/short.ccache" run xl checkout xdemo -- true
expect_rc 0 "offline checkout with expired tickets"
expect_contains "$RUN_ERR" "no server reachable; borrowed xdemo lease $ALICE" "offline grant without tickets"
XDG_STATE_HOME="$T/alice" run xl checkout xdemo 2.0 -- true
expect_rc 2 "another version offline"
expect_contains "$RUN_ERR" "no borrow token for this product" "NO_TOKEN"
XDG_STATE_HOME="$T/bob" run as bob xl checkout xdemo -- true
expect_rc 2 "bob's token on this host"
expect_contains "$RUN_ERR" "borrow token was issued for another host" "TOKEN_HOST"
XDG_STATE_HOME="$T/dave" run as dave xl checkout xdemo -- true
expect_rc 2 "dave's ended token"
expect_contains "$RUN_ERR" "borrow token has expired" "TOKEN_EXPIRED"
mkdir -p "$T/carol/xlicen/borrow"
cp "$(token alice xdemo)" "$T/carol/xlicen/borrow/"
XDG_STATE_HOME="$T/carol" run as carol xl checkout xdemo -- true
expect_rc 2 "alice's token used by carol"
expect_contains "$RUN_ERR" "borrow token belongs to another principal" "TOKEN_PRINCIPAL"
# Tampered: the end moved later (byte 20, the end's lowest byte).
mkdir -p "$T/evil/xlicen/borrow"
cp "$(token alice xdemo)" "$T/evil/xlicen/borrow/"
printf '\377' | dd of="$T/evil/xlicen/borrow/xdemo.token" bs=1 seek=20 conv=notrunc 2>/dev/null
XDG_STATE_HOME="$T/evil" run xl checkout xdemo -- true
expect_rc 2 "tampered token"
expect_contains "$RUN_ERR" "borrow token signature does not verify against an installed key" "TOKEN_SIGNATURE"
# No key installed, or a key directory that is not root's alone.
mkdir -m 0755 "$T/nokeys"
XLICEN_BORROW_KEYDIR="$T/nokeys" XDG_STATE_HOME="$T/alice" run xl checkout xdemo -- true
expect_rc 2 "no key installed"
expect_contains "$RUN_ERR" "borrow token signature does not verify" "TOKEN_SIGNATURE without a key"
chmod 0777 "$T/borrow-keys"
XDG_STATE_HOME="$T/alice" run xl checkout xdemo -- true
expect_rc 2 "a key directory others may write"
expect_contains "$RUN_ERR" "no usable key directory" "key directory refused"
chmod 0755 "$T/borrow-keys"
# The clock set back two hours behind the latest time seen.
echo $(( $(date +%s) + 7200 )) >"$T/alice/xlicen/clock"
XDG_STATE_HOME="$T/alice" run xl checkout xdemo -- true
expect_rc 2 "clock set back"
expect_contains "$RUN_ERR" "the clock was set back beyond the tolerance" "TOKEN_CLOCK"
date +%s >"$T/alice/xlicen/clock"

# Back: a restart keeps the borrowed seats and their ends.
server_start
expect_eq "$(in_use xdemo)" 2 "in use after the restart"
expect_eq "$(db "SELECT expires_at FROM leases WHERE id = '$ALICE'")" "$END" "end unchanged by the restart"
# An admin cancels bob's: marked, still counted (his laptop cannot be told).
run as admin xl remove "$BOB"
expect_rc 0 "admin cancels bob's borrowed lease"
BOB_END=$(db "SELECT expires_at FROM leases WHERE id = '$BOB'")
expect_eq "$RUN_OUT" "cancelled borrowed lease $BOB: its seat stays counted until $(date -u -d "@$BOB_END" '+%Y-%m-%dT%H:%M:%SZ')" "remove output of a borrowed lease"
expect_eq "$(in_use xdemo)" 2 "a cancelled borrow still counts"
run as admin xl holders xdemo --json
expect_contains "$RUN_OUT" "\"state\": \"cancelled\", \"principal\": \"bob@$R\"" "cancelled in holders"
expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'borrow_cancel' AND lease_id = '$BOB'")" 1 "cancel audited"
# The status page names both, and offers no Remove for the cancelled one.
HTTP=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVER_LOG" | tail -n 1)
[ -n "$HTTP" ] || fail "no \"http: listening on\" line"
PAGE=$(KRB5CCNAME="FILE:$XLICEN_REALM_DIR/admin.ccache" timeout -k 2 "$IT_CMD_TIMEOUT" \
	curl -sS -g --negotiate -u : --resolve "localhost:$HTTP:127.0.0.1" \
	"http://localhost:$HTTP/admin") || fail "curl /admin failed"
expect_contains "$PAGE" "<td>borrowed, cancelled<td class=\"lease\">$BOB" "the page's cancelled borrow"
expect_contains "$PAGE" "<td>borrowed<td class=\"lease\">$ALICE" "the page's borrowed seat"
expect_not_contains "$PAGE" "name=\"lease\" value=\"$BOB\"" "no Remove for a cancelled borrow"
# Online again, the non-blocking checkout reconciles once HELD on the
# server: a copy of bob's cancelled token is dropped, alice's kept.
mkdir -p "$T/bob2/xlicen/borrow"
cp "$(token bob xdemo)" "$T/bob2/xlicen/borrow/"
XDG_STATE_HOME="$T/bob2" aprobe_start bn "$XLICEN_REALM_DIR/bob.ccache" xdemo
await bn "^STATE HELD code=OK " 10
wait_until 5 "the non-blocking checkout to drop bob's cancelled token" \
	not test -e "$(token bob2 xdemo)"
aprobe_stop bn
XDG_STATE_HOME="$T/alice" aprobe_start an "$XLICEN_REALM_DIR/alice.ccache" xdemo
await an "^STATE HELD code=OK " 10
sleep 1
aprobe_stop an
[ -s "$(token alice xdemo)" ] || fail "alice's valid token dropped by the non-blocking checkout"
# Online again, a checkout reconciles: bob's cancelled token is dropped,
# alice's kept (and neither lease is extended).
XDG_STATE_HOME="$T/bob" run as bob xl checkout xdemo -- true
expect_rc 0 "bob's checkout online"
[ ! -e "$(token bob xdemo)" ] || fail "bob's cancelled token kept after going online"
XDG_STATE_HOME="$T/alice" run xl checkout xdemo -- true
expect_rc 0 "alice's checkout online"
expect_contains "$RUN_ERR" "xlicen: granted xdemo lease" "a seat of its own online"
[ -s "$(token alice xdemo)" ] || fail "alice's valid token dropped"
expect_eq "$(db "SELECT expires_at FROM leases WHERE id = '$ALICE'")" "$END" "end unchanged by the reconciling heartbeat"
expect_eq "$(in_use xdemo)" 2 "in use after the online checkouts"
# alice returns hers early: the seat is free, the token gone.
XDG_STATE_HOME="$T/alice" run xl borrow --return xdemo
expect_rc 0 "alice returns"
expect_eq "$RUN_OUT" "returned xdemo" "return output"
[ ! -e "$(token alice xdemo)" ] || fail "alice's token still stored after the return"
expect_eq "$(in_use xdemo)" 1 "in use after the return"
XDG_STATE_HOME="$T/alice" run xl borrow --return xdemo
expect_rc 2 "a second return"
expect_contains "$RUN_ERR" "no borrow token for this product" "return without a token"
pass
