"""Huh et al. (2003) localization of each yeast protein, grouped into the ten classes the site shows.

Used by the t-SNE map's colours (plots.py), the sample records (samples.py) and the label-overlap statistic
(overlap.py). Imports no matplotlib, so a warm build that draws nothing never loads it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Mapping, Sequence

#: Huh et al. localization columns grouped into the classes a reader can tell apart on a map, in the order
#: that decides a protein seen in several places: the most specific compartment wins, cytoplasm last.
LOCALIZATION_CLASSES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("nucleolus", "#d69e2e", ("nucleolus",)),
    ("mitochondrion", "#e53e3e", ("mitochondrion",)),
    ("ER", "#38a169", ("ER", "ER to Golgi")),
    (
        "Golgi, endosome, punctate",
        "#d53f8c",
        ("Golgi", "early Golgi", "late Golgi", "endosome", "punctate composite", "peroxisome", "lipid particle"),
    ),
    ("vacuole", "#805ad5", ("vacuole", "vacuolar membrane")),
    ("cell periphery", "#dd6b20", ("cell periphery",)),
    ("bud, bud neck, actin", "#319795", ("bud", "bud neck", "actin")),
    ("spindle, microtubule", "#2d3748", ("spindle pole", "microtubule")),
    ("nucleus", "#3182ce", ("nucleus", "nuclear periphery")),
    ("cytoplasm", "#a0aec0", ("cytoplasm",)),
)
UNASSIGNED = ("not localized / not in Huh table", "#cbd5e0")


@lru_cache(maxsize=1)
def huh_localizations() -> dict[str, frozenset[str]]:
    """ORF -> the Huh et al. (2003) localization columns marked T (the 'ambiguous' flag left out)."""
    import pandas as pd

    path = resources.files("repbench") / "resources" / "localization" / "huh2003_yeastgfp.csv"
    with resources.as_file(path) as csv:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    places = [c for c in table.columns[5:] if c != "ambiguous"]
    flags = table[places].to_numpy() == "T"
    return {orf: frozenset(p for p, f in zip(places, row) if f) for orf, row in zip(table["yORF"], flags)}


def localization_classes(orfs: Sequence[str], huh: Mapping[str, frozenset[str]]) -> list[int]:
    """Index into LOCALIZATION_CLASSES per protein (len(LOCALIZATION_CLASSES) = unassigned)."""
    out = []
    for orf in orfs:
        places = huh.get(orf, frozenset())
        out.append(
            next(
                (i for i, (_, _, cols) in enumerate(LOCALIZATION_CLASSES) if places & set(cols)),
                len(LOCALIZATION_CLASSES),
            )
        )
    return out
