#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# series.sh COMMAND: keep the series of BASE (scripts/lib/lib.sh:
# kernel-patches/$BASE/) consistent and clean.
#   sync-selftest [FILE=NNNN...]
#                   rewrite the patches that add the selftests so that each
#                   file of selftests/ (but the project-only ones) is, in
#                   the patch that adds it under
#                   tools/testing/selftests/filesystems/epoll/, as it is in
#                   selftests/; a file of selftests/ that no patch adds yet
#                   must be given its patch, e.g. settings=0006
#   check-selftest  fail if those patches and selftests/ differ
#   checkpatch      the newest base's scripts/checkpatch.pl --strict on
#                   every patch; fail on anything but the missing
#                   Signed-off-by, which the stored patches lack by design
#                   (scripts/export.sh adds the submitter's), and "does
#                   MAINTAINERS need updating?" on a patch whose new files
#                   a MAINTAINERS line of the series already covers
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
# The files of selftests/ that stay out of the series; every other one is
# added by exactly one patch, and changed by no other.
PROJECT_ONLY=(epoll_rr_stress_test.c)
GIT=(git -c user.name=vmtest -c user.email=vmtest@localhost -c gc.auto=0)
tree=$BASE_DIR/patched/src
newest=${BASES%% *}
shopt -s nullglob
patches=("$PATCH_DIR"/*.patch)
shopt -u nullglob
[ ${#patches[@]} != 0 ] || [ "${1:-}" = import ] || die "no patches in $PATCH_DIR"

need_tree() {
	[ -f "$tree/scripts/checkpatch.pl" ] ||
		die "$tree missing: run scripts/lib/kernel-trees.sh first"
}

# touched_files PATCH: the files PATCH creates, changes or deletes.
touched_files() {
	git apply --numstat "$1" | cut -f3
}

# selftest_map [FILE=NNNN...]: fill owner[FILE] with the patch that adds
# $SELFTEST_DIR/FILE, for every such file of the series and every file of
# selftests/ but PROJECT_ONLY (the arguments name the patch for one that no
# patch adds yet); die on a file without a patch, or changed by two.
declare -A owner
selftest_map() {
	local p f arg n match
	for p in "${patches[@]}"; do
		while read -r f; do
			[ -n "$f" ] || continue
			f=${f#"$SELFTEST_DIR"/}
			[ -z "${owner[$f]:-}" ] ||
				die "$(basename "$p") adds $SELFTEST_DIR/$f, which $(basename "${owner[$f]}") adds already"
			owner[$f]=$p
		done < <(new_files "$p" | grep "^$SELFTEST_DIR/[^/]*\$")
	done
	for p in "${patches[@]}"; do
		while read -r f; do
			f=${f#"$SELFTEST_DIR"/}
			[ -z "${owner[$f]:-}" ] || [ "${owner[$f]}" = "$p" ] ||
				die "$(basename "$p") changes $SELFTEST_DIR/$f, which $(basename "${owner[$f]}") adds: series-sync keeps each file in the one patch that adds it"
		done < <(touched_files "$p" | grep "^$SELFTEST_DIR/[^/]*\$")
	done
	for arg; do
		[[ $arg =~ ^([^=/]+)=([0-9]+)$ ]] ||
			die "expected FILE=NNNN (a file of selftests/ and the number of its patch), got '$arg'"
		f=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]}
		[ -e "$REPO/selftests/$f" ] || die "$f=$n: selftests/$f does not exist"
		[ -z "${owner[$f]:-}" ] ||
			die "$f=$n: $(basename "${owner[$f]}") adds $f already"
		match=("$PATCH_DIR/$n"-*.patch)
		[ -e "${match[0]}" ] && [ ${#match[@]} = 1 ] ||
			die "$f=$n: no one patch $n-*.patch in $PATCH_DIR"
		owner[$f]=${match[0]}
	done
	for f in "$REPO"/selftests/*; do
		f=${f##*/}
		[[ " ${PROJECT_ONLY[*]} " != *" $f "* ]] || continue
		[ -n "${owner[$f]:-}" ] ||
			die "selftests/$f is in no patch of $PATCH_DIR: name the patch that is to add it, e.g. 'scripts/series.sh sync-selftest $f=0006', or add it to PROJECT_ONLY in scripts/series.sh"
	done
}

