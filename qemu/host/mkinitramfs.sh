#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# mkinitramfs.sh [test|bench]
# test (default): pack $BUILD_DIR/$BASE/initramfs.cpio.gz: static busybox,
#   qemu/guest/init, the selftests, upstream's epoll_wakeup_test from the base's
#   tree, and acceptlab (with its KTAP wrapper), all static; and Debian's
#   nginx (NGINX_BIN, or scripts/lib/fetch-nginx.sh's), the preload libraries and
#   every shared library they need, for qemu/guest/nginx-ktap.sh.  One initramfs
#   serves every kernel variant of the base.
# bench: pack $BUILD_DIR/$BASE/bench-initramfs.cpio.gz for scripts/bench.sh:
#   busybox, qemu/guest/init, qemu/guest/bench-guest.sh and qemu/guest/bench-acceptlab.sh as
#   its tests, a static perf (scripts/lib/build-perf.sh), acceptlab,
#   epoll_pingpong, and nginx as above with qemu/guest/nginx-ktap.sh.
# The programs of /tests are listed in qemu/host/test-programs.sh.
LOG_TAG=initramfs
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/../../scripts/lib/lib.sh"
# shellcheck source=qemu/host/test-programs.sh
source "$REPO/qemu/host/test-programs.sh"
kind=${1:-test}
case $kind in
test) root=$BASE_DIR/initramfs out=$BASE_DIR/initramfs.cpio.gz ;;
bench) root=$BASE_DIR/bench-initramfs out=$BASE_DIR/bench-initramfs.cpio.gz ;;
*) die "usage: mkinitramfs.sh [test|bench]" ;;
esac
LOG_TAG=$BASE/initramfs
busybox=${BUSYBOX:-/bin/busybox}
UPSTREAM_TEST_TIMEOUT=${UPSTREAM_TEST_TIMEOUT:-120}
# kselftest_harness.h comes from the base's patched tree; the tests include
# it as "../../kselftest_harness.h", as they do in tools/testing/selftests/.
harness_dir=$BASE_DIR/patched/src/tools/testing/selftests
epoll_dir=$harness_dir/filesystems/epoll

[[ $UPSTREAM_TEST_TIMEOUT =~ ^[1-9][0-9]*$ ]] ||
	die "UPSTREAM_TEST_TIMEOUT must be a positive number of seconds, not '$UPSTREAM_TEST_TIMEOUT'"
[ -f "$harness_dir/kselftest_harness.h" ] ||
	die "$harness_dir/kselftest_harness.h missing: run scripts/lib/kernel-trees.sh first"
[ -x "$busybox" ] || die "$busybox not found: install busybox-static (make deps)"
if readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
	die "$busybox is dynamically linked: install busybox-static (make deps)"
fi

nginx=${NGINX_BIN:-$("$REPO/scripts/lib/fetch-nginx.sh")} || die "no nginx: run scripts/deps.sh"
[ -x "$nginx" ] || die "NGINX_BIN=$nginx is not an executable"

rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,tests}
cp "$busybox" "$root/bin/busybox"
install -m 755 "$REPO/qemu/guest/init" "$root/init"

# static PROGRAM...: userspace programs, static, into /bin: acceptlab for
# both kinds, epoll_pingpong for the bench.  EPOLL_RR_WERROR as the test
# command's Release build has it: the same compiler flags, so ccache serves
# every object.
static() {
	log "building $* (static)"
	cmake -S "$REPO" -B "$BUILD_DIR/userspace-static" -DCMAKE_BUILD_TYPE=Release \
		-DACCEPTLAB_STATIC=ON -DEPOLL_RR_WERROR="${EPOLL_RR_WERROR:-OFF}" >/dev/null
	CCACHE_BASEDIR=$REPO cmake --build "$BUILD_DIR/userspace-static" --target "$@" -j"$JOBS" >/dev/null
	for prog in "$@"; do
		install -m 755 "$BUILD_DIR/userspace-static/userspace/$prog" "$root/bin/$prog"
	done
}

# pack: the cpio archive of $root.
pack() {
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -n -1 > "$out"
	log "packed $out ($(du -h "$out" | cut -f1))"
}

