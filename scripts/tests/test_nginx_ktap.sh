#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# test_nginx_ktap.sh USERSPACE_BUILD: qemu/guest/nginx-ktap.sh on this machine's
# kernel, with small loads: its rows pass the verdict's rules for a kernel
# without the flags (plain EPOLLEXCLUSIVE gives nginx one worker, the shim
# rows skip with the probe's reason, unless this kernel has the flag); and
# bad input fails every row with a reason, never hangs: no nginx, the port
# taken, a worker that crashes mid-run.  USERSPACE_BUILD holds acceptlab
# and the preload libraries (the CTest build's userspace/ directory).
LOG_TAG=test_nginx_ktap
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/../lib/lib.sh"
build=${1:?usage: test_nginx_ktap.sh USERSPACE_BUILD}
# shellcheck source=scripts/tests/testlib.sh
source "$REPO/scripts/tests/testlib.sh"
nginx=${NGINX_BIN:-$("$REPO/scripts/lib/fetch-nginx.sh")} || die "no nginx: run scripts/deps.sh"
for f in acceptlab libepoll_rr_shim.so libepoll_ctl_count.so libnginx_no_reorder.so; do
	[ -e "$build/$f" ] || die "$build/$f missing: build the userspace first"
done
port=$((20000 + $$ % 20000))

# ktap NAME [VAR=VALUE...]: the script, small, bounded to 120 s; its
# output in $tmp/NAME.log, its exit status (1: a row failed).
ktap() {
	local name=$1
	shift
	env PATH="$build:$PATH" NGINX_BIN="$nginx" PRELOAD_DIR="$build" NGINX_DIR="$tmp/nginx" \
		NGINX_PORT="$port" SEQUENTIAL_CONN=16 CONCURRENT_CONN=100 CLOG_CONN=100 \
		CLOG_RATE=100 CLOG_STOP_MS=200 "$@" \
		timeout 120 sh "$REPO/qemu/guest/nginx-ktap.sh" >"$tmp/$name.log" 2>&1
	local rc=$?
	[ $rc != 124 ] || { echo "# $name: still running after 120 s"; return 1; }
	return $rc
}

# verdict NAME: the script's output as a serial log, through vmverdict.py
# as a kernel without the series.
verdict() {
	{
		echo "vmtest: begin kernel=$(uname -r) nproc=$(nproc)"
		echo "vmtest: run nginx"
		cat "$tmp/$1.log"
		echo "vmtest: exit nginx rc=0"
		echo "vmtest: end"
	} >"$tmp/results.log"
	: >"$tmp/serial.log"
	python3 "$REPO/scripts/reports/vmverdict.py" --smp "$(nproc)" baseline="$tmp/serial.log" \
		>"$tmp/verdict" && grep -q '^nginx_noreorder .*run 16,' "$tmp/verdict" && return
	sed 's/^/# /' "$tmp/verdict" | tail -n 20
	return 1
}

# every_row_fails NAME PATTERN: as many "not ok" rows as the plan has,
# PATTERN among the reasons.
every_row_fails() {
	[ "$(grep -c '^not ok' "$tmp/$1.log")" = "$(sed -n 's/^1\.\.//p' "$tmp/$1.log")" ] &&
		grep -q -- "$2" "$tmp/$1.log" && return
	sed 's/^/# /' "$tmp/$1.log" | head -n 20
	return 1
}

good() { ktap good && verdict good || { sed 's/^/# /' "$tmp/good.log" | tail -n 20; return 1; }; }
# every_row_fails NAME PATTERN after a run that must fail.
failed_run() { ! ktap "$1" "${@:3}" && every_row_fails "$1" "$2"; }
no_nginx() { failed_run no_nginx "no nginx at /nonexistent/nginx" NGINX_BIN=/nonexistent/nginx; }
# The port held by another server: nginx cannot bind it (and tries for
# 2.5 s each time: two rows, one of each kind, are enough).
port_in_use() {
	"$build/acceptlab" serve --model blocking --port "$port" --duration 60 >/dev/null 2>&1 &
	local holder=$!
	sleep 0.5
	failed_run port_in_use "nginx exited at startup" NGINX_ROWS=nginx_stock,nginx_stock_clogged
	local rc=$?
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	[ $rc = 0 ] && grep -q 'Address already in use' "$tmp/port_in_use.log"
}
# A worker killed with SIGSEGV while the first row's load runs.
crash() {
	(
		for _ in $(seq 300); do
			[ "$(wc -l <"$tmp/nginx/access.log" 2>/dev/null || echo 0)" -ge 20 ] &&
				break
			sleep 0.1
		done
		master=$(cat "$tmp/nginx/nginx.pid" 2>/dev/null) &&
			pkill -SEGV -o -P "$master"
	) &
	local killer=$!
	ktap crash SEQUENTIAL_CONN=4000 NGINX_ROWS=nginx_stock
	local rc=$?
	wait "$killer"
	[ $rc = 1 ] && grep -q '^not ok 1 nginx_stock' "$tmp/crash.log" &&
		grep -q -e 'exited on signal 11' -e 'workers changed' "$tmp/crash.log" && return
	sed 's/^/# /' "$tmp/crash.log" | head -n 20
	return 1
}

check "nginx rows on $(uname -r)" good
check "no nginx: every row fails with the reason" no_nginx
check "port in use: every row fails, with nginx's error" port_in_use
check "a worker crashes: its row fails" crash
bad_row() {
	ktap bad_row NGINX_ROWS=nginx_stock,nginx_bogus
	[ $? = 2 ] && grep -q "unknown row 'nginx_bogus'" "$tmp/bad_row.log" && ! grep -q '^ok' "$tmp/bad_row.log"
}
check "an unknown row is refused" bad_row
summary
