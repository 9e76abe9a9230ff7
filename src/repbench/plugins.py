"""The plugin manager: finds embedders in installed packages (entry-point group ``repbench``).

Every embedder, built-in or third-party, is a distribution whose ``pyproject.toml`` declares
``[project.entry-points.repbench] NAME = "module"``; the module implements the ``register_embedders``
hook of :mod:`repbench.hookspecs`. Entry points are imported one at a time, in order of (package, entry
point) name, so that a broken plugin costs a warning that names it instead of the whole CLI; two embedders
with one name: the first wins, the second is a warning. ``strict=True`` (``--strict-plugins``) turns any
warning into an error. ``REPBENCH_LOAD_PLUGINS="a,b"`` loads only the entry points (or distributions)
named; ``""`` loads none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import metadata

import pluggy

from . import hookspecs
from .embedders import Embedder
from .errors import MissingExtra, RepbenchError

GROUP = "repbench"


@dataclass(frozen=True)
class PluginWarning:
    plugin: str  # entry-point name
    package: str  # the distribution that declares it
    message: str

    def render(self) -> str:
        return f"plugin {self.plugin!r} (package {self.package}): {self.message}"


@dataclass(frozen=True)
class EmbedderInfo:
    name: str
    description: str
    version: str  # the embedder's own version (recorded in results)
    package: str  # the distribution that provides it, and its version
    package_version: str
    embedder: Embedder


_state: dict = {}  # "pm", then "embedders" and "warnings" once loaded; reset() forgets all


def get_plugin_manager() -> pluggy.PluginManager:
    if "pm" not in _state:
        _state["pm"] = pluggy.PluginManager(GROUP)
        _state["pm"].add_hookspecs(hookspecs)
    return _state["pm"]


def reset() -> None:
    """Forget every loaded plugin, so the next call looks again (tests, a changed sys.path)."""
    _state.clear()


def _wanted(entry_point: metadata.EntryPoint) -> bool:
    only = os.environ.get("REPBENCH_LOAD_PLUGINS")
    if only is None:
        return True
    names = {name.strip() for name in only.split(",")}
    return entry_point.name in names or (entry_point.dist is not None and entry_point.dist.name in names)


def load_plugins(strict: bool = False) -> list[PluginWarning]:
    """Load every wanted entry point once per process; return the problems (raise them when ``strict``)."""
    if "embedders" not in _state:
        _state["embedders"], _state["warnings"] = {}, []
        found = [ep for ep in metadata.entry_points(group=GROUP) if _wanted(ep)]
        for entry_point in sorted(found, key=lambda ep: (ep.dist.name if ep.dist else "", ep.name)):
            _load_one(entry_point)
    if strict and _state["warnings"]:
        problems = _state["warnings"]
        raise RepbenchError("plugin-failed", "; ".join(w.render() for w in problems) + " (--strict-plugins)")
    return list(_state["warnings"])


def _load_one(entry_point: metadata.EntryPoint) -> None:
    dist = entry_point.dist
    package, package_version = (dist.name, dist.version) if dist else ("unknown", "unknown")

    def warn(message: str) -> None:
        _state["warnings"].append(PluginWarning(entry_point.name, package, message))

    pm, registered, module = get_plugin_manager(), [], None
    try:
        module = entry_point.load()
        pm.register(module, name=f"{package}:{entry_point.name}")
        for impl in pm.hook.register_embedders.get_hookimpls():
            if impl.plugin is module:
                impl.function(register=registered.append)
    except Exception as error:  # anything a plugin does wrong must not take the CLI down
        if module is not None and pm.is_registered(module):
            pm.unregister(module)
        missing = MissingExtra.for_module(error.name) if isinstance(error, ModuleNotFoundError) else None
        if missing is not None:
            return warn(f"failed to load: {missing.message}")
        return warn(f"failed to load: {type(error).__name__}: {' '.join(str(error).split())}")  # one line
    for embedder in registered:
        name = getattr(embedder, "name", None)
        if not isinstance(embedder, Embedder) or not isinstance(name, str) or not name.strip():
            warn(
                f"registered {embedder!r}, which is not an Embedder (name, description, version, requires_cells, embed)"
            )
        elif name in _state["embedders"]:
            warn(f"embedder {name!r} is also provided by {_state['embedders'][name].package}, which wins")
        else:
            info = EmbedderInfo(
                name, str(embedder.description), str(embedder.version), package, package_version, embedder
            )
            _state["embedders"][name] = info


def embedders() -> dict[str, EmbedderInfo]:
    """Every registered embedder by name (loads the plugins on first use, never raises)."""
    load_plugins()
    return dict(_state["embedders"])
