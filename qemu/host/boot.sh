#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# boot.sh VARIANT: boot $BUILD_DIR/$BASE/VARIANT's bzImage with the base's
# test initramfs under QEMU and echo test results as they come.  The guest
# has two serial ports, each kept in a file:
#   $BUILD_DIR/$BASE/VARIANT/serial.log      the console, ttyS0: only the
#       kernel's messages (boot, panic, KASAN, lockdep, WARN) and QEMU's
#   $BUILD_DIR/$BASE/VARIANT/results.log     ttyS1: everything qemu/guest/init
#       and the tests print (KTAP, "vmtest:" markers, the heartbeat,
#       "bench:" and "acceptlab-json:" lines), then boot.sh's "vmtest: qemu"
#       and "vmtest: host:" lines.  No printk reaches it, so no kernel
#       message can land inside a result line.
# SERIAL_LOG=X.log moves the pair to X.log and X.results (scripts/bench.sh).
# scripts/reports/vmverdict.py and scripts/reports/benchreport.py take the console log's
# name and read both: results from the results file only, kernel reports
# from the console log only.
# A guest that hangs is killed after VM_TIMEOUT seconds; the verdict then
# reports it as incomplete.
# A guest that prints no results for HANG_SECS (default 60; /init prints a
# heartbeat every 10 s), or before /init's first result no console line,
# is frozen, e.g. every CPU spinning with interrupts off, where no in-guest
# detector can report: it is killed at once.
# The stress test runs STRESS_SECS per variant (default 10), or
# DEBUG_STRESS_SECS on the debug kernel (default 60).  VMTEST_ONLY=a,b runs
# only those test programs (their names: the end of --help); INITRAMFS
# picks another initramfs, and VM_APPEND adds NAME=VALUE words to the
# kernel command line (kernel parameters such as tsc=reliable; names the
# kernel does not know reach /init, and so the tests, as environment
# variables, e.g. VMTEST_KMSG_FLOOD=1: see qemu/guest/init).  VM_ICOUNT=SHIFT
# runs the guest on QEMU's instruction counter (-icount shift=SHIFT,
# sleep=off): guest time advances 2^SHIFT ns per instruction instead of
# with the host's clock, so guest timings count the work done, whatever
# else the host runs; one host thread then runs every vCPU.  SMP (4),
# VM_MEM (1024 MiB), KVM (auto|0).
# boot.sh --check-knobs checks all of these knobs and exits, 0 or 1 with
# one line, needing no kernel or initramfs: scripts/vmtest.sh runs it
# before the builds.
# shellcheck source=qemu/host/test-programs.sh
source "$(dirname "$0")/test-programs.sh"
case ${1:-} in
-h | --help)
	# After the header above (scripts/lib/help.sh, through lib.sh).
	trap 'echo; echo "Test programs (VMTEST_ONLY): $(test_programs_text)."' EXIT
	;;
esac
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/../../scripts/lib/lib.sh"

SMP=${SMP:-4}
VM_MEM=${VM_MEM:-1024}
VM_TIMEOUT=${VM_TIMEOUT:-900}
HANG_SECS=${HANG_SECS:-60}
KVM=${KVM:-auto}
STRESS_SECS=${STRESS_SECS:-10}
DEBUG_STRESS_SECS=${DEBUG_STRESS_SECS:-60}

