"""Training diagnostics: watch activations layer by layer, and see what initialization does.

The textbook's practical advice, built in. ``ActivationMonitor`` records, for every Layer,
Neuron and activation module of a model and every batch, the mean and std of pre-activations
and activations, the fraction of dead ReLU-family units, the fraction of saturated sigmoid/tanh
outputs and NaN/Inf counts. It warns when more than 30% of a layer's units are dead and when the
activation scale grows or shrinks exponentially with depth. ``init_demo`` pushes one batch
through a deep stack under five initializations so their effect can be seen side by side.
"""

import functools
import math
import os
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError
from ..nn import init
from ..nn.activations import RELU_FAMILY, SATURATING, Activation
from ..nn.layers import Layer, Neuron
from ..nn.module import Module, Sequential
from ..random import manual_seed
from ..tensor import Tensor, no_grad

__all__ = ["DiagnosticWarning", "DeadUnitWarning", "ActivationScaleWarning", "NonFiniteWarning",
           "LayerStats", "ActivationMonitor", "init_demo", "format_init_demo"]

SATURATION_MARGIN = 0.01  # an output within 1% of the range from an asymptote is saturated
# The package root (this file is in tinygrad_edu/check/): warnings skip every frame below it.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class DiagnosticWarning(UserWarning):
    """Base class of the warnings raised by the training diagnostics."""


class DeadUnitWarning(DiagnosticWarning):
    """Too many ReLU-family units of a layer output 0 for a whole batch."""


class ActivationScaleWarning(DiagnosticWarning):
    """Activation scale grows or shrinks exponentially with depth."""


class NonFiniteWarning(DiagnosticWarning):
    """A layer produced NaN or Inf values."""


@dataclass(frozen=True)
class LayerStats:
    """What the monitor saw in one layer for one batch.

    ``dead_fraction``: share of units that output exactly 0 for every example of the batch
    (ReLU family only, else None). ``saturated_fraction``: share of sigmoid/tanh outputs within
    1% of the output range from an asymptote, where the derivative nearly vanishes (else None).
    ``nan_count`` / ``inf_count`` count the activations' non-finite values.
    """

    batch: int
    layer: str
    activation: object
    units: int
    examples: int
    pre_mean: float
    pre_std: float
    mean: float
    std: float
    dead_fraction: object
    saturated_fraction: object
    nan_count: int
    inf_count: int


