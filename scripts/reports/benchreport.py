#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The report of scripts/bench.sh: bench.json and report.md from the serial
logs of the benchmark boots.

Each boot of one kernel (baseline or patched), repetition N, leaves its
console log perf-<variant>-<N>.log and, beside it, its results,
perf-<variant>-<N>.results (qemu/host/boot.sh).  The report reads the results
only, where the guest (qemu/guest/bench-guest.sh) prints one line per result,
"bench: NAME VALUE UNIT", or "bench-error: NAME REASON"; from the console
log, where kernel messages go, only the guest's "vmtest: error:" lines
(qemu/guest/init without its results port).  Under TCG
only ratios of runs on one host mean anything, so every figure is the
patched/baseline speed ratio of the two boots of one repetition (made side
by side), and the report gives the median and spread of those ratios.
The acceptlab sweeps (qemu/guest/bench-acceptlab.sh) come from boots of the
patched kernel of their own, sweep-<N>.log and .results, or from its perf
boots.
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import bench_acceptlab
import bench_alternatives
import bench_nginx
import vmverdict

SCHEMA = 1
GOAL = 0.99  # patched at least 99% of the baseline's speed
LOG_NAME = re.compile(r"^perf-(baseline|patched)-(\d+)\.log$")
SWEEP_NAME = re.compile(r"^sweep-(\d+)\.log$")
RESULT = re.compile(r"^bench: (\S+) (\S+) (\S+)\s*$")
ERROR = re.compile(r"^bench-error: (.*)$")
COMMAND = re.compile(r"^bench-command: (.*)$")  # a command line the guest ran
QEMU = re.compile(r"^vmtest: qemu (.*)$")
# One acceptlab run of qemu/guest/bench-acceptlab.sh: {"experiment", "result"}.
ACCEPTLAB = re.compile(r"^acceptlab-json: (.*)$")
INFO = {"kernel", "vcpus", "clocksource"}  # lines that describe the boot, not results
# Units whose smaller values are better; every other unit is a rate.
LOWER_IS_BETTER = {"s", "usecs/op"}
# Reported but not judged against GOAL, and why: the figure is not a cost.
NOT_JUDGED = {
    "epoll_wait": (
        "its writer paces itself with nanosleep(), so its figure counts how many "
        "writes each wakeup finds: a race, not a cost. On QEMU's instruction counter "
        "interrupts land where translated blocks end, so the figure follows the "
        "kernel's code layout and varies between boots of one kernel (baseline "
        "11453-21598 ops/s in 8 boots, the series 4801-8085 in 9, the baseline with "
        "one unused function added 10464 and 18077); on the host's "
        "clock the series measured 1.067 (0.902-1.180) of the baseline's speed, 5 "
        "repetitions. epoll_pingpong times the same wakeups without a timer"),
}
# perf's epoll ctl runs its threads on one shared instance (bench-guest.sh).
CTL_CONTENDED = (
    "four threads on one epoll instance wait for its mutex, so the figure "
    "follows how the mutex is handed over, not what the calls execute: two "
    "runs of the same two 7.3-rc7 kernels gave 0.953 and 0.966, one thread "
    "(epoll_ctl_1t, judged) 0.999 in both")
NOT_JUDGED.update({name: CTL_CONTENDED
                   for name in ("epoll_ctl_add", "epoll_ctl_mod", "epoll_ctl_del")})


def parse_log(text):
    """(results {name: (value, unit)}, info {key: value}, errors [str],
    acceptlab runs [{"experiment", "result"}], command lines [str], nginx
    rows [bench_nginx.parse()])."""
    results, info, errors, acceptlab, commands, nginx = {}, {}, [], [], [], []
    for line in text.splitlines():
        line = line.strip()
        if m := RESULT.match(line):
            name, value, unit = m.groups()
            if name in INFO:
                info[name] = value
                continue
            try:
                results[name] = (float(value), unit)
            except ValueError:
                errors.append(f"{name}: not a number: {value}")
        elif m := ACCEPTLAB.match(line):
            try:
                acceptlab.append(json.loads(m.group(1)))
            except json.JSONDecodeError as e:
                errors.append(f"acceptlab result that is not JSON: {e}")
        elif m := ERROR.match(line):
            errors.append(m.group(1))
        elif m := vmverdict.GUEST_ERROR.match(line):
            errors.append(m.group(1))
        elif m := COMMAND.match(line):
            commands.append(m.group(1))
        elif row := bench_nginx.parse(line):
            nginx.append(row)
        elif m := QEMU.match(line):
            for word in m.group(1).split():
                key, _, value = word.partition("=")
                info["qemu_" + key] = value
    # tsc-early until the boot switches to tsc: the same counter.
    if not info.get("clocksource", "tsc").startswith("tsc"):
        errors.append(f"the guest timed with {info['clocksource']}, not tsc: "
                      "every figure is coarse")
    if "vmtest: end" not in text:
        errors.append("the boot did not finish (no 'vmtest: end')")
    return results, info, errors, acceptlab, commands, nginx


