# SPDX-License-Identifier: GPL-2.0-only
"""Unit tests of the serial-log parser and verdict rules (vmverdict.py).

The logs below are written as one text, the way a reader follows a boot;
split() sends each line where qemu/host/boot.sh would find it: kernel lines
("[    1.0] ...") to the console log, the rest to the results.
"""

import io
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

sys.path.insert(0, os.path.dirname(__file__))
import vmverdict  # noqa: E402

GOOD_PATCHED = """\
[    0.000000] Linux version 6.12.117-rr
vmtest: begin kernel=6.12.117-rr nproc=4
vmtest: run epoll_roundrobin_test
TAP version 13
1..3
# Starting 3 tests from 2 test cases.
#  RUN           flags.accepted_with_exclusive ...
ok 1 flags.accepted_with_exclusive
# distribution procs_roundrobin sequential: 10 10 10 10 jain=1.000
[    1.561354] clocksource: Switched to clocksource tsc
ok 2 accept.procs_roundrobin.sequential
ok 3 accept.procs_exclusive.sequential
# distribution procs_exclusive sequential: 40 0 0 0 jain=0.250
# Totals: pass:3 fail:0 xfail:0 xpass:0 skip:0 error:0
vmtest: exit epoll_roundrobin_test rc=0
vmtest: run uring_accept_roundrobin_test
1..2
# distribution uring_multishot sequential: 40 0 0 0 jain=0.250
ok 1 accept.uring_multishot.sequential
# distribution uring_multishot_roundrobin concurrent: 89 113 103 95 jain=0.992
ok 2 accept.uring_multishot_roundrobin.concurrent
vmtest: exit uring_accept_roundrobin_test rc=0
vmtest: end
[    2.0] reboot: Restarting system
"""

GOOD_BASELINE = """\
vmtest: begin kernel=6.12.117 nproc=4
vmtest: run epoll_roundrobin_test
1..3
ok 1 flags.accepted_with_exclusive # SKIP kernel lacks EPOLLROUNDROBIN
ok 2 accept.procs_roundrobin.sequential # SKIP kernel lacks EPOLLROUNDROBIN
ok 3 accept.procs_exclusive.sequential
# distribution procs_exclusive sequential: 40 0 0 0 jain=0.250
vmtest: exit epoll_roundrobin_test rc=0
vmtest: run uring_accept_roundrobin_test
1..2
# distribution uring_multishot sequential: 40 0 0 0 jain=0.250
ok 1 accept.uring_multishot.sequential
ok 2 accept.uring_multishot_roundrobin.concurrent # SKIP kernel lacks IORING_ACCEPT_ROUNDROBIN
vmtest: exit uring_accept_roundrobin_test rc=0
vmtest: end
"""

GOOD_DEBUG = """\
[    0.000000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc.
[    0.100000] kasan: KernelAddressSanitizer initialized (generic)
vmtest: begin kernel=6.12.117-rr-debug nproc=4
vmtest: run epoll_rr_stress_test
1..1
# stress roundrobin: 60 s, 30000 connections (500/s), 9000 ctl ops
ok 1 stress.roundrobin.run
vmtest: exit epoll_rr_stress_test rc=0
vmtest: end
"""

# qemu/guest/nginx-ktap.sh's output on a patched kernel, shortened.
NGINX_PATCHED = """\
vmtest: begin kernel=7.2.13-rr nproc=4
vmtest: run nginx
TAP version 13
1..4
# nginx version: nginx/1.22.1, 4 workers, kernel 7.2.13-rr
# distribution nginx_stock sequential: 17 16 17 14 jain=0.994
# nginx nginx_stock: connections=1064 longest_run=16 listen_epoll_ctl=138
ok 1 nginx_stock
# distribution nginx_noreorder sequential: 64 0 0 0 jain=0.250
# nginx nginx_noreorder: connections=1064 longest_run=64 listen_epoll_ctl=0
ok 2 nginx_noreorder
# distribution nginx_shim sequential: 16 16 16 16 jain=1.000
# nginx nginx_shim: connections=1064 longest_run=1 listen_epoll_ctl=0
ok 3 nginx_shim
# nginx nginx_reuseport_clogged: connections=800 stopped_ms=1000 p50_us=390.5 p99_us=891900.9
ok 4 nginx_reuseport_clogged
vmtest: exit nginx rc=0
vmtest: end
"""

