"""``nn.utils``: where PyTorch users look for ``clip_grad_norm_`` (defined in ``optim``)."""

from ..optim import clip_grad_norm_

__all__ = ["clip_grad_norm_"]
