"""One small module per metric: pure, vectorised functions on arrays (see docs/evaluation.md).

- :mod:`.correlation`        fixed-point Pearson correlation, exact and identical on every machine
- :mod:`.average_precision`  AP and the precision-recall curve over pairs, with tie semantics of sklearn
- :mod:`.f_beta`             the best F-beta over the points of a precision-recall curve
- :mod:`.query_ap`           per-query average precision (for mAP) and the bootstrap interval
- :mod:`.ami`                adjusted mutual information and the best cut of a hierarchical clustering
- :mod:`.group_ap`           per-group mAP: each member of a group retrieving the group's other members
- :mod:`.query_significance` each query's AP against a permutation null; the fraction of queries retrieved
- :mod:`.multiple_testing`   Holm and Benjamini-Hochberg adjusted p-values
- :mod:`.portable`           the CPU-independent arithmetic they share: fixed-order sums, exp, decimal log tables
"""
