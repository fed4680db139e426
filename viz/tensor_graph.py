"""Drawing of a ``Tensor`` graph: one node per tensor, grouped by the nn module that made it.

Each node shows what made the tensor (its op, or its name for inputs and parameters), its shape
and dtype, a summary of its values and, after backward, of its gradient. ReLU nodes also show
the fraction of dead units in the drawn batch. Layers named in ``expand`` are drawn as their
neurons (``neurons.py``); the node ``highlight`` names is marked (``highlight.py``).
"""

import numpy as np

from ..nn.activations import RELU_FAMILY
from ..tensor import Tensor
from .highlight import BORDER, find_highlight
from .labels import bold, escape, html_label, lines, small, summarize
from .modules import ModuleNames
from .neurons import add_neurons, plan_expansions
from .plan import (COLORS, DEAD_WARNING, GRAD_TEXT, WARNING_TEXT, Drawing, check_size,
                   param_names)
from .walk import collect

__all__ = ["tensor_drawing"]


def tensor_drawing(root, *, show_data, show_grad, params, group_modules, max_nodes, backward,
                   highlight=None, expand=()):
    """A ``Drawing`` of every tensor that ``root`` depends on (see ``draw_graph``)."""
    tensors, edges = collect(root, lambda t: t.inputs)
    modules = ModuleNames(tensors)
    names = dict(modules.param_name)
    names.update(param_names(params, (Tensor,)))
    mark = find_highlight(highlight, tensors)
    expanded = plan_expansions(expand, tensors, edges, modules, root)
    inside = {i: layer for layer in expanded for i in layer.members}
    paths = [modules.path(t) if group_modules else () for t in tensors]
    # In "collapse" mode each module directly inside the outermost one becomes one node.
    groups = [p[:2] if group_modules == "collapse" and p and i not in inside else None
              for i, p in enumerate(paths)]
    # Per unit drawn, and for the hidden ones together: a weighted sum, and an activation.
    neuron_nodes = sum((len(layer.units) + (len(layer.units) < layer.module.nout))
                       * (1 + (layer.module.activation is not None)) for layer in expanded)
    count = (len({g for g in groups if g is not None}) + neuron_nodes
             + sum(1 for i, g in enumerate(groups) if g is None and i not in inside))
    hint = f"Pass max_nodes={count} or more to draw it anyway"
    if group_modules != "collapse" and any(paths):
        hint += ", or group_modules='collapse' to draw each layer as one node"
    check_size(count, max_nodes, hint + ".")

    drawing = Drawing()
    node_id, group_id, members, clusters = {}, {}, {}, {}
    for i, t in enumerate(tensors):
        if i in inside:
            continue
        if groups[i] is not None:
            node_id[i] = group_id.setdefault(groups[i], f"g{len(group_id)}")
            members.setdefault(groups[i], []).append(i)
            continue
        node_id[i] = f"t{i}"
        clusters[i] = _add_clusters(drawing, modules, paths[i])
        role = _role(t, root, names)
        marked = mark is not None and mark.target is t
        label, fill = _tensor_label(t, _title(t, names), show_data, show_grad, backward,
                                    COLORS[role], mark.lines if marked else ())
        drawing.node(node_id[i], label, clusters[i], **_fill(fill, marked))
    for key, indexes in members.items():
        group = [tensors[i] for i in indexes]
        marked = mark is not None and any(t is mark.target for t in group)
        _add_group(drawing, modules, key, group, root, show_data, show_grad, backward,
                   node_id[indexes[0]], mark.lines if marked else None)
    _add_edges(drawing, tensors, [e for e in edges if e[0] not in inside and e[1] not in inside],
               node_id, clusters, lambda i: _role(tensors[i], root, names) == "parameter")
    _add_expanded(drawing, expanded, tensors, edges, modules, node_id, inside, root, mark,
                  bool(group_modules), show_data=show_data, show_grad=show_grad,
                  backward=backward)
    return drawing


