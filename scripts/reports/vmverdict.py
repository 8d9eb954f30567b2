#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Read the serial logs of the test VMs and give the verdict.

Each guest leaves two files (qemu/host/boot.sh): its console, serial.log
(ttyS0), with the kernel's messages, and its results, results.log (ttyS1),
where qemu/guest/init prints, between "vmtest:" markers, the KTAP output of every
test program (a console log X.log of another name has X.results).  The
verdict reads results from the results file only and kernel reports
(splats, the debug kernel's banners) from the console log only: a kernel
message printed while a test prints its results cannot split a result
line.
It fails on:
  - a guest that did not finish (no "vmtest: end": hang, panic, timeout),
  - a guest error ("vmtest: error:", e.g. no ttyS1, so the results went to
    the console, which the verdict does not read them from; or a
    VMTEST_ONLY name /tests lacks),
  - a guest whose CPU count differs from the requested -smp,
  - any kernel splat (BUG, WARNING, Oops, lockdep, KASAN, hung task, ...),
  - any "not ok", a test program exiting non-zero, missing results (a
    test qemu/guest/init ran once more alone after it failed, and that passed,
    counts as passed, with a note; on the baseline, the tests of the bugs
    the series fixes, FIXED_BY_SERIES, are expected to fail),
  - any SKIP on the patched kernels, and on the baseline any SKIP whose
    reason is not a missing EPOLLROUNDROBIN or EPOLL_WAKE_FIFO,
  - on any kernel, plain EPOLLEXCLUSIVE sharing sequential connections
    among worker processes: the epoll selftest's "procs_exclusive
    sequential" distribution must show one worker taking all of them (the
    problem the series solves exists there, and the series leaves it alone
    without the new flags); the same for plain multishot accepts, the
    io_uring selftest's "uring_multishot sequential",
  - on the patched kernels, round-robin rings spreading concurrent
    connections less evenly than Jain's index URING_RR_JAIN_GOAL (the
    io_uring selftest's "uring_multishot_roundrobin concurrent"): this
    project's goal, which the selftest only reports,
  - a patched or debug kernel that is not the one built for it, or a debug
    kernel whose lockdep or KASAN did not start,
  - where nginx ran (qemu/guest/nginx-ktap.sh): on any kernel, nginx without
    its reorder workaround not giving one worker every sequential
    connection (plain EPOLLEXCLUSIVE, as above); on the patched kernels,
    nginx with libepoll_rr_shim.so not rotating exactly (equal counts,
    no worker twice in a row) or still calling epoll_ctl() on the
    listening socket.
