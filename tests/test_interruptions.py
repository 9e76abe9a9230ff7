"""Killing `repbench submit` or `repbench leaderboard build` (SIGKILL) in the middle of a write never leaves a
half-written or missing record or site.

The kill is made to land *inside* the write, not at a random moment: the command runs with a hook that pauses it
at a chosen point of the atomic write (inside the record's temp file fsync, just before the rename of the record or of
the table copy, after the first and second page of a new site); the test waits until the hook reports the pause,
checks that the write is really under way (the temp file or folder exists at that moment), kills the process,
and checks what a reader finds afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from repbench.results import validate_record
from repbench.table import write_table

REPBENCH = [sys.executable, "-c", "from repbench.cli.main import main; main()"]

#: run the CLI with a pause at PAUSE_AT; the pause writes what it knows to PAUSE_MARKER and sleeps until killed
HOOK = r"""
import json, os, pathlib, sys, time

marker, point = pathlib.Path(os.environ["PAUSE_MARKER"]), os.environ["PAUSE_AT"]


def pause(info):
    tmp = marker.with_name(marker.name + ".part")
    tmp.write_text(json.dumps(info))
    os.rename(tmp, marker)
    time.sleep(600)


if point.startswith("replace:"):
    suffix, real_replace = point.split(":", 1)[1], os.replace

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith(suffix):
            pause({"src": str(src), "dst": str(dst)})
        return real_replace(src, dst, *args, **kwargs)

    os.replace = replace
elif point.startswith("fsync:"):
    part, real_fsync = point.split(":", 1)[1], os.fsync

    def fsync(fd):
        src = os.readlink(f"/proc/self/fd/{fd}")
        if part in os.path.basename(src):
            pause({"src": src})
        return real_fsync(fd)

    os.fsync = fsync
elif point.startswith("write_text:"):
    nth, real_write_text, written = int(point.split(":")[1]), pathlib.Path.write_text, []

    def write_text(self, *args, **kwargs):
        result = real_write_text(self, *args, **kwargs)
        if ".building-" in str(self):
            written.append(str(self))
            if len(written) == nth:
                pause({"src": str(self), "written": written})
        return result

    pathlib.Path.write_text = write_text
from repbench.cli.main import main

sys.argv[0] = "repbench"
main()
"""

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL and /proc: Linux")


def run_until_paused(args: list[str], point: str, marker: Path) -> tuple[subprocess.Popen, dict]:
    env = {**os.environ, "PAUSE_AT": point, "PAUSE_MARKER": str(marker)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOOK, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"finished without reaching {point}: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"never reached {point}")
        time.sleep(0.05)
    return proc, json.loads(marker.read_text())


def kill(proc: subprocess.Popen) -> None:
    assert proc.poll() is None, "the process ended before the kill: the kill would prove nothing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def tables(tmp_path_factory, standards):
    folder = tmp_path_factory.mktemp("tables")
    proteins = list(standards.reference_proteome)[:300]
    first = write_table(folder / "emb.parquet", proteins, np.random.default_rng(0).standard_normal((300, 16)))
    second = write_table(folder / "emb2.parquet", proteins, np.random.default_rng(1).standard_normal((300, 16)))
    return first, second


@pytest.mark.parametrize("point", ["fsync:.json.", "replace:.json", "replace:.parquet"])
def test_sigkill_inside_the_submit_write_keeps_the_previous_record(tmp_path, tables, point):
    first, second = tables
    out = tmp_path / "subs"
    done = subprocess.run(
        [*REPBENCH, "-q", "submit", str(first), "--name", "m", "--to", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    record_path = out / "m.json"
    previous = record_path.read_text()
    previous_copy = out / json.loads(previous)["submission"]["embedding_file"]
    second_sha = hashlib.sha256(second.read_bytes()).hexdigest()

    proc, paused = run_until_paused(
        ["-q", "submit", str(second), "--name", "m", "--to", str(out), "--replace"], point, tmp_path / "paused.json"
    )
    temp = Path(paused["src"])
    # the write is under way: its temp file exists, hidden, beside the file it will replace
    assert temp.is_file() and temp.parent == out and temp.name.startswith(".") and temp.name.endswith(".tmp")
    if point == "replace:.json":
        assert json.loads(temp.read_text())["input"]["sha256"] == second_sha  # complete, not yet renamed
    if point == "replace:.parquet":
        assert hashlib.sha256(temp.read_bytes()).hexdigest() == second_sha
    kill(proc)

    assert record_path.read_text() == previous  # the old record, whole
    record = json.loads(previous)
    assert validate_record(record) == []
    assert hashlib.sha256(previous_copy.read_bytes()).hexdigest() == record["input"]["sha256"]  # its table is there
    assert pq.read_table(previous_copy).num_rows == 300
    leftovers = sorted(p.name for p in out.iterdir() if p not in (record_path, previous_copy))
    new_copy = f"m.{second_sha[:12]}.parquet"  # written before the record that will point at it
    assert all((name.startswith(".") and name.endswith(".tmp")) or name == new_copy for name in leftovers), leftovers
    assert temp.name in leftovers and (new_copy in leftovers) == (point != "replace:.parquet")

    if point != "replace:.json":
        return
    again = subprocess.run(
        [*REPBENCH, "-q", "submit", str(second), "--name", "m", "--to", str(out), "--replace"],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr  # the next submit after a kill just works
    assert json.loads(record_path.read_text())["input"]["sha256"] == second_sha
    assert not previous_copy.exists()  # the old copy nothing points at any more is gone


@pytest.mark.parametrize("nth", [1, 2])
def test_sigkill_inside_the_site_build_keeps_the_previous_site(tmp_path, nth):
    subs = tmp_path / "subs"
    subs.mkdir()
    records = sorted((Path(__file__).resolve().parent.parent / "leaderboard" / "submissions").glob("*.json"))[:3]
    for record in records:
        shutil.copy(record, subs)  # records only: pages say the table is not there, which keeps the build short
    site = tmp_path / "site"
    command = ["-q", "leaderboard", "build", "--submissions", str(subs), "--out", str(site), "-j", "1"]
    done = subprocess.run([*REPBENCH, *command], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file() and ".cache" not in p.parts}
    shutil.rmtree(site / ".cache", ignore_errors=True)  # draw the pictures again: a build with work to do

    proc, paused = run_until_paused(command, f"write_text:{nth}", tmp_path / "paused.json")
    building = Path(paused["src"]).parent
    while building.parent != tmp_path:
        building = building.parent
    assert building.name.startswith(".site.building-") and building.is_dir()  # the new site is being written
    kill(proc)

    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file() and ".cache" not in p.parts}
    assert after == before  # the previous site, every file of it, unchanged
    assert (site / "index.html").read_text().rstrip().endswith("</html>")
    assert building.exists()  # the half-written new site stayed hidden beside it
