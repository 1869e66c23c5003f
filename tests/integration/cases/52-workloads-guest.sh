# The workloads (guest/user, static musl) as the guest's first process: exec from module
# 0, user mode, page faults through vm_fault, the system calls they use, exit statuses,
# SIGSEGV's one-line report; signal handlers; kernel memory out of a process's reach;
# fork, wait4 and pipes: every workload of guest/user. Sourced by run.sh.

vmm_status wg_exit0 0 "$B/user/exit" 0
vmm_status wg_exit77 77 "$B/user/exit" 77
vmm_status wg_exit255 255 "$B/user/exit" 255
# A program's own failure is its status, its message on the console.
vmm_status wg_exit_usage 1 "$B/user/exit"
grep -q '^exit: FAIL: usage' "$t_out/wg_exit_usage.out" && ok "wg_exit_usage: its message reached the console" ||
	fail "wg_exit_usage: no message" "$(out wg_exit_usage)"
# A null store: SIGSEGV, 139, and one line naming the process, the address and rip.
vmm_status wg_segv 139 "$B/user/segv"
grep -Eq '^pid 1 \(segv\): killed by signal 11 \(no mapping\) at address 0, rip 0x[0-9a-f]+$' "$t_out/wg_segv.out" &&
	ok "wg_segv: the one-line report" || fail "wg_segv: report" "$(out wg_segv)"
# Unknown system calls: -ENOSYS, the program carries on.
vmm_status wg_enosys 0 "$B/user/enosys"
grep -q '^enosys: .*ok' "$t_out/wg_enosys.out" && ok "wg_enosys: ENOSYS seen" || fail "wg_enosys" "$(out wg_enosys)"
# Zero-fill faults in order and at random, each page verified; the break grown and shrunk.
vmm_status wg_touch_seq 0 "$B/user/touch" 4 seq
vmm_status wg_touch_rand 0 "$B/user/touch" 4 rand
vmm_status wg_brk 0 "$B/user/brk"
for w in touch_seq touch_rand brk; do
	grep -Eq '^(touch|brk): .*' "$t_out/wg_$w.out" || fail "wg_$w: no result line" "$(out "wg_$w")"
done

# mprotect and munmap: faults where they belong, each caught by a SA_SIGINFO SIGSEGV
# handler (Linux's signal frame; siglongjmp out), si_addr and si_code checked.
vmm_status wg_mprot 0 "$B/user/mprot"
grep -q '^mprot: .*ok' "$t_out/wg_mprot.out" && ok "wg_mprot: every fault where it belongs" ||
	fail "wg_mprot" "$(out wg_mprot)"
# Kernel memory is out of reach: a process's root maps none of it but the stubs' pages,
# supervisor-only (and the syscall trampoline, read-only). kaddr stores to every address
# the kernel uses, catching each SIGSEGV; then to each address alone, one run each.
vmm_status wg_kaddr_all 0 "$B/user/kaddr"
grep -Eq '^kaddr: writes=([0-9]+) faults=\1 ok' "$t_out/wg_kaddr_all.out" &&
	ok "wg_kaddr_all: every store to a kernel address faulted" || fail "wg_kaddr_all" "$(out wg_kaddr_all)"
# The syscall trampoline is the one kernel page a process may run. Jumping to it is a
# system call like `syscall`; with TF set too, the kernel is entered single-stepping and
# its entry must still make the call and return without TF; a program's own ud2, with
# TF and without, takes the same entry and is SIGILL at the ud2 (systramp.c). Two of
# these land in the entry's window (TF).
run wg_systramp "$VMM" run -v "$B/user/systramp"
[ "$rc" -eq 0 ] && grep -q '^systramp: pid=1 traps=1 ud2=sigill noncanonical=segv jumps=0 ok' "$t_out/wg_systramp.out" &&
	grep -q "^proc: traps in the system call's entry window: 2$" "$t_out/wg_systramp.out" &&
	ok "wg_systramp: a jump to the trampoline, with TF (its #DB in the entry's window) and without" ||
	fail "wg_systramp" "$(out wg_systramp)"
