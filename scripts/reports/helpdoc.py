# SPDX-License-Identifier: GPL-2.0-only
"""-h and --help of the Python scripts without an argument parser (the
report's modules, the unit tests): print the script's header, its
docstring, and exit 0, before anything runs."""

import sys


def on_help(doc):
    """Print doc and exit 0 if the only argument is -h or --help."""
    if sys.argv[1:] in (["-h"], ["--help"]):
        print(doc.strip())
        sys.exit(0)
