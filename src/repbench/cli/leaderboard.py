"""``repbench leaderboard build`` and ``repbench leaderboard serve``: the static site of the submissions."""
from __future__ import annotations

import os
from pathlib import Path

import typer

from ..errors import RepbenchError, UsageError
from . import common

leaderboard_app = typer.Typer(help="Build the static leaderboard site, or look at it locally.", no_args_is_help=True)


@leaderboard_app.command("build")
@common.handle_errors
def build(
    submissions: Path = typer.Option(Path("leaderboard/submissions"), "--submissions", help="Folder of submission records (*.json)."),
    out: Path = typer.Option(Path("leaderboard/site"), "--out", help="Site folder, replaced as a whole when the build succeeds."),
    cache: Path = typer.Option(None, "--cache", help="Picture cache [default: $REPBENCH_CACHE, else OUT/.cache]."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes for pictures not yet cached [default: CPU count]."),
    as_json: bool = typer.Option(False, "--json", help="Print a summary as JSON on stdout."),
) -> None:
    """Build the site from the submission records; a record that fails validation is reported and skipped."""
    from ..leaderboard import build_site

    if jobs < 0:
        raise UsageError("bad-jobs", "--jobs must be 0 (one per CPU) or more")
    workers = jobs or os.cpu_count() or 1
    with common.progress_bar(enabled=not as_json) as progress:
        task = progress.add_task("drawing pictures", total=None) if progress else None

        def on_progress(stage: str, done: int, total: int) -> None:
            if progress is not None:
                progress.update(task, completed=done, total=total)

        report = build_site(submissions, out, cache=cache, workers=workers, on_progress=on_progress)
    for path, problem in report.skipped:
        common.console.print(f"[yellow]warning[/] skipped {path}: {problem}", markup=True, highlight=False,
                             soft_wrap=True)
    summary = {
        "ok": True, "out": str(report.out), "submissions": len(report.entries),
        "skipped": [{"file": str(p), "problem": why} for p, why in report.skipped],
        "seconds": round(report.seconds, 2),
    }
    if as_json:
        common.print_json(summary)
    else:
        common.console.print(
            f"built {report.out / 'index.html'} from {len(report.entries)} submission(s)"
            f"{f', {len(report.skipped)} skipped' if report.skipped else ''} in {report.seconds:.1f} s",
            highlight=False, markup=False)


@leaderboard_app.command("serve")
@common.handle_errors
def serve(
    directory: Path = typer.Option(Path("leaderboard/site"), "--dir", help="The built site."),
    port: int = typer.Option(8000, "--port", help="Port on 127.0.0.1 (0: any free port)."),
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
    common.console.print(f"serving {directory} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)",
                         highlight=False, markup=False)
    with server:
        server.serve_forever()


def register(app: typer.Typer) -> None:
    """Add this group's commands to the ``repbench`` app."""
    app.add_typer(leaderboard_app, name="leaderboard")
