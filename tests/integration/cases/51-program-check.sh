# vmm run PROGRAM: the VMM checks PROGRAM is a static x86-64 ELF before the guest starts
# (vmm/program_check.c). A program it cannot run is exit 66 with one line,
# "vmm: PROGRAM: reason"; a good one still reaches the guest, which says it cannot run
# programs yet (64). Sourced by tests/integration/run.sh.
pc_work=$(mktemp -d)
pc_static="$B/user/exit"

# pc_refused NAME FILE TEXT: exit 66, one line "vmm: FILE: ...", and it holds TEXT.
pc_refused() {
	run "$1" "$VMM" run "$2" 7
	one_line "$1" 66
	[ "$(head -c $((${#2} + 7)) "$t_out/$1.err")" = "vmm: $2: " ] &&
		grep -qF -- "$3" "$t_out/$1.err" && ok "$1 names the file and says '$3'" ||
		fail "$1: not 'vmm: $2: ...$3...'" "$(err "$1")"
}

# pc_patch FILE OFFSET BYTES...: overwrite bytes of FILE (given as octal escapes).
pc_patch() {
	local f=$1 off=$2; shift 2
	printf "$@" | dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# --- good programs reach the guest -----------------------------------------------------
run pc_static "$VMM" run "$pc_static" 0
expect_status pc_static 0
# Every workload passes the check: the guest boots (and is stopped by debug.panic=1
# before it runs the program: this is the check's test, not the program's).
pc_bad=""
for f in "$B"/user/*; do
	"$VMM" run --append debug.panic=1 "$f" >/dev/null 2>"$t_out/pc_each.err" </dev/null
	[ $? -eq 70 ] && grep -q "debug.panic=1" "$t_out/pc_each.err" || pc_bad="$pc_bad $f"
done
[ -z "$pc_bad" ] && ok "every build/user program passes the check" ||
	fail "refused:$pc_bad" "$(cat "$t_out/pc_each.err")"
# build/vmm is a static PIE (ET_DYN without an interpreter).
run pc_static_pie "$VMM" run --append debug.panic=1 "$VMM" --version
one_line pc_static_pie 70
grep -q "debug.panic=1" "$t_out/pc_static_pie.err" &&
	ok "a static PIE passes the check" || fail "a static PIE was refused" "$(err pc_static_pie)"

# --- programs it cannot run ---------------------------------------------------------
pc_refused pc_dynamic "$B/user-host/exit" "PROGRAM is dynamically linked; build it with musl-gcc -static"
pc_refused pc_dynamic_bin /bin/true "PROGRAM is dynamically linked; build it with musl-gcc -static"
head -c 3000 "$pc_static" >"$pc_work/truncated"
pc_refused pc_truncated "$pc_work/truncated" "lie beyond the end of the file"
head -c 40 "$pc_static" >"$pc_work/header"
pc_refused pc_header "$pc_work/header" "truncated ELF header (40 of 64 bytes)"
cp "$pc_static" "$pc_work/elf32"
pc_patch "$pc_work/elf32" 4 '\001'                          # EI_CLASS: ELFCLASS32
pc_refused pc_32bit "$pc_work/elf32" "a 32-bit ELF (ELFCLASS32); build it for x86-64"
cp "$pc_static" "$pc_work/arm"
pc_patch "$pc_work/arm" 18 '\267\000'                       # e_machine: EM_AARCH64
pc_refused pc_machine "$pc_work/arm" "built for AArch64 (ELF machine 183), not x86-64"
printf 'int f(void) { return 1; }\n' >"$pc_work/f.c"
cc -c -o "$pc_work/f.o" "$pc_work/f.c"
pc_refused pc_object "$pc_work/f.o" "an object file (ET_REL), not a program"
printf '#!/bin/sh\nexit 0\n' >"$pc_work/script"
pc_refused pc_script "$pc_work/script" "a script (#!), not a program"
: >"$pc_work/empty"
pc_refused pc_empty "$pc_work/empty" "empty file, not a program"
pc_refused pc_kernel "$K" "beyond the user address space"

# Found before the VM exists: -v shows the refusal and no KVM phase before it.
run pc_before_boot "$VMM" run -v "$B/user-host/exit"
[ "$rc" -eq 66 ] && grep -q 'dynamically linked' "$t_out/pc_before_boot.err" &&
	! grep -q 'kvm:\|vcpu\|guest:' "$t_out/pc_before_boot.err" &&
	ok "the check comes before the VM is made" ||
	fail "pc_before_boot: exit $rc" "$(err pc_before_boot)"

rm -f "$pc_work"/{truncated,header,elf32,arm,f.c,f.o,script,empty}
[ -z "$(ls -A "$pc_work")" ] && ok "refused programs left nothing behind" ||
	fail "files left behind" "$(ls -A "$pc_work")"
rmdir "$pc_work"