It prints the before/after distribution table, the nginx table, the
stress test's load figures and "N passed, N failed, N skipped", and exits 1 if anything
failed (2 on bad arguments or a log it cannot read).
"""

import argparse
import datetime
import json
import os
import re
import sys

RESULT = re.compile(r"^(ok|not ok) (\d+) (.*?)(?: # (SKIP|TODO|XFAIL)\b ?(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)$")
DISTRIBUTION = re.compile(r"^# distribution (\S+) (\S+): ([\d ]+) jain=([\d.]+)$")
STRESS = re.compile(r"^# (stress \S+: .*)$")
# qemu/guest/nginx-ktap.sh: "# nginx ROW: key=value ...", and nginx's version.
NGINX_ROW = re.compile(r"^# nginx (nginx_\S+): ((?:\S+=\S+ ?)+)$")
NGINX_VERSION = re.compile(r"^# nginx version: nginx/(\S+?),")
# kselftest_harness.h's EXPECT/ASSERT/TH_LOG lines: "# FILE:LINE:TEST:MESSAGE".
HARNESS_LOG = re.compile(r"^# (?:\S*/)?([^/\s]+:\d+:\S+:.*)$")
BEGIN = re.compile(r"^vmtest: begin kernel=(\S+) nproc=(\d+)$")
RUN = re.compile(r"^vmtest: run (\S+)$")
EXIT = re.compile(r"^vmtest: exit (\S+) rc=(\d+)(?: time=(\d+\.\d)s)?$")
# A failed test run once more, alone (qemu/guest/init, VMTEST_RETRY).
RETRY = re.compile(r"^vmtest: retry (\S+) (\S+) rc=(\d+)$")
HOST_NOTE = re.compile(r"^vmtest: host: (.*)$")
# How QEMU ran (qemu/host/boot.sh): "vmtest: qemu accel=tcg host_cpus=2 ...".
QEMU = re.compile(r"^vmtest: qemu (.*)$")
# What the guest left out on purpose (qemu/guest/init, VMTEST_EXCLUDE).
GUEST_NOTE = re.compile(r"^vmtest: note: (.*)$")
# What went wrong in the guest (qemu/guest/init): on the console when it has no
# results port, else among the results.
GUEST_ERROR = re.compile(r"^vmtest: error: (.*)$")
SPLAT = re.compile(
    r"(BUG: |WARNING: |Oops|Kernel panic|general protection fault|"
    r"possible circular locking|possible recursive locking|"
    r"inconsistent lock state|suspicious RCU usage|KASAN|UBSAN|"
    r"list_add corruption|list_del corruption|soft lockup|hard LOCKUP|"
    r"rcu_sched self-detected stall|rcu: INFO:|blocked for more than|"
    r"ODEBUG: |kernel BUG at|Call Trace:)")
# The only acceptable reasons for a SKIP, and only on the baseline kernel:
# the selftest's "kernel lacks FLAG", acceptlab's "kernel lacks FLAG (how)".
BASELINE_SKIP = re.compile(
    r"^kernel lacks (EPOLLROUNDROBIN|EPOLL_WAKE_FIFO|IORING_ACCEPT_ROUNDROBIN)"
    r"(?: \(.*\))?$")
# ... and on the debug kernel, which leaves BPF out (qemu/config/debug.config):
# acceptlab's reuseport_ebpf_rr.
DEBUG_SKIP = re.compile(r"^kernel lacks bpf\(\) \(CONFIG_BPF_SYSCALL\)$")
# The selftests (selftests/*.c), and the distributions of theirs that show
# the problem, and whose: see judge().
SELFTEST = "epoll_roundrobin_test"
URING_SELFTEST = "uring_accept_roundrobin_test"
UNFAIR = {(SELFTEST, "procs_exclusive", "sequential"):
          "plain EPOLLEXCLUSIVE: one worker",
          (URING_SELFTEST, "uring_multishot", "sequential"):
          "multishot accept without IORING_ACCEPT_ROUNDROBIN: one ring"}
# The selftests of the series' fixes (an exclusive wakeup passed on when
# the epoll item or io_uring request that took it goes away): the plain
# variants fail on a kernel without the series, which is the bug shown,
# not a failure of the run.  A baseline that already passes them is fine.
FIXED_BY_SERIES = re.compile(r"^(held|handoff)\.[a-z_]+\.passed_on$")
# Round-robin rings under concurrent load: the least Jain's index the
# verdict takes on the patched kernels (measured: 0.96 to 0.99 under TCG).
# Project-side only: a timing-dependent bound has no place in a kselftest.
URING_RR_CONCURRENT = (URING_SELFTEST, "uring_multishot_roundrobin", "concurrent")
URING_RR_JAIN_GOAL = 0.95
ACCEPTLAB, EBPF_RR = "acceptlab_models", "reuseport_ebpf_rr"
# The nginx rows the verdict judges (qemu/guest/nginx-ktap.sh).
NGINX_PLAIN, NGINX_SHIM = "nginx_noreorder", "nginx_shim"
NGINX_ROWS = ["nginx_stock", NGINX_PLAIN, NGINX_SHIM, "nginx_stock_clogged",
              "nginx_shim_clogged", "nginx_reuseport_clogged"]
# Release suffix (LOCALVERSION) of each kernel scripts/lib/build-kernel.sh builds.
RELEASE_SUFFIX = {"patched": "-rr", "debug": "-rr-debug"}
# Boot lines proving the debug kernel's checkers run.
DEBUG_BANNERS = {"lockdep": "Lock dependency validator",
                 "KASAN": "KernelAddressSanitizer initialized"}


def results_path(console_path):
    """The results file beside a console log, as qemu/host/boot.sh names it:
    DIR/serial.log -> DIR/results.log, any other X.log -> X.results."""
    head, name = os.path.split(console_path)
    if name == "serial.log":
        return os.path.join(head, "results.log")
    return (console_path[:-4] if name.endswith(".log") else console_path) + ".results"


def lines(text):
    return (raw.rstrip("\r") for raw in text.splitlines())


def console_errors(console):
    """The guest's "vmtest: error:" lines on the console log: qemu/guest/init
    without its results port prints them there."""
    return [f"on the console: {m[1]}" for m in map(GUEST_ERROR.match, lines(console)) if m]


def parse_log(console, results):
    """One guest's logs: the kernel's reports from its console log, release,
    nproc, programs and the rest from its results."""
    log = {"release": None, "nproc": None, "finished": False,
           "programs": {}, "splats": [], "stress": [], "banners": [],
           "host_notes": [], "guest_notes": [], "bugs_shown": [], "qemu": {},
           "nginx": {}, "nginx_version": None,
           "errors": console_errors(console), "console_has_results": False}
    for line in lines(console):
        if SPLAT.search(line):
            log["splats"].append(line.strip())
        log["banners"] += [k for k, v in DEBUG_BANNERS.items() if v in line]
        log["console_has_results"] |= bool(BEGIN.match(line))
    prog = None
    harness_lines = []  # since the last result, for the next one
    for line in lines(results):
        if m := BEGIN.match(line):
            log["release"], log["nproc"] = m[1], int(m[2])
        elif m := RUN.match(line):
            prog = {"plan": None, "results": [], "distributions": [],
                    "rc": None, "retries": {}}
            log["programs"][m[1]] = prog
            harness_lines = []
        elif m := EXIT.match(line):
            if m[1] in log["programs"]:
                log["programs"][m[1]]["rc"] = int(m[2])
                log["programs"][m[1]]["seconds"] = m[3] and float(m[3])
            prog = None
        elif m := RETRY.match(line):
            if m[1] in log["programs"]:
                log["programs"][m[1]]["retries"][m[2]] = int(m[3])
        elif m := HOST_NOTE.match(line):
            log["host_notes"].append(m[1])
        elif m := QEMU.match(line):
            log["qemu"] = dict(kv.partition("=")[::2] for kv in m[1].split(" "))
        elif m := GUEST_NOTE.match(line):
            log["guest_notes"].append(m[1])
        elif m := GUEST_ERROR.match(line):
            log["errors"].append(m[1])
        elif line == "vmtest: end":
            log["finished"] = True
        elif prog is None:
            continue
        elif m := PLAN.match(line):
            prog["plan"] = int(m[1])
        elif m := RESULT.match(line):
            prog["results"].append({
                "name": m[3], "ok": m[1] == "ok",
                "directive": m[4], "reason": m[5] or "",
                "log": harness_lines})
            harness_lines = []
        elif m := HARNESS_LOG.match(line):
            harness_lines.append(m[1])
        elif m := STRESS.match(line):
            log["stress"].append(m[1])
        elif m := NGINX_ROW.match(line):
            log["nginx"][m[1]] = dict(kv.split("=", 1) for kv in m[2].split())
        elif m := NGINX_VERSION.match(line):
            log["nginx_version"] = m[1]
        elif m := DISTRIBUTION.match(line):
            prog["distributions"].append({
                "model": m[1], "test": m[2],
                "counts": [int(x) for x in m[3].split()],
                "jain": float(m[4])})
    return log


class Verdict:
    def __init__(self):
        self.checks = []   # (kernel, name, status, detail)

    def add(self, kernel, name, status, detail=""):
        self.checks.append((kernel, name, status, detail))

    def count(self, status):
        return sum(1 for c in self.checks if c[2] == status)


def judge(kernel, log, smp, verdict):
    """Add the checks for one kernel's log to the verdict."""
    def check(name, ok, detail=""):
        verdict.add(kernel, name, "pass" if ok else "fail", detail)

    stale = [] if log["release"] or log["errors"] or not log["console_has_results"] else [
        "the results are on the console: an initramfs older than qemu/guest/init's "
        "results port? (qemu/host/mkinitramfs.sh)"]
    check("guest finished", log["finished"],
          "; ".join(["no 'vmtest: end' in the results: hang, panic or "
                     "timeout"] + log["host_notes"] + stale))
    check("no guest error", not log["errors"], "; ".join(log["errors"]))
    check("guest CPUs", log["nproc"] == smp,
          f"nproc={log['nproc']}, expected {smp}")
    if kernel in RELEASE_SUFFIX:
        check(f"{kernel} kernel booted",
              bool(log["release"]) and
              log["release"].endswith(RELEASE_SUFFIX[kernel]),
              f"release {log['release']}")
    if kernel == "debug":
        for name in DEBUG_BANNERS:
            check(f"{name} active", name in log["banners"],
                  f"no '{DEBUG_BANNERS[name]}' in the boot log")
    check("no kernel splat", not log["splats"],
          "; ".join(log["splats"][:5]))
    check("tests ran", bool(log["programs"]), "no test program ran")
    for name, prog in log["programs"].items():
        n = len(prog["results"])
        check(f"{name}: all results", prog["plan"] == n,
              f"plan {prog['plan']}, got {n} results")
        # A failed test that passed when run once more alone is flaky: a
        # pass, with a note.  Then the program's exit status is its own.
        flaky = [r for r in prog["results"]
                 if not r["ok"] and prog["retries"].get(r["name"]) == 0]
        before_fix = [r for r in prog["results"]
                      if not r["ok"] and kernel == "baseline" and
                      FIXED_BY_SERIES.match(r["name"])]
        check(f"{name}: exit status",
              prog["rc"] == 0 or (flaky or before_fix) and
              len(flaky) + len(before_fix) == sum(
                  not r["ok"] for r in prog["results"]),
              f"rc={prog['rc']}")
        for r in prog["results"]:
            test = f"{name}: {r['name']}"
            if r in flaky:
                verdict.add(kernel, test, "pass")
                log["guest_notes"].append(
                    f"{test} failed, then passed when run again alone "
                    f"(flaky): {'; '.join(r['log'][:2]) or 'not ok'}")
            elif r in before_fix:
                log["bugs_shown"].append(test)
                verdict.add(kernel, f"{test}: fails without the series, "
                            "the bug it fixes", "pass")
            elif not r["ok"]:
                rerun = prog["retries"].get(r["name"])
                verdict.add(kernel, test, "fail", "; ".join(
                    ["not ok"] + r["log"][:4] +
                    ([] if rerun is None else [f"not ok again alone (rc={rerun})"])))
            elif r["directive"] != "SKIP":
                verdict.add(kernel, test, "pass")
            elif kernel == "baseline" and BASELINE_SKIP.match(r["reason"]) or \
                    kernel == "debug" and DEBUG_SKIP.match(r["reason"]):
                verdict.add(kernel, test, "skip", r["reason"])
            else:
                verdict.add(kernel, test, "fail",
                            f"skipped where it must run: {r['reason']}")
    # Upstream's selftest checks only what the flags do; the claim that
    # plain EPOLLEXCLUSIVE and multishot accept are unfair, the reason for
    # the series, is this project's: one worker process gets every
    # sequential connection.
    for (name, *key), who in UNFAIR.items():
        if name not in log["programs"]:
            continue
        d = program_distributions(log, name).get(tuple(key))
        d = d and d["counts"]
        check(f"{who} takes every sequential connection",
              d is not None and sum(d) > 0 and max(d) == sum(d),
              f"{name} printed no '# distribution {' '.join(key)}'"
              if d is None else f"{' '.join(key)}: {bracketed(d)}")
    name, *key = URING_RR_CONCURRENT
    if kernel in RELEASE_SUFFIX and name in log["programs"]:
        d = program_distributions(log, name).get(tuple(key))
        check(f"round-robin rings spread concurrent connections "
              f"(J >= {URING_RR_JAIN_GOAL:.2f})",
              d is not None and d["jain"] >= URING_RR_JAIN_GOAL,
              f"{name} printed no '# distribution {' '.join(key)}'"
              if d is None else f"{' '.join(key)}: {fmt_dist(d)}")
    # The userspace alternative: round-robin by eBPF over a SO_REUSEPORT
    # group takes exact turns when every worker waits, on any kernel.
    for d in log["programs"].get(ACCEPTLAB, {}).get("distributions", []):
        if d["model"] == EBPF_RR and d["test"] == "acceptlab_sequential":
            check("SO_REUSEPORT steered round-robin by eBPF: exact turns",
                  sum(d["counts"]) > 0 and len(set(d["counts"])) == 1,
                  f"{EBPF_RR}: {bracketed(d['counts'])}")
    if "nginx" in log["programs"]:
        judge_nginx(kernel, log, check)


