"""Verdicts a reader can trust: paired tests, rank intervals and multiple-testing corrections (docs/evaluation.md).

- :mod:`.queries`    per-query APs of a table (the values whose mean is ``map``), computed once and cached
- :mod:`.bootstrap`  the one paired bootstrap over proteins: ``paired_test``, ``pairwise_tests``,
  ``rank_intervals`` (one tier), ``rank_table`` (every tier and overall)
- :mod:`.compare`    ``compare_tables``: table A vs table B per tier (map, f05, ami) and per group
- :mod:`.f05`, :mod:`.groups`  the cheaper paired F0.5 bootstrap; the per-group sign-flip comparison
- ``holm`` and ``benjamini_hochberg`` (from :mod:`repbench.metrics.multiple_testing`)
"""

from ..metrics.multiple_testing import benjamini_hochberg, holm
from .bootstrap import PairedTest, paired_test, pairwise_tests, rank_intervals, rank_table, resample_weights, universe
from .compare import compare_tables, write_terms
from .queries import compute_query_aps, query_aps

__all__ = [
    "PairedTest",
    "benjamini_hochberg",
    "compare_tables",
    "compute_query_aps",
    "holm",
    "pairwise_tests",
    "paired_test",
    "query_aps",
    "write_terms",
    "rank_intervals",
    "rank_table",
    "resample_weights",
    "universe",
]
