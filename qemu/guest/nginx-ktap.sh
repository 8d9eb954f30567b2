#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=dash
# Installed as /tests/nginx in the initramfs: Debian's nginx, 4 worker
# processes sharing one listening socket, as KTAP.  Rows:
#   nginx_stock      as shipped: EPOLLEXCLUSIVE, plus its own reorder
#                    workaround (a DEL and an ADD of the listening socket
#                    after a worker's 1st, 17th, 33rd... accept);
#   nginx_noreorder  the workaround off (libnginx_no_reorder.so, a demo
#                    aid): plain EPOLLEXCLUSIVE;
#   nginx_shim       libepoll_rr_shim.so and the workaround off: round-robin
#                    with no epoll_ctl() calls after startup; a SKIP with
#                    the shim's probe's reason on a kernel without the flag;
# each with SEQUENTIAL_CONN sequential connections (each made while every
# worker waits) and CONCURRENT_CONN concurrent ones (8 clients), then, on a
# fresh nginx, the clogged-worker rows (nginx_stock_clogged,
# nginx_shim_clogged, nginx_reuseport_clogged: `listen ... reuseport`,
# per-worker queues): CLOG_CONN connections at CLOG_RATE per second from
# 16 clients while worker 0 is stopped (SIGSTOP) for CLOG_STOP_MS.
# Per row it prints "# distribution ROW sequential|concurrent: COUNTS
# jain=J" (worker order: pid order, which is nginx's spawn order) and
# "# nginx ROW: key=value ..." (longest_run: the most consecutive
# sequential connections one worker served; listen_epoll_ctl: epoll_ctl()
# calls on the listening socket beyond each worker's add at startup and
# delete at exit, counted by libepoll_ctl_count.so; p50_us, p99_us of the
# clogged rows).  Exit status 1 if a row failed.
# NGINX_ROWS=a,b runs only those rows.  The paths can be set to run it on
# a host: NGINX_BIN, PRELOAD_DIR (the three preload libraries), NGINX_DIR
# (scratch), NGINX_PORT; acceptlab is taken from PATH.
# shellcheck source=scripts/lib/help.sh
case ${1:-} in -h | --help) . "$(dirname "$0")/../../scripts/lib/help.sh" ;; esac
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
PRELOAD_DIR=${PRELOAD_DIR:-/lib/epoll-rr}
NGINX_DIR=${NGINX_DIR:-/tmp/nginx}
NGINX_PORT=${NGINX_PORT:-8080}
SEQUENTIAL_CONN=${SEQUENTIAL_CONN:-64}
CONCURRENT_CONN=${CONCURRENT_CONN:-500}
CLOG_CONN=${CLOG_CONN:-400}
CLOG_RATE=${CLOG_RATE:-200}
CLOG_STOP_MS=${CLOG_STOP_MS:-500}
WORKERS=4
shim=$PRELOAD_DIR/libepoll_rr_shim.so
no_reorder=$PRELOAD_DIR/libnginx_no_reorder.so
count=$PRELOAD_DIR/libepoll_ctl_count.so
ALL_ROWS="nginx_stock nginx_noreorder nginx_shim nginx_stock_clogged nginx_shim_clogged nginx_reuseport_clogged"
ROWS=$(echo "${NGINX_ROWS:-$ALL_ROWS}" | tr ',' ' ')
for row in $ROWS; do
	case " $ALL_ROWS " in *" $row "*) ;; *)
		echo "nginx-ktap: unknown row '$row' in NGINX_ROWS (rows: $ALL_ROWS)" >&2
		exit 2
		;;
	esac
done

echo "TAP version 13"
echo "1..$(echo "$ROWS" | wc -w)"
n=0 failed=0
# result ok|fail ROW [DIRECTIVE]: one KTAP line; a failure first prints
# why ($why) and the tail of nginx's logs.
result() {
	n=$((n + 1))
	case $1 in
	ok) echo "ok $n $2${3:+ # $3}" ;;
	*)
		echo "# $2: $why"
		for f in "$NGINX_DIR/stderr" "$NGINX_DIR/error.log"; do
			[ -s "$f" ] && tail -n 5 "$f" | sed "s|^|# ${f##*/}: |"
		done
		echo "not ok $n $2"
		failed=1
		;;
	esac
}
fail_all() {
	for row in $ROWS; do
		result fail "$row"
	done
	exit 1
}
why=
if [ ! -x "$NGINX_BIN" ]; then
	why="no nginx at $NGINX_BIN (scripts/lib/fetch-nginx.sh, or NGINX_BIN=)"
	fail_all
fi
for f in "$shim" "$no_reorder" "$count"; do
	[ -f "$f" ] || { why="missing $f"; fail_all; }
done
command -v acceptlab >/dev/null || { why="no acceptlab in PATH"; fail_all; }

