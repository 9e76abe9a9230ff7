"""`repbench evaluate`, `validate`, `submit` and `standards`: the commands that start at a protein table."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from .. import results
from .. import standards as standards_mod
from ..errors import RepbenchError
from ..evaluator import evaluate_table
from ..table import Limits, ProteinTable, read_table
from .common import console, handle_errors, print_json, progress_bar

METRICS = (("ami", "AMI"), ("map", "mAP"), ("f05", "F0.5"))
DEFAULT_SUBMISSIONS = Path("leaderboard/submissions")

FileArg = typer.Argument(..., help="Parquet protein table (protein + embedding, or protein + numeric columns).")
JsonOpt = typer.Option(False, "--json", help="Machine-readable JSON on stdout, nothing else.")
TiersOpt = typer.Option(None, "--tier", "-t", help="Tier to score (repeatable; default: all four).")
MaxProteinsOpt = typer.Option(50_000, "--max-proteins", help="Refuse tables with more rows.")
MaxDimsOpt = typer.Option(16_384, "--max-dims", help="Refuse tables with more dimensions.")
StandardsDirOpt = typer.Option(
    None, "--standards-dir", help="Development override: other standards (results are stamped unofficial)."
)


def _fmt(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def render_scores(result: dict, title: str | None = None) -> Table:
    """The tiers x metrics table, with chance levels: prevalence for AP/mAP/F0.5, 0 for AMI."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("tier")
    table.add_column("proteins", justify="right")
    table.add_column("AMI (±sd)", justify="right")
    table.add_column("mAP [95% CI]", justify="right")
    table.add_column("F0.5", justify="right")
    table.add_column("AP", justify="right")
    table.add_column("chance", justify="right", style="dim")
    for tier, s in result["tiers"].items():
        if s.get("skipped"):
            table.add_row(tier, str(s["proteins"]), "-", "-", "-", "-", s["skipped"])
            continue
        ci = s["map_ci"]
        table.add_row(
            tier,
            str(s["proteins"]),
            f"{_fmt(s['ami'])} ±{_fmt(s['ami_sd'])}",
            f"{_fmt(s['map'])} [{_fmt(ci[0])}, {_fmt(ci[1])}]",
            _fmt(s["f05"]),
            _fmt(s["ap"]),
            _fmt(s["prevalence"], 4),
        )
    return table


def _print_summary(result: dict) -> None:
    inp = result["input"]
    console.print(
        f"[bold]{inp['proteins']}[/] proteins x [bold]{inp['dimension']}[/] dims, coverage of the reference proteome "
        f"[bold]{result['coverage']:.1%}[/], data set [bold]{result['dataset']}[/], "
        f"evaluator {result['evaluator']['version']}, standards {result['standards']['version']}"
    )
    if result.get("unofficial"):
        console.print("[bold yellow]unofficial[/]: computed with overridden standards, not comparable")
    console.print(render_scores(result))


def _load(file: Path, standards_dir: Optional[Path], max_proteins: int, max_dims: int) -> tuple[ProteinTable, "standards_mod.Standards"]:
    standards = standards_mod.load(root=standards_dir) if standards_dir else standards_mod.load()
    table = read_table(file, standards, Limits(max_proteins=max_proteins, max_dimensions=max_dims))
    for warning in table.warnings:
        console.print(f"[yellow]warning[/] {file}: {warning}", highlight=False)
    return table, standards


def _evaluate(table: ProteinTable, standards, tiers: Optional[List[str]]) -> dict:
    with progress_bar() as progress:
        task = progress.add_task("evaluating", total=len(tiers or standards.tiers)) if progress else None

        def tier_done(tier: str) -> None:
            if progress:
                progress.update(task, advance=1, description=f"evaluated {tier}")

        return evaluate_table(table, standards, tiers=tiers, progress=tier_done)


@handle_errors
def evaluate_cmd(
    file: Path = FileArg,
    tier: Optional[List[str]] = TiersOpt,
    as_json: bool = JsonOpt,
    max_proteins: int = MaxProteinsOpt,
    max_dims: int = MaxDimsOpt,
    standards_dir: Optional[Path] = StandardsDirOpt,
) -> None:
    """Score a protein table on the frozen tiers: AMI, mAP and F0.5 per tier, with chance levels."""
    table, standards = _load(file, standards_dir, max_proteins, max_dims)
    result = _evaluate(table, standards, tier)
    if as_json:
        print_json(result)
    else:
        _print_summary(result)


@handle_errors
def validate_cmd(
    file: Path = FileArg,
    as_json: bool = JsonOpt,
    max_proteins: int = MaxProteinsOpt,
    max_dims: int = MaxDimsOpt,
) -> None:
    """Check a protein table without scoring it."""
    table, standards = _load(file, None, max_proteins, max_dims)
    report = {
        "ok": True,
        "path": str(file),
        "rows": table.rows,
        "proteins": len(table.proteins),
        "dimension": table.dimension,
        "n_unknown": len(table.unknown),
        "n_ambiguous": len(table.ambiguous),
        "unknown_ids": table.unknown[: results.ID_PREVIEW],
        "ambiguous_ids": table.ambiguous[: results.ID_PREVIEW],
        "metadata": table.metadata,
        "warnings": table.warnings,
    }
    if as_json:
        print_json(report)
    else:
        console.print(f"[green]ok[/] {file}: {report['proteins']} proteins x {report['dimension']} dims")


