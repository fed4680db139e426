"""gradcheck points at the op to blame: on a mismatch each op of the graph is checked on its own
and the error names the first whose backward is wrong, for Tensor and Value graphs."""

import numpy as np
import pytest

from tinygrad_edu import Function, GradcheckError, Tensor, Value, gradcheck, manual_seed, nn
from tinygrad_edu.graph import topological_order


class Cube(Function):
    """out = a³;  da = 3a² g."""
    op = "cube"

    def forward(self, a):
        self.a = a
        be = self.backend
        return be.mul(be.mul(a, a), a)

    def backward(self, g):
        be = self.backend
        return (be.mul(g, be.mul(3.0, be.mul(self.a, self.a))),)


class CubeWithBug(Cube):
    """Cube whose backward forgets the 3."""

    def backward(self, g):
        be = self.backend
        return (be.mul(g, be.mul(self.a, self.a)),)


class Scale(Function):
    """out = a * b (b broadcast);  da = g b, db = g a (summed back by the engine)."""
    op = "scale"

    def forward(self, a, b):
        self.a, self.b = a, b
        return self.backend.mul(a, b)

    def backward(self, g):
        be = self.backend
        return be.mul(g, self.b), be.mul(g, be.mul(self.a, 2.0))   # db off by a factor 2


class Applied(nn.Module):
    def __init__(self, op):
        super().__init__()
        self.apply_op = op.apply

    def forward(self, x):
        return self.apply_op(x)


def _mlp_loss(op):
    """(loss function of the parameters, parameters) of 3 → 4 (tanh) → op → 2 → 1."""
    manual_seed(0)
    model = nn.Sequential(nn.Layer(3, 4, activation="tanh"), Applied(op),
                          nn.Layer(4, 2, activation="tanh"), nn.Layer(2, 1)).double()
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((5, 3)))
    y = Tensor(rng.standard_normal((5, 1)))
    return (lambda *params: nn.functional.mse_loss(model(x), y)), list(model.parameters())


def test_a_wrong_backward_in_the_middle_of_an_mlp_is_found_and_named(cpu_backend):
    fn, params = _mlp_loss(CubeWithBug)
    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, params)
    err = info.value
    assert isinstance(err.node, CubeWithBug)
    found = err.op_mismatch
    assert (found.op, found.input_shapes, found.input) == ("cube", ((5, 4),), 0)
    # The op works elementwise: its worst entry is on the diagonal, and the bug is a factor 3.
    assert found.element == found.output_element
    a = err.node.inputs[0].numpy()[found.element]
    assert found.computed == pytest.approx(a * a, rel=1e-12)
    assert found.expected == pytest.approx(3 * a * a, rel=1e-6)
    assert (found.differing, found.entries) == (20, 400)
    ops = [t for t in topological_order(err.root, lambda t: t.inputs) if t.grad_fn is not None]
    assert ops[found.position - 1].grad_fn is err.node and found.op_count == len(ops)
    assert "the op to blame is 'cube'" in str(err) and "inputs of shape (5, 4)" in str(err)
    assert f"{found.expected!r}" in str(err) and f"{found.computed!r}" in str(err)


def test_the_same_graph_with_a_correct_op_passes(cpu_backend):
    fn, params = _mlp_loss(Cube)
    assert gradcheck(fn, params)
    assert all(p.grad is None for p in params)


