#!/usr/bin/env bash
# Install the Debian packages the project needs, if any is missing.
# Runs apt-get as root, or through sudo.  DEPS_SKIP=1 skips the step.
set -euo pipefail

PACKAGES=(
	# kernel build
	build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils
	rsync git ccache python3 perl
	# checkpatch.pl and its spdxcheck.py
	python3-ply python3-git
	# userspace C++ and its tests
	cmake g++ libgtest-dev liburing-dev nlohmann-json3-dev
	# the client-vs-wrk benchmark, charts of acceptlab compare
	wrk gnuplot-nox
	# kernel source (the default base) and the VM
	linux-source-6.12 qemu-system-x86 busybox-static
)

[ "${DEPS_SKIP:-0}" = 1 ] && exit 0

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
	sudo=()
elif command -v sudo >/dev/null; then
	sudo=(sudo)
else
	echo "[deps] error: missing packages (${missing[*]}) and neither root nor sudo" >&2
	exit 1
fi

apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq)
echo "[deps] installing: ${missing[*]}" >&2
"${apt[@]}" update
"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
echo "[deps] done" >&2
