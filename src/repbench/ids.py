"""Protein names -> canonical protein ids, with the frozen identifier map of a standard set.

yeast-v1: systematic ORF names (YAL001C); human-v1: NCBI Gene (Entrez) ids (docs/standards.md). Each
standard set's manifest names its map's id column and the precedence of its name kinds; yeast-v1's is
``systematic``, then ``standard`` gene name, then ``alias``; human-v1's ``entrez``, ``ensembl``, ``uniprot``,
``symbol``.

Matching is case-insensitive and URL-decoded names (``ADE5%2C7``) are decoded first. A name is looked up
by precedence: the first kind (level) at which the name is found decides. If that level points at two or
more proteins, the name is ambiguous and resolves to nothing.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Iterable

import pandas as pd

#: yeast-v1's name kinds, highest precedence first
_PRECEDENCE = ("systematic", "standard", "alias")


def normalise(name: str) -> str:
    return urllib.parse.unquote(str(name)).strip().upper()


@dataclass(frozen=True)
class Resolution:
    """Each input name's ORF (``None`` when not resolved), and the names that were unknown or ambiguous."""

    orfs: list[str | None]
    unknown: list[str]
    ambiguous: list[str]


class IdMap:
    """table: rows (name, <column>, kind); precedence: the kinds, highest first; fallbacks: (pattern,
    replacement) regular-expression rewrites tried in order on a (normalised) name the map does not know, e.g.
    human-v1's ``ENSG00000141510.17`` -> ``ENSG00000141510`` (Ensembl version) and ``P04637-2`` -> ``P04637``
    (UniProt isoform); the first rewrite that matches the whole name and is known is used."""

    def __init__(
        self,
        table: pd.DataFrame,
        precedence: tuple[str, ...] = _PRECEDENCE,
        column: str = "orf",
        fallbacks: tuple[tuple[str, str], ...] = (),
    ):
        self._fallbacks = [(re.compile(pattern), replacement) for pattern, replacement in fallbacks]
        lookup: dict[str, str | None] = {}
        for kind in reversed(precedence):  # higher precedence written last, overriding
            sub = table.loc[table["kind"] == kind, ["name", column]].drop_duplicates()
            n_orfs = sub.groupby("name")[column].transform("size").to_numpy()
            lookup.update(zip(sub["name"], [o if n == 1 else None for o, n in zip(sub[column], n_orfs)]))
        self._lookup = lookup

    def _key(self, name: str) -> str:
        key = normalise(name)
        if key not in self._lookup:
            for pattern, replacement in self._fallbacks:
                if pattern.fullmatch(key) and (rewritten := pattern.sub(replacement, key)) in self._lookup:
                    return rewritten
        return key

    def resolve_one(self, name: str) -> str | None:
        return self._lookup.get(self._key(name))

    def is_ambiguous(self, name: str) -> bool:
        key = self._key(name)
        return key in self._lookup and self._lookup[key] is None

    def resolve(self, names: Iterable[str]) -> Resolution:
        orfs: list[str | None] = []
        unknown: list[str] = []
        ambiguous: list[str] = []
        for name in names:
            key = self._key(name)
            if key not in self._lookup:
                unknown.append(str(name))
                orfs.append(None)
            elif self._lookup[key] is None:
                ambiguous.append(str(name))
                orfs.append(None)
            else:
                orfs.append(self._lookup[key])
        return Resolution(orfs, unknown, ambiguous)
