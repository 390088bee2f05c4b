"""Every platform namespace: Pod Security Admission labels, default-deny and explicit allows."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest
from pulumi.provider.experimental.util import camel_case

from components.core.network_policy import Allow, Isolation, policy_specs
from offline.render import kubernetes_objects

_SDK_KEY = re.compile(r"^[a-z]+(?:_[a-z]+)*_?$")


def _as_kubernetes(value: Any) -> Any:
    """The SDK's snake_case spec keys as the API server sees them (``from_`` -> ``from``,
    ``pod_selector`` -> ``podSelector``); label keys and values are left alone."""
    if isinstance(value, list):
        return [_as_kubernetes(v) for v in value]
    if not isinstance(value, dict):
        return value
    return {(camel_case(k.rstrip("_")) if _SDK_KEY.match(k) else k): _as_kubernetes(v) for k, v in value.items()}


STACKS = ["dev", "prod"]
PLATFORM_LABEL = "ai-platform.io/platform"  # the label every platform namespace carries (spelled out, not imported)
# The only namespaces allowed to run privileged pods, and why.
PRIVILEGED = {
    "gpu-operator": "driver/toolkit/device plugin operands reach host devices and paths",
    "monitoring-node-exporter": "node-exporter reads the host's /proc, /sys and network",
    "kserve": "the local model agent mounts the NVMe cache from the host (only with a model cache)",
}


def _objects(recording, kind: str) -> list[dict]:
    return [o for objects in kubernetes_objects(recording).values() for o in objects if o["kind"] == kind]


def _policies(recording) -> dict[str, dict[str, dict]]:
    by_namespace: dict[str, dict[str, dict]] = defaultdict(dict)
    for policy in _objects(recording, "NetworkPolicy"):
        by_namespace[policy["metadata"]["namespace"]][policy["metadata"]["name"]] = policy["spec"]
    return by_namespace


@pytest.mark.parametrize("stack", STACKS)
def test_every_namespace_enforces_a_pod_security_level(rendered, stack):
    namespaces = _objects(rendered(stack), "Namespace")
    assert len(namespaces) >= 6
    for namespace in namespaces:
        labels = namespace["metadata"]["labels"]
        level = labels["pod-security.kubernetes.io/enforce"]
        assert labels["pod-security.kubernetes.io/audit"] == labels["pod-security.kubernetes.io/warn"] == level
        name = namespace["metadata"]["name"]
        assert level in ("restricted", "baseline") or name in PRIVILEGED, f"{name} is {level}"
        assert labels[PLATFORM_LABEL] == "true"


@pytest.mark.parametrize("stack", STACKS)
def test_every_namespace_denies_by_default_and_allows_dns(rendered, stack):
    recording = rendered(stack)
    policies = _policies(recording)
    namespaces = _objects(recording, "Namespace")
    assert len(namespaces) >= 6
    assert set(policies) == {n["metadata"]["name"] for n in namespaces}, "policies only in platform namespaces, in every one"
    for namespace in namespaces:
        name = namespace["metadata"]["name"]
        specs = policies[name]
        assert specs["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, name
        assert DNS in specs["allow-platform-base"]["egress"], name


KUBE_DNS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS = {"to": [KUBE_DNS], "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}


def _ingress_sources(specs: dict, port: int) -> list[dict]:
    """Peers allowed in on ``port`` by a namespace's policies (rules without ports allow every port)."""
    found = []
    for spec in specs.values():
        for rule in spec.get("ingress", []):
            ports = [p["port"] for p in rule.get("ports", [])]
            if not ports or port in ports:
                found += rule.get("from", [])
    return found


