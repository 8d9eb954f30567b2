#!/usr/bin/env bash
# Tests of scripts/kernel-trees.sh on small fake kernel trees: bad input
# gets a one-line error and a non-zero exit, a series that does not apply
# names the patch and the file and applies nothing, and the given tree is
# never modified.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

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

# fake_tree DIR: the files kernel-trees.sh looks for, but not Linux's.
fake_tree() {
	mkdir -p "$1/kernel/sched" "$1/fs"
	echo "# not Linux" > "$1/Makefile"
	echo "int not_wait;" > "$1/kernel/sched/wait.c"
	echo "int not_eventpoll;" > "$1/fs/eventpoll.c"
}

trees() {
	KERNEL_SRC=$1 BUILD_DIR=$tmp/build "$here/kernel-trees.sh" >"$tmp/out" 2>&1
}

# A tree the series does not apply to.
fake_tree "$tmp/linux"
before=$(cd "$tmp/linux" && find . -type f -exec sha256sum {} + | sort)
trees "$tmp/linux"
rc=$?
check "non-applying series fails" test "$rc" -ne 0
check "error names the failing patch" grep -q "0001-sched-wait-.*does not apply" "$tmp/out"
check "error names the failing file" grep -q "kernel/sched/wait.c" "$tmp/out"
check "nothing is applied" test \
	"$(git -C "$tmp/build/patched/src" rev-parse HEAD)" = \
	"$(git -C "$tmp/build/patched/src" rev-parse vmtest-base)"
check "work tree left clean" test -z "$(git -C "$tmp/build/patched/src" status --porcelain)"
after=$(cd "$tmp/linux" && find . -type f -exec sha256sum {} + | sort)
check "given tree not modified" test "$before" = "$after"

# Bad KERNEL_SRC values.
trees "$tmp/missing"
check "missing KERNEL_SRC is an error" test $? -ne 0
check "missing KERNEL_SRC says why" grep -q "not a readable directory" "$tmp/out"
mkdir -p "$tmp/notlinux"
echo "all:" > "$tmp/notlinux/Makefile"
trees "$tmp/notlinux"
check "non-kernel KERNEL_SRC is an error" test $? -ne 0
check "non-kernel KERNEL_SRC says why" grep -q "is not a Linux tree" "$tmp/out"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
