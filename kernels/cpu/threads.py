"""How many threads each matrix product gets, chosen so that a busy machine does not stall it.

OpenBLAS splits a product over its threads and each waits for the others at the end; an idle
worker then busy-waits for about 0.1 s before it sleeps. With every core taken by someone, a
worker that loses its core holds the whole product up for a scheduler time slice (a few ms for
a product worth 0.1 ms), and the spinning workers take cores from the caller's own Python.
On a 2-core machine next to one busy process, the ranking MLP's batch-256 step ran several
times slower with two BLAS threads, while one thread kept close to its quiet speed.

So no fixed count is right: two threads win on a quiet machine, one on a busy one. ``Chooser``
picks per product shape, by measurement: each product is timed (two clock reads); every few
seconds a shape runs a few calls with the other count, and keeps whichever was faster. When
a shape on all threads turns clearly slower than its recent best (the machine got busy), one
thread is tried at once. Trying all threads on a busy machine is what costs (a slow call, then
the woken workers spinning for 0.1 s), so such a trial stops at its first clearly slower call,
a shape that keeps its count waits twice as long for its next trial (up to ``MAX_PERIOD_S``),
and a lost trial of all threads holds back every shape's trial of them for as long: the
machine is busy for all shapes alike.

The count is set through OpenBLAS's own ``openblas_set_num_threads``, found once with
threadpoolctl (whose context manager costs tens of microseconds per use), and only when it
changes. The tiled Numba kernel is chosen the same way (serial or parallel).

One catch decides the default: OpenBLAS rounds differently on one thread and on two (its
single-threaded path takes other kernels), so switching BLAS counts by timing makes two runs
with the same seed differ in the last bits. The tiled Numba kernel computes every element in
the same order on any number of threads. Hence the settings:

- ``"auto"`` (default): the tiled kernel's threads chosen by timing; BLAS keeps its own count
  (all cores), so runs are reproducible;
- ``"adaptive"``: BLAS's count chosen by timing too: robust next to a busy process, at the cost
  of bitwise reproducibility between runs;
- a number: that many threads for every product (``1`` is reproducible and robust, and slower
  on a quiet machine for products large enough to split).

``TINYGRAD_EDU_THREADS=adaptive`` (or ``auto``, or a number) sets it for a process, and
``NumbaBackend.threads`` at run time. The BLAS thread pool is process-wide, so this is a
process-wide setting, and after a product OpenBLAS keeps the count that product used.
"""

import os
import time

try:   # a dependency (setup.cfg); without it the BLAS keeps its own thread count
    from threadpoolctl import ThreadpoolController
except ImportError:
    ThreadpoolController = None

from ...errors import ArgumentError

__all__ = ["Chooser", "CHOOSER", "MODES", "parse_threads", "MIN_FLOPS", "MAX_PERIOD_S"]

MIN_FLOPS = 1 << 20     # smaller products: OpenBLAS runs them on the calling thread anyway
FIRST_PERIOD_S = 0.5    # a shape's first trial of the other count, and after each switch
MAX_PERIOD_S = 8.0      # the longest wait between trials
TRIAL_CALLS = 3         # calls per trial; their median is compared
WINDOW = 5              # recent calls of the current count; their median is compared
MARGIN = 0.9            # the other count must take under 90% of the time to win
SLOWDOWN = 1.5          # recent median this much above the best: try the other count now
MAX_SHAPES = 256        # distinct shapes remembered (a training loop has a handful)


MODES = ("auto", "adaptive")


def parse_threads(value, what="threads"):
    """``"auto"``, ``"adaptive"`` or a positive int from ``value`` (an int or a string such as
    ``"2"``); ArgumentError otherwise."""
    if isinstance(value, str) and value in MODES:
        return value
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if isinstance(value, bool) or count < 1:
        raise ArgumentError(f"{what} must be 'auto', 'adaptive' or a positive number of "
                            f"threads, got {value!r}")
    return count


def _blas_setter():
    """``(set_num_threads, max_threads)`` for numpy's BLAS, or ``(None, 1)`` if unknown."""
    if ThreadpoolController is None:
        return None, 1
    for lib in ThreadpoolController().select(user_api="blas").lib_controllers:
        setter = None
        get_symbol = getattr(lib, "_get_symbol", None)
        if lib.internal_api == "openblas" and getattr(lib, "threading_layer", "") == "pthreads" \
                and get_symbol is not None:
            # The C function itself: threadpoolctl's wrapper adds a thread-ownership check.
            setter = get_symbol("openblas_set_num_threads")
        return setter or lib.set_num_threads, max(1, lib.num_threads or 1)
    return None, 1


class _Shape:
    """Timings of one product shape: which count it uses and when it next tries the other."""

    __slots__ = ("choice", "recent", "best", "trial", "trial_times", "next_trial", "period")

    def __init__(self, choice, now):
        self.choice = choice
        self.recent = []          # ns of the latest calls with ``choice``
        self.best = None          # the fastest median seen for ``choice``
        self.trial = None         # the count under trial, or None
        self.trial_times = []
        self.period = FIRST_PERIOD_S
        self.next_trial = now + FIRST_PERIOD_S


