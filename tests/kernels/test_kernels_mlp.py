"""The fused inference path (``CompiledMLP``) computes what the graph path computes."""

import numpy as np
import pytest

pytest.importorskip("numba")

from tinygrad_edu import Tensor, manual_seed, nn, no_grad  # noqa: E402
from tinygrad_edu.errors import DTypeError, ShapeError  # noqa: E402
from tinygrad_edu.kernels.cpu.mlp import ROWS, CompiledMLP  # noqa: E402


def _graph(model, x):
    with no_grad():
        return model(Tensor(x, dtype=model.layers[0].weight.dtype)).numpy()


def _assert_same(compiled, model, x):
    ours, expected = compiled(x), _graph(model, x)
    assert ours.shape == expected.shape and ours.dtype == expected.dtype
    tol = 1e-5 if expected.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours, expected, rtol=tol, atol=tol)


BATCHES = [1, ROWS - 1, ROWS, ROWS + 1, 33]


@pytest.mark.parametrize("batch", BATCHES)
def test_the_ranking_mlp_compiled_equals_the_graph_path(batch):
    manual_seed(0)
    model = nn.MLP(128, [256, 128, 64], 1)
    x = np.random.default_rng(batch).standard_normal((batch, 128)).astype(np.float32)
    compiled = model.compile()
    assert isinstance(compiled, CompiledMLP)
    _assert_same(compiled, model, x)


def test_a_single_example_gives_a_vector():
    manual_seed(1)
    model = nn.MLP(6, [70], 3, out_activation="sigmoid")
    x = np.random.default_rng(0).standard_normal(6).astype(np.float32)
    compiled = CompiledMLP(model)
    assert compiled(x).shape == (3,)
    _assert_same(compiled, model, x)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu",
                                        "prelu", None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_every_activation_and_odd_widths(activation, dtype):
    # Widths that are not multiples of a register tile exercise the remainder columns.
    manual_seed(2)
    model = nn.MLP(5, [70, 130, 64], 3, activation=activation, negative_slope=0.2)
    if dtype == np.float64:
        model = model.double()
    if activation == "prelu":
        for layer in model.layers[:-1]:
            layer.prelu_weight.data[...] = -0.3   # a learned slope, not the 0.25 start
    x = np.random.default_rng(3).standard_normal((7, 5)).astype(dtype)
    _assert_same(CompiledMLP(model), model, x)


def test_the_snapshot_changes_only_on_refresh():
    manual_seed(3)
    model = nn.MLP(4, [8], 2)
    compiled = CompiledMLP(model)
    x = np.ones((2, 4), np.float32)
    before = compiled(x)
    model.layers[1].bias.data += 1.0
    np.testing.assert_array_equal(compiled(x), before)
    compiled.refresh()
    _assert_same(compiled, model, x)


def test_layers_without_bias_and_tensor_or_list_input():
    manual_seed(4)
    model = nn.MLP(3, [9], 2)
    model.layers[0].bias = None
    compiled = CompiledMLP(model)
    x = [[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]
    _assert_same(compiled, model, np.array(x, np.float32))
    np.testing.assert_array_equal(compiled(Tensor(x)), compiled(x))


def test_bad_input_is_a_clear_error():
    manual_seed(5)
    compiled = CompiledMLP(nn.MLP(3, [4], 1))
    with pytest.raises(ShapeError, match=r"input has shape \(2, 4\), expected \(3,\)"):
        compiled(np.ones((2, 4), np.float32))
    with pytest.raises(ShapeError, match="expected"):
        compiled(np.ones(4, np.float32))
    with pytest.raises(DTypeError, match="numbers"):
        compiled(np.array(["a", "b", "c"]))
