"""Layers of a Tensor graph drawn as their neurons: ``draw_graph(loss, expand=["layers.1"])``.

A layer ``activation(x @ weight + bias)`` is ``nout`` neurons side by side. An expanded layer is
drawn as one weighted-sum node (``z = x·w[:, j] + b[j]``) and one activation node per unit. The
numbers on them come from the layer's scalar twin (``nn.scalar.Layer``, one Value per number),
run on the batch the layer saw in the graph and sent, by backward, the gradient the Tensor graph
sent back to the layer's output: the values and gradients the Tensor graph holds, computed one
number at a time. A layer wider than ``FULL_WIDTH`` shows its first and last
``SHOWN_EACH_SIDE`` units and says how many are hidden.
"""

from dataclasses import dataclass

import numpy as np

from ..nn import Layer
from ..nn import scalar as scalar_nn
from ..nn.activations import activate
from ..scalar import Value
from .errors import VizError
from .labels import bold, escape, fmt, html_label, lines, small, summarize
from .plan import COLORS, GRAD_TEXT, WARNING_TEXT

__all__ = ["Unit", "ExpandedLayer", "shown_units", "unit_numbers", "check_expand",
           "plan_expansions", "add_neurons"]

FULL_WIDTH = 8
SHOWN_EACH_SIDE = 3


@dataclass
class Unit:
    """The numbers of one neuron of an expanded layer, from the scalar twin.

    ``z`` and ``a`` are the weighted sum and the activation for each example (shape
    ``(batch,)``, or ``()`` for a single example); ``z_grad`` and ``a_grad`` their gradients,
    ``bias``/``bias_grad`` the neuron's bias and its gradient, ``weight_grad`` the gradient of
    its weights ``w[:, index]`` (shape ``(nin,)``). Gradients are None before backward; the
    bias is None for a layer without one.
    """

    index: int
    z: np.ndarray
    a: np.ndarray
    z_grad: object = None
    a_grad: object = None
    bias: object = None
    bias_grad: object = None
    weight_grad: object = None


def shown_units(nout):
    """The units drawn for a layer of ``nout``: all of them, or the first and last few."""
    if nout <= FULL_WIDTH:
        return list(range(nout))
    return list(range(SHOWN_EACH_SIDE)) + list(range(nout - SHOWN_EACH_SIDE, nout))


def unit_numbers(layer, x, out_grad, units, prefix=""):
    """``Unit`` numbers for ``units`` of the Tensor ``nn.Layer`` ``layer``, computed by its
    scalar twin on the inputs ``x`` (a numpy array ``(batch, nin)`` or ``(nin,)``) and, when
    ``out_grad`` (the gradient of the layer's output, same leading shape) is given, by backward
    from it. ``prefix`` starts the twin's parameter labels (``"layers.1."``)."""
    twin = scalar_nn.Layer.from_tensor(layer, prefix)
    neurons = [twin.neurons[j] for j in units]
    rows = np.asarray(x, dtype=np.float64).reshape(-1, layer.nin)
    grads = None if out_grad is None else np.asarray(out_grad).reshape(len(rows), layer.nout)
    z, a = np.zeros((len(units), len(rows))), np.zeros((len(units), len(rows)))
    z_grad, a_grad = np.zeros_like(z), np.zeros_like(z)
    for r, row in enumerate(rows):
        xs = [Value(float(v), label=f"x[{i}]") for i, v in enumerate(row)]
        sums = [n.pre_activation(xs) for n in neurons]
        outs = [_activate(n, s) for n, s in zip(neurons, sums)]
        if grads is not None:
            # d(sum_j a_j * g_j) / d a_j = g_j: one backward sends each output the gradient the
            # Tensor graph sent it; the parameters add up their gradients over the examples.
            sum(o * float(grads[r, j]) for o, j in zip(outs, units)).backward()
        z[:, r], a[:, r] = [s.data for s in sums], [o.data for o in outs]
        z_grad[:, r], a_grad[:, r] = [s.grad for s in sums], [o.grad for o in outs]
    shape = () if np.ndim(x) == 1 else (len(rows),)
    result = []
    for k, (j, n) in enumerate(zip(units, neurons)):
        unit = Unit(j, z[k].reshape(shape), a[k].reshape(shape),
                    bias=None if n.b is None else n.b.data)
        if grads is not None:
            unit.z_grad, unit.a_grad = z_grad[k].reshape(shape), a_grad[k].reshape(shape)
            unit.bias_grad = None if n.b is None else n.b.grad
            unit.weight_grad = np.array([w.grad for w in n.w])
        result.append(unit)
    return result


