#!/usr/bin/env bash
# The shipped logrotate snippet (contrib/logrotate/gss-xlicend) run by the
# real logrotate(8) against a running server (issue 15): the file is
# renamed, an empty one made, and the postrotate's SIGUSR1 makes the
# server write on in the new file.  Only the paths (log file, pid file)
# and the owner (root: the test's server does not drop to gss-xlicen)
# are changed from the shipped text.
. "$(dirname "$0")/lib.sh"

LR=$(command -v logrotate || command -v /usr/sbin/logrotate || true)
if [ -z "$LR" ]; then
	echo "SKIP: logrotate is not installed"
	exit 77
fi
SNIPPET=$(cd "$(dirname "$0")/../../contrib/logrotate" && pwd)/gss-xlicend
mkdir -p "$T/logs"
LOG=$T/logs/gss-xlicend.log
sed -e "s|/var/log/gss-xlicen/gss-xlicend.log|$LOG|" \
	-e "s|/run/gss-xlicend.pid|$T/pid|" \
	-e "s|gss-xlicen gss-xlicen|root root|" "$SNIPPET" >"$T/logrotate.conf"
grep -q "^$LOG {" "$T/logrotate.conf" || fail "the snippet's path was not found to replace"
grep -q "kill -USR1" "$T/logrotate.conf" || fail "the snippet sends no SIGUSR1"
printf '[logging]\n\tfile = %s\n' "$LOG" >"$T/conf"
license xr 3
SERVER_WATCH=$LOG
server_start --config "$T/conf" --pid-file "$T/pid"
run probe checkout xr
expect_rc 0 "alice's checkout"
wait_until 5 "alice's grant" log_has "grant xr 1\.0 1 seat\(s\) to alice@" "$LOG"

"$LR" -f -s "$T/logrotate.state" "$T/logrotate.conf" >"$T/logrotate.out" 2>&1 ||
	fail "logrotate failed: $(cat "$T/logrotate.out")"
[ -s "$LOG.1" ] || fail "no $LOG.1 after logrotate: $(ls -l "$T/logs")"
log_has "grant xr 1\.0 1 seat\(s\) to alice@" "$LOG.1" || fail "alice's grant not in the rotated file"
wait_until 5 "the reopened file" log_has "gss-xlicend: SIGUSR1: reopened log file $LOG$" "$LOG"
expect_eq "$(stat -c %a "$LOG")" 600 "the new file's mode"
run as bob probe checkout xr
expect_rc 0 "bob's checkout"
wait_until 5 "bob's grant in the new file" log_has "grant xr 1\.0 1 seat\(s\) to bob@" "$LOG"
log_has "bob@" "$LOG.1" && fail "bob's lines in the rotated file"
pass
