"""The frozen functional standards (tiers of protein groups), checked against their manifest on load.

A standards directory holds ``tiers/<tier>.tsv``, ``idmap.tsv``, ``reference_proteome.txt``, ``NOTICE`` and
``manifest.json`` (the sha256 of every other file). The shipped sets (``yeast-v1``, ``human-v1``) live in the
package (``repbench/resources/standards``), so a pip-installed repbench needs no checkout.

Each set says in its manifest which tiers it has (``tiers``), in which order they are shown (``tier_order``),
which are scored by default (``default_tiers``; an extra tier such as human-v1's non-commercial ``corum`` is
scored only when asked for) and how its identifier map resolves names (``idmap``: the id column and the
precedence of name kinds). A manifest without these keys (yeast-v1, frozen before they existed) gets the
yeast-v1 defaults below, so yeast-v1 behaves exactly as before.

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

from .errors import RepbenchError, UsageError
from .files import file_sha256
from .ids import IdMap

DEFAULT_VERSION = "yeast-v1"
#: yeast-v1's tiers in their display order (the default set's; other sets name theirs in their manifest)
TIERS = ("go_cc", "go_bp", "kegg", "complex")
TIER_TITLES = {
    "go_cc": "GO cellular component (slim)",
    "go_bp": "GO biological process (slim)",
    "kegg": "KEGG pathways",
    "complex": "Protein complexes (Complex Portal)",
}
#: how yeast-v1's idmap.tsv resolves (its manifest predates the ``idmap`` key)
LEGACY_IDMAP = {"column": "orf", "precedence": ["systematic", "standard", "alias"]}


def shipped_dir(version: str = DEFAULT_VERSION) -> Path:
    return Path(str(resources.files("repbench") / "resources" / "standards" / version))


def shipped_versions() -> list[str]:
    """The standard sets shipped in the package, sorted (e.g. ['human-v1', 'yeast-v1'])."""
    base = Path(str(resources.files("repbench") / "resources" / "standards"))
    return sorted(p.name for p in base.iterdir() if (p / "manifest.json").is_file())


@lru_cache(maxsize=16)
def tiers_of(version: str) -> tuple[str, ...]:
    """The tier names of the shipped standard set ``version`` (``yeast-v1``, ``human-v1+unofficial``, ...) in
    display order, from its manifest without loading the tiers; every shipped set's tiers for a set not shipped
    (an override directory of another name)."""
    try:
        manifest = json.loads((shipped_dir(version.partition("+")[0]) / "manifest.json").read_text())
    except (OSError, ValueError):
        return known_tiers()
    listed = manifest.get("tiers", {})
    order = manifest.get("tier_order") or [t for t in TIERS if t in listed] + sorted(
        t for t in listed if t not in TIERS
    )
    return tuple(order) or known_tiers()


@lru_cache(maxsize=1)
def known_tiers() -> tuple[str, ...]:
    """Every tier name of every shipped standard set (yeast-v1's first): what a result record may hold."""
    names = list(TIERS)
    for version in shipped_versions():
        names += [t for t in tiers_of(version) if t not in names]
    return tuple(names)


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
        spec = self.manifest.get("idmap", LEGACY_IDMAP)
        table = pd.read_csv(self.root / "idmap.tsv", sep="\t", dtype=str, keep_default_na=False)
        fallbacks = tuple((pattern, replacement) for pattern, replacement in spec.get("fallbacks", ()))
        return IdMap(table, precedence=tuple(spec["precedence"]), column=spec["column"], fallbacks=fallbacks)

    @property
    def tier_order(self) -> list[str]:
        """This set's tiers in display order (the manifest's ``tier_order``; yeast-v1: ``TIERS``)."""
        order = list(self.manifest.get("tier_order", TIERS))
        return [t for t in order if t in self.tiers] + sorted(t for t in self.tiers if t not in order)

    @property
    def default_tiers(self) -> list[str]:
        """The tiers scored when none are named: all but those the manifest marks ``default: false``."""
        info = self.manifest.get("tiers", {})
        return [t for t in self.tier_order if info.get(t, {}).get("default", True)]

    def title(self, tier: str) -> str:
        return self.manifest.get("tiers", {}).get(tier, {}).get("title") or TIER_TITLES.get(tier, tier)

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
    """group_id, group_name and the member column (``orf`` in yeast-v1, ``protein`` in later sets)."""
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    member = frame.columns[2]
    groups = {gid: tuple(sorted(sub[member])) for gid, sub in frame.groupby("group_id", sort=True)}
    names = dict(zip(frame["group_id"], frame["group_name"]))
    return Tier(name, groups, names)


def load(version: str | None = None, root: str | Path | None = None, official: bool | None = None) -> Standards:
    """Load and verify a standards directory (a shipped set, yeast-v1 by default; verified once per process)."""
    version = version or DEFAULT_VERSION
    override = root or os.environ.get("REPBENCH_STANDARDS_DIR")
    if not override and version not in shipped_versions():
        raise UsageError(
            "unknown-standards", f"unknown standard set {version!r}; shipped: {', '.join(shipped_versions())}"
        )
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
    names = manifest.get("tier_order") or [t for t in TIERS if t in manifest.get("tiers", {})] or list(TIERS)
    tiers = {t: _read_tier(root / "tiers" / f"{t}.tsv", t) for t in names if (root / "tiers" / f"{t}.tsv").is_file()}
    reference = tuple(
        line.strip() for line in (root / "reference_proteome.txt").read_text().splitlines() if line.strip()
    )
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
