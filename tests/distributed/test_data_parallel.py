"""``tinygrad_edu.distributed`` in this one process: finding the world, the no-op world of one
process, and the data-parallel protocol itself run by threads that stand in for MPI ranks.

``ThreadWorld`` implements ``World``'s four collectives between threads of this process, so
the packing, the one ``Allreduce``, the average written back through the backend, the
broadcast and the shape check run here on every CPU backend, the strict one included, with no
MPI at all. The same protocol under a real ``mpiexec`` is ``test_mpi_launch.py``'s.
"""

import configparser
import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from tinygrad_edu import Tensor, manual_seed, nn, optim
from tinygrad_edu import distributed
from tinygrad_edu.apps.cli import main
from tinygrad_edu.apps.ranking import make_ranking_task
from tinygrad_edu.apps.training import fit, train_step
from tinygrad_edu.distributed import (DataParallel, DistributedError, MissingMPIError, World,
                                      world_from_environment)
from tinygrad_edu.errors import ArgumentError, TinygradEduError
from tinygrad_edu.nn import functional as F


class ThreadWorld(World):
    """Rank ``rank`` of ``size`` threads that meet at ``shared``'s barrier (a stand-in for an
    MPI communicator: sums in rank order, as MPICH does for two processes)."""

    def __init__(self, rank, size, shared):
        self.rank, self.size, self._shared = rank, size, shared

    def _exchange(self, value):
        slots, barrier = self._shared["slots"], self._shared["barrier"]
        slots[self.rank] = value
        barrier.wait()
        everyone = list(slots)
        barrier.wait()   # nobody overwrites a slot before all have read them
        return everyone

    def allreduce_sum_(self, buffer):
        everyone = self._exchange(buffer.copy())
        total = everyone[0].copy()
        for other in everyone[1:]:
            total += other
        buffer[...] = total
        return buffer

    def broadcast_(self, buffer, root=0):
        buffer[...] = self._exchange(buffer.copy())[root]
        return buffer

    def allgather(self, value):
        return self._exchange(value)

    def barrier(self):
        self._exchange(None)


