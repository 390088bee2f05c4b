"""KServe: pinned charts from their registries, release ordering, deployment mode, gateway,
runtimes, the model namespace and the NVMe model cache node groups."""

from __future__ import annotations

import re

import pulumi
import pytest

from components import versions
from tests.conftest import run_components
from tests.schemas import known_custom_groups, validate_object
from tests.test_manifests import _unknown_keys
from tests.upstream import chart_values

RELEASE = "kubernetes:helm.sh/v3:Release"
NODE_GROUP = "kubernetes:serving.kserve.io/v1alpha1:LocalModelNodeGroup"
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


class Pool:
    """What KServe reads from a GpuNodePool."""

    def __init__(self, name: str):
        self.name = name
        self.node_selector = {"ai-platform.io/pool": name}
        self.tolerations = [dict(GPU_TOLERATION)]
        self.gpu_resources = {"nvidia.com/gpu": 4}


def _kserve(args=None, depends_on=None):
    from components.serving.kserve import KServe

    def build():
        after = None
        if depends_on:
            after = [pulumi.CustomResource("test:index:Marker", depends_on)]
        KServe("kserve", args or {}, pulumi.ResourceOptions(depends_on=after))

    recording = run_components(build)
    releases = {r.name: r for r in recording.of_type(RELEASE)}
    return recording, releases


def _values(args=None) -> dict:
    _, releases = _kserve(args)
    return releases["kserve-resources"].inputs["values"]


def test_charts_are_the_pinned_releases_from_their_registries():
    _, releases = _kserve()
    assert set(releases) == {"cert-manager", "kserve-crd", "kserve-resources", "kserve-runtime-configs"}
    cert_manager = releases["cert-manager"].inputs
    assert (cert_manager["chart"], cert_manager["version"]) == ("cert-manager", "v1.18.2")
    assert cert_manager["repositoryOpts"] == {"repo": "https://charts.jetstack.io"}
    for chart in (versions.KSERVE_CRD, versions.KSERVE_RESOURCES, versions.KSERVE_RUNTIME_CONFIGS):
        inputs = releases[chart.name].inputs
        # An OCI chart is named by its full reference; repository options would make the provider
        # look for an index.yaml that OCI registries do not serve.
        assert inputs["chart"] == f"oci://ghcr.io/kserve/charts/{chart.name}"
        assert inputs["version"] == "v0.20.0"
        assert "repositoryOpts" not in inputs
        assert inputs["namespace"] == "kserve"
    assert cert_manager["namespace"] == "cert-manager"


def test_cert_manager_installs_its_crds_the_current_way():
    _, releases = _kserve()
    values = releases["cert-manager"].inputs["values"]
    assert values["crds"] == {"enabled": True, "keep": True}
    assert "installCRDs" not in values  # deprecated since cert-manager v1.15
    for section in (values, values["webhook"], values["cainjector"], values["startupapicheck"]):
        assert set(section["resources"]) == {"requests", "limits"}


def test_resources_wait_for_the_crds_and_cert_manager_runtimes_for_the_webhook():
    _, releases = _kserve()
    crd, controller, runtimes, cert_manager = (
        releases[n] for n in ("kserve-crd", "kserve-resources", "kserve-runtime-configs", "cert-manager")
    )
    assert {crd.urn, cert_manager.urn} <= set(controller.dependencies)
    assert {crd.urn, controller.urn} <= set(runtimes.dependencies)
    # Each release waits only for what it needs.
    assert cert_manager.urn not in crd.dependencies
    assert not {crd.urn, controller.urn, runtimes.urn} & set(cert_manager.dependencies)


def test_crds_ready_names_the_releases_an_inference_service_needs():
    from components.serving.kserve import KServe

    names = {}

    def build():
        kserve = KServe("kserve")
        names["ready"] = kserve.crds_ready
        names["releases"] = [kserve.crds, kserve.controller, kserve.runtimes]

    run_components(build)
    assert names["ready"] == names["releases"]


