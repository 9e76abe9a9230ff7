"""Seeds derived from (seed, epoch, purpose).

Every epoch re-seeds torch, numpy and ``random`` from (seed, epoch) and draws its data order and
augmentations from its own generators, so epoch ``k`` computes the same thing whether the run started
at epoch 1 or was resumed from the checkpoint of epoch ``k - 1``. That is what makes resume exact.
"""

from __future__ import annotations

import hashlib
import random

import numpy as np
import torch


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from any printable parts, e.g. ``derive_seed(seed, epoch, "order")``."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(*parts: object) -> torch.Generator:
    """A CPU torch generator seeded from ``parts`` (data order and augmentation never share one)."""
    return torch.Generator().manual_seed(derive_seed(*parts))


def seed_everything(*parts: object) -> None:
    """Seed torch (CPU and CUDA), numpy's global generator and ``random`` from ``parts``."""
    seed = derive_seed(*parts)
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def rng_state() -> dict:
    """The global RNG states as tensors and plain types, so ``torch.load(weights_only=True)`` reads them."""
    _, keys, pos, has_gauss, cached = np.random.get_state()
    version, py_state, gauss_next = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "python": {
            "version": int(version),
            "state": torch.tensor(py_state, dtype=torch.int64),
            "gauss_next": gauss_next,
        },
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            "MT19937",
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["pos"],
            numpy_state["has_gauss"],
            numpy_state["cached"],
        )
    )
    python_state = state["python"]
    random.setstate(
        (python_state["version"], tuple(int(v) for v in python_state["state"].tolist()), python_state["gauss_next"])
    )
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
