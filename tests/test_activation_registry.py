"""The activation registry: each entry's scalar and array formulas agree, and its names, codes
and flags are the ones nn, nn.init and the diagnostics use."""

import ast
import pathlib
import re

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu import activations as sm
from tinygrad_edu.check.diagnostics import ActivationMonitor
from tinygrad_edu.errors import ArgumentError
from tinygrad_edu.nn import init
from tinygrad_edu.nn.activations import RELU_FAMILY, SATURATING

SPECS = list(sm.ACTIVATIONS.values())
NAMES = [spec.name for spec in SPECS]
DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["float32", "float64"]
SLOPE = 0.2   # leaky ReLU's (and PReLU's) negative slope; the others ignore it
# The array forms compute in the array's dtype, the scalar forms in Python floats.
TOL = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-14}}


def _scalar_forward(spec, x):
    values = [sm.activate(spec.code, float(v), SLOPE) for v in x.ravel()]
    return np.array(values, np.float64).reshape(x.shape)


def _scalar_backward(spec, x, y, grad):
    values = [g * sm.derivative(spec.code, float(v), float(w), SLOPE)
              for v, w, g in zip(x.ravel(), y.ravel(), grad.ravel())]
    return np.array(values, np.float64).reshape(x.shape)


def _inputs(dtype):
    """Arrays of odd sizes (0-d, empty, not a multiple of any vector width) and two views that
    are not contiguous."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) * 4 for shape in [(), (0,), (1,), (7,), (33, 5)]]
    base = rng.standard_normal((9, 14)) * 4
    return [a.astype(dtype) for a in arrays] + [base.astype(dtype)[::2, 1::3],
                                                 base.astype(dtype).T]


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("spec", SPECS, ids=NAMES)
def test_array_forms_agree_with_the_scalar_forms(spec, dtype):
    rng = np.random.default_rng(1)
    for x in _inputs(dtype):
        grad = rng.standard_normal(x.shape).astype(dtype)
        y = sm.activate_array(spec.code, x, SLOPE)
        assert y.shape == x.shape and y.dtype == dtype, f"{spec.name} forward {x.shape}"
        np.testing.assert_allclose(y, _scalar_forward(spec, x), **TOL[dtype],
                                   err_msg=f"{spec.name} forward {x.shape}")
        dx = sm.backward_array(spec.code, x, y, grad, SLOPE)
        assert dx.shape == x.shape and dx.dtype == dtype, f"{spec.name} backward {x.shape}"
        np.testing.assert_allclose(dx, _scalar_backward(spec, x, y, grad), **TOL[dtype],
                                   err_msg=f"{spec.name} backward {x.shape}")


def _specials(dtype):
    info = np.finfo(dtype)
    return np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, info.tiny, -info.tiny, 40.0, -40.0,
                     800.0, -800.0, info.max, -info.max], dtype)


# Where the two forms give different answers today. gelu_tanh's derivative in float32: the
# array form's x * x overflows at the largest floats and 0 * inf is NaN; the scalar form
# computes in float64 and gets 1 and 0.
KNOWN_DIFFERENCES = {
    ("gelu_tanh", "backward", "float32"): [np.finfo(np.float32).max, -np.finfo(np.float32).max],
}


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("spec", SPECS, ids=NAMES)
def test_array_and_scalar_forms_agree_on_ieee_specials_except_the_known_cases(spec, dtype):
    x = _specials(dtype)
    with np.errstate(all="ignore"):
        y = sm.activate_array(spec.code, x, SLOPE)
        dx = sm.backward_array(spec.code, x, y, np.ones_like(x), SLOPE)
    ours = {"forward": (y, _scalar_forward(spec, x)),
            "backward": (dx, _scalar_backward(spec, x, y, np.ones_like(x)))}
    for form, (array, scalar) in ours.items():
        same = np.isclose(array.astype(np.float64), scalar.astype(dtype).astype(np.float64),
                          rtol=TOL[dtype]["rtol"], atol=0, equal_nan=True)
        differ = x[~same].tolist()
        known = KNOWN_DIFFERENCES.get((spec.name, form, np.dtype(dtype).name), [])
        assert differ == known, f"{spec.name} {form}: the forms differ at {differ}"


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_relu_is_plus_zero_below_zero_and_keeps_nan_in_both_forms(dtype):
    x = np.array([-np.inf, -2.0, -np.finfo(dtype).tiny, -0.0, 0.0, np.nan, 3.0], dtype)
    expected = np.array([0.0, 0.0, 0.0, 0.0, 0.0, np.nan, 3.0])
    scalar = _scalar_forward(sm.ACTIVATIONS["relu"], x)
    array = sm.activate_array(sm.RELU, x, 0.0)
    for form in (scalar, array):
        np.testing.assert_array_equal(form, expected)
        assert not np.signbit(form[:5]).any(), form   # +0.0, never -0.0


def test_the_scalar_constants_are_the_registry_codes():
    constants = {"identity": sm.IDENTITY, "relu": sm.RELU, "leaky_relu": sm.LEAKY_RELU,
                 "sigmoid": sm.SIGMOID, "tanh": sm.TANH, "gelu": sm.GELU,
                 "gelu_tanh": sm.GELU_TANH, "silu": sm.SILU}
    assert {name: sm.ACTIVATIONS[name].code for name in constants} == constants
    assert sm.ACTIVATION_CODES == constants
    assert sm.CODES == tuple(sorted(constants.values()))
    assert [sm.activation_code(name) for name in constants] == list(constants.values())


def test_prelu_runs_as_leaky_relu_and_has_no_code_of_its_own():
    prelu = sm.ACTIVATIONS["prelu"]
    assert prelu.learnable_slope and prelu.code == sm.LEAKY_RELU
    assert [spec.name for spec in SPECS if spec.learnable_slope] == ["prelu"]
    with pytest.raises(ArgumentError, match="unknown activation 'prelu'; expected one of "
                                            "'identity', 'relu'"):
        sm.activation_code("prelu")


def test_every_nn_activation_name_resolves_to_its_registry_entry():
    for name in nn.ACTIVATION_NAMES:
        spec = sm.activation_spec(name)
        assert spec.name == (nn.canonical_activation(name) or "identity"), name
        assert spec.in_nn or name is None, name
    nn_names = {spec.name for spec in SPECS if spec.in_nn}
    aliases = {alias for spec in SPECS if spec.in_nn for alias in spec.aliases}
    assert set(nn.ACTIVATION_NAMES) == nn_names | aliases | {None}
    assert {"identity", "gelu_tanh"}.isdisjoint(nn.ACTIVATION_NAMES)


def test_aliases_name_their_canonical_entry():
    assert sm.ACTIVATIONS["silu"].aliases == ("swish",)
    assert sm.activation_spec("swish") is sm.ACTIVATIONS["silu"]
    assert nn.canonical_activation("swish") == "silu"
    assert sm.activation_spec(None) is sm.ACTIVATIONS["identity"]


@pytest.mark.parametrize("lookup", [sm.activation_spec, nn.canonical_activation],
                         ids=["activation_spec", "canonical_activation"])
@pytest.mark.parametrize("name", ["swsh", "ReLU", 3, ["relu"]])
def test_an_unknown_name_is_an_error_that_lists_the_valid_names(lookup, name):
    with pytest.raises(ArgumentError, match=re.escape(f"unknown activation {name!r}; expected "
                                                      "one of ")) as error:
        lookup(name)
    assert all(repr(valid) in str(error.value) for valid in nn.ACTIVATION_NAMES)


def test_gelu_tanh_is_the_tensor_gelu_with_the_tanh_approximation():
    x = np.linspace(-4, 4, 9)
    ours = Tensor(x).gelu(approximate="tanh").numpy()
    expected = sm.activate_array(sm.ACTIVATIONS["gelu_tanh"].code, x, 0.0)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)


def test_default_inits_are_he_for_the_relu_family_gelu_and_silu_else_xavier():
    he = {spec.name for spec in SPECS if spec.init == "he_normal"}
    xavier = {spec.name for spec in SPECS if spec.init == "xavier_normal"}
    assert he == {"relu", "leaky_relu", "prelu", "gelu", "gelu_tanh", "silu"}
    assert xavier == {"identity", "sigmoid", "tanh"}


@pytest.mark.parametrize("name", nn.ACTIVATION_NAMES)
def test_init_auto_uses_the_registry_default(name):
    spec = sm.activation_spec(name)
    auto, explicit = Tensor.zeros(64, 32), Tensor.zeros(64, 32)
    tg.manual_seed(0)
    init.init_weight_(auto, "auto", name)
    tg.manual_seed(0)
    init.init_weight_(explicit, spec.init, name)
    np.testing.assert_array_equal(auto.numpy(), explicit.numpy())


def test_can_die_and_saturates_flags_are_nn_relu_family_and_saturating():
    assert RELU_FAMILY == tuple(spec.name for spec in SPECS if spec.can_die)
    assert SATURATING == tuple(spec.name for spec in SPECS if spec.saturates)
    assert set(RELU_FAMILY) == {"relu", "leaky_relu", "prelu"}
    assert set(SATURATING) == {"sigmoid", "tanh"}


@pytest.mark.parametrize("name", [n for n in nn.ACTIVATION_NAMES if n is not None])
def test_the_monitor_reports_dead_units_and_saturation_exactly_for_the_flagged(name):
    spec = sm.activation_spec(name)
    tg.manual_seed(0)
    layer = nn.Layer(3, 4, activation=name)
    with ActivationMonitor(layer, warn=False) as monitor:
        layer(Tensor.randn(8, 3))
    (stats,) = monitor.records
    assert (stats.dead_fraction is not None) == spec.can_die
    assert (stats.saturated_fraction is not None) == spec.saturates


def test_every_entry_has_formula_text_and_a_known_init():
    for spec in SPECS:
        assert spec.formula and spec.derivative, spec.name
        assert spec.init in init.INIT_SCHEMES, spec.name


def test_the_registry_imports_only_math_numpy_and_the_errors():
    # Every layer of the library reads the registry, so it must import nothing heavy.
    tree = ast.parse(pathlib.Path(sm.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported <= {"math", "dataclasses", "types", "numpy", ".errors"}, imported
