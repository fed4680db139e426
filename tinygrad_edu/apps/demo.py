"""The main job, ``tinygrad-edu demo``: train the chapter's ranking network and show what it
learned.

``run_demo`` draws a users x items task with a known nonlinear ground truth
(``apps.ranking``), trains ``MLP(128, [256, 128, 64], 1)`` on it with a progress bar, validates
every epoch, scores held-out users against predicting the mean and against the ground truth,
watches every layer's dead units, times inference on the graph and the fused path, and writes
into one folder: ``graph.svg``, ``loss_curves.png``, ``activation_statistics.png``,
``metrics.json``, ``weights.npz`` and ``report.html``, which shows all of it. Everything but
the timings is the same for the same seed. Under ``mpiexec -n P`` it trains data-parallel, the
batch split over the processes, and rank 0 alone prints and writes the files.
"""

import json
import os
import time
from dataclasses import asdict, dataclass

import numpy as np

from .. import __version__
from ..activations import activation_spec
from ..backends import get_backend
from ..distributed import DataParallel, get_world
from ..errors import TinygradEduError
from ..kernels.cpu import compile_seconds
from ..nn import functional as F
from ..random import manual_seed
from ..tensor import Tensor
from .console import EpochLines, summary_lines
from .dependencies import available, require
from .latency import inference_latency
from .plots import DEAD_THRESHOLD, plot_layer_statistics, plot_loss_curves
from .ranking import (CANDIDATES, ITEMS_PER_USER, RANKING_SHAPE, heldout_users,
                      make_ranking_task, ranking_model)
from .report import write_report
from .training import fit, results_on_test_users

__all__ = ["DemoSettings", "run_demo", "compiles", "FILES"]

FILES = {"graph": "graph.svg", "loss_curves": "loss_curves.png",
         "activation_statistics": "activation_statistics.png", "metrics": "metrics.json",
         "weights": "weights.npz", "report": "report.html"}
_GRAPH_EXAMPLES = 32   # enough examples for the drawing's dead-unit shares to mean something


@dataclass(frozen=True)
class DemoSettings:
    """The demo's options (the CLI flags of ``tinygrad-edu demo``)."""

    epochs: int = 10
    batch_size: int = 256
    lr: float = 1e-3
    optimizer: str = "adam"
    activation: str = "relu"
    init: str = "auto"
    seed: int = 0
    users: int = 1500
    out: str = "tinygrad-edu-out"
    latency_calls: int = 300


def compiles(backend):
    """True for a backend whose kernels compile on first use (those in ``kernels/``)."""
    return type(backend).__module__.startswith("tinygrad_edu.kernels")


def _progress_bar(log):
    """tqdm's bar class, or None (saying so) when tqdm is missing."""
    if not available("tqdm"):
        log("(no progress bar: tqdm is not installed: pip install tqdm)")
        return None
    from tqdm.auto import tqdm

    return tqdm


def _warm_up(model, task, settings, device, log=None):
    """One forward and backward pass at the training batch size, then no gradient left, so
    the kernels compile here and not inside the first epoch's bar; returns its seconds.
    ``log`` (for a compiling backend) hears what is going on."""
    start, compiling = time.perf_counter(), compile_seconds()
    if log:
        log("compiling kernels (first run only)...")
    rows = slice(0, settings.batch_size)
    loss = F.mse_loss(model(Tensor(task.train.features[rows], device=device)),
                      Tensor(task.train.targets[rows], device=device))
    loss.backward()
    model.zero_grad()
    seconds = time.perf_counter() - start
    if log:
        log(f"  ready in {seconds:.1f} s, of which {compile_seconds() - compiling:.1f} s "
            "compiling (0 once Numba's disk cache holds the kernels)")
    return seconds


def _latency(model, task, device, calls, log):
    """``inference_latency`` of both paths, the fused one compiled first (its compile time
    left out); without Numba, the graph path alone and why."""
    fused, fused_error = None, None
    log("compiling the fused inference path (first run only)...")
    try:
        fused = model.compile()
        fused(task.test.features[:1])
    except (ImportError, TinygradEduError) as exc:   # reported; the graph path still runs
        fused, fused_error = None, f"{type(exc).__name__}: {exc}"
        log(f"  the fused path is not available here ({fused_error})")
    latency = inference_latency(model, task.test.features, device, calls=calls, fused=fused)
    return {**latency, "calls": calls, "fused_error": fused_error}


def _layers(history):
    layers = []
    for i, final in enumerate(history.final.layers):
        layer = {key: final[key] for key in ("layer", "activation", "units")}
        for key in ("mean", "std", "pre_mean", "pre_std", "dead_fraction"):
            series = [epoch.layers[i][key] for epoch in history.epochs]
            layer[key] = None if series[0] is None else series
        layer["final"] = {k: final[k] for k in ("mean", "std", "dead_fraction")}
        layer["above_dead_threshold"] = (final["dead_fraction"] is not None
                                         and final["dead_fraction"] > DEAD_THRESHOLD)
        layers.append(layer)
    return layers


