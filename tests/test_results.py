"""repbench.results: slugs, submission records, the atomic JSON write and the record schema check.

Each check of ``validate_record`` is reached by a record broken in exactly that one way (starting from a valid
record), and must report that one problem, by its message; a valid record reports none.
"""

from __future__ import annotations

import copy
import json
import os
import platform
import re
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import pytest

from repbench import __version__, results
from repbench.errors import RepbenchError
from repbench.results import validate_record

SHA = "ab" * 32


def valid_record() -> dict:
    tier = {"ap": 0.1, "f05": 0.2, "map": 0.3, "ami": -0.01, "prevalence": 0.05, "map_ci": [0.25, 0.35], "ami_sd": 0.01}
    return {
        "schema": results.SCHEMA,
        "created": "2026-01-01T00:00:00+00:00",
        "evaluator": {"version": "1.0.0"},
        "standards": {"version": "yeast-v1", "manifest_sha256": SHA},
        "input": {"sha256": SHA, "proteins": 10, "dimension": 4, "metadata": {}, "path": "t.parquet"},
        "dataset": "real",
        "coverage": 0.5,
        "tiers": {"go_cc": dict(tier), "complex": {"skipped": "no pair of submitted proteins shares a group"}},
        "submission": {"name": "M", "slug": "m", "reference": False, "embedding_file": "m.abababababab.parquet"},
        "trajectory": [{"epoch": 1, "tiers": {}}],
    }


def test_valid_record_has_no_problem():
    assert validate_record(valid_record()) == []
    record = valid_record()
    del record["submission"], record["trajectory"]  # a plain result record
    assert validate_record(record) == []
    record["tiers"]["go_cc"]["ami"] = -1.0  # the bounds are inclusive
    record["coverage"] = 1
    record["tiers"]["go_cc"]["map_ci"] = [0, 1]
    assert validate_record(record) == []
    del record["tiers"]["go_cc"]["ami_sd"]  # optional
    assert validate_record(record) == []


def broken(path: str, value=..., delete: bool = False) -> dict:
    record = valid_record()
    *parents, key = path.split(".")
    target = record
    for part in parents:
        target = target[part]
    if delete:
        del target[key]
    else:
        target[key] = value
    return record


