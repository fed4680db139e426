"""Agreement with PyTorch, an independent implementation: random compositions of ops in float64
(forward values and every leaf's gradient), each op alone, and the edge cases where conventions
could differ (ties, kinks, clip bounds, pow at 0, extreme inputs, 0-d tensors, indices and
integers)."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, Value, cat, linear_act, stack, where
from tinygrad_edu.nn import functional as tgF

from shape_strategies import make_array

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = 1e-9  # the issue asks for 1e-6 or better; float64 rounding allows far tighter


def assert_close(ours, theirs, what):
    theirs = theirs.detach().numpy()
    ours = np.asarray(ours)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs torch {theirs.shape}"
    # Relative error, with an absolute floor far below the data's scale for entries that
    # cancel to nearly 0.
    floor = 1e-12 * max(1.0, float(np.abs(theirs).max(initial=0)))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=floor, err_msg=what)


# Elementwise ops: name -> (ours, torch's). Inputs of log, sqrt, pow and reciprocal are made
# positive inside the op (x * x + 0.5) so compositions stay in their domains.
def _pos(x):
    return x * x + 0.5


UNARY = {
    "neg": (lambda x: -x, lambda t: -t),
    "exp": (lambda x: x.exp(), torch.exp),
    "log": (lambda x: _pos(x).log(), lambda t: _pos(t).log()),
    "sqrt": (lambda x: _pos(x).sqrt(), lambda t: _pos(t).sqrt()),
    "abs": (lambda x: x.abs(), torch.abs),
    "clip": (lambda x: x.clip(-1.0, 1.0), lambda t: t.clamp(-1.0, 1.0)),
    "relu": (lambda x: x.relu(), torch.relu),
    "leaky_relu": (lambda x: x.leaky_relu(0.1), lambda t: F.leaky_relu(t, 0.1)),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "tanh": (lambda x: x.tanh(), torch.tanh),
    "gelu": (lambda x: x.gelu(), F.gelu),
    "gelu_tanh": (lambda x: x.gelu("tanh"), lambda t: F.gelu(t, approximate="tanh")),
    "silu": (lambda x: x.silu(), F.silu),
    "square": (lambda x: x ** 2, lambda t: t ** 2),
    "pow_scalar": (lambda x: _pos(x) ** 1.7, lambda t: _pos(t) ** 1.7),
    "rpow": (lambda x: 2.0 ** x, lambda t: 2.0 ** t),
    "rdiv": (lambda x: 1.5 / _pos(x), lambda t: 1.5 / _pos(t)),
    "rsub": (lambda x: 1.5 - x, lambda t: 1.5 - t),
    "scale": (lambda x: x * 2.5 / 3.0, lambda t: t * 2.5 / 3.0),
    "sin": (lambda x: x.sin(), torch.sin),
    "cos": (lambda x: x.cos(), torch.cos),
    "log2": (lambda x: _pos(x).log2(), lambda t: _pos(t).log2()),
    "exp2": (lambda x: x.exp2(), torch.exp2),
    "floor": (lambda x: x.floor(), torch.floor),
    "ceil": (lambda x: x.ceil(), torch.ceil),
    "round": (lambda x: x.round(), torch.round),
    "sign": (lambda x: x.sign(), torch.sign),
    "clamp_min": (lambda x: x.clamp(min=-0.5), lambda t: t.clamp(min=-0.5)),
}

BINARY = {
    "add": (lambda x, y: x + y, lambda t, u: t + u),
    "sub": (lambda x, y: x - y, lambda t, u: t - u),
    "mul": (lambda x, y: x * y, lambda t, u: t * u),
    "div": (lambda x, y: x / _pos(y), lambda t, u: t / _pos(u)),
    "pow": (lambda x, y: _pos(x) ** y, lambda t, u: _pos(t) ** u),
    "where": (lambda x, y: where(x > 0, x, y), lambda t, u: torch.where(t > 0, t, u)),
    "prelu": (lambda x, y: x.prelu(y), lambda t, u: torch.where(t > 0, t, t * u)),
    "maximum": (lambda x, y: x.maximum(y), torch.maximum),
    "minimum": (lambda x, y: x.minimum(y), torch.minimum),
    "mod": (lambda x, y: x % _pos(y), lambda t, u: torch.remainder(t, _pos(u))),
}


def _axis(rng, ndim):
    choice = rng.integers(4)
    if choice == 0 or ndim == 1:
        return int(rng.integers(-ndim, ndim))
    if choice == 1:
        return None
    count = int(rng.integers(1, ndim + 1))
    return tuple(int(a) for a in rng.choice(ndim, count, replace=False))


def _dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


REDUCTIONS = {
    "sum": (lambda x, a, k: x.sum(a, k), lambda t, d, k: t.sum(d, keepdim=k)),
    "mean": (lambda x, a, k: x.mean(a, k), lambda t, d, k: t.mean(d, keepdim=k)),
    "max": (lambda x, a, k: x.max(a, k), lambda t, d, k: t.amax(d, keepdim=k)),
    "min": (lambda x, a, k: x.min(a, k), lambda t, d, k: t.amin(d, keepdim=k)),
    "logsumexp": (lambda x, a, k: x.logsumexp(a, k),
                  lambda t, d, k: torch.logsumexp(t, d, keepdim=k)),
}


class _Program:
    """Builds the same random expression with our Tensors and with torch, step by step."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.ours, self.theirs, self.steps = [], [], []

    def leaf(self, shape):
        array = make_array(self.rng, shape)
        self.ours.append(Tensor(array, requires_grad=True))
        self.theirs.append(torch.tensor(array, requires_grad=True))
        return self.ours[-1], self.theirs[-1]

    def broadcast_partner(self, shape):
        kept = int(self.rng.integers(0, len(shape) + 1))
        return tuple(n if self.rng.random() < 0.6 else 1 for n in shape[len(shape) - kept:])

    def step(self, x, t):
        rng, ndim = self.rng, x.ndim
        kinds = ["unary", "binary"] + (["reduce", "softmax", "shape", "index", "matmul",
                                        "join"] if ndim else ["reshape"])
        if ndim in (1, 2) and x.shape[-1] <= 4:
            kinds.append("linear_act")
        kind = kinds[rng.integers(len(kinds))]
        if kind == "unary":
            name = list(UNARY)[rng.integers(len(UNARY))]
            ours, theirs = UNARY[name]
            self.steps.append(name)
            return ours(x), theirs(t)
        if kind == "binary":
            name = list(BINARY)[rng.integers(len(BINARY))]
            y, u = self.leaf(self.broadcast_partner(x.shape))
            if rng.random() < 0.5 and name not in ("where", "prelu"):
                x, t, y, u = y, u, x, t  # the new leaf on the left
            self.steps.append(f"{name}{tuple(y.shape)}")
            return BINARY[name][0](x, y), BINARY[name][1](t, u)
        if kind == "reduce":
            name = list(REDUCTIONS)[rng.integers(len(REDUCTIONS))]
            axis, keep = _axis(rng, ndim), bool(rng.integers(2))
            self.steps.append(f"{name}(axis={axis}, keepdims={keep})")
            return REDUCTIONS[name][0](x, axis, keep), REDUCTIONS[name][1](t, _dims(axis, ndim),
                                                                           keep)
        if kind == "softmax":
            axis = int(rng.integers(-ndim, ndim))
            if rng.random() < 0.5:
                self.steps.append(f"softmax({axis})")
                return x.softmax(axis), torch.softmax(t, axis)
            self.steps.append(f"log_softmax({axis})")
            return x.log_softmax(axis), torch.log_softmax(t, axis)
        if kind == "shape" and rng.random() < 0.5:
            dims = tuple(int(a) for a in rng.integers(-ndim, ndim, 2))
            self.steps.append(f"transpose{dims}")
            return x.transpose(*dims), t.transpose(*dims)
        if kind == "shape":
            perm = tuple(int(a) for a in rng.permutation(ndim))
            self.steps.append(f"permute{perm}")
            return x.permute(*perm), t.permute(*perm)
        if kind == "reshape" or (kind == "index" and rng.random() < 0.3):
            self.steps.append("reshape(-1)+unsqueeze")
            return x.reshape(-1).unsqueeze(0), t.reshape(-1).unsqueeze(0)
        if kind == "index":
            n = x.shape[0]
            index = [int(i) for i in rng.integers(0, n, int(rng.integers(1, 4)))]
            choice = rng.integers(3)
            index = (index if choice == 0 else (slice(int(rng.integers(n)), None),) if choice == 1
                     else (Ellipsis, None))
            self.steps.append(f"getitem{index}")
            return x[index], t[index]
        if kind == "matmul":
            k, n = x.shape[-1], int(rng.integers(1, 4))
            batch = self.broadcast_partner(x.shape[:-2]) if ndim > 2 else ()
            shape = (k,) if rng.random() < 0.25 else batch + (k, n)
            y, u = self.leaf(shape)
            self.steps.append(f"matmul{shape}")
            return x @ y, t @ u
        if kind == "join":
            axis = int(rng.integers(-ndim, ndim))
            y, u = self.leaf(x.shape)
            if rng.random() < 0.5:
                self.steps.append(f"cat({axis})")
                return cat([x, y], axis), torch.cat([t, u], axis)
            self.steps.append(f"stack({axis})")
            return stack([y, x], axis), torch.stack([u, t], axis)
        name = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "gelu_tanh", "silu",
                None][rng.integers(8)]
        nout = int(rng.integers(1, 4))
        (w, v), (b, c) = self.leaf((x.shape[-1], nout)), self.leaf((nout,))
        self.steps.append(f"linear_act({name})")
        z = t @ v + c
        return linear_act(x, w, b, name, 0.1), (z if name is None else UNARY[name][1](z))

    def run(self, steps):
        x, t = self.leaf(tuple(int(n) for n in self.rng.integers(1, 4, self.rng.integers(1, 4))))
        for _ in range(steps):
            x, t = self.step(x, t)
            if np.abs(x.numpy()).max(initial=0) > 20:  # keep exp and pow in range
                self.steps.append("squash")
                x, t = x.tanh() * 3.0, t.tanh() * 3.0
        return x, t


