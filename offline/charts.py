"""The chart cache: pinned charts unpacked as ``<chart>-<version>/`` for offline rendering with the Helm SDK.

The directory is ``$AI_PLATFORM_CHART_CACHE`` or ``.cache/charts`` in the repository (git-ignored).
Fill it with ``python tools/chart_cache.py fill`` (pulls the pinned charts; needs network) or
``python tools/chart_cache.py seed --from ../shared/charts/src`` (copies unpacked charts).
"""

from __future__ import annotations

import os
from pathlib import Path

from components.versions import Chart

ROOT = Path(__file__).resolve().parents[1]
ENV = "AI_PLATFORM_CHART_CACHE"
FILL_HINT = "fill it with `python tools/chart_cache.py fill` (network) or `python tools/chart_cache.py seed --from ../shared/charts/src`"


class ChartCacheMissError(FileNotFoundError):
    """A pinned chart is not in the chart cache."""


def cache_dir() -> Path:
    """Where the unpacked charts are: ``$AI_PLATFORM_CHART_CACHE``, else ``.cache/charts`` in the repository."""
    configured = os.environ.get(ENV)
    return Path(configured).expanduser().resolve() if configured else ROOT / ".cache" / "charts"


def is_empty() -> bool:
    """True when the cache holds no chart at all."""
    directory = cache_dir()
    return not directory.is_dir() or not any(p.joinpath("Chart.yaml").is_file() for p in directory.iterdir())


def chart_path(chart: Chart) -> Path:
    """The unpacked ``chart`` at its pinned version; :class:`ChartCacheMissError` says how to fill the cache."""
    path = cache_dir() / f"{chart.name}-{chart.version}"
    if (path / "Chart.yaml").is_file():
        return path
    state = "is empty" if is_empty() else f"has no {path.name}"
    raise ChartCacheMissError(f"the chart cache {cache_dir()} {state} (${ENV} sets its place): {FILL_HINT}")


def load(chart: Chart):
    """The pinned ``chart`` loaded with the Helm SDK (a ``helm_python.Chart``; close it when done)."""
    import helm_python

    return helm_python.Chart.load(chart_path(chart))
