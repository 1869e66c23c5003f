# The workloads (guest/user) natively on this host, in both builds: the static musl
# programs the guest is to run (Linux runs them as they are) and the gcc ones. Each
# verifies what it wrote and on a mismatch exits non-zero with one "NAME: FAIL:" line.
# 52-workloads-guest.sh runs those the guest kernel can run so far under the VMM.
# Sourced by tests/integration/run.sh.
wl_work=$(mktemp -d)

# wl_run BUILD NAME STATUS ARGS...: status as wanted; a clean exit prints its result line
# and nothing on stderr. In a scratch directory with no core files (segv dies on purpose).
wl_run() {
	local dir=$1 name=$2 want=$3; shift 3
	local what="${dir##*/}/$name${*:+ $*}" id
	id=$(printf 'wl_%s' "$what" | tr -c 'A-Za-z0-9_' _)
	# Not exec: a program killed by a signal is reported by this inner shell, into its
	# .err file, instead of by the suite's own shell.
	run "$id" bash -c 'cd "$1" && ulimit -c 0 && shift && { "$@"; exit $?; }' wl "$wl_work" \
		"$(realpath "$dir/$name")" "$@"
	if [ "$rc" -ne "$want" ]; then
		fail "$what: exit $rc, want $want" "$(tail -n 3 "$t_out/$id.err")"
	elif [ "$want" -eq 0 ] && [ "$name" != exit ] &&
	    { [ -s "$t_out/$id.err" ] || ! grep -q "^$name: " "$t_out/$id.out"; }; then
		fail "$what: exit 0 but no result line, or a complaint" \
			"$(head -n 3 "$t_out/$id.out")" "$(head -n 3 "$t_out/$id.err")"
	else
		ok "$what: exit $rc $(head -n 2 "$t_out/$id.out" | paste -sd' ')"
	fi
}

for wl_dir in "$B/user" "$B/user-host"; do
	while read -r wl_name wl_want wl_args; do
		# shellcheck disable=SC2086
		wl_run "$wl_dir" "$wl_name" "$wl_want" $wl_args
	done <<'LIST'
touch 0 16 seq
touch 0 16 rand
forkcow 0 8 half
forkcow 0 8 all
forkcow 0 loop 100
mprot 0
sysinfo 0
churn 0
brk 0
pipe 0 2000
eintr 0
cputime 0
idle 0 50
enosys 0
kaddr 0
printenv 0 a b
swapstress 0 64 3
swapstress 0 32 3 fork
swapbench 0 64 1000
exit 0 0
exit 42 42
exit 255 255
segv 139
LIST
done

# A failure is one line on stderr that says what went wrong, and status 1.
run wl_usage "$B/user/touch" 1 sideways
[ "$rc" -eq 1 ] && [ "$(wc -l <"$t_out/wl_usage.err")" -eq 1 ] &&
	grep -q "^touch: FAIL: mode 'sideways': use seq or rand$" "$t_out/wl_usage.err" &&
	ok "a workload's failure: exit 1, one line ('$(err wl_usage)')" ||
	fail "a workload's failure: exit $rc" "$(err wl_usage)"

# The guest's builds are what exec will take: static, no interpreter.
wl_dynamic=$(for f in "$B"/user/*; do readelf -lW "$f" | grep -q INTERP && echo "$f"; done)
[ -z "$wl_dynamic" ] && ok "every build/user program is static" ||
	fail "dynamic programs in build/user" "$wl_dynamic"
[ -z "$(ls -A "$wl_work")" ] && ok "the workloads left nothing behind" ||
	fail "the workloads left files" "$(ls -A "$wl_work")"
rm -rf "$wl_work"