# with_libs FILE...: FILE and each shared library it loads, ld.so included,
# at their paths on this machine (which the guest's loader searches).
with_libs() {
	local f lib libs
	for f; do
		libs=$(ldd "$f" 2>/dev/null) || die "$f: not a dynamic ELF file ldd can read"
		while read -r lib; do
			[ -e "$root$lib" ] || install -D -m 755 "$lib" "$root$lib"
		done < <(sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^\t\(\/[^ ]*\) .*/\1/p' <<<"$libs")
	done
}
# add_nginx: nginx, the preload libraries and what they load (after
# static(), which configures the build), for qemu/guest/nginx-ktap.sh.
add_nginx() {
	log "adding $nginx ($("$nginx" -v 2>&1 | sed 's/.*: //')) and the preload libraries"
	install -D -m 755 "$nginx" "$root/usr/sbin/nginx"
	local lib preload=(epoll_rr_shim epoll_ctl_count nginx_no_reorder)
	CCACHE_BASEDIR=$REPO cmake --build "$BUILD_DIR/userspace-static" --target "${preload[@]}" \
		-j"$JOBS" >/dev/null
	mkdir -p "$root/lib/epoll-rr"
	for lib in "${preload[@]}"; do
		install -m 755 "$BUILD_DIR/userspace-static/userspace/lib$lib.so" "$root/lib/epoll-rr/"
	done
	with_libs "$root/usr/sbin/nginx" "$root"/lib/epoll-rr/*.so
	# nginx's "user root" looks root up.
	mkdir -p "$root/etc"
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	echo "root:x:0:" >"$root/etc/group"
}

# add_tests: the programs of /tests for this kind, as
# qemu/host/test-programs.sh lists them.
add_tests() {
	local name k from
	while read -r name k from; do
		[ "$k" = "$kind" ] || continue
		case $from in
		selftests/*) selftest "$name" "$REPO/$from" ;;
		upstream) upstream_wakeup_test "$name" ;;
		*) install -m 755 "$REPO/$from" "$root/tests/$name" ;;
		esac
	done < <(test_program_table)
}

# selftest NAME SOURCE: a test of selftests/, static.  The stress test's
# io_uring worker uses liburing; the others ignore it.
selftest() {
	log "building $1 (static)"
	gcc -static -O2 -Wall -Werror -Wno-clobbered \
		-I"$epoll_dir" -o "$root/tests/$1" "$2" \
		-luring -lpthread
}

# upstream_wakeup_test NAME: upstream's epoll tests, built as its Makefile does
# (no -Wall), plus -I for the harness (7.2 includes it as
# "kselftest_harness.h", 6.12 as "../../kselftest_harness.h").  Unchanged
# but for the harness's limit per test, 30 s, meant for real hardware:
# under TCG, epoll65 (64 threads, 6.4 million epoll_wait() calls) takes
# about 20 s on the plain kernels and more than 30 s with KASAN and
# lockdep.  The wrapper includes the harness first (it is include-guarded),
# then redefines the limit the tests' TEST() macros expand to.
upstream_wakeup_test() {
	log "building upstream epoll_wakeup_test (static, ${UPSTREAM_TEST_TIMEOUT}s per test)"
	local wrapper=$BASE_DIR/epoll_wakeup_test.c
	printf '#include "kselftest_harness.h"\n#undef TEST_TIMEOUT_DEFAULT\n#define TEST_TIMEOUT_DEFAULT %s\n#include "%s"\n' \
		"$UPSTREAM_TEST_TIMEOUT" "$epoll_dir/epoll_wakeup_test.c" >"$wrapper"
	gcc -static -O2 -I"$harness_dir" -o "$root/tests/$1" "$wrapper" -lpthread
}

add_tests
if [ "$kind" = bench ]; then
	perf=$BASE_DIR/perf/perf
	[ -x "$perf" ] || die "$perf missing: run scripts/lib/build-perf.sh first"
	install -m 755 "$perf" "$root/bin/perf"
	static acceptlab epoll_pingpong
	add_nginx
	# Not in /tests: bench_acceptlab runs its clogged rows.
	install -m 755 "$REPO/qemu/guest/nginx-ktap.sh" "$root/bin/nginx-ktap"
else
	static acceptlab
	add_nginx
fi
pack