# check_knobs: die with one line on the first bad knob.
check_knobs() {
	local name only=${VMTEST_ONLY:-}
	[[ $SMP =~ ^[1-9][0-9]*$ ]] || die "SMP must be a positive number, not '$SMP'"
	[[ $VM_MEM =~ ^[1-9][0-9]*$ ]] || die "VM_MEM must be a positive number of MiB, not '$VM_MEM'"
	[[ $VM_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "VM_TIMEOUT must be a positive number of seconds"
	[[ $HANG_SECS =~ ^[1-9][0-9]*$ ]] && [ "$HANG_SECS" -ge 20 ] ||
		die "HANG_SECS must be a number of seconds, at least 20 (the heartbeat is every 10 s)"
	[[ $only =~ ^([A-Za-z0-9_]+(,[A-Za-z0-9_]+)*)?$ ]] ||
		die "VMTEST_ONLY must be a comma-separated list of test programs ($(test_programs_text))"
	for name in ${only//,/ }; do
		test_program_table | awk -v name="$name" '$1 == name { found = 1 } END { exit !found }' ||
			die "VMTEST_ONLY: no test program '$name' ($(test_programs_text))"
	done
	[[ ${VM_APPEND:-} =~ ^([A-Za-z][A-Za-z0-9_.]*=[A-Za-z0-9_.,]+( |$))*$ ]] ||
		die "VM_APPEND must be NAME=VALUE words (no spaces or quotes in values)"
	[[ ${VM_ICOUNT:-} =~ ^([0-9]|10)?$ ]] || die "VM_ICOUNT must be a shift of 0..10, not '$VM_ICOUNT'"
	[[ $KVM =~ ^(auto|0)$ ]] || die "KVM must be auto or 0, not '$KVM'"
	for name in STRESS_SECS DEBUG_STRESS_SECS; do
		[[ ${!name} =~ ^[1-9][0-9]*$ ]] && [ "${!name}" -le 1500 ] ||
			die "$name (the stress test's seconds per variant) must be 1..1500, not '${!name}'"
	done
}

if [ "${1:-}" = --check-knobs ]; then
	check_knobs
	exit 0
fi
variant=${1:?usage: boot.sh VARIANT, or boot.sh --check-knobs}
check_variant "$variant"
check_knobs
LOG_TAG=$BASE/$variant
exclude='' guest_env=''
# Upstream's epoll_wakeup_test races on a slow kernel: epoll58 wakes two
# threads polling one epoll instance with two back-to-back writes and wants
# each to find an event, but on the debug kernel (PREEMPT: the emitter can
# be preempted between the writes) the first thread woken can drain the
# instance before the second write.  Seen in 2 of the last 4 test runs;
# rerun alone, it passed.  So a failed test of it runs once more alone,
# and the verdict counts a pass of that rerun as a pass, with a note; our
# own tests get no second chance.
retry=epoll_wakeup_test
if [ "$variant" = debug ]; then
	stress_secs=$DEBUG_STRESS_SECS
	# epoll65 makes 6.4 million non-blocking epoll_wait() calls (64
	# threads, 100000 each): it never sleeps, so it never reaches the
	# series' code, and under KASAN and lockdep in TCG it does not finish
	# even within the 120 s per test qemu/host/mkinitramfs.sh allows upstream's
	# tests (about 20 s on the other kernels, which run it).
	exclude=epoll_wakeup_test:epoll65
	# nginx: only the row that takes the series' path with a real server
	# (the shim's), small.  All six rows took 2 min under KASAN and
	# lockdep, and their latencies mean nothing there (p50 4.6 s at 200
	# connections/s).
	guest_env="NGINX_ROWS=nginx_shim SEQUENTIAL_CONN=16 CONCURRENT_CONN=100"
else
	stress_secs=$STRESS_SECS
fi
kernel=$BASE_DIR/$variant/obj/arch/x86/boot/bzImage
initrd=${INITRAMFS:-$BASE_DIR/initramfs.cpio.gz}
serial=${SERIAL_LOG:-$BASE_DIR/$variant/serial.log}
# The names scripts/reports/vmverdict.py's results_path() gives them.
case ${serial##*/} in
serial.log) results=${serial%serial.log}results.log ;;
*) results=${serial%.log}.results ;;
esac
[ -f "$kernel" ] || die "$kernel missing: build it first (scripts/lib/build-kernel.sh $variant)"
[ -f "$initrd" ] || die "$initrd missing: run qemu/host/mkinitramfs.sh"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (make deps)"

# KVM where it works, else TCG.  /dev/kvm can exist and still fail: nested
# virtualization without some MSRs aborts QEMU, and on other hosts KVM
# accepts the VM but the guest never runs (seen: a paused VM lived, the
# kernel printed nothing in 60 s and the run was killed as hung).  So the
# probe boots this kernel under KVM and waits up to 15 s for its first
# line; the answer is kept for this host boot in $BUILD_DIR/kvm-probe.
# KVM=0 forces TCG.
kvm_works() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	local probe=$BUILD_DIR/kvm-probe boot_id answer=no
	boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
	if [ "$(sed -n 1p "$probe" 2>/dev/null)" = "$boot_id" ]; then
		[ "$(sed -n 2p "$probe")" = yes ]
		return
	fi
	if (set +o pipefail; timeout 15 qemu-system-x86_64 -accel kvm -cpu host -m 256 -smp 1 -nodefaults \
		-display none -monitor none -serial stdio -no-reboot -kernel "$kernel" \
		-append "console=ttyS0 earlyprintk=ttyS0 panic=-1" </dev/null 2>/dev/null |
		grep -q -m1 -a 'Linux version'); then
		answer=yes
	else
		log "/dev/kvm is there, but a guest under KVM printed nothing in 15 s: TCG"
	fi
	mkdir -p "$BUILD_DIR"
	printf '%s\n%s\n' "$boot_id" "$answer" >"$probe"
	[ "$answer" = yes ]
}
accel=tcg
cpu=max
# The instruction counter is TCG's alone.
if [ -z "${VM_ICOUNT:-}" ] && [ "$KVM" != 0 ] && kvm_works; then
	accel=kvm
	cpu=host
fi

pidfile=$BASE_DIR/$variant/qemu.pid
hung=$BASE_DIR/$variant/hung
rm -f "$pidfile" "$hung"

# watch_output: kill QEMU once the results file, where the heartbeat goes,
# stops growing for HANG_SECS; until /init's first line there, while the
# kernel boots, once the console stops growing.
watch_output() {
	local file size last=-1 idle=0
	while sleep 5; do
		file=$serial
		[ ! -s "$results" ] || file=$results
		size=$file:$(stat -c %s "$file" 2>/dev/null || echo 0)
		if [ "$size" != "$last" ]; then
			last=$size idle=0
			continue
		fi
		idle=$((idle + 5))
		if [ "$idle" -ge "$HANG_SECS" ] && [ -f "$pidfile" ]; then
			if [ "$file" = "$results" ]; then
				echo "no results from the guest for ${HANG_SECS}s (the heartbeat stopped)" >"$hung"
			else
				echo "no console output from the booting guest for ${HANG_SECS}s" >"$hung"
			fi
			kill "$(cat "$pidfile")" 2>/dev/null
			return
		fi
	done
}

start=$(date +%s)
log "booting under QEMU ($accel, -smp $SMP, stress ${stress_secs}s per variant, timeout ${VM_TIMEOUT}s, logs: $serial, $results)"
: >"$results"
watch_output &
watcher=$!
# The results as they come, from the file QEMU writes them to, until the
# watcher is gone (after QEMU): tail reads what is left, then ends.
tail -n +1 -F --pid="$watcher" "$results" 2>/dev/null |
	grep --line-buffered -E '^(not ok|ok) |^vmtest: (begin|end|error)|^# stress |^bench(-error)?: ' |
	sed -u "s|^|[$LOG_TAG] |" >&2 &
live=$!
set +e
# One CPU per socket: without ACPI the kernel takes the CPU list from
# SeaBIOS's MP table, which names only the first CPU of each socket.  The
# console is ttyS0 on QEMU's stdout, ttyS1 the results file.
timeout --kill-after=10 "$VM_TIMEOUT" qemu-system-x86_64 -pidfile "$pidfile" \
	-accel "$accel" -cpu "$cpu" -m "$VM_MEM" ${VM_ICOUNT:+-icount "shift=$VM_ICOUNT,sleep=off"} \
	-smp "$SMP,sockets=$SMP,cores=1,threads=1" \
	-display none -monitor none -serial stdio -serial "file:$results" -no-reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 oops=panic EPOLL_RR_STRESS_SECS=$stress_secs${VMTEST_ONLY:+ VMTEST_ONLY=$VMTEST_ONLY}${exclude:+ VMTEST_EXCLUDE=$exclude} VMTEST_RETRY=$retry${guest_env:+ $guest_env}${VM_APPEND:+ $VM_APPEND}" \
	</dev/null 2>&1 |
	tee "$serial" |
	grep --line-buffered -E 'Kernel panic|^vmtest: error' |
	sed -u "s|^|[$LOG_TAG] console: |" >&2
rc=${PIPESTATUS[0]}
kill "$watcher" 2>/dev/null
wait "$watcher" "$live" 2>/dev/null
set -e
# For the reports: under TCG only ratios of runs on one host mean anything.
host_cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n1 | tr -s ' ' '_')
echo "vmtest: qemu accel=$accel smp=$SMP mem=$VM_MEM${VM_ICOUNT:+ icount_shift=$VM_ICOUNT} host_cpus=$(nproc) host_cpu=${host_cpu:-unknown}" >>"$results"
if [ -f "$hung" ]; then
	echo "vmtest: host: $(cat "$hung"): killed as hung" >>"$results"
	log "$(cat "$hung"): killed as hung"
elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	log "VM timed out after ${VM_TIMEOUT}s and was killed"
elif [ "$rc" != 0 ]; then
	log "QEMU exited with status $rc"
fi
log "VM finished in $(elapsed "$start")"
# The verdict reads both files; a missing "vmtest: end" marks an incomplete
# run.
exit 0
