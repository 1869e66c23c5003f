# The VMM's contract under careless and hostile use: statuses (64 usage, 66 bad input,
# 70 guest, 71 host) and exactly one `vmm:` line on stderr for every error.
# Sourced by tests/integration/run.sh (its helpers and $VMM, $K, $B).
BG="$B/tests/bad-guest.elf"
c_work=$(mktemp -d)

first_is() { # NAME STATUS TEXT: one_line, and the line holds TEXT
	one_line "$1" "$2"
	grep -qF -- "$3" "$t_out/$1.err" && ok "$1 says '$3'" ||
		fail "$1: '$3' not in" "$(err "$1")"
}

# --- input files that are not regular files: refused at once, never waited on --------
mkfifo "$c_work/fifo"
run fifo_kernel "$VMM" run -k "$c_work/fifo" --ktest=none; first_is fifo_kernel 66 "a FIFO, not a regular file"
run fifo_program "$VMM" run "$c_work/fifo"; first_is fifo_program 66 "a FIFO, not a regular file"
run dev_kernel "$VMM" run -k /dev/null --ktest=none; first_is dev_kernel 66 "a character device"
run dir_program "$VMM" run /; first_is dir_program 66 "a directory"
run proc_kernel "$VMM" run -k /proc/cpuinfo --ktest=none; first_is proc_kernel 66 "empty file, not a kernel"
grep -q rebuild "$t_out/proc_kernel.err" && fail "-k /proc/cpuinfo tells to rebuild the kernel" "$(err proc_kernel)" ||
	ok "-k /proc/cpuinfo does not say 'rebuild the kernel'"

# --- the host's resources: 71, naming the resource ----------------------------------
run emfile bash -c "ulimit -n 3; exec $VMM run --ktest=none"; first_is emfile 71 "open-file limit"
run emfile_kvm bash -c "ulimit -n 4; exec $VMM run --ktest=none"; first_is emfile_kvm 71 "open-file limit"
run enomem bash -c "ulimit -v 200000; exec $VMM run -m 1G --ktest=none"; first_is enomem 71 "host memory"

# --- a guest panic: 70, and its line on stderr ---------------------------------------
run panic_line "$VMM" run --ktest=none --append debug.panic=1
first_is panic_line 70 "vmm: guest panicked: debug.panic=1 on the command line"
# The bare word: at the very end of boot, before the program would run.
run panic_bare "$VMM" run --append debug.panic "$B/user/exit" 3
first_is panic_bare 70 "vmm: guest panicked: debug.panic requested"

# --- stdout that cannot be written ---------------------------------------------------
run help_closed sh -c "exec $VMM --help >&-"; first_is help_closed 71 "cannot write the help to stdout"
run version_full sh -c "exec $VMM --version >/dev/full"; first_is version_full 71 "cannot write the version"

# The guest's console output that cannot be written is reported, not dropped in silence;
# a reader that leaves early (| head) is normal use: no message, the guest's status.
run console_full sh -c "exec $VMM run --ktest=boot >/dev/full"
first_is console_full 71 "console output could not be written to stdout: No space left"
run console_closed sh -c "exec $VMM run --ktest=boot >&-"
first_is console_closed 71 "could not be written to stdout: Bad file descriptor"
# A reader that leaves ends the run as it ends any writer to a closed pipe: 141, quietly
# (a guest that prints for ever would otherwise run for ever).
run console_head bash -c "$VMM run -k $BG --ktest=none --append flood | head -n 1 >/dev/null; exit \${PIPESTATUS[0]}"
[ "$rc" -eq 141 ] && [ ! -s "$t_out/console_head.err" ] && ok "console_head: the reader left: exit 141, no message" ||
	fail "console_head: exit $rc" "$(err console_head)"

# Signals that end a process end a run cleanly, 128 + N, whatever phase it is in; the
# trace file is finished, no temporary file stays.
for sig in HUP QUIT USR1 USR2; do
	"$VMM" run -k "$BG" --ktest=none --watchdog=0 --append spin --trace-insns "$c_work/t.$sig" \
		>/dev/null 2>"$t_out/sig_$sig.err" </dev/null &
	pid=$!
	sleep 0.5
	kill -s "$sig" "$pid"
	wait "$pid"; rc=$?
	want=$((128 + $(kill -l "$sig")))
	[ "$rc" -eq "$want" ] && [ -s "$c_work/t.$sig" ] && [ -z "$(ls -A "$c_work" | grep '^\.')" ] &&
		ok "SIG$sig: exit $rc, trace kept, nothing else left" ||
		fail "SIG$sig: exit $rc (want $want)" "$(ls -la "$c_work")" "$(err "sig_$sig")"
	rm -f "$c_work/t.$sig"
