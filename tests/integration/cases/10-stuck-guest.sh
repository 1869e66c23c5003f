# A guest that stops or stalls without saying so ends the run with 70 and one line; a
# signal ends a run whatever the guest prints and whoever (not) reads it.
# Sourced by tests/integration/run.sh (its helpers and $VMM, $B).
BG="$B/tests/bad-guest.elf"

first_line() { head -n 1 "$t_out/$1.err"; }
stuck() { # NAME WANT-IN-FIRST-LINE WANT-RAX ARGS...: exit 70, one vmm: line, registers
	local name=$1 want=$2 rax=$3; shift 3
	run "$name" "$@"
	local n; n=$(wc -l <"$t_out/$name.err")
	if [ "$rc" -eq 70 ] && [ "$n" -eq 1 ] && first_line "$name" | grep -q "^vmm: .*$want" &&
	    first_line "$name" | grep -q "rip=[0-9a-f]\{16\} .*rax=0*$rax "; then
		ok "$name: exit 70, '$(first_line "$name" | cut -c1-110)...'"
	else
		fail "$name: exit $rc (want 70), $n stderr lines" "$(cat "$t_out/$name.err")"
	fi
}
# cli; hlt: caught at the first tick, whatever the watchdog's setting.
stuck stuck_halt 'halted with interrupts masked' 4a17 "$VMM" run -k "$BG" --ktest=none --watchdog=0 --append halt
# No exit and no heartbeat for the watchdog's time: spinning, or waiting for nothing.
stuck stuck_spin 'no progress for 1 s.*running' 5919 "$VMM" run -k "$BG" --ktest=none --watchdog=1 --append spin
stuck stuck_idle 'no progress for 1 s.*halted waiting for an interrupt' 1d1e "$VMM" run -k "$BG" --ktest=none --watchdog=1 --append idle
# Exits nobody answers are no progress; nor are single steps.
stuck stuck_poke 'no progress for 1 s.*running' 90ff "$VMM" run -k "$BG" --ktest=none --watchdog=1 --append poke
stuck stuck_traced 'no progress for 1 s' 5919 "$VMM" run -k "$BG" --ktest=none --watchdog=1 --append spin --trace-insns "$t_out/spin.trace"
[ -s "$t_out/spin.trace" ] && ok "the stuck guest's trace was kept" || fail "no trace of the stuck guest"
# The watchdog leaves a guest that prints alone, however short its time.
run watchdog_busy "$VMM" run --ktest=boot --watchdog=3
expect_status watchdog_busy 0
run watchdog_bad "$VMM" run --ktest=none --watchdog=-1; one_line watchdog_bad 64
grep -q 'whole seconds from 0' "$t_out/watchdog_bad.err" && ok "--watchdog=-1 says what it takes" ||
	fail "--watchdog=-1 message" "$(err watchdog_bad)"

# A signal while the console's pipe is full: the run ends at once with 128+N, the
# blocked write abandoned. The FIFO is opened read-write here and never read.
signal_full_pipe() { # NAME SIGNAL STATUS
	local name=$1 sig=$2 want=$3 fifo="$t_out/$1.fifo" i wchan=""
	mkfifo "$fifo"
	exec 3<>"$fifo"
	"$VMM" run -k "$BG" --ktest=none --append flood >&3 2>"$t_out/$name.err" </dev/null &
	local pid=$!
	for i in $(seq 50); do  # until the pipe is full and vmm waits in write()
		wchan=$(cat /proc/$pid/wchan 2>/dev/null)
		case "$wchan" in *pipe*) break ;; esac
		sleep 0.1
	done
	kill -s "$sig" "$pid"
	for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"; wait "$pid" 2>/dev/null
		fail "$name: still running 3 s after SIG$sig (was waiting in '$wchan')"
	else
		wait "$pid"; rc=$?
		case "$wchan" in
		*pipe*) [ "$rc" -eq "$want" ] && ok "$name: SIG$sig with stdout full: exit $rc at once" ||
			fail "$name: exit $rc, want $want" "$(err "$name")" ;;
		*) fail "$name: vmm never blocked on its full stdout (wchan '$wchan')" ;;
		esac
	fi
	exec 3>&-
	rm -f "$fifo"
}
signal_full_pipe full_pipe_term TERM 143
signal_full_pipe full_pipe_int INT 130
