#!/usr/bin/env bash
# gss-xlicend's start-up, as root, in two parts (argument):
#   refusals  each bad command line, config file, keytab, krb5.conf,
#             database, activation environment and each privilege drop the
#             kernel refuses (user namespaces) exits 1 with its exact
#             message; --check-config names users, groups, owners, keytabs;
#   starts    the starts that must work show their files, modes, /proc
#             status and log lines and stop with exit 0: a pid file (and
#             SIGHUP with a keyless keytab), activation on IPv6 and on a
#             UNIX socket with sd_notify, log = syslog in the foreground
#             and daemonised, a drop without CAP_SETPCAP, an unprivileged
#             start (bind errors, the open files limit).
# Covers server/main.c and server/privs.c (issue 19).  Skipped (77) if not
# root.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "not root"
# Files made here are not writable by others, whatever umask the caller
# has (scripts/coverage runs with 000): a config file others may write
# is warned about, which some checks below must not see.
umask 022
use_realm

TEST_USER=xlicen-test
test_user "$TEST_USER"
TEST_UID=$(id -u "$TEST_USER")
TEST_GID=$(id -g "$TEST_USER")

# Files the service user must reach live outside the build tree.
S=$(mktemp -d /tmp/xlicen-daemon-startup.XXXXXX)
CLEANUP_DIRS+=("$S")
chmod 755 "$S"
make_licenses "$S" xdemo:2
chmod -R go+rX "$S/keys" "$S/lic"
KEYTAB=$XLICEN_SERVICE_KEYTAB
expect_eq "$(stat -c '%u %a' "$KEYTAB")" "0 600" "mode of the service keytab"
LEAK=ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# run ARGS...: the server with ARGS (no --foreground added), 20 s at most;
# RC, OUT (stdout), ERR (stderr).
run() {
	RC=0
	timeout -k 2 20 env "$LEAK" "$XLICEN_BIN_SERVER" "$@" \
		</dev/null >"$T/run.out" 2>"$T/run.err" || RC=$?
	OUT=$(cat "$T/run.out")
	ERR=$(cat "$T/run.err")
}
# refused WANT ARGS...: exit 1 and WANT in stderr.
refused() {
	local want=$1
	shift
	run "$@"
	expect_eq "$RC" 1 "exit status of gss-xlicend $* (stderr: $ERR)"
	expect_contains "$ERR" "$want" "stderr of gss-xlicend $*"
}
# A working set of files for starts as root that keep root.
BASE=(--config "$S/none.conf" --keytab "$KEYTAB" --licenses "$S/lic"
	--vendor-keys "$S/keys" --user root)
printf '[server]\n\tlog = stderr\n' >"$S/none.conf"

# Shared by both parts: a keytab file with a header and no entries; a
# private directory where a database file should be.
printf '\005\002' >"$S/empty.keytab"
chmod 600 "$S/empty.keytab"
mkdir -m 700 "$S/dbdir"
mkdir -p "$S/cwd"

# The test runs in two parts (two CTest tests, each well under 30 s on a
# loaded machine): "refusals" and "starts".
PART=${1:?usage: test_startup.sh refusals|starts}
case $PART in
refusals|starts) ;;
*) fail "unknown part $PART" ;;
esac

if [ "$PART" = refusals ]; then
# --- the command line -------------------------------------------------
refused 'gss-xlicend: --lease-ttl: "abc" is not a number in 2..2592000' --lease-ttl abc
expect_eq "$ERR" 'gss-xlicend: --lease-ttl: "abc" is not a number in 2..2592000' "whole stderr"
refused 'gss-xlicend: --heartbeat: "0" is not a number in 1..86400' --heartbeat 0
refused 'gss-xlicend: --orphan-grace: "86401" is not a number in 0..86400' --orphan-grace 86401
refused 'gss-xlicend: --listen "nope": expected ADDR:PORT or [IPV6ADDR]:PORT: ' --listen nope
many=()
for i in $(seq 1 17); do many+=(--listen "127.0.0.1:$((40000 + i))"); done
refused "gss-xlicend: at most 16 --listen" "${many[@]}"
refused "usage: gss-xlicend [options]" --no-such-option
expect_eq "$OUT" "" "stdout after an unknown option"
refused 'gss-xlicend: unexpected argument "extra"' --foreground extra
# Real uid the service user's, effective uid root: a set-user-ID start.
RC=0
ERR=$(setpriv --ruid "$TEST_UID" -- "$XLICEN_BIN_SERVER" --check-config 2>&1 </dev/null) || RC=$?
expect_eq "$RC" 1 "exit status with real uid $TEST_UID, effective uid 0"
expect_eq "$ERR" "gss-xlicend: refusing to run set-user-ID or set-group-ID; start it as root or as its user" "set-user-ID refusal"