# A program that jumps into the kernel's entry code itself is not taken for the entry:
# each jump faults there, SIGSEGV, and no window trap is counted.
wg_kentries=$(nm "$B/kernel.elf" | awk '$3 ~ /^(syscall_kentry|syscall_kentry_sp|pf_kentry|kret_insn)$/ { printf " 0x%s", $1 }')
# shellcheck disable=SC2086
run wg_systramp_jumps "$VMM" run -v "$B/user/systramp" $wg_kentries
[ "$rc" -eq 0 ] && grep -q '^systramp: pid=1 traps=1 ud2=sigill noncanonical=segv jumps=4 ok' "$t_out/wg_systramp_jumps.out" &&
	grep -q "^proc: traps in the system call's entry window: 2$" \
	    "$t_out/wg_systramp_jumps.out" &&
	ok "wg_systramp_jumps: jumps to the kernel's entries fault where they land" ||
	fail "wg_systramp_jumps" "$(out wg_systramp_jumps)"
wg_bad=""
for a in 0xffffffff80000000 0xffffffff80100000 0xffffffff80101000 0xffffffff80102000 \
    0xffff808000000000 0xffff808000100000 0xffffff0000000000 0xffffffffc0000000 \
    0xfffffffffffff000; do
	"$VMM" run "$B/user/kaddr" "$a" >"$t_out/wg_kaddr.out" 2>"$t_out/wg_kaddr.err" </dev/null
	st=$?
	[ "$st" -eq 0 ] && grep -q '^kaddr: writes=1 faults=1 ok' "$t_out/wg_kaddr.out" ||
		wg_bad="$wg_bad $a:$st"
done
[ -z "$wg_bad" ] && ok "wg_kaddr: a store to each kernel address alone faults" ||
	fail "wg_kaddr: did not fault:$wg_bad" "$(cat "$t_out/wg_kaddr.out")"

# fork, exit and wait4, 100 times: each child sees the parent's memory copy-on-write and
# exits with a status the parent checks; at the end the kernel reports its free pages
# (settled: caches emptied) after pid 1 against before it: nothing leaked.
run wg_fork_loop "$VMM" run -v "$B/user/forkcow" loop 100
if [ "$rc" -eq 0 ] && grep -Eq '^forkcow: loop' "$t_out/wg_fork_loop.out"; then
	ok "wg_fork_loop: 100 fork/exit cycles"
else
	fail "wg_fork_loop: exit $rc" "$(grep -v '^vmm:' "$t_out/wg_fork_loop.out" | tail -5)"
fi
wg_pages=$(sed -nE 's/^proc: ([0-9]+) pages free after pid 1, ([0-9]+) before it$/\1 \2/p' "$t_out/wg_fork_loop.out")
read -r wg_after wg_before <<<"$wg_pages"
[ -n "${wg_after:-}" ] && [ "$wg_after" = "$wg_before" ] &&
	ok "wg_fork_loop: no page leaked ($wg_after free after, $wg_before before)" ||
	fail "wg_fork_loop: pages after/before: '${wg_pages}'" "$(grep 'proc:' "$t_out/wg_fork_loop.out")"

# Copy-on-write both ways after fork (half the pages, then all), the two processes taking
# turns through pipes; a byte ping-ponged through two pipes (blocking reads and writes,
# end of file when the child exits).
vmm_status wg_forkcow_half 0 "$B/user/forkcow" 8 half
vmm_status wg_forkcow_all 0 "$B/user/forkcow" 4 all
grep -q '^forkcow: parent: mode=all' "$t_out/wg_forkcow_all.out" && grep -q '^forkcow: child: mode=all' "$t_out/wg_forkcow_all.out" &&
	ok "wg_forkcow_all: both sides checked" || fail "wg_forkcow_all" "$(out wg_forkcow_all)"
vmm_status wg_pipe 0 "$B/user/pipe" 500
grep -q '^pipe: rounds=500 ' "$t_out/wg_pipe.out" && ok "wg_pipe: 500 round trips" || fail "wg_pipe" "$(out wg_pipe)"

