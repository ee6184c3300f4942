#!/usr/bin/env bash
# The shared library's face: it exports xlicen_* and nothing else (the
# internal modules it is built from must stay hidden), and xlicen.h is
# self-contained with xlicen_errors.h beside it, as installed, in C99 and
# C++.  Needs no realm.
set -euo pipefail
: "${XLICEN_LIB:?}" "${XLICEN_SOURCE_DIR:?}" "${XLICEN_IT_TMP:?}" "${XLICEN_CC:?}"
name=test_exports
fail() { printf '%s: FAIL: %s\n' "$name" "$*" >&2; exit 1; }
mkdir -p "$XLICEN_IT_TMP"
T=$(mktemp -d "$XLICEN_IT_TMP/$name.XXXXXX")
trap 'rm -rf -- "$T"' EXIT

command -v nm >/dev/null 2>&1 || fail "nm (binutils) not found"
syms=$(nm -D --defined-only "$XLICEN_LIB" | awk '{ print $3 }' | sort)
[ -n "$syms" ] || fail "no exported symbols in $XLICEN_LIB"
other=$(printf '%s\n' "$syms" | grep -v '^xlicen_' || true)
[ -z "$other" ] || fail "$XLICEN_LIB exports non-xlicen_ symbols: $(printf '%s' "$other" | tr '\n' ' ')"
for f in xlicen_session_new xlicen_session_free xlicen_connect xlicen_checkout \
	xlicen_heartbeat xlicen_heartbeat_ex xlicen_release xlicen_status xlicen_pools_free \
	xlicen_strerror xlicen_errmsg xlicen_set_service xlicen_set_display \
	xlicen_set_timeout_ms xlicen_deny_detail; do
	grep -qx "$f" <<<"$syms" || fail "$f is not exported"
done

# The installed layout: both public headers in one directory.
mkdir "$T/include"
cp "$XLICEN_SOURCE_DIR/client/include/xlicen.h" "$XLICEN_SOURCE_DIR/common/xlicen_errors.h" "$T/include/"
cat >"$T/use.c" <<'C'
#include <xlicen.h>
int main(void)
{
	struct xlicen_grant g;
	struct xlicen_pool *p = 0;
	xlicen_session *s = 0;
	(void)g;
	xlicen_pools_free(p);
	xlicen_session_free(s);
	return xlicen_strerror(XLICEN_E_NO_SEATS)[0] == '\0';
}
C
"$XLICEN_CC" -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -I "$T/include" "$T/use.c" ||
	fail "xlicen.h does not compile alone in C99"
if ! command -v c++ >/dev/null 2>&1; then
	echo "$name: SKIP: no c++ (package g++, from build-essential): xlicen.h not compiled as C++" >&2
	exit 77
fi
cp "$T/use.c" "$T/use.cc"
c++ -Wall -Wextra -Werror -fsyntax-only -I "$T/include" "$T/use.cc" ||
	fail "xlicen.h does not compile as C++"
echo "$name: PASS" >&2
