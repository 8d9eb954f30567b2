#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# faults.sh [NAME...]: show that the debug stress run catches real faults.
# For each qemu/faults/NAME.patch (default: all of them), build the debug
# kernel from the series plus that fault, boot it with only the stress test,
# and expect the verdict to fail.  Prints what caught each fault; exits 1 if
# one went unnoticed.  Works on one base (BASE, scripts/lib/lib.sh).  The fault
# trees live in $BUILD_DIR/faults/$BASE, src and obj side by side as in the
# main ones, so ccache serves every object the fault leaves alone and each
# fault costs an incremental build.
#   FAULT_STRESS_SECS  stress run per variant (default 30)
#   FAULT_VM_TIMEOUT   VM timeout in seconds (default 420)
LOG_TAG=faults
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib/lib.sh"
LOG_TAG=$BASE/faults
FAULT_STRESS_SECS=${FAULT_STRESS_SECS:-30}
FAULT_VM_TIMEOUT=${FAULT_VM_TIMEOUT:-420}
SMP=${SMP:-4}
export SMP
fault_dir=$BUILD_DIR/faults
# What the scripts below put in $BUILD_DIR/$BASE, with BUILD_DIR=$fault_dir.
fault_base=$fault_dir/$BASE
initramfs=$BASE_DIR/initramfs.cpio.gz

all=("$REPO"/qemu/faults/*.patch)
all=("${all[@]##*/}")
all=("${all[@]%.patch}")
[ $# != 0 ] || set -- "${all[@]}"
for name; do
	[ -f "$REPO/qemu/faults/$name.patch" ] || die "no fault '$name' (have: ${all[*]})"
done

start=$(date +%s)
# The VM knobs first: a typo fails before anything is installed or built.
"$REPO/qemu/host/boot.sh" --check-knobs
"$REPO/scripts/deps.sh" kernel vm
# The tests do not change with the fault: one initramfs serves every run.
"$REPO/scripts/lib/kernel-trees.sh"
"$REPO/qemu/host/mkinitramfs.sh"

caught=0 missed=0 summary=()
for name; do
	log "== fault $name ($(elapsed "$start"))"
	series=$fault_base/series
	rm -rf "$series"
	mkdir -p "$series"
	cp "$PATCH_DIR"/*.patch "$series/"
	cp "$REPO/qemu/faults/$name.patch" "$series/9999-fault-$name.patch"
	BUILD_DIR=$fault_dir PATCH_DIR=$series TREES=patched "$REPO/scripts/lib/kernel-trees.sh"
	BUILD_DIR=$fault_dir "$REPO/scripts/lib/build-kernel.sh" debug
	BUILD_DIR=$fault_dir INITRAMFS=$initramfs \
		VM_TIMEOUT=$FAULT_VM_TIMEOUT DEBUG_STRESS_SECS=$FAULT_STRESS_SECS \
		VMTEST_ONLY=epoll_rr_stress_test "$REPO/qemu/host/boot.sh" debug
	serial=$fault_base/$name.serial.log
	mv "$fault_base/debug/serial.log" "$serial"
	mv "$fault_base/debug/results.log" "$fault_base/$name.serial.results"
	set +e
	python3 "$REPO/scripts/reports/vmverdict.py" --smp "$SMP" debug="$serial" \
		> "$fault_base/$name.verdict"
	rc=$?
	set -e
	if [ "$rc" = 1 ]; then
		caught=$((caught + 1))
		by=$(sed -n '/^Failures:/,/^$/p' "$fault_base/$name.verdict" |
			sed '1d;/^$/d;s/^  debug: //' | cut -c1-400)
		summary+=("caught $name by:" "$(sed 's/^/    /' <<<"$by")")
	else
		missed=$((missed + 1))
		summary+=("MISSED $name: the verdict passed (exit $rc), see $fault_base/$name.verdict")
	fi
done

log "done in $(elapsed "$start"); serial logs and verdicts in $fault_base"
printf '%s\n' "${summary[@]}"
echo "$caught passed, $missed failed"
[ "$missed" = 0 ]
