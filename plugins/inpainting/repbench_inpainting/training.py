"""Training Paired Cell Inpainting with :mod:`repbench.torch` and reading out the protein vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from repbench.embedders import Embedding, EmbedRequest
from repbench.errors import RepbenchError
from repbench.progress import Counter
from repbench.torch import (
    CheckpointDir,
    EpochResult,
    RunConfig,
    RunOutcome,
    Runtime,
    augment_dihedral,
    choose_runtime,
    derive_seed,
    epoch_order,
    evaluate_untrained,
    features_of_cells,
    generator,
    iter_crops,
    protein_means,
    recalibrate_batch_norm,
    resume_runtime,
    run_training_epoch,
    seed_everything,
    split_ids,
    train,
)

from .model import PairedCellInpainting
from .pairs import pairable_ids, sample_partners
from .protocol import VERSION, Protocol

EVAL_BATCH = 256
BN_CELLS = 256  # training cells whose batch statistics the untrained control's batch norms get


def inpainting_loss(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Pixel-wise mean squared error of the predicted target protein channel.
    ``batch``: source crops (b, 2, 64, 64) and target crops (b, 2, 64, 64) of the same proteins."""
    source, target = batch
    predicted = model(source, target[:, 1:2])  # the network sees the target's marker channel only
    return F.mse_loss(predicted.float(), target[:, 0:1].float())