@pytest.mark.parametrize("seed", range(150))
def test_random_composition_matches_torch(cpu_backend, seed):
    program = _Program(seed)
    x, t = program.run(steps=int(program.rng.integers(2, 7)))
    what = f"seed {seed}: " + " -> ".join(program.steps)
    assert_close(x.numpy(), t, f"forward, {what}")
    weights = program.rng.standard_normal(x.shape)
    (x * Tensor(weights)).sum().backward()
    (t * torch.tensor(weights)).sum().backward()
    for i, (ours, theirs) in enumerate(zip(program.ours, program.theirs)):
        assert theirs.grad is not None and ours.grad is not None, f"leaf {i}, {what}"
        assert_close(ours.grad.numpy(), theirs.grad, f"grad of leaf {i}, {what}")


def _compare(ours_fn, torch_fn, *arrays):
    ours = [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out, ref = ours_fn(*ours), torch_fn(*theirs)
    assert_close(out.numpy(), ref, "forward")
    seed = np.random.default_rng(0).standard_normal(ref.shape)
    out.backward(seed)
    ref.backward(torch.tensor(seed))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a.grad.numpy(), b.grad, f"grad of input {i}")


@pytest.mark.parametrize("name", UNARY)
def test_each_elementwise_op_matches_torch(cpu_backend, name):
    _compare(*UNARY[name], make_array(np.random.default_rng(1), (3, 4)))


