"""The chapter's ranking network, which every benchmark trains or runs: its layer widths and
the arithmetic of one training step."""

__all__ = ["RANKING", "WEIGHTS", "train_flops"]

RANKING = [128, 256, 128, 64, 1]
WEIGHTS = sum(a * b for a, b in zip(RANKING[:-1], RANKING[1:]))


def train_flops(batch):
    """Multiply-add work of one training step, x2: forward, dW, and dX except the input's."""
    return 2 * batch * (3 * WEIGHTS - RANKING[0] * RANKING[1])
