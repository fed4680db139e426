"""Module mechanics: registration, names, scopes, hooks, printing, saving and loading."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn
from tinygrad_edu.errors import DTypeError, ShapeError


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same library generator state, so random weights repeat."""
    tg.manual_seed(0)


class TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.second = nn.Layer(4, 2, activation="tanh")
        self.scale = nn.Parameter([1.0, 2.0])

    def forward(self, x):
        return self.second(self.act(self.first(x))) * self.scale


def test_parameters_are_named_with_dotted_paths_in_registration_order():
    model = TwoLayers()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "first.weight", "first.bias", "second.weight", "second.bias"]
    assert [p for _, p in model.named_parameters()] == model.parameters()


def test_named_modules_lists_root_as_empty_name_and_children_in_order():
    model = TwoLayers()
    assert [(name, type(m).__name__) for name, m in model.named_modules()] == [
        ("", "TwoLayers"), ("first", "Linear"), ("act", "ReLU"), ("second", "Layer")]
    assert model.children() == [model.first, model.act, model.second]


def test_a_list_of_modules_is_registered_with_numbered_names():
    mlp = nn.MLP(2, [3, 3], 1)
    assert isinstance(mlp.layers, nn.ModuleList)
    assert [n for n, _ in mlp.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
        "layers.2.weight", "layers.2.bias"]
    assert [n for n, _ in mlp.named_modules()] == ["", "layers", "layers.0", "layers.1",
                                                     "layers.2"]
    assert len(mlp.layers) == 3 and mlp.layers[-1].nout == 1
    assert isinstance(mlp.layers[1:], nn.ModuleList) and len(mlp.layers[1:]) == 2


def test_a_shared_parameter_is_listed_once():
    model = nn.Module()
    model.a = nn.Linear(2, 2)
    model.b = nn.Linear(2, 2)
    model.b.weight = model.a.weight
    assert len(model.parameters()) == 3


def test_reassigning_an_attribute_replaces_the_registration():
    layer = nn.Linear(2, 2)
    layer.bias = None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    del layer.weight
    assert layer.parameters() == []


def test_assigning_before_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Broken()


def test_parameter_is_a_float_tensor_that_requires_grad():
    p = nn.Parameter([1, 2, 3])
    assert isinstance(p, Tensor) and p.requires_grad and p.dtype == np.float32
    assert repr(p).startswith("Parameter(")
    assert nn.Parameter(Tensor.randn(2)).requires_grad
    assert isinstance(nn.Parameter.zeros(2, requires_grad=True), nn.Parameter)
    # Results of ops on parameters are ordinary tensors.
    assert type(p * 2) is Tensor


def test_forward_records_the_module_scope_on_every_tensor_it_makes():
    model = TwoLayers()
    out = model(Tensor.randn(5, 3))
    assert out.scope == (model,)
    hidden = out.inputs[0]  # second(...) output
    assert hidden.scope == (model, model.second)
    first_out = hidden.inputs[0].inputs[0]
    assert first_out.scope == (model, model.first)
    assert Tensor.randn(2).scope == ()


def test_forward_hook_sees_inputs_and_output_and_can_be_removed():
    layer = nn.Layer(3, 2)
    seen = []
    handle = layer.register_forward_hook(lambda m, inputs, out: seen.append((m, inputs, out)))
    x = Tensor.randn(4, 3)
    y = layer(x)
    assert seen == [(layer, (x,), y)]
    handle.remove()
    layer(x)
    assert len(seen) == 1


def test_forward_hook_returning_a_value_replaces_the_output():
    layer = nn.Linear(2, 2)
    layer.register_forward_hook(lambda m, inputs, out: out * 0)
    assert np.all(layer(Tensor.ones(1, 2)).numpy() == 0)


def test_repr_prints_the_module_tree_like_pytorch():
    expected = (
        "MLP(\n"
        "  128→256→128→64→1\n"
        "  (layers): ModuleList(\n"
        "    (0): Layer(128→256, relu)\n"
        "    (1): Layer(256→128, relu)\n"
        "    (2): Layer(128→64, relu)\n"
        "    (3): Layer(64→1)\n"
        "  )\n"
        ")")
    assert repr(nn.MLP(128, [256, 128, 64], 1)) == expected
    assert repr(nn.Sequential(nn.Linear(2, 3, bias=False), nn.LeakyReLU(0.2))) == (
        "Sequential(\n  (0): Linear(2→3, bias=False)\n  (1): LeakyReLU(negative_slope=0.2)\n)")


