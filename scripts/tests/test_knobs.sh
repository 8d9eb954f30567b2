#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# test_knobs.sh [TREE]: the knobs that docs/harness.md documents are the
# knobs the scripts read, no more and no fewer.  See --help.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: scripts/tests/test_knobs.sh [TREE]

Checks that the environment knobs the harness reads and the knob tables of
docs/harness.md agree.  TREE is the checkout to check (default: the one
this script is in), so that a scratch copy can be checked too.

A knob is an uppercase variable that scripts/{,lib/}*.sh, qemu/*/*.sh, qemu/guest/init or
the Makefile read with a default or as required:
  ${NAME:-...}  ${NAME-...}  ${NAME:=...}  ${NAME:?...}  NAME=${NAME...
and, in the Makefile, NAME ?= ... and $(or $(NAME),...).  Comment lines
are skipped.  Variables that only one script sets for another, or that
come from the system, are left out: the IGNORED list in this script says
why for each.

The documented knobs are the first column of every markdown table row
under the "## Knobs" heading of docs/harness.md (up to the next "## "
heading), written as `NAME`.

Prints one "ok" or "not ok" line per check, then "N passed, N failed";
exits 1 if a check failed, 2 on bad usage.  It changes nothing.
EOF
}

case ${1:-} in
-h | --help)
	usage
	exit 0
	;;
-*)
	echo "test_knobs.sh: unknown option '$1' (see --help)" >&2
	exit 2
	;;
esac
[ $# -le 1 ] || {
	echo "test_knobs.sh: at most one TREE (see --help)" >&2
	exit 2
}
tree=${1:-$(dirname "$0")/../..}
tree=$(cd "$tree" && pwd)
doc=$tree/docs/harness.md
[ -r "$doc" ] || {
	echo "test_knobs.sh: no $doc" >&2
	exit 2
}

# Read by the scripts, but no knob of the harness: set by one script for
# another, or by the system.  Each must still be read somewhere (checked
# below), so that the list cannot go stale.
IGNORED=(
	XDG_CACHE_HOME   # the XDG base directory; documented as SOURCE_CACHE's default
	VERSION_CODENAME # read from /etc/os-release by scripts/lib/fetch-source.sh
	LOG_TAG          # each script names its own log lines
	CCACHE_DEPEND    # ccache's own setting; scripts/lib/lib.sh only gives it a default
	PATCH_DIR        # another series: set by scripts/faults.sh and test_bisect.sh
	TREES            # which trees kernel-trees.sh prepares: set by its callers
	BUILD_ONLY       # vmtest.sh stops after the builds: set by scripts/check.sh
	BENCH_TXT        # the overhead section for export.sh: set by test_export.sh
	EPOLL_RR_WERROR  # warnings as errors in the initramfs build: set by check.sh
	VMTEST_EXCLUDE   # tests the guest leaves out: set by qemu/host/boot.sh per kernel
	VMTEST_RETRY     # tests the guest reruns once: set by qemu/host/boot.sh
	BENCH_PERF       # which half of a bench boot runs: set by scripts/bench.sh
	BENCH_ACCEPTLAB  # the same, for the acceptlab sweep
	V                # read only to refuse it: kbuild's verbosity, not REVISION
)

shopt -s nullglob
sources=()
for f in "$tree"/scripts/*.sh "$tree"/scripts/lib/*.sh "$tree"/qemu/*/*.sh "$tree"/qemu/guest/init "$tree"/Makefile; do
	# This script reads no knob; its help text shows the forms it looks for.
	[ "$(basename "$f")" = test_knobs.sh ] || sources+=("$f")
done
read_names() {
	local f
	for f in "$@"; do
		[ -f "$f" ] || continue
		# Comment lines say what a script reads; only code counts.
		# ${NAME:-...}, ${NAME-...}, ${NAME:=...}, ${NAME:?...}
		grep -v '^[[:space:]]*#' "$f" |
			grep -oE '\$\{[A-Z][A-Z0-9_]*(:-|-|:=|:\?)' |
			grep -oE '[A-Z][A-Z0-9_]*' || true
		# NAME=${NAME...: the same name on both sides.
		grep -v '^[[:space:]]*#' "$f" |
			grep -oE '(^|[^A-Za-z0-9_])[A-Z][A-Z0-9_]*="?\$\{[A-Z][A-Z0-9_]*' |
			sed -E 's/^[^A-Z]//; s/^([A-Z0-9_]+)="?\$\{([A-Z0-9_]+)$/\1 \2/' |
			awk '$1 == $2 { print $1 }' || true
	done
	# make's own default forms.
	if [ -f "$tree/Makefile" ]; then
		grep -v '^[[:space:]]*#' "$tree/Makefile" |
			grep -oE '^[A-Z][A-Z0-9_]*[[:space:]]*\?=|\$\(or \$\([A-Z][A-Z0-9_]*\)' |
			grep -oE '[A-Z][A-Z0-9_]*' || true
	fi
}
read_by_scripts=$(read_names "${sources[@]}" | sort -u)

# The knob tables: rows "| `NAME` | ..." between "## Knobs" and the next
# level-2 heading.
documented_all=$(awk '
	/^## / { inside = ($0 ~ /^## Knobs[[:space:]]*$/) }
	inside && /^\|[[:space:]]*`[A-Z][A-Z0-9_]*`[[:space:]]*\|/ {
		sub(/^\|[[:space:]]*`/, ""); sub(/`.*/, ""); print
	}' "$doc")
documented=$(sort -u <<<"$documented_all")
ignored=$(printf '%s\n' "${IGNORED[@]}" | sort -u)

passed=0 failed=0
# check NAME LIST: ok if LIST (one word a line) is empty.
check() {
	local name=$1 list=$2
	if [ -z "$list" ]; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name: $(tr '\n' ' ' <<<"$list" | sed 's/ $//')"
		failed=$((failed + 1))
	fi
}
# minus A B: the lines of A that are not in B.
minus() { comm -23 <(sed '/^$/d' <<<"$1") <(sed '/^$/d' <<<"$2"); }

if [ -n "$documented" ]; then
	check "docs/harness.md has a knob table" ""
else
	check "docs/harness.md has a knob table" "no \`NAME\` rows under '## Knobs'"
fi
check "every knob the scripts read is documented" \
	"$(minus "$(minus "$read_by_scripts" "$ignored")" "$documented")"
check "every documented knob is read by a script" "$(minus "$documented" "$read_by_scripts")"
check "no knob is documented twice" "$(sed '/^$/d' <<<"$documented_all" | sort | uniq -d)"
check "every ignored variable is read by a script" "$(minus "$ignored" "$read_by_scripts")"
check "no ignored variable is documented as a knob" "$(comm -12 <(echo "$ignored") <(echo "$documented") | sed '/^$/d')"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
