"""The leaderboard site build: validation, sections, ranking and ties, escaping, downloads, cache, atomic swap."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from repbench.cli.main import app
from repbench.leaderboard import build as build_module
from repbench.leaderboard import build_site, figures, plots, samples
from repbench.results import validate_record

XSS = "<script>alert(1)</script>"


def _set_map(record: dict, tier: str, value: float, low: float, high: float) -> None:
    record["tiers"][tier].update({"map": value, "map_ci": [low, high]})


def _rewrite(folder: Path, record: dict) -> None:
    (folder / f"{record['submission']['slug']}.json").write_text(json.dumps(record))


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    """A realistic folder: models, the three references, synthetic, partial, a hostile name, three bad files."""
    folder = tmp_path_factory.mktemp("submissions")
    rng = np.random.default_rng(7)
    make = samples.make_submission
    leader = make(rng, "Leader net", "leader", folder=folder, skill=0.9, embedding=True, embedding_rows=120, epochs=4)
    close = make(rng, "Close second", "close", folder=folder, skill=0.85)
    far = make(rng, "Far behind", "far", folder=folder, skill=0.2)
    # Controlled GO-CC intervals: close overlaps the leader's, far does not.
    _set_map(leader, "go_cc", 0.30, 0.28, 0.32)
    _set_map(close, "go_cc", 0.27, 0.25, 0.29)
    _set_map(far, "go_cc", 0.10, 0.09, 0.11)
    for record in (leader, close, far):
        _rewrite(folder, record)
    for slug in ("localization", "random", "shuffled"):
        make(rng, slug.title(), slug, folder=folder, reference=True, skill=0.4 if slug == "localization" else 0.0)
    make(rng, "Synthetic smoke", "synthetic-smoke", folder=folder, dataset="synthetic", skill=1.0)
    make(rng, "Half the proteome", "half", folder=folder, coverage=0.5, skill=0.95)
    make(rng, XSS, "xss", folder=folder, skill=0.3, description=XSS)
    bad = make(rng, "Bad schema", "bad-schema", skill=0.5)
    bad["tiers"]["go_cc"]["map"] = "high"
    (folder / "bad-schema.json").write_text(json.dumps(bad))
    (folder / "broken.json").write_text("{ not json")
    dup = make(rng, "Duplicate of far", "far", skill=0.5)
    (folder / "zz-duplicate.json").write_text(json.dumps(dup))
    return folder


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def site(submissions, cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "site"
    report = build_site(submissions, out, cache=cache, workers=1)
    return out, report


def test_sample_records_match_the_schema():
    record = samples.make_submission(np.random.default_rng(0), "A model", "a-model", epochs=2)
    assert validate_record(record) == []


def test_bad_records_are_reported_and_skipped(site):
    out, report = site
    skipped = {path.name: problem for path, problem in report.skipped}
    assert set(skipped) == {"bad-schema.json", "broken.json", "zz-duplicate.json"}
    assert "tiers.go_cc.map" in skipped["bad-schema.json"]
    assert "not valid JSON" in skipped["broken.json"]
    assert "already used" in skipped["zz-duplicate.json"]
    index = (out / "index.html").read_text()
    assert "Bad schema" not in index and "Duplicate of far" not in index
    assert not (out / "s" / "bad-schema.html").exists()


def _section_slugs(index: str, section: str) -> list[str]:
    block = re.search(rf'<section class="board" id="{section}">(.*?)</section>', index, re.S)
    return re.findall(r'data-slug="([a-z0-9-]+)"', block.group(1)) if block else []


def test_sections_keep_synthetic_and_partial_rows_apart(site):
    out, _ = site
    index = (out / "index.html").read_text()
    main = _section_slugs(index, "main")
    assert set(main) == {"leader", "close", "far", "localization", "random", "shuffled", "xss"}
    assert _section_slugs(index, "synthetic") == ["synthetic-smoke"]
    assert _section_slugs(index, "partial") == ["half"]
    # The synthetic and partial rows have the best scores overall, yet the main leader is still "leader".
    assert main[0] == "leader"


def test_references_are_shaded_and_labelled(site):
    out, _ = site
    index = (out / "index.html").read_text()
    for slug, label in (("random", "random baseline"), ("shuffled", "shuffled baseline"),
                        ("localization", "localization baseline")):
        row = re.search(rf'<tr class="reference" data-slug="{slug}">(.*?)</tr>', index, re.S)
        assert row and label in row.group(1)
    assert '<tr class="" data-slug="leader">' in index


def test_leader_and_ties_follow_the_intervals(site):
    _, report = site
    by_slug = {e.slug: e for e in report.entries}
    assert by_slug["leader"].leader["go_cc"] and not by_slug["leader"].tied["go_cc"]
    assert by_slug["close"].tied["go_cc"]
    assert not by_slug["far"].tied["go_cc"] and not by_slug["far"].leader["go_cc"]
    # Ties are judged within a section: the synthetic row is its own section's leader.
    assert by_slug["synthetic-smoke"].leader["go_cc"]
    assert ("go_cc", "map") in by_slug["leader"].best and ("go_cc", "map") not in by_slug["close"].best


def test_rank_marks_overlap_exactly():
    rng = np.random.default_rng(3)
    entries = []
    for slug, (value, low, high) in {"a": (0.5, 0.45, 0.55), "b": (0.4, 0.35, 0.45), "c": (0.4, 0.30, 0.449)}.items():
        record = samples.make_submission(rng, slug, slug)
        _set_map(record, "kegg", value, low, high)
        entries.append(build_module.Entry(Path(f"{slug}.json"), record))
    build_module.rank(entries)
    assert [e.tied["kegg"] for e in entries] == [False, True, False]  # touching counts, 0.449 < 0.45 does not
    assert [e.leader["kegg"] for e in entries] == [True, False, False]


def test_section_rules():
    record = {"dataset": "real", "coverage": 0.95}
    assert build_module.section_of(record) == "main"
    assert build_module.section_of({**record, "coverage": 0.8999}) == "partial"
    assert build_module.section_of({**record, "dataset": "synthetic"}) == "synthetic"
    assert build_module.section_of({**record, "dataset": "unknown"}) == "unknown"


def test_hostile_name_is_escaped_everywhere(site):
    out, _ = site
    for page in (out / "index.html", out / "s" / "xss.html"):
        html = page.read_text()
        assert XSS not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"<script>(?!</script>)", (out / "index.html").read_text())


def test_downloads_hold_the_whole_table(site):
    out, report = site
    rows = list(csv.DictReader(io.StringIO((out / "leaderboard.csv").read_text())))
    assert sorted(r["slug"] for r in rows) == sorted(e.slug for e in report.entries)
    leader = next(r for r in rows if r["slug"] == "leader")
    assert float(leader["go_cc_map"]) == 0.30 and leader["go_cc_leader"] == "True"
    assert {"go_bp_ami", "go_bp_ami_sd", "kegg_map_ci_low", "complex_f05", "coverage", "dimension", "dataset",
            "date", "section"} <= set(leader)
    payload = json.loads((out / "leaderboard.json").read_text())
    assert len(payload["rows"]) == len(report.entries)
    assert next(r for r in payload["rows"] if r["slug"] == "close")["go_cc_tied_with_leader"] is True


def test_csv_cells_cannot_become_formulas():
    text = build_module.to_csv([{"name": "=HYPERLINK(1)", "x": 1.5, "y": None}])
    assert text.splitlines()[1] == "'=HYPERLINK(1),1.5,"


def test_index_names_its_provenance_and_the_paper_panel(site):
    out, report = site
    index = (out / "index.html").read_text()
    sha = report.entries[0].record["standards"]["manifest_sha256"]
    assert f"from {len(report.entries)} submissions, evaluator v1.0.0, standards yeast-v1 (sha256" in " ".join(index.split())
    assert sha[:12] in index
    assert "Not comparable, never ranked." in index and 'src="static/paper-figure1b.png"' in index
    assert (out / "static" / "paper-figure1b.png").stat().st_size > 10_000
    # Nothing is fetched from elsewhere: no absolute URLs in src/href attributes.
    assert not re.search(r'(src|href)="(https?:)?//', index)


def test_submission_page_has_card_scores_and_pictures(site):
    out, _ = site
    page = (out / "s" / "leader.html").read_text()
    for text in ("Model card", "leader", "yeast-v1", "Prevalence", "t-SNE", "F0.5 per tier after each epoch"):
        assert text in page
    assert page.count("<svg") == 3  # PR curves, t-SNE map, trajectory
    no_embedding = (out / "s" / "close.html").read_text()
    assert "without its embedding table" in no_embedding and no_embedding.count("<svg") == 1


def test_localization_classes_follow_huh():
    huh = figures.huh_localizations()
    assert "cytoplasm" in huh["YAL001C"] and "nucleus" in huh["YAL001C"]
    names = [n for n, _, _ in plots.LOCALIZATION_CLASSES]
    classes = plots.localization_classes(["YAL001C", "NOT-AN-ORF"], huh)
    assert names[classes[0]] == "nucleus"  # nucleus wins over cytoplasm
    assert classes[1] == len(names)


def test_embedding_file_problems_are_said_on_the_page(tmp_path):
    rng = np.random.default_rng(11)
    folder = tmp_path / "subs"
    gone = samples.make_submission(rng, "Gone", "gone", folder=folder, embedding=True, embedding_rows=30)
    (folder / "gone.parquet").unlink()
    swapped = samples.make_submission(rng, "Swapped", "swapped", folder=folder, embedding=True, embedding_rows=30)
    samples.write_embedding(folder / "swapped.parquet", ["YAL001C"] * 3, np.ones((3, 4)))
    build_site(folder, tmp_path / "site")
    assert "is not next to it" in (tmp_path / "site" / "s" / "gone.html").read_text()
    assert "does not match the input sha256" in (tmp_path / "site" / "s" / "swapped.html").read_text()
    assert gone and swapped


def test_warm_build_redraws_nothing_and_is_identical(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    rng = np.random.default_rng(5)
    folder = tmp_path / "subs"
    samples.make_submission(rng, "With map", "with-map", folder=folder, embedding=True, embedding_rows=40, epochs=2)
    samples.make_submission(rng, "Plain", "plain", folder=folder)
    out = tmp_path / "site"
    build_site(folder, out)
    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and ".cache" not in p.parts}

    def never(*args, **kwargs):
        raise AssertionError("a warm build must not draw")

    for name in ("pr_curves_svg", "trajectory_svg", "tsne_svg", "tsne_coordinates"):
        monkeypatch.setattr(plots, name, never)
    build_site(folder, out)
    second = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file() and ".cache" not in p.parts}
    assert first == second
    assert (out / ".cache" / "tsne").is_dir()


def test_a_failed_build_leaves_the_previous_site(tmp_path, monkeypatch):
    folder = tmp_path / "subs"
    samples.make_submission(np.random.default_rng(1), "Only", "only", folder=folder)
    out = tmp_path / "site"
    build_site(folder, out)
    before = (out / "index.html").read_text()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # as if killed half-way through writing pages

    monkeypatch.setattr(build_module, "render_site", crash)
    with pytest.raises(KeyboardInterrupt):
        build_site(folder, out)
    assert (out / "index.html").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "subs"]  # no half-built folder left behind


def test_refuses_to_replace_a_folder_that_is_not_a_site(tmp_path):
    folder = tmp_path / "subs"
    samples.make_submission(np.random.default_rng(2), "Only", "only", folder=folder)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("x")
    with pytest.raises(build_module.RepbenchError, match="out-not-a-site"):
        build_site(folder, precious)
    assert (precious / "thesis.tex").read_text() == "x"


def test_parallel_pictures_equal_serial(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    rng = np.random.default_rng(9)
    folder = tmp_path / "subs"
    for i in range(2):
        samples.make_submission(rng, f"Model {i}", f"model-{i}", folder=folder, epochs=2)
    build_site(folder, tmp_path / "serial", cache=tmp_path / "c1", workers=1)
    build_site(folder, tmp_path / "parallel", cache=tmp_path / "c2", workers=2)
    for slug in ("model-0", "model-1"):
        serial = (tmp_path / "serial" / "s" / f"{slug}.html").read_text()
        assert serial.count("<svg") == 2
        assert serial == (tmp_path / "parallel" / "s" / f"{slug}.html").read_text()


def test_cli_build_warns_and_summarises(submissions, cache, tmp_path):
    result = CliRunner().invoke(app, ["-q", "leaderboard", "build", "--submissions", str(submissions),
                                      "--out", str(tmp_path / "site"), "--cache", str(cache), "--json", "-j", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["submissions"] == 9
    assert {Path(s["file"]).name for s in summary["skipped"]} == {"bad-schema.json", "broken.json", "zz-duplicate.json"}
    assert "skipped" in result.stderr and "bad-schema.json" in result.stderr


def test_cli_reports_a_missing_folder(tmp_path):
    result = CliRunner().invoke(app, ["leaderboard", "build", "--submissions", str(tmp_path / "none"),
                                      "--out", str(tmp_path / "site")])
    assert result.exit_code == 1
    assert "no-submissions" in result.stderr
    assert "Traceback" not in result.output
    shutil.rmtree(tmp_path, ignore_errors=True)
