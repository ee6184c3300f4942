#!/usr/bin/env bash
# Issue 16 item 3: the Debian packages, made by scripts/mkdeb from the /usr
# tree (fixture install_usr), split by audience: what each holds, what it
# depends on (the server and the library nothing of X11), the copyright
# file and the compressed changelog and man pages in each, the library
# packages' shlibs and ldconfig trigger, the server's conffile and
# maintainer scripts (purge says what it removes), and lintian: no error
# or warning, each overridden tag listed with its reason in the package.
# Nothing is installed (scripts/deb-install-check does that, by hand).
. "$(dirname "$0")/../daemon/lib.sh"

: "${XLICEN_USR_BUILD:?}" "${XLICEN_SOURCE_DIR:?}"
command -v dpkg-deb >/dev/null || skip "no dpkg-deb (package dpkg)"
command -v dpkg-shlibdeps >/dev/null || skip "no dpkg-shlibdeps (package dpkg-dev)"
command -v lintian >/dev/null || skip "no lintian (package lintian)"

rc=0
"$XLICEN_SOURCE_DIR/scripts/mkdeb" "$XLICEN_USR_BUILD" "$T/debs" >"$T/mkdeb.out" 2>&1 || rc=$?
cat "$T/mkdeb.out" >&2
expect_eq "$rc" 0 "scripts/mkdeb exit status (lintian errors or warnings above)"

V=0.1.0
ARCH=$(dpkg --print-architecture)
PKGS="gss-xlicend libxlicen-dev libxlicen0 xlicen"
if [ "${XLICEN_HAVE_X11:-0}" = 1 ]; then
	PKGS="gss-xlicend libxlicen-dev libxlicen-xt0 libxlicen0 xlicen xlicen-x11"
fi
expect_eq "$(cd "$T/debs" && ls -- *.deb | LC_ALL=C sort | tr '\n' ' ')" \
	"$(for p in $PKGS; do printf '%s_%s_%s.deb\n' "$p" "$V" "$ARCH"; done | LC_ALL=C sort | tr '\n' ' ')" \
	"the packages"

deb() { echo "$T/debs/${1}_${V}_${ARCH}.deb"; }
field() { dpkg-deb -f "$(deb "$1")" "$2"; }
files() { dpkg-deb -c "$(deb "$1")" | awk '{ print $6 }' | sed 's|^\./|/|' | grep -v '/$' | sort; }
has() {	# package path...
	local p=$1 f list
	shift
	list=$(files "$p")
	for f in "$@"; do
		grep -qx -- "$f" <<<"$list" || fail "$p has no $f"
	done
}
hasnt() {	# package regex what
	local hit
	hit=$(files "$1" | grep -E -- "$2" || true)
	[ -z "$hit" ] || fail "$1 has $3: $hit"
}

ML=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "x86_64-linux-gnu")
for p in $PKGS; do
	has "$p" "/usr/share/doc/$p/copyright" "/usr/share/doc/$p/changelog.gz"
	# Every man page compressed.
	hasnt "$p" '^/usr/share/man/.*[^z]$' "an uncompressed man page"
	expect_eq "$(field "$p" Version)" "$V" "$p's version"
	expect_eq "$(field "$p" Maintainer)" "gss-xlicen maintainers <gss-xlicen@example.org>" "$p's maintainer"
done
gzip -dc <(dpkg-deb --fsys-tarfile "$(deb xlicen)" | tar -xOf - ./usr/share/doc/xlicen/changelog.gz) \
	>"$T/changelog" || fail "changelog.gz of xlicen does not decompress"
expect_eq "$(head -n 1 "$T/changelog")" "gss-xlicen ($V) unstable; urgency=medium" "the changelog's first line"

# The server: no X11, no client library.
has gss-xlicend /usr/sbin/gss-xlicend /etc/gss-xlicen/gss-xlicend.conf \
	/etc/logrotate.d/gss-xlicend \
	/lib/systemd/system/gss-xlicend.service /lib/systemd/system/gss-xlicend.socket \
	/usr/share/man/man8/gss-xlicend.8.gz /usr/share/man/man5/gss-xlicend.conf.5.gz
hasnt gss-xlicend 'libxlicen|/usr/bin/' "client files"
expect_eq "$(field gss-xlicend Section)" "net" "gss-xlicend's section"
DEP=$(field gss-xlicend Depends)
expect_contains "$DEP" "adduser" "gss-xlicend's Depends"
expect_contains "$DEP" "libsqlite3-0" "gss-xlicend's Depends"
expect_contains "$DEP" "libgssapi-krb5-2" "gss-xlicend's Depends"
for x in libx11 libxt libxaw libxlicen; do
	expect_not_contains "$DEP" "$x" "gss-xlicend's Depends"
done
dpkg-deb -e "$(deb gss-xlicend)" "$T/ctl-server"
expect_eq "$(cat "$T/ctl-server/conffiles")" $'/etc/gss-xlicen/gss-xlicend.conf\n/etc/logrotate.d/gss-xlicend' \
	"gss-xlicend's conffiles"
