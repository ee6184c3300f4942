# async.sh: helpers for the tests of the non-blocking API (sourced after
# lib.sh).  async_probe (XLICEN_BIN_ASYNC) runs in the background with a
# FIFO on its stdin, so that a test can tell it "quit", "drop" or "retry"
# while it prints one "STATE ..." line per state callback.
: "${XLICEN_BIN_ASYNC:?}"

# aprobe_start NAME CCACHE ARGS...: start async_probe as NAME with the
# Kerberos cache CCACHE (a path); ARGS go to async_probe (-s first if the
# test wants another server list than this test's server).
aprobe_start() {
	local name=$1 cc=$2 fd
	shift 2
	rm -f "$T/$name.in"
	mkfifo "$T/$name.in"
	case " $* " in
	*" -s "*) ;;
	*) set -- -s "localhost:$SERVER_PORT" "$@" ;;
	esac
	KRB5CCNAME="FILE:$cc" timeout -k 2 80 "$XLICEN_BIN_ASYNC" -t 75 "$@" \
		<"$T/$name.in" >"$T/$name.out" 2>"$T/$name.err" &
	eval "APROBE_PID_$name=$!"
	exec {fd}>"$T/$name.in"
	eval "APROBE_FD_$name=$fd"
}

# aprobe_cmd NAME LINE: send a command to probe NAME.
aprobe_cmd() {
	local fd
	eval "fd=\$APROBE_FD_$1"
	printf '%s\n' "$2" >&"$fd"
}

# aprobe_stop NAME: "quit", wait for it, check it ended well and printed
# nothing on stderr (the library never prints).  Leaves APROBE_LOOPS.
aprobe_stop() {
	local name=$1 pid fd rc=0
	eval "pid=\$APROBE_PID_$name; fd=\$APROBE_FD_$name"
	printf 'quit\n' >&"$fd"
	exec {fd}>&-
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] || fail "async_probe $name exited with $rc: $(cat "$T/$name.err")"
	grep -q '^STOPPED ' "$T/$name.out" || fail "async_probe $name: no STOPPED line"
	[ ! -s "$T/$name.err" ] || fail "async_probe $name wrote to stderr: $(cat "$T/$name.err")"
	APROBE_LOOPS=$(sed -n 's/^STOPPED .* loops=\([0-9]*\)$/\1/p' "$T/$name.out")
}

# await NAME PATTERN SECONDS [AFTER]: wait until probe NAME printed a line
# matching the grep pattern PATTERN (after the first line matching AFTER,
# if given); leaves that line in LINE.
await() {
	local name=$1 pat=$2 secs=$3 after=${4:-} i
	for ((i = 0; i < secs * 50; i++)); do
		if [ -n "$after" ]; then
			LINE=$(sed -n "/$after/,\$p" "$T/$name.out" | grep -m 1 -- "$pat" || true)
		else
			LINE=$(grep -m 1 -- "$pat" "$T/$name.out" || true)
		fi
		[ -n "$LINE" ] && return 0
		sleep 0.02
	done
	fail "async_probe $name: no line matching \"$pat\"${after:+ after \"$after\"} within $secs s; it printed: $(cat "$T/$name.out") $(cat "$T/$name.err")"
}

# field LINE KEY: the value of KEY=VALUE in a STATE line.
field() {
	printf '%s\n' "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}

# kinit_to CCACHE USER [LIFETIME]: fresh tickets for USER into CCACHE.
kinit_to() {
	kinit ${3:+-l "$3"} -k -t "$XLICEN_REALM_DIR/$2.keytab" -c "FILE:$1" \
		"$2@$XLICEN_REALM" </dev/null >/dev/null 2>"$T/kinit.err" ||
		fail "kinit $2: $(cat "$T/kinit.err")"
}
