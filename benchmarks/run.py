"""Run the benchmarks of issue 5 and print one table per family; write JSON to
benchmarks/results/.

    python -m benchmarks.run            # every family; engine only with --baseline DIR
    python -m benchmarks.run --quick    # shorter timings, for a smoke test
    python -m benchmarks.run --only matmul training
    python -m benchmarks.run --only engine --baseline ../old-checkout   # before/after
    python -m benchmarks.run --only distributed    # data-parallel on MPI (benchmarks/distributed)

``--baseline DIR`` (the root of another tinygrad_edu checkout, e.g. a ``git worktree`` of an
older commit) adds the ``engine`` family: the installed tree and DIR's, timed side by side in
one run (see ``engine_compare.py``). Without it the engine family is skipped.

Timings are medians over many runs. For fair BLAS numbers run it on a quiet machine and
without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE overrides, which can make OpenBLAS pick a slower
kernel: ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.run``
(tests and CI keep the environment as it is).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

if __package__ in (None, ""):   # run as a script: make "benchmarks" importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"

from benchmarks import captured, engine_compare, inference  # noqa: E402
from benchmarks.timing import machine_info, sgemm_rate  # noqa: E402

FAMILIES = ("matmul", "layer", "training", "captured", "optimizers", "inference", "value",
            "distributed", "contention", "coldstart", "engine")


def _table(title, rows, columns):
    """Print ``rows`` under ``title``; ``columns`` is a list of (header, key, format)."""
    print(f"\n{title}")
    cells = [[h for h, _, _ in columns]] + [
        [("-" if row.get(key) is None else fmt.format(row[key])) for _, key, fmt in columns]
        for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    for i, r in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) for c, w in zip(r, widths)))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _min_median_columns(contenders, fmt, median="med"):
    """Two columns per ``(key, label)`` of ``contenders``: ``{key}_min_us`` headed "label min"
    and ``{key}_{median}_us`` headed "med"."""
    columns = []
    for key, label in contenders:
        columns += [(f"{label} min", f"{key}_min_us", fmt), ("med", f"{key}_{median}_us", fmt)]
    return columns


def _ratios(rows, base, others):
    for row in rows:
        for name in others:
            if row.get(f"{name}_us") and row.get(f"{base}_us"):
                row[f"{name}_vs_{base}"] = row[f"{name}_us"] / row[f"{base}_us"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings (smoke test)")
    parser.add_argument("--only", nargs="+", choices=FAMILIES, default=FAMILIES)
    parser.add_argument("--threads", type=int, default=2, help="threads for PyTorch")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    parser.add_argument("--baseline", metavar="DIR",
                        help="a tinygrad_edu checkout to compare the installed tree against "
                             "(the engine family)")
    args = parser.parse_args(argv)
    if args.baseline:
        try:
            args.baseline = engine_compare.check_tree(args.baseline)
        except ValueError as e:
            parser.error(str(e))
    if any(name in args.only for name in FAMILIES[:-1]):
        # Imported only when needed: they use the installed tree's internals, while the engine
        # family runs its trees in worker processes through the public API alone.
        from benchmarks import families

    info = machine_info()
    print(f"{info['cpu']}, {info['cores']} cores, load {info['load_average'][0]:.2f}, "
          f"numpy {info['numpy']} ({info['blas']}), numba {info['numba']} "
          f"({info['numba_threads']} threads), torch {info['torch']}")
    print("environment:", ", ".join(f"{k}={v}" for k, v in info["env"].items()))
    results = {"machine": info, "quick": args.quick}
    # Measured first, on purpose: freeing its 4-16 MB arrays raises glibc's dynamic mmap
    # threshold, so every contender below gets numpy temporaries of up to that size from the
    # heap. In a fresh process each temporary over 128 KB is mmapped and page-faulted anew,
    # which makes the batch-256 training step of the hand-written numpy MLP and of the engine
    # up to twice as slow (MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=67108864 give
    # any process the fast state; the first alone does not, as the heap is then trimmed).
    rate = sgemm_rate((1024,) if args.quick else (1024, 2048))
    ghz = info["nominal_ghz"]
    # Zen 4 / AVX-512 cores: two 256-bit FMA pipes = 32 float32 flop per cycle per core.
    nominal_peak = 32 * ghz * info["cores"] if ghz else None
    results["sgemm_gflops"] = rate
    results["peak_estimate_gflops"] = max(rate, nominal_peak or 0)
    print(f"sgemm (numpy float32 matmul, best of 1024/2048): {rate:.0f} GFLOP/s; float32 peak "
          f"estimate {results['peak_estimate_gflops']:.0f} GFLOP/s (32 flop/cycle/core x "
          f"{info['cores']} cores x {ghz} GHz nominal = {nominal_peak or 0:.0f}; boost clocks "
          "go higher, so the larger of that and the sgemm rate)")

    if "matmul" in args.only:
        rows = families.matmul_family((64, 128, 256, 512, 1024, 2048), args.quick)
        results["matmul"] = rows
        _table("1. float32 matmul, GFLOP/s (Numba tiled kernel vs numpy BLAS, 2 threads each)",
               rows, [("n", "n", "{}"), ("numba", "numba_gflops", "{:.1f}"),
                      ("BLAS", "blas_gflops", "{:.1f}"),
                      ("numba/BLAS", "numba_over_blas", "{:.2f}")])
    if "layer" in args.only:
        rows = []
        for batch in (32, 256):
            rows += families.layer_family(batch, args.quick)
        for row in rows:
            for name in ("numba", "numba_tiled"):
                row[f"{name}_fwd_speedup"] = row["numpy_fwd_us"] / row[f"{name}_fwd_us"]
                row[f"{name}_fwdbwd_speedup"] = row["numpy_fwdbwd_us"] / row[f"{name}_fwdbwd_us"]
        results["layer"] = rows
        _table("2. fused layer (ReLU), µs: unfused numpy backend vs fused Numba backend "
               "(auto route; tiled = Numba kernel for the product too)", rows,
               [("shape", "shape", "{}"), ("numpy fwd", "numpy_fwd_us", "{:.1f}"),
                ("fused fwd", "numba_fwd_us", "{:.1f}"),
                ("tiled fwd", "numba_tiled_fwd_us", "{:.1f}"),
                ("numpy f+b", "numpy_fwdbwd_us", "{:.1f}"),
                ("fused f+b", "numba_fwdbwd_us", "{:.1f}"),
                ("tiled f+b", "numba_tiled_fwdbwd_us", "{:.1f}"),
                ("speedup f / f+b", "numba_fwd_speedup", "{:.2f}"),
                ("", "numba_fwdbwd_speedup", "{:.2f}")])
    if "training" in args.only:
        rows = families.training_family((1, 32, 256, 1024), args.threads, args.quick)
        for row in rows:
            row["numba_vs_hand"] = row["numba_backend_us"] / row["hand_numpy_us"]
            for name in ("numba_backend", "captured", "products_only"):
                row[f"{name}_pct_sgemm"] = 100 * row[f"{name}_gflops"] / rate
            if row.get("torch_us"):
                row["numba_vs_torch"] = row["numba_backend_us"] / row["torch_us"]
        results["training"] = rows
        _table("3. ranking MLP 128-256-128-64-1 training step (ReLU, MSE, SGD), µs per step",
               rows, [("batch", "batch", "{}"), ("hand numpy", "hand_numpy_us", "{:.0f}"),
                      ("numpy be", "numpy_backend_us", "{:.0f}"),
                      ("numba be", "numba_backend_us", "{:.0f}"),
                      ("numba tiled", "numba_tiled_us", "{:.0f}"),
                      ("captured", "captured_us", "{:.0f}"),
                      ("cap. flat", "captured_flat_us", "{:.0f}"),
                      ("torch", "torch_us", "{:.0f}"),
                      ("numba/hand", "numba_vs_hand", "{:.2f}"),
                      ("numba/torch", "numba_vs_torch", "{:.2f}"),
                      ("numba GF/s", "numba_backend_gflops", "{:.0f}"),
                      ("% sgemm", "numba_backend_pct_sgemm", "{:.0f}"),
                      ("captured %", "captured_pct_sgemm", "{:.0f}"),
                      ("products", "products_only_us", "{:.0f}"),
                      ("products %", "products_only_pct_sgemm", "{:.0f}")])
        _table("   the same, examples per second", rows,
               [("batch", "batch", "{}")] + [(name, f"{key}_examples_per_s", "{:.0f}") for
                                             name, key in (("hand numpy", "hand_numpy"),
                                                           ("numpy be", "numpy_backend"),
                                                           ("numba be", "numba_backend"),
                                                           ("numba tiled", "numba_tiled"),
                                                           ("torch", "torch"))])
    if "captured" in args.only:
        rows = captured.captured_family((1, 32, 256, 1024), args.threads, args.quick)
        results["captured"] = rows
        columns = [("batch", "batch", "{}")] + _min_median_columns(
            (("hand_numpy", "hand numpy"), ("eager", "eager"), ("eager_flat", "eager flat"),
             ("captured", "captured"), ("captured_flat", "cap. flat"), ("torch", "torch"),
             ("products_only", "products only")), "{:.0f}")
        _table("3b. the same step captured (tinygrad_edu.capture; flat: optim.SGD(flat=True)), "
               "Numba backend, µs per step, min and median over interleaved bursts", rows,
               columns + [("load", "load_average", "{:.1f}")])
        _table("   ratio to hand numpy (min / median)", rows,
               [("batch", "batch", "{}")] + [
                   (f"{label} {stat}", f"{name}_{stat}_vs_hand", "{:.2f}")
                   for name, label in (("eager", "eager"), ("captured", "captured"),
                                       ("captured_flat", "cap. flat"), ("torch", "torch"))
                   for stat in ("min", "med")])
        _table(f"   % of sgemm: the step's work over its min time, against the min of a "
               f"{captured.SGEMM_N}-square sgemm timed in the same bursts", [
                   r for r in rows if "sgemm_min_gflops" in r],
               [("batch", "batch", "{}"), ("sgemm GF/s", "sgemm_min_gflops", "{:.0f}")] + [
                   (label, f"{name}_pct_sgemm_min", "{:.0f}")
                   for name, label in (("hand_numpy", "hand numpy"), ("captured", "captured"),
                                       ("captured_flat", "cap. flat"),
                                       ("products_only", "products only"))])
    if "optimizers" in args.only:
        from benchmarks.optimizers import optimizer_family

        rows = optimizer_family(args.threads, args.quick)
        results["optimizers"] = rows
        columns = [("optimizer", "optimizer", "{}")] + _min_median_columns(
            (("numpy", "numpy be"), ("numba", "numba be"), ("numba_flat", "numba flat"),
             ("torch", "torch"), ("torch_fused", "torch fused")), "{:.1f}")
        _table("3c. one optimizer step alone over the ranking MLP's 74,242 parameters (8 "
               "tensors), µs, min and median over interleaved bursts", rows,
               columns + [("numba/numpy min", "numba_vs_numpy_min", "{:.2f}"),
                          ("med", "numba_vs_numpy_med", "{:.2f}")])
    if "inference" in args.only:
        rows = families.inference_family((1, 32), args.threads, args.quick)
        for row in rows:
            if row.get("torch_min_us"):
                row["torch_over_fused"] = row["torch_min_us"] / row["fused_min_us"]
        results["inference"] = rows
        columns = [("batch", "batch", "{}")] + _min_median_columns(
            ((key, label) for label, key in inference.LATENCY_NAMES), "{:.2f}", median="median")
        _table("4. ranking MLP inference latency, µs per call, min and median over interleaved "
               "bursts (fused = compile(); bf16 / fp16 = compile(weights=...))", rows,
               columns + [("torch/fused min", "torch_over_fused", "{:.1f}")])
    if "value" in args.only:
        rows = families.value_family(args.quick)
        results["value"] = rows
        _table("5. scalar Value engine: one training step, µs", rows,
               [("model", "model", "{}"), ("tinygrad_edu", "tinygrad_edu_us", "{:.0f}"),
                ("micrograd", "micrograd_us", "{:.0f}"), ("speedup", "speedup", "{:.2f}")])

    if "contention" in args.only:
        from benchmarks.contention import contention_family

        rows = contention_family(args.quick, threads=args.threads)
        results["contention"] = rows
        _table("batch-256 training step, quiet and next to a busy process this benchmark "
               "starts (pinned: to the last CPU), µs per step", rows,
               [("contender", "contender", "{}"), ("quiet min", "quiet_min_us", "{:.0f}"),
                ("quiet med", "quiet_median_us", "{:.0f}"),
                ("busy min", "busy_min_us", "{:.0f}"), ("busy med", "busy_median_us", "{:.0f}"),
                ("pinned min", "busy_pinned_min_us", "{:.0f}"),
                ("pinned med", "busy_pinned_median_us", "{:.0f}"),
                ("busy/quiet", "busy_vs_quiet", "{:.2f}"),
                ("pinned/quiet", "busy_pinned_vs_quiet", "{:.2f}")])
    if "coldstart" in args.only:
        from benchmarks.coldstart import cold_start_family

        rows = cold_start_family(args.quick, args.baseline)
        results["coldstart"] = rows
        _table("cold start: first training step in a fresh process with an empty Numba cache, "
               "seconds (cached: a second process on the filled cache)", rows,
               [("case", "case", "{}"), ("tree", "tree", "{}"),
                ("step min", "first_step_s_min", "{:.2f}"),
                ("step med", "first_step_s_median", "{:.2f}"),
                ("process min", "total_s_min", "{:.2f}"),
                ("process med", "total_s_median", "{:.2f}"),
                ("compiling", "compile_s_median", "{:.2f}"),
                ("cached min", "cached_total_s_min", "{:.2f}")])

    if "engine" in args.only and not args.baseline:
        print("\n6. engine before/after: skipped, it needs --baseline DIR (another checkout)")
    elif "engine" in args.only:
        compared = engine_compare.compare_trees(args.baseline, args.quick)
        rows = compared["rows"]
        results["engine"] = rows
        results["engine_trees"] = {k: compared[k] for k in ("before", "after")}
        print("\n6. engine before/after, ranking MLP 128-256-128-64-1 (ReLU, float32; train "
              "step = zero_grad, forward, MSE, backward, SGD step)")
        for key in ("before", "after"):
            tree = compared[key]
            print(f"   {key:6}: {tree['package']} (kernels: {tree['kernels']})")
        _table("   µs per call, min and median over all timed calls of each tree, interleaved "
               "(after/before < 1: the current tree is faster)", rows,
               [("case", "case", "{}"), ("before min", "before_min_us", "{:.1f}"),
                ("before med", "before_median_us", "{:.1f}"),
                ("after min", "after_min_us", "{:.1f}"),
                ("after med", "after_median_us", "{:.1f}"),
                ("after/before min", "min_ratio", "{:.2f}"),
                ("after/before med", "median_ratio", "{:.2f}")])
        for row in rows:
            a, b = row["after_check"], row["before_check"]
            if not np.isclose(a, b, rtol=1e-4, atol=1e-6):
                print(f"   note: {row['case']}: the trees compute different results "
                      f"(before {b:.6g}, after {a:.6g}): are they running the same model?")

    if "distributed" in args.only:
        # Launches mpiexec; needs the [dist] extra (mpi4py and MPICH's mpiexec).
        from benchmarks import distributed

        rows = distributed.distributed_family(args.quick)
        results["distributed"] = rows
        print("\n7. data-parallel training on MPI, ranking MLP, SGD, global batch 256 (one "
              "Allreduce of 74,242 float32 per step; step times min and median over all rounds)")
        distributed.print_table(rows)

    results["load_average_after"] = os.getloadavg()
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, time.strftime("bench-%Y%m%d-%H%M%S.json"))
    with open(path, "w") as f:
        json.dump(results, f, indent=1, default=float)
    print(f"\nload average at the end: {results['load_average_after'][0]:.2f}; wrote {path}")


if __name__ == "__main__":
    main()
