#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The main job, on one base (BASE, default the newest; or KERNEL_SRC's):
# prepare the trees, build the baseline and patched kernels, pack the
# initramfs, boot both under QEMU, then print the before/after table and the
# verdict (exit 1 if anything failed).  Everything lands in $BUILD_DIR/$BASE.
# DEBUG_KERNEL=1 adds the debug kernel (patched + qemu/config/debug.config), which
# runs the stress test for DEBUG_STRESS_SECS; DEBUG_KERNEL=only runs just it.
# KERNELS="patched" (a list of variants) overrides that choice.
# BUILD_ONLY=1 stops after the builds.
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib/lib.sh"
LOG_TAG=vmtest
SMP=${SMP:-4}
export SMP
RESULTS_DIR=${RESULTS_DIR-$REPO/docs/results}
case ${DEBUG_KERNEL:-0} in
0) kernels="baseline patched" ;;
1) kernels="baseline patched debug" ;;
only) kernels="debug" ;;
*) die "DEBUG_KERNEL must be 0, 1 or only, not '$DEBUG_KERNEL'" ;;
esac
kernels=${KERNELS:-$kernels}
for v in $kernels; do
	[ "$v" != bisect ] || die "KERNELS: bisect is a build-only tree"
	check_variant "$v"
done

# Every VM knob, before anything is installed or built: a typo fails now,
# not half an hour in.
"$REPO/qemu/host/boot.sh" --check-knobs

# write_record: the run as a dated record in $RESULTS_DIR, the figures as
# the tools printed them (docs/results/README.md): what was run, on what,
# at which commit of this repository.  RESULTS_DIR= writes none.
write_record() {
	local commit day record
	[ -n "$RESULTS_DIR" ] && [ -s "$BASE_DIR/verdict.txt" ] || return 0
	commit=$(git -C "$REPO" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
	day=$(date -u +%F)
	record=$RESULTS_DIR/$day-vmtest-$BASE-$commit.md
	mkdir -p "$RESULTS_DIR" || return 0
	python3 - "$BASE_DIR/results.json" "$BASE_DIR/verdict.txt" "$commit" "$kernels" \
		"$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1)" "$(nproc)" \
		>"$record.tmp" <<-'EOF' && mv "$record.tmp" "$record" && log "record of this run: $record"
	import json, sys
	results, verdict, commit, kernels, cpu, ncpu = sys.argv[1:]
	r = json.load(open(results))
	logs = r.get("logs", {})
	q = next((l.get("qemu", {}) for l in logs.values() if l.get("qemu")), {})
	print(f"# make vm on {r.get('base_version', '?')}, {r.get('date', '?')[:10]}\n")
	print(f"- command: `make vm` (scripts/vmtest.sh), kernels: {kernels}, one boot each")
	print(f"- this repository at commit {commit}; series {r.get('series_id', '?')[:12]}")
	print("- kernels: " + ", ".join(f"{k} {v.get('release', '?')}" for k, v in logs.items()))
	print(f"- machine: {cpu}, {ncpu} CPUs; QEMU {q.get('accel', '?')}, "
	      f"{q.get('smp', '?')} vCPUs, {q.get('mem', '?')} MiB")
	print(f"- summary: {r.get('summary', '?')}\n")
	print("Under TCG only the ratios of runs made side by side mean anything.\n")
	print("```")
	print(open(verdict).read().rstrip())
	print("```")
	EOF
}

start=$(date +%s)
step() {
	log "== $BASE: $* ($(elapsed "$start"))"
}

step "kernel trees"
"$REPO/scripts/deps.sh" kernel vm
# The patched tree always: the verdict records its base and series.
trees=patched
case " $kernels " in *" baseline "*) trees="baseline patched" ;; esac
TREES=$trees "$REPO/scripts/lib/kernel-trees.sh"
for v in $kernels; do
	step "build $v kernel"
	"$REPO/scripts/lib/build-kernel.sh" "$v"
done
if [ "${BUILD_ONLY:-0}" = 1 ]; then
	log "built: $kernels ($(elapsed "$start"))"
	exit 0
fi
step "initramfs"
"$REPO/qemu/host/mkinitramfs.sh"
for v in $kernels; do
	step "boot $v kernel"
	"$REPO/qemu/host/boot.sh" "$v"
done
step "verdict"
set +e
logs=()
for v in $kernels; do
	logs+=("$v=$BASE_DIR/$v/serial.log")
done
# What the run tested, so that the export can refuse a stale result.
python3 "$REPO/scripts/reports/vmverdict.py" --smp "$SMP" --base "$BASE" \
	--base-version "$(cat "$BASE_DIR/patched/base-id")" \
	--series-id "$(cat "$BASE_DIR/patched/series-id")" \
	--json "$BASE_DIR/results.json" "${logs[@]}" | tee "$BASE_DIR/verdict.txt"
rc=${PIPESTATUS[0]}
set -e
write_record
log "done in $(elapsed "$start"); console and results logs in $BASE_DIR/<kernel>/{serial,results}.log, verdict in $BASE_DIR/results.json"
exit "$rc"
