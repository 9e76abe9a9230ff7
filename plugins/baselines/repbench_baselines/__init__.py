"""Reference baselines: no images, no training, seconds to run. They bracket every real embedding.

``localization``  positive reference: each protein's 23 Huh et al. (2003) localization flags as a 0/1 vector
``random``        negative reference: seeded Gaussian vectors (the reference proteome x 64, or ``like=PATH``)
``shuffled``      negative control: a given table (``table=PATH``) with its protein ids permuted (seeded)
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import numpy as np

import repbench
from repbench.embedders import Embedding, EmbedRequest, Option, parse_options
from repbench.errors import UsageError

__version__ = "0.1.0"
HUH_TABLE = "resources/localization/huh2003_yeastgfp.csv"
HUH_FIRST_FLAG = 5  # yORF, gene name, GFP tagged?, GFP visualized?, abundance, then the 23 T/F flags
RANDOM_DIM = 64


def huh_flags() -> tuple[list[str], list[str], np.ndarray]:
    """The Huh 2003 table shipped in the repbench package -> (ORFs (4155,), flag names (23,), bool (4155, 23))."""
    text = resources.files("repbench").joinpath(HUH_TABLE).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], [r for r in rows[1:] if r]
    flags = np.array([[cell == "T" for cell in r[HUH_FIRST_FLAG:]] for r in body], dtype=bool)
    return [r[0] for r in body], header[HUH_FIRST_FLAG:], flags


def read_vectors(path: str) -> tuple[list[str], np.ndarray, str]:
    """A Parquet protein table -> (ORFs (n,), float64 (n, d), its data set tag), validated by repbench.table (bad
    input raises its RepbenchError; ids that are not yeast ORFs are dropped there, as the evaluator would)."""
    from repbench import results, standards, table

    read = table.read_table(path, standards.load())
    return list(read.proteins), np.asarray(read.vectors, dtype=np.float64), results.dataset_of(read.metadata)


class LocalizationEmbedder:
    name = "localization"
    labels = ("localization",)  # it is the labels
    description = (
        "Positive reference: each protein's 23 Huh et al. 2003 YeastGFP localization flags as a 0/1 vector (no images)"
    )
    version = __version__
    requires_cells = False
    options = ()

    def embed(self, request: EmbedRequest) -> Embedding:
        parse_options(self.name, self.options, request.options)
        orfs, names, flags = huh_flags()
        # A protein without any flag would be a constant vector, which the evaluator rejects (it has no
        # correlation with anything): leave it out and say so.
        flagged = flags.any(axis=1)
        return Embedding(
            [o for o, keep in zip(orfs, flagged) if keep],
            flags[flagged].astype(np.float32),
            dataset="real",  # a real annotation (people looking at images), not a synthetic set
            params={
                "source": "Huh et al. 2003 YeastGFP (repbench resources)",
                "flags": names,
                "proteins_in_table": len(orfs),
                "dropped_without_flags": int((~flagged).sum()),
                "dropped_proteins": [o for o, keep in zip(orfs, flagged) if not keep],
            },
        )


class RandomEmbedder:
    name = "random"
    labels = ()
    description = (
        "Negative reference: seeded Gaussian vectors for the reference proteome x 64 "
        "(option like=PATH: the proteins and dimension of that table)"
    )
    version = __version__
    requires_cells = False
    options = (
        Option(
            "like",
            Path,
            None,
            "a protein table: draw vectors for its proteins at its dimension (default: the reference proteome x 64)",
        ),
    )

    def embed(self, request: EmbedRequest) -> Embedding:
        like = parse_options(self.name, self.options, request.options).get("like")
        dataset = None  # drawn for the reference proteome: no data set
        if like:
            proteins, source, dataset = read_vectors(like)  # for that table's proteins: its data set
            dim = source.shape[1]
        else:
            from repbench import standards

            proteins, dim = list(standards.load().reference_proteome), RANDOM_DIM
        vectors = np.random.default_rng(request.seed).standard_normal((len(proteins), dim)).astype(np.float32)
        return Embedding(
            proteins,
            vectors,
            params={"seed": request.seed, "dimension": dim, "like": str(like) if like else None},
            dataset=dataset,
        )


class ShuffledEmbedder:
    name = "shuffled"
    labels = ()
    description = "Negative control: a given table (option table=PATH) with its protein ids permuted (seeded)"
    version = __version__
    requires_cells = False
    options = (Option("table", Path, None, "the protein table to shuffle (required)"),)

    def embed(self, request: EmbedRequest) -> Embedding:
        path = parse_options(self.name, self.options, request.options).get("table")
        if not path:
            raise UsageError(
                "missing-option",
                "embedder 'shuffled' needs the table to shuffle: --option table=PATH (a Parquet protein table)",
            )
        proteins, vectors, dataset = read_vectors(path)
        order = np.random.default_rng(request.seed).permutation(len(proteins))
        # vectors stay in place; each protein id moves to another row
        return Embedding(
            [proteins[i] for i in order],
            vectors.astype(np.float32),
            params={
                "seed": request.seed,
                "table": str(path),
                "fixed_points": int((order == np.arange(len(order))).sum()),
            },
            dataset=dataset,
        )


@repbench.hookimpl
def register_embedders(register):
    register(LocalizationEmbedder())
    register(RandomEmbedder())
    register(ShuffledEmbedder())
