"""Training PIFiA: DeepLoc's training run (:class:`repbench_deeploc.training.DeepLocRun`: batches,
dihedral augmentation, batch-norm recalibration, validation, test-split read-out, checkpoints, resume,
torchrun) with PIFiA's network, protein identity as the class of every cell, and a cosine learning rate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from repbench_deeploc.training import DeepLocRun

from repbench.embedders import Embedding, EmbedRequest
from repbench.errors import RepbenchError
from repbench.torch import RunConfig, Runtime, choose_runtime, distributed, epoch_order, seed_everything, split_ids

from .embedder import VERSION, Protocol
from .model import PifiaNet


class PifiaRun(DeepLocRun):
    """One PIFiA training run; ``fit`` trains it (resuming from its checkpoints), ``untrained`` is the control."""

    def __init__(self, request: EmbedRequest, protocol: Protocol, runtime: Runtime):
        cells, seed = request.cells, request.seed
        self.request, self.protocol, self.runtime, self.cells = request, protocol, runtime, cells
        # the class of a cell is its protein: every protein of the set is a class (sorted names, so the
        # class numbers do not depend on the order of the cells)
        codes, self.classes = pd.factorize(cells.index["protein"], sort=True)
        self.labels = torch.as_tensor(np.asarray(codes, dtype=np.int64))
        self.train_ids = split_ids(cells, "train")
        if len(self.train_ids) < 2:
            raise RepbenchError(
                "pifia-no-training-cells",
                f"{cells.name}: {len(self.train_ids)} train-split cells; PIFiA needs at least 2",
            )
        self.test_ids = split_ids(cells, "test")
        if len(self.test_ids) == 0:
            raise RepbenchError("pifia-no-test-cells", f"{cells.name}: no test-split cells to embed")
        # a fixed subset (drawn from the seed alone, "epoch 0"), so that the val losses of different epochs compare
        self.val_ids = np.sort(epoch_order(split_ids(cells, "val"), seed, 0, protocol.val_cells))
        self.test_proteins = cells.index["protein"].to_numpy()[self.test_ids].astype(str)
        per_epoch = (
            len(self.train_ids) if protocol.train_cells is None else min(protocol.train_cells, len(self.train_ids))
        )
        self.batches_per_epoch = -(-per_epoch // protocol.batch_size)
        self.config = RunConfig(
            name=f"width={protocol.width:g}-lr={protocol.lr:g}-seed={seed}",
            epochs=protocol.epochs,
            lr=protocol.lr,
            seed=seed,
            identity={
                "embedder": "pifia",
                "version": VERSION,
                "protocol": protocol.name,
                "batch_size": protocol.batch_size,
                "train_cells": protocol.train_cells,
                "val_cells": protocol.val_cells,
                "bn_cells": protocol.bn_cells,
                "width": protocol.width,
                "dropout": protocol.dropout,
                "rfp": protocol.rfp,
                "schedule": "cosine",
                "data": str(cells.name),
                "cells": len(cells),
                "classes": len(self.classes),
            },
        )
        seed_everything(seed, "init")
        net = PifiaNet(
            n_classes=len(self.classes),
            width=protocol.width,
            rfp=protocol.rfp,
            dense1=protocol.dense1,
            features=protocol.features,
            dropout=protocol.dropout,
        )
        self.model = distributed.wrap_model(runtime.prepare_model(net), runtime)
        self.net = distributed.unwrap(self.model)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=protocol.lr)

    def learning_rate(self, epoch: int, batch: int) -> float:
        """Cosine decay from ``lr`` towards 0 over all batches of the run (the authors' Keras ``CosineDecay``),
        a function of (epoch, batch) alone, so a resumed run uses the same rates."""
        step = (epoch - 1) * self.batches_per_epoch + batch
        return self.protocol.lr * 0.5 * (1 + math.cos(math.pi * step / (self.protocol.epochs * self.batches_per_epoch)))

    def _batches(self, epoch: int):
        for batch, item in enumerate(super()._batches(epoch)):
            for group in self.optimizer.param_groups:  # set before the step on this batch
                group["lr"] = self.learning_rate(epoch, batch)
            yield item


def embed_with_pifia(request: EmbedRequest, protocol: Protocol) -> Embedding:
    distributed.select_local_gpu()  # under torchrun: each process on its own GPU (no-op otherwise)
    runtime = distributed.setup(choose_runtime(request.device, request.options))  # no-op outside torchrun
    run = PifiaRun(request, protocol, runtime)
    outcome = run.untrained() if protocol.untrained else run.fit(request.on_epoch)
    best = outcome.history[outcome.best_epoch - 1]  # the untrained control has one entry, "epoch 0"
    params = {
        "protocol": protocol.name,
        "labels": "protein-identity",
        "classes": len(run.classes),
        "layer": f"fc2 ({protocol.features}, after ReLU)",
        "width": protocol.width,
        "epochs": 0 if protocol.untrained else protocol.epochs,
        "batch_size": protocol.batch_size,
        "train_cells_per_epoch": protocol.train_cells or "all",
        "val_cells": protocol.val_cells or "all",
        "optimizer": "adam",
        "lr": protocol.lr,
        "schedule": "cosine",
        "dropout": protocol.dropout,
        "channels": "gfp+rfp" if protocol.rfp else "gfp",
        "bn_cells": protocol.bn_cells,
        "seed": request.seed,
        "best_epoch": outcome.best_epoch,
        "best_val_loss": best.get("val_loss"),
        "best_val_acc": best.get("val_acc"),
        "resumed_from_epoch": outcome.resumed_from,
        **run.runtime.describe(),
    }  # run.runtime: a resumed run keeps its checkpoints' precision
    if protocol.untrained:
        params["untrained"] = True
    if distributed.active():  # under torchrun: how many processes trained (absent in a one-process run)
        params["processes"] = distributed.world_size()
        distributed.teardown()
    outcome.embedding.params = params
    return outcome.embedding
