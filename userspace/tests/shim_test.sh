#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# libepoll_rr_shim.so under LD_PRELOAD, on whatever kernel runs the test:
# with EPOLLROUNDROBIN, an EPOLLEXCLUSIVE add gains it and nothing is said;
# without, the add goes through unchanged and the shim says so once, even
# for several worker processes.  A plain add is never touched.
check_bin=${1:?usage: shim_test.sh SHIM_CHECK LIBEPOLL_RR_SHIM}
lib=${2:?usage: shim_test.sh SHIM_CHECK LIBEPOLL_RR_SHIM}
# shellcheck source=scripts/tests/testlib.sh
source "$(dirname "$0")/../../scripts/tests/testlib.sh"
EXCLUSIVE=$((1 << 28)) # upstream's; EPOLLROUNDROBIN is shim_check's

# run PRELOAD ARGS...: shim_check's output in $tmp/out, stderr in $tmp/err.
run() {
	local preload=$1
	shift
	env ${preload:+LD_PRELOAD="$preload"} "$check_bin" "$@" >"$tmp/out" 2>"$tmp/err" && return
	echo "# shim_check failed: $(cat "$tmp/out" "$tmp/err" | head -c 300)"
	return 1
}

# masks N WANT_RR [WANT_EXCL]: N events= lines, each with (1) or without
# (0) EPOLLROUNDROBIN, and EPOLLEXCLUSIVE as WANT_EXCL (default 1).
masks() {
	local want_n=$1 want_rr=$2 want_excl=${3:-1} line mask n=0
	while read -r line; do
		mask=$((${line#events=}))
		n=$((n + 1))
		if [ $(((mask & ROUNDROBIN) != 0)) != "$want_rr" ] ||
			[ $(((mask & EXCLUSIVE) != 0)) != "$want_excl" ]; then
			echo "# events $line (want EPOLLROUNDROBIN $want_rr, EPOLLEXCLUSIVE $want_excl)"
			return 1
		fi
	done < <(grep '^events=' "$tmp/out")
	[ "$n" = "$want_n" ] && return
	echo "# $n events= lines, want $want_n"
	return 1
}

# said N: stderr holds N lines, each the shim's.
said() {
	local got
	got=$(grep -c '^epoll_rr_shim: this kernel lacks EPOLLROUNDROBIN' "$tmp/err")
	[ "$got" = "$1" ] && [ "$(wc -l <"$tmp/err")" = "$1" ] && return
	echo "# $got lines from the shim, want $1: $(head -c 300 "$tmp/err")"
	return 1
}

run "" || exit 1
has=$(sed -n 's/^kernel_roundrobin=//p' "$tmp/out")
ROUNDROBIN=$(($(sed -n 's/^roundrobin_flag=//p' "$tmp/out") + 0))
[ "$ROUNDROBIN" != 0 ] || { echo "# shim_check printed no roundrobin_flag="; exit 1; }
echo "# kernel: $(uname -r), EPOLLROUNDROBIN: $has"
check "without the shim" masks 1 0
if [ "$has" = yes ]; then rr=1 speaks=0; else rr=0 speaks=1; fi
# shimmed N ARGS...: shim_check ARGS under the shim, N processes' results.
shimmed() {
	local n=$1
	shift
	run "$lib" "$@" && masks "$n" "$rr" && said "$speaks"
}
plain_add() { run "$lib" --plain && masks 1 0 0; }
check "with the shim" shimmed 1
check "4 workers" shimmed 4 --fork 4
check "plain add" plain_add
summary
