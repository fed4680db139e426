"""Inference latency of a trained model: the graph path against the fused path.

The graph path is ``model(x)`` under ``no_grad`` (every layer an op of the engine); the fused
path is ``model.compile()``, every layer inside one compiled call. Both are timed the way a
ranking service calls them: scores for a batch of candidates, back on the host as numbers
(``.numpy()``). Each figure is the median of many calls after untimed warm-up calls, so
compiling the kernels is never counted and one slow call (a page fault, another process) does
not move it.
"""

import time

import numpy as np

from ..tensor import Tensor, no_grad

__all__ = ["median_call_us", "inference_latency"]


def median_call_us(fn, calls, warmup):
    """Median wall time of ``fn()`` in microseconds over ``calls`` calls, after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter_ns()
        fn()
        times[i] = time.perf_counter_ns() - start
    return float(np.median(times) / 1000)


def inference_latency(model, features, device="cpu", batch_sizes=(1, 32), calls=300, warmup=20,
                      fused=None):
    """``{"graph": {batch: µs}, "fused": {batch: µs}}`` for the first rows of ``features``.

    ``fused`` is ``model.compile()`` (compiled by the caller, so its compile time stays out of
    the figures) or None to time the graph path only. The fused path runs cheaper calls, so it
    gets three times as many.
    """
    result = {"graph": {}, "fused": {}}
    for batch in batch_sizes:
        rows = np.ascontiguousarray(features[:batch])
        x = Tensor(rows, device=device)

        def graph_call():
            with no_grad():
                return model(x).numpy()

        result["graph"][batch] = median_call_us(graph_call, calls, warmup)
        if fused is not None:
            result["fused"][batch] = median_call_us(lambda: fused(rows), 3 * calls, warmup)
    return result