# A log line longer than the 2,048-byte buffer is cut and ends with "...":
# the warning about a config file others may write names its path twice.
long=$S/long
for i in 1 2 3 4 5 6 7 8 9 10 11; do long=$long/$(printf 'd%.0s' $(seq 1 200)); done
mkdir -p "$long"
printf '[server]\n\tlog = stderr\n' >"$long/x.conf"
chmod 666 "$long/x.conf"
run "${BASE[@]}" --config "$long/x.conf" --database "$S/long/l.db" --check-config
expect_eq "$RC" 0 "--check-config with a long config path ($ERR)"
line=$(printf '%s\n' "$ERR" | grep -F " gss-xlicend: $S/long/" || true)
expect_eq "${#line}" 2046 "length of a cut log line"
expect_eq "${line: -3}" "..." "end of a cut log line"

# A bad config file: the one line naming file, line, section and key, at
# a start and under --check-config alike.
printf '[server]\n\tlog = stderr\n[leases]\n\tttl = abc\n' >"$S/bad.conf"
BADLINE="gss-xlicend: $S/bad.conf:4: [leases] ttl = \"abc\": expected a number of seconds 2..2592000"
run --foreground --config "$S/bad.conf"
expect_eq "$RC" 1 "exit status with a bad config file"
expect_eq "$(sed 's/^[^ ]* //' "$T/run.err")" "$BADLINE" "the whole stderr of a start with a bad config file"
run --check-config --config "$S/bad.conf"
expect_eq "$RC" 1 "exit status of --check-config with a bad config file"
expect_eq "$(sed 's/^[^ ]* //' "$T/run.err")" "$BADLINE" "the whole stderr of --check-config"
expect_eq "$OUT" "" "stdout of --check-config with a bad config file"

# --- --check-config: relative paths, keytab names, users and groups ----
mkdir -p "$S/cwd"
cat >"$S/cwd/rel.conf" <<EOF
[server]
	database = $S/cwd/xlicen.db
	licenses = $S/lic
	vendor_keys = $S/keys
	user = root
EOF
RC=0
OUT=$(cd "$S/cwd" && env "$LEAK" "$XLICEN_BIN_SERVER" --config rel.conf \
	--keytab "FILE:$KEYTAB" --pid-file rel.pid --check-config 2>"$T/check.err") || RC=$?
expect_eq "$RC" 0 "--check-config with a relative config path ($(cat "$T/check.err"))"
expect_contains "$OUT" "config $S/cwd/rel.conf: OK" "the config path made absolute"
expect_contains "$OUT" "keytab FILE:$KEYTAB: 2 key(s)" "a typed keytab name kept as given"
expect_contains "$OUT" "user: root (no privilege drop)" "user line"

printf '[server]\n\tuser = %s\n\tgroup = no-such-group-xl\n' "$TEST_USER" >"$S/group.conf"
run --config "$S/group.conf" --keytab "$KEYTAB" --licenses "$S/lic" \
	--vendor-keys "$S/keys" --database "$S/cwd/g.db" --check-config
expect_eq "$RC" 1 "--check-config with an unknown group"
expect_contains "$ERR" "gss-xlicend: group no-such-group-xl does not exist" "unknown group"
expect_contains "$ERR" "gss-xlicend: configuration has errors" "verdict"
printf '[server]\n\tuser = %s\n\tgroup = root\n' "$TEST_USER" >"$S/group.conf"
run --config "$S/group.conf" --keytab "$KEYTAB" --licenses "$S/lic" \
	--vendor-keys "$S/keys" --database "$S/cwd/g.db" --check-config
expect_eq "$RC" 1 "--check-config with group root"
expect_contains "$ERR" "gss-xlicend: group root is gid 0: the server must run with an unprivileged group" "group root"
run --config "$S/none.conf" --keytab "$KEYTAB" --licenses "$S/lic" \
	--vendor-keys "$S/keys" --database "$S/cwd/g.db" --user no-such-user-xl --check-config
expect_eq "$RC" 1 "--check-config with an unknown user"
expect_contains "$ERR" "gss-xlicend: user no-such-user-xl does not exist" "unknown user"
touch "$S/cwd/root.db"
chmod 600 "$S/cwd/root.db"
run --config "$S/none.conf" --keytab "$KEYTAB" --licenses "$S/lic" \
	--vendor-keys "$S/keys" --database "$S/cwd/root.db" --user "$TEST_USER" --check-config
