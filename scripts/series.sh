#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# series.sh COMMAND: keep the series of BASE (scripts/lib/lib.sh:
# kernel-patches/$BASE/) consistent and clean.
#   sync-selftest   rewrite the selftest patch (the last one) so that the
#                   files it adds are those in selftests/
#   check-selftest  fail if the selftest patch and selftests/ differ
#   checkpatch      the newest base's scripts/checkpatch.pl --strict on
#                   every patch; fail on anything but the missing
#                   Signed-off-by, which the stored patches lack by design
#                   (scripts/export.sh adds the submitter's)
#   bisect          build the kernel after each patch of the series, and
#                   the patched kernel
#   import TREE [REV]
#                   replace the series with the commits REV..HEAD of the
#                   git tree TREE (default REV: HEAD~N, N the number of
#                   patches in the series): work on the series in your own
#                   tree, not in $BUILD_DIR, which the harness resets.
#                   Signed-off-by lines are dropped (the stored patches
#                   carry none; scripts/export.sh adds the submitter's).
# The commands that need a kernel tree use $BUILD_DIR/$BASE/patched/src (made
# by scripts/lib/kernel-trees.sh).
LOG_TAG=series
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib/lib.sh"
LOG_TAG=$BASE/series

SELFTEST_DIR=tools/testing/selftests/filesystems/epoll
# The files the selftest patch may add, each also in selftests/ or in neither
# (upstream's directory has none of them).
SELFTEST_FILES=(epoll_roundrobin_test.c config settings)
GIT=(git -c user.name=vmtest -c user.email=vmtest@localhost -c gc.auto=0)
tree=$BASE_DIR/patched/src
newest=${BASES%% *}
shopt -s nullglob
patches=("$PATCH_DIR"/*.patch)
shopt -u nullglob
[ ${#patches[@]} != 0 ] || [ "${1:-}" = import ] || die "no patches in $PATCH_DIR"
selftest_patch=''
[ ${#patches[@]} = 0 ] || selftest_patch=${patches[-1]}

need_tree() {
	[ -f "$tree/scripts/checkpatch.pl" ] ||
		die "$tree missing: run scripts/lib/kernel-trees.sh first"
}

# Extract the files the selftest patch adds into directory $1.
selftest_from_patch() {
	local f args=()
	for f in "${SELFTEST_FILES[@]}"; do
		args+=(--include="$SELFTEST_DIR/$f")
	done
	(cd "$1" && git apply "${args[@]}" "$selftest_patch")
}

check_selftest() {
	local tmp f a b bad=0
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	selftest_from_patch "$tmp"
	for f in "${SELFTEST_FILES[@]}"; do
		a=$tmp/$SELFTEST_DIR/$f b=$REPO/selftests/$f
		if [ -e "$a" ] && ! [ -e "$b" ]; then
			log "$(basename "$selftest_patch") adds $f, selftests/ has none"
			bad=1
		elif ! [ -e "$a" ] && [ -e "$b" ]; then
			log "$(basename "$selftest_patch") lacks selftests/$f"
			bad=1
		elif [ -e "$a" ] && ! diff -u "$a" "$b" >&2; then
			log "$(basename "$selftest_patch") and selftests/$f differ"
			bad=1
		fi
	done
	[ $bad = 0 ] || die "selftest patch is stale: run 'make series-sync'"
	log "$(basename "$selftest_patch") matches selftests/"
}

# worktree_at DIR REV: a scratch git worktree of the patched tree at REV.
worktree_at() {
	need_tree
	rm -rf "$1"
	"${GIT[@]}" -C "$tree" worktree prune
	"${GIT[@]}" -C "$tree" worktree add -q --detach "$1" "$2"
}

# Re-export the whole series after amending the selftest commit, so the
# numbering and the other patches stay exactly as format-patch makes them.
sync_selftest() {
	local wt=$BASE_DIR/series-sync f
	worktree_at "$wt" vmtest-base
	"${GIT[@]}" -C "$wt" am -q "${patches[@]}"
	for f in "${SELFTEST_FILES[@]}"; do
		if [ -e "$REPO/selftests/$f" ]; then
			cp "$REPO/selftests/$f" "$wt/$SELFTEST_DIR/$f"
		else
			rm -f "$wt/$SELFTEST_DIR/$f"
		fi
	done
	"${GIT[@]}" -C "$wt" add -f -A "$SELFTEST_DIR"
	if "${GIT[@]}" -C "$wt" diff --cached --quiet; then
		log "selftest patch already matches selftests/"
	else
		"${GIT[@]}" -C "$wt" commit -q --amend --no-edit
		rm -f "${patches[@]}"
		"${GIT[@]}" -C "$wt" format-patch -q --zero-commit --no-signature \
			-o "$PATCH_DIR" vmtest-base..HEAD
		log "rewrote $(basename "$selftest_patch") from selftests/"
	fi
	"${GIT[@]}" -C "$tree" worktree remove --force "$wt"
}

run_checkpatch() {
	local p out bad=0
	local sob="ERROR: Missing Signed-off-by: line(s)"
	checkpatch_tree=$BUILD_DIR/$newest/patched/src
	# Your own tree's checkpatch.pl, when you bring one: newer than ours.
	[ -z "$KERNEL_SRC" ] || checkpatch_tree=$tree
	need_tree
	if ! [ -f "$checkpatch_tree/scripts/checkpatch.pl" ]; then
		log "preparing the $newest tree for its checkpatch.pl"
		BASE=$newest KERNEL_SRC='' TREES=patched "$REPO/scripts/lib/kernel-trees.sh"
	fi
	for p in "${patches[@]}"; do
		out=$(checkpatch_findings "$checkpatch_tree" "$p" "$sob")
		if [ -n "$out" ]; then
			printf '%s\n%s\n' "$(basename "$p"):" "$out" >&2
			bad=1
		fi
	done
	[ $bad = 0 ] || die "checkpatch --strict found problems (checkpatch.pl of $checkpatch_tree)"
	log "checkpatch --strict (checkpatch.pl of $checkpatch_tree): ${#patches[@]} patches clean but for the missing Signed-off-by"
}

# Build after each patch in a separate tree (bisect/src, at the same depth
# as the others, so ccache shares their objects), from tinyconfig +
# qemu/config/bisect.config.  Once the kernel sources equal the whole series' (only
# the selftests and MAINTAINERS differ, as after the selftest patch), the
# patched kernel proves that state builds, with the full configuration: it
# is built here, and the VM run takes it from the image cache.
bisect() {
	local wt=$BASE_DIR/bisect/src i=0 p final
	TREES=patched "$REPO/scripts/lib/kernel-trees.sh"
	final=$("${GIT[@]}" -C "$tree" rev-parse HEAD)
	worktree_at "$wt" vmtest-base
	for p in "${patches[@]}"; do
		i=$((i + 1))
		"${GIT[@]}" -C "$wt" am -q "$p"
		if "${GIT[@]}" -C "$wt" diff --quiet HEAD "$final" -- . \
			":(exclude)$SELFTEST_DIR" ':(exclude)MAINTAINERS'; then
			log "patch $i/${#patches[@]}: $(basename "$p"): kernel sources as in the whole series"
			continue
		fi
		log "patch $i/${#patches[@]}: $(basename "$p")"
		"$REPO/scripts/lib/build-kernel.sh" bisect
	done
	"${GIT[@]}" -C "$tree" worktree remove --force "$wt"
	log "the whole series: the patched kernel"
	"$REPO/scripts/lib/build-kernel.sh" patched
	log "every patch builds"
}

# import_series TREE [REV]
import_series() {
	local src=$1 rev=${2:-} p n=${#patches[@]} out
	git -C "$src" rev-parse -q --verify 'HEAD^{commit}' >/dev/null 2>&1 ||
		die "import: $src is not a git tree with a commit"
	[ -z "$(git -C "$src" status --porcelain --untracked-files=no)" ] ||
		die "import: $src has uncommitted edits to tracked files: commit them first"
	[ -n "$rev" ] || [ "$n" != 0 ] || die "import: $PATCH_DIR has no series to count: give REV"
	rev=${rev:-HEAD~$n}
	git -C "$src" rev-parse -q --verify "$rev^{commit}" >/dev/null ||
		die "import: $rev is not a commit of $src"
	out=$(mktemp -d)
	trap 'rm -rf "$out"' RETURN
	git -C "$src" format-patch -q --zero-commit --no-signature -o "$out" "$rev..HEAD"
	set -- "$out"/*.patch
	[ -e "$1" ] || die "import: no commits in $rev..HEAD of $src"
	for p in "$@"; do
		if grep -q '^Signed-off-by: ' "$p"; then
			sed -i '/^Signed-off-by: /d' "$p"
			log "$(basename "$p"): Signed-off-by dropped (scripts/export.sh adds the submitter's)"
		fi
		grep -q '^Assisted-by: ' "$p" ||
			log "warning: $(basename "$p") has no Assisted-by: trailer"
	done
	[ "$n" = 0 ] || rm -f "${patches[@]}"
	cp "$@" "$PATCH_DIR"/
	log "imported $# patches from $src ($rev..HEAD) into $PATCH_DIR (was $n): review with git diff, then make check"
}

case ${1:-} in
import) shift; import_series "${1:?usage: series.sh import TREE [REV]}" "${2:-}" ;;
sync-selftest) sync_selftest ;;
check-selftest) check_selftest ;;
checkpatch) run_checkpatch ;;
bisect) bisect ;;
*) die "usage: series.sh sync-selftest|check-selftest|checkpatch|bisect|import TREE [REV]" ;;
esac
