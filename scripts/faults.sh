#!/usr/bin/env bash
# faults.sh [NAME...]: show that the debug stress run catches real faults.
# For each qemu/faults/NAME.patch (default: all of them), build the debug
# kernel from the series plus that fault, boot it with only the stress test,
# and expect the verdict to fail.  Prints what caught each fault; exits 1 if
# one went unnoticed.  The fault trees live in $BUILD_DIR/faults, at the same
# depth as the main ones, so ccache serves every object the fault leaves
# alone and each fault costs an incremental build.
#   FAULT_STRESS_SECS  stress run per variant (default 30)
#   FAULT_VM_TIMEOUT   VM timeout in seconds (default 420)
source "$(dirname "$0")/lib.sh"
LOG_TAG=faults
FAULT_STRESS_SECS=${FAULT_STRESS_SECS:-30}
FAULT_VM_TIMEOUT=${FAULT_VM_TIMEOUT:-420}
SMP=${SMP:-4}
export SMP
fault_dir=$BUILD_DIR/faults
initramfs=$BUILD_DIR/initramfs.cpio.gz

if [ $# = 0 ]; then
	set -- $(cd "$REPO/qemu/faults" && ls *.patch | sed 's/\.patch$//')
fi
for name; do
	[ -f "$REPO/qemu/faults/$name.patch" ] ||
		die "no fault '$name' (have: $(cd "$REPO/qemu/faults" && ls *.patch | sed 's/\.patch$//' | xargs))"
done

start=$(date +%s)
"$REPO/scripts/deps.sh"
# The tests do not change with the fault: one initramfs serves every run.
"$REPO/scripts/kernel-trees.sh"
"$REPO/qemu/mkinitramfs.sh"

caught=0 missed=0 summary=()
for name; do
	log "== fault $name ($(elapsed "$start"))"
	series=$fault_dir/series
	rm -rf "$series"
	mkdir -p "$series"
	cp "$PATCH_DIR"/*.patch "$series/"
	cp "$REPO/qemu/faults/$name.patch" "$series/9999-fault-$name.patch"
	BUILD_DIR=$fault_dir PATCH_DIR=$series TREES=patched "$REPO/scripts/kernel-trees.sh"
	BUILD_DIR=$fault_dir "$REPO/scripts/build-kernel.sh" debug
	BUILD_DIR=$fault_dir INITRAMFS=$initramfs \
		VM_TIMEOUT=$FAULT_VM_TIMEOUT DEBUG_STRESS_SECS=$FAULT_STRESS_SECS \
		VMTEST_ONLY=epoll_rr_stress_test "$REPO/qemu/boot.sh" debug
	serial=$fault_dir/$name.serial.log
	mv "$fault_dir/debug/serial.log" "$serial"
	set +e
	python3 "$REPO/scripts/vmverdict.py" --smp "$SMP" debug="$serial" \
		> "$fault_dir/$name.verdict"
	rc=$?
	set -e
	if [ "$rc" = 1 ]; then
		caught=$((caught + 1))
		by=$(sed -n '/^Failures:/,/^$/p' "$fault_dir/$name.verdict" |
			sed '1d;/^$/d;s/^  debug: //' | cut -c1-400)
		summary+=("caught $name by:" "$(sed 's/^/    /' <<<"$by")")
	else
		missed=$((missed + 1))
		summary+=("MISSED $name: the verdict passed (exit $rc), see $fault_dir/$name.verdict")
	fi
done

log "done in $(elapsed "$start"); serial logs and verdicts in $fault_dir"
printf '%s\n' "${summary[@]}"
echo "$caught passed, $missed failed"
[ "$missed" = 0 ]
