"""The fused layer ``y = activation(x @ W + b)``, forward and backward.

Forward: one pass of the blocked matmul; the bias and the activation are applied to each
output tile as it leaves the registers, so ``z = x @ W + b`` and ``y`` are written once and
never read back (an unfused layer reads and writes the output three times: matmul, bias add,
activation).

Backward: one pass over the output forms ``dz = grad * activation'(z)`` and, in the same loop,
the bias gradient ``db = sum over the batch of dz``; then ``dx = dz @ W.T`` and
``dw = x.T @ dz`` are two blocked matmuls that read the transposed views in place.
"""

import numpy as np
from numba import literal_unroll, njit

from .. import scalar_math as sm
from .activations import derivative
from .matmul import gemm

__all__ = ["linear_act_forward", "linear_act_backward"]

_CODES = tuple(sorted(sm.ACTIVATION_CODES.values()))


@njit(cache=True, nogil=True)
def _dz_db(z, y, grad, code, slope, dz, db):
    """dz = grad * act'(z, y); db = column sums of dz (accumulated in float64)."""
    for c in literal_unroll(_CODES):
        if code == c:   # one loop per activation, so each is compiled with its code constant
            for i in range(z.shape[0]):
                for j in range(z.shape[1]):
                    d = grad[i, j] * derivative(c, z[i, j], y[i, j], slope)
                    dz[i, j] = d
                    db[j] += d


def linear_act_forward(x, w, b, code, slope):
    """Return ``(y, z)`` with ``z = x @ w + b`` and ``y = activation(z)`` (y is z for identity).

    ``x``: (n, nin) or (nin,); ``w``: (nin, nout); ``b``: (nout,) or None; one float dtype.
    """
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    z = np.empty((x2.shape[0], w.shape[1]), x.dtype)
    y = z if code == sm.IDENTITY else np.empty_like(z)
    gemm(x2, w, z, y, b, code, slope)
    if x.ndim == 1:
        z, y = z.reshape(-1), y.reshape(-1)
    return y, z


def linear_act_backward(x, w, z, y, grad, code, slope, needs_b, needs_x=True):
    """Return ``(dx, dw, db)`` for ``y = activation(x @ w + b)``.

    ``db`` is None unless ``needs_b``; ``dx`` is None unless ``needs_x`` (the first layer of a
    network has no use for it, and it is a third of the layer's backward work).
    """
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    grad2 = grad.reshape(x2.shape[0], -1)
    if code == sm.IDENTITY:
        dz = grad2
        db = grad2.sum(axis=0, dtype=np.float64) if needs_b else None
    else:
        dz = np.empty(grad2.shape, grad.dtype)
        db = np.zeros(grad2.shape[1], np.float64)
        _dz_db(z.reshape(grad2.shape), y.reshape(grad2.shape), np.ascontiguousarray(grad2),
               code, x.dtype.type(slope), dz, db)
    if needs_b:
        db = db.astype(x.dtype)
    else:
        db = None
    dx = None
    if needs_x:
        dx = np.empty(x2.shape, x.dtype)
        gemm(dz, w.T, dx)
        dx = dx.reshape(x.shape)
    dw = np.empty(w.shape, w.dtype)
    gemm(x2.T, dz, dw)
    return dx, dw, db