def speed_ratio(baseline, patched, unit):
    """Patched speed over baseline speed: above 1 is faster."""
    if unit in LOWER_IS_BETTER:
        return baseline / patched if patched else float("inf")
    return patched / baseline if baseline else float("inf")


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def read_logs(logs, consoles=None):
    """(runs {(variant, rep): (results, info)}, sweeps [(rep, acceptlab run)]
    of the patched kernel, problems [str], the guest's command lines [str],
    each once, nginx rows [bench_nginx.parse()]) from the results
    {console log path: results text} and the console logs {path: text}."""
    runs, sweeps, problems, commands, nginx = {}, [], [], {}, []
    for path, text in sorted(logs.items()):
        name = Path(path).name
        sweep, perf = SWEEP_NAME.match(name), LOG_NAME.match(name)
        if not sweep and not perf:
            raise ValueError(f"{path}: not a perf-<baseline|patched>-<N>.log or sweep-<N>.log")
        results, info, errors, acceptlab, ran, rows = parse_log(text)
        errors += vmverdict.console_errors((consoles or {}).get(path, ""))
        problems += [f"{name}: {e}" for e in errors]
        commands.update(dict.fromkeys(ran))
        # Runs are numbered within a boot: the log's name makes them unique.
        nginx += [(f"{name}:{run}", row, figures) for run, row, figures in rows]
        if sweep:
            sweeps += [(int(sweep.group(1)), run) for run in acceptlab]
            continue
        variant, rep = perf.group(1), int(perf.group(2))
        if variant == "patched":
            sweeps += [(rep, run) for run in acceptlab]
        runs[(variant, rep)] = (results, info)
    return runs, sweeps, problems, list(commands), nginx


def build(logs, consoles=None):
    """The bench.json document from read_logs()'s arguments."""
    return report(*read_logs(logs, consoles))


def report(runs, sweeps, problems, commands=(), nginx=()):
    """The bench.json document from read_logs()'s result."""
    problems = list(problems)
    reps = sorted({rep for _, rep in runs})
    paired = [r for r in reps if ("baseline", r) in runs and ("patched", r) in runs]
    problems += [f"repetition {r}: only one kernel booted" for r in reps if r not in paired]
    if not paired:
        raise ValueError("no repetition with both kernels")

    names = sorted({n for (v, r), (res, _) in runs.items() if r in paired for n in res})
    benchmarks = {}
    for name in names:
        base, pat, ratios, unit = [], [], [], None
        for r in paired:
            b = runs[("baseline", r)][0].get(name)
            p = runs[("patched", r)][0].get(name)
            if b is None or p is None:
                problems.append(f"{name}: missing in repetition {r}")
                continue
            unit = b[1]
            base.append(b[0])
            pat.append(p[0])
            ratios.append(speed_ratio(b[0], p[0], unit))
        if not ratios:
            continue
        ratio = spread(ratios)
        benchmarks[name] = {
            "unit": unit,
            "better": "lower" if unit in LOWER_IS_BETTER else "higher",
            "baseline": {"values": base, **spread(base)},
            "patched": {"values": pat, **spread(pat)},
            "speed_ratio": {"values": ratios, **ratio},
            "goal": GOAL,
            "met": None if name in NOT_JUDGED else ratio["median"] >= GOAL,
        }
        if name in NOT_JUDGED:
            benchmarks[name]["not_judged"] = NOT_JUDGED[name]

    def info(variant):
        return runs[(variant, paired[0])][1]

    try:
        accept, accept_problems = bench_acceptlab.build(sweeps)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"an acceptlab result lacks what the report needs: {e!r}")
    problems += accept_problems
    try:
        alternatives, alt_problems = bench_alternatives.build(sweeps)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"a restart or idleconn result lacks what the report needs: {e!r}")
    problems += alt_problems
    nginx_doc, nginx_problems = bench_nginx.build(nginx)
    problems += nginx_problems

    return {
        "schema": SCHEMA,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "tool": "epoll-rr bench",
        "complete": not problems,
        "problems": problems,
        "repetitions": len(paired),
        "kernels": {v: info(v).get("kernel", "?") for v in ("baseline", "patched")},
        "vcpus": info("patched").get("vcpus", "?"),
        "clocksource": info("patched").get("clocksource", "?"),
        "qemu": {k[5:]: v for k, v in info("patched").items() if k.startswith("qemu_")},
        "perf": benchmarks,
        "acceptlab": accept,
        "alternatives": alternatives,
        "nginx": nginx_doc,
        "commands": list(commands),
    }


def clock_words(q):
    """How the guest's time ran: QEMU's instruction counter, or the host's clock."""
    if "icount_shift" in q:
        return (f"QEMU's instruction counter (-icount shift={q['icount_shift']}: "
                "guest time counts instructions, whatever else the host runs)")
    return "the host's clock"


