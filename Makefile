# SPDX-License-Identifier: GPL-2.0-only
# EPOLLROUNDROBIN: kernel series, kselftests and the QEMU before/after run.
# Every target installs the Debian packages it needs (scripts/deps.sh).
#
#   make vm           main job: build the baseline and patched kernels of
#                     BASE (7.3; or KERNEL_SRC's tree), boot both under
#                     QEMU, print the before/after table and the verdict
#                     (DEBUG_KERNEL=1: also the debug kernel's stress run)
#   make check        the test command (CI runs it): every check, the VM run
#                     with the debug kernel on 7.3, the patched kernel on 6.12
#   make stress       only the debug kernel, a stress run of 300 s
#   make faults       inject each qemu/faults/*.patch; the run must fail
#   make bench        the cost of the series, measured in the VMs; QUICK=1:
#                     once, small sizes (docs/bench.md)
#   make export       the LKML posting from the last passing run, checked,
#                     in build/export/vN (REVISION=N); sends nothing
#   make unit         the tests that need no kernel build
#   make trees        the baseline and patched source trees of BASE
#   make kernels      build the baseline and patched kernels
#   make initramfs    the test initramfs
#   make series-sync  rewrite each base's selftest patch from selftests/
#   make series-check the selftest patch matches selftests/; checkpatch
#   make checkpatch   checkpatch.pl --strict on every patch of BASE
#   make bisect       build the kernel after each patch of BASE's series
#   make deps         install every package group
#   make clean        remove build/ (not the caches in ~/.cache/epoll-rr)
#   make help         this, and every knob with its default
#
# Each script also answers --help.

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
	@sed -n '/SPDX-License-Identifier/d; 1,/^$$/s/^# \{0,1\}//p' Makefile
	@echo "Knobs (environment or make variables; docs/harness.md#knobs):"
	@awk -F' *\\| *' '/^## Knobs/ { on = 1 } /^## / && !/^## Knobs/ { on = 0 } \
		on && /^\| `/ { gsub(/`/, ""); printf "  %-22s %s\n", $$2, $$3 }' docs/harness.md

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