def program_distributions(log, name):
    """{(model, test): distribution} of test program NAME."""
    return {(d["model"], d["test"]): d
            for d in log["programs"][name]["distributions"]}


def bracketed(counts):
    """Per-worker counts as the table shows them, or that there were none."""
    return "no distribution" if counts is None else f"[{' '.join(map(str, counts))}]"


def judge_nginx(kernel, log, check):
    """nginx: the problem without its workaround, the shim's rotation;
    each where its row ran (the debug kernel runs the shim's only)."""
    prog = log["programs"]["nginx"]
    ran = {r["name"] for r in prog["results"]}
    seq = {d["model"]: d["counts"] for d in prog["distributions"]
           if d["test"] == "sequential"}
    d = seq.get(NGINX_PLAIN)
    if NGINX_PLAIN in ran:
        check("nginx without its reorder: one worker takes every sequential "
              "connection", d is not None and sum(d) > 0 and max(d) == sum(d),
              f"{NGINX_PLAIN} sequential: " +
              bracketed(d))
    if kernel not in RELEASE_SUFFIX:
        return
    d, row = seq.get(NGINX_SHIM), log["nginx"].get(NGINX_SHIM, {})
    run, calls = row.get("longest_run"), row.get("listen_epoll_ctl")
    check("nginx + libepoll_rr_shim.so: exact rotation, no epoll_ctl() "
          "calls on the listening socket",
          d is not None and sum(d) > 0 and len(set(d)) == 1 and
          run == "1" and calls == "0",
          f"{NGINX_SHIM} sequential: " +
          bracketed(d) +
          f", longest run {run}, epoll_ctl calls {calls}")


