# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts that source it
# Shared settings and helpers for the build/boot scripts; source, don't run.
# Every path and knob can be overridden from the environment (or make).

set -euo pipefail

# --help or -h, first: the script's header, before anything is checked,
# installed or built.
# shellcheck source=scripts/lib/help.sh
source "$(dirname "${BASH_SOURCE[0]}")/help.sh"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO/build}
# Empty: Debian's source package of $BASE.  Otherwise a kernel tree that is
# only ever read; the series is applied to a clone (a git tree) or a copy
# of it under $BUILD_DIR (scripts/lib/kernel-trees.sh).
KERNEL_SRC=${KERNEL_SRC:-}
JOBS=${JOBS:-$(nproc)}
# Downloads that outlive the clone: the source of a base from a Debian
# suite the machine's apt does not track (scripts/lib/fetch-source.sh).
SOURCE_CACHE=${SOURCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/epoll-rr}
# Built kernel images, by a key of all their inputs (scripts/lib/build-kernel.sh);
# empty: always build.
KERNEL_CACHE=${KERNEL_CACHE-$SOURCE_CACHE/kernels}
# Debian's nginx, unpacked, not installed (scripts/lib/fetch-nginx.sh).
NGINX_CACHE=${NGINX_CACHE:-$SOURCE_CACHE/nginx}
KERNEL_CACHE_KEEP=${KERNEL_CACHE_KEEP:-24}
# The kernel bases the series is maintained for, newest first.  The newest
# is the default BASE, and its checkpatch.pl checks every series.
BASES="7.3 6.12"
# Kernels the VM runs ("debug": the patched tree with qemu/config/debug.config);
# "bisect" is a build-only tree (scripts/series.sh).
VARIANTS="baseline patched debug bisect"

log() { printf '[%s] %s\n' "${LOG_TAG:-vmtest}" "$*" >&2; }
die() { printf '[%s] error: %s\n' "${LOG_TAG:-vmtest}" "$*" >&2; exit 1; }

[[ $KERNEL_CACHE_KEEP =~ ^[1-9][0-9]*$ ]] ||
	die "KERNEL_CACHE_KEEP must be a positive number of images, not '$KERNEL_CACHE_KEEP'"

# Seconds since the epoch -> "1m05s".
elapsed() {
	local s=$(( $(date +%s) - $1 ))
	printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# toolchain_id: the compiler and linker, for the keys of what they build.
toolchain_id() {
	gcc --version | head -n1
	ld --version | head -n1
}

# git_tree_id DIR [PATH...]: the git tree of DIR's HEAD if DIR is a git work
# tree and nobody edited its tracked files (under PATH, if given); nothing
# otherwise, as then nothing names the source exactly.
git_tree_id() {
	local dir=$1
	shift
	[ -e "$dir/.git" ] || return 0
	[ -z "$(git -C "$dir" status --porcelain --untracked-files=no -- "$@")" ] || return 0
	git -C "$dir" rev-parse 'HEAD^{tree}'
}

# The build cache, $KERNEL_CACHE: one directory per key with one built file
# (bzImage, perf), written under a temporary name and renamed into place,
# so that parallel builds never see half an entry.
# cache_fetch KEY NAME DEST: copy the cached NAME to DEST; false if none.
cache_fetch() {
	local entry=$KERNEL_CACHE/$1
	[ -f "$entry/$2" ] || return 1
	mkdir -p "$(dirname "$3")"
	cp "$entry/$2" "$3"
	# The newest entries are the ones pruning keeps.
	touch "$entry"
}
# cache_store KEY NAME FILE: store FILE as NAME under KEY, then keep the
# newest KERNEL_CACHE_KEEP entries (2 to 5 MB each); another build's
# unfinished entry is left alone.
cache_store() {
	local entry=$KERNEL_CACHE/$1 part=$KERNEL_CACHE/$1.tmp.$$
	mkdir -p "$part"
	cp "$3" "$part/$2"
	mv -T "$part" "$entry" 2>/dev/null || rm -rf "$part"
	find "$KERNEL_CACHE" -mindepth 1 -maxdepth 1 -type d ! -name '*.tmp.*' -printf '%T@ %p\n' |
		sort -rn | tail -n +"$((KERNEL_CACHE_KEEP + 1))" | cut -d' ' -f2- |
		xargs -r rm -rf
}

check_variant() {
	case " $VARIANTS " in
	*" $1 "*) ;;
	*) die "unknown variant '$1' (expected one of: $VARIANTS)" ;;
	esac
}

