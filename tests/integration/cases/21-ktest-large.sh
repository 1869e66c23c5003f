# The memory-heavy suites in a large guest (issue 8: they used to walk every page at
# emulated kernel-mode speed: 49 s at 1 GiB, the phys suite alone 540 s at 8 GiB). 4 GiB
# puts RAM on both sides of the PCI hole, so the direct map above 4 GiB is used too.
# Asserts no failure, never a time. Sourced by tests/integration/run.sh.
T_TIMEOUT=300 run ktest_4g "$VMM" run -k "$K" -m 4G --ktest=phys,page,malloc,uma,boot
expect_status ktest_4g 0
if grep -Eq '^[0-9]+ passed, 0 failed$' "$t_out/ktest_4g.out" &&
    grep -q '^ktest: suite phys: [1-9][0-9]* passed, 0 failed' "$t_out/ktest_4g.out" &&
    ! grep -q 'FAILED' "$t_out/ktest_4g.out"; then
	ok "ktest_4g: $(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$t_out/ktest_4g.out")"
else
	fail "ktest_4g: --ktest at 4G" "$(grep -E 'FAILED|passed,|panic' "$t_out/ktest_4g.out" | tail -5)"
fi
