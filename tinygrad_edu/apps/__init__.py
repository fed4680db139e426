"""The chapter's programs; nothing in the library imports this package.

- ``cli``: the ``tinygrad-edu`` command line, with ``arguments`` (checking what was typed);
- ``demo``: the main job (``tinygrad-edu demo``), built from ``ranking`` (the task and the
  network), ``training`` (epochs, validation, divergence), ``metrics`` (NDCG@k, AUC),
  ``latency``, ``plots``, ``report`` (the HTML page) and ``console`` (what it prints);
- ``train_command``, ``chapter_plots``, ``gradchecks`` and ``environment``: the ``train``,
  ``plot``, ``gradcheck`` and ``info`` commands;
- ``dependencies``: matplotlib and tqdm, with the line that installs each.
"""

__all__ = []
