# SPDX-License-Identifier: GPL-2.0-only
"""The alternatives a reviewer names, in the bench report
(scripts/reports/benchreport.py): from the acceptlab JSON results of
qemu/guest/bench-acceptlab.sh's restart and idleconn experiments, and from the
latency and idle rows of bench_acceptlab.py for SO_REUSEPORT steered
round-robin by eBPF.

- restart: connections lost while worker processes are replaced one after
  another.  The claim: one shared queue loses none; a queue per worker
  (SO_REUSEPORT) loses the closed listener's queue unless
  net.ipv4.tcp_migrate_req moves it.
- idleconn: the reply rate with K idle connections held by the workers,
  against K (the 2002 epoll scalability page).  The claim: poll() slows
  down as K grows, epoll does not, and round-robin keeps epoll's curve.
  Each model's rate at K is divided by its rate at K = 0 in the same boot.
"""

import textwrap
from collections import defaultdict

from bench_acceptlab import ALTERNATIVES, draw, fmt_spread, spread, write_series

SHARED_QUEUE = ("blocking", "epoll_roundrobin", "epoll_exclusive")
FLAT_GOAL = 0.8  # an epoll model's rate at the largest K over its rate at K = 0
FAILURES = ("refused", "reset", "unanswered", "other")


def collect(runs, problems):
    """{(experiment, key...): {rep: result}} of the restart and idleconn runs."""
    points = defaultdict(dict)
    for rep, item in runs:
        r, exp = item["result"], item["experiment"]
        p = r["parameters"]
        if exp == "restart":
            key = (exp, p["model"], p["tcp_migrate_req"])
        elif exp == "idleconn":
            key = (exp, p["model"], int(p["idle"]))
        else:
            continue
        if not r.get("complete"):
            problems.append(f"acceptlab {' '.join(map(str, key))}, repetition {rep}: "
                            f"incomplete run ({r.get('incomplete', 'no reason given')})")
            continue
        points[key][rep] = r
    return points


def restart_rows(points):
    rows = []
    for key in sorted(k for k in points if k[0] == "restart"):
        _, model, migrate = key
        by_rep = points[key]
        lost = [sum(r["client"]["failures"][f] for f in FAILURES) for r in by_rep.values()]
        made = [r["client"]["completed"] + r["client"]["failed"] for r in by_rep.values()]
        row = {"model": model, "tcp_migrate_req": int(migrate),
               "repetitions": len(by_rep),
               "connections": spread(made),
               "restarts": spread([r["restarts"] for r in by_rep.values()]),
               "lost": spread(lost),
               "lost_per_1000": spread([1000 * n / m for n, m in zip(lost, made) if m])}
        for f in FAILURES:
            row[f] = spread([r["client"]["failures"][f] for r in by_rep.values()])
        shared = model in SHARED_QUEUE
        row["queue"] = "shared" if shared else "per worker"
        # What the claim expects of this row.
        row["expected"] = ("none lost" if shared or row["tcp_migrate_req"] else "some lost")
        row["as_expected"] = (row["lost"]["max"] == 0 if row["expected"] == "none lost"
                              else row["lost"]["median"] > 0)
        rows.append(row)
    return rows


def idleconn_rows(points):
    """One row per (model, K): reply rate, and over the rate at K = 0."""
    rows = []
    for key in sorted((k for k in points if k[0] == "idleconn"), key=lambda k: (k[2], k[1])):
        _, model, k = key
        by_rep = points[key]
        base = points.get(("idleconn", model, 0), {})

        def rate(r):
            c = r["client"]
            return c["requests"] / c["elapsed_s"] if c["elapsed_s"] > 0 else 0.0

        rates = {rep: rate(r) for rep, r in by_rep.items()}
        ratios = [rates[rep] / rate(base[rep]) for rep in sorted(rates)
                  if rep in base and rate(base[rep]) > 0]
        p99 = [r["latency_ns"]["p99"] / 1e6 for r in by_rep.values() if r.get("latency_ns")]
        rows.append({"model": model, "idle": k, "repetitions": len(by_rep),
                     "req_per_s": spread(list(rates.values())),
                     "over_no_idle": spread(ratios) if ratios else None,
                     "p99_ms": spread(p99) if p99 else None,
                     "held_by_busiest": spread([max(w.get("idle_held", 0)
                                                    for w in r["workers"])
                                                for r in by_rep.values()])})
    return rows


