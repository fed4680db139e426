"""Plain numpy formulas of the activations: the tests' oracle, written independently of the
library's activation registry and backends."""

import math

import numpy as np

__all__ = ["erf", "sigmoid", "leaky_relu", "gelu", "gelu_tanh", "silu"]

erf = np.vectorize(math.erf, otypes=[np.float64])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def leaky_relu(z, slope=0.01):
    return np.where(z > 0, z, slope * z)


def gelu(z):
    return 0.5 * z * (1 + erf(z / math.sqrt(2)))


def gelu_tanh(z):
    return 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3)))


def silu(z):
    return z * sigmoid(z)
