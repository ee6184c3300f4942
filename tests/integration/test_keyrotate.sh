#!/usr/bin/env bash
# A rotated service key is taken up by SIGHUP, without a restart.  The
# server has a principal of its own (gss-xlicen/rotN, so that the shared
# service key of the other tests never changes) and a keytab 0600 of the
# user it runs as.  kadmin.local ktadd gives the principal a new key
# version, in the KDC and (added) in the keytab; a new client (a fresh
# ccache) then gets a ticket under the new version, which the keys the
# server read at start cannot decrypt: refused until SIGHUP, which
# rereads the keytab and acquires the acceptor credentials again.  A
# client connected before keeps its session across the SIGHUP.  A keytab
# that cannot be reread (here: group-readable, refused as at start) keeps
# the keys the server had, with a log line that says so.
. "$(dirname "$0")/lib.sh"

command -v kadmin.local >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
R=$XLICEN_REALM
HOSTPART=rot$$n$RANDOM
PRINC=gss-xlicen/$HOSTPART
export XLICEN_SERVICE=gss-xlicen@$HOSTPART
KT=$T/service.keytab

kadm() {
	kadmin.local -r "$R" -q "$1" >>"$T/kadmin.log" 2>&1 ||
		fail "kadmin.local $1: $(tail -n 3 "$T/kadmin.log")"
}
# kvno: the highest key version of PRINC in the keytab.
kvno() {
	klist -k "$KT" | awk -v p="$PRINC@$R" '$2 == p && $1 > k { k = $1 } END { print k + 0 }'
}
# fresh N: `xlicen status xdemo` as alice from a new ccache (no service
# ticket yet, so the KDC issues one under its current key version).
fresh() {
	export KRB5CCNAME=FILE:$T/alice.$1.ccache
	kinit -k -t "$XLICEN_REALM_DIR/alice.keytab" alice@"$R" ||
		fail "kinit alice into $KRB5CCNAME"
	run xl status xdemo
}
# await_log TEXT N: the server log has TEXT at least N times (5 s).
await_log() {
	local i
	for i in $(seq 1 100); do
		[ "$(grep -cF -- "$1" "$SERVER_LOG" || true)" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "\"$1\" not $2 time(s) in the server log"
}

kadm "addprinc -clearpolicy -randkey $PRINC"
kadm "ktadd -k $KT $PRINC"
chmod 600 "$KT"
KVNO1=$(kvno)
license xdemo 2
server_start --keytab "$KT" --service "$XLICEN_SERVICE" --heartbeat 1
fresh 1
expect_rc 0 "a client before the rotation"

# A client that stays connected across the rotation and the SIGHUP.
export KRB5CCNAME=FILE:$T/alice.1.ccache
# Its command runs until the test says so, not for a fixed time.
timeout -k 2 30 "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" checkout xdemo -- \
	sh -c "while [ ! -e '$T/held.done' ]; do sleep 0.05; done" \
	>"$T/held.out" 2>"$T/held.err" &
HELD=$!
wait_until 10 "the held checkout's seat" log_has "grant xdemo"

kadm "ktadd -k $KT $PRINC"
KVNO2=$(kvno)
[ "$KVNO2" -gt "$KVNO1" ] || fail "ktadd did not raise the key version ($KVNO1 -> $KVNO2)"
it_log "service key rotated: kvno $KVNO1 -> $KVNO2"
fresh 2
expect_rc 3 "a new client after the rotation, before SIGHUP"
expect_contains "$RUN_ERR" "xlicen: status: authentication failed: localhost:$SERVER_PORT (127.0.0.1): " \
	"refusal of the new key version"
expect_contains "$RUN_ERR" "Key version is not available" "refusal of the new key version"

kill -HUP "$SERVER_PID"
await_log "SIGHUP: keytab $KT reread: " 1
fresh 3
expect_rc 0 "a new client after the rotation and SIGHUP"
# The keytab keeps the old key version too (ktadd adds): a ticket issued
# before the rotation still works.
export KRB5CCNAME=FILE:$T/alice.1.ccache
run xl status xdemo
expect_rc 0 "a client with a ticket from before the rotation"
touch "$T/held.done"
wait "$HELD" || fail "the checkout held across the SIGHUP failed: $(cat "$T/held.err")"
grep -q "release lease .* by alice@$R" "$SERVER_LOG" ||
	fail "the checkout held across the SIGHUP did not release its lease"

# A keytab the server may not reread: the keys it has stay.
chmod 640 "$KT"
kill -HUP "$SERVER_PID"
await_log "SIGHUP: keytab $KT not reread: keytab $KT is accessible by group or others (mode 0640); fix with: chmod 600 $KT; the service keys read before stay in use" 1
fresh 4
expect_rc 0 "a new client after a failed reread of the keytab"
chmod 600 "$KT"
kadm "delprinc -force $PRINC"
pass