# argv and envp from the command line, as the program sees them: every -e/--env string
# in order (duplicates too) after argv; a bare NAME takes the host's value, an unset one
# adds nothing, and no other host variable reaches the program. Blanks, control bytes
# and '%' travel escaped (devices/pvh_args.h) and arrive as they were.
run wg_env env -u VMM_TC_UNSET VMM_TC_HOST='from the host' "$VMM" run -e A=1 \
	--env 'B=two  words' --env=VMM_TC_HOST -e VMM_TC_UNSET -e 'C=50%' -e $'N=one\ntwo\tx' \
	-e A=2 -e E= "$B/user/printenv" 'x y' % -e $'\x7f'
wg_env_want="printenv: argc=5
printenv: argv[0]=$B/user/printenv
printenv: argv[1]=x y
printenv: argv[2]=%
printenv: argv[3]=-e
printenv: argv[4]=\\x7f
printenv: env[0]=A=1
printenv: env[1]=B=two  words
printenv: env[2]=VMM_TC_HOST=from the host
printenv: env[3]=C=50%
printenv: env[4]=N=one\\x0atwo\\x09x
printenv: env[5]=A=2
printenv: env[6]=E=
printenv: envc=7"
if [ "$rc" -eq 0 ] && [ ! -s "$t_out/wg_env.err" ] && [ "$(out wg_env)" = "$wg_env_want" ]; then
	ok "wg_env: argv and the 7 --env strings arrive exactly, in order"
else
	fail "wg_env: exit $rc" "$(diff <(echo "$wg_env_want") "$t_out/wg_env.out")" "$(err wg_env)"
fi
run wg_env_none "$VMM" run "$B/user/printenv"
[ "$rc" -eq 0 ] && [ "$(out wg_env_none)" = "printenv: argc=1
printenv: argv[0]=$B/user/printenv
printenv: envc=0" ] && ok "wg_env_none: without --env the environment is empty" ||
	fail "wg_env_none: exit $rc" "$(out wg_env_none)" "$(err wg_env_none)"

# The smaller calls a program leans on (nanosleep, gettimeofday, getrandom, prlimit64,
# getrusage, uname, mlock, mremap, readv; waitid and SIGCHLD), each checked as on Linux.
vmm_status wg_sysinfo 0 "$B/user/sysinfo"
grep -q '^sysinfo: .* ok$' "$t_out/wg_sysinfo.out" && ok "wg_sysinfo: $(head -1 "$t_out/wg_sysinfo.out")" ||
	fail "wg_sysinfo" "$(out wg_sysinfo)"

# Signals end blocked system calls as on Linux (eintr.c): a pipe read and wait4 return
# EINTR under a handler without SA_RESTART and carry on under one with it; nanosleep
# returns EINTR with the time left; SIGTERM's default action and SIGKILL end a child
# blocked in read at once, and a blocked or ignored signal does not wake it. A sleep no
# signal ends would hang here: the run has 30 s.
T_TIMEOUT=30 vmm_status wg_eintr 0 "$B/user/eintr"
grep -q '^eintr: .* ok in ' "$t_out/wg_eintr.out" && ok "wg_eintr: $(grep '^eintr: ' "$t_out/wg_eintr.out")" ||
	fail "wg_eintr" "$(out wg_eintr)"
grep -Eq '^pid [0-9]+ \(eintr\): killed by signal 15 \(sent\)' "$t_out/wg_eintr.out" &&
	grep -Eq '^pid [0-9]+ \(eintr\): killed by signal 9 \(sent\)' "$t_out/wg_eintr.out" &&
	ok "wg_eintr: the children blocked in read killed by SIGTERM and SIGKILL" ||
	fail "wg_eintr: no kill reports" "$(out wg_eintr)"

# getrusage tells user time from system time (cputime.c): a spin in user mode is user
# time, system calls and faults add system time, a reaped child's time is
# RUSAGE_CHILDREN's and not its parent's.
vmm_status wg_cputime 0 "$B/user/cputime"
grep -q '^cputime: .* ok$' "$t_out/wg_cputime.out" && ok "wg_cputime: $(grep '^cputime: ' "$t_out/wg_cputime.out")" ||
	fail "wg_cputime" "$(out wg_cputime)"
