"""What every command shares: stderr console, --json output on stdout, one-line errors, progress bars."""
from __future__ import annotations

import functools
import json
import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ..errors import RepbenchError

#: Human-facing output goes to stderr so that ``--json`` on stdout stays clean.
console = Console(stderr=True)
state = {"debug": False, "quiet": False}


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=False, default=str, allow_nan=False) + "\n")
    sys.stdout.flush()


def fail(error: RepbenchError, as_json: bool = False) -> None:
    if as_json:
        print_json({"ok": False, "error": error.to_dict()})
    console.print(f"[bold red]error[/] {escape(error.render())}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(error.exit_code)


def handle_errors(func: Callable) -> Callable:
    """Turn a RepbenchError (and any other crash) into one line and an exit status, unless --debug."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if state["debug"]:
            return func(*args, **kwargs)
        try:
            return func(*args, **kwargs)
        except RepbenchError as error:
            fail(error, as_json=bool(kwargs.get("as_json")))
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            raise typer.Exit(130)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as error:  # a bug, not bad input: say so, hint at --debug
            console.print(f"[bold red]internal error[/] {type(error).__name__}: {error} (run with --debug for the traceback)")
            raise typer.Exit(3)

    return wrapper


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress | None]:
    """A rich progress bar on stderr, or None when quiet / --json / not wanted."""
    if not enabled or state["quiet"]:
        yield None
        return
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with progress:
        yield progress
