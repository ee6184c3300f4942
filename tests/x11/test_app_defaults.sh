#!/usr/bin/env bash
# Issue 16 item 4: the X11 programs' defaults live in their app-defaults
# files.  The files installed by `cmake --install --component x11` into a
# prefix are found the way xlicen-xdemo(1) says (XFILESEARCHPATH=
# PREFIX/etc/X11/%T/%N%S); a product changed there is the product
# xlicen-xdemo checks out, and without the file the compiled-in copy
# (made from the same file) gives the default product xdemo.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/x11.sh"
: "${XLICEN_BUILD_DIR:?}" "${XLICEN_BIN_XDEMO:?}"

P=$T/prefix
cmake --install "$XLICEN_BUILD_DIR" --prefix "$P" --component x11 >"$T/install.log" 2>&1 ||
	fail "cmake --install --component x11: $(tail -n 5 "$T/install.log")"
AD=$P/etc/X11/app-defaults
for f in XlicenXdemo XlicenXmon; do
	[ -f "$AD/$f" ] || fail "no app-defaults file $f in PREFIX/etc/X11/app-defaults"
done
grep -qx '\*product: xdemo' "$AD/XlicenXdemo" || fail "XlicenXdemo has no *product: xdemo line"
grep -qx '\*interval: 5' "$AD/XlicenXmon" || fail "XlicenXmon has no *interval: 5 line"
sed -i 's/^\*product: xdemo$/*product: xother/' "$AD/XlicenXdemo"

license xother 1
license xdemo 1
server_start --heartbeat 2 --lease-ttl 30
xvfb_start
export XLICEN_SERVER="localhost:$SERVER_PORT"

XFILESEARCHPATH="$P/etc/X11/%T/%N%S" x_app alice alice "$XLICEN_BIN_XDEMO"
await_window "xlicen-xdemo: xother" 30
wait_until 20 "1 seat of xother in use" in_use_is xother 1
grep -q "grant xother 1.0 1 seat(s) to alice@$XLICEN_REALM" "$SERVER_LOG" ||
	fail "no grant of xother, the product of the app-defaults file"

# No app-defaults file on the path: the compiled-in copy.
XFILESEARCHPATH="$T/none/%N" x_app bob bob "$XLICEN_BIN_XDEMO" -geometry +0+200
await_window "xlicen-xdemo: xdemo" 30
wait_until 20 "1 seat of xdemo in use" in_use_is xdemo 1
pass
