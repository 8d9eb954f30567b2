#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Tests of "series.sh bisect" on a fake kernel tree (KERNEL_SRC) whose
# Makefile "builds" by logging the release suffix and the source it saw,
# with a fake four-patch series shaped like the real one: the patches
# after which the kernel sources differ from the whole series' are built
# from the bisect config, the last kernel patch and the selftest patch
# (after which only the selftests and MAINTAINERS differ) are not, and the
# patched kernel is built once; a patch that does not build fails the
# step, which names it.
# shellcheck source=scripts/tests/testlib.sh
source "$(dirname "$0")/testlib.sh"

base=$tmp/linux
export BUILD_COUNT=$tmp/builds
st=tools/testing/selftests/filesystems/epoll
mkdir -p "$base/kernel/sched" "$base/fs" "$base/scripts" "$base/$st"
# What build-kernel.sh and series.sh call, nothing more.  A source line
# "BROKEN" fails the build.
cat >"$base/Makefile" <<'EOF'
VERSION = 7
PATCHLEVEL = 3
tinyconfig:
	@: > $(O)/.config
olddefconfig:
	@:
kernelversion:
	@echo 7.3.0
bzImage:
	@! grep -q BROKEN kernel/sched/wait.c fs/eventpoll.c
	@mkdir -p $(O)/arch/x86/boot
	@cat kernel/sched/wait.c fs/eventpoll.c > $(O)/arch/x86/boot/bzImage
	@echo "$(LOCALVERSION) $$(cat kernel/sched/wait.c fs/eventpoll.c | tr '\n' ' ')" >> $(BUILD_COUNT)
EOF
fake_merge_config "$base"
touch "$base/scripts/checkpatch.pl"
echo wait0 >"$base/kernel/sched/wait.c"
echo epoll0 >"$base/fs/eventpoll.c"
echo maintainers0 >"$base/MAINTAINERS"

# series DIR EPOLL: the four patches, the second writing EPOLL to
# fs/eventpoll.c, the third epoll2.
series() {
	local work=$tmp/work
	local git=(git -C "$work" -c user.name=t -c user.email=t@localhost)
	rm -rf "$work" "$1"
	cp -a "$base" "$work"
	"${git[@]}" init -q
	"${git[@]}" add -A
	"${git[@]}" commit -q -m base
	echo wait1 >"$work/kernel/sched/wait.c"
	"${git[@]}" commit -q -a -m "sched/wait: one"
	echo "$2" >"$work/fs/eventpoll.c"
	"${git[@]}" commit -q -a -m "epoll: two"
	echo epoll2 >"$work/fs/eventpoll.c"
	"${git[@]}" commit -q -a -m "epoll: three"
	echo test >"$work/$st/new_test.c"
	echo maintainers1 >"$work/MAINTAINERS"
	"${git[@]}" add -A
	"${git[@]}" commit -q -m "selftests: four"
	"${git[@]}" format-patch -q -o "$1" HEAD~4
}

# bisect SERIES: series.sh bisect in a fresh build directory, output in
# $tmp/log, the builds it made in $BUILD_COUNT.
bisect() {
	rm -rf "$tmp/build" "$BUILD_COUNT"
	env KERNEL_SRC="$base" PATCH_DIR="$1" BUILD_DIR="$tmp/build" \
		KERNEL_CACHE="$tmp/cache" "$here/../series.sh" bisect >"$tmp/log" 2>&1
}
# builds SUFFIX: how many builds of that release suffix the last run made.
builds() { { grep -- "^$1 " "$BUILD_COUNT" 2>/dev/null || true; } | wc -l; }

series "$tmp/good" epoll1
bisect "$tmp/good"
check "good series: bisect passes" test $? = 0
check "good series: patches 1 and 2 built from the bisect config" \
	test "$(builds -bisect)" = 2
check "good series: each after its own patch" \
	grep -qx -- "-bisect wait1 epoll1 " "$BUILD_COUNT"
check "good series: patches 3 and 4 left to the patched kernel" \
	test "$(grep -c "patch [34]/4: .*kernel sources as in the whole series" "$tmp/log")" = 2
check "good series: the patched kernel built once" test "$(builds -rr)" = 1
check "good series: says every patch builds" grep -q "every patch builds" "$tmp/log"

series "$tmp/broken" BROKEN
bisect "$tmp/broken"
check "patch 2 does not build: bisect fails" test $? != 0
check "patch 2 does not build: names it" grep -qx "\[7.3/series\] patch 2/4: 0002-epoll-two.patch" "$tmp/log"
check "patch 2 does not build: no patched kernel" test "$(builds -rr)" = 0

summary
