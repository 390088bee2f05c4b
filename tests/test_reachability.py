"""The reachability matrix: Kubernetes NetworkPolicy semantics, and each stack's matrix held equal
to the one docs/network.md intends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offline.reachability import (
    API_SERVERS,
    ApiServer,
    Cluster,
    Policy,
    api_server_of,
    cluster_from_objects,
    differences,
    documented,
)
from offline.render import kubernetes_objects

ROOT = Path(__file__).resolve().parents[1]
STACKS = ["dev", "prod"]
KIND = ApiServer("172.18.0.2", 6443)


def _namespace(name: str, **labels: str) -> dict:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def _policy(namespace: str, name: str, **spec) -> dict:
    return {"kind": "NetworkPolicy", "metadata": {"namespace": namespace, "name": name}, "spec": {"podSelector": {}, **spec}}


def _to(name: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def _tcp(*ports) -> list[dict]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def _cluster(*objects: dict) -> Cluster:
    return cluster_from_objects(list(objects), KIND)[0]


DENY = {"policyTypes": ["Ingress", "Egress"]}


# --- semantics -------------------------------------------------------------------------------


def test_a_namespace_no_policy_selects_reaches_and_admits_everything():
    cluster = _cluster(_namespace("a"), _namespace("b"))
    assert cluster.row("a") == [
        "api-server",
        "b:*",
        "cloud-apis",
        "default:*",
        "internet:*",
        "kube-system:*",
        "metadata:imds",
        "metadata:pod-identity",
    ]


def test_default_deny_isolates_both_directions_and_leaves_nothing():
    cluster = _cluster(_namespace("a"), _namespace("b"), _policy("a", "deny", **DENY))
    assert cluster.row("a") == []
    assert "a:*" not in cluster.row("b"), "b's egress is open, but a's ingress is isolated"
    assert cluster.row("b").count("api-server") == 1


def test_a_connection_needs_the_sources_egress_and_the_destinations_ingress():
    egress_only = _cluster(
        _namespace("a"),
        _namespace("b"),
        _policy("a", "out", policyTypes=["Egress"], egress=[{"to": [_to("b")], "ports": _tcp(5000)}]),
        _policy("b", "deny", policyTypes=["Ingress"]),
    )
    assert egress_only.row("a") == []
    both = _cluster(
        _namespace("a"),
        _namespace("b"),
        _policy("a", "out", policyTypes=["Egress"], egress=[{"to": [_to("b")], "ports": _tcp(5000, 6000)}]),
        _policy("b", "in", policyTypes=["Ingress"], ingress=[{"from": [_to("a")], "ports": _tcp(5000)}]),
    )
    assert both.row("a") == ["b:5000"], "only the port both sides allow"


def test_what_policies_allow_is_their_union():
    cluster = _cluster(
        _namespace("a"),
        _namespace("b"),
        _namespace("c"),
        _policy("a", "deny", **DENY),
        _policy("a", "to-b", policyTypes=["Egress"], egress=[{"to": [_to("b")], "ports": _tcp(80)}]),
        _policy("a", "to-b-and-c", policyTypes=["Egress"], egress=[{"to": [_to("b"), _to("c")], "ports": _tcp(443)}]),
    )
    assert cluster.row("a") == ["b:80,443", "c:443"]


def test_policy_types_default_to_ingress_and_egress_only_with_egress_rules():
    only_ingress = _cluster(_namespace("a"), _namespace("b"), _policy("a", "in", ingress=[]))
    assert "b:*" in only_ingress.row("a"), "a policy without policyTypes or egress rules leaves egress open"
    with_egress = _cluster(_namespace("a"), _namespace("b"), _policy("a", "out", egress=[{"to": [_to("b")], "ports": _tcp(1)}]))
    assert with_egress.row("a") == ["b:1"]


def test_ip_block_except_carves_out_addresses():
    cluster = _cluster(
        _namespace("a"),
        _policy(
            "a",
            "out",
            policyTypes=["Egress"],
            egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}], "ports": _tcp(80, 443)}],
        ),
    )
    row = cluster.row("a")
    assert "metadata:imds" not in row
    assert {"cloud-apis", "internet:80"} <= set(row)
    assert "metadata:pod-identity" not in row, "the IPv6 agent address is not in an IPv4 block"


def test_pod_identity_needs_both_agent_addresses():
    def agent(*cidrs: str) -> Cluster:
        rules = [{"to": [{"ipBlock": {"cidr": c}}], "ports": _tcp(80)} for c in cidrs]
        return _cluster(_namespace("a"), _policy("a", "out", policyTypes=["Egress"], egress=rules))

    assert agent("169.254.170.23/32").row("a") == []
    assert agent("169.254.170.23/32", "fd00:ec2::23/128").row("a") == ["metadata:pod-identity"]


def test_named_ports_match_by_name_and_pod_selectors_are_noted():
    cluster = _cluster(
        _namespace("a"),
        _namespace("b"),
        _policy(
            "a",
            "out",
            policyTypes=["Egress"],
            egress=[{"to": [{**_to("b"), "podSelector": {"matchLabels": {"app": "db"}}}], "ports": _tcp("metrics", 5432)}],
        ),
        _policy("b", "in", policyTypes=["Ingress"], ingress=[{"from": [_to("a")], "ports": _tcp("metrics")}]),
    )
    assert cluster.row("a") == ["b[app=db]:metrics"]


def test_dns_is_the_kube_dns_pods_on_53():
    dns = {
        "to": [{**_to("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    cluster = _cluster(_namespace("a"), _policy("a", "out", policyTypes=["Egress"], egress=[dns]))
    assert cluster.row("a") == ["dns"]


def test_the_api_server_is_where_the_stack_meets_it():
    rule = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": _tcp(6443)}
    objects = [_namespace("a"), _policy("a", "out", policyTypes=["Egress"], egress=[rule])]
    assert "api-server" in cluster_from_objects(objects, API_SERVERS["kind"])[0].row("a")
    assert "api-server" not in cluster_from_objects(objects, API_SERVERS["eks"])[0].row("a"), "EKS's API server is on 443"
    assert api_server_of(["aiplatform:index:EksCluster"]) == API_SERVERS["eks"]
    assert api_server_of(["aiplatform:index:ExistingCluster"]) == API_SERVERS["kind"]


def test_policy_reads_its_types():
    assert Policy("a", "p", {"podSelector": {}}).types == ["Ingress"]


# --- the stacks against docs/network.md -----------------------------------------------------


def _stack_matrix(recording) -> dict[str, list[str]]:
    objects = [o for group in kubernetes_objects(recording).values() for o in group]
    cluster, sources = cluster_from_objects(objects, api_server_of(r.type for r in recording.registrations))
    return cluster.matrix(sources)


def _intended(stack: str) -> dict[str, list[str]]:
    return documented((ROOT / "docs" / "network.md").read_text())[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_the_stacks_reachability_is_what_docs_network_md_intends(rendered, stack):
    computed = _stack_matrix(rendered(stack))
    assert len(computed) >= 10
    assert differences(stack, _intended(stack), computed) == []


def test_an_over_broad_policy_fails_the_comparison(rendered):
    recording = rendered("prod")
    objects = [o for group in kubernetes_objects(recording).values() for o in group]
    objects.append(_policy("mlflow", "allow-all-ingress", policyTypes=["Ingress"], ingress=[{}]))
    cluster, sources = cluster_from_objects(objects, API_SERVERS["eks"])
    found = differences("prod", _intended("prod"), cluster.matrix(sources))
    # Their egress allows the platform's namespaces on 9000 (MinIO's port): with mlflow's ingress
    # open, that port of mlflow's pods becomes reachable; the gateway's egress has no port limit.
    assert "prod: models reaches mlflow:9000, which docs/network.md does not intend" in found
    assert "prod: kserve reaches mlflow:9000, which docs/network.md does not intend" in found
    assert "prod: envoy-gateway-system reaches mlflow:*, which docs/network.md does not intend" in found


def test_a_namespace_the_docs_do_not_know_is_named():
    found = differences("prod", {"a": ["dns"]}, {"a": ["dns"], "keda": ["api-server", "dns"]})
    assert found == ["prod: namespace keda has no row in docs/network.md; it reaches api-server dns"]


def test_no_chart_ships_network_policies(expanded):
    """The matrix reads the program's policies: it is complete only while no chart adds its own."""
    for stack in STACKS:
        releases = expanded(stack)
        assert releases
        shipped = [(name, o["metadata"]["name"]) for name, e in releases.items() for o in e.objects if o.get("kind") == "NetworkPolicy"]
        assert shipped == [], f"{stack}: charts ship NetworkPolicies; read them in offline/reachability.py"


@pytest.mark.integration  # the whole render, chart expansion included
@pytest.mark.parametrize("stack", STACKS)
def test_the_render_writes_the_matrix(tmp_path, stack):
    from offline import render

    assert render.main([stack, "--out", str(tmp_path / stack)]) == 0
    written = json.loads((tmp_path / stack / "reachability.json").read_text())
    assert differences(stack, _intended(stack), written) == []
    assert "| source | reaches |" in (tmp_path / stack / "reachability.md").read_text()
