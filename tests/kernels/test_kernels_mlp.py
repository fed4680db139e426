"""The fused inference path (``CompiledMLP``) computes what the graph path computes."""

import numpy as np
import pytest

pytest.importorskip("numba")

from tinygrad_edu import Tensor, manual_seed, nn, no_grad  # noqa: E402
from tinygrad_edu import activations as sm  # noqa: E402
from tinygrad_edu.errors import (ArgumentError, ArgumentTypeError, DTypeError,  # noqa: E402
                                 ShapeError)
from tinygrad_edu.kernels.cpu import intrinsics  # noqa: E402
from tinygrad_edu.kernels.cpu.mlp import CompiledMLP  # noqa: E402
from tinygrad_edu.kernels.cpu.mlp_kernel import ROWS  # noqa: E402
from tinygrad_edu.kernels.network import DenseLayer  # noqa: E402

import activation_reference as ref  # noqa: E402


def _graph(model, x):
    with no_grad():
        return model(Tensor(x, dtype=model.layers[0].weight.dtype)).numpy()


def _assert_same(compiled, model, x):
    ours, expected = compiled(x), _graph(model, x)
    assert ours.shape == expected.shape and ours.dtype == expected.dtype
    tol = 1e-5 if expected.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(ours, expected, rtol=tol, atol=tol)


BATCHES = [1, ROWS - 1, ROWS, ROWS + 1, 33]


@pytest.mark.parametrize("batch", BATCHES)
def test_the_ranking_mlp_compiled_equals_the_graph_path(batch):
    manual_seed(0)
    model = nn.MLP(128, [256, 128, 64], 1)
    x = np.random.default_rng(batch).standard_normal((batch, 128)).astype(np.float32)
    compiled = model.compile()
    assert isinstance(compiled, CompiledMLP)
    _assert_same(compiled, model, x)


def test_a_single_example_gives_a_vector():
    manual_seed(1)
    model = nn.MLP(6, [70], 3, out_activation="sigmoid")
    x = np.random.default_rng(0).standard_normal(6).astype(np.float32)
    compiled = CompiledMLP(model)
    assert compiled(x).shape == (3,)
    _assert_same(compiled, model, x)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "silu",
                                        "prelu", None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_every_activation_and_odd_widths(activation, dtype):
    # Widths that are not multiples of a register tile exercise the remainder columns.
    manual_seed(2)
    model = nn.MLP(5, [70, 130, 64], 3, activation=activation, negative_slope=0.2)
    if dtype == np.float64:
        model = model.double()
    if activation == "prelu":
        for layer in model.layers[:-1]:
            layer.prelu_weight.copy_(-0.3)   # a learned slope, not the 0.25 start
    x = np.random.default_rng(3).standard_normal((7, 5)).astype(dtype)
    _assert_same(CompiledMLP(model), model, x)


@pytest.mark.parametrize("dtype, weights", [(np.float32, None), (np.float64, None),
                                            (np.float32, "bfloat16")],
                         ids=["float32", "float64", "float32-bfloat16"])
def test_a_single_example_has_the_bits_it_has_in_a_batch_at_every_width(dtype, weights):
    # Widths in this machine's register tiles: a single example runs full blocks of ROWS
    # tiles, then its leftover tiles (3 of them, or 2) in blocks of 2 and 1 tiles where those
    # are wide enough to be vector code, else through the run-time-width loop, and the columns
    # past the last tile as dot products; a batch runs ROWS examples per block.
    tile = intrinsics.tile_columns(np.dtype(dtype).itemsize)
    manual_seed(5)
    model = nn.MLP(9, [3 * tile + 5, (ROWS + 2) * tile], 2 * tile + 1)
    if dtype == np.float64:
        model = model.double()
    compiled = CompiledMLP(model, weights=weights)
    x = np.random.default_rng(8).standard_normal((2 * ROWS + 1, 9)).astype(dtype)
    batch = compiled(x)
    for i in range(x.shape[0]):
        np.testing.assert_array_equal(compiled(x[i]), batch[i])
    if weights is None:
        _assert_same(compiled, model, x)


