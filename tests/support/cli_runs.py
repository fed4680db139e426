"""Running the ``tinygrad-edu`` command line in-process with its output captured, and the
demo's tiny settings (what tests/apps and tests/examples share)."""

import contextlib
import io

from tinygrad_edu.apps.cli import main

TINY = ["--users", "40", "--epochs", "2", "--batch-size", "64", "--seed", "3"]


def run_cli(argv):
    """``(exit code, stdout, stderr)`` of ``main(argv)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()
