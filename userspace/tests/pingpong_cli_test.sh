#!/usr/bin/env bash
# epoll_pingpong as make bench uses it: a run prints its one result line
# with the round trips asked for and a time that adds up; bad input is one
# line on stderr, nothing on stdout, exit status 2.
set -uo pipefail
bin=${1:?usage: pingpong_cli_test.sh EPOLL_PINGPONG}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }

# expect_usage NAME ARGS...: exit 2, one line on stderr, nothing on stdout.
expect_usage() {
	local name=$1
	shift
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && ! [ -s "$tmp/out" ]; then
		ok
	else
		not_ok "$name: exit $rc (want 2): $(head -c 300 "$tmp/err")"
	fi
}

# expect_run NAME LOOPS ARGS...: the result line, for LOOPS round trips,
# with usecs/op equal to seconds * 1e6 / LOOPS (both rounded: seconds to
# 1e-6, usecs to 1e-3).
expect_run() {
	local name=$1 loops=$2
	shift 2
	if ! "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; then
		not_ok "$name: failed: $(head -c 300 "$tmp/err")"
		return
	fi
	if awk -v loops="$loops" '
		function abs(x) { return x < 0 ? -x : x }
		NR == 1 && $1 == "epoll_pingpong:" && $2 == loops && $7 == "s:" && $9 == "usecs/op" &&
		$6 > 0 && abs($8 - $6 * 1e6 / loops) <= 0.001 + 1 / loops { good = 1 }
		END { exit !(good && NR == 1) }' "$tmp/out"; then
		ok
	else
		not_ok "$name: unexpected output: $(head -c 300 "$tmp/out")"
	fi
}

expect_run "default" 20000
expect_run "loops" 500 -l 500
expect_run "exclusive" 300 --loops 300 --exclusive
expect_usage "zero loops" -l 0
expect_usage "junk loops" -l fast
expect_usage "too many loops" -l 1000000000
expect_usage "missing value" -l
expect_usage "unknown option" -q
expect_usage "unknown long option" --frobnicate
expect_usage "stray argument" 100
if "$bin" --help | grep -q '^usage: epoll_pingpong'; then ok; else not_ok "--help"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
