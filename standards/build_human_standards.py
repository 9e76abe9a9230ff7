#!/usr/bin/env python3
"""Build the frozen standards "human-v1" from their real public sources (offline snapshots).

Run once by a maintainer, never at run time:

    python standards/build_human_standards.py --sources ../shared/data

It reads org.Hs.eg.db (NCBI genes, GO annotations, Entrez -> UniProt / Ensembl), GO.db (the ontology),
the EBI Complex Portal, Reactome and CORUM snapshots under ``--sources``/standards-sources/human and writes
``src/repbench/resources/standards/human-v1/`` (reachable as ``standards/human-v1``):

    tiers/<tier>.tsv          group_id, group_name, protein  (long format, sorted; protein = NCBI Gene id)
    idmap.tsv                 name, protein, kind            (kind: entrez | ensembl | uniprot | symbol)
    reference_proteome.txt    the NCBI protein-coding genes, sorted as strings
    manifest.json             version, sha256 of every file above, tiers (rules, default, licence), id map
    NOTICE                    licences, dates and citations of every source

The rules (docs/standards.md):

- canonical id: the NCBI Gene (Entrez) id, the key of org.Hs.eg.db, which every GO annotation uses;
- go_cc / go_bp: direct annotations of protein-coding genes, evidence codes except IEA and ND
  (``EXCLUDED_EVIDENCE``), propagated up ``is_a`` and ``part_of``; then a data-driven slim, the
  *informative terms* (Zhou et al. 2002): a term with at least N genes none of whose children has N
  (N = 5 for CC, 50 for BP: the N whose median group size is closest to yeast-v1's SGD slim tiers,
  6 and 65), and at most 200 genes; of several groups with the very same gene set only the smallest id
  is kept (all tiers);
- reactome: pathways with 5 to 200 genes (HGNC symbols mapped through the NCBI symbol), one per gene set;
- complex: Complex Portal human complexes, UniProt members (chains and isoforms folded onto the
  accession), 2 to 200 genes; corum (extra tier, off by default, non-commercial): CORUM 3.0 core human
  complexes, 2 to 200 genes.

The output is byte-for-byte reproducible from the same sources. Changing any rule here means a new
standards version (human-v2), never an edit of human-v1.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_standards import filter_sizes, sha256, write_tier  # noqa: E402  (the yeast build: same file formats)

VERSION = "human-v1"
HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "repbench" / "resources" / "standards" / VERSION
HUMAN = Path("standards-sources") / "human"

TIER_ORDER = ("go_cc", "go_bp", "reactome", "complex", "corum")
DEFAULT_TIERS = ("go_cc", "go_bp", "reactome", "complex")
#: GO: informative terms with at least INFORMATIVE[tier] genes (docstring); every tier: (min, max) genes per group
INFORMATIVE = {"go_cc": 5, "go_bp": 50}
SIZE_RULES = {"go_cc": (5, 200), "go_bp": (50, 200), "reactome": (5, 200), "complex": (2, 200), "corum": (2, 200)}
TITLES = {
    "go_cc": "GO cellular component (informative terms)",
    "go_bp": "GO biological process (informative terms)",
    "reactome": "Reactome pathways",
    "complex": "Protein complexes (Complex Portal)",
    "corum": "Protein complexes (CORUM 3.0, non-commercial)",
}
#: unreviewed electronic annotations and "no biological data": everything else (experimental, phylogenetic,
#: reviewed computational, author and curator statements) is kept
EXCLUDED_EVIDENCE = frozenset({"IEA", "ND"})
PROPAGATE_OVER = frozenset({"isa", "part of"})
ROOTS = {"go_cc": "GO:0005575", "go_bp": "GO:0008150"}
ID_KINDS = ("entrez", "ensembl", "uniprot", "symbol")
#: rewrites of a name the map does not know (repbench.ids.IdMap): an Ensembl version, a UniProt isoform
ID_FALLBACKS = (
    (r"(ENSG[0-9]{11})\.[0-9]+", r"\1"),
    (r"([OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2})-[0-9]+", r"\1"),
)


def read_tsv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def read_genes(src: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Protein-coding genes: {entrez: symbol}, {entrez: full name}."""
    symbols, names = {}, {}
    for row in read_tsv(src / "org.Hs.eg.db-3.16.0" / "genes.tsv"):
        if row["gene_type"] == "protein-coding":
            symbols[row["entrez_id"]] = row["symbol"]
            names[row["entrez_id"]] = row["gene_name"]
    return symbols, names


