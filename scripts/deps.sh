#!/usr/bin/env bash
# deps.sh - install the Debian packages gss-xlicen needs to build, test and
# run its demo.  When everything is already installed it does not touch apt
# at all (one dpkg-query), so scripts/test and scripts/quickstart can call it
# every time.
#
# Non-interactive: debconf is told not to ask, dpkg keeps existing config
# files, and apt waits for (rather than fails on) another apt holding the lock.
# Installing krb5-kdc / krb5-admin-server would normally start the system's
# KDC and kadmind; a temporary policy-rc.d forbids service starts during the
# install (it is removed again; an existing policy-rc.d is left alone).  Were
# they started anyway, they would exit at once (the packages create no realm
# database; krb5_newrealm does) and nothing here uses them: scripts/realm.sh
# runs its own KDC from a directory, on a loopback port of its own.
#
# With these packages, run as root, no test skips (exit 77); scripts/test
# fails any skip not declared in XLICEN_TEST_ALLOW_SKIP.  What needs which:
# the X11 tests xvfb, x11-apps (xwd), x11-utils (xwininfo, xprop), netpbm;
# realm.check and hostile.frame krb5-gss-samples (gss-server, gss-client);
# daemon.activation systemd (systemd-socket-activate); daemon.man groff-base
# and man-db; daemon.install build-essential, pkg-config (binutils'
# readelf); daemon.root and daemon.keyrotate_root passwd (useradd) and
# util-linux (setpriv), and root; integration.fdlimit util-linux
# (prlimit); integration.dberror mount (a tmpfs), and root; the JSON and
# database checks python3 and sqlite3; the server libmicrohttpd-dev (its
# /metrics endpoint) and integration.http curl; integration.logrotate
# logrotate; integration.http_chromium chromium (headless, with Kerberos
# sign-on); the PostgreSQL store and the pg fixture (scripts/pg.sh: its
# own cluster, never the system's "main", which policy-rc.d keeps from
# starting here) postgresql-15 and libpq-dev; integration.pg_pipeline and
# scripts/bench's round-trip count strace.
#
# Arguments name further packages to install the same way, for a script
# that needs more than the build and the tests (scripts/coverage: gcovr).
#
# Run as root, or as a user with sudo.  Set XLICEN_DEPS_SKIP=1 to skip this
# step entirely (e.g. on a machine where packages are managed elsewhere).
set -eu

PACKAGES="
	build-essential cmake pkg-config
	libkrb5-dev krb5-kdc krb5-admin-server krb5-user krb5-gss-samples
	libsqlite3-dev sqlite3 libssl-dev libmicrohttpd-dev curl
	libcmocka-dev clang libclang-rt-14-dev
	xvfb x11-apps x11-utils fonts-urw-base35 netpbm libx11-dev libxt-dev libxaw7-dev
	python3 procps iproute2 groff-base man-db
	systemd util-linux mount passwd
	dpkg-dev lintian
	tshark wireshark-common libwireshark-dev libglib2.0-dev
	logrotate
	chromium
	postgresql-15 libpq-dev
	strace
"
PACKAGES="$PACKAGES $*"

prog=deps.sh
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 1; }

if [ "${XLICEN_DEPS_SKIP:-0}" = 1 ]; then
	exit 0
fi

# shellcheck disable=SC2086
command -v dpkg-query >/dev/null 2>&1 ||
	die "this is not a Debian-like system (no dpkg-query); install the equivalents of: $(printf '%s ' $PACKAGES)"

# Packages that are not fully installed.  dpkg-query prints nothing useful for
# a package it has never heard of, so compare name by name.
missing=""
# shellcheck disable=SC2086
status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $PACKAGES 2>/dev/null || true)
for p in $PACKAGES; do
	case $'\n'"$status"$'\n' in
	*$'\n'"$p ii "*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	exit 0
fi

echo "$prog: installing:$missing" >&2

SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 ||
		die "not root and no sudo; as root run: apt-get install$missing"
	SUDO="sudo"
fi

# Keep services from starting while packages install (policy-rc.d protocol:
# exit 101 = action forbidden).  Only if there is none already; ours is
# removed on exit, whatever happens.
POLICY=/usr/sbin/policy-rc.d
own_policy=0
cleanup() {
	if [ "$own_policy" = 1 ]; then
		$SUDO rm -f "$POLICY" || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ ! -e "$POLICY" ]; then
	printf '#!/bin/sh\n# temporary, from gss-xlicen scripts/deps.sh\nexit 101\n' |
		$SUDO tee "$POLICY" >/dev/null
	$SUDO chmod 0755 "$POLICY"
	own_policy=1
fi

APT_OPTS="-o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get $APT_OPTS update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get $APT_OPTS install -y -q \
	--no-install-recommends $missing </dev/null

# Verify: a package apt could not find would otherwise go unnoticed.
# shellcheck disable=SC2086
status=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $missing 2>/dev/null || true)
still=""
for p in $missing; do
	case $'\n'"$status"$'\n' in
	*$'\n'"$p ii "*) ;;
	*) still="$still $p" ;;
	esac
done
[ -z "$still" ] || die "still not installed:$still"
echo "$prog: done" >&2
