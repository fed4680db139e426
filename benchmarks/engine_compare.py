"""Before/after: the installed tinygrad_edu (the current tree) against a baseline checkout,
timed side by side in one run. ``python -m benchmarks.run --only engine --baseline DIR`` calls
``compare_trees`` and prints its rows.

Two trees cannot be imported in one process (both are called tinygrad_edu), so each runs in
its own long-lived ``engine_worker.py`` process, and this controller has them take turns in
short bursts, the way ``timing.interleaved_medians`` does in one process: a burst of load from
elsewhere on a shared machine then lands on both trees rather than on whichever happened to be
running. Each tree's minimum and median are over all its timed calls; the minimum is the
steadier figure on a busy machine, the median the more typical one.
"""

import json
import os
import subprocess
import sys

import numpy as np

__all__ = ["CASES", "check_tree", "compare_trees"]

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "engine_worker.py")

# (worker case, row label) of the rows of the table.
CASES = (("train:1", "train step, batch 1"), ("train:32", "train step, batch 32"),
         ("train:256", "train step, batch 256"), ("fused:1", "fused inference, batch 1"))


def check_tree(path):
    """``path`` as an absolute path; ValueError unless it is a checkout with a tinygrad_edu
    package (``<path>/tinygrad_edu/__init__.py``)."""
    root = os.path.realpath(path)
    if not os.path.isfile(os.path.join(root, "tinygrad_edu", "__init__.py")):
        raise ValueError(f"baseline {path!r} has no tinygrad_edu/__init__.py: give the root of "
                         "a tinygrad_edu checkout (the folder holding tinygrad_edu/ and kernels/)")
    return root


class Worker:
    """An ``engine_worker.py`` process for one tree, asked one JSON line at a time."""

    def __init__(self, label, args):
        self.label = label
        # The worker is run as a script, so its sys.path starts with benchmarks/, which holds
        # no tinygrad_edu; the working directory is not searched.
        self.proc = subprocess.Popen([sys.executable, WORKER, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1,
                                     cwd=os.path.dirname(WORKER))

    def ask(self, op, **fields):
        """Send one request and return the worker's reply; RuntimeError if it failed."""
        try:
            self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass            # it has exited: reported below
        line = self.proc.stdout.readline()
        if not line:
            status = self.proc.wait()
            raise RuntimeError(f"the {self.label} worker exited (status {status}) before "
                               f"answering {op!r}; its error is printed above")
        reply = json.loads(line)
        if not reply.pop("ok", False):
            raise RuntimeError(f"the {self.label} worker failed on {op!r} {fields}:\n"
                               f"{reply.get('error')}")
        return reply

    def close(self):
        if self.proc.poll() is None:
            try:
                self.ask("quit")
                self.proc.wait(timeout=10)
            except (RuntimeError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def _stats(ns):
    us = np.asarray(ns, np.float64) / 1e3
    return float(us.min()), float(np.median(us)), len(us)


def compare_trees(baseline, quick=False, cases=CASES, verbose=True):
    """Time ``cases`` in the baseline checkout ("before") and the installed tree ("after").

    Returns ``{"before": origin, "after": origin, "rows": rows}``: each origin says which files
    the worker's tinygrad_edu and its kernels came from; each row holds ``before_min_us``,
    ``before_median_us``, ``after_min_us``, ``after_median_us``, their after/before ratios
    ``min_ratio`` and ``median_ratio`` (below 1: the current tree is faster), the number of
    timed calls and each tree's ``check`` value (the first step's loss or the outputs' sum).
    ``quick`` shortens the bursts. ``verbose`` prints progress to stderr.
    """
    root = check_tree(baseline)
    # Per tree and case: rounds x burst seconds timed, each burst after settle seconds of
    # untimed calls (which outlast the other worker's busy-waiting BLAS and Numba threads).
    rounds, burst, settle = (6, 0.25, 0.15) if quick else (20, 0.3, 0.15)
    workers = {}
    try:
        workers["before"] = Worker("before", ["--tree", root])
        workers["after"] = Worker("after", ["--forbid", root])
        checks = {name: {} for name, _ in cases}
        for name, label in cases:
            for key, w in workers.items():
                reply = w.ask("setup", case=name)
                checks[name][key] = reply["check"]
                if verbose:
                    print(f"  {w.label}: set up {label} in {reply['setup_s']:.1f} s",
                          file=sys.stderr)
        # Asked after the setup, when the kernels have been imported.
        origins = {key: w.ask("origin") for key, w in workers.items()}
        rows = []
        for name, label in cases:
            times = {key: [] for key in workers}
            order = list(workers)
            for r in range(rounds):
                # Alternate who goes first, so neither always follows the other.
                for key in (order if r % 2 == 0 else order[::-1]):
                    times[key] += workers[key].ask("run", case=name, settle=settle,
                                                   time=burst)["ns"]
            row = {"case": label}
            for key in workers:
                row[f"{key}_min_us"], row[f"{key}_median_us"], row[f"{key}_calls"] = \
                    _stats(times[key])
                row[f"{key}_check"] = checks[name][key]
            row["min_ratio"] = row["after_min_us"] / row["before_min_us"]
            row["median_ratio"] = row["after_median_us"] / row["before_median_us"]
            rows.append(row)
            if verbose:
                print(f"  timed {label}", file=sys.stderr)
    finally:
        for w in workers.values():
            w.close()
    return {"before": origins["before"], "after": origins["after"], "rows": rows}
