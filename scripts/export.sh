#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# export.sh: the LKML posting of the newest base's series, from the last
# passing run, checked before anyone sends it.  Never sends mail.
#
#   export.sh            write $EXPORT_DIR/v$REVISION/ (default build/export/v1):
#                          series/     git format-patch --cover-letter of the
#                                      series but the patches its held-back
#                                      file names (kept, tested, not sent):
#                                      the submitter as author, with their
#                                      Signed-off-by after Assisted-by, To:
#                                      and Cc: from get_maintainer.pl, the
#                                      cover letter filled from the run
#                          man-pages/  the man-pages patch, against Debian's
#                                      manpages-dev, to its maintainer
#                        then verify it, and print what would be sent
#   export.sh verify DIR check an export (e.g. after editing its cover letter)
#
# Refuses, with one line, unless the last run of the base passed and tested
# exactly this series, and unless git config user.name and user.email are
# set.  The cover letter takes its overhead section from make bench's
# $BASE_DIR/bench.txt when that measured this series.  REVISION=N (N >= 2) makes
# [PATCH vN] and needs
# kernel-patches/posting/changes-vN.txt.  A failed export leaves nothing in
# $EXPORT_DIR.
LOG_TAG="export"
# shellcheck source=scripts/lib/lib.sh
source "$(dirname "$0")/lib/lib.sh"

REVISION=${REVISION:-1}
EXPORT_DIR=${EXPORT_DIR:-$BUILD_DIR/export}
POSTING=$REPO/kernel-patches/posting
MAN_SERIES_DIR=$REPO/kernel-patches/man
# Debian's manpages-dev: the pages the man-pages patch is made against.
MAN_PAGES_DEB=/usr/share/man
tree=$BASE_DIR/patched/src
results=$BASE_DIR/results.json
# The overhead figures of "make bench" (scripts/bench.sh), and beside them
# (bench.series-id) the series they measured.
BENCH_TXT=${BENCH_TXT:-$BASE_DIR/bench.txt}
newest=${BASES%% *}
# Cc'd on the series besides get_maintainer.pl's list: the author of the
# 2015 proposal (and of EPOLLEXCLUSIVE).  linux-api comes from MAINTAINERS.
EXTRA_CC=("Jason Baron <jbaron@akamai.com>")
# What must not reach a list: the stored patches' placeholder identity,
# format-patch's cover letter fields, unfilled template fields.
PLACEHOLDERS='@invalid\b|\*\*\* (SUBJECT|BLURB) HERE \*\*\*|\bTBD\b|Linux 7\.x|@[A-Z_]+@'

posting() { python3 "$REPO/scripts/reports/posting.py" "$@"; }

# identity: "Name <email>" of the submitter, from git config.
identity() {
	local name email
	name=$(git -C "$REPO" config user.name || true)
	email=$(git -C "$REPO" config user.email || true)
	[ -n "$name" ] && [ -n "$email" ] ||
		die "git config user.name and user.email are not set: the export signs off as you (git config --global user.name 'Your Name'; git config --global user.email you@example.org)"
	[[ $email =~ ^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$ ]] && [[ ! $email =~ @(invalid|localhost)$|\.invalid$ ]] ||
		die "git config user.email '$email' is not an address a list can reply to"
	echo "$name <$email>"
}

