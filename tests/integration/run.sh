#!/usr/bin/env bash
# Integration tests: the real guest kernel under the real VMM on /dev/kvm.
# Usage: tests/integration/run.sh BUILD_DIR
set -u
B=${1:-build}
. "$(dirname "$0")/lib.sh"
VMM="$B/vmm"
K="$B/kernel.elf"

if ! kvm_usable; then
	# No KVM here: the same suite runs inside a guest that has one (scripts/nested-kvm.sh),
	# said loudly; if that cannot start either, the suite fails.
	if [ -z "${NESTED_KVM:-}" ]; then
		echo "integration: this host has no usable /dev/kvm: running the suite in a nested KVM (scripts/nested-kvm.sh)"
		# The suite takes about a minute there; a guest stuck for ten is a failure.
		NESTED_KVM_TIMEOUT=${NESTED_KVM_TIMEOUT:-600} bash scripts/nested-kvm.sh bash "$0" "$B"
		rc=$?
		[ "$rc" -ne 69 ] && exit "$rc"
	fi
	echo "integration: the guest kernel under the VMM"
	fail "/dev/kvm is missing or not usable, and no nested KVM could be started: the integration tests need KVM"
	finish integration; exit 1
fi
echo "integration: the guest kernel under the VMM"

# --- the guest's own tests ----------------------------------------------------------
run ktest_all "$VMM" run --ktest
expect_status ktest_all 0
if grep -Eq '^[0-9]+ passed, 0 failed$' "$t_out/ktest_all.out"; then
	ok "ktest: $(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$t_out/ktest_all.out")"
	# Fold the guest's own test count into ours so the closing line covers them.
	n=$(grep -E '^[0-9]+ passed, 0 failed$' "$t_out/ktest_all.out" | tail -1 | cut -d' ' -f1)
	t_pass=$((t_pass + n - 1))
else
	fail "ktest closing line missing or has failures" "$(tail -n 20 "$t_out/ktest_all.out")"
fi

run ktest_none "$VMM" run --ktest=none
expect_status ktest_none 0

run ktest_some "$VMM" run --ktest=boot
expect_status ktest_some 0
if grep -q 'boot\.' "$t_out/ktest_some.out" && ! grep -q 'timer\.' "$t_out/ktest_some.out"; then
	ok "--ktest=boot runs the boot suite only"
else
	fail "--ktest=boot ran the wrong suites" "$(head -n 20 "$t_out/ktest_some.out")"
fi

# --trace-insns: the steps of a boot land in the file, and the profile script names where
# they went; a file that cannot be created is a usage error that leaves nothing behind.
# On this project's PVM machines every kernel-mode (CPL 0) instruction traps, so the trace
# covers the boot's CPL 0 path to the kernel's first CPL 3 instruction (the kernel itself
# runs at CPL 3, natively, untraced); where KVM single-steps with the trap flag (VT-x,
# SVM) a guest instruction that rewrites RFLAGS or a step the CPU model drops can end the
# trace early, so there only the PVH entry's first steps are required.
run trace_insns "$VMM" run --ktest=none --trace-insns "$t_out/insns"
expect_status trace_insns 0
prof=$(scripts/insn-profile.sh -n 100 "$K" "$t_out/insns" 2>&1)
total=$(echo "$prof" | sed -n 's/^\([0-9]*\) instructions$/\1/p')
if [ -d /sys/module/kvm_pvm ] && [ -z "${NESTED_KVM:-}" ]; then
	trace_min=30 trace_fns='pvh_entry32 entry64'
else
	trace_min=5 trace_fns='pvh_entry32'
fi
trace_ok=1
[ "${total:-0}" -gt "$trace_min" ] || trace_ok=0
for f in $trace_fns; do echo "$prof" | grep -Eq "^ +[0-9]+ $f\$" || trace_ok=0; done
if [ $trace_ok = 1 ]; then
	ok "--trace-insns: $total steps, profile names $trace_fns"
else
	fail "--trace-insns profile wrong" "$prof"
