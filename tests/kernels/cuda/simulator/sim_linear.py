"""The tiled matmul (both tile sizes, odd sizes, transposed and batched operands), the
activations and the fused layer on the CUDA backend, against the numpy reference (run by
``test_cuda_simulator.py`` in the simulator, by ``benchmarks/gpu.py`` on a GPU)."""

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from cuda_support import CUDA, FLOAT_IDS, FLOATS, Strided, data, numbers, run  # noqa: E402

from tinygrad_edu import activations as sm  # noqa: E402

SHAPES = [((1, 1), (1, 1)), ((7, 5), (5, 3)), ((33, 7), (7, 33)), ((2, 3, 4), (4, 5)),
          ((2, 1, 3, 4), (3, 4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((5,), (5,)),
          ((3, 0), (0, 2))]


@pytest.fixture(params=["small", "large"])
def tile(request):
    previous, CUDA.matmul_tile = CUDA.matmul_tile, request.param
    yield request.param
    CUDA.matmul_tile = previous


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_matmul_matches_numpy_for_every_shape_rule(dtype, tile):
    rng = np.random.default_rng(5)
    shapes = SHAPES if tile == "small" else SHAPES[1:3]
    for a_shape, b_shape in shapes:
        run("matmul", data(rng, a_shape, dtype), data(rng, b_shape, dtype), rtol=2e-5)


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_matmul_reads_transposed_operands_in_place(dtype):
    rng = np.random.default_rng(6)
    run("matmul", Strided(data(rng, (9, 5), dtype)), Strided(data(rng, (5, 7), dtype)),
        rtol=2e-5)
    run("matmul", data(rng, (9, 5), dtype), Strided(data(rng, (5, 7), dtype)), rtol=2e-5)


def test_a_large_tile_product_spanning_two_blocks_matches_numpy():
    rng = np.random.default_rng(7)
    previous, CUDA.matmul_tile = CUDA.matmul_tile, "large"
    try:
        run("matmul", data(rng, (130, 9), np.float32), data(rng, (9, 5), np.float32), rtol=2e-5)
    finally:
        CUDA.matmul_tile = previous


def test_a_long_depth_with_few_tiles_is_split_and_summed():
    rng = np.random.default_rng(27)
    # One output tile and a depth of 260: two halves of the depth, summed after (as x.T @ dz).
    run("matmul", Strided(data(rng, (2, 260), np.float32)), data(rng, (260, 3), np.float32),
        rtol=2e-5)


def test_integer_and_boolean_products_follow_numpy():
    rng = np.random.default_rng(8)
    run("matmul", rng.integers(-3, 4, (3, 4)), rng.integers(-3, 4, (4, 2)))
    run("matmul", rng.random((3, 4)) < 0.5, rng.random((4, 2)) < 0.5)


CODES = list(sm.ACTIVATION_CODES.items())


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
@pytest.mark.parametrize("name, code", CODES, ids=[name for name, _ in CODES])
def test_each_activation_and_its_derivative_match_the_registry(name, code, dtype):
    rng = np.random.default_rng(9)
    for x in (data(rng, (7,), dtype, "nonzero"), Strided(data(rng, (3, 5), dtype, "nonzero"))):
        host = x.array if isinstance(x, Strided) else x
        y = CUDA.to_numpy(CUDA.activation(code, CUDA.asarray(host, dtype), 0.1))
        grad = data(rng, host.shape, dtype)
        run("activation", code, x, 0.1, rtol=1e-5)
        run("activation_backward", code, x, y, grad, 0.1, rtol=1e-5)


# (dtype, activation, x shape, nout): every activation family, a vector input, one example,
# sizes that fill no tile; each case runs forward, and backward with and without dx.
FUSED = [(np.float32, "relu", (9, 33), 5), (np.float64, "relu", (7,), 3),
         (np.float32, "gelu", (1, 1), 1), (np.float64, "sigmoid", (9, 33), 5),
         (np.float32, "identity", (7, 6), 3), (np.float64, "leaky_relu", (70, 3), 1)]


@pytest.mark.parametrize("dtype, name, x_shape, nout", FUSED,
                         ids=[f"{np.dtype(d).name}-{n}-{s}x{o}" for d, n, s, o in FUSED])
def test_the_fused_layer_forward_and_backward_match_the_reference(dtype, name, x_shape, nout):
    rng = np.random.default_rng(10)
    code = sm.ACTIVATION_CODES[name]
    x, w = data(rng, x_shape, dtype), data(rng, (x_shape[-1], nout), dtype)
    b, grad = data(rng, (nout,), dtype), data(rng, x_shape[:-1] + (nout,), dtype)
    for bias in (b, None):
        run("linear_act_forward", x, Strided(w), bias, code, 0.1, rtol=2e-5)
    y, z = (numbers(t) for t in CUDA.linear_act_forward(
        *(CUDA.asarray(t, dtype) for t in (x, w, b)), code, 0.1))
    for needs_b, needs_x in [(True, True), (False, False)]:
        run("linear_act_backward", x, w, z, y, grad, code, 0.1, needs_b, needs_x, rtol=2e-5)
