"""Pins that must name something upstream publishes: each Helm release's chart version, and each
model format's serving runtime. Checked against the upstream files, not against the code's own tables."""

from __future__ import annotations

import pytest

from components.serving.inference_service import MODEL_FORMATS
from components.versions import KSERVE_RUNTIME_CONFIGS
from offline.render import helm_releases
from tests.upstream import CHARTS_DIR, chart_values

# What KServe's kserve-runtime-configs chart installs for each format (spelled out, not imported).
RUNTIMES = {
    "sklearn": "kserve-sklearnserver",
    "xgboost": "kserve-xgbserver",
    "pytorch": "kserve-torchserve",
    "onnx": "kserve-tritonserver",
    "huggingface": "kserve-huggingfaceserver",
    "triton": "kserve-tritonserver",
}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_release_pins_a_chart_version_upstream_published(rendered, stack):
    releases = helm_releases(rendered(stack))
    assert len(releases) >= 5
    # upstream/charts holds the files of each chart at the version its release was published with
    published = {p.name for p in CHARTS_DIR.iterdir() if (p / "values.yaml").is_file()}
    pinned = {f"{r['chart'].rsplit('/', 1)[-1]}-{r['version']}" for r in releases.values()}
    assert pinned - published == set(), f"no upstream chart files for {sorted(pinned - published)}"


def test_each_model_format_is_served_by_the_runtime_kserve_installs():
    assert {f: runtime for f, (runtime, _) in MODEL_FORMATS.items()} == RUNTIMES
    runtimes = chart_values(KSERVE_RUNTIME_CONFIGS.name, KSERVE_RUNTIME_CONFIGS.version)["kserve"]["servingruntime"]
    for model_format, runtime in RUNTIMES.items():
        key = runtime.removeprefix("kserve-")
        assert isinstance(runtimes.get(key), dict) and not runtimes[key].get("disabled"), f"{model_format}: {runtime} is not installed"
