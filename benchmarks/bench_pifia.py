"""PIFiA's quick run against DeepLoc's quick run (the yardstick), measured side by side.

    python benchmarks/bench_pifia.py              # per-cell costs of both, interleaved, and each quick run's total

What it prints, for each network as its quick protocol builds it (DeepLoc: 17 classes, batch 32; PIFiA:
width 0.5, one class per demo protein, batch 64): CPU seconds per training cell (Adam steps with flips)
and per evaluated cell (eval mode, batch 64), each the best of --repeats, DeepLoc and PIFiA measured
alternately so that a busy machine slows both alike; then each quick protocol's compute on the default demo
data (epochs x training cells + epochs x (val + test + batch-norm cells) evaluated) and the ratio. CPU seconds,
not wall clock: on a shared machine the wall clock says more about the other jobs than about the network.
The whole `repbench run` adds data loading and the evaluation (the same for both).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from repbench_deeploc.embedder import PROTOCOLS as DEEPLOC
from repbench_deeploc.model import DeepLocNet
from repbench_pifia.embedder import PROTOCOLS as PIFIA
from repbench_pifia.model import PifiaNet, forward_flops

from repbench.torch import augment_dihedral, choose_runtime
from repbench.torch.seeding import generator

PROTEINS, TEST_CELLS = 300, 600  # the default demo data: 300 proteins x 24 cells (20 train, 2 val, 2 test)


EVAL_BATCH = 64


def cpu_seconds(work) -> float:
    """Process CPU seconds of one ``work()``."""
    start = time.process_time()
    work()
    return time.process_time() - start


def workloads(model, runtime, n_classes: int, train_batch: int, eval_batch: int = EVAL_BATCH):
    model = runtime.prepare_model(model)
    crops = runtime.batch(torch.randn(eval_batch, 2, 64, 64))
    train_crops = runtime.batch(torch.randn(train_batch, 2, 64, 64))
    labels = torch.randint(0, n_classes, (train_batch,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    flips = generator(0, 0, "augment")

    def infer():
        model.eval()
        with torch.no_grad(), runtime.autocast():
            model.features(crops)

    def step():
        model.train()
        with runtime.autocast():
            loss = F.cross_entropy(model(augment_dihedral(train_crops, flips))[0], labels)
        optimizer.zero_grad()
        loss.float().backward()
        optimizer.step()

    return infer, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runtime = choose_runtime("cpu", {"precision": "fp32"})
    quick_d, quick_p = DEEPLOC["quick"], PIFIA["quick"]
    nets = {
        "deeploc": (DeepLocNet(n_classes=17), 17, quick_d),
        "pifia": (PifiaNet(n_classes=PROTEINS, width=quick_p.width, dropout=quick_p.dropout), PROTEINS, quick_p),
    }
    jobs = {
        name: workloads(net, runtime, classes, protocol.batch_size) for name, (net, classes, protocol) in nets.items()
    }
    for infer, step in jobs.values():  # warm-up: oneDNN picks and caches its kernels on the first call
        infer(), step()
    per_cell = {name: [float("inf"), float("inf")] for name in nets}
    for _ in range(args.repeats):  # alternate, so that a change in the machine's load hits both
        for name, (infer, step) in jobs.items():
            protocol = nets[name][2]
            per_cell[name][0] = min(per_cell[name][0], cpu_seconds(step) / protocol.batch_size)
            per_cell[name][1] = min(per_cell[name][1], cpu_seconds(infer) / EVAL_BATCH)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, runtime {runtime.describe()}; "
        f"PIFiA quick: {forward_flops(PROTEINS, quick_p.width) / 1e9:.2f} GFLOP per cell forward"
    )
    totals = {}
    for name, (_, _, protocol) in nets.items():
        train_s, eval_s = per_cell[name]
        val = protocol.val_cells or 0
        trained = protocol.epochs * protocol.train_cells
        evaluated = protocol.epochs * (val + TEST_CELLS + protocol.bn_cells)
        totals[name] = trained * train_s + evaluated * eval_s
        print(
            f"{name:8s} {1e3 * train_s:6.1f} ms CPU per training cell, {1e3 * eval_s:5.1f} ms per evaluated cell; "
            f"quick: {trained:,} training + {evaluated:,} evaluated cells = {totals[name]:5.0f} CPU s"
        )
    print(f"pifia quick / deeploc quick (the yardstick): {totals['pifia'] / totals['deeploc']:.2f} of its CPU time")


if __name__ == "__main__":
    main()
