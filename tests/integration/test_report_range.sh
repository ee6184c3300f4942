#!/usr/bin/env bash
# xlicen report without dates covers the recorded history: its range
# starts at the first event of the audit trail, not in 1970, so the
# average seats in use mean something (issue 16, item 7); absent values
# are null in the --json outputs (holders, leases, status), never ""; and
# the raw export of the audit trail (report --events) in CSV and JSON.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lifecycle.sh"
[ -n "$IT_PYTHON" ] || { it_log "SKIP: needs python3 to read the database"; exit 77; }

license xdemo 2
R=$XLICEN_REALM
policy "[admin]
	principals = admin@$R"
printf '[limits]\n\tmax_frame = 4096\n' >"$T/small.conf"
server_start --policy "$T/policy.conf" --orphan-grace 0 --config "$T/small.conf"

# A lease without a display (the probe exits; the lease stays).
run probe checkout xdemo
expect_rc 0 "a lease without a display"
LEASE=$RUN_OUT
# Two seconds with a second seat, so the average is clearly above 0.
run xl checkout xdemo -- sleep 2
expect_rc 0 "a seat for two seconds"

run as admin xl holders --json
expect_rc 0 "holders --json"
json_valid "$RUN_OUT"
LINE=$(printf '%s\n' "$RUN_OUT" | grep "\"lease\": \"$LEASE\"")
expect_contains "$LINE" "\"display\": null, \"lease\": \"$LEASE\"" "holders: no display is null"
run xl leases --json
expect_rc 0 "leases --json"
json_valid "$RUN_OUT"
expect_contains "$RUN_OUT" "\"display\": null, \"lease\": \"$LEASE\"" "leases: no display is null"
expect_not_contains "$RUN_OUT" '""' "leases: no empty strings"

FIRST=$(db "SELECT ts FROM events ORDER BY id LIMIT 1")
[ -n "$FIRST" ] || fail "no events recorded"
FIRST_ISO=$(date -u -d "@$FIRST" +%Y-%m-%dT%H:%M:%SZ)
run as admin xl report
expect_rc 0 "report without dates"
expect_contains "$(printf '%s\n' "$RUN_OUT" | head -n 1)" "usage from $FIRST_ISO to " "the range starts at the first event"
AVG=$(printf '%s\n' "$RUN_OUT" | awk '$1 == "xdemo" && $2 == "(all)" { print $6 }')
[ -n "$AVG" ] && [ "$AVG" != "0.00" ] || fail "report: average of xdemo is \"$AVG\": $RUN_OUT"
run as admin xl report --format json
expect_rc 0 "report --format json without dates"
json_valid "$RUN_OUT"
expect_contains "$RUN_OUT" "{\"from\": \"$FIRST_ISO\", \"to\": \"" "json: the range starts at the first event"
# The raw export (report --events): every event as recorded, CSV per
# RFC 4180 (CRLF, a field with a quote or comma quoted) and JSON, paged
# through replies cut small by max_frame 4096; checked against the
# database itself.
run xl checkout --host 'ws"1,x' xdemo -- true
expect_rc 0 "a checkout with a quote and a comma in its host"
for i in 1 2 3 4 5 6 7 8; do
	run xl checkout xdemo -- true
	expect_rc 0 "checkout $i"
done
REPORTS0=$(db "SELECT count(*) FROM events WHERE kind = 'admin' AND detail = 'REPORT'")
run as admin xl report --events --format csv
expect_rc 0 "report --events --format csv"
cp "$T/run.out" "$T/events.csv"
REPORTS1=$(db "SELECT count(*) FROM events WHERE kind = 'admin' AND detail = 'REPORT'")
[ $((REPORTS1 - REPORTS0)) -ge 2 ] || fail "the export took one reply; expected pages ($REPORTS0 -> $REPORTS1)"
"$IT_PYTHON" - "$T/xlicen.db" "$T/events.csv" <<'PY' || fail "the CSV export differs from the database"
import csv, io, sqlite3, sys, time
out = open(sys.argv[2], "rb").read().decode()
rows = list(csv.reader(io.StringIO(out, newline="")))
last = int(rows[-1][0])
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
want = io.StringIO(newline="")
w = csv.writer(want, lineterminator="\r\n")
w.writerow("id,time,kind,principal,host,display,product,version,lease,count,code,note".split(","))
for r in db.execute("SELECT id, ts, kind, principal, host, display, product,"
                    " version, lease_id, count, code, detail FROM events"
                    " WHERE id <= ? ORDER BY id", (last,)):
    r = ["" if v is None else v for v in r]
    r[1] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r[1]))
    r[10] = "" if r[10] in (0, "") else r[10]
    w.writerow([str(v) for v in r])
if want.getvalue() != out:
    sys.stderr.write("got:\n%r\nwant:\n%r\n" % (out, want.getvalue()))
    sys.exit(1)
if '"ws""1,x"' not in out or "\r\n" not in out:
    sys.exit(1)
PY
expect_contains "$(cat "$T/events.csv")" ',grant,alice@'"$R"',"ws""1,x",,xdemo,1.0,' "a quoted CSV field"
run as admin xl report --events --format json --product xdemo
expect_rc 0 "report --events --format json"
json_valid "$RUN_OUT"
expect_contains "$RUN_OUT" "{\"from\": \"$FIRST_ISO\", \"to\": \"" "events json: the range"
expect_contains "$RUN_OUT" "\"kind\": \"grant\", \"principal\": \"alice@$R\", \"host\": \"ws\\\"1,x\", \"display\": null, \"product\": \"xdemo\", \"version\": \"1.0\", \"lease\": \"" "events json: a grant"
expect_not_contains "$RUN_OUT" '"kind": "reload"' "events json: --product xdemo"
expect_eq "$(printf '%s\n' "$RUN_OUT" | grep -c '"kind": "grant"')" 11 "events json: eleven grants"
pass
