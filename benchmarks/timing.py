"""Timing and machine facts shared by the benchmark families."""

import os
import platform
import time

import numpy as np

__all__ = ["interleaved_times", "interleaved_medians", "interleaved_min_median", "machine_info",
           "median_seconds", "sgemm_call", "sgemm_rate"]


def median_seconds(fn, min_time=0.3, min_runs=7, max_runs=2000, warmup=3):
    """Median wall time of ``fn()`` over as many runs as fit in ``min_time`` seconds (at least
    ``min_runs``, at most ``max_runs``), after ``warmup`` untimed calls (compilation, caches).
    """
    for _ in range(warmup):
        fn()
    times, start = [], time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs
                                      or time.perf_counter() - start < min_time):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def interleaved_times(contenders, total_time=1.0, rounds=6, warmup=3, settle=0.15):
    """Seconds of every timed call of each contender, measured side by side:
    ``{name: [seconds, ...]}``.

    ``contenders``: {name: fn} or {name: (setup, fn)}; ``setup()`` runs untimed before each
    of the contender's bursts (e.g. to select its backend). The contenders take turns in
    ``rounds`` short bursts, so a burst of load from elsewhere on a shared machine lands on all
    of them rather than on whichever happened to be running. Each burst starts with
    ``settle`` seconds of untimed calls: after a BLAS call an OpenBLAS thread busy-waits for
    about 0.1 s (and Numba's and PyTorch's OpenMP threads for a while after theirs), and a
    contender timed meanwhile would be measured fighting the previous one's threads for the
    cores. (Sleeping instead lets the clock drop and the thread pools fall asleep, which
    slows the first calls of the burst: the warm-up is done with the contender's own work.)
    """
    pairs = {name: c if isinstance(c, tuple) else (None, c) for name, c in contenders.items()}
    for setup, fn in pairs.values():
        if setup:
            setup()
        for _ in range(warmup):
            fn()
    times = {name: [] for name in pairs}
    burst = total_time / rounds / len(pairs)
    clock = time.perf_counter
    for _ in range(rounds):
        for name, (setup, fn) in pairs.items():
            if setup:
                setup()
            start = clock()
            while clock() - start < settle:
                fn()
            record, start = times[name].append, clock()
            while True:
                t0 = clock()
                fn()
                t1 = clock()
                record(t1 - t0)
                if t1 - start >= burst:
                    break
    return times


def interleaved_medians(contenders, **options):
    """Median seconds per call of each contender (``interleaved_times`` takes ``options``)."""
    return {name: float(np.median(t))
            for name, t in interleaved_times(contenders, **options).items()}


def interleaved_min_median(contenders, **options):
    """``{name: (min, median)}`` seconds per call of each contender (see
    ``interleaved_times``)."""
    return {name: (float(np.min(t)), float(np.median(t)))
            for name, t in interleaved_times(contenders, **options).items()}


def sgemm_call(n, rng):
    """A no-argument call of numpy's float32 matmul of two ``n``-square matrices drawn from
    ``rng``, into a preallocated output: the product sgemm rates are measured on."""
    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    out = np.empty((n, n), np.float32)
    return lambda: np.matmul(a, b, out=out)


def sgemm_rate(sizes=(1024, 2048)):
    """numpy's float32 matmul rate in GFLOP/s (the best over ``sizes``): the machine's sgemm."""
    rng = np.random.default_rng(0)
    best = 0.0
    for n in sizes:
        seconds = median_seconds(sgemm_call(n, rng), min_time=1.0, min_runs=5)
        best = max(best, 2 * n ** 3 / seconds / 1e9)
    return best


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _nominal_ghz():
    try:
        with open("/proc/cpuinfo") as f:
            mhz = [float(line.split(":")[1]) for line in f if line.startswith("cpu MHz")]
        return max(mhz) / 1000 if mhz else None
    except (OSError, ValueError):
        return None


def machine_info():
    """CPU, core count, load, library versions and the BLAS-related environment."""
    import numba

    info = {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "nominal_ghz": _nominal_ghz(),
        "load_average": os.getloadavg(), "python": platform.python_version(),
        "numpy": np.__version__, "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                               "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                               "NUMBA_NUM_THREADS")},
    }
    try:
        info["blas"] = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except (TypeError, KeyError):
        info["blas"] = "unknown"
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        info["torch"] = None
    return info
