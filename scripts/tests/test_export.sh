#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Tests of scripts/export.sh.
#   test_export.sh refusals  bad input, on a fake build directory: each is
#                            refused with one line and a non-zero exit, and
#                            leaves nothing in the export directory
#   test_export.sh posting   a real export of the series from the last run
#                            of the newest base (which must have passed),
#                            then the export's own checks, each against a
#                            copy broken in one way
# shellcheck source=scripts/tests/testlib.sh
source "$(dirname "$0")/testlib.sh"
SUBMITTER="Test Submitter <submitter@example.org>"
as_submitter=(env "GIT_CONFIG_PARAMETERS='user.name'='Test Submitter' 'user.email'='submitter@example.org'")
no_identity=(env "GIT_CONFIG_PARAMETERS='user.name'='' 'user.email'=''")

# refused NAME PATTERN CMD...: exits non-zero with one stderr line matching
# PATTERN, and the export directory is as before.
refused() {
	local name=$1 pattern=$2 rc before after
	shift 2
	before=$(find "$tmp/export" 2>/dev/null | sort)
	timeout 600 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	after=$(find "$tmp/export" 2>/dev/null | sort)
	if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
		grep -qE "$pattern" "$tmp/err" && [ "$before" = "$after" ]; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name: exit $rc, stderr: $(head -c 400 "$tmp/err")"
	fi
}

refusals() {
	local build=$tmp/build sid
	local ex=(env BUILD_DIR="$build" EXPORT_DIR="$tmp/export" KERNEL_SRC= BASE=7.3)
	# shellcheck source=scripts/lib/lib.sh
	sid=$(BASE=7.3 KERNEL_SRC='' source "$here/../lib/lib.sh" && series_id)
	mkdir -p "$build/7.3/patched"
	echo "deb linux-source-7.3 7.3~rc7-1~exp1" >"$build/7.3/patched/base-id"
	# results NAME SUMMARY SERIES_ID: a results.json of a run.
	results() {
		python3 - "$build/7.3/results.json" "$2" "$3" <<-'EOF'
		import json, sys
		log = {"release": "7.3.0-rc7", "qemu": {"accel": "tcg"}, "programs": {}}
		json.dump({"summary": sys.argv[2], "series_id": sys.argv[3],
		           "base_version": "deb linux-source-7.3 7.3~rc7-1~exp1",
		           "logs": {"baseline": log, "patched": log}},
		          open(sys.argv[1], "w"))
		EOF
	}

	refused "BASE=6.12 is a backport" "the posting is made from the newest base, 7.3" \
		env BUILD_DIR="$build" EXPORT_DIR="$tmp/export" BASE=6.12 "$here/../export.sh"
	refused "REVISION=abc" "REVISION must be a version number" "${ex[@]}" REVISION=abc "$here/../export.sh"
	refused "REVISION=0" "REVISION must be a version number" "${ex[@]}" REVISION=0 "$here/../export.sh"
	refused "unknown command" "usage: export.sh \[verify DIR\]" "${ex[@]}" "$here/../export.sh" send
	refused "no git identity" "git config user.name and user.email are not set" \
		"${no_identity[@]}" "${ex[@]}" "$here/../export.sh"
	refused "placeholder identity" "is not an address a list can reply to" \
		env "GIT_CONFIG_PARAMETERS='user.name'='x' 'user.email'='epoll-rr@invalid'" \
		"${ex[@]}" "$here/../export.sh"
	refused "no run on record" "no test run on record .*: run 'make vm'" \
		"${as_submitter[@]}" "${ex[@]}" "$here/../export.sh"
	results x "340 passed, 2 failed, 23 skipped" "$sid"
	refused "failed run" "the last run failed \(340 passed, 2 failed" \
		"${as_submitter[@]}" "${ex[@]}" "$here/../export.sh"
	results x "340 passed, 0 failed, 23 skipped" "0123abcd"
	refused "run of another series" "the last run tested another version of the series" \
		"${as_submitter[@]}" "${ex[@]}" "$here/../export.sh"
	refused "REVISION=2 without its changes" "REVISION=2 needs .*changes-v2.txt" \
		"${as_submitter[@]}" "${ex[@]}" REVISION=2 "$here/../export.sh"
	mkdir -p "$tmp/export/v1"
	refused "existing version" "v1 exists: make the next version with REVISION=2" \
		"${as_submitter[@]}" "${ex[@]}" "$here/../export.sh"
	refused "verify of a non-export" "is not an export" \
		"${as_submitter[@]}" "${ex[@]}" "$here/../export.sh" verify "$tmp"
	held_back_rules
}

