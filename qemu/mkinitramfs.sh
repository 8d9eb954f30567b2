#!/usr/bin/env bash
# Pack $BUILD_DIR/initramfs.cpio.gz: static busybox, qemu/init, the
# selftests and acceptlab (with its KTAP wrapper), all static.  One
# initramfs serves every kernel variant.
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

# The stress test's io_uring worker uses liburing; the others ignore it.
for src in "$REPO"/selftests/*.c; do
	name=$(basename "$src" .c)
	log "building $name (static)"
	gcc -static -O2 -Wall -Werror -Wno-clobbered \
		-I"$harness_dir/filesystems/epoll" -o "$root/tests/$name" "$src" \
		-luring -lpthread
done

log "building acceptlab (static)"
cmake -S "$REPO" -B "$BUILD_DIR/userspace-static" -DACCEPTLAB_STATIC=ON >/dev/null
cmake --build "$BUILD_DIR/userspace-static" --target acceptlab -j"$JOBS" >/dev/null
install -m 755 "$BUILD_DIR/userspace-static/userspace/acceptlab" "$root/bin/acceptlab"
install -m 755 "$REPO/qemu/acceptlab-ktap.sh" "$root/tests/acceptlab_models"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -n -1 > "$out"
log "packed $out ($(du -h "$out" | cut -f1))"
