"""One small module per metric: pure, vectorised functions on arrays (see docs/evaluation.md).

- :mod:`.correlation`        fixed-point Pearson correlation, exact and identical on every machine
- :mod:`.average_precision`  AP and the precision-recall curve over pairs, with tie semantics of sklearn
- :mod:`.f_beta`             the best F-beta over the points of a precision-recall curve
- :mod:`.query_ap`           per-query average precision (for mAP) and the bootstrap interval
- :mod:`.ami`                adjusted mutual information and the best cut of a hierarchical clustering
"""
