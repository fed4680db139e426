"""The scalar engine: every Value op against its math formula, gradients by finite
differences, and the graph walk on deep, shared and repeated graphs."""

import math

import pytest

from tinygrad_edu import DTypeError, Value, gradcheck
from tinygrad_edu.scalar.value import zero_grad


def _gelu(x):
    return 0.5 * x * (1 + math.erf(x / math.sqrt(2)))


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


# name -> (Value function, the same function written with math, inputs away from kinks)
UNARY = {
    "neg": (lambda v: -v, lambda x: -x, [-1.3, 0.4, 2.0]),
    "exp": (lambda v: v.exp(), math.exp, [-2.0, 0.3, 1.7]),
    "log": (lambda v: v.log(), math.log, [0.2, 1.0, 3.5]),
    "tanh": (lambda v: v.tanh(), math.tanh, [-2.5, 0.1, 1.2]),
    "sigmoid": (lambda v: v.sigmoid(), _sigmoid, [-3.0, 0.0, 2.2]),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0), [-1.5, 0.7, 2.0]),
    "leaky_relu": (lambda v: v.leaky_relu(), lambda x: x if x > 0 else 0.01 * x,
                   [-1.5, 0.7, 3.0]),
    "leaky_relu_0.2": (lambda v: v.leaky_relu(negative_slope=0.2),
                       lambda x: x if x > 0 else 0.2 * x, [-1.5, 0.7, -0.3]),
    "gelu": (lambda v: v.gelu(), _gelu, [-2.0, -0.3, 0.0, 1.4]),
    "silu": (lambda v: v.silu(), lambda x: x * _sigmoid(x), [-2.0, 0.5, 3.0]),
    "square": (lambda v: v ** 2, lambda x: x ** 2, [-1.5, 0.5, 2.0]),
    "pow_half": (lambda v: v ** 0.5, math.sqrt, [0.3, 2.0]),
    "pow_neg": (lambda v: v ** -1.5, lambda x: x ** -1.5, [0.3, 2.0]),
    "rpow": (lambda v: 2 ** v, lambda x: 2 ** x, [-1.0, 0.5, 3.0]),
    "radd": (lambda v: 2 + v, lambda x: 2 + x, [-1.0, 0.5]),
    "rsub": (lambda v: 1 - v, lambda x: 1 - x, [-1.0, 0.5]),
    "rmul": (lambda v: 2 * v, lambda x: 2 * x, [-1.0, 0.5]),
    "rdiv": (lambda v: 1 / v, lambda x: 1 / x, [-1.5, 0.5]),
}

BINARY = {
    "add": (lambda a, b: a + b, lambda x, y: x + y),
    "sub": (lambda a, b: a - b, lambda x, y: x - y),
    "mul": (lambda a, b: a * b, lambda x, y: x * y),
    "div": (lambda a, b: a / b, lambda x, y: x / y),
    "pow": (lambda a, b: a ** b, lambda x, y: x ** y),
}
BINARY_INPUTS = [(1.3, 0.7), (0.4, -2.1), (2.5, 3.0)]


@pytest.mark.parametrize("name", UNARY)
def test_unary_value_matches_formula_and_gradient_matches_finite_differences(name):
    fn, formula, inputs = UNARY[name]
    for x in inputs:
        assert fn(Value(x)).data == pytest.approx(formula(x), rel=1e-12, abs=1e-15)
        assert gradcheck(fn, [Value(x)])


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("x, y", BINARY_INPUTS)
def test_binary_value_matches_formula_and_gradient_matches_finite_differences(name, x, y):
    fn, formula = BINARY[name]
    assert fn(Value(x), Value(y)).data == pytest.approx(formula(x, y), rel=1e-12)
    assert gradcheck(fn, [Value(x), Value(y)])
    # A plain number on either side gives the same value as a Value there.
    assert fn(Value(x), y).data == pytest.approx(formula(x, y), rel=1e-12)
    assert fn(x, Value(y)).data == pytest.approx(formula(x, y), rel=1e-12)


def test_local_derivatives_of_each_op_are_exact():
    a, b = Value(3.0), Value(2.0)
    cases = [(a * b, 2.0, 3.0), (a / b, 0.5, -0.75), (a ** b, 6.0, 9.0 * math.log(3.0)),
             (a - b, 1.0, -1.0)]
    for out, da, db in cases:
        a.grad = b.grad = 0.0
        out.backward()
        assert (a.grad, b.grad) == pytest.approx((da, db), rel=1e-15)


