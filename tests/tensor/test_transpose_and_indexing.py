"""Where numpy and PyTorch disagree on a name's meaning we follow PyTorch and never fail
silently: ``transpose(dim0, dim1)`` swaps two axes (numpy's full permutation is ``permute``, and
calls that read as numpy's raise with the fix), and mixed integer/array indexing gives PyTorch's
result, checked against PyTorch itself (values and gradients)."""

import numpy as np
import pytest

from tinygrad_edu import ArgumentError, AxisError, ShapeError, Tensor

from shape_strategies import leaf, make_array

torch = pytest.importorskip("torch")

X = np.arange(24.0).reshape(2, 3, 4) / 7


@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (0, 2), (2, 1), (-1, 0), (1, -2), (1, 1)])
def test_transpose_swaps_two_axes_as_in_pytorch(cpu_backend, dims):
    ours = Tensor(X).transpose(*dims)
    np.testing.assert_array_equal(ours.numpy(), torch.tensor(X).transpose(*dims).numpy())
    two_d = Tensor(X[0]).transpose(*[d % 2 for d in dims])
    np.testing.assert_array_equal(two_d.numpy(), torch.tensor(X[0]).transpose(
        *[d % 2 for d in dims]).numpy())


def test_transpose_without_arguments_and_t_are_the_matrix_transpose(cpu_backend):
    np.testing.assert_array_equal(Tensor(X[0]).transpose().numpy(), X[0].T)
    np.testing.assert_array_equal(Tensor(X[0]).t().numpy(), torch.tensor(X[0]).t().numpy())
    assert Tensor(X[0, 0]).t().shape == (4,) and Tensor(1.0).transpose().shape == ()
    np.testing.assert_array_equal(Tensor(X).T.numpy(), X.T)   # numpy's .T: all axes reversed


@pytest.mark.parametrize("call, fix", [
    (lambda t: t.transpose((2, 0, 1)), "x.permute(2, 0, 1)"),
    (lambda t: t.transpose([1, 0, 2]), "x.permute(1, 0, 2)"),
    (lambda t: t.transpose(2, 0, 1), "x.permute(2, 0, 1)"),
    (lambda t: t.transpose(), "x.permute(2, 1, 0)"),
    (lambda t: t.transpose(1), "permute"),
])
def test_a_transpose_call_that_reads_as_numpys_raises_with_the_fix(call, fix):
    with pytest.raises(ArgumentError) as info:
        call(Tensor(X))
    assert "transpose" in str(info.value) and fix in str(info.value)


def test_permute_is_the_full_permutation_and_t_refuses_more_than_two_dims(cpu_backend):
    np.testing.assert_array_equal(Tensor(X).permute(2, 0, 1).numpy(), X.transpose(2, 0, 1))
    np.testing.assert_array_equal(Tensor(X).permute([1, 2, 0]).numpy(), X.transpose(1, 2, 0))
    with pytest.raises(AxisError, match="permute"):
        Tensor(X).permute(0, 1)
    with pytest.raises(ShapeError, match=r"t: .*\(2, 3, 4\).*transpose\(dim0, dim1\)"):
        Tensor(X).t()


def _torch_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    converted = tuple(torch.tensor(p.numpy()) if isinstance(p, Tensor)
                      else torch.from_numpy(p) if isinstance(p, np.ndarray) else p
                      for p in parts)
    return converted if isinstance(index, tuple) else converted[0]


def _assert_indexing_matches_torch(array, index):
    ours, theirs = leaf(array), torch.tensor(array, requires_grad=True)
    out, ref = ours[index], theirs[_torch_index(index)]
    assert out.shape == tuple(ref.shape), f"index {index!r}: {out.shape} vs torch {ref.shape}"
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    seed = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(seed)
    ref.backward(torch.tensor(seed))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


S = slice(None)
MIXED = {
    "int_slice_list": (0, S, [0, 2]),            # numpy: (2, 3); PyTorch: (3, 2)
    "int_slice_tensor": (1, S, Tensor([3, 0, 3])),
    "0d_tensor_slice_list": (Tensor(1), S, [0, 2]),
    "slice_int_list": (S, 0, [0, 2]),
    "list_slice_int": ([1, 0], S, 0),
    "list_int_list": ([1, 0], 2, [0, 3]),
    "int_list": (0, [2, 0]),
    "ellipsis_int_list": (Ellipsis, 0, [1, 3]),
    "none_int_slice_list": (None, 0, S, [0, 2]),
    "int_slice_2d_list": (0, S, [[0, 1], [2, 3]]),
    "int_slice_mask": (1, S, np.array([True, False, True, True])),
    "int_mask_slice": (0, np.array([True, False, True]), S),
    "int_narrow_slice_repeats": (0, slice(1, 3), [3, 3, 0]),
    "bool_scalar_int_list": (True, 0, S, [1, 2]),
    "empty_ellipsis_between_lists": (S, [0, 2], Ellipsis, [1, 3]),   # numpy: arrays' dim first
}


@pytest.mark.parametrize("name", MIXED)
def test_mixed_integer_and_array_indexing_follows_pytorch(cpu_backend, name):
    _assert_indexing_matches_torch(X, MIXED[name])


def test_mixed_indexing_on_four_dimensions_follows_pytorch(cpu_backend):
    x = make_array(np.random.default_rng(1), (2, 3, 4, 5))
    for index in [(0, S, 1, [0, 4]), (S, [0, 2], S, 0), ([0, 1], S, [0, 1], 0),
                  (1, Ellipsis, [0, 4]), (S, 0, [1, 2], 3)]:
        _assert_indexing_matches_torch(x, index)


def _random_index(rng, shape):
    """A random index over ``shape``: per dimension an int, a slice, a length-2 integer list or
    a mask with two True entries, with None and Ellipsis sometimes mixed in."""
    parts = []
    for n in shape:
        kind = rng.integers(4)
        if kind == 0:
            parts.append(int(rng.integers(-n, n)))
        elif kind == 1:
            parts.append(slice(int(rng.integers(n)), None, int(rng.choice([1, 2]))))
        elif kind == 2:
            parts.append([int(i) for i in rng.integers(0, n, 2)])
        else:
            mask = np.zeros(n, bool)
            mask[rng.choice(n, 2, replace=False)] = True
            parts.append(mask)
        if rng.random() < 0.15:
            parts.append(None)
    if rng.random() < 0.3:   # an Ellipsis standing for a run of the parts
        start = int(rng.integers(len(parts) + 1))
        stop = int(rng.integers(start, len(parts) + 1))
        parts = parts[:start] + [Ellipsis] + parts[stop:]
    return tuple(parts)


@pytest.mark.parametrize("seed", range(40))
def test_random_mixed_indexes_follow_pytorch(cpu_backend, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(2, 5, rng.integers(2, 5)))
    _assert_indexing_matches_torch(make_array(rng, shape), _random_index(rng, shape))
