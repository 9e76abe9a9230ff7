"""``repbench run-merge``: merge the single-job runs of a grid (library: repbench.merge, docs/distributed.md)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

import typer

from . import common


@common.handle_errors
def run_merge_command(
    runs: List[Path] = typer.Argument(..., help="Run folders of the grid's jobs (e.g. runs/grid/*)."),
    out: Path = typer.Option(..., "--out", help="Folder for the merged run (run.json, table, result.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the merged result record as JSON on stdout."),
) -> None:
    """Merge a grid's runs: the paper's pick (rate, then seed, by lowest validation loss) as one run folder."""
    from .. import merge

    record = merge.merge_runs(runs, out)
    if as_json:
        common.print_json(record)
        return
    from .evaluate import render_scores

    params = json.loads((out / "run.json").read_text())
    common.console.print(f"chosen: {params['chosen']} (from {len(runs)} runs)", highlight=False)
    common.console.print(render_scores(record))
    common.console.print(f"merged run folder: {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.command("run-merge")(run_merge_command)
