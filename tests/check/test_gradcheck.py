"""gradcheck itself: it passes correct gradients, catches wrong ones and says where."""

import numpy as np
import pytest

from tinygrad_edu import DTypeError, GradError, Tensor, Value, gradcheck
from tinygrad_edu import Function
from tinygrad_edu import GradcheckError


class _HalfGradSquare(Function):
    """out = a^2 with a deliberately wrong backward (g * a instead of 2 g a)."""
    op = "half_grad_square"

    def forward(self, a):
        self.a = a
        return self.backend.mul(a, a)

    def backward(self, g):
        return (self.backend.mul(g, self.a),)


def _leaf(array):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def test_correct_gradients_pass_for_tensors_and_values():
    assert gradcheck(lambda a, b: (a * b).exp().sum(0), [_leaf([[0.1, 0.2]]), _leaf([0.3, 0.4])])
    assert gradcheck(lambda a, b: (a * b + 1).tanh(), [Value(0.5), Value(-1.5)])


def test_wrong_tensor_gradient_is_reported_with_input_element_and_both_values():
    x = _leaf([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda c, t: c * _HalfGradSquare.apply(t), [Tensor([1.0]), x])
    message = str(info.value)
    assert "input 1" in message and "element (0, 0)" in message
    assert "backward gives 1.0, finite differences give 2.0000" in message
    assert "4 of 16 entries differ" in message
    assert gradcheck(lambda t: _HalfGradSquare.apply(t), [x], raise_exception=False) is False


def test_wrong_value_gradient_is_reported():
    def wrong_square(v):
        return Value.custom(v.data ** 2, (v,), (v.data,), "wrong")  # the local derivative is 2v

    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(wrong_square, [Value(3.0)])
    assert gradcheck(wrong_square, [Value(3.0)], raise_exception=False) is False


def test_inputs_without_requires_grad_are_held_constant():
    weight = Tensor(np.array([2.0, -1.0]))
    assert gradcheck(lambda w, x: (w * x).sum(), [weight, _leaf([0.5, 0.25])])


def test_non_contiguous_inputs_are_perturbed_correctly():
    x = Tensor(np.asfortranarray(np.arange(6.0).reshape(2, 3)), requires_grad=True)
    assert not x.numpy().flags.c_contiguous
    assert gradcheck(lambda t: (t * t) @ Tensor(np.ones(3)), [x])


def test_inputs_are_left_unchanged_and_without_grad():
    x = _leaf([0.25, 0.5])
    gradcheck(lambda t: t.exp(), [x])
    assert x.tolist() == [0.25, 0.5] and x.grad is None


def test_misuse_is_reported():
    with pytest.raises(GradError, match="requires_grad"):
        gradcheck(lambda t: t, [Tensor(np.ones(2))])
    with pytest.raises(DTypeError, match="all Tensors or all Values"):
        gradcheck(lambda a, b: a, [_leaf([1.0]), Value(1.0)])
    with pytest.raises(DTypeError, match="must return a Tensor"):
        gradcheck(lambda t: 1.0, [_leaf([1.0])])
    with pytest.raises(ValueError, match="empty"):
        gradcheck(lambda: None, [])
