#!/usr/bin/env bash
# Authentication failures: no credentials (missing, empty or expired
# ccache) is NO_CREDS, exit 3, and says so; a ticket for the wrong service
# or a service the KDC does not know is an authentication failure, exit 3.
# In every case the command of a checkout must not run.
. "$(dirname "$0")/lib.sh"

license xdemo 2
server_start
AT="localhost:$SERVER_PORT (127.0.0.1)"

# 1. A ccache that does not exist.
KRB5CCNAME="FILE:$T/missing.ccache"
export KRB5CCNAME
run xl status
expect_rc 3 "status without a ccache"
expect_lines "$RUN_ERR" 1 "stderr without a ccache"
expect_contains "$RUN_ERR" "xlicen: status: no usable Kerberos credentials (run kinit): $AT: " "no-ccache error"
expect_contains "$RUN_ERR" "No Kerberos credentials available" "no-ccache error"
expect_eq "$RUN_OUT" "" "stdout without a ccache"

run xl checkout xdemo -- touch "$T/ran"
expect_rc 3 "checkout without a ccache"
expect_contains "$RUN_ERR" "xlicen: xdemo: no usable Kerberos credentials (run kinit): $AT: " "checkout no-ccache error"
[ ! -e "$T/ran" ] || fail "the command ran without credentials"

run probe checkout xdemo
expect_rc 3 "probe without a ccache"
expect_contains "$RUN_ERR" "lease_probe: NO_CREDS: $AT: " "probe error name"

# 2. An empty ccache file.
: >"$T/empty.ccache"
KRB5CCNAME="FILE:$T/empty.ccache"
run probe checkout xdemo
expect_rc 3 "probe with an empty ccache"
expect_contains "$RUN_ERR" "lease_probe: NO_CREDS: $AT: " "empty ccache error name"

# 2b. A ccache file with a valid-looking header and garbage after it.
# (MIT krb5 before 1.21.3 crashes at random inside gss_init_sec_context on
# such a file; the library must check it first: run it a few times.)
printf '\005\004garbage' >"$T/garbage.ccache"
KRB5CCNAME="FILE:$T/garbage.ccache"
for i in 1 2 3 4 5; do
	run xl status
	expect_rc 3 "status with a garbage ccache (try $i)"
	expect_contains "$RUN_ERR" "xlicen: status: no usable Kerberos credentials (run kinit): $AT: " "garbage ccache error"
	expect_contains "$RUN_ERR" "Bad format in credentials cache" "garbage ccache error"
done

# 3. An expired ticket (shortlived, 1 s; the client refuses it itself).
kinit -l 1s -k -t "$XLICEN_REALM_DIR/shortlived.keytab" -c "FILE:$T/short.ccache" \
	"shortlived@$XLICEN_REALM" </dev/null >/dev/null 2>"$T/kinit.err" ||
	fail "kinit shortlived: $(cat "$T/kinit.err")"
# Expired for every reader: klist says so, and the clock is past its end
# in whole seconds (its end is at most 1 s after kinit returned; klist may
# call it expired in the very second the library still takes it).
T_KINIT=$(date +%s)
ticket_expired() {
	[ "$(date +%s)" -ge $((T_KINIT + 2)) ] && ! klist -s -c "FILE:$T/short.ccache"
}
wait_until 10 "the 1 s ticket to expire" ticket_expired
KRB5CCNAME="FILE:$T/short.ccache"
run probe checkout xdemo
expect_rc 3 "probe with an expired ticket"
expect_contains "$RUN_ERR" "lease_probe: NO_CREDS: $AT: " "expired ticket error name"
run xl status
expect_rc 3 "status with an expired ticket"
expect_contains "$RUN_ERR" "xlicen: status: no usable Kerberos credentials (run kinit): $AT: " "expired ticket error"

# Back to alice's valid tickets for the rest.
KRB5CCNAME="FILE:$XLICEN_REALM_DIR/alice.ccache"

# 4. A ticket for another service (other/localhost exists in the KDC, the
# server has no key for it): the server refuses the AP-REQ.
XLICEN_SERVICE=other@localhost run probe checkout xdemo
expect_rc 3 "probe for service other@localhost"
expect_contains "$RUN_ERR" "lease_probe: AUTH: $AT: " "wrong service error name"
run env XLICEN_SERVICE=other@localhost "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" checkout xdemo -- touch "$T/ran"
expect_rc 3 "checkout for service other@localhost"
expect_lines "$RUN_ERR" 1 "wrong service stderr"
expect_contains "$RUN_ERR" "xlicen: xdemo: authentication failed: $AT: " "wrong service error"
[ ! -e "$T/ran" ] || fail "the command ran after failed authentication"
grep -q "closing: AUTH" "$SERVER_LOG" || fail "the server did not log the refused context"

# --service overrides $XLICEN_SERVICE, both ways.
XLICEN_SERVICE=other@localhost run xl --service gss-xlicen@localhost status
expect_rc 0 "--service gss-xlicen@localhost over a wrong \$XLICEN_SERVICE"

# 5. A service the KDC does not know: the client cannot even get a ticket.
run xl --service nosuch@localhost status
expect_rc 3 "status for an unknown service"
expect_contains "$RUN_ERR" "xlicen: status: authentication failed: $AT: " "unknown service error"
expect_contains "$RUN_ERR" "not found in Kerberos database" "unknown service error"

