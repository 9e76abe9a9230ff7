"""``repbench leaderboard build`` and ``repbench leaderboard serve``: the static site of the submissions."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import RepbenchError, UsageError, require
from ..submit import find_leaderboard
from . import common
from .common import escape

leaderboard_app = typer.Typer(help="Build the static leaderboard site, or look at it locally.", no_args_is_help=True)


@leaderboard_app.command("build")
@common.command
def build(
    submissions: Annotated[
        Optional[Path],
        typer.Option(
            "--submissions",
            help="Folder of submission records (*.json) (default: $REPBENCH_LEADERBOARD, else the "
            "nearest leaderboard/submissions here or above).",
        ),
    ] = None,
    out: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            help="Site folder, replaced as a whole when the build succeeds (default: site/ beside the "
            "submissions folder).",
        ),
    ] = None,
    cache: Annotated[
        Optional[Path],
        typer.Option("--cache", help="Folder of cached pictures (default: $REPBENCH_CACHE, else OUT/.cache)."),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            show_default=False,
            help="Worker processes for pictures not yet cached (default: one per CPU).",
        ),
    ] = 0,
    as_json: Annotated[bool, common.flag("--json", help="Print a summary as JSON on stdout.")] = False,
) -> None:
    """Build the site from the submission records; a record that fails validation is reported and skipped."""
    if jobs < 0:
        raise UsageError("bad-jobs", "--jobs must be 0 (one per CPU) or more")
    require("matplotlib")  # the pictures: a one-line error naming the 'site' extra, before any work
    from ..leaderboard import build_site

    folder = find_leaderboard(submissions)
    out = out if out is not None else folder.parent / "site"
    workers = jobs or os.cpu_count() or 1
    if not as_json:
        common.console.print(f"building {escape(str(out))} from {escape(str(folder))}")
    with common.progress_bar(enabled=not as_json) as progress:
        report = build_site(folder, out, cache=cache, workers=workers, on_progress=progress)
    for path, problem in report.skipped:
        common.warn(f"skipped {path}: {problem}")
    summary = {
        "ok": True,
        "out": str(report.out),
        "submissions": len(report.entries),
        "skipped": [{"file": str(p), "problem": why} for p, why in report.skipped],
        "seconds": round(report.seconds, 2),
    }
    if as_json:
        common.print_json(summary)
    else:
        common.out.print(
            f"built {report.out / 'index.html'} from {len(report.entries)} submission(s)"
            f"{f', {len(report.skipped)} skipped' if report.skipped else ''} in {report.seconds:.1f} s",
            markup=False,
        )


@leaderboard_app.command("serve")
@common.command
def serve(
    directory: Annotated[Path, typer.Option("--dir", help="The built site.")] = Path("leaderboard/site"),
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free port).")] = 8000,
) -> None:
    """Serve the built site on http://127.0.0.1:PORT/ until Ctrl-C (local viewing only)."""
    import functools
    import http.server

    if not (directory / "index.html").is_file():
        raise RepbenchError("no-site", "no index.html here: run `repbench leaderboard build` first", path=directory)
    if not 0 <= port <= 65535:
        raise UsageError("bad-port", f"--port {port} is not a port number")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        raise RepbenchError("port-busy", f"cannot listen on 127.0.0.1:{port} ({error.strerror})") from None
    common.console.print(
        f"serving {directory} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", markup=False
    )
    with server:
        server.serve_forever()


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.add_typer(leaderboard_app, name="leaderboard")