@pytest.mark.parametrize("features, width", [("+avx2,+fma,-avx512f", 64),
                                             ("+avx2,+avx512f,+avx512vl", 256),
                                             ("+neon", 64)])
def test_the_register_tile_is_as_wide_as_the_compiled_code_has_registers(monkeypatch, features,
                                                                         width):
    # Numba compiles for NUMBA_CPU_FEATURES when set: the tile follows the same features.
    monkeypatch.setattr(intrinsics.numba.config, "CPU_FEATURES", features)
    assert intrinsics._tile_row_bytes() == width


def test_the_snapshot_changes_only_on_refresh():
    manual_seed(3)
    model = nn.MLP(4, [8], 2)
    compiled = CompiledMLP(model)
    x = np.ones((2, 4), np.float32)
    before = compiled(x)
    model.layers[1].bias.copy_(model.layers[1].bias.numpy() + 1.0)
    np.testing.assert_array_equal(compiled(x), before)
    compiled.refresh()
    _assert_same(compiled, model, x)


def test_layers_without_bias_and_tensor_or_list_input():
    manual_seed(4)
    model = nn.MLP(3, [9], 2)
    model.layers[0].bias = None
    compiled = CompiledMLP(model)
    x = [[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]
    _assert_same(compiled, model, np.array(x, np.float32))
    np.testing.assert_array_equal(compiled(Tensor(x)), compiled(x))


def test_bad_input_is_a_clear_error():
    manual_seed(5)
    compiled = CompiledMLP(nn.MLP(3, [4], 1))
    with pytest.raises(ShapeError, match=r"input has shape \(2, 4\), expected \(3,\)"):
        compiled(np.ones((2, 4), np.float32))
    with pytest.raises(ShapeError, match="expected"):
        compiled(np.ones(4, np.float32))
    with pytest.raises(DTypeError, match="numbers"):
        compiled(np.array(["a", "b", "c"]))


class _Described:
    """A network that is not an nn.MLP: numpy arrays and a ``describe()`` method."""

    def __init__(self, layers):
        self.layers = layers   # (weight, bias or None, activation name, slope) per layer

    def describe(self):
        return [DenseLayer(w, b, sm.activation_code(name), slope)
                for w, b, name, slope in self.layers]


_NUMPY_ACTIVATIONS = {"tanh": lambda z, a: np.tanh(z), "leaky_relu": ref.leaky_relu,
                      "sigmoid": lambda z, a: ref.sigmoid(z), "identity": lambda z, a: z}


def _numpy_forward(layers, x):
    for w, b, name, slope in layers:
        z = x.astype(np.float64) @ w + (0 if b is None else b)
        x = _NUMPY_ACTIVATIONS[name](z, slope)
    return x


def _hand_written(dtype, seed=0):
    rng = np.random.default_rng(seed)
    sizes, names = [5, 70, 9, 3], ["tanh", "leaky_relu", "identity"]
    layers = []
    for i, (nin, nout, name) in enumerate(zip(sizes[:-1], sizes[1:], names)):
        w = (rng.standard_normal((nin, nout)) / np.sqrt(nin)).astype(dtype)
        b = None if i == 1 else rng.standard_normal(nout).astype(dtype)
        layers.append((w, b, name, 0.3))
    return _Described(layers)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_a_hand_written_description_runs_like_numpy(dtype):
    model = _hand_written(dtype)
    compiled = CompiledMLP(model)
    assert (compiled.nin, compiled.nout, compiled.dtype) == (5, 3, dtype)
    assert compiled.sizes.tolist() == [5, 70, 9, 3]
    assert compiled.codes.tolist() == [sm.TANH, sm.LEAKY_RELU, sm.IDENTITY]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    x = np.random.default_rng(1).standard_normal((ROWS + 2, 5)).astype(dtype)
    np.testing.assert_allclose(compiled(x), _numpy_forward(model.layers, x), rtol=tol, atol=tol)
    np.testing.assert_allclose(compiled(x[0]), _numpy_forward(model.layers, x[:1])[0],
                               rtol=tol, atol=tol)


def test_refresh_reads_the_description_again():
    model = _hand_written(np.float64)
    compiled = CompiledMLP(model)
    x = np.random.default_rng(2).standard_normal((3, 5))
    before = compiled(x)
    for w, b, _, _ in model.layers:
        w *= -0.5
        if b is not None:
            b += 1.0
    np.testing.assert_array_equal(compiled(x), before)
    assert compiled.refresh() is compiled
    np.testing.assert_allclose(compiled(x), _numpy_forward(model.layers, x), rtol=1e-12,
                               atol=1e-12)


def test_refresh_after_a_change_of_layout_asks_to_compile_again():
    model = _hand_written(np.float64)
    compiled = CompiledMLP(model)
    model.layers[-1] = (model.layers[-1][0], None, "sigmoid", 0.0)
    with pytest.raises(ShapeError, match="now 5→70 tanh→9 leaky_relu→3 sigmoid, float64, it "
                                         "was compiled as 5→70 tanh→9 leaky_relu→3 identity"):
        compiled.refresh()


def test_describe_of_an_mlp_with_prelu_is_leaky_relu_with_the_learned_slopes():
    manual_seed(6)
    model = nn.MLP(4, [6, 5], 2, activation="prelu")
    model.layers[0].prelu_weight.copy_(-0.3)
    model.layers[1].prelu_weight.copy_(0.7)
    model.layers[1].bias = None
    layers = model.describe()
    assert isinstance(layers, tuple) and len(layers) == 3
    assert [layer.code for layer in layers] == [sm.LEAKY_RELU, sm.LEAKY_RELU, sm.IDENTITY]
    assert [layer.slope for layer in layers] == pytest.approx([-0.3, 0.7, 0.01])
    assert layers[1].bias is None
    for layer, ours in zip(model.layers, layers):
        np.testing.assert_array_equal(ours.weight, layer.weight.numpy())
        assert ours.weight.dtype == np.float32
        assert not np.shares_memory(ours.weight, layer.weight.numpy())   # a snapshot
    x = np.random.default_rng(4).standard_normal((5, 4)).astype(np.float32)
    _assert_same(model.compile(), model, x)


def test_a_model_without_describe_or_with_a_broken_description_is_a_clear_error():
    with pytest.raises(ArgumentTypeError, match=r"CompiledMLP: expected a model with a "
                                                r"describe\(\) method.*got list"):
        CompiledMLP([])
    with pytest.raises(ArgumentError, match="CompiledMLP: the network has no layers"):
        CompiledMLP(_Described([]))
    w = np.ones((3, 4))
    with pytest.raises(ShapeError, match="layer 1 takes 3 inputs but layer 0 gives 4"):
        CompiledMLP(_Described([(w, None, "relu", 0.0), (w, None, "relu", 0.0)]))
    with pytest.raises(DTypeError, match="layer 1 is float32 but layer 0 is float64"):
        CompiledMLP(_Described([(w, None, "relu", 0.0),
                                (np.ones((4, 2), np.float32), None, "relu", 0.0)]))


def test_a_dense_layer_checks_its_fields():
    w = np.ones((3, 4), np.float32)
    with pytest.raises(ArgumentTypeError, match="weight must be a numpy array, got list"):
        DenseLayer(w.tolist())
    with pytest.raises(DTypeError, match="weight has dtype float16"):
        DenseLayer(w.astype(np.float16))
    with pytest.raises(ShapeError, match=r"bias has shape \(3,\) and dtype float32, expected "
                                         r"\(4,\) float32"):
        DenseLayer(w, np.ones(3, np.float32))
    with pytest.raises(ArgumentError, match=r"got 42; expected one of 0 \(identity\), "
                                            r"1 \(relu\)"):
        DenseLayer(w, None, 42)
    layer = DenseLayer(w, None, np.int64(sm.RELU), np.float32(0.5))
    assert (layer.nin, layer.nout, type(layer.code), type(layer.slope)) == (3, 4, int, float)


def _small(seed=7):
    manual_seed(seed)
    return nn.MLP(5, [70, 9], 3, activation="tanh")


@pytest.mark.parametrize("batch", [None, 1, ROWS + 1])
def test_out_receives_the_scores_and_is_returned(batch):
    model = _small()
    compiled = CompiledMLP(model)
    shape = (5,) if batch is None else (batch, 5)
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    out = np.full(shape[:-1] + (3,), np.nan, np.float32)
    assert compiled(x, out=out) is out
    np.testing.assert_array_equal(out, compiled(x))
    _assert_same(compiled, model, x)


@pytest.mark.parametrize("bad, error, words", [
    (np.zeros((2, 4), np.float32), ShapeError, r"out has shape \(2, 4\) and dtype float32, "
                                               r"expected \(2, 3\) float32"),
    (np.zeros((2, 3), np.float64), DTypeError, r"dtype float64, expected \(2, 3\) float32"),
    (np.zeros((3, 2), np.float32).T, ArgumentError, "must be C-contiguous"),
    ([[0.0] * 3] * 2, ArgumentTypeError, "out must be a numpy array, got list"),
])
def test_a_wrong_out_is_a_clear_error_and_nothing_is_written(bad, error, words):
    compiled = CompiledMLP(_small())
    x = np.ones((2, 5), np.float32)
    before = np.array(bad, copy=True)
    with pytest.raises(error, match=words):
        compiled(x, out=bad)
    np.testing.assert_array_equal(np.asarray(bad), before)


def test_a_read_only_out_or_one_overlapping_x_is_refused():
    compiled = CompiledMLP(_small())
    out = np.zeros((1, 3), np.float32)
    out.flags.writeable = False
    with pytest.raises(ArgumentError, match="out is read-only"):
        compiled(np.ones((1, 5), np.float32), out=out)
    one_layer = CompiledMLP(_Described([(np.eye(4, dtype=np.float32), None, "identity", 0.0)]))
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    with pytest.raises(ArgumentError, match="out overlaps the input x"):
        one_layer(x, out=x)
    np.testing.assert_array_equal(x, np.arange(8).reshape(2, 4))


def test_non_contiguous_and_other_dtype_inputs_are_copied_not_misread():
    model = _small()
    compiled = CompiledMLP(model)
    wide = np.random.default_rng(6).standard_normal((7, 10)).astype(np.float32)
    strided = wide[:, ::2]                      # every other column: not contiguous
    column = np.asfortranarray(wide[:, :5])     # Fortran order
    expected = compiled(np.ascontiguousarray(strided))
    np.testing.assert_array_equal(compiled(strided), expected)
    np.testing.assert_array_equal(compiled(strided[3]), expected[3])
    np.testing.assert_array_equal(compiled(column), compiled(np.ascontiguousarray(column)))
    np.testing.assert_allclose(compiled(strided.astype(np.float64)), expected, rtol=1e-6)
    unaligned = np.frombuffer(b"\0" + strided[0].tobytes(), np.float32, 5, offset=1)
    assert not unaligned.flags.aligned
    np.testing.assert_array_equal(compiled(unaligned), expected[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_ieee_specials_in_the_input_flow_through_as_in_numpy(dtype):
    model = _hand_written(dtype, seed=3)
    compiled = CompiledMLP(model)
    x = np.random.default_rng(7).standard_normal((ROWS + 1, 5)).astype(dtype)
    x[0, 1], x[2, 0], x[4, 4] = np.nan, np.inf, -np.inf
    with np.errstate(all="ignore"):
        expected = _numpy_forward(model.layers, x)
    got = compiled(x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    finite = np.isfinite(expected)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got[finite], expected[finite], rtol=tol, atol=tol)


def test_an_empty_batch_gives_an_empty_result():
    compiled = CompiledMLP(_small())
    assert compiled(np.zeros((0, 5), np.float32)).shape == (0, 3)
