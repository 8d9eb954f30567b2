#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# acceptlab's command line as a user meets it: bad input is one line on
# stderr and exit status 2; --help, models and a small run work; a
# result round-trips through JSON into 'compare'.
set -uo pipefail
bin=${1:?usage: cli_test.sh ACCEPTLAB}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# expect NAME STATUS CMD...: exit status; on failure (1 or 2) exactly one
# line on stderr and nothing on stdout.
expect() {
	local name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [ "$got" = "$want" ] && { [ "$want" = 0 ] ||
		{ [ "$(wc -l <"$tmp/err")" = 1 ] && ! [ -s "$tmp/out" ]; }; }; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "not ok - $name: exit $got (want $want): $(head -c 300 "$tmp/err")"
	fi
}

expect "no command" 2 "$bin"
expect "unknown command" 2 "$bin" frobnicate
expect "missing model" 2 "$bin" run
expect "unknown model" 2 "$bin" run --model nope
expect "zero workers" 2 "$bin" run --model blocking --workers 0
expect "negative count" 2 "$bin" run --model blocking --connections -3
expect "junk number" 2 "$bin" run --model blocking --rate fast
expect "compare one file" 2 "$bin" compare "$tmp/a.json"
expect "compare missing files" 2 "$bin" compare "$tmp/nope1.json" "$tmp/nope2.json"
echo '{"tool": "other"}' >"$tmp/other.json"
expect "compare foreign JSON" 2 "$bin" compare "$tmp/other.json" "$tmp/other.json"
echo 'not json' >"$tmp/bad.json"
expect "compare non-JSON" 2 "$bin" compare "$tmp/bad.json" "$tmp/bad.json"
expect "too many workers" 2 "$bin" run --model blocking --workers 100000
expect "zero timeout" 2 "$bin" run --model blocking --timeout 0
expect "help" 0 "$bin" --help
expect "models" 0 "$bin" models

# A port in use: listen on one, then ask acceptlab for the same.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$tmp/port" &
holder=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
expect "port in use" 1 "$bin" run --model blocking --port "$(cat "$tmp/port")"
grep -q "Address already in use" "$tmp/err" || { failed=$((failed + 1)); echo "not ok - port in use: $(cat "$tmp/err")"; }
kill "$holder"

# A model the running kernel lacks is refused with the reason, exit 1;
# where the kernel has it, the run must work.
if "$bin" models | grep -q '^epoll_roundrobin.*unsupported here'; then
	expect "missing kernel support" 1 "$bin" run --model epoll_roundrobin
	grep -q "unsupported: kernel lacks EPOLLROUNDROBIN" "$tmp/err" ||
		{ failed=$((failed + 1)); echo "not ok - unsupported model without the reason: $(cat "$tmp/err")"; }
else
	expect "kernel support" 0 "$bin" run --model epoll_roundrobin
fi

expect "serve for a second" 0 "$bin" serve --model blocking --duration 1
grep -q '^serving on 127.0.0.1:' "$tmp/out" || { failed=$((failed + 1)); echo "not ok - serve does not say where"; }
expect "small run" 0 "$bin" run --model blocking --json "$tmp/a.json"
grep -q '^model=blocking$' "$tmp/out" || { failed=$((failed + 1)); echo "not ok - run does not echo its options"; }
expect "second run" 0 "$bin" run --model epoll_exclusive --mode concurrent --connections 100 --json "$tmp/b.json"
expect "compare" 0 "$bin" compare "$tmp/a.json" "$tmp/b.json"
grep -q 'epoll_exclusive' "$tmp/out" || { failed=$((failed + 1)); echo "not ok - compare lacks a column"; }
expect "compare chart" 0 "$bin" compare "$tmp/a.json" "$tmp/b.json" --chart "$tmp/c.svg"
grep -q '<svg' "$tmp/c.svg" && grep -q 'epoll_exclusive' "$tmp/c.svg" ||
	{ failed=$((failed + 1)); echo "not ok - chart is not an SVG naming the runs"; }
expect "compare chart png" 0 "$bin" compare "$tmp/a.json" "$tmp/b.json" --chart "$tmp/c.png"
[ "$(head -c 4 "$tmp/c.png" | tail -c 3)" = PNG ] ||
	{ failed=$((failed + 1)); echo "not ok - chart is not a PNG"; }

