#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input to the project's scripts: each case must end with a non-zero
# exit and one line on stderr that says what is wrong, before any build,
# install or boot starts.  (acceptlab's own cases are in
# userspace/tests/cli_test.sh, kernel-trees.sh's in test_kernel_trees.sh.)
set -uo pipefail
# shellcheck source=scripts/lib/help.sh
source "$(dirname "$0")/../lib/help.sh"
repo=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 skipped=0

# expect NAME PATTERN CMD...: fails, with exactly one stderr line matching
# PATTERN (grep -E), nothing on stdout.  Runs with an empty BUILD_DIR, so
# that a check that lets bad input through cannot reach a real kernel.
expect() {
	local name=$1 pattern=$2 rc
	shift 2
	BUILD_DIR=$tmp/build timeout 60 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
		grep -qE "$pattern" "$tmp/err" && ! [ -s "$tmp/out" ]; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name: exit $rc, stderr: $(head -c 400 "$tmp/err")"
	fi
}

s=$repo/scripts
q=$repo/qemu
expect "build-kernel.sh without a variant" "usage: build-kernel.sh VARIANT" "$s/lib/build-kernel.sh"
expect "build-kernel.sh unknown variant" "unknown variant 'nope'" "$s/lib/build-kernel.sh" nope
expect "build-kernel.sh KERNEL_CACHE_KEEP=0" "KERNEL_CACHE_KEEP must be a positive number" \
	env KERNEL_CACHE_KEEP=0 "$s/lib/build-kernel.sh" patched
expect "build-kernel.sh without trees" "missing: run scripts/lib/kernel-trees.sh" "$s/lib/build-kernel.sh" debug
expect "boot.sh unknown variant" "unknown variant" "$q/host/boot.sh" nope
expect "boot.sh SMP=0" "SMP must be a positive number" env SMP=0 "$q/host/boot.sh" patched
expect "boot.sh negative SMP" "SMP must be a positive number" env SMP=-2 "$q/host/boot.sh" patched
expect "boot.sh VM_TIMEOUT=abc" "VM_TIMEOUT must be" env VM_TIMEOUT=abc "$q/host/boot.sh" patched
expect "boot.sh STRESS_SECS=0" "STRESS_SECS .* must be 1..1500" env STRESS_SECS=0 "$q/host/boot.sh" patched
expect "boot.sh DEBUG_STRESS_SECS too long" "must be 1..1500" env DEBUG_STRESS_SECS=9999 "$q/host/boot.sh" debug
expect "boot.sh HANG_SECS=5" "HANG_SECS must be a number of seconds, at least 20" env HANG_SECS=5 "$q/host/boot.sh" patched
expect "boot.sh VMTEST_ONLY with a space" "VMTEST_ONLY must be" env VMTEST_ONLY="a b" "$q/host/boot.sh" patched
expect "boot.sh VM_ICOUNT=x" "VM_ICOUNT must be a shift of 0..10" env VM_ICOUNT=x "$q/host/boot.sh" patched
expect "boot.sh VM_ICOUNT=11" "VM_ICOUNT must be a shift of 0..10" env VM_ICOUNT=11 "$q/host/boot.sh" patched
expect "boot.sh without a kernel" "bzImage missing: build it first" "$q/host/boot.sh" patched
expect "boot.sh VM_APPEND with a quote" "VM_APPEND must be NAME=VALUE words" \
	env VM_APPEND="BENCH_X='1 2'" "$q/host/boot.sh" patched
expect "bench.sh QUICK=2" "QUICK must be 0 or 1" env QUICK=2 "$s/bench.sh"
expect "bench.sh BENCH_REPS=0" "BENCH_REPS must be 1..99" env BENCH_REPS=0 "$s/bench.sh"
expect "bench.sh BENCH_ICOUNT=2" "BENCH_ICOUNT must be 0 or 1" env BENCH_ICOUNT=2 "$s/bench.sh"
expect "bench.sh BENCH_SWEEPS=x" "BENCH_SWEEPS must be 0..9" env BENCH_SWEEPS=x "$s/bench.sh"
expect "build-perf.sh without trees" "missing: run scripts/lib/kernel-trees.sh first" "$s/lib/build-perf.sh"
expect "mkinitramfs.sh unknown kind" "usage: mkinitramfs.sh \[test\|bench\]" "$q/host/mkinitramfs.sh" nope
expect "vmtest.sh DEBUG_KERNEL=2" "DEBUG_KERNEL must be 0, 1 or only" env DEBUG_KERNEL=2 "$s/vmtest.sh"
expect "vmtest.sh KERNELS=bisect" "KERNELS: bisect is a build-only tree" env KERNELS=bisect "$s/vmtest.sh"
for script in scripts/vmtest.sh scripts/check.sh scripts/lib/kernel-trees.sh scripts/deps.sh \
	scripts/lib/build-kernel.sh scripts/lib/build-perf.sh scripts/bench.sh qemu/host/boot.sh qemu/host/mkinitramfs.sh; do
	expect "$(basename "$script") unknown BASE" "unknown BASE '5.4' \(expected one of: 7.3 6.12\)" \
		env BASE=5.4 "$BASH" "$repo/$script" patched
