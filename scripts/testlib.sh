# shellcheck shell=bash
# Shared by the shell tests of scripts/: a scratch directory removed on
# exit, the pass/fail counts and the summary line check.sh reads.
# Source it, don't run it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# check NAME CMD...: one result, ok if CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name"
	fi
}

# summary: the counts, and the exit status of the test.
summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
