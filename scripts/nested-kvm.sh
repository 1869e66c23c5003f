#!/usr/bin/env bash
# Runs a command where this host has no usable /dev/kvm: inside a small Linux guest under
# QEMU's TCG, whose emulated CPU has SVM, so that guest's kvm_amd provides a real /dev/kvm
# with nested paging. The guest sees the host's root file system read-only, the project
# tree read-write at its own path, and a fresh tmpfs on /tmp; the command runs there as
# root, in the same directory and environment, and its exit status comes back as ours.
# Its output (stdout and stderr together) streams to our stdout.
#
# The guest's kernel and busybox are Debian's packages, downloaded with apt-get and
# unpacked into the cache directory (nothing is installed on the host); only QEMU is
# needed beforehand (scripts/install-deps.sh). The cache survives until `make clean`.
#
# Usage: scripts/nested-kvm.sh [--prepare | --if-needed] [--] CMD [ARGS...]
#   --prepare   only fetch and build the guest (idempotent), then exit
#   --if-needed run CMD here when this host's /dev/kvm is usable (or we are inside the
#               nested guest already); otherwise say so on stderr and run it nested
# Environment: NESTED_KVM_DIR (cache, default build/nested), NESTED_KVM_MEM (guest RAM,
#   default 8G: the largest test VM is 5 GiB), NESTED_KVM_TIMEOUT (seconds, default 900).
# Exit status: the command's; 69 when no nested KVM could be started (one line says why);
#   70 when the guest died without reporting the command's status; 64 for bad usage.
# While it runs, the guest's kernel log is in the cache's run.*.console (kept when the run
# fails) and QEMU's monitor listens on run.*.monitor (`info registers -a` shows where a
# stuck guest is). Runs may overlap; the first one fetches and builds the guest.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$(realpath -m "${NESTED_KVM_DIR:-$ROOT/build/nested}")
MEM=${NESTED_KVM_MEM:-8G}
LIMIT=${NESTED_KVM_TIMEOUT:-900}
QEMU=qemu-system-x86_64

die() { echo "nested-kvm: $1" >&2; exit "${2:-69}"; }

prepare_only=0
if_needed=0
while [ $# -gt 0 ]; do
	case "$1" in
	--prepare) prepare_only=1; shift ;;
	--if-needed) if_needed=1; shift ;;
	-h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option '$1' (try --help)" 64 ;;
	*) break ;;
	esac
