"""Paired Cell Inpainting (plugins/inpainting): architecture, pairs, shapes, determinism, learning, resume.

Numeric tests pin ``precision=fp32`` (the automatic choice is bf16 on AMX / AVX-512 BF16 CPUs); the bf16 path has
its own cases (marked ``bf16``: emulated on CPUs without native bf16, the narrow network keeps them short).
"""

import copy
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("repbench_inpainting")

from repbench_inpainting import InpaintingEmbedder  # noqa: E402
from repbench_inpainting.embedder import protocol_for  # noqa: E402
from repbench_inpainting.model import PairedCellInpainting  # noqa: E402
from repbench_inpainting.pairs import pairable_ids, sample_partners  # noqa: E402
from repbench_inpainting.training import InpaintingRun, inpainting_loss  # noqa: E402

from repbench.data import open_cells  # noqa: E402
from repbench.embedders import Embedder, EmbedRequest  # noqa: E402
from repbench.errors import RepbenchError, UsageError  # noqa: E402
from repbench.torch import choose_runtime, features_of_cells, run_training_epoch  # noqa: E402

TOY = Path(__file__).resolve().parents[3] / "tests" / "data" / "yeast_toy"
NARROW = 0.125  # an eighth of the published width: conv3_1 has 48 channels, conv4_1 48, conv5_1 32


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """6 synthetic proteins x 4 cells: 2 train, 1 val, 1 test each."""
    return open_cells("demo:proteins=6,cells=4", cache_dir=tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def toy():
    """The committed real crops: 5 proteins x 12 cells (10 train, 1 val, 1 test)."""
    return open_cells(TOY)


@pytest.fixture(scope="module")
def toy_three_test_cells(toy):
    """The same crops with 8 train, 1 val and 3 test cells per protein (a mean over several cells)."""
    resplit = copy.copy(toy)
    rank = toy.index.groupby("protein", observed=True).cumcount().to_numpy()
    resplit.index = toy.index.assign(split=np.where(rank < 8, "train", np.where(rank == 8, "val", "test")))
    return resplit


def _request(out, cells, epochs=1, seed=0, on_epoch=None, **options):
    # one step of 8 source cells per epoch at an eighth of the width: an epoch is a second of CPU
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
    net = PairedCellInpainting(width=1.0)
    assert [s.conv.out_channels for s in net.source.values()] == [96, 256, 384, 384, 256]
    assert [s.conv.out_channels for s in net.marker] == [16, 32, 32]
    assert all(isinstance(s.norm, torch.nn.BatchNorm2d) for s in [*net.source.values(), *net.marker])
    decoder_convs = [m for m in net.decoder if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in decoder_convs] == [256, 384, 384, 256, 96, 1]
    assert decoder_convs[0].in_channels == 256 + 32  # source features concatenated with the marker's
    assert sum(isinstance(m, torch.nn.Upsample) for m in net.decoder) == 2


def test_shapes_of_prediction_and_layer_features():
    net = PairedCellInpainting(width=NARROW).eval()
    source, marker = torch.randn(3, 2, 64, 64), torch.randn(3, 1, 64, 64)
    assert net(source, marker).shape == (3, 1, 64, 64)
    sizes = {"conv1_1": (12, 64), "conv2_1": (32, 32), "conv3_1": (48, 16), "conv4_1": (48, 16), "conv5_1": (32, 16)}
    for layer, (channels, side) in sizes.items():
        feature, _ = net.encode(source, upto=layer)
        assert feature.shape == (3, channels, side, side)
        assert (feature >= 0).all()  # the ReLU output, before batch norm
        torch.testing.assert_close(net.protein_features(source, layer), feature.amax(dim=(2, 3)))


def test_target_marker_changes_the_prediction():
    net = PairedCellInpainting(width=NARROW).eval()
    source = torch.randn(2, 2, 64, 64)
    with torch.no_grad():
        a, b = net(source, torch.randn(2, 1, 64, 64)), net(source, torch.randn(2, 1, 64, 64))
    assert not torch.allclose(a, b)


# -- pairs -----------------------------------------------------------------------------------------------


def test_partners_are_other_cells_of_the_same_protein():
    proteins = np.array(list("AABBBCACD") + ["D"] * 5)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(200):
        partners = sample_partners(proteins, rng)
        assert (partners != np.arange(len(proteins))).all()
        assert (proteins[partners] == proteins).all()
        seen.update(zip(range(len(proteins)), partners.tolist()))
    # every ordered pair of distinct cells of a protein turns up (the partner is drawn among all of them)
    expected = {
        (i, j) for i in range(len(proteins)) for j in range(len(proteins)) if i != j and proteins[i] == proteins[j]
    }
    assert seen == expected
    again = sample_partners(proteins, np.random.default_rng(5))
    assert np.array_equal(again, sample_partners(proteins, np.random.default_rng(5)))


def test_a_single_cell_cannot_be_paired():
    with pytest.raises(ValueError):
        sample_partners(np.array(["A", "A", "B"]), np.random.default_rng(0))
    assert list(pairable_ids(np.array(["A", "B", "A", "C", "C"]), np.array([10, 11, 12, 13, 14]))) == [10, 12, 13, 14]


def test_epoch_pairs_use_train_cells_of_one_protein_and_change_per_epoch(toy, tmp_path):
    request = _request(tmp_path, toy, train_cells="all")
    run = InpaintingRun(request, protocol_for(request), choose_runtime("cpu", {"precision": "fp32"}))
    proteins, splits = toy.index["protein"].to_numpy(), toy.index["split"].to_numpy()
    sources, targets = run.epoch_pairs(1)
    assert sorted(sources) == sorted(np.flatnonzero(splits == "train"))  # each train cell once as a source
    assert (splits[targets] == "train").all() and (sources != targets).all()
    assert (proteins[sources] == proteins[targets]).all()
    assert all(np.array_equal(a, b) for a, b in zip(run.epoch_pairs(1), (sources, targets)))
    second = run.epoch_pairs(2)
    assert not np.array_equal(second[1][np.argsort(second[0])], targets[np.argsort(sources)])
    # validation pairs: val cells with a fixed other cell of their protein, never a test cell
    assert (splits[run.val_sources] == "val").all() and (run.val_sources != run.val_targets).all()
    assert (proteins[run.val_sources] == proteins[run.val_targets]).all()
    assert set(splits[run.val_targets]) <= {"train", "val"}


# -- the embedder ----------------------------------------------------------------------------------------


def test_registered_and_satisfies_the_protocol():
    assert isinstance(InpaintingEmbedder(), Embedder)
    from repbench import plugins

    plugins.reset()
    assert "inpainting" in plugins.embedders()


@pytest.mark.parametrize("data", ["tiny", "toy"])
def test_embedding_shape_finite_deterministic(data, request, tmp_path):
    cells = request.getfixturevalue(data)
    first = InpaintingEmbedder().embed(_request(tmp_path / "a", cells))
    again = InpaintingEmbedder().embed(_request(tmp_path / "b", cells))
    proteins = sorted(set(cells.index["protein"][cells.index["split"] == "test"]))
    assert sorted(first.proteins) == proteins
    assert first.vectors.shape == (len(proteins), 48) and first.vectors.dtype == np.float32  # conv3_1
    assert np.isfinite(first.vectors).all() and (first.vectors >= 0).all()  # max of ReLU outputs
    np.testing.assert_array_equal(first.vectors, again.vectors)
    assert first.params["layer"] == "conv3_1" and first.params["protocol"] == "quick"
    other_seed = InpaintingEmbedder().embed(_request(tmp_path / "c", cells, seed=1))
    assert not np.allclose(other_seed.vectors, first.vectors)


@pytest.mark.parametrize("precision", ["fp32", pytest.param("bf16", marks=pytest.mark.bf16)])
def test_layer_option_and_per_protein_mean_of_test_cells(toy_three_test_cells, tmp_path, precision):
    """Three test cells per protein; their vectors are recomputed from the last checkpoint in the run's
    precision (bf16 against bf16, fp32 against fp32), so the tolerance is that of the float64 mean."""
    cells = toy_three_test_cells
    reports = []
    request = _request(tmp_path, cells, layer="conv4_1", on_epoch=reports.append, precision=precision)
    embedding = InpaintingEmbedder().embed(request)
    assert embedding.vectors.shape == (5, 48) and embedding.params["layer"] == "conv4_1"
    assert embedding.params["precision"] == precision and embedding.params["precision_chosen_by"] == "option"
    run = InpaintingRun(request, protocol_for(request), choose_runtime("cpu", {"precision": precision}))
    run.fit(None)  # every epoch is on disk: loads the last checkpoint
    run.model.eval()
    test_ids = np.flatnonzero(cells.index["split"] == "test")
    cell_vectors = features_of_cells(lambda x: run.model.protein_features(x, "conv4_1"), cells, test_ids, run.runtime)
    proteins = cells.index["protein"].astype(str).to_numpy()[test_ids].tolist()
    assert all(proteins.count(p) == 3 for p in set(proteins))
    assert not np.allclose(cell_vectors[0], cell_vectors[1], rtol=1e-3)  # so neither a sum nor a first cell passes
    for row, protein in enumerate(embedding.proteins):  # the plain mean of the protein's cells, in float64
        mine = [cell_vectors[i].astype(np.float64) for i in range(len(proteins)) if proteins[i] == protein]
        np.testing.assert_allclose(embedding.vectors[row], sum(mine) / len(mine), rtol=1e-6, atol=1e-7)
    assert len(reports) == 1 and reports[0].epoch == 1
    assert set(reports[0].logs) >= {"train_loss", "val_loss", "lr"}
    np.testing.assert_array_equal(reports[0].embedding.vectors, embedding.vectors)


def test_loss_falls_over_a_few_steps_on_a_fixed_batch(toy):
    ids = np.flatnonzero(toy.index["split"] == "train")[:16]
    partners = ids.reshape(-1, 2)[:, ::-1].reshape(-1)  # cells 2k and 2k+1 are of the same protein
    assert (toy.index["protein"].to_numpy()[ids] == toy.index["protein"].to_numpy()[partners]).all()
    batch = (torch.from_numpy(toy.read(ids)), torch.from_numpy(toy.read(partners)))
    torch.manual_seed(0)
    model = PairedCellInpainting(width=NARROW)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))
    runtime = choose_runtime("cpu", {"channels_last": "false", "precision": "fp32"})
    losses = [run_training_epoch(model, optimizer, [batch], inpainting_loss, runtime) for _ in range(8)]
    assert losses[-1] < 0.7 * losses[0]


