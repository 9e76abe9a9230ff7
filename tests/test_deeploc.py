"""The DeepLoc embedder on a tiny in-memory CellSet: shapes, determinism, learning, checkpoints, resume.

Numeric tests pin ``precision=fp32`` (the automatic choice is bf16 on AMX / AVX-512 BF16 CPUs); the bf16 path has
its own tests (marked ``bf16``; emulated on CPUs without native bf16, so on a handful of cells).
"""

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
repbench_deeploc = pytest.importorskip("repbench_deeploc")

from repbench_deeploc import DeepLocEmbedder  # noqa: E402
from repbench_deeploc.model import DeepLocNet, forward_flops  # noqa: E402

from repbench.embedders import Embedder, EmbedRequest  # noqa: E402
from repbench.errors import RepbenchError, UsageError  # noqa: E402

CLASSES = ["cytoplasm", "nucleus", "vacuole"]


class TinyCells:
    """6 proteins x ``cells`` cells: the last ``test_cells`` of each protein are test cells, the one before them
    a val cell, the rest train cells; the last protein is unlabelled. A protein's class decides where its
    bright spot sits, so the classes can be learnt."""

    name, dataset, classes = "tiny", "synthetic", CLASSES

    def __init__(self, proteins=6, cells=6, seed=0, test_cells=1):
        rng = np.random.default_rng(seed)
        rows, crops = [], []
        for p in range(proteins):
            label = -1 if p == proteins - 1 else p % len(CLASSES)
            for c in range(cells):
                split = "train" if c < cells - test_cells - 1 else ("val" if c == cells - test_cells - 1 else "test")
                rows.append((f"P{p}", split, label))
                crop = rng.normal(size=(2, 64, 64)).astype(np.float32)
                spot = 8 + 20 * max(label, 0)
                crop[0, spot : spot + 16, spot : spot + 16] += 3.0
                crops.append(crop)
        self.index = pd.DataFrame(rows, columns=["protein", "split", "label"])
        self._crops = np.stack(crops)

    def read(self, cell_ids):
        return self._crops[np.asarray(cell_ids)]

    def __len__(self):
        return len(self.index)


def _request(tmp_path, epochs=1, on_epoch=None, cells=None, **options):
    # one batch of 8 training cells per epoch keeps an epoch at a few seconds of CPU
    options = {"epochs": str(epochs), "batch_size": "8", "train_cells": "8", "precision": "fp32", **options}
    return EmbedRequest(
        cells=cells or TinyCells(),
        out_dir=tmp_path,
        device="cpu",
        seed=0,
        options={k: str(v) for k, v in options.items()},
        on_epoch=on_epoch,
    )


def test_architecture_matches_deeploc():
    net = DeepLocNet(n_classes=17)
    convs = [m for m in net.convs if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 256, 256]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.convs) == 8
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in net.convs) == 3
    net.eval()
    logits, features = net(torch.zeros(2, 2, 64, 64))
    assert logits.shape == (2, 17) and features.shape == (2, 512)
    # 2 FLOPs per multiply-add; the conv stack dominates (~1.8 GFLOP per cell)
    assert 1.7e9 < forward_flops() < 2.0e9


def test_embedder_satisfies_the_protocol_and_is_registered():
    assert isinstance(DeepLocEmbedder(), Embedder)
    from repbench import plugins

    plugins.reset()
    assert "deeploc" in plugins.embedders()


def test_embedding_shape_finite_deterministic(tmp_path):
    first = DeepLocEmbedder().embed(_request(tmp_path / "a"))
    again = DeepLocEmbedder().embed(_request(tmp_path / "b"))
    # every protein with test cells, the unlabelled one included
    assert first.proteins == [f"P{p}" for p in range(6)]
    assert first.vectors.shape == (6, 512) and first.vectors.dtype == np.float32
    assert np.isfinite(first.vectors).all()
    np.testing.assert_array_equal(first.vectors, again.vectors)
    params = first.params
    assert params["protocol"] == "quick" and params["lr"] == 1e-3 and params["seed"] == 0
    assert params["epochs"] == 1 and params["best_epoch"] == 1
    other_seed = DeepLocEmbedder().embed(EmbedRequest(**{**_request(tmp_path / "c").__dict__, "seed": 1}))
    assert not np.allclose(other_seed.vectors, first.vectors)


