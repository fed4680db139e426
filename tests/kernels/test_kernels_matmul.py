"""The Numba matmul kernels agree with a float64 numpy reference on every path and layout.

Each driver (tiled serial, tiled parallel, skinny) is checked directly, so a routing threshold
change cannot leave one untested; ``matmul`` is checked for numpy's shape rules (1-D, batched,
broadcast batch dimensions) and for strided, transposed and reversed views.
"""

import numpy as np
import pytest

pytest.importorskip("numba")

from tinygrad_edu.kernels.cpu import matmul as mm  # noqa: E402
from tinygrad_edu.kernels.cpu.skinny import skinny_product  # noqa: E402

DTYPES = [np.float32, np.float64]
# Relative to sum_p |a_ip| |b_pj|, the scale of the rounding error of any summation order.
TOLERANCE = {np.float32: 1e-6, np.float64: 1e-14}


def _assert_product(out, a, b, dtype):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    expected = np.matmul(a64, b64)
    assert out.shape == expected.shape and out.dtype == dtype
    scale = np.matmul(np.abs(a64), np.abs(b64))
    error = np.abs(out - expected) / np.maximum(scale, np.finfo(np.float64).tiny)
    assert error.max(initial=0) < TOLERANCE[dtype], f"relative error {error.max()}"


def _run(driver, a, b, dtype):
    """out = a @ b through one driver, handing it transposed views as the backend does."""
    z = np.empty((a.shape[0], b.shape[1]), dtype)
    (a, a_t), (b, b_t) = mm._as_rows(a), mm._as_rows(b)
    empty = np.empty(0, dtype)
    if driver == "parallel":
        mm._gemm_parallel(a, a_t, b, b_t, z, z, empty, 0, 0.0, 2)
    elif driver == "serial":
        mm._gemm_serial(a, a_t, b, b_t, z, z, empty, 0, 0.0)
    else:
        skinny_product(a, a_t, b, b_t, z, np.empty(a.shape[0] if a_t else a.shape[1], dtype))
    return z


SIZES = [1, 7, 33, 127, 128, 255]
SHAPES = [(s, s, s) for s in SIZES] + [(7, 33, 127), (255, 1, 33), (33, 300, 7)]
BIG = [(1024, 33, 127), (7, 1024, 33), (33, 128, 1024)]


# The skinny loops are meant for few rows or a short shared dimension: only those shapes.
DRIVER_CASES = [(driver, shape) for driver in ("serial", "parallel", "skinny")
                for shape in SHAPES + BIG if driver != "skinny" or min(shape[:2]) <= 33]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("driver, shape", DRIVER_CASES)
def test_each_driver_matches_the_float64_reference(driver, shape, dtype):
    m, k, n = shape
    rng = np.random.default_rng(m * 7 + k * 3 + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    _assert_product(_run(driver, a, b, dtype), a, b, dtype)


def _views(rng, shape, dtype):
    """The same matrix as a contiguous array, a transposed view, a strided slice and a
    reversed view."""
    m, n = shape
    base = rng.standard_normal((m, n)).astype(dtype)
    transposed = np.ascontiguousarray(base.T).T
    strided = np.zeros((m, 2 * n), dtype)
    strided[:, ::2] = base
    reversed_rows = np.ascontiguousarray(base[::-1])[::-1]
    return {"contiguous": base, "transposed": transposed, "strided": strided[:, ::2],
            "reversed": reversed_rows}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("driver", ["serial", "parallel", "skinny"])
@pytest.mark.parametrize("layout_a", ["contiguous", "transposed", "strided", "reversed"])
@pytest.mark.parametrize("layout_b", ["contiguous", "transposed", "strided"])
def test_any_strides_give_the_same_product(driver, layout_a, layout_b, dtype):
    rng = np.random.default_rng(5)
    m, k, n = (2, 70, 65) if driver == "skinny" else (13, 70, 65)
    a = _views(rng, (m, k), dtype)[layout_a]
    b = _views(rng, (k, n), dtype)[layout_b]
    _assert_product(_run(driver, a, b, dtype), a, b, dtype)


def test_transposed_operands_are_packed_from_their_own_memory():
    # A transposed C array is handed to the kernels as the original array plus a flag.
    x = np.ones((4, 3), np.float32)
    view, flag = mm._as_rows(x.T)
    assert flag and np.shares_memory(view, x) and view.flags.c_contiguous


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("shape_a, shape_b", [
    ((5,), (5,)), ((5,), (5, 3)), ((4, 5), (5,)), ((3, 4, 5), (5, 6)), ((4, 5), (2, 5, 6)),
    ((2, 1, 4, 5), (3, 5, 6)), ((0, 5), (5, 3)), ((4, 0), (0, 3)), ((2, 3, 0), (2, 0, 4)),
    ((1, 1), (1, 1))])
@pytest.mark.parametrize("route", mm.ROUTES)
def test_matmul_follows_numpys_shape_rules(shape_a, shape_b, dtype, route):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape_a).astype(dtype)
    b = rng.standard_normal(shape_b).astype(dtype)
    out = mm.matmul(a, b, route)
    expected = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert out.shape == expected.shape and out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_batched_matmul_of_transposed_stacks(dtype):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 40, 9)).astype(dtype).swapaxes(1, 2)      # (3, 9, 40)
    b = rng.standard_normal((40, 17)).astype(dtype)
    out = mm.matmul(a, b, "numba")
    for i in range(3):
        _assert_product(out[i], a[i], b, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_bias_and_activation_are_applied_on_the_last_depth_block_only(dtype):
    # k > KC: the tile is written in several passes and must be finished exactly once.
    rng = np.random.default_rng(3)
    m, k, n = 9, mm.KC + 44, 70
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    z, y = np.empty((m, n), dtype), np.empty((m, n), dtype)
    mm.gemm(a, b, z, y, bias, code=1, slope=0.0, route="numba")          # 1: ReLU
    expected = a.astype(np.float64) @ b + bias
    np.testing.assert_allclose(z, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(y, np.maximum(expected, 0), rtol=1e-4, atol=1e-4)
