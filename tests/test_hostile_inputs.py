"""The table of hostile inputs: each user mistake raises our exception (a TinygradEduError and
the fitting builtin) with a message naming what was given and what is expected, and leaves
every object it touched exactly as it was.

Each row is (id, make, error, words): ``make(tmp_path)`` builds what the mistake needs and
returns ``(call, watched)``: ``call()`` makes the mistake; ``watched`` are the objects whose
state must not change (tensors, modules, optimizers, files). The library's random stream is
always watched. Add a row for every mistake a user makes that deserves a better message.
"""

import math
import pathlib
import pickle

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import (AllocationError, ArgumentError, ArgumentTypeError, CheckpointError,
                          DTypeError, Function, GradError, NonFiniteError, ShapeError, Tensor,
                          TinygradEduError, nn, optim)
from tinygrad_edu.nn import init
from tinygrad_edu.random import get_generator
from tinygrad_edu.tensor.autodiff import write_stamp
from tinygrad_edu.viz import VizError, render_graph


# ---- what "nothing changed" means for each kind of object ----

def _state(thing):
    if isinstance(thing, Tensor):
        return ("tensor", thing.numpy().copy(), None if thing.grad is None else
                thing.grad.numpy().copy(), thing.requires_grad, thing.dtype, write_stamp(thing))
    if isinstance(thing, nn.Module):
        return ("module", [(name, _state(p)) for name, p in thing.named_parameters()])
    if isinstance(thing, optim.Optimizer):
        return ("optimizer", thing.state_dict(), [_state(p) for p in thing.params])
    if isinstance(thing, dict):
        return ("dict", {key: _state(v) if isinstance(v, Tensor) else np.array(v)
                         for key, v in thing.items()})
    if isinstance(thing, pathlib.Path):
        return ("file", sorted(p.name for p in thing.parent.iterdir()),
                thing.read_bytes() if thing.exists() else None)
    raise TypeError(f"no snapshot for {type(thing).__name__}")


def _same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


# ---- the objects the rows use ----

def _param(*shape):
    return Tensor.zeros(*shape, requires_grad=True)


def _with_grad(values):
    p = _param(len(values))
    p.grad = Tensor(values)
    return p


