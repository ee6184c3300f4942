#!/usr/bin/env bash
# One server per SQLite database: a second gss-xlicend on the same file is
# refused at start, naming the database and the running server's pid,
# while --check-config still works; once the first is gone (even by
# SIGKILL) the next starts at once.  And a crash loop does not stretch
# leases: after 10 starts a lease ends at most one TTL after the last.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

license xone 2
server_start --heartbeat 1 --lease-ttl 60

# second PORT [options]: another server on the same database.
second() {
	local port=$1
	shift
	run "$XLICEN_BIN_SERVER" --foreground --listen "127.0.0.1:$port" \
		--keytab "$XLICEN_SERVICE_KEYTAB" --database "$T/xlicen.db" \
		--licenses "$T/lic" --vendor-keys "$T/keys" "$@"
}
# Another port, and the same port: the database is named either way
# (checked before the sockets are bound).
for port in 0 "$SERVER_PORT"; do
	second "$port"
	expect_rc 1 "a second server on the same database (port $port)"
	expect_eq "$(printf '%s\n' "$RUN_ERR" | tail -n 1 | sed 's/^[^ ]* //')" \
		"gss-xlicend: database $T/xlicen.db: in use by another server, pid $SERVER_PID (lock file $T/xlicen.db-lock)" \
		"the refusal (port $port)"
	expect_not_contains "$RUN_ERR" "listening on" "the refusal (port $port)"
done
second 0 --check-config
expect_rc 0 "--check-config beside a running server"
expect_contains "$RUN_OUT" "database $T/xlicen.db: in use by another server, pid $SERVER_PID (lock file $T/xlicen.db-lock)" \
	"--check-config beside a running server"
run probe checkout xone
expect_rc 0 "checkout on the first server"
LEASE=$RUN_OUT

# A crash loop: ten kills and starts within a few seconds.
start=$(date +%s)
for i in $(seq 1 10); do
	server_stop KILL
	server_start
done
last=$(date +%s)
exp=$(db "SELECT expires_at FROM leases WHERE id = '$LEASE'")
it_log "lease expiry after 10 restarts: $((exp - last)) s after the last start (TTL 60, first start at +0, last at +$((last - start)) s)"
[ "$exp" -le $((last + 60)) ] ||
	fail "lease expires $((exp - last)) s after the last start, more than the TTL (60)"
run probe heartbeat "$LEASE"
expect_rc 0 "the lease lives after the restarts"

pass
