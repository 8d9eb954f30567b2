#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# epoll_pingpong as make bench uses it: a run prints its one result line
# with the round trips asked for and a time that adds up; bad input is one
# line on stderr, nothing on stdout, exit status 2.
bin=${1:?usage: pingpong_cli_test.sh EPOLL_PINGPONG}
# shellcheck source=scripts/tests/testlib.sh
source "$(dirname "$0")/../../scripts/tests/testlib.sh"

# usage_error ARGS...: exit 2, one line on stderr, nothing on stdout.
usage_error() {
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && ! [ -s "$tmp/out" ] && return
	echo "# exit $rc (want 2): $(head -c 300 "$tmp/err")"
	return 1
}

# result LOOPS ARGS...: the result line, for LOOPS round trips, with
# usecs/op equal to seconds * 1e6 / LOOPS (both rounded: seconds to 1e-6,
# usecs to 1e-3).
result() {
	local loops=$1
	shift
	if ! "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; then
		echo "# failed: $(head -c 300 "$tmp/err")"
		return 1
	fi
	awk -v loops="$loops" '
		function abs(x) { return x < 0 ? -x : x }
		NR == 1 && $1 == "epoll_pingpong:" && $2 == loops && $7 == "s:" && $9 == "usecs/op" &&
		$6 > 0 && abs($8 - $6 * 1e6 / loops) <= 0.001 + 1 / loops { good = 1 }
		END { exit !(good && NR == 1) }' "$tmp/out" && return
	echo "# unexpected output: $(head -c 300 "$tmp/out")"
	return 1
}

check "default" result 20000
check "loops" result 500 -l 500
check "exclusive" result 300 --loops 300 --exclusive
check "zero loops" usage_error -l 0
check "junk loops" usage_error -l fast
check "too many loops" usage_error -l 1000000000
check "missing value" usage_error -l
check "unknown option" usage_error -q
check "unknown long option" usage_error --frobnicate
check "stray argument" usage_error 100
help_text() { "$bin" --help | grep -q '^usage: epoll_pingpong'; }
check "--help" help_text
summary
