"""The textbook's production example: a recommendation-ranking MLP and a task it can learn.

The network scores one (user, item) pair from 128 features, the user's 64 and the item's 64:
128 → 256 → 128 → 64 → 1 with ReLU and He initialization, a raw score out. Real click logs
cannot ship with a library, so ``make_ranking_task`` draws users and items with a known
nonlinear ground truth (``GroundTruth``): how well a user's tastes match an item's traits, a
product of squashed projections that no linear model can represent, plus a popularity effect
that only counts above a threshold. Observed scores add noise, so the best any model can do is
known: the ground truth itself.

Users are split three ways: the network trains on some users' pairs, is validated every epoch
on other users, and is reported on a third group it never saw (the items are shared, as in a
catalogue). Every held-out user comes with the same number of candidate items, so ranking
metrics (``apps.metrics``) can ask: did the model put the relevant ones first?
"""

from dataclasses import dataclass

import numpy as np

from .. import nn
from ..errors import ArgumentError

__all__ = ["RANKING_SHAPE", "FEATURES", "ITEMS_PER_USER", "GroundTruth", "Split",
           "RankingTask", "make_ranking_task", "heldout_users", "train_pairs", "ranking_model"]

RANKING_SHAPE = (128, [256, 128, 64], 1)
USER_FEATURES = ITEM_FEATURES = 64
FEATURES = USER_FEATURES + ITEM_FEATURES
ITEMS_PER_USER = 32          # training pairs per training user
CANDIDATES = 50              # items scored per held-out user
RELEVANT_QUANTILE = 0.75     # an observed score in the top quarter of training scores is relevant
_TASTES = 4                  # latent taste dimensions of the ground truth
_GROUND_TRUTH_SEED = 2024    # the ground truth is the same for every --seed


@dataclass(frozen=True)
class GroundTruth:
    """The known scoring rule: ``affinity(u, v) = 2 * tanh(2 u·A) · tanh(2 v·B) + max(0, v·c)``.

    ``A`` and ``B`` (64 x 4) map a user's and an item's features to four tastes in (-1, 1);
    their dot product is the match. ``c`` is the direction of an item's popularity, which helps
    only once it is positive.
    """

    user_tastes: np.ndarray
    item_tastes: np.ndarray
    popularity: np.ndarray

    @classmethod
    def default(cls):
        rng = np.random.default_rng(_GROUND_TRUTH_SEED)
        scale = 1 / np.sqrt(USER_FEATURES)
        return cls(rng.standard_normal((USER_FEATURES, _TASTES)) * scale,
                   rng.standard_normal((ITEM_FEATURES, _TASTES)) * scale,
                   rng.standard_normal(ITEM_FEATURES) * scale)

    def affinity(self, users, items):
        """Noise-free scores of rows ``users`` (n, 64) paired with rows ``items`` (n, 64)."""
        match = np.tanh(2 * users @ self.user_tastes) * np.tanh(2 * items @ self.item_tastes)
        return 2 * match.sum(axis=1) + np.maximum(items @ self.popularity, 0)


@dataclass(frozen=True)
class Split:
    """One group of users' (user, item) pairs, contiguous per user.

    ``features`` (n, 128) float32, ``targets`` (n, 1) float32 observed scores, ``truth`` (n,)
    the noise-free affinities, ``users`` (n,) the user of each pair.
    """

    name: str
    features: np.ndarray
    targets: np.ndarray
    truth: np.ndarray
    users: np.ndarray

    def __len__(self):
        return len(self.targets)

    @property
    def n_users(self):
        return len(np.unique(self.users))


@dataclass(frozen=True)
class RankingTask:
    """Training, validation and test users' pairs, and what makes a pair relevant.

    ``relevance_threshold``: an observed score above it marks a relevant item (the top quarter
    of the training scores), for NDCG and AUC. ``noise``: the std of the observation noise.
    """

    train: Split
    validation: Split
    test: Split
    n_items: int
    noise: float
    relevance_threshold: float
    ground_truth: GroundTruth

    def relevant(self, split):
        """Boolean (n,): which of ``split``'s pairs are relevant."""
        return split.targets[:, 0] > self.relevance_threshold


def heldout_users(train_users):
    """Validation users, and as many test users, for ``train_users`` training users."""
    return max(10, train_users // 5)


def train_pairs(train_users):
    """How many training pairs ``make_ranking_task(train_users=...)`` draws."""
    return train_users * ITEMS_PER_USER


def make_ranking_task(train_users=1500, heldout_users=300, n_items=1000, noise=0.3, seed=0):
    """Draw the users, items and observed scores of a ``RankingTask``, reproducibly.

    ``train_users`` users with ``ITEMS_PER_USER`` items each train; ``heldout_users`` users
    for validation and as many for the test score ``CANDIDATES`` items each. ``seed`` draws
    the features, the pairs and the noise; the ground truth never changes.
    """
    for name, value, least in (("train_users", train_users, 1), ("heldout_users", heldout_users, 1),
                               ("n_items", n_items, CANDIDATES)):
        if not isinstance(value, (int, np.integer)) or value < least:
            raise ArgumentError(f"make_ranking_task: {name} must be an integer >= {least}, got "
                                f"{value!r}")
    if not noise >= 0:
        raise ArgumentError(f"make_ranking_task: noise must be >= 0, got {noise!r}")
    truth = GroundTruth.default()
    rng = np.random.default_rng(seed)
    users = rng.standard_normal((train_users + 2 * heldout_users, USER_FEATURES))
    items = rng.standard_normal((n_items, ITEM_FEATURES))
    groups = np.split(np.arange(len(users)), [train_users, train_users + heldout_users])
    splits = [_draw_split(name, ids, per_user, users, items, truth, noise, rng)
              for name, ids, per_user in zip(("train", "validation", "test"), groups,
                                             (ITEMS_PER_USER, CANDIDATES, CANDIDATES))]
    threshold = float(np.quantile(splits[0].targets, RELEVANT_QUANTILE))
    return RankingTask(*splits, n_items=n_items, noise=float(noise),
                       relevance_threshold=threshold, ground_truth=truth)


def _draw_split(name, user_ids, per_user, users, items, truth, noise, rng):
    pair_users = np.repeat(user_ids, per_user)
    # Each user sees distinct items, as a user is shown each item of a slate once.
    pair_items = np.concatenate([rng.choice(len(items), per_user, replace=False)
                                 for _ in user_ids])
    u, v = users[pair_users], items[pair_items]
    clean = truth.affinity(u, v)
    observed = clean + noise * rng.standard_normal(len(clean))
    return Split(name, np.hstack([u, v]).astype(np.float32),
                 observed[:, None].astype(np.float32), clean, pair_users)


def ranking_model(activation="relu", init="auto"):
    """The chapter's network, ``nn.MLP(128, [256, 128, 64], 1)``, with a raw score out
    (``init="auto"`` is He for the ReLU family)."""
    nin, hidden, nout = RANKING_SHAPE
    return nn.MLP(nin, hidden, nout, activation=activation, init=init)
