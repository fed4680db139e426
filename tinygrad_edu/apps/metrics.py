"""What a ranking practitioner reads: NDCG@k and AUC per user, averaged over users.

Both are computed on host numbers (the model's scores, read with ``.numpy()``) for pairs that
are contiguous per user. Tied scores are ranked fairly: NDCG gives each position of a tie the
tie's mean gain (the expected DCG over every order of the tie, McSherry & Najork 2008) and AUC
counts a tie as half a win, so a model that scores every item the same (predicting the mean)
gets exactly what a random order gets on average.
"""

import numpy as np

from ..errors import ArgumentError, ShapeError

__all__ = ["mean_squared_error", "ndcg_at_k", "auc", "ranking_metrics", "comparison"]


def mean_squared_error(scores, targets):
    """Mean of ``(scores - targets)^2`` as a float (float64 accumulation)."""
    scores, targets = _flat(scores, "scores"), _flat(targets, "targets")
    _same_length(scores, targets, "mean_squared_error")
    return float(np.mean((scores - targets) ** 2))


def _flat(values, name):
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ShapeError(f"metrics: {name} must have shape (n,) or (n, 1), got {array.shape}")
    return array


def _same_length(a, b, where):
    if len(a) != len(b):
        raise ShapeError(f"{where}: got {len(a)} scores but {len(b)} labels")


def _groups(users):
    """Slices of the runs of equal ``users`` entries, checking that each user's pairs are
    contiguous."""
    users = np.asarray(users)
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    if len(starts) != len(np.unique(users)):
        raise ArgumentError("metrics: each user's pairs must be contiguous")
    ends = np.r_[starts[1:], len(users)]
    return [slice(int(a), int(b)) for a, b in zip(starts, ends)]


def _tie_runs(sorted_scores):
    """Start of each run of equal values in a sorted array, and the run lengths."""
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    return starts, np.diff(np.r_[starts, len(sorted_scores)])


def _ndcg_one(scores, gains, k):
    order = np.argsort(-scores, kind="stable")
    ranked_scores, ranked_gains = scores[order], gains[order]
    starts, lengths = _tie_runs(ranked_scores)
    tied_gains = np.repeat(np.add.reduceat(ranked_gains, starts) / lengths, lengths)
    discounts = 1 / np.log2(np.arange(2, min(k, len(gains)) + 2))
    ideal = np.sort(gains)[::-1][:len(discounts)] @ discounts
    return float(tied_gains[:len(discounts)] @ discounts / ideal)


def ndcg_at_k(scores, relevant, users, k=10):
    """Mean over users of NDCG@k, with gain 1 for a relevant item and 0 otherwise.

    Users without a relevant item have no ideal ranking and are left out. Returns NaN when no
    user has one.
    """
    scores, gains = _flat(scores, "scores"), _flat(relevant, "relevant")
    _same_length(scores, gains, "ndcg_at_k")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ArgumentError(f"ndcg_at_k: k must be a positive integer, got {k!r}")
    values = [_ndcg_one(scores[g], gains[g], k) for g in _groups(users) if gains[g].any()]
    return float(np.mean(values)) if values else float("nan")


def _auc_one(scores, positive):
    # Mann-Whitney U with mid-ranks: a tie between a positive and a negative counts 1/2.
    order = np.argsort(scores, kind="stable")
    starts, lengths = _tie_runs(scores[order])
    mid_ranks = np.repeat(starts + (lengths + 1) / 2, lengths)
    ranks = np.empty(len(scores))
    ranks[order] = mid_ranks
    n_pos = int(positive.sum())
    n_neg = len(scores) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auc(scores, relevant, users):
    """Mean over users of the area under the ROC curve: the chance that a relevant item of the
    user scores above an irrelevant one. Users with only one kind are left out (NaN if all)."""
    scores = _flat(scores, "scores")
    positive = _flat(relevant, "relevant") > 0
    _same_length(scores, positive, "auc")
    values = [_auc_one(scores[g], positive[g]) for g in _groups(users)
              if 0 < positive[g].sum() < g.stop - g.start]
    return float(np.mean(values)) if values else float("nan")


def ranking_metrics(scores, targets, relevant, users, k=10):
    """``{"mse", "ndcg@k", "auc"}`` of ``scores`` against observed ``targets`` and the
    ``relevant`` flags, per user."""
    return {"mse": mean_squared_error(scores, targets),
            f"ndcg@{k}": ndcg_at_k(scores, relevant, users, k),
            "auc": auc(scores, relevant, users)}


def comparison(model_error, baseline_error):
    """How a model's error compares with predicting the mean, in words true either way."""
    if model_error < baseline_error:
        return f"{baseline_error / model_error:.2f}x lower than predicting the mean"
    return (f"no better than predicting the mean ({model_error / baseline_error:.2f}x its "
            "error): the network has not learned the task")
