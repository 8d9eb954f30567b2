# SPDX-License-Identifier: GPL-2.0-only
"""Tests of the acceptlab part of the bench report on synthetic results."""

import io
import json
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

import benchreport
import vmverdict
from test_benchreport import log, write_boots


def result(model, workers, kind="processes", conn_per_s=1000.0, accepts=None,
           wakeups=1.0, clog_ms=0, p99_ms=10.0, complete=True):
    accepts = accepts or [100] * workers
    total = sum(accepts)
    jain = total ** 2 / (len(accepts) * sum(a * a for a in accepts))
    return {
        "tool": "acceptlab", "complete": complete,
        "parameters": {"model": model, "workers": str(workers), "worker_kind": kind,
                       "clog_ms": str(clog_ms)},
        "workers": [{"accepts": a} for a in accepts],
        "fairness": {"jain": jain},
        "wakeups": {"per_accept": wakeups, "empty_accepts_per_accept": wakeups - 1},
        "client": {"connections_per_s": conn_per_s},
        "latency_ns": {"min": 1e6, "avg": 5e6, "median": 4e6, "p99": p99_ms * 1e6,
                       "p99_9": 2 * p99_ms * 1e6, "max": 3 * p99_ms * 1e6, "stddev": 1e6},
    }


def line(experiment, r):
    return f"acceptlab-json: {json.dumps({'experiment': experiment, 'result': r})}\n"


def logs(patched_lines):
    """Two repetitions; each patched boot prints the lines of its index."""
    out = {}
    for rep, lines in enumerate(patched_lines, 1):
        out[f"perf-baseline-{rep}.log"] = log("7.2.13", 1.0, 100)
        out[f"perf-patched-{rep}.log"] = log("7.2.13-rr", 1.0, 100, extra="".join(lines))
    return out


class Scaling(unittest.TestCase):
    def test_ratio_jain_and_wakeups_per_point(self):
        reps = []
        for rr_rate in (990.0, 1010.0):
            reps.append([
                line("idle", result("epoll_exclusive", 4, accepts=[40, 0, 0, 0])),
                line("idle", result("epoll_roundrobin", 4, accepts=[10, 10, 10, 10])),
                line("scaling", result("epoll_exclusive", 4, accepts=[400, 0, 0, 0])),
                line("scaling", result("epoll_roundrobin", 4, conn_per_s=rr_rate,
                                       accepts=[120, 100, 100, 80])),
                line("scaling", result("blocking", 4, accepts=[130, 100, 100, 70])),
                line("scaling", result("epoll", 4, wakeups=3.5)),
            ])
        doc = benchreport.build(logs(reps))
        self.assertTrue(doc["complete"], doc["problems"])
        [c] = doc["acceptlab"]["comparisons"]
        self.assertEqual((c["model"], c["against"], c["workers"]),
                         ("epoll_roundrobin", "epoll_exclusive", 4))
        self.assertEqual(c["conn_ratio"]["values"], [0.99, 1.01])
        # Judged where every worker waits; under load shown beside blocking's.
        self.assertEqual(c["idle_jain"]["min"], 1.0)
        self.assertAlmostEqual(c["jain"]["min"], 400 ** 2 / (4 * 40800))
        self.assertAlmostEqual(c["blocking_jain"]["min"], 400 ** 2 / (4 * 41800))
        self.assertEqual(c["met"], {"conn_ratio": True, "jain": True, "wakeups": True})
        idle = {i["model"]: i["jain"]["median"] for i in doc["acceptlab"]["idle"]}
        self.assertEqual(idle, {"epoll_exclusive": 0.25, "epoll_roundrobin": 1.0})
        herd = [s for s in doc["acceptlab"]["scaling"] if s["model"] == "epoll"]
        self.assertEqual(herd[0]["wakeups_per_accept"]["median"], 3.5)
        md = benchreport.markdown(doc, "make bench")
        self.assertIn("| 4 | processes | epoll_roundrobin | epoll_exclusive | 1.000 (0.990–1.010) "
                      "| 1.000 | 0.980 | 0.957 |", md)
        self.assertIn("| workers | kind | epoll_exclusive | epoll_roundrobin |", md)
        self.assertIn("| 4 | processes | 0.250 | 1.000 |", md)

    def test_goals_missed(self):
        reps = [[
            line("idle", result("epoll_shared_fifo", 8, kind="threads",
                                accepts=[20, 10, 10, 10, 10, 10, 10, 0])),
            line("scaling", result("epoll_shared", 8, kind="threads")),
            line("scaling", result("epoll_shared_fifo", 8, kind="threads", conn_per_s=900.0,
                                   accepts=[200, 100, 100, 100, 100, 100, 100, 100],
                                   wakeups=1.2)),
        ]]
        doc = benchreport.build(logs(reps))
        [c] = doc["acceptlab"]["comparisons"]
        self.assertEqual(c["met"], {"conn_ratio": False, "jain": False, "wakeups": False})
        self.assertIn("NO: conn_ratio, jain, wakeups", benchreport.markdown(doc, "x"))

    def test_sweeps_in_boots_of_their_own(self):
        runs = logs([[]])
        runs["sweep-1.log"] = log("7.2.13-rr", 1.0, 100, extra=line(
            "idle", result("epoll_roundrobin", 2, accepts=[10, 10])))
        runs["sweep-2.log"] = log("7.2.13-rr", 1.0, 100, end=False)
        doc = benchreport.build(runs)
        [i] = doc["acceptlab"]["idle"]
        self.assertEqual((i["model"], i["jain"]["median"]), ("epoll_roundrobin", 1.0))
        self.assertEqual(doc["repetitions"], 1)
        self.assertIn("sweep-2.log: the boot did not finish", " ".join(doc["problems"]))

    def test_no_idle_run_leaves_the_jain_goal_unmet(self):
        reps = [[line("scaling", result(m, 2)) for m in ("epoll_exclusive", "epoll_roundrobin")]]
        [c] = benchreport.build(logs(reps))["acceptlab"]["comparisons"]
        self.assertIsNone(c["idle_jain"])
        self.assertFalse(c["met"]["jain"])

    def test_incomplete_run_makes_the_report_partial(self):
        r = result("epoll_roundrobin", 2, complete=False)
        r["incomplete"] = "1 connections failed"
        doc = benchreport.build(logs([[line("scaling", r)]]))
        self.assertFalse(doc["complete"])
        self.assertIn("scaling processes 2 epoll_roundrobin, repetition 1: incomplete run "
                      "(1 connections failed)", " ".join(doc["problems"]))
        # Its figures are still in the tables, the report marked PARTIAL.
        self.assertEqual(doc["acceptlab"]["scaling"][0]["conn_per_s"]["median"], 1000.0)

    def test_broken_lines(self):
        doc = benchreport.build(logs([["acceptlab-json: {not json\n"]]))
        self.assertIn("not JSON", " ".join(doc["problems"]))
        with self.assertRaises(ValueError):
            benchreport.build(logs([[line("scaling", {"parameters": {}})]]))


