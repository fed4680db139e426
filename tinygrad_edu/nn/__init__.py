"""Neural-network building blocks: modules, layers, activations and losses.

``nn.Neuron``, ``nn.Layer`` and ``nn.MLP`` are the textbook's neuron, layer and network over
Tensors; ``nn.scalar`` has their twins over scalar Values (one graph node per number);
``nn.functional`` has the activations and losses as functions, ``nn.init`` the weight
initializers and ``nn.utils`` ``clip_grad_norm_``.
"""

from . import functional, init, scalar, utils
from .activations import (ACTIVATION_NAMES, GELU, Activation, Identity, LeakyReLU, PReLU, ReLU,
                          Sigmoid, SiLU, Swish, Tanh, activate, canonical_activation)
from .layers import MLP, Layer, Linear, Neuron
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss
from .module import (IncompatibleKeys, Module, ModuleList, Parameter, RemovableHandle,
                     Sequential, StateDictError)

__all__ = [
    "Module", "Parameter", "ModuleList", "Sequential", "RemovableHandle", "IncompatibleKeys",
    "StateDictError",
    "Neuron", "Linear", "Layer", "MLP",
    "Activation", "Identity", "ReLU", "LeakyReLU", "PReLU", "Sigmoid", "Tanh", "GELU", "SiLU",
    "Swish", "ACTIVATION_NAMES", "canonical_activation", "activate",
    "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "functional", "init", "scalar", "utils",
]