@pytest.mark.parametrize(
    "path, value, problem",
    [
        ("schema", "repbench.result/2", "schema is 'repbench.result/2', expected 'repbench.result/1'"),
        ("evaluator", [], "evaluator: missing or not a dict"),
        ("standards", "x", "standards: missing or not a dict"),
        ("input", None, "input: missing or not a dict"),
        ("tiers", [], "tiers: missing or not a dict"),
        ("created", 5, "created: missing or not a str"),
        ("evaluator.version", 1, "evaluator.version: missing"),
        ("standards.version", None, "standards: version or manifest_sha256 missing"),
        ("standards.manifest_sha256", "AB" * 32, "standards: version or manifest_sha256 missing"),
        ("standards.manifest_sha256", SHA + "0", "standards: version or manifest_sha256 missing"),
        ("input.sha256", SHA[:-1], "input.sha256: not a sha256"),
        ("input.proteins", 0, "input.proteins: not a positive integer"),
        ("input.proteins", 2.0, "input.proteins: not a positive integer"),
        ("input.dimension", -1, "input.dimension: not a positive integer"),
        ("input.metadata", [], "input.metadata: not an object"),
        ("dataset", "other", "dataset: not one of ('synthetic', 'real', 'unknown')"),
        ("coverage", 1.5, "coverage: not a number in [0, 1]"),
        ("coverage", -0.1, "coverage: not a number in [0, 1]"),
        ("coverage", True, "coverage: not a number in [0, 1]"),
        ("coverage", float("nan"), "coverage: not a number in [0, 1]"),
        ("coverage", "0.5", "coverage: not a number in [0, 1]"),
        ("tiers.nope", {}, "tiers.nope: unknown tier"),
        ("tiers.kegg", [1], "tiers.kegg: not an object"),
        ("tiers.go_cc.ap", 1.5, "tiers.go_cc.ap: not a number in [-1, 1]"),
        ("tiers.go_cc.f05", None, "tiers.go_cc.f05: not a number in [-1, 1]"),
        ("tiers.go_cc.map", float("inf"), "tiers.go_cc.map: not a number in [-1, 1]"),
        ("tiers.go_cc.ami", -1.01, "tiers.go_cc.ami: not a number in [-1, 1]"),
        ("tiers.go_cc.prevalence", "0.1", "tiers.go_cc.prevalence: not a number in [-1, 1]"),
        ("tiers.go_cc.map_ci", [0.1], "tiers.go_cc.map_ci: not a pair of numbers"),
        ("tiers.go_cc.map_ci", (0.1, 0.2), "tiers.go_cc.map_ci: not a pair of numbers"),
        ("tiers.go_cc.map_ci", [0.1, 1.2], "tiers.go_cc.map_ci: not a pair of numbers"),
        ("tiers.go_cc.map_ci", [-0.1, 0.2], "tiers.go_cc.map_ci: not a pair of numbers"),
        ("tiers.go_cc.ami_sd", -0.01, "tiers.go_cc.ami_sd: not a number"),
        ("tiers.go_cc.ami_sd", 1.01, "tiers.go_cc.ami_sd: not a number"),
        ("submission", "M", "submission: not an object"),
        ("submission.name", "  ", "submission.name: missing"),
        ("submission.name", 3, "submission.name: missing"),
        ("submission.slug", "-m", "submission.slug: not [a-z0-9-], 1 to 64 characters"),
        ("submission.slug", "m" * 65, "submission.slug: not [a-z0-9-], 1 to 64 characters"),
        ("submission.slug", "M", "submission.slug: not [a-z0-9-], 1 to 64 characters"),
        ("submission.slug", None, "submission.slug: not [a-z0-9-], 1 to 64 characters"),
        ("submission.reference", "yes", "submission.reference: not a boolean"),
        ("submission.embedding_file", "a/b.parquet", "submission.embedding_file: must be a plain file name"),
        ("submission.embedding_file", "a\\b.parquet", "submission.embedding_file: must be a plain file name"),
        ("submission.embedding_file", ".hidden", "submission.embedding_file: must be a plain file name"),
        ("submission.embedding_file", 7, "submission.embedding_file: must be a plain file name"),
        ("trajectory", {"epoch": 1}, "trajectory: not a list of {epoch, tiers} objects"),
        ("trajectory", [{"epoch": "1"}], "trajectory: not a list of {epoch, tiers} objects"),
        ("trajectory", [3], "trajectory: not a list of {epoch, tiers} objects"),
    ],
)
def test_each_broken_field_is_reported_by_name(path, value, problem):
    assert validate_record(broken(path, value)) == [problem]


@pytest.mark.parametrize(
    "path",
    [
        "schema",
        "evaluator",
        "standards",
        "input",
        "tiers",
        "created",
        "dataset",
        "coverage",
        "input.sha256",
        "tiers.go_cc.map_ci",
        "tiers.go_cc.ap",
        "submission.name",
        "submission.slug",
    ],
)
def test_missing_fields_are_problems(path):
    assert validate_record(broken(path, delete=True)) != []


def test_missing_optional_fields_are_fine():
    for path in ("submission.reference", "submission.embedding_file", "input.metadata", "tiers.go_cc.ami_sd"):
        assert validate_record(broken(path, delete=True)) == [], path


def test_structural_problems_stop_the_check_and_several_problems_are_all_reported():
    assert validate_record([]) == ["not a JSON object"]
    assert validate_record({}) == [
        "schema is None, expected 'repbench.result/1'",
        "evaluator: missing or not a dict",
        "standards: missing or not a dict",
        "input: missing or not a dict",
        "tiers: missing or not a dict",
        "created: missing or not a str",
    ]
    record = broken("coverage", 2)
    record["dataset"] = "x"
    record["tiers"]["go_cc"]["ap"] = 2
    assert validate_record(record) == [
        "dataset: not one of ('synthetic', 'real', 'unknown')",
        "coverage: not a number in [0, 1]",
        "tiers.go_cc.ap: not a number in [-1, 1]",
    ]


def test_a_skipped_tier_needs_no_scores():
    record = valid_record()
    record["tiers"]["go_bp"] = {"skipped": "fewer than 2 submitted proteins are in this tier", "ap": None}
    assert validate_record(record) == []
    record["tiers"]["go_bp"]["skipped"] = ""  # not skipped after all: its scores are checked
    assert "tiers.go_bp.ap: not a number in [-1, 1]" in validate_record(record)


