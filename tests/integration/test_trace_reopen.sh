#!/usr/bin/env bash
# The --trace file follows the log file's rule: renamed (logrotate without
# copytruncate), it is reopened by its name on SIGUSR1 and on SIGHUP, so
# the requests after the signal are traced in the new file and not in the
# renamed one; a reopen that fails is logged and the trace goes on in the
# file it was.  The [logging] file's "reopened" line says when a signal
# was taken.
. "$(dirname "$0")/lib.sh"

LOG=$T/xlicen.log
TR=$T/server.trace
printf '[logging]\n\tfile = %s\n' "$LOG" >"$T/conf"
license xa 3
license xb 3
license xc 3
license xd 3
SERVER_WATCH=$LOG
server_start --config "$T/conf" --trace "$TR"
# traced FILE PRODUCT: FILE has the trace of a CHECKOUT of PRODUCT.
traced() { grep -q "^xlicen-trace .* recv msg CHECKOUT(0x0001) .*PRODUCT=\"$2\"" "$1"; }
# reopened SIG N: the log file has N lines saying SIG reopened it.
reopened() { [ "$(grep -c "gss-xlicend: $1: reopened log file $LOG\$" "$LOG")" -ge "$2" ]; }
# checkout PRODUCT: one request, traced before its answer was sent.
checkout() {
	run probe checkout "$1"
	expect_rc 0 "the checkout of $1"
}

checkout xa
traced "$TR" xa || fail "no CHECKOUT of xa in the trace: $(head -c 2000 "$TR")"
# SIGUSR1 (logrotate's postrotate) after a rename.
mv "$TR" "$TR.1"
kill -USR1 "$SERVER_PID"
wait_until 5 "SIGUSR1 to be taken" reopened SIGUSR1 1
checkout xb
[ -f "$TR" ] || fail "SIGUSR1: no new trace file $TR"
traced "$TR" xb || fail "SIGUSR1: the request after it is not in the new trace file"
traced "$TR.1" xb && fail "SIGUSR1: the request after it is in the renamed trace file"
expect_eq "$(stat -c %a "$TR")" 600 "the new trace file's mode"
log_has "gss-xlicend: SIGUSR1: reopened trace file $TR\$" "$LOG" ||
	fail "SIGUSR1: no \"reopened trace file\" line in $LOG"

# SIGHUP does the same.
mv "$TR" "$TR.2"
kill -HUP "$SERVER_PID"
wait_until 5 "SIGHUP to be taken" reopened SIGHUP 1
checkout xc
traced "$TR" xc || fail "SIGHUP: the request after it is not in the new trace file"
traced "$TR.2" xc && fail "SIGHUP: the request after it is in the renamed trace file"

# A reopen that fails (the name is now a directory): logged, and the trace
# goes on in the file it was.
mv "$TR" "$TR.3"
mkdir "$TR"
kill -USR1 "$SERVER_PID"
wait_until 5 "the second SIGUSR1 to be taken" reopened SIGUSR1 2
log_has "gss-xlicend: SIGUSR1: cannot reopen trace file $TR \(Is a directory\); trace lines still go to the file it was\$" "$LOG" ||
	fail "no line saying the trace file was not reopened: $(tail -n 5 "$LOG")"
checkout xd
traced "$TR.3" xd || fail "after a failed reopen the trace is not in the file it was"
server_stop
pass
