"""Every primitive of the CUDA backend against the numpy reference, on tiny random inputs that
are not multiples of any tile or block size, both float dtypes (and integers and booleans where
the reference takes them), non-contiguous views, broadcasting and IEEE specials.

Collected only by ``test_cuda_simulator.py``, which runs this folder in a subprocess with
``NUMBA_ENABLE_CUDASIM=1`` (numba's CUDA simulator: one Python thread per CUDA thread, so sizes
stay small); ``benchmarks/gpu.py`` runs it on a real GPU.
"""

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from cuda_support import FLOAT_IDS, FLOATS, Strided, data, run, specials  # noqa: E402

UNARY = {"neg": "any", "exp": "any", "abs": "any", "sign": "nonzero", "reciprocal": "nonzero",
         "log": "positive", "sqrt": "positive", "sin": "any", "cos": "any", "floor": "any",
         "round": "any"}


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
@pytest.mark.parametrize("method", UNARY)
def test_unary_ops_match_the_reference(method, dtype):
    rng = np.random.default_rng(0)
    run(method, data(rng, (7,), dtype, UNARY[method]))
    run(method, Strided(data(rng, (3, 5), dtype, UNARY[method])))
    with np.errstate(all="ignore"):
        run(method, specials(dtype))


def test_round_sends_halves_to_the_even_neighbour():
    halves = np.array([-2.5, -1.5, -0.5, -0.4, 0.5, 1.5, 2.5, 3.49, 1e30], np.float32)
    run("round", halves)
    run("round", halves.astype(np.float64))
    run("floor", halves)


@pytest.mark.parametrize("method", ["neg", "abs", "sign", "floor", "round"])
def test_integer_unary_ops_match_the_reference(method):
    run(method, np.array([-3, 0, 5, -1], np.int64))
    run(method, np.array([-3, 0, 5], np.int32))


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
@pytest.mark.parametrize("method", ["add", "sub", "mul", "div", "pow", "floor_divide", "mod"])
def test_binary_ops_broadcast_like_numpy(method, dtype):
    rng = np.random.default_rng(1)
    kind = "positive" if method == "pow" else "any"
    second = "nonzero" if method in ("div", "floor_divide", "mod") else "any"
    for a_shape, b_shape in [((7,), (7,)), ((3, 4), (4,)), ((2, 1, 3), (5, 3)), ((), (2, 3))]:
        run(method, data(rng, a_shape, dtype, kind), data(rng, b_shape, dtype, second))
    run(method, Strided(data(rng, (4, 3), dtype, kind)), data(rng, (3,), dtype, second))
    run(method, data(rng, (3, 2), dtype, kind), 2.5)        # a Python float stays weak
    run(method, data(rng, (3,), dtype, kind), dtype(2))     # a numpy scalar of the same dtype


def test_integer_boolean_and_mixed_dtypes_follow_numpy():
    ints = np.array([3, -2, 7], np.int64)
    run("add", ints, np.array([1, 2, 3], np.int32))
    run("mul", ints, 3)
    run("pow", ints, np.array([2, 0, 1], np.int64))
    run("div", ints, np.array([2, 4, -7], np.int64))         # true division: float64
    run("floor_divide", ints, np.array([2, -4, 3], np.int64))    # Python's //, sign of b
    run("mod", ints, np.array([2, -4, 3], np.int32))
    run("floor_divide", np.array([7.0, -7.0, 7.5], np.float32), np.float32(-2))
    run("mod", np.array([7.0, -7.0, 6.0], np.float64), np.array([2.0, 2.0, -3.0]))
    run("add", ints, np.float32(0.5))                         # int64 with float32: float64
    run("add", np.array([True, False]), np.array([True, True]))   # "or"
    run("mul", np.array([True, False]), np.array([True, True]))   # "and"


@pytest.mark.parametrize("dtype", FLOATS + [np.int64, np.int32], ids=FLOAT_IDS + ["int64",
                                                                                 "int32"])
def test_comparisons_match_the_reference(dtype):
    rng = np.random.default_rng(2)
    a, b = (rng.integers(-2, 3, s).astype(dtype) for s in [(3, 4), (4,)])
    for op in ["less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
               "logical_and", "logical_or"]:
        run("compare", op, a, b)
        run("compare", op, a, 0)
    if dtype in FLOATS:
        run("compare", "equal", specials(dtype), specials(dtype))


@pytest.mark.parametrize("dtype", FLOATS + [np.int64, np.bool_], ids=FLOAT_IDS + ["int64",
                                                                                 "bool"])
def test_where_takes_arrays_and_numbers(dtype):
    rng = np.random.default_rng(3)
    cond = rng.random((3, 4)) < 0.5
    a, b = rng.integers(0, 2, (3, 4)).astype(dtype), rng.integers(0, 2, (4,)).astype(dtype)
    run("where", cond, a, b)
    run("where", cond[0], 0, b)
    if dtype in FLOATS:
        run("where", cond, float("nan"), a)


@pytest.mark.parametrize("dtype", FLOATS + [np.int64], ids=FLOAT_IDS + ["int64"])
def test_clip_with_either_bound(dtype):
    rng = np.random.default_rng(4)
    x = (data(rng, (3, 7), np.float64) * 3).astype(dtype)
    run("clip", x, dtype(-1), dtype(1))
    run("clip", x, None, dtype(1))
    run("clip", Strided(x), dtype(-1), None)


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_isfinite_sees_the_specials(dtype):
    run("isfinite", specials(dtype))
    run("isfinite", np.arange(3))


@pytest.mark.parametrize("source", ["bool", "int32", "int64", "float32", "float64"])
def test_casts_between_every_device_dtype_match_astype(source):
    values = np.array([0.0, 1.0, -2.0, 3.75, -0.5, 7.0]).astype(source)
    for target in ["bool", "int32", "int64", "float32", "float64"]:
        run("cast", values, np.dtype(target))
    run("cast", Strided(values.reshape(2, 3)), np.dtype("float64"))