fi
run trace_bad "$VMM" run --ktest=none --trace-insns "$t_out/no/such/dir/insns"
expect_status trace_bad 64
[ ! -e "$t_out/no" ] && ok "--trace-insns to a bad path leaves nothing" ||
	fail "--trace-insns to a bad path left files"

# An unknown suite is a usage error the guest reports through the VMM, naming the suites.
run ktest_unknown "$VMM" run --ktest=no_such_suite
one_line ktest_unknown 64
grep -q "no suite or test 'no_such_suite'; known suites: .*boot" "$t_out/ktest_unknown.err" &&
	ok "unknown suite refused with the known suites" || fail "ktest_unknown message" "$(err ktest_unknown)"

# A guest panic is status 70, and the panic message reaches the console.
run panic "$VMM" run --ktest=none --append debug.panic=1
expect_status panic 70
grep -q 'panic:' "$t_out/panic.out" && ok "panic message printed" ||
	fail "no panic message" "$(tail -n 5 "$t_out/panic.out")"

# The same at the start of kmain, before the VM core: the message is printed once, no
# trap report, no recursion, status 70.
run panic_boot "$VMM" run --ktest=none --append debug.panic=boot
expect_status panic_boot 70
grep -q '^panic: debug.panic=boot' "$t_out/panic_boot.out" &&
	! grep -q 'trap: vector\|recursive' "$t_out/panic_boot.out" &&
	ok "panic early in the boot printed once and reported" ||
	fail "early panic not reported cleanly" "$(tail -n 8 "$t_out/panic_boot.out")"

# A program runs as the guest's first process and its exit status is vmm's
# (cases/52-workloads-guest.sh runs the workloads).
run program "$VMM" run "$B/user/exit" 42
expect_status program 42
[ ! -s "$t_out/program.err" ] && ok "program: nothing on stderr" || fail "program: stderr" "$(err program)"

# More memory boots too, including RAM above the PCI hole.
run mem1g "$VMM" run -m 1G --ktest=boot
expect_status mem1g 0
run mem5g "$VMM" run -m 5G --ktest=boot
expect_status mem5g 0

# The VM core's own suites against the guest's RAM with a blacklisted page: the page is
# reported at boot and the suites (which allocate most of memory) still pass.
run blacklist "$VMM" run -v -m 32M --append vm.blacklist=0x1234000 --ktest=phys,page
expect_status blacklist 0
grep -q 'blacklisted page 0x1234000' "$t_out/blacklist.out" && ok "blacklisted page reported at boot" ||
	fail "blacklisted page not reported" "$(grep -i blacklist "$t_out/blacklist.out" | head -3)"

# --- a kernel that triple-faults: 70 and a register dump -----------------------------
run triple "$VMM" run -k "$B/tests/bad-guest.elf" --ktest=none
one_line triple 70
# -v adds the whole vCPU state (segments, descriptor tables) after that line.
run triple_v "$VMM" run -v -k "$B/tests/bad-guest.elf" --ktest=none
[ "$rc" -eq 70 ] && grep -q '^vmm: .*guest triple fault' "$t_out/triple_v.err" &&
	grep -q '^vmm:   gdt base=' "$t_out/triple_v.err" && ok "triple fault with -v: the full vCPU state" ||
	fail "triple fault with -v: exit $rc" "$(err triple_v)"
# KVM on AMD SVM resets the vCPU before reporting a shutdown: there the report must say
# that its registers are the power-on state instead of showing the faulting ones.
if grep -qi 'triple fault' "$t_out/triple.err" && grep -qi 'rip' "$t_out/triple.err" &&
    grep -qi '7e57' "$t_out/triple.err"; then
	ok "triple fault reported with the registers"
elif grep -qi 'triple fault' "$t_out/triple.err" && grep -q 'rip=000000000000fff0' "$t_out/triple.err" &&
    grep -q 'KVM reset the vCPU before reporting the shutdown' "$t_out/triple.err"; then
	ok "triple fault reported; the report says this KVM reset the registers"
