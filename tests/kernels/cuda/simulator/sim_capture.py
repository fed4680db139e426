"""A captured training step on ``device="cuda"`` (``tinygrad_edu.capture``): its replays give the
eager step's numbers bit for bit, with the per-parameter and the flat optimizer.

Run by ``test_cuda_simulator.py`` in the simulator (tiny sizes) and by ``benchmarks/gpu.py`` on
a real GPU.
"""

import numpy as np
import pytest

pytest.importorskip("numba_cuda")

from tinygrad_edu import Tensor, capture, manual_seed, nn, optim  # noqa: E402
from tinygrad_edu.nn import functional as F  # noqa: E402

STEPS = 4   # a warm-up call, two recorded ones, then a replay


def _run(captured, flat):
    manual_seed(0)
    model = nn.MLP(3, [4], 1).to("cuda")
    opt = optim.Adam(model.parameters(), lr=0.05, flat=flat)
    rng = np.random.default_rng(4)
    x = Tensor(rng.standard_normal((2, 3)).astype(np.float32), device="cuda")
    y = Tensor(rng.standard_normal((2, 1)).astype(np.float32), device="cuda")

    def train_step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step = capture(train_step) if captured else train_step
    losses = [step(x, y).item() for _ in range(STEPS)]
    return losses, model.state_dict(), step


@pytest.mark.parametrize("flat", [False, True], ids=["per-parameter", "flat"])
def test_a_captured_cuda_step_replays_the_eager_numbers_exactly(flat):
    eager_losses, eager_state, _ = _run(False, flat)
    losses, state, step = _run(True, flat)
    assert step.captured and step.captures == 1
    assert losses == eager_losses
    for name, value in eager_state.items():
        np.testing.assert_array_equal(state[name], value)
