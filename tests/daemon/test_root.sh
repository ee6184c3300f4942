#!/usr/bin/env bash
# As root: gss-xlicend binds a privileged port, copies its root-only keytab
# into memory and becomes the user xlicen-test for good.  Then, from
# /proc/<pid>/status: every uid and gid is that user's, the only group is
# its group, CapInh/CapPrm/CapEff/CapAmb/CapBnd are all zero, NoNewPrivs is
# 1.  A real Kerberos checkout still works (the acceptor reads its keytab
# at accept time, after the drop), and the files the server made belong to
# xlicen-test.  Also: what the server refuses when started as root (a
# group-readable keytab, a world-readable vendor private key or database,
# a database owned by root, an unknown configured user).  SIGHUP cannot
# reread the root-only keytab: logged, the keys in memory stay in use.
# Skipped (77) if not root.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "not root"
use_realm

TEST_USER=xlicen-test
test_user "$TEST_USER"
TEST_UID=$(id -u "$TEST_USER")
TEST_GID=$(id -g "$TEST_USER")
[ "$TEST_UID" != 0 ] && [ "$TEST_GID" != 0 ] || fail "$TEST_USER is root?"

# What the server reads after the drop lives where the user can reach it
# (a build tree may sit in a directory it cannot enter).
S=$(mktemp -d /tmp/xlicen-daemon-root.XXXXXX)
CLEANUP_DIRS+=("$S")
chmod 755 "$S"
make_licenses "$S" xdemo:3
chmod -R go+rX "$S/keys" "$S/lic"
mkdir -m 700 "$S/state" "$S/rcache"
chown "$TEST_USER:" "$S/state" "$S/rcache"
cp "$XLICEN_REALM_DIR/krb5.conf" "$S/krb5.conf"
chmod 644 "$S/krb5.conf"

# The keytab stays root's and unreadable by the service user.
KEYTAB=$XLICEN_SERVICE_KEYTAB
expect_eq "$(stat -c '%u %a' "$KEYTAB")" "0 600" "mode of the service keytab"
if setpriv --reuid "$TEST_UID" --regid "$TEST_GID" --clear-groups \
	cat "$KEYTAB" >/dev/null 2>&1; then
	fail "$TEST_USER can read $KEYTAB; the test would prove nothing"
fi

# A privileged port: 128 if free, else another below 1024.
PORT=
for p in 128 $(seq 900 1000); do
	if port_free "$p"; then
		PORT=$p
		break
	fi
done
[ -n "$PORT" ] || skip "no free port below 1024"

cat >"$S/gss-xlicend.conf" <<EOF
# written by tests/daemon/test_root.sh
[server]
	listen = 127.0.0.1:$PORT
	keytab = $KEYTAB
	database = $S/state/xlicen.db
	licenses = $S/lic
	vendor_keys = $S/keys
	user = $TEST_USER
	log = stderr
[leases]
	ttl = 60
EOF

# The server's krb5 environment: the realm's configuration and a replay
# cache directory the service user can write.  LeakSanitizer (in the
# sanitizer build) cannot attach to a process that changed its uid.
server_env=(KRB5_CONFIG="$S/krb5.conf" KRB5RCACHEDIR="$S/rcache"
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")

SERVER_LOG=$T/server.log
env "${server_env[@]}" "$XLICEN_BIN_SERVER" --foreground --config "$S/gss-xlicend.conf" \
	</dev/null >/dev/null 2>"$SERVER_LOG" &
SERVER_PID=$!
wait_ready
LOG=$(cat "$SERVER_LOG")
expect_contains "$LOG" "listening on 127.0.0.1:$PORT" "listen line"
expect_contains "$LOG" "keytab $KEYTAB: 2 key(s) copied into memory" "keytab line"
expect_contains "$LOG" "running as $TEST_USER (uid $TEST_UID), group $TEST_USER (gid $TEST_GID), no capabilities" "drop line"

# What the kernel says about the running server.
ST=/proc/$SERVER_PID/status
field() { sed -n "s/^$1:[[:space:]]*//p" "$ST" | tr -s ' \t' ' ' | sed 's/ $//'; }
expect_eq "$(field Uid)" "$TEST_UID $TEST_UID $TEST_UID $TEST_UID" "Uid (real effective saved fs)"
expect_eq "$(field Gid)" "$TEST_GID $TEST_GID $TEST_GID $TEST_GID" "Gid (real effective saved fs)"
expect_eq "$(field Groups)" "$TEST_GID" "supplementary groups"
for c in CapInh CapPrm CapEff CapAmb; do
	expect_eq "$(field $c)" "0000000000000000" "$c"
done
# The bounding set can only be emptied with CAP_SETPCAP (bit 8), which a
# container may withhold even from root.
if (( (0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) >> 8) & 1 )); then
	expect_eq "$(field CapBnd)" "0000000000000000" "CapBnd"
