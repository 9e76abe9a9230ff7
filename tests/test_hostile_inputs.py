"""Hostile and broken tables: a committed corpus (tests/data/bad) and generated, mangled tables (hypothesis).

Whatever the input, `repbench` ends with exit status 0 (a valid table), 1 or 2, prints a one-line message,
never a traceback or an internal error, and writes nothing unless it succeeded. User data (ids, names, paths,
options) is printed as data: shown as written, never read as rich markup or emoji codes, with control and
invisible characters escaped (no raw ESC byte reaches a terminal).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from repbench.cli.main import app
from repbench.results import validate_record

BAD = Path(__file__).parent / "data" / "bad"
EXPECTED = json.loads((BAD / "expected.json").read_text())
HOSTILE = BAD / "hostile-ids"
CASES = json.loads((HOSTILE / "cases.json").read_text())
runner = CliRunner()

#: what the one-line message must say besides the code and the file name: the offending rows, ids or columns
MESSAGE = {
    "corrupt-footer.parquet": "not a readable Parquet file",
    "csv-named-parquet.parquet": "not a readable Parquet file",
    "duplicate-ids.parquet": "19 ('tfc3' -> YAL001C, same as row 0 ('YAL001C'))",
    "embedding-of-strings.parquet": "column 'embedding' holds string",
    "empty-id.parquet": "first offending rows: 0)",
    "empty.parquet": "no rows",
    "feature-of-dates.parquet": "'when (date32[day])'",
    "hostile-ids.parquet": "only 1 proteins are left",  # 'YAL001C\\n' is YAL001C
    "ids-only.parquet": "no feature columns",
    "infinity.parquet": "first offending rows: 7 ('YAL010C'))",
    "metadata-array.parquet": "must be a JSON object",
    "metadata-not-json.parquet": "is not valid JSON",
    "metadata-not-utf8.parquet": "is not valid JSON",
    "nan.parquet": "first offending rows: 3 ('YAL005C'))",
    "no-protein-column.parquet": "columns: 'gene', 'x'",
    "null-embedding.parquet": "missing (null) embeddings (first offending rows: 0 ('YAL001C'))",
    "null-id.parquet": "first offending rows: 0)",
    "one-protein.parquet": "only 1 proteins are left",
    "protein-as-integers.parquet": "found int64",
    "ragged.parquet": "5 ('YAL008W': 2)",
    "truncated.parquet": "not a readable Parquet file",
    "twenty-thousand-columns.parquet": "20000 feature columns; the limit is 16384",
    "zero-bytes.parquet": "not a readable Parquet file",
    "zero-vector.parquet": "first offending rows: 2 ('YAL003W'))",
}
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colour codes rich itself writes on a terminal


def one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("error")]
    assert len(lines) == 1, output
    return lines[0]


def test_every_corpus_file_has_its_expected_message():
    assert set(MESSAGE) == set(EXPECTED)  # a new corpus file needs its expected message here


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_fails_cleanly_with_its_code(tmp_path, name):
    out = tmp_path / "subs"
    result = runner.invoke(app, ["submit", str(BAD / name), "--name", "hostile", "--to", str(out)])
    assert result.exit_code == 1, result.output
    line = one_error_line(result.output)
    assert line.startswith(f"error [{EXPECTED[name]}] {BAD / name}: "), line
    assert MESSAGE[name] in line, line
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not out.exists()


def test_all_hostile_ids_rejected_together_are_shown_escaped():
    """hostile-ids.parquet has 20 hostile ids and nothing else: too few proteins, the first five ids named."""
    result = runner.invoke(app, ["validate", str(BAD / "hostile-ids.parquet")])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert "[too-few-proteins]" in line
    for hostile in ["\x00YAL001C", "\x1b[31mRED\x1b[0m", "蛋白质", "Ä" * 300, "../../etc/passwd"]:
        assert repr(hostile) in line  # each offending id, escaped, on the one line
    assert "\x1b" not in result.output and "\x00" not in result.output  # control characters never reach the terminal


# ---- the hostile-id case set (tests/data/bad/hostile-ids): valid tables with one hostile unknown id ---------


def assert_clean(output: str) -> None:
    assert "Traceback" not in output and "internal error" not in output and "MarkupError" not in output, output
    assert "\x1b" not in output and "\x00" not in output and "\x9b" not in output, output


def test_the_case_set_covers_every_kind_of_hostile_id():
    ids = list(CASES.values())
    assert {"[/]", "[bold]X", ":smile:", "L" * 10_000} <= set(ids)
    assert any("\x1b[" in i for i in ids) and any("\u202e" in i for i in ids) and any("\u200b" in i for i in ids)
    assert {i[:1] for i in ids} >= {"=", "+", "-", "@", "\t"}
    for case in CASES:
        ids = pq.read_table(HOSTILE / f"{case}.parquet").column("protein").to_pylist()
        assert ids[7] == CASES[case] and len(ids) == 21


def shows_the_id(command: str, case: str):
    """Run ``repbench COMMAND`` on the case's table: exit 0, clean output, the id in the warning as written."""
    hostile, path = CASES[case], HOSTILE / f"{case}.parquet"
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 0, result.output
    assert_clean(result.output)
    warning = f"warning {path}: 1 unknown protein id(s) dropped: {hostile!r}"
    assert warning in result.output.splitlines(), result.output  # whole, on one line, never wrapped or styled
    return result, hostile, path


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_shows_a_hostile_id_as_written(case):
    result, hostile, path = shows_the_id("validate", case)
    assert f"ok {path}: 20 proteins x 4 dims" in result.output
    report = json.loads(runner.invoke(app, ["validate", str(path), "--json"]).stdout)
    assert report["unknown_ids"] == [hostile] and report["proteins"] == 20  # JSON keeps the id exactly


