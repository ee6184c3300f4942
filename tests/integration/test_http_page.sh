#!/usr/bin/env bash
# The status page ([http], server/http_page.c) and its Kerberos sign-on
# (HTTP Negotiate, server/http_auth.c), driven with curl --negotiate
# against the real realm: no ticket gets 401 with the Negotiate challenge
# and the page on how to get one; alice (not an admin) sees the licenses
# but no holders and no Remove; admin sees the holders (HTML-escaped) and
# a Remove form per lease, whose POST frees the seat (checked with the
# CLI) and is audited; the cross-site rule (token, Origin,
# Sec-Fetch-Site: 403), and the admin ACL checked again at the POST
# (403, audited); bad requests (a huge header 431, a malformed
# Negotiate token 400, a replayed one 401, wrong methods 405 with Allow)
# while the server keeps serving.  Then [http] public_status and
# metrics_auth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

command -v curl >/dev/null || fail "curl is needed (scripts/deps.sh installs it)"
grep -qw GSS-API <<<"$(curl -V)" || fail "this curl has no GSS-API (Negotiate)"
command -v sqlite3 >/dev/null || fail "sqlite3 is needed to read the audit trail (scripts/deps.sh installs it)"
R=$XLICEN_REALM

license xdemo 3 --versions 1.0-2.0
cat >"$T/http.conf" <<CONF
[leases]
	orphan_grace = 0
[http]
	listen = 127.0.0.1:0
	keytab = $XLICEN_HTTP_KEYTAB
CONF
policy "[admin]
	principals = admin@$R"
server_start --config "$T/http.conf" --policy "$T/policy.conf"
HTTP=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVER_LOG")
[ -n "$HTTP" ] || fail "no \"http: listening on\" line"
log_has 'http: keytab .*http\.keytab: [0-9]+ key\(s\) copied into memory' ||
	fail "no line about the HTTP keytab"
# The service principal is HTTP/localhost: curl asks for a ticket to
# HTTP@<the URL's host>; --resolve keeps it on 127.0.0.1.
BASE="http://localhost:$HTTP"

# get [as USER] URL [curl options]: GET_CODE, GET_BODY, headers in
# $T/headers.  Without "as", a ccache that does not exist: no ticket.
get() {
	local envs=(KRB5CCNAME="FILE:$T/none.ccache") url
	if [ "$1" = as ]; then
		envs=(KRB5CCNAME="FILE:$XLICEN_REALM_DIR/$2.ccache")
		shift 2
	fi
	url=$1
	shift
	GET_CODE=$(timeout -k 2 "$IT_CMD_TIMEOUT" env "${envs[@]}" curl -sS -g \
		--resolve "localhost:$HTTP:127.0.0.1" -o "$T/body" -D "$T/headers" \
		-w '%{http_code}' "$@" "$url") || fail "curl $url failed"
	GET_BODY=$(cat "$T/body")
}
header() { grep -i "^$1:" "$T/headers" | tr -d '\r' | sed 's/^[^:]*: //'; }
post() { get "$@" --negotiate -u : -X POST; }

# Seats: alice's lease stays after her program (TTL 120 s); bob holds
# one from a host whose claimed name is markup.
run as alice probe checkout xdemo
expect_rc 0 "alice's checkout"
EVIL="<script>alert(1)</script>&\"'"
as bob timeout -k 2 30 "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" \
	checkout --host "$EVIL" xdemo 1.5 -- sh -c "while [ ! -e '$T/go' ]; do sleep 0.05; done" \
	>"$T/bob.out" 2>"$T/bob.err" &
BOB_PID=$!
bob_granted() { grep -q granted "$T/bob.err"; }
wait_until 10 "bob's grant" bob_granted
run as admin xl holders --json
expect_rc 0 "holders"
lease_of() {
	printf '%s\n' "$RUN_OUT" | grep "\"principal\": \"$1@$R\"" |
		sed -n 's/.*"lease": "\([0-9a-f]*\)".*/\1/p'
}
ALICE_LEASE=$(lease_of alice)
BOB_LEASE=$(lease_of bob)
[ -n "$ALICE_LEASE" ] && [ -n "$BOB_LEASE" ] || fail "no lease of alice or bob in: $RUN_OUT"

