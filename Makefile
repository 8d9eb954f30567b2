# EPOLLROUNDROBIN: kernel series, kselftests and the QEMU before/after run.
#
#   make vm      main job: build baseline + patched kernels, boot both under
#                QEMU, run the selftests, print the before/after verdict
#                (DEBUG_KERNEL=1: also the debug kernel's stress run)
#   make check   the test command (CI): series checks + 'vm DEBUG_KERNEL=1'
#   make stress  only the debug kernel, stress run of DEBUG_STRESS_SECS (300)
#   make faults  inject each qemu/faults/*.patch, expect the run to fail
#   make unit    the unit and integration tests that need no kernel build
#
# Knobs (environment or make variables): KERNEL_SRC=/path/to/linux (default:
# Debian's linux-source-6.12), BUILD_DIR, SMP (4), VM_TIMEOUT (900 s),
# VM_MEM (1024 MiB), KVM (auto|0), JOBS (nproc), DEBUG_KERNEL (0|1|only),
# STRESS_SECS (10), DEBUG_STRESS_SECS (60).

SHELL := /bin/bash
BUILD_DIR ?= $(CURDIR)/build
export BUILD_DIR KERNEL_SRC SMP VM_TIMEOUT VM_MEM KVM JOBS DEBUG_KERNEL \
	STRESS_SECS DEBUG_STRESS_SECS

.PHONY: help vm check stress faults deps trees kernels initramfs \
	series-sync series-check checkpatch bisect unit clean

help:
	@sed -n 's/^#   //p' Makefile

vm: deps
	scripts/vmtest.sh

check: deps
	scripts/check.sh

stress: deps
	DEBUG_KERNEL=only DEBUG_STRESS_SECS=$${DEBUG_STRESS_SECS:-300} \
		VM_TIMEOUT=$${VM_TIMEOUT:-1800} scripts/vmtest.sh

faults: deps
	scripts/faults.sh

deps:
	scripts/deps.sh

trees: deps
	scripts/kernel-trees.sh

kernels: trees
	scripts/build-kernel.sh baseline
	scripts/build-kernel.sh patched

initramfs: trees
	qemu/mkinitramfs.sh

# Rewrite the selftest patch from selftests/ after editing the test.
series-sync: trees
	scripts/series.sh sync-selftest

series-check: trees
	scripts/series.sh check-selftest
	scripts/series.sh checkpatch

checkpatch: trees
	scripts/series.sh checkpatch

bisect: trees
	scripts/series.sh bisect

unit: deps
	python3 -m unittest discover -s scripts -p 'test_*.py'
	scripts/test_kernel_trees.sh
	scripts/test_cli_errors.sh
	cmake -S . -B $(BUILD_DIR)/userspace && cmake --build $(BUILD_DIR)/userspace
	ctest --test-dir $(BUILD_DIR)/userspace --output-on-failure

clean:
	rm -rf $(BUILD_DIR)
