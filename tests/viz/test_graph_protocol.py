"""The public graph protocol (documented in ``tinygrad_edu.graph``) is all that the drawings and
the diagnostics read: a static check that they touch no engine internals, and checks that what a
drawing shows is what the protocol gives, for Tensor and Value graphs."""

import ast
import importlib.util
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Function, Tensor, Value, manual_seed, nn
from tinygrad_edu.graph import topological_order
from tinygrad_edu.viz import draw_graph
from tinygrad_edu.viz.labels import fmt
from tinygrad_edu.viz.plan import COLORS
from viz_dot import Dot

ROOT = Path(__file__).resolve().parents[2]
# Each checked file with the package it is installed in (to resolve its relative imports).
PROTOCOL_READERS = ([(path, "tinygrad_edu.viz") for path in sorted((ROOT / "viz").glob("*.py"))]
                    + [(ROOT / "tinygrad_edu" / "check" / "diagnostics.py",
                        "tinygrad_edu.check")])
# Modules that hold the engine's op classes: importing one is how internals creep back in
# (``isinstance(ctx, primitives.LinearAct)``).
ENGINE_INTERNALS = {"tinygrad_edu.tensor.primitives", "tinygrad_edu.tensor.autodiff"}
_ATTRIBUTE_CALLS = ("getattr", "hasattr", "setattr", "delattr")


