"""``repbench data``: convert a TIFF layout to shards, describe a data set, generate the synthetic set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import common
from .common import escape

data_app = typer.Typer(name="data", help="Cell data sets: convert, inspect, generate.", no_args_is_help=True)

JsonOpt = Annotated[bool, common.flag("--json", help="Print the summary as JSON on stdout.")]
OverwriteOpt = Annotated[bool, common.flag("--overwrite", help="Replace OUT if it exists.")]


def _print_summary(summary: dict) -> None:
    out = common.out
    out.print(
        f"[bold]{escape(summary['name'])}[/] ({escape(summary['format'])}, dataset "
        f"[bold]{escape(summary['dataset'])}[/])"
    )
    splits = ", ".join(f"{escape(k)} {v:,}" for k, v in summary["splits"].items())
    out.print(f"  cells {summary['cells']:,}   proteins {summary['proteins']:,}   splits: {splits}")
    used = {c: n for c, n in summary["cells_per_class"].items() if n}
    out.print(
        f"  labelled: {summary['labelled_cells']:,} cells of {summary['labelled_proteins']:,} proteins, "
        f"{len(used)} of {len(summary['classes'])} classes present"
    )
    if used:
        out.print("  " + ", ".join(f"{escape(c)} {n:,}" for c, n in used.items()))


@data_app.command("convert")
@common.command
def convert_command(
    src: Annotated[Path, typer.Argument(help="TIFF-layout folder: <SRC>/<PROTEIN>/<name>_gfp.tif + <name>_rfp.tif.")],
    out: Annotated[Path, typer.Argument(help="New shard folder to write (written as OUT.tmp, then renamed).")],
    labels: Annotated[
        Optional[Path], typer.Option("--labels", help="Labels table, CSV/TSV protein,class (default: Huh 2003).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the per-protein 80/10/10 split.")] = 0,
    dtype: Annotated[
        str, typer.Option("--dtype", help="Storage type of the crops: float32 (exact) or float16.")
    ] = "float32",
    cells_per_shard: Annotated[int, typer.Option("--cells-per-shard", help="Cells per .npy shard file.")] = 4096,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Convert a folder of single-cell TIFFs into the chunked shard format, streaming."""
    from ..data import shards

    with common.progress_bar(enabled=not as_json) as progress:
        path = shards.convert(
            src,
            out,
            progress,
            labels=labels,
            seed=seed,
            dtype=dtype,
            cells_per_shard=cells_per_shard,
            overwrite=overwrite,
        )
    _report_new_folder(path, as_json)


@data_app.command("info")
@common.command
def info_command(
    path: Annotated[str, typer.Argument(help="'demo', a shard folder or a TIFF-layout folder.")],
    labels: Annotated[
        Optional[Path], typer.Option("--labels", help="Labels table to apply (default: as stored, else Huh 2003).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cells, proteins, split counts, classes and the dataset tag of a data set."""
    from ..data import open_cells
    from ..data.sources import describe

    with common.progress_bar(enabled=not as_json) as progress:
        cells = open_cells(path, labels=labels, progress=progress)
    summary = describe(cells)
    if as_json:
        common.print_json({"ok": True, **summary})
    else:
        _print_summary(summary)


@data_app.command("generate")
@common.command
def generate_command(
    out: Annotated[Path, typer.Argument(help="New shard folder for the synthetic set.")],
    proteins: Annotated[int, typer.Option("--proteins", help="Number of proteins.")] = 300,
    cells: Annotated[int, typer.Option("--cells", help="Cells per protein.")] = 24,
    seed: Annotated[int, typer.Option("--seed", help="Generator and split seed.")] = 0,
    overwrite: OverwriteOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Draw the synthetic yeast proteome (what 'demo' opens) into a shard folder."""
    from ..data import synthetic

    with common.progress_bar(enabled=not as_json) as progress:
        path = synthetic.generate(out, proteins, cells, seed, progress, overwrite=overwrite)
    _report_new_folder(path, as_json)


def _report_new_folder(path: Path, as_json: bool) -> None:
    """Summarise a shard folder a command has just written (JSON, or a table, on stdout)."""
    from ..data import shards
    from ..data.sources import describe

    summary = describe(shards.ShardCellSet(path))
    if as_json:
        common.print_json({"ok": True, **summary})
    else:
        common.console.print(f"wrote {escape(str(path))}")
        _print_summary(summary)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.add_typer(data_app, name="data")
