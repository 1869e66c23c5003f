# Dumps (vmm run -d FILE, docs/dump.md): a panic, a triple fault, SIGQUIT (the run goes
# on) and --dump-at-exit leave an ELF core that readelf accepts and gdb reads beside
# build/kernel.elf (the panic message, a backtrace through panic); a minidump of a 64 MiB
# guest is at most a quarter of its RAM, a full one at least all of it; a dump that
# cannot be written is one line and the guest's own status, with nothing left behind.
# Sourced by run.sh.

# The kernel command-line word that makes the guest panic at the end of its boot
# ("debug.panic requested").
dump_panic_word=debug.panic

dump_dir="$t_out/dump"
mkdir -p "$dump_dir"

# dump_note_byte FILE NOTE-TYPE N: byte N (two hex digits) of the first note of that
# type ("Unknown note type: (0x564d4d01)" in readelf's words), or nothing.
dump_note_byte() {
	readelf -n "$1" 2>/dev/null | awk -v t="$2" -v n="$3" '
		index($0, t) { want = 1; next }
		want && /description data:/ { sub(/.*description data: */, ""); split($0, b, " ");
			print b[n + 1]; exit }'
}
# NT_VMM_INFO's di_reason (byte 4): 01 panic, 02 triple fault, 03 signal, 04 exit.
dump_reason() { dump_note_byte "$1" 0x564d4d01 4; }

# dump_is_core NAME FILE: an x86-64 ELF core with PT_LOADs, a prstatus and the VMM notes.
dump_is_core() {
	local name=$1 f=$2 h n
	h=$(readelf -h "$f" 2>&1); n=$(readelf -n "$f" 2>&1)
	if echo "$h" | grep -q 'Type: *CORE' && echo "$h" | grep -q 'Machine: *Advanced Micro Devices X86-64' &&
	    readelf -l "$f" | grep -q '^ *LOAD' && echo "$n" | grep -q 'CORE .*NT_PRSTATUS' &&
	    [ "$(echo "$n" | grep -c '^ *VMM ')" -eq 3 ]; then
		ok "$name: an ELF core: $(readelf -l "$f" | grep -c '^ *LOAD') PT_LOADs, prstatus, 3 VMM notes"
	else
		fail "$name: not the ELF core wanted" "$h" "$n"
	fi
}

# --- a panic: exit 70, the panic's one line on stderr, and the dump ------------------
# (verbose: the guest prints its UMA zones on the console just before the panic)
run dump_panic "$VMM" run --append verbose --append "$dump_panic_word" --dump "$dump_dir/panic.core" "$B/user/exit"
one_line dump_panic 70
if [ -f "$dump_dir/panic.core" ]; then
	dump_is_core dump_panic "$dump_dir/panic.core"
	[ "$(dump_reason "$dump_dir/panic.core")" = 01 ] && ok "dump_panic: the reason is the panic" ||
		fail "dump_panic: reason $(dump_reason "$dump_dir/panic.core"), want 01"
else
	fail "dump_panic: no dump written" "$(err dump_panic)"
fi

# gdb reads it with the kernel: the message in panic_msg, and a backtrace through
# panic(). gdb is one of scripts/install-deps.sh's packages: its absence is a failure.
if ! command -v gdb >/dev/null; then
	fail "gdb is not installed (scripts/install-deps.sh installs it): cannot check the dump with it"
else
	run dump_gdb gdb -nx -batch -ex 'print panic_msg' -ex 'bt' "$K" "$dump_dir/panic.core"
	if grep -q '^\$1 = "panic: debug\.panic' "$t_out/dump_gdb.out" &&
	    grep -Eq '^#[0-9]+ +(0x[0-9a-f]+ in )?panic \(' "$t_out/dump_gdb.out" &&
	    grep -Eq '^#[0-9]+ +0x[0-9a-f]+ in kmain \(' "$t_out/dump_gdb.out"; then
		ok "gdb: $(grep '^\$1' "$t_out/dump_gdb.out" | cut -c1-60)..., backtrace through panic to kmain"
	else
		fail "gdb cannot read the panic from the dump" "$(cat "$t_out/dump_gdb.out" "$t_out/dump_gdb.err" | tail -n 20)"
	fi
