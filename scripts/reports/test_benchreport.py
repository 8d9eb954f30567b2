# SPDX-License-Identifier: GPL-2.0-only
"""Tests of benchreport.py on synthetic serial logs."""

import unittest
from pathlib import Path

import benchreport
import vmverdict


def log(kernel, pipe_s, wait_ops, end=True, extra=""):
    text = (
        f"vmtest: begin kernel={kernel} nproc=4\n"
        f"bench: kernel {kernel} release\n"
        "bench: vcpus 4 count\n"
        "bench-command: sched_pipe: /bin/perf bench sched pipe -l 20000\n"
        f"bench: sched_pipe {pipe_s} s\n"
        f"bench: epoll_wait {wait_ops} ops/s/thread\n"
        f"bench: epoll_pingpong {pipe_s} usecs/op\n"
        + extra
    )
    if end:
        text += "vmtest: end\n"
    return text + "vmtest: qemu accel=tcg smp=4 mem=1024 host_cpus=2 host_cpu=AMD_EPYC\n"


def write_boots(d, results, consoles=None):
    """Each boot's console log (empty unless consoles has one) and its
    results file beside it, in directory d; the console logs' paths, as
    scripts/bench.sh passes them."""
    paths = []
    for name, text in results.items():
        path = Path(d, name)
        path.write_text((consoles or {}).get(name, ""))
        Path(vmverdict.results_path(str(path))).write_text(text)
        paths.append(path)
    return paths


def logs(pairs):
    """{name: text} for [(baseline pipe, baseline wait, patched pipe, patched wait)]."""
    out = {}
    for i, (bp, bw, pp, pw) in enumerate(pairs, 1):
        out[f"perf-baseline-{i}.log"] = log("7.2.13", bp, bw)
        out[f"perf-patched-{i}.log"] = log("7.2.13-rr", pp, pw)
    return out


