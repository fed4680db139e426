"""Hypothesis strategies that draw the numbers themselves (so a failure shrinks to a small,
readable array), in a chosen layout (contiguous, transposed, strided), with or without the
IEEE specials: ±0, ±inf, NaN, subnormals and the largest finite values."""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["specials_of", "elements", "float_arrays", "laid_out", "LAYOUTS"]

LAYOUTS = ("contiguous", "transposed", "strided", "fortran")


def specials_of(dtype, largest=True):
    """The IEEE special values of ``dtype`` (the largest finite ones with ``largest``)."""
    info = np.finfo(dtype)
    values = [0.0, -0.0, np.inf, -np.inf, np.nan, float(info.smallest_subnormal),
              -float(info.smallest_subnormal), float(info.tiny)]
    return values + ([float(info.max), -float(info.max)] if largest else [])


def elements(dtype, bound=2.0, specials=False, largest=True):
    """One number of ``dtype``: finite in [-bound, bound], or (with ``specials``) sometimes
    one of ``specials_of(dtype, largest)``."""
    width = np.dtype(dtype).itemsize * 8
    finite = st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=width)
    if not specials:
        return finite
    return st.one_of(finite, st.sampled_from(specials_of(dtype, largest)))


def float_arrays(dtype, shape, **options):
    """An array of ``shape`` whose every element hypothesis draws (see ``elements``)."""
    return hnp.arrays(dtype, shape, elements=elements(dtype, **options))


@st.composite
def laid_out(draw, dtype, shape, **options):
    """An array of ``shape`` with drawn values in a drawn memory layout: contiguous, the
    transpose of a contiguous array, every other column of a wider one, or Fortran order."""
    layout = draw(st.sampled_from(LAYOUTS)) if len(shape) == 2 else "contiguous"
    if layout == "transposed":
        return draw(float_arrays(dtype, shape[::-1], **options)).T
    if layout == "strided":
        wide = draw(float_arrays(dtype, (shape[0], 2 * shape[1]), **options))
        return wide[:, ::2]
    array = draw(float_arrays(dtype, shape, **options))
    return np.asfortranarray(array) if layout == "fortran" else array