def _namespace_peer(name: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_may_scrape_every_namespace(rendered, stack):
    policies = _policies(rendered(stack))
    assert len(policies) >= 6
    for name, specs in policies.items():
        assert _namespace_peer("monitoring") in _ingress_sources(specs, 9400), name


@pytest.mark.parametrize("stack", STACKS)
def test_mlflow_admits_only_the_ray_namespaces_on_its_port(rendered, stack):
    """MLflow has no authentication: the Ray clusters' namespaces (labelled by RayCluster) may
    reach it, on 5000 only; the models' namespace (KServe downloads from the store) may not."""
    recording = rendered(stack)
    specs = _policies(recording)["mlflow"]
    clients = {"namespaceSelector": {"matchLabels": {"ai-platform.io/mlflow-client": "true"}}}
    platform = {"namespaceSelector": {"matchLabels": {PLATFORM_LABEL: "true"}}}
    assert clients in _ingress_sources(specs, 5000)
    assert platform not in _ingress_sources(specs, 5000)
    assert clients not in _ingress_sources(specs, 22), "only the tracking port"
    labelled = {
        n["metadata"]["name"] for n in _objects(recording, "Namespace") if n["metadata"]["labels"].get("ai-platform.io/mlflow-client")
    }
    assert labelled == {"dev": {"ray-dev"}, "prod": {"training"}}[stack]
    models_egress = _policies(recording)["models"]["allow-workload"]["egress"]
    assert all(5000 not in [p["port"] for p in rule.get("ports", [])] for rule in models_egress)


POD_IDENTITY_AGENT = [
    {"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}], "ports": [{"protocol": "TCP", "port": 80}]},
    {"to": [{"ipBlock": {"cidr": "fd00:ec2::23/128"}}], "ports": [{"protocol": "TCP", "port": 80}]},
]


def test_prod_namespaces_with_pod_identity_reach_the_agent(rendered):
    """Every isolated namespace where a service account has a Pod Identity association lets its
    pods reach the agent (IPv4 and IPv6, port 80), and no other namespace gets the policy."""
    recording = rendered("prod")
    associated = {r.inputs["namespace"] for r in recording.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")}
    isolated = set(_policies(recording))
    assert {"mlflow", "training", "models"} <= associated & isolated
    with_agent = {
        namespace
        for namespace, specs in _policies(recording).items()
        for name, spec in specs.items()
        if name.startswith("allow-pod-identity-agent-") and spec["egress"] == POD_IDENTITY_AGENT and spec["policyTypes"] == ["Egress"]
    }
    assert with_agent == associated & isolated


def test_dev_has_no_pod_identity_policy(rendered):
    assert not any(name.startswith("allow-pod-identity-agent") for specs in _policies(rendered("dev")).values() for name in specs)


def _api_server_rules(specs: dict) -> list[dict]:
    return [rule for rule in specs["allow-workload"]["egress"] if any("ipBlock" in peer for peer in rule["to"])]


def test_the_api_server_allow_is_the_clusters_own(rendered):
    """kind: kube-apiserver's 6443 (after the Service's DNAT); EKS: 443 at the Service's ClusterIP
    range (the VPC CNI matches before DNAT) or the VPC."""
    dev = _api_server_rules(_policies(rendered("dev"))["gpu-operator"])
    assert dev == [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 6443}]}]
    prod = _api_server_rules(_policies(rendered("prod"))["gpu-operator"])
    vpc = "10.40.0.0/16"  # Pulumi.prod.yaml, cluster.vpc.cidr
    assert [rule["to"][0]["ipBlock"]["cidr"] for rule in prod] == ["10.100.0.0/16", "172.20.0.0/16", vpc]
    assert all(rule["ports"] == [{"protocol": "TCP", "port": 443}] for rule in prod)


def test_prod_turns_network_policy_enforcement_on(rendered):
    """The VPC CNI add-on enforces NetworkPolicies only with ``enableNetworkPolicy: "true"`` (a
    string; off by default), through its node agent container, which must stay enabled."""
    import json

    addons = [r for r in rendered("prod").of_type("aws:eks/addon:Addon") if r.inputs["addonName"] == "vpc-cni"]
    assert len(addons) == 1
    values = json.loads(addons[0].inputs["configurationValues"])
    assert values["enableNetworkPolicy"] == "true"
    assert values.get("nodeAgent", {}).get("enabled", True) is True


