"""The static leaderboard site: ``build_site(submissions, out)`` (see build.py)."""

from .build import BuildReport, build_site

__all__ = ["BuildReport", "build_site"]
