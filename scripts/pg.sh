#!/usr/bin/env bash
# pg.sh - a throwaway PostgreSQL 15 cluster living in one directory, for
# tests: Unix socket only (listen_addresses is empty), a superuser role
# "xlicen" trusted on that socket, nothing read from or written to the
# system's clusters (Debian's "main" on 5432 is never touched).
#
#   pg.sh start DIR [--standby]  create and start the cluster (or reuse a
#                                running one); --standby adds a synchronous
#                                streaming standby made with pg_basebackup
#   pg.sh stop DIR               stop every postmaster of DIR; files stay
#   pg.sh status DIR             exit 0 if the primary of DIR runs
#   pg.sh newdb DIR NAME         create database NAME, print its conninfo
#   pg.sh psql DIR [ARGS...]     psql on the current primary's xlicen db
#   pg.sh crash DIR              stop the primary "immediate" (no shutdown
#                                checkpoint, connections cut: a crash)
#   pg.sh promote DIR            promote the standby; it becomes the primary
#   pg.sh check DIR              assert, through DIR/pg.env, that the cluster
#                                works (CTest: pg.check)
#
# After `start`, `. DIR/pg.env` exports:
#   XLICEN_PG_DIR       DIR
#   XLICEN_PG_BIN       the PostgreSQL binaries (psql, pg_ctl...)
#   XLICEN_PG_SOCKDIR   the socket directory
#   XLICEN_PG_PORT      the primary's port (its socket is SOCKDIR/.s.PGSQL.PORT)
#   XLICEN_PG_STANDBY_PORT  the standby's (--standby only)
#   XLICEN_PG_CONNINFO  libpq conninfo of database "xlicen"; with --standby
#                       it lists both nodes, target_session_attrs=read-write
#
# Layout: DIR/primary and DIR/standby are the data directories, DIR/sock the
# socket directory, DIR/primary.log and DIR/standby.log the server logs.
# stop leaves the files; start removes those of an earlier cluster.
# When root runs this, initdb and the postmasters run as the "postgres" user
# that Debian's postgresql package creates (initdb refuses root); then the
# data lives in DIR only if that user can reach it and the socket path fits
# in sun_path, otherwise in a directory under /tmp named in DIR/pg.base.
#
# Settings are those of a small test cluster (shared_buffers 16MB,
# max_connections 60).  initdb and pg_basebackup do not wait for their
# files to reach the disk (--no-sync: a throwaway cluster, and that wait
# took seconds on a busy machine); the running cluster's fsync stays on,
# as in production.
set -eu

PGBIN=${XLICEN_PG_BIN:-/usr/lib/postgresql/15/bin}
ROLE=xlicen
PRIMARY_PORT=54320
STANDBY_PORT=54321
STANDBY_NAME=xlicen_standby
SYNC_WAIT_SECONDS=15
# sun_path is 108 bytes; "/.s.PGSQL.54320" and its ".lock" take 20.
SOCK_PATH_MAX=87

prog=pg.sh
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }
note() { printf '%s: %s\n' "$prog" "$*" >&2; }

usage() {
	cat >&2 <<EOF
usage: $prog start DIR [--standby]
       $prog stop DIR
       $prog status DIR
       $prog newdb DIR NAME
       $prog psql DIR [PSQL-ARGS...]
       $prog crash DIR
       $prog promote DIR
       $prog check DIR
EOF
	exit 2
}

need_bin() {
	[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] && [ -x "$PGBIN/psql" ] &&
		[ -x "$PGBIN/pg_basebackup" ] ||
		die "no PostgreSQL 15 in $PGBIN (install postgresql-15; scripts/deps.sh does)"
}

# Absolute path of DIR; with create=1 the directory is made first.
abs_dir() {
	local d=$1 create=${2:-0}
	case $d in
	'') die "empty directory argument" ;;
	*'
'* | *' '*) die "directory name contains white space: $d" ;;
	esac
	if [ "$create" = 1 ]; then
		mkdir -p -- "$d" || die "cannot create $d"
	fi
	[ -d "$d" ] || die "no such directory: $d"
	(cd -- "$d" && pwd -P)
}

