"""One side of the before/after engine comparison (``python -m benchmarks.run --only engine
--baseline DIR``): a long-lived process that imports one tinygrad_edu tree and times engine
workloads when asked. ``benchmarks/engine_compare.py`` starts one per tree and drives them; you
do not normally run it yourself.

    python benchmarks/engine_worker.py --forbid DIR   # the installed tinygrad_edu (not DIR's)
    python benchmarks/engine_worker.py --tree DIR     # the source checkout at DIR, not installed

It reads one JSON request per line on stdin and answers each with one JSON line on stdout:

    {"op": "setup", "case": "train:32"}   build a case and run it untimed (Numba compiles here);
                                          the reply's "check" is a number both trees should agree on
    {"op": "run", "case": "train:32", "settle": S, "time": T}
                                          S seconds of untimed calls, then timed calls for T
                                          seconds; the reply's "ns" lists nanoseconds per call
    {"op": "origin"}                      which files tinygrad_edu and its kernels came from;
                                          fails if any came from outside the expected tree
    {"op": "quit"}

Cases: ``train:BATCH``, one SGD training step (zero_grad, forward, MSE loss, backward, step) of
the ranking MLP ``nn.MLP(128, [256, 128, 64], 1)``; ``fused:BATCH``, its ``model.compile()``
inference called on a numpy float32 array. Every reply has "ok"; a failed request answers
``{"ok": false, "error": traceback}`` and the worker keeps serving. Only the public API that
both trees share is used, and the data come from numpy with fixed seeds, so both workers run
the same computation.
"""

import argparse
import importlib.util
import json
import os
import sys
import time
import traceback

import numpy as np

NIN, HIDDEN, NOUT = 128, [256, 128, 64], 1


def _drop_editable_finder():
    """Remove the editable install's import hook for tinygrad_edu from ``sys.meta_path``.

    setuptools' hook maps ``tinygrad_edu``, ``tinygrad_edu.kernels`` and any submodule that
    the path search cannot find to the installed checkout. Left in place it would quietly fill
    in whatever the baseline lacks with the current tree's modules.
    """
    keep = []
    for finder in sys.meta_path:
        module = sys.modules.get(getattr(finder, "__module__", "") or "")
        mapping = getattr(module, "MAPPING", None)
        if (getattr(module, "__name__", "").startswith("__editable__")
                and isinstance(mapping, dict) and "tinygrad_edu" in mapping):
            continue
        keep.append(finder)
    sys.meta_path[:] = keep


def import_tree(tree):
    """Import tinygrad_edu from the source checkout ``tree`` rather than the installed one."""
    if not os.path.isfile(os.path.join(tree, "tinygrad_edu", "__init__.py")):
        raise SystemExit(f"engine_worker: {tree} has no tinygrad_edu/__init__.py")
    _drop_editable_finder()
    # setup.cfg installs the checkout's top-level kernels/ and viz/ as tinygrad_edu.kernels and
    # tinygrad_edu.viz (package_dir); in a source tree they are found by searching its root
    # too, from the start, since the package's own __init__ may import them.
    spec = importlib.util.spec_from_file_location(
        "tinygrad_edu", os.path.join(tree, "tinygrad_edu", "__init__.py"),
        submodule_search_locations=[os.path.join(tree, "tinygrad_edu"), tree])
    tinygrad_edu = importlib.util.module_from_spec(spec)
    sys.modules["tinygrad_edu"] = tinygrad_edu
    spec.loader.exec_module(tinygrad_edu)
    return tinygrad_edu


def _under(path, root):
    return os.path.commonpath([os.path.realpath(path), root]) == root


def origin(tree, forbid):
    """Where tinygrad_edu and its kernels came from; raises if a loaded module of the package
    lies outside ``tree`` (when given) or inside ``forbid`` (when given)."""
    mods = {name: getattr(mod, "__file__", None) for name, mod in list(sys.modules.items())
            if name == "tinygrad_edu" or name.startswith("tinygrad_edu.")}
    wrong = sorted(f"{name} ({path})" for name, path in mods.items() if path and (
        (tree and not _under(path, tree)) or (forbid and _under(path, forbid))))
    if wrong:
        where = f"outside {tree}" if tree else f"inside {forbid}"
        more = f" and {len(wrong) - 3} more" if len(wrong) > 3 else ""
        raise RuntimeError(f"tinygrad_edu modules loaded from {where}: "
                           + ", ".join(wrong[:3]) + more)
    kernels = sys.modules.get("tinygrad_edu.kernels")
    return {"package": mods["tinygrad_edu"], "kernels": getattr(kernels, "__file__", None),
            "modules": len(mods), "python": sys.executable, "numpy": np.__version__}


