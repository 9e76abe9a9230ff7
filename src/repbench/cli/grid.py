"""``repbench run-merge``: merge the single-job runs of a grid (library: repbench.merge, docs/distributed.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, List

import typer

from . import common
from .common import escape


@common.command
def run_merge_command(
    runs: Annotated[List[Path], typer.Argument(help="Run folders of the grid's jobs (e.g. runs/grid/*).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the merged run (run.json, table, result.json).")],
    as_json: Annotated[bool, common.flag("--json", help="Print the merged result record as JSON on stdout.")] = False,
) -> None:
    """Merge a grid's runs: the paper's pick (rate, then seed, by lowest validation loss) as one run folder."""
    from .. import merge

    record = merge.merge_runs(runs, out)
    if as_json:
        common.print_json(record)
        return
    from .evaluate import print_scores

    params = json.loads((out / "run.json").read_text())
    common.console.print(f"chosen: {escape(str(params['chosen']))} (from {len(runs)} runs)")
    print_scores(record)
    common.console.print(f"merged run folder: {escape(str(out))}")


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.command("run-merge")(run_merge_command)