@pytest.mark.parametrize(
    "name, slug",
    [
        ("My Model", "my-model"),
        ("  Déjà vu v2.1 ", "deja-vu-v2-1"),
        ("a--b__c", "a-b-c"),
        ("-x-", "x"),
        ("x" * 70, "x" * 64),
        ("a" * 63 + " b", "a" * 63),
        ("../../etc/passwd", "etc-passwd"),
        ("ÄÖÜ", "aou"),
    ],
)
def test_slugify(name, slug):
    assert results.slugify(name) == slug
    assert re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?", slug)


@pytest.mark.parametrize("name", ["", " ", "--", "☃", "../"])
def test_slugify_refuses_names_without_letters(name):
    with pytest.raises(RepbenchError) as err:
        results.slugify(name)
    assert err.value.code == "bad-name" and repr(name) in err.value.message


def test_make_submission_copies_the_result_and_adds_the_submission_block():
    result = {"schema": results.SCHEMA, "input": {"path": "/some/where/emb.parquet", "sha256": SHA}, "tiers": {}}
    before = copy.deepcopy(result)
    record = results.make_submission(result, "  My Model ", "about it", reference=True, embedding_file="m.x.parquet")
    assert result == before  # the result itself is not changed
    assert record["input"] == {"path": "emb.parquet", "sha256": SHA}  # no local directory in a published record
    sub = record["submission"]
    assert {k: sub[k] for k in ("name", "slug", "description", "reference", "embedding_file")} == {
        "name": "My Model",
        "slug": "my-model",
        "description": "about it",
        "reference": True,
        "embedding_file": "m.x.parquet",
    }
    assert datetime.fromisoformat(sub["submitted"]).tzinfo is not None
    plain = results.make_submission(result, "M")["submission"]
    assert plain["reference"] is False and plain["description"] == "" and "embedding_file" not in plain
    with pytest.raises(RepbenchError) as err:
        results.make_submission(result, "   ")
    assert err.value.code == "bad-name" and err.value.message == "the submission name is empty"


def test_now_is_utc_to_the_second():
    stamp = results.now()
    parsed = datetime.fromisoformat(stamp)
    assert parsed.utcoffset().total_seconds() == 0 and parsed.microsecond == 0 and stamp.endswith("+00:00")
    assert abs((datetime.now(timezone.utc) - parsed).total_seconds()) < 120


def test_environment_names_the_versions():
    env = results.environment()
    assert list(env) == ["repbench", "python", "numpy", "scipy", "scikit-learn", "pandas", "pyarrow"]
    assert env["repbench"] == __version__ and env["python"] == platform.python_version()
    assert env["numpy"] == version("numpy") and env["scikit-learn"] == version("scikit-learn")


@pytest.mark.parametrize(
    "metadata, dataset",
    [
        ({"dataset": "synthetic"}, "synthetic"),
        ({"dataset": "REAL"}, "real"),
        ({"dataset": "other"}, "unknown"),
        ({}, "unknown"),
        ({"dataset": None}, "unknown"),
        ({"dataset": "Unknown"}, "unknown"),
    ],
)
def test_dataset_of(metadata, dataset):
    assert results.dataset_of(metadata) == dataset