# config [LISTEN_OPTIONS]: nginx.conf, everything under $NGINX_DIR; the
# access log says which worker ($pid) served each request, unbuffered, in
# the order the responses were sent.
config() {
	rm -rf "$NGINX_DIR"
	mkdir -p "$NGINX_DIR"
	cat >"$NGINX_DIR/nginx.conf" <<EOF
worker_processes $WORKERS;
daemon off;
user root;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events { worker_connections 1024; }
http {
	log_format workers '\$pid';
	access_log $NGINX_DIR/access.log workers;
	client_body_temp_path $NGINX_DIR/body;
	proxy_temp_path $NGINX_DIR/proxy;
	fastcgi_temp_path $NGINX_DIR/fastcgi;
	uwsgi_temp_path $NGINX_DIR/uwsgi;
	scgi_temp_path $NGINX_DIR/scgi;
	server {
		listen 127.0.0.1:$NGINX_PORT $1;
		location / { return 200 "x"; }
	}
}
EOF
}

# workers_of PID: its children's pids, ascending (nginx's spawn order),
# on one line.
workers_of() {
	for s in /proc/[0-9]*/stat; do
		# pid (comm) state ppid: comm has no spaces here; gone is fine
		{ read -r pid _ _ ppid _ <"$s"; } 2>/dev/null && [ "$ppid" = "$1" ] && echo "$pid"
	done | sort -n | tr '\n' ' ' | sed 's/ $//'
}

# start PRELOAD [LISTEN_OPTIONS]: nginx in the background ($master), its
# workers in $workers once all of them wait in epoll_wait(); else $why.
start() {
	config "$2"
	LD_PRELOAD=$1 EPOLL_CTL_COUNT_FILE=$NGINX_DIR/epoll_ctl \
		"$NGINX_BIN" -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" \
		</dev/null >"$NGINX_DIR/stderr" 2>&1 &
	master=$!
	i=0
	while [ $i -lt 100 ]; do # 10 s
		if ! kill -0 "$master" 2>/dev/null; then
			why="nginx exited at startup (port $NGINX_PORT in use?)"
			return 1
		fi
		workers=$(workers_of "$master")
		if [ "$(echo "$workers" | wc -w)" = $WORKERS ] &&
			acceptlab load --port "$NGINX_PORT" --connections 1 --http \
				--wait-idle "$(echo "$workers" | tr ' ' ',')" --timeout 5 >/dev/null 2>&1; then
			: >"$NGINX_DIR/access.log" # that probe's line
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	why="nginx did not start $WORKERS workers that accept within 10 s"
	stop
	return 1
}

# stop: nginx's graceful quit, SIGKILL after 10 s; 1 if a worker died or
# was replaced meanwhile (the master restarts a worker that crashed).
# Once per start: a second call does nothing.
stop() {
	[ -n "$master" ] || return 0
	now=$(workers_of "$master")
	kill -QUIT "$master" 2>/dev/null
	i=0
	while kill -0 "$master" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$master" 2>/dev/null; then
		# shellcheck disable=SC2086 # a list of pids
		kill -KILL "$master" $now 2>/dev/null
		why="nginx did not quit within 10 s"
		master=
		return 1
	fi
	wait "$master" 2>/dev/null
	master=
	if [ "$now" != "$workers" ]; then
		why="workers changed during the run (crashed?): $workers -> $now"
		return 1
	fi
	if grep -q 'exited on signal' "$NGINX_DIR/error.log"; then
		why=$(grep -m1 'exited on signal' "$NGINX_DIR/error.log")
		return 1
	fi
	return 0
}

# load OUT ARGS...: acceptlab load against nginx, its report in OUT.
load() {
	out=$1
	shift
	if ! acceptlab load --port "$NGINX_PORT" --http "$@" >"$out" 2>&1; then
		why="acceptlab load $*: $(grep -m1 -e INCOMPLETE -e 'error' -e 'acceptlab:' "$out")"
		return 1
	fi
}

# distribution ROW TEST FIRST LAST: the workers' counts over access log
# lines FIRST..LAST, as a "# distribution" line, and the longest run of
# consecutive lines from one worker in $longest.
distribution() {
	sed -n "$3,$4p" "$NGINX_DIR/access.log" | awk -v workers="$workers" \
		-v row="$1" -v test="$2" -v want=$(($4 - $3 + 1)) '
	BEGIN { n = split(workers, w, " "); for (i = 1; i <= n; i++) idx[w[i]] = i }
	{
		if (!($1 in idx)) { print "# unknown worker pid " $1; bad = 1; next }
		c[idx[$1]]++; total++
		run = ($1 == last) ? run + 1 : 1; last = $1
		if (run > longest) longest = run
	}
	END {
		if (bad || total != want) { print "# " total " requests logged, want " want; exit 1 }
		line = "# distribution " row " " test ":"
		for (i = 1; i <= n; i++) { line = line " " c[i] + 0; s += c[i]; sq += c[i] * c[i] }
		printf "%s jain=%.3f\n", line, s * s / (n * sq)
		print "longest=" longest > "/dev/stderr"
	}' 2>"$NGINX_DIR/longest" || { why="the access log does not match the $2 load"; return 1; }
	longest=$(sed -n 's/^longest=//p' "$NGINX_DIR/longest")
}

