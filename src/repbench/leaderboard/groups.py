"""The groups a row recovers best and worst, for its page: read off the record's per-group mAP.

Evaluator 1.1.0 records carry, per tier, ``group_map = {group id: [the group's own mAP, members]}`` (each
member of the group as a query, retrieving the other members: docs/evaluation.md, step 9). A group of two has
one pair, so its mAP is 1 or a rank's reciprocal: noise at the extremes. The page therefore lists groups with
at least ``MIN_MEMBERS`` members, and all groups only when a tier has too few of those to fill both lists.
"""

from __future__ import annotations

from dataclasses import dataclass

SHOWN = 5
MIN_MEMBERS = 3


@dataclass(frozen=True)
class GroupScore:
    group: str  # the group's id (GO term, pathway, complex)
    name: str  # its name in the standards ('' when unknown)
    members: int  # its members among the row's proteins
    map: float  # its own mAP


def extremes(group_map: dict, names: dict[str, str], shown: int = SHOWN) -> tuple[list[GroupScore], list[GroupScore]]:
    """(best, worst): at most ``shown`` groups each, best first and worst first; ties by size (larger first),
    then id, so the lists are the same on every build. ``group_map``: {id: [mAP, members]}; ``names``: {id: name}."""
    rows = [GroupScore(g, names.get(g, ""), int(size), float(value)) for g, (value, size) in group_map.items()]
    large = [r for r in rows if r.members >= MIN_MEMBERS]
    pool = large if len(large) >= 2 * shown else rows
    best = sorted(pool, key=lambda r: (-r.map, -r.members, r.group))[:shown]
    taken = {r.group for r in best}
    worst = [r for r in sorted(pool, key=lambda r: (r.map, -r.members, r.group)) if r.group not in taken][:shown]
    return best, worst


def page_groups(record: dict, tiers: list[str], names: dict[str, dict[str, str]]) -> dict[str, tuple[list, list]]:
    """tier -> (best, worst) for the tiers of the record that have a ``group_map`` (older records: none)."""
    out = {}
    for tier in tiers:
        group_map = (record["tiers"].get(tier) or {}).get("group_map")
        if group_map:
            out[tier] = extremes(group_map, names.get(tier, {}))
    return out


def group_names(version: str, tiers: list[str]) -> dict[str, dict[str, str]]:
    """tier -> {group id: name} of a shipped standard set ({} for a set that is not shipped)."""
    from .. import standards

    try:
        loaded = standards.load(version.partition("+")[0])
    except (ValueError, OSError):  # RepbenchError is a ValueError: not shipped here
        return {}
    return {t: dict(loaded.tiers[t].group_names) for t in tiers if t in loaded.tiers}
