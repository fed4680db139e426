"""IEEE edge values on every path: relu is +0.0 below zero and 0 at -inf (numpy, the Numba
kernels, the fused layer, the fused MLP, the Value engine), and the gradient of a max over a
slice holding NaN goes to the NaN, as in PyTorch."""

import math

import numpy as np
import pytest

from tinygrad_edu import NonFiniteValueWarning, Tensor, Value, linear_act, nn

SPECIALS = [-math.inf, -2.0, -1e-45, -0.0, 0.0, math.nan, 3.0]
RELU = [0.0, 0.0, 0.0, 0.0, 0.0, math.nan, 3.0]


def _plus_zero(values):
    values = np.asarray(values)
    return not np.signbit(values[values == 0]).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_of_specials_on_every_backend(cpu_backend, dtype):
    x = Tensor(np.array(SPECIALS, dtype), requires_grad=True)
    y = x.relu()
    np.testing.assert_array_equal(y.numpy(), np.array(RELU, dtype))
    assert _plus_zero(y.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fused_layer_and_the_fused_mlp_give_the_same_relu(cpu_backend, dtype):
    x = Tensor(np.array(SPECIALS, dtype).reshape(-1, 1))
    w = Tensor(np.ones((1, 3), dtype))
    y = linear_act(x, w, Tensor(np.zeros(3, dtype)), activation="relu").numpy()
    np.testing.assert_array_equal(y, np.repeat(np.array(RELU, dtype)[:, None], 3, axis=1))
    assert _plus_zero(y)


def test_the_compiled_mlp_gives_zero_for_minus_inf():
    pytest.importorskip("numba")
    model = nn.MLP(1, [64], 1).double()
    model.layers[0].weight.copy_(np.ones((1, 64)))
    model.layers[0].bias.copy_(np.zeros(64))
    model.layers[1].weight.copy_(np.ones((64, 1)))
    model.layers[1].bias.copy_(np.zeros(1))
    fast = model.compile()
    out = fast(np.array([[-np.inf], [-2.0], [3.0]]))
    np.testing.assert_array_equal(out, [[0.0], [0.0], [192.0]])
    np.testing.assert_array_equal(out, model(Tensor(np.array([[-np.inf], [-2.0], [3.0]]))).numpy())


def test_value_relu_of_specials():
    for x, expected in zip(SPECIALS, RELU):
        y = Value(x).relu().data
        assert (math.isnan(y) and math.isnan(expected)) or (y == expected
                                                            and math.copysign(1, y) == 1), x


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_the_gradient_of_a_max_with_nan_goes_to_the_nan_only(cpu_backend, reduce):
    x = Tensor(np.array([[1.0, math.nan, 3.0], [1.0, 5.0, 5.0], [math.nan, 2.0, math.nan]]),
               requires_grad=True)
    with pytest.warns(NonFiniteValueWarning, match="the loss is nan"):
        getattr(x, reduce)(axis=1).sum().backward()
    expected = [[0.0, 1.0, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]] if reduce == "max" else \
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.5]]
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_max_over_everything_matches_pytorch_with_nan(cpu_backend):
    torch = pytest.importorskip("torch")
    values = [1.0, math.nan, 3.0]
    ours = Tensor(values, requires_grad=True)
    with pytest.warns(NonFiniteValueWarning):
        ours.max().backward()
    theirs = torch.tensor(values, requires_grad=True)
    theirs.max().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