expect_eq "$RC" 1 "--check-config with a database of root's"
expect_contains "$ERR" "database $S/cwd/root.db belongs to uid 0, not to $TEST_USER (uid $TEST_UID)" "owner line"

# No keytab configured: the Kerberos default ($KRB5_KTNAME), FILE: or
# WRFILE:, is the one judged and read.
BASE_NOKT=(--config "$S/none.conf" --licenses "$S/lic" --vendor-keys "$S/keys"
	--user root --database "$S/cwd/d.db")
RC=0
OUT=$(KRB5_KTNAME="FILE:$KEYTAB" "$XLICEN_BIN_SERVER" "${BASE_NOKT[@]}" --check-config 2>"$T/check.err") || RC=$?
expect_eq "$RC" 0 "--check-config with the default keytab ($(cat "$T/check.err"))"
expect_contains "$OUT" "keytab (Kerberos default): 2 key(s)" "default keytab line"
cp "$KEYTAB" "$S/open.keytab"
chmod 640 "$S/open.keytab"
RC=0
KRB5_KTNAME="WRFILE:$S/open.keytab" "$XLICEN_BIN_SERVER" "${BASE_NOKT[@]}" --check-config \
	>/dev/null 2>"$T/check.err" || RC=$?
expect_eq "$RC" 1 "--check-config with an open default keytab"
expect_contains "$(cat "$T/check.err")" "keytab $S/open.keytab is accessible by group or others (mode 0640); fix with: chmod 600 $S/open.keytab" "open default keytab"
# A keytab type Kerberos does not know.
run "${BASE_NOKT[@]}" --keytab NOSUCHTYPE:x --check-config
expect_eq "$RC" 1 "--check-config with an unknown keytab type"
expect_contains "$ERR" "gss-xlicend: keytab NOSUCHTYPE:x: " "unknown keytab type"
# A krb5.conf Kerberos cannot parse: no context at all.
printf '[libdefaults\n' >"$S/broken-krb5.conf"
RC=0
KRB5_CONFIG=$S/broken-krb5.conf "$XLICEN_BIN_SERVER" "${BASE[@]}" --database "$S/cwd/d.db" \
	--check-config >/dev/null 2>"$T/check.err" || RC=$?
expect_eq "$RC" 1 "--check-config with a broken krb5.conf"
expect_contains "$(cat "$T/check.err")" "gss-xlicend: cannot initialise Kerberos (krb5.conf?)" "broken krb5.conf"
RC=0
KRB5_CONFIG=$S/broken-krb5.conf "$XLICEN_BIN_SERVER" "${BASE[@]}" --database "$S/cwd/d.db" \
	--foreground --listen 127.0.0.1:0 </dev/null >/dev/null 2>"$T/check.err" || RC=$?
expect_eq "$RC" 1 "a start with a broken krb5.conf"
expect_contains "$(cat "$T/check.err")" "gss-xlicend: cannot initialise Kerberos (krb5.conf?)" "broken krb5.conf at a start"
# A license file that does not verify: loaded 0, refused 1, an error.
mkdir -p "$S/badlic"
printf 'not a license\n' >"$S/badlic/bad.lic"
run "${BASE[@]}" --database "$S/cwd/d.db" --licenses "$S/badlic" --check-config
expect_eq "$RC" 1 "--check-config with a bad license file"
expect_contains "$OUT" "licenses $S/badlic: 0 loaded, 0 expired, 1 refused" "licenses line"
expect_contains "$ERR" "gss-xlicend: configuration has errors" "verdict"
# No keytab configured and no Kerberos context to name the default.
RC=0
KRB5_CONFIG=$S/broken-krb5.conf "$XLICEN_BIN_SERVER" "${BASE_NOKT[@]}" \
	--check-config >/dev/null 2>"$T/check.err" || RC=$?
expect_eq "$RC" 1 "--check-config with a broken krb5.conf and no keytab"
expect_contains "$(cat "$T/check.err")" "gss-xlicend: cannot initialise Kerberos (krb5.conf?)" "broken krb5.conf, default keytab"
# A license directory that does not exist.
run "${BASE[@]}" --database "$S/cwd/d.db" --licenses "$S/nolic" --check-config
expect_eq "$RC" 1 "--check-config without the license directory"
expect_contains "$ERR" "license directory $S/nolic: No such file or directory" "license directory line"
expect_contains "$ERR" "gss-xlicend: configuration has errors" "verdict"

# A keytab in systemd's credentials directory may show group bits (an ACL);
# the same file reached through "/../" is judged like any other.
mkdir -p "$S/creds"
cp "$KEYTAB" "$S/creds/service.keytab"
chmod 640 "$S/creds/service.keytab"
RC=0
OUT=$(env CREDENTIALS_DIRECTORY="$S/creds/" "$LEAK" "$XLICEN_BIN_SERVER" "${BASE[@]}" \
	--keytab "$S/creds/service.keytab" --database "$S/cwd/c.db" --check-config 2>"$T/check.err") || RC=$?
