"""What the stacks hand to Kubernetes is valid by schemas we did not write.

Built-in kinds against kubernetes-validate's strict schemas for the stack's Kubernetes version;
custom resources against the upstream CRDs in ../shared/schemas/crds; Helm values against the
keys of the pinned chart's upstream values.yaml in ../shared/charts.
"""

from __future__ import annotations

import pytest
import yaml

from stacks.render import helm_releases, kubernetes_objects
from tests.schemas import known_custom_groups, validate_object
from tests.upstream import CHARTS_DIR

STACKS = ["dev", "prod"]
# Maps whose keys are ours to choose (labels, selectors, resource quantities, ...).
FREE_FORM = {"nodeSelector", "resources", "annotations", "labels", "podLabels", "podAnnotations", "data", "containerSecurityContext"}
# Subcharts whose own values.yaml is not in ../shared/charts: the parent file lists only the keys
# it overrides, so below them a free-form key (resources, nodeSelector) may be absent upstream.
SUBCHARTS = {"node-feature-discovery", "grafana", "kube-state-metrics", "prometheus-node-exporter"}


def _objects(recording):
    return [o for objects in kubernetes_objects(recording).values() for o in objects]


def _version(recording) -> str:
    return recording.outputs["kubernetesVersion"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_is_valid_for_the_stack_kubernetes_version(rendered, stack):
    recording = rendered(stack)
    objects = _objects(recording)
    assert objects
    problems = {f"{o['kind']}/{o['metadata'].get('name')}": errors for o in objects if (errors := validate_object(o, _version(recording)))}
    assert problems == {}


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_are_checked_against_upstream_crds(rendered, stack):
    groups = known_custom_groups()
    if not groups:
        pytest.skip("upstream CRDs not found in ../shared/schemas/crds")
    custom = [o for o in _objects(rendered(stack)) if o["apiVersion"].split("/")[0] in groups]
    for o in custom:
        assert validate_object(o, _version(rendered(stack))) == [], o["kind"]


def test_the_validator_rejects_what_the_api_server_would():
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": 1}}
    assert validate_object(bad, "1.35")


def _unknown_keys(ours: dict, upstream: dict, path: str = "") -> list[str]:
    """Keys we set that the chart's values.yaml does not have (below free-form maps, anything goes)."""
    unknown = []
    for key, value in ours.items():
        where = f"{path}.{key}" if path else key
        if key not in upstream:
            if not (key in FREE_FORM and where.split(".")[0] in SUBCHARTS):
                unknown.append(where)
        elif isinstance(value, dict) and isinstance(upstream[key], dict) and upstream[key] and key not in FREE_FORM:
            unknown += _unknown_keys(value, upstream[key], where)
    return unknown


@pytest.mark.parametrize("stack", STACKS)
def test_helm_values_use_keys_the_pinned_chart_defines(rendered, stack):
    checked = 0
    for name, release in helm_releases(rendered(stack)).items():
        values_file = CHARTS_DIR / f"{release['chart']}-{release['version']}.values.yaml"
        if not values_file.exists():
            continue  # no upstream values file for this chart (cluster-autoscaler)
        upstream = yaml.safe_load(values_file.read_text())
        assert _unknown_keys(release["values"], upstream) == [], name
        checked += 1
    if not CHARTS_DIR.exists():
        pytest.skip("upstream chart values not found in ../shared/charts")
    assert checked >= 1


def test_unknown_value_keys_are_caught():
    upstream = {"driver": {"enabled": True, "version": "1"}, "operator": {"nodeSelector": {"a": "b"}}}
    assert _unknown_keys({"driver": {"enable": False}}, upstream) == ["driver.enable"]
    assert _unknown_keys({"operator": {"nodeSelector": {"mine": "x"}}}, upstream) == []
    assert _unknown_keys({"operator": {"tolerationz": []}}, upstream) == ["operator.tolerationz"]
