"""Commands of this group (filled in by the issue that owns them)."""
import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