expect_eq "$RC" 0 "--check-config with a credential keytab ($(cat "$T/check.err"))"
expect_contains "$OUT" "keytab $S/creds/service.keytab: 2 key(s)" "credential keytab"
export CREDENTIALS_DIRECTORY=$S/creds
refused \
	"keytab $S/creds/../creds/service.keytab is accessible by group or others (mode 0640)" \
	"${BASE[@]}" --keytab "$S/creds/../creds/service.keytab" --database "$S/cwd/c.db" --check-config
unset CREDENTIALS_DIRECTORY

# --- start-up failures after the configuration was read ----------------
# (LISTEN_PID must be the server's own pid: a shell that execs it.)
activated() {	# FDS ARGS...: the server with LISTEN_FDS=FDS, fd 3 as set up
	local fds=$1
	shift
	RC=0
	timeout -k 2 20 bash -c 'export LISTEN_PID=$$ LISTEN_FDS=$0; exec "$@"' "$fds" \
		env "$LEAK" "$XLICEN_BIN_SERVER" --foreground "$@" \
		</dev/null >"$T/run.out" 2>"$T/run.err" || RC=$?
	ERR=$(cat "$T/run.err")
}
activated abc "${BASE[@]}" --database "$S/cwd/a.db"
expect_eq "$RC" 1 "exit status with LISTEN_FDS=abc"
expect_contains "$ERR" "socket activation: LISTEN_FDS is not a number 1..16" "LISTEN_FDS=abc"
activated 1 "${BASE[@]}" --database "$S/cwd/a.db" 3<"$S/none.conf"
expect_eq "$RC" 1 "exit status with a file as fd 3"
expect_contains "$ERR" "socket activation: fd 3 is not a stream socket" "a file as fd 3"

# A TCP socket that is bound but does not listen (an Accept=yes unit).
RC=0
timeout -k 2 20 python3 - "$XLICEN_BIN_SERVER" "${BASE[@]}" --database "$S/cwd/a.db" \
	</dev/null >/dev/null 2>"$T/run.err" <<'EOF' || RC=$?
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
os.dup2(s.fileno(), 3)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = "1"
os.execv(sys.argv[1], sys.argv[1:] + ["--foreground"])
EOF
expect_eq "$RC" 1 "exit status with a socket that does not listen"
expect_contains "$(cat "$T/run.err")" "socket activation: fd 3 is not listening (use Accept=no in the .socket unit)" "not listening"

refused "keytab $S/empty.keytab has no keys" --foreground "${BASE[@]}" \
	--keytab "$S/empty.keytab" --database "$S/cwd/a.db" --listen 127.0.0.1:0
run "${BASE[@]}" --keytab "$S/empty.keytab" --database "$S/cwd/a.db" --check-config
expect_eq "$RC" 1 "--check-config with a keytab without keys"
expect_contains "$ERR" "gss-xlicend: keytab $S/empty.keytab has no keys" "keytab line"
expect_contains "$ERR" "gss-xlicend: configuration has errors" "verdict"
expect_not_contains "$OUT" "keytab $S/empty.keytab:" "stdout"
# A service with no key in the keytab: no acceptor credentials.
refused "acceptor credentials for nosuch@localhost: " --foreground "${BASE[@]}" \
	--database "$S/cwd/a.db" --listen 127.0.0.1:0 --service nosuch@localhost
# A pid file in a directory that does not exist.
refused "pid file $S/nodir/x.pid: No such file or directory" --foreground "${BASE[@]}" \
	--database "$S/cwd/a.db" --listen 127.0.0.1:0 --pid-file "$S/nodir/x.pid"
# A database SQLite cannot open (a directory, private like a database).
refused "database $S/dbdir: " --foreground "${BASE[@]}" --database "$S/dbdir" --listen 127.0.0.1:0
# As root with a drop: the database directory must be the user's.
mkdir -m 755 "$S/rootdir"
refused "database directory $S/rootdir: Permission denied; it must be writable by $TEST_USER (fix with: chown $TEST_USER: $S/rootdir && chmod 700 $S/rootdir)" \
	--foreground "${BASE[@]}" --user "$TEST_USER" --database "$S/rootdir/x.db" --listen 127.0.0.1:0
expect_contains "$ERR" "running as $TEST_USER (uid $TEST_UID), group $TEST_USER (gid $TEST_GID), no capabilities" "drop before the directory check"
[ ! -e "$S/rootdir/x.db" ] || fail "a database was created in $S/rootdir"

