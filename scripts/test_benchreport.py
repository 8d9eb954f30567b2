"""Tests of benchreport.py on synthetic serial logs."""

import unittest

import benchreport


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


if __name__ == "__main__":
    unittest.main()
