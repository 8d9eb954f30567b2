#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The parts of the LKML posting that read the run's results (export.sh).

  check-run   refuse a missing, failed or stale run: the posting may only
              carry figures from a passing run of exactly this series
  cover       fill the cover letter git format-patch wrote (its SUBJECT and
              BLURB lines) from the template and the run's results
  check-mail  every exported mail has the headers a list expects, the
              numbering is complete, and every patch is signed off by the
              submitter, after its Assisted-by

Every refusal is one line on stderr and exit status 1.
"""

import argparse
import email.parser
import email.policy
import json
import re
import sys
import textwrap

# The kernels of a before/after posting (scripts/vmtest.sh's variants).
BEFORE, AFTER = "baseline", "patched"
# Rows of the results table: (label, (program, model, test)).  The
# program's distributions come from the selftest and from acceptlab
# (qemu/guest/acceptlab-ktap.sh).
SELFTEST = "epoll_roundrobin_test"
URING_SELFTEST = "uring_accept_roundrobin_test"
ACCEPTLAB = "acceptlab_models"
TABLE = [
    ("4 processes, an epoll each, 40 sequential connections", None),
    ("  EPOLLEXCLUSIVE", (SELFTEST, "procs_exclusive", "sequential")),
    ("  + EPOLLROUNDROBIN", (SELFTEST, "procs_roundrobin", "sequential")),
    ("4 processes, 400 connections from 2 clients at once", None),
    ("  EPOLLEXCLUSIVE", (SELFTEST, "procs_exclusive", "concurrent")),
    ("  + EPOLLROUNDROBIN", (SELFTEST, "procs_roundrobin", "concurrent")),
    ("4 processes, an io_uring each, multishot accept, 40 sequential", None),
    ("  IORING_ACCEPT_MULTISHOT", (URING_SELFTEST, "uring_multishot", "sequential")),
    ("  + IORING_ACCEPT_ROUNDROBIN", (URING_SELFTEST, "uring_multishot_roundrobin",
                                      "sequential")),
    ("4 processes, an io_uring each, 400 connections, 2 clients", None),
    ("  IORING_ACCEPT_MULTISHOT", (URING_SELFTEST, "uring_multishot", "concurrent")),
    ("  + IORING_ACCEPT_ROUNDROBIN", (URING_SELFTEST, "uring_multishot_roundrobin",
                                      "concurrent")),
    ("Other accept models, 4 processes, 40 sequential connections", None),
    ("  blocking accept()", (ACCEPTLAB, "blocking", "acceptlab_sequential")),
    ("  plain epoll", (ACCEPTLAB, "epoll", "acceptlab_sequential")),
    ("  SO_REUSEPORT", (ACCEPTLAB, "reuseport", "acceptlab_sequential")),
    ("  SO_REUSEPORT, eBPF round-robin", (ACCEPTLAB, "reuseport_ebpf_rr",
                                          "acceptlab_sequential")),
    ("  io_uring accept", (ACCEPTLAB, "uring", "acceptlab_sequential")),
]
PASSED = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")


class Refusal(Exception):
    pass


def load_results(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise Refusal(f"no test run on record ({path})")
    except (OSError, ValueError) as e:
        raise Refusal(f"cannot read {path}: {e}")


def check_run(results, series_id, base_version):
    """Raise Refusal unless RESULTS are a passing before/after run of the
    given series on the given base tree."""
    m = PASSED.match(results.get("summary", ""))
    if not m:
        raise Refusal("the results have no summary line: the run did not finish")
    if int(m[2]) != 0:
        raise Refusal(f"the last run failed ({results['summary']})")
    logs = results.get("logs", {})
    missing = [k for k in (BEFORE, AFTER) if k not in logs]
    if missing:
        raise Refusal(f"the last run has no {' and no '.join(missing)} kernel:"
                      " the posting needs the before/after table")
    if results.get("series_id") != series_id:
        raise Refusal("the last run tested another version of the series")
    if results.get("base_version") != base_version:
        raise Refusal("the last run tested another base tree "
                      f"({results.get('base_version') or 'unknown'},"
                      f" now {base_version})")
    if not all(logs[k].get("qemu") for k in (BEFORE, AFTER)):
        raise Refusal("the last run does not say how QEMU ran")


def distribution(log, key):
    prog, model, test = key
    for d in log["programs"].get(prog, {}).get("distributions", []):
        if d["model"] == model and d["test"] == test:
            return d
    return None


def fmt(d):
    if d is None:
        return "(EINVAL)"
    return f"[{' '.join(map(str, d['counts']))}] {d['jain']:.2f}"


def machine(results):
    """One paragraph: what ran where, for every figure below it."""
    logs = results["logs"]
    q = logs[AFTER]["qemu"]
    accel = {"tcg": "QEMU TCG (emulated CPUs)", "kvm": "QEMU/KVM"}.get(
        q.get("accel"), f"QEMU ({q.get('accel', '?')})")
    cpu = q.get("host_cpu", "unknown").replace("_", " ")
    when = results.get("date", "?")[:10]
    return (f"Measured on {when} with the selftest of patch 5 and a small"
            f" accept load tool, one boot of each kernel, {accel},"
            f" -smp {q.get('smp', results.get('smp'))},"
            f" {q.get('mem', '?')} MiB, on a host with"
            f" {q.get('host_cpus', '?')} CPUs ({cpu}).  Baseline:"
            f" {logs[BEFORE]['release']}"
            f" ({base_source(results.get('base_version', ''))});"
            f" patched: {logs[AFTER]['release']}.")


def results_table(results):
    logs = results["logs"]
    head = ["", logs[BEFORE]["release"], logs[AFTER]["release"]]
    rows = []
    for label, key in TABLE:
        if key is None:
            rows.append([label, "", ""])
        else:
            after = distribution(logs[AFTER], key)
            if after is None:
                raise Refusal(f"the patched kernel's results lack {key}")
            rows.append([label, fmt(distribution(logs[BEFORE], key)),
                         fmt(after)])
    w = [max(len(r[i]) for r in rows + [head] if r[1]) for i in range(3)]
    lines = []
    for r in [head] + rows:
        if r[1] or r is head:
            lines.append(f"  {r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]}".rstrip())
        else:
            lines.append(f"  {r[0]}")
    return "\n".join(lines)


def results_section(results):
    intro = textwrap.fill(machine(results), 72, break_on_hyphens=False)
    note = textwrap.fill(
        "Accepts per worker, then Jain's index, (sum x)^2 / (n * sum x^2):"
        " 1.00 is even, 0.25 is one worker of four taking everything;"
        " (EINVAL): the baseline kernel refuses the flag.  The changelogs"
        " of patches 2 and 3 give the spread over 10 boots.", 72,
        break_on_hyphens=False)
    return f"{intro}\n\n{results_table(results)}\n\n{note}"


def stress_section(results):
    debug = results["logs"].get("debug")
    if not debug or not debug.get("stress"):
        return ""
    lines = [s for s in debug["stress"] if re.match(r"stress \w+: \d+ s,", s)]
    text = textwrap.fill(
        f"A debug build of the patched tree ({debug['release']}: lockdep,"
        " KASAN, DEBUG_LIST, DEBUG_OBJECTS, lockup and hung-task detectors)"
        " also ran a stress test: worker processes, threads, nested"
        " instances and io_uring waiting on one socket while items are"
        " added and deleted, instances closed, workers killed and signalfd"
        " targets freed (POLLFREE), with no splat and nothing lost:", 72,
        break_on_hyphens=False)
    return text + "\n\n" + "\n".join(
        textwrap.fill(s, 72, initial_indent="  ", subsequent_indent="    ")
        for s in lines) + "\n"


def overhead_section(bench):
    if bench is None:
        return ""
    return "Overhead\n--------\n\n" + bench.rstrip() + "\n"


def changes_section(version, changes):
    if version == 1:
        return ""
    title = f"Changes in v{version}"
    return f"{title}\n{'-' * len(title)}\n\n{changes.rstrip()}\n"


def base_source(base_version):
    """The base as a reader can find it: the Debian package and version of
    a tarball ("deb PKG VERSION"), the commit of a git tree ("git PATH
    SHA"), or a plain tree ("dir PATH ID") by its path alone."""
    kind, _, rest = base_version.partition(" ")
    if kind == "git":
        return f"commit {rest.rpartition(' ')[2][:12]}"
    if kind == "dir":
        return f"a tree without git history, {rest.rpartition(' ')[0]}"
    return rest


def base_line(results):
    """Where the series applies.  A git base is named by format-patch's
    base-commit: line too; a Debian tarball has no commit to give."""
    base = results.get("base_version", "")
    where = base_source(base)
    if base.startswith("deb "):
        where += ", Debian's source package: a release tarball without git history"
    return textwrap.fill(
        f"The series is against {results['logs'][BEFORE]['release']}"
        f" ({where}).", 72, break_on_hyphens=False)


def render(template, results, version, changes="", bench=None):
    """(subject, body) of the cover letter."""
    subject, _, body = template.partition("\n")
    body = body.replace("@RESULTS@", results_section(results))
    body = body.replace("@STRESS@", stress_section(results))
    body = body.replace("@OVERHEAD@", overhead_section(bench))
    body = body.replace("@CHANGES@", changes_section(version, changes))
    body = body.rstrip() + "\n\n" + base_line(results) + "\n"
    left = re.findall(r"@[A-Z_]+@", body)
    if left:
        raise Refusal(f"the template has unknown fields: {' '.join(left)}")
    return subject.strip(), re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


def fill_cover(path, subject, body):
    with open(path) as f:
        text = f.read()
    for mark in ("*** SUBJECT HERE ***", "*** BLURB HERE ***"):
        if text.count(mark) != 1:
            raise Refusal(f"{path}: no '{mark}' from git format-patch")
    text = text.replace("*** SUBJECT HERE ***", subject)
    text = text.replace("*** BLURB HERE ***", body.rstrip("\n"))
    with open(path, "w") as f:
        f.write(text)


def check_mail(paths, ident):
    """Raise Refusal unless every mail is complete and signed off."""
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    numbers = []
    for path in paths:
        with open(path, "rb") as f:
            raw = f.read()
        msg = parser.parsebytes(raw)
        for h in ("From", "To", "Subject", "Date", "Message-ID"):
            if not msg[h]:
                raise Refusal(f"{path}: no {h}: header")
        if str(msg["From"]) != ident:
            raise Refusal(f"{path}: From: is {msg['From']}, not {ident}")
        subject = " ".join(str(msg["Subject"]).split())
        m = re.match(r"^\[PATCH(?: v\d+)?(?: (\d+)/(\d+))?\] \S", subject)
        if not m:
            raise Refusal(f"{path}: subject '{subject}' is not '[PATCH...] ...'")
        if m[1]:
            numbers.append((int(m[1]), int(m[2])))
        text = raw.decode("utf-8", "replace")
        log, sep, _ = text.partition("\n---\n")
        if m[1] == "0" or not sep:
            continue
        trailers = re.findall(r"^([A-Za-z-]+): (.*)$", log.split("\n\n")[-1],
                              re.M)
        if not trailers or trailers[-1] != ("Signed-off-by", ident):
            raise Refusal(f"{path}: the last trailer is not "
                          f"'Signed-off-by: {ident}'")
        if not any(k == "Assisted-by" for k, _ in trailers):
            raise Refusal(f"{path}: no Assisted-by: trailer")
    if numbers:
        total = numbers[0][1]
        want = [(i, total) for i in range(0 if numbers[0][0] == 0 else 1,
                                          total + 1)]
        if sorted(numbers) != want:
            raise Refusal(f"numbering {sorted(numbers)} is not 1..{total}"
                          " (and 0 for a cover letter)")


class OneLineErrors(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv=None):
    ap = OneLineErrors(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check-run")
    c.add_argument("--results", required=True)
    c.add_argument("--series-id", required=True)
    c.add_argument("--base-version", required=True)
    c = sub.add_parser("cover")
    c.add_argument("--results", required=True)
    c.add_argument("--template", required=True)
    c.add_argument("--version", type=int, required=True)
    c.add_argument("--changes", help="what changed since the last version")
    c.add_argument("--bench", help="the overhead figures, if measured")
    c.add_argument("file", help="git format-patch's cover letter")
    c = sub.add_parser("check-mail")
    c.add_argument("--ident", required=True, help="'Name <email>'")
    c.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "check-run":
            check_run(load_results(args.results), args.series_id,
                      args.base_version)
        elif args.cmd == "cover":
            with open(args.template) as f:
                template = f.read()
            changes = bench = ""
            if args.changes:
                with open(args.changes) as f:
                    changes = f.read()
            if args.bench:
                with open(args.bench) as f:
                    bench = f.read()
            subject, body = render(template, load_results(args.results),
                                   args.version, changes, bench or None)
            fill_cover(args.file, subject, body)
        else:
            check_mail(args.files, args.ident)
    except Refusal as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