# base_settings BASE: what a kernel base is made of.
#   DEB_SOURCE_PKG  Debian's package with its source tarball (KERNEL_PKG:
#                   another one, e.g. a newer mainline, to try the series on)
#   DEB_SUITES      empty: the package comes from the machine's apt;
#                   otherwise the Debian suites it is fetched from (the
#                   newest version among them), with a private apt state,
#                   into $SOURCE_CACHE
#   DEB_TARBALL     where the package's source tarball is
#   SERIES_DIR      the series for this base
# Mainline: Debian carries its release candidates in experimental and the
# release in sid, so 7.3 (and a KERNEL_PKG) is fetched from whichever has it.
MAINLINE_SUITES="experimental sid"
base_settings() {
	case $1 in
	7.3) DEB_SOURCE_PKG=linux-source-7.3 DEB_SUITES=$MAINLINE_SUITES ;;
	6.12) DEB_SOURCE_PKG=linux-source-6.12 DEB_SUITES= ;;
	*) die "unknown BASE '$1' (expected one of: $BASES)" ;;
	esac
	SERIES_DIR=$REPO/kernel-patches/$1
	if [ -n "${KERNEL_PKG:-}" ] && [ "$1" = "$BASE" ]; then
		DEB_SOURCE_PKG=$KERNEL_PKG DEB_SUITES=$MAINLINE_SUITES
	fi
	if [ -n "$DEB_SUITES" ]; then
		DEB_TARBALL=$SOURCE_CACHE/$DEB_SOURCE_PKG.tar.xz
	else
		DEB_TARBALL=/usr/src/$DEB_SOURCE_PKG.tar.xz
	fi
}

# deb_version: the version of $DEB_SOURCE_PKG's tarball, empty if missing.
deb_version() {
	if [ -n "$DEB_SUITES" ]; then
		cat "${DEB_TARBALL%.tar.xz}.version" 2>/dev/null || true
	else
		dpkg-query -W -f='${Version}' "$DEB_SOURCE_PKG" 2>/dev/null || true
	fi
}

# series_id [PATCH...]: the identity of a series (default: $PATCH_DIR's),
# which the patched tree and the results of a run record.
series_id() {
	if [ $# = 0 ]; then
		set -- "$PATCH_DIR"/*.patch
	fi
	cat "$@" | sha256sum | cut -d' ' -f1
}

# held_back DIR: the patches of DIR's series that a posting leaves out, as
# DIR/held-back names them (one file name a line, '#' starts a comment).
# The harness builds and tests them with the rest; they wait for a user.
held_back() {
	[ -f "$1/held-back" ] || return 0
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1/held-back"
}

# posted_patches DIR: DIR's patches that a posting sends, in order: all
# but the held-back ones, which must be the series' last, so that what is
# sent is a prefix of what was tested.
posted_patches() {
	local dir=$1 all held i n
	all=("$dir"/*.patch)
	mapfile -t held < <(held_back "$dir")
	n=$((${#all[@]} - ${#held[@]}))
	[ "$n" -gt 0 ] || die "$dir/held-back holds back every patch of the series"
	for i in "${!held[@]}"; do
		[ "$(basename "${all[n + i]}")" = "${held[i]}" ] ||
			die "$dir/held-back: '${held[i]}' is not patch $((n + i + 1)) of the series; the held-back patches must be its last, in order"
	done
	printf '%s\n' "${all[@]:0:n}"
}

# checkpatch_findings TREE PATCH ALLOWED...: TREE's checkpatch.pl --strict
# findings on PATCH, one block each, minus those whose first line is one of
# ALLOWED (scripts/series.sh, scripts/export.sh).
checkpatch_findings() {
	local tree=$1 p=$2 allowed
	shift 2
	allowed=$(printf '%s\n' "$@")
	# spdxcheck.py wants Debian's python3 (python3-ply).
	(cd "$tree" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl \
		--strict --quiet --no-summary "$p" 2>&1 || true) |
		awk -v RS= -v allowed="$allowed" '
		BEGIN { n = split(allowed, a, "\n"); for (i = 1; i <= n; i++) ok[a[i]] = 1 }
		{ split($0, l, "\n"); if (!(l[1] in ok)) print $0 "\n" }'
}

# checkpatch warns about every patch that adds a file without touching
# MAINTAINERS, even when another patch of the series lists the file there.
CHECKPATCH_MAINTAINERS="WARNING: added, moved or deleted file(s), does MAINTAINERS need updating?"

# new_files PATCH: the files PATCH creates, one a line.
new_files() {
	git apply --summary "$1" | sed -n 's/^ create mode [0-7]* //p'
}

# maintained_new_files PATCH SERIES...: true if PATCH creates files and a
# MAINTAINERS line that a patch of SERIES adds covers each of them (a
# directory, an exact path or a glob), so that checkpatch's "does
# MAINTAINERS need updating?" about it is answered by another patch.
maintained_new_files() {
	local patch=$1 f pat ok any=0
	local -a pats
	shift
	mapfile -t pats < <(for p in "$@"; do
		awk '/^diff --git a\/MAINTAINERS b\/MAINTAINERS/ { m = 1; next }
			/^diff --git / { m = 0 }
			m && /^\+F:\t/ { sub(/^\+F:\t/, ""); print }' "$p"
	done)
	while read -r f; do
		[ -n "$f" ] || continue
		any=1 ok=0
		for pat in "${pats[@]}"; do
			if [[ $pat = */ ]]; then
				[[ $f != "$pat"* ]] || ok=1
			else
				# shellcheck disable=SC2053 # a MAINTAINERS pattern, a glob
				[[ $f != $pat ]] || ok=1
			fi
		done
		[ $ok = 1 ] || return 1
	done < <(new_files "$patch")
	[ $any = 1 ]
}

