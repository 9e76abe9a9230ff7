"""Training DeepLoc with :mod:`repbench.torch`: one run per (learning rate, seed), the protocol on top."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from repbench.embedders import Embedding, EmbedRequest, EpochReport
from repbench.errors import RepbenchError
from repbench.files import write_atomic
from repbench.progress import Counter
from repbench.torch import (
    CheckpointDir,
    EpochResult,
    RunConfig,
    RunOutcome,
    Runtime,
    augment_dihedral,
    choose_runtime,
    distributed,
    epoch_order,
    evaluate_untrained,
    features_of_cells,
    gathered_protein_means,
    generator,
    iter_crops,
    labelled_ids,
    protein_means,
    recalibrate_batch_norm,
    resume_runtime,
    run_training_epoch,
    seed_everything,
    split_ids,
    train,
)

from .model import DeepLocNet
from .protocol import EVAL_BATCH, VERSION, Protocol


class DeepLocRun:
    """Everything one (lr, seed) run needs; ``fit`` trains it (resuming from its checkpoints)."""

    def __init__(self, request: EmbedRequest, protocol: Protocol, runtime: Runtime, lr: float, seed: int):
        cells = request.cells
        self.request, self.protocol, self.runtime, self.cells = request, protocol, runtime, cells
        self.train_ids = labelled_ids(cells, "train")
        # a fixed subset (drawn from the seed alone; "epoch 0" is never trained), so that the val losses
        # of different epochs compare
        self.val_ids = np.sort(epoch_order(labelled_ids(cells, "val"), seed, 0, protocol.val_cells))
        self.test_ids = split_ids(cells, "test")
        if len(self.train_ids) < 2:
            raise RepbenchError(
                "deeploc-no-training-cells",
                f"{cells.name}: {len(self.train_ids)} labelled train-split cells; DeepLoc needs labels",
            )
        self.labels = torch.as_tensor(cells.index["label"].to_numpy().astype(np.int64))
        self.test_proteins = cells.index["protein"].to_numpy()[self.test_ids].astype(str)
        self.config = RunConfig(
            name=f"lr={lr:g}-seed={seed}",
            epochs=protocol.epochs,
            lr=lr,
            seed=seed,
            identity={
                "embedder": "deeploc",
                "version": VERSION,
                "protocol": protocol.name,
                "batch_size": protocol.batch_size,
                "train_cells": protocol.train_cells,
                "val_cells": protocol.val_cells,
                "bn_cells": protocol.bn_cells,
                "data": str(cells.name),
                "cells": len(cells),
                "classes": list(cells.classes),
            },
        )
        seed_everything(seed, "init")
        self.model = distributed.wrap_model(runtime.prepare_model(DeepLocNet(n_classes=len(cells.classes))), runtime)
        self.net = distributed.unwrap(self.model)  # evaluation runs on the bare network (no DDP collectives)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=lr)

    # -- one epoch --------------------------------------------------------------------------------
    def _batches(self, epoch: int):
        order = epoch_order(self.train_ids, self.config.seed, epoch, self.protocol.train_cells)
        if distributed.active():
            yield from self._shared_batches(order, epoch)
            return
        flips = generator(self.config.seed, epoch, "augment")
        for ids, crops in iter_crops(self.cells, order, self.protocol.batch_size):
            if len(ids) < 2:  # batch norm cannot normalise a batch of one cell
                continue
            yield augment_dihedral(self.runtime.batch(crops), flips), self.labels[ids].to(self.runtime.device)

    def _shared_batches(self, order: np.ndarray, epoch: int):
        """Under torchrun: this process's share (every world-th cell) of each global batch of the epoch's
        order, so all processes take the same number of steps and together see the single-process batches."""
        world = distributed.world_size()
        flips = generator(self.config.seed, epoch, "augment", distributed.rank())
        for start in range(0, len(order), self.protocol.batch_size):
            batch = order[start : start + self.protocol.batch_size]
            if len(batch) < 2 * world:  # batch norm needs two cells in every process (the same test everywhere)
                continue
            ids = distributed.shard_of_batch(batch)
            crops = self.cells.read(ids)
            yield augment_dihedral(self.runtime.batch(crops), flips), self.labels[ids].to(self.runtime.device)

    def train_epoch(self, epoch: int) -> float:
        step = None
        if self.request.progress is not None:
            n = len(epoch_order(self.train_ids, self.config.seed, epoch, self.protocol.train_cells))
            name = self.config.identity["embedder"]  # "deeploc", or "pifia" for the subclass
            step = Counter(
                self.request.progress,
                f"{name} {self.config.name} epoch {epoch}/{self.config.epochs}",
                -(-n // self.protocol.batch_size),
            )
        loss = run_training_epoch(
            self.model,
            self.optimizer,
            self._batches(epoch),
            lambda model, batch: F.cross_entropy(model(batch[0])[0], batch[1]),
            self.runtime,
            on_step=step,
        )
        self._recalibrate_batch_norm(epoch)
        if distributed.active():  # the mean over processes (each took the same number of steps)
            loss = float(distributed.all_reduce_sum(np.array([loss], np.float64))[0]) / distributed.world_size()
        return loss

    def _recalibrate_batch_norm(self, epoch: int) -> None:
        """Batch-norm statistics of this epoch's final weights, from ``bn_cells`` unaugmented training
        cells drawn from (seed, epoch) (the same cells in every process; rank 0's are kept anyway)."""
        if not self.protocol.bn_cells:
            return
        sample = np.sort(epoch_order(self.train_ids, self.config.seed + 7919, epoch, self.protocol.bn_cells))
        batches = (self.runtime.batch(crops) for _, crops in iter_crops(self.cells, sample, EVAL_BATCH))
        recalibrate_batch_norm(self.net, batches, self.runtime)

    def evaluate(self, epoch: int) -> EpochResult:
        if distributed.active():
            return self._evaluate_shared(epoch)
        logs = {}
        if len(self.val_ids):
            logits = torch.from_numpy(
                features_of_cells(lambda x: self.model(x)[0], self.cells, self.val_ids, self.runtime, EVAL_BATCH)
            )
            truth = self.labels[self.val_ids]
            logs["val_loss"] = float(F.cross_entropy(logits, truth))
            logs["val_acc"] = float((logits.argmax(1) == truth).float().mean())
        vectors = features_of_cells(self.model.features, self.cells, self.test_ids, self.runtime, EVAL_BATCH)
        proteins, means = protein_means(self.test_proteins, vectors)
        embedding = Embedding(proteins=proteins, vectors=means)
        # without validation cells there is nothing to stop early on: keep the last epoch
        selection = logs.get("val_loss", -float(epoch))
        return EpochResult(logs=logs, embedding=embedding, selection_loss=selection)

    def _evaluate_shared(self, epoch: int) -> EpochResult:
        """:meth:`evaluate` under torchrun: each process embeds a block of the val and test cells; losses,
        per-protein sums and counts are added up over the processes before dividing."""
        logs = {}
        if len(self.val_ids):
            val_ids = distributed.block_of(self.val_ids)
            logits = torch.from_numpy(
                features_of_cells(lambda x: self.net(x)[0], self.cells, val_ids, self.runtime, EVAL_BATCH)
            )
            truth = self.labels[val_ids]
            local = [
                float(F.cross_entropy(logits, truth, reduction="sum")) if len(val_ids) else 0.0,
                float((logits.argmax(1) == truth).sum()) if len(val_ids) else 0.0,
                float(len(val_ids)),
            ]
            loss_sum, correct, count = distributed.all_reduce_sum(np.array(local, np.float64))
            logs["val_loss"], logs["val_acc"] = loss_sum / count, correct / count
        rows = distributed.block_of(np.arange(len(self.test_ids)))
        vectors = features_of_cells(self.net.features, self.cells, self.test_ids[rows], self.runtime, EVAL_BATCH)
        proteins, means, counts = gathered_protein_means(
            self.test_proteins, rows, vectors, dim=self.net.classify.in_features
        )
        times_embedded = np.zeros(len(self.test_ids), np.int64)
        times_embedded[rows] += 1
        self.test_counts = {
            "proteins": dict(zip(proteins, counts.tolist())),
            "cells": len(self.test_ids),
            "times_embedded": np.bincount(distributed.all_reduce_sum(times_embedded)).tolist(),
            "cells_per_rank": distributed.all_reduce_sum(
                np.eye(distributed.world_size(), dtype=np.int64)[distributed.rank()] * len(rows)
            ).tolist(),
        }
        selection = logs.get("val_loss", -float(epoch))
        return EpochResult(logs=logs, embedding=Embedding(proteins=proteins, vectors=means), selection_loss=selection)

    def untrained(self) -> RunOutcome:
        """The untrained control: these initial weights (the trained run's before its first step), batch
        norm recalibrated on the training cells of "epoch 0" as after every epoch, no optimizer step."""
        return evaluate_untrained(self.model, self.config, self.evaluate, lambda: self._recalibrate_batch_norm(0))

    def fit(self, on_epoch) -> RunOutcome:
        checkpoints = CheckpointDir(Path(self.request.out_dir) / "checkpoints" / self.config.name)
        self.runtime = resume_runtime(self.runtime, checkpoints)  # a resumed run keeps its precision
        outcome = train(
            self.model,
            self.optimizer,
            self.runtime,
            self.config,
            checkpoints,
            train_epoch=self.train_epoch,
            evaluate=self.evaluate,
            on_epoch=on_epoch,
        )
        if distributed.active() and distributed.is_main() and hasattr(self, "test_counts"):
            # how the test cells of the last evaluated epoch were spread over the processes (checked by tests)
            write_atomic(
                checkpoints.path / "distributed.json",
                json.dumps({"world_size": distributed.world_size(), **self.test_counts}, indent=1),
            )
        return outcome


class _ReportArchive:
    """Keeps each epoch's report of a run on disk, so that the paper protocol can hand the chosen run's
    trajectory to ``on_epoch`` once it knows which run that is (float16 vectors: a plot needs no more)."""

    def __init__(self, folder: Path):
        self.folder = folder

    def __call__(self, report: EpochReport) -> None:
        saved = {
            "epoch": report.epoch,
            "logs": dict(report.logs),
            "proteins": list(report.embedding.proteins),
            "vectors": torch.from_numpy(report.embedding.vectors).half(),
        }
        write_atomic(self.folder / f"epoch-{report.epoch:03d}.pt", write=lambda temp: torch.save(saved, temp))

    def replay(self, on_epoch) -> None:
        for path in sorted(self.folder.glob("epoch-*.pt")):
            saved = torch.load(path, weights_only=True)
            on_epoch(
                EpochReport(
                    epoch=saved["epoch"],
                    logs=saved["logs"],
                    embedding=Embedding(list(saved["proteins"]), saved["vectors"].float().numpy()),
                )
            )


def embed_with_deeploc(request: EmbedRequest, protocol: Protocol) -> Embedding:
    distributed.select_local_gpu()  # under torchrun: each process on its own GPU (no-op otherwise)
    runtime = distributed.setup(choose_runtime(request.device, request.options))  # no-op outside torchrun
    params = {
        "protocol": protocol.name,
        "epochs": protocol.epochs,
        "batch_size": protocol.batch_size,
        "train_cells_per_epoch": protocol.train_cells or "all",
        "val_cells": protocol.val_cells or "all",
        "optimizer": "adam",
    }
    runs: dict[tuple[float, int], DeepLocRun] = {}

    if protocol.untrained:  # the control: no training, so no learning-rate search or seeds to choose among
        chosen_lr, chosen_seed = protocol.lrs[0], request.seed
        runs[chosen_lr, chosen_seed] = DeepLocRun(request, protocol, runtime, chosen_lr, chosen_seed)
        outcome = runs[chosen_lr, chosen_seed].untrained()
        params.update({"untrained": True, "epochs": 0})
    elif len(protocol.lrs) == 1 and protocol.seeds == 1:  # quick: one run, reported live
        chosen_lr, chosen_seed = protocol.lrs[0], request.seed
        runs[chosen_lr, chosen_seed] = DeepLocRun(request, protocol, runtime, chosen_lr, chosen_seed)
        outcome = runs[chosen_lr, chosen_seed].fit(request.on_epoch)
    else:
        outcomes: dict[tuple[float, int], RunOutcome] = {}

        def run(lr: float, seed: int) -> RunOutcome:
            if (lr, seed) not in outcomes:
                one = runs[lr, seed] = DeepLocRun(request, protocol, runtime, lr, seed)
                outcomes[lr, seed] = one.fit(_ReportArchive(Path(request.out_dir) / "reports" / one.config.name))
            return outcomes[lr, seed]

        lr_search = {lr: run(lr, request.seed).best_loss for lr in protocol.lrs}
        chosen_lr = min(protocol.lrs, key=lambda lr: lr_search[lr])  # first on ties: the larger rate
        seeds = [request.seed + k for k in range(protocol.seeds)]
        seed_losses = {seed: run(chosen_lr, seed).best_loss for seed in seeds}
        chosen_seed = min(seeds, key=lambda seed: seed_losses[seed])
        outcome = outcomes[chosen_lr, chosen_seed]
        params["lr_search_val_loss"] = {f"{lr:g}": loss for lr, loss in lr_search.items()}
        params["seed_val_loss"] = {str(seed): loss for seed, loss in seed_losses.items()}
        if request.on_epoch is not None:
            _ReportArchive(Path(request.out_dir) / "reports" / f"lr={chosen_lr:g}-seed={chosen_seed}").replay(
                request.on_epoch
            )

    best = outcome.history[outcome.best_epoch - 1]
    params.update(runs[chosen_lr, chosen_seed].runtime.describe())  # the precision it computed in (resume keeps it)
    params.update(
        {
            "lr": chosen_lr,
            "seed": chosen_seed,
            "best_epoch": outcome.best_epoch,
            "best_val_loss": best.get("val_loss"),
            "best_val_acc": best.get("val_acc"),
            "resumed_from_epoch": outcome.resumed_from,
        }
    )
    if distributed.active():  # under torchrun: how many processes trained (absent in a one-process run)
        params["processes"] = distributed.world_size()
        distributed.teardown()
    outcome.embedding.params = params
    return outcome.embedding