class _OwnMarker(torch.nn.Module):
    """The network on single crops (b, 2, 64, 64), each with its own marker channel as the target's: what
    batch-norm recalibration runs, so that the marker encoder's statistics are those of training cells too."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.net(crops, crops[:, 1:2])


class InpaintingRun:
    """One training run; ``fit`` trains it (resuming from its checkpoints) and returns the outcome."""

    def __init__(self, request: EmbedRequest, protocol: Protocol, runtime: Runtime):
        cells, seed = request.cells, request.seed
        self.request, self.protocol, self.runtime, self.cells = request, protocol, runtime, cells
        # protein of each cell id as an integer code (a screen has millions of cells: no strings per cell)
        self.proteins, self.protein_names = pd.factorize(cells.index["protein"], sort=False)
        train_ids = split_ids(cells, "train")
        self.train_ids = pairable_ids(self.proteins[train_ids], train_ids)
        if len(self.train_ids) < 2:
            raise RepbenchError(
                "inpainting-no-pairs",
                f"{cells.name}: no protein has two train-split cells; inpainting trains on pairs "
                "of cells of the same protein",
            )
        self.test_ids = split_ids(cells, "test")
        self.val_sources, self.val_targets = self._validation_pairs(cells, seed)
        self.config = RunConfig(
            name=f"width={protocol.width:g}-lr={protocol.lr:g}-seed={seed}-{protocol.layer}",
            epochs=protocol.epochs,
            lr=protocol.lr,
            seed=seed,
            identity={
                "embedder": "inpainting",
                "version": VERSION,
                "protocol": protocol.name,
                "batch_size": protocol.batch_size,
                "train_cells": protocol.train_cells,
                "width": protocol.width,
                "beta1": protocol.beta1,
                "layer": protocol.layer,
                "data": str(cells.name),
                "cells": len(cells),
            },
        )
        seed_everything(seed, "init")
        self.model = runtime.prepare_model(PairedCellInpainting(width=protocol.width))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=protocol.lr, betas=(protocol.beta1, 0.999))

    def _validation_pairs(self, cells, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Each val-split cell with one fixed partner of its protein from the train or val split (the same
        pairs every epoch, so the validation loss is comparable between epochs)."""
        val_ids = split_ids(cells, "val")
        pool = np.sort(np.concatenate([split_ids(cells, "train"), val_ids]))
        pool = pairable_ids(self.proteins[pool], pool)
        sources = val_ids[np.isin(val_ids, pool)]
        if len(sources) == 0:
            return sources, sources
        # pair within (the val sources + the train cells of their proteins), then keep the val sources' pairs
        members = pool[np.isin(self.proteins[pool], self.proteins[sources])]
        partners = members[sample_partners(self.proteins[members], np.random.default_rng(derive_seed(seed, "val")))]
        keep = np.isin(members, sources)
        return members[keep], partners[keep]

    # -- one epoch --------------------------------------------------------------------------------
    def epoch_pairs(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """(source ids, target ids) of one epoch, drawn from (seed, epoch) alone: every train cell gets
        a new partner of its protein; the sources are then ordered and cut to ``train_cells``."""
        seed = self.config.seed
        partners = self.train_ids[
            sample_partners(self.proteins[self.train_ids], np.random.default_rng(derive_seed(seed, epoch, "pairs")))
        ]
        position = epoch_order(np.arange(len(self.train_ids)), seed, epoch, self.protocol.train_cells)
        return self.train_ids[position], partners[position]

    def _batches(self, epoch: int):
        sources, targets = self.epoch_pairs(epoch)
        # source and target are flipped/rotated independently, as in the authors' training code
        source_turns = generator(self.config.seed, epoch, "augment-source")
        target_turns = generator(self.config.seed, epoch, "augment-target")
        size = self.protocol.batch_size
        for start in range(0, len(sources), size):
            if len(sources[start : start + size]) < 2:  # batch norm cannot normalise a batch of one cell
                continue
            source = self.runtime.batch(self.cells.read(sources[start : start + size]))
            target = self.runtime.batch(self.cells.read(targets[start : start + size]))
            yield augment_dihedral(source, source_turns), augment_dihedral(target, target_turns)

    def train_epoch(self, epoch: int) -> float:
        step = None
        if self.request.progress is not None:
            n = len(self.epoch_pairs(epoch)[0])
            step = Counter(
                self.request.progress,
                f"inpainting epoch {epoch}/{self.config.epochs}",
                -(-n // self.protocol.batch_size),
            )
        loss = run_training_epoch(
            self.model, self.optimizer, self._batches(epoch), inpainting_loss, self.runtime, on_step=step
        )
        return loss

    def validation_loss(self) -> float | None:
        if len(self.val_sources) == 0:
            return None
        total = 0.0
        for start in range(0, len(self.val_sources), EVAL_BATCH):
            batch = (
                self.runtime.batch(self.cells.read(self.val_sources[start : start + EVAL_BATCH])),
                self.runtime.batch(self.cells.read(self.val_targets[start : start + EVAL_BATCH])),
            )
            with self.runtime.autocast():
                total += float(inpainting_loss(self.model, batch)) * len(batch[0])
        return total / len(self.val_sources)

    def test_embedding(self) -> Embedding:
        """The protein vectors: each test cell's layer features (max over space), averaged per protein."""
        layer = self.protocol.layer
        vectors = features_of_cells(
            lambda x: self.model.protein_features(x, layer), self.cells, self.test_ids, self.runtime, EVAL_BATCH
        )
        names = np.asarray(self.protein_names, dtype=object)[self.proteins[self.test_ids]]
        proteins, means = protein_means(names, vectors)
        return Embedding(proteins=proteins, vectors=means)

    def evaluate(self, epoch: int) -> EpochResult:
        val_loss = self.validation_loss()
        logs = {} if val_loss is None else {"val_loss": val_loss}
        # the paper trains a fixed number of epochs: the last one is kept (selection prefers later epochs)
        return EpochResult(logs=logs, embedding=self.test_embedding(), selection_loss=-float(epoch))

    def _recalibrate_batch_norm(self) -> None:
        """Batch-norm statistics of the current weights from ``BN_CELLS`` unaugmented training cells."""
        sample = np.sort(epoch_order(self.train_ids, self.config.seed + 7919, 0, BN_CELLS))
        batches = (self.runtime.batch(crops) for _, crops in iter_crops(self.cells, sample, EVAL_BATCH))
        recalibrate_batch_norm(_OwnMarker(self.model), batches, self.runtime)

    def untrained(self) -> RunOutcome:
        """The untrained control: the trained run's initial weights, no optimizer step. Its batch norms get
        the statistics of training cells under these weights ("precise BN", as DeepLoc after every epoch),
        which is what a trained network's running averages approximate for its final weights; with the
        initial running statistics (mean 0, variance 1) the layers would not be normalised at all."""
        return evaluate_untrained(self.model, self.config, self.evaluate, self._recalibrate_batch_norm)

    def fit(self, on_epoch) -> RunOutcome:
        checkpoints = CheckpointDir(Path(self.request.out_dir) / "checkpoints" / self.config.name)
        self.runtime = resume_runtime(self.runtime, checkpoints)  # a resumed run keeps its precision
        return train(
            self.model,
            self.optimizer,
            self.runtime,
            self.config,
            checkpoints,
            train_epoch=self.train_epoch,
            evaluate=self.evaluate,
            on_epoch=on_epoch,
        )


def embed_with_inpainting(request: EmbedRequest, protocol: Protocol) -> Embedding:
    if len(split_ids(request.cells, "test")) == 0:
        raise RepbenchError("inpainting-no-test-cells", f"{request.cells.name}: no test-split cells to embed")
    runtime = choose_runtime(request.device, request.options)
    run = InpaintingRun(request, protocol, runtime)
    outcome = run.untrained() if protocol.untrained else run.fit(request.on_epoch)
    last = outcome.history[-1]
    outcome.embedding.params = {
        "protocol": protocol.name,
        "layer": protocol.layer,
        "pooling": "max over space, mean over test cells",
        "width": protocol.width,
        "epochs": protocol.epochs,
        "batch_size": protocol.batch_size,
        "train_cells_per_epoch": protocol.train_cells or "all",
        "optimizer": "adam",
        "lr": protocol.lr,
        "beta1": protocol.beta1,
        "seed": request.seed,
        "kept_epoch": outcome.best_epoch,
        "final_train_loss": last.get("train_loss"),
        "final_val_loss": last.get("val_loss"),
        "train_cells_paired": len(run.train_ids),
        "resumed_from_epoch": outcome.resumed_from,
        **run.runtime.describe(),
    }
    if protocol.untrained:
        outcome.embedding.params.update({"untrained": True, "epochs": 0, "bn_cells": BN_CELLS})
    return outcome.embedding
