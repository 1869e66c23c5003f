# The smallest guest: -m refuses sizes below what the kernel and its self-tests need,
# naming the minimum (issue 8), and at the minimum every suite passes. Sourced by
# tests/integration/run.sh ($VMM, $K, run, ok, fail, expect_status, one_line).
mem_min_bytes=$((16 << 20))

# One page below the minimum, and the old minimum: refused before any VM exists.
run mem_below_min "$VMM" run -k "$K" -m $((mem_min_bytes - 4096)) --ktest=none
one_line mem_below_min 64
if grep -q "memory size '$((mem_min_bytes - 4096))' is too small: the guest needs at least 16M" \
    "$t_out/mem_below_min.err"; then
	ok "mem_below_min: the message names the minimum"
else
	fail "mem_below_min: the message does not name the minimum (16M)" "$(err mem_below_min)"
fi
run mem_2m "$VMM" run -k "$K" -m 2M --ktest
one_line mem_2m 64
grep -q "needs at least 16M" "$t_out/mem_2m.err" && ok "mem_2m: names the minimum" ||
	fail "mem_2m: does not name the minimum" "$(err mem_2m)"

# At the minimum: every suite, no failure.
T_TIMEOUT=300 run mem_min "$VMM" run -k "$K" -m 16M --ktest
expect_status mem_min 0
if grep -Eq '^[0-9]+ passed, 0 failed$' "$t_out/mem_min.out" &&
    ! grep -q 'FAILED' "$t_out/mem_min.out"; then
	ok "mem_min: $(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$t_out/mem_min.out")"
else
	fail "mem_min: --ktest at 16M" "$(grep -E 'FAILED|passed,|panic' "$t_out/mem_min.out" | tail -5)"
fi
