#!/usr/bin/env bash
# The HTTP endpoint ([http], server/http.c) and GET /metrics
# (server/metrics.c): the server started with [http] on IPv4 and IPv6,
# checkouts against the real realm, then /metrics fetched with curl: exact
# metric lines (seats in use per product and pool, grants, a denial under
# its reason, leases, open sessions, a reload), the exposition format
# checked line by line, and bad requests (another method 405, another
# path 404, a huge header 431) answered while the server keeps serving,
# both ports.  Then [http] allow: an address outside it gets 403.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"

command -v curl >/dev/null || fail "curl is needed (scripts/deps.sh installs it)"
[ -n "$IT_PYTHON" ] || fail "python3 is needed for the format check"

license xdemo 2 --versions 1.0-2.0
# orphan_grace 0: alice's lease, whose program exits, keeps its TTL
# (120 s) however slowly this test runs.
cat >"$T/http.conf" <<EOF
[leases]
	orphan_grace = 0
[http]
	listen = 127.0.0.1:0
	listen = [::1]:0
EOF
policy "[products]
	xdemo = {
		queue_timeout = 2
	}"
server_start --config "$T/http.conf" --policy "$T/policy.conf"
HTTP4=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVER_LOG")
HTTP6=$(sed -n 's/.*http: listening on \[::1\]:\([0-9]*\)$/\1/p' "$SERVER_LOG")
[ -n "$HTTP4" ] && [ -n "$HTTP6" ] || fail "no \"http: listening on\" lines"

# get URL [curl options]: the body in GET_BODY, the status in GET_CODE.
get() {
	local url=$1
	shift
	GET_CODE=$(timeout -k 2 "$IT_CMD_TIMEOUT" curl -sS -g -o "$T/body" \
		-w '%{http_code}' "$@" "$url") || fail "curl $url failed"
	GET_BODY=$(cat "$T/body")
}
M4="http://127.0.0.1:$HTTP4/metrics"
M6="http://[::1]:$HTTP6/metrics"

# metric LINE: /metrics has exactly that line (name{labels} value).
metric() {
	grep -qxF -- "$1" <<<"$GET_BODY" ||
		fail "no line \"$1\" in /metrics: $(printf '%s\n' "$GET_BODY" | grep -F "${1%% *}" | head -n 5)"
}
# get_when LINE: GET /metrics until it has LINE (at most 5 s).  The
# figures the loop publishes (seats, leases, sessions, the queue) come from
# a snapshot that may be up to LIMIT_HTTP_SNAPSHOT_MS (250 ms) old, or
# older on a busy machine (a scrape waits at most 1 s for a new one).
get_when() {
	has_metric() { get "$M4"; grep -qxF -- "$1" <<<"$GET_BODY"; }
	wait_until 5 "/metrics to show \"$1\"" has_metric "$1"
}

get "$M4"
expect_eq "$GET_CODE" 200 "GET /metrics"
metric 'xlicen_checkout_grants_total 0'
metric 'xlicen_product_seats{product="xdemo"} 2'
metric 'xlicen_product_seats_in_use{product="xdemo"} 0'
metric 'xlicen_build_info{version="0.1.0"} 1'

# alice takes a seat and leaves (her lease stays); bob holds his while
# his command runs; carol is denied for want of seats.
run as alice probe checkout xdemo
expect_rc 0 "alice's checkout"
as bob timeout -k 2 20 "$XLICEN_BIN_CLI" -s "localhost:$SERVER_PORT" \
	checkout xdemo 1.5 -- sh -c "while [ ! -e '$T/go' ]; do sleep 0.05; done" \
	>"$T/bob.out" 2>"$T/bob.err" &
BOB_PID=$!
bob_granted() { grep -q granted "$T/bob.err"; }
wait_until 10 "bob's grant" bob_granted
run as carol probe checkout xdemo
expect_rc 2 "carol's checkout"
expect_contains "$RUN_ERR" "NO_SEATS" "carol's denial"

