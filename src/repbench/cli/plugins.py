"""``repbench plugins``: the embedders the installed plugin packages provide."""
from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from .. import plugins
from . import common


def load_embedders() -> dict[str, plugins.EmbedderInfo]:
    """Load the plugins as the global flags ask: warnings on stderr, or an error with --strict-plugins."""
    for warning in plugins.load_plugins(strict=common.state.get("strict_plugins", False)):
        common.console.print(f"[yellow]warning[/] {escape(warning.render())}", highlight=False, soft_wrap=True)
    return plugins.embedders()


@common.handle_errors
def plugins_command(
    as_json: bool = typer.Option(False, "--json", help="Print the embedders as JSON on stdout."),
) -> None:
    """List the embedders of the installed plugin packages, with their package and version."""
    found = load_embedders()
    if as_json:
        common.print_json(
            {
                "embedders": [
                    {key: getattr(info, key) for key in ("name", "description", "version", "package", "package_version")}
                    for info in found.values()
                ],
                "warnings": [vars(w) for w in plugins.load_plugins()],
            }
        )
        return
    if not found:
        common.console.print("No embedders installed: pip install a plugin package (see docs/plugins.md).")
        return
    rows = [(info.name, info.version, f"{info.package} {info.package_version}", info.description) for info in found.values()]
    table = Table(header_style="bold")
    for i, column in enumerate(("embedder", "version", "package")):  # these never wrap; the description does
        table.add_column(column, no_wrap=True, min_width=max(len(column), *(len(row[i]) for row in rows)))
    table.add_column("description")
    for row in rows:
        table.add_row(*row)
    common.console.print(table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.command("plugins")(plugins_command)
