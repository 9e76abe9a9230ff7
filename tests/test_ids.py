"""Protein names -> systematic ORFs (repbench.ids): precedence, ambiguity, case, URL-decoding.

The rules (docs/table-format.md, ids.py): a name is looked up as a systematic name first, then as a standard
gene name, then as an alias; the first level that knows the name decides, and if it points at two or more ORFs
the name is ambiguous (resolves to nothing) even when a lower level would have one answer. Matching ignores
case and surrounding whitespace, and URL-encoded names (``ADE5%2C7``) are decoded first.

The expectations on the shipped yeast-v1 map are computed here from idmap.tsv with the csv module, not with
the code under test.
"""

from __future__ import annotations

import csv
from collections import defaultdict

import pandas as pd
import pytest

from repbench.ids import IdMap, normalise

LEVELS = ("systematic", "standard", "alias")


def idmap_of(rows: list[tuple[str, str, str]]) -> IdMap:
    return IdMap(pd.DataFrame(rows, columns=["name", "orf", "kind"]))


@pytest.fixture(scope="module")
def levels(standards) -> dict[str, dict[str, set[str]]]:
    """{name: {kind: {ORFs}}} read straight from the shipped idmap.tsv."""
    table: dict[str, dict[str, set[str]]] = defaultdict(lambda: {kind: set() for kind in LEVELS})
    with open(standards.root / "idmap.tsv", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            table[row["name"]][row["kind"]].add(row["orf"])
    return dict(table)


def expected_orf(kinds: dict[str, set[str]]) -> str | None:
    """The plain rule: the first level that knows the name decides; one ORF there, or ambiguous (None)."""
    for kind in LEVELS:
        if kinds[kind]:
            return next(iter(kinds[kind])) if len(kinds[kind]) == 1 else None
    raise AssertionError("name unknown at every level")


# ---- the rules on small hand-made maps: each rule alone --------------------------------------------------


def test_systematic_beats_standard_and_alias():
    ids = idmap_of(
        [("YAL001C", "YAL001C", "systematic"), ("YAL001C", "YBR002W", "standard"), ("YAL001C", "YCR003C", "alias")]
    )
    assert ids.resolve_one("YAL001C") == "YAL001C"


def test_standard_beats_alias():
    ids = idmap_of([("ABC1", "YAL001C", "standard"), ("ABC1", "YBR002W", "alias")])
    assert ids.resolve_one("ABC1") == "YAL001C"
    ids = idmap_of([("ABC1", "YBR002W", "alias"), ("ABC1", "YAL001C", "standard")])  # row order plays no part
    assert ids.resolve_one("ABC1") == "YAL001C"


def test_systematic_beats_alias_without_a_standard_name():
    ids = idmap_of([("YAL001C", "YCR003C", "alias"), ("YAL001C", "YAL001C", "systematic")])
    assert ids.resolve_one("YAL001C") == "YAL001C"


def test_an_alias_alone_resolves():
    ids = idmap_of([("OTHER", "YCR003C", "alias"), ("ABC1", "YAL001C", "standard")])
    assert ids.resolve_one("other") == "YCR003C" and not ids.is_ambiguous("other")


def test_ambiguity_is_judged_at_the_first_level_that_knows_the_name():
    ids = idmap_of(
        [
            # unique standard name, ambiguous as an alias: the standard name decides
            ("PAT1", "YCR077C", "standard"),
            ("PAT1", "YKL188C", "alias"),
            ("PAT1", "YFL017C", "alias"),
            # ambiguous standard name, unique alias: ambiguous, the alias is never consulted
            ("DDI2", "YNL335W", "standard"),
            ("DDI2", "YFL061W", "standard"),
            ("DDI2", "YAL001C", "alias"),
            # ambiguous alias only
            ("ACT", "YAL002W", "alias"),
            ("ACT", "YAL003W", "alias"),
            # the same (name, ORF) pair listed twice is one ORF, not two
            ("TWICE", "YAL005C", "alias"),
            ("TWICE", "YAL005C", "alias"),
        ]
    )
    assert ids.resolve_one("PAT1") == "YCR077C" and not ids.is_ambiguous("PAT1")
    assert ids.resolve_one("DDI2") is None and ids.is_ambiguous("DDI2")
    assert ids.resolve_one("ACT") is None and ids.is_ambiguous("act")
    assert ids.resolve_one("TWICE") == "YAL005C" and not ids.is_ambiguous("TWICE")
    assert not ids.is_ambiguous("NOT-A-NAME") and ids.resolve_one("NOT-A-NAME") is None


def test_resolve_reports_unknown_and_ambiguous_names_as_given():
    ids = idmap_of([("ABC1", "YAL001C", "standard"), ("ACT", "YAL002W", "alias"), ("ACT", "YAL003W", "alias")])
    res = ids.resolve(["abc1", " Act ", "nope", "ABC1", "Nope"])
    assert res.orfs == ["YAL001C", None, None, "YAL001C", None]
    assert res.unknown == ["nope", "Nope"]  # as written in the table, in table order
    assert res.ambiguous == [" Act "]


@pytest.mark.parametrize(
    "given, key",
    [
        ("yal001c", "YAL001C"),
        ("  Tfc3\t", "TFC3"),
        ("ade5%2C7", "ADE5,7"),
        ("ADE5%2c7", "ADE5,7"),
        ("%20nup2%20", "NUP2"),
        ("YAL001C", "YAL001C"),
        ("%ZZ", "%ZZ"),
        (12, "12"),
    ],
)
def test_normalise_decodes_strips_and_upper_cases(given, key):
    assert normalise(given) == key


# ---- the shipped yeast-v1 map -----------------------------------------------------------------------------


def test_names_that_are_one_orfs_name_and_anothers_alias_resolve_to_the_higher_level(standards, levels):
    """125 names are the systematic (21) or standard (104) name of one ORF and an alias of another one."""
    clashes = {
        name: kinds
        for name, kinds in levels.items()
        if kinds["alias"]
        and (kinds["systematic"] or kinds["standard"])
        and kinds["alias"] - kinds["systematic"] - kinds["standard"]
    }
    standard_vs_alias = sorted(n for n, k in clashes.items() if k["standard"] and not k["systematic"])
    systematic_vs_alias = sorted(n for n, k in clashes.items() if k["systematic"])
    assert len(clashes) == 125 and len(standard_vs_alias) == 104 and len(systematic_vs_alias) == 21
    assert {"AAP1", "ADH5", "ANT1"} <= set(standard_vs_alias) and "YAR044W" in systematic_vs_alias
    idmap = standards.idmap
    wrong = {}
    for name in standard_vs_alias:
        (orf,) = levels[name]["standard"]  # each of them is one ORF's standard name
        if idmap.resolve_one(name) != orf or idmap.resolve_one(name.lower()) != orf:
            wrong[name] = (idmap.resolve_one(name), orf)
    for name in systematic_vs_alias:
        if idmap.resolve_one(name) != name:
            wrong[name] = (idmap.resolve_one(name), name)
    assert wrong == {}, f"{len(wrong)} names resolved to the wrong ORF: {dict(list(wrong.items())[:5])}"
    res = idmap.resolve(sorted(clashes))
    assert res.unknown == [] and res.ambiguous == []


def test_every_name_of_the_shipped_map_follows_the_first_level_rule(standards, levels):
    idmap = standards.idmap
    names = sorted(levels)
    got = idmap.resolve(names)
    expected = [expected_orf(levels[n]) for n in names]
    mismatches = [(n, g, e) for n, g, e in zip(names, got.orfs, expected) if g != e]
    assert mismatches == [], mismatches[:5]
    assert got.unknown == []
    assert sorted(got.ambiguous) == sorted(n for n, e in zip(names, expected) if e is None)
    assert len(got.ambiguous) > 400  # the shipped map does hold ambiguous names: the rule above is exercised
    assert idmap.is_ambiguous("DDI2") and idmap.resolve_one("PAT1") == "YCR077C"


def test_shipped_map_case_url_decoding_and_systematic_names(standards):
    idmap = standards.idmap
    assert idmap.resolve(["ade5%2C7", "ADE5,7", "Ade57", "nup2", " tfc3 ", "yal001c", "YAL001C"]).orfs == [
        "YGL234W",
        "YGL234W",
        "YGL234W",
        "YLR335W",
        "YAL001C",
        "YAL001C",
        "YAL001C",
    ]
    assert idmap.resolve_one("ADE5%2C8") is None and not idmap.is_ambiguous("ADE5%2C8")


def test_fallback_rewrites_apply_only_to_unknown_names_that_they_match_whole():
    """human-v1's fallbacks: a versioned Ensembl id or a UniProt isoform resolves through its base id."""
    table = pd.DataFrame(
        [
            ("ENSG1", "7157", "ensembl"),
            ("P04637", "7157", "uniprot"),
            ("P04637-2", "999", "uniprot"),
            ("X-1", "5", "ensembl"),
            ("P04637Z", "8", "uniprot"),
        ],
        columns=["name", "gene", "kind"],
    )
    ids = IdMap(
        table,
        precedence=("ensembl", "uniprot"),
        column="gene",
        fallbacks=((r"(ENSG\d+)\.\d+", r"\1"), (r"([A-Z0-9]+)-\d+", r"\1")),
    )
    assert ids.resolve_one("ensg1.17") == "7157" and ids.resolve_one("P04637-9") == "7157"
    assert ids.resolve_one("P04637-2") == "999"  # a known name is never rewritten
    assert ids.resolve_one("X-1") == "5"
    assert ids.resolve_one("ENSG1.17x") is None  # the pattern must match the whole name:
    assert ids.resolve_one("P04637-9Z") is None  # not rewritten to the known P04637Z
    assert ids.resolve_one("ENSG2.3") is None and ids.resolve(["ENSG2.3"]).unknown == ["ENSG2.3"]  # base unknown too
    assert ids.resolve(["ensg1.2", "Q1-1"]).orfs == ["7157", None]
