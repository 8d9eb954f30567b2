#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The test command: every check of the project, on every base (only
# KERNEL_SRC's if set), then one summary line "N passed, N failed,
# N skipped".  Steps:
#   unit tests of the verdict parser;
#   per base: the series applies (kernel trees);
#   unit tests of the userspace C++ (CTest), of kernel-trees.sh's error
#   handling, of the kernel image cache and the per-patch builds on fake
#   trees, and of bad input to every script (the export's too); shellcheck
#   of every script;
#   per base: the selftest patch matches selftests/, checkpatch --strict;
#   on the newest base: every patch builds (bisect), the kernels (then
#   the older bases' patched kernels and the newest base's perf start
#   building in the background), then the VM run
#   (scripts/vmtest.sh) of the baseline, patched and debug kernels with the
#   debug kernel's stress run, then an export of the posting from that run
#   (scripts/tests/test_export.sh posting: as a test submitter, to a scratch
#   directory) and its checks against broken copies;
#   on the older bases: the VM run of the patched kernel;
#   then make bench QUICK=1 on the newest base (scripts/bench.sh).
# The checks of each VM run count one each.  CHECK_BISECT=0 leaves out the
# per-patch builds, DEBUG_KERNEL=0 the debug kernel; CHECK_FAULTS=1 adds
# scripts/faults.sh on the newest base (about 4 min per fault).
LOG_TAG=check
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib/lib.sh"
export DEBUG_KERNEL=${DEBUG_KERNEL:-1}
# Half of vmtest.sh's 60 s, to fit CI's time: scripts/faults.sh shows that
# 30 s per variant catches every injected fault; "make stress" runs 300 s.
export DEBUG_STRESS_SECS=${DEBUG_STRESS_SECS:-30}
newest=${BASES%% *}
check_bases=$BASES
[ -z "$KERNEL_SRC" ] || check_bases=$BASE

start=$(date +%s)
# The VM knobs first: a typo fails before anything is installed or built.
"$REPO/qemu/host/boot.sh" --check-knobs
"$REPO/scripts/deps.sh"

passed=0 failed=0 skipped=0 failures=()
phases=("$(printf '%9s  %s' "$(elapsed "$start")" "packages and kernel sources (deps.sh)")")
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
	local name=$1 rc p f s phase_start
	shift
	phase_start=$(date +%s)
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
	phases+=("$(printf '%9s  %s' "$(elapsed "$phase_start")" "$name")")
}

# The tests run on the Release build, with warnings as errors; the Debug
# build only has to compile, also without a warning.  (The static acceptlab
# of the VM runs, qemu/host/mkinitramfs.sh, takes EPOLL_RR_WERROR too.)
export EPOLL_RR_WERROR=ON
ctest_userspace() {
	local type
	for type in Debug Release; do
		cmake -S "$REPO" -B "$BUILD_DIR/userspace-$type" -DCMAKE_BUILD_TYPE=$type \
			-DEPOLL_RR_WERROR=$EPOLL_RR_WERROR >/dev/null &&
			CCACHE_BASEDIR=$REPO cmake --build "$BUILD_DIR/userspace-$type" -j"$JOBS" ||
			return 1
	done
	ctest --test-dir "$BUILD_DIR/userspace-Release" --output-on-failure
}

# Background builds: what is needed last (the older bases' patched kernels
# for their VM runs, the newest base's perf for make bench) builds at the
# lowest CPU priority once the newest base's kernels are built, in the CPU
# time its VMs leave idle (a boot of the 7.2 baseline under TCG used 1.9
# min of CPU in 1.4 min).  Not earlier: started right after the kernel
# trees, these builds took CPU time from the per-patch builds and git's
# work, not idle time (cold test run: 65m37s, against 64m35s when they
# started after the kernels).  A failed background build is only logged:
# the step that needs it builds again, and reports.
declare -A background=()
background_log() { echo "$BUILD_DIR/background-$1.log"; }
# background_start NAME CMD...
background_start() {
	local name=$1 logf
	shift
	logf=$(background_log "$name")
	log "building $name in the background at nice 19 (log: $logf)"
	# setsid: a process group of its own, to kill.  Under autogroup
	# scheduling it is also a group of its own, which gets an equal share
	# of the CPUs whatever its tasks' nice, unless its own nice is 19 too.
	setsid -w sh -c 'echo 19 >/proc/self/autogroup 2>/dev/null; exec nice -n 19 "$@"' \
		background "$@" >"$logf" 2>&1 &
	background[$name]=$!
}
# background_wait NAME
background_wait() {
	local name=$1
	[ -n "${background[$name]:-}" ] || return 0
	log "waiting for the background build of $name"
	wait "${background[$name]}" ||
		log "the background build of $name failed ($(background_log "$name")); the next step builds again"
	unset "background[$name]"
}
# An interrupted test run stops the background builds too.
trap 'for p in "${background[@]}"; do kill -- "-$p" 2>/dev/null; done' EXIT
# make bench QUICK=1 runs last, on the newest base.
bench_base=
case " $check_bases " in *" $newest "*) bench_base=$newest ;; esac

