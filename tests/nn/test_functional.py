"""``nn.functional`` has the activations and the softmax family as functions, as PyTorch users
write them (``F.relu(x)``, ``F.softmax(x, dim=1)``), equal to the Tensor methods."""

import numpy as np
import pytest

from tinygrad_edu import ArgumentTypeError, Tensor, gradcheck
from tinygrad_edu.nn import functional as F

from shape_strategies import leaf, make_array

X = make_array(np.random.default_rng(0), (3, 4), "nonzero")

# F's function -> the method it must equal
PAIRS = {
    "relu": (F.relu, Tensor.relu),
    "leaky_relu": (lambda t: F.leaky_relu(t, negative_slope=0.2), lambda t: t.leaky_relu(0.2)),
    "prelu": (lambda t: F.prelu(t, Tensor([0.1, 0.2, 0.3, 0.4], dtype=np.float64)),
              lambda t: t.prelu(Tensor([0.1, 0.2, 0.3, 0.4], dtype=np.float64))),
    "sigmoid": (F.sigmoid, Tensor.sigmoid),
    "tanh": (F.tanh, Tensor.tanh),
    "gelu": (F.gelu, Tensor.gelu),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), lambda t: t.gelu("tanh")),
    "silu": (F.silu, Tensor.silu),
    "softmax": (lambda t: F.softmax(t, dim=0), lambda t: t.softmax(0)),
    "softmax_default": (F.softmax, Tensor.softmax),
    "log_softmax": (lambda t: F.log_softmax(t, axis=1), lambda t: t.log_softmax(1)),
}


@pytest.mark.parametrize("name", PAIRS)
def test_each_function_equals_the_tensor_method(cpu_backend, name):
    function, method = PAIRS[name]
    np.testing.assert_array_equal(function(leaf(X)).numpy(), method(leaf(X)).numpy())
    assert gradcheck(function, [leaf(X)])


@pytest.mark.parametrize("name", ["relu", "sigmoid", "softmax", "gelu"])
def test_a_function_given_something_else_than_a_tensor_says_so(name):
    with pytest.raises(ArgumentTypeError, match=f"{name}: input must be a Tensor, got list"):
        getattr(F, name)([1.0, 2.0])