# listen_calls: epoll_ctl() calls on the listening socket beyond each
# worker's add at startup and delete at its graceful exit (nginx's
# ngx_close_listening_sockets()): the reorder's; libepoll_ctl_count.so
# wrote one line per process.
listen_calls() {
	awk -v workers=$WORKERS '
	{ for (i = 2; i <= NF; i++) { split($i, kv, "="); n[kv[1]] += kv[2] } lines++ }
	END {
		if (lines < workers) exit 1
		extra = n["mod"]
		extra += n["add"] > workers ? n["add"] - workers : 0
		extra += n["del"] > workers ? n["del"] - workers : 0
		print extra
	}' "$NGINX_DIR/epoll_ctl"
}

# shim_lacks: the shim's own line when its probe found no EPOLLROUNDROBIN.
shim_lacks() {
	sed -n 's/^epoll_rr_shim: this kernel lacks EPOLLROUNDROBIN (\(.*\) on the probe).*/\1/p' \
		"$NGINX_DIR/stderr"
}

# skipped_without_flag ROW: a shim row on a kernel without the flag is
# a SKIP, with the shim's probe's reason; nginx is stopped.
skipped_without_flag() {
	case $1 in nginx_shim*) ;; *) return 1 ;; esac
	lacks=$(shim_lacks)
	[ -n "$lacks" ] || return 1
	stop
	result ok "$1" "SKIP kernel lacks EPOLLROUNDROBIN (libepoll_rr_shim.so's probe: $lacks)"
}

# measure ROW PRELOAD: one nginx, the sequential and concurrent loads.
measure() {
	row=$1 why=
	start "$2" || { result fail "$row"; return; }
	skipped_without_flag "$row" && return
	seq=$SEQUENTIAL_CONN all=$((SEQUENTIAL_CONN + CONCURRENT_CONN))
	if load "$NGINX_DIR/seq" --connections "$seq" --wait-idle "$(echo "$workers" | tr ' ' ',')" &&
		distribution "$row" sequential 1 "$seq" && seq_longest=$longest &&
		load "$NGINX_DIR/conc" --mode concurrent --concurrency 8 --connections "$CONCURRENT_CONN" &&
		distribution "$row" concurrent $((seq + 1)) "$all" &&
		stop; then
		calls=$(listen_calls) || { why="no epoll_ctl counts from the workers"; result fail "$row"; return; }
		echo "# nginx $row: connections=$all longest_run=$seq_longest listen_epoll_ctl=$calls"
		result ok "$row"
	else
		stop
		result fail "$row"
	fi
}

# clogged ROW PRELOAD [LISTEN_OPTIONS]: concurrent load at a fixed rate,
# worker 0 stopped for CLOG_STOP_MS from a quarter of the way in.
clogged() {
	row=$1 why=
	start "$2" "$3" || { result fail "$row"; return; }
	skipped_without_flag "$row" && return
	w0=${workers%% *}
	load "$NGINX_DIR/clog" --mode concurrent --concurrency 16 --rate "$CLOG_RATE" \
		--connections "$CLOG_CONN" &
	client=$!
	sleep "$(awk -v c="$CLOG_CONN" -v r="$CLOG_RATE" 'BEGIN { print c / r / 4 }')"
	kill -STOP "$w0"
	sleep "$(awk -v ms="$CLOG_STOP_MS" 'BEGIN { print ms / 1000 }')"
	kill -CONT "$w0"
	wait "$client"
	rc=$?
	lat=$(sed -n 's/^  p50=\([0-9.]*\) p90=[0-9.]* p99=\([0-9.]*\) .*/p50_us=\1 p99_us=\2/p' \
		"$NGINX_DIR/clog")
	if [ "$rc" != 0 ]; then
		why="acceptlab load: $(grep -m1 -e INCOMPLETE -e 'acceptlab:' "$NGINX_DIR/clog")"
	elif ! stop; then
		: # it said why
	elif [ -z "$lat" ]; then
		why="no latency in acceptlab's report"
	else
		echo "# nginx $row: connections=$CLOG_CONN stopped_ms=$CLOG_STOP_MS $lat"
		result ok "$row"
		return
	fi
	stop
	result fail "$row"
}


echo "# $("$NGINX_BIN" -v 2>&1), $WORKERS workers, kernel $(uname -r)"
# row ROW: whether NGINX_ROWS has it.
row() { case " $ROWS " in *" $1 "*) return 0 ;; esac; return 1; }
row nginx_stock && measure nginx_stock "$count"
row nginx_noreorder && measure nginx_noreorder "$no_reorder:$count"
row nginx_shim && measure nginx_shim "$shim:$no_reorder:$count"
row nginx_stock_clogged && clogged nginx_stock_clogged "$count"
row nginx_shim_clogged && clogged nginx_shim_clogged "$shim:$no_reorder:$count"
row nginx_reuseport_clogged && clogged nginx_reuseport_clogged "$count" reuseport
exit $failed
