"""Shared test setup: hypothesis profiles and the ``cpu_backend`` fixture.

``cpu_backend`` runs a test once per CPU backend: ``"numpy"`` (the reference), ``"numba"`` when
``tinygrad_edu.kernels.cpu.backend`` imports, and ``"strict"`` (the reference behind arrays that
refuse every operation outside the backend). It selects the backend with ``set_backend`` and
restores the previous one afterwards. Use it as ``def test_x(cpu_backend): ...``; its value is
the name. With ``TINYGRAD_EDU_BACKEND=NAME`` set, the whole suite runs on that backend: tests
that do not ask for one use it as the default, and ``cpu_backend`` runs only it (tensors made
while the tests are collected then already live on it).

Hypothesis: the default "quick" profile keeps runs short (the whole suite must stay within a
few minutes on two cores); ``HYPOTHESIS_PROFILE=ci`` is the same size but derandomized (every
CI run tries the same examples, so a red run is reproducible and a green one is not luck) and
keeps no example database; ``HYPOTHESIS_PROFILE=thorough`` runs many more examples, for local
runs before a change lands.
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
settings.register_profile("ci", deadline=None, max_examples=12, suppress_health_check=_QUIET,
                          derandomize=True, database=None, print_blob=True)
settings.register_profile("thorough", deadline=None, max_examples=300,
                          suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def _loadable_cpu_backends():
    chosen = os.environ.get("TINYGRAD_EDU_BACKEND")
    if chosen:
        return [chosen]
    names = ["numpy", "strict"]
    try:
        importlib.import_module("tinygrad_edu.kernels.cpu.backend")
    except ImportError:
        # Numba missing: the reference (plain and strict) is all there is.
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
