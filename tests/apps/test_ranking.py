"""The chapter's ranking task: users x items with a known nonlinear ground truth."""

import numpy as np
import pytest

from tinygrad_edu import ArgumentError, nn
from tinygrad_edu.apps.ranking import (CANDIDATES, ITEMS_PER_USER, make_ranking_task,
                                       ranking_model, train_pairs)


@pytest.fixture(scope="module")
def task():
    return make_ranking_task(train_users=200, heldout_users=40, seed=3)


def test_each_pair_is_a_users_64_features_then_an_items_64(task):
    assert task.train.features.shape == (train_pairs(200), 128) == (200 * ITEMS_PER_USER, 128)
    assert task.train.features.dtype == np.float32 and task.train.targets.shape == (6400, 1)
    for split in (task.validation, task.test):
        assert len(split) == 40 * CANDIDATES and split.n_users == 40
    first_user = task.train.features[:ITEMS_PER_USER]
    np.testing.assert_array_equal(first_user[:, :64], np.broadcast_to(first_user[0, :64],
                                                                     (ITEMS_PER_USER, 64)))
    assert len(np.unique(first_user[:, 64:], axis=0)) == ITEMS_PER_USER   # distinct items


def test_the_three_splits_hold_different_users(task):
    users = [set(split.users) for split in (task.train, task.validation, task.test)]
    assert not (users[0] & users[1] or users[0] & users[2] or users[1] & users[2])


def test_observed_scores_are_the_ground_truth_plus_noise_of_the_stated_size(task):
    split = task.validation
    clean = task.ground_truth.affinity(split.features[:, :64].astype(np.float64),
                                       split.features[:, 64:].astype(np.float64))
    np.testing.assert_allclose(clean, split.truth, rtol=1e-5, atol=1e-5)
    assert np.std(split.targets[:, 0] - split.truth) == pytest.approx(task.noise, rel=0.1)


def test_a_quarter_of_the_training_pairs_is_relevant(task):
    assert task.relevant(task.train).mean() == pytest.approx(0.25, abs=0.01)
    assert 0.1 < task.relevant(task.test).mean() < 0.4


def test_the_scores_are_far_from_a_linear_function_of_the_features(task):
    design = np.hstack([task.train.features, np.ones((len(task.train), 1))]).astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, task.train.targets.astype(np.float64), rcond=None)
    residual = np.mean((design @ coef - task.train.targets) ** 2)
    assert residual > 0.8 * np.var(task.train.targets)   # a linear model explains < 20%


def test_the_task_is_reproducible_from_its_seed_and_the_ground_truth_never_changes():
    a, b = make_ranking_task(50, 10, seed=1), make_ranking_task(50, 10, seed=1)
    c = make_ranking_task(50, 10, seed=2)
    np.testing.assert_array_equal(a.train.features, b.train.features)
    np.testing.assert_array_equal(a.test.targets, b.test.targets)
    assert not np.array_equal(a.train.features, c.train.features)
    np.testing.assert_array_equal(a.ground_truth.user_tastes, c.ground_truth.user_tastes)


@pytest.mark.parametrize("kwargs, message", [
    ({"train_users": 0}, "train_users must be an integer >= 1, got 0"),
    ({"heldout_users": 2.5}, "heldout_users must be an integer >= 1, got 2.5"),
    ({"n_items": 10}, "n_items must be an integer >= 50"),
    ({"noise": float("nan")}, "noise must be >= 0"),
])
def test_bad_task_sizes_are_refused_by_name(kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        make_ranking_task(**kwargs)


def test_the_model_is_the_chapters_network():
    model = ranking_model()
    assert isinstance(model, nn.MLP)
    assert [layer.weight.shape for layer in model.layers] == [(128, 256), (256, 128), (128, 64),
                                                             (64, 1)]
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "relu", None]
