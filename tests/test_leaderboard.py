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
from markupsafe import escape
from typer.testing import CliRunner

from repbench import standards as standards_mod
from repbench.cli.main import app
from repbench.leaderboard import (
    build as build_module,
    build_site,
    collect,
    figures,
    groups,
    localization,
    overlap,
    plots,
    rank,
    render,
    samples,
)
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
    leader = make(rng, "Leader net", "leader", folder=folder, skill=0.9, embedding=True, embedding_rows=400, epochs=4)
    close = make(rng, "Close second", "close", folder=folder, skill=0.85)
    far = make(rng, "Far behind", "far", folder=folder, skill=0.2, embedding=True, embedding_rows=400)
    # Controlled GO-CC intervals: close overlaps the leader's, far does not.
    _set_map(leader, "go_cc", 0.30, 0.28, 0.32)
    _set_map(close, "go_cc", 0.27, 0.25, 0.29)
    _set_map(far, "go_cc", 0.10, 0.09, 0.11)
    # Evaluator 1.1.0 fields on the leader: per-group mAP (12 real GO-CC ids) and the fraction retrieved.
    go_cc = list(standards_mod.load().tiers["go_cc"].group_names)[:12]
    leader["tiers"]["go_cc"]["group_map"] = {g: [round(1 - i / 12, 3), 3 + i] for i, g in enumerate(go_cc)}
    leader["tiers"]["go_cc"]["fraction_retrieved"] = 0.375
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
    block = re.search(rf'<section class="board" id="yeast-v1-{section}">(.*?)</section>', index, re.S)
    return re.findall(r'data-slug="([a-z0-9-]+)"', block.group(1)) if block else []


def test_sections_keep_synthetic_and_partial_rows_apart(site):
    out, _ = site
    index = (out / "index.html").read_text()
    main = _section_slugs(index, "main")
    assert set(main) == {"leader", "close", "far", "localization", "random", "shuffled", "xss"}
    assert _section_slugs(index, "synthetic") == ["synthetic-smoke"]
    assert _section_slugs(index, "partial") == ["half"]
    # Rows with a table beside them (leader, far) are ranked and come first; the rest follow by mean mAP.
    assert main[:2] == ["leader", "far"]


def test_references_are_shaded_and_labelled(site):
    out, _ = site
    index = (out / "index.html").read_text()
    for slug, label in (
        ("random", "random baseline"),
        ("shuffled", "shuffled baseline"),
        ("localization", "localization baseline"),
    ):
        row = re.search(rf'<tr class="reference" data-slug="{slug}">(.*?)</tr>', index, re.S)
        assert row and label in row.group(1)
    assert '<tr class="" data-slug="leader">' in index


def test_only_ranked_rows_get_rank_marks(site):
    _, report = site
    by_slug = {e.slug: e for e in report.entries}
    # leader and far have tables: one joint bootstrap ranks them; the others cannot be ranked (no table).
    assert set(by_slug["leader"].marks) == {"overall", "go_cc", "go_bp", "kegg", "complex"}
    assert by_slug["close"].marks == {} and by_slug["random"].marks == {}
    assert by_slug["leader"].marks["overall"].leader != by_slug["far"].marks["overall"].leader
    # Alone in their sections: "only row", no marks, no stars.
    for slug in ("synthetic-smoke", "half"):
        assert by_slug[slug].only_row and by_slug[slug].marks == {}
    assert not by_slug["leader"].only_row
    assert ("go_cc", "map") in by_slug["leader"].best and ("go_cc", "map") not in by_slug["close"].best


def _entry(slug: str, rng) -> collect.Entry:
    return collect.Entry(Path(f"{slug}.json"), samples.make_submission(rng, slug, slug))


