#!/usr/bin/env bash
# The test command: every check of the project, then one summary line
# "N passed, N failed, N skipped".  Steps:
#   unit tests of the verdict parser, of the userspace C++ (CTest) and of
#   kernel-trees.sh's error handling;
#   the selftest patch matches selftests/;
#   checkpatch --strict; every patch builds (bisect); the VM run
#   (scripts/vmtest.sh) with the debug kernel's stress run, whose checks
#   count one each.
# CHECK_BISECT=0 leaves out the per-patch builds, DEBUG_KERNEL=0 the debug
# kernel; CHECK_FAULTS=1 adds scripts/faults.sh (about 4 min per fault).
source "$(dirname "$0")/lib.sh"
LOG_TAG=check
export DEBUG_KERNEL=${DEBUG_KERNEL:-1}

"$REPO/scripts/deps.sh"

passed=0 failed=0 skipped=0 failures=()
start=$(date +%s)
out=$BUILD_DIR/check-step.out
mkdir -p "$BUILD_DIR"

# counts FILE: "passed failed skipped" from the last summary line a step
# printed: this project's "N passed, N failed[, N skipped]", CTest's or
# Python unittest's.  Nothing if there is none.
counts() {
	awk '
	/^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$/ {
		last = $1 " " $3 " " ($5 == "" ? 0 : $5)
	}
	/^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+$/ {
		last = ($9 - $4) " " $4 " 0"
	}
	/^Ran [0-9]+ tests? in / { ran = $2; last = ran " 0 0" }
	/^FAILED \(/ && ran != "" {
		n = 0
		while (match($0, /[0-9]+/)) {
			n += substr($0, RSTART, RLENGTH)
			$0 = substr($0, RSTART + RLENGTH)
		}
		last = (ran - n) " " n " 0"
	}
	END { if (last != "") print last }
	' "$1"
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
run "scripts refuse bad input" "$REPO/scripts/test_cli_errors.sh"
run "selftest patch matches selftests/" "$REPO/scripts/series.sh" check-selftest
run "checkpatch --strict" "$REPO/scripts/series.sh" checkpatch
if [ "${CHECK_BISECT:-1}" = 1 ]; then
	run "every patch builds" "$REPO/scripts/series.sh" bisect
fi
run "VM run" "$REPO/scripts/vmtest.sh"
if [ "${CHECK_FAULTS:-0}" = 1 ]; then
	run "injected faults are caught" "$REPO/scripts/faults.sh"
fi

log "finished in $(elapsed "$start")"
for f in "${failures[@]}"; do
	log "FAILED: $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
