"""Devices: the listing, the cuda probe's branches, DeviceError, and that probing stays lazy.

The cuda probe's pieces (is numba-cuda installed, what does numba.cuda see) are replaced with
fakes so every branch runs on a machine without numba-cuda or a GPU. The checks that importing
and listing load nothing heavy run in a fresh interpreter, outside the repository root so that
the installed package is the one imported.
"""

import json
import subprocess
import sys
import textwrap

import pytest

import tinygrad_edu
from tinygrad_edu import ArgumentError, DeviceError, Tensor, TinygradEduError, devices
from tinygrad_edu.backends import DeviceInfo, get_backend, get_device, registry, set_backend

NOT_INSTALLED = 'cuda: unavailable: numba-cuda is not installed: pip install "tinygrad_edu[cuda]"'
NO_GPU = ("cuda: unavailable: the CUDA driver is installed but sees no GPU: run on a machine "
          "with an NVIDIA GPU (check nvidia-smi and CUDA_VISIBLE_DEVICES)")

# fake probe pieces -> the listing's line for cuda (also DeviceError's message)
CUDA_BRANCHES = {
    "not installed": ({"installed": False}, NOT_INSTALLED),
    "does not import": (
        {"runtime": ImportError("libnvvm.so: cannot open")},
        "cuda: unavailable: numba-cuda is installed but numba.cuda does not import "
        '(libnvvm.so: cannot open): reinstall it: pip install "tinygrad_edu[cuda]" '
        "--force-reinstall"),
    "no driver": (
        {"runtime": ("CUDA driver library cannot be found.", 0)},
        "cuda: unavailable: numba-cuda is installed but found no usable CUDA driver "
        "(CUDA driver library cannot be found.): install the NVIDIA driver, which provides "
        "libcuda"),
    "no gpu, cuInit fails": ({"runtime": ("CUDA_ERROR_NO_DEVICE (100)", 0)}, NO_GPU),
    "no gpu, none counted": ({"runtime": (None, 0)}, NO_GPU),
}


@pytest.fixture(autouse=True)
def fresh_probes():
    """Forget cached probe results, so a fake installed by one test never leaks into another."""
    registry._probe.cache_clear()
    yield
    registry._probe.cache_clear()


@pytest.fixture
def fake_cuda(monkeypatch):
    """Install fakes for the cuda probe: ``fake_cuda(installed=..., runtime=...)``.

    ``runtime`` is what numba.cuda reports, ``(driver_error, gpu_count)``, or an exception that
    importing it raises. Returns a list that records each call to the runtime piece.
    """
    calls = []

    def install(installed=True, runtime=(None, 1)):
        def cuda_runtime():
            calls.append(runtime)
            if isinstance(runtime, Exception):
                raise runtime
            return runtime

        monkeypatch.setattr(registry, "_numba_cuda_installed", lambda: installed)
        monkeypatch.setattr(registry, "_cuda_runtime", cuda_runtime)
        return calls

    return install


def _cuda_info():
    (info,) = [d for d in devices() if d.name == "cuda"]
    return info


def test_the_listing_names_cpu_then_cuda():
    listing = devices()
    assert [d.name for d in listing] == ["cpu", "cuda"]
    assert all(isinstance(d, DeviceInfo) for d in listing)
    assert tinygrad_edu.devices is devices


def test_cpu_is_available_on_the_selected_backend(cpu_backend):
    (cpu,) = [d for d in devices() if d.name == "cpu"]
    assert cpu.available and cpu.backend == cpu_backend == get_backend("cpu").name
    assert (cpu.reason, cpu.fix) == ("", "")
    assert str(cpu) == f"cpu: available (backend {cpu_backend})"


@pytest.mark.parametrize("fakes, line", CUDA_BRANCHES.values(), ids=CUDA_BRANCHES)
def test_each_cuda_branch_says_why_and_how_to_fix_it(fake_cuda, fakes, line):
    fake_cuda(**fakes)
    info = _cuda_info()
    assert not info.available and info.backend is None
    assert str(info) == line == f"cuda: unavailable: {info.reason}: {info.fix}"
    with pytest.raises(DeviceError) as raised:
        get_device("cuda")
    assert str(raised.value) == line


