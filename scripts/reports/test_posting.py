# SPDX-License-Identifier: GPL-2.0-only
"""Unit tests of the cover letter and mail checks (posting.py)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import posting  # noqa: E402

TEMPLATE = "epoll: subject\nIntro.\n\n@RESULTS@\n\n@STRESS@\n@OVERHEAD@\n@CHANGES@\n"


def dist(model, test, counts):
    n, s = len(counts), sum(counts)
    jain = s * s / (n * sum(c * c for c in counts)) if s else 0
    return {"model": model, "test": test, "counts": counts, "jain": jain}


def results(patched_extra=True):
    keys = [k for _, k in posting.TABLE if k]
    base = [(p, dist(m, t, [40, 0, 0, 0])) for p, m, t in keys
            if "roundrobin" not in m]
    patched = [(p, dist(m, t, [10, 10, 10, 10])) for p, m, t in keys]
    if not patched_extra:
        patched = [(p, d) for p, d in patched
                   if d["model"] != "uring_multishot_roundrobin"]

    def log(release, dists):
        return {"release": release, "qemu": {"accel": "tcg", "smp": "4",
                                             "mem": "1024", "host_cpus": "2",
                                             "host_cpu": "Some_CPU"},
                "stress": [], "programs": {
                    prog: {"distributions": [d for p, d in dists if p == prog]}
                    for prog in {k[0] for k in keys}}}
    return {"summary": "10 passed, 0 failed, 2 skipped", "series_id": "s",
            "base_version": "deb linux-source-7.2 7.2.13-1",
            "date": "2026-11-26T00:00:00Z",
            "logs": {"baseline": log("7.2.13", base),
                     "patched": log("7.2.13-rr", patched)}}


class CoverTest(unittest.TestCase):
    def test_table_from_results(self):
        subject, body = posting.render(TEMPLATE, results(), 1)
        self.assertEqual(subject, "epoll: subject")
        self.assertRegex(body, r"\+ EPOLLROUNDROBIN +\(EINVAL\) +\[10 10 10 10\] 1\.00")
        flat = " ".join(body.split())
        self.assertIn("QEMU TCG (emulated CPUs), -smp 4, 1024 MiB", flat)
        self.assertIn("against 7.2.13 (linux-source-7.2 7.2.13-1", flat)
        self.assertNotIn("Changes in", body)
        self.assertTrue(all(len(line) <= 72 for line in body.splitlines()),
                        [line for line in body.splitlines() if len(line) > 72])

    def test_base_named_as_a_reader_finds_it(self):
        for base, want in [
                ("deb linux-source-7.3 7.3~rc7-1~exp1",
                 "against 7.2.13 (linux-source-7.3 7.3~rc7-1~exp1, Debian's"),
                ("git /home/me/linux 0123456789abcdef0123",
                 "against 7.2.13 (commit 0123456789ab)."),
                ("dir /home/me/linux 1a2b", "(a tree without git history, /home/me/linux)")]:
            r = results()
            r["base_version"] = base
            _, body = posting.render(TEMPLATE, r, 1)
            self.assertIn(want, " ".join(body.split()))

    def test_patched_result_missing_is_refused(self):
        with self.assertRaisesRegex(posting.Refusal, "uring_multishot_roundrobin"):
            posting.render(TEMPLATE, results(patched_extra=False), 1)

    def test_changes_for_v2(self):
        _, body = posting.render(TEMPLATE, results(), 2, "- fixed a thing\n")
        self.assertIn("Changes in v2\n-------------\n\n- fixed a thing", body)

    def test_unknown_template_field_is_refused(self):
        with self.assertRaisesRegex(posting.Refusal, "@NOPE@"):
            posting.render(TEMPLATE + "@NOPE@\n", results(), 1)


class RunTest(unittest.TestCase):
    def test_passing_run_of_this_series(self):
        posting.check_run(results(), "s", "deb linux-source-7.2 7.2.13-1")

    def test_refusals(self):
        r = results()
        del r["logs"]["baseline"]
        for bad, args, why in [
                (dict(results(), summary="1 passed, 1 failed, 0 skipped"),
                 ("s", "deb linux-source-7.2 7.2.13-1"), "failed"),
                (results(), ("t", "deb linux-source-7.2 7.2.13-1"),
                 "another version of the series"),
                (results(), ("s", "deb linux-source-7.2 7.2.14-1"),
                 "another base tree"),
                (r, ("s", "deb linux-source-7.2 7.2.13-1"), "no baseline")]:
            with self.assertRaisesRegex(posting.Refusal, why):
                posting.check_run(bad, *args)


MAIL = """\
From: A Person <a@example.org>
To: M <m@example.org>
Subject: [PATCH 1/1] x: y
Date: Thu, 26 Nov 2026 00:00:00 +0000
Message-Id: <1@example.org>

Why.

Assisted-by: Claude:claude-opus-4-5
Signed-off-by: A Person <a@example.org>
---
 x | 1 +
"""


class MailTest(unittest.TestCase):
    def check(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".patch") as f:
            f.write(text)
            f.flush()
            posting.check_mail([f.name], "A Person <a@example.org>")

    def test_good_mail(self):
        self.check(MAIL)

    def test_sign_off_must_be_last_and_the_submitters(self):
        with self.assertRaisesRegex(posting.Refusal, "last trailer"):
            self.check(MAIL.replace("Signed-off-by: A Person", "Signed-off-by: B"))
        with self.assertRaisesRegex(posting.Refusal, "no Assisted-by"):
            self.check(MAIL.replace("Assisted-by: Claude:claude-opus-4-5\n", ""))

    def test_headers_and_numbering(self):
        with self.assertRaisesRegex(posting.Refusal, "no Message-ID"):
            self.check(MAIL.replace("Message-Id: <1@example.org>\n", ""))
        with self.assertRaisesRegex(posting.Refusal, "numbering"):
            self.check(MAIL.replace("[PATCH 1/1]", "[PATCH 2/2]"))


if __name__ == "__main__":
    unittest.main()
