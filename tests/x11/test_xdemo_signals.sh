#!/usr/bin/env bash
# xlicen-xdemo gives its seat back when it is told to go, not only by its
# Quit button: SIGTERM, SIGINT and SIGHUP each release the seat at once
# (status drops to 0 long before the 60 s TTL could end it; the audit
# trail says 'release', not 'expire') and the process then ends by that
# same signal (the shell sees 128+N); when its X server dies under it, it
# releases the seat too and exits with status 1.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/x11.sh"

# db SQL: one value from the test's database (read-only; the server has it
# open).
db() {
	[ -n "$IT_PYTHON" ] || fail "python3 is needed to read the database"
	"$IT_PYTHON" - "$T/xlicen.db" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
row = c.execute(sys.argv[2]).fetchone()
print("" if row is None or row[0] is None else row[0])
PY
}

# await_in_use N SECS: seats of xdemo in use become N.
await_in_use() {
	wait_until "$2" "$1 seat(s) of xdemo in use" in_use_is xdemo "$1"
}

# held NAME: start xdemo as alice, wait until it holds a seat; LEASE is
# its lease, XPID its own pid (x_app's pid is the timeout(1) around it).
held() {
	local i
	# One copy at a time: the one before has gone.
	x_app "$1" alice "$XLICEN_BIN_XDEMO" -server "localhost:$SERVER_PORT"
	await_window "xlicen-xdemo: xdemo" 30
	await_prop "$WIN" _XLICEN_STATE '^HELD ' 15
	LEASE=$(kv "$VAL" lease)
	eval "TPID=\$XPID_$1"
	XPID=
	for ((i = 0; i < 100; i++)); do
		XPID=$(pgrep -P "$TPID" | head -n 1 || true)
		[ -n "$XPID" ] && break
		sleep 0.02
	done
	[ -n "$XPID" ] || fail "no xlicen-xdemo process under $TPID"
	expect_eq "$(in_use xdemo)" 1 "in use while $1 runs"
}

# gone NAME STATUS: the X program NAME exited within 8 s with STATUS.
gone() {
	local pid rc=0 end=$((SECONDS + 8))
	eval "pid=\$XPID_$1"
	while ((SECONDS <= end)) && kill -0 "$pid" 2>/dev/null; do
		sleep 0.05
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 still running 8 s after it was told to go"
	wait "$pid" || rc=$?
	expect_eq "$rc" "$2" "exit status of $1"
}

# released NAME: LEASE was released (audit 'release'), never expired.
released() {
	expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'release' AND lease_id = '$LEASE'")" \
		1 "audited release of $1's lease"
	expect_eq "$(db "SELECT COUNT(*) FROM events WHERE kind = 'expire' AND lease_id = '$LEASE'")" \
		0 "expiry of $1's lease"
}

license xdemo 1
server_start --heartbeat 1 --lease-ttl 60
xvfb_start

n=0
for sig in TERM INT HUP; do
	n=$((n + 1))
	held "sig$sig"
	kill "-$sig" "$XPID"
	await_in_use 0 6
	released "sig$sig"
	gone "sig$sig" $((128 + $(kill -l "$sig")))
	grep -q "xlicen-xdemo: SIG$sig: releasing the license seat" "$T/sig$sig.log" ||
		fail "no note of SIG$sig in its output: $(cat "$T/sig$sig.log")"
done

# The X server goes away: the seat is given back all the same.
held xgone
kill -KILL "$XVFB_PID"
wait "$XVFB_PID" 2>/dev/null || true
XVFB_PID=
await_in_use 0 6
released xgone
gone xgone 1
grep -q "xlicen-xdemo: lost the X server .*: releasing the license seat" "$T/xgone.log" ||
	fail "no note of the lost X server: $(cat "$T/xgone.log")"
pass
