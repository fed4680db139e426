"""The chapter's programs: the ``tinygrad-edu`` command line (``cli``) and the ranking job
(``ranking``). Nothing in the library imports this package."""

__all__ = []