# The kernel refusing the drop, in a user namespace where this shell's
# root is root (so the keytab stays readable): the start fails, naming
# the call.  With setgroups denied (unshare --map-root-user):
RC=0
timeout -k 2 20 unshare --user --map-root-user -- env "$LEAK" "$XLICEN_BIN_SERVER" \
	--foreground "${BASE[@]}" --user "$TEST_USER" --database "$S/cwd/ns.db" \
	--listen 127.0.0.1:0 </dev/null >/dev/null 2>"$T/ns.err" || RC=$?
expect_eq "$RC" 1 "exit status when setgroups is denied"
expect_contains "$(cat "$T/ns.err")" "gss-xlicend: dropping privileges to $TEST_USER: setgroups($TEST_GID): Operation not permitted" "setgroups refused"
# With the service user's uid not mapped (its groups are): setresuid fails.
RC=0
timeout -k 2 20 python3 - "$(( TEST_GID + 1 ))" env "$LEAK" "$XLICEN_BIN_SERVER" \
	--foreground "${BASE[@]}" --user "$TEST_USER" --database "$S/cwd/ns.db" \
	--listen 127.0.0.1:0 </dev/null >/dev/null 2>"$T/ns.err" <<'PYEOF' || RC=$?
import ctypes, os, sys
# A child in a new user namespace with uid 0 and gids 0..N-1 mapped to the
# same ids outside; it then runs argv[2:].
CLONE_NEWUSER = 0x10000000
a_r, a_w = os.pipe()
b_r, b_w = os.pipe()
pid = os.fork()
if pid == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER) != 0:
        os._exit(90)
    os.write(a_w, b"1")
    if os.read(b_r, 1) != b"1":
        os._exit(91)
    os.execvp(sys.argv[2], sys.argv[2:])
os.read(a_r, 1)
with open("/proc/%d/uid_map" % pid, "w") as f:
    f.write("0 0 1\n")
with open("/proc/%d/gid_map" % pid, "w") as f:
    f.write("0 0 %s\n" % sys.argv[1])
os.write(b_w, b"1")
_, st = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(st))
PYEOF
expect_eq "$RC" 1 "exit status when the service user's uid is not mapped"
expect_contains "$(cat "$T/ns.err")" "gss-xlicend: dropping privileges to $TEST_USER: setresuid($TEST_UID): Invalid argument" "setresuid refused"

fi # refusals

if [ "$PART" = starts ]; then
# --- starts that work ---------------------------------------------------
# In the foreground with --pid-file: the file holds the pid, mode 0644,
# and is removed at the stop.
cp "$KEYTAB" "$S/rotate.keytab"
# (A $NOTIFY_SOCKET longer than a socket address holds is ignored.)
NOTIFY_SOCKET=/$(printf 'n%.0s' $(seq 1 120)) start_server "$T/pid.log" "${BASE[@]}" \
	--keytab "$S/rotate.keytab" --service gss-xlicen@localhost --database "$S/cwd/p.db" \
	--listen 127.0.0.1:0 --pid-file "$S/cwd/server.pid"
expect_eq "$(cat "$S/cwd/server.pid")" "$SERVER_PID" "pid file contents"
expect_eq "$(stat -c '%a %U' "$S/cwd/server.pid")" "644 root" "pid file mode and owner"
# A second server on its database is refused before it binds; the check
# of the configuration only reports the database in use.
# SIGHUP with a keytab of another service's keys only: read, but no
# acceptor credentials for gss-xlicen@localhost from it; the old stay.
cp "$XLICEN_REALM_DIR/other.keytab" "$S/rotate.keytab"
chmod 600 "$S/rotate.keytab"
SERVER_LOG=$T/pid.log
kill -HUP "$SERVER_PID"
wait_log "SIGHUP: keytab $S/rotate.keytab reread, but no acceptor credentials from it; the service keys read before stay in use" 10
xl as alice status xdemo
expect_eq "$RUN_RC" 0 "a client after a reread without the service's key ($RUN_ERR)"
# SIGHUP with a keytab that has lost its keys: the keys read before stay.
SERVER_LOG=$T/pid.log
cp "$S/empty.keytab" "$S/rotate.keytab"
kill -HUP "$SERVER_PID"
wait_log "SIGHUP: keytab $S/rotate.keytab not reread: keytab $S/rotate.keytab has no keys; the service keys read before stay in use" 10
xl as alice status xdemo
expect_eq "$RUN_RC" 0 "a client after the failed keytab reread ($RUN_ERR)"
refused "database $S/cwd/p.db: in use by another server, pid $SERVER_PID" \
	--foreground "${BASE[@]}" --keytab "$S/rotate.keytab" --database "$S/cwd/p.db" --listen 127.0.0.1:0
