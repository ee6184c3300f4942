# shellcheck shell=bash
# tests/common.sh: helpers shared by the shell test libraries
# (tests/integration/lib.sh, tests/daemon/lib.sh, tests/hostile/run.sh);
# sourced, not run.  The caller defines fail MESSAGE (report and exit 1).

# usecs SECONDS: SECONDS (an integer or a decimal like 2.5) in microseconds.
usecs() {
	local int=${1%%.*} frac=
	case $1 in *.*) frac=${1#*.} ;; esac
	frac=${frac}000000
	echo $(( ${int:-0} * 1000000 + 10#${frac:0:6} ))
}

# wait_until SECONDS WHAT CMD...: run CMD every 20 ms until it succeeds;
# if it has not within SECONDS, fail the test with "timed out after
# SECONDS s waiting for WHAT".  This is how a test waits for an event:
# never with a fixed sleep, which is too short on a loaded machine or
# a sanitizer build and too long everywhere else.
wait_until() {
	local secs=$1 what=$2 end
	shift 2
	end=$(( ${EPOCHREALTIME//[!0-9]/} + $(usecs "$secs") ))
	while ! "$@"; do
		if [ "${EPOCHREALTIME//[!0-9]/}" -ge "$end" ]; then
			fail "timed out after $secs s waiting for $what"
		fi
		sleep 0.02
	done
}

# The headers of the sanitizers' own reports (ASan, LSan, UBSan).
SANITIZER_REPORT='ERROR: (AddressSanitizer|LeakSanitizer)|SUMMARY: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|runtime error:'

# server_log_check FILE...: fail if a server log has a sanitizer report.
server_log_check() {
	local f hits
	for f in "$@"; do
		[ -r "$f" ] || continue
		hits=$(grep -E -m 5 -- "$SANITIZER_REPORT" "$f" || true)
		[ -z "$hits" ] || fail "sanitizer report in $f: $hits"
	done
}