def _plain_means(proteins, vectors):
    """The reference: for each protein (in order of first appearance), the float64 average of its cells' rows."""
    names = list(dict.fromkeys(proteins))
    return names, np.array(
        [
            np.mean([vectors[i].astype(np.float64) for i in range(len(proteins)) if proteins[i] == name], axis=0)
            for name in names
        ]
    )


@pytest.mark.parametrize("precision", ["fp32", pytest.param("bf16", marks=pytest.mark.bf16)])
def test_test_vectors_are_per_protein_means_of_test_cells(tmp_path, precision):
    """Three test cells per protein; the cells' vectors are recomputed from the final checkpoint in the same
    precision as the run (bf16 against bf16, fp32 against fp32), so the tolerance is that of the float64 mean."""
    cells = TinyCells(cells=8, test_cells=3)  # 4 train, 1 val, 3 test cells per protein
    reports = []
    embedding = DeepLocEmbedder().embed(
        _request(
            tmp_path, cells=cells, on_epoch=reports.append, precision=precision, batch_size=4, train_cells=4, bn_cells=8
        )
    )
    assert embedding.params["precision"] == precision and embedding.params["precision_chosen_by"] == "option"
    from repbench_deeploc.embedder import protocol_for
    from repbench_deeploc.training import DeepLocRun

    from repbench.torch import choose_runtime, features_of_cells

    request = _request(tmp_path, cells=cells, precision=precision, batch_size=4, train_cells=4, bn_cells=8)
    run = DeepLocRun(request, protocol_for(request), choose_runtime("cpu", {"precision": precision}), 1e-3, 0)
    run.fit(None)  # everything is on disk already: loads the final checkpoint
    run.model.eval()
    test_ids = np.flatnonzero(cells.index["split"] == "test")
    cell_vectors = features_of_cells(run.model.features, cells, test_ids, run.runtime)  # as the run embeds them
    proteins = cells.index["protein"].to_numpy()[test_ids].tolist()
    names, means = _plain_means(proteins, cell_vectors)
    assert embedding.proteins == names and all(proteins.count(name) == 3 for name in names)
    # the cells of a protein differ, so neither the sum nor the first cell equals the mean
    assert not np.allclose(cell_vectors[0], cell_vectors[1], rtol=1e-3)
    np.testing.assert_allclose(embedding.vectors, means, rtol=1e-6, atol=1e-7)
    assert len(reports) == 1 and set(reports[0].logs) >= {"train_loss", "val_loss", "val_acc", "lr"}


@pytest.mark.bf16
def test_bf16_vectors_are_near_the_fp32_vectors_of_the_same_weights(tmp_path):
    """Same checkpoint, features computed in fp32 and in bf16 autocast. bf16 keeps 8 significant bits (unit
    roundoff u = 2**-8 = 0.0039): each of the 11 layers rounds its inputs and weights (2u) and output (u) once,
    so a cell's feature vector carries a relative error of order 3u per layer, growing at most linearly
    (11 x 3u ~ 0.13) where rounding errors add up in the same direction, like sqrt(11) x 3u ~ 0.04 where
    they are independent (what one sees). Asserted: relative distance of each vector below 0.13 (the
    worst case), and above 0: bf16 did run."""
    cells = TinyCells()
    request = _request(tmp_path, cells=cells)
    DeepLocEmbedder().embed(request)
    from repbench_deeploc.embedder import protocol_for
    from repbench_deeploc.training import DeepLocRun

    from repbench.torch import choose_runtime, features_of_cells

    run = DeepLocRun(request, protocol_for(request), choose_runtime("cpu", {"precision": "fp32"}), 1e-3, 0)
    run.fit(None)
    run.model.eval()
    test_ids = np.flatnonzero(cells.index["split"] == "test")
    fp32 = features_of_cells(run.model.features, cells, test_ids, run.runtime)
    bf16 = features_of_cells(run.model.features, cells, test_ids, choose_runtime("cpu", {"precision": "bf16"}))
    distance = np.linalg.norm(bf16 - fp32, axis=1) / np.linalg.norm(fp32, axis=1)
    assert (distance < 11 * 3 * 2.0**-8).all() and (distance > 0).all(), distance


