#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# /tests/bench of the bench initramfs (scripts/bench.sh): the kernel
# benchmarks people know, once per boot, each result one line
#   bench: NAME VALUE UNIT
# that scripts/bench.sh collects; a benchmark that fails prints
#   bench-error: NAME REASON
# followed by its output, and the run goes on.  Sizes come from the kernel
# command line (BENCH_PIPE_LOOPS, BENCH_MSG_LOOPS, BENCH_EPOLL_SECS), so
# the quick smoke run and the full run use the same script.  epoll_pingpong
# (userspace/bench/) is for epoll wakeups what "sched pipe" is for pipes.
# BENCH_PERF=0 prints only what describes the boot (the acceptlab sweeps'
# boots).
# shellcheck source=scripts/lib/help.sh
case ${1:-} in -h | --help) . "$(dirname "$0")/../../scripts/lib/help.sh" ;; esac
pipe_loops=${BENCH_PIPE_LOOPS:-20000}
msg_loops=${BENCH_MSG_LOOPS:-20}
epoll_secs=${BENCH_EPOLL_SECS:-3}
perf=/bin/perf
out=/tmp/bench.out

# measure NAME UNIT AWK CMD...: run CMD; AWK prints "NAME VALUE" lines
# from its output (one or more), each reported with UNIT.  The command
# goes first, as "bench-command: NAME: CMD", for the report.
measure() {
	name=$1 unit=$2 prog=$3
	shift 3
	echo "bench-command: $name: $*"
	"$@" >"$out" 2>&1
	rc=$?
	if [ "$rc" != 0 ]; then
		echo "bench-error: $name: exit status $rc from: $*"
		sed 's/^/# /' "$out"
		return
	fi
	lines=$(awk "$prog" "$out")
	if [ -z "$lines" ]; then
		echo "bench-error: $name: no result in the output of: $*"
		sed 's/^/# /' "$out"
		return
	fi
	echo "$lines" | while read -r n v; do
		echo "bench: $n $v $unit"
	done
}

echo "bench: kernel $(uname -r) release"
echo "bench: vcpus $(nproc) count"
# Every timing below is only as fine as this (scripts/bench.sh asks for the
# TSC: tsc, or tsc-early early in the boot).
echo "bench: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) name"
[ "${BENCH_PERF:-1}" = 1 ] || exit 0
# shellcheck disable=SC2016 # awk programs, not shell expansions
{
	# Microseconds per round trip (the whole run's time only has ms):
	# lower is better.
	measure sched_pipe usecs/op '$2 == "usecs/op" { print "sched_pipe", $1; exit }' \
		"$perf" bench sched pipe -l "$pipe_loops"
	measure sched_pipe_threads usecs/op '$2 == "usecs/op" { print "sched_pipe_threads", $1; exit }' \
		"$perf" bench sched pipe -T -l "$pipe_loops"
	measure epoll_pingpong usecs/op '$9 == "usecs/op" { print "epoll_pingpong", $8; exit }' \
		/bin/epoll_pingpong -l "$pipe_loops"
	measure epoll_pingpong_exclusive usecs/op \
		'$9 == "usecs/op" { print "epoll_pingpong_exclusive", $8; exit }' \
		/bin/epoll_pingpong -x -l "$pipe_loops"
	# Seconds for the whole run (--format=simple): lower is better.
	measure sched_messaging s '/^[0-9]+\.[0-9]+$/ { print "sched_messaging", $1; exit }' \
		"$perf" bench --format=simple sched messaging -g 4 -l "$msg_loops"
	# Operations per second and thread (perf averages the threads): higher
	# is better.
	measure epoll_wait ops/s/thread \
		'/^Averaged .* operations\/sec/ { print "epoll_wait", $2; exit }' \
		"$perf" bench epoll wait -t 4 -r "$epoll_secs"
	measure epoll_ctl ops/s/thread "
		/^Averaged .* ADD operations/ { print \"epoll_ctl_add\", \$2 / $epoll_secs }
		/^Averaged .* MOD operations/ { print \"epoll_ctl_mod\", \$2 / $epoll_secs }
		/^Averaged .* DEL operations/ { print \"epoll_ctl_del\", \$2 / $epoll_secs }" \
		"$perf" bench epoll ctl -t 4 -r "$epoll_secs"
	# The four threads above share one epoll instance, and so its mutex:
	# their figure follows how the mutex is handed over.  One thread
	# measures what each call executes.
	measure epoll_ctl_1t ops/s/thread "
		/^Averaged .* ADD operations/ { print \"epoll_ctl_1t\", \$2 / $epoll_secs }" \
		"$perf" bench epoll ctl -t 1 -r "$epoll_secs"
}
