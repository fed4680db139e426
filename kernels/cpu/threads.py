"""How many threads each matrix product gets, chosen so that a busy machine does not stall it.

OpenBLAS splits a product over its threads and each waits for the others at the end; an idle
worker then busy-waits for about 0.1 s before it sleeps. With every core taken by someone, a
worker that loses its core holds the whole product up for a scheduler time slice (a few ms for
a product worth 0.1 ms), and the spinning workers take cores from the caller's own Python.
On a 2-core machine next to one busy process, the ranking MLP's batch-256 step ran several
times slower with two BLAS threads, while one thread kept close to its quiet speed.

So no fixed count is right: two threads win on a quiet machine, one on a busy one. ``Chooser``
picks per product shape, by measurement: one call in ``SAMPLE`` of a shape is timed (two clock
reads; the calls between reuse its choice and cost a dictionary lookup); every few seconds a
shape runs a few calls with the other count, each timed, and keeps whichever was faster. When
a shape on all threads turns clearly slower than its recent best (the machine got busy), one
thread is tried at once. Trying all threads on a busy machine is what costs (a slow call, then
the woken workers spinning for 0.1 s), so such a trial stops at its first clearly slower call,
a shape that keeps its count waits twice as long for its next trial (up to ``MAX_PERIOD_S``),
and a lost trial of all threads holds back every shape's trial of them for as long: the
machine is busy for all shapes alike.

The count is set through OpenBLAS's own ``openblas_set_num_threads``, found once with
threadpoolctl (whose context manager costs tens of microseconds per use), and only when it
changes. The tiled Numba kernel is chosen the same way (serial or parallel).

One catch decides what the default may do with BLAS: a BLAS may round differently on one thread
and on two (OpenBLAS's Zen kernels did on every shape tried, its SkylakeX kernels on none), and
then switching its count by timing makes two runs with the same seed differ in the last
bits. Whether it does is a property of the machine's BLAS kernel, so the default checks it:
the first time it sees a BLAS product shape (sizes, strides, dtype) it computes that product on
random numbers of the same layout (a fixed seed; never the caller's data, which may be all
zeros) once on one thread and once on all, compares the bits, and sets the count back to what
it was. The tiled Numba kernel computes every element in the same order on any number of
threads. Hence the settings:

- ``"auto"`` (default): the tiled kernel's threads chosen by timing; BLAS's too while every
  shape probed so far gave the same bits on one thread and on all. Once one shape differs,
  BLAS goes back to its own count (all cores) for good in this process: a BLAS whose rounding
  depends on its count for one shape may for others, including products this chooser never
  sees (the caller's own numpy code), which run on whatever count the last product left;
- ``"adaptive"``: BLAS's count chosen by timing without the check: robust next to a busy
  process even where that costs bitwise reproducibility between runs;
- a number: that many threads for every product (``1`` is reproducible and robust, and slower
  on a quiet machine for products large enough to split).

``TINYGRAD_EDU_THREADS=auto`` (or ``adaptive``, or a number) sets it for a process, and
``NumbaBackend.threads`` at run time. The BLAS thread pool is process-wide, so this is a
process-wide setting, and after a product OpenBLAS keeps the count that product used.
Products OpenBLAS splits although they are below ``MIN_FLOPS`` (it splits a matrix-vector
product from 9216 elements) run on whatever count is set; in ``"auto"``, while the
chooser has moved the count off BLAS's own, they are probed too (one that differs sends BLAS
back to its own count like any other).
"""

import os
import time

import numpy as np

try:   # a dependency (setup.cfg); without it the BLAS keeps its own thread count
    from threadpoolctl import ThreadpoolController
except ImportError:
    ThreadpoolController = None

from ...errors import ArgumentError

__all__ = ["Chooser", "CHOOSER", "MODES", "parse_threads", "MIN_FLOPS", "MAX_PERIOD_S", "SAMPLE"]