for s in postinst prerm postrm; do
	[ -x "$T/ctl-server/$s" ] || fail "gss-xlicend has no executable $s"
done
grep -q 'echo "gss-xlicend: purge removes $STATE: the license database" \\$' "$T/ctl-server/postrm" ||
	fail "postrm does not announce the removal of the database"
grep -q 'removing the stale pid file $PIDFILE' "$T/ctl-server/postrm" ||
	fail "postrm does not remove a stale pid file"

# The library: shlibs, ldconfig trigger, nothing but the library.
has libxlicen0 "/usr/lib/$ML/libxlicen.so.0" "/usr/lib/$ML/libxlicen.so.0.1.0"
hasnt libxlicen0 '\.so$|\.a$|\.pc$|/include/' "development files"
expect_eq "$(field libxlicen0 Section)" "libs" "libxlicen0's section"
expect_not_contains "$(field libxlicen0 Depends)" "libx" "libxlicen0's Depends"
dpkg-deb -e "$(deb libxlicen0)" "$T/ctl-lib"
expect_eq "$(cat "$T/ctl-lib/shlibs")" "libxlicen 0 libxlicen0 (>= $V)" "libxlicen0's shlibs"
grep -qx 'activate-noawait ldconfig' "$T/ctl-lib/triggers" || fail "libxlicen0 has no ldconfig trigger"

# Development files.
has libxlicen-dev /usr/include/xlicen.h /usr/include/xlicen_errors.h \
	"/usr/lib/$ML/libxlicen.so" "/usr/lib/$ML/libxlicen.a" \
	"/usr/lib/$ML/pkgconfig/xlicen.pc" /usr/share/man/man3/libxlicen.3.gz
expect_eq "$(field libxlicen-dev Section)" "libdevel" "libxlicen-dev's section"
expect_contains "$(field libxlicen-dev Depends)" "libxlicen0 (= $V)" "libxlicen-dev's Depends"
dpkg-deb --fsys-tarfile "$(deb libxlicen-dev)" | tar -xOf - "./usr/lib/$ML/pkgconfig/xlicen.pc" >"$T/xlicen.pc"
expect_contains "$(cat "$T/xlicen.pc")" $'prefix=/usr\n' "the packaged xlicen.pc"
expect_contains "$(cat "$T/xlicen.pc")" "libdir=\${prefix}/lib/$ML" "the packaged xlicen.pc"

# The command-line tools.
has xlicen /usr/bin/xlicen /usr/bin/xlicen-license /usr/share/man/man1/xlicen.1.gz \
	/usr/share/man/man1/xlicen-license.1.gz
expect_contains "$(field xlicen Depends)" "libxlicen0 (= $V)" "xlicen's Depends"
expect_not_contains "$(field xlicen Depends)" "libx11" "xlicen's Depends"

if [ "${XLICEN_HAVE_X11:-0}" = 1 ]; then
	has libxlicen-xt0 "/usr/lib/$ML/libxlicen-xt.so.0" "/usr/lib/$ML/libxlicen-xt.so.0.1.0"
	dpkg-deb -e "$(deb libxlicen-xt0)" "$T/ctl-xt"
	expect_eq "$(cat "$T/ctl-xt/shlibs")" "libxlicen-xt 0 libxlicen-xt0 (>= $V)" "libxlicen-xt0's shlibs"
	grep -qx 'activate-noawait ldconfig' "$T/ctl-xt/triggers" || fail "libxlicen-xt0 has no ldconfig trigger"
	expect_contains "$(field libxlicen-xt0 Depends)" "libxt6" "libxlicen-xt0's Depends"
	has libxlicen-dev /usr/include/xlicen-xt.h "/usr/lib/$ML/libxlicen-xt.so" \
		"/usr/lib/$ML/pkgconfig/xlicen-xt.pc"
	expect_contains "$(field libxlicen-dev Depends)" "libxlicen-xt0 (= $V)" "libxlicen-dev's Depends"
	has xlicen-x11 /usr/bin/xlicen-xdemo /usr/bin/xlicen-xmon \
		/etc/X11/app-defaults/XlicenXdemo /etc/X11/app-defaults/XlicenXmon \
		/usr/share/man/man1/xlicen-xdemo.1.gz /usr/share/man/man1/xlicen-xmon.1.gz
	expect_eq "$(field xlicen-x11 Section)" "x11" "xlicen-x11's section"
	DEP=$(field xlicen-x11 Depends)
	expect_contains "$DEP" "libxlicen-xt0 (= $V)" "xlicen-x11's Depends"
	expect_contains "$DEP" "libxaw7" "xlicen-x11's Depends"
	dpkg-deb -e "$(deb xlicen-x11)" "$T/ctl-x11"
	expect_eq "$(cat "$T/ctl-x11/conffiles")" $'/etc/X11/app-defaults/XlicenXdemo\n/etc/X11/app-defaults/XlicenXmon' \
		"xlicen-x11's conffiles"
fi

# lintian: no E: or W: line; every override has its reason.
expect_eq "$(grep -E '^[EW]: ' "$T/debs/lintian.txt" || true)" "" "lintian errors and warnings"
pass