@pytest.mark.parametrize("precision", ["fp32", pytest.param("bf16", marks=pytest.mark.bf16)])
def test_resume_after_interruption_is_exact(tiny, tmp_path, precision):
    """Bit for bit in either precision (same machine, same threads, and a resumed run keeps its precision)."""
    straight_reports = []
    straight = InpaintingEmbedder().embed(
        _request(tmp_path / "a", tiny, epochs=2, on_epoch=straight_reports.append, precision=precision)
    )

    def stop_after_one(report):
        if report.epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        InpaintingEmbedder().embed(
            _request(tmp_path / "b", tiny, epochs=2, on_epoch=stop_after_one, precision=precision)
        )
    seen = []
    resumed = InpaintingEmbedder().embed(
        _request(tmp_path / "b", tiny, epochs=2, on_epoch=seen.append, precision=precision)
    )
    # epoch 1 is handed over again from its checkpoint (its record may not have been written), then epoch 2
    assert [r.epoch for r in seen] == [1, 2] and resumed.params["resumed_from_epoch"] == 1
    assert [r.logs for r in seen] == [r.logs for r in straight_reports]
    np.testing.assert_array_equal(seen[0].embedding.vectors, straight_reports[0].embedding.vectors)
    np.testing.assert_array_equal(resumed.vectors, straight.vectors)
    assert resumed.params["precision"] == precision
    checkpoint = next((tmp_path / "b" / "checkpoints").glob("*/epoch-002.pt"))
    saved = set(torch.load(checkpoint, weights_only=True))
    assert saved >= {"model", "optimizer", "rng", "history", "runtime", "report"}