else
	fail "triple fault report incomplete" "$(cat "$t_out/triple.err")"
fi

# --- an instruction KVM cannot emulate: 70, the reason and the instruction bytes -----
run emulfail "$VMM" run -k "$B/tests/bad-guest.elf" --ktest=none --append int3
one_line emulfail 70
if grep -q 'KVM internal error' "$t_out/emulfail.err"; then
	# This machine's KVM (PLATFORM.md): the report names the suberror and shows int3.
	if grep -q 'suberror 1 (emulation failure)' "$t_out/emulfail.err" &&
	    grep -Eq 'bytes.*: cc( |$)' "$t_out/emulfail.err" &&
	    grep -q 'rax=0000000000001e57' "$t_out/emulfail.err"; then
		ok "emulation failure reported with reason, instruction bytes and registers"
	else
		fail "emulation failure report incomplete" "$(cat "$t_out/emulfail.err")"
	fi
elif grep -qi 'triple fault' "$t_out/emulfail.err" && grep -q '1e57' "$t_out/emulfail.err"; then
	ok "int3 with an empty IDT triple-faults where KVM emulates it"
elif grep -qi 'triple fault' "$t_out/emulfail.err" &&
    grep -q 'KVM reset the vCPU before reporting the shutdown' "$t_out/emulfail.err"; then
	ok "int3 with an empty IDT triple-faults; the report says this KVM reset the registers"
else
	fail "int3 kernel: no internal-error or triple-fault report" "$(cat "$t_out/emulfail.err")"
fi

# --- -v: the VMM's phases and the guest's milestones, each with a time -----------------
run verbose "$VMM" run -v --ktest=none
expect_status verbose 0
missing=""
for want in 'kvm: vm created' 'vcpu running' 'guest: entry' 'guest: kernel main' \
    'guest: ready' 'guest: exit' 'exit status 0'; do
	grep -Eq "^vmm: \[ *[0-9]+\.[0-9]+ ms\] $want" "$t_out/verbose.err" || missing="$missing '$want'"
done
[ -z "$missing" ] && ok "-v prints phases and milestones with times" ||
	fail "-v output lacks$missing" "$(cat "$t_out/verbose.err")"

# --- bad input: one line starting 'vmm:', the right status, nothing left behind -------
work=$(mktemp -d)
cp "$VMM" "$work/vmm"
run missing_kernel env --chdir="$work" ./vmm run -k /nonexistent/kernel.elf --ktest=none; one_line missing_kernel 66
head -c 100 "$K" >"$work/truncated.elf"
run truncated_kernel "$VMM" run -k "$work/truncated.elf" --ktest=none; one_line truncated_kernel 66
printf 'this is not an ELF file\n' >"$work/text.elf"
run text_kernel "$VMM" run -k "$work/text.elf" --ktest=none; one_line text_kernel 66
run no_default_kernel "$work/vmm" run --ktest=none; one_line no_default_kernel 66
run missing_program "$VMM" run /nonexistent/program; one_line missing_program 66
run bad_size "$VMM" run -m 12X --ktest=none; one_line bad_size 64
run tiny_size "$VMM" run -m 1K --ktest=none; one_line tiny_size 64
run smp "$VMM" run -c 2 --ktest=none; one_line smp 64
run bad_option "$VMM" run --no-such-option; one_line bad_option 64
run nothing_to_run "$VMM" run; one_line nothing_to_run 64
run no_command "$VMM"; [ "$rc" -eq 64 ] && ok "no command: exit 64" || fail "no command: exit $rc"

