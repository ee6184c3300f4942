#!/usr/bin/env bash
# Fixture install_usr: a second build tree of this source, configured as
# the Debian packages are (scripts/mkdeb --build-only: prefix /usr, no
# tests, dpkg-buildflags), in $XLICEN_USR_BUILD.  Kept between runs, so a
# later run only rebuilds what changed.  Nothing is installed:
# install.prefix and install.deb install it into directories of their own
# or package it.
set -euo pipefail
: "${XLICEN_SOURCE_DIR:?}" "${XLICEN_USR_BUILD:?}"
for tool in cmake:cmake cc:build-essential dpkg-buildflags:dpkg-dev; do
	command -v "${tool%%:*}" >/dev/null || { echo "SKIP: no ${tool%%:*} (package ${tool#*:})" >&2; exit 77; }
done
"$XLICEN_SOURCE_DIR/scripts/mkdeb" --build-only "$XLICEN_USR_BUILD"
echo "usr_build: $XLICEN_USR_BUILD is built for prefix /usr" >&2
