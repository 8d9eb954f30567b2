#!/usr/bin/env bash
# The main job: prepare the trees, build the baseline and patched kernels,
# pack the initramfs, boot both under QEMU, then print the before/after
# table and the verdict (exit 1 if anything failed).
source "$(dirname "$0")/lib.sh"
LOG_TAG=vmtest
SMP=${SMP:-4}
export SMP

start=$(date +%s)
step() {
	log "== $* ($(elapsed "$start"))"
}

step "kernel trees"
"$REPO/scripts/deps.sh"
"$REPO/scripts/kernel-trees.sh"
for v in baseline patched; do
	step "build $v kernel"
	"$REPO/scripts/build-kernel.sh" "$v"
done
step "initramfs"
"$REPO/qemu/mkinitramfs.sh"
for v in baseline patched; do
	step "boot $v kernel"
	"$REPO/qemu/boot.sh" "$v"
done
step "verdict"
set +e
python3 "$REPO/scripts/vmverdict.py" --smp "$SMP" --json "$BUILD_DIR/results.json" \
	baseline="$BUILD_DIR/baseline/serial.log" patched="$BUILD_DIR/patched/serial.log"
rc=$?
set -e
log "done in $(elapsed "$start"); serial logs in $BUILD_DIR/{baseline,patched}/serial.log, results in $BUILD_DIR/results.json"
exit $rc
