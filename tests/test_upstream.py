"""The vendored upstream contracts (upstream/) and the chart cache (offline/charts.py).

upstream/ must hold the pinned charts' own values (checked against the chart cache) and one CRD per
file. The chart cache is outside the repository: the tests that read it skip only when it is empty.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components import versions
from offline import charts
from offline.render import helm_releases
from tests.schemas import validate_object, yaml_documents
from tests.upstream import UPSTREAM_DIR
from tools import chart_cache, refresh_upstream

ROOT = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_vendored_chart_values_are_the_cached_charts_own():
    # Drift between upstream/ and the pinned charts, read from the chart cache (the only upstream copy
    # a clone has); tools/refresh_upstream.py re-creates upstream/ when a pin moves.
    if charts.is_empty():
        pytest.skip(f"the chart cache {charts.cache_dir()} is empty: {charts.FILL_HINT}")
    cached = [p for p in sorted((UPSTREAM_DIR / "charts").iterdir()) if (charts.cache_dir() / p.name / "values.yaml").is_file()]
    assert len(cached) >= 10, "the cache holds the pinned charts"
    drifted = [p.name for p in cached if (p / "values.yaml").read_bytes() != (charts.cache_dir() / p.name / "values.yaml").read_bytes()]
    assert drifted == [], "run: python tools/refresh_upstream.py"


def test_every_pinned_chart_is_vendored_with_its_values():
    vendored = {p.parent.name for p in (UPSTREAM_DIR / "charts").glob("*/values.yaml")}
    assert vendored == {f"{c.name}-{c.version}" for c in chart_cache.pinned_charts()}
    assert {f"{e.chart.name}-{e.chart.version}" for e in refresh_upstream.CHARTS} == vendored


def test_every_vendored_crd_is_one_custom_resource_definition():
    for path in sorted((UPSTREAM_DIR / "crds").glob("*.yaml")):
        docs = yaml_documents(path)
        assert [d["kind"] for d in docs] == ["CustomResourceDefinition"], path.name
        spec = docs[0]["spec"]
        assert path.name == f"{spec['group']}_{spec['names']['plural']}.yaml"


def test_the_readme_names_every_vendored_file():
    readme = (UPSTREAM_DIR / "README.md").read_text()
    for name in _files(UPSTREAM_DIR):
        if name.startswith("crds/") or name == refresh_upstream.INSTANCE_TYPES:
            assert name in readme, name
        elif name != "README.md":
            folder, _, inside = name.removeprefix("charts/").partition("/")
            assert f"charts/{folder}/:" in readme and inside in readme, name


def test_a_crd_is_cut_verbatim_out_of_a_bundle():
    bundle = "# header\n---\n#\n# a.yaml\n#\napiVersion: v1\nkind: CustomResourceDefinition\nmetadata:\n  name: as.x.io\n---\nkind: CustomResourceDefinition\nmetadata:\n  name: bs.x.io\n"
    assert (
        refresh_upstream.crd_document(bundle, "as.x.io") == "apiVersion: v1\nkind: CustomResourceDefinition\nmetadata:\n  name: as.x.io\n"
    )
    with pytest.raises(KeyError):
        refresh_upstream.crd_document(bundle, "cs.x.io")


# --- the chart cache ------------------------------------------------------------------------


def test_an_empty_cache_says_how_to_fill_it(tmp_path, monkeypatch):
    monkeypatch.setenv(charts.ENV, str(tmp_path / "nowhere"))
    assert charts.cache_dir() == tmp_path / "nowhere" and charts.is_empty()
    with pytest.raises(charts.ChartCacheMissError, match=r"is empty .*tools/chart_cache.py fill.*seed --from"):
        charts.chart_path(versions.KUBERAY_OPERATOR)


def test_seeding_copies_the_pinned_charts_only(tmp_path):
    source = tmp_path / "src"
    for name in (f"kuberay-operator-{versions.KUBERAY_OPERATOR.version}", "kuberay-operator-0.0.1"):
        (source / name / "templates").mkdir(parents=True)
        (source / name / "Chart.yaml").write_text(f"name: {name}\n")
    copied, missing = chart_cache.seed(tmp_path / "cache", source)
    assert copied == [f"kuberay-operator-{versions.KUBERAY_OPERATOR.version}"]
    assert len(missing) == len(chart_cache.pinned_charts()) - 1
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == copied


def test_the_cached_operator_chart_renders_with_the_dev_stack_values(rendered):
    if charts.is_empty():
        pytest.skip(f"the chart cache {charts.cache_dir()} is empty: {charts.FILL_HINT}")
    (release,) = [r for r in helm_releases(rendered("dev")).values() if r["chart"] == versions.KUBERAY_OPERATOR.name]
    with charts.load(versions.KUBERAY_OPERATOR) as chart:
        assert (chart.name, chart.version) == (versions.KUBERAY_OPERATOR.name, versions.KUBERAY_OPERATOR.version)
        manifests = chart.render(release["values"], name="kuberay-operator", namespace="kuberay-operator")
    objects = [o for text in manifests.values() for o in yaml.safe_load_all(text) if o]
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "{repository}:{tag}".format(**release["values"]["image"])
    assert container["securityContext"] == release["values"]["securityContext"]
    assert {f"{o['kind']}/{o['metadata']['name']}": validate_object(o, "1.35") for o in objects} == {
        f"{o['kind']}/{o['metadata']['name']}": [] for o in objects
    }
