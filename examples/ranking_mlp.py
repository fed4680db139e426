"""The chapter's ranking network, trained by hand: 128 features (a user's 64, an item's 64)
→ 256 → 128 → 64 → 1, ReLU, He init, on users x items with a known nonlinear ground truth.

The loop is written out here; `tinygrad-edu demo` runs the same job with a progress bar, plots
and a report page.

    python examples/ranking_mlp.py                # 3 epochs over 48,000 pairs
    python examples/ranking_mlp.py --users 200    # smaller and faster
"""

import argparse

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn, no_grad, optim
from tinygrad_edu.apps.metrics import ndcg_at_k
from tinygrad_edu.apps.ranking import make_ranking_task

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--users", type=int, default=1500, help="training users (default: 1500)")
parser.add_argument("--epochs", type=int, default=3, help="epochs (default: 3)")
args = parser.parse_args()

task = make_ranking_task(train_users=args.users, heldout_users=max(10, args.users // 5))
tg.manual_seed(0)
model = nn.MLP(128, [256, 128, 64], 1, activation="relu", init="he_normal")
opt = optim.Adam(model.parameters(), lr=1e-3)
x, y = task.train.features, task.train.targets
rng = np.random.default_rng(0)


def ndcg_of(scores):
    return ndcg_at_k(scores, task.relevant(task.test), task.test.users, k=10)


for epoch in range(1, args.epochs + 1):
    order = rng.permutation(len(x))
    for start in range(0, len(x), 256):
        rows = order[start:start + 256]
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(Tensor(x[rows])), Tensor(y[rows]))
        loss.backward()
        opt.step()
    with no_grad():
        scores = model(Tensor(task.test.features)).numpy()
    mse = float(np.mean((scores - task.test.targets) ** 2))
    print(f"epoch {epoch}  last batch loss {loss.item():.3f}  test MSE {mse:.3f}  "
          f"test NDCG@10 {ndcg_of(scores):.3f}")

mean_score = np.full(len(task.test), task.train.targets.mean())
print(f"predicting the mean: test MSE {np.mean((mean_score - task.test.targets[:, 0]) ** 2):.3f}"
      f", NDCG@10 {ndcg_of(mean_score):.3f};  the ground truth itself: NDCG@10 "
      f"{ndcg_of(task.test.truth):.3f}")

fast = model.compile()          # the fused inference path: the whole network in one call
best = np.argsort(-fast(task.test.features[:50])[:, 0])[:5]
print(f"the first test user's top 5 of 50 candidates: {best.tolist()}")
