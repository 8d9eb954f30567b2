#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# /tests/bench_acceptlab of the bench initramfs (scripts/bench.sh): the
# accept models under load, in the boot of the patched kernel.  Each run's
# acceptlab JSON is one line of the results (qemu/guest/init: ttyS1),
#   acceptlab-json: {...}
# for scripts/reports/benchreport.py, with a short "bench-progress:" line for the
# person watching; a run that fails prints "bench-error: acceptlab ..." and
# the sweep goes on.  Five experiments, sized from the kernel command line
# (comma-separated lists; no spaces fit there):
#   idle: BENCH_WORKERS workers, processes and threads, every model of
#     IDLE_MODELS, BENCH_IDLE_PER_WORKER (10) sequential connections per
#     worker: each made while every worker waits, where round-robin must
#     rotate exactly (J = 1) and EPOLLEXCLUSIVE gives one worker all;
#   scaling: BENCH_WORKERS workers (2,4,8,16,32,64), processes and threads,
#     every model of SCALING_MODELS, concurrent load from BENCH_CLIENTS
#     clients (16), at least BENCH_CONN_PER_WORKER connections per worker
#     (200: with fewer even a fair random spread scores J < 0.99) and at
#     least BENCH_MIN_CONN (1000) in all;
#   latency: 4 worker processes, CPU-heavy requests (BENCH_WORK_US of CPU
#     time each, 2000), BENCH_LAT_CLIENTS clients (64), BENCH_LAT_CONN
#     connections (4000), every model of LATENCY_MODELS, without and with
#     worker 0 stalling BENCH_CLOG_MS (200) every BENCH_CLOG_EVERY (50) of
#     its requests: the Cloudflare experiment (one shared queue against
#     SO_REUSEPORT's per-worker queues, and its round-robin by eBPF);
#   restart: 4 worker processes, one replaced every BENCH_RESTART_MS (50)
#     as a zero-downtime restart does, under BENCH_RESTART_CONN (4000)
#     connections at BENCH_RESTART_RATE (1000) per second from
#     BENCH_CLIENTS clients, BENCH_RESTART_WORK_US (200) of CPU each: the
#     connections lost, for every model:tcp_migrate_req of RESTART_ROWS;
#   idleconn: 4 worker processes holding every connection in their poll or
#     epoll set (--hold), and K idle connections, K each of
#     BENCH_IDLE_CONNS (0,5000,10000,20000), then BENCH_IDLE_SECS (5) s of
#     keepalive load (BENCH_CLIENTS clients, 10 requests of 16 bytes per
#     connection): the reply rate against K, for every model of
#     IDLECONN_MODELS (the experiment of the 2002 epoll scalability page).
# Then nginx with a clogged worker: BENCH_NGINX_RUNS (3) runs of
# qemu/guest/nginx-ktap.sh's clogged rows (stock, libepoll_rr_shim.so,
# reuseport), BENCH_NGINX_CONN (400) connections at BENCH_NGINX_RATE (200)
# per second, worker 0 stopped for BENCH_NGINX_STOP_MS (500); one
# "nginx-bench: run=I ROW key=value ..." line per row for
# scripts/reports/bench_nginx.py.
# BENCH_ACCEPTLAB=0 skips all of it (the boot runs only the perf
# benchmarks); BENCH_EXPERIMENTS (idle,scaling,latency,restart,idleconn,
# nginx) picks some; BENCH_TW_BUCKETS is tcp_max_tw_buckets (below).
# shellcheck source=scripts/lib/help.sh
case ${1:-} in -h | --help) . "$(dirname "$0")/../../scripts/lib/help.sh" ;; esac
[ "${BENCH_ACCEPTLAB:-1}" = 1 ] || exit 0
acceptlab=/bin/acceptlab
workers_list=$(echo "${BENCH_WORKERS:-2,4,8,16,32,64}" | tr ',' ' ')
clients=${BENCH_CLIENTS:-16}
idle_per_worker=${BENCH_IDLE_PER_WORKER:-10}
per_worker=${BENCH_CONN_PER_WORKER:-200}
min_conn=${BENCH_MIN_CONN:-1000}
work_us=${BENCH_WORK_US:-2000}
lat_clients=${BENCH_LAT_CLIENTS:-64}
lat_conn=${BENCH_LAT_CONN:-4000}
clog_ms=${BENCH_CLOG_MS:-200}
clog_every=${BENCH_CLOG_EVERY:-50}
restart_ms=${BENCH_RESTART_MS:-50}
restart_conn=${BENCH_RESTART_CONN:-4000}
restart_rate=${BENCH_RESTART_RATE:-1000}
restart_work_us=${BENCH_RESTART_WORK_US:-200}
idle_conns=$(echo "${BENCH_IDLE_CONNS:-0,5000,10000,20000}" | tr ',' ' ')
idle_secs=${BENCH_IDLE_SECS:-5}
nginx_runs=${BENCH_NGINX_RUNS:-3}
nginx_conn=${BENCH_NGINX_CONN:-400}
nginx_rate=${BENCH_NGINX_RATE:-200}
nginx_stop_ms=${BENCH_NGINX_STOP_MS:-500}
NGINX_CLOGGED=nginx_stock_clogged,nginx_shim_clogged,nginx_reuseport_clogged
# Plain epoll shows the herd (wakeups per accepted connection), blocking
# and reuseport are the other answers a reviewer names.
SCALING_MODELS="epoll_exclusive epoll_roundrobin epoll_shared epoll_shared_fifo epoll blocking reuseport uring_multishot uring_multishot_roundrobin"
LATENCY_MODELS="blocking epoll_exclusive epoll_roundrobin reuseport reuseport_ebpf_rr"
IDLE_MODELS="epoll_exclusive epoll_roundrobin epoll_shared epoll_shared_fifo uring_multishot uring_multishot_roundrobin blocking reuseport reuseport_ebpf_rr"
# One shared queue (blocking, round-robin) against one queue per worker,
# with and without the kernel moving a closed listener's queue.
RESTART_ROWS="blocking:0 epoll_roundrobin:0 reuseport:0 reuseport:1 reuseport_ebpf_rr:0 reuseport_ebpf_rr:1"
IDLECONN_MODELS="poll epoll_exclusive epoll_roundrobin"
# An experiment left out of BENCH_EXPERIMENTS runs nothing.
experiments=",${BENCH_EXPERIMENTS:-idle,scaling,latency,restart,idleconn,nginx},"
wanted() {
	case $experiments in *",$1,"*) return 0 ;; esac
	return 1
}
wanted idle || IDLE_MODELS=
wanted scaling || SCALING_MODELS=
wanted latency || LATENCY_MODELS=
wanted restart || RESTART_ROWS=
wanted idleconn || IDLECONN_MODELS=
wanted nginx || nginx_runs=0
json=/tmp/acceptlab.json
failed=0
# TIME_WAIT: the server closes first, so each connection leaves one on its
# side for a minute: up to 3000 a second here.  The default cap is half the
# established hash, 4096 in this 1 GiB guest; past it tcp_time_wait()
# drops the socket (TcpExt TCPTimeWaitOverflow), the client's late ACK
# draws a reset, and a client still in connect() gets EPIPE (the reset
# finds its socket in CLOSE_WAIT).  A busy server raises the cap too;
# BENCH_TW_BUCKETS=0 keeps the kernel's default, to see it happen.  A
# failed run prints the TCP counters that tell.
tw_buckets=${BENCH_TW_BUCKETS:-262144}
[ "$tw_buckets" = 0 ] || echo "$tw_buckets" >/proc/sys/net/ipv4/tcp_max_tw_buckets
echo "bench-progress: tcp_max_tw_buckets $(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)"

