#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Prepare the kernel source trees of one base (BASE, scripts/lib/lib.sh) under
# $BUILD_DIR/$BASE:
#   patched/src   a git repository: the base tree at tag vmtest-base, plus
#                 the base's series (kernel-patches/$BASE/*.patch), one
#                 commit a patch, checked out
#   baseline/src  a git worktree of that repository at vmtest-base
# The base tree is Debian's linux-source-$BASE (KERNEL_PKG: another Debian
# package), or KERNEL_SRC, which is only ever read:
#   a git tree    cloned with --shared (objects read from it, nothing
#                 written to it) at its HEAD, so the patched commits have
#                 real parents and the export names HEAD as base-commit;
#                 uncommitted edits to tracked files are refused, untracked
#                 files are listed (neither is in HEAD)
#   any other     copied (not its .git), and recorded in one commit
# Each patch applies exactly (offsets allowed), else three-way (where the
# tree has the blobs the patch was made from), else with reduced context;
# each fallback is said.  A patch that applies in no way is named with its
# first failing hunk, and nothing is applied.  Trees are reused while the
# base and the series are unchanged; on a series change only the files that
# change are rewritten, so the rebuild is incremental.
# TREES=patched prepares only the patched tree.
LOG_TAG=trees
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib.sh"
TREES=${TREES:-baseline patched}

# gc.auto=0: the first commit of a kernel tree would start a background
# repack, minutes of CPU time taken from the builds.
GIT=(git -c user.name=vmtest -c user.email=vmtest@localhost -c advice.detachedHead=false -c gc.auto=0)

base_id() {
	if [ -z "$KERNEL_SRC" ]; then
		printf 'deb %s %s\n' "$DEB_SOURCE_PKG" "$(deb_version)"
	elif src_is_git; then
		printf 'git %s %s\n' "$(realpath "$KERNEL_SRC")" "$(git -C "$KERNEL_SRC" rev-parse HEAD)"
	else
		# No history names the content: the list of files, sizes and
		# times does, so that an edit makes a new base.
		printf 'dir %s %s\n' "$(realpath "$KERNEL_SRC")" \
			"$(cd "$KERNEL_SRC" && find . -path ./.git -prune -o -type f -printf '%P %s %T@\n' |
				sort | sha256sum | cut -c1-16)"
	fi
}

# base_label: the base for messages, from base_id's answer, which main
# computes once (for a plain tree it reads every file's size and time).
base_label() {
	cut -d' ' -f2- <<<"$BASE_ID" | sed 's/ *$//'
}

# src_is_git: KERNEL_SRC is the top of a git work tree with a commit.
src_is_git() {
	[ -n "$KERNEL_SRC" ] &&
		[ "$(git -C "$KERNEL_SRC" rev-parse --show-toplevel 2>/dev/null)" = "$(realpath "$KERNEL_SRC")" ] &&
		git -C "$KERNEL_SRC" rev-parse -q --verify 'HEAD^{commit}' >/dev/null
}

# check_src_clean: a git KERNEL_SRC with edits to tracked files is refused
# (the harness builds HEAD: the edits would be silently missing); untracked
# files are listed.
check_src_clean() {
	local dirty untracked
	src_is_git || return 0
	dirty=$(git -C "$KERNEL_SRC" status --porcelain --untracked-files=no | cut -c4-)
	[ -z "$dirty" ] ||
		die "KERNEL_SRC=$KERNEL_SRC has uncommitted edits to $(wc -l <<<"$dirty") tracked file(s) ($(head -n3 <<<"$dirty" | paste -sd' ')): commit or stash them; the harness builds HEAD"
	untracked=$(git -C "$KERNEL_SRC" status --porcelain | sed -n 's/^?? //p')
	[ -z "$untracked" ] ||
		log "warning: $(wc -l <<<"$untracked") untracked file(s) in KERNEL_SRC are not in HEAD and not built: $(head -n3 <<<"$untracked" | paste -sd' ')"
}

