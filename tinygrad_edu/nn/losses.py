"""Module forms of the losses in ``functional``: ``MSELoss()(prediction, target)``."""

from . import loss_functions as F
from .module import Module

__all__ = ["MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss"]


class _Loss(Module):
    _fn = None

    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def forward(self, input, target):
        return type(self)._fn(input, target, reduction=self.reduction)

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error; see ``functional.mse_loss``."""
    _fn = F.mse_loss


class L1Loss(_Loss):
    """Mean absolute error; see ``functional.l1_loss``."""
    _fn = F.l1_loss


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities; see ``functional.binary_cross_entropy``."""
    _fn = F.binary_cross_entropy


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits; see ``functional.binary_cross_entropy_with_logits``."""
    _fn = F.binary_cross_entropy_with_logits


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy with integer class targets; see ``functional.cross_entropy``."""
    _fn = F.cross_entropy
