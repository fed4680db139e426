"""Helpers for the CUDA backend's cases: inputs on both backends, results compared.

``run(method, *args)`` calls a primitive on the numpy reference and on the CUDA backend (the
numpy arrays among the arguments uploaded; ``Strided(x)`` uploaded as a non-contiguous view)
and compares dtype, shape and values within rounding.
"""

import numpy as np

from tinygrad_edu.backends.reference import NumpyBackend
from tinygrad_edu.kernels.cuda.array import CudaArray
from tinygrad_edu.kernels.cuda.backend import CudaBackend

__all__ = ["REF", "CUDA", "FLOATS", "FLOAT_IDS", "Strided", "close", "run", "data", "specials",
           "on_device", "host", "numbers"]

REF, CUDA = NumpyBackend(), CudaBackend()
FLOATS = [np.float32, np.float64]
FLOAT_IDS = ["float32", "float64"]


class Strided:
    """An argument to pass as a non-contiguous device view (a transposed upload)."""

    def __init__(self, array):
        self.array = array


def on_device(value):
    """``value`` for the CUDA backend: numpy arrays uploaded, ``Strided`` ones as views, inside
    tuples and lists of arrays too (lists of ints are index lists and stay)."""
    if isinstance(value, Strided):
        return CUDA.transpose(CUDA.asarray(np.ascontiguousarray(value.array.T),
                                           value.array.dtype), None)
    if isinstance(value, np.ndarray):
        return CUDA.asarray(value, value.dtype)
    if isinstance(value, tuple) or (isinstance(value, list) and _holds_arrays(value)):
        return type(value)(on_device(v) for v in value)
    return value


def host(value):
    """``value`` for the numpy reference: ``Strided`` unwrapped, inside tuples and lists."""
    if isinstance(value, Strided):
        return value.array
    if isinstance(value, (tuple, list)):
        return type(value)(host(v) for v in value)
    return value


def _holds_arrays(values):
    return any(isinstance(v, (np.ndarray, Strided)) for v in values)


def numbers(value):
    return CUDA.to_numpy(value) if isinstance(value, CudaArray) else value


def close(ours, reference, what, rtol=None):
    ours, reference = numbers(ours), np.asarray(reference)
    ours = np.asarray(ours)
    assert ours.shape == reference.shape, f"{what}: shape {ours.shape} vs {reference.shape}"
    assert ours.dtype == reference.dtype, f"{what}: dtype {ours.dtype} vs {reference.dtype}"
    if reference.dtype.kind != "f":
        np.testing.assert_array_equal(ours, reference, err_msg=what)
        return
    rtol = rtol or (3e-6 if reference.dtype == np.float32 else 1e-12)
    finite = np.isfinite(reference)
    floor = rtol * max(1.0, float(np.abs(reference[finite]).max(initial=0)))
    np.testing.assert_allclose(ours, reference, rtol=rtol, atol=floor, err_msg=what)


def run(method, *args, rtol=None):
    """Call ``method`` on both backends (device copies of the arrays for CUDA) and compare."""
    expected = getattr(REF, method)(*(host(a) for a in args))
    ours = getattr(CUDA, method)(*(on_device(a) for a in args))
    if isinstance(expected, tuple):
        for i, (o, e) in enumerate(zip(ours, expected)):
            if e is None:
                assert o is None, f"{method} result {i} should be None"
            else:
                close(o, e, f"{method} result {i}", rtol)
    else:
        close(ours, expected, method, rtol)


def data(rng, shape, dtype, kind="any"):
    if kind == "positive":
        return rng.uniform(0.3, 2.0, shape).astype(dtype)
    if kind == "nonzero":
        return (rng.choice([-1, 1], shape) * rng.uniform(0.2, 2.0, shape)).astype(dtype)
    return rng.uniform(-2.0, 2.0, shape).astype(dtype)


def specials(dtype):
    return np.array([0.0, -0.0, 1.5, -2.5, np.inf, -np.inf, np.nan], dtype)