@pytest.mark.parametrize(
    "case",
    [
        "markup-close",
        "markup-bold",
        "ansi-colour",
        "emoji-code",
        "right-to-left-override",
        "very-long",
        "formula-equals",
        "injected-line",
    ],
)
def test_evaluate_shows_a_hostile_id_as_written(case):
    result, hostile, path = shows_the_id("evaluate", case)
    assert "20 proteins x 4 dims" in result.output and "go_cc" in result.output
    record = json.loads(runner.invoke(app, ["evaluate", str(path), "--json"]).stdout)
    assert record["input"]["unknown_ids"] == [hostile] and record["input"]["n_unknown"] == 1


def test_submit_keeps_every_hostile_id_in_the_record(tmp_path):
    path = HOSTILE / "all.parquet"
    out = tmp_path / "subs"
    result = runner.invoke(app, ["submit", str(path), "--name", "[bold]X :smile:", "--to", str(out)])
    assert result.exit_code == 0, result.output
    assert_clean(result.output)
    preview = ", ".join(repr(i) for i in list(CASES.values())[:8])
    assert f"warning {path}: {len(CASES)} unknown protein id(s) dropped: {preview}, ... " in result.output
    assert f"wrote {out / 'bold-x-smile.json'}" in result.output
    record = json.loads((out / "bold-x-smile.json").read_text())
    assert validate_record(record) == []
    assert record["submission"]["name"] == "[bold]X :smile:"
    assert record["input"]["unknown_ids"] == list(CASES.values())
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["bold-x-smile.json", record["submission"]["embedding_file"]]
    )


def test_hostile_paths_and_options_are_shown_as_written(tmp_path):
    folder = tmp_path / "[bold]dir :smile:"
    folder.mkdir()
    table = folder / "t\x1b[2J\u202e.parquet"
    shutil.copy(HOSTILE / "markup-close.parquet", table)
    shown = str(table).replace("\x1b", "\\x1b").replace("\u202e", "\\u202e")
    result = runner.invoke(app, ["validate", str(table)])
    assert result.exit_code == 0 and f"ok {shown}: 20 proteins x 4 dims" in result.output, result.output
    assert_clean(result.output) or "\u202e" not in result.output
    missing = runner.invoke(app, ["validate", str(folder / "[/].parquet")])
    assert missing.exit_code == 1
    assert one_error_line(missing.output) == f"error [not-parquet] {folder / '[/].parquet'}: file not found"
    tier = runner.invoke(app, ["evaluate", str(table), "--tier", "[/]\x1b[2J"])
    assert tier.exit_code == 2 and "error [unknown-tier] unknown tier(s) [/]\\x1b[2J; known:" in tier.output, (
        tier.output
    )
    assert_clean(tier.output)


def test_internal_errors_print_the_message_as_data(monkeypatch, tmp_path):
    """A bug whose message holds user data (here a hostile id) is one line, not a second crash in the handler."""
    from repbench import api

    def crash(*args, **kwargs):
        raise KeyError("[/]\x1b[2J")

    monkeypatch.setattr(api, "validate", crash)
    result = runner.invoke(app, ["validate", str(HOSTILE / "markup-close.parquet")])
    assert result.exit_code == 3
    assert result.output.splitlines() == ["internal error KeyError: '[/]\\x1b[2J' (run with --debug for the traceback)"]


