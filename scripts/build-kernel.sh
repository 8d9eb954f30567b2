#!/usr/bin/env bash
# build-kernel.sh VARIANT: configure and build $BUILD_DIR/$BASE/VARIANT/obj/bzImage
# out of tree: tinyconfig + qemu/kernel.config, from $BUILD_DIR/$BASE/VARIANT/src.
# The "debug" variant builds the patched tree with qemu/debug.config and
# qemu/debug-$BASE.config on top (lockdep, KASAN, list and object debugging,
# lockup detectors).
# Uses ccache when installed; prints progress while make runs.
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

variant=${1:?usage: build-kernel.sh VARIANT}
check_variant "$variant"
LOG_TAG=$BASE/$variant
src=$BASE_DIR/$variant/src
obj=$BASE_DIR/$variant/obj
fragments=("$REPO/qemu/kernel.config")
buildlog=$BASE_DIR/$variant/build.log
# Kernel release suffix; also keeps setlocalversion from appending "+".
case $variant in
baseline) localversion= ;;
patched) localversion=-rr ;;
debug)
	localversion=-rr-debug
	src=$BASE_DIR/patched/src
	fragments+=("$REPO/qemu/debug.config" "$REPO/qemu/debug-$BASE.config")
	;;
bisect) localversion=-bisect ;;
esac

[ -f "$src/Makefile" ] || die "$src is missing: run scripts/kernel-trees.sh first"
mkdir -p "$obj"

cc=gcc
if command -v ccache >/dev/null; then
	cc="ccache gcc"
else
	log "ccache not found: building without it"
fi
kmake=(make -C "$src" O="$obj" CC="$cc" HOSTCC="$cc" LOCALVERSION="$localversion" -j"$JOBS")

# Reconfigure only when the fragment or the tree's Kconfig changed.
config_id=$(cat "${fragments[@]}" "$src/Makefile" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$obj/.config-id" 2>/dev/null)" != "$config_id" ]; then
	log "configuring: tinyconfig + $(echo "${fragments[@]#"$REPO"/}" | sed 's/ / + /g')"
	"${kmake[@]}" -s tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${fragments[@]}" >/dev/null
	"${kmake[@]}" -s olddefconfig >/dev/null
	# merge_config only warns when a symbol does not stick; fail instead.
	missing=$(cat "${fragments[@]}" | grep -E '^CONFIG_[A-Za-z0-9_]+=' | while read -r line; do
		grep -qxF "$line" "$obj/.config" || echo "$line"
	done)
	[ -z "$missing" ] || die "config fragment options not set in .config (missing dependency?): $(echo $missing)"
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
log "built $obj/arch/x86/boot/bzImage in $(elapsed "$start")"
