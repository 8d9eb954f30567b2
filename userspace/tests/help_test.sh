#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every userspace program a person runs, the same way: --help (and -h) is
# the usage on stdout, nothing on stderr, exit status 0; an unknown option
# is one line on stderr, nothing on stdout, exit status 2.  acceptlab
# after each of its commands too.
usage="usage: help_test.sh ACCEPTLAB EPOLL_PINGPONG SHIM_CHECK NGINX_STANDIN CLIENT_VS_WRK"
acceptlab=${1:?$usage} pingpong=${2:?$usage} shim_check=${3:?$usage}
standin=${4:?$usage} client_vs_wrk=${5:?$usage}
# shellcheck source=scripts/tests/testlib.sh
source "$(dirname "$0")/../../scripts/tests/testlib.sh"

# helps PROGRAM ARGS...: exit 0, "usage: PROGRAM" first on stdout, no stderr.
helps() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$? name
	name=$(basename "$1")
	[ "$rc" = 0 ] && [ "$(head -n1 "$tmp/out" | cut -d' ' -f1-2)" = "usage: $name" ] &&
		! [ -s "$tmp/err" ] && return
	echo "# exit $rc (want 0): $(head -c 200 "$tmp/out") / $(head -c 200 "$tmp/err")"
	return 1
}

# refuses PROGRAM ARGS...: exit 2, one line on stderr, nothing on stdout.
refuses() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && ! [ -s "$tmp/out" ] && return
	echo "# exit $rc (want 2): $(head -c 300 "$tmp/err")"
	return 1
}

for args in --help -h help "run --help" "run -h" "serve --help" "load --help" \
	"compare --help" "models --help"; do
	# shellcheck disable=SC2086 # the words are the arguments
	check "acceptlab $args" helps "$acceptlab" $args
done
for cmd in "" run serve load compare models; do
	# shellcheck disable=SC2086 # no command: the option alone
	check "acceptlab ${cmd:+$cmd }--frobnicate" refuses "$acceptlab" $cmd --frobnicate
done
for prog in "$pingpong" "$shim_check" "$standin" "$client_vs_wrk"; do
	check "$(basename "$prog") --help" helps "$prog" --help
	check "$(basename "$prog") -h" helps "$prog" -h
	check "$(basename "$prog") --frobnicate" refuses "$prog" --frobnicate
done
summary
