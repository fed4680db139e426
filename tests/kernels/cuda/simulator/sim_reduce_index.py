"""Reductions (both kernels, split rows), shape views and indexing (basic, advanced, boolean
masks, the gathers and their adjoints) on the CUDA backend, against the numpy reference (run
by ``test_cuda_simulator.py`` in the simulator, by ``benchmarks/gpu.py`` on a GPU)."""

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from cuda_support import CUDA, FLOAT_IDS, FLOATS, Strided, data, on_device, run  # noqa: E402


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
@pytest.mark.parametrize("method", ["sum", "max", "min", "prod"])
def test_reductions_over_any_axes_match_numpy(method, dtype):
    rng = np.random.default_rng(12)
    x = data(rng, (3, 4, 5), dtype)
    for axis, keepdims in [(None, False), ((0,), True), ((2,), False), ((1, 2), True),
                           ((0, 2), False)]:
        run(method, x, axis, keepdims, rtol=1e-5)
    run(method, Strided(data(rng, (6, 5), dtype)), (1,), False, rtol=1e-5)


@pytest.mark.parametrize("method", ["sum", "max"])
def test_long_rows_and_columns_are_split_and_reduced_twice(method):
    rng = np.random.default_rng(13)
    run(method, data(rng, (5000,), np.float64), None, False)        # row kernel, 3 segments
    run(method, data(rng, (130, 3), np.float32), (0,), True, rtol=1e-5)  # column kernel


def test_max_and_min_propagate_nan_and_integer_and_boolean_reductions_follow_numpy():
    with_nan = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, -np.inf]], np.float32)
    for method in ("max", "min", "sum"):
        run(method, with_nan, (1,), False)
    ints = np.array([[3, -7, 2], [1, 0, 9]], np.int32)
    run("sum", ints, (0,), False)                     # int32 sums to int64, as numpy does
    run("max", ints, None, False)
    mask = np.array([[True, False], [False, False]])
    run("sum", mask, None, False)
    run("max", mask, (1,), False)
    run("min", mask, (0,), True)
    run("sum", np.zeros((0, 3), np.float32), (0,), False)
    with pytest.raises(ValueError, match="zero-size array"):
        CUDA.max(on_device(np.zeros((0, 3))), (0,), False)


@pytest.mark.parametrize("dtype", FLOATS + [np.int32, np.bool_],
                         ids=FLOAT_IDS + ["int32", "bool"])
def test_cumsum_runs_along_any_axis(dtype):
    rng = np.random.default_rng(25)
    x = (data(rng, (3, 4, 2), np.float64) * 3).astype(dtype)
    for axis in (0, -1):
        run("cumsum", x, axis, rtol=1e-5)
    run("cumsum", Strided(x[0]), 0, rtol=1e-5)
    run("prod", x, (1,), True, rtol=1e-5)


def test_a_long_cumsum_adds_the_chunks_before_each_chunk():
    rng = np.random.default_rng(26)
    run("cumsum", data(rng, (300,), np.float64), 0)           # two chunks of 256


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_views_reshape_transpose_broadcast_and_concatenate_match_numpy(dtype):
    rng = np.random.default_rng(14)
    x = data(rng, (3, 4), dtype)
    run("reshape", x, (2, 6))
    run("reshape", Strided(x), (-1,))          # a non-contiguous view is copied first
    run("transpose", data(rng, (2, 3, 4), dtype), (2, 0, 1))
    run("broadcast_to", data(rng, (3, 1), dtype), (2, 3, 4))
    run("concatenate", [data(rng, (2, 3), dtype), Strided(data(rng, (4, 3), dtype))], 0)
    run("concatenate", [data(rng, (2, 3), dtype), data(rng, (2, 1), dtype)], 1)
    with pytest.raises(ValueError, match="cannot reshape"):
        CUDA.reshape(on_device(x), (5,))


@pytest.mark.parametrize("dtype", FLOATS + [np.int64, np.bool_],
                         ids=FLOAT_IDS + ["int64", "bool"])
def test_getitem_follows_numpys_basic_and_advanced_rules(dtype):
    rng = np.random.default_rng(15)
    x = rng.integers(-5, 6, (4, 5, 3)).astype(dtype)
    indices = [1, -1, (slice(1, 3), 0), (Ellipsis, None, slice(None, None, -2)),
               [0, 0, 3], (slice(1, 3), [0, 0, 4]), ([1, 2], [0, 4]),
               (0, slice(None), [1, 2]),                   # advanced not adjacent: first
               (slice(None), [[0, 1], [2, 3]], 1),         # adjacent: in place
               (np.array([-1, 0]), Ellipsis, None)]
    for index in indices:
        run("getitem", x, index)
    run("getitem", x, (x > 0) if dtype == np.bool_ else (x > 1))   # a boolean mask
    run("getitem", x, (slice(None), np.array([True, False, True, False, True])))


def test_out_of_range_indices_raise_numpys_index_error():
    x = on_device(np.zeros((4, 5), np.float32))
    for index in [(4,), ([0, 5],), (slice(None), [-6]), (1, 2, 3)]:
        with pytest.raises(IndexError):
            CUDA.getitem(x, index)


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_scatter_add_accumulates_repeated_indices(dtype):
    rng = np.random.default_rng(16)
    run("scatter_add", (4, 5), ([0, 0, 3],), data(rng, (3, 5), dtype), dtype)
    run("scatter_add", (4, 5), (slice(1, 3), [0, 0, 4]), data(rng, (2, 3), dtype), dtype)
    run("scatter_add", (4, 5), (slice(None), 2), data(rng, (4,), dtype), dtype)
    run("scatter_add", (3,), ([1, 1],), np.array([True, True]), np.bool_)


@pytest.mark.parametrize("dtype", FLOATS + [np.int64], ids=FLOAT_IDS + ["int64"])
def test_gather_and_its_adjoint_match_take_along_axis(dtype):
    rng = np.random.default_rng(17)
    x = (data(rng, (4, 6), np.float64) * 5).astype(dtype)
    index = rng.integers(0, 6, (4, 3))
    index[0] = [2, 2, -1]                                   # repeated and from the end
    run("gather", x, index, 1)
    run("gather", Strided(x), rng.integers(0, 4, (2, 6)), 0)
    run("scatter_add_along", (4, 6), index, (data(rng, (4, 3), np.float64) * 5).astype(dtype), 1)
    run("scatter_add_along", (5, 2), rng.integers(0, 5, (3, 2)), data(rng, (3, 2), np.float32),
        0)
    with pytest.raises(IndexError):
        CUDA.gather(on_device(x), on_device(np.array([[6]] * 4)), 1)
