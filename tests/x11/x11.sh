# x11.sh: helpers of the X11 tests (sourced after tests/integration/lib.sh).
# Each test starts its own Xvfb (-nolisten tcp, on a free display number),
# runs the X programs on it, and kills everything at exit.  Windows are found by
# title with xwininfo, their state read with xprop, and screenshots taken
# with xwd and converted with netpbm.
: "${XLICEN_BIN_XDEMO:?}" "${XLICEN_BIN_XSENDCLOSE:?}" "${XLICEN_X11_SHOTS:?}"

# A missing tool is a skip (77) naming its Debian package (scripts/deps.sh
# installs them all, so on the target machine this never skips).
for tool in Xvfb:xvfb xwd:x11-apps xwininfo:x11-utils xprop:x11-utils \
	xwdtopnm:netpbm pnmtopng:netpbm ppmhist:netpbm pamcut:netpbm; do
	if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
		echo "$IT_NAME: SKIP: ${tool%%:*} not installed (package ${tool#*:})" >&2
		exit 77
	fi
done

XVFB_PID=
X_APPS=()

x_cleanup() {
	local p
	for p in ${X_APPS[@]+"${X_APPS[@]}"}; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in ${X_APPS[@]+"${X_APPS[@]}"}; do
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$XVFB_PID" ]; then
		kill -TERM "$XVFB_PID" 2>/dev/null || true
		wait "$XVFB_PID" 2>/dev/null || true
	fi
}
x_exit() {
	local rc=$?
	# Not under set -e: "(exit rc)" passes the status on to it_cleanup.
	set +e
	x_cleanup
	(exit "$rc")
	it_cleanup
}
trap x_exit EXIT

# xvfb_start: a private X server; exports DISPLAY.  The display number
# is chosen here, not with -displayfd: in that mode Xvfb takes no lock
# file, and two test runs at once (several build trees on one machine)
# could end up on the same display.  With a number, Xvfb's lock file
# (/tmp/.XN-lock, made atomically) settles a race: the loser exits and
# the next number is tried, and the display is ours only once the lock
# holds our Xvfb's pid.  Linux X clients try the abstract socket
# "@/tmp/.X11-unix/XN" before the file: it belongs to the network
# namespace, not to /tmp, so an X server of another container sharing
# the network could answer for N.  Ours does not listen there
# (-nolisten local), and a number whose abstract socket exists is skipped.
xvfb_start() {
	local i n tries lock
	n=$((100 + $$ % 800))
	for ((tries = 0; tries < 20; tries++, n = n >= 999 ? 100 : n + 1)); do
		lock=/tmp/.X$n-lock
		[ -e "$lock" ] || [ -e "/tmp/.X11-unix/X$n" ] && continue
		grep -q " @/tmp/.X11-unix/X$n\$" /proc/net/unix 2>/dev/null && continue
		Xvfb ":$n" -screen 0 1024x768x24 -nolisten tcp -nolisten local -noreset \
			</dev/null >"$T/xvfb.log" 2>&1 &
		XVFB_PID=$!
		for ((i = 0; i < 1500; i++)); do
			kill -0 "$XVFB_PID" 2>/dev/null || break
			if [ "$({ tr -d ' \n' <"$lock"; } 2>/dev/null)" = "$XVFB_PID" ] &&
				xwininfo -display ":$n" -root >/dev/null 2>&1; then
				export DISPLAY=":$n"
				it_log "Xvfb pid $XVFB_PID on $DISPLAY"
				return 0
			fi
			sleep 0.02
		done
		kill -TERM "$XVFB_PID" 2>/dev/null || true
		wait "$XVFB_PID" 2>/dev/null || true
		XVFB_PID=
	done
	fail "no Xvfb could start: $(cat "$T/xvfb.log")"
}