NGINX_BASELINE = (NGINX_PATCHED.replace("7.2.13-rr", "7.2.13")
                  .replace("# distribution nginx_shim sequential: 16 16 16 16 jain=1.000\n", "")
                  .replace("# nginx nginx_shim: connections=1064 longest_run=1 listen_epoll_ctl=0\n", "")
                  .replace("ok 3 nginx_shim", "ok 3 nginx_shim # SKIP kernel lacks EPOLLROUNDROBIN "
                           "(libepoll_rr_shim.so's probe: Invalid argument)"))


KERNEL_LINE = re.compile(r"^\[\s*\d+\.\d+\] ")


def split(text):
    """(console, results) of a log written as one text."""
    console, results = [], []
    for line in text.splitlines(keepends=True):
        (console if KERNEL_LINE.match(line) else results).append(line)
    return "".join(console), "".join(results)


def parse(text):
    return vmverdict.parse_log(*split(text))


def write_logs(d, kernel, log):
    """d/KERNEL.log and d/KERNEL.results from a text or a (console, results)
    pair; the console log's path."""
    console, results = split(log) if isinstance(log, str) else log
    path = os.path.join(d, kernel + ".log")
    for name, text in ((path, console), (vmverdict.results_path(path), results)):
        with open(name, "w") as f:
            f.write(text)
    return path


def verdict_of(logs, smp=4):
    """Run main() on the given {kernel: text or (console, results)};
    return (exit code, output)."""
    with tempfile.TemporaryDirectory() as d:
        args = ["--smp", str(smp)]
        for kernel, log in logs.items():
            args.append(f"{kernel}={write_logs(d, kernel, log)}")
        out = io.StringIO()
        with redirect_stdout(out):
            rc = vmverdict.main(args)
        return rc, out.getvalue()


class ParseTest(unittest.TestCase):
    def test_parses_results_and_distributions(self):
        log = parse(GOOD_PATCHED)
        self.assertEqual(log["release"], "6.12.117-rr")
        self.assertEqual(log["nproc"], 4)
        self.assertTrue(log["finished"])
        prog = log["programs"]["epoll_roundrobin_test"]
        self.assertEqual(prog["plan"], 3)
        self.assertEqual(prog["rc"], 0)
        self.assertEqual([r["name"] for r in prog["results"]],
                         ["flags.accepted_with_exclusive",
                          "accept.procs_roundrobin.sequential",
                          "accept.procs_exclusive.sequential"])
        self.assertEqual(prog["distributions"][0]["counts"], [10, 10, 10, 10])
        self.assertAlmostEqual(prog["distributions"][1]["jain"], 0.25)
        self.assertEqual(log["splats"], [])

    def test_skip_directive_and_reason(self):
        prog = parse(GOOD_BASELINE)["programs"][
            "epoll_roundrobin_test"]
        r = prog["results"][0]
        self.assertTrue(r["ok"])
        self.assertEqual(r["directive"], "SKIP")
        self.assertEqual(r["reason"], "kernel lacks EPOLLROUNDROBIN")

    def test_stress_lines_and_debug_banners(self):
        log = parse(GOOD_DEBUG)
        self.assertEqual(log["stress"], [
            "stress roundrobin: 60 s, 30000 connections (500/s), 9000 ctl ops"])
        self.assertEqual(sorted(log["banners"]), ["KASAN", "lockdep"])
        self.assertEqual(log["splats"], [])

    def test_run_times_are_kept_and_printed(self):
        text = GOOD_BASELINE.replace(
            "vmtest: exit epoll_roundrobin_test rc=0",
            "vmtest: exit epoll_roundrobin_test rc=0 time=12.5s")
        log = parse(text)
        progs = log["programs"]
        self.assertEqual(progs["epoll_roundrobin_test"]["seconds"], 12.5)
        self.assertIsNone(progs["uring_accept_roundrobin_test"]["seconds"])
        _, out = verdict_of({"baseline": text})
        self.assertRegex(out, r"(?m)^epoll_roundrobin_test +12\.5$")
        self.assertNotRegex(out, r"(?m)^uring_accept_roundrobin_test ")

    def test_guest_notes_are_kept_and_printed(self):
        text = GOOD_DEBUG.replace(
            "vmtest: run epoll_rr_stress_test",
            "vmtest: note: epoll_wakeup_test: epoll65 excluded on this kernel\n"
            "vmtest: run epoll_rr_stress_test")
        log = parse(text)
        self.assertEqual(log["guest_notes"],
                         ["epoll_wakeup_test: epoll65 excluded on this kernel"])
        self.assertEqual(log["programs"]["epoll_rr_stress_test"]["plan"], 1)
        _, out = verdict_of({"debug": text})
        self.assertIn("note: debug: epoll_wakeup_test: epoll65 excluded", out)

    def test_failed_test_rerun_alone(self):
        upstream = (
            "vmtest: run epoll_wakeup_test\n"
            "1..2\n"
            "ok 1 global.epoll57\n"
            "# epoll_wakeup_test.c:3075:epoll58:Expected ctx.count (1) == 2 (2)\n"
            "not ok 2 global.epoll58\n"
            "vmtest: exit epoll_wakeup_test rc=1\n"
            "# retry: ok 1 global.epoll58\n"
            "vmtest: retry epoll_wakeup_test global.epoll58 rc=%d\n"
            "vmtest: end\n")
        text = GOOD_DEBUG.replace("vmtest: end\n", upstream)
        log = parse(text % 0)
        self.assertEqual(log["programs"]["epoll_wakeup_test"]["retries"],
                         {"global.epoll58": 0})
        # Passed alone: a pass, and a note that says it was flaky.
        rc, out = verdict_of({"debug": text % 0})
        self.assertEqual(rc, 0, out)
        self.assertIn("note: debug: epoll_wakeup_test: global.epoll58 failed, "
                      "then passed when run again alone (flaky)", out)
        # Failed again: a failure that says so.
        rc, out = verdict_of({"debug": text % 1})
        self.assertEqual(rc, 1)
        self.assertIn("not ok again alone (rc=1)", out)
        # Never rerun: a failure.
        no_retry = "".join(line + "\n" for line in (text % 0).splitlines()
                           if "retry" not in line)
        rc, out = verdict_of({"debug": no_retry})
        self.assertEqual(rc, 1)
        self.assertIn("epoll_wakeup_test: exit status: rc=1", out)

    def test_splats_found_in_kernel_lines(self):
        text = GOOD_PATCHED.replace(
            "[    2.0] reboot",
            "[    1.9] WARNING: CPU: 1 PID: 7 at kernel/sched/wait.c:71\n"
            "[    2.0] reboot")
        self.assertEqual(len(parse(text)["splats"]), 1)


