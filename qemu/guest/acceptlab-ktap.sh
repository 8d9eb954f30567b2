#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Installed as /tests/acceptlab_models in the initramfs: one sequential
# acceptlab run (4 worker processes, 40 connections) per model, as KTAP,
# with a "# distribution" line per run for the before/after table.  A model
# the kernel lacks is a SKIP with acceptlab's reason; any other failure is
# "not ok".
# shellcheck source=scripts/lib/help.sh
case ${1:-} in -h | --help) . "$(dirname "$0")/../../scripts/lib/help.sh" ;; esac
set -- blocking poll epoll epoll_exclusive epoll_roundrobin epoll_shared \
	epoll_shared_fifo reuseport reuseport_cbpf reuseport_ebpf_rr uring \
	uring_multishot uring_multishot_roundrobin
echo "TAP version 13"
echo "1..$#"
n=0
for model; do
	n=$((n + 1))
	out=$(acceptlab run --model "$model" --timeout 60 2>&1)
	rc=$?
	dist=$(echo "$out" | sed -n 's/^distribution: //p')
	reason=$(echo "$out" | sed -n 's/.*unsupported: //p')
	if [ $rc = 0 ] && [ -n "$dist" ]; then
		echo "# distribution $model acceptlab_sequential: $dist"
		echo "ok $n acceptlab.$model"
	elif [ $rc = 1 ] && [ -n "$reason" ]; then
		echo "ok $n acceptlab.$model # SKIP $reason"
	else
		echo "$out" | sed 's/^/# /'
		echo "not ok $n acceptlab.$model"
	fi
done
