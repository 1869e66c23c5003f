# Out of memory without swap: the page daemon finds nothing to free or clean, and the
# process with the most resident pages is killed (SIGKILL, status 137) after one line
# naming it; the kernel neither hangs nor panics, and the VMM exits cleanly with the
# program's status. Sourced by run.sh.

# oom_line NAME PROG: exactly one report, naming pid 1 and the program, then its kill.
oom_line() {
	local name=$1 prog=$2
	local n
	n=$(grep -Ec "^out of memory: killed pid [0-9]+ \\($prog\\), [0-9]+ resident pages$" "$t_out/$name.out")
	if [ "$n" -eq 1 ] && grep -Eq "^out of memory: killed pid 1 \\($prog\\), [0-9]+ resident pages$" "$t_out/$name.out" &&
		grep -Eq "^pid 1 \\($prog\\): killed by signal 9 " "$t_out/$name.out"; then
		ok "$name: $(grep '^out of memory: ' "$t_out/$name.out")"
	else
		fail "$name: want one out-of-memory report for pid 1 ($prog), got $n" "$(tail -c 600 "$t_out/$name.out")"
	fi
}

# Twice the RAM: killed part way, having written some of it.
T_TIMEOUT=60 vmm_status oom_memhog 137 -m 32M "$B/user/memhog" 64
oom_line oom_memhog memhog
grep -q '^memhog: 8 MiB written$' "$t_out/oom_memhog.out" && ! grep -q 'checked ok' "$t_out/oom_memhog.out" &&
	ok "oom_memhog: it ran, and did not finish" || fail "oom_memhog: progress lines" "$(out oom_memhog)"

# The same with -v: after the kill every page is free again, and the daemon's counters
# (printed at the end) show the one kill and nothing freed (no swap: nothing is clean).
T_TIMEOUT=60 run oom_memhog_v "$VMM" run -v -m 32M "$B/user/memhog" 64
expect_status oom_memhog_v 137
no_page_leaked oom_memhog_v
grep -Eq '^vm_pageout: passes=[1-9][0-9]* .* freed=0 .* laundered=0 unlaunderable=[1-9][0-9]* oom_kills=1$' "$t_out/oom_memhog_v.out" &&
	ok "oom_memhog_v: $(grep '^vm_pageout: ' "$t_out/oom_memhog_v.out")" ||
	fail "oom_memhog_v: counters" "$(grep '^vm_pageout' "$t_out/oom_memhog_v.out")"

# Half the RAM fits: no kill, every stamp checked, no page leaked (-v: the count of free
# pages before and after the program; the VMM's own lines go to stderr).
T_TIMEOUT=60 run oom_fits "$VMM" run -v -m 32M "$B/user/memhog" 16
expect_status oom_fits 0
grep -q '^memhog: 16 MiB written and checked ok$' "$t_out/oom_fits.out" &&
	! grep -q '^out of memory' "$t_out/oom_fits.out" && ok "oom_fits: no kill" ||
	fail "oom_fits: killed or unchecked" "$(tail -c 600 "$t_out/oom_fits.out")"
no_page_leaked oom_fits
grep -Eq '^vm_pageout: .* oom_kills=0$' "$t_out/oom_fits.out" && ok "oom_fits: no kill counted" ||
	fail "oom_fits: counters" "$(grep '^vm_pageout' "$t_out/oom_fits.out")"

# churn's default sizes in 64 MiB without swap used to hang the guest: now the kill.
T_TIMEOUT=120 vmm_status oom_churn 137 -m 64M "$B/user/churn"
oom_line oom_churn churn

# The largest process is a forked child that wrote over (copy-on-write) its parent's
# pages first: the child is killed, its parent sees signal 9 from waitpid, its own pages
# untouched by the child's end, and the run ends normally.
T_TIMEOUT=60 vmm_status oom_fork 0 -m 32M "$B/user/memhog" 64 8 fork
n=$(grep -c '^out of memory: ' "$t_out/oom_fork.out")
[ "$n" -eq 1 ] && grep -Eq '^out of memory: killed pid 2 \(memhog\), [0-9]+ resident pages$' "$t_out/oom_fork.out" &&
	grep -q "^memhog: child 2 killed by signal 9; the parent's 4 MiB intact$" "$t_out/oom_fork.out" &&
	ok "oom_fork: the child killed, the parent intact" || fail "oom_fork" "$(tail -c 600 "$t_out/oom_fork.out")"
