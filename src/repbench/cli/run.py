"""``repbench run``: train / apply an embedder on a cell data set, then evaluate it (library: repbench.run)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from .. import run as run_lib
from . import common
from .plugins import load_embedders


@common.handle_errors
def run_command(
    embedder: str = typer.Option(..., "--embedder", "-e", help="Embedder name (see `repbench plugins`)."),
    data: str = typer.Option("demo", "--data", help="'demo', 'demo:proteins=N,cells=M', a TIFF-layout or shard folder."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Localization labels table (default: the shipped one)."),
    protocol: str = typer.Option("quick", "--protocol", help="quick | paper (the embedder's training budget)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run folder (default: runs/<embedder>-<data>-<protocol>-seed<seed>)."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda."),
    seed: int = typer.Option(0, "--seed", help="Seed of the data split and the embedder."),
    option: List[str] = typer.Option([], "--option", "-o", help="Embedder option KEY=VALUE (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result record as JSON on stdout."),
) -> None:
    """Run an embedder on cells, write the protein table and evaluate it against the frozen standards."""
    load_embedders()  # plugin warnings (or --strict-plugins errors) before anything else
    options = run_lib.parse_options(option)
    main_process = run_lib.is_main_process()  # under torchrun only rank 0 prints (docs/distributed.md)
    with common.progress_bar(enabled=not as_json and main_process) as progress:
        outcome = run_lib.run_embedder(embedder, data=data, out=out, protocol=protocol, device=device, seed=seed,
                                       options=options, labels=labels, progress=progress)
    if not main_process:
        return
    if as_json:
        common.print_json(outcome.result)
        return
    from .evaluate import render_scores

    record = outcome.result
    common.console.print(
        f"[bold]{outcome.embedder.name}[/] {outcome.embedder.version}: {record['input']['proteins']} proteins x "
        f"{record['input']['dimension']} dims, data set {record['dataset']}, {len(record['trajectory'])} epoch(s) scored"
    )
    common.console.print(render_scores(record))
    common.console.print(f"run folder: {outcome.out_dir} (result.json, embeddings.parquet, trajectory.json, run.json)",
                         highlight=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.command("run")(run_command)
