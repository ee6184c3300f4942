#!/usr/bin/env bash
# `xlicen checkout -- COMMAND` never lets the command run on without a
# seat (issue 11, item 4):
#  - an administrator removes the lease: the command gets SIGTERM at once
#    (the server's REVOKE notice), xlicen exits 124;
#  - a command that ignores SIGTERM gets SIGKILL --kill-after seconds later;
#  - xlicen killed with SIGKILL: the command dies with it (PDEATHSIG);
#  - --keep-running keeps the old behaviour: the command runs to its end,
#    xlicen exits with its status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xdemo 4
R=$XLICEN_REALM
policy "[admin]
	principals = admin@$R"
server_start --policy "$T/policy.conf" --heartbeat 1 --lease-ttl 6

# xl_bg NAME ARGS...: `xlicen checkout` as dave in the background (its pid
# in XPID), waiting for its grant; LEASE is the lease id.
xl_bg() {
	local name=$1 i
	shift
	KRB5CCNAME="FILE:$XLICEN_REALM_DIR/dave.ccache" "$XLICEN_BIN_CLI" \
		-s "localhost:$SERVER_PORT" checkout "$@" \
		>"$T/$name.out" 2>"$T/$name.err" </dev/null &
	XPID=$!
	for i in $(seq 1 250); do
		grep -q granted "$T/$name.err" && break
		sleep 0.02
	done
	LEASE=$(lease_from "$(cat "$T/$name.err")")
	[ -n "$LEASE" ] || fail "$name: no grant: $(cat "$T/$name.err")"
}

# child_of PID: the command xlicen started.
child_of() {
	local i c
	for i in $(seq 1 100); do
		c=$(pgrep -P "$1" | head -n 1 || true)
		[ -n "$c" ] && { echo "$c"; return 0; }
		sleep 0.02
	done
	fail "no child of $1"
}

# gone PID SECONDS: PID ended (or is a zombie nobody reaps) within SECONDS.
gone() {
	local i st
	for ((i = 0; i < $2 * 20; i++)); do
		st=$(ps -o stat= -p "$1" 2>/dev/null || true)
		case $st in ''|Z*) return 0 ;; esac
		sleep 0.05
	done
	return 1
}

# wait_rc PID SECONDS: wait for a background job; leaves WAIT_RC, and in
# WAIT_MS the milliseconds since T0_MS (set before the event awaited).
wait_rc() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$1" 2>/dev/null && fail "pid $1 still running after $2 s"
	WAIT_RC=0
	wait "$1" || WAIT_RC=$?
	WAIT_MS=$(( $(date +%s%3N) - T0_MS ))
}

# 1. Removed by an admin: SIGTERM to the command, exit 124.
xl_bg rm xdemo -- sh -c "trap 'echo TERM >\"$T/rm.term\"; kill \$!; exit 0' TERM; sleep 600 & wait"
CHILD=$(child_of "$XPID")
T0_MS=$(date +%s%3N)
run as admin xl remove "$LEASE"
expect_rc 0 "admin removes the lease"
wait_rc "$XPID" 5
expect_eq "$WAIT_RC" 124 "xlicen's exit status after its lease was removed"
[ "$WAIT_MS" -lt 3000 ] || fail "the command was ended ${WAIT_MS} ms after the removal began"
[ -s "$T/rm.term" ] || fail "the command did not get SIGTERM: $(cat "$T/rm.err")"
gone "$CHILD" 1 || fail "the command is still there"
expect_contains "$(cat "$T/rm.err")" "lease $LEASE is lost: " "lost said"
expect_contains "$(cat "$T/rm.err")" "no seat: ending the command (SIGTERM, SIGKILL after 10 s)" "ending said"
expect_eq "$(in_use xdemo)" 0 "seats in use after the removal"

# 2. A command deaf to SIGTERM gets SIGKILL after --kill-after.
xl_bg deaf --kill-after 1 xdemo -- sh -c "trap '' TERM; exec sleep 600"
CHILD=$(child_of "$XPID")
T0_MS=$(date +%s%3N)
run as admin xl remove "$LEASE"
expect_rc 0 "admin removes the second lease"
wait_rc "$XPID" 5
expect_eq "$WAIT_RC" 124 "exit status after SIGKILL"
[ "$WAIT_MS" -ge 1000 ] || fail "SIGKILL came ${WAIT_MS} ms after the removal, before --kill-after 1"
expect_contains "$(cat "$T/deaf.err")" "SIGKILL after 1 s" "--kill-after said"
gone "$CHILD" 1 || fail "the deaf command survived SIGKILL"

# 3. xlicen itself killed: the command goes with it.
xl_bg k9 xdemo -- sleep 600
CHILD=$(child_of "$XPID")
kill -KILL "$XPID"
wait "$XPID" 2>/dev/null || true
gone "$CHILD" 2 || fail "the command outlived xlicen (kill -9)"

# 4. --keep-running: the old behaviour, the command keeps running.
# (The command ends when the test says so, after xlicen said the lease
# is lost: not after a fixed time a loaded machine could outlast.)
xl_bg keep --keep-running xdemo -- sh -c "while [ ! -e '$T/keep.done' ]; do sleep 0.05; done; exit 7"
run as admin xl remove "$LEASE"
expect_rc 0 "admin removes the kept lease"
wait_until 10 "xlicen to say it keeps the command running" \
	grep -q "the command keeps running without a seat" "$T/keep.err"
touch "$T/keep.done"
wait_rc "$XPID" 8
expect_eq "$WAIT_RC" 7 "--keep-running: the command's own status"
expect_contains "$(cat "$T/keep.err")" "lease $LEASE is lost: " "lost said with --keep-running"
expect_contains "$(cat "$T/keep.err")" "the command keeps running without a seat (--keep-running)" "kept"

# 5. Usage errors of the new options.
run xl checkout --kill-after x xdemo -- true
expect_rc 1 "bad --kill-after"
run xl checkout --kill-after 3601 xdemo -- true
expect_rc 1 "too long --kill-after"
pass