get_when 'xlicen_product_seats_in_use{product="xdemo"} 2'
expect_eq "$GET_CODE" 200 "GET /metrics after the checkouts"
metric 'xlicen_product_seats_in_use{product="xdemo"} 2'
metric 'xlicen_pool_seats{product="xdemo",versions="1.0-2.0",vendor="acme",serial="SN-xdemo"} 2'
metric 'xlicen_pool_seats_in_use{product="xdemo",versions="1.0-2.0",vendor="acme",serial="SN-xdemo"} 2'
metric 'xlicen_pool_info{product="xdemo",versions="1.0-2.0",vendor="acme",serial="SN-xdemo",state="active",counted="true"} 1'
metric 'xlicen_checkout_grants_total 2'
metric 'xlicen_checkout_denials_total{reason="no_seats"} 1'
metric 'xlicen_checkout_denials_total{reason="no_product"} 0'
metric 'xlicen_checkout_duration_seconds_count 3'
metric 'xlicen_checkout_duration_seconds_bucket{le="+Inf"} 3'
metric 'xlicen_leases 2'
metric 'xlicen_seats_in_use 2'
metric 'xlicen_sessions{state="open"} 1'
metric 'xlicen_queued_checkouts 0'
metric 'xlicen_store_up 1'
metric 'xlicen_reloads_total{result="ok"} 0'
metric 'xlicen_connections_refused_total{cause="handshake_timeout"} 0'

# The exposition format, version 0.0.4: every sample's metric has one
# HELP and one TYPE before it, names and labels are well formed, values
# are numbers, histogram buckets are cumulative and end at +Inf = _count.
printf '%s\n' "$GET_BODY" >"$T/metrics.txt"
"$IT_PYTHON" - "$T/metrics.txt" <<'PY' || fail "/metrics is not in the exposition format"
import re, sys
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r'^(%s)(\{(?:%s)(?:,%s)*\})? (\S+)$' % (name, label, label))
types, helps, seen, buckets, counts = {}, set(), set(), {}, {}
bad = []
for n, line in enumerate(open(sys.argv[1]).read().splitlines(), 1):
    if not line:
        continue
    m = re.match(r'^# (HELP|TYPE) (%s) (.+)$' % name, line)
    if m:
        kind, metric, rest = m.groups()
        if kind == 'TYPE':
            if metric in types or metric in seen:
                bad.append('%d: TYPE again or after samples' % n)
            if rest not in ('counter', 'gauge', 'histogram', 'summary', 'untyped'):
                bad.append('%d: type %s' % (n, rest))
            types[metric] = rest
        else:
            if metric in helps:
                bad.append('%d: HELP again' % n)
            helps.add(metric)
        continue
    m = sample.match(line)
    if not m:
        bad.append('%d: not a sample: %r' % (n, line))
        continue
    metric, labels, value = m.groups()
    base = re.sub(r'_(bucket|sum|count)$', '', metric)
    family = base if types.get(base) == 'histogram' else metric
    if family not in types or family not in helps:
        bad.append('%d: %s has no TYPE/HELP before it' % (n, metric))
    if types.get(family) == 'counter' and not metric.endswith('_total'):
        bad.append('%d: counter %s without _total' % (n, metric))
    seen.add(family)
    try:
        v = float(value)
    except ValueError:
        bad.append('%d: value %r' % (n, value))
        continue
    if metric.endswith('_bucket'):
        le = re.search(r'le="([^"]*)"', labels or '').group(1)
        buckets.setdefault(base, []).append((le, v))
    if metric.endswith('_count') and types.get(base) == 'histogram':
        counts[base] = v
for h, bs in buckets.items():
    vals = [v for _, v in bs]
    if vals != sorted(vals) or bs[-1][0] != '+Inf' or bs[-1][1] != counts.get(h):
        bad.append('histogram %s: %r, count %r' % (h, bs, counts.get(h)))
if len(types) < 20:
    bad.append('only %d metrics' % len(types))
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

# dave queues (QUEUE) for no more than 2 s: counted as queued while he
# waits, then denied for the timeout.
KRB5CCNAME="FILE:$XLICEN_REALM_DIR/dave.ccache" timeout -k 2 20 \
	"$XLICEN_BIN_WIRE" -s "localhost:$SERVER_PORT" checkout xdemo 1.0 1 1 listen 10 \
	>"$T/dave.out" 2>"$T/dave.err" &
DAVE_PID=$!
dave_queued() { grep -q '^QUEUED id=100 ' "$T/dave.out"; }
wait_until 10 "dave's QUEUED" dave_queued
get_when 'xlicen_queued_checkouts 1'
metric 'xlicen_queued_checkouts 1'
metric 'xlicen_checkouts_queued_total 1'
metric 'xlicen_checkout_denials_total{reason="timeout"} 0'
dave_denied() { grep -q '^DENY id=0 .*code=TIMEOUT' "$T/dave.out"; }
wait_until 10 "dave's DENY TIMEOUT" dave_denied
get_when 'xlicen_queued_checkouts 0'
metric 'xlicen_queued_checkouts 0'
metric 'xlicen_checkouts_queued_total 1'
metric 'xlicen_checkout_denials_total{reason="timeout"} 1'
metric 'xlicen_checkout_grants_total 2'
kill "$DAVE_PID" 2>/dev/null || true
wait "$DAVE_PID" 2>/dev/null || true