def test_prod_inference_traffic_comes_in_through_the_ingress_gateway(rendered):
    specs = _policies(rendered("prod"))
    models = specs["models"]
    assert _namespace_peer("envoy-gateway-system") in _ingress_sources(models, 8080)
    gateway = specs["envoy-gateway-system"]["allow-workload"]
    assert gateway["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 10080}, {"protocol": "TCP", "port": 10443}]
    assert "ipBlock" not in gateway["ingress"][0]["from"][0], "the ClusterIP gateway is not open to the internet"


@pytest.mark.parametrize("stack", STACKS)
def test_only_webhooks_accept_traffic_from_outside_the_pod_network(rendered, stack):
    # Admission webhooks (9443, 10250) and aggregated API servers the API server proxies to:
    # metrics-server (10250) and KEDA's external metrics (6443).
    webhook_ports = {9443, 10250, 6443}
    outside = 0
    for name, specs in _policies(rendered(stack)).items():
        for spec in specs.values():
            for rule in spec.get("ingress", []):
                if any("ipBlock" in peer for peer in rule.get("from", [])):
                    outside += 1
                    assert {p["port"] for p in rule["ports"]} <= webhook_ports, f"{name} admits outside traffic on {rule['ports']}"
    assert outside >= 1, "the webhook rules are there (else this test checks nothing)"


# --- the policy builder, directly -------------------------------------------------------


def test_policy_specs_deny_by_default_and_share_one_base():
    specs = _as_kubernetes(policy_specs(Isolation()))
    assert specs["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert specs["allow-platform-base"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {}}]}, {"from": [_namespace_peer("monitoring")]}],
        "egress": [{"to": [{"podSelector": {}}]}, DNS],
    }
    assert specs["allow-workload"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}
    assert list(specs) == ["default-deny", "allow-platform-base", "allow-workload"]


def test_policy_specs_turn_each_allow_into_one_rule():
    isolation = Isolation(
        ingress=[Allow("platform", (5000,)), Allow("anywhere", (9443, 10250)), Allow("envoy-gateway-system", (8080,))],
        egress=[Allow("anywhere", (443,)), Allow("mlflow"), Allow("platform", (9000, 5000))],
    )
    specs = _as_kubernetes(policy_specs(isolation))["allow-workload"]
    platform = {"namespaceSelector": {"matchLabels": {PLATFORM_LABEL: "true"}}}
    assert specs["ingress"] == [
        {"from": [platform], "ports": [{"protocol": "TCP", "port": 5000}]},
        {"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 9443}, {"protocol": "TCP", "port": 10250}]},
        {"from": [_namespace_peer("envoy-gateway-system")], "ports": [{"protocol": "TCP", "port": 8080}]},
    ]
    assert specs["egress"] == [
        {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]},
        {"to": [_namespace_peer("mlflow")]},  # no ports: every port
        {"to": [platform], "ports": [{"protocol": "TCP", "port": 9000}, {"protocol": "TCP", "port": 5000}]},
    ]


def test_isolate_namespace_creates_the_three_policies_in_the_namespace():
    import pulumi
    import pulumi_kubernetes as k8s

    from components.core.network_policy import isolate_namespace
    from tests.conftest import run_components

    def build():
        parent = pulumi.ComponentResource("test:index:Parent", "p")
        namespace = k8s.core.v1.Namespace("ns", metadata={"name": "team-a"}, opts=pulumi.ResourceOptions(parent=parent))
        isolate_namespace(namespace, Isolation(ingress=[Allow("platform", (80,))]), parent=parent)

    recording = run_components(build)
    policies = recording.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    namespace = recording.named("kubernetes:core/v1:Namespace", "ns")
    assert sorted(p.name for p in policies) == ["ns-allow-platform-base", "ns-allow-workload", "ns-default-deny"]
    for p in policies:
        assert p.inputs["metadata"] == {"name": p.name.removeprefix("ns-"), "namespace": "team-a"}
        assert p.parent.endswith("test:index:Parent::p")
        assert namespace.urn in p.dependencies
    assert recording.named("kubernetes:networking.k8s.io/v1:NetworkPolicy", "ns-allow-workload").inputs["spec"]["ingress"] == [
        {"from": [{"namespaceSelector": {"matchLabels": {PLATFORM_LABEL: "true"}}}], "ports": [{"protocol": "TCP", "port": 80}]}
    ]