def _add_expanded(drawing, expanded, tensors, edges, modules, node_id, inside, root, mark,
                  in_clusters, **options):
    """Draw each expanded layer as its neurons, in a cluster of its own, and wire it: every
    weighted sum reads the node(s) of the layer's input, every output feeds its consumers."""
    outputs = {}   # result tensor index -> (names of the output nodes, hidden units nodes)
    for layer in expanded:
        path = layer.path[:-1] if in_clusters else ()
        parent = _add_clusters(drawing, modules, path)
        hidden = layer.module.nout - len(layer.units)
        label = [bold(escape(modules.describe(layer.module))),
                 small(escape(f"{layer.module.nout} neurons" + (
                     f": {len(layer.units)} drawn, {hidden} hidden" if hidden else "")))]
        if mark is not None and any(tensors[i] is mark.target for i in layer.members):
            label += mark.lines or [small(bold("the marked node is in this layer"),
                                          WARNING_TEXT)]
        key = ("neurons", id(layer.module))
        drawing.cluster(key, html_label(lines(*label)), parent)
        sums, outs, hidden_nodes = add_neurons(
            drawing, layer, tensors, key, is_output=tensors[layer.result] is root, **options)
        outputs[layer.result] = (outs, hidden_nodes)
        if layer.source in outputs:    # the output of an expanded layer just before
            sources, source_hidden = outputs[layer.source]
        else:
            sources, source_hidden = [node_id[layer.source]], set()
        for tail in sources:
            for head in sums:
                _edge(drawing, tail, head, source_hidden | hidden_nodes)
    for result, (outs, hidden_nodes) in outputs.items():
        consumers = dict.fromkeys(node_id[c] for p, c, _ in edges
                                  if p == result and c not in inside)
        for tail in outs:
            for head in consumers:
                _edge(drawing, tail, head, hidden_nodes)


def _edge(drawing, tail, head, hidden_nodes):
    """An edge; dashed, without arrow, when it touches a "more units" node."""
    if tail in hidden_nodes or head in hidden_nodes:
        drawing.edge(tail, head, style="dashed", arrowhead="none")
    else:
        drawing.edge(tail, head)


def _fill(fill, marked):
    return {"fillcolor": COLORS["highlight"], **BORDER} if marked else {"fillcolor": fill}


def _add_edges(drawing, tensors, edges, node_id, clusters, is_parameter):
    """One edge per pair of drawn nodes; parameters placed beside the op that uses them."""
    consumers = {}
    for parent, child, _ in edges:
        consumers.setdefault(parent, set()).add(child)
    seen, side_inputs = set(), {}
    for parent, child, _ in edges:
        tail, head = node_id[parent], node_id[child]
        if tail == head or (tail, head) in seen:
            continue
        seen.add((tail, head))
        drawing.edge(tail, head)
        if (len(consumers[parent]) == 1 and parent in clusters and child in clusters
                and clusters[parent] == clusters[child] and is_parameter(parent)):
            side_inputs.setdefault(child, []).append(parent)
    # A layer's weight and bias sit beside the op that uses them, not a rank before it: each
    # layer then takes one rank and an MLP reads left to right instead of as a staircase.
    for child, parents in side_inputs.items():
        drawing.same_rank(clusters[child], [node_id[child]] + [node_id[p] for p in parents])


def _add_group(drawing, modules, key, group, root, show_data, show_grad, backward, name,
               highlight_lines=None):
    """One node standing for all that module ``key[-1]`` made (group_modules="collapse");
    ``highlight_lines`` (a list, possibly empty) marks it."""
    cluster = _add_clusters(drawing, modules, key[:-1])
    role = "output" if any(t is root for t in group) else "intermediate"
    n_ops = sum(1 for t in group if not t.is_leaf)
    n_params = len(group) - n_ops
    title = lines(bold(escape(modules.describe(key[-1]))),
                  small(f"{n_ops} op{'s' * (n_ops != 1)}, "
                        f"{n_params} parameter{'s' * (n_params != 1)}"))
    label, fill = _tensor_label(group[-1], title, show_data, show_grad, backward, COLORS[role],
                                highlight_lines or ())
    drawing.node(name, label, cluster, **_fill(fill, highlight_lines is not None))


