#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Tests of build-kernel.sh's image cache on a fake kernel tree whose
# Makefile "builds" a bzImage from one file and counts its builds: the same
# inputs are served from the cache without make, and any change of the
# committed source, the config fragments or the release suffix builds again;
# a tree edited by hand, or KERNEL_CACHE=, always builds; the cache keeps at
# most KERNEL_CACHE_KEEP entries.  Also the configuration: made from
# tinyconfig once per set of config fragments, then copied to every other
# build of the same fragments.  And build-perf.sh's copy of perf in the
# same cache, on a fake tools/perf that compiles a static "perf".
# shellcheck source=scripts/tests/testlib.sh
source "$(dirname "$0")/testlib.sh"

src=$tmp/build/7.3/patched/src
obj=$tmp/build/7.3/patched/obj
cache=$tmp/cache
export BUILD_COUNT=$tmp/builds CONFIG_COUNT=$tmp/configs
GIT=(git -C "$src" -c user.name=t -c user.email=t@localhost)

# The targets and the merge script build-kernel.sh calls, nothing more.
mkdir -p "$src"
cat >"$src/Makefile" <<'EOF'
tinyconfig:
	@echo '# made by tinyconfig' > $(O)/.config
	@echo tinyconfig >> $(CONFIG_COUNT)
olddefconfig:
	@:
kernelversion:
	@echo 0.0
bzImage:
	@mkdir -p $(O)/arch/x86/boot
	@cat source.txt > $(O)/arch/x86/boot/bzImage
	@echo "$(LOCALVERSION)" >> $(O)/arch/x86/boot/bzImage
	@echo built >> $(BUILD_COUNT)
EOF
fake_merge_config "$src"
echo one >"$src/source.txt"
"${GIT[@]}" init -q
"${GIT[@]}" add -A
"${GIT[@]}" commit -q -m base

# build VARIANT [VAR=VALUE...]: build-kernel.sh with a fresh obj (as in a
# new clone), output in $tmp/log.
build() {
	local variant=$1
	shift
	rm -rf "$tmp/build/7.3/$variant/obj"
	env BASE=7.3 KERNEL_SRC= BUILD_DIR="$tmp/build" KERNEL_CACHE="$cache" "$@" \
		"$here/../lib/build-kernel.sh" "$variant" >"$tmp/log" 2>&1
}
builds() { { wc -l <"$BUILD_COUNT"; } 2>/dev/null || echo 0; }
entries() { find "$cache" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
image_is() { [ "$(head -n1 "$obj/arch/x86/boot/bzImage")" = "$1" ]; }
configs() { { wc -l <"$CONFIG_COUNT"; } 2>/dev/null || echo 0; }

build patched
check "first build runs make" test "$(builds)" = 1
check "first build stores its image" test "$(entries)" = 1
check "first build configures from tinyconfig" test "$(configs)" = 1
build patched
check "same inputs: no make" test "$(builds)" = 1
check "same inputs: the image is copied" image_is one
check "same inputs: says it used the cache" grep -q "cached image for git-tree" "$tmp/log"

echo two >"$src/source.txt"
"${GIT[@]}" commit -q -a -m two
build patched
check "committed change: builds again" test "$(builds)" = 2
check "committed change: the new image" image_is two
check "same fragments again: no tinyconfig" test "$(configs)" = 1
check "same fragments again: the saved .config" grep -qx '# made by tinyconfig' "$obj/.config"
check "same fragments again: says so" grep -q "the .config of the same fragments" "$tmp/log"

echo three >"$src/source.txt"
entries_before=$(entries)
build patched
check "tree edited by hand: builds" test "$(builds)" = 3
check "tree edited by hand: nothing stored" test "$(entries)" = "$entries_before"
"${GIT[@]}" checkout -q source.txt

build debug
check "other config fragments: builds" test "$(builds)" = 4
check "other config fragments: configured from tinyconfig" test "$(configs)" = 2
check "other config fragments: its own image" \
	grep -q -- '-rr-debug' "$tmp/build/7.3/debug/obj/arch/x86/boot/bzImage"
# The same tree and config under another release suffix.
git clone -q "$src" "$tmp/build/7.3/bisect/src"
build bisect
check "other release suffix: builds" test "$(builds)" = 5
check "bisect (qemu/config/bisect.config): configured from tinyconfig" test "$(configs)" = 3
build patched KERNEL_CACHE=
check "KERNEL_CACHE= always builds" test "$(builds)" = 6
echo four >"$src/source.txt"
"${GIT[@]}" commit -q -a -m four
build patched KERNEL_CACHE_KEEP=1
check "KERNEL_CACHE_KEEP=1 leaves the newest image only" test "$(entries)" = 1
build patched
check "... and serves it" test "$(builds)" = 7

# A change of any Kconfig file: configured again.
echo 'config FAKE' >"$src/Kconfig"
"${GIT[@]}" add Kconfig
"${GIT[@]}" commit -q -m kconfig
build patched
check "Kconfig file changed: configured from tinyconfig" test "$(configs)" = 4

# build-perf.sh: a new clone takes perf from the cache.
mkdir -p "$src/tools/perf"
touch "$src/tools/perf/Makefile.perf"
cat >"$src/tools/perf/Makefile" <<'EOF'
perf:
	@echo 'int main(void) { return 0; }' | $(CC) -static -x c - -o $(O)/perf
	@echo built >> $(PERF_COUNT)
EOF
"${GIT[@]}" add -A
"${GIT[@]}" commit -q -m perf
export PERF_COUNT=$tmp/perf-builds
perf_build() {
	rm -rf "$tmp/build/7.3/perf"
	env BASE=7.3 KERNEL_SRC= BUILD_DIR="$tmp/build" KERNEL_CACHE="$cache" "$@" \
		"$here/../lib/build-perf.sh" >"$tmp/log" 2>&1
}
perf_builds() { { wc -l <"$PERF_COUNT"; } 2>/dev/null || echo 0; }
perf_build
check "perf: first build runs make" test "$(perf_builds)" = 1
perf_build
check "perf: a new clone takes it from the cache" test "$(perf_builds)" = 1
check "perf: ... and says so" grep -q "cached perf" "$tmp/log"
check "perf: ... an executable" test -x "$tmp/build/7.3/perf/perf"
echo changed >"$src/tools/perf/Makefile.perf"
perf_build
check "perf: tools/ edited by hand: builds" test "$(perf_builds)" = 2
"${GIT[@]}" checkout -q tools
perf_build KERNEL_CACHE=
check "perf: KERNEL_CACHE= always builds" test "$(perf_builds)" = 3

# Storing perf prunes the cache like storing an image, but leaves alone
# another build's entry that is still being written.
mkdir -p "$cache/0123.tmp.99999"
touch -d '1 hour ago' "$cache/0123.tmp.99999"
echo changed >"$src/tools/perf/Makefile.perf"
"${GIT[@]}" commit -q -a -m perf2
perf_build KERNEL_CACHE_KEEP=1
finished() { find "$cache" -mindepth 1 -maxdepth 1 ! -name '*.tmp.*' | wc -l; }
check "perf: KERNEL_CACHE_KEEP=1 leaves the newest entry only" test "$(finished)" = 1
check "perf: ... and an unfinished entry of another build" test -d "$cache/0123.tmp.99999"

summary
