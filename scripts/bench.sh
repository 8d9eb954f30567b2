#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bench.sh: what the series costs, measured inside the VMs (make bench).
# Builds the baseline and patched kernels of BASE, a static perf from the
# same tree and the bench initramfs, then boots the two kernels by turns,
# BENCH_REPS times each (default 5; QUICK=1: once, with small sizes), and
# runs "perf bench" sched pipe, sched messaging, epoll wait, epoll ctl and
# epoll_pingpong in each boot (qemu/guest/bench-guest.sh), on QEMU's
# instruction counter unless BENCH_ICOUNT=0; then boots the patched kernel
# BENCH_SWEEPS times (default 3) for acceptlab's idle, scaling, latency,
# restart and idle-connection experiments and nginx with a clogged worker
# (qemu/guest/bench-acceptlab.sh).  Under TCG only ratios of runs on one host
# mean anything:
# scripts/reports/benchreport.py reports the patched/baseline speed ratio of each
# repetition, median and spread, in $BUILD_DIR/bench/report.md and
# bench.json.  Exit 1 if the report is partial (a failed benchmark, a boot
# that did not finish).
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib/lib.sh"
LOG_TAG=bench
QUICK=${QUICK:-0}
[[ $QUICK =~ ^[01]$ ]] || die "QUICK must be 0 or 1, not '$QUICK'"
# Sizes go to the guest on the kernel command line (qemu/guest/bench-guest.sh,
# qemu/guest/bench-acceptlab.sh); per_boot and per_sweep are the seconds a perf
# boot (per_icount_boot on the instruction counter) and a sweep's boot
# took here (2-core host, TCG), for the estimate.
if [ "$QUICK" = 1 ]; then
	reps=${BENCH_REPS:-1}
	sizes="BENCH_PIPE_LOOPS=2000 BENCH_MSG_LOOPS=2 BENCH_EPOLL_SECS=1"
	sweep="BENCH_WORKERS=2,4 BENCH_CONN_PER_WORKER=20 BENCH_MIN_CONN=40 BENCH_IDLE_PER_WORKER=5"
	sweep+=" BENCH_LAT_CLIENTS=16 BENCH_LAT_CONN=200 BENCH_WORK_US=500"
	sweep+=" BENCH_CLOG_MS=50 BENCH_CLOG_EVERY=10"
	sweep+=" BENCH_RESTART_CONN=400 BENCH_RESTART_RATE=400 BENCH_IDLE_CONNS=0,200 BENCH_IDLE_SECS=1"
	sweep+=" BENCH_NGINX_RUNS=1 BENCH_NGINX_CONN=100 BENCH_NGINX_RATE=100 BENCH_NGINX_STOP_MS=200"
	per_boot=12 per_sweep=50 per_icount_boot=40
	sweeps=${BENCH_SWEEPS:-1}
else
	reps=${BENCH_REPS:-5}
	sizes="BENCH_PIPE_LOOPS=20000 BENCH_MSG_LOOPS=20 BENCH_EPOLL_SECS=3"
	sweep=
	per_boot=15 per_sweep=520 per_icount_boot=50
	sweeps=${BENCH_SWEEPS:-3}
fi
[[ $reps =~ ^[1-9][0-9]?$ ]] || die "BENCH_REPS must be 1..99, not '$reps'"
# The acceptlab sweeps run on the patched kernel (its models need the
# flags), in boots of their own: 3, or 1 with QUICK=1.
[[ $sweeps =~ ^[0-9]$ ]] || die "BENCH_SWEEPS must be 0..9, not '$sweeps'"
# Some of the sweep's experiments only (qemu/guest/bench-acceptlab.sh); the
# cover letter's figures need them all.
experiments=${BENCH_EXPERIMENTS:-}
[[ -z $experiments || $experiments =~ ^((idle|scaling|latency|restart|idleconn|nginx),)*(idle|scaling|latency|restart|idleconn|nginx)$ ]] ||
	die "BENCH_EXPERIMENTS must be a comma-separated list of idle, scaling, latency, restart, idleconn, nginx; not '$experiments'"