done
# Past ulimit -f: the write fails (no SIGXFSZ death), one line, 71, no temporary file.
# (Only CPL 0 steps are traced: --ktest=boot's kernel requests make ~4.5 KB of them,
# past a 2 KiB limit that still leaves room for the message.)
run fsize bash -c "ulimit -f 2; exec $VMM run --ktest=boot --trace-insns $c_work/big.trace"
first_is fsize 71 "File too large"
[ -z "$(ls -A "$c_work" | grep -e '^\.' -e big.trace)" ] && ok "fsize: nothing left" || fail "fsize left" "$(ls -la "$c_work")"
# --trace-insns /dev/stdout would have the link replaced; what it names is checked.
run trace_stdout sh -c "exec $VMM run --ktest=none --trace-insns /dev/stdout >$c_work/out"
first_is trace_stdout 64 "that is this run's stdout"
[ -L /dev/stdout ] && ok "/dev/stdout is still a link" || fail "/dev/stdout was replaced"

# --- a PROGRAM larger than the boot map (1 GiB) boots: its command line comes first --
cp "$B/user/exit" "$c_work/big"        # a static program, padded: it passes the check
truncate -s 1100M "$c_work/big"
run big_program "$VMM" run -m 2G "$c_work/big" 9
expect_status big_program 9
run too_big_program "$VMM" run -m 1G "$c_work/big"
first_is too_big_program 66 "do not fit in guest RAM after the kernel"
rm -f "$c_work/big"

# --- messages that say what to do -----------------------------------------------------
run cpus_max "$VMM" run -c 99999 --ktest=none; first_is cpus_max 64 "at most 1 vCPU"
objcopy --change-section-lma '.text+0xc0000000' --change-section-lma '.note.Xen+0xc0000000' \
	"$BG" "$c_work/hole.elf"
run pci_hole "$VMM" run -k "$c_work/hole.elf" --ktest=none; first_is pci_hole 66 "overlaps the PCI hole"
grep -q 'larger -m' "$t_out/pci_hole.err" && fail "a segment in the PCI hole asks for a larger -m" ||
	ok "a segment in the PCI hole does not ask for a larger -m"

# --- --trace-insns never writes over an input or into a non-regular file --------------
cp "$K" "$c_work/k.elf"
run trace_kernel "$VMM" run -k "$c_work/k.elf" --ktest=none --trace-insns "$c_work/k.elf"
first_is trace_kernel 64 "that is the guest kernel"
cmp -s "$K" "$c_work/k.elf" && ok "--trace-insns KERNEL left the kernel intact" || fail "--trace-insns overwrote the kernel"
cp "$B/user/exit" "$c_work/prog"
run trace_program "$VMM" run --ktest=none --trace-insns "$c_work/prog" "$c_work/prog"
first_is trace_program 64 "that is PROGRAM"
cmp -s "$B/user/exit" "$c_work/prog" && ok "--trace-insns PROGRAM left the program intact" || fail "--trace-insns overwrote PROGRAM"
run trace_fifo "$VMM" run --ktest=none --trace-insns "$c_work/fifo"; first_is trace_fifo 64 "not a regular file"
run trace_dev "$VMM" run --ktest=none --trace-insns /dev/null; first_is trace_dev 64 "not a regular file"
# A good trace replaces an old file whole, through a temporary name that does not stay.
echo old >"$c_work/trace"
run trace_replace "$VMM" run --ktest=none --trace-insns "$c_work/trace"
expect_status trace_replace 0
[ "$(head -c 3 "$c_work/trace")" != old ] && [ "$(wc -l <"$c_work/trace")" -gt 5 ] &&
	[ -z "$(ls -A "$c_work" | grep '^\.')" ] && ok "--trace-insns replaced the file, no temporary left" ||
	fail "--trace-insns replace" "$(ls -la "$c_work")"

# --- every error path: exactly one vmm: line ----------------------------------------
# (the cases above and in run.sh check their own; these are the rest of the usage errors)
i=0
while IFS= read -r args; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	run "usage_$i" "$VMM" $args
	one_line "usage_$i" 64
done <<'LIST'
run -m
run -m 0 --ktest
run -m 64Q --ktest
run -m 99999999999999999999G --ktest
run -m 100000 --ktest
run -c
run -c -1 --ktest
run -k
run --ktest=,, 
run --ktest=a,,b
run --append
run --trace-insns
run --watchdog
run --watchdog=x --ktest
run -x
run --memory=1G
bogus
run -m 16M -m 64M --ktest
run --verbose=1 --ktest
run --ver --ktest
--version x
help x
LIST

# A newline in a user's argument does not make the message two lines.
run nl_kernel "$VMM" run -k $'/no\nfile' --ktest=none; one_line nl_kernel 66
run nl_ktest "$VMM" run --ktest=$'a\nb'; one_line nl_ktest 64
run nl_trace "$VMM" run --ktest=none --trace-insns $'/nodir\nx/f'; one_line nl_trace 64

rm -rf "$c_work"