# series_allowed PATCH SERIES...: the checkpatch findings a patch of SERIES
# may have besides those its caller allows: "does MAINTAINERS need
# updating?" where SERIES' own MAINTAINERS lines cover PATCH's new files.
series_allowed() {
	! maintained_new_files "$@" || echo "$CHECKPATCH_MAINTAINERS"
}

# tree_base DIR: "VERSION.PATCHLEVEL" of the Linux tree DIR, from its Makefile.
tree_base() {
	awk -F' *= *' '$1 == "VERSION" && v == "" { v = $2 }
		$1 == "PATCHLEVEL" && p == "" { p = $2 }
		END { if (v != "" && p != "") print v "." p }' "$1/Makefile"
}

# version_number X.Y: X.Y as one comparable number.
version_number() {
	echo $(( ${1%%.*} * 1000 + ${1#*.} ))
}

# nearest_base X.Y: the base whose series is nearest to Linux X.Y (the same
# version, else the nearest, else the newer of two as near).
nearest_base() {
	local want b d best='' best_d=''
	want=$(version_number "$1")
	for b in $BASES; do
		d=$(( $(version_number "$b") - want ))
		d=${d#-}
		if [ -z "$best" ] || [ "$d" -lt "$best_d" ]; then
			best=$b best_d=$d
		fi
	done
	echo "$best"
}

# The base: BASE (default: the newest), or the nearest to KERNEL_SRC's own
# version.
if [ -n "$KERNEL_SRC" ]; then
	[ -d "$KERNEL_SRC" ] && [ -r "$KERNEL_SRC/Makefile" ] ||
		die "KERNEL_SRC=$KERNEL_SRC is not a readable directory with a Makefile"
	src_base=$(tree_base "$KERNEL_SRC")
	[[ $src_base =~ ^[0-9]+\.[0-9]+$ ]] ||
		die "KERNEL_SRC=$KERNEL_SRC is not a Linux tree (no VERSION and PATCHLEVEL in its Makefile)"
	BASE=${BASE:-$(nearest_base "$src_base")}
fi
BASE=${BASE:-${BASES%% *}}
export BASE
[ -z "${KERNEL_PKG:-}" ] || [[ $KERNEL_PKG =~ ^linux-source-[0-9]+\.[0-9]+$ ]] ||
	die "KERNEL_PKG must name a Debian kernel source package, linux-source-X.Y, not '$KERNEL_PKG'"
[ -z "${KERNEL_PKG:-}" ] || [ -z "$KERNEL_SRC" ] ||
	die "KERNEL_PKG and KERNEL_SRC both name the kernel source: set one"
base_settings "$BASE"
# EXPERIMENT: build and boot experiments/$EXPERIMENT/$BASE/*.patch, a series
# kept to be measured against the posted one and never posted, in its place
# (the same trees; the image cache keys them by their git tree).  The run's
# dated record goes beside the experiment, and the export refuses it.
EXPERIMENT=${EXPERIMENT:-}
if [ -n "$EXPERIMENT" ]; then
	[[ $EXPERIMENT =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] &&
		compgen -G "$REPO/experiments/$EXPERIMENT/$BASE/*.patch" >/dev/null ||
		die "EXPERIMENT=$EXPERIMENT: no series in experiments/$EXPERIMENT/$BASE (experiments for $BASE: $(cd "$REPO/experiments" 2>/dev/null && compgen -G "*/$BASE" | cut -d/ -f1 | paste -sd' ' | grep . || echo none))"
	[ "$(basename "$0")" != export.sh ] ||
		die "EXPERIMENT=$EXPERIMENT: an experiment is never exported; unset EXPERIMENT"
	PATCH_DIR=${PATCH_DIR:-$REPO/experiments/$EXPERIMENT/$BASE}
	RESULTS_DIR=${RESULTS_DIR-$REPO/experiments/$EXPERIMENT/results}
fi
# PATCH_DIR: another series for this base (scripts/faults.sh).
PATCH_DIR=${PATCH_DIR:-$SERIES_DIR}
# Everything of one base: <variant>/src, <variant>/obj, initramfs, results.
BASE_DIR=$BUILD_DIR/$BASE

# All trees sit at the same depth below $BUILD_DIR
# (<base>/<variant>/src, <base>/<variant>/obj), so with CCACHE_BASEDIR the
# compiler sees identical relative paths and ccache shares every unchanged
# object.  (The userspace C++ builds use CCACHE_BASEDIR=$REPO, for the same
# sharing between clones.)
export CCACHE_BASEDIR=$BUILD_DIR
export CCACHE_NOHASHDIR=1
# On a miss, take the dependencies from the compiler's -MMD output instead of
# running the preprocessor a second time: about 30% less CPU on a cold build.
export CCACHE_DEPEND=${CCACHE_DEPEND:-1}