# as_pg CMD...: run CMD as the cluster's owner (postgres when we are root).
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Where data and socket live: DIR, or the directory named in DIR/pg.base.
base_of() {
	local b=
	[ -r "$DIR/pg.base" ] && read -r b <"$DIR/pg.base"
	printf '%s\n' "${b:-$DIR}"
}

# choose_base: DIR if the cluster owner can write there and the socket
# path fits; else a fresh directory under /tmp (recorded in DIR/pg.base).
choose_base() {
	local b=$DIR
	rm -f -- "$DIR/pg.base"
	if [ "$(id -u)" = 0 ]; then
		getent passwd postgres >/dev/null ||
			die "no user postgres (install postgresql-15: initdb refuses to run as root)"
		chown postgres: "$DIR"
		runuser -u postgres -- test -w "$DIR" -a -x "$DIR" 2>/dev/null || b=
	fi
	if [ -n "$b" ] && [ "${#b}" -gt $((SOCK_PATH_MAX - 5)) ]; then
		b=
	fi
	if [ -z "$b" ]; then
		b=$(mktemp -d /tmp/xlicen-pg.XXXXXX)
		chmod 0755 "$b"
		[ "$(id -u)" = 0 ] && chown postgres: "$b"
		printf '%s\n' "$b" >"$DIR/pg.base"
		note "using $b for the cluster (DIR unreachable by postgres, or its path too long)"
	fi
	printf '%s\n' "$b"
}

