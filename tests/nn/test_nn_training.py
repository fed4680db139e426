"""End to end: the textbook's 128→256→128→64→1 network fits a nonlinear target."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, optim
from tinygrad_edu.check.diagnostics import ActivationMonitor

STEPS = 30


def _regression_data(n=256, nin=128):
    """y = sin(2 p1) + p2^2 - 0.5 for two random projections p of standard-normal inputs."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, nin)).astype(np.float32)
    p = x @ (rng.standard_normal((nin, 2)) / np.sqrt(nin))
    y = np.sin(2 * p[:, :1]) + p[:, 1:] ** 2 - 0.5
    return Tensor(x), y.astype(np.float32)


def _full_batch_loss(model, x, y):
    with tg.no_grad():
        return nn.functional.mse_loss(model(x), y).item()


@pytest.mark.parametrize("make_optimizer", [
    lambda params: optim.SGD(params, lr=0.01, momentum=0.9),
    lambda params: optim.Adam(params, lr=1e-3),
], ids=["sgd-momentum", "adam"])
def test_recommendation_mlp_fits_a_nonlinear_regression_target(make_optimizer, cpu_backend):
    x, y = _regression_data()
    tg.manual_seed(1)
    model = nn.MLP(128, [256, 128, 64], 1)
    opt = make_optimizer(model.parameters())
    start = _full_batch_loss(model, x, y)
    for _ in range(STEPS):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    end = _full_batch_loss(model, x, y)
    assert np.isfinite(end) and start / end >= 10, (start, end)


def test_training_under_the_activation_monitor_records_every_step():
    x, y = _regression_data(n=64, nin=16)
    tg.manual_seed(2)
    model = nn.MLP(16, [32, 16], 1)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    with ActivationMonitor(model, warn=False) as monitor:
        for _ in range(5):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
    assert monitor.batches == 5
    assert monitor.history("layers.0", "std").shape == (5,)


def test_small_mlp_learns_two_interleaved_classes_with_cross_entropy():
    rng = np.random.default_rng(3)
    n = 100
    labels = rng.integers(0, 2, n)
    angle = rng.uniform(0, np.pi, n) + np.pi * labels
    points = np.stack([np.cos(angle) + 0.5 * labels, np.sin(angle) - 0.25 * labels], axis=1)
    x = Tensor((points + 0.1 * rng.standard_normal((n, 2))).astype(np.float32))
    tg.manual_seed(4)
    model = nn.MLP(2, [32, 32], 2)
    opt = optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), labels).backward()
        opt.step()
    with tg.no_grad():
        accuracy = np.mean(model(x).numpy().argmax(axis=1) == labels)
    assert accuracy >= 0.95
