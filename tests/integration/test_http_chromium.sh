#!/usr/bin/env bash
# The status page in a real browser: headless Chromium, with admin's
# Kerberos ticket (KRB5CCNAME, the realm's KRB5_CONFIG) and its
# Negotiate allow-list switch pointed at localhost, signs on to /admin
# through the server's own acceptor.  From its --dump-dom: the admin view
# for admin@REALM, the holders with a Remove form, and the refresh script
# having run (it rewrites the note that a client without JavaScript
# keeps).  A --screenshot goes to $XLICEN_IT_TMP/http_chromium.png (kept
# after the run; docs/screenshots/status-page.png is one of them).
# Chromium runs twice in all; only the normal build runs this test.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || { it_log "SKIP: no chromium (package chromium)"; exit 77; }
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
run as alice probe checkout xdemo
expect_rc 0 "alice's checkout"
run as bob probe checkout xdemo
expect_rc 0 "bob's checkout"

# Chromium on Linux loads the GSSAPI library (and leaves its network
# service unsandboxed for it) only once its Local State records a
# Negotiate challenge seen: start from such a state rather than spend a
# run on seeing one.  The URL's host is localhost: the ticket asked for is
# HTTP/localhost (Chromium resolves localhost itself, so no CNAME turns it
# into an address).  HOME keeps its caches in the test's directory.
mkdir -p "$T/chromium" "$T/home"
printf '{"net": {"received_http_auth_negotiate_headers": true}}\n' >"$T/chromium/Local State"
URL="http://localhost:$HTTP/admin"
chromium() {
	timeout -k 5 40 env HOME="$T/home" KRB5CCNAME="FILE:$XLICEN_REALM_DIR/admin.ccache" \
		"$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$T/chromium" --auth-server-allowlist=localhost "$@" \
		2>>"$T/chromium.err"
}
fail_hook() { echo "--- chromium's stderr ---"; grep -v -i dbus "$T/chromium.err" | tail -n 20; }

chromium --dump-dom "$URL" >"$T/dom.html" || fail "chromium --dump-dom failed"
DOM=$(cat "$T/dom.html")
expect_contains "$DOM" "Signed in as <b id=\"principal\">admin@$R</b> (administrator)." "the admin view in Chromium"
expect_contains "$DOM" '<table id="holders">' "the holders in Chromium"
expect_contains "$DOM" "<td>alice@$R</td>" "alice's row in Chromium"
expect_contains "$DOM" "<td>bob@$R</td>" "bob's row in Chromium"
expect_eq "$(grep -o '<button type="submit">Remove</button>' <<<"$DOM" | wc -l)" 2 "Remove buttons in Chromium"
expect_contains "$DOM" "This page reloads every 10 s while it is visible." "the refresh script ran"

SHOT="$XLICEN_IT_TMP/http_chromium.png"
rm -f "$SHOT"
chromium --screenshot="$SHOT" --window-size=1400,440 --hide-scrollbars "$URL" >/dev/null ||
	fail "chromium --screenshot failed"
[ "$(head -c 8 "$SHOT" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "$SHOT is not a PNG"
[ "$(stat -c %s "$SHOT")" -gt 10000 ] || fail "$SHOT is too small to show the page"
it_log "screenshot: $SHOT"
# The server served both and goes on.
run xl status
expect_rc 0 "status after Chromium"
pass
