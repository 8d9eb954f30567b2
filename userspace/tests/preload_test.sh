#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The measuring and demo preload libraries of the VM's nginx rows, on
# nginx_standin, which does to a listening socket what nginx does:
# libepoll_ctl_count.so counts the epoll_ctl() calls on listening sockets
# of each process, and nothing else; libnginx_no_reorder.so turns nginx's
# reorder off, and in a program that is not nginx says so and does nothing.
usage="usage: preload_test.sh NGINX_STANDIN SHIM_CHECK LIBEPOLL_CTL_COUNT LIBNGINX_NO_REORDER"
standin=${1:?$usage} shim_check=${2:?$usage} count=${3:?$usage} no_reorder=${4:?$usage}
# shellcheck source=scripts/tests/testlib.sh
source "$(dirname "$0")/../../scripts/tests/testlib.sh"

# run PRELOAD PROGRAM ARGS...: its stdout in $tmp/out, stderr in $tmp/err,
# counts in $tmp/counts.
run() {
	local preload=$1
	shift
	rm -f "$tmp/counts"
	env ${preload:+LD_PRELOAD="$preload"} EPOLL_CTL_COUNT_FILE="$tmp/counts" \
		"$@" >"$tmp/out" 2>"$tmp/err" && return
	echo "# $* failed: $(cat "$tmp/out" "$tmp/err" | head -c 300)"
	return 1
}

# expect FILE LINE...: FILE holds exactly these lines, in any order.
expect() {
	local file=$1
	shift
	[ "$(sort "$file")" = "$(printf '%s\n' "$@" | sort)" ] && return
	echo "# $file: $(head -c 300 "$file" | tr '\n' '|'), want: $*"
	return 1
}

# The counts of each process without the pid, which differs every run.
counts() { sed 's/^pid=[0-9]* //' "$tmp/counts" >"$tmp/c"; expect "$tmp/c" "$@"; }

stock() { run "" "$standin" && expect "$tmp/out" "ngx_use_exclusive_accept=1 reordered=yes"; }
no_reorder() {
	run "$no_reorder" "$standin" &&
		expect "$tmp/out" "ngx_use_exclusive_accept=0 reordered=no" &&
		[ ! -s "$tmp/err" ] || { echo "# stderr: $(head -c 300 "$tmp/err")"; return 1; }
}
# add, del, add on the listener; the eventfd's add is not counted.
counted() {
	run "$count" "$standin" && counts "add=2 del=1 mod=0"
}
# Each forked worker counts its own calls, not its parent's too.
counted_workers() {
	run "$count" "$standin" --fork 2 &&
		counts "add=2 del=1 mod=0" "add=2 del=1 mod=0" "add=2 del=1 mod=0"
}
# Both, as the VM's nginx row with the shim uses them: no reorder calls.
both() {
	run "$no_reorder:$count" "$standin" --fork 2 &&
		counts "add=1 del=0 mod=0" "add=1 del=0 mod=0" "add=1 del=0 mod=0"
}
# Not nginx: one line on stderr, the program's calls as they were.
not_nginx() {
	run "$no_reorder" "$shim_check" --plain && grep -q '^events=' "$tmp/out" &&
		[ "$(grep -c '^nginx_no_reorder: this program exports no ngx_use_exclusive_accept' "$tmp/err")" = 1 ] ||
		{ echo "# out: $(head -c 200 "$tmp/out"), err: $(head -c 300 "$tmp/err")"; return 1; }
}
no_file() {
	env LD_PRELOAD="$count" "$standin" >"$tmp/out" 2>"$tmp/err" &&
		grep -q '^epoll_ctl_count: EPOLL_CTL_COUNT_FILE is not set' "$tmp/err" ||
		{ echo "# err: $(head -c 300 "$tmp/err")"; return 1; }
}

check "stand-in reorders without the libraries" stock
check "no_reorder turns the reorder off" no_reorder
check "count: listener calls only" counted
check "count: per forked worker" counted_workers
check "no_reorder and count together" both
check "no_reorder in a program that is not nginx" not_nginx
check "count without EPOLL_CTL_COUNT_FILE" no_file
summary