def _median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


class Chooser:
    """Chooses 1 or ``max_threads`` per product shape (see the module docstring).

    ``count(kind, key, flops)`` returns the threads to use for one product and ``record``
    reports how long it took; ``kind`` is ``"blas"`` or ``"numba"``. ``limit``: ``"auto"``,
    ``"adaptive"`` or a fixed count. ``max_threads``: the larger option (the BLAS's own count by default).
    """

    def __init__(self, limit="auto", max_threads=None, setter=None, clock=time.monotonic):
        self._setter = setter
        self.max_threads = max_threads
        self._clock = clock
        self._shapes = {}
        self._current = None      # the BLAS count last set, None if never
        self._found = setter is not None
        self._hold_until = 0.0    # no trial of more than one thread before this time
        self.limit = limit

    @property
    def limit(self):
        """``"auto"``, ``"adaptive"`` or a fixed count; ``"auto"`` gives BLAS its own count
        back if this chooser had changed it."""
        return self._limit

    @limit.setter
    def limit(self, value):
        self._limit = parse_threads(value)
        if self._limit == "auto" and self._current not in (None, self.max_threads):
            self._setter(self.max_threads)
            self._current = None

    def _find(self):
        self._found = True
        setter, count = _blas_setter()
        self._setter = setter
        if self.max_threads is None:
            self.max_threads = count

    def adapts(self, kind):
        """Whether products of ``kind`` ("blas" or "numba") get their thread count by timing,
        so that ``record`` has something to learn from."""
        return self.limit in MODES and not (self.limit == "auto" and kind == "blas")

    def count(self, kind, key, flops):
        """Threads for the next product of this ``kind`` and shape ``key``."""
        if not self._found:
            self._find()
        top = self.max_threads or 1
        if self.limit == "auto" and kind == "blas":
            return top      # BLAS left on its own count (see the module docstring)
        if self.limit not in MODES:
            wanted = min(self.limit, top) if kind == "blas" else self.limit
        elif flops < MIN_FLOPS or top == 1:
            return 1 if kind == "numba" else self._current or top
        else:
            shape = self._shapes.get((kind, key))
            now = self._clock()
            if shape is None:
                if len(self._shapes) >= MAX_SHAPES:
                    self._shapes.clear()
                shape = self._shapes[kind, key] = _Shape(top, now)
            if shape.trial is None and now >= shape.next_trial and (
                    shape.choice != 1 or now >= self._hold_until):
                shape.trial = 1 if shape.choice != 1 else top
                shape.trial_times = []
            wanted = shape.choice if shape.trial is None else shape.trial
        if kind == "blas" and wanted != self._current and self._setter is not None:
            self._setter(wanted)
            self._current = wanted
        return wanted

    def record(self, kind, key, threads, ns):
        """Report that the product ``key`` took ``ns`` nanoseconds on ``threads`` threads."""
        shape = self._shapes.get((kind, key))
        if shape is None or self.limit not in MODES:
            return
        if shape.trial is not None and threads == shape.trial:
            shape.trial_times.append(ns)
            # The first call on more threads also wakes the sleeping workers: not counted.
            counted = shape.trial_times[1:] if threads > 1 else shape.trial_times
            lost = counted and shape.recent and threads > 1 and ns > 2 * _median(shape.recent)
            if lost or len(counted) >= TRIAL_CALLS:
                self._decide(shape, counted)
            return
        if threads != shape.choice:
            return
        shape.recent.append(ns)
        if len(shape.recent) > WINDOW:
            del shape.recent[0]
        if len(shape.recent) == WINDOW:
            median = _median(shape.recent)
            if shape.best is None or median < shape.best:
                shape.best = median
            elif median > SLOWDOWN * shape.best and shape.choice > 1 and shape.trial is None:
                shape.next_trial = self._clock()   # slower than it was: try one thread now

    def _decide(self, shape, counted):
        tried = _median(counted)
        current = _median(shape.recent) if shape.recent else None
        if current is None or tried < MARGIN * current:
            shape.choice, shape.period = shape.trial, FIRST_PERIOD_S
            shape.recent, shape.best = [], None
        else:
            shape.period = min(2 * shape.period, MAX_PERIOD_S)
            if shape.trial > 1:
                self._hold_until = max(self._hold_until, self._clock() + shape.period)
        shape.trial = None
        shape.next_trial = self._clock() + shape.period

    def choices(self):
        """``{(kind, key): threads}`` chosen so far (for tests and the benchmarks)."""
        return {k: s.choice for k, s in self._shapes.items()}


CHOOSER = Chooser(parse_threads(os.environ.get("TINYGRAD_EDU_THREADS", "auto"),
                                "TINYGRAD_EDU_THREADS"))
