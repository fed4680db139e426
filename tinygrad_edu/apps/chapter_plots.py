"""The chapter's pictures, computed by the engine and drawn with matplotlib.

- ``plot_activations``: every activation of the registry beside its derivative, the
  derivative taken by ``backward()`` through the fused layer op (not by a formula);
- ``plot_init``: the activation std per layer of a deep ReLU stack under zeros, too-small,
  too-large, Xavier and He initialization (``diagnostics.init_demo``);
- ``plot_neuron``: a two-input neuron's input plane coloured by its pre-activation
  ``z = w·x + b``, with the hyperplane ``z = 0`` (its decision boundary) and the normal ``w``.

``tinygrad-edu plot activations|init|neuron --out FILE`` writes them.
"""

import textwrap

import numpy as np

from .. import nn
from ..activations import ACTIVATIONS
from ..check.diagnostics import init_demo
from ..tensor import Tensor, linear_act
from .plots import new_figure, save_figure

__all__ = ["PLOTS", "plot_activations", "plot_init", "plot_neuron", "activation_curves",
           "CHAPTER_NEURON"]

CHAPTER_NEURON = {"w": (0.6, -0.4), "b": 0.1, "x": (2.0, -1.0)}   # as in `graph --example neuron`
_PRELU_INITIAL_SLOPE = 0.25


def activation_curves(x):
    """``{name: (spec, f(x), f'(x))}`` for every activation of the registry but identity.

    Each is run as ``linear_act(x, [[1]], activation)`` and differentiated by ``backward()``;
    PReLU is drawn with its initial learned slope, 0.25, and leaky ReLU with its default 0.01.
    """
    curves = {}
    for spec in ACTIVATIONS.values():
        if spec.name == "identity":
            continue
        name, slope = ("leaky_relu", _PRELU_INITIAL_SLOPE) if spec.learnable_slope else \
            (spec.name, 0.01)
        inputs = Tensor(np.asarray(x, np.float64)[:, None], requires_grad=True)
        outputs = linear_act(inputs, Tensor([[1.0]], dtype=np.float64), None, activation=name,
                             negative_slope=slope)
        outputs.sum().backward()
        curves[spec.name] = (spec, outputs.numpy()[:, 0], inputs.grad.numpy()[:, 0])
    return curves


def plot_activations(path):
    """Each activation (left of a pair) beside its derivative (right), to ``path``."""
    x = np.linspace(-4, 4, 401)
    curves = activation_curves(x)
    columns = 4
    rows = -(-2 * len(curves) // columns)
    figure = new_figure(13, 2.7 * rows)
    axes = figure.subplots(rows, columns).ravel()
    for i, (name, (spec, y, dy)) in enumerate(curves.items()):
        f_axes, d_axes = axes[2 * i], axes[2 * i + 1]
        f_axes.plot(x, y, color="#1f77b4")
        f_axes.set_title(textwrap.fill(f"{name}: {spec.formula}", 44), fontsize=8)
        d_axes.plot(x, dy, color="#d62728")
        d_axes.set_title(textwrap.fill(f"{name}': {spec.derivative}", 44), fontsize=8)
        for a in (f_axes, d_axes):
            a.axhline(0, color="grey", linewidth=0.5)
            a.axvline(0, color="grey", linewidth=0.5)
            a.tick_params(labelsize=7)
    for a in axes[2 * len(curves):]:
        a.set_visible(False)
    figure.suptitle("Activation functions (blue) and their derivatives from backward() (red)")
    return save_figure(figure, path)


def plot_init(path, depth=20, width=256, seed=0):
    """Activation std per layer of a ``depth``-layer ReLU stack under five initializations."""
    stds = init_demo(depth=depth, width=width, seed=seed)
    figure = new_figure(8, 4.8)
    axes = figure.subplots()
    layers = np.arange(1, depth + 1)
    labels = {"too_small": "N(0, 0.01²): vanishes", "too_large": "N(0, 1): explodes",
              "xavier": "Xavier: shrinks under ReLU", "he": "He: keeps the scale"}
    for scheme, label in labels.items():
        axes.plot(layers, stds[scheme], "o-", markersize=3, label=label)
    axes.set_yscale("log")
    axes.set(xlabel="layer", ylabel="activation std (log scale)",
             title=f"A {depth}-layer ReLU network ({width} units per layer), one batch")
    axes.text(0.02, 0.03, "zeros: std 0 at every layer, every unit identical (not on a log "
              "scale)", transform=axes.transAxes, fontsize=8)
    axes.legend(fontsize=8)
    return save_figure(figure, path)


def plot_neuron(path, w=CHAPTER_NEURON["w"], b=CHAPTER_NEURON["b"], point=CHAPTER_NEURON["x"]):
    """The input plane of a two-input ReLU neuron: pre-activation and output, to ``path``."""
    figure = new_figure(11, 4.8)      # first: without matplotlib, nothing is computed
    from matplotlib.colors import TwoSlopeNorm

    neuron = nn.Neuron(2, activation="relu").double()
    neuron.w.copy_(list(w))
    neuron.b.copy_(b)
    ticks = np.linspace(-3, 3, 241)
    x1, x2 = np.meshgrid(ticks, ticks)
    grid = Tensor(np.column_stack([x1.ravel(), x2.ravel()]))
    z = neuron.pre_activation(grid).numpy().reshape(x1.shape)
    y = neuron(grid).numpy().reshape(x1.shape)

    z_axes, y_axes = figure.subplots(1, 2)
    shown = z_axes.pcolormesh(x1, x2, z, cmap="RdBu_r", shading="auto",
                              norm=TwoSlopeNorm(vcenter=0.0))
    figure.colorbar(shown, ax=z_axes, label="z = w·x + b")
    out = y_axes.pcolormesh(x1, x2, y, cmap="viridis", shading="auto")
    figure.colorbar(out, ax=y_axes, label="relu(z)")
    w_arr = np.array(w, dtype=float)
    foot = -b * w_arr / (w_arr @ w_arr)       # the point of the line closest to the origin
    arrow = w_arr / np.linalg.norm(w_arr)
    z_point = float(neuron.pre_activation(Tensor(np.array(point))).item())
    for axes in (z_axes, y_axes):
        axes.contour(x1, x2, z, levels=[0.0], colors="black", linewidths=1.5)
        axes.plot(*point, "k*", markersize=10)
        axes.set(xlabel="x1", ylabel="x2", aspect="equal")
    z_axes.annotate("", xy=foot + arrow, xytext=foot,
                    arrowprops={"arrowstyle": "->", "linewidth": 2})
    z_axes.text(*(foot + 1.1 * arrow), "w", fontsize=12, fontweight="bold")
    z_axes.text(point[0] + 0.15, point[1] + 0.15, f"x = {point}\nz = {z_point:.2f}", fontsize=8)
    z_axes.set_title(f"Pre-activation of w = {tuple(w)}, b = {b}:\nthe line w·x + b = 0 "
                     "splits the plane", fontsize=10)
    y_axes.set_title("The neuron's output relu(z):\n0 on one side, growing along w on the "
                     "other", fontsize=10)
    return save_figure(figure, path)


# name -> (function(path, seed), what it shows), for `tinygrad-edu plot`
PLOTS = {
    "activations": (lambda path, seed: plot_activations(path),
                    "the activation functions beside their derivatives"),
    "init": (lambda path, seed: plot_init(path, seed=seed),
             "activation std per layer of a deep ReLU network under five initializations"),
    "neuron": (lambda path, seed: plot_neuron(path),
               "a two-input neuron's decision boundary w·x + b = 0 over its input plane"),
}
