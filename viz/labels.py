"""Text for graph nodes: escaping user strings, formatting numbers, summarising arrays.

Every label is a Graphviz HTML-like label built here. User text (labels, parameter and module
names) only ever enters a label through ``escape``, so it renders literally and cannot close
the label, add attributes or inject markup.
"""

import html

import numpy as np

__all__ = ["escape", "fmt", "summarize", "html_label", "bold", "small", "lines"]

MAX_TEXT = 60        # longer user strings are cut, so one label cannot widen the whole drawing
MAX_VALUES = 8       # tensors with at most this many elements are shown in full


def escape(text, max_len=MAX_TEXT):
    """``text`` made safe for a Graphviz HTML-like label, rendering exactly as written.

    HTML metacharacters become entities. Backslashes are doubled because Graphviz still expands
    escapes such as ``\\N`` (the node's id) inside HTML labels, even when written as ``&#92;``.
    Control characters are shown as ``\\xNN``; newlines become line breaks.
    """
    text = str(text)
    if len(text) > max_len:
        text = text[:max_len - 1] + "\u2026"
    # Lone surrogates cannot be written as UTF-8: show them as escapes instead of crashing.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = "".join(f"\\x{ord(c):02x}" if _is_control(c) else c for c in text)
    text = html.escape(text, quote=True).replace("\\", "\\\\")
    return text.replace("\n", "<BR/>")


def _is_control(char):
    code = ord(char)
    return char != "\n" and (code < 32 or 0x7F <= code < 0xA0)


def fmt(x):
    """A number with 4 significant digits: ``fmt(2/3) == '0.6667'``, ``fmt(1e-7) == '1e-07'``."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if x == 0:
        return "0"   # also for -0.0, which would only distract
    return f"{x:.4g}"


def summarize(array, max_values=MAX_VALUES):
    """Plain-text lines describing ``array``: every value when it is tiny, else its statistics.

    >>> summarize(np.array([0.5, -1.0]))
    ['[0.5, -1]']
    """
    array = np.asarray(array)
    if array.size == 0:
        return ["empty"]
    if array.dtype == np.bool_:
        count = int(array.sum())
        return [f"true {count}/{array.size} ({fmt(100.0 * count / array.size)}%)"]
    if array.size <= max_values:
        if array.ndim == 0:
            return [fmt(array.item())]
        text = np.array2string(array, separator=", ", formatter={"all": fmt},
                               max_line_width=10_000)
        return text.replace("\n ", "\n").split("\n")
    values = array.astype(np.float64)
    low, high = values.min(), values.max()
    if low == high:
        return [f"all {fmt(low)}"]     # e.g. a freshly initialised bias
    out = [f"mean {fmt(values.mean())}  std {fmt(values.std())}",
           f"min {fmt(low)}  max {fmt(high)}"]
    if array.dtype.kind == "f":
        n_nan = int(np.isnan(values).sum())
        n_inf = int(np.isinf(values).sum())
        if n_nan or n_inf:
            out.append(f"{n_nan} nan, {n_inf} inf")
    return out


def bold(markup):
    return f"<B>{markup}</B>"


def small(markup, color=None):
    """Smaller (and optionally coloured) text; ``markup`` must already be escaped."""
    colour = f' COLOR="{color}"' if color else ""
    return f'<FONT POINT-SIZE="9"{colour}>{markup}</FONT>'


def lines(*parts):
    """Escaped pieces of markup, one per line (empty pieces are skipped)."""
    return "<BR/>".join(p for p in parts if p)


def html_label(markup):
    """Wrap markup as an HTML-like label: the graphviz package passes ``<...>`` through as is."""
    return f"<{markup}>"
