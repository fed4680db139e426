"""Devices and the backend registry: the one place that decides which code runs an op.

A ``Device`` (``"cpu"``, ``"cuda"``) holds the backend object that runs ops on tensors living
there. Every tensor keeps its Device, and ops call ``device.backend.<primitive>``, so no op ever
asks which device or backend it is on. Backends are registered by name with the import path of
their class and loaded on first use, so ``import tinygrad_edu`` loads no compiler.

Every known device has a probe that says whether it can be used here. ``devices()`` lists them
all; ``get_device`` (and so ``Tensor(..., device=...)``) raises ``DeviceError`` for one that
cannot be used, with the reason and the fix. Probes run when first asked, once per process.

The CPU backend is chosen, in order, by ``set_backend(name)``, the environment variable
``TINYGRAD_EDU_BACKEND`` (``numpy``, ``numba`` or ``strict``), and otherwise the first
importable entry of the device's default list (Numba when it is installed, else the numpy
reference).
"""

import functools
import importlib
import importlib.util
import os
from dataclasses import dataclass

from ..errors import ArgumentError, DeviceError

__all__ = ["register_backend", "available_backends", "set_backend", "get_backend", "get_device",
           "Device", "DeviceInfo", "devices"]

# name -> (device, "module:Class"). Kernels register themselves here, not in the ops.
_REGISTRY = {
    "numpy": ("cpu", "tinygrad_edu.backends.reference:NumpyBackend"),
    "numba": ("cpu", "tinygrad_edu.kernels.cpu.backend:NumbaBackend"),
    "strict": ("cpu", "tinygrad_edu.backends.strict:StrictBackend"),
    "cuda": ("cuda", "tinygrad_edu.kernels.cuda.backend:CudaBackend"),
}
_DEFAULTS = {"cpu": ("numba", "numpy"), "cuda": ("cuda",)}
_ENV_VAR = "TINYGRAD_EDU_BACKEND"
_CUDA_EXTRA = 'pip install "tinygrad_edu[cuda]"'
_instances = {}


def register_backend(name, device, path, default=False):
    """Register backend class ``path`` ("module:Class") as ``name`` for ``device``."""
    _REGISTRY[name] = (device, path)
    if default:
        _DEFAULTS[device] = (name,) + tuple(n for n in _DEFAULTS.get(device, ()) if n != name)


def available_backends():
    """Names of the registered backends, in registration order."""
    return list(_REGISTRY)


