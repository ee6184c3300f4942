#!/usr/bin/env bash
# Issue 16 item 2: `cmake --install BUILD --prefix DIR` of a tree configured
# for /usr puts every file under DIR (the configuration, the units and the
# app-defaults too), and the installed xlicen.pc and xlicen-xt.pc are right
# for DIR: a program built with nothing but pkg-config against them links
# and runs.  The same tree installed with its own prefix (/usr, into a
# DESTDIR) puts the configuration in /etc and the units in
# /lib/systemd/system, as the Debian packages have them.
#
# The first install goes into a DESTDIR, so that a build that still
# writes outside the prefix writes into the test's directory, not into
# this machine's /etc.
. "$(dirname "$0")/../daemon/lib.sh"

: "${XLICEN_USR_BUILD:?}"
for tool in cc:build-essential pkg-config:pkg-config readelf:binutils; do
	command -v "${tool%%:*}" >/dev/null || skip "no ${tool%%:*} (package ${tool#*:})"
done
grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$XLICEN_USR_BUILD/CMakeCache.txt" ||
	fail "$XLICEN_USR_BUILD is not configured for /usr"

P=$T/p
DESTDIR=$T/guard cmake --install "$XLICEN_USR_BUILD" --prefix "$P" >"$T/guard.log" 2>&1 ||
	fail "cmake --install --prefix (DESTDIR): $(tail -5 "$T/guard.log")"
OUTSIDE=$(cd "$T/guard" && find . ! -type d | sed 's|^\.||' | grep -v "^$P/" || true)
expect_eq "$OUTSIDE" "" "files installed outside the prefix $P"

cmake --install "$XLICEN_USR_BUILD" --prefix "$P" >"$T/install.log" 2>&1 ||
	fail "cmake --install --prefix: $(tail -5 "$T/install.log")"
for f in sbin/gss-xlicend bin/xlicen bin/xlicen-license include/xlicen.h \
	include/xlicen_errors.h etc/gss-xlicen/gss-xlicend.conf \
	etc/logrotate.d/gss-xlicend \
	lib/systemd/system/gss-xlicend.service lib/systemd/system/gss-xlicend.socket \
	share/man/man3/libxlicen.3 share/doc/gss-xlicen/ADMIN.md; do
	[ -f "$P/$f" ] || fail "not installed: DIR/$f"
done
expect_contains "$(cat "$P/lib/systemd/system/gss-xlicend.service")" \
	"ExecStart=$P/sbin/gss-xlicend --foreground" "ExecStart of the prefix's unit"
if [ "${XLICEN_HAVE_X11:-0}" = 1 ]; then
	for f in bin/xlicen-xdemo bin/xlicen-xmon include/xlicen-xt.h \
		etc/X11/app-defaults/XlicenXdemo etc/X11/app-defaults/XlicenXmon \
		share/man/man1/xlicen-xdemo.1 share/man/man1/xlicen-xmon.1; do
		[ -f "$P/$f" ] || fail "not installed: DIR/$f"
	done
fi

# The .pc files: found where pkg-config looks for the prefix's libraries,
# and every path in them inside DIR.
PC=$(find "$P" -name xlicen.pc)
[ "$(printf '%s\n' "$PC" | grep -c .)" = 1 ] || fail "xlicen.pc: found \"$PC\""
PKG_CONFIG_PATH=$(dirname "$PC")
export PKG_CONFIG_PATH
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
LIBDIR=$(pkg-config --variable=libdir xlicen) || fail "pkg-config --variable=libdir xlicen"
expect_eq "$(realpath "$LIBDIR")" "$(realpath "$(dirname "$PC")/..")" "libdir of xlicen.pc"
expect_eq "$(realpath "$(pkg-config --variable=includedir xlicen)")" "$(realpath "$P/include")" \
	"includedir of xlicen.pc"
