#!/usr/bin/env bash
# `cmake --install` of this build into a stage directory: every file where
# GNUInstallDirs puts it, the library with its soname, and a client program
# built with nothing but `pkg-config --cflags --libs xlicen` that runs.
#
# DESTDIR is set too: a build configured with prefix /usr installs the
# configuration and the units to absolute paths (/etc, /lib/systemd), and
# a test must never write there.
. "$(dirname "$0")/lib.sh"

: "${XLICEN_BUILD_DIR:?}"
for tool in cc:build-essential pkg-config:pkg-config readelf:binutils; do
	command -v "${tool%%:*}" >/dev/null || skip "no ${tool%%:*} (package ${tool#*:})"
done

ROOT=$T/root
PREFIX=/opt/gss-xlicen
DESTDIR=$ROOT cmake --install "$XLICEN_BUILD_DIR" --prefix "$PREFIX" \
	>"$T/install.log" 2>&1 || fail "cmake --install: $(tail -5 "$T/install.log")"
P=$ROOT$PREFIX

PC=$(find "$ROOT" -name xlicen.pc)
[ "$(printf '%s\n' "$PC" | grep -c .)" = 1 ] || fail "xlicen.pc: found \"$PC\""
PCDIR=$(dirname "$PC")
LIBDIR=$(dirname "$PCDIR")
case $LIBDIR in
"$P"/lib | "$P"/lib/*-linux-gnu | "$P"/lib64) ;;
*) fail "pkgconfig directory not in the prefix's lib: $PCDIR" ;;
esac

# The files.
for f in sbin/gss-xlicend bin/xlicen bin/xlicen-license include/xlicen.h \
	include/xlicen_errors.h share/man/man1/xlicen.1 \
	share/man/man1/xlicen-license.1 share/man/man3/libxlicen.3 \
	share/man/man5/gss-xlicend.conf.5 share/man/man8/gss-xlicend.8 \
	share/doc/gss-xlicen/ADMIN.md; do
	[ -f "$P/$f" ] || fail "not installed: $PREFIX/$f"
done
[ -x "$P/sbin/gss-xlicend" ] || fail "gss-xlicend is not executable"
CONF=$(find "$ROOT" -path '*/gss-xlicen/gss-xlicend.conf')
[ -n "$CONF" ] || fail "no gss-xlicen/gss-xlicend.conf installed"
UNITS=$(find "$ROOT" -path '*/lib/systemd/system/gss-xlicend.*' | sort)
expect_eq "$(printf '%s\n' "$UNITS" | sed 's|.*/||' | tr '\n' ' ')" \
	"gss-xlicend.service gss-xlicend.socket " "installed units"
expect_contains "$(cat "$(printf '%s\n' "$UNITS" | head -n 1)")" \
	"/sbin/gss-xlicend --foreground --keytab \${CREDENTIALS_DIRECTORY}/keytab" \
	"ExecStart of the service"
expect_contains "$(cat "$(printf '%s\n' "$UNITS" | tail -n 1)")" "ListenStream=128" \
	"the socket unit"

# The library: real file, soname link, development link.
expect_eq "$(readlink "$LIBDIR/libxlicen.so.0")" "libxlicen.so.0.1.0" "soname link"
expect_eq "$(readlink "$LIBDIR/libxlicen.so")" "libxlicen.so.0" "development link"
expect_contains "$(readelf -d "$LIBDIR/libxlicen.so.0.1.0")" \
	"Library soname: [libxlicen.so.0]" "soname"
# Only the xlicen_* API is exported.
EXPORTS=$(readelf --dyn-syms -W "$LIBDIR/libxlicen.so.0.1.0" |
	awk '$5 == "GLOBAL" && $7 != "UND" { print $8 }' | sort)
expect_not_contains "$(printf '%s\n' "$EXPORTS" | grep -v '^xlicen_' || true)" "_" \
	"symbols outside xlicen_* exported"
expect_contains "$EXPORTS" "xlicen_session_new" "exported API"

# The installed programs run; the shipped configuration file parses (all
# of it is comments: --check-config fails later, on the keytab, but says
# the file itself is OK).
expect_contains "$("$P/sbin/gss-xlicend" --version)" "gss-xlicend 0.1.0" "gss-xlicend --version"
OUT=$("$P/sbin/gss-xlicend" --config "$CONF" --check-config \
	--keytab "$T/none.keytab" --user root 2>&1 || true)
expect_contains "$OUT" "config $CONF: OK" "the installed configuration file"
expect_not_contains "$OUT" "gss-xlicend: $CONF" "errors in the installed configuration file"

# A client built with pkg-config alone.
export PKG_CONFIG_PATH=$PCDIR
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
PCOPT=()
if ! grep -q '^prefix=${pcfiledir}' "$PC"; then
	# A system prefix (/usr) is written literally; point it at the stage.
	PCOPT=(--define-variable=prefix="$P")
fi
expect_eq "$(pkg-config "${PCOPT[@]}" --modversion xlicen)" "0.1.0" "pkg-config --modversion"
CFLAGS_LIBS=$(pkg-config "${PCOPT[@]}" --cflags --libs xlicen) ||
	fail "pkg-config --cflags --libs xlicen"
cat >"$T/client.c" <<'EOF'
/* A client of the installed libxlicen: no server needed. */
#include <stdio.h>
#include <xlicen.h>

int
main(void)
{
	xlicen_session *s = NULL;
	int rc;

	rc = xlicen_session_new(&s, "license.example.org:1128,[::1]:128");
	printf("new=%s open=%d server=\"%s\" errmsg=\"%s\"\n",
	    xlicen_errname(rc), xlicen_is_open(s), xlicen_server(s),
	    xlicen_errmsg(s));
	xlicen_session_free(s);
	s = (xlicen_session *)&rc;	/* must be cleared on failure */
	rc = xlicen_session_new(&s, "[::1");
	printf("bad=%s %d null=%d\n", xlicen_errname(rc), rc, s == NULL);
	printf("%s: %s\n", xlicen_errname(XLICEN_E_NO_SEATS),
	    xlicen_strerror(XLICEN_E_NO_SEATS));
	printf("wire 71: %s\n", xlicen_strerror(71));
	printf("unknown: %s\n", xlicen_errname(-9999));
	printf("version %s\n", xlicen_version());
	xlicen_session_free(NULL);
	return 0;
}
EOF
# A sanitizer build's library (XLICEN_SANITIZE) needs the sanitizer
# runtime of the compiler that built it (clang links it into the program,
# not the library): only then does the program need more than pkg-config
# says.
SAN= CC=cc
if [ "${XLICEN_SANITIZE:-0}" = 1 ]; then
	SAN=-fsanitize=address,undefined CC=${XLICEN_CC:-cc}
fi
# shellcheck disable=SC2086
"$CC" -std=c11 -Wall -Wextra -Werror $SAN -o "$T/client" "$T/client.c" $CFLAGS_LIBS \
	2>"$T/cc.err" || fail "cc with \"$CFLAGS_LIBS\": $(cat "$T/cc.err")"
expect_contains "$(readelf -d "$T/client")" "Shared library: [libxlicen.so.0]" "client's NEEDED"
RUN=$(LD_LIBRARY_PATH="$(pkg-config "${PCOPT[@]}" --variable=libdir xlicen)" "$T/client") ||
	fail "the client failed to run"
expect_eq "$RUN" 'new=OK open=0 server="" errmsg=""
bad=INVALID -2 null=1
NO_SEATS: all seats are in use
wire 71: server is shutting down
unknown: UNKNOWN
version 0.1.0' "the client's output"

pass
