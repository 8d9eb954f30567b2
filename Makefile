# EPOLLROUNDROBIN: kernel series, kselftests and the QEMU before/after run.
#
#   make vm      main job: build baseline + patched kernels of BASE (7.3),
#                boot both under QEMU, run the selftests, print the
#                before/after verdict (DEBUG_KERNEL=1: also the debug
#                kernel's stress run)
#   make check   the test command (CI): series checks of both bases,
#                'vm DEBUG_KERNEL=1' on 7.3, the patched kernel on 6.12
#   make stress  only the debug kernel, stress run of DEBUG_STRESS_SECS (300)
#   make faults  inject each qemu/faults/*.patch, expect the run to fail
#   make unit    the unit and integration tests that need no kernel build
#   make series-sync  rewrite the selftest patch of every base from selftests/
#   make export  the LKML posting from the last passing run (REVISION=N: vN),
#                checked, in build/export/vN; sends nothing
#   make bench   the cost of the series, in the VMs: perf bench on the
#                baseline and patched kernels of BASE by turns (BENCH_REPS,
#                5; BENCH_ICOUNT=1 on QEMU's instruction counter), then
#                acceptlab's idle, scaling, tail latency, restart and
#                idle-connection experiments on the patched one
#                (BENCH_SWEEPS, 3; BENCH_EXPERIMENTS=restart,idleconn: some
#                only); QUICK=1: once, small sizes.  Report, JSON and
#                charts in build/bench/
#
# Knobs (environment or make variables): BASE (7.3|6.12: the kernel base and
# its series), KERNEL_SRC=/path/to/linux (default: Debian's
# linux-source-$BASE), BUILD_DIR, SMP (4), VM_TIMEOUT (900 s), VM_MEM
# (1024 MiB), KVM (auto|0), JOBS (nproc), DEBUG_KERNEL (0|1|only),
# STRESS_SECS (10), DEBUG_STRESS_SECS (60).

SHELL := /bin/bash
BUILD_DIR ?= $(CURDIR)/build
# The maintained bases, from their one definition in scripts/lib/lib.sh.
BASES := $(shell sed -n 's/^BASES="\(.*\)"$$/\1/p' scripts/lib/lib.sh)
export BASE BUILD_DIR KERNEL_SRC SMP VM_TIMEOUT VM_MEM KVM JOBS DEBUG_KERNEL \
	STRESS_SECS DEBUG_STRESS_SECS EXPORT_DIR REVISION KERNEL_PKG QUICK BENCH_REPS BENCH_SWEEPS BENCH_ICOUNT \
	BENCH_EXPERIMENTS

.PHONY: help vm check stress faults deps trees kernels initramfs export bench \
	series-sync series-check checkpatch bisect unit clean

help:
	@sed -n 's/^#   //p' Makefile

# The entry points install what they need themselves (scripts/deps.sh
# GROUP...); the other targets name their groups here.
vm:
	scripts/vmtest.sh

check:
	scripts/check.sh

stress:
	DEBUG_KERNEL=only DEBUG_STRESS_SECS=$${DEBUG_STRESS_SECS:-300} \
		VM_TIMEOUT=$${VM_TIMEOUT:-1800} scripts/vmtest.sh

faults:
	scripts/faults.sh

export:
	scripts/deps.sh kernel export
	scripts/export.sh

bench:
	scripts/bench.sh

deps:
	scripts/deps.sh

trees:
	scripts/deps.sh kernel
	scripts/lib/kernel-trees.sh

kernels: trees
	scripts/lib/build-kernel.sh baseline
	scripts/lib/build-kernel.sh patched

initramfs: trees
	scripts/deps.sh vm
	qemu/host/mkinitramfs.sh

# Rewrite the selftest patch of every base from selftests/ after editing
# the test.
series-sync:
	scripts/deps.sh kernel
	set -e; for b in $(BASES); do \
		BASE=$$b TREES=patched scripts/lib/kernel-trees.sh; \
		BASE=$$b scripts/series.sh sync-selftest; \
	done

series-check: trees
	scripts/series.sh check-selftest
	scripts/series.sh checkpatch

checkpatch: trees
	scripts/series.sh checkpatch

bisect: trees
	scripts/series.sh bisect

unit:
	scripts/deps.sh kernel userspace
	python3 -m unittest discover -s scripts/reports -p 'test_*.py'
	scripts/tests/test_kernel_trees.sh
	scripts/tests/test_cli_errors.sh
	cmake -S . -B $(BUILD_DIR)/userspace -DEPOLL_RR_WERROR=ON && \
		cmake --build $(BUILD_DIR)/userspace
	ctest --test-dir $(BUILD_DIR)/userspace --output-on-failure

clean:
	rm -rf $(BUILD_DIR)
