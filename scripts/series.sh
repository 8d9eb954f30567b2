#!/usr/bin/env bash
# series.sh COMMAND: keep kernel-patches/ consistent and clean.
#   sync-selftest   rewrite the selftest patch (the last one) so that the
#                   files it adds are those in selftests/
#   check-selftest  fail if the selftest patch and selftests/ differ
#   checkpatch      scripts/checkpatch.pl --strict on every patch; fail on
#                   anything but the missing Signed-off-by, which the
#                   stored patches lack by design (the export adds it)
#   bisect          build the kernel after each patch of the series
# The commands that need a kernel tree use $BUILD_DIR/patched/src (made by
# scripts/kernel-trees.sh).
source "$(dirname "$0")/lib.sh"
LOG_TAG=series

SELFTEST_DIR=tools/testing/selftests/filesystems/epoll
SELFTEST_FILES=(epoll_roundrobin_test.c config settings)
GIT=(git -c user.name=vmtest -c user.email=vmtest@localhost)
tree=$BUILD_DIR/patched/src
patches=("$PATCH_DIR"/*.patch)
selftest_patch=${patches[-1]}

need_tree() {
	[ -f "$tree/scripts/checkpatch.pl" ] ||
		die "$tree missing: run scripts/kernel-trees.sh first"
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
	local tmp f bad=0
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	selftest_from_patch "$tmp"
	for f in "${SELFTEST_FILES[@]}"; do
		if ! diff -u "$tmp/$SELFTEST_DIR/$f" "$REPO/selftests/$f" >&2; then
			log "$(basename "$selftest_patch") and selftests/$f differ"
			bad=1
		fi
	done
	[ $bad = 0 ] || die "selftest patch is stale: run 'make series-sync'"
	log "selftest patch matches selftests/ (${SELFTEST_FILES[*]})"
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
	local wt=$BUILD_DIR/series-sync f
	worktree_at "$wt" vmtest-base
	"${GIT[@]}" -C "$wt" am -q "${patches[@]}"
	for f in "${SELFTEST_FILES[@]}"; do
		cp "$REPO/selftests/$f" "$wt/$SELFTEST_DIR/$f"
	done
	"${GIT[@]}" -C "$wt" add -f "$SELFTEST_DIR"
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
	need_tree
	for p in "${patches[@]}"; do
		# spdxcheck.py wants Debian's python3 (python3-ply).
		out=$(cd "$tree" && PATH=/usr/bin:$PATH ./scripts/checkpatch.pl --strict \
			--quiet --no-summary "$p" 2>&1 || true)
		out=$(grep -v -e '^ERROR: Missing Signed-off-by: line(s)$' -e '^$' <<<"$out" || true)
		if [ -n "$out" ]; then
			printf '%s\n%s\n' "$(basename "$p"):" "$out" >&2
			bad=1
		fi
	done
	[ $bad = 0 ] || die "checkpatch --strict found problems"
	log "checkpatch --strict: ${#patches[@]} patches clean (only the expected missing Signed-off-by)"
}

# Build after each patch in a separate tree (bisect/src, at the same depth
# as the others, so ccache shares their objects).
bisect() {
	local wt=$BUILD_DIR/bisect/src i=0 p
	worktree_at "$wt" vmtest-base
	for p in "${patches[@]}"; do
		i=$((i + 1))
		"${GIT[@]}" -C "$wt" am -q "$p"
		log "patch $i/${#patches[@]}: $(basename "$p")"
		"$REPO/scripts/build-kernel.sh" bisect
	done
	"${GIT[@]}" -C "$tree" worktree remove --force "$wt"
	log "every patch builds"
}

case ${1:-} in
sync-selftest) sync_selftest ;;
check-selftest) check_selftest ;;
checkpatch) run_checkpatch ;;
bisect) bisect ;;
*) die "usage: series.sh sync-selftest|check-selftest|checkpatch|bisect" ;;
esac
