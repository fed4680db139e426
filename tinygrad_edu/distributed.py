"""Data-parallel training on MPI: every process holds the whole model and trains on its shard
of each batch; after ``backward()`` the gradients are averaged across the processes.

>>> model = DataParallel(nn.MLP(128, [256, 128, 64], 1))   # rank 0's weights everywhere
>>> start, stop, weight = model.shard(len(x))                # this process's rows of the batch
>>> loss = F.mse_loss(model(Tensor(x[start:stop])), Tensor(y[start:stop])) * weight
>>> loss.backward(); value = model.average_gradients(loss.item()); opt.step()

Launch it with ``mpiexec -n 4 python train.py`` (``pip install "tinygrad_edu[dist]"`` brings
mpi4py and MPICH's ``mpiexec``). Without ``mpiexec`` the same script runs as one process and
``DataParallel`` does nothing: mpi4py is not even imported.

- ``get_world()``: this process's ``World`` (its ``rank`` among ``size`` processes), found
  from the variables ``mpiexec`` sets. ``World`` itself is the world of one process.
- ``DataParallel(model)``: checks once that every process built the same parameters (names,
  shapes, dtypes; the first that differs is named), broadcasts rank 0's values so all start
  equal, and then per step ``average_gradients`` packs every gradient into one flat host buffer,
  sums it across the processes with ONE ``Allreduce`` (the step's loss rides in the same
  buffer) and writes the average back through the backend: one upload, one multiply by
  1/size, one assignment per parameter. Gradients never leave the backend any other way.
- Equal to one process: a batch of B rows is cut into contiguous shards, one per process; each
  process takes the mean loss over its rows times ``weight`` (its share of the batch times the
  number of processes, exactly 1 when the shards are equal), so the averaged gradient is the
  full batch's mean gradient.
- Rank 0 alone should print and write files: ``is_main``; ``DataParallel.save`` writes on rank
  0 and returns when the file is there for every process.
"""

import importlib
import os
import sys
import time

import numpy as np

from .backends import get_backend
from .backends.reference import NumpyBackend
from .capture import FlatLayout
from .errors import ArgumentError, ArgumentTypeError, TinygradEduError
from .tensor import Tensor
from .tensor.autodiff import mark_written

__all__ = ["World", "MPIWorld", "get_world", "world_from_environment", "abort_if_parallel",
           "DataParallel", "MissingMPIError", "DistributedError", "INSTALL_HINT",
           "LAUNCHER_VARIABLES"]

INSTALL_HINT = 'pip install "tinygrad_edu[dist]"'
# The host buffer that MPI sends is a numpy array; its views are taken the way the backends
# take theirs (FlatLayout), through the reference backend.
_HOST = NumpyBackend()
# What each launcher sets in every process it starts, holding the number of processes: MPICH's
# and Intel MPI's hydra (PMI), Open MPI, MVAPICH. MPI_LOCALNRANKS (hydra: processes on this
# machine) only tells that a launcher is there.
LAUNCHER_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE",
                      "MPI_LOCALNRANKS")


class MissingMPIError(TinygradEduError, ImportError):
    """Launched under ``mpiexec`` but mpi4py (the ``[dist]`` extra) is not installed."""


class DistributedError(TinygradEduError, RuntimeError):
    """The processes of a run disagree (on the model, on the MPI library) and cannot train
    together; every process raises it with the same message."""


class World:
    """The processes of a run, seen from one of them; this base class is the world of a single
    process, where every collective operation leaves its buffer as it is.

    ``MPIWorld`` implements the same four operations on an MPI communicator. Buffers are
    contiguous host (numpy) arrays, changed in place.
    """

    rank = 0
    size = 1

    @property
    def is_main(self):
        """True on rank 0, the process that prints, writes files and saves checkpoints."""
        return self.rank == 0

    def shard(self, rows):
        """``(start, stop, weight)``: this process's contiguous part ``[start, stop)`` of a
        batch of ``rows`` rows, and the factor for its mean loss (its rows' share of the batch
        times the number of processes: exactly 1.0 when the batch divides evenly)."""
        if not isinstance(rows, (int, np.integer)) or rows < 1:
            raise ArgumentError(f"shard: rows must be a positive integer, got {rows!r}")
        start = rows * self.rank // self.size
        stop = rows * (self.rank + 1) // self.size
        return start, stop, (stop - start) * self.size / rows

    def check_batch(self, batch_size, where="check_batch"):
        """Raise ``ArgumentError`` (naming ``where``) unless a global batch of ``batch_size``
        examples splits evenly over the processes."""
        if batch_size % self.size:
            lower = batch_size - batch_size % self.size
            raise ArgumentError(
                f"{where}: the global batch of {batch_size} examples does not split evenly "
                f"over {self.size} processes; use a multiple of {self.size} (such as "
                f"{max(lower, self.size)}) or another number of processes")

    def allreduce_sum_(self, buffer):
        """Replace ``buffer`` by its elementwise sum over all processes."""
        return buffer

    def broadcast_(self, buffer, root=0):
        """Replace ``buffer`` by rank ``root``'s."""
        return buffer

    def allgather(self, value):
        """Every process's ``value`` (a small picklable object), in rank order."""
        return [value]

    def barrier(self):
        """Return once every process has called it."""

    def abort(self, code):
        """End every process of the run with exit status ``code`` (nothing here: one process
        simply returns its status)."""

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"


