"""The untrained control (``--option untrained=true``) of every learned embedder: deeploc, inpainting, pifia.

Each must: make no optimizer step and write no checkpoint; start from exactly the weights the trained run
starts from (same architecture, same seed); normalise with the batch statistics of the training cells under
those weights (precise BN, checked against a plain mean here); and read out the same layer as the trained
run, averaged over each protein's test cells (recomputed here from the initial weights, cell by cell).
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from repbench.data import open_cells  # noqa: E402
from repbench.embedders import EmbedRequest  # noqa: E402
from repbench.torch import choose_runtime  # noqa: E402


@dataclass
class Case:
    name: str
    options: dict  # small and fast
    make: Callable  # (request) -> the embedder's run object, before any training
    features: Callable  # (net, crops (b, 2, 64, 64)) -> (b, d): the trained run's read-out
    first_norm: Callable  # net -> (the first batch norm, what it normalises as a function of crops)


def _deeploc():
    pytest.importorskip("repbench_deeploc")
    from repbench_deeploc import DeepLocEmbedder
    from repbench_deeploc.embedder import protocol_for
    from repbench_deeploc.training import DeepLocRun

    def make(request):
        protocol = protocol_for(request)
        return DeepLocRun(request, protocol, choose_runtime("cpu", request.options), protocol.lrs[0], request.seed)

    return DeepLocEmbedder(), Case(
        "deeploc",
        {"batch_size": 8, "train_cells": 8},
        make,
        lambda net, x: net.features(x),
        lambda net: (net.convs[1], net.convs[0]),
    )


def _inpainting():
    pytest.importorskip("repbench_inpainting")
    from repbench_inpainting import InpaintingEmbedder
    from repbench_inpainting.embedder import protocol_for
    from repbench_inpainting.training import InpaintingRun

    def make(request):
        return InpaintingRun(request, protocol_for(request), choose_runtime("cpu", request.options))

    stage = lambda net: net.source["conv1_1"]  # noqa: E731  (convolution -> ReLU -> batch norm)
    return InpaintingEmbedder(), Case(
        "inpainting",
        {"batch_size": 8, "train_cells": 8, "width": 0.125},
        make,
        lambda net, x: net.protein_features(x, "conv3_1"),
        lambda net: (stage(net).norm, lambda x: torch.relu(stage(net).conv(x))),
    )


def _pifia():
    pytest.importorskip("repbench_pifia")
    from repbench_pifia import PifiaEmbedder
    from repbench_pifia.embedder import protocol_for
    from repbench_pifia.training import PifiaRun

    def make(request):
        return PifiaRun(request, protocol_for(request), choose_runtime("cpu", request.options))

    return PifiaEmbedder(), Case(
        "pifia",
        {"batch_size": 8, "train_cells": 8, "width": 0.125},
        make,
        lambda net, x: net.features(x),
        lambda net: (net.convs[1], lambda x: net.convs[0](x[:, :1])),
    )


CASES = {"deeploc": _deeploc, "inpainting": _inpainting, "pifia": _pifia}


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    """8 synthetic proteins x 25 cells: 19 train, 3 val, 3 test each (at most 152 train cells: fewer than the 256
    the recalibration draws, so it uses every train cell and the expected statistics need no sample rule)."""
    return open_cells("demo:proteins=8,cells=25", cache_dir=tmp_path_factory.mktemp("demo"))


def _request(case, cells, out, **extra):
    options = {"epochs": 1, "precision": "fp32", **case.options, **extra}
    return EmbedRequest(cells=cells, out_dir=out, device="cpu", seed=3, options={k: str(v) for k, v in options.items()})


def _count_steps(monkeypatch) -> list:
    """Every Adam step (all three embedders train with Adam) appends to the returned list."""
    steps, adam_step = [], torch.optim.Adam.step

    def counting(self, *args, **kwargs):
        steps.append(1)
        return adam_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counting)
    return steps


def _net_train_ids(case, cells) -> np.ndarray:
    """The cells a run trains on: DeepLoc only those with a localization label; the others every train cell."""
    train = (cells.index["split"] == "train").to_numpy()
    if case.name == "deeploc":
        train = train & (cells.index["label"].to_numpy() >= 0)
    return np.flatnonzero(train)


def _net(run):
    return getattr(run, "net", run.model)  # DeepLoc and PIFiA keep the bare network beside a DDP wrapper


@pytest.mark.parametrize("name", list(CASES))
def test_untrained_control_reads_out_the_initial_weights_without_a_step(name, cells, tmp_path, monkeypatch):
    embedder, case = CASES[name]()
    steps = _count_steps(monkeypatch)
    untrained = embedder.embed(_request(case, cells, tmp_path / "untrained", untrained="true"))
    assert steps == [] and not (tmp_path / "untrained" / "checkpoints").exists()
    assert untrained.params["untrained"] is True and untrained.params["epochs"] == 0

    # the trained run's network before its first step: same architecture, same seed -> same weights
    initial = _net(case.make(_request(case, cells, tmp_path / "trained")))
    train_ids = _net_train_ids(case, cells)
    test_ids = np.flatnonzero(cells.index["split"] == "test")
    train_crops = torch.from_numpy(cells.read(train_ids))
    # precise BN: the first batch norm gets the plain mean / variance of what it normalises over all train cells
    norm, before_norm = case.first_norm(initial)
    with torch.no_grad():
        values = before_norm(train_crops).double()
    mean = values.mean(dim=(0, 2, 3))
    assert not torch.allclose(mean, torch.zeros_like(mean), atol=1e-3)  # so the running stats at init would differ
    # the untrained run's own network: rebuild it, recalibrate its first norm and compare to the plain mean
    again = case.make(_request(case, cells, tmp_path / "again", untrained="true"))
    net = _net(again)
    for key, value in initial.state_dict().items():
        if not key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            torch.testing.assert_close(net.state_dict()[key], value, rtol=0, atol=0)
    again.untrained()
    torch.testing.assert_close(case.first_norm(net)[0].running_mean.double(), mean, rtol=1e-4, atol=1e-5)

    # the vectors: that network in eval mode, each protein's test cells averaged (plain loop)
    net.eval()
    with torch.no_grad():
        per_cell = case.features(net, torch.from_numpy(cells.read(test_ids))).double().numpy()
    proteins = cells.index["protein"].to_numpy()[test_ids]
    for protein, vector in zip(untrained.proteins, untrained.vectors):
        np.testing.assert_allclose(vector, per_cell[proteins == protein].mean(axis=0), rtol=1e-4, atol=1e-5)
    assert sorted(untrained.proteins) == sorted(set(proteins))

    # and training changes it (one epoch of one step)
    trained = embedder.embed(_request(case, cells, tmp_path / "trained-run"))
    assert len(steps) >= 1
    assert not np.allclose(trained.vectors, untrained.vectors, atol=1e-4)


@pytest.mark.parametrize("name", list(CASES))
def test_untrained_is_a_true_false_option(name, cells, tmp_path):
    from repbench.errors import UsageError

    embedder, case = CASES[name]()
    with pytest.raises(UsageError) as error:
        embedder.embed(_request(case, cells, tmp_path, untrained="maybe"))
    assert error.value.code == "bad-option" and "untrained" in str(error.value)
