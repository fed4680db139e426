"""What the captured-step tests share: batches of the small test network's inputs and the
bitwise comparison of two models' and optimizers' state."""

import numpy as np

from tinygrad_edu import Tensor

__all__ = ["make_batches", "assert_same_state"]


def make_batches(n, batch=3, features=7):
    """``n`` (x, y) float32 batches for an MLP of ``features`` inputs and one output, the same
    numbers in every call."""
    rng = np.random.default_rng(1)
    return [(Tensor(rng.standard_normal((batch, features)).astype(np.float32)),
             Tensor(rng.standard_normal((batch, 1)).astype(np.float32))) for _ in range(n)]


def assert_same_state(model_a, opt_a, model_b, opt_b):
    """The two models' parameters and gradients and the optimizers' states are equal, bit for
    bit."""
    for (name, a), (_, b) in zip(model_a.named_parameters(), model_b.named_parameters()):
        assert (a.numpy() == b.numpy()).all(), name
        assert (a.grad.numpy() == b.grad.numpy()).all(), f"{name}.grad"
    state_a, state_b = opt_a.state_dict()["state"], opt_b.state_dict()["state"]
    for entry_a, entry_b in zip(state_a, state_b):
        assert entry_a.keys() == entry_b.keys()
        for key in entry_a:
            assert (np.asarray(entry_a[key]) == np.asarray(entry_b[key])).all(), key
