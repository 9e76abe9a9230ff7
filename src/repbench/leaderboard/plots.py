"""The pictures of a submission page, drawn with matplotlib (Agg) and returned as inline SVG text.

* :func:`pr_curves_svg`   precision-recall curve per tier, the tier's prevalence (random scorer) dashed;
* :func:`trajectory_svg`  the paper's Figure 3: F0.5 per tier after each training epoch;
* :func:`tsne_svg`        the paper's Figure 2: a t-SNE map of the protein vectors coloured by Huh et al.
                          (2003) localization, with kernel density clouds of a few GO-BP slim terms on top.

:func:`tsne_coordinates` is the expensive part (tens of seconds for 4,000 proteins); the build caches it.
Every function here is deterministic: same input, same bytes out (fixed random state, fixed SVG hash salt,
no date in the SVG metadata), so cached and fresh pictures are interchangeable.
"""

from __future__ import annotations

import io
import re
from typing import Mapping, Sequence

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402

from ..standards import TIERS  # noqa: E402
from .localization import LOCALIZATION_CLASSES, UNASSIGNED, localization_classes  # noqa: E402,F401

#: Change figures.PLOT_VERSION (pictures) or figures.TSNE_KEY (coordinates) when changing what is drawn here,
#: so that cached pictures from older code are not reused.
TSNE_PARAMS = {"perplexity": 40.0, "random_state": 0, "init": "pca", "pca_components": 50}

TIER_COLOURS = {"go_cc": "#2b6cb0", "go_bp": "#c05621", "kegg": "#2f855a", "complex": "#6b46c1"}
TIER_LABELS = {"go_cc": "GO-CC", "go_bp": "GO-BP", "kegg": "KEGG", "complex": "Complexes"}

#: GO-BP slim terms whose density clouds are drawn (those present in the standards, in this order).
KDE_TERMS = ("GO:0002181", "GO:0032543", "GO:0042254", "GO:0071554")
KDE_COLOURS = ("#1a202c", "#9b2c2c", "#2c5282", "#22543d")

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # text stays text: smaller, and takes the page's font
        "svg.hashsalt": "repbench",  # stable element ids -> byte-identical SVG for the same input
        "font.family": "sans-serif",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#4a5568",
        "axes.labelcolor": "#2d3748",
        "xtick.color": "#4a5568",
        "ytick.color": "#4a5568",
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
    }
)


def _to_svg(fig) -> str:
    """The figure as an ``<svg>`` element ready to inline in HTML (no XML prolog, no date).

    Layouts are fixed (subplots_adjust) rather than tight: a tight layout draws the figure twice more.
    """
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", dpi=150, metadata={"Date": None, "Creator": None})  # dpi: rasterized dots
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # Let CSS size the picture: keep the viewBox, drop the fixed width/height in pt.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 role="img"', text, count=1)


def pr_curves_svg(tiers: Mapping[str, Mapping]) -> str:
    """Precision-recall curves of all tiers on one axes (``tiers[t]["pr_curve"]``); each prevalence dashed."""
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    top = 0.0
    for tier in TIERS:
        block = tiers.get(tier) or {}
        curve = block.get("pr_curve") or {}
        if not curve.get("recall"):
            continue
        colour = TIER_COLOURS[tier]
        ax.plot(curve["recall"], curve["precision"], color=colour, lw=1.6, label=TIER_LABELS[tier])
        top = max(top, max(curve["precision"]))
        if block.get("prevalence") is not None:
            ax.axhline(block["prevalence"], color=colour, ls=(0, (4, 3)), lw=0.9, alpha=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, min(1.0, top * 1.08) if top else 1.0)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.grid(alpha=0.25)
    if top:
        ax.legend(frameon=False, loc="upper right")
    else:
        ax.text(0.5, 0.5, "no tier was scored", ha="center", va="center", transform=ax.transAxes, color="#718096")
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.14, top=0.96)
    return _to_svg(fig)


def trajectory_svg(trajectory: Sequence[Mapping]) -> str:
    """F0.5 per tier after each epoch (the paper's Figure 3)."""
    fig, ax = plt.subplots(figsize=(6.2, 3.0))
    epochs = [step["epoch"] for step in trajectory]
    for tier in TIERS:
        values = [(step.get("tiers", {}).get(tier) or {}).get("f05") for step in trajectory]
        values = [np.nan if v is None else v for v in values]
        if not np.all(np.isnan(values)):
            ax.plot(epochs, values, marker="o", ms=3, lw=1.6, color=TIER_COLOURS[tier], label=TIER_LABELS[tier])
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel("F0.5")
    ax.grid(alpha=0.25)
    ax.legend(frameon=False, ncol=4, loc="upper center", bbox_to_anchor=(0.5, 1.17))
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.15, top=0.85)
    return _to_svg(fig)


