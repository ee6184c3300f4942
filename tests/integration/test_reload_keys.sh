#!/usr/bin/env bash
# A vendor private key (*.key) in the vendor-key directory is judged the
# same at start and at every reread (SIGHUP, `xlicen reread`): one that
# group or others can read refuses the start, and refuses a reread (the
# licenses loaded before stay, nothing of the directory is taken); one
# only its owner can read is a warning, there and then.
. "$(dirname "$0")/lib.sh"

license xdemo 2
R=$XLICEN_REALM
printf '[admin]\n\tprincipals = admin@%s\n' "$R" >"$T/policy.conf"
KEY=$T/keys/acme.key
OPEN="vendor private key $KEY is accessible by group or others (mode 0644); fix with: chmod 600 $KEY"
WARN="1 vendor private key(s) (*.key) in $T/keys: the server needs only the public keys"

# await_log TEXT N: the server log has TEXT at least N times (5 s).
await_log() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -cF -- "$1" "$SERVER_LOG" || true)" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "\"$1\" not $2 time(s) in the server log"
}

# products: the products of `xlicen status`, one line.
products() {
	run xl status --json
	expect_rc 0 "status --json"
	printf '%s\n' "$RUN_OUT" | sed -n 's/.*{"product": "\([^"]*\)".*/\1/p' | sort | tr '\n' ' '
}

# At start.
cp "$T/private/acme.key" "$KEY"
chmod 644 "$KEY"
as_root=()
[ "$(id -u)" = 0 ] && as_root=(--user root)
run "$XLICEN_BIN_SERVER" --foreground --listen 127.0.0.1:0 "${as_root[@]}" \
	--keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/start.db" --licenses "$T/lic" \
	--vendor-keys "$T/keys" --policy "$T/policy.conf"
expect_rc 1 "start with an open private key in the vendor-key directory"
expect_contains "$RUN_ERR" "$OPEN" "why the start was refused"
chmod 600 "$KEY"
server_start --policy "$T/policy.conf"
await_log "$WARN" 1
expect_eq "$(products)" "xdemo " "products at start"

# On reread: a new license comes with the key made readable again.
license xother 3
chmod 644 "$KEY"
kill -HUP "$SERVER_PID"
await_log "$OPEN" 1
await_log "reread refused: the policy and the licenses stay as they were" 1
expect_eq "$(products)" "xdemo " "products after a refused SIGHUP"
run as admin xl reread
expect_rc 2 "xlicen reread with an open private key"
# (A reason travels in at most 255 bytes: the fix at its end may be cut.)
expect_contains "$RUN_ERR" "bad configuration: localhost:$SERVER_PORT (127.0.0.1): ${OPEN%%; fix with*}" \
	"why the reread was refused"
expect_eq "$(products)" "xdemo " "products after a refused reread"

# Made private: the reread goes through, with the warning of the start.
chmod 600 "$KEY"
run as admin xl reread
expect_rc 0 "xlicen reread with a private key only its owner reads"
await_log "$WARN" 2
expect_eq "$(products)" "xdemo xother " "products after the reread"
pass