run "${BASE[@]}" --database "$S/cwd/p.db" --check-config
expect_eq "$RC" 0 "--check-config of a running server's configuration ($ERR)"
expect_contains "$OUT" "database $S/cwd/p.db: in use by another server, pid $SERVER_PID" "database line"
stop_server TERM 10
expect_eq "$STOP_RC" 0 "exit status after SIGTERM"
[ ! -e "$S/cwd/server.pid" ] || fail "pid file left after the stop"

# Socket activation on IPv6, --listen ignored, READY=1 and STOPPING=1 to
# $NOTIFY_SOCKET (read by a receiver of our own).
rm -f "$T/notify.sock" "$T/notify.txt"
python3 - "$T/notify.sock" "$T/notify.txt" <<'EOF' &
import socket, sys
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
r.bind(sys.argv[1])
r.settimeout(60)
with open(sys.argv[2], "a") as f:
    for _ in range(2):
        f.write(r.recv(256).decode() + "\n")
        f.flush()
EOF
RECV_PID=$!
for i in $(seq 1 500); do [ -S "$T/notify.sock" ] && break; sleep 0.02; done
[ -S "$T/notify.sock" ] || fail "notify receiver did not bind"
SERVER_LOG=$T/act.log
NOTIFY_SOCKET=$T/notify.sock python3 - "$XLICEN_BIN_SERVER" "${BASE[@]}" \
	--database "$S/cwd/v6.db" --listen 127.0.0.1:0 --foreground \
	</dev/null >/dev/null 2>"$SERVER_LOG" <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.bind(("::1", 0))
s.listen(16)
os.dup2(s.fileno(), 3)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = "1"
os.execv(sys.argv[1], sys.argv[1:])
EOF
SERVER_PID=$!
wait_ready
LOG=$(cat "$SERVER_LOG")
expect_contains "$LOG" "socket activation: ignoring --listen" "--listen ignored"
V6PORT=$(sed -n 's/.*listening on \[::1\]:\([0-9]*\) (socket activation, fd 3).*/\1/p' "$SERVER_LOG")
[ -n "$V6PORT" ] || fail "no \"listening on [::1]:PORT (socket activation, fd 3)\" in the log"
expect_not_contains "$LOG" "listening on 127.0.0.1" "log"
RC=0
timeout -k 2 "$CMD_TIMEOUT" env KRB5CCNAME="FILE:$XLICEN_REALM_DIR/alice.ccache" \
	"$XLICEN_BIN_CLI" -s "[::1]:$V6PORT" --service gss-xlicen@localhost status xdemo >"$T/v6.out" 2>"$T/v6.err" || RC=$?
expect_eq "$RC" 0 "status over the activated IPv6 socket ($(cat "$T/v6.err"))"
for i in $(seq 1 500); do grep -qx 'READY=1' "$T/notify.txt" 2>/dev/null && break; sleep 0.02; done
expect_eq "$(head -n 1 "$T/notify.txt" 2>/dev/null)" "READY=1" "first notification"
stop_server TERM 10
expect_eq "$STOP_RC" 0 "exit status of the activated server"
wait "$RECV_PID" || fail "notify receiver failed"
expect_eq "$(tr '\n' ' ' <"$T/notify.txt")" "READY=1 STOPPING=1 " "notifications"

# Activation on a listening UNIX stream socket (no address to show but
# its family); READY=1 to an abstract $NOTIFY_SOCKET.
rm -f "$T/notify2.txt"
python3 - "xlicen-startup-$$" "$T/notify2.txt" <<'PYEOF' &
import socket, sys
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
r.bind("\0" + sys.argv[1])
r.settimeout(60)
with open(sys.argv[2] + ".tmp", "w") as f:
    pass
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2] + ".bound")
with open(sys.argv[2], "a") as f:
    f.write(r.recv(256).decode() + "\n")
PYEOF
RECV_PID=$!
for i in $(seq 1 500); do [ -e "$T/notify2.txt.bound" ] && break; sleep 0.02; done
[ -e "$T/notify2.txt.bound" ] || fail "abstract notify receiver did not bind"
SERVER_LOG=$T/unix.log
NOTIFY_SOCKET=@xlicen-startup-$$ python3 - "$T/act.sock" "$XLICEN_BIN_SERVER" "${BASE[@]}" \
	--database "$S/cwd/ux.db" --foreground </dev/null >/dev/null 2>"$SERVER_LOG" <<'PYEOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(4)