# scripts/nested-kvm.sh refuses bad usage with 64 and one line, before it fetches or boots.
nk_usage() { # NAME WANT-IN-MESSAGE ARGS...
	local name=$1 want=$2; shift 2
	run "$name" "$@"
	if [ "$rc" -eq 64 ] && [ "$(wc -l <"$t_out/$name.err")" -eq 1 ] &&
	    grep -q "^nested-kvm: .*$want" "$t_out/$name.err"; then
		ok "$name: exit 64, '$(cat "$t_out/$name.err")'"
	else
		fail "$name: exit $rc" "$(cat "$t_out/$name.err")"
	fi
}
nk_usage nested_no_command 'no command' bash scripts/nested-kvm.sh
nk_usage nested_bad_option "unknown option" bash scripts/nested-kvm.sh --no-such-option true
# --if-needed runs the command in place where a KVM is at hand (here, or in the nested
# guest), keeping its status and saying nothing.
run nested_if_needed env NESTED_KVM=1 bash scripts/nested-kvm.sh --if-needed sh -c 'echo in-place; exit 3'
[ "$rc" -eq 3 ] && [ "$(out nested_if_needed)" = in-place ] && [ ! -s "$t_out/nested_if_needed.err" ] &&
	ok "nested-kvm.sh --if-needed runs in place with KVM at hand (exit 3 kept)" ||
	fail "nested-kvm.sh --if-needed: exit $rc" "$(out nested_if_needed)" "$(err nested_if_needed)"
nk_usage nested_cache_outside 'inside the project tree' env NESTED_KVM_DIR="$work/nested" bash scripts/nested-kvm.sh true
rm -f "$work/vmm" "$work/truncated.elf" "$work/text.elf"
left=$(ls -A "$work")
[ -z "$left" ] && ok "nothing left on disk by failed runs" || fail "files left behind: $left"
rmdir "$work" 2>/dev/null

run help "$VMM" run --help
[ "$rc" -eq 0 ] && grep -q -- '--memory' "$t_out/help.out" && ok "run --help" || fail "run --help: exit $rc"
run version "$VMM" --version
[ "$rc" -eq 0 ] && [ -s "$t_out/version.out" ] && ok "--version: $(head -1 "$t_out/version.out")" ||
	fail "--version: exit $rc"

# --- the kernel avoids the instructions this machine's KVM cannot run in kernel mode --
# The CPL 0 code (the 32-bit entry, the trap stubs, and .cpl0.text: entry64 and the stubs'
# bodies) may use none of them; the rest of the kernel runs at CPL 3, where int3 is its
# request to the stubs and only int $n (#UD) and vmcall (a hang) are refused.
cpl0=$( (objdump -d --no-show-raw-insn -j .boot.text -j .trapstubs "$K"
	objdump -d --no-show-raw-insn --start-address=0x$(nm "$K" | awk '$3=="__cpl0_text_start"{print $1}') \
		--stop-address=0x$(nm "$K" | awk '$3=="__cpl0_text_end"{print $1}') "$K") | grep -c $'\t')
bad=$( (objdump -d --no-show-raw-insn -j .boot.text -j .trapstubs "$K"
	objdump -d --no-show-raw-insn --start-address=0x$(nm "$K" | awk '$3=="__cpl0_text_start"{print $1}') \
		--stop-address=0x$(nm "$K" | awk '$3=="__cpl0_text_end"{print $1}') "$K") |
	grep -E $'\t(int3|int |cmpxchg16b|xsave|xrstor|fxsave|fxrstor|stmxcsr|ldmxcsr|rdtscp|rdpid|vmcall)' | head -5)
bad3=$(objdump -d --no-show-raw-insn "$K" | grep -E $'\t(int |vmcall)' | head -5)
[ -z "$bad" ] && [ -z "$bad3" ] && [ "$cpl0" -gt 50 ] &&
	ok "kernel.elf: none of the forbidden instructions in its $cpl0 CPL 0 instructions" ||
	fail "forbidden instructions in kernel.elf (or no CPL 0 code found: $cpl0)" "$bad $bad3"

# --- topic suites: tests/integration/cases/*.sh, sourced in name order with this file's
# helpers ($VMM, $K, $B, run, ok, fail, expect_status, one_line) ---------------------
for f in "$(dirname "$0")"/cases/*.sh; do
	[ -e "$f" ] || continue
	echo "integration: $(basename "$f" .sh)"
	. "$f"
done

finish integration