fi

# A minidump of the default 64 MiB guest carries at most a quarter of its RAM.
size=$(stat -c %s "$dump_dir/panic.core" 2>/dev/null || echo 0)
if [ "$size" -gt 0 ] && [ "$size" -le $((16 << 20)) ]; then
	ok "dump_panic: the minidump of a 64 MiB guest is $((size >> 10)) KiB (at most 16 MiB)"
else
	# While the guest registers no kernel_end (byte 88 of hc_dump_desc, 96 of the note),
	# the writer carries the whole KERNBASE window: say that rather than only a size.
	fail "dump_panic: the minidump is $size bytes, more than a quarter of 64 MiB" \
		"kernel_end's low byte in the dump's descriptor: $(dump_note_byte "$dump_dir/panic.core" 0x564d4d03 96) (00: the guest did not say where its image ends)"
fi

# vmm dump zones finds the zones the guest printed just before it panicked, with the
# same counts: "uma: used=U requests=R fails=F zone=NAME" against "NAME: SIZE, LIMIT,
# USED, FREE, REQ, FAIL, SLEEP, PCPU".
sed -nE 's/^uma: used=([0-9]+) requests=([0-9]+) fails=([0-9]+) zone=(.*)$/\4|\1|\2|\3/p' \
	"$t_out/dump_panic.out" | sort >"$t_out/dump_zones.guest"
run dump_zones "$VMM" dump zones "$dump_dir/panic.core"
sed -nE 's/^(.*): +[0-9]+, +[0-9]+, +([0-9]+), +[0-9]+, +([0-9]+), +([0-9]+),.*$/\1|\2|\3|\4/p' \
	"$t_out/dump_zones.out" | sort >"$t_out/dump_zones.dump"
nz=$(wc -l <"$t_out/dump_zones.guest")
if [ "$nz" -gt 0 ] && diff -q "$t_out/dump_zones.guest" "$t_out/dump_zones.dump" >/dev/null; then
	ok "dump_zones: the $nz zones the guest printed before its panic, with the same counts"
else
	fail "dump_zones: vmm dump zones disagrees with what the guest printed" \
		"$(diff "$t_out/dump_zones.guest" "$t_out/dump_zones.dump" | head -n 8)"
fi

# vmm dump pt and vmm dump read agree on panic_msg: the walk through the dumped tables
# ends at the page the kernel's image is loaded at (virtual - KERNBASE), and read shows
# the message there.
msg_va=$(nm "$K" | awk '$3 == "panic_msg" { print $1 }')
run dump_pt "$VMM" dump pt "$dump_dir/panic.core" "0x$msg_va"
run dump_read "$VMM" dump read "$dump_dir/panic.core" "0x$msg_va" 32
want_pa=$(printf '%#x' $((0x$msg_va - 0xffffffff80000000)))
if grep -q "^=> physical $want_pa " "$t_out/dump_pt.out" &&
    tr -d '\n' <"$t_out/dump_read.out" | grep -q '|panic: debug.pan.*|ic requested'; then
	ok "dump_pt/read: panic_msg at 0x$msg_va walks to $want_pa and reads 'panic: debug.panic requested'"
else
	fail "dump_pt/read: disagree on panic_msg (want physical $want_pa)" \
		"$(cat "$t_out/dump_pt.out" "$t_out/dump_read.out" "$t_out/dump_pt.err" | head -n 12)"
fi

