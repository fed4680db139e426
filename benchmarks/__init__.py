"""Benchmarks of tinygrad_edu against numpy's BLAS, a hand-written numpy MLP, PyTorch and
micrograd. Run ``python -m benchmarks.run`` (see ``run.py``); these are not tests."""