# No ticket: 401, the challenge, and how to get a ticket.
get "$BASE/"
expect_eq "$GET_CODE" 401 "GET / without a ticket"
expect_eq "$(header WWW-Authenticate)" "Negotiate" "the challenge"
expect_contains "$(header Content-Type)" "text/html" "the 401 page's type"
expect_contains "$GET_BODY" "<code>kinit</code>" "the 401 page says kinit"
expect_contains "$GET_BODY" "network.negotiate-auth.trusted-uris" "the 401 page (Firefox)"
expect_contains "$GET_BODY" "AuthServerAllowlist" "the 401 page (Chromium)"
get "$BASE/admin" --negotiate -u :
expect_eq "$GET_CODE" 401 "GET /admin --negotiate without a ticket"

# alice: the licenses, no holders, no Remove.
get as alice "$BASE/" --negotiate -u :
expect_eq "$GET_CODE" 200 "GET / as alice"
expect_contains "$GET_BODY" "Signed in as <b id=\"principal\">alice@$R</b> (not on the admin ACL" "alice's view"
expect_contains "$GET_BODY" "<tr><td>xdemo<td>1.0-2.0<td>acme<td>SN-xdemo<td class=\"n\">2<td class=\"n\">3<td class=\"n\">0<td>permanent<td>active</tr>" "the xdemo row"
expect_not_contains "$GET_BODY" 'id="holders"' "alice sees no holders"
expect_not_contains "$GET_BODY" 'action="/remove"' "alice sees no Remove form"
expect_not_contains "$GET_BODY" "$ALICE_LEASE" "alice sees no lease ids"
# Mutual authentication: the acceptor's token comes back.
case $(header WWW-Authenticate) in
"Negotiate "?*) ;;
*) fail "no Negotiate token in the 200's WWW-Authenticate: $(header WWW-Authenticate)" ;;
esac
expect_contains "$(header Content-Security-Policy)" "frame-ancestors 'none'" "CSP"
get as alice "$BASE/metrics" --negotiate -u :
expect_eq "$GET_CODE" 200 "/metrics as alice"
expect_contains "$GET_BODY" 'xlicen_product_seats_in_use{product="xdemo"}' "/metrics as alice"

# admin: the holders, escaped, and a Remove form per lease.
get as admin "$BASE/admin" --negotiate -u :
expect_eq "$GET_CODE" 200 "GET /admin as admin"
expect_contains "$GET_BODY" "Signed in as <b id=\"principal\">admin@$R</b> (administrator)." "admin's view"
expect_contains "$GET_BODY" 'id="holders"' "admin sees the holders"
expect_eq "$(grep -c '<tr class="holder">' <<<"$GET_BODY")" 2 "holder rows"
expect_eq "$(grep -c '<button type="submit">Remove</button>' <<<"$GET_BODY")" 2 "Remove buttons"
expect_contains "$GET_BODY" "<td>alice@$R<td>" "alice's row"
expect_contains "$GET_BODY" "<td>&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;<td>" "bob's host, escaped"
expect_not_contains "$GET_BODY" "<script>alert" "no markup from a client"
# Without JavaScript (curl) the page says how to update it; the script
# that changes the note is there for browsers.
expect_contains "$GET_BODY" '<span id="refresh">Reload the page to update it.</span>' "the note without JavaScript"
expect_contains "$GET_BODY" "location.reload()" "the refresh script"
expect_contains "$GET_BODY" "name=\"lease\" value=\"$ALICE_LEASE\"" "alice's Remove form"
CSRF=$(sed -n 's/.*name="csrf" value="\([0-9a-f]\{64\}\)".*/\1/p' <<<"$GET_BODY" | head -n 1)
[ -n "$CSRF" ] || fail "no CSRF token in admin's page"
get as admin "$BASE/metrics" --negotiate -u :
expect_eq "$GET_CODE" 200 "/metrics as admin"
get "$BASE/metrics"
expect_eq "$GET_CODE" 200 "/metrics without a ticket (metrics_auth false)"

# Remove: the cross-site rule first (403 each, nothing removed).
post as admin "$BASE/remove" --data-urlencode "lease=$ALICE_LEASE"
expect_eq "$GET_CODE" 403 "POST /remove without a token"
WRONG=$(printf '%s' "$CSRF" | tr '0-9a-f' '1-9a-f0')
post as admin "$BASE/remove" --data-urlencode "lease=$ALICE_LEASE" --data-urlencode "csrf=$WRONG"
expect_eq "$GET_CODE" 403 "POST /remove with a wrong token"
post as admin "$BASE/remove" --data-urlencode "lease=$ALICE_LEASE" --data-urlencode "csrf=$CSRF" \
	-H "Origin: http://evil.example"
