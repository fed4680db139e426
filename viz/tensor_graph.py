"""Drawing of a ``Tensor`` graph: one node per tensor, grouped by the nn module that made it.

Each node shows what made the tensor (its op, or its name for inputs and parameters), its shape
and dtype, a summary of its values and, after backward, of its gradient. ReLU nodes also show
the fraction of dead units in the drawn batch.
"""

import numpy as np

from ..nn.activations import RELU_FAMILY
from ..tensor import Tensor
from .labels import bold, escape, html_label, lines, small, summarize
from .modules import ModuleNames
from .plan import (COLORS, DEAD_WARNING, GRAD_TEXT, WARNING_TEXT, Drawing, check_size,
                   param_names)
from .walk import collect

__all__ = ["tensor_drawing"]


def tensor_drawing(root, *, show_data, show_grad, params, group_modules, max_nodes, backward):
    """A ``Drawing`` of every tensor that ``root`` depends on (see ``draw_graph``)."""
    tensors, edges = collect(root, lambda t: t.inputs)
    modules = ModuleNames(tensors)
    names = dict(modules.param_name)
    names.update(param_names(params, (Tensor,)))
    paths = [modules.path(t) if group_modules else () for t in tensors]
    # In "collapse" mode each module directly inside the outermost one becomes one node.
    groups = [p[:2] if group_modules == "collapse" and p else None for p in paths]
    count = len({g for g in groups if g is not None}) + groups.count(None)
    hint = f"Pass max_nodes={count} or more to draw it anyway"
    if group_modules != "collapse" and any(paths):
        hint += ", or group_modules='collapse' to draw each layer as one node"
    check_size(count, max_nodes, hint + ".")

    drawing = Drawing()
    node_id, group_id, members, clusters = {}, {}, {}, {}
    for i, t in enumerate(tensors):
        if groups[i] is not None:
            node_id[i] = group_id.setdefault(groups[i], f"g{len(group_id)}")
            members.setdefault(groups[i], []).append(i)
            continue
        node_id[i] = f"t{i}"
        clusters[i] = _add_clusters(drawing, modules, paths[i])
        role = _role(t, root, names)
        label, fill = _tensor_label(t, _title(t, names), show_data, show_grad, backward,
                                    COLORS[role])
        drawing.node(node_id[i], label, clusters[i], fillcolor=fill)
    for key, indexes in members.items():
        _add_group(drawing, modules, key, [tensors[i] for i in indexes], root, show_data,
                   show_grad, backward, node_id[indexes[0]])
    _add_edges(drawing, tensors, edges, node_id, clusters,
               lambda i: _role(tensors[i], root, names) == "parameter")
    return drawing


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


def _add_group(drawing, modules, key, group, root, show_data, show_grad, backward, name):
    """One node standing for all that module ``key[-1]`` made (group_modules="collapse")."""
    cluster = _add_clusters(drawing, modules, key[:-1])
    role = "output" if any(t is root for t in group) else "intermediate"
    n_ops = sum(1 for t in group if not t.is_leaf)
    n_params = len(group) - n_ops
    title = lines(bold(escape(modules.describe(key[-1]))),
                  small(f"{n_ops} op{'s' * (n_ops != 1)}, "
                        f"{n_params} parameter{'s' * (n_params != 1)}"))
    label, fill = _tensor_label(group[-1], title, show_data, show_grad, backward, COLORS[role])
    drawing.node(name, label, cluster, fillcolor=fill)


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


def _tensor_label(t, title, show_data, show_grad, backward, fill):
    """The node's HTML label and fill colour (the warning colour for many dead ReLUs)."""
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
    return html_label(lines(title, small(escape(kind)), *body, *extra)), fill


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