class Build(unittest.TestCase):
    def test_ratios_are_speed_ratios_of_each_repetition(self):
        doc = benchreport.build(logs([(2.0, 100, 2.0, 100), (2.0, 100, 4.0, 50),
                                      (2.0, 100, 1.0, 200)]))
        pipe = doc["perf"]["sched_pipe"]
        # Seconds: baseline/patched.  Ops/s: patched/baseline.
        self.assertEqual(pipe["speed_ratio"]["values"], [1.0, 0.5, 2.0])
        self.assertEqual(pipe["speed_ratio"]["median"], 1.0)
        self.assertEqual(doc["perf"]["epoll_wait"]["speed_ratio"]["values"], [1.0, 0.5, 2.0])
        self.assertEqual(pipe["better"], "lower")
        self.assertTrue(pipe["met"])
        # usecs/op: lower is better, as seconds.
        pingpong = doc["perf"]["epoll_pingpong"]
        self.assertEqual(pingpong["speed_ratio"]["values"], [1.0, 0.5, 2.0])
        self.assertEqual(pingpong["better"], "lower")
        self.assertTrue(doc["complete"])
        self.assertEqual(doc["repetitions"], 3)
        self.assertEqual(doc["kernels"], {"baseline": "7.2.13", "patched": "7.2.13-rr"})
        self.assertEqual(doc["qemu"]["host_cpus"], "2")
        # Every boot printed the command: the report names it once, with
        # the date of the report.
        self.assertEqual(doc["commands"], ["sched_pipe: /bin/perf bench sched pipe -l 20000"])
        self.assertRegex(doc["date"], r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$")
        text = benchreport.markdown(doc, "make bench")
        self.assertIn("\n- `sched_pipe: /bin/perf bench sched pipe -l 20000`\n", text)
        self.assertIn(doc["date"], text)

    def test_goal_missed(self):
        doc = benchreport.build(logs([(1.0, 100, 1.1, 95)] * 3))
        self.assertFalse(doc["perf"]["sched_pipe"]["met"])
        self.assertFalse(doc["perf"]["epoll_pingpong"]["met"])
        text = benchreport.markdown(doc, "make bench")
        self.assertIn("| sched_pipe | s (lower is better) | 1.000 (1.000–1.000) "
                      "| 1.100 (1.100–1.100) | 0.909 (0.909–0.909) | NO |", text)

    def test_epoll_wait_is_reported_not_judged(self):
        # Its figure is a race with its writer, not a cost: never met or
        # missed, whatever the ratio, and the report says why.
        for patched in (50, 100, 200):
            doc = benchreport.build(logs([(1.0, 100, 1.0, patched)]))
            wait = doc["perf"]["epoll_wait"]
            self.assertIsNone(wait["met"])
            self.assertIn("nanosleep", wait["not_judged"])
        text = benchreport.markdown(doc, "make bench")
        self.assertIn("| 2.000 (2.000–2.000) | not judged |", text)
        self.assertIn("Not judged: epoll_wait: its writer paces itself", text)
        self.assertIn("epoll_wait is not judged: its writer", benchreport.cover(doc))

    def test_partial_runs_are_marked(self):
        runs = logs([(1.0, 100, 1.0, 100)] * 2)
        runs["perf-patched-2.log"] = log("7.2.13-rr", 1.0, 100, end=False,
                                         extra="bench-error: epoll_ctl: exit status 1\n")
        runs["perf-baseline-3.log"] = log("7.2.13", 1.0, 100)
        doc = benchreport.build(runs)
        self.assertFalse(doc["complete"])
        problems = " ".join(doc["problems"])
        self.assertIn("epoll_ctl: exit status 1", problems)
        self.assertIn("did not finish", problems)
        self.assertIn("repetition 3: only one kernel booted", problems)
        self.assertTrue(benchreport.markdown(doc, "x").startswith("**PARTIAL**"))

    def test_coarse_guest_clock_is_a_problem(self):
        runs = logs([(1.0, 100, 1.0, 100)])
        runs["perf-patched-1.log"] = runs["perf-patched-1.log"].replace(
            "bench: vcpus 4 count\n", "bench: vcpus 4 count\nbench: clocksource refined-jiffies name\n")
        doc = benchreport.build(runs)
        self.assertFalse(doc["complete"])
        self.assertIn("timed with refined-jiffies, not tsc", " ".join(doc["problems"]))
        self.assertTrue(benchreport.markdown(doc, "x").startswith("**PARTIAL**"))

    def test_bad_input(self):
        with self.assertRaises(ValueError):
            benchreport.build({"other.log": "bench: x 1 s\n"})
        with self.assertRaises(ValueError):
            benchreport.build({"perf-baseline-1.log": log("7.2.13", 1.0, 100)})
        doc = benchreport.build({"perf-baseline-1.log": log("7.2.13", 1.0, 100),
                                 "perf-patched-1.log": log("7.2.13-rr", "abc", 100)})
        self.assertIn("sched_pipe: not a number: abc", " ".join(doc["problems"]))


def nginx_lines(run, stock_p99, shim_p99, reuseport_p99, rows=3):
    """qemu/guest/bench-acceptlab.sh's lines for one run of the clogged rows."""
    p99 = [("nginx_stock_clogged", stock_p99), ("nginx_shim_clogged", shim_p99),
           ("nginx_reuseport_clogged", reuseport_p99)][:rows]
    return "".join(f"nginx-bench: run={run} {row} connections=400 stopped_ms=500 "
                   f"p50_us=3000.0 p99_us={v}\n" for row, v in p99)


class Nginx(unittest.TestCase):
    def sweeps(self, *runs):
        out = logs([(1.0, 100, 1.0, 100)])
        out["sweep-1.log"] = "vmtest: begin kernel=7.2.13-rr nproc=4\n" + "".join(
            nginx_lines(i, *r) for i, r in enumerate(runs, 1)) + "vmtest: end\n"
        return out

    def test_p99_ratios_are_taken_within_each_run(self):
        doc = benchreport.build(self.sweeps((10000, 12000, 900000), (20000, 10000, 800000)))
        self.assertTrue(doc["complete"], doc["problems"])
        rows = doc["nginx"]["rows"]
        self.assertEqual(doc["nginx"]["runs"], 2)
        self.assertEqual(rows["nginx_shim_clogged"]["p99_over_stock"]["values"], [1.2, 0.5])
        self.assertEqual(rows["nginx_reuseport_clogged"]["p99_over_stock"]["median"], 65.0)
        self.assertEqual(rows["nginx_stock_clogged"]["p99_ms"]["median"], 15.0)
        md = benchreport.markdown(doc, "make bench")
        self.assertIn("## nginx with a clogged worker", md)
        self.assertIn("| libepoll_rr_shim.so: EPOLLROUNDROBIN | 3.0 | 11.0 (10.0–12.0) "
                      "| 0.85 (0.50–1.20) |", md)

    def test_a_run_without_every_row_is_a_problem(self):
        doc = benchreport.build(self.sweeps((10000, 12000, 900000, 2), (20000, 10000, 800000)))
        self.assertFalse(doc["complete"])
        self.assertIn("no nginx_reuseport_clogged", " ".join(doc["problems"]))
        self.assertEqual(doc["nginx"]["runs"], 1)

    def test_no_nginx_lines_no_section(self):
        doc = benchreport.build(logs([(1.0, 100, 1.0, 100)]))
        self.assertIsNone(doc["nginx"])
        self.assertNotIn("nginx", benchreport.markdown(doc, "x"))


if __name__ == "__main__":
    import helpdoc
    helpdoc.on_help(__doc__)
    unittest.main()
