#!/usr/bin/env bash
# INFO and `xlicen info` (issue 15): the server's version, start and
# uptime, license directory, license files loaded and refused at the last
# (re)read, and listening addresses, for any authenticated principal
# (alice, and the admin: the same answer), as text and JSON; the counts
# follow a reread.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

R=$XLICEN_REALM
license xa 2
license xb 1
printf 'not a license\n' >"$T/lic/broken.lic"
policy "[admin]
	principals = admin@$R"
VERSION=$("$XLICEN_BIN_SERVER" --version | sed -n 's/^gss-xlicend \([^ ]*\) .*/\1/p')
[ -n "$VERSION" ] || fail "no version from gss-xlicend --version"
T0=$(date +%s)
server_start --policy "$T/policy.conf"
T1=$(date +%s)

# check_info WHO LOADED REFUSED: `xlicen info` as WHO, line by line.
check_info() {
	run as "$1" xl info
	expect_rc 0 "info as $1"
	expect_lines "$RUN_OUT" 7 "info lines as $1"
	local started up
	started=$(printf '%s\n' "$RUN_OUT" | sed -n 's/^started            \([0-9T:Z-]*\)$/\1/p')
	[ -n "$started" ] || fail "no started line: $RUN_OUT"
	STARTED=$(date -u -d "$started" +%s)
	[ "$STARTED" -ge "$T0" ] && [ "$STARTED" -le "$T1" ] ||
		fail "started $started not between $T0 and $T1"
	up=$(printf '%s\n' "$RUN_OUT" | sed -n 's/^uptime             0d 00:\([0-9][0-9]\):\([0-9][0-9]\)$/\1 \2/p')
	[ -n "$up" ] || fail "no uptime line: $RUN_OUT"
	expect_eq "$(printf '%s\n' "$RUN_OUT" | grep -v '^started\|^uptime')" \
"version            $VERSION
license directory  $T/lic
licenses loaded    $2
licenses refused   $3
listening on       127.0.0.1:$SERVER_PORT" "info as $1"
}
check_info alice 2 1
check_info admin 2 1

run as bob xl info --json
expect_rc 0 "info --json"
json_valid "$RUN_OUT"
UP=$(printf '%s\n' "$RUN_OUT" | sed -n 's/.*"uptime_s": \([0-9]*\),.*/\1/p')
[ -n "$UP" ] || fail "no uptime_s: $RUN_OUT"
expect_eq "$RUN_OUT" "{\"version\": \"$VERSION\", \"started\": \"$(date -u -d "@$STARTED" +%Y-%m-%dT%H:%M:%SZ)\", \"uptime_s\": $UP, \"license_directory\": \"$T/lic\", \"licenses_loaded\": 2, \"licenses_refused\": 1, \"listen\": [\"127.0.0.1:$SERVER_PORT\"]}" \
	"info --json"

# A new license and a reread: the counts follow.
license xc 1
run as admin xl reread
expect_rc 0 "reread"
check_info alice 3 1

run xl info extra
expect_rc 1 "info with an argument"
expect_eq "$RUN_ERR" "xlicen: unexpected argument extra
Try 'xlicen --help'." "the usage error"
pass
