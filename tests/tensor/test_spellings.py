"""A numpy or PyTorch user's spelling works: every function that takes an axis takes it as
``axis=``/``keepdims=`` and as ``dim=``/``keepdim=`` (found by scanning the public API, so a new
function cannot be missed), giving both is an error, and ``tensor()``, the dtype names,
``size()`` and ``dim()`` exist."""

import importlib
import inspect

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import ArgumentTypeError, AxisError, Tensor, nn
from tinygrad_edu.nn import functional as F

# numpy's name -> PyTorch's, for every argument that names axes (flip's is PyTorch's ``dims``).
PAIRS = {"axis": "dim", "keepdims": "keepdim", "start_axis": "start_dim",
         "end_axis": "end_dim", "ddof": "correction"}
PARTNERS = {**PAIRS, **{torch: numpy for numpy, torch in PAIRS.items()}, "dims": "axis"}
AXIS_WORDS = set(PARTNERS) | {"axes"}

X = Tensor(np.arange(12.0).reshape(3, 4) % 5)
INDEX = Tensor([[0, 0], [1, 3], [2, 1]])

# Every public function taking an axis -> (positional args, keyword args in one spelling).
CALLS = {
    "Tensor.sum": ((X,), {"axis": 1, "keepdims": True}),
    "Tensor.mean": ((X,), {"axis": 0, "keepdims": True}),
    "Tensor.max": ((X,), {"axis": 1, "keepdims": True}),
    "Tensor.min": ((X,), {"axis": 1, "keepdims": False}),
    "Tensor.prod": ((X,), {"axis": 0, "keepdims": True}),
    "Tensor.var": ((X,), {"axis": 1, "keepdims": True, "ddof": 0}),
    "Tensor.std": ((X,), {"axis": 0, "keepdims": False, "ddof": 1}),
    "Tensor.any": ((X,), {"axis": 1, "keepdims": True}),
    "Tensor.all": ((X,), {"axis": 0, "keepdims": True}),
    "Tensor.argmax": ((X,), {"axis": 1, "keepdims": True}),
    "Tensor.argmin": ((X,), {"axis": 0, "keepdims": False}),
    "Tensor.cumsum": ((X,), {"axis": 1}),
    "Tensor.softmax": ((X,), {"axis": 0}),
    "Tensor.log_softmax": ((X,), {"axis": 0}),
    "Tensor.logsumexp": ((X,), {"axis": 1, "keepdims": True}),
    "Tensor.flatten": ((X.reshape(3, 2, 2),), {"start_axis": 1, "end_axis": 2}),
    "Tensor.unsqueeze": ((X,), {"axis": 1}),
    "Tensor.squeeze": ((X.reshape(3, 1, 4),), {"axis": 1}),
    "Tensor.flip": ((X,), {"dims": 1}),
    "Tensor.gather": ((X,), {"dim": 1, "index": INDEX}),
    "Tensor.size": ((X,), {"dim": 1}),
    "tinygrad_edu.cat": (([X, X],), {"axis": 1}),
    "tinygrad_edu.stack": (([X, X],), {"axis": 1}),
    "F.softmax": ((X,), {"dim": 0}),
    "F.log_softmax": ((X,), {"dim": 0}),
}


def _public_functions():
    """(qualified name, function) for Tensor's public methods and the public functions of the
    modules a user calls."""
    for name in dir(Tensor):
        if not name.startswith("_") and callable(getattr(X, name)):   # bound, size() too
            yield f"Tensor.{name}", getattr(X, name)
    for prefix, module in [("tinygrad_edu", tg), ("F", F), ("nn", nn), ("init", tg.init),
                           ("optim", tg.optim)]:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{prefix}.{name}", obj


def _axis_arguments(fn):
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in parameters if p.name in AXIS_WORDS
            and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


FOUND = {name: args for name, fn in _public_functions() if (args := _axis_arguments(fn))}


def test_the_scan_finds_exactly_the_functions_this_file_calls():
    assert set(FOUND) == set(CALLS), ("a function taking an axis has no entry in CALLS (or an "
                                      "entry names a function that takes none)")