# A held-back file may name only the series' last patches, in order.
held_back_rules() {
	local dir=$tmp/held
	mkdir -p "$dir"
	touch "$dir"/000{1,2,3}-x.patch
	local posted=(bash -c "source '$here/../lib/lib.sh' && posted_patches '$dir'")
	printf '# comment\n0003-x.patch\n' >"$dir/held-back"
	check "held-back: the posting is the patches before it" \
		test "$("${posted[@]}" | xargs -n1 basename | tr '\n' ' ')" = "0001-x.patch 0002-x.patch "
	printf '0002-x.patch\n' >"$dir/held-back"
	refused "held-back: a patch that is not the last" "'0002-x.patch' is not patch 3 of the series" "${posted[@]}"
	printf '0001-x.patch\n0002-x.patch\n0003-x.patch\n' >"$dir/held-back"
	refused "held-back: every patch" "holds back every patch of the series" "${posted[@]}"
}

# broken NAME PATTERN EDIT: a copy of the export, with the shell command
# EDIT run in it, must fail verify, whose last stderr line matches
# PATTERN.  Two at a time in the background (each verify is mostly one
# CPU's checkpatch); broken_results reports them, in order.
nbroken=0
broken() {
	local dir=$tmp/broken-$((nbroken += 1))
	mkdir -p "$dir"
	printf '%s\n' "$1" >"$dir/name"
	printf '%s\n' "$2" >"$dir/pattern"
	cp -r "$tmp/export/v1" "$dir/copy"
	(cd "$dir/copy" && bash -c "$3")
	[ "$(jobs -rp | wc -l)" -lt 2 ] || wait -n
	(
		"${as_submitter[@]}" timeout 600 "$here/../export.sh" verify "$dir/copy" \
			>"$dir/out" 2>"$dir/err" </dev/null
		echo $? >"$dir/rc"
	) &
}
broken_results() {
	local i dir rc
	wait
	for i in $(seq "$nbroken"); do
		dir=$tmp/broken-$i
		rc=$(cat "$dir/rc")
		if [ "$rc" != 0 ] && [ "$rc" != 124 ] &&
			tail -n1 "$dir/err" | grep -qE "$(cat "$dir/pattern")"; then
			passed=$((passed + 1))
			echo "ok - verify catches: $(cat "$dir/name")"
		else
			failed=$((failed + 1))
			echo "not ok - verify catches: $(cat "$dir/name"): exit $rc, stderr: $(tail -c 400 "$dir/err")"
		fi
	done
}