def test_no_raw_escape_bytes_on_a_terminal():
    """On a colour terminal rich writes its own colour codes; the ids' own escape sequences stay escaped text."""
    cases = [
        "ansi-colour",
        "ansi-clear-screen",
        "ansi-window-title",
        "c1-control-sequence",
        "markup-bold",
        "right-to-left-override",
        "carriage-return",
    ]
    script = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from repbench.cli.main import app\n"
        "from repbench.cli.common import console\n"
        "assert console.is_terminal and console.color_system, 'not a colour terminal'\n"
        "paths = sys.argv[1:]\n"
        "print(json.dumps({p: CliRunner().invoke(app, ['validate', p]).output for p in paths}))\n"
    )
    env = {**os.environ, "FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    paths = [str(HOSTILE / f"{case}.parquet") for case in cases]
    done = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    outputs = json.loads(done.stdout)
    for case, path in zip(cases, paths):
        raw = outputs[path]
        assert SGR.search(raw), "rich wrote no colour: the test would prove nothing"
        plain = SGR.sub("", raw)
        assert "\x1b" not in plain and "\x9b" not in plain and "\r" not in plain.replace("\r\n", "\n"), (case, raw)
        assert f"warning {path}: 1 unknown protein id(s) dropped: {CASES[case]!r}" in plain, (case, plain)


def test_site_build_with_hostile_names_and_ids(tmp_path):
    """The site shows hostile submission names as text, quotes formulas in the CSV, and warns about a broken
    record by its (hostile) file name without crashing."""
    subs, site = tmp_path / "subs", tmp_path / "site"
    names = [
        "[bold]X :smile:",
        "<script>alert(1)</script>",
        '=HYPERLINK("https://example.invalid","x")',
        " @SUM(A1)",
        "\u202eexe.CBA model",
    ]
    for i, name in enumerate(names):
        table = HOSTILE / "all.parquet" if i == 0 else HOSTILE / "markup-close.parquet"
        result = runner.invoke(
            app,
            [
                "-q",
                "submit",
                str(table),
                "--name",
                name,
                "--to",
                str(subs),
                *([] if i == 0 else ["--no-copy-embedding"]),
            ],
        )
        assert result.exit_code == 0, result.output
    broken = subs / "[bold]broken\x1b[2J.json"
    broken.write_text(json.dumps({"schema": "[/]\x1b[2J"}))
    result = runner.invoke(
        app, ["-q", "leaderboard", "build", "--submissions", str(subs), "--out", str(site), "-j", "1"]
    )
    assert result.exit_code == 0, result.output
    assert_clean(result.output)
    shown_broken = str(broken).replace("\x1b", "\\x1b")
    assert any(
        line.startswith(f"warning skipped {shown_broken}: ") and "'[/]\\x1b[2J'" in line
        for line in result.output.splitlines()
    ), result.output
    assert "built " in result.output and "from 5 submission(s), 1 skipped" in result.output
    index = (site / "index.html").read_text()
    assert index.rstrip().endswith("</html>")
    assert "[bold]X :smile:" in index and "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "<script>alert(1)</script>" not in index
    rows = list(csv.DictReader(io.StringIO((site / "leaderboard.csv").read_text())))
    csv_names = {row["name"] for row in rows}
    assert {'\'=HYPERLINK("https://example.invalid","x")', "'@SUM(A1)", "[bold]X :smile:"} <= csv_names
    assert not [p for p in site.parent.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]


ORFS = [
    f"YAL{i:03d}{s}"
    for i, s in (
        (1, "C"),
        (2, "W"),
        (3, "W"),
        (5, "C"),
        (7, "C"),
        (8, "W"),
        (9, "W"),
        (10, "C"),
        (11, "W"),
        (12, "W"),
        (13, "W"),
        (14, "C"),
    )
]

mutations = st.sampled_from(
    ["none", "truncate", "flip", "nan", "duplicate", "blank", "drop-protein", "strings", "metadata"]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n=st.integers(1, len(ORFS)),
    d=st.integers(1, 6),
    mutation=mutations,
    where=st.floats(0, 1),
    seed=st.integers(0, 2**16),
)
def test_generated_and_mangled_tables_never_crash(tmp_path_factory, n, d, mutation, where, seed):
    tmp = tmp_path_factory.mktemp("h")
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, d))
    ids = list(ORFS[:n])
    columns = {"protein": pa.array(ids, pa.string())} | {f"f{j}": pa.array(v[:, j]) for j in range(d)}
    k = min(int(where * n), n - 1)
    if mutation == "nan":
        columns["f0"] = pa.array(np.where(np.arange(n) == k, np.nan, v[:, 0]))
    elif mutation == "duplicate":
        columns["protein"] = pa.array([ids[0] if i == k else p for i, p in enumerate(ids)], pa.string())
    elif mutation == "blank":
        columns["protein"] = pa.array(["" if i == k else p for i, p in enumerate(ids)], pa.string())
    elif mutation == "drop-protein":
        del columns["protein"]
    elif mutation == "strings":
        columns["f0"] = pa.array([str(x) for x in v[:, 0]])
    table = pa.table(columns)
    if mutation == "metadata":
        table = table.replace_schema_metadata({b"repbench": bytes(rng.integers(0, 256, 12, dtype=np.uint8))})
    path = tmp / "t.parquet"
    pq.write_table(table, path)
    raw = path.read_bytes()
    if mutation == "truncate":
        path.write_bytes(raw[: int(where * len(raw))])
    elif mutation == "flip":
        mangled = bytearray(raw)
        for pos in rng.integers(0, len(raw), 8):
            mangled[pos] ^= 0xFF
        path.write_bytes(bytes(mangled))
    out = tmp / "subs"
    result = runner.invoke(app, ["submit", str(path), "--name", "h", "--to", str(out)])
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    if result.exit_code == 0:
        assert (out / "h.json").is_file()
    else:
        assert "error [" in result.output
        assert not out.exists()