@pytest.mark.parametrize("name", sorted(FOUND))
def test_every_axis_argument_also_takes_the_other_librarys_name(name):
    for argument in FOUND[name]:
        assert argument != "axes", f"{name}: 'axes' is neither numpy's axis nor PyTorch's dim"
        partners = {PARTNERS[argument]} | ({"dims"} if argument == "axis" else set())
        assert partners & FOUND[name], f"{name} takes {argument} but not {PARTNERS[argument]}"


def _call(name, args, kwargs):
    owner, attr = name.split(".")
    if owner == "Tensor":
        out = getattr(args[0], attr)(*args[1:], **kwargs)
    else:
        out = getattr({"tinygrad_edu": tg, "F": F}[owner], attr)(*args, **kwargs)
    return out.numpy() if isinstance(out, Tensor) else out


def _other_spelling(kwargs):
    return {PARTNERS[k] if k in PARTNERS else k: v for k, v in kwargs.items()}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_both_spellings_give_the_same_result_and_both_at_once_is_an_error(name):
    args, kwargs = CALLS[name]
    other = _other_spelling(kwargs)
    assert other != kwargs
    np.testing.assert_array_equal(_call(name, args, kwargs), _call(name, args, other))
    renamed = next(k for k in kwargs if k in PARTNERS)
    with pytest.raises(ArgumentTypeError, match=f"both {renamed}= and {PARTNERS[renamed]}="):
        _call(name, args, {**kwargs, PARTNERS[renamed]: kwargs[renamed]})


def test_an_alias_given_with_the_argument_positionally_is_an_error():
    with pytest.raises(ArgumentTypeError, match="both axis= and dim="):
        X.sum(0, dim=0)
    with pytest.raises(ArgumentTypeError, match="both keepdims= and keepdim="):
        X.max(0, True, keepdim=True)
    assert X.sum(0, keepdim=True).shape == (1, 4)


def test_help_shows_both_spellings():
    parameters = inspect.signature(Tensor.sum).parameters
    assert list(parameters) == ["self", "axis", "keepdims", "dim", "keepdim"]
    assert parameters["dim"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "dim" in inspect.signature(tg.cat).parameters


def test_tensor_function_and_dtype_names_follow_pytorch():
    t = tg.tensor([[1, 2], [3, 4]], dtype=tg.float64, requires_grad=True)
    assert isinstance(t, Tensor) and t.dtype == tg.float64 and t.requires_grad
    assert tg.tensor([1.0]).dtype == tg.float32 and tg.tensor([1]).dtype == tg.int64
    assert tg.tensor([True]).dtype == tg.bool and Tensor([1], dtype=tg.bool).tolist() == [True]
    assert tg.tensor(np.arange(3)).tolist() == [0, 1, 2]


def test_the_callable_tensor_package_still_imports_its_modules():
    assert importlib.import_module("tinygrad_edu.tensor.autodiff").Function is tg.Function
    assert tg.tensor.Tensor is Tensor and tg.tensor.tensor.Tensor is Tensor


def test_size_and_dim_follow_pytorch():
    x = Tensor.zeros(2, 3, 4)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4 and x.dim() == 3
    assert Tensor(1.0).size() == () and Tensor(1.0).dim() == 0
    with pytest.raises(AxisError, match="size"):
        x.size(3)
    with pytest.raises(AxisError, match="0-d"):
        Tensor(1.0).size(0)


@pytest.mark.parametrize("use", [lambda s: s == 24, lambda s: s > 0, lambda s: bool(s),
                                 lambda s: int(s), lambda s: s * 2, lambda s: 1 + s,
                                 lambda s: range(s), lambda s: s // 2],
                         ids=["==", ">", "bool", "int", "*", "radd", "range", "//"])
def test_size_used_as_numpys_element_count_raises_pointing_at_numel(use):
    with pytest.raises(ArgumentTypeError, match=r"t\.size\(\) is the shape.*t\.numel\(\)"):
        use(Tensor.zeros(2, 3, 4).size)