pg_running() {	# datadir
	[ -d "$1" ] && as_pg "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# Single-quote a value for the env file.
shq() {
	local q="'\\''"
	printf "'%s'" "${1//\'/$q}"
}

# conninfo DB: libpq conninfo of database DB on this cluster.  With a
# standby, both nodes, and only a read-write one is accepted.
conninfo() {
	local db=$1 base sock
	base=$(base_of)
	sock="$base/sock"
	if [ -d "$base/standby" ]; then
		printf 'host=%s,%s port=%s,%s user=%s dbname=%s target_session_attrs=read-write connect_timeout=2\n' \
			"$sock" "$sock" "$PRIMARY_PORT" "$STANDBY_PORT" "$ROLE" "$db"
	else
		printf 'host=%s port=%s user=%s dbname=%s connect_timeout=2\n' \
			"$sock" "$PRIMARY_PORT" "$ROLE" "$db"
	fi
}

# Run psql on the node that accepts writes now, database DB.
psql_rw() {	# db args...
	local db=$1
	shift
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$(conninfo "$db")" "$@"
}

start_node() {	# datadir port logfile
	as_pg "$PGBIN/pg_ctl" -D "$1" -l "$3" -w -t 30 \
		-o "-k $(base_of)/sock -c listen_addresses= -p $2" start >/dev/null 9>&- ||
		{ tail -n 20 "$3" >&2; die "pg_ctl start $1 failed"; }
}

write_env() {
	local base tmp="$DIR/.pg.env.$$"
	base=$(base_of)
	{
		printf '# Source me: . %s   (written by scripts/pg.sh)\n' "$(shq "$DIR/pg.env")"
		printf 'export XLICEN_PG_DIR=%s\n' "$(shq "$DIR")"
		printf 'export XLICEN_PG_BIN=%s\n' "$(shq "$PGBIN")"
		printf 'export XLICEN_PG_SOCKDIR=%s\n' "$(shq "$base/sock")"
		printf 'export XLICEN_PG_PORT=%s\n' "$PRIMARY_PORT"
		[ -d "$base/standby" ] && printf 'export XLICEN_PG_STANDBY_PORT=%s\n' "$STANDBY_PORT"
		printf 'export XLICEN_PG_CONNINFO=%s\n' "$(shq "$(conninfo "$ROLE")")"
	} >"$tmp"
	mv -f -- "$tmp" "$DIR/pg.env"
}

# make_standby: a base backup of the primary, started as a streaming
# standby, then made synchronous; returns once the primary reports it
# "sync" (from then on every commit waits for the standby's flush).
make_standby() {
	local base=$1 i state
	as_pg "$PGBIN/pg_basebackup" -D "$base/standby" -R -X stream -c fast --no-sync \
		-d "host=$base/sock port=$PRIMARY_PORT user=$ROLE" >>"$DIR/setup.log" 2>&1 ||
		{ tail -n 20 "$DIR/setup.log" >&2; die "pg_basebackup failed"; }
	# Later lines of postgresql.auto.conf win: name the standby so the
	# primary can require it.
	printf "primary_conninfo = 'host=%s port=%s user=%s application_name=%s'\n" \
		"$base/sock" "$PRIMARY_PORT" "$ROLE" "$STANDBY_NAME" |
		as_pg tee -a "$base/standby/postgresql.auto.conf" >/dev/null
	start_node "$base/standby" "$STANDBY_PORT" "$base/standby.log"
	psql_rw postgres -c "ALTER SYSTEM SET synchronous_standby_names = '$STANDBY_NAME'" \
		-c "SELECT pg_reload_conf()" >/dev/null
	i=0
	while :; do
		state=$("$PGBIN/psql" -X -At -d "host=$base/sock port=$PRIMARY_PORT user=$ROLE dbname=postgres" \
			-c "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$STANDBY_NAME'" 2>/dev/null || true)
		[ "$state" = sync ] && return 0
		i=$((i + 1))
		[ "$i" -lt $((SYNC_WAIT_SECONDS * 20)) ] ||
			{ tail -n 20 "$base/standby.log" >&2; die "the standby did not become synchronous in ${SYNC_WAIT_SECONDS}s (state '$state')"; }
		sleep 0.05
	done
}

cmd_start() {
	local standby=0 base
	[ "${2:-}" = --standby ] && standby=1
	need_bin
	DIR=$(abs_dir "$1" 1)
	exec 9>"$DIR/.pg.lock"
	command -v flock >/dev/null 2>&1 && flock 9
	base=$(base_of)
	if pg_running "$base/primary" && [ -s "$DIR/pg.env" ] &&
		{ [ "$standby" = 0 ] || pg_running "$base/standby"; }; then
		note "reusing running cluster in $base"
		return 0
	fi
	stop_all
	[ "$base" != "$DIR" ] && rm -rf -- "$base"
	rm -rf -- "$DIR/primary" "$DIR/standby" "$DIR/sock" "$DIR/pg.env" \
		"$DIR/primary.log" "$DIR/standby.log" "$DIR/setup.log"
	base=$(choose_base)
	: >"$DIR/setup.log"
	# The postmasters write their logs themselves: in base, which their
	# user can reach; DIR gets links when base is elsewhere.
	for f in primary.log standby.log; do
		: >"$base/$f"
		[ "$(id -u)" = 0 ] && chown postgres: "$base/$f"
		[ "$base" = "$DIR" ] || ln -sfn "$base/$f" "$DIR/$f"
	done
	mkdir -p "$base/sock"
	# Root and the test user connect here; postgres creates the sockets.
	chmod 0755 "$base/sock"
	[ "$(id -u)" = 0 ] && chown postgres: "$base/sock" "$DIR/setup.log"
	as_pg "$PGBIN/initdb" -D "$base/primary" -A trust -U "$ROLE" -E UTF8 --no-sync \
		--locale=C.UTF-8 >>"$DIR/setup.log" 2>&1 ||
		{ tail -n 20 "$DIR/setup.log" >&2; die "initdb failed"; }
	cat <<EOF | as_pg tee -a "$base/primary/postgresql.conf" >/dev/null
# Added by scripts/pg.sh: a small throwaway test cluster.
shared_buffers = 16MB
max_connections = 60
max_wal_senders = 4
wal_level = replica
unix_socket_permissions = 0777
log_line_prefix = '%m [%p] %d '
EOF
	# A failure from here on must not leave a postmaster behind.
	trap 'stop_all' EXIT
	start_node "$base/primary" "$PRIMARY_PORT" "$base/primary.log"
	"$PGBIN/createdb" -h "$base/sock" -p "$PRIMARY_PORT" -U "$ROLE" "$ROLE" ||
		die "createdb $ROLE failed"
	[ "$standby" = 1 ] && make_standby "$base"
	write_env
	trap - EXIT
	note "PostgreSQL up in $base (socket $base/sock, port $PRIMARY_PORT$([ "$standby" = 1 ] && echo ", standby $STANDBY_PORT")); . $DIR/pg.env"
}

# stop_all: fast shutdown of every node (an immediate one if fast hangs).
stop_all() {
	local base n
	base=$(base_of)
	for n in standby primary; do
		pg_running "$base/$n" || continue
		as_pg "$PGBIN/pg_ctl" -D "$base/$n" -m fast -w -t 20 stop >/dev/null 2>&1 ||
			as_pg "$PGBIN/pg_ctl" -D "$base/$n" -m immediate -w stop >/dev/null 2>&1 || true
	done
}

cmd_stop() {
	[ -d "$1" ] || { note "no directory $1; nothing to stop"; return 0; }
	DIR=$(abs_dir "$1")
	exec 9>"$DIR/.pg.lock"
	command -v flock >/dev/null 2>&1 && flock 9
	stop_all
	note "stopped the cluster of $DIR"
}

cmd_status() {
	DIR=$(abs_dir "$1")
	pg_running "$(base_of)/primary" && { echo "primary running"; return 0; }
	echo "primary not running"
	return 1
}

cmd_newdb() {
	local name=$2
	DIR=$(abs_dir "$1")
	[ -s "$DIR/pg.env" ] || die "no cluster in $DIR (run: $prog start $DIR)"
	case $name in
	'' | *[!a-z0-9_]*) die "database name must be [a-z0-9_]+: '$name'" ;;
	esac
	psql_rw postgres -c "CREATE DATABASE $name" >/dev/null || die "CREATE DATABASE $name failed"
	conninfo "$name"
}