[ -z "$experiments" ] || sweep+="${sweep:+ }BENCH_EXPERIMENTS=$experiments"
out=$BUILD_DIR/bench
logs=$out/logs
# The guest's clock.  Under TCG the vCPUs' TSCs fail the boot's sync check
# (and often its calibration against the PIT), and the guest falls back to
# jiffies, timing every benchmark and latency in steps of 4 ms.  QEMU's TCG
# TSC is the host's, so the guest takes the host's frequency and trusts it.
clock=tsc=reliable
khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
[ -z "$khz" ] || clock+=" tsc_early_khz=$khz"
# The perf boots run on QEMU's instruction counter (BENCH_ICOUNT=1, the
# default but for QUICK=1; qemu/host/boot.sh VM_ICOUNT, shift 0: 1 ns per
# instruction, so the TSC counts guest instructions), where a busy host
# slows them but does not change their figures, and a ratio resolves the
# 1% goal: sched pipe 0.143 s of guest time in each of three boots of one
# kernel, against 0.375 to 0.841 s on the host's clock; sched messaging
# 0.147 to 0.151 s (0.316 to 0.499), epoll ctl 43893 to 44437 ops/s (17322
# to 21419).  The figure counts instructions, not cache misses or lock
# contention: what an added test and branch cost.  epoll wait is not judged
# (scripts/reports/benchreport.py NOT_JUDGED): its writer paces itself with
# nanosleep(), and on the instruction counter interrupts land where QEMU's
# translated blocks end, so its figure follows the kernel's code layout and
# varies between boots of one kernel: baseline 11453 to 21598 ops/s in 8
# boots, the series 4801 to 8085 in 9, the baseline with one unused
# function added to kernel/sched/wait.c 10464 and 18077.
# epoll_pingpong times the same wakeups without a timer.  Every vCPU then
# runs on one host thread, so a boot takes 50 s instead of 15: the sweeps,
# which need the vCPUs in parallel, never use it.
icount=${BENCH_ICOUNT:-$((1 - QUICK))}
[[ $icount =~ ^[01]$ ]] || die "BENCH_ICOUNT must be 0 or 1, not '$icount'"
perf_vm=(VM_APPEND="$clock $sizes BENCH_ACCEPTLAB=0")
if [ "$icount" = 1 ]; then
	perf_vm=(VM_ICOUNT=0 VM_APPEND="tsc=reliable tsc_early_khz=1000000 $sizes BENCH_ACCEPTLAB=0")
	per_boot=$per_icount_boot
fi

start=$(date +%s)
step() {
	log "== $* ($(elapsed "$start"))"
}
log "$reps repetitions of baseline and patched, $sweeps acceptlab sweeps: about" \
	"$(((2 * reps * per_boot + sweeps * per_sweep) / 60 + 1)) minutes of boots, after the builds"

step "kernel trees, kernels, perf, bench initramfs"
# The VM knobs first: a typo fails before anything is installed or built.
"$REPO/qemu/host/boot.sh" --check-knobs
"$REPO/scripts/deps.sh" kernel vm bench
"$REPO/scripts/lib/kernel-trees.sh"
"$REPO/scripts/lib/build-kernel.sh" baseline
"$REPO/scripts/lib/build-kernel.sh" patched
"$REPO/scripts/lib/build-perf.sh"
"$REPO/qemu/host/mkinitramfs.sh" bench

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
		step "repetition $rep/$reps: $v kernel (perf bench)"
		env INITRAMFS="$BASE_DIR/bench-initramfs.cpio.gz" SERIAL_LOG="$logs/perf-$v-$rep.log" \
			"${perf_vm[@]}" VM_TIMEOUT="${VM_TIMEOUT:-1800}" "$REPO/qemu/host/boot.sh" "$v" ||
			log "the $v kernel's boot failed; the report will be partial"
	done
done
for s in $(seq "$sweeps"); do
	step "acceptlab sweep $s/$sweeps: patched kernel"
	INITRAMFS=$BASE_DIR/bench-initramfs.cpio.gz SERIAL_LOG=$logs/sweep-$s.log \
		VM_APPEND="$clock BENCH_PERF=0 BENCH_ACCEPTLAB=1${sweep:+ $sweep}" \
		VM_TIMEOUT=${VM_TIMEOUT:-1800} "$REPO/qemu/host/boot.sh" patched ||
		log "the sweep's boot failed; the report will be partial"
done

step "report"
rc=0
# The static acceptlab of the initramfs runs here too: its compare
# command draws the latency CDFs.  A quick run's figures are no overhead
# figures for a cover letter.
cover=()
[ "$QUICK" = 1 ] || [ -n "$experiments" ] || cover=(--cover "$BASE_DIR/bench.txt")
shopt -s nullglob
python3 "$REPO/scripts/reports/benchreport.py" --out "$out" "${cover[@]}" \
	--acceptlab "$BUILD_DIR/userspace-static/userspace/acceptlab" \
	--command "$(if [ "$QUICK" = 1 ]; then echo "make bench QUICK=1"; else echo make bench; fi) (BASE=$BASE, BENCH_REPS=$reps${experiments:+, BENCH_EXPERIMENTS=$experiments})" \
	"$logs"/perf-*.log "$logs"/sweep-*.log || rc=$?
[ ! -f "$BASE_DIR/bench.txt" ] || cp "$BASE_DIR/patched/series-id" "$BASE_DIR/bench.series-id"
log "done in $(elapsed "$start"): $out/report.md, $out/bench.json"
exit $rc
