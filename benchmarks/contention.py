"""Contention: the batch-256 ranking-MLP training step on a quiet machine and next to a busy
process that this benchmark starts and stops itself.

The competitor is a separate process spinning a Python loop (one core's worth of work, what
another user's job or a second training run does to a 2-core machine), either left to the
scheduler or pinned to the last CPU. In each phase (quiet, busy, busy pinned) the contenders
take turns in short bursts as in ``timing.interleaved_medians``; every call is timed, and the
table shows each contender's minimum and median per phase and its busy/quiet ratio of medians.

Contenders: the hand-written numpy MLP, PyTorch eager, and the engine on the Numba backend with
``threads = "auto"`` (the default: BLAS's count chosen by timing where a probe shows the BLAS
gives the same bits on one thread and on all, else BLAS's own count; ``kernels/cpu/threads.py``),
``"adaptive"`` (BLAS's count chosen by timing, unchecked), the benchmark's thread count (BLAS
on all cores: what ``"auto"`` does on a BLAS whose bits depend on its count, and did everywhere
before it probed) and 1.

    python -m benchmarks.contention [--quick]
"""

import argparse
import multiprocessing
import os
import time

import numpy as np

from .families import _engine_step
from .ranking import RANKING
from .torch_mlp import torch_train_step, torch_with_threads
from .numpy_mlp import NumpyMLP
from .timing import interleaved_times

__all__ = ["contention_family", "PHASES"]

PHASES = ("quiet", "busy", "busy_pinned")


def _spin(stop, cpu):
    """The competitor: a pure Python busy loop until ``stop`` is set."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    n = 0
    while not stop.is_set():
        for _ in range(10000):
            n += 1


class Competitor:
    """A busy process for the duration of a ``with`` block (pinned to ``cpu`` if given)."""

    def __init__(self, cpu=None):
        self.cpu = cpu
        self._ctx = multiprocessing.get_context("spawn")   # no fork of BLAS threads

    def __enter__(self):
        self._stop = self._ctx.Event()
        self._proc = self._ctx.Process(target=_spin, args=(self._stop, self.cpu), daemon=True)
        self._proc.start()
        time.sleep(0.3)   # started and spinning
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join()


def _contenders(batch, threads):
    from tinygrad_edu import set_backend

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, RANKING[0])).astype(np.float32)
    y = rng.standard_normal((batch, 1)).astype(np.float32)
    hand = NumpyMLP(RANKING)

    def engine(count):
        def setup():
            set_backend("numba").threads = count
        return setup, _engine_step(batch)

    def blas_default():   # "auto" puts BLAS back on its own count: all cores
        set_backend("numba").threads = "auto"

    contenders = {"hand_numpy": (blas_default, lambda: hand.train_step(x, y, 1e-3)),
                  "ours_auto": engine("auto"), "ours_adaptive": engine("adaptive"),
                  "ours_all_threads": engine(threads), "ours_1_thread": engine(1)}
    torch = torch_with_threads(threads)
    if torch is not None:
        contenders["torch"] = (blas_default, torch_train_step(torch, batch, RANKING))
    return contenders


def contention_family(quick, batch=256, threads=2):
    """One row per contender: ``<phase>_min_us``, ``<phase>_median_us`` for each phase and
    ``<phase>_vs_quiet`` (ratio of medians)."""
    contenders = _contenders(batch, threads)
    for setup, fn in contenders.values():
        setup()
        for _ in range(3):
            fn()
    total = 2.0 if quick else 6.0
    cpus = sorted(os.sched_getaffinity(0))
    phases = {}
    phases["quiet"] = interleaved_times(contenders, total_time=total, warmup=0)
    with Competitor():
        phases["busy"] = interleaved_times(contenders, total_time=total, warmup=0)
    with Competitor(cpu=cpus[-1]):
        phases["busy_pinned"] = interleaved_times(contenders, total_time=total, warmup=0)
    from tinygrad_edu import set_backend
    set_backend("numba").threads = "auto"
    rows = []
    for name in contenders:
        row = {"contender": name}
        for phase, times in phases.items():
            row[f"{phase}_min_us"] = 1e6 * float(np.min(times[name]))
            row[f"{phase}_median_us"] = 1e6 * float(np.median(times[name]))
        for phase in PHASES[1:]:
            row[f"{phase}_vs_quiet"] = row[f"{phase}_median_us"] / row["quiet_median_us"]
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}")
    for row in contention_family(args.quick):
        print(row["contender"], {k: round(v, 2) for k, v in row.items() if k != "contender"})
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
