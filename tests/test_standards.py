"""The frozen standards: sizes follow the rules, the manifest protects every file, the override is stamped."""

from __future__ import annotations

import json
import shutil

import pytest

from repbench import standards as standards_mod
from repbench.errors import RepbenchError


def test_tiers_follow_their_size_rules(standards):
    rules = {"go_cc": (3, 200), "go_bp": (3, 200), "kegg": (3, 200), "complex": (2, 200)}
    for name, (lo, hi) in rules.items():
        tier = standards.tiers[name]
        assert tier.groups, name
        assert all(lo <= len(m) <= hi for m in tier.groups.values()), name
        assert all(m == tuple(sorted(set(m))) for m in tier.groups.values())
    assert len(standards.reference_proteome) == 4155
    assert standards.official and standards.version == "yeast-v1"
    assert "GO:0005634" in standards.tiers["go_cc"].groups or len(standards.tiers["go_cc"].groups) > 300


def test_tampered_file_is_refused(tmp_path):
    copy = tmp_path / "yeast-v1"
    shutil.copytree(standards_mod.shipped_dir(), copy)
    with open(copy / "tiers" / "kegg.tsv", "a") as handle:
        handle.write("sce99999\tfake\tYAL001C\n")
    with pytest.raises(RepbenchError) as err:
        standards_mod.load(root=copy, official=True)
    assert err.value.code == "standards-checksum" and "kegg.tsv" in str(err.value)


def test_development_override_is_stamped_unofficial(tmp_path, monkeypatch):
    copy = tmp_path / "yeast-v1"
    shutil.copytree(standards_mod.shipped_dir(), copy)
    monkeypatch.setenv("REPBENCH_STANDARDS_DIR", str(copy))
    st = standards_mod.load()
    assert not st.official and st.version.endswith("+unofficial")
    assert st.stamp()["official"] is False


def test_manifest_lists_every_file_with_its_sha(standards):
    manifest = json.loads((standards.root / "manifest.json").read_text())
    files = {p.relative_to(standards.root).as_posix() for p in standards.root.rglob("*") if p.is_file()} - {
        "manifest.json"
    }
    assert set(manifest["files"]) == files
    assert "NOTICE" in files