# fail_hook: on failure, what each X program printed and whether it runs.
fail_hook() {
	local f name pid
	for f in "$T"/*.log; do
		name=${f##*/}
		name=${name%.log}
		case $name in server* | xvfb) continue ;; esac
		eval "pid=\${XPID_$name:-}"
		[ -n "$pid" ] || continue
		if kill -0 "$pid" 2>/dev/null; then
			echo "--- $name (pid $pid, running) ---"
		else
			echo "--- $name (pid $pid, exited) ---"
		fi
		tail -n 20 "$f"
	done
	[ -s "$T/xvfb.log" ] && { echo "--- xvfb.log ---"; tail -n 10 "$T/xvfb.log"; }
	return 0
}

# x_app NAME CCACHE CMD...: start an X program with Kerberos cache CCACHE
# (a user name of the realm, or a path); output in $T/NAME.log.
x_app() {
	local name=$1 cc=$2
	shift 2
	case $cc in /*) ;; *) cc="$XLICEN_REALM_DIR/$cc.ccache" ;; esac
	KRB5CCNAME="FILE:$cc" timeout -k 2 100 "$@" </dev/null >"$T/$name.log" 2>&1 &
	X_APPS+=("$!")
	eval "XPID_$name=$!"
	X_NAMES+=("$name")
	eval "XCMD_$name=(\"\$cc\" \"\$@\")"
}
X_NAMES=()

# x_display_retry: an X program that exited because the X server refused
# its connection ("cannot open display": nothing of ours has run yet) is
# started once more, after the state of the display is logged.  This was
# seen only under heavy load (sanitizers and fuzzers beside the tests), and
# never explained; the log lines are there to explain it next time.
x_display_retry() {
	local name pid
	for name in ${X_NAMES[@]+"${X_NAMES[@]}"}; do
		eval "pid=\$XPID_$name"
		kill -0 "$pid" 2>/dev/null && continue
		grep -qi "open.*display" "$T/$name.log" 2>/dev/null || continue
		eval "[ -z \"\${XRETRIED_$name:-}\" ]" || continue
		eval "XRETRIED_$name=1"
		it_log "$name could not open $DISPLAY: $(tr '\n' ' ' <"$T/$name.log")"
		it_log "Xvfb pid $XVFB_PID alive: $(kill -0 "$XVFB_PID" 2>/dev/null && echo yes || echo no);" \
			"lock: $({ tr -d ' \n' <"/tmp/.X${DISPLAY#:}-lock"; } 2>/dev/null);" \
			"socket: $(ls -l "/tmp/.X11-unix/X${DISPLAY#:}" 2>&1);" \
			"xwininfo: $(xwininfo -root 2>&1 | head -n 2 | tr '\n' ' ')"
		cp "$T/$name.log" "$T/$name.first.log"
		eval "x_app \"\$name\" \"\${XCMD_$name[@]}\""
		it_log "$name started again (pid $(eval "echo \$XPID_$name"))"
	done
}

# windows TITLE: the ids of the top-level windows titled TITLE.
windows() {
	xwininfo -root -tree 2>/dev/null | awk -v t="\"$1\":" 'index($0, t) { print $1 }'
}

# await_window TITLE SECS: wait for a window titled TITLE; WIN = its id.
await_window() {
	local end=$((SECONDS + $2))
	while ((SECONDS <= end)); do
		WIN=$(windows "$1" | sed -n 1p)
		[ -n "$WIN" ] && return 0
		x_display_retry
		sleep 0.02
	done
	fail "no window \"$1\" within $2 s; windows: $(xwininfo -root -tree | grep '"' | head -n 20)"
}

# prop WIN NAME: the value of a STRING property, without quotes.
prop() {
	xprop -id "$1" "$2" 2>/dev/null | sed -n 's/^[^=]*= "\(.*\)"$/\1/p'
}

# await_prop WIN NAME PATTERN SECS: until the property matches the grep
# pattern; VAL = its value.
await_prop() {
	local end=$((SECONDS + $4))
	while ((SECONDS <= end)); do
		VAL=$(prop "$1" "$2")
		grep -q -- "$3" <<<"$VAL" && return 0
		sleep 0.02
	done
	fail "property $2 of $1 is \"$VAL\", not matching \"$3\" within $4 s"
}

# kv TEXT KEY: the value of KEY=VALUE in TEXT.
kv() {
	printf '%s\n' "$1" | sed -n "s/.*$2=\([^ ]*\).*/\1/p"
}

