"""Checking the numbers: ``gradcheck`` (backward against finite differences) and the training
``diagnostics`` (activation statistics, dead units, the effect of initialization)."""

from . import diagnostics
from .gradcheck import GradcheckError, gradcheck

__all__ = ["gradcheck", "GradcheckError", "diagnostics"]
