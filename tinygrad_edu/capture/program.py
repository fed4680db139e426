"""A recording turned into a replay program: one straight-line Python function.

``build`` writes the recorded calls as Python source, one line per backend call, and compiles
it: arguments are local variables (the step's input arrays, intermediates) or names bound once
(parameters' arrays, constants, the backends' bound methods), so a replay runs no Tensor, no
Function, no graph and no argument check, only the backend calls. ``CapturedStep.code`` shows
the source, which reads as the step's computation written out by hand.

Two things make it leaner than the recording:

- Constant folding: a call that only reads constants and writes nothing (``asarray`` of a
  Python number, the ones that seed backward) is not run again; its recorded result is
  reused, unless something writes into that result or it leaves the step (then it is made
  fresh every time, as the eager step does).
- An intermediate is dropped (``del``) right after its last use, so its memory is free for the
  next allocation instead of lingering until the next replay.
"""

import math

from .tape import writes

__all__ = ["build"]

# Backend methods whose result may share memory with an argument.
_VIEWS = frozenset({"reshape", "transpose", "broadcast_to", "getitem"})


def _leaves(spec):
    """The array specs inside ``spec`` (tuples and lists opened)."""
    if spec[0] in ("tuple", "list"):
        for s in spec[1]:
            yield from _leaves(s)
    elif spec[0] != "c":
        yield spec


def _made(outputs):
    """Value numbers in an entry's ``outputs``."""
    if isinstance(outputs, tuple):
        for o in outputs:
            yield from _made(o)
    elif outputs is not None:
        yield outputs


def _entry_specs(entry):
    return list(entry.args) + [v for _, v in entry.kwargs]


def _folded(entries, escaping):
    """Value numbers whose recorded arrays the replay may reuse (see the module docstring)."""
    written = set(escaping)
    for entry in entries:
        specs = _entry_specs(entry)
        positions = range(len(specs)) if entry.kind == "host" else writes(entry.method,
                                                                          len(entry.args))
        for i in positions:
            written.update(s[1] for s in _leaves(specs[i]) if s[0] == "tmp")
    # An array a written or escaping one may be a view of must be made afresh too.
    for entry in reversed(entries):
        if entry.method in _VIEWS and any(n in written for n in _made(entry.outputs)):
            for spec in entry.args + tuple(v for _, v in entry.kwargs):
                written.update(s[1] for s in _leaves(spec) if s[0] == "tmp")
    folded = set()
    for entry in entries:
        made = list(_made(entry.outputs))
        if entry.kind != "call" or writes(entry.method, len(entry.args)) or not made:
            continue
        deps = [s for spec in _entry_specs(entry) for s in _leaves(spec)]
        if all(s[0] == "tmp" and s[1] in folded for s in deps) and not written.intersection(made):
            folded.update(made)
    return folded


class _Names:
    """Names bound once in the replay's closure: ``name(obj, prefix)`` gives each object one."""

    def __init__(self):
        self.env, self._ids = {}, {}

    def name(self, obj, prefix):
        key = (prefix, id(obj))
        if key not in self._ids:
            self._ids[key] = f"{prefix}{len(self._ids)}"
            self.env[self._ids[key]] = obj
        return self._ids[key]


def _literal(value):
    if type(value) in (int, bool, str) or value is None:
        return repr(value)
    if type(value) is float and math.isfinite(value):
        return repr(value)   # repr of a float reads back as the same float
    return None


def build(rec, n_inputs, single, outputs, bindings, marks, wrap, mark_written):
    """The replay function of recording ``rec`` and its source.

    ``outputs``: (spec, device) of each tensor the step returns (``single``: it returns one
    Tensor, not a tuple); ``bindings``: (tensor, value number, device) for each tensor whose
    ``.grad`` the step sets to a new array; ``marks``: tensors the step writes in place.
    """
    out_list = list(outputs)
    escaping = {s[1] for s, _ in out_list if s[0] == "tmp"} | {n for _, n, _ in bindings}
    folded = _folded(rec.entries, escaping)
    names = _Names()
    last_use = {}
    for i, entry in enumerate(rec.entries):
        for spec in _entry_specs(entry):
            for s in _leaves(spec):
                if s[0] == "tmp":
                    last_use[s[1]] = i
    used = set(last_use) | escaping

    def render(spec):
        kind = spec[0]
        if kind == "in":
            return f"i{spec[1]}"
        if kind == "tmp":
            n = spec[1]
            return names.name(rec.values[n], "k") if n in folded else f"t{n}"
        if kind == "p":
            return names.name(rec.arrays[spec[1]], "p")
        if kind == "c":
            return _literal(spec[1]) or names.name(spec[1], "c")
        inner = ", ".join(render(s) for s in spec[1])
        return f"[{inner}]" if kind == "list" else f"({inner}{',' if len(spec[1]) == 1 else ''})"

    def target(outputs):
        if isinstance(outputs, tuple):
            return "(" + ", ".join(target(o) for o in outputs) + ("," if len(outputs) == 1
                                                                   else "") + ")"
        return f"t{outputs}" if outputs is not None and outputs in used else "_"

    body, methods = [], {}
    for i, entry in enumerate(rec.entries):
        if entry.kind == "call" and set(_made(entry.outputs)) & folded:
            continue
        args = [render(a) for a in entry.args] + [f"{k}={render(v)}" for k, v in entry.kwargs]
        if entry.kind == "host":
            fn = names.name(entry.fn, "h")
        else:
            key = (id(entry.backend), entry.method)
            if key not in methods:
                methods[key] = names.name(getattr(entry.backend, entry.method), "f")
            fn = methods[key]
        line = f"{fn}({', '.join(args)})"
        lhs = target(entry.outputs)
        body.append(f"{lhs} = {line}" if lhs.strip("(),_ ") else line)
        dead = sorted(n for n, at in last_use.items() if at == i and n not in escaping
                      and n not in folded)
        if dead:
            body.append("del " + ", ".join(f"t{n}" for n in dead))
    wrap_name, mark_name = names.name(wrap, "w"), names.name(mark_written, "m")
    for tensor, n, device in bindings:
        body.append(f"{names.name(tensor, 'g')}.grad = {wrap_name}({render(('tmp', n))}, "
                    f"{names.name(device, 'd')})")
    if marks:
        body.append(f"{mark_name}(*{names.name(tuple(marks), 'g')})")
    results = [f"{wrap_name}({render(s)}, {names.name(d, 'd')})" for s, d in out_list]
    body.append("return " + (results[0] if single else f"({', '.join(results)},)"))
    params = ", ".join(f"i{k}" for k in range(n_inputs))
    replay = f"def replay({params}):\n" + "".join(f"    {line}\n" for line in body)
    source = (f"def _make({', '.join(names.env)}):\n"
              + "".join(f"    {line}\n" for line in replay.splitlines()) + "    return replay\n")
    scope = {}
    exec(compile(source, "<captured step>", "exec"), scope)
    return scope["_make"](**names.env), replay
