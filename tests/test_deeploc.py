"""The DeepLoc embedder on a tiny in-memory CellSet: shapes, determinism, learning, checkpoints, resume."""
import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
repbench_deeploc = pytest.importorskip("repbench_deeploc")

from repbench.embedders import EmbedRequest, Embedder  # noqa: E402
from repbench.errors import RepbenchError, UsageError  # noqa: E402
from repbench_deeploc import DeepLocEmbedder  # noqa: E402
from repbench_deeploc.model import DeepLocNet, forward_flops  # noqa: E402

CLASSES = ["cytoplasm", "nucleus", "vacuole"]


class TinyCells:
    """6 proteins x 6 cells (4 train, 1 val, 1 test each); the last protein is unlabelled.
    A protein's class decides where its bright spot sits, so the classes can be learnt."""

    name, dataset, classes = "tiny", "synthetic", CLASSES

    def __init__(self, proteins=6, cells=6, seed=0):
        rng = np.random.default_rng(seed)
        rows, crops = [], []
        for p in range(proteins):
            label = -1 if p == proteins - 1 else p % len(CLASSES)
            for c in range(cells):
                split = "train" if c < cells - 2 else ("val" if c == cells - 2 else "test")
                rows.append((f"P{p}", split, label))
                crop = rng.normal(size=(2, 64, 64)).astype(np.float32)
                spot = 8 + 20 * max(label, 0)
                crop[0, spot:spot + 16, spot:spot + 16] += 3.0
                crops.append(crop)
        self.index = pd.DataFrame(rows, columns=["protein", "split", "label"])
        self._crops = np.stack(crops)

    def read(self, cell_ids):
        return self._crops[np.asarray(cell_ids)]

    def __len__(self):
        return len(self.index)


def _request(tmp_path, epochs=1, on_epoch=None, cells=None, **options):
    # one batch of 8 training cells per epoch keeps an epoch at a few seconds of CPU
    options = {"epochs": str(epochs), "batch_size": "8", "train_cells": "8", **options}
    return EmbedRequest(cells=cells or TinyCells(), out_dir=tmp_path, device="cpu", seed=0,
                        options={k: str(v) for k, v in options.items()}, on_epoch=on_epoch)


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


def test_test_vectors_are_per_protein_means_of_test_cells(tmp_path):
    cells = TinyCells()
    reports = []
    embedding = DeepLocEmbedder().embed(_request(tmp_path, cells=cells, on_epoch=reports.append))
    from repbench_deeploc.training import DeepLocRun
    from repbench_deeploc.embedder import protocol_for
    from repbench.torch import choose_runtime
    request = _request(tmp_path, cells=cells)
    run = DeepLocRun(request, protocol_for(request), choose_runtime("cpu"), 1e-3, 0)
    run.fit(None)  # everything is on disk already: loads the final checkpoint
    run.model.eval()
    test_ids = np.flatnonzero(cells.index["split"] == "test")
    with torch.no_grad():
        cell_vectors = run.model.features(torch.from_numpy(cells.read(test_ids))).numpy()
    # one test cell per protein: the protein vector is that cell's last hidden layer
    np.testing.assert_allclose(embedding.vectors, cell_vectors, rtol=1e-4, atol=1e-5)
    assert len(reports) == 1 and set(reports[0].logs) >= {"train_loss", "val_loss", "val_acc", "lr"}


def test_training_loss_falls_over_a_few_steps():
    from repbench.torch import choose_runtime, run_training_epoch
    cells = TinyCells()
    train_ids = np.flatnonzero((cells.index["split"] == "train") & (cells.index["label"] >= 0))[::2]
    batch = (torch.from_numpy(cells.read(train_ids)), torch.as_tensor(cells.index["label"].to_numpy()[train_ids]).long())
    torch.manual_seed(0)
    model = DeepLocNet(n_classes=len(CLASSES))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss = lambda m, b: torch.nn.functional.cross_entropy(m(b[0])[0], b[1])  # noqa: E731
    runtime = choose_runtime("cpu", {"channels_last": "false"})
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
    resumed = DeepLocEmbedder().embed(_request(tmp_path / "run", epochs=3, on_epoch=lambda r: epochs_seen.append(r.epoch)))
    assert epochs_seen == [2, 3] and resumed.params["resumed_from_epoch"] == 1
    assert sorted(p.name for p in checkpoint_dir.iterdir()) == ["epoch-003.pt"]

    straight = DeepLocEmbedder().embed(_request(tmp_path / "straight", epochs=3))
    assert straight.params["best_epoch"] == resumed.params["best_epoch"]
    np.testing.assert_array_equal(resumed.vectors, straight.vectors)


def test_paper_protocol_picks_the_lowest_validation_loss_and_replays_its_trajectory(tmp_path):
    reports = []
    embedding = DeepLocEmbedder().embed(EmbedRequest(**{**_request(tmp_path, on_epoch=reports.append, lr="0.001").__dict__,
                                                        "protocol": "paper"}))
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
