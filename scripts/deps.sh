#!/usr/bin/env bash
# Install the Debian packages the project needs, if any is missing, and
# fetch the kernel source of every base (scripts/lib.sh's base_settings):
# from the machine's apt, or, for a base only a newer Debian suite carries,
# through scripts/fetch-source.sh into $SOURCE_CACHE, once.
# Runs apt-get as root, or through sudo.  DEPS_SKIP=1 skips the step.
LOG_TAG=deps
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

PACKAGES=(
	# kernel build
	build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils
	rsync git ccache python3 perl
	# checkpatch.pl and its spdxcheck.py
	python3-ply python3-git
	# the export: git send-email --dry-run, the man pages it patches and
	# their lint; shellcheck of the scripts
	git-email libmailtools-perl manpages-dev groff-base shellcheck
	# userspace C++ and its tests
	cmake g++ libgtest-dev liburing-dev nlohmann-json3-dev
	# the client-vs-wrk benchmark, charts of acceptlab compare
	wrk gnuplot-nox
	# the VM; the keyring checks the kernel sources fetched from newer suites
	qemu-system-x86 busybox-static debian-archive-keyring
	# the libraries of Debian's nginx, which runs in the VM: fetched by
	# scripts/fetch-nginx.sh, never installed (no service on this machine)
	libcrypt1 libpcre2-8-0 libssl3 zlib1g
)
for b in $BASES; do
	base_settings "$b"
	[ -n "$DEB_SUITES" ] || PACKAGES+=("$DEB_SOURCE_PKG")
done

[ "${DEPS_SKIP:-0}" = 1 ] && exit 0

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} != 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		sudo=()
	elif command -v sudo >/dev/null; then
		sudo=(sudo)
	else
		die "missing packages (${missing[*]}) and neither root nor sudo"
	fi
	apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq)
	log "installing: ${missing[*]}"
	"${apt[@]}" update
	"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
	log "done"
fi

# nginx for the VM, unless NGINX_BIN names a binary to use instead.
[ -n "${NGINX_BIN:-}" ] || "$REPO/scripts/fetch-nginx.sh" >/dev/null

# The sources to fetch; not the one a KERNEL_SRC tree stands in for.
for b in $BASES; do
	base_settings "$b"
	[ -n "$DEB_SUITES" ] && { [ -z "$KERNEL_SRC" ] || [ "$b" != "$BASE" ]; } || continue
	"$REPO/scripts/fetch-source.sh" "$DEB_SOURCE_PKG" "$DEB_SUITES" "$DEB_TARBALL"
done

# Mainline moves on: once a day, say so when Debian carries a newer
# linux-source than the newest base's, with the command that tries the
# series on it.  Only a notice: a run keeps its cached source, and a
# failed look-up changes nothing.
newest=${BASES%% *}
stamp=$SOURCE_CACHE/newest-mainline
if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
	base_settings "$newest"
	"$REPO/scripts/fetch-source.sh" --newest "$DEB_SUITES" >"$stamp.tmp" 2>/dev/null &&
		mv "$stamp.tmp" "$stamp" || rm -f "$stamp.tmp"
fi
read -r newer newer_version _ <"$stamp" 2>/dev/null || true
if [ -n "${newer:-}" ] && dpkg --compare-versions "${newer#linux-source-}" gt "$newest"; then
	log "notice: Debian carries $newer ($newer_version), newer than the series' base $newest; try the series on it: KERNEL_PKG=$newer make vm"
fi