def test_rank_marks_come_from_the_paired_test_not_interval_overlap():
    """b differs from the leader a by a tiny, consistent amount on every protein: the rank intervals and the
    unpaired mAP intervals overlap, yet the paired test separates them; c equals a (a tie: a leads, by order)."""
    import pandas as pd

    rng = np.random.default_rng(3)
    from repbench import verdicts

    proteins = list(verdicts.universe(samples._standards())[:400])  # ORFs the bootstrap resamples
    base = rng.uniform(0.05, 0.95, size=400)
    aps = {"a": base, "b": base - 0.002, "c": base.copy()}
    entries = [_entry(slug, rng) for slug in aps]
    rank.mark_ranks(entries, {slug: {"go_cc": pd.Series(v, index=proteins)} for slug, v in aps.items()})
    marks = {e.slug: e.marks["go_cc"] for e in entries}
    assert marks["a"].leader and not marks["a"].indistinguishable
    assert marks["c"].indistinguishable and not marks["c"].leader
    assert not marks["b"].indistinguishable and not marks["b"].leader
    half_width = 1.96 * base.std() / np.sqrt(base.size)  # the unpaired 95% mAP intervals overlap widely
    assert 0.002 < half_width
    assert marks["b"].low <= marks["b"].mean_rank <= marks["b"].high <= 3
    assert set(entries[0].marks) == {"go_cc", "overall"}


def test_rows_sort_by_mean_rank_then_unranked_by_mean_map():
    rng = np.random.default_rng(4)
    rows = [_entry(s, rng) for s in ("x", "y", "z", "w")]
    rows[0].marks["overall"] = collect.Mark(2.0, 1, 3, False, True)
    rows[1].marks["overall"] = collect.Mark(1.2, 1, 2, True, False)
    for row, value in zip(rows[2:], (0.1, 0.5)):
        for tier in row.record["tiers"]:
            row.record["tiers"][tier]["map"] = value
    ordered = sorted(rows, key=rank._order)
    assert [e.slug for e in ordered] == ["y", "x", "w", "z"]


def test_section_rules():
    record = {"dataset": "real", "coverage": 0.95}
    assert collect.section_of(record) == "main"
    assert collect.section_of({**record, "coverage": 0.8999}) == "partial"
    assert collect.section_of({**record, "dataset": "synthetic"}) == "synthetic"
    assert collect.section_of({**record, "dataset": "unknown"}) == "unknown"


def test_one_board_per_standard_set_never_ranked_together():
    rng = np.random.default_rng(6)
    entries = [_entry(s, rng) for s in ("a", "b", "c")]
    entries[2].record["standards"] = {**entries[2].record["standards"], "version": "human-v1"}
    grouped = collect.boards(entries)
    assert list(grouped) == ["yeast-v1", "human-v1"]
    assert [e.slug for e in grouped["human-v1"]] == ["c"]
    boards = build_module.make_boards(entries, Path("/nonexistent-cache"))
    human = next(b for b in boards if b.version == "human-v1")
    assert human.sections[0][1][0].only_row  # alone on its board: not ranked with the yeast rows


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
    assert float(leader["go_cc_map"]) == 0.30
    assert {
        "go_bp_ami",
        "go_bp_ami_sd",
        "kegg_map_ci_low",
        "complex_f05",
        "complex_ap",
        "coverage",
        "dimension",
        "dataset",
        "date",
        "section",
        "standards",
        "labels",
        "overall_rank_mean",
        "overall_rank_low",
        "go_cc_leader",
        "go_cc_indistinguishable_from_leader",
        "go_cc_label_overlap",
    } <= set(leader)
    by_slug = {e.slug: e for e in report.entries}
    assert float(leader["overall_rank_mean"]) == by_slug["leader"].marks["overall"].mean_rank
    payload = json.loads((out / "leaderboard.json").read_text())
    assert len(payload["rows"]) == len(report.entries)
    close = next(r for r in payload["rows"] if r["slug"] == "close")
    assert close["overall_rank_mean"] is None and close["go_cc_indistinguishable_from_leader"] is False


def test_csv_cells_cannot_become_formulas():
    text = render.to_csv([{"name": "=HYPERLINK(1)", "x": 1.5, "y": None}])
    assert text.splitlines()[1] == "'=HYPERLINK(1),1.5,"


