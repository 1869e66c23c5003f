#!/usr/bin/env bash
# make bench: every figure beside a reference measured in the same run, one BENCH line
# each (see docs/DESIGN.md), then a table for people. Never a pass/fail on time.
# Usage: scripts/bench.sh BUILD_DIR [PREFIX]     (PREFIX: only figures whose name starts so)
set -u
B=${1:-build}
ONLY=${2:-}
cd "$(dirname "$0")/.."
RUNS=${BENCH_RUNS:-41}
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT

# Where the host has no usable /dev/kvm the guest figures are measured in a nested KVM
# (scripts/nested-kvm.sh: Linux with kvm_amd under QEMU's TCG). They are then figures of
# that set-up, not of a host with KVM; each ratio still compares two runs of the same one.
KVMRUN=(bash scripts/nested-kvm.sh --if-needed)

want() { [ -z "$ONLY" ] || [[ "$1" == "$ONLY"* ]]; }
emit() { echo "$1" | tee -a "$lines"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
field() { echo "$1" | sed -E "s/.*$2=([0-9.]+).*/\1/"; }
# The KVM the guest figures run on (where KVMRUN runs them), asked once: every guest
# figure's line says it (kvm=...), since costs differ entirely between them.
KVM_KIND=
kvm_kind() {
	[ -n "$KVM_KIND" ] || KVM_KIND=$("${KVMRUN[@]}" sh -c 'for m in kvm_pvm kvm_intel kvm_amd; do
		[ -e /sys/module/$m ] && { echo $m; exit 0; }; done; echo kvm')
	echo "$KVM_KIND"
}

# boot.start: vmm run --ktest=none -m 64M against the bare KVM floor, interleaved.
if want boot.start || want kvm.floor; then
	r=$("${KVMRUN[@]}" "$B/tests/timecmd" "$RUNS" vmm -- "$B/vmm" run --ktest=none -m 64M ';;' \
		floor -- "$B/tests/kvm-floor") || { echo "bench: boot.start: a run failed" >&2; exit 1; }
	v=$(field "$(echo "$r" | grep ^vmm)" median_us); f=$(field "$(echo "$r" | grep ^floor)" median_us)
	emit "BENCH name=boot.start value=$(awk -v v="$v" 'BEGIN{printf "%.3f", v/1000}') unit=ms ref=kvm.floor refvalue=$(awk -v v="$f" 'BEGIN{printf "%.3f", v/1000}') ratio=$(ratio "$v" "$f") kvm=$(kvm_kind)"
fi

# boot.scale: the same boot with 1 GiB over 64 MiB.
if want boot.scale; then
	r=$("${KVMRUN[@]}" "$B/tests/timecmd" "$RUNS" big -- "$B/vmm" run --ktest=none -m 1G ';;' \
		small -- "$B/vmm" run --ktest=none -m 64M) || { echo "bench: boot.scale: a run failed" >&2; exit 1; }
	v=$(field "$(echo "$r" | grep ^big)" median_us); s=$(field "$(echo "$r" | grep ^small)" median_us)
	emit "BENCH name=boot.scale value=$(awk -v v="$v" 'BEGIN{printf "%.3f", v/1000}') unit=ms ref=boot.64M refvalue=$(awk -v v="$s" 'BEGIN{printf "%.3f", v/1000}') ratio=$(ratio "$v" "$s") kvm=$(kvm_kind)"
fi

# Host benchmarks of the VM core: each program prints its own BENCH lines.
for prog in "$B"/tests/bench_*; do
	[ -x "$prog" ] || continue
	"$prog" | grep '^BENCH' | while read -r l; do
		n=$(echo "$l" | sed -E 's/.*name=([^ ]+).*/\1/')
		want "$n" && emit "$l"
	done
done

# Instructions per operation on the host build, counted by callgrind: the guest's time
# here, where each kernel instruction is emulated.
insn_count() { # PROG OP: instructions inside bench_insn_loop for one run of OP
	local out; out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
		--toggle-collect=bench_insn_loop "$1" --insn "$2" 1 >/dev/null 2>&1
	grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
	rm -f "$out"
}
insn() { # NAME PROG OP N
	local name=$1 prog=$2 op=$3 n=$4 out
	want "$name" || return 0
	[ -x "$prog" ] || { echo "bench: $prog missing" >&2; return 0; }
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
		--toggle-collect=bench_insn_loop "$prog" --insn "$op" "$n" >/dev/null 2>&1
	local ir; ir=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
	rm -f "$out"
	[ -n "$ir" ] || { echo "bench: callgrind gave no count for $name" >&2; return 0; }
	emit "BENCH name=$name value=$(awk -v i="$ir" -v n="$n" 'BEGIN{printf "%.1f", i/n}') unit=insn"
}
insn uma.pair.insn "$B/tests/bench_uma" uma.pair 100000
insn phys.order0.insn "$B/tests/bench_phys" phys.order0 100000
insn page.zero.insn "$B/tests/bench_phys" page.zero 100000
insn page.zero.batch.insn "$B/tests/bench_phys" page.zero.batch 100000

# fork.insn.per.page: one vmspace_fork of a 16 MiB resident region (4096 pages) per
# page, beside the same fork of an empty map (whole, not per page).
if want fork.insn.per.page && command -v valgrind >/dev/null && [ -x "$B/tests/bench_fork" ]; then
	fi16=$(insn_count "$B/tests/bench_fork" fork.16m)
	fie=$(insn_count "$B/tests/bench_fork" fork.empty)
	[ -n "$fi16" ] && [ -n "$fie" ] && emit "BENCH name=fork.insn.per.page value=$(awk -v i="$fi16" 'BEGIN{printf "%.1f", i/4096}') unit=insn ref=fork.empty refvalue=$fie ratio=$(ratio "$fi16" "$fie")"
fi

# fault.zero.insn, fault.cow.insn: instructions per write fault (vm_fault through
# pmap_enter) of 1024 on a MADV_RANDOM private anonymous region (bench_fault.c), beside a
# bare vm_page_alloc_noobj(ZERO)+vm_page_free pair. Out of each count, by callgrind's
# inclusive cost per function: vm_plat_zero_pages (the VMM zeroing the pre-zeroed pool:
# one exit per fill on the guest) and pmap_copy_page (the goal excludes the copy). The
# host mutexes have the guest's shape (an inline compare-exchange to take, an exchange
# to leave: counted in the figure, as on the guest); NAME.mutex is what their
# out-of-line parts cost (mtx_trylock, the contended paths): 0 in this one-thread run.
# Also out, in the figure and in page.pair alike: the self cost of bf_run, the
# benchmark's own loop (its counter, the address, the call and the result's test, ~10
# a fault), which is not vm_fault's: the figure starts at vm_fault's first instruction.
fn_self() { # CALLGRIND_OUT REGEX: summed self cost of the functions named so
	callgrind_annotate --inclusive=no --threshold=100 "$1" 2>/dev/null |
		grep -E ":($2) \\[" | awk '{ gsub(",", "", $1); s += $1 } END { print s + 0 }'
}
# A function's inclusive cost is callgrind_annotate's line that names it by its absolute
# path and nothing after: that line has the code inlined into it from headers too
# (pmap_copy_page's two VM_PAGE_TO_DMAPs, ~25), which the "file:fn [object]" line,
# counted here until issue 9's second round, leaves out.
fn_incl() { # CALLGRIND_OUT REGEX: summed inclusive cost of the functions named so
	callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
		grep -E "^ *[0-9,]+ +\\([ 0-9.%]+\\) +/[^ ]*:($2)\$" |
		awk '{ gsub(",", "", $1); s += $1 } END { print s + 0 }'
}
fault_insn() { # NAME OP EXCLUDE_REGEX
	local name=$1 op=$2 ex=$3 n=1024 out ir x mu v vm pr
	want "$name" || return 0
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
		--toggle-collect=bench_insn_loop "$B/tests/bench_fault" --insn "$op" "$n" >/dev/null 2>&1
	ir=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
	x=$(( $(fn_incl "$out" "$ex") + $(fn_self "$out" bf_run) )); mu=$(fn_incl "$out" 'mtx_lock|mtx_unlock|mtx_trylock|vm_host_mtx_[a-z_]+')
	rm -f "$out"
	[ -n "$ir" ] || { echo "bench: callgrind gave no count for $name" >&2; return 0; }
	out=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
		--toggle-collect=bench_insn_loop "$B/tests/bench_fault" --insn page.pair "$n" >/dev/null 2>&1
	pr=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
	pr=$(awk -v i="$pr" -v x="$(( $(fn_incl "$out" vm_plat_zero_pages) + $(fn_self "$out" bf_run) ))" -v n="$n" 'BEGIN{printf "%.1f", (i-x)/n}')
	rm -f "$out"
	v=$(awk -v i="$ir" -v x="$x" -v n="$n" 'BEGIN{printf "%.1f", (i-x)/n}')
	vm=$(awk -v m="$mu" -v n="$n" 'BEGIN{printf "%.1f", m/n}')
	emit "BENCH name=$name value=$v unit=insn ref=page.pair.insn refvalue=$pr ratio=$(ratio "$v" "$pr")"
	emit "BENCH name=$name.mutex value=$vm unit=insn ref=$name refvalue=$v ratio=$(ratio "$vm" "$v")"
}
if command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null &&
    [ -x "$B/tests/bench_fault" ]; then
	fault_insn fault.zero.insn fault.zero 'vm_plat_zero_pages'
	fault_insn fault.cow.insn fault.cow 'vm_plat_zero_pages|pmap_copy_page'
fi

# pageout.insn: instructions per page paged out by the page daemon and the laundry
# (bench_pageout.c: 1024 dirty anonymous pages from the inactive queue through the
# inactive scan, the laundry's clustered putpages to a pager that writes nothing, and
# the scan that frees them), beside a vm_page_alloc_noobj(ZERO)+vm_page_free pair of the
# same program, both counted as fault_insn counts (less the platform's zeroing and the
# benchmark's own loop).
# swap.out.insn (issue 11's goal: at most 120 a page): the same paging-out through the real
# swap pager onto an in-memory device (bench_pageout swapout), less the device's own
# instructions (the self cost of tests/support/swap_memdev.c's smd_* functions: its page
# copies, which a real device makes by DMA, and its bookkeeping; the pager's completion
# they call is counted), beside the same page.pair.
if { want pageout.insn || want swap.out.insn; } && command -v valgrind >/dev/null &&
    command -v callgrind_annotate >/dev/null && [ -x "$B/tests/bench_pageout" ]; then
	po_count() { # OP: instructions inside bench_insn_loop for OP over 1024 pages, less
		# bp_run's own loop and the platform's zeroing (as fault_insn counts page.pair),
		# and the in-memory device's own work
		local out ir; out=$(mktemp)
		valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
			--toggle-collect=bench_insn_loop "$B/tests/bench_pageout" --insn "$1" 1024 >/dev/null 2>&1
		ir=$(grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}')
		[ -n "$ir" ] && echo $(( ir - $(fn_incl "$out" vm_plat_zero_pages) - $(fn_self "$out" bp_run) -
			$(fn_self "$out" 'smd_[a-z_]+|__mem(cpy|move)_[a-z0-9_]+') ))
		rm -f "$out"
	}
	pp=$(po_count page.pair)
	per_page() { awk -v i="$1" 'BEGIN{printf "%.1f", i/1024}'; }
	if want pageout.insn; then
		pi=$(po_count pageout)
		[ -n "$pi" ] && [ -n "$pp" ] && emit "BENCH name=pageout.insn value=$(per_page "$pi") unit=insn ref=page.pair.insn refvalue=$(per_page "$pp") ratio=$(ratio "$pi" "$pp")"
	fi
	if want swap.out.insn; then
		si=$(po_count swapout)
		[ -n "$si" ] && [ -n "$pp" ] && emit "BENCH name=swap.out.insn value=$(per_page "$si") unit=insn ref=page.pair.insn refvalue=$(per_page "$pp") ratio=$(ratio "$si" "$pp")"
	fi
fi

# Processes (issue 10): the workloads in the guest against the floors measured in the same
# run by tests/bench/floor_probe.c (a minimal guest: int3 to a one-instruction CPL 0
# handler, trap.floor; a user #PF whose 13-instruction CPL 0 handler writes the PTE,
# fault.floor). Each line says which KVM ran it; the same program natively on this host
# is printed beside, for the record (NAME.host).
proc_field() { echo "$1" | sed -nE "s/.*$2=([0-9.]+).*/\1/p" | head -1; }
if { want fault.zero || want fault.seq || want fault.cow || want syscall.getpid ||
    want pipe.pingpong || want trap.floor || want fault.floor; } && [ -x "$B/tests/floor-probe" ] &&
    [ -x "$B/vmm" ]; then
	fl=$("${KVMRUN[@]}" "$B/tests/floor-probe" 11) || { echo "bench: floor-probe failed" >&2; exit 1; }
	kind=$(kvm_kind)
	trap_f=$(proc_field "$fl" trap_us); fault_f=$(proc_field "$fl" fault_us)
	proc_bench() { # NAME FIELD REF REFVALUE PROGRAM ARGS...
		local name=$1 field=$2 ref=$3 refv=$4 out v h; shift 4
		want "$name" || return 0
		out=$("${KVMRUN[@]}" "$B/vmm" run "$B/user/$@" 2>/dev/null) || { echo "bench: $name: the guest run failed" >&2; return 0; }
		v=$(proc_field "$out" "$field")
		emit "BENCH name=$name value=$v unit=us ref=$ref refvalue=$refv ratio=$(ratio "$v" "$refv") kvm=$kind"
		h=$(proc_field "$("$B/user-host/$@")" "$field")
		emit "BENCH name=$name.host value=$h unit=us ref=$name refvalue=$v ratio=$(ratio "$h" "$v")"
	}
	proc_bench fault.zero us_per_page fault.floor "$fault_f" touch 32 rand
	proc_bench fault.seq us_per_page fault.floor "$fault_f" touch 32 seq
	proc_bench fault.cow us_per_page fault.floor "$fault_f" forkcow 16 all
	proc_bench syscall.getpid us_per_call trap.floor "$trap_f" getpid 2000
	proc_bench pipe.pingpong us_per_round_trip trap.floor "$trap_f" pipe 300
fi

# Swap (issue 11): a 32 MiB guest paging to a file through virtio-blk and io_uring, beside
# raw io_uring on the same file in the same run (tests/bench/uring_ref.c), both through
# the host's page cache (vmm run's default; --swap-direct would compare with the device).
#   swap.out       MiB/s of the sequential fill of 4x RAM (swapbench), ref uring.seqwrite
#   swap.in        us per major fault of random single-word reads over it (swapbench),
#                  ref uring.randread.qd1 (4 KiB reads at queue depth 1)
#   swap.in.direct the same with the file O_DIRECT on both sides, ref
#                  uring.randread.qd1.direct
#   swap.verify4x  MiB/s of swapstress's write-then-verify of 4x RAM (two passes), ref
#                  uring.seqwrite
if { want swap. || want uring.; } && [ -x "$B/vmm" ] && [ -x "$B/tests/uring-ref" ]; then
	kind=$(kvm_kind)
	sdir=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench-swap.XXXXXX")
	sfile=$sdir/bench.swap
	useq=$("$B/tests/uring-ref" seqwrite "$sfile" 128 | awk '{print $2}')
	urand=$("$B/tests/uring-ref" randread "$sfile" 4000 | awk '{print $2}')
	emit "BENCH name=uring.seqwrite value=$useq unit=MiB/s"
	emit "BENCH name=uring.randread.qd1 value=$urand unit=us"
	if want swap.out || want swap.in; then
		out=$("${KVMRUN[@]}" "$B/vmm" run -m 32M -s "$sfile" "$B/user/swapbench" 128 2000 2>/dev/null) ||
			echo "bench: swapbench: the guest run failed" >&2
		v=$(proc_field "$out" out_mib_per_s); i=$(proc_field "$out" in_us_per_majflt)
		[ -n "$v" ] && emit "BENCH name=swap.out value=$v unit=MiB/s ref=uring.seqwrite refvalue=$useq ratio=$(ratio "$v" "$useq") kvm=$kind"
		[ -n "$i" ] && emit "BENCH name=swap.in value=$i unit=us ref=uring.randread.qd1 refvalue=$urand ratio=$(ratio "$i" "$urand") kvm=$kind"
	fi
	# The same page-ins with the file opened O_DIRECT on both sides (--swap-direct,
	# uring-ref direct): against the device rather than the page cache, for the record.
	if want swap.in.direct; then
		udrand=$("$B/tests/uring-ref" randread "$sfile" 4000 direct | awk '{print $2}')
		emit "BENCH name=uring.randread.qd1.direct value=$udrand unit=us"
		out=$("${KVMRUN[@]}" "$B/vmm" run -m 32M -s "$sfile" --swap-direct "$B/user/swapbench" 128 2000 2>/dev/null) ||
			echo "bench: swapbench --swap-direct: the guest run failed" >&2
		i=$(proc_field "$out" in_us_per_majflt)
		[ -n "$i" ] && [ -n "$udrand" ] && emit "BENCH name=swap.in.direct value=$i unit=us ref=uring.randread.qd1.direct refvalue=$udrand ratio=$(ratio "$i" "$udrand") kvm=$kind"
	fi
	if want swap.verify4x; then
		out=$("${KVMRUN[@]}" "$B/vmm" run -m 32M -s "$sfile" "$B/user/swapstress" 128 2 2>/dev/null) ||
			echo "bench: swapstress: the guest run failed" >&2
		v=$(proc_field "$out" mib_per_s)
		[ -n "$v" ] && emit "BENCH name=swap.verify4x value=$v unit=MiB/s ref=uring.seqwrite refvalue=$useq ratio=$(ratio "$v" "$useq") kvm=$kind"
	fi
	rm -rf "$sdir"
fi

# The guest's own figures: it prints BENCH lines from its bench suite.
if want page.zero && [ -x "$B/vmm" ]; then
	kind=$(kvm_kind)
	"${KVMRUN[@]}" "$B/vmm" run -m 256M --ktest=bench 2>/dev/null | grep '^BENCH' | while read -r l; do emit "$l kvm=$kind"; done
fi

echo
printf '%-26s %12s %-6s %-26s %12s %8s\n' figure value unit reference refvalue ratio
while read -r l; do
	g() { echo "$l" | grep -oE "(^| )$1=[^ ]+" | cut -d= -f2; }
	printf '%-26s %12s %-6s %-26s %12s %8s\n' "$(g name)" "$(g value)" "$(g unit)" \
		"$(g ref)" "$(g refvalue)" "$(g ratio)"
done <"$lines"
