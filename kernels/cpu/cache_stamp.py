"""Numba's on-disk cache of the CPU kernels, invalidated by a change to any of their sources.

Numba compiles a ``cache=True`` function together with every jitted function it calls (they
are inlined) and keys the cached machine code on the hash of one file, the caller's own. Edit
``activations.py`` or ``intrinsics.py``, and the kernels of ``matmul.py`` or
``mlp_kernel.py`` that inline them keep loading the code compiled from the old text: wrong
numbers, silently, after a ``git pull`` into an editable install as much as after an edit.

So the kernels in this folder are cached under one stamp, a hash of every source they can
inline (each ``.py`` file here and the activation registry, ``tinygrad_edu/activations.py``,
whose formulas they compile): a change to any of them recompiles every kernel once, on first
use, as an empty cache would. The stamp is what Numba's cache locator reports as the source's
freshness (``get_source_stamp``); where the cache lives is left to Numba's own locators.

Every module here with a cached kernel imports this one before it defines a kernel, since
Numba picks a function's locator when the decorator runs. The locator classes are Numba's
internals (``numba.core.caching``): where they are not as this module expects, Numba's own
locators stay in charge (one file's hash, as before), and
``tests/kernels/test_cache_stamp.py`` fails.
"""

import glob
import hashlib
import os

try:
    from numba.core.caching import CacheImpl, _CacheLocator
except ImportError:   # another Numba's internals: its own locators then (see above)
    CacheImpl, _CacheLocator = None, object

from ... import activations as _registry

__all__ = ["KERNEL_SOURCES", "sources_stamp", "KernelSourcesLocator"]

_HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_SOURCES = tuple(sorted(glob.glob(os.path.join(_HERE, "*.py")))) + (
    os.path.abspath(_registry.__file__),)


def sources_stamp(paths):
    """One hash of the names and contents of ``paths`` (in the order given)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            content = f.read()
        digest.update(os.path.basename(path).encode() + b"\0")
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


_STAMP = []   # computed on the first kernel's decoration, once per process


class KernelSourcesLocator(_CacheLocator):
    """Numba's own locator for a kernel defined in this folder (where its cache files go),
    with ``sources_stamp(KERNEL_SOURCES)`` as the source's freshness."""

    def __init__(self, inner):
        self._inner = inner

    def get_cache_path(self):
        return self._inner.get_cache_path()

    def get_disambiguator(self):
        return self._inner.get_disambiguator()

    def get_source_stamp(self):
        if not _STAMP:
            try:
                _STAMP.append(sources_stamp(KERNEL_SOURCES))
            except OSError:   # sources not readable as files (a zipped install): Numba's own
                return self._inner.get_source_stamp()
        return _STAMP[0]

    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.dirname(os.path.abspath(py_file)) != _HERE:
            return None
        for locator in CacheImpl._locator_classes:
            if locator is not cls:
                inner = locator.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner)
        return None


_LOCATORS = getattr(CacheImpl, "_locator_classes", None)
if isinstance(_LOCATORS, list) and KernelSourcesLocator not in _LOCATORS:
    _LOCATORS.insert(0, KernelSourcesLocator)