class Latency(unittest.TestCase):
    def test_tail_ratio_with_a_clogged_worker(self):
        reps = []
        for rr, rp in ((20.0, 100.0), (30.0, 50.0)):
            reps.append([
                line("latency", result("epoll_roundrobin", 4, clog_ms=200, p99_ms=rr)),
                line("latency", result("reuseport", 4, clog_ms=200, p99_ms=rp)),
                line("latency", result("reuseport", 4, p99_ms=10.0)),
            ])
        doc = benchreport.build(logs(reps))
        tail = doc["acceptlab"]["tail"]
        self.assertEqual(tail["p99_ratio"]["values"], [0.2, 0.6])
        self.assertTrue(tail["met"])  # median 0.4
        rows = {(r["model"], r["clogged"]): r for r in doc["acceptlab"]["latency"]}
        self.assertEqual(rows[("reuseport", True)]["latency_ms"]["p99"]["median"], 75.0)
        self.assertEqual(rows[("reuseport", False)]["latency_ms"]["p99"]["median"], 10.0)
        md = benchreport.markdown(doc, "x")
        self.assertIn("| reuseport | yes | 1.00 | 5.00 | 4.00 | 75.00 (50.00–100.00)", md)
        self.assertIn("(goal ≤ 0.5): met", md)


class Charts(unittest.TestCase):
    def test_scaling_charts_and_latency_cdfs(self):
        import shutil
        import bench_acceptlab

        reps = [[line("scaling", result(m, n)) for m in ("epoll_exclusive", "epoll_roundrobin")
                 for n in (2, 4)]
                + [line("latency", result(m, 4, clog_ms=c))
                   for m in ("reuseport", "epoll_roundrobin") for c in (0, 200)]]
        with tempfile.TemporaryDirectory() as d:
            out = Path(d)
            doc = benchreport.build(logs(reps))
            if shutil.which("gnuplot"):
                files = bench_acceptlab.charts(doc, out)
                self.assertEqual(sorted(f.name for f in files),
                                 ["fairness.png", "fairness.svg",
                                  "throughput.png", "throughput.svg"])
                self.assertIn("<svg", (out / "fairness.svg").read_text())
            calls = []
            sweeps = [(1, json.loads(x.split(": ", 1)[1])) for x in reps[0]]
            cdfs = bench_acceptlab.latency_cdfs(sweeps, out, "acceptlab", run=calls.append)
            self.assertEqual([c.name for c in cdfs], ["latency-clean.svg", "latency-clean.png",
                                                      "latency-clogged.svg", "latency-clogged.png"])
            self.assertEqual(calls[2][:2], ["acceptlab", "compare"])
            self.assertEqual([Path(f).name for f in calls[2][2:4]],
                             ["epoll_roundrobin-clogged.json", "reuseport-clogged.json"])
            self.assertEqual(json.loads(Path(calls[2][2]).read_text())["parameters"]["clog_ms"],
                             "200")


