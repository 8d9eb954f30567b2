# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# The test programs of the initramfs, the one list of them: what
# qemu/host/mkinitramfs.sh puts in /tests, what qemu/guest/init runs (in the order of
# their names) and the names VMTEST_ONLY takes (qemu/host/boot.sh checks them).
# Source it, don't run it.

# test_program_table: one line per program, "NAME KIND FROM".  KIND: the
# initramfs that has it (qemu/host/mkinitramfs.sh test|bench).  FROM:
# selftests/NAME.c, built static (every C file there is a test, a header
# such as selftests/roundrobin.h is not); "upstream":
# the base's epoll_wakeup_test; else the script of the repository
# installed as /tests/NAME.
test_program_table() {
	local src
	for src in "$(dirname "${BASH_SOURCE[0]}")"/../../selftests/*.c; do
		src=${src##*/}
		echo "${src%.c} test selftests/$src"
	done
	cat <<-'EOF'
		epoll_wakeup_test test upstream
		acceptlab_models test qemu/guest/acceptlab-ktap.sh
		nginx test qemu/guest/nginx-ktap.sh
		bench bench qemu/guest/bench-guest.sh
		bench_acceptlab bench qemu/guest/bench-acceptlab.sh
	EOF
}

# test_programs KIND: the names of KIND's programs, one a line.
test_programs() {
	test_program_table | awk -v kind="$1" '$2 == kind { print $1 }'
}

# test_programs_text: both lists, for messages and --help.
test_programs_text() {
	echo "test initramfs: $(test_programs test | paste -sd' '); bench initramfs: $(test_programs bench | paste -sd' ')"
}