def _activate(neuron, z):
    """The scalar neuron's output from its weighted sum ``z``, as ``nn.scalar.Neuron`` does."""
    if neuron.activation == "prelu":
        return z if z.data > 0 else z * neuron.prelu_weight
    return activate(z, neuron.activation, neuron.negative_slope)


@dataclass
class ExpandedLayer:
    """An ``nn.Layer`` of the graph to draw as neurons: its dotted ``name``, the scope ``path``
    ending at it, the indexes of the tensors it made or owns (``members``), the tensor it read
    (``source``) and the one it returned (``result``), and its drawn ``units``."""

    name: str
    module: Layer
    path: tuple
    members: set
    source: int
    result: int
    units: list


def check_expand(expand, root):
    """``expand`` as a tuple of module names; VizError for anything else, and for a Value
    graph (it already has one node per number)."""
    if isinstance(expand, str):
        expand = (expand,)
    if not isinstance(expand, (list, tuple)) or not all(isinstance(n, str) for n in expand):
        raise VizError(f"draw_graph: expand must be a list of layer names such as "
                       f"['layers.1'], got {expand!r}")
    if expand and isinstance(root, Value):
        raise VizError("draw_graph: expand is for Tensor graphs; a Value graph already draws "
                       "every neuron, one node per number")
    return tuple(expand)


def plan_expansions(expand, tensors, edges, modules, root):
    """An ``ExpandedLayer`` for each name in ``expand`` (module names, as ``named_modules()``
    gives them: ``"layers.1"``), in forward order.

    Raises VizError for a name that is not a module of the graph, a module that is not an
    ``nn.Layer``, or a layer that was not called exactly once in the graph.
    """
    by_name = {modules.module_name.get(id(path[-1])): path for path in modules.path_of.values()}
    expanded = []
    for name in expand:
        path = by_name.get(name)
        if path is None:
            known = sorted(n for n, p in by_name.items() if n and isinstance(p[-1], Layer))
            raise VizError(f"draw_graph: expand: no module named {name!r} made this graph; the "
                           f"layers it can draw as neurons are {known}")
        module = path[-1]
        if not isinstance(module, Layer):
            raise VizError(f"draw_graph: expand: {name!r} is a {type(module).__name__}; only "
                           "nn.Layer modules (activation(x @ weight + bias)) can be drawn as "
                           "neurons")
        members = {i for i, t in enumerate(tensors)
                   if any(m is module for m in modules.path(t))}
        sources = sorted({p for p, c, _ in edges if c in members and p not in members})
        results = sorted({p for p, c, _ in edges if p in members and c not in members}
                         | {i for i in members if tensors[i] is root})
        if len(sources) != 1 or len(results) != 1:
            raise VizError(f"draw_graph: expand: {name!r} reads {len(sources)} and returns "
                           f"{len(results)} tensors in this graph; a layer drawn as neurons "
                           "must be called once")
        expanded.append(ExpandedLayer(name, module, path, members, sources[0], results[0],
                                      shown_units(module.nout)))
    # In forward order, so a layer's input is drawn before the layer that reads it.
    return sorted(expanded, key=lambda layer: layer.result)