class Cover(unittest.TestCase):
    def test_cover_text_only_for_a_complete_report(self):
        # Three boots whose figures differ, so that every figure has a
        # spread: the cover shows medians and stays within 72 columns.
        reps = [[line("scaling", result(m, 64, kind, conn_per_s=r, wakeups=w))
                 for kind in ("processes", "threads")
                 for m, r, w in (("epoll_exclusive", 1000.0 / f, 1.04),
                                 ("epoll_roundrobin", 990.0, 1.03))]
                + [line("idle", result("epoll_roundrobin", 64, kind))
                   for kind in ("processes", "threads")]
                for f in (0.9, 1.0, 1.1)]
        with tempfile.TemporaryDirectory() as d:
            paths = write_boots(d, logs(reps))
            cover = Path(d, "bench.txt")
            rc = benchreport.main(["--out", d, "--cover", str(cover), *map(str, paths)])
            self.assertEqual(rc, 0)
            text = cover.read_text()
            self.assertIn("\n       64  0.990  J 1.000  1.03 (1.04)  0.990  J 1.000  1.03 (1.04)\n",
                          text)
            self.assertIn("together (6 runs), connections/s ratio: median 0.990.",
                          " ".join(text.split()))
            self.assertLessEqual(max(map(len, text.splitlines())), 72)
            cover.unlink()
            results = Path(vmverdict.results_path(str(paths[0])))
            results.write_text(results.read_text().replace("vmtest: end\n", ""))
            rc = benchreport.main(["--out", d, "--cover", str(cover), *map(str, paths)])
            self.assertEqual(rc, 1)
            self.assertFalse(cover.exists())


class ResultsPort(unittest.TestCase):
    """The report reads results from each boot's results file, never from
    its console log, where the kernel's messages go."""

    def test_kernel_message_spliced_into_acceptlab_json_on_the_console_changes_nothing(self):
        results = logs([[line("idle", result("epoll_roundrobin", 4))]])
        results["sweep-3.log"] = log("7.2.13-rr", 1.0, 100, extra=line(
            "idle", result("epoll_roundrobin", 2, accepts=[10, 10])))
        # make bench's failure: printk wrote a clocksource message into
        # an acceptlab-json line on the shared console.
        good = results["sweep-3.log"]
        cut = good.index("epoll_round") + 5
        spliced = (good[:cut] + "[    1.834567] clocksource: tsc: mask: "
                   "0xffffffffffffffff max_cycles: 0x2e5d8b3b6c8\n" + good[cut:])
        doc = benchreport.build({**results, "sweep-3.log": spliced})
        self.assertIn("sweep-3.log: acceptlab result that is not JSON: Unterminated string",
                      " ".join(doc["problems"]))
        # The same console log beside a results file: not read.
        with tempfile.TemporaryDirectory() as d:
            paths = write_boots(d, results, {"sweep-3.log": spliced})
            with redirect_stdout(io.StringIO()):
                rc = benchreport.main(["--out", d, *map(str, paths)])
            doc = json.loads(Path(d, "bench.json").read_text())
        self.assertEqual(rc, 0, doc["problems"])
        self.assertTrue(doc["complete"])
        self.assertEqual(sorted(i["model"] for i in doc["acceptlab"]["idle"]),
                         ["epoll_roundrobin", "epoll_roundrobin"])

    def test_guest_error_on_the_console_makes_the_report_partial(self):
        results = logs([[]])
        results["perf-patched-1.log"] = ""
        doc = benchreport.build(results, {"perf-patched-1.log": (
            "[    0.5] Linux version 7.3.0-rr\nvmtest: error: no serial port "
            "/dev/ttyS1 (QEMU's second -serial)\nvmtest: begin kernel=7.3.0-rr\n")})
        problems = " ".join(doc["problems"])
        self.assertIn("perf-patched-1.log: on the console: no serial port /dev/ttyS1", problems)
        self.assertIn("perf-patched-1.log: the boot did not finish", problems)


if __name__ == "__main__":
    import helpdoc
    helpdoc.on_help(__doc__)
    unittest.main()
