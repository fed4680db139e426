"""The CUDA backend implements every primitive of the numpy reference itself, with the
reference's parameters, so no op can fall back to the host: the list is read from
``NumpyBackend`` when the test runs, so primitives added later are checked too.

Needs numba-cuda (the ``[cuda]`` extra), not a GPU: importing the backend compiles nothing.
"""

import inspect

import pytest

from tinygrad_edu.backends.reference import NumpyBackend

pytest.importorskip("numba_cuda")

from tinygrad_edu.kernels.cuda.backend import CudaBackend  # noqa: E402


def _primitives(cls):
    return sorted(name for name in dir(cls)
                  if not name.startswith("_") and callable(getattr(cls, name)))


def test_the_cuda_backend_defines_every_primitive_of_the_reference_itself():
    missing = [name for name in _primitives(NumpyBackend) if name not in vars(CudaBackend)]
    assert missing == [], f"CudaBackend lacks {missing}: they would have no GPU implementation"
    assert not issubclass(CudaBackend, NumpyBackend), "inheriting would hide a missing kernel"


@pytest.mark.parametrize("name", _primitives(NumpyBackend))
def test_each_primitive_takes_the_references_parameters(name):
    if name not in vars(CudaBackend):
        pytest.fail(f"CudaBackend lacks {name}")
    ours = inspect.signature(getattr(CudaBackend, name)).parameters
    reference = inspect.signature(getattr(NumpyBackend, name)).parameters
    assert [(p.name, p.default) for p in ours.values()] == \
        [(p.name, p.default) for p in reference.values()]


def test_the_backend_is_registered_for_the_cuda_device_by_default():
    from tinygrad_edu.backends import registry

    assert registry._REGISTRY["cuda"] == ("cuda", "tinygrad_edu.kernels.cuda.backend:CudaBackend")
    assert registry._DEFAULTS["cuda"][0] == "cuda"
    assert (CudaBackend.name, CudaBackend.device) == ("cuda", "cuda")