# screenshot WIN NAME: $XLICEN_X11_SHOTS/NAME.png of window WIN, checked
# to be more than one colour (a blank or black capture fails).
screenshot() {
	local win=$1 name=$2 colours
	mkdir -p "$XLICEN_X11_SHOTS"
	xwd -silent -id "$win" -out "$T/$name.xwd" || fail "xwd of $win failed"
	xwdtopnm <"$T/$name.xwd" 2>/dev/null >"$T/$name.ppm" || fail "xwdtopnm $name"
	colours=$(ppmhist -noheader <"$T/$name.ppm" | grep -c . || true)
	[ "$colours" -gt 1 ] || fail "screenshot $name is blank ($colours colour)"
	pnmtopng <"$T/$name.ppm" >"$XLICEN_X11_SHOTS/$name.png" 2>/dev/null ||
		fail "pnmtopng $name"
	it_log "screenshot $XLICEN_X11_SHOTS/$name.png ($colours colours)"
}

# screenshot_area NAME WIN...: $XLICEN_X11_SHOTS/NAME.png of the screen
# around the windows WIN... (as composed on the screen: overlapping
# windows as the user sees them), with a margin; checked like screenshot.
screenshot_area() {
	local name=$1 w x0=99999 y0=99999 x1=0 y1=0 x y wd ht colours info
	local margin=12
	shift
	for w in "$@"; do
		info=$(xwininfo -id "$w")
		x=$(printf '%s\n' "$info" | sed -n 's/.*Absolute upper-left X: *//p')
		y=$(printf '%s\n' "$info" | sed -n 's/.*Absolute upper-left Y: *//p')
		wd=$(printf '%s\n' "$info" | sed -n 's/.*Width: *//p')
		ht=$(printf '%s\n' "$info" | sed -n 's/.*Height: *//p')
		[ "$x" -lt "$x0" ] && x0=$x
		[ "$y" -lt "$y0" ] && y0=$y
		[ $((x + wd)) -gt "$x1" ] && x1=$((x + wd))
		[ $((y + ht)) -gt "$y1" ] && y1=$((y + ht))
	done
	x0=$((x0 > margin ? x0 - margin : 0))
	y0=$((y0 > margin ? y0 - margin : 0))
	mkdir -p "$XLICEN_X11_SHOTS"
	xwd -silent -root -out "$T/$name.xwd" || fail "xwd -root failed"
	xwdtopnm <"$T/$name.xwd" 2>/dev/null |
		pamcut -left "$x0" -top "$y0" -width $((x1 - x0 + margin)) \
			-height $((y1 - y0 + margin)) >"$T/$name.ppm" 2>/dev/null ||
		fail "cropping $name"
	colours=$(ppmhist -noheader <"$T/$name.ppm" | grep -c . || true)
	[ "$colours" -gt 1 ] || fail "screenshot $name is blank ($colours colour)"
	pnmtopng <"$T/$name.ppm" >"$XLICEN_X11_SHOTS/$name.png" 2>/dev/null ||
		fail "pnmtopng $name"
	it_log "screenshot $XLICEN_X11_SHOTS/$name.png ($colours colours)"
}

# expect_quiet NAME: the X program NAME printed nothing, but for Xt's
# note that a font of the fallback resources is not installed (it then
# uses its default font; the pictures differ, the behaviour does not).
expect_quiet() {
	local out
	out=$(grep -v 'Cannot convert string .* to type FontStruct' "$T/$1.log" || true)
	[ -z "$out" ] || fail "$1 printed: $out"
}

# close_window WIN: what the window manager's close button does.
close_window() {
	"$XLICEN_BIN_XSENDCLOSE" "$1" || fail "xsendclose $1"
}

# await_exit NAME SECS: the X program NAME exits (status 0) within SECS.
await_exit() {
	local pid rc=0 end=$((SECONDS + $2))
	eval "pid=\$XPID_$1"
	while ((SECONDS <= end)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 still running after $2 s"
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "$1 exited with $rc: $(cat "$T/$1.log")"
}