def _draw_graph(model, task, device, out_dir):
    """``(file name, None)`` or, without Graphviz's dot, ``(None, what to do)``."""
    from ..viz import GraphvizNotFoundError, render_graph

    x = Tensor(task.validation.features[:_GRAPH_EXAMPLES], device=device, label="features")
    y = Tensor(task.validation.targets[:_GRAPH_EXAMPLES], device=device,
               label="observed scores")
    loss = F.mse_loss(model(x), y)
    loss.label = "loss"
    loss.backward()
    try:
        render_graph(loss, os.path.join(out_dir, FILES["graph"]))
    except GraphvizNotFoundError:
        return None, ("Graphviz's dot program is not installed, so the computation graph was "
                      "saved as DOT source, graph.gv. To get the picture: sudo apt-get install "
                      "graphviz (or brew / conda install graphviz), then "
                      f"dot -Tsvg {os.path.join(out_dir, 'graph.gv')} -o "
                      f"{os.path.join(out_dir, FILES['graph'])}")
    finally:
        model.zero_grad()
    return FILES["graph"], None


def _json_ready(value):
    """``value`` with NaN as None and tuple keys as strings, for strict JSON."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def run_demo(settings, device="cpu", log=print, command="tinygrad-edu demo", progress=True):
    """Run the demo with ``DemoSettings``; write its files into ``settings.out`` and return the
    metrics (as written to ``metrics.json``).

    ``device`` is where the model and data live; ``log(line)`` receives every line of the
    console report; ``progress`` shows a tqdm bar (when tqdm is installed). Raises
    ``TrainingDiverged`` when the loss stops being finite and ``MissingDependencyError`` when
    matplotlib is missing (before any work). Under ``mpiexec`` every process trains its shard
    of each batch; the processes other than rank 0 print nothing, write nothing and return None.
    """
    require("matplotlib", "the demo's plots")
    world = get_world()
    if not world.is_main:
        log, progress = (lambda line: None), False
    tqdm = _progress_bar(log) if progress else None
    started = time.perf_counter()
    if world.is_main:
        os.makedirs(settings.out, exist_ok=True)
    backend = get_backend(device)
    task = make_ranking_task(train_users=settings.users,
                             heldout_users=heldout_users(settings.users), seed=settings.seed)
    manual_seed(settings.seed)
    model = ranking_model(settings.activation, settings.init).to(device)
    network = {"sizes": [RANKING_SHAPE[0], *RANKING_SHAPE[1], RANKING_SHAPE[2]],
               "activation": settings.activation,
               "init": (activation_spec(settings.activation).init if settings.init == "auto"
                        else settings.init),
               "parameters": sum(p.numel() for p in model.parameters())}
    log(f"ranking MLP {'→'.join(map(str, network['sizes']))}, {settings.activation}, init "
        f"{network['init']}, {network['parameters']:,} parameters; backend {backend.name} on "
        f"{device}")
    log(f"data: {len(task.train):,} training pairs ({settings.users:,} users x "
        f"{ITEMS_PER_USER} items), {task.validation.n_users} validation and "
        f"{task.test.n_users} test users x {CANDIDATES} candidates; a known nonlinear ground "
        "truth plus noise")
    if world.size > 1:
        log(f"data-parallel over {world.size} processes, {settings.batch_size // world.size} "
            f"of each batch's {settings.batch_size} examples each")

    warm_up_seconds = _warm_up(model, task, settings, device, log if compiles(backend) else None)
    lines = EpochLines(log, tqdm)
    try:
        history = fit(DataParallel(model, world), task, epochs=settings.epochs,
                      batch_size=settings.batch_size, lr=settings.lr,
                      optimizer=settings.optimizer, seed=settings.seed, device=device,
                      observer=lines if world.is_main else None)
    finally:
        lines.close()
    if not world.is_main:
        return None
    latency = _latency(model, task, device, settings.latency_calls, log)
    model.save(os.path.join(settings.out, FILES["weights"]))
    graph_file, graph_note = _draw_graph(model, task, device, settings.out)
    metrics = _json_ready({
        "tinygrad_edu": __version__,
        "command": command,
        "settings": {**asdict(settings), "backend": backend.name, "device": str(device)},
        "network": network,
        "data": {"train_users": settings.users, "validation_users": task.validation.n_users,
                 "test_users": task.test.n_users, "items": task.n_items,
                 "train_pairs": len(task.train), "candidates_per_user": CANDIDATES,
                 "steps_per_epoch": -(-len(task.train) // settings.batch_size),
                 "noise_std": task.noise, "relevance_threshold": task.relevance_threshold},
        "epochs": [asdict(e) for e in history.epochs],
        "step_losses": history.step_losses,
        "test": results_on_test_users(model, task, device),
        "layers": _layers(history),
        "dead_threshold": DEAD_THRESHOLD,
        "warnings": history.warnings,
        "latency_us": latency,
        "timing": {"warm_up_seconds": warm_up_seconds, "compile_seconds": compile_seconds(),
                   "train_seconds": history.train_seconds,
                   "seconds_per_step": history.train_seconds / max(history.steps, 1)},
        "data_parallel": {"processes": world.size,
                          "allreduce_seconds": history.allreduce_seconds},
        "graph": {"examples": _GRAPH_EXAMPLES, "note": graph_note},
        "files": {**FILES, "graph": graph_file},
    })
    plot_loss_curves(metrics, os.path.join(settings.out, FILES["loss_curves"]))
    plot_layer_statistics(metrics, os.path.join(settings.out, FILES["activation_statistics"]))
    metrics["timing"]["total_seconds"] = time.perf_counter() - started
    with open(os.path.join(settings.out, FILES["metrics"]), "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=1)
    write_report(metrics, settings.out)
    for line in summary_lines(metrics):
        log(line)
    return metrics
