#!/usr/bin/env bash
# The examples of docs/CLIENT.md: the document shows the files as they
# are, and lists every error code of xlicen_errors.h; built with the
# project, the Xlib and the Xt example each get a seat on a private Xvfb
# (found by their server through $XLICEN_SERVER), the Xlib one gives it
# back when the window manager closes its window, the Xt one on SIGTERM.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/x11.sh"
: "${XLICEN_SOURCE_DIR:?}" "${XLICEN_BIN_XLIB_SEAT:?}" "${XLICEN_BIN_XT_SEAT:?}"

DOC="$XLICEN_SOURCE_DIR/docs/CLIENT.md"
# block HEADING: the first ```c block after the line "## HEADING".
block() {
	awk -v h="## $1" '$0 == h { on = 1; next }
		on && /^```c$/ { inb = 1; next }
		inb && /^```$/ { exit }
		inb { print }' "$DOC"
}
for ex in "Example: Xlib|xlib-seat.c" "Example: Xt|xt-seat.c"; do
	diff -u "$XLICEN_SOURCE_DIR/client/x11/examples/${ex#*|}" <(block "${ex%|*}") \
		>"$T/doc.diff" || fail "docs/CLIENT.md does not show ${ex#*|} as it is: $(cat "$T/doc.diff")"
done
for code in $(grep -o 'XLICEN_E_[A-Z_]*' "$XLICEN_SOURCE_DIR/common/xlicen_errors.h" | sort -u); do
	grep -q "| \`$code\` |" "$DOC" || fail "docs/CLIENT.md has no row for $code"
done

# await_in_use N SECS: seats of xdemo in use become N.
await_in_use() {
	wait_until "$2" "$1 seat(s) of xdemo in use" in_use_is xdemo "$1"
}

license xdemo 2
server_start --heartbeat 2 --lease-ttl 10
xvfb_start
export XLICEN_SERVER="localhost:$SERVER_PORT"

x_app xlib alice "$XLICEN_BIN_XLIB_SEAT"
await_window xlib-seat 30
XLIB_WIN=$WIN
await_in_use 1 20
x_app xt bob "$XLICEN_BIN_XT_SEAT" -geometry +0+100
await_window xt-seat 30
await_in_use 2 20
grep -q "grant xdemo 1.0 1 seat(s) to bob@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "no grant to the Xt example"

close_window "$XLIB_WIN"
await_exit xlib 10
await_in_use 1 5
grep -q "release lease .* by alice@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "the Xlib example did not release its seat"

# SIGTERM (to the program itself, not to the timeout(1) around it).
XT_PID=$(pgrep -P "$XPID_xt" | head -n 1 || true)
[ -n "$XT_PID" ] || fail "no xt-seat process under $XPID_xt"
kill -TERM "$XT_PID"
await_exit xt 10
await_in_use 0 5
grep -q "release lease .* by bob@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "the Xt example did not release its seat on SIGTERM"
pass