def test_sequential_applies_modules_in_order():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = Tensor.randn(5, 3)
    expected = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).numpy(), expected.numpy())
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2


def test_sequential_of_classes_asks_whether_instances_were_meant():
    with pytest.raises(tg.ArgumentTypeError, match=r"class nn\.ReLU .*did you mean nn\.ReLU\(\)\?"):
        nn.Sequential(nn.Linear(2, 3), nn.ReLU)
    with pytest.raises(TypeError, match=r"did you mean nn\.Linear\(\.\.\.\)\?"):
        nn.Sequential(nn.Linear, nn.ReLU)
    with pytest.raises(TypeError, match=r"did you mean TwoLayers\(\)\?"):
        nn.ModuleList([TwoLayers])


def test_zero_grad_forgets_every_parameter_gradient():
    model = TwoLayers()
    model(Tensor.randn(2, 3)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_zero_grad_without_set_to_none_zeroes_the_gradients_in_place():
    model = TwoLayers()
    model(Tensor.randn(2, 3)).sum().backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=False)
    for name, p in model.named_parameters():
        assert p.grad is grads[name] and not p.grad.numpy().any(), name
    model.zero_grad(set_to_none=True)
    assert all(p.grad is None for p in model.parameters())
    model.zero_grad(set_to_none=False)   # nothing to zero: the gradients stay None
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_set_the_flag_on_all_modules():
    model = TwoLayers()
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_double_converts_parameters_in_place():
    model = TwoLayers()
    weight = model.first.weight
    model.double()
    assert model.first.weight is weight and weight.dtype == np.float64
    assert model(Tensor.randn(2, 3, dtype=np.float64)).dtype == np.float64
    with pytest.raises(DTypeError):
        model.astype(np.int32)


def test_state_dict_round_trips_through_a_file_exactly(tmp_path):
    tg.manual_seed(1)
    source = nn.MLP(4, [5], 2, activation="prelu")
    source.layers[0].prelu_weight.copy_(0.7)
    path = tmp_path / "model.npz"
    source.save(path)
    tg.manual_seed(2)
    target = nn.MLP(4, [5], 2, activation="prelu")
    assert target.load(path) is target
    for (name, a), (_, b) in zip(source.named_parameters(), target.named_parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    x = Tensor.randn(3, 4)
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())


def test_save_and_load_agree_on_the_npz_suffix(tmp_path):
    layer = nn.Linear(2, 2)
    layer.save(tmp_path / "weights")
    assert (tmp_path / "weights.npz").exists()
    other = nn.Linear(2, 2).load(tmp_path / "weights")
    np.testing.assert_array_equal(other.weight.numpy(), layer.weight.numpy())


def test_state_dict_is_a_copy():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    state["weight"][...] = 99
    assert not np.any(layer.weight.numpy() == 99)


def test_loading_a_missing_or_unexpected_key_names_it():
    layer = nn.Linear(2, 3)
    state = layer.state_dict()
    del state["bias"]
    state["extra"] = np.zeros(1)
    with pytest.raises(nn.StateDictError, match=r"missing keys \['bias'\].*unexpected keys "
                                                r"\['extra'\]"):
        layer.load_state_dict(state)
    with pytest.raises(KeyError):
        layer.load_state_dict(state)
    missing, unexpected = layer.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["bias"], ["extra"])


def test_loading_a_wrong_shape_names_the_key_and_changes_nothing(tmp_path):
    small, big = nn.MLP(2, [3], 1), nn.MLP(2, [4], 1)
    before = big.state_dict()
    path = tmp_path / "small.npz"
    small.save(path)
    with pytest.raises(ShapeError, match=r"'layers.0.weight' has shape \(2, 3\) in the state but "
                                         r"\(2, 4\) in the module"):
        big.load(path)
    for name, value in big.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, weight=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        nn.Linear(1, 1).load(path)