cmd_crash() {
	DIR=$(abs_dir "$1")
	as_pg "$PGBIN/pg_ctl" -D "$(base_of)/primary" -m immediate -w stop >/dev/null ||
		die "could not stop the primary"
}

cmd_promote() {
	DIR=$(abs_dir "$1")
	[ -d "$(base_of)/standby" ] || die "no standby in $DIR (start it with --standby)"
	as_pg "$PGBIN/pg_ctl" -D "$(base_of)/standby" -w -t 30 promote >/dev/null ||
		die "pg_ctl promote failed"
}

# Assert, through DIR/pg.env as a test would use it, that the cluster works:
# the role, the socket only, a fresh database of one's own.
cmd_check() {
	local d got ci
	d=$(abs_dir "$1")
	[ -r "$d/pg.env" ] || die "no $d/pg.env (run: $prog start $d)"
	# shellcheck disable=SC1091
	. "$d/pg.env"
	fail() { printf '%s: check FAILED: %s\n' "$prog" "$*" >&2; exit 1; }
	got=$("$XLICEN_PG_BIN/psql" -X -At -d "$XLICEN_PG_CONNINFO" \
		-c "SELECT current_user || ' ' || current_setting('listen_addresses') || '|' || pg_is_in_recovery()") ||
		fail "psql on $XLICEN_PG_CONNINFO"
	[ "$got" = "xlicen |false" ] || fail "expected 'xlicen |false' (role, no TCP, primary), got '$got'"
	echo "ok - connected as xlicen over the socket only, to the primary"
	DIR=$d
	ci=$(cmd_newdb "$d" "check_$$") || fail "newdb"
	got=$("$XLICEN_PG_BIN/psql" -X -At -d "$ci" -c "SELECT current_database()") || fail "psql on $ci"
	[ "$got" = "check_$$" ] || fail "newdb's conninfo reaches '$got'"
	psql_rw postgres -c "DROP DATABASE check_$$" >/dev/null || fail "drop check_$$"
	echo "ok - newdb gives a database of one's own ($ci)"
}

[ $# -ge 2 ] || usage
cmd=$1
shift
case $cmd in
start) { [ $# = 1 ] || { [ $# = 2 ] && [ "$2" = --standby ]; }; } || usage; cmd_start "$@" ;;
stop) [ $# = 1 ] || usage; cmd_stop "$1" ;;
status) [ $# = 1 ] || usage; cmd_status "$1" ;;
newdb) [ $# = 2 ] || usage; cmd_newdb "$@" ;;
psql) DIR=$(abs_dir "$1"); shift; psql_rw "$ROLE" "$@" ;;
crash) [ $# = 1 ] || usage; cmd_crash "$1" ;;
promote) [ $# = 1 ] || usage; cmd_promote "$1" ;;
check) [ $# = 1 ] || usage; cmd_check "$1" ;;
*) usage ;;
esac