def add_neurons(drawing, layer, tensors, cluster, *, show_data, show_grad, backward,
                is_output):
    """Draw ``layer`` (an ``ExpandedLayer``) in ``cluster``. Returns ``(sums, outs, hidden)``:
    the names of its weighted-sum nodes and of its output nodes (the activations; the sums
    themselves for a layer without activation), both including, when units are hidden, the
    nodes that say how many, whose names are the set ``hidden``."""
    result = tensors[layer.result]
    grad = None if result.grad is None else result.grad.numpy()
    units = unit_numbers(layer.module, tensors[layer.source].numpy(), grad, layer.units,
                         f"{layer.name}.")
    activation = layer.module.activation
    prefix = f"n{len(drawing.nodes)}_"
    fill = COLORS["output"] if is_output else COLORS["intermediate"]
    sums, outs, hidden = [], [], set()
    n_hidden = layer.module.nout - len(units)
    for position, unit in enumerate(units):
        if n_hidden and position == SHOWN_EACH_SIDE:
            # Drawn like a unit (a sum, then an activation), so the layout keeps it in the
            # middle of the column, between the first and the last units.
            sums.append(_more_units(drawing, f"{prefix}hidden_z", cluster,
                                    f"\u22ee {n_hidden} more units \u22ee"))
            outs.append(sums[-1] if activation is None else
                        _more_units(drawing, f"{prefix}hidden_a", cluster, "\u22ee"))
            hidden.update((sums[-1], outs[-1]))
            if activation is not None:
                drawing.edge(sums[-1], outs[-1], style="dashed", arrowhead="none")
        sums.append(f"{prefix}z{unit.index}")
        drawing.node(sums[-1], _sum_label(unit, show_data, show_grad, backward), cluster,
                     fillcolor=fill if activation is None else COLORS["intermediate"])
        if activation is None:
            outs.append(sums[-1])
            continue
        outs.append(f"{prefix}a{unit.index}")
        label, unit_fill = _activation_label(unit, activation, show_data, show_grad, backward,
                                             fill)
        drawing.node(outs[-1], label, cluster, fillcolor=unit_fill)
        drawing.edge(sums[-1], outs[-1])
    return sums, outs, hidden


def _more_units(drawing, name, cluster, text):
    drawing.node(name, html_label(small(escape(text))), cluster, shape="plaintext", style="")
    return name


def _sum_label(unit, show_data, show_grad, backward):
    j = unit.index
    title = lines(bold(escape(f"unit {j}: \u03a3")), small(escape(f"z = x\u00b7w[:,{j}] + b[{j}]")))
    body = _number_lines(unit.z, unit.z_grad, show_data, show_grad, backward)
    if unit.bias is not None and (show_data or show_grad):
        text = f"b[{j}] {fmt(unit.bias)}" if show_data else f"b[{j}]"
        if show_grad and unit.bias_grad is not None:
            text += f"  grad {fmt(unit.bias_grad)}"
        body.append(small(escape(text)))
    return html_label(lines(title, *body))


def _activation_label(unit, activation, show_data, show_grad, backward, fill):
    title = lines(bold(escape(activation)), small(escape(f"a = {activation}(z), unit "
                                                         f"{unit.index}")))
    body = _number_lines(unit.a, unit.a_grad, show_data, show_grad, backward)
    if activation in ("relu", "leaky_relu", "prelu") and np.all(unit.z <= 0):
        # As on Tensor graphs: a ReLU unit with z <= 0 for every example is dead (no output,
        # no gradient); a leaky one only sees its small negative slope.
        dead = activation == "relu"
        body.append(small("dead" if dead else "all-negative", WARNING_TEXT if dead else None))
        if dead:
            fill = COLORS["dead"]
    return html_label(lines(title, *body)), fill


def _number_lines(values, grad, show_data, show_grad, backward):
    data = [escape(s) for s in summarize(values)] if show_data else []
    grads = []
    if show_grad and grad is not None:
        grads = [f'<FONT COLOR="{GRAD_TEXT}">{"grad " if k == 0 else ""}{escape(s)}</FONT>'
                 for k, s in enumerate(summarize(grad))]
    return grads + [small(s) for s in data] if backward else data + grads