# --- the guest dies without a panic report: a triple fault --------------------------
run dump_triple "$VMM" run -k "$B/tests/bad-guest.elf" --ktest=none --dump "$dump_dir/triple.core"
one_line dump_triple 70
[ -f "$dump_dir/triple.core" ] && [ "$(dump_reason "$dump_dir/triple.core")" = 02 ] &&
	ok "dump_triple: a dump with the triple fault as its reason" ||
	fail "dump_triple: no dump, or the wrong reason ($(dump_reason "$dump_dir/triple.core" 2>/dev/null))"

# --- --dump-full: all of RAM (and a dump at exit, the guest's status kept) ----------
run dump_full "$VMM" run --dump "$dump_dir/full.core" --dump-full --dump-at-exit "$B/user/exit" 3
expect_status dump_full 3
size=$(stat -c %s "$dump_dir/full.core" 2>/dev/null || echo 0)
[ "$size" -ge $((64 << 20)) ] && [ "$(dump_reason "$dump_dir/full.core")" = 04 ] &&
	ok "dump_full: $((size >> 20)) MiB, at least the guest's 64 MiB, written at exit" ||
	fail "dump_full: $size bytes, reason $(dump_reason "$dump_dir/full.core" 2>/dev/null)"
# Without --dump-at-exit a run that ends normally leaves no dump.
run dump_none "$VMM" run --dump "$dump_dir/none.core" "$B/user/exit" 0
expect_status dump_none 0
[ ! -e "$dump_dir/none.core" ] && ok "dump_none: a normal exit writes no dump" || fail "dump_none: a dump was written"

# --- dumps that cannot be written: one line, the guest's status, nothing left --------
run dump_nodir "$VMM" run --append "$dump_panic_word" --dump "$dump_dir/no/such/dir/core" "$B/user/exit"
if [ "$rc" -eq 70 ] && [ "$(wc -l <"$t_out/dump_nodir.err")" -eq 2 ] &&
    grep -q "^vmm: cannot write the dump $dump_dir/no/such/dir/core: No such file or directory\$" "$t_out/dump_nodir.err"; then
	ok "dump_nodir: exit 70, '$(tail -n 1 "$t_out/dump_nodir.err")'"
else
	fail "dump_nodir: exit $rc (want 70)" "$(err dump_nodir)"
fi
# A file size limit stands for a full disk: the write fails part way.
mkdir -p "$dump_dir/small"
run dump_efbig bash -c 'ulimit -f 1024; exec "$@"' sh "$VMM" run --append "$dump_panic_word" \
	--dump "$dump_dir/small/core" "$B/user/exit"
if [ "$rc" -eq 70 ] && grep -q "^vmm: cannot write the dump $dump_dir/small/core: File too large\$" "$t_out/dump_efbig.err" &&
    [ -z "$(ls -A "$dump_dir/small")" ]; then
	ok "dump_efbig: exit 70, '$(tail -n 1 "$t_out/dump_efbig.err")', nothing left behind"
else
	fail "dump_efbig: exit $rc (want 70), left: $(ls -A "$dump_dir/small")" "$(err dump_efbig)"
fi

# --- usage errors ---------------------------------------------------------------------
run dump_full_alone "$VMM" run --dump-full "$B/user/exit"; one_line dump_full_alone 64
run dump_at_exit_alone "$VMM" run --dump-at-exit "$B/user/exit"; one_line dump_at_exit_alone 64
run dump_over_kernel "$VMM" run -k "$K" --dump "$K" "$B/user/exit"; one_line dump_over_kernel 64
grep -q 'that is the guest kernel' "$t_out/dump_over_kernel.err" && ok "dump_over_kernel: the kernel is never overwritten" ||
	fail "dump_over_kernel: message" "$(err dump_over_kernel)"
run dump_over_trace "$VMM" run --ktest=none --trace-insns "$dump_dir/t" --dump "$dump_dir/t"
one_line dump_over_trace 64

# --- SIGQUIT during a swap-heavy workload: a dump, twice, and the run carries on ------
# (timeout(1) would turn a forwarded SIGQUIT into a SIGKILL later: a deadline of our own,
# polled, so that no helper process outlives the case holding its output open.)
dump_wait_for() { # FILE SECONDS: wait until FILE exists
	local i
	for i in $(seq $(($2 * 10))); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}
