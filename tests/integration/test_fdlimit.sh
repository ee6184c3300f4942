#!/usr/bin/env bash
# Out of file descriptors.  A default start is quiet: max_connections
# fits the open-files limit it finds (the limit less 64, at most 20,000),
# and only a configured max_connections the limit cannot meet is warned
# about at start (and at a SIGHUP reread).  Once every descriptor is taken by idle
# connections that never authenticate, a new client is not refused: the
# oldest handshake is evicted (ALERT BUSY "handshake evicted: server out
# of file descriptors") to free a descriptor for it, the evictions are
# logged as one summary line, and the server stays idle meanwhile.
. "$(dirname "$0")/lib.sh"
command -v prlimit >/dev/null || { it_log "SKIP: no prlimit (util-linux)"; exit 77; }

license xdemo 2
# The default: no warning, whatever the limit (2,000 here, below the
# default cap of 20,000); the cap is the limit less 64.
SERVER_WRAP=(prlimit --nofile=2000:2000 --)
server_start --debug
expect_not_contains "$(cat "$SERVER_LOG")" "is below [limits] max_connections" "a default start"
expect_contains "$(cat "$SERVER_LOG")" \
	"[limits] max_connections 1936: what the open files limit 2000 leaves" \
	"the default fitted to the limit"
server_stop
# A configured value the limit cannot meet: a warning at start.
printf '[limits]\n\tmax_connections = 20000\n' >"$T/limits.conf"
SERVER_WRAP=(prlimit --nofile=48:48 --)
server_start --config "$T/limits.conf"
expect_contains "$(cat "$SERVER_LOG")" \
	"open files limit 48 is below [limits] max_connections 20000 + 64" \
	"the start-up warning"

run xl status xdemo
expect_rc 0 "status before the flood"

# Idle raw connections until the server has no descriptor left (it has
# fewer than 48 for them); past the limit the oldest of them are evicted.
FDS=()
for ((i = 0; i < 48; i++)); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$SERVER_PORT" || fail "connection $i"
	FDS+=("$fd")
done
# (Connections accepted in the same turn of the server's loop as the one
# that found no descriptor are refused instead: their first bytes were
# never read.)
for ((i = 0; i < 100; i++)); do
	grep -q 'server out of file descriptors: ' "$SERVER_LOG" && break
	sleep 0.05
done
grep -q 'refused or closed [0-9]* connection(s) (.*server out of file descriptors: [0-9]' "$SERVER_LOG" ||
	fail "no summary line of connections evicted or refused for want of descriptors"
# One line per interval, not one per connection.
[ "$(grep -c 'server out of file descriptors' "$SERVER_LOG")" -le 2 ] ||
	fail "more than one such line: $(grep 'server out of file descriptors' "$SERVER_LOG")"

# A real client still gets in: an idle handshake makes room for it.
run xl status xdemo
expect_rc 0 "status with every descriptor held by idle connections"

# Not spinning: the loop waits while nothing is pending.
ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
t0=$(ticks)
# Kept sleep: CPU time is measured over a fixed second; nothing to wait for.
sleep 1
t1=$(ticks)
[ $((t1 - t0)) -le 20 ] ||
	fail "server used $((t1 - t0)) clock ticks in 1 s with its descriptors exhausted"

for fd in "${FDS[@]}"; do
	exec {fd}>&-
done
status_ok() { run xl status xdemo; [ "$RUN_RC" = 0 ]; }
wait_until 10 "a status to succeed once the connections are gone" status_ok
run probe checkout xdemo
expect_rc 0 "a checkout afterwards"
pass