posting() {
	local v1=$tmp/export/v1 cover mails stored m signed
	# make bench's figures, for this series (as scripts/bench.sh leaves them).
	echo "perf bench: a test figure" >"$tmp/bench.txt"
	# shellcheck source=scripts/lib/lib.sh
	(source "$here/../lib/lib.sh" && series_id) >"$tmp/bench.series-id"
	"${as_submitter[@]}" EXPORT_DIR="$tmp/export" BENCH_TXT="$tmp/bench.txt" \
		"$here/../export.sh" >"$tmp/out" 2>"$tmp/err"
	check "export succeeds" test $? = 0 || { cat "$tmp/err"; return; }
	cover=$v1/series/0000-cover-letter.patch
	check "cover letter carries make bench's figures" grep -q '^perf bench: a test figure$' "$cover"
	# shellcheck source=scripts/lib/lib.sh
	mapfile -t stored < <(source "$here/../lib/lib.sh" && posted_patches "$SERIES_DIR")
	mails=("$v1"/series/*.patch)
	check "cover letter and ${#stored[@]} patches" test ${#mails[@]} = $((${#stored[@]} + 1))
	check "the held-back patches are left out" \
		bash -c "! grep -l '^Subject: .*EPOLL_WAKE_FIFO' $v1/series/*.patch"
	mails=("$v1"/man-pages/*.patch)
	check "man-pages patch" test ${#mails[@]} = 1
	signed=0
	for m in "$v1"/series/*.patch; do
		case $m in */0000-cover-letter.patch) continue ;; esac
		[ "$(grep -c "^Signed-off-by: $SUBMITTER$" "$m")" != 1 ] || signed=$((signed + 1))
	done
	check "signed off by the submitter, once a patch" test $signed = ${#stored[@]}
	check "no stored identity left" bash -c "! grep -q '@invalid' $v1/*/*.patch"
	check "cover letter carries the run's table" \
		grep -qE '\+ (EPOLLROUNDROBIN|IORING_ACCEPT_ROUNDROBIN) +\(EINVAL\) ' "$cover"
	check "to the VFS, scheduler and io_uring maintainers" \
		bash -c "grep -q 'brauner@kernel.org' '$cover' && grep -q 'peterz@infradead.org' '$cover' && grep -q 'axboe@kernel.dk' '$cover'"
	check "cc linux-api, kselftest, io-uring, Jason Baron" \
		bash -c "grep -q 'linux-api@vger' '$cover' && grep -q 'linux-kselftest@vger' '$cover' && grep -q 'io-uring@vger' '$cover' && grep -q 'jbaron@akamai.com' '$cover'"
	check "man-pages patch to its maintainer" grep -q '^To: Alejandro Colomar <alx@kernel.org>' "$v1"/man-pages/*.patch
	check "prints how to send, sends nothing" grep -q '^Nothing was sent' "$tmp/out"

	"${as_submitter[@]}" "$here/../export.sh" verify "$v1" >/dev/null 2>"$tmp/err"
	check "verify of the untouched export passes" test $? = 0
	broken "a patch edited" "does not give the tree that was tested" \
		"sed -i 's/^+\t\t \* Go behind the other/+\t\t * Go after the other/' series/0002-*.patch"
	broken "a placeholder" "placeholder left: series/0000-cover-letter.patch" \
		"sed -i '0,/^Design\$/s//Design TBD/' series/0000-cover-letter.patch"
	broken "a missing To: header" "no To: header" \
		"sed -i '/^To: /,/^Cc: /{/^Cc: /!d}' series/0003-*.patch"
	broken "a missing sign-off" "the last trailer is not 'Signed-off-by: $SUBMITTER'" \
		"sed -i '/^Signed-off-by: /d' series/0001-*.patch"
	broken "a checkpatch finding" "checkpatch --strict finds problems" \
		"sed -i '0,/^Assisted-by: /s//This line of the changelog is far longer than the seventy-five columns checkpatch allows.\n\n&/' series/0002-*.patch"
	broken "another submitter" "From: is .*, not $SUBMITTER" \
		"sed -i 's/^From: Test Submitter/From: Someone Else/' series/0004-*.patch"
	broken "a man page that does not lint" "groff -man -ww finds problems" \
		"sed -i '0,/^+\.B EPOLLROUNDROBIN\$/s//+.XX EPOLLROUNDROBIN/' man-pages/0001-*.patch"
	broken_results
}

case ${1:-} in
refusals) refusals ;;
posting) posting ;;
*) echo "usage: test_export.sh refusals|posting" >&2; exit 2 ;;
esac
summary
