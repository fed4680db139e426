"""Ops of your own (Function subclasses) are checked where they are defined cheaply: what a
correct one may return works, a wrong one is an error at the op naming it; built-in ops are not
wrapped at all."""

import numpy as np
import pytest

from tinygrad_edu import Function, GradError, ShapeError, Tensor, gradcheck
from tinygrad_edu.tensor import primitives


class Cube(Function):
    op = "cube"

    def forward(self, a):
        self.a = a
        return self.backend.mul(a, self.backend.mul(a, a))

    def backward(self, g):
        be = self.backend
        return be.mul(g, be.mul(be.mul(self.a, self.a), 3.0))   # a bare array: one input


class BroadcastScale(Function):
    """out = a * b with b of shape (1,); backward returns b's gradient in the output's shape,
    which the engine sums back."""
    op = "broadcast_scale"

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.backend.mul(a, b)

    def backward(self, g):
        be = self.backend
        return be.mul(g, self.b), be.mul(g, self.a)


class NoGradForTheSecond(Function):
    op = "first_only"

    def forward(self, a, b):
        return self.backend.add(a, b)

    def backward(self, g):
        return [g, None]


def test_a_correct_op_of_your_own_works_and_passes_gradcheck(cpu_backend):
    x = Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    assert gradcheck(lambda t: Cube.apply(t), [x])
    a = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    b = Tensor(np.array([0.5]), requires_grad=True)
    assert gradcheck(lambda s, t: BroadcastScale.apply(s, t), [a, b])


def test_none_and_a_list_are_accepted_as_gradients(cpu_backend):
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    NoGradForTheSecond.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])
    assert b.grad is None


def test_a_bare_array_for_an_op_of_two_inputs_is_an_error():
    class Bare(BroadcastScale):
        op = "bare"

        def backward(self, g):
            return g

    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(GradError, match="bare: backward returned a single array; it must "
                                        "return a tuple of 2 gradients"):
        Bare.apply(a, b).sum().backward()


def test_a_gradient_that_cannot_broadcast_back_names_both_shapes():
    class Transposed(Function):
        op = "transposed"

        def forward(self, a):
            return self.backend.mul(a, 2.0)

        def backward(self, g):
            return (self.backend.transpose(g, (1, 0)),)

    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"transposed: backward returned a gradient of shape "
                                         r"\(3, 2\) for input 0, which has shape \(2, 3\)"):
        Transposed.apply(x).sum().backward()


def test_built_in_ops_are_not_wrapped_and_ops_of_your_own_are():
    builtin = [cls for cls in vars(primitives).values()
               if isinstance(cls, type) and issubclass(cls, Function)]
    assert builtin and not any(getattr(cls.backward, "_checked", False) for cls in builtin)
    assert Cube.backward._checked and Cube.forward._checked

    class MyMul(primitives.Mul):   # a subclass of a built-in is yours: checked
        pass

    assert MyMul.backward._checked and not primitives.Mul.backward.__dict__.get("_checked")
