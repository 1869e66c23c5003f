# The command lines (the VMM's options and the guest kernel's words) drop nothing without
# a word: every refusal is exit 64 with one `vmm:` line, whether the VMM or the guest
# (through the hostcall port's usage report) refused. Sourced by run.sh.

# usage NAME WANT CMD...: exit 64, one `vmm:` line on stderr, and it contains WANT.
usage() {
	local name=$1 want=$2; shift 2
	run "$name" "$@"
	one_line "$name" 64
	grep -qF -- "$want" "$t_out/$name.err" && ok "$name: says '$want'" ||
		fail "$name: stderr lacks '$want'" "$(head -n 2 "$t_out/$name.err")"
}

# ran NAME SUITE.TEST: the run printed that test's ok line.
ran() { grep -q "^ktest: $2 \.\.\. ok" "$t_out/$1.out"; }

# --- --ktest names: suites, suite.test, unknown ones, all/none ----------------------
usage ktest_bogus "no suite or test 'bogus'" "$VMM" run --ktest=bogus
grep -q 'known suites: .*boot.*uma' "$t_out/ktest_bogus.err" && ok "ktest_bogus lists the known suites" ||
	fail "ktest_bogus: no list of suites" "$(err ktest_bogus)"
usage ktest_bogus_test "no suite or test 'boot.no_such_test'" "$VMM" run --ktest=boot.no_such_test
# The whole list is checked before anything runs.
usage ktest_bogus_late "no suite or test 'bogus'" "$VMM" run --ktest=printf,bogus
! grep -q '^ktest: ' "$t_out/ktest_bogus_late.out" && ok "nothing ran before the bad name was refused" ||
	fail "tests ran before the bad name was refused" "$(head -n 3 "$t_out/ktest_bogus_late.out")"

run ktest_one_test "$VMM" run --ktest=boot.cmdline,printf
expect_status ktest_one_test 0
if ran ktest_one_test boot.cmdline && ! ran ktest_one_test boot.memmap && ran ktest_one_test printf.integers &&
    grep -q '^[0-9]* passed, 0 failed$' "$t_out/ktest_one_test.out"; then
	ok "--ktest=boot.cmdline,printf runs one boot test and the printf suite"
else
	fail "--ktest=boot.cmdline,printf ran the wrong tests" "$(head -n 12 "$t_out/ktest_one_test.out")"
fi

usage ktest_all_none "must stand alone" "$VMM" run --ktest=all,none
usage ktest_all_boot "must stand alone" "$VMM" run --ktest=boot,all
usage append_all_none "must stand alone" "$VMM" run --append ktest=none,boot

# --- --ktest= and ktest= mean the same ------------------------------------------------
usage ktest_empty "--ktest=" "$VMM" run --ktest=
usage append_ktest_empty "ktest= needs" "$VMM" run --append ktest=
usage append_ktest_bare "ktest= needs" "$VMM" run --append ktest
usage append_ktest_comma "empty name" "$VMM" run --append ktest=boot,,printf
usage ktest_space "--ktest=none" "$VMM" run --ktest none
usage ktest_space_all "--ktest=all" "$VMM" run --ktest all

# --- --ktest with a PROGRAM: tests first, then the program ---------------------------
run ktest_none_program "$VMM" run --ktest=none "$B/user/exit" 5
expect_status ktest_none_program 5
run ktest_then_program "$VMM" run --ktest=boot.cmdline "$B/user/exit" 6
expect_status ktest_then_program 6
ran ktest_then_program boot.cmdline &&
	ok "--ktest=SUITES PROGRAM runs the tests, then the program" ||
	fail "--ktest=SUITES PROGRAM" "$(out ktest_then_program)"
run ktest_fails_no_program "$VMM" run --ktest=boot.cmdline --append debug.panic=1 "$B/user/exit" 6
expect_status ktest_fails_no_program 70

# --- --append: every one kept, in order ----------------------------------------------
# verbose (the second) is what puts the blacklist report (the first) on the console.
run append_twice "$VMM" run --ktest=none --append vm.blacklist=0x1234000 --append verbose
expect_status append_twice 0
grep -q 'blacklisted page 0x1234000' "$t_out/append_twice.out" && ok "both --append words reached the guest" ||
	fail "a repeated --append was dropped" "$(out append_twice | head -n 5)"

# --- the number of words: the VMM refuses what the guest would drop -------------------
dev=virtio_mmio.device=4K@0xd0000000:5
words31=$(for i in $(seq 31); do printf '%s ' "$dev"; done)
run words_32 "$VMM" run --ktest=none --append "$words31"
expect_status words_32 0
usage words_33 "at most 32 words" "$VMM" run --ktest=none --append "$words31 $dev"

# --- vm.blacklist: garbage, empty elements, overflow ---------------------------------
usage blacklist_garbage "vm.blacklist=garbage" "$VMM" run --ktest=none --append vm.blacklist=garbage
usage blacklist_empty "empty element" "$VMM" run --ktest=none --append vm.blacklist=0x1234000,,0x2000000
usage blacklist_nothing "vm.blacklist= needs a value" "$VMM" run --ktest=none --append vm.blacklist=
usage blacklist_overflow "too large" "$VMM" run --ktest=none --append vm.blacklist=0x10000000000001000
usage blacklist_trailing "not an address" "$VMM" run --ktest=none --append vm.blacklist=0x1000g

# --- repeated keys and unknown words --------------------------------------------------
usage ktest_twice "'ktest' given twice" "$VMM" run --ktest=none --append ktest=boot
usage blacklist_twice "'vm.blacklist' given twice" "$VMM" run --ktest=none \
	--append vm.blacklist=0x1234000 --append vm.blacklist=0x2000000
usage unknown_word "unknown kernel command-line word 'bogus'" "$VMM" run --ktest=none --append bogus
grep -q 'known: ktest=.*verbose.*vm.blacklist=.*virtio_mmio.device=' "$t_out/unknown_word.err" &&
	ok "unknown_word lists the known words" || fail "unknown_word: no list" "$(err unknown_word)"
usage verbose_value "'verbose' takes no value" "$VMM" run --ktest=none --append verbose=1
usage panic_value "debug.panic=2" "$VMM" run --ktest=none --append debug.panic=2
run virtio_word "$VMM" run --ktest=none --append "$dev $dev"
expect_status virtio_word 0

# --- -e/--env: a bad name, an environment with no program, more than the guest takes --
usage env_no_name "--env '=1': the variable has no name" "$VMM" run -e =1 "$B/user/printenv"
usage env_empty "--env '': the variable has no name" "$VMM" run --env '' "$B/user/printenv"
usage env_newline "the variable's name has a newline" "$VMM" run -e $'A\nB=1' "$B/user/printenv"
usage env_no_program "--env A: there is no PROGRAM" "$VMM" run --ktest=none -e A=1
usage env_too_long "longer than 4095 bytes once encoded" "$VMM" run \
	-e "A=$(printf '%04000d' 0)" -e "B=$(printf '%0100d' 0)" "$B/user/printenv"
usage env_too_many "the guest takes at most 128" "$VMM" run \
	$(for i in $(seq 128); do printf -- '-e V%d=1 ' "$i"; done) "$B/user/printenv"
usage arg_empty "argument 1 is empty" "$VMM" run "$B/user/printenv" ''
