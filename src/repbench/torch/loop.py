"""The epoch loop every torch embedder shares: train, evaluate, checkpoint, report, resume.

::

    outcome = train(model, optimizer, runtime, config, CheckpointDir(out / "checkpoints" / config.name),
                    train_epoch=lambda epoch: ...,   # one epoch of steps -> mean training loss
                    evaluate=lambda epoch: ...,      # -> EpochResult(logs, test-split protein vectors, val loss)
                    on_epoch=request.on_epoch)

Order within epoch ``k``: seed everything from (seed, k); ``train_epoch(k)``; ``evaluate(k)``; save the
checkpoint of epoch ``k`` (model, optimizer, RNG states, history, the best epoch's vectors, and epoch
``k``'s own report: logs and vectors); then ``on_epoch``. So whatever happens in or after ``on_epoch``
(Ctrl-C, a kill, an exception), epoch ``k`` is safe on disk and a new call with the same checkpoint folder
continues at epoch ``k + 1``, after handing epoch ``k``'s report to ``on_epoch`` again from the checkpoint:
a kill between the checkpoint and the end of ``on_epoch`` (scoring, writing trajectory.json) loses no
epoch record (``on_epoch`` must therefore accept a report of an epoch it has seen: run.py replaces it).
Epochs draw their randomness from (seed, epoch) only, so the resumed run computes exactly what an
uninterrupted one would (same machine, same thread count, same precision: a resumed run keeps the
precision its checkpoints were made in, see :func:`resume_runtime`).

Early stopping, as in the paper: all epochs are trained and the result is the epoch with the lowest
``EpochResult.selection_loss`` (the validation loss), the first one on ties.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable

import numpy as np
import torch

from ..embedders import Embedding, EpochReport
from ..errors import RepbenchError
from . import distributed
from .checkpoints import CheckpointDir
from .runtime import Runtime
from .seeding import rng_state, seed_everything, set_rng_state


@dataclass
class RunConfig:
    name: str  # the checkpoint sub-folder, e.g. "lr=0.001-seed=0"
    epochs: int
    lr: float
    seed: int
    #: everything a checkpoint must agree with to be resumed (protocol, batch size, data set, ...)
    identity: dict[str, Any] = field(default_factory=dict)

    def identity_record(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "lr": self.lr, "seed": self.seed, **self.identity}


@dataclass
class EpochResult:
    logs: dict[str, float]  # val_loss, val_acc, ...
    embedding: Embedding  # test-split protein vectors of this epoch
    selection_loss: float  # lower is better: picks the early-stopping epoch


@dataclass
class RunOutcome:
    embedding: Embedding  # the vectors of the best epoch
    best_epoch: int
    best_loss: float
    history: list[dict[str, float]]  # logs of every epoch, epoch 1 first
    resumed_from: int  # last epoch found on disk when the call started (0: fresh start)


def run_training_epoch(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterable,
    loss_of_batch: Callable[[torch.nn.Module, Any], torch.Tensor],
    runtime: Runtime,
    on_step: Callable[[], None] | None = None,
) -> float:
    """One pass of optimizer steps over ``batches``; the loss is computed under the runtime's autocast.
    Returns the mean training loss (weighted by batch, as logged)."""
    model.train()
    total, steps = 0.0, 0
    for batch in batches:
        with runtime.autocast():
            loss = loss_of_batch(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.float().backward()
        optimizer.step()
        total += float(loss.detach())
        steps += 1
        if on_step is not None:
            on_step()
    return total / max(steps, 1)


@torch.no_grad()
def recalibrate_batch_norm(model: torch.nn.Module, batches: Iterable[torch.Tensor], runtime: Runtime) -> None:
    """Replace every batch norm's running mean/variance by the plain average over ``batches`` of
    inputs ((b, ...) tensors on the device), computed with the current weights ("precise BN").

    Why: with few, large optimizer steps the running statistics (an exponential average over past
    steps) lag the weights, and eval-mode outputs then differ from what training saw. On the DeepLoc
    demo, after 1 epoch of 384 cells, validation accuracy was 0.36 with the running statistics and 0.68
    with batch statistics. Deterministic for a given order of batches, so resume stays exact."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # None: cumulative average of the batches seen since the reset
    model.train()
    try:
        for batch in batches:
            with runtime.autocast():
                model(batch)
    finally:
        for norm, momentum in zip(norms, momenta):
            norm.momentum = momentum
        model.eval()


def _embedding_state(embedding: Embedding) -> dict:
    return {"proteins": list(embedding.proteins), "vectors": torch.from_numpy(np.ascontiguousarray(embedding.vectors))}


def _report_of(saved: dict) -> EpochReport:
    """The report of a checkpoint's own epoch, as ``on_epoch`` first received it (same vectors, same logs)."""
    report = saved["report"]
    return EpochReport(
        epoch=int(saved["epoch"]),
        logs=dict(report["logs"]),
        embedding=Embedding(list(report["proteins"]), report["vectors"].numpy().copy()),
    )