def distributions(log):
    out = {}
    for prog in log["programs"].values():
        for d in prog["distributions"]:
            out[(d["model"], d["test"])] = d
    return out


def fmt_dist(d):
    if d is None:
        return "-"
    return f"{bracketed(d['counts'])} J={d['jain']:.2f}"


def table(logs):
    dists = {k: distributions(v) for k, v in logs.items()}
    keys = sorted({k for d in dists.values() for k in d},
                  key=lambda k: (k[0].startswith("nginx_"),
                                 k[1] != "sequential", k[1], k[0]))
    header = ["model", "test"] + [
        f"{k} ({logs[k]['release'] or '?'})" for k in logs]
    rows = [[m, t] + [fmt_dist(dists[k].get((m, t))) for k in logs]
            for m, t in keys]
    return columns(header, rows)


def columns(header, rows):
    """A text table: the header, a rule, the rows, in aligned columns."""
    widths = [max(len(r[i]) for r in [header] + rows)
              for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
             for r in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt_nginx(row):
    """One cell of the nginx table."""
    if row is None:
        return "-"
    try:
        if "p99_us" in row:
            return (f"p50 {float(row['p50_us']) / 1000:.1f} ms, "
                    f"p99 {float(row['p99_us']) / 1000:.1f} ms")
        per_1000 = 1000 * int(row["listen_epoll_ctl"]) / int(row["connections"])
        return f"run {row['longest_run']}, epoll_ctl {per_1000:.0f}/1000"
    except (KeyError, ValueError, ZeroDivisionError):
        return "unreadable: " + " ".join(f"{k}={v}" for k, v in row.items())


def nginx_table(logs):
    """The nginx rows' longest runs, syscall tax and clogged latency."""
    have = [k for k in logs if logs[k]["nginx"]]
    if not have:
        return None
    rows = sorted({r for k in have for r in logs[k]["nginx"]},
                  key=lambda r: (NGINX_ROWS + [r]).index(r))
    header = ["nginx row"] + [f"{k} ({logs[k]['release'] or '?'})"
                              for k in have]
    return columns(header, [[r] + [fmt_nginx(logs[k]["nginx"].get(r)) for k in have]
                            for r in rows])


def run_times(logs):
    """A table of each selftest program's run time on each kernel, or ''."""
    names = sorted({n for log in logs.values() for n, p in log["programs"].items()
                    if n.endswith("_test") and p.get("seconds") is not None})
    if not names:
        return ""
    rows = [[n] + [f"{logs[k]['programs'][n]['seconds']:.1f}"
                   if logs[k]["programs"].get(n, {}).get("seconds") is not None
                   else "-" for k in logs] for n in names]
    return columns(["program"] + list(logs), rows)


def read_pair(console_path):
    """(console text, results text) of the console log console_path and
    the results file beside it."""
    texts = []
    for path in (console_path, results_path(console_path)):
        with open(path, errors="replace") as f:
            texts.append(f.read())
    return tuple(texts)


class OneLineErrors(argparse.ArgumentParser):
    """Bad arguments: one line on stderr, exit 2 (no usage dump)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def main(argv=None):
    ap = OneLineErrors(description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smp", type=int, required=True,
                    help="CPUs each guest must see")
    ap.add_argument("--json", help="write the results to this file")
    ap.add_argument("--base", help="the kernel base, for the table title")
    ap.add_argument("--base-version", default="",
                    help="the exact base tree (e.g. its Debian version), "
                         "for --json")
    ap.add_argument("--series-id", default="",
                    help="identity of the series the kernels were built "
                         "with, for --json")
    ap.add_argument("logs", nargs="+", metavar="KERNEL=SERIAL_LOG",
                    help="the console log, e.g. "
                         "baseline=build/7.3/baseline/serial.log; the "
                         "results are read from results.log beside it")
    args = ap.parse_args(argv)

    logs = {}
    for spec in args.logs:
        kernel, sep, path = spec.partition("=")
        if not sep or not kernel or not path:
            ap.error(f"expected KERNEL=SERIAL_LOG, got '{spec}'")
        try:
            logs[kernel] = parse_log(*read_pair(path))
        except OSError as e:
            ap.error(f"cannot read {e.filename}: {e.strerror}")

    verdict = Verdict()
    for kernel, log in logs.items():
        judge(kernel, log, args.smp, verdict)

    print(f"\nAccepts per worker{' on Linux ' + args.base if args.base else ''}"
          " (4 workers; J = Jain's fairness index, 1.00 = even):")
    print(table(logs))
    if nt := nginx_table(logs):
        rows = [r for v in logs.values() for r in v["nginx"].values()]
        version = next((v["nginx_version"] for v in logs.values()
                        if v["nginx_version"]), "?")
        clog = next((r for r in rows if "stopped_ms" in r), None)
        print(f"\nnginx {version}, 4 worker processes (qemu/guest/nginx-ktap.sh):\n"
              "  run: the most consecutive sequential connections one "
              "worker served\n"
              "  epoll_ctl: calls on the listening socket per 1000 "
              "connections, beyond each worker's first add and last delete")
        if clog:
            print(f"  *_clogged: {clog['connections']} connections, worker 0 "
                  f"stopped (SIGSTOP) for {clog['stopped_ms']} ms")
        print(nt)
    for kernel, log in logs.items():
        if log["stress"]:
            print(f"\nStress test on {kernel} ({log['release'] or '?'}):")
            print("\n".join(f"  {line}" for line in log["stress"]))
    times = run_times(logs)
    if times:
        print("\nRun time of the kselftest programs, in seconds (the kselftest "
              "runner allows 45 a program):")
        print(times)
    for kernel, log in logs.items():
        for note in log["guest_notes"]:
            print(f"\nnote: {kernel}: {note}")
    shown = [t for log in logs.values() for t in log["bugs_shown"]]
    if shown:
        print("\nThe bugs the series fixes, shown on the baseline "
              "(these fail there, as they must):")
        print("\n".join(f"  {t}" for t in shown))
    failures = [c for c in verdict.checks if c[2] == "fail"]
    if failures:
        print("\nFailures:")
        for kernel, name, _, detail in failures:
            print(f"  {kernel}: {name}: {detail}")
    summary = (f"{verdict.count('pass')} passed, {verdict.count('fail')} failed, "
               f"{verdict.count('skip')} skipped")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"base": args.base, "base_version": args.base_version,
                       "series_id": args.series_id,
                       "date": datetime.datetime.now(datetime.timezone.utc)
                       .strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "smp": args.smp, "logs": logs,
                       "checks": [dict(zip(("kernel", "name", "status",
                                            "detail"), c))
                                  for c in verdict.checks],
                       "summary": summary}, f, indent=1)
    print(f"\nverdict: {'FAIL' if failures else 'PASS'}")
    print(summary)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
