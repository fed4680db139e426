"""The ranking metrics: NDCG@k and AUC per user, with ties ranked fairly."""

import itertools

import numpy as np
import pytest

from tinygrad_edu import ShapeError
from tinygrad_edu.apps.metrics import auc, comparison, mean_squared_error, ndcg_at_k


def _dcg(gains, k):
    return sum(g / np.log2(r + 2) for r, g in enumerate(gains[:k]))


def test_ndcg_is_one_for_the_ideal_order_and_matches_the_textbook_formula():
    relevant = np.array([1, 0, 1, 0, 0, 1], float)
    users = np.zeros(6, int)
    assert ndcg_at_k(relevant * 3 + np.arange(6) * 0.1, relevant, users, k=3) == 1.0
    scores = np.array([6, 5, 4, 3, 2, 1], float)   # ranks the items in the given order
    expected = _dcg([1, 0, 1], 3) / _dcg([1, 1, 1], 3)
    assert ndcg_at_k(scores, relevant, users, k=3) == pytest.approx(expected)


def test_ndcg_of_tied_scores_is_the_mean_over_every_order_of_the_tie():
    relevant = np.array([1, 0, 0, 1, 0], float)
    scores = np.array([2.0, 1.0, 1.0, 1.0, 0.0])   # items 1, 2, 3 tie
    orders = []
    for perm in itertools.permutations([1, 2, 3]):
        ranked = relevant[[0, *perm, 4]]
        orders.append(_dcg(ranked, 3) / _dcg(np.sort(relevant)[::-1], 3))
    assert ndcg_at_k(scores, relevant, np.zeros(5, int), k=3) == pytest.approx(np.mean(orders))


def test_ndcg_averages_users_and_skips_users_without_a_relevant_item():
    users = np.array([0, 0, 1, 1, 2, 2])
    relevant = np.array([1, 0, 0, 1, 0, 0], float)
    scores = np.array([1.0, 0.0, 1.0, 0.0, 5.0, 1.0])    # user 0 right, user 1 wrong
    wrong = _dcg([0, 1], 10) / _dcg([1, 0], 10)
    assert ndcg_at_k(scores, relevant, users) == pytest.approx((1 + wrong) / 2)
    assert np.isnan(ndcg_at_k(scores[4:], relevant[4:], users[4:]))


def test_auc_counts_ordered_pairs_and_ties_as_half():
    relevant = np.array([1, 0, 1, 0], float)
    users = np.zeros(4, int)
    assert auc(np.array([4.0, 3, 2, 1]), relevant, users) == pytest.approx(3 / 4)
    assert auc(np.array([1.0, 2, 3, 4]), relevant, users) == pytest.approx(1 / 4)
    assert auc(np.ones(4), relevant, users) == 0.5
    brute = np.mean([1.0 if p > n else 0.5 if p == n else 0.0
                     for p in (2.0, 1.0) for n in (1.0, 0.0)])
    assert auc(np.array([2.0, 1, 1, 0]), relevant, users) == pytest.approx(brute)


def test_a_constant_scorer_gets_what_a_random_order_gets_on_average():
    rng = np.random.default_rng(0)
    relevant = (rng.uniform(size=(40, 20)) < 0.3).astype(float)
    users = np.repeat(np.arange(40), 20)
    constant = ndcg_at_k(np.zeros(800), relevant.ravel(), users, k=5)
    shuffled = np.mean([ndcg_at_k(rng.permutation(800).astype(float), relevant.ravel(), users,
                                  k=5) for _ in range(200)])
    assert constant == pytest.approx(shuffled, abs=0.01)
    assert auc(np.zeros(800), relevant.ravel(), users) == 0.5


def test_metrics_refuse_mismatched_lengths_and_scattered_users():
    with pytest.raises(ShapeError, match="3 scores but 2 labels"):
        ndcg_at_k([1.0, 2.0, 3.0], [1.0, 0.0], [0, 0])
    with pytest.raises(ValueError, match="contiguous"):
        auc([1.0, 2.0, 3.0], [1, 0, 1], [0, 1, 0])
    with pytest.raises(ShapeError, match=r"\(2, 2\)"):
        mean_squared_error(np.ones((2, 2)), np.ones(4))


def test_comparison_with_the_baseline_says_worse_when_it_is_worse():
    assert comparison(1.0, 4.0) == "4.00x lower than predicting the mean"
    assert comparison(5.0, 4.0).startswith("no better than predicting the mean (1.25x its error)")