def _user_stacklevel():
    """The ``stacklevel`` that attributes a warning to the first caller outside this package
    (the line that called the model), not to the hook that noticed the problem."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _saturated(y, activation):
    if activation == "sigmoid":
        return (y < SATURATION_MARGIN) | (y > 1 - SATURATION_MARGIN)
    return np.abs(y) > 1 - 2 * SATURATION_MARGIN  # tanh spans [-1, 1], a range of 2


def _stats(batch, name, module, z, y):
    units = 1 if isinstance(module, Neuron) or y.ndim == 0 else y.shape[-1]
    y2 = y.reshape(-1, units)
    act = module.activation
    dead = float(np.mean(np.all(y2 == 0, axis=0))) if act in RELU_FAMILY else None
    saturated = float(np.mean(_saturated(y2, act))) if act in SATURATING else None
    return LayerStats(
        batch=batch, layer=name, activation=act, units=units, examples=y2.shape[0],
        pre_mean=float(np.mean(z, dtype=np.float64)), pre_std=float(np.std(z, dtype=np.float64)),
        mean=float(np.mean(y, dtype=np.float64)), std=float(np.std(y, dtype=np.float64)),
        dead_fraction=dead, saturated_fraction=saturated,
        nan_count=int(np.isnan(y).sum()), inf_count=int(np.isinf(y).sum()))


def _preactivation(module, inputs, output):
    """z for the output just computed, as a numpy array, with as little recomputation as
    possible: an activation module's input, or the pre-activation the output's op shows in
    ``grad_fn.details()`` when a graph was recorded; otherwise z is recomputed (under no_grad
    there is no op node to ask)."""
    if isinstance(module, Activation):
        x = inputs[0]
        return x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    node = output.grad_fn
    saved = node.details().get("preactivation") if node is not None else None
    if saved is not None:
        return saved.numpy()
    with no_grad():
        return module.pre_activation(inputs[0]).numpy()


class ActivationMonitor:
    """Record activation statistics of ``model`` per layer and per batch.

    Use as a context manager (hooks are attached inside the ``with`` block) or call
    ``attach()`` / ``detach()``. A batch is one call of ``model``. Watched: every ``Layer``,
    ``Neuron`` and activation module (``ReLU``, ...) inside ``model``, in forward order.
    Under ``no_grad`` a Layer's pre-activation is recomputed, so monitoring costs a little.

    Warnings (category ``DiagnosticWarning``; each kind at most once per layer per monitor):
    ``DeadUnitWarning`` when more than ``dead_threshold`` of a layer's units are dead,
    ``ActivationScaleWarning`` when a log-linear fit of activation std against depth (three or
    more layers) changes by more than ``scale_threshold`` times from first to last layer, and
    ``NonFiniteWarning`` on NaN/Inf. With ``warn=False`` they are only collected in
    ``warnings`` and shown by ``report()``.

    >>> with ActivationMonitor(model) as monitor:
    ...     loss = loss_fn(model(x), y)
    >>> print(monitor.report())
    """

    def __init__(self, model, dead_threshold=0.3, scale_threshold=100.0, warn=True):
        if not isinstance(model, Module):
            raise ArgumentTypeError(f"ActivationMonitor: expected an nn.Module, got "
                                    f"{type(model).__name__}")
        self.model = model
        self._watched = [(name or type(m).__name__, m) for name, m in model.named_modules()
                         if isinstance(m, (Layer, Neuron, Activation))]
        if not self._watched:
            raise ArgumentError(f"ActivationMonitor: {type(model).__name__} has no Layer, Neuron "
                                "or activation module to watch")
        self.dead_threshold = float(dead_threshold)
        self.scale_threshold = float(scale_threshold)
        self.warn = bool(warn)
        self.records = []
        self.warnings = []
        self.batches = 0
        self._current = []
        self._warned = set()
        self._handles = []

    @property
    def layers(self):
        """Names of the watched modules, in the order they appear in the model."""
        return [name for name, _ in self._watched]

    def attach(self):
        """Start recording (idempotent); returns self."""
        if not self._handles:
            self._handles = [m.register_forward_hook(functools.partial(self._record, name))
                             for name, m in self._watched]
            # Registered last, so on a watched root its own record hook runs first.
            self._handles.append(self.model.register_forward_hook(self._end_batch))
        return self

    def detach(self):
        """Stop recording; what was recorded stays."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self.attach()

    def __exit__(self, *exc_info):
        self.detach()
        return False

    # ---- recording ----
    def _record(self, name, module, inputs, output):
        y = output.numpy()
        if y.size == 0:
            return
        stats = _stats(self.batches, name, module, _preactivation(module, inputs, output), y)
        self.records.append(stats)
        self._current.append(stats)
        if stats.dead_fraction is not None and stats.dead_fraction > self.dead_threshold:
            self._warn(name, DeadUnitWarning,
                       f"{name}: {stats.dead_fraction:.0%} of its {stats.units} "
                       f"{stats.activation} units are dead (output 0 for every example of batch "
                       f"{stats.batch}), above the {self.dead_threshold:.0%} threshold; lower "
                       "the learning rate, check the initialization (He for ReLU) or try "
                       "leaky_relu")
        if stats.nan_count or stats.inf_count:
            self._warn(name, NonFiniteWarning,
                       f"{name}: {stats.nan_count} NaN and {stats.inf_count} Inf activations in "
                       f"batch {stats.batch}; activations overflowed or the inputs/loss are "
                       "not finite (lower the learning rate or the initial weight scale)")

    def _end_batch(self, module, inputs, output):
        self._check_scale(self._current)
        self._current = []
        self.batches += 1

    def _check_scale(self, stats):
        stds = np.array([s.std for s in stats])
        if len(stds) < 3 or not np.all(np.isfinite(stds) & (stds > 0)):
            return
        depth = np.arange(len(stds))
        slope = np.polyfit(depth, np.log(stds), 1)[0]
        total = math.exp(slope * (len(stds) - 1))
        if 1 / self.scale_threshold <= total <= self.scale_threshold:
            return
        trend = "grows" if total > 1 else "shrinks"
        cause = ("exploding: weights too large" if total > 1
                 else "vanishing: weights too small or Xavier used with ReLU")
        self._warn("model", ActivationScaleWarning,
                   f"activation std {trend} exponentially with depth: about "
                   f"x{math.exp(slope):.3g} per layer over {len(stds)} layers ({stds[0]:.3g} in "
                   f"{stats[0].layer} to {stds[-1]:.3g} in {stats[-1].layer}), {cause}; use "
                   "init='auto' (He for ReLU, Xavier for tanh/sigmoid)")

    def _warn(self, layer, category, message):
        if (layer, category) in self._warned:
            return
        self._warned.add((layer, category))
        self.warnings.append(message)
        if self.warn:
            warnings.warn(message, category, stacklevel=_user_stacklevel())

    # ---- reading ----
    def latest(self):
        """The LayerStats of the last recorded batch, in forward order."""
        if not self.records:
            return []
        last = self.records[-1].batch
        return [s for s in self.records if s.batch == last]

    def history(self, layer, field):
        """``field`` (e.g. ``"dead_fraction"``) of ``layer`` over the batches, as an array."""
        if layer not in self.layers:
            raise KeyError(f"ActivationMonitor.history: no watched layer {layer!r}; watched: "
                           f"{self.layers}")
        if field not in LayerStats.__dataclass_fields__:
            raise ArgumentError(f"ActivationMonitor.history: unknown field {field!r}; fields: "
                                f"{list(LayerStats.__dataclass_fields__)}")
        return np.array([getattr(s, field) for s in self.records if s.layer == layer],
                        dtype=float)

    def report(self):
        """A table of the last batch's statistics per layer, then any warnings."""
        latest = self.latest()
        if not latest:
            return "ActivationMonitor: nothing recorded yet (call the model inside the monitor)"
        lines = [f"ActivationMonitor: {self.batches} batch(es) seen; statistics of batch "
                 f"{latest[0].batch} ({latest[0].examples} examples)",
                 f"{'layer':<12}{'activation':<12}{'units':>6}{'pre mean':>10}{'pre std':>10}"
                 f"{'mean':>10}{'std':>10}{'dead':>7}{'satur.':>8}{'nan/inf':>9}"]
        for s in latest:
            dead = "-" if s.dead_fraction is None else f"{s.dead_fraction:.0%}"
            sat = "-" if s.saturated_fraction is None else f"{s.saturated_fraction:.0%}"
            lines.append(f"{s.layer:<12}{str(s.activation or 'identity'):<12}{s.units:>6}"
                         f"{s.pre_mean:>10.3g}{s.pre_std:>10.3g}{s.mean:>10.3g}{s.std:>10.3g}"
                         f"{dead:>7}{sat:>8}{f'{s.nan_count}/{s.inf_count}':>9}")
        lines.append("warnings:" + ("" if self.warnings else " none"))
        lines.extend(f"  - {w}" for w in self.warnings)
        return "\n".join(lines)


