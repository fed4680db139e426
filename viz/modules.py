"""Which nn module made each tensor: cluster paths, module and parameter names.

Every tensor an op creates has a ``scope``, the tuple of modules whose forward was running
(outermost first). The outermost module of each scope knows the dotted names of its submodules
(``named_modules()``) and parameters (``named_parameters()``), so names come for free.
Parameters are created in ``__init__``, outside any forward: they are placed in the cluster of
the module that owns them, found from their dotted name.
"""

__all__ = ["ModuleNames"]


class ModuleNames:
    """Names of the modules in the tensors' scopes and of their parameters."""

    def __init__(self, tensors):
        self.module_name = {}     # id(module) -> dotted name ("" for an outermost module)
        self.param_name = {}      # id(parameter) -> dotted name
        self.param_owner = {}     # id(parameter) -> owning module
        self.path_of = {}         # id(module) -> scope path ending at that module
        for t in tensors:
            for depth in range(len(t.scope)):
                path = t.scope[:depth + 1]
                self.path_of.setdefault(id(path[-1]), path)
        for path in list(self.path_of.values()):
            if len(path) == 1:
                self._add_outermost(path[0])

    def _add_outermost(self, module):
        by_name = {}
        for name, sub in getattr(module, "named_modules", lambda: [("", module)])():
            self.module_name.setdefault(id(sub), name)
            by_name[name] = sub
        for name, param in getattr(module, "named_parameters", lambda: [])():
            self.param_name.setdefault(id(param), name)
            owner = by_name.get(name.rpartition(".")[0])
            if owner is not None:
                self.param_owner.setdefault(id(param), owner)

    def path(self, tensor):
        """The scope path whose cluster ``tensor`` belongs in (() for none)."""
        owner = self.param_owner.get(id(tensor))
        if tensor.scope or owner is None:
            return tensor.scope
        return self.path_of.get(id(owner), ())

    def describe(self, module):
        """``layers.0 (Layer 128→256, relu)``; an outermost module reads ``MLP 128→…→1``."""
        kind = type(module).__name__
        extra = getattr(module, "extra_repr", lambda: "")()
        what = f"{kind} {extra}" if extra else kind
        name = self.module_name.get(id(module))
        return f"{name} ({what})" if name else what