def _load(name):
    if name not in _instances:
        module_name, class_name = _REGISTRY[name][1].split(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        _instances[name] = cls()
    return _instances[name]


def _check_name(name):
    if name not in _REGISTRY:
        raise ArgumentError(f"unknown backend {name!r}; registered backends: "
                            f"{', '.join(map(repr, _REGISTRY))}")


def _probe_cpu():
    # numpy is a hard dependency and the numpy reference backend runs wherever it imports.
    return None


def _numba_cuda_installed():
    # numba itself still ships a deprecated numba.cuda, so only the numba_cuda distribution
    # says the [cuda] extra is installed; find_spec answers without importing it.
    return importlib.util.find_spec("numba_cuda") is not None


def _cuda_runtime():
    """``(driver_error, gpu_count)`` as numba.cuda sees them: the one place that imports it."""
    from numba import cuda
    try:
        return None, len(cuda.gpus)
    except cuda.CudaSupportError as exc:
        # numba keeps why the driver did not start: libcuda missing or broken, or cuInit's code.
        return " ".join((cuda.cuda_error() or str(exc)).split()), 0


def _probe_cuda():
    if not _numba_cuda_installed():
        return "numba-cuda is not installed", _CUDA_EXTRA
    try:
        driver_error, gpu_count = _cuda_runtime()
    except ImportError as exc:
        return (f"numba-cuda is installed but numba.cuda does not import ({exc})",
                f"reinstall it: {_CUDA_EXTRA} --force-reinstall")
    # A driver that loads but finds no GPU fails cuInit with CUDA_ERROR_NO_DEVICE.
    if driver_error is not None and "CUDA_ERROR_NO_DEVICE" not in driver_error:
        return (f"numba-cuda is installed but found no usable CUDA driver ({driver_error})",
                "install the NVIDIA driver, which provides libcuda")
    if gpu_count == 0:
        return ("the CUDA driver is installed but sees no GPU",
                "run on a machine with an NVIDIA GPU (check nvidia-smi and CUDA_VISIBLE_DEVICES)")
    return None


# device -> probe returning None when the hardware and its libraries are usable here, else
# (reason, fix). Whether a backend is registered for the device is checked apart, since
# register_backend may add one at any time.
_PROBES = {"cpu": _probe_cpu, "cuda": _probe_cuda}


@functools.cache
def _probe(name):
    probe = _PROBES.get(name)
    return None if probe is None else probe()


def _known_devices():
    return list(dict.fromkeys([*_PROBES, *(dev for dev, _ in _REGISTRY.values())]))


def _problem(name):
    """``(reason, fix)`` when device ``name`` cannot be used here, else None."""
    known = _known_devices()
    if name not in known:
        raise ArgumentError(f"unknown device {name!r}; known devices: "
                            f"{', '.join(map(repr, known))}")
    problem = _probe(name)
    if problem is None and all(dev != name for dev, _ in _REGISTRY.values()):
        problem = (f"this version of tinygrad_edu has no {name.upper()} backend yet",
                   "use device='cpu'")
    return problem


@dataclass(frozen=True)
class DeviceInfo:
    """One line of ``devices()``: whether device ``name`` can be used here.

    ``backend`` names the backend running ops there when ``available``; otherwise it is None
    and ``reason`` says why the device cannot be used and ``fix`` what to do about it.
    """

    name: str
    available: bool
    backend: str | None = None
    reason: str = ""
    fix: str = ""

    def __str__(self):
        if self.available:
            return f"{self.name}: available (backend {self.backend})"
        return f"{self.name}: unavailable: {self.reason}: {self.fix}"


def devices():
    """One ``DeviceInfo`` per known device, ``"cpu"`` first.

    ``print(*tinygrad_edu.devices(), sep="\\n")`` shows which devices work here and, for each
    one that does not, why and how to fix it. Listing an available device loads its backend.
    """
    listing = []
    for name in _known_devices():
        problem = _problem(name)
        if problem is None:
            listing.append(DeviceInfo(name, True, get_device(name).backend.name))
        else:
            listing.append(DeviceInfo(name, False, None, *problem))
    return listing


class Device:
    """A place where tensors live, with the backend object that computes on them."""

    __slots__ = ("name", "_backend")

    def __init__(self, name):
        self.name = name
        self._backend = None

    @property
    def backend(self):
        """The backend object; resolved on first use so importing loads no compiler."""
        if self._backend is None:
            self._backend = _resolve_default(self.name)
        return self._backend

    def __repr__(self):
        return f"Device({self.name!r})"


def _resolve_default(device):
    requested = os.environ.get(_ENV_VAR)
    if requested:
        _check_name(requested)
        # The variable names one backend, which chooses for its own device only.
        if _REGISTRY[requested][0] == device:
            return _load(requested)
    for name in _DEFAULTS.get(device, ()):
        try:
            return _load(name)
        except ImportError:
            continue
    raise RuntimeError(f"no backend for device {device!r} could be loaded "
                       f"(tried {', '.join(_DEFAULTS.get(device, ()))})")


_devices = {}


def get_device(name="cpu"):
    """The Device object called ``name``.

    An unknown name raises ``ArgumentError`` listing the known devices; a known device that
    cannot be used here raises ``DeviceError`` with its line from ``devices()``.
    """
    if isinstance(name, Device):
        return name
    device = _devices.get(name)
    if device is None:
        problem = _problem(name)
        if problem is not None:
            raise DeviceError(str(DeviceInfo(name, False, None, *problem)))
        device = _devices[name] = Device(name)
    return device


def set_backend(name):
    """Run every op on ``name``'s device with backend ``name`` from now on.

    Takes effect for existing tensors too, since they look the backend up through their
    device. ``set_backend("numpy")`` selects the reference implementation, ``"strict"`` the
    reference behind arrays that refuse every operation outside the backend.
    """
    _check_name(name)
    device = get_device(_REGISTRY[name][0])
    device._backend = _load(name)
    return device._backend


def get_backend(device="cpu"):
    """The backend object currently running ops on ``device``."""
    return get_device(device).backend
