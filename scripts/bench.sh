#!/usr/bin/env bash
# bench.sh: what the series costs, measured inside the VMs (make bench).
# Builds the baseline and patched kernels of BASE, a static perf from the
# same tree and the bench initramfs, then boots the two kernels by turns,
# BENCH_REPS times each (default 5; QUICK=1: once, with small sizes), and
# runs "perf bench" sched pipe, sched messaging, epoll wait and epoll ctl
# in each boot (qemu/bench-guest.sh); in the first BENCH_SWEEPS boots of
# the patched kernel, acceptlab's scaling and latency experiments
# (qemu/bench-acceptlab.sh).  Under TCG only ratios of runs on
# one host mean anything: scripts/benchreport.py reports the patched/
# baseline speed ratio of each repetition, median and spread, in
# $BUILD_DIR/bench/report.md and bench.json.  Exit 1 if the report is
# partial (a failed benchmark, a boot that did not finish).
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
LOG_TAG=bench
QUICK=${QUICK:-0}
[[ $QUICK =~ ^[01]$ ]] || die "QUICK must be 0 or 1, not '$QUICK'"
# Sizes go to the guest on the kernel command line (qemu/bench-guest.sh,
# qemu/bench-acceptlab.sh); per_boot and per_sweep are the seconds a boot
# and an acceptlab sweep took here (2-core host, TCG), for the estimate.
if [ "$QUICK" = 1 ]; then
	reps=${BENCH_REPS:-1}
	sizes="BENCH_PIPE_LOOPS=2000 BENCH_MSG_LOOPS=2 BENCH_EPOLL_SECS=1"
	sweep="BENCH_WORKERS=2,4 BENCH_CONN_PER_WORKER=20 BENCH_MIN_CONN=40"
	sweep+=" BENCH_LAT_CLIENTS=16 BENCH_LAT_CONN=200 BENCH_WORK_US=500"
	sweep+=" BENCH_CLOG_MS=50 BENCH_CLOG_EVERY=10"
	per_boot=12 per_sweep=10
else
	reps=${BENCH_REPS:-5}
	sizes="BENCH_PIPE_LOOPS=20000 BENCH_MSG_LOOPS=20 BENCH_EPOLL_SECS=3"
	sweep=
	per_boot=15 per_sweep=250
fi
[[ $reps =~ ^[1-9][0-9]?$ ]] || die "BENCH_REPS must be 1..99, not '$reps'"
# The acceptlab sweep runs on the patched kernel (its models need the
# flags), in the first BENCH_SWEEPS of its boots: 3, at most BENCH_REPS.
sweeps=${BENCH_SWEEPS:-3}
[[ $sweeps =~ ^[0-9]+$ ]] || die "BENCH_SWEEPS must be a number, not '$sweeps'"
[ "$sweeps" -le "$reps" ] || sweeps=$reps
out=$BUILD_DIR/bench
logs=$out/logs
# The guest's clock.  Under TCG the vCPUs' TSCs fail the boot's sync check
# (and often its calibration against the PIT), and the guest falls back to
# jiffies, timing every benchmark and latency in steps of 4 ms.  QEMU's TCG
# TSC is the host's, so the guest takes the host's frequency and trusts it.
clock=tsc=reliable
khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
[ -z "$khz" ] || clock+=" tsc_early_khz=$khz"

start=$(date +%s)
step() {
	log "== $* ($(elapsed "$start"))"
}
log "$reps repetitions of baseline and patched, $sweeps with the acceptlab sweep: about" \
	"$(((2 * reps * per_boot + sweeps * per_sweep) / 60 + 1)) minutes of boots, after the builds"

step "kernel trees, kernels, perf, bench initramfs"
"$REPO/scripts/deps.sh"
"$REPO/scripts/kernel-trees.sh"
"$REPO/scripts/build-kernel.sh" baseline
"$REPO/scripts/build-kernel.sh" patched
"$REPO/scripts/build-perf.sh"
"$REPO/qemu/mkinitramfs.sh" bench

rm -rf "$logs" "$out/report.md" "$out/bench.json"
mkdir -p "$logs"
# The cover letter's overhead figures (scripts/export.sh), written again
# only if this run completes, with the series they measured.
rm -f "$BASE_DIR/bench.txt" "$BASE_DIR/bench.series-id"
for rep in $(seq "$reps"); do
	# ABBA order, so that a drift of the host over the run cancels.
	order="baseline patched"
	[ $((rep % 2)) = 1 ] || order="patched baseline"
	for v in $order; do
		append="$clock $sizes BENCH_ACCEPTLAB=0"
		[ "$v" != patched ] || [ "$rep" -gt "$sweeps" ] ||
			append="$clock $sizes BENCH_ACCEPTLAB=1${sweep:+ $sweep}"
		step "repetition $rep/$reps: $v kernel"
		INITRAMFS=$BASE_DIR/bench-initramfs.cpio.gz SERIAL_LOG=$logs/perf-$v-$rep.log \
			VM_APPEND="$append" VM_TIMEOUT=${VM_TIMEOUT:-1800} "$REPO/qemu/boot.sh" "$v" ||
			log "the $v kernel's boot failed; the report will be partial"
	done
done

step "report"
rc=0
# The static acceptlab of the initramfs runs here too: its compare
# command draws the latency CDFs.  A quick run's figures are no overhead
# figures for a cover letter.
cover=()
[ "$QUICK" = 1 ] || cover=(--cover "$BASE_DIR/bench.txt")
python3 "$REPO/scripts/benchreport.py" --out "$out" "${cover[@]}" \
	--acceptlab "$BUILD_DIR/userspace-static/userspace/acceptlab" \
	--command "$(if [ "$QUICK" = 1 ]; then echo "make bench QUICK=1"; else echo make bench; fi) (BASE=$BASE, BENCH_REPS=$reps)" \
	"$logs"/perf-*.log || rc=$?
[ ! -f "$BASE_DIR/bench.txt" ] || cp "$BASE_DIR/patched/series-id" "$BASE_DIR/bench.series-id"
log "done in $(elapsed "$start"): $out/report.md, $out/bench.json"
exit $rc
