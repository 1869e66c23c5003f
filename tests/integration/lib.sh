# Shared helpers for the shell test suites: each check prints one line, "ok" or "FAIL",
# and the suite ends with "<suite>: N passed, N failed".
t_pass=0
t_fail=0
t_out=$(mktemp -d)
trap 'rm -rf "$t_out"' EXIT

ok()   { t_pass=$((t_pass + 1)); echo "  ok    $1"; }
fail() { t_fail=$((t_fail + 1)); echo "  FAIL  $1"; shift; for l in "$@"; do echo "        $l"; done; }

# run NAME CMD...: runs CMD with a time limit, leaves status in $rc, output in $t_out/NAME.{out,err}
run() {
	local name=$1; shift
	timeout --kill-after=5 "${T_TIMEOUT:-120}" "$@" >"$t_out/$name.out" 2>"$t_out/$name.err" </dev/null
	rc=$?
}
out() { cat "$t_out/$1.out"; }
err() { cat "$t_out/$1.err"; }

# expect NAME STATUS: the last run's status
expect_status() {
	if [ "$rc" -eq "$2" ]; then ok "$1 (exit $rc)"; else
		fail "$1: exit $rc, want $2" "stdout: $(tail -c 600 "$t_out/$1.out")" "stderr: $(tail -c 600 "$t_out/$1.err")"; fi
}

# vmm_status NAME STATUS ARGS...: `vmm run ARGS` exits STATUS with nothing on stderr.
vmm_status() {
	local name=$1 want=$2; shift 2
	run "$name" "$VMM" run "$@"
	if [ "$rc" -eq "$want" ] && [ ! -s "$t_out/$name.err" ]; then
		ok "$name: exit $rc"
	else
		fail "$name: exit $rc (want $want)" "$(tail -c 400 "$t_out/$name.out")" "$(err "$name")"
	fi
}

# no_page_leaked NAME: a -v run's kernel found as many free pages after pid 1 as before.
no_page_leaked() {
	local line
	line=$(grep -E '^proc: [0-9]+ pages free after pid 1, [0-9]+ before it$' "$t_out/$1.out")
	if [ -n "$line" ] && [ "$(echo "$line" | awk '{print $2}')" = "$(echo "$line" | awk '{print $8}')" ]; then
		ok "$1: no page leaked ($line)"
	else
		fail "$1: pages leaked" "$line"
	fi
}

# kvm_usable: this host has a /dev/kvm we may open for reading and writing.
kvm_usable() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

one_line() { # NAME STATUS: stderr is exactly one line starting with vmm:
	local n; n=$(wc -l <"$t_out/$1.err")
	if [ "$rc" -eq "$2" ] && [ "$n" -eq 1 ] && head -c 4 "$t_out/$1.err" | grep -q '^vmm:'; then
		ok "$1: exit $2, '$(cat "$t_out/$1.err")'"
	else
		fail "$1: exit $rc (want $2), $n stderr lines" "$(cat "$t_out/$1.err")"
	fi
}

finish() {
	echo "$1: $t_pass passed, $t_fail failed"
	[ "$t_fail" -eq 0 ]
}
