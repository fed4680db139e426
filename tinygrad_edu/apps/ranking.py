"""The textbook's production example: a recommendation-ranking MLP, trained end to end.

The input is 128 features (a user's 64 and an item's 64); the network is
128 → 256 → 128 → 64 → 1 with ReLU and a raw score out. Real click logs cannot ship with a
library, so ``make_ranking_data`` draws a synthetic task with the same shape: the score is a
nonlinear match between the user's and the item's features plus noise, so a linear model cannot
fit it and the MLP must learn the interactions. ``train_ranking_model`` trains it and watches
its layers with the activation monitor, and is what ``tinygrad-edu train`` runs.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .. import nn, optim
from ..tensor.context import no_grad
from ..check.diagnostics import ActivationMonitor, DiagnosticWarning
from ..errors import ArgumentError
from ..random import manual_seed
from ..tensor import Tensor

__all__ = ["RANKING_SHAPE", "make_ranking_data", "ranking_model", "train_ranking_model",
           "TrainingResult"]

RANKING_SHAPE = (128, [256, 128, 64], 1)
_USER, _ITEM, _FACTORS = 64, 64, 2


def make_ranking_data(n, seed=0, noise=0.1):
    """``(features (n, 128), scores (n, 1))`` as float32, reproducible from ``seed``.

    The score adds how well the user's tastes match the item (the product of a user factor and
    an item factor, an interaction a linear model cannot represent) to thresholded effects of a
    few feature directions (as an item's popularity only counts once it is high), plus noise.
    The task's directions are fixed; ``seed`` draws the examples.
    """
    if n < 1:
        raise ArgumentError(f"make_ranking_data: n must be at least 1, got {n}")
    task = np.random.default_rng(2024)
    user_factor = task.standard_normal((_USER, _FACTORS)) / np.sqrt(_USER)
    item_factor = task.standard_normal((_ITEM, _FACTORS)) / np.sqrt(_ITEM)
    directions = task.standard_normal((_USER + _ITEM, 4)) / np.sqrt(_USER + _ITEM)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, _USER + _ITEM))
    match = (np.tanh(x[:, :_USER] @ user_factor) * np.tanh(x[:, _USER:] @ item_factor))
    score = 2 * match.sum(axis=1) + np.maximum(x @ directions, 0) @ np.array([1, -1, 0.5, 1])
    score += noise * rng.standard_normal(n)
    return x.astype(np.float32), score[:, None].astype(np.float32)


def ranking_model(activation="relu", init="auto"):
    """The chapter's network, ``nn.MLP(128, [256, 128, 64], 1)``, with a raw score out."""
    nin, hidden, nout = RANKING_SHAPE
    return nn.MLP(nin, hidden, nout, activation=activation, init=init)


@dataclass
class TrainingResult:
    """What ``train_ranking_model`` measured."""

    model: nn.MLP
    losses: list = field(default_factory=list)     # (step, training-batch loss)
    baseline_mse: float = 0.0   # test MSE of always predicting the mean training score
    test_mse: float = 0.0
    seconds_per_step: float = 0.0
    monitor_report: str = ""
    warnings: list = field(default_factory=list)


def train_ranking_model(steps=800, batch=256, lr=1e-3, optimizer="adam", activation="relu",
                        init="auto", train_size=32768, test_size=2048, seed=0, log_every=100,
                        log=None):
    """Train the ranking MLP on synthetic data; return a ``TrainingResult``.

    ``optimizer`` is ``"adam"`` or ``"sgd"`` (SGD with momentum 0.9). ``log(line)`` is called
    with a progress line every ``log_every`` steps (and at the last one).
    """
    if optimizer not in ("adam", "sgd"):
        raise ArgumentError(f"train_ranking_model: optimizer must be 'adam' or 'sgd', got "
                            f"{optimizer!r}")
    if steps < 1 or batch < 1:
        raise ArgumentError(f"train_ranking_model: steps and batch must be positive, got "
                            f"steps={steps}, batch={batch}")
    manual_seed(seed)
    x_train, y_train = make_ranking_data(train_size, seed=seed)
    x_test, y_test = make_ranking_data(test_size, seed=seed + 1)
    model = ranking_model(activation, init)
    params = model.parameters()
    opt = (optim.Adam(params, lr=lr) if optimizer == "adam"
           else optim.SGD(params, lr=lr, momentum=0.9))
    result = TrainingResult(model=model)
    result.baseline_mse = float(np.mean((y_test - y_train.mean()) ** 2))
    order = np.random.default_rng(seed).permutation(train_size)
    start = time.perf_counter()
    for step in range(steps):
        lo = (step * batch) % train_size
        rows = order[lo:lo + batch] if lo + batch <= train_size else order[:batch]
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(Tensor(x_train[rows])), Tensor(y_train[rows]))
        loss.backward()
        opt.step()
        if step % log_every == 0 or step == steps - 1:
            result.losses.append((step, loss.item()))
            if log:
                log(f"step {step:5d}  loss {loss.item():.4f}")
    result.seconds_per_step = (time.perf_counter() - start) / steps
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DiagnosticWarning)
        with ActivationMonitor(model) as monitor, no_grad():
            predictions = model(Tensor(x_test)).numpy()
    result.test_mse = float(np.mean((predictions - y_test) ** 2))
    result.monitor_report = monitor.report()
    result.warnings = [str(w.message) for w in caught]
    return result