# recipients PATCH...: "to" and "cc" lines for git format-patch, from the
# tree's get_maintainer.pl (--no-git: the tarball has no history):
# maintainers to To:, reviewers and lists to Cc:.
recipients() {
	(cd "$tree" && ./scripts/get_maintainer.pl --no-git --no-git-fallback "$@") |
		awk '/\(maintainer:/ { sub(/ \(.*/, ""); print "to " $0; next }
			{ sub(/ \(.*/, ""); print "cc " $0 }'
	recipients_abi
	printf 'cc %s\n' "${EXTRA_CC[@]}"
}

# recipients_abi: the ABI/API list, for the new uapi flags.
recipients_abi() {
	awk '/^ABI\/API$/ { e = 1; next } e && /^L:/ { print "cc " $2; exit }
		e && /^$/ { exit }' "$tree/MAINTAINERS"
}

# man_recipients: the MAN-PAGES entry's M: as "to", L: as "cc".
man_recipients() {
	awk '/^MAN-PAGES:/ { e = 1; next }
		e && /^M:/ { sub(/^M:[ \t]*/, ""); print "to " $0 }
		e && /^L:/ { sub(/^L:[ \t]*/, ""); print "cc " $0 }
		e && /^$/ { exit }' "$tree/MAINTAINERS"
	# New uapi, documented: the ABI/API list too.
	recipients_abi
}

# pristine_pages DIR: a git repository of the man pages the man-pages patch
# touches, as Debian ships them, in the man-pages source layout.
pristine_pages() {
	local dir=$1 f p
	mkdir -p "$dir"
	git -C "$dir" init -q
	while read -r f; do
		p=$MAN_PAGES_DEB/$f.gz
		[ -f "$p" ] || die "$p missing: install manpages-dev (make deps)"
		mkdir -p "$dir/$(dirname "$f")"
		zcat "$p" >"$dir/$f"
	done < <(sed -n 's|^+++ b/||p' "$MAN_SERIES_DIR"/*.patch | sort -u)
	git -C "$dir" add -A
	"${GIT[@]}" -C "$dir" commit -q -m "man-pages as Debian ships them"
}

# verify DIR IDENT: the export's own checks; die on the first that fails.
verify() {
	local dir=$1 ident=$2 f out bad=0 patches=() mails=() allowed held
	mails=("$dir"/series/*.patch "$dir"/man-pages/*.patch)
	for f in "$dir"/series/*.patch; do
		case $f in */0000-cover-letter.patch) ;; *) patches+=("$f") ;; esac
	done
	[ ${#patches[@]} -gt 0 ] || die "$dir/series has no patches"

	# Nothing of the stored form or of a template is left.
	if out=$(grep -nE "$PLACEHOLDERS" "${mails[@]}"); then
		die "placeholder left: $(head -n1 <<<"$out" | sed "s|$dir/||")"
	fi
	# Headers, numbering, sign-off.
	for f in series man-pages; do
		out=$(posting check-mail --ident "$ident" "$dir/$f"/*.patch 2>&1) ||
			die "${out#error: }"
	done
	# What git send-email itself checks before sending (line lengths,
	# addresses), without sending.
	if ! out=$(git send-email --dry-run --confirm=never --quiet \
		--from="$ident" "${mails[@]}" </dev/null 2>&1); then
		die "git send-email --dry-run refuses the export: $(tail -n1 <<<"$out")"
	fi

	# git am's own steps (mailinfo, then apply) onto the pristine base, in
	# a scratch index, give exactly the tree that was tested, but for the
	# held-back patches: the patched tree has a commit per patch.
	if ! out=$(apply_mails "$tree" vmtest-base "" "${patches[@]}" 2>&1); then
		die "the exported series does not apply to $(cat "$BASE_DIR/patched/base-id"): $(tail -n1 <<<"$out")"
	fi
	held=$(held_back "$SERIES_DIR" | wc -l)
	[ "$(git -C "$tree" rev-parse "$out^{tree}")" = "$(git -C "$tree" rev-parse "HEAD~$held^{tree}")" ] ||
		die "the exported series does not give the tree that was tested"

	# checkpatch --strict: no finding at all, but "does MAINTAINERS need
	# updating?" where the series' own MAINTAINERS patch covers the files.
	for f in "${patches[@]}"; do
		mapfile -t allowed < <(series_allowed "$f" "${patches[@]}")
		out=$(checkpatch_findings "$tree" "$f" "${allowed[@]}")
		if [ -n "$out" ]; then
			printf '%s:\n%s\n' "$(basename "$f")" "$out" >&2
			bad=1
		fi
	done
	[ $bad = 0 ] || die "checkpatch --strict finds problems in the exported series (above)"

	# The man-pages patch applies to Debian's pages and the result is
	# lint-clean.
	pristine_pages "$scratch/man"
	if ! out=$("${GIT[@]}" -C "$scratch/man" am -q "$dir"/man-pages/*.patch 2>&1); then
		die "the man-pages patch does not apply to Debian's manpages-dev: $(head -n1 <<<"$out")"
	fi
	while read -r f; do
		out=$(groff -man -ww -z "$scratch/man/$f" 2>&1)
		[ -z "$out" ] || die "groff -man -ww finds problems in $f: $(head -n1 <<<"$out")"
	done < <(git -C "$scratch/man" diff --name-only "HEAD~$((${#mails[@]} - ${#patches[@]} - 1))")
	rm -rf "$scratch/man"
	log "verified $dir: git am gives the tested tree, checkpatch --strict clean, headers and sign-offs complete, no placeholder, man pages lint-clean"
}

# man_pages_note COVER: below the man-pages patch's "---": what it goes
# with, what it is made against, and what waits for the merge.
man_pages_note() {
	local subject version
	subject=$(awk '/^Subject: / { sub(/^Subject: /, ""); s = $0; next }
		s != "" && /^ / { s = s $0; next } s != "" { print s; exit }' "$1")
	version=$(dpkg-query -W -f='${Version}' manpages-dev 2>/dev/null || echo unknown)
	printf '%s
' \
		"This documents the kernel series \"$subject\"," \
		"sent at the same time to linux-api.  Please hold it until that series" \
		"is merged; the kernel version and the commit comments are to be added" \
		"then.  Made against man-pages as Debian ships it (manpages-dev" \
		"$version); it may need a rebase onto man-pages.git."
}

# apply_mails REPO BASE IDENT MAIL...: what git am does, without a work
# tree (a kernel checkout is 1.4 GB): for each mail, git mailinfo, git apply
# to a scratch index, and a commit on top of BASE; print the last commit.
# With IDENT ("Name <email>"), the commits are theirs and signed off by
# them.
apply_mails() {
	local repo=$1 commit=$2 ident=$3 m name email
	shift 3
	export GIT_INDEX_FILE=$scratch/index
	git -C "$repo" read-tree "$commit"
	for m; do
		git -C "$repo" mailinfo "$scratch/msg" "$scratch/diff" <"$m" >"$scratch/info"
		git -C "$repo" apply --cached "$scratch/diff"
		{
			sed -n 's/^Subject: //p' "$scratch/info"
			echo
			cat "$scratch/msg"
		} >"$scratch/log"
		if [ -n "$ident" ]; then
			git interpret-trailers --in-place --trailer "Signed-off-by: $ident" "$scratch/log"
			name=${ident% <*} email=${ident##*<}
		else
			name=$(sed -n 's/^Author: //p' "$scratch/info")
			email="$(sed -n 's/^Email: //p' "$scratch/info")>"
		fi
		commit=$(GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=${email%>} \
			GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=${email%>} \
			git -C "$repo" commit-tree "$(git -C "$repo" write-tree)" -p "$commit" -F "$scratch/log")
	done
	rm -f "$GIT_INDEX_FILE"
	unset GIT_INDEX_FILE
	echo "$commit"
}

make_export() {
	local out=$EXPORT_DIR/v$REVISION ident changes='' bench='' to=() cc=() kind who msg
	local prefix=(--subject-prefix=PATCH) stored=() held=() posted
	local man_patches=("$MAN_SERIES_DIR"/*.patch) email head base_commit

	[ ! -e "$out" ] ||
		die "$out exists: make the next version with REVISION=$((REVISION + 1)) (and kernel-patches/posting/changes-v$((REVISION + 1)).txt), or remove it"
	ident=$(identity)
	posted=$(posted_patches "$SERIES_DIR") || exit 1
	mapfile -t stored <<<"$posted"
	if [ "$REVISION" -gt 1 ]; then
		changes=$POSTING/changes-v$REVISION.txt
		[ -s "$changes" ] ||
			die "REVISION=$REVISION needs $changes: what changed since v$((REVISION - 1)), for the cover letter"
		prefix=(-v "$REVISION")
	fi
	# The base a maintainer can check out: a git KERNEL_SRC's HEAD.  A
	# Debian tarball's base is a commit of ours, which nobody else has; the
	# cover letter names its version instead.
	case $(cat "$BASE_DIR/patched/base-id" 2>/dev/null) in
	"git "*) base_commit=(--base=vmtest-base) ;;
	*) base_commit=() ;;
	esac
	if ! msg=$(posting check-run --results "$results" --series-id "$(series_id)" \
		--base-version "$(cat "$BASE_DIR/patched/base-id" 2>/dev/null)" 2>&1); then
		die "${msg#error: }: run 'make vm' (BASE=$BASE) and export after it passes"
	fi
	# make bench's figures, if they measured this series.
	if [ -f "$BENCH_TXT" ] &&
		[ "$(cat "${BENCH_TXT%.txt}.series-id" 2>/dev/null)" = "$(series_id)" ]; then
		bench=$BENCH_TXT
	elif [ -f "$BENCH_TXT" ]; then
		log "warning: $BENCH_TXT measured another series: the cover letter has no overhead figures (make bench)"
	else
		log "warning: no $BENCH_TXT: the cover letter has no overhead figures (make bench)"
	fi

	TREES=patched "$REPO/scripts/lib/kernel-trees.sh"
	email=${ident##*<}
	GIT=(git -c "user.name=${ident% <*}" -c "user.email=${email%>}"
		-c gc.auto=0 -c advice.detachedHead=false)
	while read -r kind who; do
		if [ "$kind" = to ]; then to+=("--to=$who"); else cc+=("--cc=$who"); fi
	done < <(recipients "${stored[@]}")

	mapfile -t held < <(held_back "$SERIES_DIR")
	[ ${#held[@]} = 0 ] ||
		log "leaving out the held-back patches (${SERIES_DIR#"$REPO"/}/held-back): ${held[*]}"
	log "writing $out (as $ident)"
	mkdir -p "$scratch/v$REVISION"
	head=$(apply_mails "$tree" vmtest-base "$ident" "${stored[@]}")
	"${GIT[@]}" -C "$tree" format-patch -q --cover-letter --thread=shallow \
		"${prefix[@]}" "${base_commit[@]}" "${to[@]}" "${cc[@]}" \
		-o "$scratch/v$REVISION/series" "vmtest-base..$head"
	posting cover --results "$results" --template "$POSTING/cover-letter.txt" \
		--version "$REVISION" ${changes:+--changes "$changes"} ${bench:+--bench "$bench"} \
		"$scratch/v$REVISION/series/0000-cover-letter.patch"

	to=() cc=()
	while read -r kind who; do
		if [ "$kind" = to ]; then to+=("--to=$who"); else cc+=("--cc=$who"); fi
	done < <(man_recipients)
	pristine_pages "$scratch/man"
	head=$(apply_mails "$scratch/man" HEAD "$ident" "${man_patches[@]}")
	"${GIT[@]}" -C "$scratch/man" notes add -m "$(man_pages_note "$scratch/v$REVISION/series/0000-cover-letter.patch")" "$head"
	"${GIT[@]}" -C "$scratch/man" format-patch -q --notes --thread=shallow "${prefix[@]}" \
		"${to[@]}" "${cc[@]}" -o "$scratch/v$REVISION/man-pages" "HEAD..$head"
	rm -rf "$scratch/man"

	verify "$scratch/v$REVISION" "$ident"
	mkdir -p "$EXPORT_DIR"
	mv "$scratch/v$REVISION" "$out"
	summary "$out"
}

# recipient_headers MAIL: its To: and Cc: headers, continuation lines
# included.
recipient_headers() {
	local f
	for f; do
		awk '/^$/ { exit } /^(To|Cc):/ { p = 1; print "  " $0; next }
			/^[ \t]/ && p { print "  " $0; next } { p = 0 }' "$f"
	done
}

# summary DIR: what would be sent, to whom, and how.
summary() {
	local dir=$1 f
	echo "Export: $dir"
	for f in "$dir"/series/*.patch "$dir"/man-pages/*.patch; do
		printf '  %-62s %s\n' "${f#"$dir"/}" \
			"$(sed -n 's/^Subject: //p' "$f" | head -n1 | cut -c1-60)"
	done
	echo "Recipients of the series:"
	recipient_headers "$dir/series/0000-cover-letter.patch"
	echo "Recipients of the man-pages patch:"
	recipient_headers "$dir"/man-pages/*.patch
	echo "Nothing was sent.  Read the cover letter, then:"
	echo "  git send-email $dir/series/*.patch"
	echo "  git send-email --in-reply-to=<Message-Id of the cover letter as sent> $dir/man-pages/*.patch"
}

[ "$BASE" = "$newest" ] ||
	die "the posting is made from the newest base, $newest; the $BASE series is its backport"
[ -z "${V:-}" ] || die "V is kbuild's verbosity: the posting's version is REVISION=N (make export REVISION=2)"
[[ $REVISION =~ ^[1-9][0-9]*$ ]] || die "REVISION must be a version number (1, 2, ...), not '$REVISION'"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
GIT=(git -c user.name=vmtest -c user.email=vmtest@localhost -c gc.auto=0 -c advice.detachedHead=false)

case ${1:-} in
"") make_export ;;
verify)
	[ $# = 2 ] || die "usage: export.sh [verify DIR]"
	[ -d "$2/series" ] && [ -d "$2/man-pages" ] ||
		die "$2 is not an export (no series/ and man-pages/)"
	[ -d "$tree/.git" ] || die "$tree missing: run scripts/lib/kernel-trees.sh first"
	verify "$2" "$(identity)"
	;;
*) die "usage: export.sh [verify DIR]" ;;
esac
