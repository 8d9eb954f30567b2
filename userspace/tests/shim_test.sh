#!/usr/bin/env bash
# libepoll_rr_shim.so under LD_PRELOAD, on whatever kernel runs the test:
# with EPOLLROUNDROBIN, an EPOLLEXCLUSIVE add gains it and nothing is said;
# without, the add goes through unchanged and the shim says so once, even
# for several worker processes.  A plain add is never touched.
set -uo pipefail
check=${1:?usage: shim_test.sh SHIM_CHECK LIBEPOLL_RR_SHIM}
lib=${2:?usage: shim_test.sh SHIM_CHECK LIBEPOLL_RR_SHIM}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
EXCLUSIVE=$((1 << 28)) ROUNDROBIN=$((1 << 26))

# run NAME PRELOAD ARGS...: shim_check's output in $tmp/out, stderr in
# $tmp/err; fails the test if shim_check fails.
run() {
	local name=$1 preload=$2
	shift 2
	if ! env ${preload:+LD_PRELOAD="$preload"} "$check" "$@" >"$tmp/out" 2>"$tmp/err"; then
		not_ok "$name: shim_check failed: $(cat "$tmp/out" "$tmp/err" | head -c 300)"
		return 1
	fi
}
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
ok() { passed=$((passed + 1)); }

# expect_masks NAME WANT_RR [WANT_EXCL]: every events= line has (1) or
# lacks (0) EPOLLROUNDROBIN, and EPOLLEXCLUSIVE as WANT_EXCL (default 1).
expect_masks() {
	local name=$1 want_rr=$2 want_excl=${3:-1} line mask n=0
	while read -r line; do
		mask=$((${line#events=}))
		n=$((n + 1))
		if [ $(((mask & ROUNDROBIN) != 0)) != "$want_rr" ] ||
			[ $(((mask & EXCLUSIVE) != 0)) != "$want_excl" ]; then
			not_ok "$name: events $line (want EPOLLROUNDROBIN $want_rr, EPOLLEXCLUSIVE $want_excl)"
			return
		fi
	done < <(grep '^events=' "$tmp/out")
	if [ "$n" = 0 ]; then not_ok "$name: no events= line"; else ok; fi
}

# expect_said NAME N: N lines of the shim's on stderr.
expect_said() {
	local got
	got=$(grep -c '^epoll_rr_shim: this kernel lacks EPOLLROUNDROBIN' "$tmp/err")
	if [ "$got" = "$2" ] && [ "$(wc -l <"$tmp/err")" = "$2" ]; then ok; else
		not_ok "$1: $got lines from the shim, want $2: $(head -c 300 "$tmp/err")"
	fi
}

run "without the shim" "" || exit 1
has=$(sed -n 's/^kernel_roundrobin=//p' "$tmp/out")
echo "# kernel: $(uname -r), EPOLLROUNDROBIN: $has"
expect_masks "without the shim" 0
if [ "$has" = yes ]; then rr=1 said=0; else rr=0 said=1; fi
run "with the shim" "$lib" && { expect_masks "with the shim" $rr; expect_said "with the shim" $said; }
run "4 workers" "$lib" --fork 4 && {
	expect_masks "4 workers" $rr
	[ "$(grep -c '^events=' "$tmp/out")" = 4 ] && ok || not_ok "4 workers: not 4 results"
	expect_said "4 workers" $said
}
run "plain add" "$lib" --plain && expect_masks "plain add" 0 0

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
