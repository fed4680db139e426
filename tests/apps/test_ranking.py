"""The textbook's ranking example: its data, its training loop and the `train` command."""

import numpy as np

from tinygrad_edu import nn
from tinygrad_edu.apps.cli import main
from tinygrad_edu.apps.ranking import make_ranking_data, train_ranking_model


def test_ranking_data_has_the_chapters_shape_and_is_reproducible():
    x, y = make_ranking_data(50, seed=3)
    assert x.shape == (50, 128) and y.shape == (50, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    x2, y2 = make_ranking_data(50, seed=3)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make_ranking_data(50, seed=4)[0], x)


def test_ranking_scores_are_not_a_linear_function_of_the_features():
    x, y = make_ranking_data(4000, seed=0, noise=0.0)
    design = np.hstack([x, np.ones((len(x), 1), np.float32)]).astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)
    linear_mse = np.mean((design @ coef - y) ** 2)
    assert linear_mse > 0.3 * np.var(y)   # a linear model leaves much of the score unexplained


def test_training_the_ranking_mlp_lowers_the_loss_and_reports_every_layer():
    result = train_ranking_model(steps=40, batch=128, train_size=1024, test_size=256,
                                 log_every=10)
    assert isinstance(result.model, nn.MLP)
    first, last = result.losses[0][1], result.losses[-1][1]
    assert last < 0.5 * first
    assert result.test_mse < result.baseline_mse
    for name in ("layers.0", "layers.1", "layers.2", "layers.3"):
        assert name in result.monitor_report


def test_train_command_prints_progress_and_saves_loadable_weights(tmp_path, capsys):
    out = tmp_path / "ranker.npz"
    assert main(["train", "--steps", "3", "--batch", "64", "--save", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "step     0" in printed and "test MSE" in printed and "layers.2" in printed
    model = nn.MLP(128, [256, 128, 64], 1)
    model.load(str(out))


def test_train_command_rejects_an_unknown_activation(capsys):
    assert main(["train", "--steps", "1", "--activation", "rleu"]) == 1
    assert "'rleu'" in capsys.readouterr().err
