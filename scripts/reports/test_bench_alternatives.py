# SPDX-License-Identifier: GPL-2.0-only
"""Tests of the alternatives part of the bench report (restart, idleconn,
eBPF round-robin) on synthetic results."""

import tempfile
import unittest
from pathlib import Path

import bench_alternatives
import benchreport
from test_bench_acceptlab import line, logs, result


def restart(model, migrate, lost=0, restarts=20, complete=True):
    r = result(model, 4, complete=complete)
    r["parameters"]["tcp_migrate_req"] = str(migrate)
    r["restarts"] = restarts
    r["client"].update({"completed": 1000 - lost, "failed": lost,
                        "failures": {"refused": 0, "reset": lost, "unanswered": 0,
                                     "other": 0}})
    return r


def idleconn(model, k, requests, elapsed=5.0, held=None):
    r = result(model, 4)
    r["parameters"]["idle"] = str(k)
    r["client"].update({"requests": requests, "elapsed_s": elapsed})
    for w, h in zip(r["workers"], held or [k // 4] * 4):
        w["idle_held"] = h
    return r


def build(reps):
    return benchreport.build(logs(reps))


class Restart(unittest.TestCase):
    def test_claim_per_row(self):
        reps = [[line("restart", restart("blocking", 0)),
                 line("restart", restart("reuseport", 0, lost=lost)),
                 line("restart", restart("reuseport", 1))] for lost in (12, 30)]
        doc = build(reps)
        self.assertTrue(doc["complete"], doc["problems"])
        rows = {(r["model"], r["tcp_migrate_req"]): r for r in doc["alternatives"]["restart"]}
        self.assertEqual(rows[("reuseport", 0)]["lost"]["values"], [12, 30])
        self.assertEqual(rows[("reuseport", 0)]["lost_per_1000"]["median"], 21.0)
        self.assertTrue(all(r["as_expected"] for r in rows.values()))
        self.assertEqual(rows[("blocking", 0)]["queue"], "shared")
        md = "\n".join(bench_alternatives.markdown(doc))
        self.assertIn("| reuseport | per worker | 0 | 20 | 1000 | 21 (12–30) |", md)

    def test_cover_lines(self):
        reps = [[line("restart", restart("blocking", 0)),
                 line("restart", restart("reuseport", 0, lost=lost))] for lost in (12, 30)]
        lines = bench_alternatives.cover_lines(build(reps))
        self.assertIn("  reuseport          tcp_migrate_req=0  21 (12–30)", lines)
        self.assertTrue(all(len(x) <= 72 for x in "\n".join(lines).splitlines()), lines)

    def test_a_shared_queue_that_loses_is_not_as_expected(self):
        doc = build([[line("restart", restart("epoll_roundrobin", 0, lost=1))]] * 2)
        [row] = doc["alternatives"]["restart"]
        self.assertFalse(row["as_expected"])
        self.assertIn("| NO (none lost) |", "\n".join(bench_alternatives.markdown(doc)))

    def test_incomplete_run_is_a_problem(self):
        doc = build([[line("restart", restart("reuseport", 0, complete=False))]] * 2)
        self.assertFalse(doc["complete"])
        self.assertIn("acceptlab restart reuseport 0, repetition 1: incomplete run",
                      doc["problems"][0])


class IdleConn(unittest.TestCase):
    def reps(self, rr_at_20000, poll_at_20000=200):
        reps = []
        for _ in range(2):
            reps.append([line("idleconn", idleconn(m, k, rate * 5))
                         for k, rates in ((0, {"poll": 1000, "epoll_exclusive": 1000,
                                               "epoll_roundrobin": 1000}),
                                          (20000, {"poll": poll_at_20000,
                                                   "epoll_exclusive": 990,
                                                   "epoll_roundrobin": rr_at_20000}))
                         for m, rate in rates.items()])
        return reps

    def test_rate_over_no_idle_and_claim(self):
        doc = build(self.reps(980))
        self.assertTrue(doc["complete"], doc["problems"])
        rows = {(r["model"], r["idle"]): r for r in doc["alternatives"]["idleconn"]}
        self.assertEqual(rows[("poll", 20000)]["req_per_s"]["median"], 200)
        self.assertEqual(rows[("poll", 20000)]["over_no_idle"]["median"], 0.2)
        self.assertEqual(rows[("poll", 20000)]["held_by_busiest"]["median"], 5000)
        claim = doc["alternatives"]["idleconn_claim"]
        self.assertEqual((claim["idle"], claim["met"]), (20000, True))
        self.assertIn("| 20000 | epoll_roundrobin | 980 | 0.980 |",
                      "\n".join(bench_alternatives.markdown(doc)))

    def test_round_robin_that_falls_fails_the_claim(self):
        doc = build(self.reps(500))
        self.assertFalse(doc["alternatives"]["idleconn_claim"]["met"])
        self.assertIn("NOT met", "\n".join(bench_alternatives.markdown(doc)))

    def test_poll_that_does_not_fall_shows_nothing(self):
        doc = build(self.reps(980, poll_at_20000=1000))
        self.assertFalse(doc["alternatives"]["idleconn_claim"]["met"])

    def test_chart_has_one_line_per_model(self):
        doc = build(self.reps(980))
        scripts = []
        with tempfile.TemporaryDirectory() as d:
            files = bench_alternatives.charts(doc, Path(d), run=scripts.append)
            data = (Path(d) / "idle-connections.dat").read_text()
        self.assertEqual([f.name for f in files],
                         ["idle-connections.svg", "idle-connections.png"])
        self.assertEqual(data.count("# "), 3)
        self.assertIn("0 1000.0\n20000 200.0", data)
        self.assertIn("title 'epoll_roundrobin'", scripts[0])


class Ebpf(unittest.TestCase):
    def test_beside_round_robin(self):
        reps = [[line("idle", result("reuseport_ebpf_rr", 4, accepts=[10] * 4)),
                 line("latency", result("epoll_roundrobin", 4, p99_ms=100)),
                 line("latency", result("reuseport_ebpf_rr", 4, p99_ms=110)),
                 line("latency", result("epoll_roundrobin", 4, clog_ms=200, p99_ms=130)),
                 line("latency", result("reuseport_ebpf_rr", 4, clog_ms=200, p99_ms=600))]] * 2
        md = "\n".join(bench_alternatives.markdown(build(reps)))
        self.assertIn("| reuseport_ebpf_rr | 1.000 | 1.000 | 110.0 | 1.000 | 600.0 |", md)
        self.assertIn("| epoll_roundrobin | - | 1.000 | 100.0 | 1.000 | 130.0 |", md)


if __name__ == "__main__":
    import helpdoc
    helpdoc.on_help(__doc__)
    unittest.main()