MIN_FLOPS = 1 << 20     # smaller products are not timed: OpenBLAS runs most on one thread
FIRST_PERIOD_S = 0.5    # a shape's first trial of the other count, and after each switch
MAX_PERIOD_S = 8.0      # the longest wait between trials
TRIAL_CALLS = 3         # calls per trial; their median is compared
WINDOW = 5              # recent calls of the current count; their median is compared
MARGIN = 0.9            # the other count must take under 90% of the time to win
SLOWDOWN = 1.5          # recent median this much above the best: try the other count now
MAX_SHAPES = 256        # distinct shapes remembered (a training loop has a handful)
SAMPLE = 4              # one call in SAMPLE of a settled shape is timed and looks at the clock
PROBE_SEED = 20261202   # the probes' random numbers: the same in every process


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


def _blas_controls():
    """``(set_num_threads, get_num_threads, max_threads)`` for numpy's BLAS, or
    ``(None, None, 1)`` if unknown."""
    if ThreadpoolController is None:
        return None, None, 1
    for lib in ThreadpoolController().select(user_api="blas").lib_controllers:
        setter = getter = None
        get_symbol = getattr(lib, "_get_symbol", None)
        if lib.internal_api == "openblas" and getattr(lib, "threading_layer", "") == "pthreads" \
                and get_symbol is not None:
            # The C functions themselves: threadpoolctl's wrapper adds a thread-ownership check.
            setter = get_symbol("openblas_set_num_threads")
            getter = get_symbol("openblas_get_num_threads")
        return (setter or lib.set_num_threads, getter or lib.get_num_threads,
                max(1, lib.num_threads or 1))
    return None, None, 1