def test_index_names_its_provenance_and_the_paper_panel(site):
    out, report = site
    index = (out / "index.html").read_text()
    sha = report.entries[0].record["standards"]["manifest_sha256"]
    assert f"from {len(report.entries)} submissions, evaluator v1.0.0, standards yeast-v1 (sha256" in " ".join(
        index.split()
    )
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
    huh = localization.huh_localizations()
    assert "cytoplasm" in huh["YAL001C"] and "nucleus" in huh["YAL001C"]
    names = [n for n, _, _ in localization.LOCALIZATION_CLASSES]
    classes = localization.localization_classes(["YAL001C", "NOT-AN-ORF"], huh)
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
    result = CliRunner().invoke(
        app,
        [
            "-q",
            "leaderboard",
            "build",
            "--submissions",
            str(submissions),
            "--out",
            str(tmp_path / "site"),
            "--cache",
            str(cache),
            "--json",
            "-j",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["submissions"] == 9
    assert {Path(s["file"]).name for s in summary["skipped"]} == {"bad-schema.json", "broken.json", "zz-duplicate.json"}
    assert "skipped" in result.stderr and "bad-schema.json" in result.stderr


def test_cli_reports_a_missing_folder(tmp_path):
    result = CliRunner().invoke(
        app, ["leaderboard", "build", "--submissions", str(tmp_path / "none"), "--out", str(tmp_path / "site")]
    )
    assert result.exit_code == 1
    assert "no-submissions" in result.stderr
    assert "Traceback" not in result.output
    shutil.rmtree(tmp_path, ignore_errors=True)


# ---- label overlap ----------------------------------------------------------------------------------------


def _concentrated_reference(membership: np.ndarray, classes: np.ndarray, n_classes: int) -> list[bool]:
    """Plain loops: each group's top class, hypergeometric tail x classes, BH over tested groups, majority."""
    from math import comb

    located = [i for i in range(classes.size) if classes[i] < n_classes]
    total = len(located)
    tested, p_values = [], []
    for g in range(membership.shape[0]):
        members = [classes[i] for i in range(classes.size) if membership[g, i] and classes[i] < n_classes]
        if len(members) < overlap.MIN_MEMBERS:
            continue
        counts = [members.count(c) for c in range(n_classes)]
        top = counts.index(max(counts))
        k, n, big = counts[top], len(members), sum(1 for i in located if classes[i] == top)
        tail = sum(comb(big, j) * comb(total - big, n - j) for j in range(k, min(n, big) + 1)) / comb(total, n)
        tested.append((g, k, n))
        p_values.append(min(1.0, tail * n_classes))
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    q = [0.0] * m
    running = 1.0
    for rank_, i in reversed(list(enumerate(order, start=1))):
        running = min(running, p_values[i] * m / rank_)
        q[i] = running
    out = [False] * membership.shape[0]
    for (g, k, n), value in zip(tested, q):
        out[g] = value < overlap.ALPHA and 2 * k > n
    return out


def test_label_overlap_matches_a_plain_reference():
    rng = np.random.default_rng(12)
    classes = rng.integers(0, 5, size=300)  # 4 classes + "no class" (4)
    membership = rng.random((60, 300)) < 0.03
    for g in range(0, 60, 3):  # a third of the groups drawn from one class: concentrated
        pool = np.flatnonzero(classes == g % 4)
        membership[g] = False
        membership[g, rng.choice(pool, size=8, replace=False)] = True
    got = overlap.concentrated(membership, classes, 4)
    assert got.tolist() == _concentrated_reference(membership, classes, 4)
    assert 15 <= got.sum() <= 25


def test_go_cc_overlaps_localization_labels_and_identity_labels_mark_nothing():
    measured = overlap.localization_overlap("yeast-v1")
    assert set(measured) == {"go_cc", "go_bp", "kegg", "complex"}
    assert measured["go_cc"] >= overlap.MARK_AT > measured["go_bp"]
    assert overlap.overlap_for(["localization"], "yeast-v1") == measured
    assert overlap.overlap_for(["protein-identity"], "yeast-v1") == {}
    assert overlap.overlap_for(None, "yeast-v1") == {} and overlap.overlap_for([], "yeast-v1") == {}


# ---- every table layout draws ------------------------------------------------------------------------------


def test_tsne_draws_a_table_with_one_numeric_column_per_feature(tmp_path, monkeypatch):
    import pandas as pd

    from repbench.table import file_sha256

    rng = np.random.default_rng(13)
    orfs = sorted(rng.choice(samples._standards().reference_proteome, size=40, replace=False).tolist())
    frame = pd.DataFrame(
        rng.normal(size=(40, 5)), columns=[f"f{i}" for i in range(5)], index=pd.Index(orfs, name="protein")
    )
    path = tmp_path / "columns.parquet"
    frame.to_parquet(path)  # what pandas writes: protein as the index column, one float column per feature
    monkeypatch.setattr(plots, "tsne_coordinates", lambda v: np.asarray(v)[:, :2])
    job = figures.FigureJob("columns", file_sha256(path), {}, None, path)
    result = figures._tsne_map(job, tmp_path / "cache")
    assert not isinstance(result, str), result
    coords, kept = result
    assert coords.shape == (40, 2) and kept == orfs


# ---- the repo's own records ----------------------------------------------------------------------------------


REPO_SUBMISSIONS = Path(__file__).resolve().parent.parent / "leaderboard" / "submissions"


@pytest.fixture(scope="module")
def repo_boards(tmp_path_factory):
    entries, skipped = collect.collect(REPO_SUBMISSIONS)
    assert skipped == []
    return {b.version: b for b in build_module.make_boards(entries, tmp_path_factory.mktemp("aps"))}


def test_repo_real_rows_are_ranked_with_intervals(repo_boards):
    board = repo_boards["yeast-v1"]
    sections = {section.key: rows for section, rows in board.sections}
    real = {e.slug: e for e in sections["main"]}
    assert set(real) == {
        "lu-2018-wt2-morphology-features",
        "lu-2018-rap3-morphology-features",
        "random-wt2-proteins",
        "shuffled-wt2-features",
        "localization-huh-2003-flags",
    }
    for entry in real.values():
        assert entry.record["dataset"] == "real"
        for key in ("overall", *board.tiers):
            mark = entry.marks[key]
            assert 1 <= mark.low <= mark.mean_rank <= mark.high <= len(real)
    wt2, noise = real["lu-2018-wt2-morphology-features"], real["random-wt2-proteins"]
    assert wt2.marks["overall"].high < noise.marks["overall"].low  # real features beat random vectors, clearly
    assert not noise.marks["overall"].indistinguishable
    assert real["localization-huh-2003-flags"].annotation and real["localization-huh-2003-flags"].reference
    assert [e.slug for e in sections["main"]] == sorted(real, key=lambda s: real[s].marks["overall"].mean_rank)
    assert wt2.labels == [] and "published Handfield" in wt2.submission["description"]
    assert "z-scored" in wt2.submission["model_card"]


def test_repo_demo_records_are_synthetic_and_declare_labels(repo_boards):
    sections = {section.key: rows for section, rows in repo_boards["yeast-v1"].sections}
    synthetic = {e.slug: e for e in sections["synthetic"]}
    assert {"random-synthetic-demo", "shuffled-synthetic-demo", "deeploc-synthetic-demo"} <= set(synthetic)
    assert "partial" not in sections and "unknown" not in sections
    deeploc = synthetic["deeploc-synthetic-demo"]
    assert deeploc.labels == ["localization"] and deeploc.overlap["go_cc"] >= overlap.MARK_AT
    assert synthetic["inpainting-synthetic-demo"].labels == ["protein-identity"]
    assert synthetic["inpainting-synthetic-demo"].overlap == {}


# ---- amending and re-scoring records ----------------------------------------------------------------------


def test_amend_and_rescore_keep_what_the_submitter_said(tmp_path):
    from repbench import EVALUATOR_VERSION, standards
    from repbench.evaluator import evaluate_table
    from repbench.leaderboard import records
    from repbench.results import embedding_copy_name, make_submission, write_json_atomic
    from repbench.table import read_table, write_table

    st = standards.load()
    rng = np.random.default_rng(14)
    orfs = sorted(rng.choice(st.reference_proteome, size=150, replace=False).tolist())
    staged = write_table(
        tmp_path / "t.parquet", orfs, samples.clustered_vectors(rng, orfs, 8, 0.8), {"labels": ["localization"]}
    )
    table = read_table(staged, st)
    folder = tmp_path / "subs"
    copy = folder / embedding_copy_name("mine", table.sha256)
    folder.mkdir()
    copy.write_bytes(staged.read_bytes())
    record = make_submission(evaluate_table(table, st), "Mine", "desc", embedding_file=copy.name)
    assert record["submission"]["labels"] == ["localization"]  # carried from the table's metadata
    record["evaluator"]["version"] = "0.9.0"
    record["trajectory"] = [{"epoch": 1, "tiers": {}}]
    path = write_json_atomic(folder / "mine.json", record)
    records.amend_record(path, dataset="real", model_card="How it was made.")
    with pytest.raises(build_module.RepbenchError, match="bad-dataset"):
        records.amend_record(path, dataset="imaginary")
    new = records.rescore_record(path)
    assert new["evaluator"]["version"] == EVALUATOR_VERSION
    assert new["dataset"] == "real" and new["trajectory"] == [{"epoch": 1, "tiers": {}}]
    kept = {k: new["submission"][k] for k in ("name", "description", "model_card", "labels", "embedding_file")}
    assert kept == {
        "name": "Mine",
        "description": "desc",
        "model_card": "How it was made.",
        "labels": ["localization"],
        "embedding_file": copy.name,
    }
    assert json.loads(path.read_text()) == new and collect.site_problems(new) == []
    copy.write_bytes(b"not the same table")
    with pytest.raises(build_module.RepbenchError, match="no-table"):
        records.rescore_record(path)


def test_submit_takes_labels_from_the_option_or_the_table(tmp_path):
    from repbench import standards
    from repbench.table import write_table

    st = standards.load()
    rng = np.random.default_rng(15)
    orfs = sorted(rng.choice(st.reference_proteome, size=60, replace=False).tolist())
    table = write_table(tmp_path / "t.parquet", orfs, rng.normal(size=(60, 6)), {"labels": ["protein-identity"]})
    folder = tmp_path / "subs"
    folder.mkdir()
    runner = CliRunner()
    base = ["-q", "submit", str(table), "--to", str(folder), "--json", "--no-copy-embedding"]
    bad = runner.invoke(app, [*base, "--name", "Bad", "--labels", "localisation"])
    assert bad.exit_code == 2 and "bad-labels" in bad.stderr and not list(folder.iterdir())
    from_table = runner.invoke(app, [*base, "--name", "From table"])
    assert from_table.exit_code == 0, from_table.output
    assert json.loads(from_table.stdout)["result"]["submission"]["labels"] == ["protein-identity"]
    none = runner.invoke(app, [*base, "--name", "None said", "--labels", "none"])
    assert json.loads(none.stdout)["result"]["submission"]["labels"] == []


def test_group_extremes_by_hand():
    group_map = {"pair": [1.0, 2], "a": [0.9, 3], "b": [0.9, 5], "c": [0.2, 3], "d": [0.5, 4], "e": [0.2, 6]}
    names = {"a": "A", "b": "B"}
    best, worst = groups.extremes(group_map, names, shown=2)  # 5 groups of >= 3 members: >= 2 x 2, pairs left out
    assert [(g.group, g.name, g.members, g.map) for g in best] == [("b", "B", 5, 0.9), ("a", "A", 3, 0.9)]
    assert [g.group for g in worst] == ["e", "c"]  # lowest first; a tie goes to the larger group
    best, worst = groups.extremes(group_map, names, shown=3)  # 5 < 2 x 3: every group, the pair too
    assert [g.group for g in best] == ["pair", "b", "a"] and [g.group for g in worst] == ["e", "c", "d"]
    assert groups.page_groups({"tiers": {"go_cc": {"map": 0.1}}}, ["go_cc"], {}) == {}  # a 1.0.0 record: none


def test_submission_page_shows_retrieved_and_the_best_and_worst_groups(site):
    out, _ = site
    page = (out / "s" / "leader.html").read_text()
    assert "Groups recovered best and worst" in page and "37.5%" in page
    names = standards_mod.load().tiers["go_cc"].group_names
    first, last = list(names)[0], list(names)[11]
    best = page.index(f"<code>{first}</code>")
    assert str(escape(names[first])) in page and best < page.index(f"<code>{last}</code>")  # best (mAP 1) above worst
    assert "Groups recovered best" not in (out / "s" / "close.html").read_text()  # no group_map, no section
