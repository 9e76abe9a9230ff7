"""The ``repbench`` command: a typer app assembled from one module per command group."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from . import (
    common,
    compare as compare_cmds,
    data as data_cmds,
    evaluate as evaluate_cmds,
    grid as grid_cmds,
    leaderboard as leaderboard_cmds,
    plugins as plugins_cmds,
    run as run_cmds,
)

app = typer.Typer(
    name="repbench",
    help="Benchmark protein representations learned from single-cell microscopy.",
    add_completion=False,
    pretty_exceptions_enable=False,
    invoke_without_command=True,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"repbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, common.flag("--debug", help="Show Python tracebacks instead of one-line errors.")] = False,
    quiet: Annotated[bool, common.flag("--quiet", "-q", help="No progress output.")] = False,
    strict_plugins: Annotated[
        bool, common.flag("--strict-plugins", help="A plugin that fails to load is an error, not a warning.")
    ] = False,
    version: Annotated[
        bool, common.flag("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    common.use_settings(common.Settings(debug=debug, quiet=quiet, strict_plugins=strict_plugins))
    if ctx.invoked_subcommand is None:  # bare `repbench`: the help, and success
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


for module in (evaluate_cmds, compare_cmds, run_cmds, grid_cmds, plugins_cmds, data_cmds, leaderboard_cmds):
    module.register(app)


def main() -> None:
    app()