expect_eq "$GET_CODE" 403 "POST /remove from another origin"
post as admin "$BASE/remove" --data-urlencode "lease=$ALICE_LEASE" --data-urlencode "csrf=$CSRF" \
	-H "Sec-Fetch-Site: cross-site"
expect_eq "$GET_CODE" 403 "POST /remove with Sec-Fetch-Site: cross-site"
post as alice "$BASE/remove" --data-urlencode "lease=$ALICE_LEASE" --data-urlencode "csrf=$CSRF"
expect_eq "$GET_CODE" 403 "POST /remove by alice with admin's token"
post "$BASE/remove" --data-urlencode "lease=$ALICE_LEASE" --data-urlencode "csrf=$CSRF"
expect_eq "$GET_CODE" 401 "POST /remove without a ticket"
expect_eq "$(in_use xdemo)" 2 "seats in use after the refused POSTs"
# The real one, as a same-origin browser form sends it: 303 to the page.
post as admin "$BASE/remove" --data-urlencode "lease=$ALICE_LEASE" --data-urlencode "csrf=$CSRF" \
	-H "Origin: http://localhost:$HTTP" -H "Sec-Fetch-Site: same-origin"
expect_eq "$GET_CODE" 303 "POST /remove"
expect_eq "$(header Location)" "/admin" "the redirect"
expect_eq "$(in_use xdemo)" 1 "seats in use after the Remove"
run as admin xl holders --json
expect_rc 0 "holders after the Remove"
expect_not_contains "$RUN_OUT" "$ALICE_LEASE" "alice's lease in holders after the Remove"
log_has "lease $ALICE_LEASE of alice@$R removed by admin@$R" || fail "no removal line"
log_has "http: admin REMOVE $ALICE_LEASE \\(status page\\) by admin@$R" || fail "no admin line"
# Removed already: 404.
post as admin "$BASE/remove" --data-urlencode "lease=$ALICE_LEASE" --data-urlencode "csrf=$CSRF"
expect_eq "$GET_CODE" 404 "POST /remove of a removed lease"
# The audit trail has the request and the removal, as for xlicen remove.
EV=$(sqlite3 -readonly "$T/xlicen.db" "SELECT kind, principal, code, detail FROM events
	WHERE kind = 'admin' AND detail LIKE 'REMOVE %' OR kind = 'remove' ORDER BY id")
expect_eq "$(head -n 1 <<<"$EV")" "admin|admin@$R|0|REMOVE $ALICE_LEASE (status page)" "the admin event"
expect_eq "$(sed -n 2p <<<"$EV" | cut -d'|' -f1)" remove "the remove event"
# The admin ACL is checked again at the POST, not only when the page was
# made: with admin off the ACL, admin's token gets 403, audited as deny.
policy "[admin]
	principals = carol@$R"
run as admin xl reread
expect_rc 0 "reread"
post as admin "$BASE/remove" --data-urlencode "lease=$BOB_LEASE" --data-urlencode "csrf=$CSRF"
expect_eq "$GET_CODE" 403 "POST /remove by admin, no longer on the ACL"
expect_eq "$(in_use xdemo)" 1 "seats in use after the refused Remove"
expect_eq "$(sqlite3 -readonly "$T/xlicen.db" "SELECT kind, principal, code, detail FROM events
	WHERE kind = 'deny' ORDER BY id DESC LIMIT 1")" \
	"deny|admin@$R|68|REMOVE $BOB_LEASE (status page)" "the deny event"
get as admin "$BASE/admin" --negotiate -u :
expect_eq "$GET_CODE" 200 "GET /admin by admin, no longer on the ACL"
expect_not_contains "$GET_BODY" 'id="holders"' "no holders for admin off the ACL"
policy "[admin]
	principals = admin@$R"
run as carol xl reread
expect_rc 0 "reread by carol"

# Bad requests.
get as admin "$BASE/" --negotiate -u : -X DELETE
expect_eq "$GET_CODE" 405 "DELETE /"
expect_eq "$(header Allow)" "GET, HEAD" "Allow of /"
get as admin "$BASE/remove" --negotiate -u :
expect_eq "$GET_CODE" 405 "GET /remove"
expect_eq "$(header Allow)" "POST" "Allow of /remove"
get "$BASE/admin" -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)"
expect_eq "$GET_CODE" 431 "a 40,000-byte header"
get "$BASE/admin" -H "Authorization: Negotiate !!!!"
expect_eq "$GET_CODE" 400 "a Negotiate token that is not base64"
get "$BASE/admin" -H "Authorization: Negotiate YWJjZGVmZ2g="
expect_eq "$GET_CODE" 400 "a Negotiate token that is no GSS token"
get "$BASE/admin" -H "Authorization: Negotiate $(head -c 12004 /dev/zero | tr '\0' A)"
expect_eq "$GET_CODE" 400 "a Negotiate token over the limit"
get "$BASE/admin" -H "Authorization: Basic YWRtaW46eA=="
expect_eq "$GET_CODE" 401 "Basic"
expect_eq "$(header WWW-Authenticate)" "Negotiate" "the challenge to Basic"
# A replayed token: curl -v shows the one it sent; the acceptor's replay
# cache refuses it the second time.
get as admin "$BASE/admin" --negotiate -u : -v 2>"$T/verbose"
expect_eq "$GET_CODE" 200 "GET /admin (the token to replay)"
TOKEN=$(sed -n 's/^> Authorization: Negotiate \([A-Za-z0-9+/=]*\).*/\1/p' "$T/verbose" | head -n 1)
[ -n "$TOKEN" ] || fail "no Authorization header in curl -v's output"
get "$BASE/admin" -H "Authorization: Negotiate $TOKEN"
expect_eq "$GET_CODE" 401 "a replayed Negotiate token"
log_has 'http: sign-on refused for /admin: .*[Rr]eplay' || fail "no replay line in the log"
# Still serving.
get as admin "$BASE/admin" --negotiate -u :
expect_eq "$GET_CODE" 200 "GET /admin after the bad requests"
run xl status
expect_rc 0 "status after the bad requests"
touch "$T/go"
wait "$BOB_PID" || fail "bob's checkout command failed: $(cat "$T/bob.err")"
server_stop TERM

