# lifecycle.sh: helpers of the seat-lifecycle tests (kinds, reclaim, dup,
# queue, policy, admin, audit, crash), sourced after lib.sh.
#
#   wire [as USER] STEP...  `run` of tests/integration/wire_probe against
#                         this test's server
#   db SQL                one value from the test's database, read-only
#                         (python3's sqlite3; the server keeps it open)
#   db_is SQL VALUE       db SQL prints VALUE (a condition for wait_until)
#   policy TEXT           write $T/policy.conf (use with --policy)
#   lease_from TEXT       the lease id in a "granted ... lease ID" line

: "${XLICEN_BIN_WIRE:?}"

wire() {
	if [ "$1" = as ]; then
		local u=$2
		shift 2
		run as "$u" "$XLICEN_BIN_WIRE" -s "localhost:$SERVER_PORT" "$@"
	else
		run "$XLICEN_BIN_WIRE" -s "localhost:$SERVER_PORT" "$@"
	fi
}

db() {
	[ -n "$IT_PYTHON" ] || fail "python3 is needed to read the database"
	"$IT_PYTHON" - "$T/xlicen.db" "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
row = c.execute(sys.argv[2]).fetchone()
print("" if row is None or row[0] is None else row[0])
PY
}

db_is() { [ "$(db "$1")" = "$2" ]; }

policy() { printf '%s\n' "$1" >"$T/policy.conf"; }

lease_from() { printf '%s\n' "$1" | sed -n 's/.*lease \([0-9a-f]\{32\}\).*/\1/p' | head -n 1; }
