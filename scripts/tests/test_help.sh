#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every entry point answers --help and -h (the Python tools --help): exit 0, its usage on stdout,
# and nothing else happens: no apt-get, sudo, QEMU, make, compiler or git
# runs (each is a stub that records its call), and no build directory or
# cache is made.
# shellcheck source=scripts/tests/testlib.sh
source "$(dirname "$0")/testlib.sh"
repo=$(cd "$here/../.." && pwd)

mkdir -p "$tmp/bin"
for tool in apt-get apt-cache sudo dpkg-query qemu-system-x86_64 make gcc cc cmake git \
	python3 tar rsync ccache curl wget; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 1\n' "$tool" "$tmp/calls" >"$tmp/bin/$tool"
	chmod +x "$tmp/bin/$tool"
done

# The shell scripts a person runs: executable, with a shebang, and not a
# library.
while read -r f; do
	for opt in --help -h; do
		rm -f "$tmp/calls"
		env PATH="$tmp/bin:/usr/bin:/bin" BUILD_DIR="$tmp/build" XDG_CACHE_HOME="$tmp/cache" \
			"$repo/$f" "$opt" >"$tmp/out" 2>"$tmp/err" </dev/null
		rc=$?
		check "$f $opt: exit 0" test "$rc" = 0
		check "$f $opt: usage on stdout" test -s "$tmp/out"
		check "$f $opt: runs nothing" test ! -e "$tmp/calls"
		check "$f $opt: makes nothing" test ! -e "$tmp/build" -a ! -e "$tmp/cache"
	done
done < <(cd "$repo" && git ls-files scripts qemu | while read -r f; do
	[ -x "$f" ] && head -n1 "$f" | grep -qE '^#!.*[/ ](ba|da)?sh( |$)' && echo "$f"
done)
# The test programs boot.sh names are the real ones: every selftests/*.c
# (a wrong path once made the list "*").
programs=$("$repo/qemu/host/boot.sh" --help | sed -n 's/^Test programs (VMTEST_ONLY): //p')
for src in "$repo"/selftests/*.c; do
	name=${src##*/}
	check "boot.sh --help names ${name%.c}" grep -qw "${name%.c}" <<<"$programs"
done

# What the Makefile runs directly must be executable ("make check"
# once ran a script of mode 644: EACCES).
while read -r f; do
	check "$f, run by the Makefile, is executable" test -x "$repo/$f"
done < <(cd "$repo" && grep -hE '^'$'\t' Makefile |
	grep -oE '(^|[[:space:];])(scripts|qemu)/[A-Za-z0-9_/.-]+\.sh' | sed 's/^[[:space:];]*//' | sort -u)

# The Python tools with a command line.
while read -r f; do
	env PATH="$tmp/bin:/usr/bin:/bin" BUILD_DIR="$tmp/build" /usr/bin/python3 "$repo/$f" --help \
		>"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	check "$f --help: exit 0, usage on stdout" test "$rc" = 0 -a -s "$tmp/out"
done < <(cd "$repo" && grep -l '^if __name__ == "__main__":' scripts/reports/*.py | grep -v '/test_')
summary