os.dup2(s.fileno(), 3)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = "1"
os.execv(sys.argv[2], sys.argv[2:])
PYEOF
SERVER_PID=$!
wait_ready
expect_contains "$(cat "$SERVER_LOG")" "listening on (family 1) (socket activation, fd 3)" "a UNIX socket adopted"
wait "$RECV_PID" || fail "abstract notify receiver failed"
expect_eq "$(cat "$T/notify2.txt")" "READY=1" "notification to an abstract socket"
stop_server TERM 10
expect_eq "$STOP_RC" 0 "exit status of the server on a UNIX socket"

# log = syslog: in the foreground an error goes to syslog, not stderr;
# on a machine with no syslog daemon (no /dev/log) it comes to stderr
# after one line saying so (issue 15: it used to be lost; the fallback has
# its own test, integration.log_syslog, with and without a syslog daemon).
printf '[server]\n\tlog = syslog\n' >"$S/syslog.conf"
run --foreground --config "$S/syslog.conf" --keytab "$KEYTAB" --licenses "$S/lic" \
	--vendor-keys "$S/keys" --user root --database "$S/dbdir" --listen 127.0.0.1:0
expect_eq "$RC" 1 "exit status of a failing start with log = syslog"
if [ -S /dev/log ]; then
	expect_eq "$ERR" "" "stderr with log = syslog"
else
	expect_eq "$(printf '%s\n' "$ERR" | head -n 1 | sed 's/^[0-9T:Z-]* //')" \
		"gss-xlicend: syslog: cannot send to /dev/log (No such file or directory); logging to stderr" \
		"stderr with log = syslog and no /dev/log"
	expect_contains "$ERR" "gss-xlicend: database $S/dbdir" "the error, on stderr without syslog"
fi
# Daemonised with syslog: ready, stderr on /dev/null like stdin and
# stdout, working directory /, pid file; SIGTERM ends it and the file goes.
DPORT=$(random_port)
[ -n "$DPORT" ] || fail "no free port"
run --config "$S/syslog.conf" --keytab "$KEYTAB" --licenses "$S/lic" \
	--vendor-keys "$S/keys" --user root --database "$S/cwd/sl.db" \
	--listen "127.0.0.1:$DPORT" --pid-file "$S/cwd/daemon.pid"
expect_eq "$RC" 0 "exit status of the daemonising command ($ERR)"
# Until it is ready the daemon still logs to the caller's stderr; from
# there on (the ready line on) to syslog.
expect_contains "$ERR" "gss-xlicend: listening on 127.0.0.1:$DPORT" "stderr of the daemonising command"
if [ -S /dev/log ]; then
	expect_not_contains "$ERR" " ready " "stderr of the daemonising command with log = syslog"
else	# no syslog: said, and the lines up to the detach on stderr
	expect_contains "$ERR" "gss-xlicend: syslog: cannot send to /dev/log (No such file or directory); logging to stderr" \
		"stderr of the daemonising command without syslog"
	expect_contains "$ERR" " ready " "the ready line, on stderr without syslog"
fi
DPID=$(cat "$S/cwd/daemon.pid")
SERVER_PID=$DPID	# for the cleanup of a failed test
for fd in 0 1 2; do
	expect_eq "$(readlink "/proc/$DPID/fd/$fd")" "/dev/null" "the daemon's fd $fd"
done
expect_eq "$(readlink "/proc/$DPID/cwd")" "/" "the daemon's working directory"
PORT=$DPORT
xl as alice status xdemo
expect_eq "$RUN_RC" 0 "status from the daemon ($RUN_ERR)"
kill -TERM "$DPID"
for i in $(seq 1 500); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.02; done
kill -0 "$DPID" 2>/dev/null && fail "the daemon still runs 10 s after SIGTERM"
[ ! -e "$S/cwd/daemon.pid" ] || fail "the daemon's pid file is left"
SERVER_PID=

# Unprivileged: a low port is refused with the advice; on a high port a
# configured user is ignored with a warning, the open files soft limit is
# raised to the hard one (warned about, being below max_connections).
mkdir -m 700 "$S/state" "$S/rcache"
cp "$KEYTAB" "$S/state/service.keytab"
cp "$XLICEN_REALM_DIR/krb5.conf" "$S/krb5.conf"
chmod 644 "$S/krb5.conf"
chown -R "$TEST_USER:" "$S/state" "$S/rcache"
as_user() {
	setpriv --reuid "$TEST_UID" --regid "$TEST_GID" --clear-groups -- \
		env KRB5_CONFIG="$S/krb5.conf" KRB5RCACHEDIR="$S/rcache" "$LEAK" "$@"
}
# Started as root without CAP_SETPCAP (a unit with a narrow
# CapabilityBoundingSet=): the bounding set cannot be emptied and stays as
# it was; everything else of the drop holds.
BND=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
WANT_BND=$(printf '%016x' $(( 0x$BND & ~(1 << 8) )))
SERVER_LOG=$T/bnd.log
setpriv --bounding-set -setpcap -- env KRB5_CONFIG="$S/krb5.conf" KRB5RCACHEDIR="$S/rcache" \
	"$LEAK" "$XLICEN_BIN_SERVER" --foreground "${BASE[@]}" --user "$TEST_USER" \
	--database "$S/state/bnd.db" --listen 127.0.0.1:0 </dev/null >/dev/null 2>"$SERVER_LOG" &
