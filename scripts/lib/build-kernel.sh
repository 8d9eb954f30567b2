#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# build-kernel.sh VARIANT: configure and build $BUILD_DIR/$BASE/VARIANT/obj/bzImage
# out of tree: tinyconfig + qemu/config/kernel.config + qemu/config/kernel-$BASE.config (the
# options whose symbols differ between bases), from $BUILD_DIR/$BASE/VARIANT/src.
# The "debug" variant builds the patched tree with qemu/config/debug.config and
# qemu/config/debug-$BASE.config on top (lockdep, KASAN, list and object debugging,
# lockup detectors).  The "bisect" variant (scripts/series.sh bisect) uses
# tinyconfig + qemu/config/bisect.config alone.
# Uses ccache when installed; prints progress while make runs.
# Keeps every image it builds in $KERNEL_CACHE, outside the clone, under a key
# of everything that goes into it, and copies it from there instead of
# building when the key matches (KERNEL_CACHE= always builds).
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib.sh"

variant=${1:?usage: build-kernel.sh VARIANT}
check_variant "$variant"
LOG_TAG=$BASE/$variant
src=$BASE_DIR/$variant/src
obj=$BASE_DIR/$variant/obj
fragments=("$REPO/qemu/config/kernel.config" "$REPO/qemu/config/kernel-$BASE.config")
buildlog=$BASE_DIR/$variant/build.log
# Kernel release suffix; also keeps setlocalversion from appending "+".
case $variant in
baseline) localversion= ;;
patched) localversion=-rr ;;
debug)
	localversion=-rr-debug
	src=$BASE_DIR/patched/src
	fragments+=("$REPO/qemu/config/debug.config" "$REPO/qemu/config/debug-$BASE.config")
	;;
bisect)
	localversion=-bisect
	fragments=("$REPO/qemu/config/bisect.config")
	;;
esac

[ -f "$src/Makefile" ] || die "$src is missing: run scripts/lib/kernel-trees.sh first"
mkdir -p "$obj"
image=$obj/arch/x86/boot/bzImage

cc=gcc
if command -v ccache >/dev/null; then
	cc="ccache gcc"
else
	log "ccache not found: building without it"
fi
kmake=(make -C "$src" O="$obj" CC="$cc" HOSTCC="$cc" LOCALVERSION="$localversion" -j"$JOBS")

# Reconfigure only when the fragments, the tree's version or the toolchain
# (Kconfig probes it) changed.
config_id=$({
	cat "${fragments[@]}" "$src/Makefile"
	toolchain_id
} | sha256sum | cut -d' ' -f1)

# source_id: what identifies the source exactly, or nothing if it cannot be
# known cheaply: the git tree of a patched, debug or bisect tree nobody
# edited, or the Debian package version of the baseline.  A baseline from
# KERNEL_SRC is never cached (its directory may change under the same name).
source_id() {
	local tree
	if [ -e "$src/.git" ]; then
		tree=$(git_tree_id "$src")
		[ -z "$tree" ] || echo "git-tree $tree"
	elif [ "$variant" = baseline ] && [ -z "$KERNEL_SRC" ]; then
		cat "$BASE_DIR/baseline/base-id"
	fi
}

# A warm ccache still spends 1.5 to 2 minutes per kernel on make's checks,
# the link and the compression; a cached image takes no time at all.  The
# key covers the source, the configuration, the compiler and linker, this
# script and the release suffix.
cache_key=
if [ -n "$KERNEL_CACHE" ] && sid=$(source_id) && [ -n "$sid" ]; then
	cache_key=$({
		echo "$sid" "$config_id" "localversion=$localversion"
		toolchain_id
		cat "$0"
	} | sha256sum | cut -c1-32)
	if cache_fetch "$cache_key" bzImage "$image"; then
		log "cached image for $sid (key $cache_key in $KERNEL_CACHE; KERNEL_CACHE= to build anyway)"
		exit 0
	fi
fi
if [ "$(cat "$obj/.config-id" 2>/dev/null)" != "$config_id" ]; then
	# Kconfig takes 27 s here (tinyconfig, olddefconfig: three runs of
	# mostly compiler probes), and the build one more run.  The variants
	# of the same fragments (baseline, patched) have the same Kconfig
	# files too (the series touches none), so the first one's .config
	# serves the other.
	kconfig_id=$({
		echo "$config_id"
		find "$src" -name 'Kconfig*' -not -path '*/.git/*' -print0 | sort -z | xargs -0 -r cat
	} | sha256sum | cut -d' ' -f1)
	saved_config=$BASE_DIR/configs/$kconfig_id
	if [ -f "$saved_config" ]; then
		log "configuring: the .config of the same fragments and Kconfig files ($saved_config)"
		cp "$saved_config" "$obj/.config"
	else
		log "configuring: tinyconfig + $(echo "${fragments[@]#"$REPO"/}" | sed 's/ / + /g')"
		"${kmake[@]}" -s tinyconfig >/dev/null
		"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${fragments[@]}" >/dev/null
		"${kmake[@]}" -s olddefconfig >/dev/null
	fi
	# merge_config only warns when a symbol does not stick; fail instead.
	# A later fragment may turn off what an earlier one set (debug.config:
	# BPF): each symbol's last line counts.
	missing=$(awk '
		/^CONFIG_[A-Za-z0-9_]+=/ { s = $0; sub(/=.*/, "", s); last[s] = $0 }
		/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { last[$2] = "" }
		END { for (s in last) if (last[s] != "") print last[s] }' "${fragments[@]}" |
		while read -r line; do
			grep -qxF "$line" "$obj/.config" || echo "$line"
		done)
	[ -z "$missing" ] || die "config fragment options not set in .config (missing dependency?): ${missing//$'\n'/ }"
	mkdir -p "$BASE_DIR/configs"
	cp "$obj/.config" "$saved_config.tmp.$$"
	mv "$saved_config.tmp.$$" "$saved_config"
	echo "$config_id" > "$obj/.config-id"
fi

start=$(date +%s)
log "building $(make -s -C "$src" kernelversion)$localversion in $obj (-j$JOBS, log: $buildlog)"
# Report progress every 30 s: compiled objects so far and the last one.
"${kmake[@]}" bzImage >"$buildlog" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	kill -0 "$pid" 2>/dev/null || break
	log "$(elapsed "$start"): $(grep -c '^  CC ' "$buildlog") objects compiled," \
		"last: $(grep '^  CC ' "$buildlog" | tail -n1 | awk '{print $2}')"
done
if ! wait "$pid"; then
	grep -E 'error|Error' "$buildlog" | head -n 20 >&2
	die "kernel build failed after $(elapsed "$start"); see $buildlog"
fi
log "built $image in $(elapsed "$start")"

[ -z "$cache_key" ] || cache_store "$cache_key" bzImage "$image"
