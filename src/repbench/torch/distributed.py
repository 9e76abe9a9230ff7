"""Data-parallel training under ``torchrun``: one process per GPU (or per CPU slot), one model copy each.

``torchrun --nproc_per_node=N -m repbench run -e deeploc ...`` starts N processes with ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and ``MASTER_ADDR``/``MASTER_PORT`` in their environment. A run that sees
them (``WORLD_SIZE`` > 1):

* joins the process group (:func:`setup`: NCCL on CUDA, each process on GPU ``LOCAL_RANK``; gloo on the
  CPU, with the CPU threads shared between the processes of a node);
* wraps its model in ``DistributedDataParallel`` (:func:`wrap_model`; gradients are averaged over the
  processes after every backward pass). On CUDA batch norm layers become ``SyncBatchNorm``, so a
  training step normalises over the global batch as one process would; on the CPU (gloo) they stay
  per-process, because torch's SyncBatchNorm runs on GPUs only: each process normalises its own part
  of the batch, and the running statistics kept are rank 0's (DDP broadcasts its buffers every step);
* takes its share of every global training batch (:func:`shard_of_batch`: ids[rank::world], so
  the epoch's order still comes from (seed, epoch) alone) and a contiguous block of the test and
  validation cells (:func:`block_of`);
* adds up per-protein sums and counts (and validation loss sums) over all processes
  (:func:`all_reduce_sum`) before dividing, so every cell counts exactly once.

Only rank 0 writes files (checkpoints, trajectory, table, result) and prints; the others wait at a
barrier after each epoch. Checkpoints hold the bare model (no ``module.`` prefix), so a distributed
run resumes in one process and the other way round.

Without those variables (or with ``WORLD_SIZE=1``) every function here is a no-op and a run is exactly
the single-process run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

#: how long a process waits at a collective: rank 0 scores each epoch alone while the others wait
TIMEOUT = timedelta(minutes=60)


@dataclass(frozen=True)
class World:
    rank: int
    size: int
    local_rank: int
    local_size: int


def world_from_env(env=None) -> World:
    """The process's place as torchrun describes it; (0, 1, 0, 1) outside torchrun."""
    env = os.environ if env is None else env
    size = int(env.get("WORLD_SIZE", "1"))
    return World(
        rank=int(env.get("RANK", "0")),
        size=size,
        local_rank=int(env.get("LOCAL_RANK", "0")),
        local_size=int(env.get("LOCAL_WORLD_SIZE", str(size))),
    )


def launched() -> bool:
    """True in a process started by torchrun with more than one process in the job."""
    return world_from_env().size > 1


def active() -> bool:
    """True once :func:`setup` has joined a process group of more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Rank 0, the one process that writes files and prints (True when not distributed)."""
    return rank() == 0


def select_local_gpu() -> None:
    """Under torchrun on a GPU machine: make GPU ``LOCAL_RANK`` this process's current device. Called
    before anything touches CUDA, so that no process opens a context on GPU 0 that it never uses."""
    world = world_from_env()
    if world.size > 1 and torch.cuda.is_available() and torch.cuda.device_count() > world.local_rank:
        torch.cuda.set_device(world.local_rank)


def setup(runtime):
    """Join the process group when launched by torchrun; returns the runtime to use in this process
    (its CPU thread count divided among the node's processes). A no-op outside torchrun."""
    world = world_from_env()
    if world.size <= 1 or active():
        return runtime
    from dataclasses import replace

    if runtime.device.type == "cuda":
        torch.cuda.set_device(world.local_rank)  # torch.device("cuda") now means this process's GPU
        dist.init_process_group("nccl", timeout=TIMEOUT, device_id=torch.device("cuda", world.local_rank))
        return runtime
    dist.init_process_group("gloo", timeout=TIMEOUT)
    threads = max(1, (runtime.threads or 1) // max(world.local_size, 1))
    torch.set_num_threads(threads)
    return replace(runtime, threads=threads)


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: torch.nn.Module, runtime) -> torch.nn.Module:
    """``model`` in DistributedDataParallel (SyncBatchNorm on CUDA), or ``model`` itself when not distributed."""
    if not active():
        return model
    from torch.nn.parallel import DistributedDataParallel

    if runtime.device.type == "cuda":
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return DistributedDataParallel(model, device_ids=[torch.cuda.current_device()])
    return DistributedDataParallel(model)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The bare model inside a DistributedDataParallel wrapper (what checkpoints and evaluation use)."""
    from torch.nn.parallel import DistributedDataParallel

    return model.module if isinstance(model, DistributedDataParallel) else model


def barrier() -> None:
    if active():
        dist.barrier()


def shard_of_batch(ids: np.ndarray) -> np.ndarray:
    """This process's share of one global batch of cell ids: every ``world_size``-th, from its rank."""
    return np.asarray(ids)[rank() :: world_size()]


def block_of(ids: np.ndarray) -> np.ndarray:
    """This process's contiguous block of ``ids`` (blocks differ in length by at most one; together
    they are ``ids``, each id in exactly one). Contiguous, so a shard file is read in long runs."""
    return np.array_split(np.asarray(ids), world_size())[rank()]


def all_reduce_sum(array: np.ndarray) -> np.ndarray:
    """The element-wise sum of ``array`` over all processes (float64 or int64 kept), as numpy."""
    if not active():
        return np.asarray(array)
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.cpu().numpy()


def sync_buffers(model: torch.nn.Module) -> None:
    """Copy rank 0's buffers (batch-norm running statistics) to every process. DDP broadcasts them at the
    start of each training forward pass, so after an epoch's last step every process still holds its own;
    evaluation and the checkpoint (rank 0's) must see the same ones."""
    if not active():
        return
    for buffer in unwrap(model).buffers():
        dist.broadcast(buffer.data, src=0)
