#!/usr/bin/env bash
# A database error on the server (here a real disk full: the database on
# a small tmpfs that is then filled) reaches the CLI as its own exit
# status, 5, not the 3 of "could not connect" (issue 11, item 13).
# Mounting needs root (as the CI runs the tests); elsewhere the test is
# skipped (exit 77).
. "$(dirname "$0")/lib.sh"

MNT="$T/dbfs"
mkdir -p "$MNT"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$MNT" 2>"$T/mount.err"; then
	it_log "SKIP: cannot mount a tmpfs here: $(cat "$T/mount.err" 2>/dev/null)"
	exit 77
fi
dberror_cleanup() {
	local rc=$?
	if [ -n "$SERVER_PID" ]; then
		kill -KILL "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
	fi
	umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
	(exit "$rc")
	it_cleanup
}
trap dberror_cleanup EXIT

license xdemo 50
server_start --database "$MNT/xlicen.db"
run xl checkout xdemo -- true
expect_rc 0 "checkout while the disk has room"

# Fill the file system to the last block.
dd if=/dev/zero of="$MNT/fill" bs=4k >/dev/null 2>&1 || true
[ "$(df --output=avail "$MNT" | tail -n 1 | tr -d ' ')" = 0 ] ||
	fail "the tmpfs is not full: $(df "$MNT")"

# Checkouts write the database, and soon one fails.  Not at once: the WAL
# is rewritten in place from its start once checkpointed, and the file is
# as large as the migrations made it (0006 copies the events table), so
# some checkouts still fit in blocks the WAL already has, durably.  The
# checkpoints fail once the database file must grow (each checkout adds
# two events), the WAL can then no longer start over, and the first write
# past its end fails.  Up to 60 tries (about 8 pages each), each 0 or 5.
got=
for i in $(seq 1 60); do
	run xl checkout -n 1 xdemo -- true
	case $RUN_RC in
	0) ;;
	5) got=1; break ;;
	*) fail "checkout on a full disk: exit status $RUN_RC, expected 5 (stderr: $RUN_ERR)" ;;
	esac
done
[ -n "$got" ] || fail "60 checkouts on a full disk all succeeded"
it_log "the first checkout that failed on the full disk: try $i"
expect_contains "$RUN_ERR" "database error" "the CLI names the database error"
grep -qi 'full\|SQLITE_FULL\|disk' "$SERVER_LOG" || fail "the server did not log the disk full"

# Room again: the server works on.
rm -f "$MNT/fill"
run xl checkout xdemo -- true
expect_rc 0 "checkout after the disk has room again"
# Stopped, not killed: the server writes its coverage counters at exit.
server_stop
pass