def markdown(doc, command):
    q = doc["qemu"]
    out = []
    if not doc["complete"]:
        out += ["**PARTIAL**: " + "; ".join(doc["problems"]), ""]
    out += [
        "# The cost on every wakeup: perf bench, patched against baseline",
        "",
        f"Kernels {doc['kernels']['baseline']} and {doc['kernels']['patched']}, "
        f"{doc['vcpus']} vCPUs, QEMU {q.get('accel', '?')} on a host with "
        f"{q.get('host_cpus', '?')} CPUs ({q.get('host_cpu', '?').replace('_', ' ')}), "
        f"{doc['repetitions']} repetitions; each repetition boots both kernels "
        f"one after the other.  Guest clock: {doc['clocksource']}, on "
        f"{clock_words(q)}.",
        "",
        f"Command: `{command}`, {doc['date']}; the commands the guests ran are at "
        "the end.",
        "",
        "Speed ratio: patched speed over baseline speed in one repetition "
        f"(above 1 is faster); goal at least {GOAL}. Median, and min to max.",
        "",
        "| benchmark | unit | baseline | patched | speed ratio | goal met |",
        "|---|---|---|---|---|---|",
    ]

    def cell(s, fmt):
        return f"{s['median']:{fmt}} ({s['min']:{fmt}}–{s['max']:{fmt}})"

    for name, b in doc["perf"].items():
        fmt = ".0f" if b["better"] == "higher" else ".3f"
        met = "not judged" if b["met"] is None else "yes" if b["met"] else "NO"
        out.append(
            f"| {name} | {b['unit']} ({b['better']} is better) | {cell(b['baseline'], fmt)} "
            f"| {cell(b['patched'], fmt)} | {cell(b['speed_ratio'], '.3f')} | {met} |"
        )
    out += [f"\nNot judged: {name}: {b['not_judged']}." for name, b in doc["perf"].items()
            if "not_judged" in b]
    out += bench_acceptlab.markdown(doc)
    out += bench_alternatives.markdown(doc)
    out += bench_nginx.markdown(doc)
    if doc.get("charts"):
        out += ["", "Charts: " + ", ".join(f"[{c}]({c})" for c in doc["charts"]) + "."]
    if doc["commands"]:
        out += ["", "## Commands the guests ran", ""]
        out += [f"- `{c}`" for c in doc["commands"]]
    return "\n".join(out) + "\n"


def cover(doc):
    """The cover letter's overhead section (scripts/export.sh)."""
    q = doc["qemu"]
    lines = [textwrap.fill(
        f"Measured with \"make bench\": {doc['kernels']['baseline']} and "
        f"{doc['kernels']['patched']} booted by turns under QEMU "
        f"{q.get('accel', '?')}, {doc['vcpus']} vCPUs on a host with "
        f"{q.get('host_cpus', '?')} CPUs, {doc['repetitions']} repetitions, "
        f"guest time on {clock_words(q)}. "
        "perf bench, patched speed over baseline speed (above 1 is faster), "
        "median (min-max):", 72), ""]
    for name, b in doc["perf"].items():
        s = b["speed_ratio"]
        lines.append(f"  {name:<24} {s['median']:.3f} ({s['min']:.3f}-{s['max']:.3f})"
                     + (" not a cost, see below" if "not_judged" in b else ""))
    for name, b in doc["perf"].items():
        if "not_judged" in b:
            lines += [""] + textwrap.wrap(f"{name} is not judged: {b['not_judged']}.", 72)
    lines += bench_acceptlab.cover_lines(doc)
    lines += bench_alternatives.cover_lines(doc)
    return "\n".join(lines).replace("–", "-") + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for bench.json and report.md")
    ap.add_argument("--command", default="make bench", help="the command line, for the report")
    ap.add_argument("--acceptlab", help="acceptlab binary, for the latency CDFs "
                    "(acceptlab compare --chart); none: no CDFs")
    ap.add_argument("--cover", help="write the cover letter's overhead section "
                    "here, if the report is complete")
    ap.add_argument("logs", nargs="+",
                    help="perf-<baseline|patched>-<N>.log and sweep-<N>.log "
                         "console logs, each with its .results beside it")
    a = ap.parse_args(argv)
    try:
        pairs = {p: vmverdict.read_pair(p) for p in a.logs}
        runs, sweeps, problems, commands, nginx = read_logs(
            {p: results for p, (_, results) in pairs.items()},
            {p: console for p, (console, _) in pairs.items()})
        doc = report(runs, sweeps, problems, commands, nginx)
    except (OSError, ValueError) as e:
        print(f"benchreport: {e}", file=sys.stderr)
        return 1
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    # Charts: a missing one makes the report partial, not absent.
    charts = []
    try:
        charts += bench_acceptlab.charts(doc, out)
        charts += bench_alternatives.charts(doc, out)
        if a.acceptlab:
            charts += bench_acceptlab.latency_cdfs(sweeps, out, a.acceptlab)
    except (OSError, subprocess.CalledProcessError) as e:
        doc["complete"] = False
        doc["problems"].append(f"charts: {e}")
    doc["charts"] = [c.name for c in charts]
    (out / "bench.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out / "report.md").write_text(markdown(doc, a.command))
    if a.cover and doc["complete"]:
        Path(a.cover).write_text(cover(doc))
    sys.stdout.write(markdown(doc, a.command))
    return 0 if doc["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
