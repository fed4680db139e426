"""Every user mistake raises one of our exceptions, and its message names the op, the shapes or
dtypes involved, and what was expected."""

import re

import numpy as np
import pytest

import tinygrad_edu

from tinygrad_edu import (AxisError, DTypeError, GradError, IndexingError, ShapeError, Tensor,
                          TinygradEduError, cat, gradcheck, linear_act, stack, where)


def _raises(error, fn, *fragments):
    """Call ``fn``; it must raise ``error`` whose message contains every fragment."""
    with pytest.raises(error) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"
    assert isinstance(info.value, TinygradEduError)
    return message


A23, B43, V4 = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3))), Tensor(np.ones(4))


@pytest.mark.parametrize("fn, fragments", [
    (lambda: A23 @ B43, ["matmul", "(2, 3)", "(4, 3)", "(3)", "(4)"]),
    (lambda: A23.matmul(V4), ["matmul", "(2, 3)", "(4,)"]),
    (lambda: Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 2))),
     ["matmul", "(2,)", "(3,)", "broadcast"]),
    (lambda: A23 @ Tensor(2.0), ["matmul", "()", "at least 1 dimension"]),
], ids=["2d", "vector", "batch", "0d"])
def test_matmul_shape_mismatch(fn, fragments):
    _raises(ShapeError, fn, *fragments)


@pytest.mark.parametrize("op, fn", [
    ("add", lambda: A23 + B43), ("sub", lambda: A23 - B43), ("mul", lambda: A23 * B43),
    ("div", lambda: A23 / B43), ("pow", lambda: A23 ** B43), ("add", lambda: B43 + A23.T),
    ("where", lambda: where(Tensor(np.ones((2, 3)) > 0), A23, B43)),
])
def test_impossible_broadcast(op, fn):
    message = _raises(ShapeError, fn, op, "broadcast")
    assert re.search(r"\(\d, \d\)", message)


@pytest.mark.parametrize("fn, fragments", [
    (lambda: A23.reshape(4, 2), ["reshape", "(2, 3)", "(4, 2)", "6", "8"]),
    (lambda: A23.reshape(-1, 4), ["reshape", "(2, 3)", "(-1, 4)"]),
    (lambda: A23.reshape(-1, -1), ["reshape", "(-1, -1)", "one -1"]),
])
def test_reshape_to_incompatible_size(fn, fragments):
    _raises(ShapeError, fn, *fragments)


@pytest.mark.parametrize("op, fn", [
    ("sum", lambda: A23.sum(2)), ("mean", lambda: A23.mean(-3)), ("max", lambda: A23.max(5)),
    ("min", lambda: A23.min((0, 2))), ("softmax", lambda: A23.softmax(2)),
    ("log_softmax", lambda: A23.log_softmax(-3)), ("logsumexp", lambda: A23.logsumexp(2)),
    ("flatten", lambda: A23.flatten(3)), ("cat", lambda: cat([A23, A23], axis=2)),
    ("prod", lambda: A23.prod(2)), ("var", lambda: A23.var(dim=-3)),
    ("cumsum", lambda: A23.cumsum(2)), ("argmax", lambda: A23.argmax(dim=2)),
    ("any", lambda: A23.any(3)), ("flip", lambda: A23.flip(2)), ("squeeze", lambda: A23.squeeze(2)),
    ("size", lambda: A23.size(2)),
])
def test_axis_out_of_range(op, fn):
    _raises(AxisError, fn, op, "out of range", "2 dimensions")


def test_other_axis_and_index_mistakes():
    _raises(AxisError, lambda: A23.permute(0, 0), "permute", "(0, 0)", "(2, 3)")
    _raises(AxisError, lambda: A23.transpose(0, 2), "transpose", "axis 2", "2 dimensions")
    _raises(AxisError, lambda: A23.sum((0, 0)), "sum", "repeated")
    _raises(AxisError, lambda: stack([A23], axis=4), "stack", "axis 4")
    _raises(AxisError, lambda: A23.unsqueeze(4), "unsqueeze", "axis 4")
    _raises(IndexingError, lambda: A23[5], "getitem", "(2, 3)", "5")
    _raises(IndexingError, lambda: A23[0.5], "getitem", "0.5")
    _raises(IndexingError, lambda: A23[np.array([0.0])], "getitem", "float64")
    _raises(IndexingError, lambda: A23[0, 0, 0], "getitem", "(2, 3)")


@pytest.mark.parametrize("data, fragments", [
    ("abc", ["Tensor", "str"]), ([["a"]], ["Tensor", "strings"]),
    ([object()], ["Tensor", "objects"]), (None, ["Tensor", "NoneType"]),
    ([1j, 2j], ["Tensor", "complex"]), ({"a": 1}, ["Tensor", "objects"]),
])
def test_non_numeric_data(data, fragments):
    _raises(DTypeError, lambda: Tensor(data), *fragments)


