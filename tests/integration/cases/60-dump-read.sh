# `vmm dump` as users run it: the binary on the unit tests' synthetic dumps
# (build/tests/dump-seeds), its exit statuses, one-line errors and stdout handling.
# Sourced by tests/integration/run.sh (its helpers and $VMM, $B).
DS="$B/tests/dump-seeds"
DD="$t_out/dumps"
mkdir -p "$DD"
if ! "$DS" "$DD" 2>"$t_out/dump_seeds.err"; then
	fail "dump-seeds could not write the synthetic dumps" "$(cat "$t_out/dump_seeds.err")"
else
	FX="$DD/fixture-plain.core"
	for sub in info msgbuf vmstat zones malloc ps maps; do
		run "dump_$sub" "$VMM" dump "$sub" "$FX"
		if [ "$rc" -eq 0 ] && [ -s "$t_out/dump_$sub.out" ] && [ ! -s "$t_out/dump_$sub.err" ]; then
			ok "vmm dump $sub: exit 0, $(wc -l <"$t_out/dump_$sub.out") lines"
		else
			fail "vmm dump $sub: exit $rc" "$(err "dump_$sub")"
		fi
		run "dump_${sub}_json" "$VMM" dump "$sub" --json "$FX"
		if [ "$rc" -eq 0 ] && python3 -c 'import json,sys; json.load(sys.stdin)' \
		    <"$t_out/dump_${sub}_json.out" 2>/dev/null; then
			ok "vmm dump $sub --json: one valid JSON document"
		else
			fail "vmm dump $sub --json: exit $rc or invalid JSON" "$(head -c 300 "$t_out/dump_${sub}_json.out")"
		fi
	done
	# pt and read agree: the physical address pt finds holds the bytes read shows.
	run dump_pt "$VMM" dump pt --json "$FX" 0xffffffff80100000
	run dump_read "$VMM" dump read "$FX" 0xffffffff80100000 4
	if grep -q '"paddr":"0x100000","page_size":2097152,"in_dump":true' "$t_out/dump_pt.out" &&
	    grep -q '^ffffffff80100000  56 4d 50 44 ' "$t_out/dump_read.out"; then
		ok "vmm dump pt and read agree on the kernel image"
	else
		fail "vmm dump pt / read" "$(out dump_pt)" "$(out dump_read)"
	fi
	run dump_loop "$VMM" dump ps "$DD/fixture-procloop.core"; one_line dump_loop 65
	run dump_noarg "$VMM" dump; one_line dump_noarg 64
	run dump_badva "$VMM" dump read "$FX" 0xg 16; one_line dump_badva 64
	run dump_missing "$VMM" dump info "$t_out/no-such.core"; one_line dump_missing 66
	run dump_foreign "$VMM" dump info "$VMM"; one_line dump_foreign 65
	head -c 1000 "$FX" >"$DD/short.core"
	run dump_short "$VMM" dump info "$DD/short.core"; one_line dump_short 65
	# A closed stdout is a host failure, said.
	"$VMM" dump zones "$FX" >&- 2>"$t_out/dump_closed.err"; rc=$?
	one_line dump_closed 71
fi
