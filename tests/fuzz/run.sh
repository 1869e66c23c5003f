#!/usr/bin/env bash
# Fuzz smoke: each libFuzzer target runs briefly on its seed corpus (made from the build's
# own ELF files, nothing committed), so make test catches a parser that crashes early.
# Longer runs: make fuzz FUZZ_SECONDS=600.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]
set -u
B=${1:-build}
SECS=${2:-${FUZZ_SECONDS:-15}}
. "$(dirname "$(readlink -f "$0")")/../integration/lib.sh"
echo "fuzz: each target for ${SECS}s"
for target in "$B"/fuzz/fuzz_*; do
	[ -x "$target" ] || continue
	name=$(basename "$target")
	corpus="$B/fuzz/corpus-$name"
	mkdir -p "$corpus"
	case "$name" in
	fuzz_pvh_loader)
		cp "$B/kernel.elf" "$B/tests/bad-guest.elf" "$corpus/" 2>/dev/null ;;
	fuzz_dump_read)
		"$B/tests/dump-seeds" "$corpus" ;;
	esac
	run "$name" "$target" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$B/fuzz/$name-" "$corpus"
	if [ "$rc" -eq 0 ]; then
		ok "$name: $(grep -oE 'Done [0-9]+ runs' "$t_out/$name.err" | tail -1)"
	else
		fail "$name: exit $rc" "$(grep -E 'ERROR|SUMMARY|artifact' "$t_out/$name.err" | head -5)"
	fi
done
[ $((t_pass + t_fail)) -gt 0 ] || fail "no fuzz target built in $B/fuzz"
finish fuzz
