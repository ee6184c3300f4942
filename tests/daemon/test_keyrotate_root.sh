#!/usr/bin/env bash
# As root, with the privilege drop: a keytab owned by the service user
# (mode 0600) is reread on SIGHUP after the drop, so a rotated service key
# (kadmin.local ktadd: a new key version in the KDC and in the keytab) is
# taken up without a restart.  The server has a principal of its own
# (gss-xlicen/rotdN), so the realm's shared service key never changes.
# (A root-only keytab cannot be reread after the drop: daemon.root.)
# Skipped (77) if not root.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "not root"
use_realm
command -v kadmin.local >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin

TEST_USER=xlicen-test
test_user "$TEST_USER"

R=$XLICEN_REALM
HOSTPART=rotd$$n$RANDOM
PRINC=gss-xlicen/$HOSTPART
export XLICEN_SERVICE=gss-xlicen@$HOSTPART

S=$(mktemp -d /tmp/xlicen-daemon-rotate.XXXXXX)
CLEANUP_DIRS+=("$S")
chmod 755 "$S"
make_licenses "$S" xdemo:3
chmod -R go+rX "$S/keys" "$S/lic"
mkdir -m 700 "$S/state" "$S/rcache"
chown "$TEST_USER:" "$S/state" "$S/rcache"
cp "$XLICEN_REALM_DIR/krb5.conf" "$S/krb5.conf"
chmod 644 "$S/krb5.conf"

kadm() {
	kadmin.local -r "$R" -q "$1" >>"$T/kadmin.log" 2>&1 ||
		fail "kadmin.local $1: $(tail -n 3 "$T/kadmin.log")"
}
kvno() {
	klist -k "$KT" | awk -v p="$PRINC@$R" '$2 == p && $1 > k { k = $1 } END { print k + 0 }'
}
KT=$S/service.keytab
kadm "addprinc -clearpolicy -randkey $PRINC"
kadm "ktadd -k $KT $PRINC"
chown "$TEST_USER:" "$KT"
chmod 600 "$KT"

# fresh N: `xlicen status xdemo` as alice from a new ccache.
fresh() {
	local cc=$T/alice.$1.ccache
	kinit -k -t "$XLICEN_REALM_DIR/alice.keytab" -c "FILE:$cc" "alice@$R" ||
		fail "kinit alice"
	RUN_RC=0
	KRB5CCNAME=FILE:$cc timeout -k 2 "$CMD_TIMEOUT" "$XLICEN_BIN_CLI" \
		-s "localhost:$PORT" status xdemo >"$T/run.out" 2>"$T/run.err" </dev/null ||
		RUN_RC=$?
	RUN_ERR=$(cat "$T/run.err")
}

KRB5_CONFIG=$S/krb5.conf KRB5RCACHEDIR=$S/rcache \
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	start_server "$T/server.log" --listen 127.0.0.1:0 --user "$TEST_USER" \
	--keytab "$KT" --service "$XLICEN_SERVICE" --database "$S/state/xlicen.db" \
	--licenses "$S/lic" --vendor-keys "$S/keys"
expect_contains "$(cat "$SERVER_LOG")" "running as $TEST_USER (uid $(id -u "$TEST_USER"))" "drop line"
fresh 1
expect_eq "$RUN_RC" 0 "a client before the rotation (stderr: $RUN_ERR)"

KVNO1=$(kvno)
kadm "ktadd -k $KT $PRINC"
KVNO2=$(kvno)
[ "$KVNO2" -gt "$KVNO1" ] || fail "ktadd did not raise the key version ($KVNO1 -> $KVNO2)"
expect_eq "$(stat -c '%U %a' "$KT")" "$TEST_USER 600" "owner and mode of the keytab after ktadd"
fresh 2
expect_eq "$RUN_RC" 3 "a new client after the rotation, before SIGHUP"
expect_contains "$RUN_ERR" "Key version is not available" "refusal of the new key version"

kill -HUP "$SERVER_PID"
wait_log "SIGHUP: keytab $KT reread: [0-9]+ key\(s\), new acceptor credentials" 5
fresh 3
expect_eq "$RUN_RC" 0 "a new client after the rotation and SIGHUP (stderr: $RUN_ERR)"

stop_server TERM 5
expect_eq "$STOP_RC" 0 "exit status after SIGTERM"
kadm "delprinc -force $PRINC"
pass