# [http] public_status: / without a ticket shows the licenses; /admin
# still wants one.  metrics_auth: /metrics for the admin ACL only.
printf '\tpublic_status = true\n\tmetrics_auth = true\n' >>"$T/http.conf"
server_start --config "$T/http.conf" --policy "$T/policy.conf"
HTTP=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVER_LOG")
BASE="http://localhost:$HTTP"
get "$BASE/"
expect_eq "$GET_CODE" 200 "GET / without a ticket, public_status"
expect_contains "$GET_BODY" "Not signed in." "the public view"
expect_contains "$GET_BODY" "<td>xdemo<td>" "the public view's licenses"
expect_not_contains "$GET_BODY" 'id="holders"' "no holders in the public view"
get as admin "$BASE/" --negotiate -u :
expect_eq "$GET_CODE" 200 "GET / as admin, public_status"
# curl sends its token unasked; a sign-on sent is used.
expect_contains "$GET_BODY" "Signed in as <b id=\"principal\">admin@$R</b> (administrator)." "admin's view on /"
expect_contains "$GET_BODY" 'id="holders"' "admin's view on / has the holders"
get "$BASE/admin"
expect_eq "$GET_CODE" 401 "GET /admin without a ticket, public_status"
get "$BASE/metrics"
expect_eq "$GET_CODE" 401 "/metrics without a ticket, metrics_auth"
get as alice "$BASE/metrics" --negotiate -u :
expect_eq "$GET_CODE" 403 "/metrics as alice, metrics_auth"
get as admin "$BASE/metrics" --negotiate -u :
expect_eq "$GET_CODE" 200 "/metrics as admin, metrics_auth"
expect_contains "$GET_BODY" 'xlicen_product_seats{product="xdemo"} 3' "/metrics as admin"
server_stop TERM

# An [http] keytab group or others may read is refused at start, as the
# service keytab is.
cp "$XLICEN_HTTP_KEYTAB" "$T/http.keytab"
chmod 0644 "$T/http.keytab"
sed "s|keytab = .*|keytab = $T/http.keytab|" "$T/http.conf" >"$T/open.conf"
AS_ROOT=()
[ "$(id -u)" = 0 ] && AS_ROOT=(--user root)
run "$XLICEN_BIN_SERVER" --foreground --listen 127.0.0.1:0 ${AS_ROOT[@]+"${AS_ROOT[@]}"} \
	--keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/xlicen.db" --licenses "$T/lic" \
	--vendor-keys "$T/keys" --config "$T/open.conf" --policy "$T/policy.conf"
expect_rc 1 "a server with an [http] keytab of mode 0644"
expect_contains "$RUN_ERR" "[http] keytab $T/http.keytab is accessible by group or others" \
	"the refusal of the open keytab"
pass
