"""repbench.files: the one atomic write and the one file sha256 (results and table use them)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from repbench import files


def test_file_sha256_is_the_sha256_of_the_bytes(tmp_path):
    path = tmp_path / "f.bin"
    for data in (b"", b"abc", bytes(range(256)) * 5000):  # empty, small, more than one 1 MiB chunk
        path.write_bytes(data)
        assert files.file_sha256(path) == hashlib.sha256(data).hexdigest()
        assert files.file_sha256(str(path)) == hashlib.sha256(data).hexdigest()
    path.write_bytes(b"abc")
    assert files.file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("data", ["text, ä", b"\x00bytes\xff"])
def test_write_atomic_writes_text_or_bytes_and_leaves_no_temp_file(tmp_path, data):
    path = tmp_path / "new" / "f.txt"
    assert files.write_atomic(path, data) == path
    assert path.read_bytes() == (data.encode() if isinstance(data, str) else data)
    assert os.listdir(path.parent) == ["f.txt"]


def test_write_atomic_with_a_writer_and_the_umask(tmp_path):
    path = tmp_path / "f.bin"
    old = os.umask(0o027)
    try:
        files.write_atomic(str(path), write=lambda tmp: tmp.write_bytes(b"from the writer"))
    finally:
        os.umask(old)
    assert path.read_bytes() == b"from the writer" and path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["f.bin"]


@pytest.mark.parametrize("kwargs", [{}, {"data": b"x", "write": lambda tmp: None}])
def test_write_atomic_takes_exactly_one_of_data_and_write(tmp_path, kwargs):
    with pytest.raises(TypeError) as err:
        files.write_atomic(tmp_path / "f", **kwargs)
    assert str(err.value) == "write_atomic takes data or write=, not both"
    assert os.listdir(tmp_path) == []


def test_a_writers_own_error_reaches_the_caller_even_when_it_removed_the_temp_file(tmp_path):
    path = files.write_atomic(tmp_path / "f.bin", b"old")

    def remove_and_fail(tmp):
        tmp.unlink()
        raise ValueError("the writer failed")

    with pytest.raises(ValueError, match="^the writer failed$"):
        files.write_atomic(path, write=remove_and_fail)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]


def test_write_json_atomic_is_indented_json_with_a_final_newline(tmp_path):
    path = files.write_json_atomic(tmp_path / "r.json", {"a": [1, 2], "b": True})
    assert path.read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": true\n}\n'
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            files.write_json_atomic(path, {"x": bad})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": True}
