# Swap: a guest with 32 MiB of RAM runs programs that use several times that, through
# the virtio-blk device the VMM serves from a host file with io_uring (vmm run -s FILE).
# Every byte written is checked on every pass; the kernel's counters (printed at the end
# of a -v run) show pages went out and came back; injected write errors leave the data
# intact, injected read errors kill the process that needed the page (SIGBUS, 135);
# swapoff brings every page back; RAM and swap both full is an out-of-memory kill.
# Sourced by run.sh.

swap_dir=$(mktemp -d)

# swap_run NAME STATUS ARGS...: vmm run -v -m 32M -s a fresh file, status as wanted.
swap_run() {
	local name=$1 want=$2; shift 2
	local prog=${1##*/}
	rm -f "$swap_dir/$name.swap"
	T_TIMEOUT=${T_TIMEOUT:-180} run "$name" "$VMM" run -v -m 32M -s "$swap_dir/$name.swap" "$@"
	if [ "$rc" -eq "$want" ]; then
		ok "$name: exit $rc $(grep -E "^($prog:|pid 1) " "$t_out/$name.out" | head -n 1)"
	else
		fail "$name: exit $rc (want $want)" "$(grep -v '^vmm: \[' "$t_out/$name.out" | tail -n 5)" \
			"$(grep -v '^vmm: \[' "$t_out/$name.err" | tail -n 3)"
	fi
}

# swap_counter NAME FIELD: the value of FIELD in the kernel's "swap:" line (empty: none).
swap_counter() {
	grep -E '^swap: ' "$t_out/$1.out" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# swap_expect NAME 'AWK CONDITION' WHAT: the swap line's counters (as awk variables)
# satisfy the condition; nothing leaked (free pages after pid 1 as before it).
swap_expect() {
	local name=$1 cond=$2 what=$3 line vars
	line=$(grep -E '^swap: ' "$t_out/$name.out")
	vars=$(echo "$line" | cut -d' ' -f2- | sed 's/\([a-z_]*\)=/-v \1=/g')
	# shellcheck disable=SC2086
	if [ -n "$line" ] && awk $vars "BEGIN { exit !($cond) }"; then
		ok "$name: $what ($line)"
	else
		fail "$name: $what" "${line:-no swap line}"
	fi
	no_page_leaked "$name"
}

# 4x the RAM, three passes (fill, check in order, check in a random order), every byte.
swap_run swap_4x 0 "$B/user/swapstress" 128 3
swap_expect swap_4x 'pageouts > 0 && pageins > 0 && used == 0 && bad == 0 && write_errors == 0 && read_errors == 0' \
	'pages went out and came back, no error, every block free at the end'

# The driver's own tests against this device (ktest suite blk), among them the lost
# completions: requests a poller's reap left in the used ring with no interrupt to come,
# and a queue full of polled reads while their submitter sleeps for descriptors (the
# swap hang: every thread asleep, the guest halted), must still end.
rm -f "$swap_dir/swap_ktest_blk.swap"
T_TIMEOUT=120 run swap_ktest_blk "$VMM" run -s "$swap_dir/swap_ktest_blk.swap" --ktest=blk
expect_status swap_ktest_blk 0
if grep -Eq '^ktest: suite blk: [0-9]+ passed, 0 failed$' "$t_out/swap_ktest_blk.out" &&
	grep -q '^ktest: blk.poll_leaves_no_completion_behind \.\.\. ok$' "$t_out/swap_ktest_blk.out" &&
	grep -q '^ktest: blk.full_queue_of_polled_reads \.\.\. ok$' "$t_out/swap_ktest_blk.out"; then
	ok "swap_ktest_blk: $(grep -E '^ktest: suite blk: ' "$t_out/swap_ktest_blk.out")"
else
	fail "swap_ktest_blk: --ktest=blk with a device" \
		"$(grep -E 'FAILED|suite blk|panic' "$t_out/swap_ktest_blk.out" | tail -n 5)"
fi

# Copy-on-write pages on swap: parent and child each rewrite their own view.
swap_run swap_fork 0 "$B/user/swapstress" 48 3 fork
swap_expect swap_fork 'pageouts > 0 && pageins > 0 && used == 0' 'COW pages went out and came back'

# Major faults reach getrusage: random reads of a region mostly on swap.
swap_run swap_majflt 0 "$B/user/swapbench" 96 500
majflt=$(sed -n 's/^swapbench: .* majflt=\([0-9]*\) .*/\1/p' "$t_out/swap_majflt.out")
[ -n "$majflt" ] && [ "$majflt" -gt 0 ] && ok "swap_majflt: $majflt major faults counted" ||
	fail "swap_majflt: no major fault counted" "$(grep '^swapbench' "$t_out/swap_majflt.out")"

# -v ends with KVM's own counters for the run (KVM_GET_STATS_FD, Linux 5.14 and later):
# exits, which every KVM counts (the guest's port and MMIO accesses exit everywhere).
kline=$(grep -E 'kvm: vcpu 0: ' "$t_out/swap_majflt.err")
kexits=$(echo "$kline" | tr ' ' '\n' | sed -n 's/^exits=//p')
if [ -n "$kexits" ] && [ "$kexits" -gt 0 ]; then
	ok "swap_majflt: KVM's counters in -v (exits=$kexits)"
else
	fail "swap_majflt: no KVM counters in -v" "${kline:-no kvm: vcpu 0: line}"
fi

# Page-ins poll the device for their reads: the driver counts them, and with the
# interrupt off while only polled reads are in flight, interrupts are far fewer than
# requests (the laundry's writes still take one each at most).
vline=$(grep -E '^virtio_blk: requests=' "$t_out/swap_majflt.out")
vvars=$(echo "$vline" | cut -d' ' -f2- | sed 's/\([a-z_]*\)=/-v \1=/g')
reads=$(swap_counter swap_majflt reads)
# shellcheck disable=SC2086
if [ -n "$vline" ] && [ -n "$reads" ] &&
	awk $vvars -v reads="$reads" 'BEGIN { exit !(polled >= reads && reads > 0 && interrupts < requests - reads / 2) }'; then
	ok "swap_majflt: page-ins polled ($vline)"
else
	fail "swap_majflt: page-ins not polled, or an interrupt each" "${vline:-no virtio_blk line} reads=$reads"
fi

# swapoff brings every page back (no major fault afterwards), and the answers of
# swapon/swapoff are Linux's.
swap_run swap_off 0 "$B/user/swapctl" 8 48
grep -Eq '^swapctl: .*majflt_after_swapoff=0 answers=linux$' "$t_out/swap_off.out" &&
	ok "swap_off: every page back" || fail "swap_off: result" "$(grep '^swapctl' "$t_out/swap_off.out")"

# Every 7th write fails: the pages stay dirty in memory, their blocks are never used
# again, and the program sees nothing wrong.
VMM_BLK_FAIL_EVERY=7 VMM_BLK_FAIL_OP=write swap_run swap_write_errors 0 "$B/user/swapstress" 64 2
swap_expect swap_write_errors 'write_errors > 0 && bad == write_errors && pageouts > 0 && pageins > 0' \
	'write errors counted, their blocks kept out of use'

# A read that fails kills the process that needed the page with SIGBUS (135); the
# kernel carries on and the VMM exits with that status.
VMM_BLK_FAIL_EVERY=50 VMM_BLK_FAIL_OP=read swap_run swap_read_error 135 "$B/user/swapstress" 64 2
grep -Eq '^pid 1 \(swapstress\): killed by signal 7 \(pager error\)' "$t_out/swap_read_error.out" &&
	ok "swap_read_error: $(grep '^pid 1 ' "$t_out/swap_read_error.out")" ||
	fail "swap_read_error: no SIGBUS report" "$(grep -v '^vmm: \[' "$t_out/swap_read_error.out" | tail -n 3)"
[ "$(swap_counter swap_read_error read_errors)" -gt 0 ] 2>/dev/null &&
	ok "swap_read_error: read errors counted" || fail "swap_read_error: no read error counted"

# RAM and swap both full: the out-of-memory kill (137), one report, a clean exit.
rm -f "$swap_dir/swap_oom.swap"
T_TIMEOUT=120 run swap_oom "$VMM" run -m 32M -s "$swap_dir/swap_oom.swap" --swap-size 16M "$B/user/memhog" 96
expect_status swap_oom 137
grep -Eq '^out of memory: killed pid 1 \(memhog\), [0-9]+ resident pages$' "$t_out/swap_oom.out" &&
	ok "swap_oom: $(grep '^out of memory' "$t_out/swap_oom.out")" ||
	fail "swap_oom: no report" "$(tail -n 3 "$t_out/swap_oom.out")"

rm -rf "$swap_dir"
