# shellcheck shell=bash
# scripts/ctest.sh - sourced (not run) by scripts/test and scripts/coverage:
# CTest with the project's rules, written once.
#
#   xlicen_ctest DIR [ctest args...]
#
# Runs ctest in the build tree DIR with --no-tests=error (a regex that
# selects nothing, or a tree with no tests, is an error, not a pass) and
# --output-junit, then reads from that JUnit XML which tests did not run:
# skipped (the test exited with its SKIP_RETURN_CODE, 77) or disabled.
# CTest counts a skip as a pass; here a skip is a failure unless the
# caller declared it:
#
#   XLICEN_TEST_ALLOW_SKIP='x11.* daemon.root'
#
# holds shell glob patterns (separated by spaces or commas), each matched
# against a whole test name; a test that did not run and matches none fails
# the run.  Every test that did not run is listed with its reason: the
# lines of its output that contain "SKIP:" (every skip in tests/ prints
# one), else the last lines of its output.
#
# Returns 0 when ctest passed and every test that did not run was
# declared, 1 otherwise.  The list of tests that did not run (declared or
# not) is appended to the file named by XLICEN_SKIP_SUMMARY, when set, for
# the caller's closing summary.

# The output CTest keeps of a passing (or skipped) test is cut at 1 KiB
# by default; a skip reason may come at the end of a long output.  Keep
# 64 KiB, head and tail.
XLICEN_CTEST_OUTPUT=(--test-output-size-passed 65536 --test-output-truncation middle)

xlicen_ctest() {
	local dir=$1 junit rc=0 prc=0
	shift
	mkdir -p "$dir/Testing"
	# Absolute: ctest takes a relative path from the build tree.
	junit="$(cd "$dir" && pwd -P)/Testing/xlicen-junit.xml"
	rm -f "$junit"
	ctest --test-dir "$dir" --no-tests=error --output-junit "$junit" \
		"${XLICEN_CTEST_OUTPUT[@]}" "$@" || rc=1
	if [ ! -s "$junit" ]; then
		echo "ctest.sh: ctest wrote no $junit" >&2
		return 1
	fi
	python3 - "$junit" "$dir" "${XLICEN_TEST_ALLOW_SKIP:-}" \
		"${XLICEN_SKIP_SUMMARY:-}" <<'EOF' || prc=1
import fnmatch, re, sys
import xml.etree.ElementTree as ET

junit, build, allow, summary = sys.argv[1:5]
patterns = [p for p in re.split(r"[\s,]+", allow) if p]

def reason(case):
    out = case.findtext("system-out") or ""
    lines = [l.strip() for l in out.splitlines() if l.strip()]
    tagged = [l for l in lines if "SKIP:" in l]
    if tagged:
        return " | ".join(tagged)
    skipped = case.find("skipped")
    why = [skipped.get("message")] if skipped is not None and skipped.get("message") else []
    return " | ".join(why + lines[-3:]) or "(no output)"

rows = []
for case in ET.parse(junit).getroot().iter("testcase"):
    if case.find("skipped") is None and case.get("status") != "disabled":
        continue
    name = case.get("name")
    declared = any(fnmatch.fnmatchcase(name, p) for p in patterns)
    rows.append((declared, name, reason(case)))

bad = [r for r in rows if not r[0]]
lines = []
for declared, name, why in rows:
    tag = "skipped (declared)" if declared else "SKIPPED, NOT DECLARED"
    lines.append("%s: %s: %s: %s" % (build, tag, name, why))
for l in lines:
    print("==> " + l)
if bad:
    print("==> %d test(s) in %s did not run and are not declared in "
          "XLICEN_TEST_ALLOW_SKIP (see docs/TESTING.md, Skips): %s"
          % (len(bad), build, " ".join(r[1] for r in bad)))
if summary and lines:
    with open(summary, "a") as f:
        f.write("\n".join(lines) + "\n")
sys.exit(1 if bad else 0)
EOF
	[ "$rc" = 0 ] && [ "$prc" = 0 ]
}
