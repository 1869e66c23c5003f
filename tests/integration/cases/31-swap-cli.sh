# vmm run -s FILE: the swap disk's file. Created sparse when missing (--swap-size, else 4x
# the guest's memory), used as it is when present; a directory, a file smaller than a
# page, a path that cannot be created, the kernel itself: exit 64 with one `vmm:` line,
# before the guest starts and with nothing left behind. The device itself (virtio-blk on
# io_uring) is tested without a guest in tests/unit/test_virtio_blk.c, including the
# fault-injection switch VMM_BLK_FAIL_EVERY=N / VMM_BLK_FAIL_OP=read|write
# (docs/virtio.md). Sourced by run.sh.

sw=$(mktemp -d)

# --- created sparse, 4x memory by default; -v reports the device -----------------------
run swap_create "$VMM" run -v -m 32M -s "$sw/new.swap" --ktest=none
expect_status swap_create 0
size=$(stat -c %s "$sw/new.swap" 2>/dev/null || echo 0)
blocks=$(stat -c %b "$sw/new.swap" 2>/dev/null || echo -1)
[ "$size" -eq $((128 << 20)) ] && [ "$blocks" -ge 0 ] && [ "$blocks" -le 8 ] &&
	ok "-s creates FILE sparse at 4x memory ($size bytes, $blocks blocks)" ||
	fail "-s FILE: size $size, $blocks blocks (want $((128 << 20)), sparse)"
grep -q 'swap: virtio-blk at 0xd0000000, IRQ 5' "$t_out/swap_create.err" &&
	grep -q 'virtio-blk: 0 requests' "$t_out/swap_create.err" &&
	ok "-v names the device and ends with its counters" ||
	fail "-v lacks the device's lines" "$(grep -i virtio "$t_out/swap_create.err")"
[ "$(stat -c %a "$sw/new.swap")" = 600 ] && ok "a created swap file is private (0600)" ||
	fail "created swap file mode $(stat -c %a "$sw/new.swap")"

# --- --swap-size; an existing file is used as it is -------------------------------------
run swap_size "$VMM" run -s "$sw/sized.swap" --swap-size 3M --ktest=none
expect_status swap_size 0
[ "$(stat -c %s "$sw/sized.swap")" -eq $((3 << 20)) ] && ok "--swap-size 3M makes a 3 MiB file" ||
	fail "--swap-size 3M: $(stat -c %s "$sw/sized.swap") bytes"
head -c 8192 /dev/urandom >"$sw/old.swap"
sum=$(md5sum <"$sw/old.swap")
run swap_existing "$VMM" run -s "$sw/old.swap" --swap-size 1G --ktest=none
expect_status swap_existing 0
[ "$(stat -c %s "$sw/old.swap")" -eq 8192 ] && [ "$(md5sum <"$sw/old.swap")" = "$sum" ] &&
	ok "an existing FILE is used as it is (size and bytes kept)" ||
	fail "existing swap file changed: $(stat -c %s "$sw/old.swap") bytes"

# --- refusals: 64, one line, before the guest ---------------------------------------
swap_usage() { # NAME WANT CMD...
	local name=$1 want=$2; shift 2
	run "$name" "$@"
	one_line "$name" 64
	grep -qF -- "$want" "$t_out/$name.err" && ok "$name: says '$want'" ||
		fail "$name: stderr lacks '$want'" "$(head -n 2 "$t_out/$name.err")"
	! grep -q '^kernel:' "$t_out/$name.out" && ok "$name: refused before the guest started" ||
		fail "$name: the guest ran" "$(head -n 3 "$t_out/$name.out")"
}
mkdir "$sw/dir"
swap_usage swap_dir "is a directory" "$VMM" run -s "$sw/dir" --ktest=none
head -c 100 /dev/zero >"$sw/tiny.swap"
swap_usage swap_tiny "less than one page" "$VMM" run -s "$sw/tiny.swap" --ktest=none
swap_usage swap_nodir "cannot create it" "$VMM" run -s "$sw/no/such/dir/x.swap" --ktest=none
swap_usage swap_kernel "is the guest kernel" "$VMM" run -s "$K" --ktest=none
swap_usage swap_fifo "not a regular file" "$VMM" run -s /dev/null --ktest=none
swap_usage swap_size_alone "give it with -s FILE" "$VMM" run --swap-size 1M --ktest=none
swap_usage swap_direct_alone "give it with -s FILE" "$VMM" run --swap-direct --ktest=none
swap_usage swap_size_bad "--swap-size '12X' has an unknown suffix" "$VMM" run -s "$sw/a" --swap-size 12X --ktest=none
swap_usage swap_size_small "at least one page" "$VMM" run -s "$sw/a" --swap-size 100 --ktest=none
swap_usage swap_size_odd "not a multiple of 4K" "$VMM" run -s "$sw/a" --swap-size 5000 --ktest=none
swap_usage swap_twice "-s/--swap given twice" "$VMM" run -s "$sw/a" -s "$sw/b" --ktest=none
swap_usage swap_empty "-s needs a file name" "$VMM" run -s "" --ktest=none
if [ "$(id -u)" != 0 ]; then
	head -c 8192 /dev/zero >"$sw/locked.swap"; chmod 000 "$sw/locked.swap"
	swap_usage swap_noperm "cannot open it" "$VMM" run -s "$sw/locked.swap" --ktest=none
fi
# A run refused after the file was created removes it again.
run swap_late_refusal "$VMM" run -s "$sw/late.swap" --ktest=none --trace-insns "$sw/no/dir/t"
expect_status swap_late_refusal 64
[ ! -e "$sw/late.swap" ] && ok "a refused run leaves no swap file it created" ||
	fail "a refused run left $sw/late.swap behind"

# --- --swap-direct: O_DIRECT where the file system has it, a usage error where not ------
if dd if=/dev/zero of="$sw/probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
	run swap_direct "$VMM" run -v -s "$sw/direct.swap" --swap-size 1M --swap-direct --ktest=none
	expect_status swap_direct 0
	grep -q 'O_DIRECT' "$t_out/swap_direct.err" && ok "--swap-direct opens FILE with O_DIRECT" ||
		fail "--swap-direct not reported with -v" "$(grep swap "$t_out/swap_direct.err")"
else
	swap_usage swap_direct_nofs "O_DIRECT" "$VMM" run -s "$sw/direct.swap" --swap-size 1M --swap-direct --ktest=none
fi

# --- without -s: no device, no thread (the boot benchmark's path) -----------------------
run swap_none "$VMM" run -v --ktest=none
expect_status swap_none 0
! grep -qi 'virtio' "$t_out/swap_none.err" && ok "without -s there is no swap device" ||
	fail "a device without -s" "$(grep -i virtio "$t_out/swap_none.err")"

rm -rf "$sw"
