"""repbench: a frozen benchmark for protein representations learned from single-cell microscopy."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("repbench")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

#: The version of the evaluation protocol in docs/evaluation.md. Any change of a reported number
#: (a metric, a tie rule, a seed) must bump it; tests/test_golden.py enforces that.
EVALUATOR_VERSION = "1.0.0"

from .hookspecs import hookimpl  # noqa: E402  (the one name a plugin needs)