class TrainStep:
    """One training step of the ranking MLP on a fixed batch."""

    def __init__(self, tg, batch):
        self.tg = tg
        rng = np.random.default_rng(batch)
        self.x = tg.Tensor(rng.standard_normal((batch, NIN)).astype(np.float32))
        self.y = tg.Tensor(rng.standard_normal((batch, NOUT)).astype(np.float32))
        self.reset()

    def reset(self):
        # A fresh model for every burst: trained on one batch for tens of thousands of steps
        # the loss reaches zero and values may pass through float32's slow subnormal range, and
        # the faster tree would get further along that path than the slower one.
        self.tg.manual_seed(0)
        self.model = self.tg.nn.MLP(NIN, HIDDEN, NOUT)
        self.opt = self.tg.optim.SGD(self.model.parameters(), lr=0.01)

    def __call__(self):
        self.opt.zero_grad()
        loss = self.tg.nn.functional.mse_loss(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss

    def check(self):
        """The loss of the first step of a fresh model."""
        self.reset()
        value = float(self().numpy())
        self.reset()
        return value


class FusedInference:
    """The ranking MLP's ``compile()`` path called on a numpy array."""

    def __init__(self, tg, batch):
        tg.manual_seed(0)
        self.compiled = tg.nn.MLP(NIN, HIDDEN, NOUT).compile()
        self.x = np.random.default_rng(batch).standard_normal((batch, NIN)).astype(np.float32)

    def reset(self):
        pass

    def __call__(self):
        return self.compiled(self.x)

    def check(self):
        """The sum of the outputs."""
        return float(np.sum(self()))


CASES = {"train": TrainStep, "fused": FusedInference}


def make_case(tg, name):
    kind, _, batch = name.partition(":")
    if kind not in CASES or not batch.isdigit():
        raise ValueError(f"unknown case {name!r}; cases are " +
                         ", ".join(f"{k}:BATCH" for k in CASES))
    return CASES[kind](tg, int(batch))


def timed_burst(fn, settle, seconds, max_calls=1_000_000):
    """Nanoseconds of each of ``fn``'s calls over ``seconds``, after ``settle`` seconds of
    untimed calls (which outlast the other worker's busy-waiting threads)."""
    clock = time.perf_counter_ns
    start = clock()
    while clock() - start < settle * 1e9:
        fn()
    times, start = [], clock()
    end = start + seconds * 1e9
    while True:
        t0 = clock()
        fn()
        t1 = clock()
        times.append(t1 - t0)
        if t1 >= end or len(times) >= max_calls:
            return times


def serve(tg, tree, forbid, requests, replies):
    cases = {}
    for line in iter(requests.readline, ""):
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = request.get("op")
            if op == "quit":
                replies.write(json.dumps({"ok": True}) + "\n")
                return
            if op == "setup":
                t0 = time.perf_counter()
                case = cases[request["case"]] = make_case(tg, request["case"])
                check = case.check()        # the first calls compile the Numba kernels
                for _ in range(5):
                    case()
                case.reset()
                reply = {"check": check, "setup_s": time.perf_counter() - t0}
            elif op == "run":
                case = cases[request["case"]]
                case.reset()
                reply = {"ns": timed_burst(case, float(request["settle"]),
                                           float(request["time"]))}
            elif op == "origin":
                reply = origin(tree, forbid)
            else:
                raise ValueError(f"unknown op {op!r}")
            reply["ok"] = True
        except Exception:
            reply = {"ok": False, "error": traceback.format_exc()}
        replies.write(json.dumps(reply) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--tree", help="import tinygrad_edu from this source checkout")
    which.add_argument("--forbid", help="fail if the installed tinygrad_edu lies inside this")
    args = parser.parse_args(argv)
    tree = os.path.realpath(args.tree) if args.tree else None
    forbid = os.path.realpath(args.forbid) if args.forbid else None

    # The replies own the real stdout; anything else printed (by the library, Numba or a C
    # extension) goes to stderr so it cannot corrupt the JSON lines.
    sys.stdout.flush()
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)

    if tree:
        tg = import_tree(tree)
    else:
        import tinygrad_edu as tg
    origin(tree, forbid)    # fail now on a mix-up; kernels are checked again after setup
    # As run.py's sgemm measurement does for its process: freeing one large array raises
    # glibc's dynamic mmap threshold, so the step's numpy temporaries come from the heap as in
    # any long-running program, instead of each one over 128 KB being mmapped and page-faulted
    # anew as in a fresh process (which slows large batches down to half speed).
    np.ones(4 << 20, np.float32)        # 16 MB, freed at once
    serve(tg, tree, forbid, sys.stdin, replies)


if __name__ == "__main__":
    main()
