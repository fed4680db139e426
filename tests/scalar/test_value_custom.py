"""Value.custom: an op of your own in the scalar engine, with its local derivatives."""

import math

import pytest

from tinygrad_edu import ArgumentError, DTypeError, Value, gradcheck


def softplus(x):
    """log(1 + e^x);  d/dx = sigmoid(x)."""
    return Value.custom(math.log1p(math.exp(x.data)), (x,), (1 / (1 + math.exp(-x.data)),),
                        op="softplus")


def hypot(a, b):
    """sqrt(a² + b²);  d/da = a / out, d/db = b / out."""
    out = math.hypot(a.data, b.data)
    return Value.custom(out, (a, b), (a.data / out, b.data / out), op="hypot")


def test_a_custom_op_is_a_node_like_any_other():
    a, b = Value(3.0), Value(-4.0)
    out = hypot(a, b)
    assert (out.data, out.op, out.inputs, out.local_grads) == (5.0, "hypot", (a, b), (0.6, -0.8))
    (out * 2).backward()
    assert (a.grad, b.grad) == pytest.approx((1.2, -1.6))


def test_custom_ops_pass_gradcheck_inside_larger_graphs():
    assert gradcheck(lambda a, b: softplus(hypot(a * b, b + 1)).tanh(),
                     [Value(0.3), Value(-1.2)])


def test_a_custom_op_used_twice_accumulates_its_gradient():
    x = Value(0.5)
    y = softplus(x) * softplus(x)
    y.backward()
    s = 1 / (1 + math.exp(-0.5))
    assert x.grad == pytest.approx(2 * math.log1p(math.exp(0.5)) * s)


@pytest.mark.parametrize("args, error, words", [
    ((1.0, (), (), "nothing"), ArgumentError, "one or two inputs, got 0"),
    ((1.0, (Value(1.0),) * 3, (1.0,) * 3, "three"), ArgumentError, "several ops"),
    ((1.0, (Value(1.0),), (1.0, 2.0), "two_grads"), ArgumentError, "need as many local_grads"),
    ((1.0, (1.0,), (1.0,), "number_input"), DTypeError, "wrap a number as Value"),
    ((1.0, Value(1.0), (1.0,), "bare"), DTypeError, "must be tuples"),
    ((Value(1.0), (Value(1.0),), (1.0,), "value_data"), DTypeError, "use x.data"),
    ((1.0, (Value(1.0),), ("1",), "text_grad"), DTypeError, "real numbers"),
    ((1.0, (Value(1.0),), (True,), "bool_grad"), DTypeError, "real numbers"),
    ((1.0, (Value(1.0),), (1.0,), ""), DTypeError, "non-empty name"),
])
def test_mistakes_in_a_custom_op_are_reported_with_its_name(args, error, words):
    with pytest.raises(error, match=words) as info:
        Value.custom(*args)
    if args[3]:
        assert args[3] in str(info.value)
