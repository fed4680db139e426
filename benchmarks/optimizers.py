"""One optimizer step alone, on the ranking MLP's parameters (128-256-128-64-1: 74,242 float32
numbers in eight tensors): the numpy reference backend, the Numba backend (its one-pass
updates, ``kernels/cpu/updates.py``) per parameter and with ``flat=True``, and PyTorch's
optimizers on the same shapes (default and ``fused=True``); min and median µs per step.

    python -m benchmarks.run --only optimizers
"""

import numpy as np

from tinygrad_edu import Tensor, manual_seed, nn, optim, set_backend

from benchmarks.ranking import RANKING
from benchmarks.timing import interleaved_min_median
from benchmarks.torch_mlp import torch_with_threads

__all__ = ["OPTIMIZERS", "optimizer_family"]

# name -> (our class, torch class name, hyperparameters both take)
OPTIMIZERS = {"SGD": (optim.SGD, "SGD", {"lr": 1e-3}),
              "SGD momentum 0.9": (optim.SGD, "SGD", {"lr": 1e-3, "momentum": 0.9}),
              "Adam": (optim.Adam, "Adam", {"lr": 1e-3}),
              "AdamW": (optim.AdamW, "AdamW", {"lr": 1e-3})}


def _gradients(shapes):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal(shape) * 1e-3).astype(np.float32) for shape in shapes]


def _engine_step(cls, hyper, flat):
    """``opt.step`` over the MLP's parameters with fixed gradients (kept in the flat buffer
    when ``flat``, as a flat optimizer keeps them between steps)."""
    manual_seed(0)
    params = list(nn.MLP(RANKING[0], RANKING[1:-1], RANKING[-1]).parameters())
    opt = cls(params, flat=flat, **hyper)
    opt.zero_grad(set_to_none=False)
    for p, g in zip(params, _gradients([p.shape for p in params])):
        if p.grad is None:
            p.grad = Tensor(g)
        else:
            p.grad.copy_(g)
    return opt.step


def _torch_step(torch, name, hyper, fused):
    shapes = [(nin, nout) for nin, nout in zip(RANKING[:-1], RANKING[1:])]
    shapes = [s for shape in shapes for s in (shape, shape[1:])]
    params = [torch.nn.Parameter(torch.zeros(shape)) for shape in shapes]
    for p, g in zip(params, _gradients(shapes)):
        p.grad = torch.from_numpy(g)
    opt = getattr(torch.optim, name)(params, fused=fused, **hyper)
    return opt.step


def optimizer_family(threads, quick):
    """One row per optimizer: min and median µs per step of each contender."""
    torch = torch_with_threads(threads)
    rows = []
    for label, (cls, torch_name, hyper) in OPTIMIZERS.items():
        contenders = {
            "numpy": (lambda: set_backend("numpy"), _engine_step(cls, hyper, False)),
            "numba": (lambda: set_backend("numba"), _engine_step(cls, hyper, False)),
            "numba_flat": (lambda: set_backend("numba"), _engine_step(cls, hyper, True))}
        if torch is not None:
            for fused in (False, True):
                contenders["torch_fused" if fused else "torch"] = (
                    lambda: None, _torch_step(torch, torch_name, hyper, fused))
        times = interleaved_min_median(contenders, total_time=1.0 if quick else 4.0, rounds=6,
                                       warmup=5)
        row = {"optimizer": label}
        for name, (low, mid) in times.items():
            row[f"{name}_min_us"], row[f"{name}_med_us"] = low * 1e6, mid * 1e6
        for stat in ("min", "med"):
            row[f"numba_vs_numpy_{stat}"] = row[f"numba_{stat}_us"] / row[f"numpy_{stat}_us"]
        rows.append(row)
    set_backend("numba")
    return rows
