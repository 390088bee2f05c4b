"""IngressGateway: pinned Envoy Gateway chart and images, chart value keys, restricted namespace,
release ordering, the EnvoyProxy (in-cluster Service) and GatewayClass, and what KServe gets."""

from __future__ import annotations

import pulumi
import pytest

from components import versions
from tests.conftest import run_components
from tests.test_manifests import _unknown_keys
from tests.upstream import chart_values

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
GATEWAY_CLASS = "kubernetes:gateway.networking.k8s.io/v1:GatewayClass"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"


def _gateway(args=None, depends_on=None):
    from components.serving.ingress_gateway import IngressGateway

    built = {}

    def build():
        after = [pulumi.CustomResource("test:index:Marker", depends_on)] if depends_on else None
        built["component"] = IngressGateway("envoy-gateway", args or {}, pulumi.ResourceOptions(depends_on=after))

    recording = run_components(build)
    (release,) = recording.of_type(RELEASE)
    (gateway_class,) = recording.of_type(GATEWAY_CLASS)
    (envoy_proxy,) = recording.of_type(ENVOY_PROXY)
    return recording, built["component"], release, gateway_class, envoy_proxy


def _kubernetes(envoy_proxy) -> dict:
    return envoy_proxy.inputs["spec"]["provider"]["kubernetes"]


def test_chart_is_the_pinned_oci_release():
    _, _, release, _, _ = _gateway()
    assert versions.ENVOY_GATEWAY.version == "v1.6.1"
    # An OCI chart is named by its full reference; no repository options (OCI has no index.yaml).
    assert release.inputs["chart"] == "oci://docker.io/envoyproxy/gateway-helm"
    assert release.inputs["version"] == "v1.6.1"
    assert "repositoryOpts" not in release.inputs
    assert release.inputs["namespace"] == "envoy-gateway-system"


def _chart_keys() -> dict:
    return chart_values(versions.ENVOY_GATEWAY.name, versions.ENVOY_GATEWAY.version)


def test_values_use_keys_the_pinned_chart_defines():
    for args in ({}, {"node_selector": {"role": "system"}}):
        _, _, release, _, _ = _gateway(args)
        assert _unknown_keys(release.inputs["values"], _chart_keys()) == []


def test_the_key_check_catches_typos():
    assert _unknown_keys({"deployment": {"envoyGateway": {"resource": {}}}}, _chart_keys()) == ["deployment.envoyGateway.resource"]
    assert _unknown_keys({"certgen": {"job": {"nodeSelectors": {}}}}, _chart_keys()) == ["certgen.job.nodeSelectors"]
    assert _unknown_keys({"deployment": {"pod": {"nodeSelector": {"any": "key"}}}}, _chart_keys()) == []


def test_images_are_pinned_to_the_release():
    from components.serving.ingress_gateway import ENVOY_PROXY_IMAGE

    _, _, release, _, envoy_proxy = _gateway()
    images = release.inputs["values"]["global"]["images"]["envoyGateway"]
    # The controller and every proxy's shutdown-manager sidecar run this image.
    assert images["image"] == "docker.io/envoyproxy/gateway:v1.6.1"
    container = _kubernetes(envoy_proxy)["envoyDeployment"]["container"]
    assert container["image"] == ENVOY_PROXY_IMAGE == "docker.io/envoyproxy/envoy:distroless-v1.36.3"
    for image in (images["image"], container["image"]):
        assert not image.endswith((":latest", "-latest", "-dev"))


def test_every_container_has_requests_and_limits():
    _, _, release, _, envoy_proxy = _gateway()
    values = release.inputs["values"]
    deployment = _kubernetes(envoy_proxy)["envoyDeployment"]
    (shutdown_manager,) = deployment["patch"]["value"]["spec"]["template"]["spec"]["containers"]
    assert shutdown_manager["name"] == "shutdown-manager"
    assert deployment["patch"]["type"] == "StrategicMerge"
    for resources in (
        values["deployment"]["envoyGateway"]["resources"],
        values["certgen"]["job"]["resources"],
        deployment["container"]["resources"],
        shutdown_manager["resources"],
    ):
        assert set(resources) == {"requests", "limits"}
        assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_controller_job_and_proxies_run_where_asked():
    _, _, release, _, envoy_proxy = _gateway({"node_selector": {"ai-platform.io/role": "system"}})
    expected = {"kubernetes.io/os": "linux", "ai-platform.io/role": "system"}
    values = release.inputs["values"]
    assert values["deployment"]["pod"]["nodeSelector"] == expected
    assert values["certgen"]["job"]["nodeSelector"] == expected
    assert _kubernetes(envoy_proxy)["envoyDeployment"]["pod"]["nodeSelector"] == expected