class VerdictTest(unittest.TestCase):
    def test_good_run_passes(self):
        rc, out = verdict_of({"baseline": GOOD_BASELINE,
                              "patched": GOOD_PATCHED})
        self.assertEqual(rc, 0, out)
        self.assertIn("verdict: PASS", out)
        self.assertIn("[10 10 10 10] J=1.00", out)
        # baseline: 5 checks, 2 a program + 1 result each, EPOLLEXCLUSIVE,
        # multishot; patched: 6 checks, epoll 2 + 3 results, io_uring 2 + 2,
        # EPOLLEXCLUSIVE, multishot, the round-robin rings' spread.
        self.assertTrue(out.rstrip().endswith(
            "31 passed, 0 failed, 3 skipped"), out)

    def test_good_debug_run_passes(self):
        rc, out = verdict_of({"debug": GOOD_DEBUG})
        self.assertEqual(rc, 0, out)
        self.assertIn("Stress test on debug (6.12.117-rr-debug):\n"
                      "  stress roundrobin: 60 s", out)
        # 8 checks + 2 debug banners + 1 result.
        self.assertTrue(out.rstrip().endswith(
            "11 passed, 0 failed, 0 skipped"), out)

    def test_debug_kernel_without_kasan_fails(self):
        bad = GOOD_DEBUG.replace("KernelAddressSanitizer initialized", "")
        self.assert_fails({"debug": bad}, "KASAN active")

    def test_non_debug_kernel_as_debug_fails(self):
        bad = GOOD_DEBUG.replace("6.12.117-rr-debug", "6.12.117-rr")
        self.assert_fails({"debug": bad}, "debug kernel booted")

    def test_lockup_and_list_corruption_fail(self):
        for splat in ("watchdog: BUG: soft lockup - CPU#1 stuck for 22s!",
                      "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
                      "list_del corruption. prev->next should be ffff8880",
                      "INFO: task init:1 blocked for more than 30 seconds."):
            bad = GOOD_DEBUG.replace("vmtest: end",
                                     f"[   30.0] {splat}\nvmtest: end")
            self.assert_fails({"debug": bad}, "no kernel splat")

    def assert_fails(self, logs, reason):
        rc, out = verdict_of(logs)
        self.assertEqual(rc, 1, out)
        self.assertIn("verdict: FAIL", out)
        self.assertIn(reason, out)

    def test_not_ok_fails(self):
        bad = GOOD_PATCHED.replace("ok 2 accept", "not ok 2 accept")
        self.assert_fails({"patched": bad}, "not ok")

    def test_not_ok_names_the_failed_expectation(self):
        bad = GOOD_PATCHED.replace(
            "ok 2 accept", "# /src/t.c:42:seq:Expected 10 (10) == n (0)\n"
            "not ok 2 accept")
        self.assert_fails({"patched": bad},
                          "not ok; t.c:42:seq:Expected 10 (10) == n (0)")

    def test_fix_tests_may_fail_on_the_baseline_only(self):
        # The lost wakeup the series fixes, shown on the baseline: the
        # program's exit status and the "not ok" are the bug, not a failure.
        before = GOOD_BASELINE.replace(
            "ok 1 accept.uring_multishot.sequential",
            "ok 1 accept.uring_multishot.sequential\n"
            "# t.c:9:passed_on:the held connection was not accepted\n"
            "not ok 3 held.multishot_cancel.passed_on").replace(
            "1..2", "1..3").replace(
            "vmtest: exit uring_accept_roundrobin_test rc=0",
            "vmtest: exit uring_accept_roundrobin_test rc=1")
        rc, out = verdict_of({"baseline": before})
        self.assertEqual(rc, 0, out)
        self.assertIn("The bugs the series fixes", out)
        # The same failure on a patched kernel fails the run.
        after = GOOD_PATCHED.replace(
            "ok 2 accept.uring_multishot_roundrobin.concurrent",
            "ok 2 accept.uring_multishot_roundrobin.concurrent\n"
            "not ok 3 held.multishot_cancel.passed_on").replace(
            "1..2\n# distribution uring_multishot",
            "1..3\n# distribution uring_multishot").replace(
            "vmtest: exit uring_accept_roundrobin_test rc=0",
            "vmtest: exit uring_accept_roundrobin_test rc=1")
        self.assert_fails({"patched": after}, "held.multishot_cancel.passed_on")
        # Another failure on the baseline still fails it.
        other = before.replace("not ok 3 held.multishot_cancel.passed_on",
                               "not ok 3 rings.multishot.sequential")
        self.assert_fails({"baseline": other}, "not ok")

    def test_skip_on_patched_fails(self):
        bad = GOOD_PATCHED.replace(
            "ok 2 accept.procs_roundrobin.sequential",
            "ok 2 accept.procs_roundrobin.sequential # SKIP kernel lacks "
            "EPOLLROUNDROBIN")
        self.assert_fails({"patched": bad}, "skipped where it must run")

    def test_other_skip_on_baseline_fails(self):
        for reason in ("no network", "kernel lacks io_uring",
                       "kernel lacks EPOLLROUNDROBIN and IPv6"):
            bad = GOOD_BASELINE.replace(
                "ok 3 accept.procs_exclusive.sequential",
                f"ok 3 accept.procs_exclusive.sequential # SKIP {reason}")
            self.assert_fails({"baseline": bad}, "skipped where it must run")

    def test_missing_wake_fifo_skip_on_baseline_passes(self):
        log = GOOD_BASELINE.replace("1..3", "1..5").replace(
            "vmtest: exit",
            "ok 4 accept.threads_fifo.sequential # SKIP kernel lacks "
            "EPOLL_WAKE_FIFO\n"
            "ok 5 acceptlab.epoll_shared_roundrobin # SKIP kernel lacks "
            "EPOLL_WAKE_FIFO (epoll_create1: EINVAL)\nvmtest: exit", 1)
        rc, out = verdict_of({"baseline": log})
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.rstrip().endswith(
            "13 passed, 0 failed, 5 skipped"), out)

    # acceptlab_models' row of the eBPF alternative, as qemu/guest/acceptlab-ktap.sh
    # prints it, appended to a log.
    @staticmethod
    def with_ebpf_row(log, row):
        return log.replace("vmtest: end", "vmtest: run acceptlab_models\n1..1\n"
                           + row + "vmtest: exit acceptlab_models rc=0\n"
                           "vmtest: end")

    def test_debug_kernel_may_lack_bpf_only(self):
        skip = "ok 1 acceptlab.reuseport_ebpf_rr # SKIP kernel lacks bpf() " \
            "(CONFIG_BPF_SYSCALL)\n"
        rc, out = verdict_of({"debug": self.with_ebpf_row(GOOD_DEBUG, skip)})
        self.assertEqual(rc, 0, out)
        for kernel, log in (("baseline", GOOD_BASELINE),
                            ("patched", GOOD_PATCHED)):
            self.assert_fails({kernel: self.with_ebpf_row(log, skip)},
                              "skipped where it must run")

    def test_ebpf_round_robin_must_take_exact_turns(self):
        row = ("# distribution reuseport_ebpf_rr acceptlab_sequential: "
               "{} jain=1.000\nok 1 acceptlab.reuseport_ebpf_rr\n")
        rc, out = verdict_of({"patched": self.with_ebpf_row(
            GOOD_PATCHED, row.format("10 10 10 10"))})
        self.assertEqual(rc, 0, out)
        # The row's test and the exact-turns check.
        self.assertTrue(out.rstrip().endswith("22 passed, 0 failed, 0 skipped"),
                        out)
        self.assert_fails({"baseline": self.with_ebpf_row(
            GOOD_BASELINE, row.format("9 11 10 10"))},
            "reuseport_ebpf_rr: [9 11 10 10]")

    def test_fair_plain_exclusive_fails_on_every_kernel(self):
        for kernel, log in (("baseline", GOOD_BASELINE),
                            ("patched", GOOD_PATCHED)):
            bad = log.replace("procs_exclusive sequential: 40 0 0 0",
                              "procs_exclusive sequential: 10 10 10 10")
            self.assert_fails({kernel: bad},
                              "EPOLLEXCLUSIVE: one worker takes every "
                              "sequential connection: procs_exclusive "
                              "sequential: [10 10 10 10]")

    def test_fair_plain_multishot_fails(self):
        bad = GOOD_BASELINE.replace("uring_multishot sequential: 40 0 0 0",
                                    "uring_multishot sequential: 10 10 10 10")
        self.assert_fails({"baseline": bad},
                          "without IORING_ACCEPT_ROUNDROBIN: one ring takes "
                          "every sequential connection: uring_multishot "
                          "sequential: [10 10 10 10]")

    def test_missing_plain_exclusive_distribution_fails(self):
        bad = GOOD_PATCHED.replace(
            "# distribution procs_exclusive sequential: 40 0 0 0 "
            "jain=0.250\n", "")
        self.assert_fails({"patched": bad}, "epoll_roundrobin_test printed "
                          "no '# distribution procs_exclusive sequential'")

    def test_uring_rows_come_from_the_uring_selftest(self):
        log = parse(GOOD_PATCHED)
        self.assertEqual(list(log["programs"]), ["epoll_roundrobin_test",
                                                 "uring_accept_roundrobin_test"])
        uring = log["programs"]["uring_accept_roundrobin_test"]
        self.assertEqual([d["model"] for d in uring["distributions"]],
                         ["uring_multishot", "uring_multishot_roundrobin"])
        # The same line in the epoll selftest does not count for it.
        moved = GOOD_BASELINE.replace(
            "# distribution uring_multishot sequential: 40 0 0 0 jain=0.250\n", "")
        moved = moved.replace(
            "# distribution procs_exclusive sequential: 40 0 0 0 jain=0.250\n",
            "# distribution procs_exclusive sequential: 40 0 0 0 jain=0.250\n"
            "# distribution uring_multishot sequential: 40 0 0 0 jain=0.250\n")
        self.assert_fails({"baseline": moved}, "uring_accept_roundrobin_test "
                          "printed no '# distribution uring_multishot sequential'")

    def test_uring_check_needs_the_uring_selftest_only_where_it_ran(self):
        only_epoll = GOOD_BASELINE[:GOOD_BASELINE.index(
            "vmtest: run uring_accept_roundrobin_test")] + "vmtest: end\n"
        rc, out = verdict_of({"baseline": only_epoll})
        self.assertEqual(rc, 0, out)

    def test_uneven_roundrobin_rings_fail_on_patched_kernels(self):
        bad = GOOD_PATCHED.replace(
            "uring_multishot_roundrobin concurrent: 89 113 103 95 jain=0.992",
            "uring_multishot_roundrobin concurrent: 200 100 60 40 jain=0.727")
        self.assert_fails({"patched": bad},
                          "round-robin rings spread concurrent connections "
                          "(J >= 0.95): uring_multishot_roundrobin concurrent: "
                          "[200 100 60 40] J=0.73")
        rc, out = verdict_of({"patched": GOOD_PATCHED})
        self.assertEqual(rc, 0, out)
        self.assertIn("[89 113 103 95] J=0.99", out)

    def test_missing_roundrobin_rings_distribution_fails_on_patched(self):
        bad = GOOD_PATCHED.replace(
            "# distribution uring_multishot_roundrobin concurrent: 89 113 103 95 "
            "jain=0.992\n", "")
        self.assert_fails({"patched": bad}, "uring_accept_roundrobin_test printed "
                          "no '# distribution uring_multishot_roundrobin concurrent'")

    def test_base_in_title_and_json(self):
        with tempfile.TemporaryDirectory() as d:
            out_json = os.path.join(d, "r.json")
            path = write_logs(d, "p", GOOD_PATCHED + "vmtest: qemu accel=tcg "
                              "smp=4 host_cpus=2 host_cpu=Some_CPU\n")
            out = io.StringIO()
            with redirect_stdout(out):
                rc = vmverdict.main(["--smp", "4", "--base", "7.2",
                                     "--base-version", "deb linux 7.2.13-1",
                                     "--series-id", "abc",
                                     "--json", out_json, f"patched={path}"])
            self.assertEqual(rc, 0, out.getvalue())
            self.assertIn("Accepts per worker on Linux 7.2 (4 workers;",
                          out.getvalue())
            with open(out_json) as f:
                results = json.load(f)
            self.assertEqual(results["base"], "7.2")
            self.assertEqual(results["base_version"], "deb linux 7.2.13-1")
            self.assertEqual(results["series_id"], "abc")
            self.assertRegex(results["date"], r"^\d{4}-\d\d-\d\dT")
            self.assertEqual(results["logs"]["patched"]["qemu"],
                             {"accel": "tcg", "smp": "4", "host_cpus": "2",
                              "host_cpu": "Some_CPU"})

    def test_missing_result_fails(self):
        bad = GOOD_PATCHED.replace("ok 3 accept.procs_exclusive.sequential\n",
                                   "")
        self.assert_fails({"patched": bad}, "plan 3, got 2 results")

    def test_unfinished_guest_fails(self):
        bad = GOOD_PATCHED.split("vmtest: exit")[0]
        self.assert_fails({"patched": bad}, "hang, panic or timeout")

    def test_frozen_guest_names_the_host_kill(self):
        bad = (GOOD_PATCHED.split("vmtest: exit")[0] +
               "vmtest: host: no output from the guest for 60s: killed as hung\n")
        self.assert_fails({"patched": bad}, "killed as hung")

    def test_wrong_cpu_count_fails(self):
        bad = GOOD_PATCHED.replace("nproc=4", "nproc=1")
        self.assert_fails({"patched": bad}, "nproc=1, expected 4")

    def test_wrong_kernel_fails(self):
        bad = GOOD_PATCHED.replace("kernel=6.12.117-rr", "kernel=6.12.117")
        self.assert_fails({"patched": bad}, "patched kernel booted")

    def test_splat_fails(self):
        bad = GOOD_PATCHED.replace(
            "vmtest: end", "[    1.0] BUG: KASAN: use-after-free\nvmtest: end")
        self.assert_fails({"patched": bad}, "no kernel splat")

    def test_failing_exit_status_fails(self):
        bad = GOOD_PATCHED.replace("rc=0", "rc=1")
        self.assert_fails({"patched": bad}, "rc=1")

    def test_no_tests_fails(self):
        self.assert_fails(
            {"patched": "vmtest: begin kernel=6.12.117-rr nproc=4\n"
                        "vmtest: end\n"}, "no test program ran")

    def test_bad_argument_is_usage_error(self):
        with self.assertRaises(SystemExit) as e, \
                redirect_stdout(io.StringIO()), \
                open(os.devnull, "w") as null:
            stderr, sys.stderr = sys.stderr, null
            try:
                vmverdict.main(["--smp", "4", "no-equals-sign"])
            finally:
                sys.stderr = stderr
        self.assertEqual(e.exception.code, 2)



