"""Fill the chart cache (offline/charts.py) with the charts pinned in components/versions.py.

    python tools/chart_cache.py fill                              # pull with the Helm SDK: needs network
    python tools/chart_cache.py seed --from ../shared/charts/src  # copy unpacked <chart>-<version>/ folders

Either way the cache ends up with ``<chart>-<version>/`` for every pinned chart (subcharts unpacked
under its ``charts/``); charts already there are kept. ``$AI_PLATFORM_CHART_CACHE`` or ``--cache``
sets where the cache is.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from components import versions  # noqa: E402
from components.versions import Chart  # noqa: E402
from offline import charts  # noqa: E402
from tools.refresh_upstream import pull_chart  # noqa: E402


def pinned_charts() -> list[Chart]:
    """Every chart in components/versions.py."""
    return [value for value in vars(versions).values() if isinstance(value, Chart)]


def fill(cache: Path) -> list[str]:
    """Pull every pinned chart missing from ``cache``; return the ones pulled."""
    pulled = []
    for chart in pinned_charts():
        target = cache / f"{chart.name}-{chart.version}"
        if (target / "Chart.yaml").is_file():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            unpacked = pull_chart(chart, Path(tmp))
            _place(unpacked, target)
        pulled.append(target.name)
    return pulled


def seed(cache: Path, source: Path) -> tuple[list[str], list[str]]:
    """Copy every pinned chart found unpacked in ``source``; return (copied, missing from source)."""
    copied, missing = [], []
    for chart in pinned_charts():
        name = f"{chart.name}-{chart.version}"
        target = cache / name
        if (target / "Chart.yaml").is_file():
            continue
        if not (source / name / "Chart.yaml").is_file():
            missing.append(name)
            continue
        _place(source / name, target)
        copied.append(name)
    return copied, missing


def _place(unpacked: Path, target: Path) -> None:
    # Copy beside the target, then rename: an interrupted copy never looks like a cached chart.
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(unpacked, partial, symlinks=False)
    for path in [partial, *partial.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)  # the source may be read-only
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])  # no docstring under python -OO
    parser.add_argument("--cache", type=Path, help=f"cache directory (default: ${charts.ENV} or .cache/charts)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fill", help="pull the pinned charts with the Helm SDK (needs network)")
    seeding = commands.add_parser("seed", help="copy unpacked charts from a local folder")
    seeding.add_argument(
        "--from", dest="source", type=Path, required=True, help="folder with <chart>-<version>/ (e.g. ../shared/charts/src)"
    )
    args = parser.parse_args(argv)
    cache = args.cache or charts.cache_dir()
    if args.command == "fill":
        pulled = fill(cache)
        print(f"{cache}: pulled {len(pulled)} chart(s) {' '.join(pulled)}".rstrip())
        return 0
    copied, missing = seed(cache, args.source)
    print(f"{cache}: copied {len(copied)} chart(s) from {args.source}")
    if missing:
        print(f"not in {args.source} (run `python tools/chart_cache.py fill` where there is network): {' '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