class MPIWorld(World):
    """A ``World`` on an mpi4py communicator (``COMM_WORLD`` by default)."""

    def __init__(self, comm, mpi):
        self.comm, self._mpi = comm, mpi
        self.rank, self.size = comm.Get_rank(), comm.Get_size()

    def allreduce_sum_(self, buffer):
        self.comm.Allreduce(self._mpi.IN_PLACE, buffer, op=self._mpi.SUM)
        return buffer

    def broadcast_(self, buffer, root=0):
        self.comm.Bcast(buffer, root=root)
        return buffer

    def allgather(self, value):
        return self.comm.allgather(value)

    def barrier(self):
        self.comm.Barrier()

    def abort(self, code):
        self.comm.Abort(code)


def _launched_size(environ):
    """The process count a launcher announced in ``environ``, 0 when none did."""
    for name in LAUNCHER_VARIABLES:
        text = environ.get(name, "")
        if text.isdigit():
            return int(text)
    return 0


def world_from_environment(environ, import_module=importlib.import_module):
    """The ``World`` that ``environ`` (the process's variables) describes.

    No launcher, or one that started a single process: the single-process ``World``, without
    importing mpi4py. Otherwise an ``MPIWorld`` on ``COMM_WORLD``; raises ``MissingMPIError``
    when mpi4py is missing and ``DistributedError`` when mpi4py's MPI is not the launcher's
    (every process would then think it runs alone).
    """
    announced = _launched_size(environ)
    if announced <= 1:
        return World()
    try:
        mpi = import_module("mpi4py.MPI")
    except ImportError:
        raise MissingMPIError(f"this process was started by mpiexec ({announced} processes) "
                              "but mpi4py is not installed, so it cannot talk to the others: "
                              f"{INSTALL_HINT} (mpi4py and MPICH's mpiexec), then launch "
                              "again") from None
    world = MPIWorld(mpi.COMM_WORLD, mpi)
    if world.size != announced:
        raise DistributedError(f"mpiexec started {announced} processes but mpi4py sees "
                               f"{world.size}: mpi4py is linked to another MPI than the "
                               "mpiexec that launched it. Launch with the mpiexec of the MPI "
                               f"mpi4py uses ({INSTALL_HINT} puts MPICH's in the venv's bin)")
    return world


_world = None


def get_world():
    """This process's ``World``, found once from its environment (see
    ``world_from_environment``)."""
    global _world
    if _world is None:
        _world = world_from_environment(os.environ)
    return _world


def abort_if_parallel(code):
    """After a failure on this process alone (a bug), end the whole run with status ``code``
    when several processes were started: the others would otherwise wait forever in the next
    collective. Does nothing in one process, or before ``get_world()`` was called."""
    if _world is not None and _world.size > 1:
        # MPI_Abort tears the run down at once: what this process printed must reach the
        # launcher first (it forwards each process's output through a pipe).
        sys.stdout.flush()
        sys.stderr.flush()
        time.sleep(0.2)
        _world.abort(code)


def _signature(named):
    return [(name, tuple(p.shape), str(p.dtype)) for name, p in named]


def _first_difference(signatures):
    """A sentence naming the first parameter on which some rank differs from rank 0, or
    None when all ranks agree."""
    reference = signatures[0]
    for rank, theirs in enumerate(signatures[1:], start=1):
        for i in range(max(len(reference), len(theirs))):
            mine = reference[i] if i < len(reference) else None
            other = theirs[i] if i < len(theirs) else None
            if mine == other:
                continue
            if mine is None or other is None:
                (name, shape, _), holder, lacker = ((other, rank, 0) if mine is None
                                                    else (mine, 0, rank))
                return (f"parameter {i} ({name!r}, shape {shape}) exists on rank {holder} but "
                        f"not on rank {lacker} ({len(reference)} parameters on rank 0, "
                        f"{len(theirs)} on rank {rank})")
            if mine[0] != other[0]:
                return (f"parameter {i} is {mine[0]!r} on rank 0 but {other[0]!r} on rank "
                        f"{rank}")
            what, index = ("shape", 1) if mine[1] != other[1] else ("dtype", 2)
            return (f"parameter {mine[0]!r} has {what} {mine[index]} on rank 0 but "
                    f"{other[index]} on rank {rank}")
    return None


