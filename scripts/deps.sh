#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# deps.sh [GROUP...]: install the Debian packages of the GROUPs (default:
# all) that are missing, and for the group "kernel" fetch the kernel source
# of every base (scripts/lib/lib.sh's base_settings; none with KERNEL_SRC): from the machine's apt, or, for a base only newer Debian
# suites carry, through scripts/lib/fetch-source.sh into $SOURCE_CACHE, once.
#   kernel     kernel builds, checkpatch.pl, the kernel sources
#   userspace  acceptlab, the shim and their tests (C++)
#   vm         QEMU, busybox, Debian's nginx for the VM (unpacked, never
#              installed); needs userspace (the initramfs holds acceptlab)
#   export     git send-email, the man pages the man-pages patch is made
#              against, and their lint
#   bench      wrk and gnuplot (the client benchmark, the charts)
#   lint       shellcheck
# Each make target asks for the groups it needs.  Runs apt-get as root, or
# through sudo.  DEPS_SKIP=1 skips the step (a machine set up by hand).
LOG_TAG=deps
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib/lib.sh"

GROUPS_ALL="kernel userspace vm export bench lint"
declare -A GROUP_PACKAGES=(
	[kernel]="build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils
		rsync git ccache python3 perl python3-ply python3-git
		debian-archive-keyring"
	[userspace]="cmake g++ libgtest-dev liburing-dev nlohmann-json3-dev"
	# nginx's libraries: Debian's nginx binary runs in the VM.
	[vm]="qemu-system-x86 busybox-static libcrypt1 libpcre2-8-0 libssl3 zlib1g"
	[export]="git git-email libmailtools-perl manpages-dev groff-base"
	[bench]="wrk gnuplot-nox"
	[lint]="shellcheck"
)
want=("$@")
[ $# != 0 ] || read -r -a want <<<"$GROUPS_ALL"
for g in "${want[@]}"; do
	[ -n "${GROUP_PACKAGES[$g]:-}" ] || die "unknown group '$g' (expected: $GROUPS_ALL)"
done
# vm packs acceptlab into the initramfs.
case " ${want[*]} " in *" vm "*) want+=(userspace) ;; esac
wants() { case " ${want[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

PACKAGES=()
for g in $GROUPS_ALL; do
	wants "$g" || continue
	read -r -a pkgs <<<"${GROUP_PACKAGES[$g]//$'\n'/ }"
	PACKAGES+=("${pkgs[@]}")
done
# A KERNEL_SRC run needs no Debian kernel source.
if wants kernel && [ -z "$KERNEL_SRC" ]; then
	for b in $BASES; do
		base_settings "$b"
		[ -n "$DEB_SUITES" ] || PACKAGES+=("$DEB_SOURCE_PKG")
	done
fi

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
if wants vm && [ -z "${NGINX_BIN:-}" ]; then
	"$REPO/scripts/lib/fetch-nginx.sh" >/dev/null
fi
wants kernel || exit 0

# The sources to fetch: none for a KERNEL_SRC run.
for b in $BASES; do
	base_settings "$b"
	[ -n "$DEB_SUITES" ] && [ -z "$KERNEL_SRC" ] || continue
	"$REPO/scripts/lib/fetch-source.sh" "$DEB_SOURCE_PKG" "$DEB_SUITES" "$DEB_TARBALL"
done

# Mainline moves on: once a day, say so when Debian carries a newer
# linux-source than the newest base's, with the command that tries the
# series on it.  Only a notice: a run keeps its cached source, and a
# failed look-up changes nothing.
newest=${BASES%% *}
stamp=$SOURCE_CACHE/newest-mainline
if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
	"$REPO/scripts/lib/fetch-source.sh" --newest "$MAINLINE_SUITES" >"$stamp.tmp" 2>/dev/null &&
		mv "$stamp.tmp" "$stamp" || rm -f "$stamp.tmp"
fi
read -r newer newer_version _ <"$stamp" 2>/dev/null || true
if [ -n "${newer:-}" ] && dpkg --compare-versions "${newer#linux-source-}" gt "$newest"; then
	log "notice: Debian carries $newer ($newer_version), newer than the series' base $newest; try the series on it: KERNEL_PKG=$newer make vm"
fi
