#!/usr/bin/env bash
# The test command: every check of the project, then one summary line
# "N passed, N failed, N skipped".  Steps:
#   unit tests of the verdict parser, of the userspace C++ (CTest) and of
#   kernel-trees.sh's error handling;
#   the selftest patch matches selftests/;
#   checkpatch --strict; every patch builds (bisect); the VM run
#   (scripts/vmtest.sh), whose checks count one each.
# CHECK_BISECT=0 leaves out the per-patch builds.
source "$(dirname "$0")/lib.sh"
LOG_TAG=check

"$REPO/scripts/deps.sh"

passed=0 failed=0 skipped=0 failures=()
start=$(date +%s)
out=$BUILD_DIR/check-step.out
mkdir -p "$BUILD_DIR"

# counts FILE: "passed failed skipped" from a step's own summary line, if any
# (this project's "N passed, N failed[, N skipped]", CTest, unittest).
counts() {
	local n f
	if n=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\{0,1\}$/\1 \2 \4/p' "$1" | tail -n1) && [ -n "$n" ]; then
		set -- $n
		echo "$1 $2 ${3:-0}"
	elif n=$(sed -n 's/^[0-9]*% tests passed, \([0-9]*\) tests failed out of \([0-9]*\)$/\1 \2/p' "$1" | tail -n1) && [ -n "$n" ]; then
		set -- $n
		echo "$(($2 - $1)) $1 0"
	elif n=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$1" | tail -n1) && [ -n "$n" ]; then
		f=$(sed -n 's/^FAILED (\(.*\))$/\1/p' "$1" | grep -o '[0-9]\+' | paste -sd+ | bc)
		echo "$((n - ${f:-0})) ${f:-0} 0"
	fi
}

# run NAME CMD...: run a step, add its tests (or the step itself) to the totals.
run() {
	local name=$1 rc p f s
	shift
	log "== $name ($(elapsed "$start"))"
	set +e
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	set -e
	if read -r p f s < <(counts "$out"); then
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	elif [ "$rc" = 0 ]; then
		passed=$((passed + 1))
	fi
	if [ "$rc" != 0 ]; then
		failures+=("$name (exit $rc)")
		[ "${f:-0}" != 0 ] || failed=$((failed + 1))
	fi
}

ctest_userspace() {
	cmake -S "$REPO" -B "$BUILD_DIR/userspace" >/dev/null &&
		cmake --build "$BUILD_DIR/userspace" -j"$JOBS" &&
		ctest --test-dir "$BUILD_DIR/userspace" --output-on-failure
}

run "verdict parser unit tests" \
	python3 -m unittest discover -s "$REPO/scripts" -p 'test_*.py'
run "userspace unit tests (CTest)" ctest_userspace
run "kernel-trees.sh error handling" "$REPO/scripts/test_kernel_trees.sh"
run "kernel trees" "$REPO/scripts/kernel-trees.sh"
run "selftest patch matches selftests/" "$REPO/scripts/series.sh" check-selftest
run "checkpatch --strict" "$REPO/scripts/series.sh" checkpatch
if [ "${CHECK_BISECT:-1}" = 1 ]; then
	run "every patch builds" "$REPO/scripts/series.sh" bisect
fi
run "VM run" "$REPO/scripts/vmtest.sh"

log "finished in $(elapsed "$start")"
for f in "${failures[@]}"; do
	log "FAILED: $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
