#!/usr/bin/env bash
# Tests of scripts/kernel-trees.sh on small fake kernel trees: bad input
# gets a one-line error and a non-zero exit, a series that does not apply
# names the patch and the file and applies nothing, a tree of a version
# without a series is refused before anything is made, and the given tree
# is never modified.
# shellcheck source=scripts/testlib.sh
source "$(dirname "$0")/testlib.sh"

# fake_tree DIR VERSION PATCHLEVEL: the files kernel-trees.sh looks for,
# but not Linux's.
fake_tree() {
	mkdir -p "$1/kernel/sched" "$1/fs"
	printf '# not Linux\nVERSION = %s\nPATCHLEVEL = %s\n' "$2" "$3" > "$1/Makefile"
	echo "int not_wait;" > "$1/kernel/sched/wait.c"
	echo "int not_eventpoll;" > "$1/fs/eventpoll.c"
}

# trees KERNEL_SRC [VAR=VALUE...]: run kernel-trees.sh (the base from the
# tree, not from the caller's BASE), stdout in $tmp/out, stderr in $tmp/err.
trees() {
	local src=$1
	shift
	env -u BASE KERNEL_SRC="$src" BUILD_DIR="$tmp/build" "$@" "$here/kernel-trees.sh" \
		>"$tmp/out" 2>"$tmp/err"
}

# unpatched TREE: TREE is a git work tree, clean, at the unpatched base.
unpatched() {
	[ -d "$1/.git" ] &&
		[ "$(git -C "$1" rev-parse HEAD)" = "$(git -C "$1" rev-parse vmtest-base)" ] &&
		[ -z "$(git -C "$1" status --porcelain)" ]
}

# one_line_error PATTERN: the last run failed with one stderr line matching.
one_line_error() {
	[ "$rc" != 0 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -qE "$1" "$tmp/err"
}

# Trees the series do not apply to, one per base: the base is the tree's
# version, and the error names that base's first patch.
# shellcheck source=scripts/lib.sh
for base in $(source "$here/lib.sh" && echo "$BASES"); do
	fake_tree "$tmp/linux-$base" "${base%.*}" "${base#*.}"
	before=$(cd "$tmp/linux-$base" && find . -type f -exec sha256sum {} + | sort)
	trees "$tmp/linux-$base"
	rc=$?
	patched=$tmp/build/$base/patched/src
	# shellcheck source=scripts/lib.sh
	first=$(BASE=$base && source "$here/lib.sh" && basename "$(printf '%s\n' "$SERIES_DIR"/*.patch | head -n1)")
	check "$base: non-applying series fails" test "$rc" -ne 0
	check "$base: error names the failing patch" grep -qF "$first does not apply" "$tmp/err"
	check "$base: error names the failing file" grep -q "kernel/sched/wait.c" "$tmp/err"
	check "$base: nothing is applied, work tree clean" unpatched "$patched"
	after=$(cd "$tmp/linux-$base" && find . -type f -exec sha256sum {} + | sort)
	check "$base: given tree not modified" test "$before" = "$after"
done

# Bad KERNEL_SRC values.
trees "$tmp/missing"
rc=$?
check "missing KERNEL_SRC: one-line error" one_line_error "not a readable directory"
mkdir -p "$tmp/notlinux"
echo "all:" > "$tmp/notlinux/Makefile"
trees "$tmp/notlinux"
rc=$?
check "non-kernel KERNEL_SRC: one-line error" one_line_error "is not a Linux tree"
# A version no series is for: refused before anything is made.
rm -rf "$tmp/build"
fake_tree "$tmp/linux-5.10" 5 10
trees "$tmp/linux-5.10"
rc=$?
check "KERNEL_SRC of another version: one-line error" \
	one_line_error "is Linux 5\.10: there is a series only for 7\.2 6\.12"
check "KERNEL_SRC of another version: nothing made" test ! -e "$tmp/build"
trees "$tmp/linux-6.12" BASE=7.2
rc=$?
check "KERNEL_SRC and BASE disagree: one-line error" \
	one_line_error "is Linux 6\.12, not BASE=7\.2"
check "KERNEL_SRC and BASE disagree: nothing made" test ! -e "$tmp/build"
# An unknown BASE.
env BASE=6.1 BUILD_DIR="$tmp/build" "$here/kernel-trees.sh" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "unknown BASE: one-line error" one_line_error "unknown BASE '6\.1'"
check "unknown BASE: nothing made" test ! -e "$tmp/build"

summary