def test_namespace_enforces_restricted_pod_security():
    recording, _, release, _, _ = _gateway()
    (namespace,) = recording.of_type(NAMESPACE)
    labels = namespace.inputs["metadata"]["labels"]
    assert namespace.inputs["metadata"]["name"] == "envoy-gateway-system"
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert namespace.urn in release.dependencies


def test_release_waits_for_what_the_component_depends_on():
    recording, _, release, _, _ = _gateway(depends_on="nodes-ready")
    marker = recording.named("test:index:Marker", "nodes-ready")
    assert marker.urn in release.dependencies


def test_custom_resources_wait_for_the_release_that_installs_their_crds():
    _, _, release, gateway_class, envoy_proxy = _gateway()
    assert release.urn in envoy_proxy.dependencies
    assert release.urn in gateway_class.dependencies
    # The class names its EnvoyProxy: the first Gateway must already find it.
    assert envoy_proxy.urn in gateway_class.dependencies


def test_gateway_class_is_envoy_gateways_and_names_its_envoy_proxy():
    _, _, _, gateway_class, envoy_proxy = _gateway()
    assert gateway_class.inputs["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert gateway_class.inputs["metadata"] == {"name": "envoy"}
    spec = gateway_class.inputs["spec"]
    assert spec["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    assert envoy_proxy.inputs["apiVersion"] == "gateway.envoyproxy.io/v1alpha1"
    assert spec["parametersRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "EnvoyProxy",
        "name": envoy_proxy.inputs["metadata"]["name"],
        "namespace": envoy_proxy.inputs["metadata"]["namespace"],
    }
    # Envoy Gateway reads the EnvoyProxy of a GatewayClass from its own namespace.
    assert envoy_proxy.inputs["metadata"]["namespace"] == "envoy-gateway-system"
    assert envoy_proxy.inputs["spec"]["provider"]["type"] == "Kubernetes"


def test_proxy_service_stays_in_the_cluster_unless_configured():
    _, _, _, _, default = _gateway()
    assert _kubernetes(default)["envoyService"] == {"type": "ClusterIP"}
    annotations = {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}
    _, _, _, _, exposed = _gateway({"service_type": "LoadBalancer", "service_annotations": annotations})
    assert _kubernetes(exposed)["envoyService"] == {"type": "LoadBalancer", "annotations": annotations}


def test_disruption_budget_only_with_more_than_one_proxy():
    _, _, _, _, two = _gateway()
    _, _, _, _, one = _gateway({"proxy_replicas": 1})
    assert _kubernetes(two)["envoyDeployment"]["replicas"] == 2
    assert _kubernetes(two)["envoyPDB"] == {"minAvailable": 1}
    assert _kubernetes(one)["envoyDeployment"]["replicas"] == 1
    assert "envoyPDB" not in _kubernetes(one)  # minAvailable 1 of 1 would block every node drain


def test_outputs_name_the_class_the_namespace_and_what_to_wait_for():
    _, component, _, _, _ = _gateway({"gateway_class": "models", "namespace": "edge"})
    assert component.gateway_class == "models"
    assert component.namespace == "edge"
    assert component.ready == [component.release, component.envoy_proxy, component.gateway_class_resource]


def test_kserve_gets_a_gateway_of_this_class_in_its_own_namespace():
    from components.serving.ingress_gateway import kserve_gateway

    _, component, _, _, _ = _gateway()
    values = component.kserve_values("kserve")
    assert values == {
        "enableGatewayApi": True,
        "createGateway": True,
        "className": "envoy",
        "kserveGateway": "kserve/kserve-ingress-gateway",
    }
    assert kserve_gateway("serving") == "serving/kserve-ingress-gateway"
    upstream = chart_values(versions.KSERVE_RESOURCES.name, versions.KSERVE_RESOURCES.version)
    ingress = upstream["kserve"]["controller"]["gateway"]["ingressGateway"]
    assert _unknown_keys(values, ingress) == []
    assert ingress["kserveGateway"] == "kserve/kserve-ingress-gateway"  # the name the chart's Gateway gets


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"service_type": "External"}, "service_type: must be one of ClusterIP, NodePort, LoadBalancer"),
        ({"gateway_class": "Envoy_GW"}, "gateway_class: must be a DNS-1035 label"),
        ({"proxy_replicas": 0}, "proxy_replicas: must be a whole number >= 1"),
        ({"proxy_replicas": 21}, "proxy_replicas: Input should be less than or equal to 20"),
        ({"namespace": "Edge"}, "namespace: must be a DNS-1123 label"),
    ],
)
def test_bad_arguments_fail_before_any_resource(args, message):
    from components.core.problems import InputError
    from components.serving.ingress_gateway import IngressGateway

    with pytest.raises(InputError, match=message):
        IngressGateway("envoy-gateway", args)