def _sgd():
    p = _with_grad([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    return opt


def _adam():
    p = _with_grad([1.0, 2.0])
    opt = optim.Adam([p], lr=0.1)
    opt.step()
    return opt


def _edited_state(opt, hyper=None, entry=None):
    state = opt.state_dict()
    state["hyperparameters"].update(hyper or {})
    if entry is not None:
        state["state"][0] = entry
    return state


def _set(obj, name, value):
    return lambda: setattr(obj, name, value)


def _file(tmp, data, name="model.npz"):
    path = tmp / name
    path.write_bytes(data)
    return path


def _checkpoint_bytes(tmp):
    tg.manual_seed(0)
    nn.MLP(2, [3], 1).save(tmp / "good.npz")
    data = (tmp / "good.npz").read_bytes()
    (tmp / "good.npz").unlink()
    return data


def _load(tmp, data):
    model, path = nn.MLP(2, [3], 1), _file(tmp, data)
    return lambda: model.load(path), (model, path)


def _foreign_npz(tmp):
    path = tmp / "other.npz"
    np.savez(path, w=np.ones(3))
    model = nn.MLP(2, [3], 1)
    return lambda: model.load(path), (model, path)


def _pickled_npz(tmp):
    path = tmp / "objects.npz"
    np.savez(path, **{name: np.array([object()], dtype=object)
                      for name in nn.MLP(2, [3], 1).state_dict()})
    model = nn.MLP(2, [3], 1)
    return lambda: model.load(path), (model, path)


class _OneGradForTwo(Function):
    op = "one_grad_for_two"

    def forward(self, a, b):
        return self.backend.add(a, b)

    def backward(self, g):
        return (g,)


class _WrongShape(Function):
    op = "wrong_shape"

    def forward(self, a):
        return self.backend.mul(a, a)

    def backward(self, g):
        return (self.backend.full((3,), 1.0, g.dtype),)


class _IntegerGrad(Function):
    op = "integer_grad"

    def forward(self, a):
        return self.backend.mul(a, a)

    def backward(self, g):
        return (self.backend.full(g.shape, 1, np.int64),)


class _ReturnsTensor(Function):
    op = "returns_tensor"

    def forward(self, a):
        return Tensor([1.0])


class _ReturnsList(Function):
    op = "returns_list"

    def forward(self, a):
        return [1.0, 2.0]


def _custom_backward(cls, *xs):
    def make(tmp):
        leaves = [Tensor(x, requires_grad=True) for x in xs]
        out = cls.apply(*leaves)
        return (lambda: out.backward(np.ones(out.shape))), (*leaves, out)
    return make


def _step_before_backward(tmp):
    tg.manual_seed(0)
    model = nn.MLP(3, [4], 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = nn.functional.mse_loss(model(Tensor.randn(5, 3)), Tensor.randn(5, 1))
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.backward, (model,)


def _copy_between_forward_and_backward(tmp):
    x, w = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    x.copy_([100.0, 100.0])
    return y.backward, (x, w)


def _plain(make_call):
    """A row whose call needs nothing built first and changes nothing but the random stream."""
    return lambda tmp: (make_call, ())


def _on(make_objects, action):
    """A row acting on fresh objects: ``action(*objects)`` makes the mistake."""
    def make(tmp):
        objects = make_objects()
        objects = objects if isinstance(objects, tuple) else (objects,)
        return (lambda: action(*objects)), objects
    return make


P = _param   # short, for the rows


ROWS = [
    # ---- creation: sizes and fill values ----
    ("zeros negative size", _plain(lambda: Tensor.zeros(2, -3)), ShapeError,
     ["zeros", ">= 0", "(2, -3)"]),
    ("ones float size", _plain(lambda: Tensor.ones(2.5)), ShapeError, ["ones", "ints", "2.5"]),
    ("randn negative size", _plain(lambda: Tensor.randn(-1)), ShapeError, ["randn", ">= 0"]),
    ("rand absurd size", _plain(lambda: Tensor.rand(2 ** 40, 2 ** 40)), ShapeError,
     ["rand", "(1099511627776, 1099511627776)", "address"]),
    ("full string fill", _plain(lambda: Tensor.full((2,), "x")), DTypeError,
     ["full", "fill_value", "str", "'x'"]),
    ("full None fill", _plain(lambda: Tensor.full((2,), None)), DTypeError,
     ["full", "fill_value", "NoneType"]),
    ("full fraction into int", _plain(lambda: Tensor.full((2,), 2.5, dtype=np.int64)),
     ArgumentError, ["full", "2.5", "int64", "not an integer"]),
    ("full nan into int", _plain(lambda: Tensor.full((2,), math.nan, dtype=np.int32)),
     ArgumentError, ["full", "nan", "int32"]),
    ("full out of uint8 range", _plain(lambda: Tensor.full((2,), 300, dtype=np.uint8)),
     ArgumentError, ["full", "300", "uint8", "[0, 255]"]),
    ("full overflowing float32", _plain(lambda: Tensor.full((2,), 1e300)), ArgumentError,
     ["full", "1e+300", "float32", "inf", "float64"]),
    ("full 2 into bool", _plain(lambda: Tensor.full((2,), 2, dtype=np.bool_)), ArgumentError,
     ["full", "2", "bool"]),
    ("arange nan", _plain(lambda: Tensor.arange(math.nan)), ArgumentError,
     ["arange", "stop", "finite", "nan"]),
    ("arange string", _plain(lambda: Tensor.arange("5")), ArgumentTypeError,
     ["arange", "stop", "str", "'5'"]),
    ("arange absurd length", _plain(lambda: Tensor.arange(0, 10 ** 30)), ShapeError,
     ["arange", "address"]),
    ("eye negative", _plain(lambda: Tensor.eye(-1)), ShapeError, ["eye", ">= 0"]),
    ("eye float", _plain(lambda: Tensor.eye(2.5)), ShapeError, ["eye", "ints", "2.5"]),
    ("zeros_like a list", _plain(lambda: Tensor.zeros_like([1, 2])), ArgumentTypeError,
     ["zeros_like", "list", "Tensor.zeros"]),
    # ---- ops ----
    ("int to a negative power", _plain(lambda: Tensor([2, 3]) ** -1), ArgumentError,
     ["pow", "int64", "negative", "-1", ".float()"]),
    ("int base, negative tensor exponent", _plain(lambda: 2 ** Tensor([1, -2])), ArgumentError,
     ["pow", "negative", "-2"]),
    ("max of an empty tensor", _plain(lambda: Tensor.zeros(0).max()), ShapeError,
     ["max", "empty", "(0,)"]),
    # ---- optimizers: construction, assignment, load_state_dict, clipping ----
    ("lr string", _plain(lambda: optim.SGD([P(2)], lr="0.1")), ArgumentTypeError,
     ["SGD", "lr", "str", "'0.1'"]),
    ("lr nan", _plain(lambda: optim.SGD([P(2)], lr=math.nan)), ArgumentError,
     ["SGD", "lr", "nan", "finite"]),
    ("lr inf", _plain(lambda: optim.Adam([P(2)], lr=math.inf)), ArgumentError,
     ["Adam", "lr", "inf"]),
    ("lr bool", _plain(lambda: optim.SGD([P(2)], lr=True)), ArgumentTypeError,
     ["SGD", "lr", "bool"]),
    ("momentum nan", _plain(lambda: optim.SGD([P(2)], lr=0.1, momentum=math.nan)),
     ArgumentError, ["momentum", "nan"]),
    ("nesterov string", _plain(lambda: optim.SGD([P(2)], lr=0.1, momentum=0.9, nesterov="yes")),
     ArgumentTypeError, ["nesterov", "True or False", "'yes'"]),
    ("betas of one", _plain(lambda: optim.Adam([P(2)], betas=(0.9,))), ArgumentTypeError,
     ["Adam", "betas", "pair", "(0.9,)"]),
    ("betas of three", _plain(lambda: optim.Adam([P(2)], betas=(0.9, 0.99, 0.5))),
     ArgumentTypeError, ["betas", "pair"]),
    ("betas a number", _plain(lambda: optim.AdamW([P(2)], betas=0.9)), ArgumentTypeError,
     ["AdamW", "betas", "0.9"]),
    ("beta2 of 1", _plain(lambda: optim.Adam([P(2)], betas=(0.9, 1.0))), ArgumentError,
     ["beta2", "1.0", "[0.0, 1.0)"]),
    ("eps negative", _plain(lambda: optim.Adam([P(2)], eps=-1e-8)), ArgumentError, ["eps"]),
    ("assigned lr nan", _on(_sgd, lambda o: setattr(o, "lr", math.nan)), ArgumentError,
     ["SGD", "lr", "nan"]),
    ("assigned lr string", _on(_sgd, lambda o: setattr(o, "lr", "0.01")), ArgumentTypeError,
     ["lr", "str"]),
    ("assigned betas of one", _on(_adam, lambda o: setattr(o, "betas", (0.9,))),
     ArgumentTypeError, ["betas", "pair"]),
    ("assigned nesterov without momentum",
     _on(lambda: optim.SGD([P(2)], lr=0.1), lambda o: setattr(o, "nesterov", True)),
     ArgumentError, ["nesterov", "momentum > 0"]),
    ("loaded lr inf", _on(_sgd, lambda o: o.load_state_dict(_edited_state(o, {"lr": math.inf}))),
     ArgumentError, ["SGD.load_state_dict", "lr", "inf"]),
    ("loaded betas of one",
     _on(_adam, lambda o: o.load_state_dict(_edited_state(o, {"betas": (0.5,)}))),
     ArgumentTypeError, ["Adam.load_state_dict", "betas"]),
    ("loaded state lacking a hyperparameter",
     _on(_sgd, lambda o: o.load_state_dict(
         {"hyperparameters": {"lr": 0.1}, "state": o.state_dict()["state"]})),
     ArgumentError, ["lacks", "momentum"]),
    ("loaded a model's state dict",
     _on(lambda: (_sgd(), nn.Linear(2, 1).state_dict()), lambda o, s: o.load_state_dict(s)),
     ArgumentError,
     ["hyperparameters", "model.load_state_dict", "weight"]),
    ("loaded a string", _on(_sgd, lambda o: o.load_state_dict("state.npz")),
     ArgumentTypeError, ["load_state_dict", "str"]),
    ("loaded an unknown state key",
     _on(_sgd, lambda o: o.load_state_dict(_edited_state(o, entry={"velocity": np.zeros(2)}))),
     ArgumentError, ["parameter 0", "'velocity'", "momentum_buffer"]),
    ("loaded a partial Adam state",
     _on(_adam, lambda o: o.load_state_dict(_edited_state(o, entry={"exp_avg": np.zeros(2)}))),
     ArgumentError, ["parameter 0", "exp_avg_sq", "step"]),
    ("loaded a negative step",
     _on(_adam, lambda o: o.load_state_dict(_edited_state(o, entry={
         "step": -1, "exp_avg": np.zeros(2), "exp_avg_sq": np.zeros(2)}))),
     ArgumentError, ["'step'", "count", "-1"]),
    ("loaded a fractional step",
     _on(_adam, lambda o: o.load_state_dict(_edited_state(o, entry={
         "step": 2.5, "exp_avg": np.zeros(2), "exp_avg_sq": np.zeros(2)}))),
     ArgumentError, ["'step'", "2.5"]),
    ("loaded integer moments",
     _on(_adam, lambda o: o.load_state_dict(_edited_state(o, entry={
         "step": 1, "exp_avg": np.zeros(2, np.int64), "exp_avg_sq": np.zeros(2)}))),
     DTypeError, ["'exp_avg'", "int64", "floating"]),
    ("loaded a state entry that is a list",
     _on(_sgd, lambda o: o.load_state_dict(_edited_state(o, entry=[np.zeros(2)]))),
     ArgumentTypeError, ["parameter 0", "dict", "list"]),
    ("clip max_norm nan",
     _on(lambda: _with_grad([3.0, 4.0]), lambda p: optim.clip_grad_norm_([p], math.nan)),
     ArgumentError, ["clip_grad_norm_", "max_norm", "nan"]),
    ("clip max_norm string",
     _on(lambda: _with_grad([3.0, 4.0]), lambda p: optim.clip_grad_norm_([p], "1")),
     ArgumentTypeError, ["clip_grad_norm_", "max_norm", "str"]),
    ("clip norm_type 0",
     _on(lambda: _with_grad([3.0, 4.0]), lambda p: optim.clip_grad_norm_([p], 1.0, 0)),
     ArgumentError, ["clip_grad_norm_", "norm_type", "0"]),
    ("clip an infinite gradient with error_if_nonfinite",
     _on(lambda: (_with_grad([3.0, 4.0]), _with_grad([math.inf, 1.0])),
         lambda a, b: optim.clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)),
     NonFiniteError, ["clip_grad_norm_", "inf", "gradient(s) [1]", "error_if_nonfinite"]),
    ("clip a list of numbers", _plain(lambda: optim.clip_grad_norm_([1.0, 2.0], 1.0)),
     ArgumentTypeError, ["clip_grad_norm_", "parameter 0", "float"]),
    # ---- nn constructors, assignments and initializers ----
    ("MLP hidden None", _plain(lambda: nn.MLP(3, None, 1)), ArgumentTypeError,
     ["MLP", "hidden", "None", "[] for none"]),
    ("MLP hidden size None", _plain(lambda: nn.MLP(3, [4, None], 1)), ArgumentError,
     ["MLP", "hidden size 1", "None"]),
    ("MLP hidden float", _plain(lambda: nn.MLP(3, 4.5, 1)), ArgumentTypeError,
     ["MLP", "hidden", "4.5"]),
    ("MLP hidden string", _plain(lambda: nn.MLP(3, "4", 1)), ArgumentTypeError,
     ["MLP", "hidden", "'4'"]),
    ("MLP nin 0", _plain(lambda: nn.MLP(0, [4], 1)), ArgumentError, ["MLP", "nin", "0"]),
    ("Layer unknown activation", _plain(lambda: nn.Layer(3, 4, activation="rleu")),
     ArgumentError, ["'rleu'", "relu"]),
    ("Layer slope string", _plain(lambda: nn.Layer(3, 4, negative_slope="a")),
     ArgumentTypeError, ["Layer", "negative_slope", "'a'"]),
    ("Neuron slope nan", _plain(lambda: nn.Neuron(3, negative_slope=math.nan)), ArgumentError,
     ["Neuron", "negative_slope", "nan"]),
    ("Layer unknown init", _plain(lambda: nn.Layer(3, 4, init="bad")), ArgumentError,
     ["init", "'bad'", "he_normal"]),
    ("Linear float size", _plain(lambda: nn.Linear(3, 4.0)), ArgumentError,
     ["Linear", "nout", "4.0"]),
    ("a Tensor over a Parameter",
     _on(lambda: nn.Layer(3, 4), lambda m: setattr(m, "weight", Tensor.ones(3, 4))),
     ArgumentTypeError, ["Layer", "Tensor", "'weight'", "Parameter", "copy_"]),
    ("an array over a Parameter",
     _on(lambda: nn.Linear(3, 4), lambda m: setattr(m, "bias", np.zeros(4))),
     ArgumentTypeError, ["Linear", "ndarray", "'bias'"]),
    ("a number over a submodule",
     _on(lambda: nn.MLP(2, [3], 1), lambda m: setattr(m, "layers", 5)), ArgumentTypeError,
     ["MLP", "int", "'layers'", "submodule"]),
    ("normal_ std string", _on(lambda: P(3, 2), lambda t: init.normal_(t, std="1")),
     ArgumentTypeError, ["init.normal_", "std", "str"]),
    ("constant_ string", _on(lambda: P(3, 2), lambda t: init.constant_(t, "a")),
     ArgumentTypeError, ["init.constant_", "value", "'a'"]),
    ("uniform_ reversed bounds", _on(lambda: P(3, 2), lambda t: init.uniform_(t, 2.0, 1.0)),
     ArgumentError, ["init.uniform_", "a <= b"]),
    ("he_normal_ of an empty weight", _on(lambda: P(0), lambda t: init.he_normal_(t)),
     ShapeError, ["init.he_normal_", "fan_in 0", "(0,)"]),
    # ---- checkpoint files ----
    ("load an empty file", lambda tmp: _load(tmp, b""), CheckpointError,
     ["MLP.load", "model.npz", "empty", "0 bytes"]),
    ("load random bytes", lambda tmp: _load(tmp, bytes(range(7, 200))), CheckpointError,
     ["MLP.load", "model.npz", "not a .npz checkpoint", "starts with"]),
    ("load a truncated checkpoint",
     lambda tmp: _load(tmp, _checkpoint_bytes(tmp)[:300]), CheckpointError,
     ["MLP.load", "model.npz", "truncated"]),
    ("load a pickle", lambda tmp: _load(tmp, pickle.dumps({"layers.0.weight": [1.0]})),
     CheckpointError, ["MLP.load", "model.npz", "pickle", "never unpickles"]),
    ("load a .npy file", lambda tmp: _load(tmp, b"\x93NUMPY\x01\x00" + b" " * 120),
     CheckpointError, ["MLP.load", "single .npy array"]),
    ("load pickled objects", _pickled_npz, CheckpointError,
     ["MLP.load", "objects.npz", "pickled", "never unpickled"]),
    ("load another model's names", _foreign_npz, nn.StateDictError,
     ["MLP.load", "missing keys", "'layers.0.weight'", "unexpected keys ['w']", "other.npz"]),
    # ---- ops of your own ----
    ("custom backward: one gradient for two inputs",
     _custom_backward(_OneGradForTwo, [1.0, 2.0], [3.0, 4.0]), GradError,
     ["one_grad_for_two", "1 gradient(s) for 2 input(s)"]),
    ("custom backward: a gradient of the wrong shape",
     _custom_backward(_WrongShape, [1.0, 2.0]), ShapeError,
     ["wrong_shape", "shape (3,)", "input 0", "shape (2,)"]),
    ("custom backward: an integer gradient", _custom_backward(_IntegerGrad, [1.0, 2.0]),
     DTypeError, ["integer_grad", "int64", "input 0", "float32"]),
    ("custom forward returns a Tensor",
     _plain(lambda: _ReturnsTensor.apply(Tensor([1.0]))), ArgumentTypeError,
     ["returns_tensor", "forward", "Tensor", "self.backend"]),
    ("custom forward returns a list", _plain(lambda: _ReturnsList.apply(Tensor([1.0]))),
     ArgumentTypeError, ["returns_list", "forward", "list"]),
    # ---- in-place writes between forward and backward ----
    ("copy_ between forward and backward", _copy_between_forward_and_backward, GradError,
     ["input 0 of 'mul'", "shape (2,)", "changed in place", "copy_"]),
    ("opt.step() before backward", _step_before_backward, GradError,
     ["'linear_act'", "changed in place", "optimizer step", "opt.step() after loss.backward()"]),
    # ---- modes and drawings ----
    ("detect_anomaly mode string", _plain(lambda: tg.detect_anomaly("on")), ArgumentTypeError,
     ["detect_anomaly", "True or False", "'on'"]),
    ("render_graph timeout negative",
     lambda tmp: (lambda: render_graph(Tensor([1.0]) * 2, tmp / "g.svg", timeout=-1),
                  (tmp / "g.svg",)), VizError, ["render_graph", "timeout", "-1"]),
]


@pytest.mark.parametrize("make, error, words", [row[1:] for row in ROWS],
                         ids=[row[0] for row in ROWS])
def test_each_hostile_input_raises_our_error_naming_it_and_changes_nothing(
        tmp_path, make, error, words):
    call, watched = make(tmp_path)
    before = [_state(thing) for thing in watched]
    stream = get_generator().bit_generator.state
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, TinygradEduError), type(info.value).__mro__
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} missing from {message!r}"
    assert get_generator().bit_generator.state == stream, "the random stream moved"
    for thing, old in zip(watched, before):
        assert _same(_state(thing), old), f"{type(thing).__name__} changed"


def test_an_allocation_that_fails_is_our_allocation_error_naming_the_size(monkeypatch):
    backend = tg.get_backend()

    def full(shape, value, dtype):
        raise MemoryError("Unable to allocate")

    monkeypatch.setattr(backend, "full", full)
    with pytest.raises(AllocationError, match=r"zeros: a tensor of shape \(1000, 1000\) and "
                                              r"dtype float32 needs 0.00373 GiB") as info:
        Tensor.zeros(1000, 1000)
    assert isinstance(info.value, MemoryError)


def test_every_row_has_a_unique_id_and_a_word_to_look_for():
    ids = [row[0] for row in ROWS]
    assert len(ids) == len(set(ids))
    assert all(row[3] for row in ROWS)