rm -f "$dump_dir/quit.swap"
# A guest that stalls after the pause (a vCPU stopped for a while with the swap disk's I/O
# going on: docs/dump.md, "SIGQUIT while the guest runs") ends within 20 s.
"$VMM" run -v -m 32M -s "$dump_dir/quit.swap" --watchdog=20 --dump "$dump_dir/quit.core" "$B/user/swapstress" 128 3 \
	>"$t_out/dump_quit.out" 2>"$t_out/dump_quit.err" </dev/null &
quit_pid=$!
sleep 2
kill -QUIT "$quit_pid" 2>/dev/null
dump_wait_for "$dump_dir/quit.core" 60 && ino1=$(stat -c %i "$dump_dir/quit.core") || ino1=""
kill -QUIT "$quit_pid" 2>/dev/null
for i in $(seq 100); do
	[ -n "$ino1" ] && [ "$(stat -c %i "$dump_dir/quit.core" 2>/dev/null)" != "$ino1" ] && break
	sleep 0.1
done
ino2=$(stat -c %i "$dump_dir/quit.core" 2>/dev/null)
for i in $(seq 3000); do kill -0 "$quit_pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL "$quit_pid" 2>/dev/null   # still running after 5 minutes: a failure below
wait "$quit_pid"; rc=$?
# The kernel's closing "swap:" line (-v): pages did go out, the workload was swap-heavy.
quit_pageouts=$(grep -E '^swap: ' "$t_out/dump_quit.out" | tr ' ' '\n' | sed -n 's/^pageouts=//p')
if [ "$rc" -eq 0 ] && grep -q '^swapstress: mib=128 passes=3' "$t_out/dump_quit.out" &&
    [ "${quit_pageouts:-0}" -gt 0 ]; then
	ok "dump_quit: the run carried on to exit 0 after two SIGQUITs (pageouts=$quit_pageouts)"
else
	# A run that stalled after the pause leaves the watchdog's dump: where it hung.
	fail "dump_quit: exit $rc (want 0)" "$(tail -n 3 "$t_out/dump_quit.out")" \
		"$(grep -v '^vmm: \[' "$t_out/dump_quit.err" | head -n 2 | cut -c1-240)" \
		"$(gdb -nx -batch -ex bt "$K" "$dump_dir/quit.core" 2>/dev/null | grep '^#' | head -n 6)"
fi
if [ -n "$ino1" ] && [ -n "$ino2" ] && [ "$ino1" != "$ino2" ] &&
    [ "$(dump_reason "$dump_dir/quit.core")" = 03 ]; then
	dump_is_core dump_quit "$dump_dir/quit.core"
	ok "dump_quit: each SIGQUIT wrote the dump anew (reason: the signal)"
else
	fail "dump_quit: dumps ${ino1:-missing}, then ${ino2:-missing}; reason $(dump_reason "$dump_dir/quit.core" 2>/dev/null)"
fi
[ -z "$(ls -A "$dump_dir" | grep '^\.')" ] && ok "no temporary dump file left" ||
	fail "temporary files left: $(ls -A "$dump_dir" | grep '^\.')"
rm -f "$dump_dir/quit.swap"

# Without --dump, SIGQUIT ends the run as before: 128 + 3.
"$VMM" run -k "$B/tests/bad-guest.elf" --ktest=none --watchdog=0 --append spin \
	>/dev/null 2>"$t_out/quit_plain.err" </dev/null &
quit_pid=$!
sleep 0.5
kill -QUIT "$quit_pid"
wait "$quit_pid"; rc=$?
[ "$rc" -eq 131 ] && ok "SIGQUIT without --dump: exit 131" || fail "SIGQUIT without --dump: exit $rc (want 131)" "$(err quit_plain)"

rm -rf "$dump_dir"
