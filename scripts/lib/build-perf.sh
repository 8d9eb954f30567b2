#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# build-perf.sh: a static perf from the base's patched tree (the series does
# not touch tools/perf), for "perf bench" in the VM: $BUILD_DIR/$BASE/perf/perf.
# Every optional library is off: "perf bench sched" and "perf bench epoll"
# need none of them, and a static binary needs no libraries in the
# initramfs.  Rebuilt only when the tree, the toolchain or this script
# changes.
LOG_TAG=perf
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib.sh"
LOG_TAG=$BASE/perf

src=$BASE_DIR/patched/src/tools/perf
out=$BASE_DIR/perf
perf=$out/perf
log_file=$out/build.log
[ -f "$src/Makefile.perf" ] || die "$src missing: run scripts/lib/kernel-trees.sh first"

# The binary depends on the tree, this script and the toolchain.  It is
# also kept in $KERNEL_CACHE: ccache cannot serve a new clone's perf build
# (perf's -Wp,-MT names the absolute object path, which ccache leaves in
# its hash), which then takes 1m40s here.
tree=$(git -C "$BASE_DIR/patched/src" rev-parse 'HEAD^{tree}' 2>/dev/null) || tree=
id=$({
	echo "${tree:-untracked}"
	toolchain_id
	cat "$0"
} | sha256sum | cut -d' ' -f1)
if [ -x "$perf" ] && [ "$(cat "$out/build-id" 2>/dev/null)" = "$id" ]; then
	log "perf is up to date: $perf"
	exit 0
fi
cache_key=
if [ -n "$KERNEL_CACHE" ] && [ -n "$(git_tree_id "$BASE_DIR/patched/src" tools)" ]; then
	cache_key=perf-${id:0:32}
	if cache_fetch "$cache_key" perf "$perf"; then
		echo "$id" >"$out/build-id"
		log "cached perf (key ${id:0:32} in $KERNEL_CACHE; KERNEL_CACHE= to build anyway)"
		exit 0
	fi
fi

cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
flags=(
	CC="$cc" HOSTCC="$cc" LDFLAGS=-static WERROR=0 NO_JEVENTS=1 NO_LIBTRACEEVENT=1 NO_LIBELF=1
	NO_LIBDW=1 NO_LIBUNWIND=1 NO_LIBBPF=1 BUILD_BPF_SKEL=0 NO_LIBPYTHON=1
	NO_SLANG=1 NO_GTK2=1 NO_LIBNUMA=1 NO_LIBZSTD=1 NO_LZMA=1 NO_ZLIB=1
	NO_LIBPFM4=1 NO_LIBLLVM=1 NO_CAPSTONE=1 NO_BABELTRACE2=1 NO_DEMANGLE=1
	NO_JVMTI=1 NO_SDT=1 NO_LIBDEBUGINFOD=1 NO_RUST=1 NO_SHELLCHECK=1 NO_AIO=1
)
mkdir -p "$out/obj"
start=$(date +%s)
log "building a static perf from $src (-j$JOBS, log: $log_file)"
# Only the perf binary: the dlfilter .so files cannot link -static.
if ! make -C "$src" O="$out/obj" "${flags[@]}" -j"$JOBS" perf >"$log_file" 2>&1; then
	grep -E 'error|Error' "$log_file" | head -n 20 >&2
	die "perf build failed after $(elapsed "$start"); see $log_file"
fi
install -m 755 "$out/obj/perf" "$perf"
if readelf -l "$perf" | grep -q INTERP; then
	die "$perf is dynamically linked (LDFLAGS=-static did not hold); see $log_file"
fi
echo "$id" >"$out/build-id"
[ -z "$cache_key" ] || cache_store "$cache_key" perf "$perf"
log "built $perf in $(elapsed "$start") ($(du -h "$perf" | cut -f1))"
