#!/usr/bin/env bash
# The test command: every check of the project, then one summary line
# "N passed, N failed, N skipped".  Steps:
#   unit tests of the verdict parser; the selftest patch matches selftests/;
#   checkpatch --strict; every patch builds (bisect); the VM run
#   (scripts/vmtest.sh), whose checks count one each.
# CHECK_BISECT=0 leaves out the per-patch builds.
source "$(dirname "$0")/lib.sh"
LOG_TAG=check

"$REPO/scripts/deps.sh"

passed=0 failed=0 skipped=0 failures=()
start=$(date +%s)
run() {
	local name=$1
	shift
	log "== $name ($(elapsed "$start"))"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name")
	fi
}

run "verdict parser unit tests" \
	python3 -m unittest discover -s "$REPO/scripts" -p 'test_*.py'
run "kernel trees" "$REPO/scripts/kernel-trees.sh"
run "selftest patch matches selftests/" "$REPO/scripts/series.sh" check-selftest
run "checkpatch --strict" "$REPO/scripts/series.sh" checkpatch
if [ "${CHECK_BISECT:-1}" = 1 ]; then
	run "every patch builds" "$REPO/scripts/series.sh" bisect
fi

log "== VM run ($(elapsed "$start"))"
set +e
"$REPO/scripts/vmtest.sh" | tee "$BUILD_DIR/vmtest.out"
vm_rc=${PIPESTATUS[0]}
set -e
# Fold the VM's own "N passed, N failed, N skipped" into the totals.
if read -r p f s < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
		"$BUILD_DIR/vmtest.out" | tail -n1); then
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
fi
if [ "$vm_rc" != 0 ]; then
	failures+=("VM run (exit $vm_rc)")
	[ "${f:-0}" != 0 ] || failed=$((failed + 1))
fi

log "finished in $(elapsed "$start")"
for f in "${failures[@]}"; do
	log "FAILED: $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