def idleconn_claim(rows):
    """Round-robin keeps epoll's flat curve where poll's falls: judged at
    the largest K that all three ran."""
    at = defaultdict(dict)
    for row in rows:
        if row["over_no_idle"]:
            at[row["idle"]][row["model"]] = row["over_no_idle"]["median"]
    ks = [k for k in at if k > 0 and {"poll", "epoll_exclusive", "epoll_roundrobin"} <= set(at[k])]
    if not ks:
        return None
    k = max(ks)
    r = at[k]
    return {"idle": k, "poll": r["poll"], "epoll_exclusive": r["epoll_exclusive"],
            "epoll_roundrobin": r["epoll_roundrobin"], "goal": FLAT_GOAL,
            "met": r["epoll_roundrobin"] >= FLAT_GOAL and r["poll"] < r["epoll_roundrobin"]}


def build(runs):
    """The "alternatives" section of bench.json and its problems."""
    problems = []
    points = collect(runs, problems)
    restart = restart_rows(points)
    idleconn = idleconn_rows(points)
    return {"restart": restart, "idleconn": idleconn,
            "idleconn_claim": idleconn_claim(idleconn)}, problems


def markdown(doc):
    a, acc = doc.get("alternatives") or {}, doc.get("acceptlab") or {}
    out = []
    lat = {(r["model"], r["clogged"]): r for r in acc.get("latency", [])}
    idle_j = defaultdict(list)
    for i in acc.get("idle", []):
        if i["jain"]:
            idle_j[i["model"]].append(i["jain"]["min"])
    ebpf = [m for m in ("epoll_roundrobin", "reuseport_ebpf_rr", "reuseport")
            if (m, True) in lat or (m, False) in lat]
    if "reuseport_ebpf_rr" in ebpf:
        out += ["", "## SO_REUSEPORT steered round-robin by eBPF, beside EPOLLROUNDROBIN",
                "",
                "From the idle and latency experiments: J idle is the lowest Jain's "
                "index over every worker count and boot with every worker waiting; "
                "the rest is the latency experiment (4 workers, CPU-heavy requests), "
                "without and with worker 0 clogged.  Median (min–max) over the boots.",
                "",
                "| model | J idle | J loaded | p99 ms | J clogged | p99 ms clogged |",
                "|---|---|---|---|---|---|"]
        for m in ebpf:
            clean, clog = lat.get((m, False)), lat.get((m, True))
            j = f"{min(idle_j[m]):.3f}" if idle_j[m] else "-"

            def cells(row):
                if not row:
                    return "- | -"
                return (f"{fmt_spread(row['jain'], '.3f')} | "
                        f"{fmt_spread(row['latency_ms']['p99'], '.1f')}")
            out.append(f"| {m} | {j} | {cells(clean)} | {cells(clog)} |")
    if a.get("restart"):
        out += ["", "## Worker restarts: what a queue per worker loses",
                "",
                "4 worker processes, one replaced after another (the new one "
                "first, then the old one stops accepting, finishes and closes "
                "its listener); lost connections per run, median (min–max) over "
                "the boots.",
                "",
                "| model | queue | tcp_migrate_req | restarts | connections | lost | reset "
                "| unanswered | refused | other | lost per 1000 | as the claim expects |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in a["restart"]:
            out.append(
                f"| {r['model']} | {r['queue']} | {r['tcp_migrate_req']} "
                f"| {fmt_spread(r['restarts'], '.0f')} | {fmt_spread(r['connections'], '.0f')} "
                f"| {fmt_spread(r['lost'], '.0f')} | {fmt_spread(r['reset'], '.0f')} "
                f"| {fmt_spread(r['unanswered'], '.0f')} | {fmt_spread(r['refused'], '.0f')} "
                f"| {fmt_spread(r['other'], '.0f')} | {fmt_spread(r['lost_per_1000'], '.1f')} "
                f"| {'yes' if r['as_expected'] else 'NO'} ({r['expected']}) |")
    if a.get("idleconn"):
        out += ["", "## Reply rate against idle connections",
                "",
                "4 worker processes hold K idle connections (never sending), then "
                "keepalive load; requests/s, and over the same model's rate "
                "without idle connections in the same boot.  Median (min–max).",
                "",
                "| idle K | model | requests/s | over K = 0 | p99 ms | held by the busiest worker |",
                "|---|---|---|---|---|---|"]
        for r in a["idleconn"]:
            out.append(f"| {r['idle']} | {r['model']} | {fmt_spread(r['req_per_s'], '.0f')} "
                       f"| {fmt_spread(r['over_no_idle'], '.3f')} "
                       f"| {fmt_spread(r['p99_ms'], '.2f')} "
                       f"| {fmt_spread(r['held_by_busiest'], '.0f')} |")
        c = a.get("idleconn_claim")
        if c:
            out += ["", f"At {c['idle']} idle connections, rate over the rate without: "
                        f"poll {c['poll']:.3f}, epoll_exclusive {c['epoll_exclusive']:.3f}, "
                        f"epoll_roundrobin {c['epoll_roundrobin']:.3f} (goal: round-robin "
                        f"≥ {c['goal']} and above poll): "
                        f"{'met' if c['met'] else 'NOT met'}."]
    return out


def cover_lines(doc):
    """Plain-text lines for the cover letter, at most 72 columns: the
    connections lost to worker restarts per model, and the reply rate with
    idle connections (medians over the boots)."""
    a = doc.get("alternatives") or {}
    out = []
    rows = a.get("restart", [])
    if rows:
        r0 = rows[0]
        out += ["", textwrap.fill(
            "acceptlab, worker processes replaced one after another under "
            f"load ({r0['connections']['median']:.0f} connections, "
            f"{r0['restarts']['median']:.0f} restarts a run): connections "
            "lost, median (min-max) over the boots:", 72), ""]
        for r in rows:
            out.append(f"  {r['model']:<18} tcp_migrate_req={r['tcp_migrate_req']}  "
                       f"{fmt_spread(r['lost'], '.0f')}")
    c = a.get("idleconn_claim")
    if c:
        out += ["", textwrap.fill(
            f"With {c['idle']} idle connections held, requests/s over the rate "
            f"without them: poll {c['poll']:.2f}, EPOLLEXCLUSIVE "
            f"{c['epoll_exclusive']:.2f}, EPOLLROUNDROBIN {c['epoll_roundrobin']:.2f}.",
            72)]
    return out


def charts(doc, out, run=None):
    """Reply rate against idle connections, one line per model, as
    idle-connections.{svg,png} in out (gnuplot).  Returns the files."""
    rows = (doc.get("alternatives") or {}).get("idleconn", [])
    series = defaultdict(list)
    for r in rows:
        series[r["model"]].append((r["idle"], r["req_per_s"]["median"]))
    if not series or max(len(v) for v in series.values()) < 2:
        return []
    data = out / "idle-connections.dat"
    names = sorted(series)
    write_series(data, [(m, sorted(series[m])) for m in names])
    plots = ", ".join(f"'{data}' index {i} using 1:2 with linespoints title '{m}'"
                      for i, m in enumerate(names))
    return draw(out, "idle-connections",
                "set xlabel 'idle connections held'\nset ylabel 'requests/s'\n"
                "set yrange [0:*]\nset key outside right\n"
                "set title 'Reply rate against idle connections, patched kernel'\n"
                f"plot {plots}\n", run)


if __name__ == "__main__":
    import helpdoc
    helpdoc.on_help(__doc__)
