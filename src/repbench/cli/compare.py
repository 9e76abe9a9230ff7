"""`repbench compare A.parquet B.parquet`: which of two tables recovers more biology, with paired statistics.

Thin: the work is :func:`repbench.verdicts.compare_tables`. The verdict table goes to stdout (or the whole
comparison with ``--json``); progress to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .. import api, standards as standards_mod
from ..results import METRIC_TITLES
from ..verdicts import write_terms
from ..verdicts.bootstrap import DEFAULT_RESAMPLES
from ..verdicts.compare import AMI_RESAMPLES, METRICS
from . import common
from .common import escape

VERDICT_STYLE = {"A better": "bold green", "B better": "bold red", "no evidence": "dim"}
SHOWN_GROUPS = 5


def _num(x: float | None, digits: int = 3) -> str:
    return "-" if x is None or x != x else f"{x:.{digits}f}"


def _p(x: float | None) -> str:
    if x is None or x != x:
        return "-"
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def render(result: dict) -> list:
    """The verdict table (tier x metric) and the table of groups that differ most."""
    verdicts = common.results_table(
        "A - B per tier: paired bootstrap over the proteins both cover; p Holm-adjusted",
        ("tier", "proteins", "metric", "A", "B", "A - B [95% CI]", "p", "verdict"),
        right=("proteins", "A", "B", "A - B [95% CI]", "p"),
    )
    groups = common.results_table(
        "Groups where A and B differ most (group mAP; q: Benjamini-Hochberg over a tier's groups)",
        ("tier", "group", "name", "size", "A", "B", "A - B", "q"),
        right=("size", "A", "B", "A - B", "q"),
    )
    for tier, scores in result["tiers"].items():
        if scores.get("skipped"):
            verdicts.add_row(escape(tier), str(scores["proteins"]), "-", "-", "-", "-", "-", escape(scores["skipped"]))
            continue
        for k, metric in enumerate(METRICS):
            m = scores[metric]
            style = VERDICT_STYLE[m["verdict"]]
            verdicts.add_row(
                escape(tier) if k == 0 else "",
                str(scores["proteins"]) if k == 0 else "",
                METRIC_TITLES.get(metric, metric),
                _num(m["a"]),
                _num(m["b"]),
                f"{m['difference']:+.3f} [{_num(m['ci'][0])}, {_num(m['ci'][1])}]",
                _p(m["p_adjusted"]),
                f"[{style}]{m['verdict']}[/]",
                end_section=k == len(METRICS) - 1,
            )
        for g in scores["groups"][:SHOWN_GROUPS]:
            groups.add_row(
                escape(tier),
                escape(g["group"]),
                escape(g["name"]),
                str(g["size"]),
                _num(g["map_a"]),
                _num(g["map_b"]),
                f"{g['difference']:+.3f}",
                _p(g["q"]),
            )
    return [verdicts, groups]


def _standards(name: Optional[str], folder: Optional[Path]):
    if folder:
        return standards_mod.load(root=folder)
    return standards_mod.load(name) if name else standards_mod.load()


@common.command
def compare_cmd(
    a: Annotated[Path, typer.Argument(help="Table A (Parquet protein table).")],
    b: Annotated[Path, typer.Argument(help="Table B (Parquet protein table).")],
    as_json: Annotated[
        bool, common.flag("--json", help="The whole comparison as JSON on stdout, nothing else.")
    ] = False,
    terms: Annotated[
        Optional[Path],
        typer.Option("--terms", help="Write every group's mAP for A and B, the difference, p and q to this CSV file."),
    ] = None,
    tier: Annotated[
        Optional[List[str]], typer.Option("--tier", "-t", help="Tier to compare (repeatable; default: all).")
    ] = None,
    resamples: Annotated[
        int, typer.Option("--resamples", min=2, help="Bootstrap resamples (mAP, F0.5).")
    ] = DEFAULT_RESAMPLES,
    ami_resamples: Annotated[
        int, typer.Option("--ami-resamples", min=2, help="Of those, how many recompute AMI (slow).")
    ] = AMI_RESAMPLES,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the resampled proteins.")] = 0,
    standards: Annotated[
        Optional[str], typer.Option("--standards", help=f"Standards set (default: {standards_mod.DEFAULT_VERSION}).")
    ] = None,
    standards_dir: Annotated[
        Optional[Path],
        typer.Option("--standards-dir", help="Development override: other standards (results are not comparable)."),
    ] = None,
) -> None:
    """Compare two tables on the proteins both cover: A - B of mAP, AMI and F0.5 per tier, with paired p."""
    st = _standards(standards, standards_dir)
    with common.progress_bar(enabled=not as_json) as progress:
        result = api.compare(
            a,
            b,
            st,
            tiers=tier,
            resamples=resamples,
            ami_resamples=ami_resamples,
            seed=seed,
            progress=progress,
            warn=lambda line: common.warn(line),
        ).record
    if terms is not None:
        write_terms(terms, result)
    if as_json:
        common.print_json({k: v for k, v in result.items() if k != "terms"})
        return
    common.out.print(
        f"A [bold]{escape(str(a))}[/] ({result['a']['proteins']} proteins) vs B [bold]{escape(str(b))}[/] "
        f"({result['b']['proteins']} proteins): compared on the [bold]{result['proteins']}[/] proteins both cover; "
        f"{resamples} resamples ({ami_resamples} for AMI), seed {seed}, Holm over {result['tests']} tests"
    )
    for table in render(result):
        common.out.print(table)
    if terms is not None:
        common.console.print(f"[green]wrote[/] {escape(str(terms))} ({len(result['terms'])} groups)")


def register(app: typer.Typer) -> None:
    app.command("compare")(compare_cmd)
