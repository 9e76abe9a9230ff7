"""A PNG montage of a few cells per protein (GFP grey, RFP magma): to look at a data set by eye.

Needs matplotlib (the ``site`` extra). docs/img/synthetic_cells.png was made with::

    cells = repbench.data.open_cells("demo")
    montage(cells, "docs/img/synthetic_cells.png", proteins=one_protein_per_class(cells))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import CellSet


def one_protein_per_class(cells: CellSet) -> list[str]:
    """The first protein (by name) of each class present, in class order."""
    labelled = cells.index[cells.index["label"] >= 0]
    first = labelled.assign(protein=labelled["protein"].astype(str)).groupby("label")["protein"].min()
    return [first[k] for k in sorted(first.index)]


def montage(
    cells: CellSet,
    out_png: str | Path,
    proteins: list[str] | None = None,
    cells_per_protein: int = 3,
    dpi: int = 80,
    titles: dict[str, str] | None = None,
) -> Path:
    """Draw ``cells_per_protein`` raw crops (GFP | RFP pairs) for each protein, one row each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    proteins = proteins or list(cells.index["protein"].cat.categories[:8])
    protein_column = cells.index["protein"].to_numpy()
    read = getattr(cells, "read_raw", cells.read)  # raw counts look like a microscope image
    fig, axes = plt.subplots(
        len(proteins), 2 * cells_per_protein, figsize=(2 * cells_per_protein * 0.95, len(proteins) * 1.0), squeeze=False
    )
    for row, protein in enumerate(proteins):
        ids = np.flatnonzero(protein_column == protein)[:cells_per_protein]
        crops = read(ids)
        label = int(cells.index["label"].iloc[ids[0]]) if len(ids) else -1
        for j in range(len(ids)):
            axes[row, 2 * j].imshow(crops[j, 0], cmap="gray")
            axes[row, 2 * j + 1].imshow(crops[j, 1], cmap="magma")
        title = (titles or {}).get(protein) or (cells.classes[label] if label >= 0 else "no class")
        axes[row, 0].set_ylabel(f"{protein}\n{title}", fontsize=6, rotation=0, ha="right", va="center")
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_title("GFP", fontsize=7)
    axes[0, 1].set_title("RFP", fontsize=7)
    fig.tight_layout(pad=0.15)
    out_png = Path(out_png)
    fig.savefig(out_png, dpi=dpi)
    plt.close(fig)
    return out_png
