"""Compile every kernel of the catalog to PTX, the check to run before taking the code to a new
GPU (or, in CI, to a machine that has none): ``python -m tinygrad_edu.kernels.cuda --cc 9.0``.

Compilation needs numba-cuda's NVVM (the ``[cuda]`` extra's toolkit wheels), not a GPU or a
driver, and cannot run under the simulator. Each float32 kernel is also checked to contain no
float64 instruction (a Python float promoting its arithmetic).
"""

import multiprocessing
import time
from dataclasses import dataclass

import numpy as np

from . import backend  # noqa: F401  (importing the backend registers every kernel)
from .catalog import CATALOG, compile_ptx, float64_instructions, key_label
from .runtime import SIMULATED

__all__ = ["Result", "all_cases", "check"]

_FLOAT32 = np.dtype(np.float32)


@dataclass(frozen=True)
class Result:
    """The outcome of compiling one kernel for one dtype key at one compute capability."""

    kernel: str
    key: str
    cc: tuple
    seconds: float
    ptx_lines: int = 0
    error: str = ""

    @property
    def ok(self):
        return not self.error

    def __str__(self):
        head = (f"{'ok  ' if self.ok else 'FAIL'} {self.kernel:20s} {self.key:17s} "
                f"cc {self.cc[0]}.{self.cc[1]}  {self.seconds:5.2f} s")
        return f"{head}  {self.ptx_lines} PTX lines" if self.ok else f"{head}  {self.error}"


def all_cases(names=None):
    """``(kernel name, key)`` for every kernel (or those in ``names``) and its dtype keys."""
    return [(name, key) for name, k in CATALOG.items() if names is None or name in names
            for key in k.keys]


def _compile_one(case):
    name, key, cc = case
    start = time.perf_counter()
    try:
        ptx = compile_ptx(name, key, cc)
    except Exception as exc:  # noqa: BLE001 - every failure is reported, never hidden
        return Result(name, key_label(key), cc, time.perf_counter() - start,
                      error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
    seconds = time.perf_counter() - start
    uses_float32 = key == _FLOAT32 or (isinstance(key, tuple) and _FLOAT32 in key
                                       and np.dtype(np.float64) not in key)
    promoted = float64_instructions(ptx) if uses_float32 else []
    error = (f"{len(promoted)} float64 instruction(s) in a float32 kernel, first: "
             f"{promoted[0]}" if promoted else "")
    return Result(name, key_label(key), cc, seconds, len(ptx.splitlines()), error)


def check(ccs, names=None, jobs=1, report=None):
    """Compile ``names`` (default: every kernel) for every dtype key at each compute capability
    in ``ccs``, in ``jobs`` processes; return the ``Result`` list, calling ``report(result)``
    as each one arrives."""
    if SIMULATED:
        raise RuntimeError("the kernels cannot be compiled to PTX under the CUDA simulator: "
                           "unset NUMBA_ENABLE_CUDASIM")
    cases = [(name, key, tuple(cc)) for cc in ccs for name, key in all_cases(names)]
    results = []
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        # fork: the workers inherit the imported kernels instead of importing numba again.
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            for result in pool.imap(_compile_one, cases):
                results.append(result)
                if report:
                    report(result)
    else:
        for case in cases:
            results.append(_compile_one(case))
            if report:
                report(results[-1])
    return results
