"""Training machinery shared by the torch embedder plugins (DeepLoc, Paired Cell Inpainting).

Only torch plugins import this package (``pip install repbench[torch]``); the core never does.

| module | what it gives a plugin |
| --- | --- |
| ``runtime`` | :func:`choose_runtime`: device, autocast precision, channels-last, CPU threads, CPU kind |
| ``seeding`` | seeds derived from (seed, epoch, purpose), so any epoch can be replayed exactly |
| ``cells`` | batches of crops from a CellSet: epoch order, flips/rotations, per-protein means |
| ``checkpoints`` | atomic per-epoch checkpoints that load with ``torch.load(weights_only=True)`` |
| ``loop`` | :func:`train`: the epoch loop with resume, early-stopping bookkeeping and a per-epoch callback; |
| | :func:`resume_runtime`: a resumed run keeps the precision its checkpoints were made in; |
| | :func:`recalibrate_batch_norm`: batch-norm statistics of the current weights before evaluating; |
| | :func:`evaluate_untrained`: the untrained control (initial weights, no step, the same read-out) |
| ``distributed`` | under ``torchrun``: process group, DDP, each process's share of the cells, summed statistics |

A plugin supplies a model, a loss on one batch and an ``evaluate`` callback that computes the
validation logs and the test-split protein vectors; :func:`repbench.torch.loop.train` does the rest.
See docs/deeploc.md for a worked example.
"""

from . import distributed
from .cells import (
    augment_dihedral,
    epoch_order,
    features_of_cells,
    gathered_protein_means,
    iter_crops,
    labelled_ids,
    protein_means,
    split_ids,
)
from .checkpoints import CheckpointDir
from .loop import (
    EpochResult,
    RunConfig,
    RunOutcome,
    evaluate_untrained,
    recalibrate_batch_norm,
    resume_runtime,
    run_training_epoch,
    train,
)
from .runtime import Runtime, choose_runtime
from .seeding import derive_seed, generator, seed_everything

__all__ = [
    "distributed",
    "Runtime",
    "choose_runtime",
    "derive_seed",
    "generator",
    "seed_everything",
    "augment_dihedral",
    "epoch_order",
    "iter_crops",
    "features_of_cells",
    "protein_means",
    "gathered_protein_means",
    "labelled_ids",
    "split_ids",
    "CheckpointDir",
    "RunConfig",
    "EpochResult",
    "RunOutcome",
    "recalibrate_batch_norm",
    "resume_runtime",
    "run_training_epoch",
    "train",
    "evaluate_untrained",
]