@pytest.mark.parametrize("name", BINARY)
def test_each_binary_op_matches_torch(cpu_backend, name):
    rng = np.random.default_rng(2)
    _compare(*BINARY[name], make_array(rng, (2, 3, 4)), make_array(rng, (3, 1)))


@pytest.mark.parametrize("ours, theirs, values", [
    (lambda x: x.max(), lambda t: t.amax(), [1.0, 3.0, 3.0, -2.0, 3.0]),
    (lambda x: x.min(0), lambda t: t.amin(0), [[1.0, 2.0], [1.0, 0.0], [1.0, 0.0]]),
    (lambda x: x.clip(-1.0, 1.0), lambda t: t.clamp(-1.0, 1.0), [-1.0, 1.0, 0.0, -3.0, 2.0]),
    (lambda x: x.abs(), torch.abs, [0.0, -1.0, 2.0]),
    (lambda x: x.relu(), torch.relu, [0.0, -1.0, 2.0]),
    (lambda x: x.leaky_relu(0.3), lambda t: F.leaky_relu(t, 0.3), [0.0, -1.0, 2.0]),
    (lambda x: x ** 0, lambda t: t ** 0, [0.0, -1.0, 2.0]),
    (lambda x: x ** 2, lambda t: t ** 2, [0.0, -1.0, 2.0]),
    (lambda x: x.sqrt(), torch.sqrt, [1e-8, 4.0]),
    (lambda x: x.sigmoid(), torch.sigmoid, [1000.0, -1000.0, 40.0, -40.0]),
    (lambda x: x.tanh(), torch.tanh, [1000.0, -1000.0, 20.0]),
    (lambda x: x.gelu("tanh"), lambda t: F.gelu(t, approximate="tanh"), [-30.0, 0.0, 30.0]),
    (lambda x: x.silu(), F.silu, [-800.0, 0.0, 800.0]),
    (lambda x: x.softmax(), lambda t: torch.softmax(t, -1), [[1000.0, 0.0, -1000.0]]),
    (lambda x: x.log_softmax(0), lambda t: torch.log_softmax(t, 0), [1000.0, 999.0, -1000.0]),
    (lambda x: x.logsumexp(0), lambda t: torch.logsumexp(t, 0), [-1000.0, -1000.0]),
    (lambda x: x[[1, 1, 0, 1]], lambda t: t[[1, 1, 0, 1]], [0.5, -0.5]),
], ids=["max_ties", "min_ties", "clip_bounds", "abs_0", "relu_0", "leaky_0", "pow_0", "pow_2_at_0",
        "sqrt_small", "sigmoid_extreme", "tanh_extreme", "gelu_tanh_wide", "silu_extreme",
        "softmax_extreme", "log_softmax_extreme", "logsumexp_extreme", "repeated_index"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy computing 0 ** -1 on the way
def test_edge_cases_follow_torch_conventions(cpu_backend, ours, theirs, values):
    _compare(ours, theirs, values)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 ** -0.5 is inf, as in torch
def test_pow_gradients_at_zero_base_match_torch():
    # At a = 0 the exponent's gradient is 0 for b >= 0 and -inf (inf * log 0) for b < 0.
    _compare(lambda x, y: x ** y, lambda t, u: t ** u, [0.0, 0.0, 2.0, 0.0, 0.0],
             [2.0, 0.5, 0.0, -1.0, -0.5])


S = slice(None)
# The ops added for PyTorch users, each alone: name -> (ours, torch's, input arrays).
RNG = np.random.default_rng(4)
A, B = make_array(RNG, (3, 4)), make_array(RNG, (2, 3, 4))
EVERYDAY = {
    "prod_dim": (lambda x: x.prod(1), lambda t: t.prod(1), [A]),
    "prod_all": (lambda x: x.prod(), lambda t: t.prod(), [A]),
    "prod_keepdim": (lambda x: x.prod(0, keepdim=True), lambda t: t.prod(0, keepdim=True), [A]),
    "prod_zeros": (lambda x: x.prod(1), lambda t: t.prod(1),
                   [[[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, -2.0, 3.0]]]),
    "var": (lambda x: x.var(1), lambda t: t.var(1), [A]),
    "var_all_correction_0": (lambda x: x.var(correction=0), lambda t: t.var(correction=0), [B]),
    "var_dims_keepdim": (lambda x: x.var((0, 2), keepdim=True),
                         lambda t: t.var((0, 2), keepdim=True), [B]),
    "std": (lambda x: x.std(0, ddof=0), lambda t: t.std(0, correction=0), [A]),
    "std_all": (lambda x: x.std(), lambda t: t.std(), [B]),
    "cumsum": (lambda x: x.cumsum(1), lambda t: t.cumsum(1), [B]),
    "cumsum_negative_dim": (lambda x: x.cumsum(dim=-3), lambda t: t.cumsum(-3), [B]),
    "round_decimals": (lambda x: x.round(decimals=1), lambda t: t.round(decimals=1), [A]),
    "round_halves": (lambda x: x.round(), torch.round, [[0.5, 1.5, 2.5, -0.5, -1.5]]),
    "maximum_ties": (lambda x, y: x.maximum(y), torch.maximum, [[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]),
    "minimum_broadcast": (lambda x, y: tg.minimum(x, y), torch.minimum, [A, B]),
    "clamp_both": (lambda x: x.clamp(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5), [A]),
    "view": (lambda x: x.view(4, -1), lambda t: t.view(4, -1), [B]),
    "contiguous": (lambda x: x.t().contiguous(), lambda t: t.t().contiguous(), [A]),
    "squeeze_all": (lambda x: x.reshape(3, 1, 4, 1).squeeze(),
                    lambda t: t.reshape(3, 1, 4, 1).squeeze(), [A]),
    "squeeze_dim": (lambda x: x.reshape(3, 1, 4).squeeze(1),
                    lambda t: t.reshape(3, 1, 4).squeeze(1), [A]),
    "squeeze_other_size": (lambda x: x.squeeze(0), lambda t: t.squeeze(0), [A]),
    "unsqueeze": (lambda x: x.unsqueeze(dim=-1), lambda t: t.unsqueeze(-1), [A]),
    "expand": (lambda x: x[:1].expand(2, 5, 4), lambda t: t[:1].expand(2, 5, 4), [A]),
    "expand_minus_one": (lambda x: x.expand(2, -1, -1), lambda t: t.expand(2, -1, -1), [A]),
    "repeat": (lambda x: x.repeat(2, 1, 3), lambda t: t.repeat(2, 1, 3), [A]),
    "flip": (lambda x: x.flip((0, 2)), lambda t: t.flip((0, 2)), [B]),
    "transpose": (lambda x: x.transpose(0, 2), lambda t: t.transpose(0, 2), [B]),
    "transpose_2d": (lambda x: x.transpose(0, 1), lambda t: t.transpose(0, 1), [A]),
    "t": (lambda x: x.t(), lambda t: t.t(), [A]),
    "permute": (lambda x: x.permute(2, 0, 1), lambda t: t.permute(2, 0, 1), [B]),
    "mixed_index": (lambda x: x[0, :, [0, 2]], lambda t: t[0, :, [0, 2]], [B]),
    "softmax_dim": (lambda x: x.softmax(dim=0), lambda t: t.softmax(dim=0), [A]),
    "F_softmax": (lambda x: tgF.softmax(x, dim=1), lambda t: F.softmax(t, dim=1), [B]),
    "F_log_softmax": (lambda x: tgF.log_softmax(x, axis=0), lambda t: F.log_softmax(t, 0), [B]),
    "F_gelu_tanh": (lambda x: tgF.gelu(x, approximate="tanh"),
                    lambda t: F.gelu(t, approximate="tanh"), [A]),
    "F_leaky_relu": (lambda x: tgF.leaky_relu(x, 0.2), lambda t: F.leaky_relu(t, 0.2), [A]),
    "F_prelu": (lambda x, w: tgF.prelu(x, w), lambda t, u: F.prelu(t, u), [A, [0.25]]),
    "sum_0d_dim_0": (lambda x: x.sum(0), lambda t: t.sum(0), [1.5]),
    "sum_0d_dim_minus_1": (lambda x: x.sum(-1), lambda t: t.sum(-1), [1.5]),
    "softmax_0d": (lambda x: x.softmax(), lambda t: t.softmax(-1), [1.5]),
    "logsumexp_0d": (lambda x: x.logsumexp(0), lambda t: t.logsumexp(0), [1.5]),
    "max_0d": (lambda x: x.max(0), lambda t: t.amax(0), [1.5]),
}


@pytest.mark.parametrize("name", EVERYDAY)
def test_each_everyday_op_matches_torch(cpu_backend, name):
    ours, theirs, arrays = EVERYDAY[name]
    _compare(ours, theirs, *arrays)


def _same(ours, theirs):
    theirs = theirs.numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = ours.numpy() if isinstance(ours, Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


INTS = np.array([[7, -7, 0, 2 ** 40], [-3, 5, -2 ** 31, 9]])
FLOATS = np.array([[1.0, np.nan, 3.0, 3.0], [-np.inf, 0.0, -0.0, 2.5]])
# name -> (ours, torch's, whether PyTorch takes booleans too)
DISCRETE = {
    "argmax": (lambda x: x.argmax(), lambda t: t.argmax(), False),
    "argmax_dim": (lambda x: x.argmax(1), lambda t: t.argmax(1), False),
    "argmin_keepdim": (lambda x: x.argmin(dim=0, keepdim=True),
                       lambda t: t.argmin(dim=0, keepdim=True), False),
    "any": (lambda x: x.any(1), lambda t: t.any(1), True),
    "all": (lambda x: x.all(0), lambda t: t.all(0), True),
    "min": (lambda x: x.min(), lambda t: t.min(), True),
    "min_dim": (lambda x: x.min(1), lambda t: t.amin(1), True),
    "max_dim": (lambda x: x.max(0), lambda t: t.amax(0), True),
    "cumsum": (lambda x: x.cumsum(1), lambda t: t.cumsum(1), True),
    "prod": (lambda x: x.prod(0), lambda t: t.prod(0), True),
    "floordiv": (lambda x: x // 3, lambda t: t // 3, False),
    "mod": (lambda x: x % -4, lambda t: t % -4, False),
    "rfloordiv": (lambda x: 100 // x.clamp(min=1), lambda t: 100 // t.clamp(min=1), False),
    "isclose": (lambda x: x.isclose(x + 1), lambda t: torch.isclose(t, t + 1), False),
}


@pytest.mark.parametrize("name", DISCRETE)
@pytest.mark.parametrize("data", [INTS, INTS > 0, FLOATS], ids=["int64", "bool", "float64"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf - inf and nan comparisons
def test_index_boolean_and_integer_results_match_torch(cpu_backend, name, data):
    ours, theirs, takes_bool = DISCRETE[name]
    if data.dtype == np.bool_ and not takes_bool:
        pytest.skip("PyTorch refuses booleans here")
    _same(ours(Tensor(data)), theirs(torch.tensor(data)))


def test_sign_matches_torch_except_that_nan_stays_nan():
    # README: sign(nan) is nan here, as in numpy; PyTorch gives 0.
    for data in (INTS, np.nan_to_num(FLOATS, posinf=9.0, neginf=-9.0)):
        _same(Tensor(data).sign(), torch.tensor(data).sign())
    assert np.isnan(Tensor([np.nan]).sign().item())


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # inf - inf on the way
def test_isclose_and_allclose_match_torch_at_infinities_and_nan():
    a = np.array([1.0, 1.0 + 1e-9, np.inf, np.inf, -np.inf, np.nan, 1.0])
    b = np.array([1.0, 1.0, np.inf, -np.inf, 1e300, np.nan, np.inf])
    for equal_nan in (False, True):
        _same(tg.isclose(a, b, equal_nan=equal_nan),
              torch.isclose(torch.tensor(a), torch.tensor(b), equal_nan=equal_nan))
        assert tg.allclose(a[:2], b[:2]) == torch.allclose(torch.tensor(a[:2]),
                                                           torch.tensor(b[:2]))


def test_value_compositions_match_torch_scalars():
    rng = np.random.default_rng(3)
    for _ in range(20):
        a, b = rng.uniform(0.2, 2.0, 2)
        x, y = Value(a), Value(b)
        u, v = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        ours = ((x * y).gelu() + (x / y).silu() - (2 ** x).log() * y.sigmoid() + (x ** y)
                + (-y).leaky_relu(0.2) + (1 - x).relu() + (x.exp() * y).tanh())
        ref = (F.gelu(u * v) + F.silu(u / v) - (2 ** u).log() * torch.sigmoid(v) + u ** v
               + F.leaky_relu(-v, 0.2) + torch.relu(1 - u) + torch.tanh(u.exp() * v))
        ours.backward()
        ref.backward()
        np.testing.assert_allclose([ours.data, x.grad, y.grad],
                                   [ref.item(), u.grad.item(), v.grad.item()], rtol=RTOL)


def test_new_constructors_match_torch():
    for start, end, steps in [(0.0, 1.0, 5), (-3.0, 7.5, 11), (2.0, 2.0, 1)]:
        assert_close(tg.Tensor.linspace(start, end, steps, dtype=np.float64).numpy(),
                     torch.linspace(start, end, steps, dtype=torch.float64), "linspace")
    x = np.arange(6.0).reshape(2, 3)
    _same(Tensor.full_like(Tensor(x), 2.5), torch.full_like(torch.tensor(x), 2.5))
    draw, theirs = Tensor.randint(-3, 4, (500,)), torch.randint(-3, 4, (500,))
    assert draw.dtype == np.int64 and theirs.dtype == torch.int64
    assert set(draw.tolist()) == set(theirs.tolist()) == set(range(-3, 4))