# The bug the results port ends: on a shared console, printk wrote a kernel
# message into the middle of a line a test was printing.
CLOCKSOURCE = ("[    1.834567] clocksource: tsc: mask: 0xffffffffffffffff "
               "max_cycles: 0x2e5d8b3b6c8, max_idle_ns: 440795206341 ns")
SPLICED = GOOD_PATCHED.replace(
    "# distribution procs_exclusive sequential: 40 0 0 0 jain=0.250",
    f"# distribution procs_exclusive sequential: 40 0{CLOCKSOURCE}\n 0 0 jain=0.250")


class ChannelTest(unittest.TestCase):
    """Results from the results file only, kernel reports from the console
    log only."""

    def test_results_file_is_named_after_the_console_log(self):
        self.assertEqual(vmverdict.results_path("b/7.3/patched/serial.log"),
                         "b/7.3/patched/results.log")
        self.assertEqual(vmverdict.results_path("b/7.3/fault.serial.log"),
                         "b/7.3/fault.serial.results")
        self.assertEqual(vmverdict.results_path("b/sweep-3.log"), "b/sweep-3.results")
        self.assertEqual(vmverdict.results_path("console"), "console.results")

    def test_boot_sh_names_the_results_file_the_same_way(self):
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "qemu", "host", "boot.sh")) as f:
            boot = f.read()
        rule = boot[boot.index("case ${serial##*/} in"):]
        rule = rule[:rule.index("esac") + 4]
        for console in ("b/7.3/patched/serial.log", "serial.log",
                        "b/bench/logs/sweep-3.log", "b/faults/x.serial.log", "odd"):
            out = subprocess.run(["bash", "-c", rule + '\necho "$results"'],
                                 env={"serial": console}, capture_output=True,
                                 text=True, check=True).stdout
            self.assertEqual(out.strip(), vmverdict.results_path(console))

    def test_kernel_text_spliced_into_a_result_line_on_the_console_changes_nothing(self):
        # Read as results, the spliced line loses the distribution ...
        rc, out = verdict_of({"patched": ("", SPLICED)})
        self.assertEqual(rc, 1, out)
        self.assertIn("printed no '# distribution procs_exclusive sequential'", out)
        # ... but on the console, beside the results file, it is not read.
        rc, out = verdict_of({"patched": (SPLICED, split(GOOD_PATCHED)[1])})
        self.assertEqual(rc, 0, out)
        self.assertIn("verdict: PASS", out)

    def test_ktap_is_never_taken_from_the_console(self):
        # Every result on the console, none in the results file: no test ran.
        log = vmverdict.parse_log(GOOD_PATCHED, "")
        self.assertEqual(log["programs"], {})
        self.assertFalse(log["finished"])
        rc, out = verdict_of({"patched": (GOOD_PATCHED, "")})
        self.assertEqual(rc, 1)
        self.assertIn("no test program ran", out)
        self.assertIn("the results are on the console: an initramfs older", out)
        # A failure and another program on the console change nothing.
        console = (split(GOOD_PATCHED)[0] + "vmtest: run other_test\n1..1\n"
                   "not ok 1 accept.procs_roundrobin.sequential\n"
                   "vmtest: exit other_test rc=1\n")
        log = vmverdict.parse_log(console, split(GOOD_PATCHED)[1])
        self.assertEqual(list(log["programs"]), ["epoll_roundrobin_test",
                                                 "uring_accept_roundrobin_test"])
        self.assertEqual(verdict_of({"patched": (console, split(GOOD_PATCHED)[1])})[0], 0)

    def test_kernel_reports_are_taken_from_the_console_only(self):
        console, results = split(GOOD_PATCHED)
        splat = "[    1.9] WARNING: CPU: 1 PID: 7 at kernel/sched/wait.c:71\n"
        self.assertEqual(len(vmverdict.parse_log(console + splat, results)["splats"]), 1)
        # A test's own output is no kernel report.
        self.assertEqual(vmverdict.parse_log(console, results + splat)["splats"], [])
        rc, out = verdict_of({"debug": (split(GOOD_DEBUG)[1], split(GOOD_DEBUG)[0])})
        self.assertEqual(rc, 1)
        self.assertIn("debug: lockdep active: no 'Lock dependency validator'", out)

    def test_guest_without_the_results_port_fails(self):
        # qemu/guest/init without ttyS1: an error, then the results on the console.
        console = ("vmtest: error: no serial port /dev/ttyS1 (QEMU's second "
                   "-serial): the results follow on the console\n" + GOOD_PATCHED)
        rc, out = verdict_of({"patched": (console, "")})
        self.assertEqual(rc, 1)
        self.assertIn("patched: no guest error: on the console: no serial port "
                      "/dev/ttyS1", out)
        self.assertIn("no test program ran", out)
        # The error says why; no guess at an old initramfs.
        self.assertNotIn("an initramfs older", out)

    def test_guest_error_among_the_results_fails(self):
        bad = GOOD_PATCHED.replace(
            "vmtest: end", "vmtest: error: VMTEST_ONLY names epoll_rr_tst, "
            "which /tests lacks\nvmtest: end")
        self.assertEqual(parse(bad)["errors"],
                         ["VMTEST_ONLY names epoll_rr_tst, which /tests lacks"])
        rc, out = verdict_of({"patched": bad})
        self.assertEqual(rc, 1)
        self.assertIn("no guest error: VMTEST_ONLY names epoll_rr_tst", out)

    def test_missing_results_file_is_an_error_not_a_verdict(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "serial.log")
            with open(path, "w") as f:
                f.write(GOOD_PATCHED)
            err = io.StringIO()
            with self.assertRaises(SystemExit) as e, \
                    redirect_stdout(io.StringIO()), redirect_stderr(err):
                vmverdict.main(["--smp", "4", f"patched={path}"])
        self.assertEqual(e.exception.code, 2)
        self.assertIn(f"cannot read {d}/results.log", err.getvalue())


