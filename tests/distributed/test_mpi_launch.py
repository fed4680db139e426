"""Data-parallel training under a real ``mpiexec -n 2`` equals one process's training.

Each test launches two processes (``dp_worker.py``, or the command line) with a timeout and
compares what rank 0 wrote with the same run done here, in one process, on the full batch.
They skip, saying why, where mpi4py or ``mpiexec`` is missing (``pip install
"tinygrad_edu[dist]"`` brings both).
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dp_worker
from tinygrad_edu import manual_seed, nn
from tinygrad_edu.apps.cli import main

HERE = Path(__file__).resolve().parent
# The venv's mpiexec (from the mpich wheel) sits beside its python; fall back to PATH.
MPIEXEC = (shutil.which("mpiexec", path=os.path.dirname(sys.executable))
           or shutil.which("mpiexec"))
LAUNCH_TIMEOUT = 120   # seconds: a hung collective fails the test instead of the suite

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None,
                       reason='mpi4py is not installed: pip install "tinygrad_edu[dist]"'),
    pytest.mark.skipif(MPIEXEC is None, reason='no mpiexec found: pip install "tinygrad_edu[dist]"'
                                               " (the mpich wheel brings one)"),
]


def _mpiexec(*command, cwd, check=True):
    """Run ``mpiexec -n 2 COMMAND`` in ``cwd``; its CompletedProcess (exit 0 with ``check``)."""
    # One thread per process: two processes share this 2-core machine.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1"}
    result = subprocess.run([MPIEXEC, "-n", "2", *command], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=LAUNCH_TIMEOUT)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The folder where ``dp_worker.py train`` (two processes) left its results."""
    out = tmp_path_factory.mktemp("dp")
    _mpiexec(sys.executable, str(HERE / "dp_worker.py"), "train", str(out), cwd=out)
    return out


def _one_process(optimizer):
    """``(step losses, final state)`` of the same training in this process, full batch."""
    manual_seed(dp_worker.SETTINGS["seed"])
    net = dp_worker.model()
    history = dp_worker.run_fit(net, optimizer)
    return history.step_losses, net.state_dict()


@pytest.mark.parametrize("optimizer", dp_worker.OPTIMIZERS)
def test_two_processes_take_the_same_steps_as_one_on_the_full_batch(trained, optimizer):
    results = np.load(trained / "train.npz")
    losses, state = _one_process(optimizer)
    assert len(losses) == dp_worker.SETTINGS["steps"]
    # float32 rounding: each process sums its half, the halves are added, then halved.
    np.testing.assert_allclose(results[f"{optimizer}/losses"], losses, rtol=2e-5)
    for name, value in state.items():
        np.testing.assert_allclose(results[f"{optimizer}/rank0/{name}"], value, rtol=1e-4,
                                   atol=1e-6, err_msg=name)
        # Both processes hold the very same parameters after every step.
        np.testing.assert_array_equal(results[f"{optimizer}/rank1/{name}"],
                                      results[f"{optimizer}/rank0/{name}"], err_msg=name)
    assert results[f"{optimizer}/allreduce_seconds"] > 0


def test_the_checkpoint_rank_0_saved_after_data_parallel_training_loads_and_matches(trained):
    results = np.load(trained / "train.npz")
    net = dp_worker.model().load(trained / "adam-checkpoint.npz")
    _, state = _one_process("adam")
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, results[f"adam/rank0/{name}"], err_msg=name)
        np.testing.assert_allclose(value, state[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_ranks_that_disagree_on_the_model_or_the_batch_all_stop_with_a_clear_error(tmp_path):
    _mpiexec(sys.executable, str(HERE / "dp_worker.py"), "errors", str(tmp_path), cwd=tmp_path)
    for rank in (0, 1):
        found = json.loads((tmp_path / f"errors-{rank}.json").read_text())
        kind, message = found["mismatch"]
        assert kind == "DistributedError"
        assert ("parameter 'layers.0.weight' has shape (128, 16) on rank 0 but (128, 17) on "
                "rank 1") in message
        kind, message = found["batch"]
        assert kind == "ArgumentError"
        assert "33" in message and "2 processes" in message and "multiple of 2" in message


def test_a_bug_on_one_process_ends_the_whole_run_instead_of_leaving_the_other_waiting(tmp_path):
    ended = _mpiexec(sys.executable, str(HERE / "dp_worker.py"), "bug", str(tmp_path),
                     cwd=tmp_path, check=False)   # a hang would be a TimeoutExpired
    assert ended.returncode == 1, ended.stdout + ended.stderr
    assert "internal error: RuntimeError: a bug on rank 0 alone" in ended.stderr


def test_mpiexec_tinygrad_edu_train_logs_one_process_losses_from_rank_0_alone(tmp_path,
                                                                               capsys):
    args = ["train", "--steps", "3", "--batch", "64", "--users", "20", "--seed", "2",
            "--optimizer", "sgd", "--lr", "0.01"]
    launched = _mpiexec(sys.executable, "-m", "tinygrad_edu.apps.cli", *args,
                        "--save", str(tmp_path / "dp.npz"), cwd=tmp_path)
    assert main(args + ["--save", str(tmp_path / "one.npz")]) == 0
    alone = capsys.readouterr().out

    def losses(text):
        return [float(line.split()[-1]) for line in text.splitlines()
                if line.startswith("step ")]

    assert len(losses(launched.stdout)) == len(losses(alone)) == 2   # steps 1 and 3, once
    np.testing.assert_allclose(losses(launched.stdout), losses(alone), atol=2e-4)
    assert launched.stdout.count("test MSE") == 1
    assert "data-parallel over 2 processes (32 rows each)" in launched.stdout
    dp, one = np.load(tmp_path / "dp.npz"), np.load(tmp_path / "one.npz")
    for name in one.files:
        np.testing.assert_allclose(dp[name], one[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_the_benchmark_worker_times_steps_and_the_bare_allreduce():
    root = HERE.parent.parent
    launched = _mpiexec(sys.executable, "-m", "benchmarks.distributed", "--worker", "--steps",
                        "2", "--warmup", "1", cwd=root)
    timings = json.loads(launched.stdout.strip().splitlines()[-1])   # rank 0's line alone
    assert launched.stdout.count('"processes"') == 1 and timings["processes"] == 2
    assert timings["floats"] == 74241 + 1   # the ranking MLP's gradients and the loss
    assert len(timings["step_s"]) == len(timings["sync_s"]) == 2
    assert len(timings["allreduce_s"]) == 50 and min(timings["allreduce_s"]) > 0
