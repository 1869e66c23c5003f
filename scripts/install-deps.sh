#!/usr/bin/env bash
# Installs the Debian packages the project builds and tests with. Idempotent: packages
# already present are left alone, and apt is only touched when something is missing.
# Usage: scripts/install-deps.sh [--no-qemu]
set -euo pipefail

# gnuplot-nox: scripts/plot-stats (the --stats plots).
packages=(build-essential pkg-config libelf-dev liburing-dev check musl-tools clang
          libclang-rt-14-dev valgrind gdb gnuplot-nox)
want_qemu=1
for arg in "$@"; do
  case "$arg" in
    --no-qemu) want_qemu=0 ;;
    -h|--help) echo "usage: scripts/install-deps.sh [--no-qemu]"; exit 0 ;;
    *) echo "install-deps: unknown option '$arg' (try --help)" >&2; exit 64 ;;
  esac
done
[ "$want_qemu" = 1 ] && packages+=(qemu-system-x86)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 71; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
