#!/usr/bin/env bash
# Prepare the kernel source trees of one base (BASE, scripts/lib.sh) under
# $BUILD_DIR/$BASE:
#   baseline/src  a copy of the base tree
#   patched/src   a git repository: the base tree plus the base's series
#                 (kernel-patches/*.patch, kernel-patches/6.12/*.patch)
# The base tree is Debian's linux-source-$BASE, or KERNEL_SRC; it is only read.
# Trees are reused while the base and the series are unchanged; on a series
# change only the files that change are rewritten, so the rebuild is
# incremental.  A series that does not apply leaves patched/src as it was.
# TREES=patched prepares only the patched tree.
LOG_TAG=trees
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
TREES=${TREES:-baseline patched}

# gc.auto=0: the first commit of a kernel tree would start a background
# repack, minutes of CPU time taken from the builds.
GIT=(git -c user.name=vmtest -c user.email=vmtest@localhost -c advice.detachedHead=false -c gc.auto=0)

base_id() {
	if [ -z "$KERNEL_SRC" ]; then
		printf 'deb %s %s\n' "$DEB_SOURCE_PKG" "$(deb_version)"
	else
		printf 'dir %s %s\n' "$(realpath "$KERNEL_SRC")" \
			"$(git -C "$KERNEL_SRC" rev-parse HEAD 2>/dev/null || true)"
	fi
}

base_label() {
	base_id | cut -d' ' -f2- | sed 's/ *$//'
}

# copy_base DEST: a fresh, clean copy of the base tree at DEST.
copy_base() {
	local dest=$1 tmp=$1.tmp

	rm -rf "$dest" "$tmp"
	mkdir -p "$tmp"
	if [ -z "$KERNEL_SRC" ]; then
		[ -f "$DEB_TARBALL" ] ||
			die "no $DEB_TARBALL: run scripts/deps.sh or set KERNEL_SRC=/path/to/linux"
		log "extracting $DEB_TARBALL"
		tar -xf "$DEB_TARBALL" -C "$tmp" --strip-components=1
	else
		# lib.sh checked the Makefile and took the base from it.
		[ -f "$KERNEL_SRC/kernel/sched/wait.c" ] && [ -f "$KERNEL_SRC/fs/eventpoll.c" ] ||
			die "KERNEL_SRC=$KERNEL_SRC is not a Linux tree (no kernel/sched/wait.c or fs/eventpoll.c)"
		log "copying $KERNEL_SRC"
		rsync -a --exclude=/.git "$KERNEL_SRC"/ "$tmp"/
		# An in-tree build would make "make O=..." refuse the copy.
		if [ -e "$tmp/.config" ] || [ -d "$tmp/include/config" ]; then
			log "cleaning the copy (make mrproper)"
			make -s -C "$tmp" mrproper
		fi
	fi
	mv "$tmp" "$dest"
}

prepare_baseline() {
	local dir=$BASE_DIR/baseline id=$1

	if [ -d "$dir/src" ] && [ "$(cat "$dir/base-id" 2>/dev/null)" = "$id" ]; then
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	copy_base "$dir/src"
	echo "$id" > "$dir/base-id"
}

# apply_series TREE PATCH...: apply the patches one by one to vmtest-base in
# a scratch index, one commit each, and print the last commit.  The work
# tree is not touched, so a failing patch leaves nothing half-applied.
apply_series() {
	local tree=$1 commit tree_id p out
	shift
	export GIT_INDEX_FILE=$tree/.git/vmtest-series.index
	"${GIT[@]}" -C "$tree" read-tree vmtest-base
	commit=$("${GIT[@]}" -C "$tree" rev-parse vmtest-base)
	for p in "$@"; do
		if ! out=$("${GIT[@]}" -C "$tree" apply --cached "$p" 2>&1); then
			rm -f "$GIT_INDEX_FILE"
			sed 's/^/  /' <<<"$out" >&2
			die "$(basename "$p") does not apply to $(base_label); nothing was applied"
		fi
		tree_id=$("${GIT[@]}" -C "$tree" write-tree)
		commit=$("${GIT[@]}" -C "$tree" commit-tree "$tree_id" -p "$commit" -m "$(basename "$p")")
	done
	rm -f "$GIT_INDEX_FILE"
	unset GIT_INDEX_FILE
	echo "$commit"
}

prepare_patched() {
	local dir=$BASE_DIR/patched id=$1 series_id commit
	local patches=("$PATCH_DIR"/*.patch)

	[ -e "${patches[0]}" ] || die "no patches in $PATCH_DIR"
	if ! [ -d "$dir/src/.git" ] || [ "$(cat "$dir/base-id" 2>/dev/null)" != "$id" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		copy_base "$dir/src"
		log "recording the base in git (once per base tree)"
		# Debian's tree ignores everything at the top level: add with -f.
		"${GIT[@]}" -C "$dir/src" init -q
		"${GIT[@]}" -C "$dir/src" add -f -A
		"${GIT[@]}" -C "$dir/src" commit -q -m base
		"${GIT[@]}" -C "$dir/src" tag vmtest-base
		echo "$id" > "$dir/base-id"
	fi

	series_id=$(series_id "${patches[@]}")
	[ "$(cat "$dir/series-id" 2>/dev/null)" = "$series_id" ] && return

	log "applying ${#patches[@]} patches"
	commit=$(apply_series "$dir/src" "${patches[@]}")
	# Rewrites only the files that differ from what is checked out, so an
	# edit to one patch rebuilds only what that edit touches.
	"${GIT[@]}" -C "$dir/src" checkout -q -f --detach "$commit"
	echo "$series_id" > "$dir/series-id"
}

main() {
	local id baseline=
	id=$(base_id)
	# The baseline copy in parallel with the patched tree: each is mostly
	# one CPU's work (xz, then git add).
	case " $TREES " in *" baseline "*)
		prepare_baseline "$id" &
		baseline=$!
		# Also when the series does not apply: the copy ends before we do.
		trap wait EXIT
		;;
	esac
	case " $TREES " in *" patched "*) prepare_patched "$id" ;; esac
	if [ -n "$baseline" ] && ! wait "$baseline"; then
		die "the baseline tree of $(base_label) could not be prepared"
	fi
	log "trees ready in $BASE_DIR (base: $(base_label))"
}

main "$@"
