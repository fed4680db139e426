"""The strict backend refuses every operation on its arrays outside the backend, names the line
that tried, and otherwise computes exactly what the numpy reference computes."""

import copy
import inspect

import numpy as np
import pytest

from tinygrad_edu import Tensor, manual_seed, nn, optim
from tinygrad_edu.backends import get_device, set_backend
from tinygrad_edu.backends.reference import NumpyBackend
from tinygrad_edu.backends.strict import StrictArray, StrictArrayError, StrictBackend
from tinygrad_edu.nn import functional as F

HERE = __file__


@pytest.fixture
def box():
    return StrictBackend().asarray(np.arange(6.0).reshape(2, 3), np.float64)


def test_a_box_answers_its_shape_dtype_ndim_and_size(box):
    assert (box.shape, box.dtype, box.ndim, box.size) == ((2, 3), np.float64, 2, 6)


def test_basic_indexing_reads_and_writes_through_the_box(box):
    row = box[1]
    assert isinstance(row, StrictArray) and row.shape == (3,)
    box[0, 1:] = 7.0
    box[1] = StrictBackend().asarray(np.array([1.0, 2.0, 3.0]), np.float64)
    assert StrictBackend().to_numpy(box).tolist() == [[0.0, 7.0, 7.0], [1.0, 2.0, 3.0]]


@pytest.mark.parametrize("attempt, words", [
    (lambda a: a + 1, "operator +"), (lambda a: 2 * a, "operator *"), (lambda a: -a, "unary -"),
    (lambda a: a == a, "operator =="), (lambda a: a < 1, "operator <"),
    (lambda a: a @ a, "operator @"), (lambda a: a.astype(np.float32), ".astype"),
    (lambda a: a.sum(), ".sum"), (lambda a: np.sqrt(a), "ufunc sqrt"),
    (lambda a: np.sum(a), "numpy function sum"), (lambda a: np.asarray(a), "numpy array"),
    (lambda a: bool(a), "truth value"), (lambda a: list(a), "iteration"),
    (lambda a: float(a), "float()"), (lambda a: copy.deepcopy(a), "deepcopy"),
    (lambda a: a[np.array([0, 1])], "advanced indexing"),
])
def test_every_other_use_is_refused_naming_the_line(box, attempt, words):
    with pytest.raises(StrictArrayError, match=words) as info:
        attempt(box)
    line = inspect.getsourcelines(attempt)[1]
    assert f"{HERE}:{line}" in str(info.value)


def test_assigning_host_data_into_a_box_is_refused(box):
    with pytest.raises(StrictArrayError, match="assigning a ndarray"):
        box[...] = np.zeros((2, 3))


def test_the_strict_backend_has_every_primitive_of_the_reference():
    reference = {n for n in dir(NumpyBackend) if not n.startswith("_")
                 and callable(getattr(NumpyBackend, n))}
    missing = sorted(n for n in reference if not callable(getattr(StrictBackend, n, None)))
    assert missing == []


def _train(steps=4):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((16, 8)).astype(np.float32))
    y = Tensor(rng.standard_normal((16, 1)).astype(np.float32))
    manual_seed(0)
    model = nn.MLP(8, [16, 8], 1)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses, [p.numpy().copy() for p in model.parameters()]


def test_training_on_strict_equals_training_on_the_reference_bit_for_bit():
    device = get_device("cpu")
    previous = device._backend
    try:
        set_backend("numpy")
        reference = _train()
        set_backend("strict")
        strict = _train()
    finally:
        device._backend = previous
    assert strict[0] == reference[0]
    for a, b in zip(strict[1], reference[1]):
        np.testing.assert_array_equal(a, b)
