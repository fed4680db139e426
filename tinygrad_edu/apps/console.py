"""What the demo prints: a line per epoch with a tqdm progress bar while the epoch runs, and
the report of a finished run read from its metrics."""

import os

from .metrics import comparison
from .training import Observer

__all__ = ["EpochLines", "summary_lines"]


class EpochLines(Observer):
    """One line per epoch, and a tqdm progress bar with the running loss while it runs."""

    def __init__(self, log, tqdm=None):
        self.log, self.tqdm, self.bar = log, tqdm, None

    def close(self):
        """Close a bar left open by a run that stopped mid-epoch."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def epoch_started(self, epoch, epochs, steps):
        if self.tqdm is not None:
            self.bar = self.tqdm(total=steps, desc=f"epoch {epoch}/{epochs}", unit="step",
                                 leave=False, dynamic_ncols=True)

    def step_done(self, step, loss, running_loss):
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"loss {running_loss:.4f}", refresh=False)

    def epoch_done(self, record):
        self.close()
        v = record.validation
        train = "       -" if record.train_loss is None else f"{record.train_loss:8.4f}"
        dead = " ".join("-" if s["dead_fraction"] is None else f"{s['dead_fraction']:.0%}"
                        for s in record.layers)
        self.log(f"epoch {record.epoch:3d}  train {train}  validation {v['mse']:8.4f}  "
                 f"NDCG@10 {v['ndcg@10']:.3f}  AUC {v['auc']:.3f}  dead {dead}")


def summary_lines(metrics):
    """The console report of a finished run."""
    test = metrics["test"]
    mse_floor = test["predict_the_mean"]["mse"]
    lines = ["", "on the test users       predicting the mean   the network   ground truth"]
    for key, label in (("mse", "MSE"), ("ndcg@10", "NDCG@10"), ("auc", "AUC")):
        lines.append(f"  {label:<22}{test['predict_the_mean'][key]:>19.4f}"
                     f"{test['model'][key]:>14.4f}{test['ground_truth'][key]:>15.4f}")
    lines.append(f"  the network's test MSE is {comparison(test['model']['mse'], mse_floor)}")
    lines.append("")
    lines.append(f"dead ReLU units per layer (the chapter's rule: at most "
                 f"{metrics['dead_threshold']:.0%}):")
    for layer in metrics["layers"]:
        dead = layer["final"]["dead_fraction"]
        if dead is not None:
            verdict = "above the threshold" if layer["above_dead_threshold"] else "ok"
            lines.append(f"  {layer['layer']:<10}{layer['units']:>5} units  {dead:6.1%}  "
                         f"{verdict}")
    lines.extend(f"  warning: {w}" for w in metrics["warnings"])
    latency = metrics["latency_us"]
    lines.append("")
    lines.append("inference latency, median µs per call   graph path   fused path")
    for batch, graph in latency["graph"].items():
        fused = latency["fused"].get(batch)
        lines.append(f"  batch {batch:<33}{graph:>10.1f}"
                     f"{'-' if fused is None else f'{fused:.1f}':>13}")
    timing = metrics["timing"]
    lines.append("")
    lines.append(f"trained {len(metrics['step_losses'])} steps in {timing['train_seconds']:.1f} s "
                 f"({1000 * timing['seconds_per_step']:.2f} ms per step); whole run "
                 f"{timing['total_seconds']:.1f} s")
    if metrics["graph"]["note"]:
        lines.append(metrics["graph"]["note"])
    out = metrics["settings"]["out"]
    lines.append(f"wrote {', '.join(f for f in metrics['files'].values() if f)} to {out}/")
    lines.append(f"open file://{os.path.abspath(os.path.join(out, metrics['files']['report']))}")
    return lines
