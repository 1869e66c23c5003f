#!/usr/bin/env bash
# make test: every stage, then one closing line over all of them.
# Usage: scripts/run-tests.sh BUILD_DIR
set -u
B=${1:-build}
cd "$(dirname "$0")/.."
total_pass=0
total_fail=0
status=0

stage() { # NAME CMD...: runs a stage, adds its "NAME: N passed, N failed" line to the totals
	local name=$1; shift
	local log; log=$(mktemp)
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local line; line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$log" | tail -1)
	rm -f "$log"
	if [ -z "$line" ]; then
		echo "$name: no result line (exit $rc): counted as 1 failure"
		total_fail=$((total_fail + 1)); status=1; return
	fi
	local p f
	p=$(echo "$line" | sed -E 's/^[^:]+: ([0-9]+) passed.*/\1/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then total_fail=$((total_fail + 1)); fi
	[ "$rc" -ne 0 ] && status=1
}

bash scripts/install-deps.sh >/dev/null || { echo "install-deps failed"; exit 1; }
echo "== unit (Check, ASan+UBSan)"
stage unit "$B/tests/unit-tests"
echo "== integration"
stage integration bash tests/integration/run.sh "$B"
echo "== interop"
stage interop bash tests/interop/run.sh "$B"
if [ -x tests/fuzz/run.sh ]; then
	echo "== fuzz (smoke)"
	stage fuzz bash tests/fuzz/run.sh "$B"
fi
echo
echo "$total_pass passed, $total_fail failed"
[ "$status" -eq 0 ] && [ "$total_fail" -eq 0 ]
