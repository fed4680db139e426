"""Seconds this process has spent compiling Numba kernels, from Numba's event API.

Numba broadcasts a ``"numba:compile"`` event around every compilation (not around a load from
the on-disk cache). A compilation nests the compilations of the functions it calls, so only
the outermost one on each thread is counted. ``activations.py``, which every kernel module
imports, imports this module first, so the listener is in place before any kernel compiles.
``kernels.cpu.compile_seconds()`` reads it without loading Numba when no kernel has run.
"""

import threading
import time

from numba.core import event

__all__ = ["seconds"]


class _CompileClock(event.Listener):
    """Adds up the wall time of the outermost ``numba:compile`` events, per thread."""

    def __init__(self):
        self.total = 0.0
        self._local = threading.local()
        self._lock = threading.Lock()

    def on_start(self, ev):
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            self._local.start = time.perf_counter()
        self._local.depth = depth + 1

    def on_end(self, ev):
        self._local.depth -= 1
        if self._local.depth == 0:
            elapsed = time.perf_counter() - self._local.start
            with self._lock:
                self.total += elapsed


_CLOCK = _CompileClock()
event.register("numba:compile", _CLOCK)


def seconds():
    """Seconds spent compiling Numba kernels (CPU and CUDA) in this process so far."""
    return _CLOCK.total
