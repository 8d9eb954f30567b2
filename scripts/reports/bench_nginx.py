# SPDX-License-Identifier: GPL-2.0-only
"""The nginx part of the bench report (scripts/reports/benchreport.py): latency with
a clogged worker, from the clogged rows of qemu/guest/nginx-ktap.sh that
qemu/guest/bench-acceptlab.sh runs in the patched kernel's sweep boots.

Each run starts nginx three times, one after the other: stock (plain
EPOLLEXCLUSIVE and its reorder workaround), with libepoll_rr_shim.so
(round-robin), and with `listen ... reuseport` (a queue per worker); in
each, worker 0 is stopped (SIGSTOP) for a while under a fixed connection
rate.  Under TCG only ratios of runs made side by side mean anything: each
row's p99 over stock nginx's p99 of the same run, summarized over the runs.
"""

import re

from bench_acceptlab import fmt_spread, spread

# "nginx-bench: run=S.I ROW key=value ...", one line per row of a run.
LINE = re.compile(r"^nginx-bench: run=(\S+) (nginx_\S+) ((?:\S+=\S+ ?)+)$")
STOCK = "nginx_stock_clogged"
ROWS = [STOCK, "nginx_shim_clogged", "nginx_reuseport_clogged"]
WHAT = {STOCK: "stock: EPOLLEXCLUSIVE, its reorder workaround",
        "nginx_shim_clogged": "libepoll_rr_shim.so: EPOLLROUNDROBIN",
        "nginx_reuseport_clogged": "listen ... reuseport: a queue per worker"}


def parse(line):
    """(run, row, {key: float}) of one line, or None."""
    m = LINE.match(line)
    if not m:
        return None
    return m[1], m[2], {k: float(v) for k, v in
                        (kv.split("=", 1) for kv in m[3].split())}


def build(lines):
    """The report's "nginx" section from parse()'s tuples: per row, p50 and
    p99 over the runs and p99 over stock's p99 in the same run; and the
    problems (a run without every row)."""
    runs = {}
    for run, row, figures in lines:
        runs.setdefault(run, {})[row] = figures
    if not runs:
        return None, []
    problems = [f"nginx run {r}: no {row}" for r, rows in sorted(runs.items())
                for row in ROWS if row not in rows]
    full = {r: rows for r, rows in runs.items() if all(x in rows for x in ROWS)}
    if not full:
        return None, problems + ["nginx: no run with every row"]
    one = next(iter(full.values()))[STOCK]
    doc = {"runs": len(full), "connections": one["connections"],
           "stopped_ms": one["stopped_ms"], "rows": {}}
    for row in ROWS:
        doc["rows"][row] = {
            "p50_ms": spread([rows[row]["p50_us"] / 1000 for rows in full.values()]),
            "p99_ms": spread([rows[row]["p99_us"] / 1000 for rows in full.values()]),
            "p99_over_stock": spread([rows[row]["p99_us"] / rows[STOCK]["p99_us"]
                                      for rows in full.values()]),
        }
    return doc, problems


def markdown(doc):
    n = doc.get("nginx")
    if not n:
        return []
    out = ["", "## nginx with a clogged worker", "",
           f"Debian's nginx, 4 worker processes, {n['connections']:.0f} "
           f"connections at a fixed rate, worker 0 stopped (SIGSTOP) for "
           f"{n['stopped_ms']:.0f} ms; {n['runs']} run{'s' * (n['runs'] != 1)}, each row's nginx "
           "started in turn within a run (qemu/guest/nginx-ktap.sh).  Median "
           "(min–max) over the runs; the ratio is taken within each run.", "",
           "| nginx | p50 ms | p99 ms | p99 over stock's |",
           "|---|---|---|---|"]
    for row, r in n["rows"].items():
        out.append(f"| {WHAT[row]} | {fmt_spread(r['p50_ms'], '.1f')} | "
                   f"{fmt_spread(r['p99_ms'], '.1f')} | "
                   f"{fmt_spread(r['p99_over_stock'], '.2f')} |")
    return out


if __name__ == "__main__":
    import helpdoc
    helpdoc.on_help(__doc__)