def test_write_json_atomic_writes_readable_complete_json(tmp_path):
    path = tmp_path / "new" / "folder" / "r.json"
    payload = {"b": [1, 2.5, "ä"], "a": {"when": datetime(2026, 1, 1)}}
    assert results.write_json_atomic(path, payload) == path
    text = path.read_text()
    assert text.endswith("}\n") and json.loads(text) == {"b": [1, 2.5, "ä"], "a": {"when": "2026-01-01 00:00:00"}}
    assert text.startswith('{\n  "b": [')  # indented, key order kept
    mask = os.umask(0o022)
    try:
        results.write_json_atomic(path, {"x": 1})
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644  # readable by the web server, not only by its owner
    assert json.loads(path.read_text()) == {"x": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["r.json"]  # no temp file left


def test_write_json_atomic_refuses_nan_and_keeps_the_old_file(tmp_path):
    path = results.write_json_atomic(tmp_path / "r.json", {"x": 1})
    with pytest.raises(ValueError):
        results.write_json_atomic(path, {"x": float("nan")})
    assert json.loads(path.read_text()) == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_write_json_atomic_leaves_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    path = results.write_json_atomic(tmp_path / "r.json", {"x": 1})

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        results.write_json_atomic(path, {"x": 2})
    assert json.loads(path.read_text()) == {"x": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_current_umask_reads_without_changing_it():
    old = os.umask(0o027)
    try:
        assert results.current_umask() == 0o027 and results.current_umask() == 0o027
    finally:
        os.umask(old)


def test_submission_path_and_embedding_copy_name(tmp_path):
    assert results.submission_path(tmp_path, "my-model") == (tmp_path / "my-model.json").resolve()
    with pytest.raises(RepbenchError) as err:
        results.submission_path(tmp_path, "../x")
    assert err.value.code == "bad-name"
    assert results.embedding_copy_name("m", "0123456789abcdef" * 4) == "m.0123456789ab.parquet"


def test_details_that_only_some_records_reach():
    record = valid_record()
    record["input"]["proteins"] = record["input"]["dimension"] = 1  # the smallest valid sizes
    assert validate_record(record) == []
    record = valid_record()
    tiers = {"nope": {}, "kegg": [1]}  # problems in every tier are all reported, whatever comes first
    record["tiers"] = {**tiers, **record["tiers"]}
    record["tiers"]["go_cc"]["f05"] = 2
    assert validate_record(record) == [
        "tiers.nope: unknown tier",
        "tiers.kegg: not an object",
        "tiers.go_cc.f05: not a number in [-1, 1]",
    ]
    assert results.slugify("!" + "a" * 64) == "a" * 64  # separators are stripped before the length cut


# ---- the typed record: from_dict / check / to_dict ---------------------------------------------------------

SUBMISSIONS = Path(__file__).resolve().parents[1] / "leaderboard" / "submissions"
SKIPPED = "no pair of submitted proteins shares a group"


def shipped_records() -> list[tuple[str, dict]]:
    found = [(path.name, json.loads(path.read_text())) for path in sorted(SUBMISSIONS.glob("*.json"))]
    assert len(found) >= 10, f"the shipped records are missing from {SUBMISSIONS}"
    return found


def test_every_shipped_record_reads_into_the_typed_form_and_writes_back_unchanged():
    versions = set()
    for name, data in shipped_records():
        typed = results.Record.from_dict(data, submission=True)
        assert isinstance(typed.input, results.InputInfo) and typed.input.sha256 == data["input"]["sha256"], name
        assert isinstance(typed.submission, results.Submission) and typed.submission.slug == data["submission"]["slug"]
        assert list(typed.tiers) == list(data["tiers"]), name
        for tier, scores in typed.tiers.items():
            assert isinstance(scores, results.TierScores) and scores.map == data["tiers"][tier]["map"], (name, tier)
            assert scores.pr_curve == data["tiers"][tier].get("pr_curve"), (name, tier)
        assert typed.to_dict() == data, name
        versions.add(data["standards"]["version"])
    assert {"yeast-v1", "human-v1"} <= versions  # both organisms' records


def minimal_result() -> dict:
    """A plain result with only what the schema requires."""
    record = valid_record()
    del record["submission"], record["trajectory"]
    record["input"] = {"sha256": SHA, "proteins": 10, "dimension": 4}
    del record["tiers"]["go_cc"]["ami_sd"]
    return record


def test_the_typed_form_fills_in_the_documented_defaults():
    typed = results.Record.from_dict(minimal_result())
    no_scores = dict.fromkeys(("prevalence", "ap", "f05", "map", "map_ci", "ami", "ami_sd"))
    counts = {"proteins": 0, "groups": 0, "pairs": 0, "positive_pairs": 0, "map_queries": 0}
    assert typed.to_dict() == {
        "schema": "repbench.result/1",
        "created": "2026-01-01T00:00:00+00:00",
        "evaluator": {"version": "1.0.0"},
        "standards": {"version": "yeast-v1", "manifest_sha256": SHA},
        "input": {
            "path": "",
            "sha256": SHA,
            "proteins": 10,
            "dimension": 4,
            "unknown_ids": [],
            "ambiguous_ids": [],
            "n_unknown": 0,
            "n_ambiguous": 0,
            "metadata": {},
        },
        "dataset": "real",
        "coverage": 0.5,
        "tiers": {
            "go_cc": {
                **counts,
                **{"prevalence": 0.05, "ap": 0.1, "f05": 0.2, "map": 0.3, "map_ci": [0.25, 0.35]},
                **{"ami": -0.01, "ami_sd": None},
            },
            "complex": {**counts, **no_scores, "skipped": SKIPPED},
        },
        "unofficial": False,
        "environment": {},
    }
    assert typed.input.path == "" and typed.tiers["complex"].proteins == 0 and typed.submission is None
    record = minimal_result()
    record["submission"] = {"name": "M", "slug": "m"}
    typed = results.Record.from_dict(record, submission=True)
    assert typed.submission.name == "M"
    assert typed.to_dict()["submission"] == {
        "name": "M",
        "slug": "m",
        "description": "",
        "submitted": "",
        "reference": False,
    }


def test_unknown_fields_are_kept_in_extra_and_written_back_in_place():
    record = valid_record()
    record["a_new_block"] = {"x": 1}
    record["extra"] = "a field that happens to be called extra"
    record["input"]["extra"] = [1]
    record["input"]["checksum_kind"] = "sha256"
    record["tiers"]["go_cc"]["a_later_field"] = 0.25
    record["tiers"]["go_cc"]["extra"] = {}
    record["tiers"]["go_cc"]["pr_curve"] = {"recall": [0.0, 1.0], "precision": [1.0, 0.5]}
    record["submission"]["annotation"] = "hand-made"
    record["submission"]["extra"] = None
    typed = results.Record.from_dict(record, submission=True)
    assert typed.extra == {"a_new_block": {"x": 1}, "extra": "a field that happens to be called extra"}
    assert typed.input.extra == {"extra": [1], "checksum_kind": "sha256"}
    assert typed.tiers["go_cc"].extra == {"a_later_field": 0.25, "extra": {}}
    assert typed.tiers["go_cc"].pr_curve == {"recall": [0.0, 1.0], "precision": [1.0, 0.5]}
    assert typed.submission.extra == {"annotation": "hand-made", "extra": None}
    out = typed.to_dict()
    assert out["a_new_block"] == {"x": 1} and out["extra"] == record["extra"]
    assert out["input"]["extra"] == [1] and out["input"]["checksum_kind"] == "sha256"
    assert out["tiers"]["go_cc"]["a_later_field"] == 0.25 and out["tiers"]["go_cc"]["extra"] == {}
    assert out["tiers"]["go_cc"]["pr_curve"] == record["tiers"]["go_cc"]["pr_curve"]
    assert out["submission"]["annotation"] == "hand-made" and out["submission"]["extra"] is None
    assert list(out)[-2:] == ["a_new_block", "extra"]  # the declared fields first, then the unknown ones


def test_check_and_validate_record_on_results_and_submissions():
    plain = minimal_result()
    record, problems = results.Record.check(plain)  # a result is a valid record by default
    assert problems == [] and isinstance(record, results.Record) and record.coverage == 0.5
    assert results.Record.check(plain, submission=True) == (None, [NO_SUBMISSION])
    assert validate_record(plain) == []
    assert validate_record(plain, submission=True) == [NO_SUBMISSION]
    assert validate_record(valid_record(), submission=True) == []
    assert results.Record.check("x") == (None, ["not a JSON object"])


NO_SUBMISSION = "no submission block: this is a result, not a submission (use repbench submit)"


def test_from_dict_names_the_first_three_problems_and_counts_the_rest():
    assert isinstance(results.Record.from_dict(minimal_result()), results.Record)  # no submission needed
    problems = [
        ("dataset", "x", "dataset: not one of ('synthetic', 'real', 'unknown')"),
        ("coverage", 2, "coverage: not a number in [0, 1]"),
        ("tiers.go_cc.map", 2, "tiers.go_cc.map: not a number in [-1, 1]"),  # a tier's metrics in METRICS order
        ("tiers.go_cc.f05", 2, "tiers.go_cc.f05: not a number in [-1, 1]"),
        ("tiers.go_cc.ap", 2, "tiers.go_cc.ap: not a number in [-1, 1]"),
    ]
    first_three = "; ".join(problem for *_, problem in problems[:3])
    expected = {
        1: problems[0][2],
        3: first_three,
        4: first_three + " (and 1 more)",
        5: first_three + " (and 2 more)",
    }
    for n, message in expected.items():
        record = valid_record()
        for path, value, _ in problems[:n]:
            *parents, key = path.split(".")
            target = record
            for part in parents:
                target = target[part]
            target[key] = value
        with pytest.raises(RepbenchError) as err:
            results.Record.from_dict(record)
        assert (err.value.code, err.value.message) == ("invalid-record", message), n
    with pytest.raises(RepbenchError) as err:
        results.Record.from_dict(minimal_result(), submission=True)
    assert (err.value.code, err.value.message) == ("invalid-record", NO_SUBMISSION)


def test_a_tier_must_belong_to_the_records_standards():
    yeast = valid_record()
    yeast["tiers"]["reactome"] = dict(yeast["tiers"]["go_cc"])  # a human tier
    assert validate_record(yeast) == ["tiers.reactome: unknown tier"]
    human = valid_record()
    human["standards"]["version"] = "human-v1"
    human["tiers"]["reactome"] = dict(human["tiers"]["go_cc"])
    assert validate_record(human) == []
    human["tiers"]["kegg"] = {"skipped": SKIPPED}  # a yeast tier
    assert validate_record(human) == ["tiers.kegg: unknown tier"]


GOOD_CURVE = {"recall": [0.0, 0.5, 1.0], "precision": [1.0, 0.5, 0.25]}


@pytest.mark.parametrize(
    "curve",
    [
        [[0.0, 1.0], [1.0, 0.5]],
        "recall",
        {"precision": [1.0]},
        {"recall": [1.0]},
        {"recall": "5", "precision": [1.0]},
        {"recall": [0.5], "precision": "x"},
        {"recall": [0.5], "precision": (1.0,)},
        {"recall": [0.0, 1.0], "precision": [1.0]},
        {"recall": [0.0, "1"], "precision": [1.0, 0.5]},
        {"recall": [0.0, 1.0], "precision": [1.0, None]},
        {"recall": [0.0, 1.0], "precision": [1.0, float("nan")]},
        {"recall": [True, 1.0], "precision": [1.0, 0.5]},
    ],
)
def test_a_broken_pr_curve_is_reported(curve):
    for tier in ("go_cc", "complex"):  # scored or skipped: the curve is checked either way
        record = valid_record()
        record["tiers"][tier]["pr_curve"] = curve
        assert validate_record(record) == [f"tiers.{tier}.pr_curve: not two equally long lists of numbers"]


def test_a_good_pr_curve_passes_and_none_means_no_curve():
    record = valid_record()
    record["tiers"]["go_cc"]["pr_curve"] = GOOD_CURVE
    record["tiers"]["complex"]["pr_curve"] = {"recall": [], "precision": []}
    assert validate_record(record) == []
    record["tiers"]["go_cc"]["pr_curve"] = None
    assert validate_record(record) == []
    assert "pr_curve" not in results.Record.from_dict(record).to_dict()["tiers"]["go_cc"]


def test_ami_sd_is_optional_but_checked_when_present():
    for value, problems in ((None, ["tiers.go_cc.ami_sd: not a number"]), (0, []), (1, [])):
        assert validate_record(broken("tiers.go_cc.ami_sd", value)) == problems, value
    assert validate_record(broken("tiers.go_cc.ami_sd", delete=True)) == []


def test_make_submission_records_the_training_labels():
    result = {"input": {"path": "/x/emb.parquet", "metadata": {"labels": ["huh2003", 7]}}, "tiers": {}}
    assert results.make_submission(result, "M")["submission"]["labels"] == ["huh2003", "7"]  # from the table
    assert results.make_submission(result, "M", labels=["mine"])["submission"]["labels"] == ["mine"]  # stated wins
    assert results.make_submission(result, "M", labels=[])["submission"]["labels"] == []  # trained without labels
    for metadata in ({}, None, {"labels": "huh2003"}):  # not declared (or not a list): no labels field
        plain = {"input": {"path": "emb.parquet", "metadata": metadata}, "tiers": {}}
        assert "labels" not in results.make_submission(plain, "M")["submission"], metadata
    assert "labels" not in results.make_submission({"input": {"path": "e.parquet"}}, "M")["submission"]


def test_environment_says_missing_for_a_package_that_is_not_installed(monkeypatch):
    real = results.version

    def version_without_pyarrow(name):
        if name == "pyarrow":
            raise results.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(results, "version", version_without_pyarrow)
    env = results.environment()
    assert env["pyarrow"] == "missing" and env["pandas"] == real("pandas")


def test_submission_path_says_which_folder_it_escapes(tmp_path):
    with pytest.raises(RepbenchError) as err:
        results.submission_path(tmp_path, "../x")
    assert (err.value.code, err.value.message) == ("bad-name", f"submission path escapes {tmp_path}")
