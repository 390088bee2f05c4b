"""Pins that must name something upstream publishes: each Helm release's chart version, and each
model format's serving runtime. Checked against the upstream files, not against the code's own tables."""

from __future__ import annotations

import pytest
import yaml

from components.serving.inference_service import MODEL_FORMATS
from offline.render import helm_releases
from tests.upstream import CHARTS_DIR

# What KServe's kserve-runtime-configs chart installs for each format (spelled out, not imported).
RUNTIMES = {
    "sklearn": "kserve-sklearnserver",
    "xgboost": "kserve-xgbserver",
    "pytorch": "kserve-torchserve",
    "onnx": "kserve-tritonserver",
    "huggingface": "kserve-huggingfaceserver",
    "triton": "kserve-tritonserver",
}


def _need(path):
    if not path.exists():
        pytest.skip(f"upstream chart files not found at {path}: fill the chart cache (see tests/upstream.py)")
    return path


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_release_pins_a_chart_version_upstream_published(rendered, stack):
    sources = _need(CHARTS_DIR / "src")
    releases = helm_releases(rendered(stack))
    assert len(releases) >= 5
    published = {p.name for p in sources.iterdir() if p.is_dir()}
    pinned = {f"{r['chart'].rsplit('/', 1)[-1]}-{r['version']}" for r in releases.values()}
    assert pinned - published == set(), f"no upstream chart source for {sorted(pinned - published)}"


def test_each_model_format_is_served_by_the_runtime_kserve_installs():
    assert {f: runtime for f, (runtime, _) in MODEL_FORMATS.items()} == RUNTIMES
    values_files = sorted(_need(CHARTS_DIR).glob("kserve-runtime-configs-*.values.yaml"))
    assert values_files, "the pinned kserve-runtime-configs values are there"
    runtimes = yaml.safe_load(values_files[-1].read_text())["kserve"]["servingruntime"]
    for model_format, runtime in RUNTIMES.items():
        key = runtime.removeprefix("kserve-")
        assert isinstance(runtimes.get(key), dict) and not runtimes[key].get("disabled"), f"{model_format}: {runtime} is not installed"
