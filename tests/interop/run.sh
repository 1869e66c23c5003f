#!/usr/bin/env bash
# Interop: the same kernel.elf boots under QEMU's microvm, with TCG (an independent CPU
# model) and with KVM, and its ktest suites pass in both; and it runs the workloads as
# processes there (QEMU's -initrd is module 0, with no command line: argv is just a
# name, so the programs that need no argument). Under QEMU the isa-debug-exit
# device turns the guest's status S into the process status (S << 1) | 1.
# Usage: tests/interop/run.sh BUILD_DIR
set -u
B=${1:-build}
. "$(dirname "$(readlink -f "$0")")/../integration/lib.sh"
K="$B/kernel.elf"
QEMU=qemu-system-x86_64

echo "interop: kernel.elf under QEMU microvm"
if ! command -v "$QEMU" >/dev/null; then
	fail "$QEMU not found: run scripts/install-deps.sh (package qemu-system-x86)"
	finish interop; exit 1
fi

qemu_ktest() { # NAME ACCEL CPU [WRAPPER...]
	local name=$1 accel=$2 cpu=$3; shift 3
	T_TIMEOUT=300 run "$name" "$@" "$QEMU" -M microvm -accel "$accel" -cpu "$cpu" -m 128M -smp 1 \
		-nodefaults -no-user-config -nographic -serial stdio -display none \
		-kernel "$K" -append "ktest=all" \
		-device isa-debug-exit,iobase=0xf4,iosize=4
	local want=1    # guest status 0
	local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$t_out/$name.out" | tail -1)
	if [ "$rc" -eq "$want" ] && echo "$line" | grep -Eq '^[1-9][0-9]* passed, 0 failed'; then
		ok "$name: $line"
	else
		fail "$name: qemu exit $rc (want $want), closing line '$line'" \
			"$(tail -n 15 "$t_out/$name.out")" "$(tail -n 5 "$t_out/$name.err")"
	fi
}

qemu_ktest qemu_tcg tcg max

# The virtio-blk driver against QEMU's device (virtio-mmio version 2: QEMU offers the
# legacy version 1 unless told otherwise), a 16 MiB image made for the run and removed
# after it (in the build directory: a nested KVM sees the project tree, not our /tmp).
# microvm without ACPI has one IOAPIC and eight 512-byte windows from 0xfeb00000 with
# IRQs 5..12; QEMU puts the device behind one of them, the command line names all
# eight and the driver passes over the empty ones. ktest=blk fails without a device
# (qemu_blk_absent), so a pass here means the device tests ran.
qemu_blk_windows() {
	local i w=""
	for i in 0 1 2 3 4 5 6 7; do
		w="$w virtio_mmio.device=512@$(printf '0x%x' $((0xfeb00000 + 512 * i))):$((5 + i))"
	done
	echo "$w"
}
qemu_blk() { # NAME ACCEL CPU [WRAPPER...]
	local name=$1 accel=$2 cpu=$3; shift 3
	local img; img=$(mktemp "$(realpath "$B")/interop-blk.XXXXXX.img")
	truncate -s 16M "$img"
	T_TIMEOUT=300 run "$name" "$@" "$QEMU" -M microvm,acpi=off,auto-kernel-cmdline=off \
		-global virtio-mmio.force-legacy=false -accel "$accel" -cpu "$cpu" -m 128M \
		-smp 1 -nodefaults -no-user-config -nographic -serial stdio -display none \
		-kernel "$K" -append "ktest=blk$(qemu_blk_windows)" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-drive "file=$img,if=none,id=d0,format=raw" -device virtio-blk-device,drive=d0
	rm -f "$img"
	local line; line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$t_out/$name.out" | tail -1)
	local t missing=""
	for t in rw_pattern queue_full flush out_of_range sync_qd1; do
		grep -q "^ktest: blk.$t ... ok" "$t_out/$name.out" || missing="$missing $t"
	done
	if [ "$rc" -eq 1 ] && echo "$line" | grep -Eq '^[1-9][0-9]* passed, 0 failed' &&
		[ -z "$missing" ]; then
		ok "$name: $line, $(grep -o '[0-9]* requests, [0-9]* notifies, [0-9]* interrupts' "$t_out/$name.out")"
	else
		fail "$name: qemu exit $rc (want 1), closing line '$line', not ok:${missing:- none}" \
			"$(tail -n 15 "$t_out/$name.out")" "$(tail -n 5 "$t_out/$name.err")"
	fi
	[ ! -e "$img" ] || fail "$name: $img left behind"
}
qemu_blk qemu_blk_tcg tcg max
qemu_blk qemu_blk_kvm kvm host,-arch-capabilities bash scripts/nested-kvm.sh --if-needed
run qemu_blk_absent "$QEMU" -M microvm -accel tcg -cpu max -m 128M -smp 1 -nodefaults \
	-no-user-config -nographic -serial stdio -display none -kernel "$K" \
	-append "ktest=blk.rw_pattern" -device isa-debug-exit,iobase=0xf4,iosize=4