INIT_DEMO_SCHEMES = ("zeros", "too_small", "too_large", "xavier", "he")


def init_demo(depth=20, width=256, batch=256, activation="relu", small_std=0.01, large_std=1.0,
              seed=0):
    """Activation std per layer of a deep stack under five initializations.

    Pushes one standard-normal batch ``(batch, width)`` through ``depth`` Layers of
    ``width → width`` with ``activation``, initialized with zeros (symmetry: every unit the
    same, std 0), N(0, small_std^2) (vanishing), N(0, large_std^2) (exploding), Xavier normal
    and He normal. Returns ``{scheme: array of depth stds}`` in ``INIT_DEMO_SCHEMES`` order;
    print it with ``format_init_demo``. ``seed`` reseeds the library generator (None: don't).
    """
    if seed is not None:
        manual_seed(seed)
    x = Tensor.randn(batch, width)
    schemes = {
        "zeros": "zeros",
        "too_small": functools.partial(init.normal_, std=small_std),
        "too_large": functools.partial(init.normal_, std=large_std),
        "xavier": "xavier_normal",
        "he": "he_normal",
    }
    result = {}
    for name in INIT_DEMO_SCHEMES:
        model = Sequential(*[Layer(width, width, activation, init=schemes[name])
                             for _ in range(depth)])
        with no_grad(), ActivationMonitor(model, warn=False) as monitor:
            model(x)
        result[name] = np.array([s.std for s in monitor.latest()])
    return result


def format_init_demo(result, every=1):
    """``init_demo``'s result as a table: one row per layer (every ``every``-th), one column
    per scheme."""
    names = list(result)
    depth = len(result[names[0]])
    lines = [f"{'layer':>5}" + "".join(f"{n:>12}" for n in names)]
    for i in range(0, depth, every):
        lines.append(f"{i + 1:>5}" + "".join(f"{result[n][i]:>12.3g}" for n in names))
    if (depth - 1) % every:
        lines.append(f"{depth:>5}" + "".join(f"{result[n][-1]:>12.3g}" for n in names))
    return "\n".join(lines)