done
[ $prepare_only = 1 ] || [ $# -gt 0 ] || die "no command given (try --help)" 64
if [ $if_needed = 1 ]; then
	if [ -n "${NESTED_KVM:-}" ] || { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
		exec "$@"
	fi
	echo "nested-kvm: this host has no usable /dev/kvm: running '$1' in a nested KVM under QEMU's TCG" >&2
fi
# The paths travel on the guest's kernel command line and in QEMU's comma-separated options.
case "$ROOT$PWD$CACHE" in *[[:space:],]*) die "the project path must contain no white space or comma" 64 ;; esac
case "$PWD/" in "$ROOT"/*) ;; *) die "run it from inside the project tree ($ROOT)" 64 ;; esac
# The guest sees the project tree read-write and nothing else: the run script and its
# status file live in the cache, so it must be inside the tree.
case "$CACHE/" in "$ROOT"/*) ;; *) die "NESTED_KVM_DIR must be inside the project tree ($ROOT)" 64 ;; esac

command -v "$QEMU" >/dev/null || die "$QEMU not found: run scripts/install-deps.sh"

# --- the guest: Debian's kernel with kvm_amd, busybox, and an init that runs the command
kver_file=$CACHE/kernel-version
prepare() {
	mkdir -p "$CACHE" || die "cannot create $CACHE"
	[ -f "$CACHE/initrd.gz" ] && [ -f "$CACHE/vmlinuz" ] && [ -f "$kver_file" ] && return 0
	command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
		die "apt-get and dpkg-deb are needed to fetch the guest's kernel (Debian's linux-image-amd64)"
	local pkg
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
	if [ -z "$pkg" ]; then
		apt-get update -qq >/dev/null 2>&1
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
	fi
	[ -n "$pkg" ] || die "Debian's linux-image-amd64 is not known to apt (apt-get update?)"
	local dl=$CACHE/download
	rm -rf "$dl" "$CACHE/rootfs" && mkdir -p "$dl" "$CACHE/rootfs"
	(cd "$dl" && apt-get download -qq "$pkg" busybox-static >/dev/null 2>&1) ||
		die "apt-get download $pkg busybox-static failed"
	local deb
	for deb in "$dl"/*.deb; do dpkg-deb -x "$deb" "$CACHE/rootfs" || die "cannot unpack $deb"; done
	local kver=${pkg#linux-image-}
	local mods=$CACHE/rootfs/lib/modules/$kver bb=$CACHE/rootfs/bin/busybox
	[ -f "$CACHE/rootfs/boot/vmlinuz-$kver" ] && [ -x "$bb" ] || die "$pkg or busybox-static unpacked without its files"
	"$bb" depmod -b "$CACHE/rootfs" "$kver" || die "depmod failed for $kver"

	local ird=$CACHE/initrd
	rm -rf "$ird" && mkdir -p "$ird/bin" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/newroot" "$ird/lib/modules/$kver"
	cp "$bb" "$ird/bin/busybox" && cp "$mods"/modules.* "$ird/lib/modules/$kver/" || die "cannot build the initrd"
	# Only the modules the init loads, with what they depend on.
	local m
	for m in $(grep -E '^kernel/(arch/x86/kvm/kvm-amd|fs/9p/9p|net/9p/9pnet_virtio|drivers/virtio/virtio_pci)\.ko' \
			"$mods/modules.dep" | tr -d ':' | tr ' ' '\n' | sort -u); do
		mkdir -p "$ird/lib/modules/$kver/$(dirname "$m")" && cp "$mods/$m" "$ird/lib/modules/$kver/$m" ||
			die "module $m missing from $pkg"
	done
	cat >"$ird/init" <<'EOF'
#!/bin/busybox sh
# Mount the host's tree, load kvm_amd, run the command in a chroot, store its status.
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
say() { echo "nested-kvm: $*" >/dev/ttyS1; }
arg() { sed -n "s/.* nested\.$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
repo=$(arg repo); script=$(arg script)
stty -F /dev/ttyS1 raw -echo
for m in virtio_pci 9pnet_virtio 9p; do modprobe $m || say "modprobe $m failed"; done
o=trans=virtio,version=9p2000.L,msize=512000,cache=none
mount -t 9p -o $o,ro hostroot /newroot || { say "cannot mount the host's root"; poweroff -f; }
mount -t tmpfs -o mode=1777 tmp /newroot/tmp && mkdir -p "/newroot$repo"
mount -t 9p -o $o repo "/newroot$repo" || { say "cannot mount $repo"; poweroff -f; }
mount -t proc proc /newroot/proc; mount -t sysfs sys /newroot/sys
mount -t devtmpfs dev /newroot/dev; mount -t devpts devpts /newroot/dev/pts 2>/dev/null
mount -t tmpfs shm /newroot/dev/shm 2>/dev/null
if ! modprobe kvm_amd || [ ! -c /dev/kvm ]; then
	say "kvm_amd gave no /dev/kvm (does the emulated CPU have SVM?)"
	echo 69 >"/newroot$script.rc"; sync; poweroff -f
fi
chroot /newroot /bin/bash "$script" </dev/null >/dev/ttyS1 2>&1
echo $? >"/newroot$script.rc"
sync
poweroff -f
EOF
	chmod +x "$ird/init"
	(set -o pipefail; cd "$ird" && find . | "$bb" cpio -o -H newc 2>/dev/null | gzip -1) >"$CACHE/initrd.gz.new" &&
		mv "$CACHE/initrd.gz.new" "$CACHE/initrd.gz" || die "cannot pack the initrd"
	cp "$CACHE/rootfs/boot/vmlinuz-$kver" "$CACHE/vmlinuz" || die "cannot copy the kernel"
	echo "$kver" >"$kver_file"
	rm -rf "$dl" "$CACHE/rootfs" "$ird"
}
mkdir -p "$CACHE" || die "cannot create $CACHE"
exec 9>"$CACHE/.lock" && flock 9 || die "cannot lock $CACHE/.lock"
prepare
flock -u 9; exec 9>&-
[ $prepare_only = 1 ] && exit 0

# --- the run: a script in the shared tree restores the directory and the environment
script=$(mktemp "$CACHE/run.XXXXXX") || die "cannot create a script in $CACHE"
trap 'rm -f "$script" "$script.rc" "$script.monitor"' EXIT
{
	# The host's session and make's jobserver mean nothing in the guest.
	export -p | grep -vE '^declare -x (PWD|OLDPWD|SHLVL|_|TERM|TMPDIR|XDG_RUNTIME_DIR|MAKEFLAGS|MFLAGS|MAKELEVEL)(=|$)'
	echo "export NESTED_KVM=1"
	printf 'cd %q || exit 70\n' "$PWD"
	printf 'exec'; printf ' %q' "$@"; printf '\n'
} >"$script"

# One TCG thread for both vCPUs: with one thread per vCPU, Linux's live code patching
# (int3 first, then the new bytes, as on every first KVM VM) was seen to leave a vCPU
# re-running a stale int3 for good, hanging the guest; with one thread it never did.
# QEMU stays in our process group (--foreground), and a signal to us stops it too:
# an 8 GiB guest must not outlive the test that started it.
timeout --foreground --kill-after=10 "$LIMIT" "$QEMU" -accel tcg,thread=single -cpu max -smp 2 -m "$MEM" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$CACHE/vmlinuz" -initrd "$CACHE/initrd.gz" \
	-append "console=ttyS0 loglevel=4 panic=-1 nested.repo=$ROOT nested.script=$script" \
	-monitor unix:"$script.monitor",server=on,wait=off \
	-chardev file,id=console,path="$script.console" -serial chardev:console \
	-chardev stdio,id=out,signal=off -serial chardev:out \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$ROOT",mount_tag=repo,security_model=none,multidevs=remap \
	</dev/null &
qpid=$!
trap 'kill -TERM "$qpid" 2>/dev/null; wait "$qpid"; exit 70' INT TERM HUP
wait "$qpid"
qrc=$?
if [ -s "$script.rc" ]; then rm -f "$script.console"; exit "$(cat "$script.rc")"; fi
[ $qrc -eq 124 ] && die "the nested guest ran past ${LIMIT}s and was stopped (its console: $script.console)" 70
die "the nested guest stopped without the command's status (qemu exit $qrc; its console: $script.console)" 70
