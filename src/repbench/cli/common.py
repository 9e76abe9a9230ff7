"""What every command shares: the two consoles, --json on stdout, one-line errors, progress, global flags.

Results (the score table, ``--json``) go to stdout; progress, warnings and errors go to stderr. Neither
wraps when it is not a terminal (a piped table keeps its rows on one line each). ``-q/--quiet`` and
``--debug`` work before and after the subcommand (:func:`command` adds them to every command).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Annotated, Any, Callable, Iterable, Iterator

import typer
from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.table import Table

from ..errors import MissingExtra, RepbenchError
from ..progress import Progress

#: the width of a console that is not a terminal: wide enough that nothing wraps
PIPE_WIDTH = 10_000


@dataclass(frozen=True)
class Settings:
    """The global flags of one invocation (set by the root callback, refined by a command's own flags)."""

    debug: bool = False
    quiet: bool = False
    strict_plugins: bool = False


_settings: contextvars.ContextVar[Settings | None] = contextvars.ContextVar("repbench_settings", default=None)


def settings() -> Settings:
    return _settings.get() or Settings()


def use_settings(value: Settings) -> None:
    _settings.set(value)


def visible(text: str) -> str:
    """``text`` with every character a terminal would act on or not show written as a Python escape.

    Control characters (ESC of an ANSI sequence, CR, NUL, C1 codes), bidi controls such as the right-to-left
    override and zero-width characters become ``\\x1b``, ``\\r``, ``\\u202e``, ``\\u200b``; everything
    printable (any script, emoji, spaces) is kept as it is.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def escape(value: object) -> str:
    """User data (an id, a name, a path, an option, a message) to put in a markup string: shown as written, never
    read as rich markup, with control and invisible characters escaped (:func:`visible`). The consoles read no
    ``:emoji:`` codes either. Every command module prints user data through this."""
    return _escape_markup(visible(str(value)))


def _make_console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Console(file=stream, width=None if tty else PIPE_WIDTH, soft_wrap=not tty, highlight=False, emoji=False)


class _StreamConsole:
    """A rich Console on the *current* sys.stdout / sys.stderr (test runners swap them), made on first use."""

    def __init__(self, stderr: bool):
        self.stderr, self._cached = stderr, None

    def get(self) -> Console:
        stream = sys.stderr if self.stderr else sys.stdout
        if self._cached is None or self._cached[0] is not stream:
            self._cached = (stream, _make_console(self.stderr))
        return self._cached[1]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


#: progress, warnings, errors, human messages
console = _StreamConsole(stderr=True)
#: results for humans (score tables): what `repbench evaluate t.parquet > scores.txt` keeps
out = _StreamConsole(stderr=False)


def results_table(title: str | None, columns: Iterable[str], right: Iterable[str] = ()) -> Table:
    """A results table as the commands print them: bold header, title on the left, ``right`` columns (numbers)
    right-justified."""
    table = Table(title=title, title_justify="left", header_style="bold")
    right = set(right)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left")
    return table


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=False, default=str, allow_nan=False) + "\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """One warning line on stderr; the message is data (never rich markup)."""
    console.print(f"[yellow]warning[/] {escape(message)}", soft_wrap=True)


def fail(error: RepbenchError, as_json: bool = False) -> None:
    if as_json:
        print_json({"ok": False, "error": error.to_dict()})
    console.print(f"[bold red]error[/] {escape(error.render())}", soft_wrap=True)  # one line, even on a terminal
    raise typer.Exit(error.exit_code)


def flag(*names: str, help: str = "", **kwargs: Any) -> Any:
    """A boolean ``typer.Option`` shown as a flag in the help (no ``<bool>`` beside it: it takes no value)."""
    return typer.Option(*names, help=help, metavar="", **kwargs)


QuietOpt = Annotated[bool, flag("--quiet", "-q", help="No progress output.")]
DebugOpt = Annotated[bool, flag("--debug", help="Show Python tracebacks instead of one-line errors.")]


def command(func: Callable) -> Callable:
    """Make ``func`` a repbench command: one-line errors and exit statuses (unless --debug), and the
    ``-q/--quiet`` and ``--debug`` flags after the subcommand too."""
    signature = inspect.signature(func, eval_str=True)  # typer reads __signature__ as it is: no strings

    @functools.wraps(func)
    def wrapper(*args, quiet_flag: bool = False, debug_flag: bool = False, **kwargs):
        current = settings()
        use_settings(replace(current, quiet=current.quiet or quiet_flag, debug=current.debug or debug_flag))
        if settings().debug:
            return func(*args, **kwargs)
        try:
            return func(*args, **kwargs)
        except RepbenchError as error:
            fail(error, as_json=bool(kwargs.get("as_json")))
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/]")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except ModuleNotFoundError as error:  # an optional dependency the user did not install
            missing = MissingExtra.for_module(error.name)
            if missing is None:
                return _internal(error)
            fail(missing, as_json=bool(kwargs.get("as_json")))
        except Exception as error:  # a bug, not bad input: say so, hint at --debug
            _internal(error)

    extra = [
        inspect.Parameter("quiet_flag", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=QuietOpt),
        inspect.Parameter("debug_flag", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DebugOpt),
    ]
    params = list(signature.parameters.values())
    wrapper.__signature__ = signature.replace(parameters=params + extra)
    wrapper.__annotations__ = {**{p.name: p.annotation for p in params}, "quiet_flag": QuietOpt, "debug_flag": DebugOpt}
    return wrapper


handle_errors = command  # the name the command modules used before


def _internal(error: Exception) -> None:
    message = f"{type(error).__name__}: {' '.join(str(error).split())}"
    console.print(f"[bold red]internal error[/] {escape(message)} (run with --debug for the traceback)", soft_wrap=True)
    raise typer.Exit(3)


class _Reporter:
    """``progress(stage, done, total)`` for the command line: a rich bar per stage on a terminal; plain
    lines (``stage: done/total``) on stderr otherwise, at a stage's start and end and at most every
    ``every`` seconds in between."""

    def __init__(self, bar, every: float = 5.0):
        self.bar, self.every, self.tasks, self.last, self.finished = bar, every, {}, {}, set()

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.bar is not None:
            if stage not in self.tasks:
                self.tasks[stage] = self.bar.add_task(escape(stage), total=total)
            self.bar.update(self.tasks[stage], completed=done, total=total)
            if total is not None and done >= total:
                self.bar.remove_task(self.tasks.pop(stage))
            return
        now, finished = time.monotonic(), total is not None and done >= total
        if done == 0:
            self.finished.discard(stage)  # a stage of that name starts again
        if stage in self.finished:
            return
        if finished:
            self.finished.add(stage)
        elif done and stage in self.last and now - self.last[stage] < self.every:
            return
        self.last[stage] = now
        console.print(f"{escape(stage)}: {done:,}" + ("" if total is None else f"/{total:,}"))


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress | None]:
    """A ``progress(stage, done, total)`` callable for the library (:mod:`repbench.progress`): a rich bar
    on a terminal, plain lines when stderr is not one; None when quiet / --json / not wanted."""
    if not enabled or settings().quiet:
        yield None
        return
    if not console.get().is_terminal:
        yield _Reporter(None)
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress as Bar,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Bar(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console.get(),
        transient=True,
    )
    with bar:
        yield _Reporter(bar)
