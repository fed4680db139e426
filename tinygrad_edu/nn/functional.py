"""``nn.functional`` (imported as ``F``, as in PyTorch): the losses as plain functions.

The definitions live in ``loss_functions``; this module is the namespace users import.
"""

from .loss_functions import (REDUCTIONS, binary_cross_entropy, binary_cross_entropy_with_logits,
                             cross_entropy, l1_loss, mse_loss)

__all__ = ["mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "REDUCTIONS"]
