"""The ``repbench`` command: a typer app assembled from one module per command group."""
from __future__ import annotations

import typer

from .. import __version__
from . import common
from . import data as data_cmds
from . import evaluate as evaluate_cmds
from . import grid as grid_cmds
from . import leaderboard as leaderboard_cmds
from . import plugins as plugins_cmds
from . import run as run_cmds

app = typer.Typer(
    name="repbench",
    help="Benchmark protein representations learned from single-cell microscopy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"repbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show Python tracebacks instead of one-line errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars."),
    strict_plugins: bool = typer.Option(False, "--strict-plugins", help="A plugin that fails to load is an error, not a warning."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    common.state["debug"] = debug
    common.state["quiet"] = quiet
    common.state["strict_plugins"] = strict_plugins


for module in (evaluate_cmds, run_cmds, grid_cmds, plugins_cmds, data_cmds, leaderboard_cmds):
    module.register(app)


def main() -> None:
    app()
