"""DeepLoc speed against the floor set by arithmetic.

    python benchmarks/bench_deeploc.py                 # the runtime repbench picks on this machine
    python benchmarks/bench_deeploc.py --compare       # also NCHW vs channels-last, fp32 vs bf16 (+ agreement)
    python benchmarks/bench_deeploc.py --run           # also time a whole `repbench run -e deeploc` on demo

What it prints: the FLOPs of one cell's forward pass (convolutions + fully connected layers; training
counted as 3x: forward, gradient of the inputs, gradient of the weights), the machine's matrix-multiply
rate in the same precision (torch.matmul of two 2048 x 2048 matrices, same threads), the cells per
second of inference (eval mode, batch 256) and of training (Adam steps, batch 32, with flips), and the
fraction of the matmul rate each reaches. Goal (docs/performance.md): >= 40% of it in inference.
Times are wall clock, best of --repeats, measured back to back so that a busy machine slows the
matmul and the model alike; the CPU seconds per wall second are printed to show how busy it was.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from repbench_deeploc.model import DeepLocNet, forward_flops

from repbench.torch import augment_dihedral, choose_runtime
from repbench.torch.seeding import generator


def best_time(work, repeats: int) -> tuple[float, float]:
    """(best wall seconds, process CPU seconds per wall second over all repeats) of ``work()``."""
    work()  # warm-up: oneDNN picks and caches its kernels on the first call
    times, cpu0, wall0 = [], time.process_time(), time.perf_counter()
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times), (time.process_time() - cpu0) / (time.perf_counter() - wall0)


def matmul_rate(dtype, repeats: int, n: int = 2048) -> float:
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    seconds, _ = best_time(lambda: torch.matmul(a, b), repeats)
    return 2 * n**3 / seconds


def measure(runtime, batch: int, train_batch: int, repeats: int):
    model = runtime.prepare_model(DeepLocNet(n_classes=17))
    crops = runtime.batch(torch.randn(batch, 2, 64, 64))
    model.eval()

    def infer():
        with torch.no_grad(), runtime.autocast():
            model.features(crops)

    infer_s, infer_load = best_time(infer, repeats)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    train_crops, labels = runtime.batch(torch.randn(train_batch, 2, 64, 64)), torch.randint(0, 17, (train_batch,))
    flips = generator(0, 0, "augment")

    def step():
        with runtime.autocast():
            loss = F.cross_entropy(model(augment_dihedral(train_crops, flips))[0], labels)
        optimizer.zero_grad()
        loss.float().backward()
        optimizer.step()

    train_s, train_load = best_time(step, repeats)
    return batch / infer_s, train_batch / train_s, (infer_load + train_load) / 2


def agreement(batch: int = 16) -> float:
    """Largest relative difference between fp32 and bf16-autocast features of the same cells."""
    torch.manual_seed(0)
    model = DeepLocNet(n_classes=17).eval()
    crops = torch.randn(batch, 2, 64, 64)
    with torch.no_grad():
        exact = model.features(crops)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            fast = model.features(crops).float()
    return float((fast - exact).norm(dim=1).max() / exact.norm(dim=1).min())


def report(label, runtime, args):
    dtype = runtime.autocast_dtype or torch.float32
    rate = matmul_rate(dtype, args.repeats)
    infer, train, load = measure(runtime, args.batch, args.train_batch, args.repeats)
    flops = forward_flops()
    print(
        f"{label:28s} matmul {rate / 1e9:7.1f} GFLOP/s | inference {infer:7.1f} cells/s "
        f"= {infer * flops / 1e9:6.1f} GFLOP/s = {100 * infer * flops / rate:5.1f}% | training {train:6.1f} cells/s "
        f"= {100 * 3 * train * flops / rate:5.1f}% | busy {load:.2f} CPU/s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--train-batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--run", action="store_true")
    args = parser.parse_args()

    runtime = choose_runtime(args.device)
    print(
        f"one cell: {forward_flops() / 1e9:.2f} GFLOP forward, ~{3 * forward_flops() / 1e9:.2f} training; "
        f"runtime {runtime.describe()}; torch {torch.__version__}, {torch.get_num_threads()} threads",
        flush=True,
    )
    report("chosen", runtime, args)
    if args.compare:
        report("fp32 NCHW", choose_runtime(args.device, {"precision": "fp32", "channels_last": "false"}), args)
        report("fp32 channels-last", choose_runtime(args.device, {"precision": "fp32", "channels_last": "true"}), args)
        # bf16 without native support is emulated: a small batch keeps this from taking minutes
        small = argparse.Namespace(**{**vars(args), "batch": 8, "train_batch": 4, "repeats": 1})
        report("bf16 channels-last (small)", choose_runtime(args.device, {"precision": "bf16"}), small)
        print(f"bf16 vs fp32 features: largest relative difference {agreement():.4f}")
    if args.run:
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from repbench.cli.main import main; main()",
                    "-q",
                    "run",
                    "-e",
                    "deeploc",
                    "--data",
                    "demo",
                    "--device",
                    args.device,
                    "--out",
                    os.path.join(out, "run"),
                ],
                check=True,
            )
            print(
                f"repbench run -e deeploc --data demo: {time.perf_counter() - start:.0f} s wall (data generation "
                "cached after the first use)"
            )


if __name__ == "__main__":
    main()
