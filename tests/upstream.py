"""The upstream contracts the tests check against, vendored in ``upstream/`` at the repository root
(CRDs, chart values); ``tools/refresh_upstream.py`` re-creates that folder from the pinned versions.
Tests never read ../shared."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import yaml

UPSTREAM_DIR = Path(__file__).resolve().parents[1] / "upstream"
CRDS_DIR = UPSTREAM_DIR / "crds"
CHARTS_DIR = UPSTREAM_DIR / "charts"


def chart_dir(chart: str, version: str) -> Path:
    """The vendored folder of a pinned chart; a chart missing there is a test failure, not a skip."""
    path = CHARTS_DIR / f"{chart}-{version}"
    if not (path / "values.yaml").is_file():
        raise FileNotFoundError(f"{path}/values.yaml is not vendored: add the chart to tools/refresh_upstream.py and run it")
    return path


def chart_values(chart: str, version: str) -> dict:
    """The chart's default values as Helm coalesces them: its values.yaml, with each vendored
    subchart's values.yaml beneath the subchart's key (the parent's settings win)."""
    return copy.deepcopy(_chart_values(chart, version))


@functools.cache
def _chart_values(chart: str, version: str) -> dict:
    path = chart_dir(chart, version)
    values = yaml.safe_load((path / "values.yaml").read_text()) or {}
    for sub in sorted((path / "charts").glob("*/values.yaml")):
        name = sub.parent.name
        values[name] = _merge(yaml.safe_load(sub.read_text()) or {}, values.get(name) or {})
    return values


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out