def resume_runtime(runtime: Runtime, checkpoints: CheckpointDir) -> Runtime:
    """The runtime to continue the run in ``checkpoints`` with: a run keeps the precision it started in.

    Where the precision was chosen automatically and the newest checkpoint was made in another one (the
    job moved to a CPU or GPU of another kind), the checkpoint's precision is used, with a warning: a
    resumed epoch then computes what the uninterrupted run computed. Where ``--option precision`` asked
    for another one, nothing is changed here and :func:`train` refuses the checkpoint
    (``checkpoint-mismatch``). Without checkpoints: ``runtime`` as it is."""
    saved = checkpoints.load_latest(mmap=True)
    if saved is None or "runtime" not in saved or runtime.precision_chosen_by == "option":
        return runtime
    precision = saved["runtime"]["precision"]
    if precision == runtime.precision:
        return runtime
    warnings.warn(
        f"resuming in {precision}, the precision the checkpoints in {checkpoints.path} were made in "
        f"(this machine's automatic choice is {runtime.precision})",
        RuntimeWarning,
        stacklevel=2,
    )
    return replace(
        runtime, autocast_dtype=torch.bfloat16 if precision == "bf16" else None, precision_chosen_by="checkpoint"
    )


def train(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    runtime: Runtime,
    config: RunConfig,
    checkpoints: CheckpointDir,
    *,
    train_epoch: Callable[[int], float],
    evaluate: Callable[[int], EpochResult],
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> RunOutcome:
    """Train ``config.epochs`` epochs (or what is left of them after the newest checkpoint)."""
    start, best, history = 1, None, []
    bare = distributed.unwrap(model)  # under torchrun: checkpoints hold the model without its DDP wrapper
    saved = checkpoints.load_latest()  # every process loads; only rank 0 saves
    if saved is not None:
        if saved["identity"] != config.identity_record():
            raise RepbenchError(
                "checkpoint-mismatch",
                f"checkpoints were made with other settings ({saved['identity']}); use another out dir or delete them",
                path=checkpoints.path,
            )
        made_in = saved.get("runtime", {}).get("precision", runtime.precision)
        if made_in != runtime.precision:
            raise RepbenchError(
                "checkpoint-mismatch",
                f"checkpoints were made in {made_in}, this run computes in {runtime.precision}; resume with "
                f"--option precision={made_in}, or use another out dir",
                path=checkpoints.path,
            )
        bare.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        set_rng_state(saved["rng"])
        start, best, history = saved["epoch"] + 1, saved["best"], list(saved["history"])
        if on_epoch is not None and distributed.is_main() and "report" in saved:
            on_epoch(_report_of(saved))  # again: a kill may have come before its record was written
    resumed_from = start - 1

    for epoch in range(start, config.epochs + 1):
        seed_everything(config.seed, epoch)
        train_loss = train_epoch(epoch)
        distributed.sync_buffers(model)  # under torchrun: every process evaluates with rank 0's batch-norm statistics
        model.eval()
        with torch.no_grad():
            result = evaluate(epoch)
        logs = {"train_loss": float(train_loss), **{k: float(v) for k, v in result.logs.items()}, "lr": config.lr}
        history.append(logs)
        if not np.isfinite(train_loss):
            raise RepbenchError(
                "training-diverged",
                f"training loss became {train_loss} in epoch {epoch} (learning rate {config.lr}); try a smaller one",
            )
        if best is None or result.selection_loss < best["loss"]:
            best = {"epoch": epoch, "loss": float(result.selection_loss), **_embedding_state(result.embedding)}
        if distributed.is_main():
            checkpoints.save(
                epoch,
                {
                    "identity": config.identity_record(),
                    "model": bare.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "rng": rng_state(),
                    "history": history,
                    "best": best,
                    "runtime": {"precision": runtime.precision},
                    "report": {"logs": logs, **_embedding_state(result.embedding)},
                },
            )
            if on_epoch is not None:
                on_epoch(EpochReport(epoch=epoch, embedding=result.embedding, logs=logs))
        distributed.barrier()  # the other processes wait until rank 0 has saved and scored the epoch

    if best is None:
        raise RepbenchError("no-epochs", f"run {config.name} has no epochs to train (epochs={config.epochs})")
    embedding = Embedding(proteins=list(best["proteins"]), vectors=best["vectors"].numpy().copy())
    return RunOutcome(
        embedding=embedding,
        best_epoch=int(best["epoch"]),
        best_loss=float(best["loss"]),
        history=history,
        resumed_from=resumed_from,
    )


def evaluate_untrained(
    model: torch.nn.Module,
    config: RunConfig,
    evaluate: Callable[[int], EpochResult],
    prepare: Callable[[], None] | None = None,
) -> RunOutcome:
    """The untrained control (``--option untrained=true``): the network exactly as :func:`train` would start
    epoch 1 (same seed, same initial weights), no optimizer step, read out as after an epoch.

    ``prepare()`` runs first (a plugin passes its batch-norm recalibration on training cells, so the
    untrained network's normalisation is the statistics of its own initial weights, as the trained one's
    is of its final weights); then ``evaluate(0)`` in eval mode. Nothing is checkpointed and ``on_epoch``
    is not called: there are no epochs (``best_epoch`` 0, one history entry)."""
    seed_everything(config.seed, 0)
    if prepare is not None:
        prepare()
    model.eval()
    with torch.no_grad():
        result = evaluate(0)
    logs = {k: float(v) for k, v in result.logs.items()}
    return RunOutcome(
        embedding=result.embedding, best_epoch=0, best_loss=float(result.selection_loss), history=[logs], resumed_from=0
    )
