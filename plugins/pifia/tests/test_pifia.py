"""PIFiA (plugins/pifia): architecture, protein-identity classes, splits, schedule, determinism, resume, options.

The untrained control is tested with the other learned embedders in tests/test_untrained.py."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("repbench_pifia")

from repbench_pifia import PifiaEmbedder  # noqa: E402
from repbench_pifia.embedder import OPTIONS, PROTOCOLS, Protocol, protocol_for  # noqa: E402
from repbench_pifia.model import PifiaNet, forward_flops  # noqa: E402
from repbench_pifia.training import PifiaRun  # noqa: E402

from repbench.data import open_cells  # noqa: E402
from repbench.embedders import Embedder, EmbedRequest  # noqa: E402
from repbench.errors import RepbenchError, UsageError  # noqa: E402
from repbench.torch import choose_runtime, run_training_epoch  # noqa: E402

NARROW = 0.125  # convolutions of 8, 8, 16, 16, 32 x 4 channels: an epoch of one batch is a second of CPU


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """6 synthetic proteins x 25 cells: 19 train, 3 val, 3 test each."""
    return open_cells("demo:proteins=6,cells=25", cache_dir=tmp_path_factory.mktemp("demo"))


def _request(out, cells, epochs=1, seed=0, on_epoch=None, **options):
    options = {"epochs": epochs, "batch_size": 8, "train_cells": 8, "width": NARROW, "precision": "fp32", **options}
    return EmbedRequest(
        cells=cells,
        out_dir=out,
        device="cpu",
        seed=seed,
        options={k: str(v) for k, v in options.items()},
        on_epoch=on_epoch,
    )


# -- the network ---------------------------------------------------------------------------------------


def test_published_architecture():
    net = PifiaNet(n_classes=4049)  # the authors' pretrained network has 4,049 protein classes
    convs = [m for m in net.convs if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 256, 256]
    assert all(c.padding == (0, 0) and c.kernel_size == (3, 3) for c in convs)  # "valid" convolutions
    assert convs[0].in_channels == 1  # GFP alone
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.convs) == 8
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in net.convs) == 3
    linears = [m for m in net.hidden if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(256 * 2 * 2, 128), (128, 64)]
    assert (net.classify.in_features, net.classify.out_features) == (64, 4049)
    assert net.dropout.p == pytest.approx(0.02)


def test_features_read_gfp_alone_unless_rfp_is_asked_for():
    torch.manual_seed(0)
    net = PifiaNet(n_classes=5, width=NARROW).eval()
    crops = torch.randn(3, 2, 64, 64)
    other_marker = crops.clone()
    other_marker[:, 1] = torch.randn(3, 64, 64)
    with torch.no_grad():
        logits, features = net(crops)
        assert logits.shape == (3, 5) and features.shape == (3, 64) and (features >= 0).all()
        torch.testing.assert_close(net.features(other_marker), features)
        both = PifiaNet(n_classes=5, width=NARROW, rfp=True).eval()
        assert not torch.allclose(both.features(other_marker), both.features(crops))


def test_forward_flops_counts_every_multiply_add():
    net = PifiaNet(n_classes=7, width=0.5)
    counted = []

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d):
            counted.append(2 * output.numel() * module.in_channels * 9)
        elif isinstance(module, torch.nn.Linear):
            counted.append(2 * module.in_features * module.out_features)

    for module in net.modules():
        module.register_forward_hook(hook)
    with torch.no_grad():
        net(torch.zeros(1, 2, 64, 64))
    assert forward_flops(7, width=0.5) == sum(counted)


# -- classes, splits, schedule ---------------------------------------------------------------------------


def test_every_protein_is_a_class_and_trains(tiny, tmp_path):
    run = PifiaRun(_request(tmp_path, tiny), protocol_for(_request(tmp_path, tiny)), choose_runtime("cpu"))
    proteins, splits = tiny.index["protein"].to_numpy(), tiny.index["split"].to_numpy()
    labels = run.labels.numpy()
    assert run.net.classify.out_features == len(set(proteins)) == len(run.classes)
    for a in range(len(proteins)):  # same protein <-> same class
        assert ((labels == labels[a]) == (proteins == proteins[a])).all()
    assert sorted(set(proteins[run.train_ids])) == sorted(set(proteins))  # every class has training cells
    assert (splits[run.train_ids] == "train").all() and (splits[run.val_ids] == "val").all()
    assert (splits[run.test_ids] == "test").all() and len(run.test_ids) == 3 * 6


def test_cosine_learning_rate_and_the_rates_the_optimizer_used(tiny, tmp_path, monkeypatch):
    request = _request(tmp_path, tiny, epochs=2, train_cells=24, lr=0.01)
    run = PifiaRun(request, protocol_for(request), choose_runtime("cpu"))
    assert run.batches_per_epoch == 3
    expected = [0.01 * 0.5 * (1 + math.cos(math.pi * step / 6)) for step in range(6)]
    assert [run.learning_rate(e, b) for e in (1, 2) for b in range(3)] == pytest.approx(expected)
    used, step = [], torch.optim.Adam.step

    def record(self, *args, **kwargs):
        used.append(self.param_groups[0]["lr"])
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", record)
    PifiaEmbedder().embed(request)
    assert used == pytest.approx(expected)


def test_loss_falls_on_a_fixed_batch(tiny):
    ids = np.flatnonzero(tiny.index["split"] == "train")[:24]
    codes = tiny.index["protein"].astype("category").cat.codes.to_numpy()
    batch = (torch.from_numpy(tiny.read(ids)), torch.as_tensor(codes[ids], dtype=torch.int64))
    torch.manual_seed(0)
    model = PifiaNet(n_classes=6, width=0.25, dropout=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    runtime = choose_runtime("cpu", {"channels_last": "false", "precision": "fp32"})
    loss = lambda m, b: torch.nn.functional.cross_entropy(m(b[0])[0], b[1])  # noqa: E731
    losses = [run_training_epoch(model, optimizer, [batch], loss, runtime) for _ in range(10)]
    assert losses[-1] < 0.5 * losses[0]


# -- the embedder ----------------------------------------------------------------------------------------


def test_registered_satisfies_the_protocol_and_declares_its_labels():
    assert isinstance(PifiaEmbedder(), Embedder)
    assert PifiaEmbedder.labels == ("protein-identity",)  # one of repbench.embedders' label kinds
    from repbench import plugins

    plugins.reset()
    assert "pifia" in plugins.embedders()


def test_options_name_protocol_fields():
    names = set(Protocol.__dataclass_fields__)
    assert {o.name for o in OPTIONS} - {"precision", "channels_last"} <= names
    assert PROTOCOLS["paper"] == Protocol(
        "paper", epochs=30, lr=3e-4, batch_size=128, train_cells=None, val_cells=None, width=1.0
    )  # the authors' command: lr 3e-4, cosine, dropout 0.02, 30 epochs


def test_embedding_shape_finite_deterministic_and_means_of_test_cells(tiny, tmp_path):
    reports = []
    first = PifiaEmbedder().embed(_request(tmp_path / "a", tiny, on_epoch=reports.append))
    again = PifiaEmbedder().embed(_request(tmp_path / "b", tiny))
    proteins = sorted(set(tiny.index["protein"]))
    assert sorted(first.proteins) == proteins
    assert first.vectors.shape == (6, 64) and first.vectors.dtype == np.float32
    assert np.isfinite(first.vectors).all() and (first.vectors >= 0).all()
    np.testing.assert_array_equal(first.vectors, again.vectors)
    assert first.params["labels"] == "protein-identity" and first.params["classes"] == 6
    assert len(reports) == 1 and set(reports[0].logs) >= {"train_loss", "val_loss", "val_acc", "lr"}
    other_seed = PifiaEmbedder().embed(_request(tmp_path / "c", tiny, seed=1))
    assert not np.allclose(other_seed.vectors, first.vectors)

    # a protein's vector is the mean over its 3 test cells of the kept network's features (plain loop)
    request = _request(tmp_path / "a", tiny)
    run = PifiaRun(request, protocol_for(request), choose_runtime("cpu", request.options))
    run.fit(None)  # the finished run: loads its last checkpoint
    run.net.eval()
    test_ids = np.flatnonzero(tiny.index["split"] == "test")
    with torch.no_grad():
        cell_vectors = run.net.features(torch.from_numpy(tiny.read(test_ids))).numpy()
    of = tiny.index["protein"].to_numpy()[test_ids]
    for protein, vector in zip(first.proteins, first.vectors):
        assert (of == protein).sum() == 3
        np.testing.assert_allclose(vector, cell_vectors[of == protein].mean(axis=0), rtol=1e-4, atol=1e-5)


def test_resume_after_interruption_is_exact(tiny, tmp_path):
    straight_reports = []
    straight = PifiaEmbedder().embed(_request(tmp_path / "a", tiny, epochs=2, on_epoch=straight_reports.append))

    def stop_after_one(report):
        if report.epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        PifiaEmbedder().embed(_request(tmp_path / "b", tiny, epochs=2, on_epoch=stop_after_one))
    seen = []
    resumed = PifiaEmbedder().embed(_request(tmp_path / "b", tiny, epochs=2, on_epoch=seen.append))
    # epoch 1 again from its checkpoint (its record may not have been written before the stop), then epoch 2
    assert [r.epoch for r in seen] == [1, 2] and resumed.params["resumed_from_epoch"] == 1
    assert [r.logs for r in seen] == [r.logs for r in straight_reports]
    np.testing.assert_array_equal(resumed.vectors, straight.vectors)
    with pytest.raises(RepbenchError) as error:  # other settings in the same folder are refused
        PifiaEmbedder().embed(_request(tmp_path / "b", tiny, epochs=2, dropout=0.5))
    assert error.value.code == "checkpoint-mismatch"


@pytest.mark.parametrize(
    "options, code",
    [
        ({"epochs": "0"}, "bad-option"),
        ({"lr": "fast"}, "bad-option"),
        ({"width": "-1"}, "bad-option"),
        ({"dropout": "1"}, "bad-option"),
        ({"train_cells": "some"}, "bad-option"),
        ({"rfp": "maybe"}, "bad-option"),
        ({"layer": "fc1"}, "unknown-option"),
    ],
)
def test_bad_options_are_usage_errors(options, code, tiny, tmp_path):
    with pytest.raises(UsageError) as error:
        PifiaEmbedder().embed(EmbedRequest(cells=tiny, out_dir=tmp_path, options=options))
    assert error.value.code == code and next(iter(options)) in str(error.value)
    assert not (tmp_path / "checkpoints").exists()


def test_a_set_without_test_cells_is_a_clear_error(tmp_path):
    import pandas as pd

    class TrainOnly:
        name, dataset, classes = "train-only", "synthetic", []
        index = pd.DataFrame({"protein": ["A", "B", "A", "B"], "split": "train", "label": -1})

        def read(self, ids):
            return np.zeros((len(ids), 2, 64, 64), np.float32)

        def __len__(self):
            return 4

    with pytest.raises(RepbenchError) as error:
        PifiaEmbedder().embed(_request(tmp_path, TrainOnly()))
    assert error.value.code == "pifia-no-test-cells"
