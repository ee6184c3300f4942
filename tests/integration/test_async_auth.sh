#!/usr/bin/env bash
# Credentials and the non-blocking API.
#  - No tickets at all: AUTH_NEEDED (NO_CREDS) without bothering the
#    server; after a kinit the library notices by itself and gets the seat.
#  - Tickets that expire while the seat is held (user shortlived, 8 s
#    tickets; the realm's clockskew is 5 s): the context ends with them and
#    the next heartbeat reports AUTH_NEEDED, the lease still valid; after a
#    new kinit the SAME lease is held again (re-attached, no second seat).
#    The library closes the connection whose context ended: that close
#    does not make the lease an orphan (a grace of 2 s here), it keeps its
#    TTL while the user renews the tickets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/async.sh"

license xdemo 2
server_start --lease-ttl 30 --heartbeat 2 --orphan-grace 2

# 1. No credentials cache at all.
aprobe_start A "$T/alice.ccache" xdemo
await A '^STATE AUTH_NEEDED ' 10
expect_eq "$(field "$LINE" code)" NO_CREDS "code without tickets"
grep -q 'connection from\|authenticated' "$SERVER_LOG" &&
	fail "the library dialed without tickets: $(cat "$SERVER_LOG")"
kinit_to "$T/alice.ccache" alice
await A '^STATE HELD ' 10 '^STATE AUTH_NEEDED '
expect_eq "$(in_use xdemo)" 1 "in use after kinit"
aprobe_stop A
expect_eq "$(in_use xdemo)" 0 "in use after alice quit"

# 2. Tickets running out under a held seat.
kinit_to "$T/short.ccache" shortlived 8s
aprobe_start S "$T/short.ccache" xdemo
await S '^STATE HELD ' 10
LEASE=$(field "$LINE" lease)
expect_eq "$(field "$LINE" who)" "shortlived@$XLICEN_REALM" "holder"
await S '^STATE AUTH_NEEDED ' 15 '^STATE HELD '
expect_eq "$(field "$LINE" code)" NO_CREDS "code when the tickets expired"
expect_eq "$(field "$LINE" lease)" "$LEASE" "lease kept in AUTH_NEEDED"
expect_eq "$(in_use xdemo)" 1 "the seat while credentials are missing"
# Kept sleep: the orphan grace must pass without the seat being freed;
# the assertion is that nothing happens, so there is no event to wait for.
sleep 3
expect_eq "$(in_use xdemo)" 1 "the seat after the orphan grace without credentials"
kinit_to "$T/short.ccache" shortlived 20s
await S '^STATE HELD ' 10 '^STATE AUTH_NEEDED '
expect_eq "$(field "$LINE" lease)" "$LEASE" "lease after the new kinit"
expect_eq "$(in_use xdemo)" 1 "in use after the new kinit (no second seat)"
[ "$(grep -c 'grant xdemo' "$SERVER_LOG")" = 2 ] ||
	fail "expected 2 grants (alice, shortlived): $(grep 'grant xdemo' "$SERVER_LOG")"
aprobe_stop S
expect_eq "$(in_use xdemo)" 0 "in use at the end"
pass
