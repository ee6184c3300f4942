#!/usr/bin/env bash
# Logging (issue 15): [logging] file as the target (nothing on stderr);
# reopened by name after logrotate renamed it, on SIGUSR1 and on SIGHUP;
# levels (info hides debug lines; warning hides info ones), changed on
# SIGHUP; the debug lines of the decisions (a checkout's denial with its
# code and reason, the policy rule that matched, who closed a
# connection); a repeated line written once and then summed up; --debug
# in the foreground.  Every line is asserted whole, without its time.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

R=$XLICEN_REALM
LOG=$T/xlicen.log
# conf LEVEL INTERVAL [FILE]: the configuration file.
conf() {
	printf '[logging]\n\tfile = %s\n\tlevel = %s\n\trepeat_interval = %s\n' \
		"${3:-$LOG}" "$1" "$2" >"$T/conf"
}
# lines FILE: its lines without the time stamp.
lines() { sed -n 's/^[0-9T:Z-]* gss-xlicend: //p' "$1" 2>/dev/null; }
# after FILE TEXT: FILE's lines after the first line TEXT.
after() { lines "$1" | sed -n "/^$(printf '%s' "$2" | sed 's/[][\\/.*^$]/\\&/g')\$/,\$p" | tail -n +2; }
# has FILE TEXT: FILE has the line TEXT.
has() { grep -Fxq -- "$2" <<<"$(lines "$1")"; }
expect_has() { has "$1" "$2" || fail "$3: no line \"$2\" in $1: $(lines "$1")"; }
expect_hasnt() { has "$1" "$2" && fail "$3: line \"$2\" in $1"; true; }
# count FILE TEXT: how many lines are TEXT.
count() { lines "$1" | grep -Fxc -- "$2" || true; }
# hup: SIGHUP, and wait until it was acted on (the config reread).
hup() {
	local n
	n=$(lines "$LOG" | grep -c '^SIGHUP: reread' || true)
	kill -HUP "$SERVER_PID"
	wait_until 5 "SIGHUP to be acted on" hup_done "$n"
	# The lines of the reread come after "rereading": a request answered
	# after the signal was taken is answered after all of them.
	run as alice xl status
	expect_rc 0 "a STATUS after SIGHUP"
}
hup_done() { [ "$(grep -c 'SIGHUP: reread\|SIGHUP: rereading' "$T"/xlicen.log* | awk -F: '{s+=$NF} END {print s}')" -gt "$1" ]; }

license xr 1
license xp 3
policy "[products]
	xp = {
		max = 1 principal:bob@$R
	}"
conf info 0
SERVER_WATCH=$LOG
server_start --config "$T/conf" --policy "$T/policy.conf" --orphan-grace 0

# 1. The file is the target; level info.
log_has "gss-xlicend: gss-xlicend [0-9.]+ ready \(lease ttl" "$LOG" || fail "no ready line in the file"
log_has "ready|listening" "$SERVER_LOG" && fail "lines on stderr: $(cat "$SERVER_LOG")"
wire checkout xr 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100" "alice takes xr's only seat"
wire as bob checkout xr 1.0 1 0
expect_contains "$RUN_OUT" "DENY id=100 code=NO_SEATS" "bob is denied"
REASON=$(printf '%s\n' "$RUN_OUT" | sed -n 's/^DENY id=100 .*reason="\(.*\)"$/\1/p')
[ -n "$REASON" ] || fail "no reason in $RUN_OUT"
wait_until 5 "bob's deny line" has "$LOG" "deny xr 1.0 to bob@$R: $REASON"
expect_hasnt "$LOG" "checkout xr 1.0 by bob@$R denied: NO_SEATS: $REASON" "no debug line at level info"