def test_checkpoints_of_other_settings_are_refused(tiny, tmp_path):
    InpaintingEmbedder().embed(_request(tmp_path, tiny))
    with pytest.raises(RepbenchError) as error:
        InpaintingEmbedder().embed(_request(tmp_path, tiny, batch_size=4))
    assert error.value.code == "checkpoint-mismatch"


@pytest.mark.parametrize(
    "options, code",
    [
        ({"layer": "fc7"}, "bad-option"),
        ({"epochs": "0"}, "bad-option"),
        ({"lr": "fast"}, "bad-option"),
        ({"width": "-1"}, "bad-option"),
        ({"colour": "red"}, "unknown-option"),
    ],
)
def test_bad_options_are_usage_errors(options, code, tiny, tmp_path):
    with pytest.raises(UsageError) as error:
        InpaintingEmbedder().embed(EmbedRequest(cells=tiny, out_dir=tmp_path, options=options))
    assert error.value.code == code
    assert not (tmp_path / "checkpoints").exists()


def test_a_set_without_pairs_is_a_clear_error(tmp_path):
    import pandas as pd

    class OneCellEach:
        name, dataset, classes = "singles", "synthetic", []
        index = pd.DataFrame(
            {"protein": ["A", "B", "A", "B"], "split": ["train", "train", "test", "test"], "label": -1}
        )

        def read(self, ids):
            return np.zeros((len(ids), 2, 64, 64), np.float32)

        def __len__(self):
            return 4

    with pytest.raises(RepbenchError) as error:
        InpaintingEmbedder().embed(_request(tmp_path, OneCellEach()))
    assert error.value.code == "inpainting-no-pairs"
