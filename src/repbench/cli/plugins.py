"""``repbench plugins``: the embedders the installed plugin packages provide, and their options."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from .. import plugins
from ..embedders import declared_options
from ..errors import UsageError
from . import common
from .common import escape


def load_embedders() -> dict[str, plugins.EmbedderInfo]:
    """Load the plugins as the global flags ask: warnings on stderr, or an error with --strict-plugins."""
    for warning in plugins.load_plugins(strict=common.settings().strict_plugins):
        common.warn(warning.render())
    return plugins.embedders()


def _options_of(info: plugins.EmbedderInfo) -> list[dict] | None:
    declared = declared_options(info.embedder)
    return None if declared is None else [o.describe() for o in declared]


def _show_options(name: str, found: dict[str, plugins.EmbedderInfo], as_json: bool) -> None:
    if name not in found:
        listed = ", ".join(sorted(found)) or "none"
        raise UsageError("unknown-embedder", f"unknown embedder {name!r}; installed embedders: {listed}")
    options = _options_of(found[name])
    if as_json:
        common.print_json({"embedder": name, "options": options})
        return
    if options is None:
        common.out.print(f"{escape(name)} declares no options (an older plugin: it checks --option itself)")
        return
    if not options:
        common.out.print(f"{escape(name)} takes no options")
        return
    table = common.results_table(f"--option KEY=VALUE of {escape(name)}", ("option", "type", "default", "help"))
    for o in options:
        default = "-" if o["default"] is None else str(o["default"])
        table.add_row(escape(o["name"]), escape(o["type"]), escape(default), escape(o["help"]))
    common.out.print(table)


@common.command
def plugins_command(
    options: Annotated[
        Optional[str], typer.Option("--options", metavar="EMBEDDER", help="Show the --option keys of one embedder.")
    ] = None,
    as_json: Annotated[bool, common.flag("--json", help="Print the embedders as JSON on stdout.")] = False,
) -> None:
    """List the embedders of the installed plugin packages, with their package and version."""
    found = load_embedders()
    if options is not None:
        return _show_options(options, found, as_json)
    if as_json:
        common.print_json(
            {
                "embedders": [
                    {
                        **{
                            key: getattr(info, key)
                            for key in ("name", "description", "version", "package", "package_version")
                        },
                        "options": _options_of(info),
                    }
                    for info in found.values()
                ],
                "warnings": [vars(w) for w in plugins.load_plugins()],
            }
        )
        return
    if not found:
        common.console.print("No embedders installed: pip install a plugin package (see docs/plugins.md).")
        return
    rows = [
        (info.name, info.version, f"{info.package} {info.package_version}", info.description) for info in found.values()
    ]
    table = Table(header_style="bold")
    for i, column in enumerate(("embedder", "version", "package")):  # these never wrap; the description does
        table.add_column(column, no_wrap=True, min_width=max(len(column), *(len(row[i]) for row in rows)))
    table.add_column("description")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    common.out.print(table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.command("plugins")(plugins_command)
