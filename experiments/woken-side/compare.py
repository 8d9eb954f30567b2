#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compare two `make bench` runs of one base: the posted series and the
woken-side experiment, each against the same baseline kernel.

Prints, side by side, what each design costs on every wakeup (the perf
boots' speed ratios, patched over baseline) and how fair and fast its
round-robin models are (acceptlab's idle and loaded sweeps).  Both runs
must have measured the same base: their baseline kernels must be the same
release.

  compare.py POSTED/bench.json WOKEN/bench.json [--json OUT]
"""

import argparse
import json
import sys

# The round-robin models of the sweeps, and what they change.
PAIRS = [("epoll_roundrobin", "epoll_exclusive"),
         ("uring_multishot_roundrobin", "uring_multishot")]


def load(path):
    try:
        with open(path) as f:
            bench = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"compare.py: error: {path}: {e}")
    if bench.get("schema") != 1:
        sys.exit(f"compare.py: error: {path}: not a bench.json of schema 1")
    return bench


def spread(s, fmt="{:.3f}"):
    if not s:
        return "-"
    if s["min"] == s["max"]:
        return fmt.format(s["median"])
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})"


def keyed(rows, *keys):
    return {tuple(r[k] for k in keys): r for r in rows or []}


def columns(header, rows):
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
           for r in [header] + rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def compare(posted, woken):
    cost = []
    for name, p in (posted.get("perf") or {}).items():
        w = (woken.get("perf") or {}).get(name)
        cost.append({"benchmark": name,
                     "posted": p.get("speed_ratio"),
                     "woken_side": w and w.get("speed_ratio"),
                     "judged": p.get("met") is not None})
    fair = []
    pa, wa = posted.get("acceptlab") or {}, woken.get("acceptlab") or {}
    pcmp = keyed(pa.get("comparisons"), "worker_kind", "workers", "model")
    wcmp = keyed(wa.get("comparisons"), "worker_kind", "workers", "model")
    for key in sorted(set(pcmp) | set(wcmp), key=lambda k: (k[0], k[2], k[1])):
        p, w = pcmp.get(key, {}), wcmp.get(key, {})
        row = {"worker_kind": key[0], "workers": key[1], "model": key[2]}
        for design, c in (("posted", p), ("woken_side", w)):
            row[design] = {k: c.get(k) for k in
                           ("idle_jain", "jain", "conn_ratio", "wakeups_per_accept")}
        fair.append(row)
    return {"kernels": {"posted": posted.get("kernels"), "woken_side": woken.get("kernels")},
            "repetitions": {"posted": posted.get("repetitions"),
                            "woken_side": woken.get("repetitions")},
            "qemu": posted.get("qemu"), "cost": cost, "fairness": fair}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("posted", help="bench.json of the posted series' run")
    ap.add_argument("woken", help="bench.json of the woken-side experiment's run")
    ap.add_argument("--json", help="also write the comparison to this file")
    args = ap.parse_args(argv)
    posted, woken = load(args.posted), load(args.woken)
    pb = (posted.get("kernels") or {}).get("baseline")
    wb = (woken.get("kernels") or {}).get("baseline")
    if pb != wb:
        sys.exit(f"compare.py: error: the runs measured different baselines ({pb}, {wb})")
    for name, b in (("posted", posted), ("woken-side", woken)):
        if not b.get("complete"):
            print(f"warning: the {name} run is PARTIAL: {'; '.join(b.get('problems') or [])}")
    c = compare(posted, woken)
    q = c["qemu"] or {}
    print(f"Baseline {pb}; QEMU {q.get('accel')}, {q.get('smp')} vCPUs on "
          f"{q.get('host_cpus')} host CPUs ({q.get('host_cpu')}); repetitions: "
          f"posted {c['repetitions']['posted']}, woken-side {c['repetitions']['woken_side']}")
    print("\nCost on every wakeup: speed over the baseline, median (min-max); "
          "above 1 is faster:")
    print(columns(["benchmark", "posted", "woken-side", "judged"],
                  [[r["benchmark"], spread(r["posted"]), spread(r["woken_side"]),
                    "yes" if r["judged"] else "no"] for r in c["cost"]]))
    print("\nFairness and throughput of round-robin (acceptlab): Jain's index with "
          "every worker waiting (idle) and under load, and connections/s over "
          "the model it changes:")
    rows = []
    for r in c["fairness"]:
        cells = [r["worker_kind"], str(r["workers"]), r["model"]]
        for d in ("posted", "woken_side"):
            cells += [spread(r[d]["idle_jain"]), spread(r[d]["jain"]),
                      spread(r[d]["conn_ratio"])]
        rows.append(cells)
    print(columns(["kind", "N", "model", "posted idle J", "posted loaded J",
                   "posted conn/s ratio", "woken idle J", "woken loaded J",
                   "woken conn/s ratio"], rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(c, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
