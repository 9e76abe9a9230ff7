"""Where and in what precision a torch embedder runs: ``--device auto|cpu|cuda``.

* CUDA: bfloat16 autocast where the GPU supports it, channels-last memory (tensor cores like NHWC).
* CPU: channels-last always (oneDNN's convolutions are ~2x faster in NHWC on the 2-core AVX2 machine
  this project is developed on; docs/performance.md). bfloat16 autocast only when the CPU has native
  bfloat16 arithmetic (``amx_bf16`` or ``avx512_bf16`` in /proc/cpuinfo): without it every bf16 op is
  emulated and a DeepLoc batch ran over 10x slower than in float32 on that machine.
* Threads: one per CPU this process may use (``os.sched_getaffinity``), not torch's default guess.

Options (``--option precision=fp32|bf16``, ``channels_last=true|false``) override the choice, for
benchmarks and for checking that a faster precision gives the same answers.

What a run computed in is part of its record: :meth:`Runtime.describe` gives the precision, who chose it
(``auto``, ``option``, or ``checkpoint`` when a resumed run keeps the precision it started in, see
:func:`repbench.torch.loop.resume_runtime`) and the CPU kind (:func:`cpu_kind`), and the torch embedders
put it into ``Embedding.params`` (the table's metadata and the result record). Results are reproducible
bit for bit only for the same precision and CPU kind (docs/deeploc.md).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from ..errors import RepbenchError, UsageError

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    autocast_dtype: torch.dtype | None  # None: plain float32
    channels_last: bool
    threads: int | None  # CPU threads set for torch (None on CUDA)
    #: who picked the precision: "auto" (from the device), "option" (--option precision=...) or
    #: "checkpoint" (a resumed run keeps the precision its checkpoints were made in)
    precision_chosen_by: str = "auto"

    @property
    def precision(self) -> str:
        """``"fp32"`` or ``"bf16"``: what the forward passes compute in."""
        return "fp32" if self.autocast_dtype is None else "bf16"

    def autocast(self):
        """The autocast context for forward passes (a no-op in float32)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def prepare_model(self, model: torch.nn.Module) -> torch.nn.Module:
        model = model.to(self.device)
        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def batch(self, crops) -> torch.Tensor:
        """Crops (numpy or tensor, (b, c, h, w)) -> a float32 tensor on the device, in the chosen layout."""
        tensor = torch.as_tensor(crops).to(self.device, dtype=torch.float32, non_blocking=True)
        return tensor.contiguous(memory_format=torch.channels_last) if self.channels_last else tensor

    def describe(self) -> dict:
        """What a run records about where it computed (``Embedding.params``, docs/deeploc.md)."""
        return {
            "device": self.device.type,
            "precision": self.precision,
            "precision_chosen_by": self.precision_chosen_by,
            "cpu": cpu_kind(),
            "channels_last": self.channels_last,
            "threads": self.threads,
        }


@lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: no flags known (float32 stays the automatic choice)
        return frozenset()
    return frozenset(word for line in text.splitlines() if line.startswith("flags") for word in line.split()[2:])


def cpu_has_native_bf16() -> bool:
    """True when the CPU computes in bfloat16 natively (AMX or AVX-512 BF16)."""
    flags = _cpu_flags()
    return "amx_bf16" in flags or "avx512_bf16" in flags


def cpu_kind() -> str:
    """The CPU's vector unit as it decides torch's kernels and the automatic precision: ``"AMX"``,
    ``"AVX-512 BF16"``, ``"AVX-512"``, ``"AVX2"``, or torch's own name for others (``"DEFAULT"``, ``"VSX"``, ...).
    Native bf16 comes from /proc/cpuinfo; the rest from ``torch.backends.cpu.get_cpu_capability()`` (which
    ``ATEN_CPU_CAPABILITY`` can lower)."""
    flags = _cpu_flags()
    if "amx_bf16" in flags:
        return "AMX"
    if "avx512_bf16" in flags:
        return "AVX-512 BF16"
    capability = torch.backends.cpu.get_cpu_capability()
    return {"AVX512": "AVX-512"}.get(capability, capability)


def _flag(options: dict, key: str, default: bool) -> bool:
    value = options.get(key)
    if value is None:
        return default
    if isinstance(value, bool):  # already typed by repbench.embedders.check_options
        return value
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise UsageError("bad-option", f"--option {key}={value}: expected true or false")


def choose_runtime(requested: str = "auto", options: dict | None = None) -> Runtime:
    """Pick the device and precision for ``requested`` ("auto", "cpu", "cuda")."""
    options = options or {}
    if requested not in DEVICES:
        raise UsageError("bad-device", f"--device {requested}: expected one of {', '.join(DEVICES)}")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RepbenchError("cuda-unavailable", "--device cuda: this torch build sees no CUDA GPU (try --device cpu)")
    use_cuda = requested == "cuda" or (requested == "auto" and torch.cuda.is_available())
    if use_cuda:
        device, threads = torch.device("cuda"), None
        fast_bf16 = torch.cuda.is_bf16_supported()
        torch.backends.cudnn.benchmark = False  # benchmark mode picks kernels by timing: not reproducible
    else:
        device = torch.device("cpu")
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        torch.set_num_threads(threads)
        fast_bf16 = cpu_has_native_bf16()
    precision = options.get("precision", "bf16" if fast_bf16 else "fp32")
    if precision not in PRECISIONS:
        raise UsageError("bad-option", f"--option precision={precision}: expected fp32 or bf16")
    return Runtime(
        device=device,
        autocast_dtype=torch.bfloat16 if precision == "bf16" else None,
        channels_last=_flag(options, "channels_last", True),
        threads=threads,
        precision_chosen_by="option" if "precision" in options else "auto",
    )