# make_repo DEST: DEST a git repository of the base tree, its commit
# tagged vmtest-base and checked out.
make_repo() {
	local dest=$1 tmp=$1.tmp

	rm -rf "$dest" "$tmp"
	mkdir -p "$(dirname "$dest")"
	if src_is_git; then
		log "cloning $KERNEL_SRC at $(git -C "$KERNEL_SRC" rev-parse --short HEAD) (--shared: its objects, its history)"
		"${GIT[@]}" clone -q --shared --no-checkout "$KERNEL_SRC" "$tmp"
		"${GIT[@]}" -C "$tmp" tag vmtest-base "$(git -C "$KERNEL_SRC" rev-parse HEAD)"
		"${GIT[@]}" -C "$tmp" checkout -q --detach vmtest-base
		mv "$tmp" "$dest"
		return
	fi
	mkdir -p "$tmp"
	if [ -z "$KERNEL_SRC" ]; then
		[ -f "$DEB_TARBALL" ] ||
			die "no $DEB_TARBALL: run scripts/deps.sh or set KERNEL_SRC=/path/to/linux"
		log "extracting $DEB_TARBALL"
		tar -xf "$DEB_TARBALL" -C "$tmp" --strip-components=1
	else
		log "copying $KERNEL_SRC"
		rsync -a --exclude=/.git "$KERNEL_SRC"/ "$tmp"/
		# An in-tree build would make "make O=..." refuse the copy.
		if [ -e "$tmp/.config" ] || [ -d "$tmp/include/config" ]; then
			log "cleaning the copy (make mrproper)"
			make -s -C "$tmp" mrproper
		fi
	fi
	log "recording the base in git (once per base tree)"
	# Debian's tree ignores everything at the top level: add with -f.
	"${GIT[@]}" -C "$tmp" init -q
	"${GIT[@]}" -C "$tmp" add -f -A
	"${GIT[@]}" -C "$tmp" commit -q -m "base: $(base_label)"
	"${GIT[@]}" -C "$tmp" tag vmtest-base
	mv "$tmp" "$dest"
}

# apply_one TREE PATCH PARENT: apply PATCH to TREE's index (GIT_INDEX_FILE),
# which holds commit PARENT's tree: exactly, else three-way, else with one
# line of context; say which when it was not exact.  A failed try leaves
# the index as PARENT's tree.  On failure, print the first failing hunks.
apply_one() {
	local tree=$1 p=$2 parent=$3 out
	if out=$("${GIT[@]}" -C "$tree" apply --cached -v "$p" 2>&1); then
		grep -o 'Hunk #[0-9]* succeeded at [0-9]* (offset [-0-9]* lines*)' <<<"$out" |
			sed "s|^|  $(basename "$p"): |" >&2 || true
		return 0
	fi
	if "${GIT[@]}" -C "$tree" apply --cached --3way "$p" >/dev/null 2>&1 &&
		[ -z "$("${GIT[@]}" -C "$tree" ls-files -u)" ]; then
		log "$(basename "$p"): applied three-way (the tree has changed around it)"
		return 0
	fi
	"${GIT[@]}" -C "$tree" read-tree "$parent"
	if "${GIT[@]}" -C "$tree" apply --cached -C1 "$p" >/dev/null 2>&1; then
		log "warning: $(basename "$p"): applied with only one line of context: check the result"
		return 0
	fi
	"${GIT[@]}" -C "$tree" read-tree "$parent"
	# git apply names each hunk it could not place as "patch failed:
	# FILE:LINE", or a missing file; the first few are enough.
	grep '^error: ' <<<"$out" | grep -v ': patch does not apply$' | head -n 5 |
		sed 's/^error: /  /' >&2
	return 1
}

# apply_series TREE PATCH...: apply the patches one by one to vmtest-base in
# a scratch index, one commit each (author, date and message from the
# patch, as git am makes them), and print the last commit.  The work tree
# is not touched, so a failing patch leaves nothing half-applied.
apply_series() {
	local tree=$1 commit tree_id p info msg
	shift
	export GIT_INDEX_FILE=$tree/.git/vmtest-series.index
	"${GIT[@]}" -C "$tree" read-tree vmtest-base
	commit=$("${GIT[@]}" -C "$tree" rev-parse vmtest-base)
	for p in "$@"; do
		if ! apply_one "$tree" "$p" "$commit"; then
			rm -f "$GIT_INDEX_FILE"
			die "$(basename "$p") does not apply to $(base_label), exactly, three-way or with reduced context (the first failing hunks above); nothing was applied"
		fi
		tree_id=$("${GIT[@]}" -C "$tree" write-tree)
		info=$(git mailinfo "$tree/.git/vmtest-msg" /dev/null <"$p")
		msg=$(printf '%s\n\n%s\n' "$(sed -n 's/^Subject: //p' <<<"$info")" "$(cat "$tree/.git/vmtest-msg")")
		commit=$(GIT_AUTHOR_NAME=$(sed -n 's/^Author: //p' <<<"$info") \
			GIT_AUTHOR_EMAIL=$(sed -n 's/^Email: //p' <<<"$info") \
			GIT_AUTHOR_DATE=$(sed -n 's/^Date: //p' <<<"$info") \
			"${GIT[@]}" -C "$tree" commit-tree "$tree_id" -p "$commit" -m "$msg")
	done
	rm -f "$GIT_INDEX_FILE" "$tree/.git/vmtest-msg"
	unset GIT_INDEX_FILE
	echo "$commit"
}