def run_ranks(size, work):
    """``[work(world) for each rank]``, the ranks running at once in threads."""
    shared = {"slots": [None] * size, "barrier": threading.Barrier(size, timeout=30)}
    results, failures = [None] * size, []

    def run(rank):
        try:
            results[rank] = work(ThreadWorld(rank, size, shared))
        except BaseException as exc:   # noqa: BLE001 - re-raised in the test's thread
            failures.append(exc)
            shared["barrier"].abort()   # the other ranks stop waiting instead of hanging

    threads = [threading.Thread(target=run, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    real = [f for f in failures if not isinstance(f, threading.BrokenBarrierError)]
    if real or failures:
        raise (real or failures)[0]
    return results


def _tiny_task():
    return make_ranking_task(train_users=8, heldout_users=10, seed=1)


def _fit(net, optimizer):
    return fit(net, _tiny_task(), epochs=2, batch_size=32, lr=0.01, optimizer=optimizer,
               seed=3, max_steps=10)


# ---- finding the world ----
def _no_import(name):
    raise AssertionError(f"{name} was imported although no launcher started this process")


@pytest.mark.parametrize("environ", [{}, {"PMI_SIZE": "1"}, {"OMPI_COMM_WORLD_SIZE": "1"}])
def test_without_a_launcher_of_several_processes_the_world_is_one_and_mpi4py_stays_unloaded(
        environ):
    world = world_from_environment(environ, import_module=_no_import)
    assert (type(world), world.rank, world.size, world.is_main) == (World, 0, 1, True)


@pytest.mark.parametrize("variable", ["PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"])
def test_under_mpiexec_without_mpi4py_the_error_names_the_pip_command(variable):
    def missing(name):
        raise ImportError(f"No module named {name!r}")

    with pytest.raises(MissingMPIError) as caught:
        world_from_environment({variable: "2"}, import_module=missing)
    assert isinstance(caught.value, ImportError) and isinstance(caught.value, TinygradEduError)
    assert 'pip install "tinygrad_edu[dist]"' in str(caught.value)
    assert "mpiexec (2 processes)" in str(caught.value)


def _fake_mpi(rank, size):
    comm = types.SimpleNamespace(Get_rank=lambda: rank, Get_size=lambda: size)
    return types.SimpleNamespace(COMM_WORLD=comm, IN_PLACE=object(), SUM=object())


def test_a_script_started_without_mpiexec_runs_alone_and_never_imports_mpi4py():
    env = {k: v for k, v in os.environ.items() if k not in distributed.LAUNCHER_VARIABLES}
    code = ("import sys; from tinygrad_edu.distributed import get_world; w = get_world(); "
            "print(w.size, w.rank, 'mpi4py' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.split() == ["1", "0", "False"], result.stderr


def test_the_dist_extra_brings_mpi4py_and_mpich_and_ci_installs_it():
    root = Path(__file__).resolve().parents[2]
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    extra = config["options.extras_require"]["dist"].split()
    assert [requirement.split(">")[0] for requirement in extra] == ["mpi4py", "mpich"]
    assert '-e ".[dev,cuda,dist]"' in (root / ".ci" / "run").read_text()


def test_a_launch_of_four_processes_gives_an_mpi_world_on_comm_world():
    world = world_from_environment({"PMI_SIZE": "4"}, import_module=lambda name: _fake_mpi(3, 4))
    assert (type(world), world.rank, world.size, world.is_main) == (distributed.MPIWorld, 3, 4,
                                                                    False)


def test_an_mpi4py_built_for_another_mpi_than_the_launcher_is_caught_before_training():
    with pytest.raises(DistributedError, match="started 2 processes but mpi4py sees 1"):
        world_from_environment({"OMPI_COMM_WORLD_SIZE": "2"},
                               import_module=lambda name: _fake_mpi(0, 1))


# ---- sharding a batch ----
@given(rows=st.integers(1, 300), size=st.integers(1, 9))
def test_shards_cover_the_batch_in_order_and_their_weights_make_its_mean(rows, size):
    shards = [ThreadWorld(r, size, None).shard(rows) for r in range(size)]
    assert [i for start, stop, _ in shards for i in range(start, stop)] == list(range(rows))
    for start, stop, weight in shards:
        # mean loss of the shard x weight, averaged over the processes = the batch's mean
        assert weight / size == pytest.approx((stop - start) / rows, rel=1e-12)
        assert (weight == 1.0) == (rows % size == 0 or stop - start == rows / size)


def test_a_global_batch_that_does_not_split_evenly_is_refused_naming_the_fix():
    with pytest.raises(ArgumentError, match="batch of 30 examples does not split evenly over 4 "
                                            r"processes; use a multiple of 4 \(such as 28\)"):
        ThreadWorld(0, 4, None).check_batch(30, "fit")
    World().check_batch(31)   # one process takes any batch


# ---- one process ----
def test_in_one_process_data_parallel_changes_nothing(cpu_backend, tmp_path):
    manual_seed(0)
    net = nn.MLP(5, [4], 2)
    parallel = DataParallel(net, World())
    assert parallel(Tensor(np.ones((3, 5), np.float32))).shape == (3, 2)
    loss = F.mse_loss(parallel(Tensor(np.ones((3, 5), np.float32))), Tensor(np.zeros((3, 2))))
    loss.backward()
    before = [p.grad.numpy().copy() for p in net.parameters()]
    assert parallel.average_gradients(loss.item()) == loss.item()
    assert all(np.array_equal(b, p.grad.numpy()) for b, p in zip(before, net.parameters()))
    parallel.save(tmp_path / "one")
    assert set(np.load(tmp_path / "one.npz").files) == set(net.state_dict())


def test_fit_of_a_model_wrapped_for_one_process_is_fit_of_the_model(cpu_backend):
    runs = []
    for wrap in (lambda net: net, lambda net: DataParallel(net, World())):
        manual_seed(2)
        net = nn.MLP(128, [8], 1)
        runs.append((_fit(wrap(net), "adam").step_losses, net.state_dict()))
    # Equal but for BLAS: a product's thread count, and so its rounding, may vary with load.
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-6)
    for name, value in runs[0][1].items():
        np.testing.assert_allclose(runs[1][1][name], value, rtol=1e-5, atol=1e-7, err_msg=name)


# ---- several ranks (threads) ----
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_two_ranks_from_different_weights_train_like_one_process_on_the_full_batch(
        cpu_backend, optimizer):
    nets = []
    for seed in (10, 11):   # rank 1 starts elsewhere: the broadcast must fix it
        manual_seed(seed)   # (the random generator is global: draw before the threads run)
        nets.append(nn.MLP(128, [8], 1))

    def rank(world):
        history = _fit(DataParallel(nets[world.rank], world), optimizer)
        return history, nets[world.rank].state_dict()

    (history0, state0), (history1, state1) = run_ranks(2, rank)
    manual_seed(10)
    net = nn.MLP(128, [8], 1)
    alone = _fit(net, optimizer)
    np.testing.assert_allclose(history0.step_losses, alone.step_losses, rtol=2e-5)
    assert history0.step_losses == history1.step_losses
    for name, value in net.state_dict().items():
        np.testing.assert_allclose(state0[name], value, rtol=1e-4, atol=1e-6, err_msg=name)
        np.testing.assert_array_equal(state1[name], state0[name], err_msg=name)
    assert history0.epochs[-1].validation is not None and history1.epochs[-1].validation is None


@pytest.mark.parametrize("rows", [5, 2])
def test_uneven_and_empty_shards_still_average_to_the_full_batch_gradient(cpu_backend, rows):
    task = _tiny_task()
    batch = np.arange(rows) * 7   # any rows of the training pairs
    features, targets = task.train.features, task.train.targets

    nets = []
    for _ in range(4):   # three ranks and one process alone
        manual_seed(5)
        nets.append(nn.MLP(128, [6], 1))

    def gradients(world, net=None):
        net = net or nets[world.rank]
        parallel = DataParallel(net, world)
        opt = optim.SGD(net.parameters(), lr=0.0)   # a step that changes nothing
        loss = train_step(parallel, opt, features, targets, batch)
        return loss, [p.grad.numpy().copy() for p in net.parameters()]

    ranks = run_ranks(3, gradients)   # 5 rows: 1, 2 and 2; 2 rows: 0, 1 and 1
    alone_loss, alone_grads = gradients(World(), nets[3])
    for loss, grads in ranks:
        assert loss == pytest.approx(alone_loss, rel=1e-5)
        for mine, full in zip(grads, alone_grads):
            np.testing.assert_allclose(mine, full, rtol=1e-4, atol=1e-6)


def test_a_non_finite_loss_on_one_rank_stops_every_rank_before_the_step(cpu_backend):
    manual_seed(1)
    nets = [nn.MLP(3, [2], 1) for _ in range(2)]

    def rank(world):
        net = nets[world.rank]
        parallel = DataParallel(net, world)
        before = net.state_dict()
        targets = np.zeros((4, 1), np.float32)
        targets[3] = np.inf if world.rank == 1 else 0   # rank 1's shard holds the bad row
        opt = optim.SGD(net.parameters(), lr=0.1)
        loss = train_step(parallel, opt, np.ones((4, 3), np.float32), targets, np.arange(4))
        return loss, all(np.array_equal(before[k], v) for k, v in net.state_dict().items())

    for loss, unchanged in run_ranks(2, rank):
        assert not np.isfinite(loss) and unchanged


@pytest.mark.parametrize("rank1_layers, expected", [
    ([(3, 4), (4, 1)], "parameter 2 ('1.weight', shape (4, 1)) exists on rank 1 but not on "
                       "rank 0 (2 parameters on rank 0, 4 on rank 1)"),
    ([(3, 5)], "parameter '0.weight' has shape (3, 4) on rank 0 but (3, 5) on rank 1"),
])
def test_ranks_that_built_different_models_all_raise_naming_the_first_difference(
        rank1_layers, expected):
    def rank(world):
        sizes = rank1_layers if world.rank == 1 else [(3, 4)]
        with pytest.raises(DistributedError) as caught:
            DataParallel(nn.Sequential(*(nn.Linear(a, b) for a, b in sizes)), world)
        return str(caught.value)

    for message in run_ranks(2, rank):
        assert expected in message and "every process must build the same model" in message


def test_only_rank_0_writes_the_checkpoint(tmp_path):
    nets = [nn.MLP(3, [2], 1) for _ in range(2)]

    def rank(world):
        DataParallel(nets[world.rank], world).save(tmp_path / f"rank{world.rank}.npz")

    run_ranks(2, rank)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rank0.npz"]


def test_the_command_line_refuses_a_batch_the_processes_cannot_share(monkeypatch, capsys):
    monkeypatch.setattr(distributed, "_world", ThreadWorld(0, 2, None))
    with pytest.raises(SystemExit) as caught:
        main(["train", "--batch", "63", "--users", "10"])
    assert caught.value.code == 2
    assert "--batch 63: does not split evenly over the 2 processes" in capsys.readouterr().err
