"""``repbench run``: train / apply an embedder on a cell data set, then evaluate it (library: repbench.run)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .. import api, run as run_lib
from . import common
from .common import escape
from .plugins import load_embedders


class ProtocolChoice(str, Enum):
    quick = "quick"
    paper = "paper"


class DeviceChoice(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


@common.command
def run_command(
    embedder: Annotated[str, typer.Option("--embedder", "-e", help="Embedder name (see `repbench plugins`).")],
    data: Annotated[
        str, typer.Option("--data", help="'demo', 'demo:proteins=N,cells=M', a TIFF-layout or shard folder.")
    ] = "demo",
    labels: Annotated[
        Optional[Path],
        typer.Option("--labels", help="Localization labels table (default: the shipped Huh 2003 classes)."),
    ] = None,
    protocol: Annotated[
        ProtocolChoice, typer.Option("--protocol", help="The embedder's training budget.")
    ] = ProtocolChoice.quick,
    out: Annotated[
        Optional[Path],
        typer.Option("--out", help="Run folder (default: runs/<embedder>-<data>-<protocol>-seed<seed>)."),
    ] = None,
    device: Annotated[
        DeviceChoice, typer.Option("--device", help="Where torch embedders compute.")
    ] = DeviceChoice.auto,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the data split and the embedder.")] = 0,
    option: Annotated[
        List[str],
        typer.Option(
            "--option",
            "-o",
            help="Embedder option KEY=VALUE (repeatable; `repbench plugins --options NAME` lists them).",
        ),
    ] = [],  # noqa: B006
    as_json: Annotated[bool, common.flag("--json", help="Print the result record as JSON on stdout.")] = False,
) -> None:
    """Run an embedder on cells, write the protein table and evaluate it against the frozen standards."""
    load_embedders()  # plugin warnings (or --strict-plugins errors) before anything else
    options = run_lib.parse_options(option)
    main_process = run_lib.is_main_process()  # under torchrun only rank 0 prints (docs/distributed.md)
    with common.progress_bar(enabled=not as_json and main_process) as progress:
        outcome = api.run(
            embedder,
            data=data,
            out=out,
            protocol=protocol.value,
            device=device.value,
            seed=seed,
            options=options,
            labels=labels,
            progress=progress,
            warn=common.warn,
        )
    if not main_process:
        return
    if as_json:
        common.print_json(outcome.result)
        return
    from .evaluate import print_scores

    record = outcome.result
    common.console.print(
        f"[bold]{escape(outcome.embedder.name)}[/] {escape(outcome.embedder.version)}: {len(record['trajectory'])} "
        "epoch(s) scored"
    )
    compute = run_lib.compute_summary(record["input"]["metadata"].get("params") or {})
    if compute is not None:  # a user whose numbers differ from the README's sees why (docs/deeploc.md)
        common.console.print(compute, markup=False, highlight=False)
    print_scores(record)
    common.console.print(
        f"run folder: {escape(str(outcome.out_dir))} (result.json, embeddings.parquet, trajectory.json, run.json)"
    )


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.command("run")(run_command)