def _random_like(x, rng):
    """Random normal numbers laid out as ``x`` (shape, strides, float32 or float64 dtype), so
    that numpy hands BLAS the same layout; ``x``'s values are never read."""
    item = x.dtype.itemsize
    if any(stride % item for stride in x.strides):   # unaligned: numpy's own loop, not BLAS
        return rng.standard_normal(x.shape, dtype=x.dtype)
    spans = [max(size - 1, 0) * stride // item for size, stride in zip(x.shape, x.strides)]
    low = sum(span for span in spans if span < 0)
    base = rng.standard_normal(sum(abs(span) for span in spans) + 1, dtype=x.dtype)
    return np.lib.stride_tricks.as_strided(base[-low:], x.shape, x.strides, writeable=False)


class _Shape:
    """Timings of one product shape: which count it uses and when it next tries the other."""

    __slots__ = ("choice", "recent", "best", "trial", "trial_times", "next_trial", "period",
                 "skip")

    def __init__(self, choice, now):
        self.choice = choice
        self.skip = 0             # calls left that reuse ``choice`` untimed (see ``pick``)
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

    ``pick(kind, key, flops, operands)`` returns the threads to use for one product and
    whether to time it, and ``record`` reports how long a timed one took; ``kind`` is
    ``"blas"`` or ``"numba"``; ``count`` is the decision itself, made on every call that
    ``pick`` does not skip. ``limit``: ``"auto"``, ``"adaptive"`` or a fixed count.
    ``max_threads``: the larger option (the BLAS's own count by default). ``setter`` and
    ``getter`` stand for the BLAS's ``set_num_threads`` and ``get_num_threads`` (both found
    when ``setter`` is None), ``product`` for ``np.matmul`` and ``clock`` for
    ``time.monotonic``.
    """

    def __init__(self, limit="auto", max_threads=None, setter=None, getter=None,
                 product=np.matmul, clock=time.monotonic):
        self._setter = setter
        self._getter = getter
        self._product = product
        self.max_threads = max_threads
        self._clock = clock
        self._shapes = {}
        self._probed = set()      # BLAS shape keys probed in "auto"
        self.blas_varies = None   # whether a probed BLAS shape gave other bits on other counts
        self._current = None      # the BLAS count last set, None if never (or given back)
        self.probes_small = False  # whether _blas must pass products below MIN_FLOPS here too
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
        if self._limit == "auto":
            self._give_back()
        self._set(self._current)
        self._resync()

    def _resync(self):
        """Send every shape's next call through ``count``: a shape's choice may no longer be
        what the setting gives (a fixed count now, or BLAS back on its own count)."""
        for shape in self._shapes.values():
            shape.skip = 0

    def _find(self):
        self._found = True
        self._setter, self._getter, count = _blas_controls()
        if self.max_threads is None:
            self.max_threads = count

    def _set(self, count):
        """Record that BLAS runs on ``count`` threads now (None: on its own count)."""
        self._current = count
        # Products OpenBLAS splits below MIN_FLOPS would run on a moved count unchecked.
        self.probes_small = self._limit == "auto" and count not in (None, self.max_threads)

    def _give_back(self):
        """BLAS back on its own count, if this chooser had moved it."""
        if self._current not in (None, self.max_threads):
            self._setter(self.max_threads)
        self._set(None)

    def adapts(self, kind):
        """Whether products of ``kind`` ("blas" or "numba") get their thread count by timing,
        so that ``record`` has something to learn from."""
        return self.limit in MODES and not (
            self.limit == "auto" and kind == "blas" and self.blas_varies)

    def _same_bits(self, key, operands):
        """Whether, as far as the probes tell, BLAS gives the same bits on any count for
        products like ``operands`` (shape ``key``); probes ``key`` the first time."""
        if self.blas_varies or key in self._probed:
            return not self.blas_varies
        rng = np.random.default_rng(PROBE_SEED)
        a, b = (_random_like(x, rng) for x in operands)
        before = self._getter()
        try:
            self._setter(1)
            one = self._product(a, b)
            self._setter(self.max_threads)
            every = self._product(a, b)
        finally:
            self._setter(before)
        if len(self._probed) >= MAX_SHAPES:
            self._probed.clear()
        self._probed.add(key)
        self.blas_varies = one.tobytes() != every.tobytes()
        if self.blas_varies:
            self._give_back()
            self._resync()
        return not self.blas_varies

    def pick(self, kind, key, flops, operands=None):
        """``(threads, timed)`` for the next product of this ``kind`` and shape ``key``: the
        threads ``count`` gives, and whether to time the product and ``record`` the time. A
        settled shape reuses its choice for ``SAMPLE - 1`` calls after each timed one, without
        reading the clock: the per-call cost is what a small layer's product notices. Trials
        time every call."""
        shape = self._shapes.get((kind, key))
        if shape is not None and shape.skip:
            shape.skip -= 1
            if kind == "blas" and shape.choice != self._current and self._setter is not None:
                # another shape moved BLAS's count since
                self._setter(shape.choice)
                self._set(shape.choice)
            return shape.choice, False
        threads = self.count(kind, key, flops, operands)
        return threads, flops >= MIN_FLOPS and self.adapts(kind)

    def count(self, kind, key, flops, operands=None):
        """Threads for the next product of this ``kind`` and shape ``key``; ``operands``:
        the BLAS product's ``(a, b)`` (only their layout is used, to probe a new shape in
        ``"auto"``)."""
        if not self._found:
            self._find()
        top = self.max_threads or 1
        if self.limit not in MODES:
            wanted = min(self.limit, top) if kind == "blas" else self.limit
        elif kind == "blas" and self.limit == "auto" and top > 1 \
                and not self._same_bits(key, operands):
            return top      # BLAS on its own count (see the module docstring)
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
            self._set(wanted)
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
        shape.skip = SAMPLE - 1
        shape.recent.append(ns)
        if len(shape.recent) > WINDOW:
            del shape.recent[0]
        if len(shape.recent) == WINDOW:
            median = _median(shape.recent)
            if shape.best is None or median < shape.best:
                shape.best = median
            elif median > SLOWDOWN * shape.best and shape.choice > 1 and shape.trial is None:
                shape.next_trial = self._clock()   # slower than it was: try one thread now
                shape.skip = 0

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