def test_training_loss_falls_over_a_few_steps():
    from repbench.torch import choose_runtime, run_training_epoch

    cells = TinyCells()
    train_ids = np.flatnonzero((cells.index["split"] == "train") & (cells.index["label"] >= 0))[::2]
    batch = (
        torch.from_numpy(cells.read(train_ids)),
        torch.as_tensor(cells.index["label"].to_numpy()[train_ids]).long(),
    )
    torch.manual_seed(0)
    model = DeepLocNet(n_classes=len(CLASSES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = lambda m, b: torch.nn.functional.cross_entropy(m(b[0])[0], b[1])  # noqa: E731
    runtime = choose_runtime("cpu", {"channels_last": "false", "precision": "fp32"})
    losses = [run_training_epoch(model, optimizer, [batch], loss, runtime) for _ in range(5)]
    assert losses[-1] < 0.5 * losses[0]


def test_checkpoint_each_epoch_and_exact_resume(tmp_path):
    """Interrupted after epoch 1, run again: starts at epoch 2 and ends where an uninterrupted run ends."""
    checkpoint_dir = tmp_path / "run" / "checkpoints" / "lr=0.001-seed=0"
    found = []

    def interrupt_after_first(report):
        found.append(sorted(p.name for p in checkpoint_dir.iterdir()))
        raise KeyboardInterrupt  # as if Ctrl-C came right after epoch 1

    with pytest.raises(KeyboardInterrupt):
        DeepLocEmbedder().embed(_request(tmp_path / "run", epochs=3, on_epoch=interrupt_after_first))
    assert found == [["epoch-001.pt"]]
    saved = torch.load(checkpoint_dir / "epoch-001.pt", weights_only=True)
    assert saved["epoch"] == 1 and {"model", "optimizer", "rng", "best", "history"} <= set(saved)

    epochs_seen = []
    resumed = DeepLocEmbedder().embed(
        _request(tmp_path / "run", epochs=3, on_epoch=lambda r: epochs_seen.append(r.epoch))
    )
    # epoch 1 again (from its checkpoint: the stop may have come before its record was written), then 2 and 3
    assert epochs_seen == [1, 2, 3] and resumed.params["resumed_from_epoch"] == 1
    assert sorted(p.name for p in checkpoint_dir.iterdir()) == ["epoch-003.pt"]

    straight = DeepLocEmbedder().embed(_request(tmp_path / "straight", epochs=3))
    assert straight.params["best_epoch"] == resumed.params["best_epoch"]
    np.testing.assert_array_equal(resumed.vectors, straight.vectors)


def test_paper_protocol_picks_the_lowest_validation_loss_and_replays_its_trajectory(tmp_path):
    reports = []
    embedding = DeepLocEmbedder().embed(
        EmbedRequest(**{**_request(tmp_path, on_epoch=reports.append, lr="0.001").__dict__, "protocol": "paper"})
    )
    params = embedding.params
    losses = params["seed_val_loss"]
    assert set(losses) == {"0", "1", "2"}
    assert params["seed"] == int(min(losses, key=losses.get))
    assert [r.epoch for r in reports] == [1]
    np.testing.assert_allclose(reports[0].embedding.vectors, embedding.vectors, rtol=1e-2, atol=1e-2)


def test_bad_requests(tmp_path):
    with pytest.raises(UsageError):
        DeepLocEmbedder().embed(EmbedRequest(cells=None, out_dir=tmp_path))
    with pytest.raises(UsageError):
        DeepLocEmbedder().embed(_request(tmp_path, epochs="zero"))
    with pytest.raises(UsageError):
        DeepLocEmbedder().embed(EmbedRequest(**{**_request(tmp_path).__dict__, "protocol": "slow"}))
    unlabelled = TinyCells()
    unlabelled.index["label"] = -1
    with pytest.raises(RepbenchError) as error:
        DeepLocEmbedder().embed(_request(tmp_path, cells=unlabelled))
    assert error.value.code == "deeploc-no-training-cells"
