#!/usr/bin/env python3
"""Build the frozen standards "yeast-v1" from their real public sources.

Run once by a maintainer, never at run time:

    python standards/build_standards.py --sources ../shared/data

It reads the SGD, BIONIC (KEGG, Complex Portal) and Huh 2003 files under ``--sources`` and writes
``src/repbench/resources/standards/yeast-v1/`` (reachable as ``standards/yeast-v1``):

    tiers/<tier>.tsv          group_id, group_name, orf  (long format, sorted)
    idmap.tsv                 name, orf, kind            (kind: systematic | standard | alias)
    reference_proteome.txt    the 4,155 ORFs of Huh et al. 2003, sorted
    manifest.json             version, sha256 of every file above, tier sizes, sources
    NOTICE                    licences and citations of every source

The output is byte-for-byte reproducible from the same sources. Changing any rule here means a new
standards version (yeast-v2), never an edit of yeast-v1.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import urllib.parse
from collections import defaultdict
from pathlib import Path

VERSION = "yeast-v1"
HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "repbench" / "resources" / "standards" / VERSION

# tier -> (min, max) distinct ORFs per group, as frozen in docs/evaluation.md
SIZE_RULES = {"go_cc": (3, 200), "go_bp": (3, 200), "kegg": (3, 200), "complex": (2, 200)}
# SGD_features feature types that carry a systematic ORF-like name worth mapping
GENE_FEATURE_TYPES = {"ORF", "transposable_element_gene", "pseudogene", "blocked_reading_frame"}


def read_go_slim(path: Path) -> tuple[dict[str, dict[str, set[str]]], dict[str, str], list[tuple[str, str]]]:
    """GO-slim rows of ORFs -> {aspect: {go_id: {orf}}}, {go_id: term name}, [(orf, gene)]."""
    groups: dict[str, dict[str, set[str]]] = {"C": defaultdict(set), "P": defaultdict(set)}
    names: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    with open(path, newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 7 or not row[6].startswith("ORF"):
                continue
            orf, gene, _sgdid, aspect, term, go_id = (c.strip() for c in row[:6])
            pairs.append((orf, gene))
            if aspect in groups and go_id:
                groups[aspect][go_id].add(orf.upper())
                names[go_id] = term
    return groups, names, pairs


def read_modules(path: Path) -> dict[str, set[str]]:
    with open(path) as handle:
        return {k: {m.strip().upper() for m in v if m.strip()} for k, v in json.load(handle).items()}


def filter_sizes(groups: dict[str, set[str]], lo: int, hi: int) -> dict[str, set[str]]:
    return {g: members for g, members in groups.items() if lo <= len(members) <= hi}


def write_tier(path: Path, groups: dict[str, set[str]], names: dict[str, str], column: str = "orf") -> None:
    with open(path, "w", newline="") as handle:
        handle.write(f"group_id\tgroup_name\t{column}\n")
        for gid in sorted(groups):
            name = names.get(gid, gid).replace("\t", " ")
            for orf in sorted(groups[gid]):
                handle.write(f"{gid}\t{name}\t{orf}\n")


def build_idmap(features: Path, go_pairs: list[tuple[str, str]], extra_orfs: set[str]) -> list[tuple[str, str, str]]:
    """Rows (NAME, ORF, kind); names are URL-decoded and upper-cased. Ambiguity is resolved at load."""
    rows: set[tuple[str, str, str]] = set()

    def add(name: str, orf: str, kind: str) -> None:
        name = urllib.parse.unquote(name).strip().upper()
        if name and orf:
            rows.add((name, orf.upper(), kind))

    with open(features, newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if len(row) < 6 or row[1] not in GENE_FEATURE_TYPES or not row[3]:
                continue
            orf = row[3].strip()
            add(orf, orf, "systematic")
            add(row[4], orf, "standard")
            for alias in row[5].split("|"):
                add(alias, orf, "alias")
    for orf, gene in go_pairs:
        add(orf, orf, "systematic")
        add(gene, orf, "standard")
    for orf in extra_orfs:
        add(orf, orf, "systematic")
    return sorted(rows)


def read_huh_orfs(path: Path) -> list[str]:
    with open(path, newline="") as handle:
        return sorted({row["yORF"].strip().upper() for row in csv.DictReader(handle)})


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


NOTICE = """repbench standards {version}: notices for the data they were built from
=====================================================================

Built by standards/build_standards.py from the files below, unchanged except for the filtering rules
in docs/evaluation.md. Each source keeps its own licence; cite it when you use these standards.

