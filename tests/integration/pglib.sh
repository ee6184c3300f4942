# pglib.sh: what the test_pg_*.sh scripts share, sourced after lib.sh
# (whose pg_newdb and pg_query they use).  The cluster is the CTest
# fixture "pg" (tests/pg: xlicen_use_pg sets XLICEN_PG_DIR, XLICEN_PG_ENV
# and XLICEN_PG_SH).
: "${XLICEN_PG_ENV:?}" "${XLICEN_PG_SH:?}"
[ -s "$XLICEN_PG_ENV" ] ||
	fail "no PostgreSQL cluster ($XLICEN_PG_ENV missing: fixture pg not started?)"
. "$XLICEN_PG_ENV"

# pg_usedb: a new empty database for this test; sets PG_CONNINFO and makes
# server_start use it (lib.sh's XLICEN_IT_STORE_CONNINFO).
pg_usedb() {
	PG_CONNINFO=$(pg_newdb "it_$(printf '%s' "$IT_NAME" | tr -c 'a-z0-9_' '_')")
	[ -n "$PG_CONNINFO" ] || fail "no conninfo from pg_newdb"
	export XLICEN_IT_STORE_CONNINFO=$PG_CONNINFO
}

# pg_q SQL: one query on this test's database, values unaligned, | between
# (psql -q: no command tags).
pg_q() {
	"$XLICEN_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$PG_CONNINFO" -c "$1"
}

# The servers of a test with several: server_use N switches lib.sh's
# SERVER_PID/PORT/LOG to server N (as saved by server_save N); the cleanup
# kills every one saved.
declare -A PG_SRV_PID PG_SRV_PORT PG_SRV_LOG
server_save() {
	PG_SRV_PID[$1]=$SERVER_PID
	PG_SRV_PORT[$1]=$SERVER_PORT
	PG_SRV_LOG[$1]=$SERVER_LOG
}
server_use() {
	SERVER_PID=${PG_SRV_PID[$1]}
	SERVER_PORT=${PG_SRV_PORT[$1]}
	SERVER_LOG=${PG_SRV_LOG[$1]}
}
# server_new N ARGS...: start another server on this test's database (a
# port of its own) and save it as N.
server_new() {
	local n=$1
	shift
	SERVER_PID=
	SERVER_PORT=0
	server_start "$@"
	server_save "$n"
}
pg_cleanup() {
	local p
	for p in ${PG_SRV_PID[@]+"${PG_SRV_PID[@]}"}; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	done
	return 0
}
# it_cleanup is handed the test's status: under set -e a trap that went on
# after a failing command would stop there, leaving lib.sh's cleanup unrun.
trap 'pg_rc=$?; pg_cleanup; it_cleanup "$pg_rc"' EXIT