def test_releases_that_run_pods_wait_for_what_the_component_depends_on():
    recording, releases = _kserve(depends_on="cluster-ready")
    marker = recording.named("test:index:Marker", "cluster-ready")
    for release in releases.values():
        if release.name.endswith("-crd"):
            # CRDs only: the release needs the API server, not the nodes the marker stands for
            assert marker.urn not in release.dependencies
        else:
            assert marker.urn in release.dependencies, release.name


def test_standard_mode_by_default_without_ingress_objects():
    values = _values()
    controller = values["kserve"]["controller"]
    assert controller["deploymentMode"] == "Standard"
    gateway = controller["gateway"]
    assert gateway["disableIngressCreation"] is True
    assert gateway["disableIstioVirtualHost"] is True
    assert gateway["ingressGateway"]["enableGatewayApi"] is False
    assert set(controller["resources"]) == {"requests", "limits"}


def test_knative_mode_is_selectable():
    assert _values({"deployment_mode": "Knative"})["kserve"]["controller"]["deploymentMode"] == "Knative"


def test_a_gateway_routes_models_through_gateway_api():
    gateway = _values({"gateway": "envoy-gateway/ai", "ingress_domain": "models.example.org"})["kserve"]["controller"]["gateway"]
    assert gateway["disableIngressCreation"] is False
    assert gateway["ingressGateway"] == {"enableGatewayApi": True, "createGateway": False, "kserveGateway": "envoy-gateway/ai"}
    assert gateway["domain"] == "models.example.org"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"deployment_mode": "RawDeployment"}, "'RawDeployment' is now called 'Standard'"),
        ({"deployment_mode": "Serverless"}, "'Serverless' is now called 'Knative'"),
        ({"deployment_mode": "Modelmesh"}, "deployment_mode: must be one of Standard, Knative"),
        ({"gateway": "no-namespace"}, "gateway: must be 'namespace/name'"),
        ({"gateway": "gw/ai", "ingress": object()}, "gateway: set gateway or ingress, not both"),
    ],
)
def test_bad_arguments_fail_before_any_resource(args, message):
    from components.core.problems import InputError
    from components.serving.kserve import KServe

    with pytest.raises(InputError, match=message):
        KServe("kserve", args)


def test_runtimes_are_installed_without_the_latest_tagged_vllm_runtime():
    _, releases = _kserve()
    runtime = releases["kserve-runtime-configs"].inputs["values"]["kserve"]["servingruntime"]
    assert runtime["enabled"] is True  # the chart ships the ClusterServingRuntimes disabled
    assert runtime["vllmserver"]["disabled"] is True
    # the chart still creates the disabled runtime object, so its image is pinned too: a vLLM release tag
    assert re.fullmatch(r"v\d+\.\d+\.\d+", runtime["vllmserver"]["tag"])
    upstream = chart_values(versions.KSERVE_RUNTIME_CONFIGS.name, versions.KSERVE_RUNTIME_CONFIGS.version)
    assert upstream["kserve"]["servingruntime"]["vllmserver"]["tag"] == "latest"


@pytest.mark.parametrize("args", [{}, {"gateway": "gw/ai", "local_model_pools": [Pool("infer")]}, {"deployment_mode": "Knative"}])
def test_helm_values_use_keys_the_pinned_charts_define(args):
    _, releases = _kserve(args)
    for chart in (versions.KSERVE_RESOURCES, versions.KSERVE_RUNTIME_CONFIGS):
        # files/kserve/deployment-patch.yaml: the pod securityContext is `toYaml` of kserve.controller.securityContext,
        # any PodSecurityContext field (the chart's values.yaml sets runAsNonRoot and seccompProfile only)
        template_only = frozenset({"kserve.controller.securityContext.runAsUser"})
        values = releases[chart.name].inputs["values"]
        assert _unknown_keys(values, chart_values(chart.name, chart.version), template_only=template_only) == [], chart.name


