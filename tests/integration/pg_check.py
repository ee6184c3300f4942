#!/usr/bin/env python3
"""pg_check.py: the checker of the several-servers tests (test_pg_*.sh).

Reads the logs of pg_load_client (one per client), the seat samples taken
from the database while they ran, the audit trail (events: "kind lease")
and the leases left in the database after every client ended, and prints
the figures:

  over-subscriptions  samples with more seats used than the pool has, plus
                      instants at which the clients' own logs show more
                      grants held at once than --seats (each client's
                      [grant told, release started] lies within the
                      server's lease)
  lost grants         leases a client was told of (GRANT) that the audit
                      trail has no 'grant' event for
  doubled             a client's held lease id changed (SWAP), or a lease
                      granted twice in the audit trail
  recovery            for each lease re-attached after --event-ms (a kill,
                      a crash): ms from that event to HELD again (after
                      GRACE, or on another server)

and the leases left after the end must be only grants no client heard of
(the server died before its reply), releases that failed (the server
or the database died during them) and, with --async-window-ms, releases
answered within that many ms of --event-ms: a release commits with
synchronous_commit off, so a crash of the primary may take it with it
and the promoted standby still has the lease.  Those end by their TTL.

Exit 0 when every rule holds (and --max-recovery-ms, --min-recovered when
given), else 1 with the reason on stderr.
"""
import argparse
import sys


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seats", type=int, required=True)
    ap.add_argument("--samples", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--leases-left", required=True)
    ap.add_argument("--event-ms", type=int, default=0,
                    help="when the failure happened (UTC ms)")
    ap.add_argument("--async-window-ms", type=int, default=0,
                    help="releases answered this close to --event-ms may be lost")
    ap.add_argument("--max-recovery-ms", type=int, default=0)
    ap.add_argument("--min-recovered", type=int, default=0)
    ap.add_argument("--min-grants", type=int, default=1)
    ap.add_argument("logs", nargs="+")
    return ap.parse_args()


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [ln.split() for ln in f if ln.strip()]


def main():
    a = parse_args()
    bad = []
    grants = {}          # lease -> (client, ms)
    intervals = []       # (start, end) of a held lease, client's view
    failed_release = set()
    released_near = set()  # answered OK within --async-window-ms of the failure
    recoveries = []      # ms from the event to HELD again
    graces_after = 0
    denies = {}
    swaps = 0
    lost = 0
    for path in a.logs:
        held = {}
        for f in read_lines(path):
            kind, ms = f[0], int(f[1])
            if kind == "GRANT":
                if f[2] in grants:
                    bad.append("lease %s told to two clients" % f[2])
                grants[f[2]] = (path, ms)
                held[f[2]] = ms
            elif kind == "RELEASE":
                if f[2] in held:
                    intervals.append((held.pop(f[2]), ms))
                if len(f) < 4 or f[3] != "OK":
                    failed_release.add(f[2])
                elif a.event_ms and abs(ms - a.event_ms) <= a.async_window_ms:
                    released_near.add(f[2])
            elif kind == "GRACE":
                if ms >= a.event_ms and a.event_ms:
                    graces_after += 1
            elif kind == "HELD":
                if a.event_ms and ms >= a.event_ms:
                    recoveries.append(ms - a.event_ms)
            elif kind == "SWAP":
                swaps += 1
                bad.append("%s: held lease changed %s -> %s" % (path, f[2], f[3]))
            elif kind == "LOST":
                lost += 1
                bad.append("%s: lease %s lost (%s)" % (path, f[2], f[3]))
            elif kind == "DENY":
                denies[f[3]] = denies.get(f[3], 0) + 1
        for lease, ms in held.items():
            bad.append("%s: lease %s never released" % (path, lease))

    # Seats held at once, from the clients' logs.
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals],
                    key=lambda p: (p[0], p[1]))
    cur = peak = 0
    for _, d in points:
        cur += d
        peak = max(peak, cur)
    over_clients = max(0, peak - a.seats)

    # Seats used, from the database.
    samples = over_db = peak_db = counter_off = 0
    for f in read_lines(a.samples):
        seats, used, in_use = int(f[1]), int(f[2]), int(f[3])
        samples += 1
        peak_db = max(peak_db, used)
        if used > seats:
            over_db += 1
        if used != in_use:
            counter_off += 1
    if samples == 0:
        bad.append("no seat sample was taken from the database")

    # The audit trail.
    granted = {}
    reclaims = 0
    for f in read_lines(a.events):
        if f[0] == "grant":
            granted[f[1]] = granted.get(f[1], 0) + 1
        elif f[0] == "reclaim":
            reclaims += 1
    lost_grants = sorted(set(grants) - set(granted))
    doubled = sorted(k for k, v in granted.items() if v > 1)
    unheard = set(granted) - set(grants)
    left = set(f[0] for f in read_lines(a.leases_left))
    expected_left = unheard | ((failed_release | released_near) & set(granted))

    print("grants told to clients: %d (audit trail: %d grant, %d reclaim events)"
          % (len(grants), len(granted), reclaims))
    print("denials: %s" % (", ".join("%s %d" % kv for kv in sorted(denies.items())) or "none"))
    print("seats held at once: %d by the clients' logs, %d by the database (%d samples); pool %d"
          % (peak, peak_db, samples, a.seats))
    print("over-subscriptions: %d (database samples) + %d (clients' logs)" % (over_db, over_clients))
    print("lost grants: %d" % len(lost_grants))
    print("doubled: %d lease ids changed, %d leases granted twice" % (swaps, len(doubled)))
    print("grants no client heard of: %d; failed releases: %d; leases left: %d"
          % (len(unheard), len(failed_release), len(left)))
    if a.async_window_ms:
        print("releases answered within %d ms of the failure: %d, of them left: %d"
              % (a.async_window_ms, len(released_near), len(left & released_near)))
    if a.event_ms:
        print("GRACE after the failure: %d; back to HELD: %d; seconds to HELD: max %.3f, all %s"
              % (graces_after, len(recoveries),
                 max(recoveries) / 1000.0 if recoveries else -1,
                 " ".join("%.3f" % (r / 1000.0) for r in sorted(recoveries))))

    if over_db or over_clients:
        bad.append("over-subscribed")
    if counter_off:
        bad.append("%d samples where pools.in_use differs from the seats' sum" % counter_off)
    if lost_grants:
        bad.append("grants lost from the audit trail: %s" % " ".join(lost_grants[:5]))
    if doubled:
        bad.append("leases granted twice: %s" % " ".join(doubled[:5]))
    # Leases of failed releases, unheard grants and releases lost with the
    # primary end by their TTL: by now some may have expired already; any
    # other lease left is a lost seat.
    if not left <= expected_left:
        bad.append("leases left %s, expected only of %s" % (sorted(left), sorted(expected_left)))
    if len(grants) < a.min_grants:
        bad.append("only %d grants (expected at least %d)" % (len(grants), a.min_grants))
    if len(recoveries) < a.min_recovered:
        bad.append("%d clients back to HELD, expected at least %d" % (len(recoveries), a.min_recovered))
    if graces_after > len(recoveries):
        bad.append("%d GRACE but %d back to HELD" % (graces_after, len(recoveries)))
    if a.max_recovery_ms and recoveries and max(recoveries) > a.max_recovery_ms:
        bad.append("back to HELD after %d ms, more than %d" % (max(recoveries), a.max_recovery_ms))
    for b in bad:
        print("pg_check: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