# 2. SIGHUP to level debug: the decisions, each with its why.
conf debug 0
hup
expect_has "$LOG" "SIGHUP: [logging] level info -> debug" "the level's change"
wire as bob checkout xr 1.0 1 0
expect_contains "$RUN_OUT" "DENY id=100 code=NO_SEATS" "bob is denied again"
wait_until 5 "the denial's debug line" has "$LOG" "checkout xr 1.0 by bob@$R denied: NO_SEATS: $REASON"
wait_until 5 "who closed bob's connection" log_has "gss-xlicend: 127\.0\.0\.1:[0-9]+ bob@$R: connection closed by the client$" "$LOG"
wire as bob checkout xp 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100" "bob's first seat of xp"
expect_has "$LOG" "policy: xp for bob@$R: rule max = 1 principal:bob@$R (line 3) matched (0 held, 1 wanted)" "the rule that matched"
wire as bob checkout xp 1.0 1 0
expect_contains "$RUN_OUT" "DENY id=100 code=MAX_REACHED" "bob's second seat of xp"
expect_has "$LOG" "policy: xp for bob@$R: rule max = 1 principal:bob@$R (line 3) matched (1 held, 1 wanted)" "the rule that refused"
wire checkout xr 1.0 0 0
expect_contains "$RUN_OUT" "DENY id=100 code=COUNT" "a count of 0"
expect_has "$LOG" "checkout xr 1.0 by alice@$R denied: COUNT: seat count 0 not in 1..$(printf '%s\n' "$RUN_OUT" | sed -n 's/.*not in 1\.\.\([0-9]*\).*/\1/p')" "the early denial's debug line"

# 3. logrotate renames the file, then SIGUSR1: a new file by the name.
mv "$LOG" "$LOG.1"
kill -USR1 "$SERVER_PID"
wait_until 5 "the reopened file" has "$LOG" "SIGUSR1: reopened log file $LOG"
wire as carol checkout xp 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100" "carol's seat of xp"
wait_until 5 "carol's grant in the new file" log_has "gss-xlicend: grant xp 1\.0 1 seat\(s\) to carol@$R lease " "$LOG"
log_has "carol@" "$LOG.1" && fail "carol's lines in the renamed file"

# 4. The same on SIGHUP.
mv "$LOG" "$LOG.2"
hup
expect_has "$LOG" "SIGHUP: reopened log file $LOG" "SIGHUP reopens"
expect_has "$LOG" "SIGHUP: rereading licenses and policy" "SIGHUP's lines in the new file"
expect_hasnt "$LOG.2" "SIGHUP: reopened log file $LOG" "not in the old one"

# 5. Folding: bob denied 14 times in a row on one connection; within the
# 2 s the line is written 10 times (LIMIT_LOG_FOLD_BURST), then counted,
# and "repeated 4 more times" once the 2 s are over.
conf debug 2
hup
N0=$(count "$LOG" "deny xr 1.0 to bob@$R: $REASON")
steps=()
for i in $(seq 1 14); do steps+=(checkout xr 1.0 1 0); done
wire as bob "${steps[@]}"
expect_contains "$RUN_OUT" "DENY id=113 code=NO_SEATS" "bob's 14th denial"
wait_until 6 "the summary of bob's denials" has "$LOG" "line repeated 4 more times: deny xr 1.0 to bob@$R: $REASON"
expect_eq "$(( $(count "$LOG" "deny xr 1.0 to bob@$R: $REASON") - N0 ))" 10 "the denial written 10 times"
expect_has "$LOG" "line repeated 4 more times: checkout xr 1.0 by bob@$R denied: NO_SEATS: $REASON" "the debug line's summary"

# 6. Level warning: the change is said, then info lines are gone; a
# warning still comes.
conf warning 0 "$T/other.log"
hup
expect_has "$LOG" "SIGHUP: [logging] level debug -> warning" "down to warning"
expect_has "$LOG" "SIGHUP: [logging] file changed; it takes effect at the next start" "a warning line"
grep -Fxq "SIGHUP: reread $T/conf" <<<"$(after "$LOG" "SIGHUP: [logging] level debug -> warning")" &&
	fail "an info line after the change to warning"
wire as dave checkout xp 1.0 1 0
expect_contains "$RUN_OUT" "GRANT id=100" "dave's seat of xp"
sleep 0.5
log_has "dave@" "$LOG" && fail "info lines at level warning: $(grep dave@ "$LOG")"
expect_eq "$(after "$LOG" "SIGHUP: [logging] level debug -> warning")" \
	"SIGHUP: [logging] file changed; it takes effect at the next start" "all that level warning let through"
server_stop TERM

# 7. --debug in the foreground, over the file's level: to stderr.
rm -f "$T/conf"
SERVER_WATCH=
server_start --debug --orphan-grace 0
wire as bob checkout xr 1.0 1 0
expect_contains "$RUN_OUT" "DENY id=100 code=NO_SEATS" "bob is denied after the restart"
wait_until 5 "the debug line on stderr" has "$SERVER_LOG" "checkout xr 1.0 by bob@$R denied: NO_SEATS: $REASON"
pass
