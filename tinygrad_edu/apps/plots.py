"""The demo's pictures of a training run, drawn from its ``metrics.json`` contents.

``plot_loss_curves`` shows the losses and the ranking metrics epoch by epoch against the two
yardsticks (predicting the mean, the noise-free ground truth); ``plot_layer_statistics`` shows
each layer's activation mean, std and dead-unit fraction over training, with the chapter's 30%
line. matplotlib is used through its object interface (``Figure``), never ``pyplot``, so drawing
changes no global state of a notebook or program that imports this.
"""

import numpy as np

from .dependencies import require

__all__ = ["new_figure", "save_figure", "plot_loss_curves", "plot_layer_statistics",
           "DEAD_THRESHOLD"]

DEAD_THRESHOLD = 0.3    # the chapter's rule: more than 30% dead units is a problem
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def new_figure(width, height, purpose="the plots"):
    """A matplotlib ``Figure`` of ``width`` x ``height`` inches (raises MissingDependencyError
    with the install line when matplotlib is missing)."""
    require("matplotlib", purpose)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def save_figure(figure, path):
    """Write ``figure`` to ``path`` (format from the extension); returns ``path``."""
    # No creation date in the file: the same run makes the same bytes.
    metadata = {"Date": None} if str(path).endswith(".svg") else None
    figure.savefig(path, metadata=metadata)
    return path


def _steps_as_epochs(metrics):
    losses = np.array(metrics["step_losses"], dtype=float)
    return np.arange(1, len(losses) + 1) / metrics["data"]["steps_per_epoch"], losses


def plot_loss_curves(metrics, path):
    """Training and validation loss, and validation NDCG@10 and AUC, per epoch, to ``path``."""
    figure = new_figure(11, 4.2)
    loss_axes, rank_axes = figure.subplots(1, 2)
    epochs = [e["epoch"] for e in metrics["epochs"]]
    test = metrics["test"]

    x, losses = _steps_as_epochs(metrics)
    loss_axes.plot(x, losses, color=_COLORS[0], alpha=0.25, linewidth=0.8,
                   label="training batch loss")
    trained = [e for e in metrics["epochs"] if e["train_loss"] is not None]
    # An epoch's mean loss is drawn mid-epoch, among the batches it averages.
    loss_axes.plot([e["epoch"] - 0.5 for e in trained], [e["train_loss"] for e in trained],
                   "o-", color=_COLORS[0], label="training loss (epoch mean)")
    loss_axes.plot(epochs, [e["validation"]["mse"] for e in metrics["epochs"]], "s-",
                   color=_COLORS[1], label="validation loss (held-out users)")
    loss_axes.axhline(test["predict_the_mean"]["mse"], color="grey", linestyle="--",
                      label="predicting the mean")
    loss_axes.axhline(test["ground_truth"]["mse"], color="black", linestyle=":",
                      label="ground truth (the noise floor)")
    loss_axes.set_yscale("log")
    loss_axes.set(title="Loss (mean squared error)", xlabel="epoch", ylabel="MSE")
    loss_axes.legend(fontsize=8)

    for key, label, color in (("ndcg@10", "NDCG@10", _COLORS[2]), ("auc", "AUC", _COLORS[4])):
        rank_axes.plot(epochs, [e["validation"][key] for e in metrics["epochs"]], "o-",
                       color=color, label=f"{label}, validation users")
        rank_axes.axhline(test["predict_the_mean"][key], color=color, linestyle="--",
                          alpha=0.6, label=f"{label}, predicting the mean")
        rank_axes.axhline(test["ground_truth"][key], color=color, linestyle=":", alpha=0.8,
                          label=f"{label}, ground truth")
    rank_axes.set(title="Ranking the held-out users' items", xlabel="epoch", ylim=(0, 1.02))
    rank_axes.legend(fontsize=8, loc="lower right")
    return save_figure(figure, path)


def plot_layer_statistics(metrics, path):
    """Every layer's activation mean, std and dead-unit fraction on the validation users, per
    epoch (epoch 0 is the initialization), to ``path``."""
    figure = new_figure(12, 3.8)
    panels = figure.subplots(1, 3)
    epochs = [e["epoch"] for e in metrics["epochs"]]
    for i, layer in enumerate(metrics["layers"]):
        color = _COLORS[i % len(_COLORS)]
        label = f"{layer['layer']} ({layer['activation'] or 'identity'}, {layer['units']})"
        panels[0].plot(epochs, layer["mean"], "o-", color=color, markersize=3, label=label)
        panels[1].plot(epochs, layer["std"], "o-", color=color, markersize=3, label=label)
        if layer["dead_fraction"] is not None:
            panels[2].plot(epochs, np.array(layer["dead_fraction"]) * 100, "o-", color=color,
                           markersize=3, label=label)
    panels[2].axhline(DEAD_THRESHOLD * 100, color="#d62728", linestyle="--",
                      label=f"{DEAD_THRESHOLD:.0%}: too many dead units")
    panels[0].set(title="Activation mean", xlabel="epoch")
    panels[1].set(title="Activation std", xlabel="epoch")
    panels[2].set(title="Dead units (output 0 for every example)", xlabel="epoch",
                  ylabel="% of the layer's units", ylim=(-3, 100))   # 0% stays visible
    panels[0].legend(fontsize=8)
    panels[2].legend(fontsize=8)
    return save_figure(figure, path)
