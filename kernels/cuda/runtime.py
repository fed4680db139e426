"""The one module that talks to numba.cuda's runtime: device memory and host transfers.

- ``allocate(n, dtype)`` hands out flat device buffers from a cache. Every kernel runs on the
  default stream, in order, so a buffer no Python object refers to any more can be given to
  the next kernel at once, as PyTorch's caching allocator does: a training step that repeats
  its shapes allocates nothing from the driver after its first run (``cuMemAlloc`` and the
  synchronizing ``cuMemFree`` cost more than most of the step's kernels).
- ``upload`` and ``download`` are the only copies between host and device; ``TRANSFERS``
  counts them, so a test can prove a training step stays on the GPU.

Importing this module imports numba.cuda, which needs the numba-cuda package (the ``[cuda]``
extra); under ``NUMBA_ENABLE_CUDASIM=1`` it runs on numba's CUDA simulator.
"""

import importlib.util
import weakref
from collections import defaultdict

import numpy as np

if importlib.util.find_spec("numba_cuda") is None:
    raise ImportError('the CUDA backend needs numba-cuda: pip install "tinygrad_edu[cuda]"',
                      name="numba_cuda")

# After the check: numba alone still ships an obsolete numba.cuda.
from numba import cuda  # noqa: E402
from numba.core import config  # noqa: E402
from numba.cuda.cudadrv.driver import CudaAPIError  # noqa: E402

__all__ = ["cuda", "Storage", "allocate", "upload", "download", "TRANSFERS", "POOL",
           "launch_1d", "SIMULATED"]

# numba.cuda reads NUMBA_ENABLE_CUDASIM once, when it is first imported.
SIMULATED = bool(config.ENABLE_CUDASIM)


class TransferCounter:
    """How many copies went each way between host and device, and how many bytes."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.uploads = self.downloads = 0
        self.uploaded_bytes = self.downloaded_bytes = 0

    def snapshot(self):
        return {"uploads": self.uploads, "downloads": self.downloads,
                "uploaded_bytes": self.uploaded_bytes, "downloaded_bytes": self.downloaded_bytes}


TRANSFERS = TransferCounter()


class BufferPool:
    """Free device buffers by (dtype, length), up to ``limit_bytes`` in all."""

    def __init__(self, limit_bytes=2 << 30):
        self.limit_bytes = limit_bytes
        self.cached_bytes = 0
        self._free = defaultdict(list)

    def take(self, n, dtype):
        free = self._free.get((dtype, n))
        if free:
            self.cached_bytes -= n * dtype.itemsize
            return free.pop()
        try:
            return cuda.device_array(n, dtype)
        except CudaAPIError:
            # Out of memory, perhaps only because of what is cached: free it and try once more.
            self.empty()
            return cuda.device_array(n, dtype)

    def give_back(self, key, data):
        nbytes = key[1] * key[0].itemsize
        if self.cached_bytes + nbytes <= self.limit_bytes:
            self._free[key].append(data)
            self.cached_bytes += nbytes

    def empty(self):
        """Release every cached buffer to the driver."""
        self._free.clear()
        self.cached_bytes = 0


POOL = BufferPool()


class Storage:
    """A flat device buffer shared by an array and its views; back to the pool when the last
    of them is gone."""

    __slots__ = ("data", "__weakref__")

    def __init__(self, data):
        self.data = data
        key = (np.dtype(data.dtype), int(data.size))
        finalizer = weakref.finalize(self, POOL.give_back, key, data)
        finalizer.atexit = False


def allocate(n, dtype):
    """A ``Storage`` of ``n`` uninitialized elements of ``dtype`` (at least one, so kernels
    always get a real buffer)."""
    return Storage(POOL.take(max(int(n), 1), np.dtype(dtype)))


def upload(host):
    """A ``Storage`` holding a copy of the numpy array ``host`` (C order)."""
    flat = np.ascontiguousarray(host).reshape(-1)
    storage = allocate(flat.size, flat.dtype)
    if flat.size:
        storage.data[:flat.size].copy_to_device(flat)
        TRANSFERS.uploads += 1
        TRANSFERS.uploaded_bytes += flat.nbytes
    return storage


def download(storage, offset, n):
    """Elements ``offset .. offset + n`` of ``storage`` as a new flat numpy array."""
    if n == 0:
        return np.empty(0, storage.data.dtype)
    TRANSFERS.downloads += 1
    TRANSFERS.downloaded_bytes += n * storage.data.dtype.itemsize
    return storage.data[offset:offset + n].copy_to_host()


def launch_1d(n, limit=256):
    """``(blocks, threads)`` for one thread per element: full blocks of ``limit`` threads, or
    one block of the fewest whole warps for a small ``n`` (the simulator runs a Python thread
    per CUDA thread, and a real GPU wastes no lanes either)."""
    if n >= limit:
        return (n + limit - 1) // limit, limit
    return 1, max(32, (n + 31) // 32 * 32)
