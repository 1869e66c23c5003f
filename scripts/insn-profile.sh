#!/bin/bash
# insn-profile.sh: where the guest kernel's instructions went, from a `vmm run
# --trace-insns FILE` trace (one instruction address per line), summed by function.
#
# Usage: scripts/insn-profile.sh [-n TOP] KERNEL TRACE
#   KERNEL  the kernel.elf that ran (its symbols name the addresses)
#   TRACE   the file --trace-insns wrote
# Prints the total and the TOP (default 25) functions by instruction count. Here, where
# KVM emulates guest kernel mode an instruction at a time (~1.6 us each) and runs user
# mode natively, only kernel-mode instructions are stepped, so the count is the time.
set -euo pipefail

top=25
if [ "${1:-}" = "-n" ]; then
	top=$2
	shift 2
fi
if [ $# -ne 2 ]; then
	echo "usage: scripts/insn-profile.sh [-n TOP] KERNEL TRACE" >&2
	exit 64
fi
kernel=$1 trace=$2
[ -r "$kernel" ] || { echo "insn-profile: $kernel: cannot read it" >&2; exit 66; }
[ -r "$trace" ] || { echo "insn-profile: $trace: cannot read it" >&2; exit 66; }
command -v nm >/dev/null || { echo "insn-profile: nm (binutils) is missing" >&2; exit 71; }

# Addresses become offsets into the kernel's first GiB: the high half (KERNBASE
# 0xffffffff80000000 + pa) and the physical addresses the 32-bit entry runs at are the
# same offsets. 32-bit values keep awk's doubles exact.
nm -n "$kernel" | awk -v top="$top" -v trace="$trace" '
function hexval(s,    i, v, c) {
	v = 0
	for (i = 1; i <= length(s); i++) {
		c = index("0123456789abcdef", tolower(substr(s, i, 1)))
		if (c == 0)
			return -1
		v = v * 16 + c - 1
	}
	return v
}
function offset(a) {
	sub(/^0x/, "", a)
	if (length(a) == 16 && substr(a, 1, 8) == "ffffffff")
		return hexval(substr(a, 9)) - 2147483648
	if (length(a) <= 8)
		return hexval(a)
	return -1
}
$2 ~ /^[tTwW]$/ {
	o = offset($1)
	if (o >= 0) {
		n++
		addr[n] = o
		name[n] = $3
	}
}
END {
	while ((getline line < trace) > 0) {
		total++
		o = offset(line)
		lo = 1; hi = n; f = 0
		while (lo <= hi) {
			mid = int((lo + hi) / 2)
			if (addr[mid] <= o) { f = mid; lo = mid + 1 } else hi = mid - 1
		}
		fn = (o < 0 || f == 0) ? "(outside the kernel)" : name[f]
		count[fn]++
	}
	printf "%d instructions\n", total
	for (fn in count)
		printf "%8d %s\n", count[fn], fn | "sort -rn | head -n " top
}'