def _trajectory_for(file: Path, explicit: Optional[Path]) -> Optional[list]:
    """A run folder keeps trajectory.json beside embeddings.parquet: carry it into the record."""
    path = explicit or (file.parent / "trajectory.json")
    if not path.is_file():
        if explicit:
            raise RepbenchError("not-found", "trajectory file not found", path=explicit)
        return None
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RepbenchError("bad-trajectory", f"not valid JSON ({error})", path=path)
    data = data.get("trajectory", data) if isinstance(data, dict) else data
    if not isinstance(data, list):
        raise RepbenchError("bad-trajectory", "expected a list of epochs", path=path)
    return data


@handle_errors
def submit_cmd(
    file: Path = FileArg,
    name: str = typer.Option(..., "--name", help="Display name on the leaderboard."),
    description: str = typer.Option("", "--description", help="One paragraph about the model."),
    to: Path = typer.Option(DEFAULT_SUBMISSIONS, "--to", help="Submissions folder."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite an existing record of the same name."),
    reference: bool = typer.Option(False, "--reference", help="Mark as a reference baseline (shaded, never ranked)."),
    copy_embedding: bool = typer.Option(True, "--copy-embedding/--no-copy-embedding", help="Keep the table beside the record (for the t-SNE map)."),
    trajectory: Optional[Path] = typer.Option(None, "--trajectory", help="trajectory.json of a run (default: beside FILE)."),
    as_json: bool = JsonOpt,
    max_proteins: int = MaxProteinsOpt,
    max_dims: int = MaxDimsOpt,
) -> None:
    """Validate, evaluate and write a leaderboard record (atomically) to leaderboard/submissions/<slug>.json."""
    slug = results.slugify(name)  # checks the name before any work
    record_path = results.submission_path(to, slug)
    if record_path.exists() and not replace:
        raise RepbenchError("exists", f"a submission {slug!r} exists already; pass --replace to overwrite it", path=record_path)
    table, standards = _load(file, None, max_proteins, max_dims)
    result = _evaluate(table, standards, None)
    table_copy = to / results.embedding_copy_name(slug, table.sha256)
    record = results.make_submission(result, name, description, reference=reference,
                                     embedding_file=table_copy.name if copy_embedding else None)
    steps = _trajectory_for(file, trajectory)
    if steps is not None:
        record["trajectory"] = steps
    problems = results.validate_record(record)
    if problems:  # a bug if it happens: never write a record the site would refuse
        raise RepbenchError("invalid-record", "; ".join(problems[:3]))
    # order matters for a kill at any point: the new table copy first, then the record that points at it,
    # then the old copies nothing points at any more
    if copy_embedding:
        tmp = table_copy.with_name(f".{table_copy.name}.tmp")
        to.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, tmp)
        tmp.replace(table_copy)
    results.write_json_atomic(record_path, record)
    for stale in to.glob(f"{slug}.*.parquet"):
        if stale != table_copy:
            stale.unlink(missing_ok=True)
    if as_json:
        print_json({"ok": True, "record": str(record_path), "slug": slug, "result": record})
    else:
        _print_summary(record)
        console.print(f"[green]wrote[/] {record_path}")


@handle_errors
def standards_cmd(as_json: bool = JsonOpt) -> None:
    """The frozen standards: tiers, sizes, version, sha256, sources and licences."""
    st = standards_mod.load()
    info = {
        "version": st.version,
        "manifest_sha256": st.manifest_sha256,
        "official": st.official,
        "reference_proteome": len(st.reference_proteome),
        "tiers": {
            t: {
                "title": standards_mod.TIER_TITLES.get(t, t),
                "groups": len(tier.groups),
                "proteins": len(tier.members),
                "rule": st.manifest["tiers"][t]["rule"],
                "source": st.manifest["tier_sources"][t],
            }
            for t, tier in st.tiers.items()
        },
        "files": st.manifest["files"],
        "notice": st.notice,
    }
    if as_json:
        print_json(info)
        return
    table = Table(title=f"standards {st.version} (manifest sha256 {st.manifest_sha256[:16]}...)", title_justify="left")
    for col in ("tier", "groups", "proteins", "rule", "source"):
        table.add_column(col)
    for t, v in info["tiers"].items():
        table.add_row(t, str(v["groups"]), str(v["proteins"]), v["rule"], v["source"])
    console.print(table)
    console.print(f"reference proteome: {info['reference_proteome']} ORFs (Huh et al. 2003). Licences: see NOTICE ({st.root / 'NOTICE'})")


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate_cmd)
    app.command("validate")(validate_cmd)
    app.command("submit")(submit_cmd)
    app.command("standards")(standards_cmd)
