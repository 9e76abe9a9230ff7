"""``repbench data``: convert a TIFF layout to shards, describe a data set, generate the synthetic set."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import common

data_app = typer.Typer(name="data", help="Cell data sets: convert, inspect, generate.", no_args_is_help=True)


def _print_summary(summary: dict) -> None:
    console = common.console
    console.print(f"[bold]{summary['name']}[/] ({summary['format']}, dataset [bold]{summary['dataset']}[/])")
    splits = ", ".join(f"{k} {v:,}" for k, v in summary["splits"].items())
    console.print(f"  cells {summary['cells']:,}   proteins {summary['proteins']:,}   splits: {splits}")
    console.print(f"  labelled: {summary['labelled_cells']:,} cells of {summary['labelled_proteins']:,} proteins, "
                  f"{len(summary['classes'])} classes")
    used = {c: n for c, n in summary["cells_per_class"].items() if n}
    if used:
        console.print("  " + ", ".join(f"{c} {n:,}" for c, n in used.items()), highlight=False)


@data_app.command("convert")
@common.handle_errors
def convert_command(
    src: Path = typer.Argument(..., help="TIFF-layout folder: <SRC>/<PROTEIN>/<name>_gfp.tif + <name>_rfp.tif."),
    out: Path = typer.Argument(..., help="New shard folder to write (written as OUT.tmp, then renamed)."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Labels table, CSV/TSV protein,class (default: Huh 2003)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the per-protein 80/10/10 split."),
    dtype: str = typer.Option("float32", "--dtype", help="Storage type of the crops: float32 (exact) or float16."),
    cells_per_shard: int = typer.Option(4096, "--cells-per-shard", help="Cells per .npy shard file."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print the new folder's summary as JSON on stdout."),
) -> None:
    """Convert a folder of single-cell TIFFs into the chunked shard format, streaming."""
    from ..data import shards

    with common.progress_bar(enabled=not as_json) as progress:
        path = shards.convert(src, out, progress, labels=labels, seed=seed, dtype=dtype,
                              cells_per_shard=cells_per_shard, overwrite=overwrite)
    _report_new_folder(path, as_json)


@data_app.command("info")
@common.handle_errors
def info_command(
    path: str = typer.Argument(..., help="'demo', a shard folder or a TIFF-layout folder."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Labels table to apply (default: as stored / Huh 2003)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
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
@common.handle_errors
def generate_command(
    out: Path = typer.Argument(..., help="New shard folder for the synthetic set."),
    proteins: int = typer.Option(300, "--proteins", help="Number of proteins."),
    cells: int = typer.Option(24, "--cells", help="Cells per protein."),
    seed: int = typer.Option(0, "--seed", help="Generator and split seed."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT if it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print the new folder's summary as JSON on stdout."),
) -> None:
    """Draw the synthetic yeast proteome (what 'demo' opens) into a shard folder."""
    from ..data import synthetic

    with common.progress_bar(enabled=not as_json) as progress:
        path = synthetic.generate(out, proteins, cells, seed, progress, overwrite=overwrite)
    _report_new_folder(path, as_json)


def _report_new_folder(path: Path, as_json: bool) -> None:
    """Summarise a shard folder a command has just written (JSON on stdout, or a table on stderr)."""
    from ..data import shards
    from ..data.sources import describe

    summary = describe(shards.ShardCellSet(path))
    if as_json:
        common.print_json({"ok": True, **summary})
    else:
        common.console.print(f"wrote {path}")
        _print_summary(summary)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.add_typer(data_app, name="data")
