#!/usr/bin/env bash
# Pack $BUILD_DIR/initramfs.cpio.gz: static busybox, qemu/init and the
# selftests built static.  One initramfs serves every kernel variant.
source "$(dirname "$0")/../scripts/lib.sh"
LOG_TAG=initramfs

root=$BUILD_DIR/initramfs
out=$BUILD_DIR/initramfs.cpio.gz
busybox=${BUSYBOX:-/bin/busybox}
# kselftest_harness.h comes from the patched tree; the tests include it as
# "../../kselftest_harness.h", as they do in tools/testing/selftests/.
harness_dir=$BUILD_DIR/patched/src/tools/testing/selftests

[ -f "$harness_dir/kselftest_harness.h" ] ||
	die "$harness_dir/kselftest_harness.h missing: run scripts/kernel-trees.sh first"
[ -x "$busybox" ] || die "$busybox not found: install busybox-static (make deps)"
if readelf -l "$busybox" 2>/dev/null | grep -q INTERP; then
	die "$busybox is dynamically linked: install busybox-static (make deps)"
fi

rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,tests}
cp "$busybox" "$root/bin/busybox"
install -m 755 "$REPO/qemu/init" "$root/init"

for src in "$REPO"/selftests/*.c; do
	name=$(basename "$src" .c)
	log "building $name (static)"
	gcc -static -O2 -Wall -Werror -Wno-clobbered \
		-I"$harness_dir/filesystems/epoll" -o "$root/tests/$name" "$src" -lpthread
done

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -n -1 > "$out"
log "packed $out ($(du -h "$out" | cut -f1))"