fi
expect_eq "$(field NoNewPrivs)" "1" "NoNewPrivs"

# A real checkout through Kerberos, after the drop: the status inside the
# command sees the seat taken; afterwards it is free again.
xl as alice checkout xdemo -- "$XLICEN_BIN_CLI" -s "localhost:$PORT" status --json
expect_eq "$RUN_RC" 0 "alice's checkout (stderr: $RUN_ERR)"
expect_contains "$RUN_ERR" "xlicen: granted xdemo lease " "grant line"
expect_eq "$(json_field "$RUN_OUT" xdemo in_use)/$(json_field "$RUN_OUT" xdemo total)" "1/3" "seats while holding"
expect_eq "$(seats xdemo)" "0/3" "seats after the command"
expect_contains "$(cat "$SERVER_LOG")" "authenticated alice@XLICEN.TEST" "server log"

# SIGHUP rereads the keytab for a rotated key; this root-only one the
# service user may not read: the keys read at start stay, and say so.
kill -HUP "$SERVER_PID"
wait_log "SIGHUP: keytab $KEYTAB not reread: $TEST_USER may not read it; the service keys read before stay in use" 5
xl as alice status xdemo
expect_eq "$RUN_RC" 0 "a new client after the SIGHUP (stderr: $RUN_ERR)"

# Everything the server created is the service user's.
expect_eq "$(stat -c '%U %a' "$S/state/xlicen.db")" "$TEST_USER 600" "owner and mode of the database"
expect_eq "$(stat -c '%U' "$S/rcache/krb5_$TEST_UID.rcache2")" "$TEST_USER" "owner of the replay cache"

stop_server TERM 5
expect_eq "$STOP_RC" 0 "exit status after SIGTERM"
expect_contains "$(cat "$SERVER_LOG")" "SIGTERM: shutting down" "stop line"

# --- what the server refuses as root; each start must fail with exit 1 ---
# refused MESSAGE ARGS...: start with ARGS, expect exit 1 and MESSAGE.
refused() {
	local want=$1 rc=0
	shift
	SERVER_LOG=$T/refused.log
	env "${server_env[@]}" timeout -k 2 10 "$XLICEN_BIN_SERVER" --foreground \
		--config "$S/gss-xlicend.conf" "$@" </dev/null >/dev/null 2>"$SERVER_LOG" || rc=$?
	expect_eq "$rc" 1 "exit status of a start with $*"
	expect_contains "$(cat "$SERVER_LOG")" "$want" "message for $*"
}

cp "$KEYTAB" "$S/open.keytab"
chmod 640 "$S/open.keytab"
refused "keytab $S/open.keytab is accessible by group or others (mode 0640); fix with: chmod 600 $S/open.keytab" \
	--keytab "$S/open.keytab"

cp "$S/private/acme.key" "$S/keys/acme.key"
chmod 644 "$S/keys/acme.key"
refused "vendor private key $S/keys/acme.key is accessible by group or others (mode 0644); fix with: chmod 600 $S/keys/acme.key"
rm -f "$S/keys/acme.key"

touch "$S/state/open.db"
chown "$TEST_USER:" "$S/state/open.db"
chmod 644 "$S/state/open.db"
refused "database $S/state/open.db is accessible by group or others (mode 0644); fix with: chmod 600 $S/state/open.db" \
	--database "$S/state/open.db"

touch "$S/state/root.db"
chmod 600 "$S/state/root.db"
refused "database $S/state/root.db belongs to uid 0, not to $TEST_USER (uid $TEST_UID), which the server runs as; fix with: chown $TEST_USER: $S/state/root.db*" \
	--database "$S/state/root.db"

refused "[server] user: user no-such-user-xl does not exist" --user no-such-user-xl

# --check-config as root names the user it would become.
RC=0
OUT=$(env "${server_env[@]}" "$XLICEN_BIN_SERVER" --config "$S/gss-xlicend.conf" --check-config 2>&1) || RC=$?
expect_eq "$RC" 0 "--check-config exit status ($OUT)"
expect_contains "$OUT" "user $TEST_USER (uid $TEST_UID), group $TEST_USER (gid $TEST_GID)" "--check-config user line"
expect_contains "$OUT" "gss-xlicend: configuration OK" "--check-config verdict"

# Restart on the same database as the user: the seats are still 0/3.
SERVER_LOG=$T/server2.log
env "${server_env[@]}" "$XLICEN_BIN_SERVER" --foreground --config "$S/gss-xlicend.conf" \
	</dev/null >/dev/null 2>"$SERVER_LOG" &
SERVER_PID=$!
wait_ready
expect_eq "$(seats xdemo)" "0/3" "seats after a restart as $TEST_USER"
stop_server INT 5
expect_eq "$STOP_RC" 0 "exit status after SIGINT"

pass