# guard_patched DIR: the harness rewrites DIR (a new base or series
# resets it); refuse while it holds work of someone's that would be lost:
# edits, or commits past the series it was made with.
guard_patched() {
	local src=$1/src
	[ -d "$src/.git" ] || return 0
	if [ -n "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ] ||
		{ [ -f "$1/series-commit" ] &&
			[ "$(git -C "$src" rev-parse HEAD 2>/dev/null)" != "$(cat "$1/series-commit")" ]; }; then
		die "$src holds edits or commits the harness would overwrite: work in your own tree (KERNEL_SRC, then scripts/series.sh import), or remove $src"
	fi
}

prepare_patched() {
	local dir=$BASE_DIR/patched id=$1 series_id commit
	local patches=("$PATCH_DIR"/*.patch)

	[ -e "${patches[0]}" ] || die "no patches in $PATCH_DIR"
	if ! [ -d "$dir/src/.git" ] || [ "$(cat "$dir/base-id" 2>/dev/null)" != "$id" ]; then
		guard_patched "$dir"
		rm -rf "$dir"
		make_repo "$dir/src"
		echo "$id" > "$dir/base-id"
	fi

	series_id=$(series_id "${patches[@]}")
	[ "$(cat "$dir/series-id" 2>/dev/null)" = "$series_id" ] && return

	guard_patched "$dir"
	log "applying ${#patches[@]} patches of $(basename "$PATCH_DIR") to $(base_label)"
	commit=$(apply_series "$dir/src" "${patches[@]}")
	# Rewrites only the files that differ from what is checked out, so an
	# edit to one patch rebuilds only what that edit touches.
	"${GIT[@]}" -C "$dir/src" checkout -q -f --detach "$commit"
	echo "$commit" > "$dir/series-commit"
	echo "$series_id" > "$dir/series-id"
}

# prepare_baseline: a worktree of the patched tree's repository at the
# base, shared objects and all.
prepare_baseline() {
	local dir=$BASE_DIR/baseline id=$1 repo=$BASE_DIR/patched/src

	if [ -e "$dir/src/.git" ] && [ "$(cat "$dir/base-id" 2>/dev/null)" = "$id" ]; then
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	"${GIT[@]}" -C "$repo" worktree prune
	"${GIT[@]}" -C "$repo" worktree add -q --detach "$dir/src" vmtest-base
	echo "$id" > "$dir/base-id"
}

main() {
	local src_base
	if [ -n "$KERNEL_SRC" ]; then
		# lib.sh checked the Makefile and took the nearest base from it.
		[ -f "$KERNEL_SRC/kernel/sched/wait.c" ] && [ -f "$KERNEL_SRC/fs/eventpoll.c" ] ||
			die "KERNEL_SRC=$KERNEL_SRC is not a Linux tree (no kernel/sched/wait.c or fs/eventpoll.c)"
		src_base=$(tree_base "$KERNEL_SRC")
		[ "$src_base" = "$BASE" ] ||
			log "KERNEL_SRC is Linux $src_base: applying the $BASE series (of $BASES: the nearest, or BASE=)"
	fi
	check_src_clean
	BASE_ID=$(base_id)
	# The baseline is a worktree of the patched tree's repository: that
	# repository first, whichever trees are asked for.
	prepare_patched "$BASE_ID"
	case " $TREES " in *" baseline "*) prepare_baseline "$BASE_ID" ;; esac
	log "trees ready in $BASE_DIR (base: $(base_label), series: $(basename "$PATCH_DIR"))"
}

main "$@"
