"""`repbench evaluate`, `validate`, `submit` and `standards`: the commands that start at a protein table.

Thin: the work is :mod:`repbench.api` and :mod:`repbench.submit`. The score table goes to stdout (or the
record with ``--json``); progress and warnings to stderr.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.table import Table

from .. import api, standards as standards_mod
from ..results import METRIC_TITLES
from ..submit import parse_labels, submit as submit_table
from ..table import Limits
from . import common
from .common import escape


class Duplicates(str, Enum):
    error = "error"
    first = "first"
    mean = "mean"


class Dataset(str, Enum):
    real = "real"
    synthetic = "synthetic"
    unknown = "unknown"


FileArg = Annotated[
    Path, typer.Argument(help="Parquet protein table (protein + embedding, or protein + numeric columns).")
]
JsonOpt = Annotated[bool, common.flag("--json", help="Machine-readable JSON on stdout, nothing else.")]
TiersOpt = Annotated[
    Optional[List[str]], typer.Option("--tier", "-t", help="Tier to score (repeatable; default: all).")
]
MaxProteinsOpt = Annotated[int, typer.Option("--max-proteins", help="Refuse tables with more rows.")]
MaxDimsOpt = Annotated[int, typer.Option("--max-dims", help="Refuse tables with more dimensions.")]
DuplicatesOpt = Annotated[
    Duplicates,
    typer.Option(
        "--duplicates",
        help="Rows whose names map to one ORF (an old gene name and its ORF): refuse the table, keep "
        "the first row, or average them.",
    ),
]
StandardsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--standards",
        "-s",
        help="Standard set: yeast-v1 or human-v1, as `repbench standards` lists them (default: the "
        "one the table's metadata names, else yeast-v1).",
    ),
]
StandardsDirOpt = Annotated[
    Optional[Path],
    typer.Option("--standards-dir", help="Development override: other standards (results are stamped unofficial)."),
]


def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def render_scores(result: dict, title: str | None = None) -> Table:
    """The tiers x metrics table, with chance levels: prevalence for AP/mAP/F0.5, 0 for AMI."""
    numbers = ("proteins", f"{METRIC_TITLES['ami']} (±sd)", f"{METRIC_TITLES['map']} [95% CI]")
    numbers += (METRIC_TITLES["f05"], METRIC_TITLES["ap"])
    table = common.results_table(title, ("tier", *numbers), right=numbers)
    table.add_column("chance", justify="right", style="dim")
    for tier, s in result["tiers"].items():
        if s.get("skipped"):
            table.add_row(escape(tier), str(s["proteins"]), "-", "-", "-", "-", escape(s["skipped"]))
            continue
        ci = s["map_ci"]
        table.add_row(
            escape(tier),
            str(s["proteins"]),
            f"{_fmt(s['ami'])} ±{_fmt(s['ami_sd'])}",
            f"{_fmt(s['map'])} [{_fmt(ci[0])}, {_fmt(ci[1])}]",
            _fmt(s["f05"]),
            _fmt(s["ap"]),
            _fmt(s["prevalence"], 4),
        )
    return table


def print_scores(result: dict) -> None:
    """The one-line summary and the score table on stdout (what `repbench evaluate > scores.txt` keeps)."""
    inp = result["input"]
    common.out.print(
        f"[bold]{inp['proteins']}[/] proteins x [bold]{inp['dimension']}[/] dims, coverage of the reference "
        f"proteome [bold]{result['coverage']:.1%}[/], data set [bold]{escape(str(result['dataset']))}[/], "
        f"evaluator {escape(result['evaluator']['version'])}, standards {escape(result['standards']['version'])}"
    )
    if result.get("unofficial"):
        common.out.print("[bold yellow]unofficial[/]: computed with overridden standards, not comparable")
    common.out.print(render_scores(result))


def _standards(standards_dir: Optional[Path], name: Optional[str] = None):
    """The loaded override, or the set's name (None: the API takes the one the table's metadata names)."""
    return standards_mod.load(name, root=standards_dir) if standards_dir else name


@common.command
def evaluate_cmd(
    file: FileArg,
    tier: TiersOpt = None,
    as_json: JsonOpt = False,
    duplicates: DuplicatesOpt = Duplicates.error,
    max_proteins: MaxProteinsOpt = 50_000,
    max_dims: MaxDimsOpt = 16_384,
    standards: StandardsOpt = None,
    standards_dir: StandardsDirOpt = None,
) -> None:
    """Score a protein table on the frozen tiers: AMI, mAP and F0.5 per tier, with chance levels."""
    with common.progress_bar(enabled=not as_json) as progress:
        result = api.evaluate(
            file,
            _standards(standards_dir, standards),
            tiers=tier,
            duplicates=duplicates.value,
            limits=Limits(max_proteins=max_proteins, max_dimensions=max_dims),
            progress=progress,
            warn=lambda line: common.warn(f"{file}: {line}"),
        )
    if as_json:
        common.print_json(result.record)
    else:
        print_scores(result.record)


@common.command
def validate_cmd(
    file: FileArg,
    as_json: JsonOpt = False,
    duplicates: DuplicatesOpt = Duplicates.error,
    max_proteins: MaxProteinsOpt = 50_000,
    max_dims: MaxDimsOpt = 16_384,
    standards: StandardsOpt = None,
) -> None:
    """Check a protein table without scoring it."""
    report = api.validate(
        file,
        standards,
        duplicates=duplicates.value,
        limits=Limits(max_proteins=max_proteins, max_dimensions=max_dims),
        warn=lambda line: common.warn(f"{file}: {line}"),
    )
    if as_json:
        common.print_json(report)
    else:
        common.out.print(
            f"[green]ok[/] {escape(str(file))}: {report['proteins']} proteins x "
            f"{report['dimension']} dims ({escape(report['standards'])})"
        )


@common.command
def submit_cmd(
    file: FileArg,
    name: Annotated[str, typer.Option("--name", help="Display name on the leaderboard.")],
    description: Annotated[str, typer.Option("--description", help="One paragraph about the model.")] = "",
    dataset: Annotated[
        Optional[Dataset],
        typer.Option(
            "--dataset",
            help="What the vectors were computed from: real images, synthetic data, or unknown "
            "(default: the table's metadata, else unknown).",
        ),
    ] = None,
    to: Annotated[
        Optional[Path],
        typer.Option(
            "--to",
            "--submissions",
            help="Submissions folder (default: $REPBENCH_LEADERBOARD, else the nearest "
            "leaderboard/submissions here or above).",
        ),
    ] = None,
    replace: Annotated[bool, common.flag("--replace", help="Overwrite an existing record of the same name.")] = False,
    reference: Annotated[
        bool, common.flag("--reference", help="Mark as a reference baseline (shaded, never ranked).")
    ] = False,
    copy_embedding: Annotated[
        bool,
        common.flag(
            "--copy-embedding/--no-copy-embedding", help="Keep the table beside the record (for the t-SNE map)."
        ),
    ] = True,
    trajectory: Annotated[
        Optional[Path], typer.Option("--trajectory", help="trajectory.json of a run (default: beside FILE).")
    ] = None,
    labels: Annotated[
        Optional[str],
        typer.Option(
            "--labels",
            help="Labels the model was trained with, comma-separated: localization, protein-identity, or "
            "none (default: the table's metadata, else not declared).",
        ),
    ] = None,
    as_json: JsonOpt = False,
    duplicates: DuplicatesOpt = Duplicates.error,
    max_proteins: MaxProteinsOpt = 50_000,
    max_dims: MaxDimsOpt = 16_384,
    standards: StandardsOpt = None,
) -> None:
    """Validate, evaluate and write a leaderboard record (atomically) to <submissions>/<slug>.json."""
    with common.progress_bar(enabled=not as_json) as progress:
        done = submit_table(
            file,
            name,
            description,
            to=to,
            dataset=None if dataset is None else dataset.value,
            replace=replace,
            reference=reference,
            copy_embedding=copy_embedding,
            trajectory=trajectory,
            duplicates=duplicates.value,
            labels=parse_labels(labels),
            limits=Limits(max_proteins=max_proteins, max_dimensions=max_dims),
            standards=standards,
            progress=progress,
            warn=lambda line: common.warn(f"{file}: {line}"),
        )
    if as_json:
        common.print_json({"ok": True, "record": str(done.record_path), "slug": done.slug, "result": done.record})
    else:
        print_scores(done.record)
        common.console.print(
            f"[green]wrote[/] {escape(str(done.record_path))}"
            + (f" and {escape(done.table_copy.name)}" if done.table_copy else "")
        )


def standards_info(st: "standards_mod.Standards") -> dict:
    """What `repbench standards` shows of one set."""
    return {
        "version": st.version,
        "manifest_sha256": st.manifest_sha256,
        "official": st.official,
        "organism": st.manifest.get("organism", "Saccharomyces cerevisiae"),
        "reference_proteome": len(st.reference_proteome),
        "reference_source": st.manifest.get("reference_proteome", {}).get("source", ""),
        "default_tiers": st.default_tiers,
        "tiers": {
            t: {
                "title": st.title(t),
                "groups": len(st.tiers[t].groups),
                "proteins": len(st.tiers[t].members),
                "rule": st.manifest["tiers"][t]["rule"],
                "source": st.manifest["tier_sources"][t],
                "default": t in st.default_tiers,
                "commercial_use": st.manifest["tiers"][t].get("commercial_use", True),
            }
            for t in st.tier_order
        },
        "files": st.manifest["files"],
        "notice_path": str(st.root / "NOTICE"),
        "notice": st.notice,
    }


@common.command
def standards_cmd(
    version: Annotated[Optional[str], typer.Argument(help="One standard set (default: every shipped set).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The frozen standard sets: tiers, sizes, version, sha256, sources and licences."""
    versions = [version] if version else standards_mod.shipped_versions()
    infos = [standards_info(api.standards(v)) for v in versions]
    if as_json:
        common.print_json(infos[0] if version else {"default": standards_mod.DEFAULT_VERSION, "sets": infos})
        return
    for info in infos:
        table = Table(
            title=f"standards {escape(info['version'])} ({escape(info['organism'])}; manifest sha256 "
            f"{info['manifest_sha256'][:16]}...)",
            title_justify="left",
        )
        for col in ("tier", "groups", "proteins", "rule", "source"):
            table.add_column(col)
        for t, v in info["tiers"].items():
            name = t if v["default"] else f"{t} (extra: --tier {t})"
            table.add_row(escape(name), str(v["groups"]), str(v["proteins"]), escape(v["rule"]), escape(v["source"]))
        common.out.print(table)
        common.out.print(
            f"reference proteome: {info['reference_proteome']} proteins "
            f"({escape(info['reference_source'])}). Licences: see NOTICE ({escape(info['notice_path'])})"
        )


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_cmd)
    app.command("validate")(validate_cmd)
    app.command("submit")(submit_cmd)
    app.command("standards")(standards_cmd)