def private_accesses(source, filename="<string>"):
    """``"file:line: code"`` for each access to an attribute named ``_x`` (not a dunder) of
    anything but ``self``, ``cls`` or a module bound by a plain ``import`` (``sys._getframe``).

    Names bound by ``from ... import`` do not count as modules: they are usually classes
    (``Tensor._wrap`` is as internal as ``t._ctx``). ``getattr(t, "_ctx")`` counts too.
    """
    tree = ast.parse(source, filename)
    allowed = {"self", "cls"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            allowed.update(alias.asname or alias.name.partition(".")[0] for alias in node.names)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner, name = node.value, node.attr
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in _ATTRIBUTE_CALLS and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            owner, name = node.args[0], node.args[1].value
        else:
            continue
        if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
            continue
        if isinstance(owner, ast.Name) and owner.id in allowed:
            continue
        found.append((node.lineno, node.col_offset, ast.unparse(node)))
    return [f"{filename}:{line}: {code}" for line, _, code in sorted(found)]


def imported_modules(source, package):
    """Absolute names of the modules (and of the names in them) that ``source`` imports."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def test_the_check_flags_internals_and_allows_self_modules_and_dunders():
    old_style = (
        "import sys\n"
        "from tinygrad_edu.tensor import Tensor\n"
        "def dead_units(t, v):\n"
        "    ctx = t._ctx\n"
        "    pre = t._device.backend.to_numpy(ctx.preactivation)\n"
        "    return v._prev, getattr(ctx, '_saved', None), Tensor._wrap\n"
        "class Monitor:\n"
        "    def frame(self):\n"
        "        return sys._getframe(1), self._watched, type(self).__name__, self.__doc__\n")
    assert private_accesses(old_style, "old.py") == [
        "old.py:4: t._ctx", "old.py:5: t._device", "old.py:6: v._prev",
        "old.py:6: getattr(ctx, '_saved', None)", "old.py:6: Tensor._wrap"]


@pytest.mark.parametrize("path, package", PROTOCOL_READERS, ids=lambda p: getattr(p, "name", p))
def test_drawings_and_diagnostics_read_no_engine_internals(path, package):
    source = path.read_text(encoding="utf-8")
    name = str(path.relative_to(ROOT))
    found = private_accesses(source, name)
    assert not found, ("these read engine internals; use the graph protocol of "
                       "tinygrad_edu.graph instead:\n" + "\n".join(found))
    internals = sorted(ENGINE_INTERNALS.intersection(imported_modules(source, package)))
    assert not internals, f"{name} imports engine internals {internals}"


def _same(tensors, others):
    """Same tensors in the same order (``==`` on Tensors compares elementwise)."""
    return len(tensors) == len(others) and all(a is b for a, b in zip(tensors, others))


def _title(t, param_names):
    """The bold first line the drawing gives ``t``, derived from the protocol alone."""
    if t.grad_fn is None:
        if id(t) in param_names:
            return param_names[id(t)]
        return "constant" if t.numel() == 1 else "input"
    activation = t.grad_fn.details().get("activation")
    return t.op if activation in (None, t.op) else f"{t.op} ({activation})"


def _drawn_title(attrs):
    m = re.match(r"label=<(?:<B>(.*?)</B>|([^<]*))<BR/>", attrs)
    return m.group(1) or m.group(2)


def _dead_text(attrs):
    m = re.search(r"(?:dead|all-negative) \d+% \(\d+/\d+ units\)", attrs)
    return m.group(0) if m else None


def test_a_tensor_mlp_drawing_shows_what_the_protocol_gives():
    manual_seed(0)
    model = nn.MLP(4, [6, 5], 2)
    x = Tensor(np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32))
    loss = (model(x) ** 2).mean()
    loss.backward()
    graph = topological_order(loss, lambda t: t.inputs)
    ops = [t for t in graph if t.grad_fn is not None]
    assert all(t.op == t.grad_fn.op and _same(t.inputs, t.grad_fn.inputs) for t in ops)
    assert all(t.op == "" and t.inputs == () and t.is_leaf for t in graph if t.grad_fn is None)
    fused = [t for t in ops if t.op == "linear_act"]
    assert [t.grad_fn.details()["activation"] for t in fused] == ["relu", "relu", "identity"]
    assert [[type(m).__name__ for m in t.scope] for t in fused] == [["MLP", "Layer"]] * 3
    assert all(t.scope[0] is model for t in fused)

    dot = Dot(draw_graph(loss).source)
    names = {id(p): name for name, p in model.named_parameters()}
    title_of = {name: _drawn_title(attrs) for name, attrs in dot.nodes.items()}
    assert Counter(title_of.values()) == Counter(_title(t, names) for t in graph)
    pairs = {(id(i), id(t)): (_title(i, names), _title(t, names)) for t in ops for i in t.inputs}
    assert (Counter((title_of[tail], title_of[head]) for tail, head, _ in dot.edges)
            == Counter(pairs.values()))
    assert len(dot.clusters) == len({id(m) for t in graph for m in t.scope})

    expected_dead = []
    for t in fused[:2]:
        pre = t.grad_fn.details()["preactivation"].numpy()
        dead = int(np.all(pre <= 0, axis=0).sum())
        expected_dead.append(f"dead {100 * dead / pre.shape[-1]:.0f}% ({dead}/{pre.shape[-1]} "
                             "units)")
    drawn_dead = [_dead_text(attrs) for attrs in dot.nodes.values()]
    assert Counter(d for d in drawn_dead if d) == Counter(expected_dead)


class ClippedRelu(Function):
    """relu as a clip at 0, keeping its input under a name no drawing knows (drawn, never
    differentiated here, so it has no backward)."""
    op = "clipped_relu"

    def forward(self, a):
        self.kept = a
        return self.backend.clip(a, 0.0, None)

    def details(self):
        return {"activation": "relu", "preactivation": Tensor(self.backend.to_numpy(self.kept))}


def test_a_new_op_is_drawn_from_what_its_details_show():
    x = Tensor([[-0.5, 2.0], [-0.8, 1.0]], requires_grad=True)
    y = ClippedRelu.apply(x)
    assert (y.op, y.grad_fn.details()["activation"]) == ("clipped_relu", "relu")
    assert _same(y.inputs, (x,))
    dot = Dot(draw_graph(y.sum()).source)
    node = dot.one("<B>clipped_relu (relu)</B>")
    assert "dead 50% (1/2 units)" in dot.nodes[node]
    assert dot.fill(node) == COLORS["dead"]


def test_a_value_drawing_shows_ops_and_local_derivatives_from_the_protocol():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b + a
    c.backward()
    product = c.inputs[0]
    assert (c.op, product.op, a.op, b.op) == ("+", "*", "", "")
    # Value's == is identity, so tuples of Values compare node by node.
    assert c.inputs == (product, a) and product.inputs == (a, b) and a.inputs == ()
    assert c.local_grads == (1.0, 1.0) and product.local_grads == (b.data, a.data) == (-3.0, 2.0)
    assert (a.grad, b.grad) == (-3.0 + 1.0, 2.0)

    graph = topological_order(c, lambda v: v.inputs)
    dot = Dot(draw_graph(c).source)
    drawn_ops = [re.match(r"label=<([^<>]*)>", attrs).group(1) for attrs in dot.nodes.values()
                 if "shape=ellipse" in attrs]
    assert Counter(drawn_ops) == Counter(v.op for v in graph if v.inputs)
    drawn_locals = [re.search("\u2202 ([^<]*)<", attrs).group(1) for _, _, attrs in dot.edges
                    if attrs]
    assert Counter(drawn_locals) == Counter(fmt(g) for v in graph for g in v.local_grads)
