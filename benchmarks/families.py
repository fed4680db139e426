"""The five benchmark families of issue 5. Each returns a list of rows (dicts) for run.py.

Every timing is a median over many calls; the contenders of one row take turns in short
bursts on the same data (``timing.interleaved_medians``), so load from elsewhere on a shared
machine falls on all of them alike.
"""

import numpy as np

from tinygrad_edu import Tensor, manual_seed, nn, optim, set_backend
from tinygrad_edu.kernels.cpu import matmul as mm
from tinygrad_edu.nn import functional as F
from tinygrad_edu.backends.reference import NumpyBackend

from .captured import training_contenders
from .inference import latency_rows
from .numpy_mlp import NumpyMLP
from .ranking import RANKING, train_flops
from .timing import interleaved_medians
from .torch_mlp import torch_train_step, torch_with_threads


# ---- 1. matmul ----
def matmul_family(sizes, quick):
    rows = []
    rng = np.random.default_rng(0)
    for n in sizes:
        a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
        out = np.empty((n, n), np.float32)
        t = interleaved_medians({"numba": lambda: mm.gemm(a, b, out, route="numba"),
                                 "blas": lambda: np.matmul(a, b, out=out)},
                                total_time=0.5 if quick else 2.0)
        flop = 2 * n ** 3
        rows.append({"n": n, "numba_gflops": flop / t["numba"] / 1e9,
                     "blas_gflops": flop / t["blas"] / 1e9,
                     "numba_over_blas": t["blas"] / t["numba"]})
    return rows


# ---- 2. the fused layer ----
def layer_family(batch, quick):
    from tinygrad_edu.kernels.cpu.backend import NumbaBackend

    rows = []
    rng = np.random.default_rng(1)
    unfused, fused_auto, fused_numba = NumpyBackend(), NumbaBackend(), NumbaBackend("numba")
    for nin, nout in zip(RANKING[:-1], RANKING[1:]):
        x = rng.standard_normal((batch, nin)).astype(np.float32)
        w = (rng.standard_normal((nin, nout)) / np.sqrt(nin)).astype(np.float32)
        b = rng.standard_normal(nout).astype(np.float32)
        g = rng.standard_normal((batch, nout)).astype(np.float32)
        row = {"shape": f"{batch}x{nin}->{nout}"}
        contenders = {}
        for label, be in (("numpy", unfused), ("numba", fused_auto), ("numba_tiled", fused_numba)):
            def fwd(be=be):
                return be.linear_act_forward(x, w, b, 1, 0.0)

            def fwd_bwd(be=be):
                y, z = be.linear_act_forward(x, w, b, 1, 0.0)
                be.linear_act_backward(x, w, z, y, g, 1, 0.0, True)

            contenders[f"{label}_fwd_us"], contenders[f"{label}_fwdbwd_us"] = fwd, fwd_bwd
        times = interleaved_medians(contenders, total_time=0.6 if quick else 2.0)
        row.update({k: v * 1e6 for k, v in times.items()})
        rows.append(row)
    return rows


# ---- 3. training step ----
def _engine_step(batch):
    """A training step of the engine on whichever backend is selected when it runs."""
    manual_seed(0)
    model = nn.MLP(RANKING[0], RANKING[1:-1], RANKING[-1])
    opt = optim.SGD(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((batch, RANKING[0])).astype(np.float32))
    y = Tensor(rng.standard_normal((batch, 1)).astype(np.float32))

    def step():
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
    return step


def _select(name, route=None):
    def setup():
        backend = set_backend(name)
        if route is not None:
            backend.matmul_route = route
    return setup


def training_family(batches, threads, quick):
    torch = torch_with_threads(threads)
    rows = []
    rng = np.random.default_rng(0)
    for batch in batches:
        x = rng.standard_normal((batch, RANKING[0])).astype(np.float32)
        y = rng.standard_normal((batch, 1)).astype(np.float32)
        hand = NumpyMLP(RANKING)
        contenders = {"hand_numpy": lambda: hand.train_step(x, y, 1e-3),
                      "numpy_backend": (_select("numpy"), _engine_step(batch)),
                      "numba_backend": (_select("numba", "auto"), _engine_step(batch)),
                      "numba_tiled": (_select("numba", "numba"), _engine_step(batch))}
        contenders.update(training_contenders(batch))
        if torch is not None:
            contenders["torch"] = torch_train_step(torch, batch, RANKING)
        times = interleaved_medians(contenders, total_time=2.0 if quick else 8.0)
        row = {"batch": batch}
        for name, seconds in times.items():
            row[f"{name}_us"] = seconds * 1e6
            row[f"{name}_examples_per_s"] = batch / seconds
            row[f"{name}_gflops"] = train_flops(batch) / seconds / 1e9
        set_backend("numba").matmul_route = "auto"
        rows.append(row)
    return rows


# ---- 4. inference latency ----
def inference_family(batches, threads, quick):
    """Graph, fused float32 (and with ``out=``), fused bfloat16 / float16, hand numpy and
    PyTorch eager, min and median per call (``benchmarks/inference.py``)."""
    return latency_rows(batches, quick, torch_with_threads(threads))


# ---- 5. the scalar Value engine ----
def value_family(quick):
    """One SGD step on one example through a 2-16-16-1 ReLU MLP of scalar Values, ours and
    micrograd's. Both step over a parameter list made once, so the engines (forward graph
    building and backward) are measured, not the modules' parameter traversal."""
    from tinygrad_edu.nn import scalar

    manual_seed(0)
    ours = scalar.MLP(2, [16, 16], 1)
    x, target = [0.5, -1.5], 0.25

    def sgd_step(model, params, out):
        loss = (out - target) ** 2
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= 1e-3 * p.grad

    params = ours.parameters()
    contenders = {"tinygrad_edu_us": lambda: sgd_step(ours, params, ours(x)[0])}
    try:
        from micrograd import nn as mg_nn
    except ImportError:
        mg_nn = None
    if mg_nn is not None:
        import random
        random.seed(0)
        theirs = mg_nn.MLP(2, [16, 16, 1])
        their_params = theirs.parameters()
        contenders["micrograd_us"] = lambda: sgd_step(theirs, their_params, theirs(x))
    times = interleaved_medians(contenders, total_time=1.0 if quick else 4.0)
    row = {"model": "2-16-16-1, one example", **{k: v * 1e6 for k, v in times.items()}}
    if "micrograd_us" in row:
        row["speedup"] = row["micrograd_us"] / row["tinygrad_edu_us"]
    return [row]
