"""What the stacks hand to Kubernetes is valid by schemas we did not write.

Built-in kinds against kubernetes-validate's strict schemas for the stack's Kubernetes version;
custom resources against the upstream CRDs vendored in upstream/crds; Helm values against the
keys of the pinned chart's upstream values.yaml (and its subcharts') vendored in upstream/charts.
"""

from __future__ import annotations

import pytest

from offline.render import helm_releases, kubernetes_objects
from tests.schemas import known_custom_groups, validate_object
from tests.upstream import chart_values

STACKS = ["dev", "prod"]
# Custom resource kinds each stack creates, all checked against a vendored CRD.
CUSTOM_KINDS = {
    "dev": {"RayCluster", "InferenceService", "PodMonitor", "PrometheusRule"},
    "prod": {"RayCluster", "PodMonitor", "PrometheusRule", "GatewayClass", "EnvoyProxy"},
}
# Maps whose keys are ours to choose (labels, selectors, resource quantities, ...).
FREE_FORM = {"nodeSelector", "resources", "annotations", "labels", "podLabels", "podAnnotations", "data", "containerSecurityContext"}
FREE_FORM |= {"extraArgs"}  # cluster-autoscaler: its command-line flags, by name
# Keys a chart's templates read that its values.yaml does not declare (checked: the template is cited).
TEMPLATE_ONLY = {
    # minio 5.4.0 templates/post-job.yaml: the bucket container's securityContext; the pod's is
    # `omit .Values.postJob.securityContext "enabled" | toYaml`, any PodSecurityContext field
    "minio": {"makeBucketJob.containerSecurityContext", "postJob.securityContext.runAsNonRoot", "postJob.securityContext.seccompProfile"},
    # kserve-resources v0.20.0 files/kserve/deployment-patch.yaml: the pod securityContext is `toYaml` of its value
    "kserve-resources": {"kserve.controller.securityContext.runAsUser"},
    # kube-prometheus-stack 88.5.3's grafana 12.11.1: templates/_pod.tpl puts `toYaml .Values.sidecar.securityContext`
    # on every sidecar (any SecurityContext field); templates/clusterrolebinding.yaml binds
    # rbac.useExistingClusterRole (commented out in values.yaml); templates/_config.tpl writes every
    # section of grafana.ini into Grafana's config file.
    "kube-prometheus-stack": {
        "grafana.sidecar.securityContext.readOnlyRootFilesystem",
        "grafana.rbac.useExistingClusterRole",
        "grafana.grafana.ini.plugins",
    },
    # gpu-operator v26.7.0's node-feature-discovery 0.19.0: master.securityContext is `toYaml`'d onto the
    # nfd-master container (templates/master.yaml) and the prune Job's (templates/post-delete-job.yaml).
    "gpu-operator": {f"node-feature-discovery.master.securityContext.{field}" for field in ("runAsUser", "runAsGroup", "seccompProfile")},
    # cert-manager v1.18.2: each pod's securityContext is `toYaml` of its value (templates/deployment.yaml,
    # webhook-deployment.yaml, cainjector-deployment.yaml, startupapicheck-job.yaml), any PodSecurityContext field
    # keda 2.20.2 templates/{manager,metrics-server,webhooks}/deployment.yaml: each pod's and container's
    # securityContext is `toYaml` of its value (values.yaml securityContext.*, podSecurityContext.*)
    "keda": {
        f"{context}.{pod}.{field}"
        for pod in ("operator", "metricServer", "webhooks")
        for context, fields in (("securityContext", ("runAsNonRoot", "runAsUser")), ("podSecurityContext", ("seccompProfile",)))
        for field in fields
    },
    "cert-manager": {
        f"{prefix}securityContext.{field}"
        for prefix in ("", "webhook.", "cainjector.", "startupapicheck.")
        for field in ("runAsUser", "runAsGroup")
    },
}


def _objects(recording):
    return [o for objects in kubernetes_objects(recording).values() for o in objects]


def _api_group(o) -> str:
    return o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else ""


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
    custom = [o for o in _objects(rendered(stack)) if _api_group(o) in groups]
    assert {o["kind"] for o in custom} >= CUSTOM_KINDS[stack]
    for o in custom:
        assert validate_object(o, _version(rendered(stack))) == [], o["kind"]


def test_the_validator_rejects_what_the_api_server_would():
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": 1}}
    assert validate_object(bad, "1.35")


def _unknown_keys(ours: dict, upstream: dict, path: str = "", template_only: frozenset[str] = frozenset()) -> list[str]:
    """Keys we set that the chart's values (tests.upstream.chart_values) do not have (below free-form maps, anything goes)."""
    unknown = []
    for key, value in ours.items():
        where = f"{path}.{key}" if path else key
        if where in template_only:
            continue
        if key not in upstream:
            unknown.append(where)
        elif isinstance(value, dict) and isinstance(upstream[key], dict) and upstream[key] and key not in FREE_FORM:
            unknown += _unknown_keys(value, upstream[key], where, template_only)
    return unknown


@pytest.mark.parametrize("stack", STACKS)
def test_helm_values_use_keys_the_pinned_chart_defines(rendered, stack):
    releases = helm_releases(rendered(stack))
    assert releases
    for name, release in releases.items():
        upstream = chart_values(release["chart"].rsplit("/", 1)[-1], release["version"])
        template_only = frozenset(TEMPLATE_ONLY.get(release["chart"], set()))
        assert _unknown_keys(release["values"], upstream, template_only=template_only) == [], name


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
