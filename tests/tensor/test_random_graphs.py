"""Random small graphs of the differentiable ops, gradient-checked in float64.

Hypothesis draws a program (leaf shapes that broadcast together, then a few ops, each reading
earlier results) and every input value itself, so a failure shrinks to the shortest program on
the simplest numbers. Where an op has a kink or an edge (relu, abs and leaky relu at 0, max at
a tie, log, sqrt and division near 0, exp of large numbers), an example whose value falls near
it is rejected: finite differences mean nothing there.
"""

import numpy as np
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from tinygrad_edu import Tensor, gradcheck
from shape_strategies import broadcastable_shapes
from value_strategies import float_arrays

MARGIN = 0.05   # how far from a kink or an edge an op's input must stay


def _away_from_zero(a):
    return np.all(np.abs(a) > MARGIN)


def _no_ties(a):
    """The largest value of each last-axis row is ahead of the runner-up by MARGIN."""
    if a.ndim == 0 or a.shape[-1] < 2:
        return True
    top = np.sort(a, axis=-1)
    return np.all(top[..., -1] - top[..., -2] > MARGIN)


# name: (apply to tensors, is the input fine?) for ops of one input ...
UNARY = {
    "neg": (lambda t: -t, None),
    "exp": (lambda t: t.exp(), lambda a: np.all(np.abs(a) < 4)),
    "log": (lambda t: t.log(), lambda a: np.all(a > 0.2)),
    "sqrt": (lambda t: t.sqrt(), lambda a: np.all(a > 0.2)),
    "reciprocal": (lambda t: t.reciprocal(), lambda a: np.all(np.abs(a) > 0.2)),
    "tanh": (lambda t: t.tanh(), None),
    "sigmoid": (lambda t: t.sigmoid(), None),
    "gelu": (lambda t: t.gelu(), None),
    "silu": (lambda t: t.silu(), None),
    "relu": (lambda t: t.relu(), _away_from_zero),
    "abs": (lambda t: t.abs(), _away_from_zero),
    "leaky_relu": (lambda t: t.leaky_relu(0.1), _away_from_zero),
    "square": (lambda t: t * t, None),
    "sum_last": (lambda t: t.sum(-1, keepdims=True) if t.ndim else t, None),
    "mean": (lambda t: t.mean(), None),
    "max_last": (lambda t: t.max(-1) if t.ndim else t, _no_ties),
    "softmax": (lambda t: t.softmax(-1) if t.ndim else t, None),
    "logsumexp": (lambda t: t.logsumexp(-1) if t.ndim else t, lambda a: np.all(np.abs(a) < 30)),
    "transpose": (lambda t: t.T, None),
}
# ... and of two, which broadcast their shapes.
BINARY = {
    "add": (lambda a, b: a + b, None),
    "sub": (lambda a, b: a - b, None),
    "mul": (lambda a, b: a * b, None),
    "div": (lambda a, b: a / b, lambda a, b: np.all(np.abs(b) > 0.2)),
    "pow": (lambda a, b: a ** b, lambda a, b: np.all(a > 0.2) and np.all(np.abs(b) < 3)),
}


def _broadcast(x, y):
    try:
        np.broadcast_shapes(x, y)
        return True
    except ValueError:
        return False


@st.composite
def programs(draw):
    """``(leaves, steps)``: float64 leaf arrays, and steps ``(op, input indices)`` where index
    i < len(leaves) is a leaf and larger ones are earlier steps' results."""
    first, second = draw(broadcastable_shapes(max_dims=2, max_side=3))
    shapes = [first, second] + ([first] if draw(st.booleans()) else [])
    leaves = [draw(float_arrays(np.float64, s, bound=1.5)) for s in shapes]
    steps, result_shapes = [], list(shapes)
    for _ in range(draw(st.integers(1, 5))):
        pairs = [(i, j) for i in range(len(result_shapes)) for j in range(len(result_shapes))
                 if _broadcast(result_shapes[i], result_shapes[j])]
        if draw(st.booleans()):
            op = draw(st.sampled_from(sorted(BINARY)))
            i, j = draw(st.sampled_from(pairs))
            steps.append((op, (i, j)))
            result_shapes.append(np.broadcast_shapes(result_shapes[i], result_shapes[j]))
        else:
            op = draw(st.sampled_from(sorted(UNARY)))
            i = draw(st.integers(0, len(result_shapes) - 1))
            steps.append((op, (i,)))
            probe = UNARY[op][0](Tensor(np.ones(result_shapes[i])))
            result_shapes.append(probe.shape)
    return leaves, steps


def _run(steps, tensors):
    """The sum of every step's result (so each op reaches the output) computed from
    ``tensors``, and the value of every step's inputs (as numpy arrays) on the way."""
    values, seen = list(tensors), []
    total = 0
    for op, args in steps:
        fn = (BINARY if len(args) == 2 else UNARY)[op][0]
        inputs = [values[i] for i in args]
        seen.append([t.numpy() for t in inputs])
        values.append(fn(*inputs))
        total = values[-1].sum() + total
    return total, seen


@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture])
@given(program=programs())
def test_random_graphs_have_the_gradients_of_finite_differences(cpu_backend, program):
    leaves, steps = program
    note(f"leaves of shapes {[a.shape for a in leaves]}; steps {steps}")
    with np.errstate(all="ignore"):   # out-of-domain examples are rejected just below
        _, seen = _run(steps, [Tensor(a) for a in leaves])
    for (op, args), inputs in zip(steps, seen):
        fine = (BINARY if len(args) == 2 else UNARY)[op][1]
        assume(fine is None or fine(*inputs))
        assume(all(np.all(np.isfinite(a)) and np.all(np.abs(a) < 1e3) for a in inputs))
    tensors = [Tensor(a, requires_grad=True) for a in leaves]
    assert gradcheck(lambda *ts: _run(steps, ts)[0], tensors, eps=1e-6, atol=1e-5, rtol=1e-4)
