"""ActivationMonitor statistics and warnings, and the initialization demo."""

import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, diagnostics, init, nn
from tinygrad_edu.check.diagnostics import (ActivationMonitor, ActivationScaleWarning,
                                      DeadUnitWarning, DiagnosticWarning, NonFiniteWarning)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same library generator state, so random weights repeat."""
    tg.manual_seed(0)


@pytest.fixture
def no_diagnostic_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DiagnosticWarning)
        yield


def test_records_every_layer_for_every_batch_in_forward_order():
    mlp = nn.MLP(4, [8, 6], 1)
    with ActivationMonitor(mlp, warn=False) as monitor:
        mlp(Tensor.randn(10, 4))
        mlp(Tensor.randn(7, 4))
    assert monitor.layers == ["layers.0", "layers.1", "layers.2"]
    assert monitor.batches == 2
    assert [(s.batch, s.layer, s.examples) for s in monitor.records] == [
        (0, "layers.0", 10), (0, "layers.1", 10), (0, "layers.2", 10),
        (1, "layers.0", 7), (1, "layers.1", 7), (1, "layers.2", 7)]
    assert [s.units for s in monitor.latest()] == [8, 6, 1]
    assert len(monitor.history("layers.1", "std")) == 2


@pytest.mark.parametrize("grad_enabled", [True, False])
def test_statistics_match_numpy_with_and_without_a_recorded_graph(grad_enabled, cpu_backend):
    tg.manual_seed(0)
    layer = nn.Layer(5, 4, activation="relu")
    layer.bias.copy_([0.5, -0.5, 0.0, 1.0])
    x = Tensor.randn(16, 5)
    z = x.numpy() @ layer.weight.numpy() + layer.bias.numpy()
    y = np.maximum(z, 0)
    with ActivationMonitor(layer, warn=False) as monitor, tg.enable_grad() if grad_enabled \
            else tg.no_grad():
        layer(x)
    (s,) = monitor.records
    assert s.layer == "Layer" and s.activation == "relu" and s.units == 4
    np.testing.assert_allclose([s.pre_mean, s.pre_std, s.mean, s.std],
                               [z.mean(), z.std(), y.mean(), y.std()], rtol=1e-5)
    assert s.dead_fraction == np.mean(np.all(y == 0, axis=0))
    assert s.saturated_fraction is None and (s.nan_count, s.inf_count) == (0, 0)


def test_a_layer_with_a_large_negative_bias_is_reported_100_percent_dead():
    mlp = nn.MLP(4, [8], 1)
    mlp.layers[0].bias.copy_(-1000.0)
    with pytest.warns(DeadUnitWarning, match=r"layers.0: 100% of its 8 relu units are "
                                             r"dead") as caught:
        with ActivationMonitor(mlp) as monitor:
            mlp(Tensor.randn(32, 4))
    assert caught[0].filename == __file__  # points at the line that called the model
    assert monitor.latest()[0].dead_fraction == 1.0
    assert "100%" in monitor.report()


@pytest.mark.parametrize("dead_units, warns", [(2, False), (3, True)])
def test_dead_unit_warning_fires_above_30_percent(dead_units, warns):
    layer = nn.Layer(3, 8, activation="relu")
    layer.weight.copy_(0.0)
    layer.bias.copy_(1.0)
    layer.bias.data[:dead_units] = -1.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ActivationMonitor(layer) as monitor:
            layer(Tensor.randn(4, 3))
    assert monitor.records[0].dead_fraction == dead_units / 8
    assert any(issubclass(w.category, DeadUnitWarning) for w in caught) == warns


def test_each_warning_is_given_once_per_layer():
    layer = nn.Layer(3, 4)
    layer.bias.copy_(-1000.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ActivationMonitor(layer) as monitor:
            for _ in range(3):
                layer(Tensor.randn(4, 3))
    assert len([w for w in caught if issubclass(w.category, DeadUnitWarning)]) == 1
    assert len(monitor.warnings) == 1


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_saturated_fraction_for_sigmoid_and_tanh(activation):
    layer = nn.Layer(4, 6, activation=activation, init=lambda w: init.normal_(w, std=50.0))
    with ActivationMonitor(layer, warn=False) as monitor:
        layer(Tensor.randn(64, 4))
        layer.weight.copy_(layer.weight.numpy() * 1e-4)
        layer(Tensor.randn(64, 4))
    big, small = monitor.history("Layer", "saturated_fraction")
    assert big > 0.9 and small == 0.0
    assert monitor.records[0].dead_fraction is None


def test_nan_and_inf_are_counted_and_warned_about():
    layer = nn.Layer(2, 3, activation=None)
    x = Tensor([[np.nan, 1.0], [np.inf, 0.0], [1.0, 1.0]])
    layer.weight.copy_(1.0)
    with pytest.warns(NonFiniteWarning, match="NaN and .* Inf"), np.errstate(invalid="ignore"):
        with ActivationMonitor(layer) as monitor:
            layer(x)
    s = monitor.records[0]
    assert (s.nan_count, s.inf_count) == (3, 3)


def test_exponentially_shrinking_activations_are_warned_about():
    model = nn.Sequential(*[nn.Layer(64, 64, init=lambda w: init.normal_(w, std=0.01))
                            for _ in range(6)])
    with pytest.warns(ActivationScaleWarning, match="shrinks exponentially.*vanishing"):
        with ActivationMonitor(model):
            model(Tensor.randn(32, 64))


def test_exponentially_growing_activations_are_warned_about():
    model = nn.Sequential(*[nn.Layer(64, 64, init=lambda w: init.normal_(w, std=1.0))
                            for _ in range(6)])
    with pytest.warns(ActivationScaleWarning, match="grows exponentially.*exploding"):
        with ActivationMonitor(model):
            model(Tensor.randn(32, 64))


def test_a_well_initialized_deep_relu_network_raises_no_warning(no_diagnostic_warnings):
    tg.manual_seed(0)
    model = nn.MLP(64, [64] * 8, 1)
    with ActivationMonitor(model) as monitor:
        model(Tensor.randn(64, 64))
    assert monitor.warnings == []
    assert "warnings: none" in monitor.report()


def test_activation_modules_in_a_sequential_are_watched_with_their_inputs_as_z():
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2), nn.ReLU())
    x = Tensor.randn(8, 3)
    with ActivationMonitor(model, warn=False) as monitor:
        out = model(x)
    assert monitor.layers == ["1", "3"]
    last = monitor.latest()[1]
    z = model[2](model[1](model[0](x))).numpy()
    assert last.activation == "relu"
    assert last.pre_std == pytest.approx(float(z.std()), rel=1e-5)
    assert last.std == pytest.approx(float(out.numpy().std()), rel=1e-5)


def test_a_single_neuron_is_one_unit():
    neuron = nn.Neuron(3, activation="relu")
    neuron.b.copy_(-100.0)
    with ActivationMonitor(neuron, warn=False) as monitor:
        neuron(Tensor.randn(5, 3))
    assert monitor.records[0].units == 1 and monitor.records[0].dead_fraction == 1.0


def test_hooks_are_removed_when_the_block_ends():
    mlp = nn.MLP(2, [3], 1)
    with ActivationMonitor(mlp, warn=False) as monitor:
        mlp(Tensor.randn(2, 2))
    mlp(Tensor.randn(2, 2))
    assert monitor.batches == 1
    assert all(not m._forward_hooks for m in mlp.modules())


def test_report_is_a_readable_table():
    mlp = nn.MLP(4, [8], 1, activation="tanh")
    monitor = ActivationMonitor(mlp, warn=False)
    assert "nothing recorded" in monitor.report()
    with monitor:
        mlp(Tensor.randn(5, 4))
    lines = monitor.report().splitlines()
    assert "1 batch(es)" in lines[0] and "5 examples" in lines[0]
    assert lines[1].split()[:4] == ["layer", "activation", "units", "pre"]
    assert lines[2].split()[:3] == ["layers.0", "tanh", "8"]
    assert lines[3].split()[:3] == ["layers.1", "identity", "1"]


def test_monitor_arguments_are_checked():
    with pytest.raises(TypeError, match="nn.Module"):
        ActivationMonitor(lambda x: x)
    with pytest.raises(ValueError, match="nothing|no Layer"):
        ActivationMonitor(nn.Linear(2, 2))
    monitor = ActivationMonitor(nn.Layer(2, 2))
    with pytest.raises(KeyError, match="no watched layer 'x'"):
        monitor.history("x", "std")
    with pytest.raises(ValueError, match="unknown field"):
        monitor.history("Layer", "variance")


def test_init_demo_shows_symmetry_vanishing_exploding_and_stable_scales():
    result = diagnostics.init_demo(depth=12, width=64, batch=64)
    assert list(result) == ["zeros", "too_small", "too_large", "xavier", "he"]
    assert all(v.shape == (12,) for v in result.values())
    assert np.all(result["zeros"] == 0)
    assert np.all(np.diff(np.log(result["too_small"])) < 0) and result["too_small"][-1] < 1e-8
    assert np.all(np.diff(np.log(result["too_large"])) > 0) and result["too_large"][-1] > 1e8
    he = result["he"]
    assert 0.2 < he[-1] / he[0] < 5
    assert result["xavier"][-1] < 0.1 * he[-1]  # Xavier under ReLU halves the variance per layer
    table = diagnostics.format_init_demo(result, every=4).splitlines()
    assert table[0].split() == ["layer", "zeros", "too_small", "too_large", "xavier", "he"]
    assert [row.split()[0] for row in table[1:]] == ["1", "5", "9", "12"]


def test_init_demo_is_repeatable_with_its_seed():
    a = diagnostics.init_demo(depth=3, width=16, batch=8, seed=5)
    b = diagnostics.init_demo(depth=3, width=16, batch=8, seed=5)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
