# serve.sh: helpers of test_queue_serve.sh, test_reload_config.sh and
# test_term_alert.sh, sourced after lib.sh and lifecycle.sh.
#
#   bgwire NAME USER STEP...   a wire_probe in the background as USER,
#                              output in $T/NAME.out, pid in PID_NAME
#   await NAME PATTERN [SECS]  wait (default 8 s) until NAME's output has
#                              a line matching PATTERN (grep BRE)
#   queued PRODUCT             the queued count of PRODUCT in status
#   hup                        SIGHUP, then wait for the licenses' reread
#   wait_gone PID SECS         wait until PID has exited; its status in
#                              GONE_RC
#   raw NAME                   a raw client in the background (python3):
#                              HELLO, then it stays in the handshake

bgwire() {
	local name=$1 user=$2
	shift 2
	# $! must be timeout's own pid, which passes a SIGTERM on.
	KRB5CCNAME="FILE:$XLICEN_REALM_DIR/$user.ccache" timeout -k 2 25 \
		"$XLICEN_BIN_WIRE" -s "localhost:$SERVER_PORT" "$@" \
		>"$T/$name.out" 2>"$T/$name.err" &
	eval "PID_$name=$!"
}

await() {
	local i n=$(( ${3:-8} * 50 ))
	for i in $(seq 1 "$n"); do
		grep -q -- "$2" "$T/$1.out" 2>/dev/null && return 0
		sleep 0.02
	done
	fail "$1: no line matching \"$2\" in: $(cat "$T/$1.out" "$T/$1.err" 2>/dev/null)"
}

queued() {
	run xl status --json "$1"
	expect_rc 0 "status --json $1"
	json_field "$RUN_OUT" "$1" queued
}

hup() {
	local i n
	n=$(grep -c 'loaded [0-9]* license(s)' "$SERVER_LOG" || true)
	kill -HUP "$SERVER_PID"
	for i in $(seq 1 250); do
		[ "$(grep -c 'loaded [0-9]* license(s)' "$SERVER_LOG" || true)" -gt "$n" ] && return 0
		sleep 0.02
	done
	fail "no reread within 5 s of SIGHUP"
}

wait_gone() {
	local i
	for i in $(seq 1 $(( $2 * 50 ))); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.02
	done
	kill -0 "$1" 2>/dev/null && fail "process $1 still runs after $2 s"
	GONE_RC=0
	wait "$1" || GONE_RC=$?
}

# raw NAME: a client that sends its HELLO (unless the server spoke first:
# a refusal), reads the server's, then waits in the CONTEXT state and
# prints each frame: "HELLO" or "ALERT code=N reason=...", "EOF" at the
# end of the stream (a close or a reset).
raw() {
	[ -n "$IT_PYTHON" ] || fail "python3 is needed for the raw client"
	"$IT_PYTHON" - "$SERVER_PORT" >"$T/$1.out" 2>"$T/$1.err" <<'PY' &
import select, socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
# A refused connection gets its ALERT at once: read it before sending
# into a socket the server closed (the reset could destroy the ALERT).
if not select.select([s], [], [], 0.3)[0]:
    try:
        s.sendall(bytes([1]) + struct.pack(">I", 4) + struct.pack(">HH", 1, 1))
    except OSError:
        pass
buf = b""
def frame():
    global buf
    while len(buf) < 5 or len(buf) < 5 + struct.unpack(">I", buf[1:5])[0]:
        try:
            d = s.recv(4096)
        except ConnectionResetError:
            d = b""
        if not d:
            return None
        buf += d
    n = struct.unpack(">I", buf[1:5])[0]
    f = (buf[0], buf[5:5 + n])
    buf = buf[5 + n:]
    return f
while True:
    f = frame()
    if f is None:
        print("EOF", flush=True)
        break
    t, body = f
    if t == 1:
        print("HELLO", flush=True)
    elif t == 4:
        code, rl = struct.unpack(">HH", body[:4])
        print("ALERT code=%d reason=%s" % (code, body[4:4 + rl].decode()), flush=True)
    else:
        print("FRAME type=%d" % t, flush=True)
PY
	eval "PID_$1=$!"
}

