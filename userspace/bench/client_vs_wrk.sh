#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Is acceptlab's client the bottleneck?  Measures, one after the other on
# the same machine and the same server model, the connection rate of wrk
# (HTTP, "Connection: close": a new connection per request) against
# "acceptlab serve --http", and of acceptlab's own client against the same
# server, then prints the ratio.  Loopback only, bounded by SECONDS.
#
# usage: client_vs_wrk.sh ACCEPTLAB [SECONDS (5)] [IN_FLIGHT (16)] [MODEL (blocking)]
set -euo pipefail
usage="usage: client_vs_wrk.sh ACCEPTLAB [SECONDS (5)] [IN_FLIGHT (16)] [MODEL (blocking)]"
case ${1:-} in
-h | --help)
	echo "$usage"
	echo "Measures the connection rate of wrk and of acceptlab's own client against"
	echo "'acceptlab serve --http' on 127.0.0.1, one after the other, and prints the"
	echo "ratio: is acceptlab's client the bottleneck?  Needs wrk."
	exit 0
	;;
-*)
	echo "client_vs_wrk: unknown option '$1' ($usage)" >&2
	exit 2
	;;
"")
	echo "client_vs_wrk: missing ACCEPTLAB ($usage)" >&2
	exit 2
	;;
esac
bin=$1
secs=${2:-5}
conc=${3:-16}
model=${4:-blocking}
command -v wrk >/dev/null || { echo "client_vs_wrk: wrk not found (apt-get install wrk)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

# wrk against acceptlab serve.
"$bin" serve --model "$model" --http --duration $((secs + 30)) >"$tmp/serve" 2>&1 &
server=$!
for _ in $(seq 100); do
	port=$(sed -n 's/^serving on 127.0.0.1:\([0-9]*\) .*/\1/p' "$tmp/serve")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/serve" >&2; echo "client_vs_wrk: server did not start" >&2; exit 1; }
wrk -t2 -c"$conc" -d"${secs}s" -H 'Connection: close' "http://127.0.0.1:$port/" >"$tmp/wrk"
kill -INT "$server"
wait "$server"
wrk_rate=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk")
wrk_errors=$(awk '/Non-2xx|Socket errors/' "$tmp/wrk")

# acceptlab's own client, same model, same concurrency, same duration.
"$bin" run --model "$model" --http --mode concurrent --concurrency "$conc" \
	--duration "$secs" >"$tmp/lab"
lab_rate=$(sed -n 's/^throughput: \([0-9.]*\) conn\/s.*/\1/p' "$tmp/lab")

echo "machine: $(nproc) CPUs, kernel $(uname -r); model $model, 4 worker processes," \
	"$conc connections in flight, ${secs} s each"
printf '%-22s %12s\n' client "conn/s"
printf '%-22s %12s\n' "wrk (Connection: close)" "$wrk_rate"
printf '%-22s %12s\n' "acceptlab" "$lab_rate"
[ -z "$wrk_errors" ] || echo "wrk reported: $wrk_errors"
awk -v a="$lab_rate" -v w="$wrk_rate" 'BEGIN { printf "ratio acceptlab/wrk: %.2f\n", a / w }'