SERVER_PID=$!
wait_ready
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
expect_contains "$(cat "$SERVER_LOG")" "running as $TEST_USER (uid $TEST_UID), group $TEST_USER (gid $TEST_GID), no capabilities" "drop line"
for c in CapInh CapPrm CapEff CapAmb; do
	expect_eq "$(sed -n "s/^$c:[[:space:]]*//p" "/proc/$SERVER_PID/status")" "0000000000000000" "$c without CAP_SETPCAP"
done
expect_eq "$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$SERVER_PID/status")" "$WANT_BND" "CapBnd without CAP_SETPCAP"
expect_eq "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "/proc/$SERVER_PID/status")" 1 "NoNewPrivs without CAP_SETPCAP"
xl as alice status xdemo
expect_eq "$RUN_RC" 0 "status after a drop without CAP_SETPCAP ($RUN_ERR)"
stop_server TERM 10
expect_eq "$STOP_RC" 0 "exit status after a drop without CAP_SETPCAP"

UBASE=(--config "$S/none.conf" --keytab "$S/state/service.keytab" --licenses "$S/lic"
	--vendor-keys "$S/keys" --database "$S/state/u.db" --foreground)
RC=0
as_user "$XLICEN_BIN_SERVER" "${UBASE[@]}" --listen 127.0.0.1:1 --user "$TEST_USER" \
	</dev/null >/dev/null 2>"$T/low.err" || RC=$?
expect_eq "$RC" 1 "exit status of an unprivileged start on port 1"
expect_contains "$(cat "$T/low.err")" "ports below 1024 need root or socket activation; for development use e.g. --listen 127.0.0.1:1128" "low port advice"
expect_not_contains "$(cat "$T/low.err")" "not started as root" "the user it runs as, configured"
# An address not on this machine: a bind error, without the advice.
RC=0
as_user "$XLICEN_BIN_SERVER" "${UBASE[@]}" --listen 192.0.2.1:5000 \
	</dev/null >/dev/null 2>"$T/low.err" || RC=$?
expect_eq "$RC" 1 "exit status of an unprivileged start on 192.0.2.1"
expect_contains "$(cat "$T/low.err")" "192.0.2.1:5000" "bind error"
expect_not_contains "$(cat "$T/low.err")" "ports below 1024" "advice"

SERVER_LOG=$T/user.log
(
	ulimit -S -n 256
	ulimit -H -n 4096
	exec setpriv --reuid "$TEST_UID" --regid "$TEST_GID" --clear-groups -- \
		env KRB5_CONFIG="$S/krb5.conf" KRB5RCACHEDIR="$S/rcache" "$LEAK" \
		"$XLICEN_BIN_SERVER" "${UBASE[@]}" --listen 127.0.0.1:0 --user root
) </dev/null >/dev/null 2>"$SERVER_LOG" &
SERVER_PID=$!
wait_ready
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$SERVER_LOG" | head -n 1)
LOG=$(cat "$SERVER_LOG")
expect_contains "$LOG" "not started as root: [server] user root ignored; running as uid $TEST_UID" "user ignored"
# The default max_connections fits the limit found (4096 - 64): no warning.
expect_not_contains "$LOG" "is below [limits] max_connections" "open files: a default start is quiet"
expect_eq "$(sed -n 's/^Max open files *\([0-9]*\) .*/\1/p' "/proc/$SERVER_PID/limits")" 4096 "soft open files limit of the server"
expect_eq "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "/proc/$SERVER_PID/status")" 1 "NoNewPrivs"
xl as alice status xdemo
expect_eq "$RUN_RC" 0 "status from the unprivileged server ($RUN_ERR)"
expect_eq "$(stat -c '%U %a' "$S/state/u.db")" "$TEST_USER 600" "database owner and mode"
stop_server TERM 10
expect_eq "$STOP_RC" 0 "exit status of the unprivileged server"

fi # starts

pass