@pytest.mark.parametrize("op, fn, fragments", [
    ("add", lambda: A23 + "x", ["str"]), ("mul", lambda: A23 * None, ["NoneType"]),
    ("add", lambda: A23 + 1j, ["complex"]), ("sub", lambda: 2j - A23, ["complex"]),
    ("matmul", lambda: A23 @ "x", ["str"]),
])
def test_non_numeric_operand(op, fn, fragments):
    _raises(DTypeError, fn, op, *fragments)


def test_integer_tensor_with_requires_grad():
    _raises(DTypeError, lambda: Tensor([1, 2], requires_grad=True), "Tensor", "int64",
            "float32")
    _raises(DTypeError, lambda: Tensor.arange(3).requires_grad_(), "requires_grad_", "int64")
    _raises(DTypeError, lambda: Tensor([1, 2]).exp(), "exp", "int64")
    _raises(DTypeError, lambda: Tensor([1, 2]).softmax(), "softmax", "int64")


def test_backward_on_non_scalar_without_grad():
    out = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    _raises(GradError, out.backward, "backward", "(2, 3)", "grad")
    _raises(ShapeError, lambda: out.backward(np.ones(3)), "backward", "(3,)", "(2, 3)")


@pytest.mark.parametrize("fn, fragments", [
    (lambda: A23.expand(3, 3), ["expand", "(2, 3)", "(3, 3)", "dimension 0", "size 2"]),
    (lambda: A23.expand(3), ["expand", "(3,)", "fewer dimensions", "(2, 3)"]),
    (lambda: A23.expand(-1, 2, 3), ["expand", "dimension 0", "new"]),
    (lambda: A23.repeat(2), ["repeat", "(2, 3)", "(2,)"]),
    (lambda: A23.repeat(2, -1), ["repeat", "(2, -1)"]),
    (lambda: Tensor(np.ones((2, 2, 2))).t(), ["t:", "(2, 2, 2)", "permute"]),
], ids=["expand_size", "expand_fewer", "expand_new_minus_one", "repeat_fewer", "repeat_negative",
        "t_3d"])
def test_expand_repeat_and_t_mistakes(fn, fragments):
    _raises(ShapeError, fn, *fragments)


def test_join_and_layer_mistakes():
    _raises(ShapeError, lambda: cat([A23, Tensor(np.ones((2, 2)))], axis=0), "cat", "(2, 3)",
            "(2, 2)")
    _raises(ShapeError, lambda: stack([A23, B43]), "stack", "(2, 3)", "(4, 3)")
    _raises(ShapeError, lambda: cat([Tensor(1.0)]), "cat", "zero-dimensional")
    _raises(DTypeError, lambda: where(A23, A23, A23), "where", "float64", "bool")
    _raises(ShapeError, lambda: linear_act(A23, B43), "linear_act", "(2, 3)", "(4, 3)")
    _raises(ShapeError, lambda: linear_act(A23, B43.T, Tensor(np.ones(3))), "linear_act",
            "(3,)", "(4,)")
    _raises(DTypeError, lambda: linear_act(A23, B43.T.float()), "linear_act", "float32",
            "float64")


def test_gradcheck_refuses_float32_inputs_and_names_the_input():
    x = Tensor([1.0, 2.0], requires_grad=True)
    _raises(DTypeError, lambda: gradcheck(lambda t: t.sum(), [x]), "gradcheck", "input 0",
            "float32", "float64")


def test_our_errors_are_also_the_builtin_a_user_would_catch():
    with pytest.raises(ValueError):
        A23 @ B43
    with pytest.raises(TypeError):
        Tensor("abc")
    with pytest.raises(IndexError):
        A23.sum(5)
    with pytest.raises(RuntimeError):
        (A23 * 1.0).backward()


@pytest.mark.parametrize("call, words", [
    (lambda: Tensor([1.0]).clip(2.0, 1.0), ["clip", "lo", "hi"]),
    (lambda: Tensor([1.0]).gelu(approximate="fast"), ["gelu", "'fast'"]),
    (lambda: Tensor.arange(0, 5, 0), ["arange", "step"]),
    (lambda: tinygrad_edu.set_backend("tpu"), ["backend", "'tpu'", "numpy"]),
    (lambda: tinygrad_edu.linear_act(Tensor([[1.0]]), Tensor([[1.0]]), activation="rleu"),
     ["activation", "'rleu'", "relu"]),
    (lambda: tinygrad_edu.cat([]), ["cat", "non-empty"]),
])
def test_bad_argument_values_raise_our_argument_error_naming_the_op(call, words):
    with pytest.raises(tinygrad_edu.ArgumentError) as info:
        call()
    assert isinstance(info.value, ValueError)
    for word in words:
        assert word in str(info.value)