class NginxTest(unittest.TestCase):
    def test_good_nginx_rows_pass_and_print_the_table(self):
        rc, out = verdict_of({"baseline": NGINX_BASELINE,
                              "patched": NGINX_PATCHED})
        self.assertEqual(rc, 0, out)
        self.assertIn("nginx 1.22.1, 4 worker processes", out)
        self.assertRegex(out, r"nginx_stock +run 16, epoll_ctl 130/1000 +"
                              r"run 16, epoll_ctl 130/1000")
        self.assertRegex(out, r"nginx_shim +- +run 1, epoll_ctl 0/1000")
        self.assertIn("p99 891.9 ms", out)
        self.assertIn("800 connections, worker 0 stopped (SIGSTOP) for 1000 ms", out)

    def test_shim_that_does_not_rotate_fails(self):
        bad = NGINX_PATCHED.replace("nginx_shim sequential: 16 16 16 16",
                                    "nginx_shim sequential: 15 17 16 16")
        rc, out = verdict_of({"patched": bad})
        self.assertEqual(rc, 1)
        self.assertIn("nginx_shim sequential: [15 17 16 16]", out)

    def test_shim_with_a_worker_twice_in_a_row_fails(self):
        bad = NGINX_PATCHED.replace("longest_run=1 ", "longest_run=2 ")
        self.assertEqual(verdict_of({"patched": bad})[0], 1)

    def test_shim_still_calling_epoll_ctl_fails(self):
        bad = NGINX_PATCHED.replace("longest_run=1 listen_epoll_ctl=0",
                                    "longest_run=1 listen_epoll_ctl=8")
        rc, out = verdict_of({"patched": bad})
        self.assertEqual(rc, 1)
        self.assertIn("epoll_ctl calls 8", out)

    def test_shim_row_missing_on_patched_fails(self):
        rc, out = verdict_of({"patched": NGINX_BASELINE.replace(
            "7.2.13", "7.2.13-rr")})
        self.assertEqual(rc, 1)
        self.assertIn("no distribution", out)

    def test_plain_exclusive_nginx_that_is_fair_fails(self):
        bad = NGINX_BASELINE.replace("nginx_noreorder sequential: 64 0 0 0",
                                     "nginx_noreorder sequential: 16 16 16 16")
        rc, out = verdict_of({"baseline": bad})
        self.assertEqual(rc, 1)
        self.assertIn("nginx without its reorder: one worker takes every", out)

    def test_a_row_with_missing_figures_is_shown_not_a_crash(self):
        odd = NGINX_PATCHED.replace("p50_us=390.5 p99_us=891900.9", "p99_us=x")
        rc, out = verdict_of({"patched": odd})
        self.assertIn("unreadable: connections=800 stopped_ms=1000 p99_us=x", out)

    def test_rows_left_out_are_not_judged_but_the_shim_is_on_patched(self):
        shim_only = "".join(
            line + "\n" for line in NGINX_PATCHED.splitlines()
            if "nginx_shim" in line or not ("nginx_" in line or line.startswith("1..")))
        shim_only = shim_only.replace("TAP version 13\n", "TAP version 13\n1..1\n")
        shim_only = shim_only.replace("ok 3 nginx_shim", "ok 1 nginx_shim")
        rc, out = verdict_of({"patched": shim_only})
        self.assertEqual(rc, 0, out)
        verdict = vmverdict.Verdict()
        vmverdict.judge("patched", parse(shim_only), 4, verdict)
        names = " ".join(c[1] for c in verdict.checks)
        self.assertNotIn("nginx without its reorder", names)
        self.assertIn("nginx + libepoll_rr_shim.so: exact rotation", names)
        rc, out = verdict_of({"patched": shim_only.replace(
            "16 16 16 16", "64 0 0 0").replace("longest_run=1", "longest_run=64")})
        self.assertEqual(rc, 1)

    def test_nginx_that_failed_fails(self):
        bad = NGINX_PATCHED.replace(
            "ok 1 nginx_stock",
            "# nginx_stock: nginx exited at startup (port 8080 in use?)\n"
            "not ok 1 nginx_stock").replace("rc=0", "rc=1")
        rc, out = verdict_of({"patched": bad})
        self.assertEqual(rc, 1)
        self.assertIn("nginx: nginx_stock: not ok", out)

if __name__ == "__main__":
    import helpdoc
    helpdoc.on_help(__doc__)
    unittest.main()
