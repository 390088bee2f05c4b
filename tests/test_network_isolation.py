"""Every platform namespace: Pod Security Admission labels, default-deny and explicit allows."""

from __future__ import annotations

from collections import defaultdict

import pytest

from components.core.network_policy import PLATFORM_LABEL
from offline.render import kubernetes_objects

STACKS = ["dev", "prod"]
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
    for namespace in _objects(recording, "Namespace"):
        name = namespace["metadata"]["name"]
        specs = policies[name]
        assert specs["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, name
        dns = [rule for rule in specs["allow-platform-base"]["egress"] if {"protocol": "UDP", "port": 53} in rule.get("ports", [])]
        assert dns and dns[0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}, name


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
    for name, specs in _policies(rendered(stack)).items():
        assert _namespace_peer("monitoring") in _ingress_sources(specs, 9400), name


@pytest.mark.parametrize("stack", STACKS)
def test_mlflow_is_reachable_from_ray_and_serving_namespaces_only_on_its_port(rendered, stack):
    specs = _policies(rendered(stack))["mlflow"]
    platform = {"namespaceSelector": {"matchLabels": {PLATFORM_LABEL: "true"}}}
    assert platform in _ingress_sources(specs, 5000)
    assert platform not in _ingress_sources(specs, 22), "only the tracking port is open to other namespaces"
    ray_and_models = [
        n["metadata"]["name"] for n in _objects(rendered(stack), "Namespace") if n["metadata"]["name"] in ("models", "ray-dev", "training")
    ]
    assert len(ray_and_models) == 2
    for name in ray_and_models:
        egress = _policies(rendered(stack))[name]["allow-workload"]["egress"]
        assert any(5000 in [p["port"] for p in rule.get("ports", [])] and rule["to"] == [platform] for rule in egress), name


def test_prod_inference_traffic_comes_in_through_the_ingress_gateway(rendered):
    specs = _policies(rendered("prod"))
    models = specs["models"]
    assert _namespace_peer("envoy-gateway-system") in _ingress_sources(models, 8080)
    gateway = specs["envoy-gateway-system"]["allow-workload"]
    assert gateway["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 10080}, {"protocol": "TCP", "port": 10443}]
    assert "ipBlock" not in gateway["ingress"][0]["from"][0], "the ClusterIP gateway is not open to the internet"


@pytest.mark.parametrize("stack", STACKS)
def test_only_webhooks_accept_traffic_from_outside_the_pod_network(rendered, stack):
    webhook_ports = {9443, 10250}
    for name, specs in _policies(rendered(stack)).items():
        for spec in specs.values():
            for rule in spec.get("ingress", []):
                if any("ipBlock" in peer for peer in rule.get("from", [])):
                    assert {p["port"] for p in rule["ports"]} <= webhook_ports, f"{name} admits outside traffic on {rule['ports']}"
