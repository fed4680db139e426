"""The ranking MLP in PyTorch, for the benchmarks' PyTorch contenders (when torch is installed)."""

__all__ = ["torch_with_threads", "torch_train_step"]


def torch_with_threads(threads):
    """The torch module set to ``threads`` threads, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def torch_train_step(torch, batch, sizes):
    """One SGD training step (MSE) of an MLP of ``sizes`` (ReLU between the layers) on a
    random batch, as a no-argument function."""
    torch.manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, sizes[0]), torch.randn(batch, 1)

    def step():
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return step
