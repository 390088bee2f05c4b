"""What the stacks hand to Kubernetes is valid by schemas we did not write.

Built-in kinds against kubernetes-validate's strict schemas for the stack's Kubernetes version;
custom resources against the upstream CRDs in ../shared/schemas/crds; Helm values against the
keys of the pinned chart's upstream values.yaml in ../shared/charts.
"""

from __future__ import annotations

import pytest
import yaml

from offline.render import helm_releases, kubernetes_objects
from tests.schemas import known_custom_groups, needs_absent_crds, validate_object
from tests.upstream import CHARTS_DIR

STACKS = ["dev", "prod"]
# Maps whose keys are ours to choose (labels, selectors, resource quantities, ...).
FREE_FORM = {"nodeSelector", "resources", "annotations", "labels", "podLabels", "podAnnotations", "data", "containerSecurityContext"}
# Subcharts whose own values.yaml is not in ../shared/charts: the parent file lists only the keys
# it overrides, so below them a free-form key (resources, nodeSelector) may be absent upstream.
SUBCHARTS = {"node-feature-discovery", "grafana", "kube-state-metrics", "prometheus-node-exporter"}


# Custom resources whose CRDs are not among the upstream files in ../shared/schemas/crds: they
# cannot be checked offline, and test_unchecked_custom_resources_are_reported says so visibly.
NO_UPSTREAM_CRD = {
    "gateway.networking.k8s.io": "Gateway API CRDs (installed by Envoy Gateway's chart v1.6.1)",
    "gateway.envoyproxy.io": "Envoy Gateway CRDs (gateway-helm v1.6.1)",
}


def _objects(recording):
    return [o for objects in kubernetes_objects(recording).values() for o in objects]


def _api_group(o) -> str:
    return o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else ""


def _checkable(o) -> bool:
    if needs_absent_crds(o):
        return False
    return _api_group(o) not in NO_UPSTREAM_CRD or _api_group(o) in known_custom_groups()


def _version(recording) -> str:
    return recording.outputs["kubernetesVersion"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_is_valid_for_the_stack_kubernetes_version(rendered, stack):
    recording = rendered(stack)
    objects = [o for o in _objects(recording) if _checkable(o)]
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


@pytest.mark.parametrize("stack", STACKS)
def test_unchecked_custom_resources_are_reported(rendered, stack):
    unchecked = sorted(f"{o['kind']}/{o['metadata']['name']}" for o in _objects(rendered(stack)) if not _checkable(o))
    if unchecked:
        groups = sorted(
            {NO_UPSTREAM_CRD.get(_api_group(o), "../shared/schemas/crds is absent") for o in _objects(rendered(stack)) if not _checkable(o)}
        )
        pytest.skip(f"not schema-checked, no upstream CRD in ../shared/schemas/crds: {', '.join(unchecked)} ({'; '.join(groups)})")


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


# The chart whose release installs each API group's CRDs (and the controller that serves them).
CRD_CHARTS = {
    "ray.io": "kuberay-operator",
    "serving.kserve.io": "kserve-crd",
    "monitoring.coreos.com": "kube-prometheus-stack",
    "nvidia.com": "gpu-operator",
    "gateway.networking.k8s.io": "gateway-helm",
    "gateway.envoyproxy.io": "gateway-helm",
}


def _group(type_token: str) -> str:
    """``kubernetes:ray.io/v1:RayCluster`` -> ``ray.io``; ``kubernetes:core/v1:Secret`` -> ``core``."""
    return type_token.split(":")[1].split("/")[0]


def _is_custom(group: str) -> bool:
    # Built-in groups are single words (apps, batch, core) or end in k8s.io; helm.sh is the release itself.
    return group in CRD_CHARTS or ("." in group and not group.endswith(".k8s.io") and group != "helm.sh")


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_waits_for_the_release_that_installs_its_crd(rendered, stack):
    recording = rendered(stack)
    charts = {r.urn: r.inputs["chart"].rsplit("/", 1)[-1] for r in recording.of_type("kubernetes:helm.sh/v3:Release")}
    custom = [r for r in recording.registrations if r.type.startswith("kubernetes:") and _is_custom(_group(r.type))]
    assert custom, "the stack declares custom resources"
    for r in custom:
        group = _group(r.type)
        assert group in CRD_CHARTS, f"{r.type}: no known chart installs its CRD"
        waits_for = {charts[u] for u in r.dependencies if u in charts}
        assert CRD_CHARTS[group] in waits_for, f"{r.urn} does not wait for {CRD_CHARTS[group]} (waits for {sorted(waits_for)})"
