# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# Shared by the shell tests of scripts/ and userspace/tests/: a scratch
# directory removed on exit, the pass/fail counts and the summary line
# check.sh reads.
# Source it, don't run it.
set -uo pipefail
# shellcheck source=scripts/lib/help.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/help.sh"
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
# Without it every "$tmp/..." of a test would be a path under /.
[ -n "$tmp" ] || { echo "$0: no scratch directory (mktemp -d failed)" >&2; exit 1; }
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# check NAME CMD...: one result, ok if CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name"
	fi
}

# summary: the counts, and the exit status of the test.
summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}

# fake_merge_config TREE: the scripts/kconfig/merge_config.sh that
# build-kernel.sh calls (-m -O OBJDIR BASECONFIG FRAGMENT...), for the fake
# kernel trees: the .config becomes the fragments' options, each as its
# last fragment sets it (as the real one does), so that every option
# "sticks".
fake_merge_config() {
	mkdir -p "$1/scripts/kconfig"
	cat >"$1/scripts/kconfig/merge_config.sh" <<'EOF'
#!/bin/sh
dir=$3
shift 3
awk '/^CONFIG_/ { s = $0; sub(/=.*/, "", s); v[s] = $0; order[++n] = s; next }
	/^# CONFIG_[A-Za-z0-9_]+ is not set$/ { v[$2] = $0; order[++n] = $2; next }
	{ print }
	END { for (i = 1; i <= n; i++) if (!seen[order[i]]++) print v[order[i]] }' "$@" \
	> "$dir/.config.new" && mv "$dir/.config.new" "$dir/.config"
EOF
	chmod +x "$1/scripts/kconfig/merge_config.sh"
}
