#!/usr/bin/env bash
# The man pages: exactly the seven expected, each free of groff warnings
# (groff -man -ww), each rendered by man(1) with its NAME section, and the
# options each page documents are the ones the program's --help shows.
. "$(dirname "$0")/lib.sh"

: "${XLICEN_SOURCE_DIR:?}"
command -v groff >/dev/null || skip "no groff (package groff-base)"
command -v man >/dev/null || skip "no man (package man-db)"
MAN=$XLICEN_SOURCE_DIR/docs/man

PAGES=$(cd "$MAN" && ls -- *.[1-8] | sort | tr '\n' ' ')
expect_eq "$PAGES" "gss-xlicend.8 gss-xlicend.conf.5 libxlicen.3 xlicen-license.1 xlicen-xdemo.1 xlicen-xmon.1 xlicen.1 " \
	"man pages in docs/man"

for page in $PAGES; do
	rc=0
	WARN=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$MAN/$page" 2>&1) || rc=$?
	expect_eq "$rc" 0 "groff exit status for $page"
	expect_eq "$WARN" "" "groff -ww output for $page"
	TEXT=$(MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$MAN/$page" 2>"$T/man.err")
	expect_eq "$(cat "$T/man.err")" "" "man -l stderr for $page"
	expect_contains "$TEXT" "NAME" "rendered $page"
	expect_contains "$TEXT" "SEE ALSO" "rendered $page"
done

# Every long option of a program's --help is in its page.  (-- spelled
# \- in roff source; compare the rendered text.)
check_options() {	# page binary
	local page=$1 bin=$2 opt text
	text=$(MANWIDTH=200 LC_ALL=C.UTF-8 man -l "$MAN/$page" 2>/dev/null ||
		groff -man -Tutf8 -P-cbou "$MAN/$page")
	for opt in $("$bin" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		expect_contains "$text" "$opt" "$page documents $opt"
	done
}
check_options gss-xlicend.8 "$XLICEN_BIN_SERVER"
check_options xlicen.1 "$XLICEN_BIN_CLI"
check_options xlicen-license.1 "$XLICEN_BIN_LICENSE"

# Every function of xlicen.h is in libxlicen(3).
LIBTEXT=$(groff -man -Tutf8 -P-cbou "$MAN/libxlicen.3" 2>/dev/null)
for fn in $(grep -o 'XLICEN_API [^(]*(' "$XLICEN_SOURCE_DIR/client/include/xlicen.h" |
	grep -o 'xlicen_[a-z_]*' | sort -u); do
	expect_contains "$LIBTEXT" "$fn" "libxlicen.3 documents $fn"
done

pass