[ "$rc" -eq 3 ] && grep -q '^ktest: blk.rw_pattern ... FAILED (.*no virtio-blk device' "$t_out/qemu_blk_absent.out" &&
	ok "qemu_blk_absent: ktest=blk without a device fails and says why" ||
	fail "qemu_blk_absent: qemu exit $rc (want 3)" "$(tail -n 5 "$t_out/qemu_blk_absent.out")"

# Without the VMM's hostcall port a refused command-line word goes to COM1 and the
# guest exits 64 through the exit port: (64 << 1) | 1.
run qemu_usage "$QEMU" -M microvm -accel tcg -cpu max -m 128M -smp 1 -nodefaults \
	-no-user-config -nographic -serial stdio -display none -kernel "$K" \
	-append "ktest=none bogus" -device isa-debug-exit,iobase=0xf4,iosize=4
[ "$rc" -eq 129 ] && grep -q "^kernel: unknown kernel command-line word 'bogus'" "$t_out/qemu_usage.out" &&
	ok "qemu_usage: a refused word is printed on COM1, exit 64" ||
	fail "qemu_usage: qemu exit $rc (want 129)" "$(out qemu_usage)" "$(err qemu_usage)"
# Where the host has no usable /dev/kvm, QEMU with KVM runs inside a guest that has one.
kvm_usable || [ -n "${NESTED_KVM:-}" ] ||
	echo "interop: this host has no usable /dev/kvm: qemu_kvm runs in a nested KVM (scripts/nested-kvm.sh)"
qemu_ktest qemu_kvm kvm host,-arch-capabilities bash scripts/nested-kvm.sh --if-needed

# qemu_prog NAME ACCEL CPU PROGRAM PATTERN [WRAPPER...]: the program's status 0 (QEMU's
# exit 1) and its result line. Where syscall honours EFER.SCE (TCG, hardware KVM) it
# raises #UD itself; signals, fork, pipes and the user page tables as under the VMM.
qemu_prog() {
	local name=$1 accel=$2 cpu=$3 prog=$4 pat=$5; shift 5
	T_TIMEOUT=300 run "$name" "$@" "$QEMU" -M microvm -accel "$accel" -cpu "$cpu" -m 128M \
		-smp 1 -nodefaults -no-user-config -nographic -serial stdio -display none \
		-kernel "$K" -initrd "$B/user/$prog" -device isa-debug-exit,iobase=0xf4,iosize=4
	if [ "$rc" -eq 1 ] && grep -Eq "$pat" "$t_out/$name.out"; then
		ok "$name: $(grep -E "$pat" "$t_out/$name.out" | head -1)"
	else
		fail "$name: qemu exit $rc (want 1)" "$(tail -n 8 "$t_out/$name.out")"
	fi
}
qemu_prog qemu_tcg_enosys tcg max enosys '^enosys: .*ok'
qemu_prog qemu_tcg_mprot tcg max mprot '^mprot: .*ok'
qemu_prog qemu_tcg_kaddr tcg max kaddr '^kaddr: writes=([0-9]+) faults=\1 ok'
qemu_prog qemu_tcg_forkcow tcg max forkcow '^forkcow: parent: '
# The hot entries where the CPU is not kvm_pvm: the trampoline's #UD and its window's
# #DB (systramp), blocking pipes and interrupted sleeps.
qemu_prog qemu_tcg_systramp tcg max systramp '^systramp: pid=1 traps=1 ud2=sigill noncanonical=segv jumps=0 ok'
qemu_prog qemu_tcg_pipe tcg max pipe '^pipe: rounds='
qemu_prog qemu_tcg_eintr tcg max eintr '^eintr: .* ok in'
qemu_prog qemu_kvm_forkcow kvm host,-arch-capabilities forkcow '^forkcow: parent: ' \
	bash scripts/nested-kvm.sh --if-needed
qemu_prog qemu_kvm_kaddr kvm host,-arch-capabilities kaddr '^kaddr: writes=([0-9]+) faults=\1 ok' \
	bash scripts/nested-kvm.sh --if-needed
finish interop
