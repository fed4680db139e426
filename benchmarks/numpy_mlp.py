"""The ranking MLP written by hand in numpy: forward, backward and SGD, no autodiff.

This is the floor any numpy-based engine is measured against: the same BLAS products and
elementwise passes an engine must do, with none of its bookkeeping (no graph, no Tensors, no
gradient accumulation). Like the engine's first layer it does not form dX for the input.
"""

import numpy as np

__all__ = ["NumpyMLP"]


class NumpyMLP:
    """ReLU MLP with a linear output, MSE loss, plain SGD; weights (nin, nout) like ours."""

    def __init__(self, sizes, dtype=np.float32, seed=0):
        rng = np.random.default_rng(seed)
        self.weights = [(rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(dtype)
                        for a, b in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(b, dtype) for b in sizes[1:]]

    def forward(self, x):
        """Output for a batch ``x``, and the per-layer inputs and pre-activations."""
        inputs, pre = [], []
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            inputs.append(h)
            z = h @ w + b
            pre.append(z)
            h = np.maximum(z, 0) if i < last else z
        return h, inputs, pre

    def train_step(self, x, y, lr):
        """One SGD step on the mean squared error; returns the loss."""
        out, inputs, pre = self.forward(x)
        diff = out - y
        loss = float(np.mean(diff * diff))
        d = diff * (2.0 / diff.size)
        for i in range(len(self.weights) - 1, -1, -1):
            if i < len(self.weights) - 1:
                d = d * (pre[i] > 0)
            grad_w = inputs[i].T @ d
            grad_b = d.sum(axis=0)
            if i > 0:
                d = d @ self.weights[i].T
            self.weights[i] -= lr * grad_w
            self.biases[i] -= lr * grad_b
        return loss