1. GO-slim tiers (go_cc, go_bp) and part of the identifier map
   SGD go_slim_mapping.tab (2024 release), Saccharomyces Genome Database, https://www.yeastgenome.org
   Obtained via github.com/Bio724D/Bio724D_2023_2024 (commit 5f6b00cf8918982a8fcd360a3c358ccf9f9851e2).
   Licence: SGD data are freely available under CC BY 4.0 (as stated by SGD). GO annotations: Gene Ontology
   Consortium, CC BY 4.0.
   Cite: Engel SR et al. (2022) The Saccharomyces Genome Database: advances in genome annotation, expanded
   biochemical pathways, and other key enhancements. Genetics; Gene Ontology Consortium (2023) Genetics.

2. Identifier map
   SGD SGD_features.tab (R64-2-1 era, 2017), Saccharomyces Genome Database. Obtained via
   github.com/csbio/barseq_counter (commit a3c7a4a66d39021292cb5b39f20ca3191b6eefd4). Licence: CC BY 4.0 (SGD).

3. KEGG tier (kegg)
   yeast-KEGG-pathway-modules.json, the BIONIC evaluation standards (Forster et al. 2022, Nature Methods 19:1250),
   obtained via github.com/Murali-group/ICoN (commit d02256acd71fbc2301902fd6ae8c6382d0c9b43a; GPL-3.0 repository).
   Underlying data: KEGG PATHWAY, Kanehisa Laboratories. KEGG data are provided for academic use under the KEGG
   licence; redistribution may be restricted: commercial users must obtain a KEGG licence.
   Cite: Kanehisa M, Goto S (2000) KEGG: Kyoto Encyclopedia of Genes and Genomes. Nucleic Acids Res 28:27.

4. Protein-complex tier (complex)
   yeast-IntAct-complex-modules.json (BIONIC evaluation standards, same provenance as 3), built from the
   EMBL-EBI Complex Portal / IntAct. Licence: CC BY 4.0.
   Cite: Meldal BHM et al. (2022) Complex Portal 2022. Nucleic Acids Res 50:D578.

5. Reference proteome
   The 4,155 ORFs of the YeastGFP table, Huh WK et al. (2003) Global analysis of protein localization in
   budding yeast. Nature 425:686. Obtained via the R package CHNOSZ (github.com/jedick/CHNOSZ, GPL-3,
   commit 0f841d10da09a11ecf0ce6713eec1fc4ec9745a1), file inst/extdata/abundance/yeastgfp.csv.xz. The YeastGFP
   data were released publicly by the UCSF Weissman and O'Shea laboratories without an explicit licence.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    src, out = args.sources, args.out
    (out / "tiers").mkdir(parents=True, exist_ok=True)

    go_groups, go_names, go_pairs = read_go_slim(src / "standards-sources/sgd/go_slim_mapping.tab")
    raw = {
        "go_cc": go_groups["C"],
        "go_bp": go_groups["P"],
        "kegg": read_modules(src / "standards-sources/bionic/yeast-KEGG-pathway-modules.json"),
        "complex": read_modules(src / "standards-sources/bionic/yeast-IntAct-complex-modules.json"),
    }
    tiers = {t: filter_sizes(g, *SIZE_RULES[t]) for t, g in raw.items()}
    for tier, groups in tiers.items():
        write_tier(out / "tiers" / f"{tier}.tsv", groups, go_names)

    reference = read_huh_orfs(src / "localization/huh2003_yeastgfp.csv")
    (out / "reference_proteome.txt").write_text("".join(f"{orf}\n" for orf in reference))

    members = {orf for groups in tiers.values() for m in groups.values() for orf in m}
    idmap = build_idmap(src / "standards-sources/sgd/SGD_features.tab", go_pairs, members | set(reference))
    with open(out / "idmap.tsv", "w", newline="") as handle:
        handle.write("name\torf\tkind\n")
        handle.writelines(f"{n}\t{o}\t{k}\n" for n, o, k in idmap)

    (out / "NOTICE").write_text(NOTICE.format(version=VERSION))
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = {
        "version": VERSION,
        "files": {name: sha256(out / name) for name in files},
        "tiers": {
            t: {
                "groups": len(g),
                "proteins": len({o for m in g.values() for o in m}),
                "rule": f"groups with {SIZE_RULES[t][0]} to {SIZE_RULES[t][1]} distinct ORFs",
            }
            for t, g in tiers.items()
        },
        "tier_sources": {
            "go_cc": "SGD go_slim_mapping.tab, aspect C, feature type ORF* (CC BY 4.0)",
            "go_bp": "SGD go_slim_mapping.tab, aspect P, feature type ORF* (CC BY 4.0)",
            "kegg": "KEGG pathways via BIONIC yeast-KEGG-pathway-modules.json (KEGG licence, academic use)",
            "complex": "EMBL-EBI Complex Portal via BIONIC yeast-IntAct-complex-modules.json (CC BY 4.0)",
        },
        "reference_proteome": {"source": "Huh et al. 2003 YeastGFP", "proteins": len(reference)},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for t, info in manifest["tiers"].items():
        print(f"{t:8s} {info['groups']:5d} groups {info['proteins']:5d} proteins")


if __name__ == "__main__":
    main()