class DataParallel:
    """``model`` trained data-parallel over ``world`` (default ``get_world()``).

    Calling it runs ``model``; ``parameters()``, ``named_parameters()``, ``zero_grad()``,
    ``state_dict()``, ``train()`` and ``eval()`` are the model's. Building it checks that all
    processes agree on the parameters and copies rank 0's values to the others (both
    collective: every process builds its ``DataParallel`` at the same point). In one process
    it changes nothing and needs no MPI.

    ``allreduce_seconds`` adds up the time spent in ``average_gradients`` (packing, the
    ``Allreduce``, writing back) and ``steps`` counts its calls.
    """

    def __init__(self, model, world=None):
        if not hasattr(model, "named_parameters") or isinstance(model, DataParallel):
            raise ArgumentTypeError(f"DataParallel: model must be a Module, got "
                                    f"{type(model).__name__}")
        self.module, self.world = model, get_world() if world is None else world
        named = list(model.named_parameters())
        if not named:
            raise ArgumentError("DataParallel: the model has no parameters to train")
        places = sorted({p.device for _, p in named})
        if len(places) > 1:
            raise ArgumentError(f"DataParallel: the parameters live on several devices "
                                f"({', '.join(places)}); move the model to one with .to(...)")
        self._params = [p for _, p in named]
        self._backend = get_backend(places[0])
        self.allreduce_seconds, self.steps = 0.0, 0
        if self.world.size == 1:
            return
        difference = _first_difference(self.world.allgather(_signature(named)))
        if difference is not None:
            raise DistributedError(f"DataParallel: the {self.world.size} processes did not "
                                   f"build the same model: {difference}; every process must "
                                   "build the same model (same code, sizes and dtype)")
        # One host buffer for all parameters plus one slot (the step's loss); each parameter
        # sees its part through a view of its shape.
        dtype = np.result_type(*(p.dtype for p in self._params))
        self._layout = FlatLayout([p.shape for p in self._params])
        self._flat = np.zeros(self._layout.total + 1, dtype)
        self._views = self._layout.views(_HOST, self._flat)
        self._broadcast_parameters()

    # ---- the model's interface ----
    def __call__(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def parameters(self):
        return self.module.parameters()

    def named_parameters(self):
        return self.module.named_parameters()

    def zero_grad(self, set_to_none=True):
        self.module.zero_grad(set_to_none)

    def state_dict(self):
        return self.module.state_dict()

    def train(self, mode=True):
        self.module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    @property
    def rank(self):
        return self.world.rank

    @property
    def size(self):
        return self.world.size

    @property
    def is_main(self):
        return self.world.is_main

    def __repr__(self):
        return f"DataParallel(rank {self.rank} of {self.size}, {self.module!r})"

    # ---- data parallelism ----
    def shard(self, rows):
        """``world.shard(rows)``: this process's part of a batch and its loss weight."""
        return self.world.shard(rows)

    def check_batch(self, batch_size, where="DataParallel"):
        """``world.check_batch``: a global batch must split evenly over the processes."""
        self.world.check_batch(batch_size, where)

    def average_gradients(self, loss=0.0):
        """Average every parameter's gradient over the processes (a parameter whose ``grad``
        is None counts as zeros and gets one); return ``loss`` (this process's loss value, a
        number) averaged the same way.

        One ``Allreduce`` carries the gradients and the loss, so a NaN on any process reaches
        every process's return value and all of them can stop together. Every process must
        call it once per step.
        """
        if self.world.size == 1:
            return float(loss)
        started = time.perf_counter()
        be = self._backend
        for view, p in zip(self._views, self._params):
            if p.grad is None:
                view[...] = 0
            else:
                view[...] = be.to_numpy(p.grad.data)
        self._flat[-1] = loss
        self.world.allreduce_sum_(self._flat)
        total = be.asarray(self._flat, self._flat.dtype)
        be.mul_(total, 1 / self.world.size)
        for average, p in zip(self._layout.views(be, total), self._params):
            if p.grad is None:
                p.grad = Tensor.zeros(p.shape, dtype=p.dtype, device=p.device)
            be.assign_(p.grad.data, average)
        mark_written(*(p.grad for p in self._params))
        self.allreduce_seconds += time.perf_counter() - started
        self.steps += 1
        return float(self._flat[-1]) / self.world.size

    def _broadcast_parameters(self):
        be = self._backend
        for view, p in zip(self._views, self._params):
            view[...] = be.to_numpy(p.data)
        self.world.broadcast_(self._flat, root=0)
        if self.world.is_main:
            return
        for view, p in zip(self._views, self._params):
            be.assign_(p.data, be.asarray(view, p.dtype))
        mark_written(*self._params)

    def save(self, path):
        """``model.save(path)`` on rank 0; every process returns once the file is written."""
        if self.world.is_main:
            self.module.save(path)
        self.world.barrier()