# tcp_counters: "Tcp:Name value" and "TcpExt:Name value" lines, from the
# header and value line pairs of /proc/net/snmp and /proc/net/netstat.
tcp_counters() {
	cat /proc/net/snmp /proc/net/netstat 2>/dev/null | awk '
		$1 == "Tcp:" || $1 == "TcpExt:" {
			if (!($1 in names)) { names[$1] = $0; next }
			n = split(names[$1], h); split($0, v)
			for (i = 2; i <= n; i++) print $1 h[i], v[i]
			delete names[$1]
		}'
}

# run EXPERIMENT LABEL ARGS...: one acceptlab run, its JSON on one line.
run() {
	experiment=$1 label=$2
	shift 2
	rm -f "$json"
	tcp_counters >/tmp/tcp.before
	"$acceptlab" run --json "$json" "$@" >/tmp/acceptlab.out 2>&1
	rc=$?
	# A run that ended incomplete (exit status 1: a failed connection, a
	# timeout) still wrote its result, which says so ("complete": false);
	# the report shows it, marked.
	if [ -s "$json" ]; then
		echo "acceptlab-json: {\"experiment\":\"$experiment\",\"result\":$(tr -d '\n' <"$json")}"
		echo "bench-progress: $experiment $label: $(grep -m1 '^distribution' /tmp/acceptlab.out)"
	fi
	if [ "$rc" != 0 ]; then
		failed=1
		echo "bench-error: acceptlab $experiment $label: exit status $rc from: acceptlab run $*"
		sed 's/^/# /' /tmp/acceptlab.out
		# What the kernel counted meanwhile (resets, aborts, drops): the
		# cause of a failed connection.
		echo "# TCP counters that changed during the run:"
		tcp_counters | awk 'NR == FNR { was[$1] = $2; next }
			$1 !~ /^Tcp:(CurrEstab|MaxConn|RtoAlgorithm|RtoMin|RtoMax)$/ && $2 != was[$1] {
				printf "#   %s %+d\n", $1, $2 - was[$1]
			}' /tmp/tcp.before -
	fi
}

