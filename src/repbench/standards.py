"""The frozen functional standards (tiers of protein groups), checked against their manifest on load.

A standards directory holds ``tiers/<tier>.tsv``, ``idmap.tsv``, ``reference_proteome.txt``, ``NOTICE`` and
``manifest.json`` (the sha256 of every other file). The shipped ``yeast-v1`` lives in the package
(``repbench/resources/standards``), so a pip-installed repbench needs no checkout.

Development override: ``load(root=DIR, official=False)`` or ``REPBENCH_STANDARDS_DIR=DIR`` loads another
directory without the checksum check; everything computed with it is stamped ``unofficial``.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from .errors import RepbenchError
from .files import file_sha256
from .ids import IdMap

DEFAULT_VERSION = "yeast-v1"
TIERS = ("go_cc", "go_bp", "kegg", "complex")
TIER_TITLES = {
    "go_cc": "GO cellular component (slim)",
    "go_bp": "GO biological process (slim)",
    "kegg": "KEGG pathways",
    "complex": "Protein complexes (Complex Portal)",
}


def shipped_dir(version: str = DEFAULT_VERSION) -> Path:
    return Path(str(resources.files("repbench") / "resources" / "standards" / version))


@dataclass(frozen=True)
class Tier:
    """One standard: ``groups`` maps a group id to its member ORFs (sorted); ids iterate sorted."""

    name: str
    groups: dict[str, tuple[str, ...]]
    group_names: dict[str, str] = field(repr=False)

    @cached_property
    def members(self) -> frozenset[str]:
        return frozenset(o for m in self.groups.values() for o in m)


@dataclass(frozen=True)
class Standards:
    version: str
    root: Path
    manifest: dict
    manifest_sha256: str
    official: bool
    tiers: dict[str, Tier]
    reference_proteome: tuple[str, ...]

    @cached_property
    def idmap(self) -> IdMap:
        return IdMap(pd.read_csv(self.root / "idmap.tsv", sep="\t", dtype=str, keep_default_na=False))

    @property
    def notice(self) -> str:
        return (self.root / "NOTICE").read_text()

    def stamp(self) -> dict:
        """What a result records about the standards it was computed with."""
        return {
            "version": self.version,
            "manifest_sha256": self.manifest_sha256,
            "official": self.official,
        }


def _check_manifest(root: Path, manifest: dict) -> None:
    for name, expected in manifest["files"].items():
        path = root / name
        if not path.is_file():
            raise RepbenchError("standards-missing-file", f"standards file {name} is missing", path=root)
        if file_sha256(path) != expected:
            raise RepbenchError(
                "standards-checksum",
                f"standards file {name} does not match its sha256 in manifest.json; the frozen standards were "
                "changed. Reinstall repbench, or use the development override (results are stamped unofficial)",
                path=path,
            )


def _read_tier(path: Path, name: str) -> Tier:
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    groups = {gid: tuple(sorted(sub["orf"])) for gid, sub in frame.groupby("group_id", sort=True)}
    names = dict(zip(frame["group_id"], frame["group_name"]))
    return Tier(name, groups, names)


def load(version: str = DEFAULT_VERSION, root: str | Path | None = None, official: bool | None = None) -> Standards:
    """Load and verify a standards directory (the shipped one by default; verified once per process)."""
    override = root or os.environ.get("REPBENCH_STANDARDS_DIR")
    if not override and official is not False:
        return _load_shipped(version)
    return _load(version, override, official)


@lru_cache(maxsize=4)
def _load_shipped(version: str) -> Standards:
    return _load(version, None, True)


def _load(version: str, override: str | Path | None, official: bool | None) -> Standards:
    root = Path(override) if override else shipped_dir(version)
    if official is None:
        official = not override
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise RepbenchError("standards-missing-file", "no manifest.json: not a standards directory", path=root)
    manifest = json.loads(manifest_path.read_text())
    if official:
        _check_manifest(root, manifest)
    tiers = {t: _read_tier(root / "tiers" / f"{t}.tsv", t) for t in TIERS if (root / "tiers" / f"{t}.tsv").is_file()}
    reference = tuple(line.strip() for line in (root / "reference_proteome.txt").read_text().splitlines() if line.strip())
    return Standards(
        version=manifest.get("version", version) + ("" if official else "+unofficial"),
        root=root,
        manifest=manifest,
        manifest_sha256=file_sha256(manifest_path),
        official=official,
        tiers=tiers,
        reference_proteome=reference,
    )


from . import _make_callable  # noqa: E402  (repbench.standards() is also the API function)

_make_callable(__import__("sys").modules[__name__])
