"""Killing `repbench submit` (SIGKILL, at many points) never leaves a half-written or missing record."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.parquet as pq
import pytest

from repbench.results import validate_record
from repbench.table import write_table

REPBENCH = [sys.executable, "-c", "from repbench.cli.main import main; main()"]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_during_submit_keeps_the_previous_record(tmp_path, standards):
    proteins = list(standards.reference_proteome)[:300]
    table = write_table(tmp_path / "emb.parquet", proteins, np.random.default_rng(0).standard_normal((300, 16)))
    out = tmp_path / "subs"
    first = subprocess.run([*REPBENCH, "-q", "submit", str(table), "--name", "m", "--to", str(out)], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    previous = (out / "m.json").read_text()
    # a second table under the same name, replaced while we kill the process at different moments
    second = write_table(tmp_path / "emb2.parquet", proteins, np.random.default_rng(1).standard_normal((300, 16)))
    second_sha = hashlib.sha256(second.read_bytes()).hexdigest()
    finished = 0
    for delay in np.linspace(0.2, 6.0, 8):
        proc = subprocess.Popen([*REPBENCH, "-q", "submit", str(tmp_path / "emb2.parquet"), "--name", "m", "--to", str(out), "--replace"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        else:
            finished += 1
        proc.wait()
        text = (out / "m.json").read_text()
        record = json.loads(text)  # always complete JSON
        assert validate_record(record) == []
        assert text == previous or record["input"]["sha256"] == second_sha  # the old record, or the whole new one
        previous = text
        # the embedding copy the record points at always exists, complete, with the record's sha256
        copy = out / record["submission"]["embedding_file"]
        assert pq.read_table(copy).num_rows == 300
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == record["input"]["sha256"]
    leftovers = [p.name for p in out.iterdir() if p.name != "m.json" and p.suffix != ".parquet"]
    assert all(name.startswith(".") and name.endswith(".tmp") for name in leftovers)  # only temp files may remain


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_during_leaderboard_build_keeps_the_previous_site(tmp_path):
    import shutil
    from pathlib import Path

    subs = tmp_path / "subs"
    subs.mkdir()
    for record in sorted((Path(__file__).resolve().parent.parent / "leaderboard" / "submissions").glob("*.json"))[:4]:
        shutil.copy(record, subs)  # records only: pages say the table is not there, which keeps the build short
    site = tmp_path / "site"
    command = [*REPBENCH, "-q", "leaderboard", "build", "--submissions", str(subs), "--out", str(site)]
    assert subprocess.run(command, capture_output=True, text=True).returncode == 0
    for delay in np.linspace(0.3, 4.0, 6):
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        index = (site / "index.html").read_text()
        assert index.rstrip().endswith("</html>")  # the previous site or the new one, never a half-written one
        assert len(list((site / "s").glob("*.html"))) == 4