# load: the client alone, against a server someone else runs.
"$bin" serve --model epoll_exclusive --http --duration 20 >"$tmp/serve" 2>&1 &
server=$!
for _ in $(seq 50); do grep -q '^serving on' "$tmp/serve" && break; sleep 0.1; done
port=$(sed -n 's/^serving on 127.0.0.1:\([0-9]*\) .*/\1/p' "$tmp/serve")
expect "load" 0 "$bin" load --port "$port" --http --connections 20 --json "$tmp/l.json"
grep -q '^throughput: .*(20 connections, 0 failed' "$tmp/out" && ! grep -q '^worker ' "$tmp/out" ||
	{ failed=$((failed + 1)); echo "not ok - load report: $(head -c 300 "$tmp/out")"; }
expect "compare with a load" 0 "$bin" compare "$tmp/a.json" "$tmp/l.json"
grep -q "load :$port" "$tmp/out" || { failed=$((failed + 1)); echo "not ok - compare does not name the load"; }
expect "load waiting for a process that is gone" 1 "$bin" load --port "$port" --wait-idle 999999999
kill "$server"
wait "$server" 2>/dev/null
# Nothing listens there now: every connection fails, the run says so.
"$bin" load --port "$port" --connections 3 >"$tmp/out" 2>&1
[ $? = 1 ] && grep -q '^INCOMPLETE: 3 connections failed' "$tmp/out" ||
	{ failed=$((failed + 1)); echo "not ok - load of a closed port: $(tail -c 300 "$tmp/out")"; }

# The alternatives: bad sizes and missing privileges are one line and
# exit status 1, never a hang; small runs report what they measured.
expect "idle without request bytes" 2 "$bin" run --model poll --idle 10
need() { grep -q "$1" "$tmp/$2" || { failed=$((failed + 1)); echo "not ok - $3: $(head -c 300 "$tmp/$2")"; }; }
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	# Root could raise the hard limit; without CAP_SYS_RESOURCE it cannot.
	# shellcheck disable=SC2016 # $0 is the inner shell's
	expect "idle beyond the open files limit" 1 bash -c 'ulimit -n 300 &&
		exec setpriv --bounding-set -sys_resource --inh-caps -sys_resource "$0" \
		run --model poll --idle 1000 --request-bytes 1' "$bin"
	need "needs 1264 open files; RLIMIT_NOFILE allows 300" err "fd limit not named"
	expect "migrate without CAP_SYS_ADMIN" 1 setpriv --bounding-set -sys_admin \
		--inh-caps -sys_admin "$bin" run --model reuseport --tcp-migrate-req 1
	need "needs CAP_SYS_ADMIN" err "missing privilege not named"
fi
expect "poll holding idle connections" 0 "$bin" run --model poll --mode concurrent \
	--connections 50 --request-bytes 8 --keepalive 4 --idle 200 --json "$tmp/idle.json"
need '^idle connections held: ' out "no idle line"
grep -q '"idle_held"' "$tmp/idle.json" || { failed=$((failed + 1)); echo "not ok - no idle_held in JSON"; }
expect "restarts" 0 "$bin" run --model reuseport --mode concurrent --connections 400 \
	--rate 2000 --restart-every 20 --json "$tmp/restart.json"
need '^restarts: [1-9][0-9]* workers replaced' out "no restart count"
need '^lost connections: [0-9]* (refused ' out "no loss line"
grep -q '"failures"' "$tmp/restart.json" && grep -q '"restarts"' "$tmp/restart.json" ||
	{ failed=$((failed + 1)); echo "not ok - restart JSON lacks failures or restarts"; }
if "$bin" models | grep -q '^reuseport_ebpf_rr.*unsupported here'; then
	expect "eBPF steering unsupported" 1 "$bin" run --model reuseport_ebpf_rr
	need "unsupported: " err "unsupported eBPF model without the reason"
else
	expect "eBPF steering" 0 "$bin" run --model reuseport_ebpf_rr
	need '^distribution: 10 10 10 10 ' out "eBPF round-robin is not exact"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