check_selftest() {
	local tmp f p a b bad=0
	selftest_map
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	for f in "${!owner[@]}"; do
		p=${owner[$f]}
		a=$tmp/$SELFTEST_DIR/$f b=$REPO/selftests/$f
		(cd "$tmp" && git apply --include="$SELFTEST_DIR/$f" "$p")
		if ! [ -e "$b" ]; then
			log "$(basename "$p") adds $f, selftests/ has none"
			bad=1
		elif ! diff -u "$a" "$b" >&2; then
			log "$(basename "$p") and selftests/$f differ"
			bad=1
		fi
	done
	[ $bad = 0 ] || die "selftest patches are stale: run 'make series-sync'"
	log "the selftest patches match selftests/ ($(for f in "${!owner[@]}"; do
		p=${owner[$f]##*/}; echo "$f (${p%%-*})"; done | sort | paste -sd' '))"
}

# worktree_at DIR REV: a scratch git worktree of the patched tree at REV.
worktree_at() {
	need_tree
	rm -rf "$1"
	"${GIT[@]}" -C "$tree" worktree prune
	"${GIT[@]}" -C "$tree" worktree add -q --detach "$1" "$2"
}

# Amend each patch that adds files of selftests/ with fixup commits and
# git rebase --autosquash, then write only the patches that changed, each
# under its own name and with its own "[PATCH n/N]", so that the other
# patches stay exactly as they are.
sync_selftest() {
	local wt=$BASE_DIR/series-sync f p i n=0 commits tmp prefix fresh
	local -A files
	selftest_map "$@"
	worktree_at "$wt" vmtest-base
	"${GIT[@]}" -C "$wt" am -q "${patches[@]}"
	mapfile -t commits < <("${GIT[@]}" -C "$wt" rev-list --reverse vmtest-base..HEAD)
	for f in "${!owner[@]}"; do
		files[${owner[$f]}]+="$f "
	done
	for i in "${!patches[@]}"; do
		p=${patches[$i]}
		[ -n "${files[$p]:-}" ] || continue
		for f in ${files[$p]}; do
			if [ -e "$REPO/selftests/$f" ]; then
				cp "$REPO/selftests/$f" "$wt/$SELFTEST_DIR/$f"
			else
				rm -f "$wt/$SELFTEST_DIR/$f"
			fi
			"${GIT[@]}" -C "$wt" add -f -A -- "$SELFTEST_DIR/$f"
		done
		if ! "${GIT[@]}" -C "$wt" diff --cached --quiet; then
			"${GIT[@]}" -C "$wt" commit -q --fixup="${commits[$i]}"
			files[$p]=changed
			n=$((n + 1))
		fi
	done
	if [ $n = 0 ]; then
		log "the selftest patches already match selftests/"
	else
		GIT_SEQUENCE_EDITOR=: "${GIT[@]}" -C "$wt" rebase -q -i --autosquash vmtest-base
		tmp=$(mktemp -d)
		"${GIT[@]}" -C "$wt" format-patch -q --zero-commit --no-signature \
			-o "$tmp" vmtest-base..HEAD
		mapfile -t fresh < <(printf '%s\n' "$tmp"/*.patch)
		[ ${#fresh[@]} = ${#patches[@]} ] || die "series-sync: ${#fresh[@]} patches after the rebase, not ${#patches[@]}"
		for i in "${!patches[@]}"; do
			p=${patches[$i]}
			[ "${files[$p]:-}" = changed ] || continue
			prefix=$(grep -m1 -o '^Subject: \[[^]]*\]' "$p")
			sed "1,/^Subject: /s/^Subject: \[[^]]*\]/$(sed 's/[\/&]/\\&/g' <<<"$prefix")/" \
				"${fresh[$i]}" >"$p"
			log "rewrote $(basename "$p") from selftests/"
		done
		rm -rf "$tmp"
	fi
	"${GIT[@]}" -C "$tree" worktree remove --force "$wt"
}

run_checkpatch() {
	local p out bad=0 allowed
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
		mapfile -t allowed < <(series_allowed "$p" "${patches[@]}")
		out=$(checkpatch_findings "$checkpatch_tree" "$p" "$sob" "${allowed[@]}")
		if [ -n "$out" ]; then
			printf '%s\n%s\n' "$(basename "$p"):" "$out" >&2
			bad=1
		fi
	done
	[ $bad = 0 ] || die "checkpatch --strict found problems (checkpatch.pl of $checkpatch_tree)"
	log "checkpatch --strict (checkpatch.pl of $checkpatch_tree): ${#patches[@]} patches clean but for the missing Signed-off-by (and \"does MAINTAINERS need updating?\" where the series answers it)"
}

# Build after each patch in a separate tree (bisect/src, at the same depth
# as the others, so ccache shares their objects), from tinyconfig +
# qemu/config/bisect.config.  Once the kernel sources equal the whole series' (only
# the selftests and MAINTAINERS differ, as after the last kernel patch), the
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
sync-selftest) shift; sync_selftest "$@" ;;
check-selftest) check_selftest ;;
checkpatch) run_checkpatch ;;
bisect) bisect ;;
*) die "usage: series.sh sync-selftest [FILE=NNNN...]|check-selftest|checkpatch|bisect|import TREE [REV]" ;;
esac
