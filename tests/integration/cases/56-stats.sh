# --stats: a swap workload in a 32 MiB guest watched every 0.2 s. The summary at exit has
# the swap device's requests and latency percentiles; the periodic lines (stderr and the
# --stats-log file) come from the vmmeter snapshot the guest publishes (vm.stats_ms), and
# scripts/plot-stats turns the log into a PNG. The exit status stays the program's.
# Sourced by run.sh.

st_dir=$(mktemp -d)

# A --stats line: time and nine numbers (docs/stats.md).
st_line_re='^ *[0-9]+\.[0-9]( +[0-9]+\.[0-9]){6}( +[0-9]+){3}$'

# st_row NAME ROW: the numbers of the summary's row ROW ("    ROW  n n ..."), or nothing.
st_row() {
	sed -n "s/^    $2  *\([0-9].*\)$/\1/p" "$t_out/$1.err" | head -n 1
}

rm -f "$st_dir/st.swap"
T_TIMEOUT=180 run stats_swap "$VMM" run --stats=0.2 --stats-log "$st_dir/st.log" -m 32M \
	-s "$st_dir/st.swap" "$B/user/swapstress" 64 2
expect_status stats_swap 0

if grep -q '^vmm: stats summary$' "$t_out/stats_swap.err"; then
	ok "stats_swap: summary at exit"
else
	fail "stats_swap: no summary on stderr" "$(tail -n 5 "$t_out/stats_swap.err")"
fi

# Swap requests both ways, and their latencies: p50 <= p90 <= p99 <= max, all > 0, one
# entry per request.
for dir in read write; do
	reqs=$(st_row stats_swap "${dir}s" | awk '{print $1}')
	lat=$(st_row stats_swap "$dir")
	if [ -n "$reqs" ] && [ "$reqs" -gt 0 ] && [ -n "$lat" ] &&
		echo "$lat" | awk -v n="$reqs" '{ exit !(NF == 5 && $1 > 0 && $1 <= $2 && $2 <= $3 && $3 <= $4 && $5 == n) }'; then
		ok "stats_swap: $reqs swap ${dir}s, latency p50 p90 p99 max (us) count: $lat"
	else
		fail "stats_swap: swap ${dir}s or their latency missing" "requests: '${reqs:-}'" "latency: '${lat:-}'" \
			"$(grep -A 12 '^vmm: stats summary' "$t_out/stats_swap.err" | tail -n 11)"
	fi
done
per=$(st_row stats_swap "per submit" | awk '{print $1}')
if [ -n "$per" ] && awk -v p="$per" 'BEGIN { exit !(p >= 1) }'; then
	ok "stats_swap: $per requests per io_uring submit"
else
	fail "stats_swap: no requests-per-submit figure" "'${per:-}'"
fi

# The periodic lines: needs the guest to publish its vmmeter (vm.stats_ms). A 64 MiB
# workload at 0.2 s gives several; at least one must be there, with the header first.
nlines=$(grep -Ec "$st_line_re" "$t_out/stats_swap.err")
if [ "$nlines" -gt 0 ] && grep -Eq '^ *time_s +free_M' "$t_out/stats_swap.err"; then
	ok "stats_swap: $nlines periodic lines on stderr"
else
	fail "stats_swap: no periodic --stats line on stderr (does the guest publish its vmmeter?)" \
		"$(grep -v '^    ' "$t_out/stats_swap.err" | head -n 5)"
fi
# The swap was used: the highest swap use the summary saw is above 0.
swap_hi=$(st_row stats_swap "swap used" | awk '{print $3}')
if [ -n "$swap_hi" ] && awk -v s="$swap_hi" 'BEGIN { exit !(s > 0) }'; then
	ok "stats_swap: the guest's swap use peaked at $swap_hi MiB"
else
	fail "stats_swap: no swap use in the summary" "$(grep -A 8 '^vmm: stats summary' "$t_out/stats_swap.err")"
fi
nlog=$(grep -Ec "$st_line_re" "$st_dir/st.log" 2>/dev/null)
if [ "${nlog:-0}" -eq "$nlines" ] && [ "$nlog" -gt 0 ] && head -n 1 "$st_dir/st.log" | grep -q '^# *time_s'; then
	ok "stats_swap: --stats-log has the same $nlog lines"
else
	fail "stats_swap: --stats-log has ${nlog:-no} lines, stderr $nlines" "$(head -n 3 "$st_dir/st.log" 2>&1)"
fi
# The plot of that log.
if plot=$(scripts/plot-stats "$st_dir/st.log" "$st_dir/st.png" 2>&1) &&
	[ "$(head -c 8 "$st_dir/st.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
	ok "plot-stats: $plot"
else
	fail "plot-stats made no PNG" "$plot"
fi

# The exit status is the program's, with the summary all the same.
rm -f "$st_dir/st.swap"
run stats_status "$VMM" run --stats=0.2 -s "$st_dir/st.swap" "$B/user/exit" 7
if [ "$rc" -eq 7 ] && grep -q '^vmm: stats summary$' "$t_out/stats_status.err"; then
	ok "stats_status: exit 7, the program's, with the summary"
else
	fail "stats_status: exit $rc (want 7 and a summary)" "$(tail -n 5 "$t_out/stats_status.err")"
fi

# Bad values are usage errors: one line, 64, nothing run.
for v in 0 abc 0.05 1e3; do
	run "stats_bad_$v" "$VMM" run "--stats=$v" --ktest=none
	one_line "stats_bad_$v" 64
done
run stats_log_alone "$VMM" run --stats-log "$st_dir/x.log" --ktest=none
one_line stats_log_alone 64
[ ! -e "$st_dir/x.log" ] && ok "stats_log_alone: no log file left" || fail "stats_log_alone: left $st_dir/x.log"

rm -rf "$st_dir"