expect_eq "$(pkg-config --modversion xlicen)" "0.1.0" "pkg-config --modversion xlicen"
[ -f "$LIBDIR/libxlicen.a" ] || fail "no static library libxlicen.a in $LIBDIR"

cat >"$T/client.c" <<'C'
/* An external client of the installed libxlicen: no server needed. */
#include <stdio.h>
#include <xlicen.h>

int
main(void)
{
	printf("%s %s\n", xlicen_version(), xlicen_errname(XLICEN_E_NO_SEATS));
	return 0;
}
C
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$T/client" "$T/client.c" $(pkg-config --cflags --libs xlicen) \
	2>"$T/cc.err" || fail "cc with pkg-config xlicen: $(cat "$T/cc.err")"
expect_eq "$(LD_LIBRARY_PATH=$LIBDIR "$T/client")" "0.1.0 NO_SEATS" "the external client's output"
# The static library, with what pkg-config --static adds.
STATIC_LIBS=$(pkg-config --static --libs xlicen | sed 's/-lxlicen\b/-l:libxlicen.a/')
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Werror -o "$T/client-static" "$T/client.c" \
	$(pkg-config --cflags xlicen) $STATIC_LIBS \
	2>"$T/cc-static.err" || fail "cc with \"$STATIC_LIBS\": $(cat "$T/cc-static.err")"
expect_not_contains "$(readelf -d "$T/client-static")" "libxlicen.so" "the static client's NEEDED"
expect_eq "$("$T/client-static")" "0.1.0 NO_SEATS" "the static client's output"

if [ "${XLICEN_HAVE_X11:-0}" = 1 ]; then
	expect_eq "$(realpath "$(pkg-config --variable=libdir xlicen-xt)")" "$(realpath "$LIBDIR")" \
		"libdir of xlicen-xt.pc"
	cat >"$T/xtclient.c" <<'C'
/* An external Xt client of the installed libxlicen-xt (linked, not run). */
#include <X11/Intrinsic.h>
#include <xlicen-xt.h>

int
main(int argc, char **argv)
{
	XtAppContext app = XtCreateApplicationContext();

	(void)argc;
	(void)argv;
	return xlicen_xt_attach(app, NULL) == XLICEN_E_INVALID ? 0 : 1;
}
C
	# shellcheck disable=SC2046
	cc -std=c11 -Wall -Werror -o "$T/xtclient" "$T/xtclient.c" \
		$(pkg-config --cflags --libs xlicen-xt) 2>"$T/cc-xt.err" ||
		fail "cc with pkg-config xlicen-xt: $(cat "$T/cc-xt.err")"
	expect_contains "$(readelf -d "$T/xtclient")" "Shared library: [libxlicen-xt.so.0]" \
		"the Xt client's NEEDED"
	LD_LIBRARY_PATH=$LIBDIR "$T/xtclient" || fail "the Xt client: exit status $?"
fi

# The /usr tree with its own prefix, into a DESTDIR: the Debian places.
DESTDIR=$T/sys cmake --install "$XLICEN_USR_BUILD" >"$T/sys.log" 2>&1 ||
	fail "cmake --install (prefix /usr): $(tail -5 "$T/sys.log")"
for f in etc/gss-xlicen/gss-xlicend.conf etc/logrotate.d/gss-xlicend \
	lib/systemd/system/gss-xlicend.service \
	lib/systemd/system/gss-xlicend.socket usr/sbin/gss-xlicend; do
	[ -f "$T/sys/$f" ] || fail "prefix /usr: not installed: /$f"
done
expect_contains "$(cat "$T/sys/lib/systemd/system/gss-xlicend.service")" \
	"ExecStart=/usr/sbin/gss-xlicend --foreground" "ExecStart of the /usr unit"
SYSPC=$(find "$T/sys" -name xlicen.pc)
expect_contains "$(cat "$SYSPC")" $'prefix=/usr\n' "xlicen.pc of the /usr install"
pass
