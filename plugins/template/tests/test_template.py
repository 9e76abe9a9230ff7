"""The template embedder on a tiny in-memory CellSet: one vector per protein with test cells, mean of its cells."""

import numpy as np
import pandas as pd
from repbench_template import TemplateEmbedder, cell_features

from repbench.embedders import Embedder, EmbedRequest


class TinyCells:
    """3 proteins; PROT_C has no test cells. GFP is bright in the centre for PROT_A, at the rim for PROT_B."""

    name, dataset, classes = "tiny", "synthetic", ["nucleus", "cell periphery"]

    def __init__(self):
        self.index = pd.DataFrame(
            {
                "protein": ["PROT_A"] * 3 + ["PROT_B"] * 3 + ["PROT_C"] * 2,
                "split": ["test", "test", "train", "test", "test", "test", "train", "val"],
                "label": [0, 0, 0, 1, 1, 1, -1, -1],
            }
        )
        yy, xx = np.mgrid[:64, :64] - 31.5
        radius = np.hypot(yy, xx)
        centre, rim = (radius < 12).astype(np.float32), ((radius > 24) & (radius < 30)).astype(np.float32)
        rng = np.random.default_rng(0)
        gfp = [centre if p == "PROT_A" else rim for p in self.index["protein"]]
        crops = np.stack(
            [np.stack([g + 0.05 * rng.standard_normal(g.shape), rng.standard_normal(g.shape)]) for g in gfp]
        )
        centred = crops - crops.mean(axis=(2, 3), keepdims=True)
        self.crops = (centred / crops.std(axis=(2, 3), keepdims=True)).astype(np.float32)
        self.reads = []

    def read(self, cell_ids):
        self.reads.append(np.asarray(cell_ids))
        return self.crops[cell_ids]

    def __len__(self):
        return len(self.index)


class CountingProgress:
    """A ``progress(stage, done, total)`` callable (repbench.progress) that remembers every report."""

    def __init__(self):
        self.calls = []

    def __call__(self, stage, done, total):
        self.calls.append((stage, done, total))
        self.done, self.total = done, total


def test_template_embeds_each_protein_from_its_test_cells(tmp_path):
    cells = TinyCells()
    embedder = TemplateEmbedder()
    assert isinstance(embedder, Embedder)
    progress = CountingProgress()
    embedding = embedder.embed(EmbedRequest(cells=cells, out_dir=tmp_path, progress=progress))

    assert embedding.proteins == ["PROT_A", "PROT_B"]  # PROT_C has no test-split cells
    assert embedding.vectors.shape == (2, 14) and np.isfinite(embedding.vectors).all()
    assert set(np.concatenate(cells.reads)) == {0, 1, 3, 4, 5}  # only test cells are read
    assert progress.done == progress.total == 5 and progress.calls[0][1:] == (0, 5)
    np.testing.assert_allclose(embedding.vectors[0], cell_features(cells.crops[[0, 1]]).mean(axis=0), rtol=1e-5)
    # the radial profile tells a central protein from a peripheral one
    assert embedding.vectors[0, 0] > embedding.vectors[0, 6] and embedding.vectors[1, 0] < embedding.vectors[1, 6]
