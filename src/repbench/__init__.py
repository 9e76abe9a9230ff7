"""repbench: a frozen benchmark for protein representations learned from single-cell microscopy.

The public API (docs/api.md)::

    import repbench
    result = repbench.evaluate(df)        # a DataFrame, an array with ids=, or a Parquet path -> Result
    result.to_frame()                     # one row per tier: ami, ami_sd, map, map_ci_low, ..., proteins
    repbench.standards()                  # the frozen standards (yeast-v1)
    repbench.embedders()                  # installed embedders by name
    repbench.run("deeploc")               # what `repbench run` does

Public modules, for plugins and scripts: ``repbench`` (this), ``repbench.embedders`` (the plugin contract),
``repbench.errors``, ``repbench.progress``, ``repbench.torch`` (training machinery for torch embedders),
``repbench.data`` (cell sets), ``repbench.table`` (reading / writing protein tables), ``repbench.results``
(the record), ``repbench.standards`` and ``repbench.verdicts``. Everything else is internal. ``import
repbench`` stays light: names load on first use.
"""

from __future__ import annotations

import importlib
import sys
import types
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("repbench")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

#: The version of the evaluation protocol in docs/evaluation.md. Any change of a reported number
#: (a metric, a tie rule, a seed) must bump it; tests/test_golden.py enforces that.
EVALUATOR_VERSION = "1.1.0"

from .hookspecs import hookimpl  # noqa: E402  (the one name a plugin needs)

__all__ = [
    "EVALUATOR_VERSION",
    "__version__",
    "hookimpl",
    "evaluate",
    "validate",
    "compare",
    "standards",
    "embedders",
    "run",
    "submit",
    "read",
    "Result",
    "RepbenchError",
    "UsageError",
    "MissingExtra",
    "RepbenchWarning",
    "Embedding",
    "EmbedRequest",
    "EpochReport",
    "Embedder",
    "Option",
]

#: name -> (module, attribute) of the lazily loaded public names
_LAZY = {
    "evaluate": ("repbench.api", "evaluate"),
    "validate": ("repbench.api", "validate"),
    "compare": ("repbench.api", "compare"),
    "read": ("repbench.api", "read"),
    "Result": ("repbench.api", "Result"),
    "RepbenchWarning": ("repbench.api", "RepbenchWarning"),
    "submit": ("repbench.submit", "submit"),
    "RepbenchError": ("repbench.errors", "RepbenchError"),
    "UsageError": ("repbench.errors", "UsageError"),
    "MissingExtra": ("repbench.errors", "MissingExtra"),
    "Embedding": ("repbench.embedders", "Embedding"),
    "EmbedRequest": ("repbench.embedders", "EmbedRequest"),
    "EpochReport": ("repbench.embedders", "EpochReport"),
    "Embedder": ("repbench.embedders", "Embedder"),
    "Option": ("repbench.embedders", "Option"),
}
#: submodules that are also the API functions of the same name: ``repbench.standards()`` calls
#: ``repbench.api.standards`` while ``repbench.standards.load`` stays the module's
_CALLABLE_MODULES = {"standards": "standards", "embedders": "embedders", "run": "run"}


class _CallableModule(types.ModuleType):
    """A module that is also a function (its API namesake in repbench.api), so neither shadows the other."""

    def __call__(self, *args, **kwargs):
        api = importlib.import_module("repbench.api")
        return getattr(api, _CALLABLE_MODULES[self.__name__.rpartition(".")[2]])(*args, **kwargs)


def _make_callable(module: types.ModuleType) -> types.ModuleType:
    """Called by repbench.standards / .embedders / .run as they load (see _CALLABLE_MODULES)."""
    if not isinstance(module, _CallableModule):
        module.__class__ = _CallableModule
    return module


def __getattr__(name: str):
    if name in _CALLABLE_MODULES:
        return _make_callable(importlib.import_module(f"repbench.{name}"))
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'repbench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


del sys
