#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Tests of scripts/lib/kernel-trees.sh on small fake kernel trees: bad input
# gets a one-line error and a non-zero exit, a series that does not apply
# names the patch and the file and applies nothing, a tree of a version
# without a series is refused before anything is made, and the given tree
# is never modified.
# shellcheck source=scripts/tests/testlib.sh
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
	env -u BASE KERNEL_SRC="$src" BUILD_DIR="$tmp/build" "$@" "$here/../lib/kernel-trees.sh" \
		>"$tmp/out" 2>"$tmp/err"
}

# unpatched TREE: TREE is a git work tree, clean, at the unpatched base.
unpatched() {
	[ -d "$1/.git" ] &&
		[ "$(git -C "$1" rev-parse HEAD)" = "$(git -C "$1" rev-parse vmtest-base)" ] &&
		[ -z "$(git -C "$1" status --porcelain)" ]
}

# lib_value NAME [BASE]: lib.sh's NAME for BASE (default: the newest).
lib_value() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	env BASE="${2:-}" KERNEL_SRC='' bash -c 'source "$1" && echo "${!2}"' _ "$here/../lib/lib.sh" "$1"
}
bases=$(lib_value BASES)
newest=${bases%% *}

# one_line_error PATTERN: the last run failed with one stderr line matching.
one_line_error() {
	[ "$rc" != 0 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -qE "$1" "$tmp/err"
}

# Trees the series do not apply to, one per base: the base is the tree's
# version, and the error names that base's first patch.
for base in $bases; do
	fake_tree "$tmp/linux-$base" "${base%.*}" "${base#*.}"
	before=$(cd "$tmp/linux-$base" && find . -type f -exec sha256sum {} + | sort)
	trees "$tmp/linux-$base"
	rc=$?
	patched=$tmp/build/$base/patched/src
	first=$(basename "$(find "$(lib_value SERIES_DIR "$base")" -name '*.patch' | sort | head -n1)")
	check "$base: non-applying series fails" test "$rc" -ne 0
	check "$base: error names the failing patch" grep -qF "$first does not apply" "$tmp/err"
	check "$base: error names the failing file" grep -qE "(include/linux|kernel/sched)/wait\.[ch]" "$tmp/err"
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
# A version no series is for: the nearest series, said.
fake_tree "$tmp/linux-5.10" 5 10
trees "$tmp/linux-5.10"
check "KERNEL_SRC 5.10: the nearest series, 6.12" \
	grep -q "KERNEL_SRC is Linux 5\.10: applying the 6\.12 series" "$tmp/err"
# BASE picks the series over the nearest.
trees "$tmp/linux-6.12" BASE="$newest"
check "KERNEL_SRC 6.12 with BASE=$newest: the $newest series" \
	grep -q "KERNEL_SRC is Linux 6\.12: applying the $newest series" "$tmp/err"
# An unknown BASE.
rm -rf "$tmp/build"
env BASE=6.1 BUILD_DIR="$tmp/build" "$here/../lib/kernel-trees.sh" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "unknown BASE: one-line error" one_line_error "unknown BASE '6\.1'"
check "unknown BASE: nothing made" test ! -e "$tmp/build"
env BASE="$newest" KERNEL_PKG=linux-7.3 BUILD_DIR="$tmp/build" "$here/../lib/kernel-trees.sh" \
	>"$tmp/out" 2>"$tmp/err"
rc=$?
check "KERNEL_PKG not a source package: one-line error" \
	one_line_error "KERNEL_PKG must name a Debian kernel source package"

# Trees of the real kernel files the newest series touches (from the
# prepared tree of that base, else from its Debian tarball): the series
# applies to them as to the whole tree.
real_tree() {
	local dest=$1 files
	mkdir -p "$dest"
	files=$(grep -h '^--- a/' "$series_dir"/*.patch | cut -c7- | sort -u)
	if git -C "$prepared" rev-parse -q --verify vmtest-base >/dev/null 2>&1; then
		(cd "$dest" && for f in Makefile .gitattributes $files; do
			mkdir -p "$(dirname "$f")"
			git -C "$prepared" show "vmtest-base:$f" >"$f"
		done)
	else
		local patterns
		mapfile -t patterns < <(sed 's|^|*/|' <<<"$files")
		tar -xf "$tarball" -C "$dest" --strip-components=1 --wildcards \
			"*/Makefile" "*/.gitattributes" "${patterns[@]}" 2>/dev/null
		find "$dest" -name Makefile ! -path "$dest/Makefile" ! -path "$dest/tools/testing/selftests/filesystems/epoll/*" -delete
	fi
	[ -f "$dest/fs/eventpoll.c" ] && [ -f "$dest/kernel/sched/wait.c" ]
}
# git_commit DIR MESSAGE: commit everything in DIR (made a repository).
git_commit() {
	[ -d "$1/.git" ] || git -C "$1" init -q
	git -C "$1" add -A && git -C "$1" -c user.name=t -c user.email=t@t commit -q -m "$2"
}
# first_hunk PATCH FILE: "FIRST REMOVED" line numbers in FILE of the first
# hunk of PATCH that removes a line from FILE: its first (context) line and
# the first line it removes.
first_hunk() {
	awk -v f="+++ b/$2" '$0 == f { on = 1; next } /^(\+\+\+|diff) / { on = 0 }
		on && /^@@ / { split($2, a, ","); start = -a[1]; n = start; next }
		on && /^ / { n++ }
		on && /^-/ { print start, n; exit }' "$1"
}
# mark FILE LINE: append a comment to line LINE of FILE.
mark() {
	sed -i "$2s|\$| /* changed */|" "$1"
}

series_dir=$(lib_value SERIES_DIR)
tarball=$(lib_value DEB_TARBALL)
prepared=${BUILD_DIR:-$here/../../build}/$newest/patched/src
if ! real_tree "$tmp/real"; then
	echo "# no prepared $newest tree and no $tarball: cannot test the real series"
	failed=$((failed + 1))
	summary
	exit
fi
nominor=$((${newest#*.} + 1))

# A git clone of the Debian tarball: applies; the patched commits sit on
# the tree's HEAD; an untracked file is said; the tree is left alone.
cp -r "$tmp/real" "$tmp/git" && git_commit "$tmp/git" "v$newest" && touch "$tmp/git/notes.txt"
before=$(git -C "$tmp/git" status --porcelain; git -C "$tmp/git" rev-parse HEAD)
trees "$tmp/git" TREES=patched
rc=$?
patched=$tmp/build/$newest/patched/src
npatches=$(find "$series_dir" -name '*.patch' | wc -l)
check "git tree: the series applies" test "$rc" = 0
check "git tree: the patched commits' base is the tree's HEAD" test \
	"$(git -C "$patched" rev-parse "HEAD~$npatches" 2>&1)" = "$(git -C "$tmp/git" rev-parse HEAD)"
check "git tree: a commit per patch, with its subject" test "$(git -C "$patched" log -1 --format=%s 2>&1)" = \
	"$(git mailinfo /dev/null /dev/null <"$(find "$series_dir" -name '*.patch' | sort | tail -n1)" | sed -n 's/^Subject: //p')"
check "git tree: an untracked file is said" grep -q "untracked file(s) in KERNEL_SRC.*notes.txt" "$tmp/err"
check "git tree: left alone" test "$before" = "$(git -C "$tmp/git" status --porcelain; git -C "$tmp/git" rev-parse HEAD)"

# The series round-trips: importing the patched tree's commits gives the
# stored patches back, byte for byte (the held-back list is not a patch);
# a Signed-off-by is dropped.
mkdir -p "$tmp/series"
env PATCH_DIR="$tmp/series" KERNEL_SRC='' BASE="$newest" BUILD_DIR="$tmp/build" \
	"$here/../series.sh" import "$patched" "HEAD~$npatches" >"$tmp/out" 2>"$tmp/err"
check "import: the patched tree gives the stored series back" diff -r -x held-back "$series_dir" "$tmp/series"
echo "/* more */" >>"$patched/fs/eventpoll.c"
git -C "$patched" -c user.name=t -c user.email=t@t commit -q -s -a -m "epoll: more"
env PATCH_DIR="$tmp/series" KERNEL_SRC='' BASE="$newest" BUILD_DIR="$tmp/build" \
	"$here/../series.sh" import "$patched" "HEAD~$((npatches + 1))" >"$tmp/out" 2>"$tmp/err"
check "import: $((npatches + 1)) patches" test "$(find "$tmp/series" -name '*.patch' | wc -l)" = $((npatches + 1))
check "import: no Signed-off-by" test -z "$(grep -rl '^Signed-off-by:' "$tmp/series")"
check "import: the dropped Signed-off-by is said" grep -q "Signed-off-by dropped" "$tmp/err"

# Work left in the harness's patched tree is not overwritten: a new base
# (the tree moved on) is refused while the patched tree has commits or
# edits past the series.
echo "/* mine */" >>"$patched/fs/eventpoll.c"
touch "$tmp/git/more.txt" && git_commit "$tmp/git" "next"
trees "$tmp/git" TREES=patched
rc=$?
check "work in the patched tree: one-line error" one_line_error "holds edits or commits the harness would overwrite"
check "work in the patched tree: kept" grep -qF "/* mine */" "$patched/fs/eventpoll.c"

# An uncommitted edit to a tracked file: refused.
echo "/* edit */" >>"$tmp/git/fs/eventpoll.c"
rm -rf "$tmp/build"
trees "$tmp/git"
rc=$?
check "uncommitted edit: one-line error naming the file" one_line_error "uncommitted edits to 1 tracked file.*fs/eventpoll.c.*commit or stash"
check "uncommitted edit: nothing made" test ! -e "$tmp/build"
git -C "$tmp/git" checkout -q fs/eventpoll.c

# A plain tree one minor version on, its files shifted: applies with
# offsets, the nearest series.
cp -r "$tmp/real" "$tmp/offset"
sed -i "s/^PATCHLEVEL = .*/PATCHLEVEL = $nominor/" "$tmp/offset/Makefile"
for f in fs/eventpoll.c kernel/sched/wait.c io_uring/poll.c; do
	sed -i '1a /* three lines of 7.x+1 */\n\n' "$tmp/offset/$f"
done
rm -rf "$tmp/build"
trees "$tmp/offset" TREES=patched
rc=$?
check "one minor version on: the series applies" test "$rc" = 0
check "one minor version on: the $newest series, said" \
	grep -q "is Linux ${newest%.*}\.$nominor: applying the $newest series" "$tmp/err"
check "one minor version on: the offsets are said" grep -q "succeeded at [0-9]* (offset 3 lines)" "$tmp/err"

# A tree with history where a patch applies only three-way.
cp -r "$tmp/git" "$tmp/3way"
rm -f "$tmp/3way/notes.txt"
p2=$(grep -l '^+++ b/fs/eventpoll.c' "$series_dir"/*.patch | head -n1)
read -r hunk_start hunk_removed < <(first_hunk "$p2" fs/eventpoll.c)
# Upstream changes the hunk's first line of context, apart from its change.
mark "$tmp/3way/fs/eventpoll.c" "$hunk_start"
git_commit "$tmp/3way" "upstream moves on"
rm -rf "$tmp/build"
trees "$tmp/3way" TREES=patched
rc=$?
check "history: the series applies" test "$rc" = 0
check "history: the three-way apply is said" grep -qF "$(basename "$p2"): applied three-way" "$tmp/err"

# A hunk that fails: the line it removes is not there.
cp -r "$tmp/real" "$tmp/conflict"
mark "$tmp/conflict/fs/eventpoll.c" "$hunk_removed"
rm -rf "$tmp/build"
trees "$tmp/conflict" TREES=patched
rc=$?
check "failing hunk: fails" test "$rc" != 0
check "failing hunk: names the patch" grep -qF "$(basename "$p2") does not apply" "$tmp/err"
check "failing hunk: names the file and line" grep -qE "patch failed: fs/eventpoll\.c:[0-9]+" "$tmp/err"
check "failing hunk: nothing applied" unpatched "$tmp/build/$newest/patched/src"

summary
