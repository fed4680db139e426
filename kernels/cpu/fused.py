"""The fused layer ``y = activation(x @ W + b)``, forward and backward.

Forward: the product, the bias and the activation in one pass over the output: the tiled
kernel applies bias and activation to each output tile while it is in L1, and after a BLAS
product one compiled loop does both (an unfused layer reads and writes the output three
times: matmul, bias add, activation).

Backward: one pass over the output forms ``dz = grad * activation'(z)`` and, in the same loop,
the bias gradient ``db`` (column sums of dz); then ``dx = dz @ W.T`` and ``dw = x.T @ dz`` read
the transposed views in place (for a large batch, a layer wider than its input computes
``dw.T = dz.T @ x`` and transposes it: BLAS is faster with the longer side as rows). For one or
two examples both products are one compiled call
(``_few_rows_products``): there the cost of each extra call is larger than the arithmetic.
The activation's loops are ``activations.per_code``'s, the ones every batch size uses, so a
first step compiles each activation's loops once.
"""

import numpy as np
from numba import njit

from . import cache_stamp  # noqa: F401 - first: an edited kernel source recompiles all
from ... import activations as sm
from .activations import per_code
from .matmul import SKINNY_MAX, gemm, transpose_into

__all__ = ["linear_act_forward", "linear_act_backward", "TRANSPOSED_DW_MIN_ROWS"]

TRANSPOSED_DW_MIN_ROWS = 512   # from this batch a wide layer's dw is computed as (dz.T @ x).T


@njit(cache=True, nogil=True, fastmath={"contract", "reassoc"})
def _few_rows_products(x, w, dz, dx, dw, needs_x):
    """dw = x.T @ dz row by row of w (contiguous, vectorized) and, if ``needs_x``,
    dx = dz @ w.T as dot products of contiguous rows."""
    nin, nout = w.shape
    for p in range(nin):
        dwrow = dw[p]
        for j in range(nout):
            dwrow[j] = 0
        for i in range(x.shape[0]):
            xv = x[i, p]
            dzrow = dz[i]
            for j in range(nout):
                dwrow[j] += xv * dzrow[j]
    if needs_x:
        for i in range(x.shape[0]):
            dzrow = dz[i]
            for p in range(nin):
                wrow = w[p]
                s = 0.0
                for j in range(nout):
                    s += dzrow[j] * wrow[j]
                dx[i, p] = s


def linear_act_forward(x, w, b, code, slope, route="auto"):
    """Return ``(y, z)`` with ``z = x @ w + b`` and ``y = activation(z)`` (y is z for identity).

    ``x``: (n, nin) or (nin,); ``w``: (nin, nout); ``b``: (nout,) or None; one float dtype.
    ``route``: which product kernel (``matmul.gemm``).
    """
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    z = np.empty((x2.shape[0], w.shape[1]), x.dtype)
    y = z if code == sm.IDENTITY else np.empty_like(z)
    gemm(x2, w, z, y, b, code, slope, route)
    if x.ndim == 1:
        z, y = z.reshape(-1), y.reshape(-1)
    return y, z


def linear_act_backward(x, w, z, y, grad, code, slope, needs_b, needs_x=True, route="auto"):
    """Return ``(dx, dw, db)`` for ``y = activation(x @ w + b)``.

    ``db`` is None unless ``needs_b``; ``dx`` is None unless ``needs_x`` (a network's first
    layer has no use for it, and it is a third of the layer's backward arithmetic).
    """
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    rows, nout = x2.shape[0], w.shape[1]
    shape2 = (rows, nout)
    dtype = x.dtype
    dw = np.empty(w.shape, dtype)
    dx = np.empty(x2.shape, dtype) if needs_x else None
    grad2 = grad if grad.shape == shape2 and grad.flags.c_contiguous else \
        np.ascontiguousarray(grad).reshape(shape2)
    if code == sm.IDENTITY:
        dz = grad2
        db = grad2.sum(axis=0, dtype=np.float64) if needs_b else None
    else:
        dz, db = np.empty(shape2, dtype), np.zeros(nout, np.float64)
        if x.ndim == 1:
            z, y = z.reshape(shape2), y.reshape(shape2)
        per_code(code).gradients(z, y, grad2, dtype.type(slope), dz, db)
    if rows <= SKINNY_MAX and route != "blas" and w.flags.c_contiguous:
        _few_rows_products(np.ascontiguousarray(x2), w, dz, np.empty((0, 0), dtype)
                           if dx is None else dx, dw, needs_x)
    else:
        if needs_x:
            gemm(dz, w.T, dx, route=route)
        if route != "numba" and w.shape[0] < nout and rows >= TRANSPOSED_DW_MIN_ROWS:
            # BLAS runs this long product faster with its longer side as rows (the ranking
            # MLP's 128 -> 256 layer at batch 1024); below, the transpose costs more than it
            # saves.
            dwt = np.empty((nout, w.shape[0]), dtype)
            gemm(dz.T, x2, dwt, route=route)
            transpose_into(dwt, 0, w.shape[0], 0, nout, dw)
        else:
            gemm(x2.T, dz, dw, route=route)
    return (None if dx is None else dx.reshape(x.shape), dw,
            db.astype(dtype) if needs_b else None)
