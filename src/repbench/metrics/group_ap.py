"""Per-group mAP: each member of a group as a query, retrieving the group's other members.

For query q and group g containing q: rank every other protein of the tier by S[q, .] and take the average
precision (sklearn tie semantics, as for ``map``) with the positives = the other members of g. A group's mAP is
the mean of that AP over its members; groups with fewer than 2 members have none.

Per block of at most ``MAX_BLOCK_ROWS`` query rows the rows are sorted once (shifted by ``ROW_SPAN`` as in
:mod:`.query_ap`); every (query, group) pair then reads its positives' ranks with one ``searchsorted`` and their
ranks among the positives from one ``lexsort`` of (pair, score).
"""

from __future__ import annotations

import numpy as np

from .query_ap import EXCLUDED, MAX_BLOCK_ROWS, ROW_SPAN


def _members_csr(membership: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(indptr (groups + 1,), member rows) of each column of a 0/1 membership matrix (n, groups)."""
    group_of, row_of = np.nonzero(membership.T)  # row-major over groups: members of group 0 first
    indptr = np.searchsorted(group_of, np.arange(membership.shape[1] + 1))
    return indptr, row_of


def query_group_ap(rows, membership: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AP of every (query, group) pair with the query in the group and the group of >= 2 members.

    rows(start, stop) -> int64 (stop - start, n) integer scores of queries start..stop-1 against all n
    proteins (the evaluator's ``DotProducts.rows``); membership: 0/1 (n, groups). Returns (query (m,), group
    (m,), ap (m,)) sorted by query, then group.
    """
    n, n_groups = membership.shape
    indptr, member_rows = _members_csr(membership)
    size = np.diff(indptr)
    out_q, out_g, out_ap = [], [], []
    for start in range(0, n, MAX_BLOCK_ROWS):
        stop = min(start + MAX_BLOCK_ROWS, n)
        b = stop - start
        local_q, group = np.nonzero(membership[start:stop] > 0)
        keep = size[group] >= 2
        local_q, group = local_q[keep], group[keep]
        if local_q.size == 0:
            continue
        scores = rows(start, stop)
        self_col = np.arange(start, stop)
        keyed = scores.copy()
        keyed[np.arange(b), self_col] = EXCLUDED
        keyed += (np.arange(b) * ROW_SPAN)[:, None]
        all_sorted = np.sort(keyed).ravel()
        # the positives of every pair: the group's members except the query
        lengths = size[group]
        pair = np.repeat(np.arange(local_q.size), lengths)
        offsets = np.arange(pair.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        item = member_rows[np.repeat(indptr[group], lengths) + offsets]
        query_row = local_q[pair]
        positive = item != start + query_row
        pair, item, query_row = pair[positive], item[positive], query_row[positive]
        key = keyed[query_row, item]
        ranked_at = (query_row + 1) * n - np.searchsorted(all_sorted, key)  # items scoring >= it
        order = np.lexsort((key, pair))
        pair_s, key_s, ranked_s = pair[order], key[order], ranked_at[order]
        new_run = np.r_[True, (pair_s[1:] != pair_s[:-1]) | (key_s[1:] != key_s[:-1])]
        run_start = np.maximum.accumulate(np.where(new_run, np.arange(pair_s.size), 0))
        count = np.bincount(pair_s)  # positives per pair; every pair has one, so all local_q.size pairs are counted
        tp_at = np.cumsum(count)[pair_s] - run_start  # positives of the pair scoring >= it
        ap = np.bincount(pair_s, weights=tp_at / ranked_s) / count
        out_q.append(start + local_q)
        out_g.append(group)
        out_ap.append(ap)
    if not out_q:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(out_q), np.concatenate(out_g), np.concatenate(out_ap)


def group_map(groups: np.ndarray, ap: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(mAP (n_groups,), members (n_groups,)) from the pairs of :func:`query_group_ap`; NaN for no members.

    Each group's mean is taken over its pairs in query order (one sequential ``bincount`` sum).
    """
    count = np.bincount(groups, minlength=n_groups)
    total = np.bincount(groups, weights=ap, minlength=n_groups)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan), count  # never divides by 0