# The same over IPv6; the content type of format 0.0.4; HEAD.
get "$M6" -D "$T/headers"
expect_eq "$GET_CODE" 200 "GET /metrics over IPv6"
metric 'xlicen_checkout_grants_total 2'
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$T/headers" ||
	fail "content type: $(grep -i content-type "$T/headers")"
get "$M4" -I
expect_eq "$GET_CODE" 200 "HEAD /metrics"

# Bad requests: the right 4xx, and the endpoint and the license port
# keep serving.
get "$M4" -X POST -d x=1 -D "$T/headers"
expect_eq "$GET_CODE" 405 "POST /metrics"
grep -qi '^allow: GET, HEAD' "$T/headers" || fail "405 without Allow: GET, HEAD"
get "$M4" -X DELETE
expect_eq "$GET_CODE" 405 "DELETE /metrics"
get "http://127.0.0.1:$HTTP4/nothing"
expect_eq "$GET_CODE" 404 "GET /nothing"
# The status page wants a sign-on, and this server's keytab has no
# HTTP/host key (test_http_page.sh has one): 503, and a warning at start.
get "http://127.0.0.1:$HTTP4/"
expect_eq "$GET_CODE" 503 "GET / without an HTTP/host key"
log_has 'http: no acceptor credentials for HTTP .*sign-on is off' ||
	fail "no warning about the missing HTTP/host key"
get "http://127.0.0.1:$HTTP4/metrics/x"
expect_eq "$GET_CODE" 404 "GET /metrics/x"
get "$M4" -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)"
expect_eq "$GET_CODE" 431 "a 40,000-byte header"
get "$M6" -H "X-Big: $(head -c 40000 /dev/zero | tr '\0' a)"
expect_eq "$GET_CODE" 431 "a 40,000-byte header over IPv6"
# Half a request, then the connection dropped.
printf 'GET /metr' | timeout 5 "$IT_PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read()); s.close()' "$HTTP4" || fail "half a request"

kill -HUP "$SERVER_PID"
reloaded() { get "$M4"; grep -qxF 'xlicen_reloads_total{result="ok"} 1' <<<"$GET_BODY"; }
wait_until 10 "the reload counted" reloaded
get "$M6"
expect_eq "$GET_CODE" 200 "GET /metrics after the bad requests"
metric 'xlicen_checkout_grants_total 2'
run xl status
expect_rc 0 "status after the bad requests"
touch "$T/go"
wait "$BOB_PID" || fail "bob's checkout command failed: $(cat "$T/bob.err")"
bob_gone() { get "$M4"; grep -qxF 'xlicen_product_seats_in_use{product="xdemo"} 1' <<<"$GET_BODY"; }
wait_until 10 "bob's release in /metrics" bob_gone
metric 'xlicen_sessions{state="open"} 0'
server_stop TERM

# [http] allow: 127.0.0.1 is outside 127.128.0.0/9 (its 9th bit differs:
# 403), ::1 is allowed.
cat >"$T/http.conf" <<EOF
[leases]
	orphan_grace = 0
[http]
	listen = 127.0.0.1:0
	listen = [::1]:0
	allow = 127.128.0.0/9
	allow = ::1
EOF
server_start --config "$T/http.conf" --policy "$T/policy.conf"
HTTP4=$(sed -n 's/.*http: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$SERVER_LOG")
HTTP6=$(sed -n 's/.*http: listening on \[::1\]:\([0-9]*\)$/\1/p' "$SERVER_LOG")
get "http://127.0.0.1:$HTTP4/metrics"
expect_eq "$GET_CODE" 403 "GET /metrics from outside [http] allow"
get "http://[::1]:$HTTP6/metrics"
expect_eq "$GET_CODE" 200 "GET /metrics from ::1, in [http] allow"
metric 'xlicen_product_seats_in_use{product="xdemo"} 1'
# [http] is read at start: a SIGHUP says a change waits for the next.
printf '\tallow = 127.0.0.1\n' >>"$T/http.conf"
kill -HUP "$SERVER_PID"
wait_until 10 "the SIGHUP warning" log_has 'SIGHUP: \[http\] changed; it takes effect at the next start'
get "http://127.0.0.1:$HTTP4/metrics"
expect_eq "$GET_CODE" 403 "GET /metrics from 127.0.0.1 after the SIGHUP"
# The library's messages go to our log, none of them about our options.
not log_has 'http: .*(option|MHD_OPTION)' || fail "libmicrohttpd complained: $(grep 'http: ' "$SERVER_LOG")"
pass