# 6. One process whose cache file changes under it.  The library checks a
# FILE cache before a new context (the krb5 < 1.21.3 crash above) and
# remembers, per process, a file that passed, then makes contexts from a
# memory copy of it; it must look again whenever the file changes, and
# report each broken state exactly as a fresh process does.  lease_probe
# "repeat" makes a new session (connection and context) per line, all in
# one process.
SW="$T/swap.ccache"
cp "$XLICEN_REALM_DIR/alice.ccache" "$SW"
coproc SWAP_P { KRB5CCNAME="FILE:$SW" exec timeout -k 2 60 "$XLICEN_BIN_PROBE" \
	-s "localhost:$SERVER_PORT" repeat 2>"$T/swap.err"; }
SWAP_PID=$SWAP_P_PID SWAP_IN=${SWAP_P[1]} SWAP_OUT=${SWAP_P[0]}
# swap_status WHAT: one status from a new session in that process, which
# must say "OK PRINCIPAL", or the same as a fresh process (lease_probe
# checkout) when it fails.  Leaves the answer in SWAP.
swap_status() {
	printf 'status\n' >&"$SWAP_IN"
	IFS= read -r -t 20 SWAP <&"$SWAP_OUT" ||
		fail "repeat probe: no answer for $1: $(cat "$T/swap.err")"
	case $SWAP in "OK "*) return 0 ;; esac
	KRB5CCNAME="FILE:$SW" run probe checkout xdemo
	expect_eq "lease_probe: $SWAP" "$RUN_ERR" "$1, as a fresh process says it"
}
swap_status "valid cache"
expect_eq "$SWAP" "OK alice@$XLICEN_REALM" "status with a valid cache"
swap_status "valid cache, again"
expect_eq "$SWAP" "OK alice@$XLICEN_REALM" "status with a valid cache, again"
: >"$SW"
swap_status "cache emptied in place"
expect_contains "$SWAP" "NO_CREDS: $AT: " "status with the cache emptied in place"
cp "$XLICEN_REALM_DIR/alice.ccache" "$SW"
swap_status "cache written back in place"
expect_eq "$SWAP" "OK alice@$XLICEN_REALM" "status with the cache written back"
# Garbage of the same size, in place, with the old modification time set
# back: only the change time tells.
touch -r "$SW" "$T/swap.ref"
size=$(stat -c %s "$SW")
{ printf '\005\004garbage'; head -c "$((size - 9))" /dev/zero | tr '\0' x; } >"$SW.new"
cat "$SW.new" >"$SW"
touch -r "$T/swap.ref" "$SW"
expect_eq "$(stat -c %s "$SW")" "$size" "size of the garbage cache"
swap_status "same-size garbage, same mtime"
expect_contains "$SWAP" "NO_CREDS: $AT: " "status with same-size garbage"
expect_contains "$SWAP" "Bad format in credentials cache" "status with same-size garbage"
rm -f "$SW"
swap_status "cache removed"
expect_contains "$SWAP" "NO_CREDS: $AT: " "status with the cache removed"
cp "$XLICEN_REALM_DIR/bob.ccache" "$SW"
swap_status "another user's cache, new file"
expect_eq "$SWAP" "OK bob@$XLICEN_REALM" "status with bob's cache"
# The second context of a file state is made from the process's memory
# copy of the file.
swap_status "another user's cache, again"
expect_eq "$SWAP" "OK bob@$XLICEN_REALM" "status with bob's cache, again"
# Tickets of another user written over the file in place (kinit -c does
# that): the process's copy of the old file must not be used.
cat "$XLICEN_REALM_DIR/carol.ccache" >"$SW"
swap_status "carol's cache, written in place"
expect_eq "$SWAP" "OK carol@$XLICEN_REALM" "status with carol's cache in place"
exec {SWAP_IN}>&-
rc=0
wait "$SWAP_PID" || rc=$?
expect_eq "$rc" 0 "exit status of the repeat probe"
[ ! -s "$T/swap.err" ] || fail "repeat probe wrote to stderr: $(cat "$T/swap.err")"

# 7. krb5.conf is parsed once per process, not per session: MIT re-reads
# it whenever its last krb5 context is freed, and every GSS call makes and
# frees one; the library keeps one open (ccache_keep_config).  Before, 20
# sessions opened the file 40 times.
command -v strace >/dev/null || fail "strace is needed (Debian package strace)"
: "${KRB5_CONFIG:?}"
# (LeakSanitizer cannot run under ptrace: no leak check for this one run.)
seq 20 | sed 's/.*/status/' | ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	timeout -k 2 60 strace -f -qq -e trace=open,openat \
	-o "$T/conf.strace" "$XLICEN_BIN_PROBE" -s "localhost:$SERVER_PORT" repeat \
	>"$T/conf.out" 2>"$T/conf.err" || fail "repeat probe under strace: $(cat "$T/conf.err")"
expect_eq "$(grep -c "^OK alice@$XLICEN_REALM\$" "$T/conf.out")" 20 "20 statuses from new sessions"
n=$(grep -cF "\"$KRB5_CONFIG\"" "$T/conf.strace" || true)
[ "$n" -ge 1 ] && [ "$n" -le 2 ] || fail "krb5.conf opened $n times by one process making 20 sessions (want 1-2)"

# Nothing above took a seat.
expect_eq "$(in_use xdemo)" 0 "seats in use after the failures"
pass