def _add_clusters(drawing, modules, path):
    """Add the nested clusters for ``path`` (outermost first) and return the innermost key."""
    key = None
    for depth in range(len(path)):
        parent, key = key, tuple(id(m) for m in path[:depth + 1])
        drawing.cluster(key, html_label(bold(escape(modules.describe(path[depth])))), parent)
    return key


def _role(t, root, names):
    if t is root:
        return "output"
    if not t.is_leaf:
        return "intermediate"
    return "parameter" if t.requires_grad or id(t) in names else "input"


def _title(t, names):
    """Bold first line: a parameter's name, the tensor's label, or what made it."""
    if id(t) in names:
        return bold(escape(names[id(t)]))
    if t.is_leaf:
        if t.label:
            return bold(escape(t.label))
        if t.requires_grad:
            return "leaf (requires grad)"
        return "constant" if t.numel() == 1 else "input"
    op = t.op
    # A fused op names the activation it applies: "linear_act (relu)".
    activation = t.grad_fn.details().get("activation")
    if activation is not None and activation != op:
        op = f"{op} ({activation})"
    return lines(bold(escape(t.label)), small(escape(op))) if t.label else bold(escape(op))


def _tensor_label(t, title, show_data, show_grad, backward, fill, extra_lines=()):
    """The node's HTML label, ending with ``extra_lines``, and fill colour (the warning colour
    for many dead ReLUs)."""
    kind = f"{t.shape} {t.dtype}" if t.ndim else f"scalar {t.dtype}"
    data = [escape(s) for s in summarize(t.numpy())] if show_data else []
    grad = _grad_lines(t, backward) if show_grad else []
    body = grad + [small(s) for s in data] if backward else data + grad
    dead = _dead_units(t)
    extra = []
    if dead is not None:
        name, n_dead, n_units = dead
        share = n_dead / n_units
        warn = name == "relu" and share > DEAD_WARNING
        word = "dead" if name == "relu" else "all-negative"
        extra.append(small(f"{word} {100 * share:.0f}% ({n_dead}/{n_units} units)",
                           WARNING_TEXT if warn else None))
        if warn:
            fill = COLORS["dead"]
    return html_label(lines(title, small(escape(kind)), *body, *extra, *extra_lines)), fill


def _grad_lines(t, backward):
    if t.grad is None:
        if not backward:
            return []
        return [small("grad: none yet" if t.requires_grad else "no grad", GRAD_TEXT)]
    parts = summarize(t.grad.numpy())
    return [f'<FONT COLOR="{GRAD_TEXT}">{"grad " if k == 0 else ""}{escape(s)}</FONT>'
            for k, s in enumerate(parts)]


def _dead_units(t):
    """``(activation, dead, units)`` when ``t.grad_fn.details()`` names a ReLU-family
    activation and its pre-activation, else None.

    A unit (an entry of the last axis) is dead in the drawn batch when its pre-activation is
    <= 0 for every example: ReLU then outputs 0 and passes back no gradient. For a leaky ReLU
    the same count says how many units only see the small negative slope.
    """
    if t.grad_fn is None:
        return None
    details = t.grad_fn.details()
    name, pre = details.get("activation"), details.get("preactivation")
    if name not in RELU_FAMILY or pre is None:
        return None
    pre = pre.numpy()
    if pre.size == 0:
        return None
    per_unit = (pre <= 0).reshape(-1, pre.shape[-1] if pre.ndim else 1).all(axis=0)
    return name, int(np.count_nonzero(per_unit)), per_unit.size
