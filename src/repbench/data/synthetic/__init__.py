"""The embedded default data set: a synthetic yeast proteome drawn from the Huh 2003 localization table.

``generate`` writes it in the shard format (so it is read by the same code as a converted screen);
``open_demo`` generates it once per (generator version, size, seed, standards) and caches it.
Same arguments -> the same bytes. What the images encode is documented in docs/data.md.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ...progress import Counter
from ..labels import CLASSES
from ..preprocess import assign_splits, stable_seed
from ..shards import ShardCellSet, ShardWriter, is_shard_folder
from .proteome import FINE_PARAMS, build_proteome
from .render import render

#: Bump when the images change for the same arguments: it is part of the cache key.
GENERATOR_VERSION = 1
DEFAULT_PROTEINS = 300
DEFAULT_CELLS = 24
CELLS_PER_SHARD = 2048
PROTEINS_FILE = "synthetic_proteins.tsv"
RENDER_BATCH = 64  # cells drawn at once (part of the byte-for-byte output: changing it changes the images)


def generate(
    out_dir,
    n_proteins: int = DEFAULT_PROTEINS,
    cells_per_protein: int = DEFAULT_CELLS,
    seed: int = 0,
    progress=None,
    *,
    overwrite: bool = False,
) -> Path:
    """Draw the synthetic proteome into a new shard folder ``out_dir`` (float16 camera counts).

    Also writes ``synthetic_proteins.tsv`` there: each protein's ORF, gene, drawn localizations, class,
    abundance, fine parameters and groups (the generator's ground truth)."""
    from ... import standards as standards_module

    standards = standards_module.load()
    proteins = build_proteome(n_proteins, seed, standards)
    if cells_per_protein < 1:
        from ...errors import RepbenchError

        raise RepbenchError("synthetic-bad-size", f"cells_per_protein must be >= 1, got {cells_per_protein}")
    step = Counter(progress, "drawing synthetic cells", len(proteins) * cells_per_protein)
    names = [p.orf for p in proteins]
    with ShardWriter(
        out_dir,
        len(proteins) * cells_per_protein,
        dtype="float16",
        cells_per_shard=CELLS_PER_SHARD,
        overwrite=overwrite,
    ) as writer:
        for protein in proteins:
            rng = np.random.default_rng(stable_seed("cells", GENERATOR_VERSION, seed, protein.orf))
            splits = assign_splits(np.zeros(cells_per_protein, dtype=np.int64), [protein.orf], seed)
            label = CLASSES.index(protein.label_class) if protein.label_class else -1
            for start in range(0, cells_per_protein, RENDER_BATCH):  # bounded memory for many cells
                size = min(RENDER_BATCH, cells_per_protein - start)
                crops = render(rng, size, protein.flags, protein.fine, protein.abundance)
                writer.add(protein.orf, crops, splits[start : start + size], label)
                step(size)
        table = pd.DataFrame(
            {
                "orf": names,
                "gene": [p.gene for p in proteins],
                "localizations": [";".join(p.flags) for p in proteins],
                "class": [p.label_class or "" for p in proteins],
                "abundance": [p.abundance for p in proteins],
                **{name: [round(float(p.fine[i]), 6) for p in proteins] for i, name in enumerate(FINE_PARAMS)},
                "groups": [";".join(p.groups) for p in proteins],
            }
        )
        table.to_csv(writer.tmp / PROTEINS_FILE, sep="\t", index=False)
        return writer.finish(
            dataset="synthetic",
            classes=CLASSES,
            split_seed=seed,
            labels_source="huh2003",
            generator={
                "version": GENERATOR_VERSION,
                "n_proteins": n_proteins,
                "cells_per_protein": cells_per_protein,
                "seed": seed,
                "standards": standards.stamp(),
            },
        )


def cache_root(cache_dir=None) -> Path:
    """Where synthetic sets are cached: ``<cache_dir or $REPBENCH_CACHE or ~/.cache/repbench>/synthetic``."""
    base = cache_dir or os.environ.get("REPBENCH_CACHE") or Path.home() / ".cache" / "repbench"
    return Path(base) / "synthetic"


def cache_key(n_proteins: int, cells_per_protein: int, seed: int) -> str:
    from ... import standards as standards_module

    stamp = standards_module.load().manifest_sha256[:12]
    return f"v{GENERATOR_VERSION}-p{n_proteins}-c{cells_per_protein}-s{seed}-std{stamp}"


def open_demo(
    n_proteins: int = DEFAULT_PROTEINS,
    cells_per_protein: int = DEFAULT_CELLS,
    seed: int = 0,
    cache_dir=None,
    progress=None,
    labels=None,
) -> ShardCellSet:
    """The synthetic set as a CellSet (``name`` "demo", ``dataset`` "synthetic"), generated on first use."""
    path = cache_root(cache_dir) / cache_key(n_proteins, cells_per_protein, seed)
    if not is_shard_folder(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # Generate under a private name, then move into place: two processes may race to fill the cache.
        private = path.with_name(f"{path.name}.partial-{os.getpid()}")
        generate(private, n_proteins, cells_per_protein, seed, progress, overwrite=True)
        try:
            os.replace(private, path)
        except OSError:  # another process got there first; its copy is byte-identical
            shutil.rmtree(private, ignore_errors=True)
    cells = ShardCellSet(path, labels=labels)
    cells.name = "demo"
    return cells
