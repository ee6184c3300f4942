#!/usr/bin/env bash
# Issue 16 item 1: scripts/quickstart, the demo, works on a machine where
# the gss-xlicen system user exists (the Debian package makes it, and a
# purge keeps it).  As root the server would become that user, which
# cannot write the demo directory (mode 0700).  The test makes the user
# when it is missing and removes it again at the end; a user that was
# already there is left alone.  Root only (skip, 77, otherwise).
. "$(dirname "$0")/../daemon/lib.sh"

: "${XLICEN_BUILD_DIR:?}" "${XLICEN_SOURCE_DIR:?}"
[ "$(id -u)" = 0 ] || skip "not root: the gss-xlicen user changes nothing for a demo run by another user"
command -v useradd >/dev/null || skip "no useradd (package passwd)"
command -v userdel >/dev/null || skip "no userdel (package passwd)"

MADE_USER=0
# lib.sh's EXIT trap cleans $T; remove the user we made in any case.
trap 'rc=$?; if [ "$MADE_USER" = 1 ]; then userdel gss-xlicen 2>/dev/null || true; fi; (exit $rc); cleanup' EXIT
if ! getent passwd gss-xlicen >/dev/null; then
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin gss-xlicen || fail "useradd gss-xlicen"
	MADE_USER=1
	note "created system user gss-xlicen (removed at the end)"
fi

rc=0
XLICEN_DEPS_SKIP=1 timeout -k 5 90 "$XLICEN_SOURCE_DIR/scripts/quickstart" \
	--build-dir "$XLICEN_BUILD_DIR" --out "$T/demo" >"$T/demo.out" 2>&1 || rc=$?
if [ "$rc" != 0 ]; then
	tail -n 25 "$T/demo.out" >&2
	[ -r "$T/demo/server.log" ] && { echo "--- server.log ---" >&2; tail -n 10 "$T/demo/server.log" >&2; }
	fail "scripts/quickstart with the gss-xlicen user present: exit status $rc"
fi
OUT=$(cat "$T/demo.out")
expect_contains "$OUT" "    alice and bob each hold a seat" "the demo's two seats"
expect_contains "$OUT" "(exit status " "carol's denial"
expect_contains "$OUT" "    carol has a seat and runs her command" "carol's seat after alice's release"
expect_contains "$OUT" "==> done: the server and the KDC stop now" "the demo's end"
# The server kept root: the demo directory is root's, mode 0700.
expect_eq "$(stat -c '%U %a' "$T/demo")" "root 700" "owner and mode of the demo directory"
pass
