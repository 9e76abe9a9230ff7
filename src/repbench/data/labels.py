"""Localization labels: DeepLoc's 17 classes, the shipped Huh et al. 2003 table, user label tables.

The default labels come from the YeastGFP table (Huh 2003), whose 23 localization flags are mapped onto
DeepLoc's 17 protein classes by :data:`HUH_TO_CLASS`. A protein with several mapped flags gets the first
of them in :data:`PRIORITY` (the most specific compartment wins: a protein seen in the nucleus and the
cytoplasm is NUCLEI). Flags with no DeepLoc class (ambiguous, punctate composite, lipid particle) are
ignored; a protein left with no mapped flag has no label (-1). docs/data.md restates all of this.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..errors import RepbenchError

_RESOURCES = ("resources", "localization")

#: DeepLoc's localization classes (Chong et al. 2015), in the order of its class file. DEAD and GHOST
#: (dead cells, empty crops) are not protein localizations and are left out.
CLASSES: list[str] = [
    "ACTIN",
    "BUDNECK",
    "BUDTIP",
    "CELL PERIPHERY",
    "CYTOPLASM",
    "ENDOSOME",
    "ER",
    "GOLGI",
    "MITOCHONDRIA",
    "NUCLEAR PERIPHERY",
    "NUCLEI",
    "NUCLEOLUS",
    "PEROXISOME",
    "SPINDLE",
    "SPINDLEPOLE",
    "VACUOLAR MEMBRANE",
    "VACUOLE",
]

#: Huh 2003 localization flag -> DeepLoc class. Flags absent here carry no class: "ambiguous" (no call),
#: "punctate composite" (unresolved dots: could be Golgi, endosome, peroxisome...) and "lipid particle"
#: (DeepLoc has no lipid-droplet class).
HUH_TO_CLASS: dict[str, str] = {
    "nucleus": "NUCLEI",
    "nucleolus": "NUCLEOLUS",
    "nuclear periphery": "NUCLEAR PERIPHERY",
    "mitochondrion": "MITOCHONDRIA",
    "ER": "ER",
    "vacuole": "VACUOLE",
    "vacuolar membrane": "VACUOLAR MEMBRANE",
    "cell periphery": "CELL PERIPHERY",
    "bud neck": "BUDNECK",
    "bud": "BUDTIP",
    "spindle pole": "SPINDLEPOLE",
    "microtubule": "SPINDLE",
    "actin": "ACTIN",
    "cytoplasm": "CYTOPLASM",
    "endosome": "ENDOSOME",
    "Golgi": "GOLGI",
    "early Golgi": "GOLGI",
    "late Golgi": "GOLGI",
    "ER to Golgi": "GOLGI",
    "peroxisome": "PEROXISOME",
}

#: Several classes -> the first one in this order: small, specific structures before large or diffuse
#: compartments, so the class names what makes the protein's image distinctive.
PRIORITY: list[str] = [
    "SPINDLEPOLE",
    "BUDNECK",
    "BUDTIP",
    "ACTIN",
    "SPINDLE",
    "PEROXISOME",
    "ENDOSOME",
    "GOLGI",
    "NUCLEOLUS",
    "NUCLEAR PERIPHERY",
    "VACUOLAR MEMBRANE",
    "MITOCHONDRIA",
    "ER",
    "VACUOLE",
    "CELL PERIPHERY",
    "NUCLEI",
    "CYTOPLASM",
]
assert sorted(PRIORITY) == sorted(CLASSES)

#: The 23 localization flag columns of the Huh table, in file order.
HUH_FLAGS: list[str] = [
    "ambiguous",
    "mitochondrion",
    "vacuole",
    "spindle pole",
    "cell periphery",
    "punctate composite",
    "vacuolar membrane",
    "ER",
    "nuclear periphery",
    "endosome",
    "bud neck",
    "microtubule",
    "Golgi",
    "late Golgi",
    "peroxisome",
    "actin",
    "nucleolus",
    "cytoplasm",
    "ER to Golgi",
    "early Golgi",
    "lipid particle",
    "nucleus",
    "bud",
]


def resource_path(name: str) -> Path:
    return Path(str(resources.files("repbench").joinpath(*_RESOURCES, name)))


@lru_cache(maxsize=1)
def huh_table() -> pd.DataFrame:
    """The shipped Huh 2003 table: columns orf, gene, abundance (float, NaN when not measured), one bool per flag."""
    raw = pd.read_csv(resource_path("huh2003_yeastgfp.csv"), dtype=str, keep_default_na=False)
    table = pd.DataFrame(
        {
            "orf": raw["yORF"].str.strip().str.upper(),
            "gene": raw["gene name"].str.strip(),
            "abundance": pd.to_numeric(raw["abundance"], errors="coerce"),
        }
    )
    for flag in HUH_FLAGS:
        table[flag] = raw[flag].eq("T").to_numpy()
    return table


def class_of_flags(flags: Iterable[str]) -> str | None:
    """The DeepLoc class for a set of Huh flags by the priority rule; None when no flag maps to a class."""
    mapped = {HUH_TO_CLASS[f] for f in flags if f in HUH_TO_CLASS}
    return next((c for c in PRIORITY if c in mapped), None)


@lru_cache(maxsize=1)
def huh_classes() -> dict[str, str]:
    """Huh proteins with a usable class: {ORF: class} and {GENE NAME: class}, keys upper case."""
    table = huh_table()
    flag_matrix = table[HUH_FLAGS].to_numpy()
    out: dict[str, str] = {}
    for orf, gene, row in zip(table["orf"], table["gene"], flag_matrix):
        cls = class_of_flags(f for f, on in zip(HUH_FLAGS, row) if on)
        if cls is None:
            continue
        out[orf] = cls
        if gene:
            out[gene.upper()] = cls
            out[gene.upper().rstrip("'")] = cls  # the table writes some names with a prime (AAP1')
    return out


@lru_cache(maxsize=1)
def _idmap():
    """The frozen identifier map, loaded once (None if the standards cannot be loaded)."""
    from .. import standards

    try:
        return standards.load().idmap
    except RepbenchError:  # a broken standards install must not block labelling; fall back to the table
        return None


def _standards_orf(name: str) -> str | None:
    """Resolve a gene name to its ORF with the frozen identifier map (None if unknown or ambiguous)."""
    idmap = _idmap()
    return idmap.resolve_one(name) if idmap is not None else None


def default_labels(proteins: Iterable[str]) -> dict[str, str]:
    """Huh classes for the given protein names (ORF or gene name, any case); unmatched names are left out.

    A name is looked up as given (ORF or Huh gene name), then via the standards identifier map (so a
    current gene name that the 2003 table spelt differently still finds its ORF).
    """
    classes = huh_classes()
    out: dict[str, str] = {}
    for name in proteins:
        key = str(name).strip().upper()
        cls = classes.get(key)
        if cls is None:
            orf = _standards_orf(key)
            cls = classes.get(orf) if orf else None
        if cls is not None:
            out[str(name)] = cls
    return out


def read_labels_table(path: str | Path) -> dict[str, str]:
    """A user labels table: CSV or TSV with a header; columns ``protein`` and ``class`` (or ``label`` /
    ``localization``). Returns {PROTEIN NAME (upper case): class name}; rows with an empty class are skipped."""
    path = Path(path)
    if not path.is_file():
        raise RepbenchError("labels-not-found", "labels table not found", path=path)
    try:
        text = path.read_text()
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        frame = pd.read_csv(path, sep=dialect.delimiter, dtype=str, keep_default_na=False)
    except (csv.Error, pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise RepbenchError("labels-bad-table", f"cannot parse the labels table ({error})", path=path)
    columns = {c.strip().lower(): c for c in frame.columns}
    class_column = next((columns[c] for c in ("class", "label", "localization") if c in columns), None)
    if "protein" not in columns or class_column is None:
        raise RepbenchError(
            "labels-bad-table",
            f"the labels table needs a header with columns 'protein' and 'class'; found {list(frame.columns)}",
            path=path,
        )
    proteins = frame[columns["protein"]].str.strip().str.upper()
    names = frame[class_column].str.strip()
    keep = names.ne("") & proteins.ne("")
    table: dict[str, str] = {}
    conflicts = []
    for protein, name in zip(proteins[keep], names[keep]):
        if table.get(protein, name) != name:
            conflicts.append(protein)
        table[protein] = name
    if conflicts:
        raise RepbenchError("labels-conflict", "proteins listed with two different classes", rows=conflicts, path=path)
    return table


def class_list_for(names: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """The class vocabulary for a set of class names, and each name's canonical spelling.

    Names that are all DeepLoc classes (any case) use :data:`CLASSES`; otherwise the sorted distinct names."""
    names = set(names)
    upper = {n: n.strip().upper() for n in names}
    if all(u in CLASSES for u in upper.values()):
        return list(CLASSES), upper
    return sorted(names), {n: n for n in names}


def label_codes(proteins: Iterable[str], labels: str | Path | dict | None) -> tuple[list[str], dict[str, int]]:
    """Class vocabulary and {protein name: class index} for the given proteins (unlisted -> absent = -1).

    ``labels``: None (the Huh default), a path to a labels table, or a {protein: class name} mapping.
    """
    proteins = list(proteins)
    if labels is None:
        by_name = default_labels(proteins)
        return list(CLASSES), {p: CLASSES.index(c) for p, c in by_name.items()}
    table = (
        read_labels_table(labels)
        if isinstance(labels, (str, Path))
        else {str(k).strip().upper(): str(v) for k, v in labels.items()}
    )
    classes, canonical = class_list_for(table.values())
    position = {c: i for i, c in enumerate(classes)}
    codes = {}
    for p in proteins:
        name = table.get(str(p).strip().upper())
        if name is not None:
            codes[p] = position[canonical[name]]
    return classes, codes
