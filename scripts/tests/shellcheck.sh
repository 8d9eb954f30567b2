#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs shellcheck -x on every shell script of the project (any tracked file whose
# first line runs a shell), one result per file; .shellcheckrc has the
# checks the project silences, each with its reason.
set -uo pipefail
# shellcheck source=scripts/lib/help.sh
source "$(dirname "$0")/../lib/help.sh"
cd "$(dirname "$0")/../.." || exit 1
command -v shellcheck >/dev/null || { echo "shellcheck not found (make deps)" >&2; exit 1; }
passed=0 failed=0
while read -r f; do
	if out=$(shellcheck -x "$f" 2>&1); then
		passed=$((passed + 1))
		echo "ok - $f"
	else
		failed=$((failed + 1))
		echo "not ok - $f"
		sed 's/^/# /' <<<"$out"
	fi
done < <(git ls-files | while read -r f; do
	[ -f "$f" ] && head -n1 "$f" | grep -qE '^#!.*[/ ](ba|da)?sh( |$)' && echo "$f"
done)
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