def test_model_namespace_is_restricted_and_closed_to_other_namespaces():
    recording, _ = _kserve({"gateway": "envoy-gateway/ai"})
    namespaces = {r.name: r.inputs["metadata"]["labels"] for r in recording.of_type("kubernetes:core/v1:Namespace")}
    assert namespaces["models"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespaces["kserve"]["pod-security.kubernetes.io/enforce"] == "restricted"
    (policy,) = [
        p for p in recording.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") if p.inputs["metadata"]["name"] == "models-ingress"
    ]
    assert policy.inputs["metadata"]["namespace"] == "models"
    spec = policy.inputs["spec"]
    assert spec["podSelector"] == {} and spec["policyTypes"] == ["Ingress"]
    sources = spec["ingress"][0]["from"]
    assert {"podSelector": {}} in sources
    assert {"namespaceSelector": {"matchLabels": {"ai-platform.io/inference-client": "true"}}} in sources
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway"}}} in sources
    assert len(sources) == 3


def test_knative_mode_lets_the_activator_reach_the_models():
    recording, _ = _kserve({"deployment_mode": "Knative"})
    (policy,) = [
        p for p in recording.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy") if p.inputs["metadata"]["name"] == "models-ingress"
    ]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "knative-serving"}}} in policy.inputs["spec"]["ingress"][
        0
    ]["from"]


def test_no_model_cache_unless_pools_are_given():
    recording, releases = _kserve()
    assert recording.of_type(NODE_GROUP) == []
    assert releases["kserve-resources"].inputs["values"]["kserve"]["localmodel"] == {"enabled": False}


def test_model_cache_on_the_nvme_of_each_listed_pool():
    recording, releases = _kserve({"local_model_pools": [Pool("infer"), Pool("llm")], "local_model_cache_size": "800Gi"})
    groups = {r.inputs["metadata"]["name"]: r for r in recording.of_type(NODE_GROUP)}
    assert set(groups) == {"infer", "llm"}
    spec = groups["llm"].inputs["spec"]
    assert spec["storageLimit"] == "800Gi"
    volume = spec["persistentVolumeSpec"]
    assert volume["local"] == {"path": "/mnt/k8s-disks/0/kserve-models"}
    terms = volume["nodeAffinity"]["required"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "ai-platform.io/pool", "operator": "In", "values": ["llm"]}]}]
    assert spec["persistentVolumeClaimSpec"]["resources"]["requests"]["storage"] == "800Gi"
    assert releases["kserve-crd"].urn in groups["llm"].dependencies
    assert releases["kserve-resources"].urn in groups["llm"].dependencies

    local = releases["kserve-resources"].inputs["values"]["kserve"]["localmodel"]
    assert local["enabled"] is True
    assert local["agent"]["hostPath"] == volume["local"]["path"]
    assert local["agent"]["tolerations"] == [GPU_TOLERATION]
    expression = local["agent"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
    assert expression == {"matchExpressions": [{"key": "ai-platform.io/pool", "operator": "In", "values": ["infer", "llm"]}]}
    # The node agent mounts a host path: only the privileged level admits it.
    (kserve_ns,) = [r for r in recording.of_type("kubernetes:core/v1:Namespace") if r.name == "kserve"]
    assert kserve_ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


@pytest.mark.parametrize("args", [{}, {"gateway": "gw/ai", "local_model_pools": [Pool("infer")]}, {"deployment_mode": "Knative"}])
def test_every_object_is_valid(args):
    recording, _ = _kserve(args)
    objects = [r.inputs for r in recording.registrations if r.custom and r.type.startswith("kubernetes:") and r.type != RELEASE]
    custom = [o for o in objects if o["apiVersion"].split("/")[0] in known_custom_groups()]
    assert bool(custom) == bool(args.get("local_model_pools")), "LocalModelNodeGroups are checked against their CRD"
    assert {f"{o['kind']}/{o['metadata']['name']}": validate_object(o, "1.35") for o in objects} == {
        f"{o['kind']}/{o['metadata']['name']}": [] for o in objects
    }