# The command lines, for the report: N is each of BENCH_WORKERS, M each
# model of the experiment, --threads for the thread kind.
echo "bench-command: idle: acceptlab run --model M --workers N [--threads]" \
	"--mode sequential --connections $idle_per_worker*N --timeout 600"
echo "bench-command: scaling: acceptlab run --model M --workers N [--threads]" \
	"--mode concurrent --concurrency $clients --connections max($per_worker*N,$min_conn) --timeout 600"
echo "bench-command: latency: acceptlab run --model M --workers 4 --mode concurrent" \
	"--concurrency $lat_clients --connections $lat_conn --work-us $work_us --timeout 600" \
	"[--clog-ms $clog_ms --clog-every $clog_every]"
echo "bench-command: restart: acceptlab run --model M --workers 4 --mode concurrent" \
	"--concurrency $clients --connections $restart_conn --rate $restart_rate" \
	"--work-us $restart_work_us --restart-every $restart_ms --tcp-migrate-req T --timeout 600"
echo "bench-command: idleconn: acceptlab run --model M --workers 4 --mode concurrent" \
	"--concurrency $clients --duration $idle_secs --keepalive 10 --request-bytes 16" \
	"--hold --idle K --timeout 600"
echo "bench-command: nginx: NGINX_ROWS=$NGINX_CLOGGED CLOG_CONN=$nginx_conn" \
	"CLOG_RATE=$nginx_rate CLOG_STOP_MS=$nginx_stop_ms nginx-ktap, $nginx_runs times"
echo "bench-command: with N in $workers_list; idle M in $IDLE_MODELS;" \
	"scaling M in $SCALING_MODELS; latency M in $LATENCY_MODELS;" \
	"restart M:T in $RESTART_ROWS; idleconn M in $IDLECONN_MODELS, K in $idle_conns"

# idle and scaling: at each worker count and kind, the idle runs, then the
# scaling runs.
for n in $workers_list; do
	conn=$((n * per_worker))
	[ "$conn" -ge "$min_conn" ] || conn=$min_conn
	for kind in procs threads; do
		threads=
		[ "$kind" = procs ] || threads=--threads
		# shellcheck disable=SC2086 # $threads: no word or one
		for model in $IDLE_MODELS; do
			run idle "$model $kind N=$n" --model "$model" --workers "$n" $threads \
				--mode sequential --connections "$((n * idle_per_worker))" --timeout 600
		done
		# shellcheck disable=SC2086 # as above
		for model in $SCALING_MODELS; do
			run scaling "$model $kind N=$n" --model "$model" --workers "$n" $threads \
				--mode concurrent --concurrency "$clients" --connections "$conn" --timeout 600
		done
	done
done
for clog in 0 1; do
	set --
	[ "$clog" = 0 ] || set -- --clog-ms "$clog_ms" --clog-every "$clog_every"
	for model in $LATENCY_MODELS; do
		run latency "$model clog=$clog" --model "$model" --workers 4 --mode concurrent \
			--concurrency "$lat_clients" --connections "$lat_conn" --work-us "$work_us" \
			--timeout 600 "$@"
	done
done
for row in $RESTART_ROWS; do
	model=${row%:*} migrate=${row#*:}
	run restart "$model tcp_migrate_req=$migrate" --model "$model" --workers 4 \
		--mode concurrent --concurrency "$clients" --connections "$restart_conn" \
		--rate "$restart_rate" --work-us "$restart_work_us" --restart-every "$restart_ms" \
		--tcp-migrate-req "$migrate" --timeout 600
done
for k in $idle_conns; do
	for model in $IDLECONN_MODELS; do
		run idleconn "$model K=$k" --model "$model" --workers 4 --mode concurrent \
			--concurrency "$clients" --duration "$idle_secs" --keepalive 10 \
			--request-bytes 16 --hold --idle "$k" --timeout 600
	done
done
for i in $(seq "$nginx_runs"); do
	NGINX_ROWS=$NGINX_CLOGGED CLOG_CONN=$nginx_conn CLOG_RATE=$nginx_rate \
		CLOG_STOP_MS=$nginx_stop_ms /bin/nginx-ktap >/tmp/nginx.out 2>&1
	rc=$?
	sed -n "s/^# nginx \(nginx_[a-z_]*\): /nginx-bench: run=$i \1 /p" /tmp/nginx.out
	echo "bench-progress: nginx run $i: $(grep -c '^ok' /tmp/nginx.out) rows of" \
		"$(echo "$NGINX_CLOGGED" | tr ',' ' ' | wc -w) ok"
	if [ "$rc" != 0 ]; then
		failed=1
		echo "bench-error: nginx run $i: exit status $rc from nginx-ktap"
		sed 's/^/# /' /tmp/nginx.out
	fi
done
exit $failed
