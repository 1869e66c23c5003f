# MemGuard end to end: a guarded malloc type's use after free and overrun fault (and a
# guarded UMA zone's use after free), and the
# fault handler panics naming the allocation's type (exit 70, one `vmm:` line); the type
# is chosen by name with vm.memguard= (debug.memguard= guards "temp" when none is
# given). Sourced by run.sh.

# mg_panic NAME PATTERN ARGS...: exit 70, stderr one line matching the extended regex.
mg_panic() {
	local name=$1 re=$2; shift 2
	run "$name" "$VMM" run --ktest=none "$@"
	one_line "$name" 70
	grep -Eq -- "$re" "$t_out/$name.err" && ok "$name: the panic names it" ||
		fail "$name: stderr does not match '$re'" "$(err "$name")"
}

mg_hex='0xffffff[0-9a-f]{10}'
mg_panic memguard_uaf "^vmm: guest panicked: memguard: use after free \(write at $mg_hex\) of a 100-byte allocation at $mg_hex \(malloc type temp\)$" \
	--append debug.memguard=uaf
mg_panic memguard_uaf_selected "^vmm: guest panicked: memguard: use after free \(write at $mg_hex\) of a 100-byte allocation at $mg_hex \(malloc type temp\)$" \
	--append vm.memguard=temp --append debug.memguard=uaf
mg_panic memguard_overrun "^vmm: guest panicked: memguard: overrun \(write at $mg_hex, 12 bytes past the end\) of a 100-byte allocation at $mg_hex \(malloc type temp\)$" \
	--append debug.memguard=overrun
# Another type selected: "temp" is not guarded, the access does not fault.
mg_panic memguard_other_type "^vmm: guest panicked: debug.memguard=uaf: the access did not fault: malloc type temp is not guarded \(vm.memguard=devbuf\)$" \
	--append vm.memguard=devbuf --append debug.memguard=uaf

# A UMA zone chosen by name: its item's use after free panics naming the zone.
mg_panic memguard_zone_uaf "^vmm: guest panicked: memguard: use after free \(write at $mg_hex\) of a 100-byte allocation at $mg_hex \(zone dbgzone\)$" \
	--append debug.memguard=zone-uaf
mg_panic memguard_zone_uaf_selected "^vmm: guest panicked: memguard: use after free \(write at $mg_hex\) of a 100-byte allocation at $mg_hex \(zone dbgzone\)$" \
	--append vm.memguard=dbgzone --append debug.memguard=zone-uaf
mg_panic memguard_zone_other "^vmm: guest panicked: debug.memguard=zone-uaf: the access did not fault: zone dbgzone is not guarded \(vm.memguard=temp\)$" \
	--append vm.memguard=temp --append debug.memguard=zone-uaf

# An underrun with a guard page before the object (MEMGUARD_OPT_GUARD_AROUND): a store one
# byte before a guarded kmalloc faults at that byte and the kernel panics saying so,
# naming the malloc type; and the ktest compares the message word for word.
mg_panic memguard_underrun_panic "^vmm: guest panicked: memguard: underrun \(write at $mg_hex, 1 byte before the start\) of a 100-byte allocation at $mg_hex \(malloc type temp\)$" \
	--append debug.memguard=underrun
run memguard_underrun "$VMM" run --ktest=memguard.underrun_guard_around
if [ "$rc" -eq 0 ] && grep -q '^ktest: memguard.underrun_guard_around \.\.\. ok$' "$t_out/memguard_underrun.out"; then
	ok "memguard_underrun: the store before the object faults as an underrun of malloc type memguard-vmtest"
else
	fail "memguard_underrun: exit $rc" "$(tail -c 600 "$t_out/memguard_underrun.out")" "$(err memguard_underrun)"
fi

usage memguard_bad_value "use debug.memguard=uaf or debug.memguard=overrun" "$VMM" run --ktest=none --append debug.memguard=1
usage memguard_long_name "a name of at most 31 characters" "$VMM" run --ktest=none --append vm.memguard=abcdefghijklmnopqrstuvwxyz0123456
usage memguard_no_name "vm.memguard= needs a value" "$VMM" run --ktest=none --append vm.memguard=