def test_a_broadcast_input_of_a_custom_op_is_checked_after_summing_back(cpu_backend):
    a = Tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3), requires_grad=True)
    b = Tensor(np.array([0.5, -2.0, 1.5]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: (Scale.apply(a, b) + a).exp().sum(), [a, b])
    found = info.value.op_mismatch
    assert (found.op, found.input, found.input_shapes) == ("scale", 1, ((2, 3), (3,)))
    assert found.computed == pytest.approx(2 * found.expected, rel=1e-6)


def test_the_first_wrong_op_in_forward_order_is_blamed():
    x = Tensor(np.array([0.3, -0.7]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: CubeWithBug.apply(CubeWithBug.apply(x).tanh()).sum(), [x])
    err = info.value
    assert err.node.inputs[0] is x and err.op_mismatch.position == 1


def test_a_mismatch_no_single_op_explains_blames_none():
    calls = []

    def drifting(x):   # a different function at every call: no op is wrong
        calls.append(1)
        return x * float(len(calls))

    with pytest.raises(GradcheckError) as info:
        gradcheck(drifting, [Tensor(np.array([1.0, 2.0]), requires_grad=True)])
    err = info.value
    assert err.node is None and err.op_mismatch is None and err.root is not None
    assert "no single backward is to blame" in str(err)


def test_the_whole_function_mismatch_is_kept_on_the_error():
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: CubeWithBug.apply(t), [x])
    err = info.value
    assert (err.input, err.element, err.output_element) == (0, (0, 0), 0)
    assert err.computed == pytest.approx(1.0) and err.expected == pytest.approx(3.0)


# ---- the Value engine ----

def _cube(v):
    return Value.custom(v.data ** 3, (v,), (3 * v.data ** 2,), op="cube")


def _cube_with_bug(v):
    return Value.custom(v.data ** 3, (v,), (v.data ** 2,), op="cube")


def _value_mlp_loss(cube):
    """A scalar 2 → 3 (tanh) → cube → 1 network and its squared error, and its parameters."""
    manual_seed(0)
    first = nn.scalar.Layer(2, 3, activation="tanh")
    last = nn.scalar.Layer(3, 1, activation=None)

    def loss(*params):
        hidden = [cube(h) for h in first([0.5, -1.0])]
        return (last(hidden)[0] - 0.25) ** 2

    return loss, first.parameters() + last.parameters()


def test_a_wrong_local_derivative_in_a_value_mlp_is_found_and_named():
    fn, params = _value_mlp_loss(_cube_with_bug)
    with pytest.raises(GradcheckError) as info:
        gradcheck(fn, params)
    err = info.value
    assert isinstance(err.node, Value) and err.node.op == "cube"
    found = err.op_mismatch
    a = err.node.inputs[0].data
    assert (found.op, found.input, found.input_shapes) == ("cube", 0, ((),))
    assert found.computed == pytest.approx(a * a, rel=1e-12)
    assert found.expected == pytest.approx(3 * a * a, rel=1e-5)
    assert "its local derivative d out / d input 0" in str(err)
    ops = [v for v in topological_order(err.root, lambda v: v.inputs) if v.inputs]
    assert ops[found.position - 1] is err.node


def test_a_value_mlp_with_correct_ops_passes():
    fn, params = _value_mlp_loss(_cube)
    assert gradcheck(fn, params)


def test_a_value_op_reading_one_input_twice_is_checked_on_the_sum_of_its_derivatives():
    def square_with_bug(v):    # d(v*v)/dv = 2v, split over its two uses; here 1.5v in all
        return Value.custom(v.data * v.data, (v, v), (v.data, 0.5 * v.data), op="square")

    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: square_with_bug(a * b + 1).tanh(), [Value(0.5), Value(-1.5)])
    found = info.value.op_mismatch
    assert found.op == "square"
    assert found.computed == pytest.approx(1.5 * 0.25) and found.expected == pytest.approx(0.5)


def test_a_value_op_whose_inputs_always_move_together_is_blamed_along_an_input():
    def product_with_bug(u, v):   # d(uv) = v du + u dv; the bug drops the second term
        return Value.custom(u.data * v.data, (u, v), (v.data, 0.0), op="product")

    x = Value(0.7)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: product_with_bug(x + 1, x * 2), [x])
    found = info.value.op_mismatch
    assert found.op == "product" and found.input is None and found.along == 0
    assert found.computed == pytest.approx(2 * 0.7 * 1)          # (x * 2) * d(x + 1)
    assert found.expected == pytest.approx(2 * 0.7 + (0.7 + 1) * 2)
    assert "moving the function's input 0" in str(info.value)