def tsne_coordinates(vectors: np.ndarray) -> np.ndarray:
    """(n, d) float vectors -> (n, 2) t-SNE map (perplexity 40, fixed random state).

    Vectors are first reduced to 50 principal components (the usual t-SNE practice; it only speeds up the
    neighbour search). Fewer than 3 * perplexity proteins lower the perplexity to fit.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    vectors = np.asarray(vectors, dtype=np.float64)
    n, dim = vectors.shape
    if n < 5:
        return np.zeros((n, 2))
    components = TSNE_PARAMS["pca_components"]
    if dim > components and n > components:
        vectors = PCA(components, random_state=TSNE_PARAMS["random_state"]).fit_transform(vectors)
    perplexity = min(TSNE_PARAMS["perplexity"], (n - 1) / 3)
    tsne = TSNE(perplexity=perplexity, random_state=TSNE_PARAMS["random_state"], init=TSNE_PARAMS["init"])
    return tsne.fit_transform(vectors)


def _mass_levels(density: np.ndarray, masses: Sequence[float]) -> np.ndarray:
    """Density thresholds whose regions hold ``masses`` of the probability (e.g. 0.8 = the 80% cloud), ascending."""
    values = np.sort(density.ravel())[::-1]
    cumulative = np.cumsum(values) / values.sum()
    return np.array([values[min(np.searchsorted(cumulative, m), len(values) - 1)] for m in masses])


def tsne_svg(
    coords: np.ndarray,
    orfs: Sequence[str],
    huh: Mapping[str, frozenset[str]],
    terms: Sequence[tuple[str, str, Sequence[str]]],
) -> str:
    """The t-SNE map: coords (n, 2) of proteins ``orfs``; terms = [(GO id, name, member ORFs)]."""
    from scipy.stats import gaussian_kde

    coords = np.asarray(coords, dtype=float)
    classes = np.asarray(localization_classes(orfs, huh))
    palette = [c for _, c, _ in LOCALIZATION_CLASSES] + [UNASSIGNED[1]]
    names = [n for n, _, _ in LOCALIZATION_CLASSES] + [UNASSIGNED[0]]

    fig, ax = plt.subplots(figsize=(9.5, 6.4))
    # Draw the big classes first so that the small, specific ones stay visible on top.
    order = sorted(set(classes.tolist()), key=lambda c: (-(classes == c).sum(), c))
    for cls in order:
        pick = classes == cls
        ax.scatter(
            coords[pick, 0],
            coords[pick, 1],
            s=4,
            lw=0,
            color=palette[cls],
            alpha=0.85,
            label=f"{names[cls]} ({pick.sum()})",
            rasterized=True,
        )
    position = {orf: i for i, orf in enumerate(orfs)}
    pad = 0.05 * (np.ptp(coords, axis=0) + 1e-9)
    low, high = coords.min(axis=0) - pad, coords.max(axis=0) + pad
    grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], 120), np.linspace(low[1], high[1], 120))
    term_handles = []
    for (_go_id, go_name, members), colour in zip(terms, KDE_COLOURS):
        rows = [position[o] for o in members if o in position]
        if len(rows) < 3:
            continue
        points = coords[rows].T
        try:
            kde = gaussian_kde(points)  # Scott's rule bandwidth, the scipy default
        except np.linalg.LinAlgError:  # all members on a line: no density to draw
            continue
        density = kde(np.vstack([grid_x.ravel(), grid_y.ravel()])).reshape(grid_x.shape)
        levels = _mass_levels(density, (0.8, 0.5, 0.2))
        if not np.all(np.diff(levels) > 0):
            continue
        ax.contourf(grid_x, grid_y, density, levels=[levels[0], density.max()], colors=[colour], alpha=0.10)
        ax.contour(grid_x, grid_y, density, levels=levels, colors=[colour], linewidths=[0.8, 1.1, 1.5])
        term_handles.append(plt.Line2D([], [], color=colour, lw=1.5, label=f"{go_name} ({len(rows)})"))
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    first = ax.legend(
        title="Localization (Huh et al. 2003)",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        markerscale=3,
        fontsize=8,
        title_fontsize=8.5,
    )
    ax.add_artist(first)
    if term_handles:
        ax.legend(
            handles=term_handles,
            title="GO-BP slim density",
            loc="lower left",
            bbox_to_anchor=(1.0, 0.0),
            frameon=False,
            fontsize=8,
            title_fontsize=8.5,
        )
    fig.subplots_adjust(left=0.03, right=0.70, bottom=0.05, top=0.98)
    return _to_svg(fig)