run "verdict parser unit tests" \
	python3 -m unittest discover -s "$REPO/scripts/reports" -p 'test_*.py'
# The series applies on every base: first, so that a broken series shows
# early.  The older bases run the patched kernel only, so need no baseline
# tree.  The bases at once: each is mostly one CPU's work (xz, git add).
declare -A trees_rc=() trees_pid=()
trees_out() { echo "$BUILD_DIR/trees-$1.out"; }
log "preparing the kernel trees of $check_bases at once"
for b in $check_bases; do
	trees=patched
	[ "$b" != "$newest" ] || trees="baseline patched"
	env BASE="$b" TREES="$trees" "$REPO/scripts/lib/kernel-trees.sh" >"$(trees_out "$b")" 2>&1 &
	trees_pid[$b]=$!
done
# Meanwhile the userspace tests, which mostly wait on sockets and sleeps:
# 25 s of the trees' 1.5 min.
run "userspace unit tests (CTest)" ctest_userspace
run "nginx on this machine's kernel (qemu/guest/nginx-ktap.sh)" \
	"$REPO/scripts/tests/test_nginx_ktap.sh" "$BUILD_DIR/userspace-Release/userspace"
for b in $check_bases; do
	trees_rc[$b]=0
	wait "${trees_pid[$b]}" || trees_rc[$b]=$?
done
trees_step() { cat "$(trees_out "$1")"; return "${trees_rc[$1]}"; }
for b in $check_bases; do
	run "$b: kernel trees (the series applies)" trees_step "$b"
done
run "kernel-trees.sh error handling" "$REPO/scripts/tests/test_kernel_trees.sh"
run "kernel image cache" "$REPO/scripts/tests/test_kernel_cache.sh"
run "per-patch builds (bisect)" "$REPO/scripts/tests/test_bisect.sh"
run "shellcheck of every shell script" "$REPO/scripts/tests/shellcheck.sh"
run "--help of every entry point, with no side effect" "$REPO/scripts/tests/test_help.sh"
run "the documented knobs are the knobs the scripts read" "$REPO/scripts/tests/test_knobs.sh"
run "export refuses bad input" "$REPO/scripts/tests/test_export.sh" refusals
run "scripts refuse bad input" "$REPO/scripts/tests/test_cli_errors.sh"
for b in $check_bases; do
	run "$b: selftest patch matches selftests/" env BASE="$b" "$REPO/scripts/series.sh" check-selftest
	run "$b: checkpatch --strict" env BASE="$b" "$REPO/scripts/series.sh" checkpatch
done
for b in $check_bases; do
	if [ "$b" != "$newest" ]; then
		background_wait "$b-patched"
		# nginx: the two rows the verdict judges (the main table is the
		# newest base's).
		run "$b: VM run (patched kernel)" env BASE="$b" KERNELS=patched \
			VM_APPEND="NGINX_ROWS=nginx_noreorder,nginx_shim" "$REPO/scripts/vmtest.sh"
		continue
	fi
	if [ "${CHECK_BISECT:-1}" = 1 ]; then
		run "$b: every patch builds" env BASE="$b" "$REPO/scripts/series.sh" bisect
	fi
	run "$b: kernels" env BASE="$b" BUILD_ONLY=1 "$REPO/scripts/vmtest.sh"
	for older in $check_bases; do
		[ "$older" = "$newest" ] ||
			background_start "$older-patched" env BASE="$older" "$REPO/scripts/lib/build-kernel.sh" patched
	done
	[ -z "$bench_base" ] || background_start "$bench_base-perf" env BASE="$bench_base" "$REPO/scripts/lib/build-perf.sh"
	run "$b: VM run" env BASE="$b" "$REPO/scripts/vmtest.sh"
	run "$b: export of the posting, and its checks" env BASE="$b" "$REPO/scripts/tests/test_export.sh" posting
	if [ "${CHECK_FAULTS:-0}" = 1 ]; then
		run "$b: injected faults are caught" env BASE="$b" "$REPO/scripts/faults.sh"
	fi
done

# The benchmark pipeline end to end, with small sizes: that it runs and
# its report parses, not its figures.
if [ -n "$bench_base" ]; then
	background_wait "$bench_base-perf"
	run "$bench_base: make bench QUICK=1 (the pipeline, not its figures)" \
		env BASE="$bench_base" QUICK=1 "$REPO/scripts/bench.sh"
fi

log "time of each phase (the background builds overlap them):"
printf '  %s\n' "${phases[@]}" >&2
log "finished in $(elapsed "$start")"
for f in "${failures[@]}"; do
	log "FAILED: $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
