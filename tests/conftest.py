"""Shared test setup: hypothesis profiles and the ``cpu_backend`` fixture.

``cpu_backend`` runs a test once per CPU backend that can be loaded here: ``"numpy"`` (the
reference) always, ``"numba"`` when ``tinygrad_edu.kernels.cpu`` imports. It selects the backend
with ``set_backend`` and restores the previous one afterwards, so tests that do not ask for it
run on the default backend. Use it as ``def test_x(cpu_backend): ...``; its value is the name.

Hypothesis: the default "quick" profile keeps runs short (the whole suite must stay within a
few minutes on two cores); ``HYPOTHESIS_PROFILE=thorough`` runs many more examples.
"""

import importlib
import os

import pytest
from hypothesis import HealthCheck, settings

from tinygrad_edu.backends import get_device, set_backend

# cpu_backend is function-scoped but holds no per-example state (it only selects a backend),
# so hypothesis tests may use it.
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("quick", deadline=None, max_examples=12, suppress_health_check=_QUIET)
settings.register_profile("thorough", deadline=None, max_examples=300,
                          suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def _loadable_cpu_backends():
    names = ["numpy"]
    try:
        importlib.import_module("tinygrad_edu.kernels.cpu.backend")
    except ImportError:
        # Not written yet, or Numba missing: the numpy reference is all there is.
        return names
    except Exception:  # noqa: BLE001 - a broken module must fail the tests that use it
        pass
    names.append("numba")
    return names


CPU_BACKENDS = _loadable_cpu_backends()


@pytest.fixture(params=CPU_BACKENDS)
def cpu_backend(request):
    """Run the test with each loadable CPU backend selected; yields the backend's name."""
    device = get_device("cpu")
    previous = device._backend  # None means "not chosen yet": restored as such
    set_backend(request.param)
    try:
        yield request.param
    finally:
        device._backend = previous