def test_pow_gradient_with_respect_to_exponent_is_zero_at_base_zero():
    base, exponent = Value(0.0), Value(2.0)
    (base ** exponent).backward()
    assert (base.grad, exponent.grad) == (0.0, 0.0)


def test_fractional_power_at_zero_has_infinite_slope_instead_of_raising():
    x = Value(0.0)
    y = x ** 0.5
    y.backward()
    assert y.data == 0.0 and x.grad == math.inf
    assert (Value(0.0) ** -1).data == math.inf


def test_relu_family_takes_left_derivative_at_zero():
    for fn, slope in [(Value.relu, 0.0), (lambda v: v.leaky_relu(0.3), 0.3)]:
        x = Value(0.0)
        fn(x).backward()
        assert x.grad == slope


def test_sigmoid_and_exp_stay_finite_at_large_inputs():
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(-1000.0).exp().data == 0.0
    assert Value(1000.0).exp().data == math.inf


def test_hundred_thousand_deep_chain_backpropagates_without_recursion():
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    assert x.grad == pytest.approx(1.00001 ** 100_000, rel=1e-9)
    assert y.grad == 1.0


def test_diamond_sums_gradients_over_both_paths():
    x = Value(1.5)
    left, right = x + 1, x * 2
    out = left * right  # (x + 1) * 2x, derivative 4x + 2
    out.backward()
    assert x.grad == pytest.approx(4 * 1.5 + 2, rel=1e-15)
    assert left.grad == right.data and right.grad == left.data


def test_node_reused_many_times_gets_the_sum_of_its_uses():
    x = Value(0.5)
    h = x * x  # shared by every term below
    total = Value(0.0)
    for k in range(1, 501):
        total = total + h * k
    total.backward()
    assert h.grad == pytest.approx(sum(range(1, 501)), rel=1e-15)
    assert x.grad == pytest.approx(2 * 0.5 * sum(range(1, 501)), rel=1e-15)


def test_backward_twice_accumulates_exactly_twice_the_gradient():
    x, w = Value(0.7), Value(-1.2)
    out = (x * w + 0.3).tanh()
    out.backward()
    once = (x.grad, w.grad)
    out.backward()
    assert (x.grad, w.grad) == (2 * once[0], 2 * once[1])


def test_zero_grad_resets_the_whole_graph_and_the_helper_resets_given_values():
    x, w = Value(0.7), Value(-1.2)
    out = (x * w).exp()
    out.backward()
    assert x.grad != 0.0 and w.grad != 0.0
    out.zero_grad()
    assert (x.grad, w.grad, out.grad) == (0.0, 0.0, 0.0)
    out.backward()
    zero_grad([x])
    assert x.grad == 0.0 and w.grad != 0.0


def test_graph_keeps_parents_op_and_label_for_renderers():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    assert c.inputs == (a, b) and c.op == "*" and a.op == ""
    assert a.label == "a" and "a" in repr(a)
    assert c.local_grads == (3.0, 2.0)


def test_comparisons_sort_values_by_data():
    values = [Value(3.0), Value(-1.0), Value(2.0)]
    assert [v.data for v in sorted(values)] == [-1.0, 2.0, 3.0]
    assert Value(1.0) < 2 and Value(2.0) >= Value(2.0) and not Value(1.0) > 1.0
    assert max(values).data == 3.0


@pytest.mark.parametrize("bad", ["1.0", 1 + 2j, None, [1.0]])
def test_non_real_data_raises_dtype_error(bad):
    with pytest.raises(DTypeError, match="Value"):
        Value(bad)


@pytest.mark.parametrize("bad", ["2", 1j, None])
def test_non_real_operand_raises_dtype_error_naming_the_op(bad):
    with pytest.raises(DTypeError, match=r"Value \*"):
        Value(1.0) * bad


def test_float_and_numpy_numbers_are_accepted_as_data():
    np = pytest.importorskip("numpy")
    assert Value(np.float32(0.5)).data == 0.5 and isinstance(Value(3).data, float)
    assert float(Value(2.5)) == 2.5