def test_a_device_without_a_registered_backend_says_so(fake_cuda, monkeypatch):
    fake_cuda(runtime=(None, 1))
    monkeypatch.setattr(registry, "_REGISTRY", {name: entry for name, entry in
                                                registry._REGISTRY.items() if entry[0] != "cuda"})
    assert str(_cuda_info()) == ("cuda: unavailable: this version of tinygrad_edu has no CUDA "
                                 "backend yet: use device='cpu'")


def test_without_numba_cuda_the_runtime_is_never_asked(fake_cuda):
    calls = fake_cuda(installed=False)
    get_backend("cpu")  # the cpu listing must not depend on anything cuda
    assert str(_cuda_info()) == NOT_INSTALLED
    assert calls == []


def test_the_cuda_probe_runs_once_per_process(fake_cuda):
    calls = fake_cuda(runtime=(None, 0))
    for _ in range(3):
        devices()
        with pytest.raises(DeviceError):
            get_device("cuda")
    assert len(calls) == 1


def test_a_registered_cuda_backend_makes_cuda_available(fake_cuda, monkeypatch):
    fake_cuda(runtime=(None, 1))
    monkeypatch.delenv(registry._ENV_VAR, raising=False)
    monkeypatch.setattr(registry, "_devices", dict(registry._devices))
    monkeypatch.setattr(registry, "_instances", dict(registry._instances))
    monkeypatch.setitem(registry._REGISTRY, "fake_cuda",
                        ("cuda", "tinygrad_edu.backends.reference:NumpyBackend"))
    monkeypatch.setitem(registry._DEFAULTS, "cuda", ("fake_cuda",))
    assert str(_cuda_info()) == "cuda: available (backend numpy)"
    assert get_device("cuda").name == "cuda"


CREATORS = {
    "Tensor": lambda: Tensor([1.0, 2.0], device="cuda"),
    "zeros": lambda: Tensor.zeros(2, 3, device="cuda"),
    "ones": lambda: Tensor.ones(2, device="cuda"),
    "full": lambda: Tensor.full((2,), 7.0, device="cuda"),
    "randn": lambda: Tensor.randn(2, device="cuda"),
    "rand": lambda: Tensor.rand(2, device="cuda"),
    "arange": lambda: Tensor.arange(3, device="cuda"),
    "eye": lambda: Tensor.eye(2, device="cuda"),
}


@pytest.mark.parametrize("create", CREATORS.values(), ids=CREATORS)
def test_creating_a_cuda_tensor_raises_device_error_with_the_listing_line(fake_cuda, create):
    fake_cuda(installed=False)
    with pytest.raises(DeviceError) as raised:
        create()
    assert str(raised.value) == str(_cuda_info()) == NOT_INSTALLED
    assert isinstance(raised.value, TinygradEduError) and isinstance(raised.value, RuntimeError)


@pytest.mark.parametrize("create", [lambda: get_device("tpu"),
                                    lambda: Tensor([1.0], device="tpu"),
                                    lambda: Tensor.zeros(2, device="tpu")])
def test_an_unknown_device_is_an_argument_error_listing_the_known_ones(create):
    with pytest.raises(ArgumentError, match="unknown device 'tpu'; known devices: 'cpu', 'cuda'"):
        create()


def test_the_strict_backend_is_registered_for_cpu_but_not_a_default():
    assert "strict" in registry.available_backends()
    assert "strict" not in registry._DEFAULTS["cpu"]
    device = get_device("cpu")
    previous = device._backend
    try:
        assert set_backend("strict").name == "strict" == get_backend("cpu").name
    finally:
        device._backend = previous


def _fresh_interpreter(code, cwd):
    """Run ``code`` in a new interpreter in ``cwd``; return the JSON it prints last."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_package_loads_no_numba(tmp_path):
    report = _fresh_interpreter("""
        import json, sys
        import tinygrad_edu
        print(json.dumps([m for m in sys.modules if m.split(".")[0] in ("numba", "numba_cuda")]))
    """, tmp_path)
    assert report == []


def test_listing_devices_without_numba_cuda_never_imports_numba_cuda(tmp_path):
    report = _fresh_interpreter("""
        import json, sys
        import tinygrad_edu
        from tinygrad_edu.backends import registry
        registry._numba_cuda_installed = lambda: False  # as on a machine without the extra
        lines = [str(d) for d in tinygrad_edu.devices()]
        print(json.dumps({"lines": lines,
                          "loaded": [m for m in ("numba.cuda", "numba_cuda") if m in sys.modules]}))
    """, tmp_path)
    assert report["lines"][1] == NOT_INSTALLED
    assert report["loaded"] == []