def informative(groups: dict[str, set[str]], parents: dict[str, set[str]], n: int) -> dict[str, set[str]]:
    """Terms with at least n genes none of whose children (over is_a / part_of) has n genes."""
    big = {g for g, members in groups.items() if len(members) >= n}
    has_big_child = {p for child, ps in parents.items() if child in big for p in ps}
    return {g: groups[g] for g in big if g not in has_big_child}


def read_ontology(src: Path, aspect: str) -> tuple[dict[str, set[str]], dict[str, str]]:
    """{go_id: parents over is_a / part_of} for one aspect (cc | bp), {go_id: term} of live terms."""
    terms = {r["go_id"]: r["term"] for r in read_tsv(src / "GO.db-3.16.0" / "go_term.tsv")}
    parents: dict[str, set[str]] = defaultdict(set)
    for row in read_tsv(src / "GO.db-3.16.0" / f"go_{aspect}_parents.tsv"):
        if row["relationship"] in PROPAGATE_OVER:
            parents[row["go_id"]].add(row["parent_go_id"])
    return parents, terms


def ancestors_of(parents: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    """Every term's ancestors including itself (memoised depth-first walk; GO is acyclic)."""
    memo: dict[str, frozenset[str]] = {}

    def walk(term: str) -> frozenset[str]:
        if term not in memo:
            found = {term}
            for parent in sorted(parents.get(term, ())):
                found |= walk(parent)
            memo[term] = frozenset(found)
        return memo[term]

    for term in sorted(parents):
        walk(term)
    return memo


def go_groups(src: Path, aspect: str, genes: set[str], n: int) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Informative propagated GO groups {go_id: {entrez}} of one aspect and the term names."""
    parents, terms = read_ontology(src, aspect)
    ancestors = ancestors_of(parents)
    groups: dict[str, set[str]] = defaultdict(set)
    for row in read_tsv(src / "org.Hs.eg.db-3.16.0" / f"go_{aspect}.tsv"):
        if row["evidence"] in EXCLUDED_EVIDENCE or row["entrez_id"] not in genes or row["go_id"] not in terms:
            continue
        for term in ancestors.get(row["go_id"], frozenset({row["go_id"]})):
            groups[term].add(row["entrez_id"])
    return informative(dict(groups), parents, n), terms


def drop_same_sets(groups: dict[str, set[str]]) -> dict[str, set[str]]:
    """Of groups with identical member sets keep the one with the smallest id."""
    seen: set[frozenset[str]] = set()
    kept = {}
    for gid in sorted(groups):
        key = frozenset(groups[gid])
        if key not in seen:
            seen.add(key)
            kept[gid] = groups[gid]
    return kept


def uniprot_map(src: Path, genes: set[str]) -> dict[str, set[str]]:
    acc: dict[str, set[str]] = defaultdict(set)
    for row in read_tsv(src / "org.Hs.eg.db-3.16.0" / "uniprot.tsv"):
        if row["entrez_id"] in genes:
            acc[row["uniprot_id"].upper()].add(row["entrez_id"])
    return acc


def unique(mapping: dict[str, set[str]], key: str) -> str | None:
    hits = mapping.get(key.upper())
    return next(iter(hits)) if hits and len(hits) == 1 else None


def complex_portal(src: Path, acc: dict[str, set[str]]) -> tuple[dict[str, set[str]], dict[str, str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    names = {}
    for row in read_tsv(src / "complexportal-2022-07-11" / "complex_members.tsv"):
        if row["taxon"] != "9606" or not row["member"].startswith("uniprot:"):
            continue
        accession = row["member"].split(":", 1)[1].split("-", 1)[0]  # P12345-PRO_0001 / P12345-2 -> P12345
        names[row["complex_ac"]] = row["complex_name"]
        gene = unique(acc, accession)
        if gene:
            groups[row["complex_ac"]].add(gene)
    return dict(groups), names


def corum(src: Path, genes: set[str], acc: dict[str, set[str]]) -> tuple[dict[str, set[str]], dict[str, str]]:
    """CORUM core human complexes: members by Entrez id where it is a protein-coding gene, else by UniProt."""
    groups: dict[str, set[str]] = defaultdict(set)
    names = {}
    for row in read_tsv(src / "corum-3.0-core" / "coreComplexes.txt"):
        if row["Organism"] != "Human":
            continue
        gid = f"CORUM:{row['ComplexID']}"
        names[gid] = row["ComplexName"]
        entrez = [e.strip() for e in row["subunits(Entrez IDs)"].split(";")]
        uniprot = [u.strip() for u in row["subunits(UniProt IDs)"].split(";")]
        for i, e in enumerate(entrez):
            if e in genes:
                groups[gid].add(e)
            elif i < len(uniprot) and unique(acc, uniprot[i]):
                groups[gid].add(unique(acc, uniprot[i]))
    return dict(groups), names


def reactome(src: Path, symbols: dict[str, str]) -> tuple[dict[str, set[str]], dict[str, str]]:
    by_symbol: dict[str, set[str]] = defaultdict(set)
    for entrez, symbol in symbols.items():
        by_symbol[symbol.upper()].add(entrez)
    groups: dict[str, set[str]] = {}
    names = {}
    with open(src / "reactome-2021-10" / "ReactomePathways.gmt") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t")
            if len(fields) < 3:
                continue
            name, pid, members = fields[0], fields[1], fields[2:]
            names[pid] = name.replace("-", " ")
            groups[pid] = {g for m in members if (g := unique(by_symbol, m.strip()))}
    return groups, names


def build_idmap(src: Path, symbols: dict[str, str]) -> list[tuple[str, str, str]]:
    """Rows (NAME, entrez, kind) for protein-coding genes; ambiguity (one name, two genes) is resolved at load."""
    genes = set(symbols)
    rows: set[tuple[str, str, str]] = set()
    for entrez, symbol in symbols.items():
        rows.add((entrez, entrez, "entrez"))
        rows.add((symbol.upper(), entrez, "symbol"))
    for row in read_tsv(src / "org.Hs.eg.db-3.16.0" / "ensembl.tsv"):
        if row["entrez_id"] in genes:
            rows.add((row["ensembl_gene_id"].upper(), row["entrez_id"], "ensembl"))
    for row in read_tsv(src / "org.Hs.eg.db-3.16.0" / "uniprot.tsv"):
        if row["entrez_id"] in genes:
            rows.add((row["uniprot_id"].upper(), row["entrez_id"], "uniprot"))
    return sorted(rows)


NOTICE = """repbench standards {version}: notices for the data they were built from
=====================================================================

Built by standards/build_human_standards.py from the offline snapshots below, unchanged except for the
rules in docs/standards.md (evidence codes, propagation, group sizes, identifier mapping). Each source
keeps its own licence; cite it when you use these standards. All sources are snapshots of 2018-2022.

1. Genes, identifier map, reference proteome, GO annotations (go_cc, go_bp)
   org.Hs.eg.db 3.16.0 (Bioconductor annotation package, Debian r-bioc-org.hs.eg.db 3.16.0-1), read from its
   SQLite file. Source dates: NCBI Entrez Gene 2022-09-12, UniProt 2022-09-23, Ensembl 2022-06-28, GO
   annotations (NCBI gene2go) with go-basic.obo 2022-07-01.
   Licence: package Artistic-2.0; NCBI Gene data are in the public domain; GO annotations CC BY 4.0
   (Gene Ontology Consortium).
   Cite: Carlson M (2022) org.Hs.eg.db: Genome wide annotation for Human. R package version 3.16.0;
   Gene Ontology Consortium (2023) The Gene Ontology knowledgebase in 2023. Genetics 224:iyad031.

2. GO ontology (propagation over is_a and part_of)
   GO.db 3.16.0 (Bioconductor, Debian r-bioc-go.db 3.16.0-1): go-basic.obo release 2022-07-01.
   Licence: package Artistic-2.0; the Gene Ontology CC BY 4.0.
   Cite: Carlson M (2022) GO.db: A set of annotation maps describing the entire Gene Ontology. R package 3.16.0.

3. Pathway tier (reactome)
   Reactome ReactomePathways.gmt (about release 77/78, 2021-10), obtained via github.com/markziemann/
   vpa-senescence (commit a36fe56e72ca65276969b5ac47889ccb938ddbd0). Licence: Reactome data CC0 1.0.
   Cite: Gillespie M et al. (2022) The reactome pathway knowledgebase 2022. Nucleic Acids Res 50:D687.

4. Protein-complex tier (complex)
   EMBL-EBI Complex Portal release 2022-07-11 (curated human complexes, taxon 9606), obtained as the OBO-graph
   export of github.com/biopragmatics/obo-db-ingest (commit 3b3449adedc13d1a53bb06508ed9070be7c691e6).
   Licence: Complex Portal CC0 1.0.
   Cite: Meldal BHM et al. (2022) Complex Portal 2022. Nucleic Acids Res 50:D578.

5. Extra complex tier (corum), OFF BY DEFAULT -- NON-COMMERCIAL USE ONLY
   CORUM 3.0 core complexes (release 2018-09-03), obtained via github.com/anfoss/PCprophet (commit
   6898b248f831d76ec45a0339fc6e55a472531c15, coreComplexes.txt). Licence: CORUM is free for academic and
   non-commercial use only (current CORUM releases: CC BY-NC 4.0). Commercial users must not use this tier
   (it is never scored unless asked for with --tier corum) and must obtain permission from the CORUM authors.
   Cite: Giurgiu M et al. (2019) CORUM: the comprehensive resource of mammalian protein complexes-2019.
   Nucleic Acids Res 47:D559.
"""


def build(src: Path, out: Path) -> dict:
    src = src / HUMAN
    (out / "tiers").mkdir(parents=True, exist_ok=True)
    symbols, _full_names = read_genes(src)
    genes = set(symbols)
    acc = uniprot_map(src, genes)
    raw: dict[str, tuple[dict[str, set[str]], dict[str, str]]] = {}
    for tier, aspect in (("go_cc", "cc"), ("go_bp", "bp")):
        groups, terms = go_groups(src, aspect, genes, INFORMATIVE[tier])
        raw[tier] = (groups, terms)
    raw["reactome"] = reactome(src, symbols)
    raw["complex"] = complex_portal(src, acc)
    raw["corum"] = corum(src, genes, acc)
    tiers = {t: drop_same_sets(filter_sizes(raw[t][0], *SIZE_RULES[t])) for t in TIER_ORDER}
    for tier in TIER_ORDER:
        write_tier(out / "tiers" / f"{tier}.tsv", tiers[tier], raw[tier][1], column="protein")

    reference = sorted(genes)
    (out / "reference_proteome.txt").write_text("".join(f"{g}\n" for g in reference))
    with open(out / "idmap.tsv", "w", newline="") as handle:
        handle.write("name\tprotein\tkind\n")
        handle.writelines(f"{n}\t{p}\t{k}\n" for n, p, k in build_idmap(src, symbols))
    (out / "NOTICE").write_text(NOTICE.format(version=VERSION))

    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != "manifest.json")
    rules = {
        "go_cc": "informative GO CC terms (>= 5 genes, no child with 5; propagated over is_a / part_of; "
        "evidence not IEA/ND) with at most 200 genes, one per gene set",
        "go_bp": "informative GO BP terms (>= 50 genes, no child with 50; propagated over is_a / part_of; "
        "evidence not IEA/ND) with at most 200 genes, one per gene set",
        "reactome": "Reactome pathways with 5 to 200 genes, one per gene set",
        "complex": "Complex Portal human complexes with 2 to 200 genes, one per gene set",
        "corum": "CORUM 3.0 core human complexes with 2 to 200 genes, one per gene set",
    }
    sources = {
        "go_cc": "org.Hs.eg.db 3.16.0 GO CC (NCBI gene2go 2022-09) + GO.db 3.16.0 (go-basic 2022-07-01) (CC BY 4.0)",
        "go_bp": "org.Hs.eg.db 3.16.0 GO BP (NCBI gene2go 2022-09) + GO.db 3.16.0 (go-basic 2022-07-01) (CC BY 4.0)",
        "reactome": "Reactome ReactomePathways.gmt 2021-10 (CC0)",
        "complex": "EMBL-EBI Complex Portal 2022-07-11, human (CC0)",
        "corum": "CORUM 3.0 core complexes 2018-09 (academic / NON-COMMERCIAL use only)",
    }
    manifest = {
        "version": VERSION,
        "organism": "Homo sapiens",
        "files": {name: sha256(out / name) for name in files},
        "tier_order": list(TIER_ORDER),
        "default_tiers": list(DEFAULT_TIERS),
        "tiers": {
            t: {
                "groups": len(g),
                "proteins": len({m for members in g.values() for m in members}),
                "rule": rules[t],
                "title": TITLES[t],
                "default": t in DEFAULT_TIERS,
                "commercial_use": t != "corum",
            }
            for t, g in tiers.items()
        },
        "tier_sources": sources,
        "idmap": {
            "id": "NCBI Gene (Entrez) id of a protein-coding gene",
            "column": "protein",
            "precedence": list(ID_KINDS),
            "fallbacks": [list(f) for f in ID_FALLBACKS],
        },
        "reference_proteome": {
            "source": "NCBI Gene protein-coding genes (org.Hs.eg.db 3.16.0, 2022-09)",
            "proteins": len(reference),
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    manifest = build(args.sources, args.out)
    for t, info in manifest["tiers"].items():
        print(f"{t:9s} {info['groups']:5d} groups {info['proteins']:5d} proteins")


if __name__ == "__main__":
    main()
