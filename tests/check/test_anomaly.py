"""detect_anomaly finds the op where NaN or inf first appear (forward or backward, Tensor or
Value engine) and names it, its inputs and the user's line; without it, backward from a
non-finite loss warns once."""

import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import NonFiniteError, NonFiniteValueWarning, Tensor, Value, nn, optim
from tinygrad_edu.nn import init

HERE = re.escape(os.path.basename(__file__))


def _too_large_init(depth=40, width=256):
    """The textbook's story: N(0, 1) weights make a deep ReLU stack's activations grow by about
    sqrt(width / 2) per layer, past float32's largest number within 40 layers."""
    tg.manual_seed(0)
    model = nn.MLP(width, [width] * depth, 1)
    for layer in model.layers:
        init.normal_(layer.weight, 0.0, 1.0)
    return model, Tensor.randn(8, width)


def test_the_too_large_initialization_is_caught_at_the_layer_that_overflows(cpu_backend):
    model, x = _too_large_init()
    with tg.detect_anomaly(), np.errstate(all="ignore"), pytest.raises(NonFiniteError) as info:
        model(x)
    message = str(info.value)
    assert "the forward of 'linear_act' made values that are not finite" in message
    assert re.search(r"in module: layers\.\d+ \(Layer 256→256, relu\) in the MLP", message)
    assert re.search(HERE + r":\d+: model\(x\)", message), message
    assert re.search(r"0: shape \(8, 256\) float32: min 0, max [\d.e+]+, mean [\d.e+]+; all "
                     r"finite", message), message
    assert "overflowed" in message


def _diverging_run(steps):
    """A training loop whose learning rate is far too large: the loss is NaN within a few
    steps and stays NaN; returns the losses."""
    tg.manual_seed(0)
    model = nn.MLP(8, [16, 16], 1)
    opt = optim.SGD(model.parameters(), lr=1e6)
    x, y = Tensor.randn(32, 8), Tensor.randn(32, 1)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_without_the_mode_a_diverging_run_warns_once_not_every_step(cpu_backend):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        with np.errstate(all="ignore"):
            losses = _diverging_run(60)
    assert np.isnan(losses[-1])
    found = [w for w in caught if issubclass(w.category, NonFiniteValueWarning)]
    assert len({str(w.message) for w in found}) == len(found) <= 2, [str(w.message) for w in found]
    assert found, "no warning for a NaN loss"
    assert "the loss is" in str(found[0].message) and "detect_anomaly" in str(found[0].message)
    assert found[0].filename == __file__


def test_a_huge_learning_rate_run_is_stopped_at_the_first_non_finite_value(cpu_backend):
    with tg.detect_anomaly(), np.errstate(all="ignore"), \
            pytest.raises(NonFiniteError) as info:
        _diverging_run(60)
    message = str(info.value)
    assert re.search(r"detect_anomaly: the (forward|backward) of '\w+'", message), message
    assert re.search(HERE + r":\d+: ", message), message
    assert "its inputs" in message


def test_backward_gradients_are_checked_and_name_the_op_and_the_arriving_gradient(cpu_backend):
    x = Tensor([0.0, 4.0], requires_grad=True)
    with tg.detect_anomaly(), np.errstate(all="ignore"):
        y = x.sqrt().sum()
        with pytest.raises(NonFiniteError) as info:
            y.backward()
    message = str(info.value)
    assert "the backward of 'sqrt' gave input 0 a gradient that is not finite" in message
    assert "1 +inf of 2" in message
    assert "the gradient arriving from its output: shape (2,) float32: min 1, max 1" in message
    assert re.search(HERE + r":\d+: y = x.sqrt\(\).sum\(\)", message)


def test_a_nan_leaf_is_reported_at_the_first_op_that_uses_it(cpu_backend):
    x = Tensor([1.0, np.nan, np.inf, -np.inf])
    with tg.detect_anomaly(), pytest.raises(NonFiniteError,
                                            match=r"1 NaN, 1 \+inf, 1 -inf of 4"):
        x * 2


def test_value_engine_forward_and_backward_are_checked():
    with tg.detect_anomaly():
        with pytest.raises(NonFiniteError, match=r"Value op 'exp' made inf from the input\(s\) "
                                                 r"800.0 \(made at .*" + HERE):
            Value(800.0).exp()
        y = Value(0.0) ** 0.5
        with pytest.raises(NonFiniteError, match=r"'\*\*0.5'.*the gradient 1.0 x inf = inf"):
            y.backward()


def test_the_mode_is_a_decorator_restores_the_previous_mode_and_records_nothing_when_off():
    @tg.detect_anomaly()
    def checked():
        assert tg.is_anomaly_enabled()
        return (Tensor([1.0], requires_grad=True) * 2).grad_fn

    assert not tg.is_anomaly_enabled()
    node = checked()
    assert not tg.is_anomaly_enabled()
    assert HERE in node.origin or os.path.basename(__file__) in node.origin
    off = (Tensor([1.0], requires_grad=True) * 2).grad_fn
    assert not hasattr(off, "origin")
    with tg.detect_anomaly():
        with tg.detect_anomaly(False):
            assert not tg.is_anomaly_enabled()
        assert tg.is_anomaly_enabled()
    assert not tg.is_anomaly_enabled()


@pytest.mark.parametrize("value, on", [("1", True), ("0", False)])
def test_the_environment_switch(value, on):
    code = "import tinygrad_edu as tg; print(tg.is_anomaly_enabled())"
    env = {**os.environ, "TINYGRAD_EDU_DETECT_ANOMALY": value}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == str(on), out.stderr


def test_an_unreadable_environment_switch_is_a_clear_error():
    env = {**os.environ, "TINYGRAD_EDU_DETECT_ANOMALY": "sure"}
    out = subprocess.run([sys.executable, "-c", "import tinygrad_edu"], env=env,
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert "TINYGRAD_EDU_DETECT_ANOMALY='sure' is not understood" in out.stderr


def test_a_value_root_that_is_not_finite_warns_at_backward():
    with pytest.warns(NonFiniteValueWarning, match="Value.backward: the root is inf"):
        (Value(1000.0).exp() * 2).backward()