done
expect "series.sh unknown BASE" "unknown BASE '7'" env BASE=7 "$s/series.sh" check-selftest
expect "faults.sh unknown fault" "no fault 'nope' \(have: " "$s/faults.sh" nope
expect "series.sh unknown command" "usage: series.sh" "$s/series.sh" nope
expect "mkinitramfs.sh without trees" "kselftest_harness.h missing" "$q/host/mkinitramfs.sh"
# A tree as far as mkinitramfs.sh checks it, for its later checks.
mkdir -p "$tmp/build/7.3/patched/src/tools/testing/selftests"
touch "$tmp/build/7.3/patched/src/tools/testing/selftests/kselftest_harness.h"
expect "mkinitramfs.sh NGINX_BIN not a program" "NGINX_BIN=/nonexistent/nginx is not an executable" \
	env NGINX_BIN=/nonexistent/nginx "$q/host/mkinitramfs.sh"
rm -rf "$tmp/build/7.3"
expect "mkinitramfs.sh UPSTREAM_TEST_TIMEOUT=abc" "UPSTREAM_TEST_TIMEOUT must be a positive number" \
	env UPSTREAM_TEST_TIMEOUT=abc "$q/host/mkinitramfs.sh"
expect "vmverdict.py without --smp" "error: the following arguments are required: --smp" \
	python3 "$s/reports/vmverdict.py" x=y
expect "vmverdict.py bad log spec" "error: expected KERNEL=SERIAL_LOG" \
	python3 "$s/reports/vmverdict.py" --smp 4 nolog
expect "vmverdict.py missing log" "error: cannot read $tmp/none" \
	python3 "$s/reports/vmverdict.py" --smp 4 "patched=$tmp/none"

# deps.sh with packages missing, not root and no sudo: a PATH where
# dpkg-query knows no package, id says uid 1000 and there is no sudo.
mkdir -p "$tmp/bin"
printf '#!/bin/sh\nexit 1\n' >"$tmp/bin/dpkg-query"
printf '#!/bin/sh\necho 1000\n' >"$tmp/bin/id"
chmod +x "$tmp/bin/dpkg-query" "$tmp/bin/id"
for tool in grep dirname nproc; do
	ln -s "$(command -v "$tool")" "$tmp/bin/$tool"
done
expect "boot.sh --check-knobs: a test name that is none" "VMTEST_ONLY: no test program 'epoll_rr_tst'" \
	env VMTEST_ONLY=epoll_rr_tst "$q/host/boot.sh" --check-knobs
expect "boot.sh --check-knobs: KVM=1" "KVM must be auto or 0" env KVM=1 "$q/host/boot.sh" --check-knobs
expect "vmtest.sh: a bad knob before anything else" "SMP must be a positive number" \
	env SMP=0 "$s/vmtest.sh"
expect "check.sh: a bad knob before anything else" "VM_TIMEOUT must be a positive number" \
	env VM_TIMEOUT=10m "$s/check.sh"
: >"$tmp/console.log"
expect "vmverdict.py: a console log without its results" "cannot read $tmp/console.results" \
	python3 "$s/reports/vmverdict.py" --smp 4 patched="$tmp/console.log"
expect "deps.sh without root or sudo" "missing packages \(.*\) and neither root nor sudo" \
	env PATH="$tmp/bin" "$BASH" "$s/deps.sh"

# The stress test refuses a bad duration instead of running a default one.
# Its harness comes from the default base's tree.
# shellcheck source=scripts/lib/lib.sh
base_dir=$(source "$repo/scripts/lib/lib.sh" && echo "$BASE_DIR")
harness=$base_dir/patched/src/tools/testing/selftests/filesystems/epoll
if [ -f "$harness/../../kselftest_harness.h" ] &&
	gcc -O2 -I"$harness" -o "$tmp/stress" "$repo/selftests/epoll_rr_stress_test.c" \
		-luring -lpthread 2>"$tmp/err"; then
	EPOLL_RR_STRESS_SECS=abc timeout 60 "$tmp/stress" -v exclusive >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q '^not ok 1 stress.exclusive.run' "$tmp/out" &&
		grep -q 'EPOLL_RR_STRESS_SECS must be 1..1500' "$tmp/out"; then
		passed=$((passed + 1))
		echo "ok - stress test with EPOLL_RR_STRESS_SECS=abc"
	else
		failed=$((failed + 1))
		echo "not ok - stress test with EPOLL_RR_STRESS_SECS=abc: exit $rc: $(head -c 400 "$tmp/out")"
	fi
else
	skipped=$((skipped + 1))
	echo "skip - stress test duration check: no kernel tree yet (scripts/lib/kernel-trees.sh)"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
